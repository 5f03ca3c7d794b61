//! Start-up: install signal handlers, detect the CI, protect the key (before the first line
//! is printed), read the config (a bad input is reported there and exits 2), check that the
//! runner's files can be written, then run the wait (or the demo) and report it.

use std::io::IsTerminal as _;

use std::sync::Arc;

use crate::api::Client;
use crate::ci::{self, Sink};
use crate::config::Config;
use crate::outcome::code;
use crate::publish::{Ended, Record};
use crate::run::{Clock, Waited, run, waits};
use crate::secret::Redactor;
use crate::signal::Signals;

pub async fn start(demo: Option<crate::demo::Demo>) -> u8 {
    // First, so a signal during start-up is not lost (and works as PID 1).
    let signals = Signals::install();
    let vars = start_vars();
    let env = |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let (ci, targets, debug) = ci::detect(env, std::io::stdout().is_terminal());
    let mut sink = Sink::new(ci, targets, debug);
    let mut demo_dir = None;
    let vars = match demo {
        Some(_) => match crate::demo::folder(ci) {
            Ok(dir) => {
                demo_dir = dir;
                crate::demo::vars(vars, demo_dir.as_deref())
            }
            Err(e) => {
                sink.error(&format!("cannot create the demo folder: {e}"));
                return code::USAGE;
            }
        },
        None => vars,
    };
    // The runner's masker and our redactor know the key before anything else is printed,
    // a configuration error included. One redactor, shared by the sink, the inputs' error
    // messages and the HTTP client (its searchers are built once).
    let key = crate::config::api_key(&vars);
    let redactor = Redactor::new(key.as_ref());
    sink.protect(key.as_ref(), redactor.clone());
    crate::secret::scrub_panics(redactor.clone());
    // A refused input: the error (and the outputs that say so), no demo folder left behind.
    let refuse = |sink: &Sink, why: &str| {
        sink.refuse(why);
        if let Some(dir) = &demo_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        code::USAGE
    };
    let cfg = match Config::with_redactor(vars, redactor) {
        Ok(c) => c,
        Err(e) => return refuse(&sink, &e.0),
    };
    let mut targets = sink.targets().clone();
    targets.results.clone_from(&cfg.results_file);
    targets.summary_file.clone_from(&cfg.summary_file);
    targets.dotenv.clone_from(&cfg.dotenv_file);
    targets.junit.clone_from(&cfg.junit_file);
    targets.annotations.clone_from(&cfg.annotations_file);
    if demo.is_some() {
        targets = crate::demo::targets(targets, demo_dir.as_deref());
    }
    sink.retarget(targets);
    if let Err(e) = ci::clash(sink.targets()) {
        return refuse(&sink, &e);
    }
    if let Err(e) = sink.check_runner_files() {
        sink.error(&format!("{e}; the step could not publish its outputs, so it does not start"));
        return code::WRITE;
    }
    let mut signals = match signals {
        Ok(s) => s,
        Err(e) => {
            sink.error(&format!("cannot install signal handlers: {e}"));
            return code::API;
        }
    };
    for w in &cfg.warnings {
        sink.warn(w);
    }
    sink.begin(cfg.timeout);
    let (waited, published) = match crate::run::connect(&cfg).await {
        Ok(client) => wait(&cfg, client, &sink, &mut signals).await,
        Err(e) => (Waited::not_started(&cfg, e), None),
    };
    let mut report = crate::verdict::report(&cfg, waited, published);
    let written = sink.finish(&mut report, cfg.summary);
    // The final table says the code the step ends with.
    report.exit_code = crate::outcome::after_writing(report.exit_code, written);
    if let Some(d) = demo {
        crate::demo::show(&sink, d, demo_dir.as_deref());
        if let (Some(dir), false) = (&demo_dir, d.keep) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    sink.table(&report);
    // Later steps must not run on missing outputs: a failed write fails the step (set
    // above, for the final table too), unless a signal already ends it.
    let exit_code = report.exit_code;
    // The process ends next: the inputs and the report (plain data, every output already
    // written) are left to the exit rather than freed one allocation at a time, about 8 k
    // instructions of a one-poll run on musl (docs/performance.md). The HTTP client and the
    // runtime are still dropped, as the floor drops its own.
    std::mem::forget((cfg, report));
    exit_code
}

/// Publishes the post first when the config says so, then waits for the posts.
async fn wait(cfg: &Config, client: Client, sink: &Sink, signals: &mut Signals) -> (Waited, Option<Record>) {
    let mut clock = Clock::start(cfg);
    let Some(p) = &cfg.publish else {
        let posts = waits(cfg, &cfg.post_ids);
        let client = Arc::new(client);
        let waited = run(cfg, Arc::clone(&client), sink, signals.recv(), clock, posts).await;
        // Said once, after the wait (publishing says it before its first look).
        if let Some(ms) = client.clock_offset() {
            sink.info(&crate::report::text::clock_off(ms));
        }
        return (waited, None);
    };
    let ended = crate::publish::publish(cfg, p, &client, sink, &mut clock, signals).await;
    // The post publishing made or reused, as the wait starts it.
    let made = |record: &Record| {
        let id = record.post_id.clone().unwrap_or_default();
        let mut posts = waits(cfg, std::slice::from_ref(&id));
        posts[0].seed(record.skipped_destinations(&id));
        posts[0].known.expect(record.expected_destinations(&id));
        posts[0].published_here(record.created, record.reused);
        posts
    };
    match ended {
        Ended::Stop { record, status, code, message } => {
            (Waited::early(&clock, status, code, message), Some(record))
        }
        Ended::Made(record, signal) => (Waited::cancelled(&clock, made(&record), signal), Some(record)),
        Ended::Wait(record) => {
            let posts = made(&record);
            (run(cfg, Arc::new(client), sink, signals.recv(), clock, posts).await, Some(record))
        }
    }
}

/// The variables start-up reads, in order: those that can hold inputs (`INPUT_…`,
/// `POSTEVERYWHERE_…`) and those that say which CI this is (`ci::reads`). On Linux they come
/// from `/proc/self/environ` (the environment the process was started with, which nothing
/// here changes), read in one go: `std::env::vars_os` copies every variable, two allocations
/// each, and a CI runner's step has a hundred or more, nearly all dropped again (about 1.4 k
/// instructions a variable on musl, measured; docs/performance.md), and each `getenv` scans
/// them all. Names are compared as they are spelled, upper case, as the runners set them
/// (Windows' own lookup would also take `github_actions`; inputs never did).
fn start_vars() -> Vec<(String, String)> {
    let keep = |entry: &[u8]| crate::config::is_input_var(entry) || ci::reads(entry);
    #[cfg(target_os = "linux")]
    if let Some(block) = environ_block() {
        return crate::config::vars_of_block(&block, keep);
    }
    std::env::vars_os()
        .filter(|(k, _)| keep(k.as_encoded_bytes()))
        .filter_map(|(k, v)| {
            Some((
                k.into_string().ok()?,
                v.into_string().unwrap_or_else(|_| crate::config::NOT_UTF8.to_owned()),
            ))
        })
        .collect()
}

/// This process's environment block, or `None` when `/proc` cannot be read (not mounted) or
/// gives nothing (a process has at least the variables that hold its inputs).
#[cfg(target_os = "linux")]
fn environ_block() -> Option<Vec<u8>> {
    use std::io::Read as _;
    let mut file = std::fs::File::open("/proc/self/environ").ok()?;
    // Room for a typical runner's environment, so it is read in one call (and one more
    // that finds the end), where an empty buffer would grow through a dozen reads.
    let mut block = Vec::with_capacity(32 << 10);
    file.read_to_end(&mut block).ok()?;
    (!block.is_empty()).then_some(block)
}

//! Start-up: install signal handlers, detect the CI, protect the key (before the first line
//! is printed), read the config (a bad input is reported there and exits 2), check that the
//! runner's files can be written, then run the wait (or the demo) and report it.

use std::io::IsTerminal as _;

use crate::ci::{self, Sink};
use crate::config::Config;
use crate::outcome::code;
use crate::signal::Signals;

pub async fn start(demo: Option<crate::demo::Demo>) -> u8 {
    // First, so a signal during start-up is not lost (and works as PID 1).
    let signals = Signals::install();
    let env = |k: &str| std::env::var(k).ok();
    let (ci, targets, debug) = ci::detect(env, std::io::stdout().is_terminal());
    let vars: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let vars = if demo.is_some() { crate::demo::vars(vars) } else { vars };
    let mut sink = Sink::new(ci, targets, debug);
    // The runner's masker and our redactor know the key before anything else is printed,
    // a configuration error included.
    sink.protect(crate::config::api_key(&vars).as_ref());
    let cfg = match Config::from_vars(vars) {
        Ok(c) => c,
        Err(e) => {
            sink.error(&e.0);
            return code::USAGE;
        }
    };
    let mut targets = sink.targets().clone();
    targets.results.clone_from(&cfg.results_file);
    targets.summary_file.clone_from(&cfg.summary_file);
    targets.dotenv.clone_from(&cfg.dotenv_file);
    targets.junit.clone_from(&cfg.junit_file);
    targets.annotations.clone_from(&cfg.annotations_file);
    let mut demo_dir = None;
    if demo.is_some() {
        match crate::demo::targets(ci, targets) {
            Ok((t, dir)) => (targets, demo_dir) = (t, dir),
            Err(e) => {
                sink.error(&format!("cannot create the demo folder: {e}"));
                return code::USAGE;
            }
        }
    }
    sink.retarget(targets);
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
    let waited = match crate::run::connect(&cfg).await {
        Ok(client) => crate::run::run(&cfg, std::sync::Arc::new(client), &sink, signals.recv()).await,
        Err(e) => crate::run::Waited::not_started(&cfg, e),
    };
    let report = crate::verdict::report(&cfg, waited);
    let written = sink.finish(&report, cfg.summary);
    if let Some(d) = demo {
        crate::demo::show(&sink, d, demo_dir.as_deref());
        if let (Some(dir), false) = (&demo_dir, d.keep) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    sink.table(&report);
    // Later steps must not run on missing outputs: a failed write fails the step, unless a
    // signal already ends it.
    match report.exit_code {
        code::SIGINT | code::SIGTERM => report.exit_code,
        _ if !written => code::WRITE,
        c => c,
    }
}

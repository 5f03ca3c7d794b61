//! posteverywhere-wait: waits for a PostEverywhere post's per-destination results in CI,
//! then reports them (outputs, summary, annotations, results JSON) with an exit code that
//! says what happened. `main` only dispatches; `app::start` wires the pieces together.
#![allow(clippy::exit)]

mod api;
mod app;
mod ci;
mod cli;
mod config;
mod demo;
mod escape;
mod failure;
mod model;
mod outcome;
mod pace;
mod poll;
mod post;
mod publish;
mod rand;
mod report;
mod retry;
mod run;
mod secret;
mod signal;
mod sim;
mod time;
mod track;
mod verdict;

use std::process::ExitCode;

fn main() -> ExitCode {
    let command = match cli::parse(std::env::args_os().skip(1)) {
        Ok(c) => c,
        Err(e) => {
            say(&mut std::io::stderr(), &format!("posteverywhere-wait: error: {e}\n"));
            return ExitCode::from(outcome::code::USAGE);
        }
    };
    match command {
        cli::Command::Help => say(&mut std::io::stdout(), &cli::help()),
        cli::Command::Version => say(&mut std::io::stdout(), &format!("{}\n", cli::version())),
        cli::Command::Run | cli::Command::Demo { .. } => {
            let demo = match command {
                cli::Command::Demo { keep } => Some(demo::Demo { keep }),
                _ => None,
            };
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
            return match runtime {
                Ok(rt) => {
                    let code = rt.block_on(app::start(demo));
                    // Do not wait for a blocking DNS lookup that may never return.
                    rt.shutdown_timeout(std::time::Duration::from_millis(50));
                    ExitCode::from(code)
                }
                Err(e) => {
                    let msg = format!("posteverywhere-wait: error: cannot start the async runtime: {e}\n");
                    say(&mut std::io::stderr(), &msg);
                    ExitCode::from(outcome::code::API)
                }
            };
        }
    }
    ExitCode::SUCCESS
}

/// Writes text, ignoring a closed pipe: `posteverywhere-wait --version | true` must not
/// panic (`println!` would).
fn say(out: &mut impl std::io::Write, text: &str) {
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

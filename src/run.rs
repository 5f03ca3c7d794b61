//! The driver: the one place that touches the clock, the network and signals. It feeds
//! each answer to the pure `Poller`, sleeps as told, races everything against SIGINT and
//! SIGTERM, and hands the final `Report` to the sink.

use std::collections::HashSet;
use std::time::{Instant, SystemTime};

use crate::api::{Client, Fault, model::Results};
use crate::ci::Sink;
use crate::config::Config;
use crate::model::Tally;
use crate::outcome::{Signal, Status, code, exit_code};
use crate::poll::{End, Next, Observation, Poller};
use crate::report::{Report, human_duration, text};
use crate::secret::Redactor;
use crate::signal::Signals;

/// How the loop ended.
enum Stop {
    Poll(End),
    Signal(Signal),
    Setup(String),
}

/// Waits for the configured post and reports; returns the exit code.
pub async fn run(cfg: &Config, sink: &Sink, signals: &mut Signals) -> u8 {
    let started_at = SystemTime::now();
    let t0 = Instant::now();
    let mut last: Option<Results> = None;
    let mut requests = 0u32;
    let stop = 'wait: {
        let base = match &cfg.simulate {
            Some(s) => match crate::sim::start(s).await.map(|u| u.parse()) {
                Ok(Ok(url)) => url,
                Ok(Err(e)) => break 'wait Stop::Setup(format!("simulator URL: {e}")),
                Err(e) => break 'wait Stop::Setup(format!("cannot start the simulator: {e}")),
            },
            None => cfg.base_url.clone(),
        };
        let client = match Client::new(&base, cfg.api_key.as_ref()) {
            Ok(c) => c,
            Err(e) => break 'wait Stop::Setup(format!("{e:#}")),
        };
        let mut poller = Poller::new(cfg.timeout, cfg.poll_interval, cfg.max_errors);
        let mut warned: HashSet<String> = HashSet::new();
        loop {
            let fetch = client.results(&cfg.post_id, poller.request_timeout(t0.elapsed()));
            let answer = tokio::select! {
                a = fetch => a,
                s = signals.recv() => break 'wait Stop::Signal(s),
            };
            requests += 1;
            let obs = match answer {
                Ok(a) => {
                    let mut r = a.value;
                    scrub_results(&mut r, sink.redactor());
                    if let Some(line) = text::progress(
                        t0.elapsed(),
                        last.as_ref().map(|l| l.destinations.as_slice()),
                        &r.destinations,
                    ) {
                        sink.info(&line);
                    }
                    for word in &r.unknown_statuses {
                        if warned.insert(word.clone()) {
                            sink.warn(&format!(
                                "unknown destination status {word:?}; treating it as pending"
                            ));
                        }
                    }
                    let complete = Tally::of(&r.destinations).complete();
                    last = Some(r);
                    Observation::Answer {
                        complete,
                        rate: a.rate,
                    }
                }
                Err(f) => Observation::Fault(scrub_fault(f, sink.redactor())),
            };
            let fault = match &obs {
                Observation::Fault(f) => Some(f.clone()),
                Observation::Answer { .. } => None,
            };
            match poller.step(t0.elapsed(), obs, crate::rand::unit()) {
                Next::Finish(end) => break 'wait Stop::Poll(end),
                Next::Wait(d) => {
                    if let Some(f) = fault {
                        sink.info(&fault_line(
                            t0.elapsed(),
                            &f,
                            poller.errors(),
                            cfg.max_errors,
                            d,
                        ));
                    }
                    tokio::select! {
                        () = tokio::time::sleep(d) => {}
                        s = signals.recv() => break 'wait Stop::Signal(s),
                    }
                }
            }
        }
    };
    let report = build_report(cfg, stop, last, requests, started_at, t0);
    sink.finish(&report, cfg.summary);
    report.exit_code
}

/// Removes the key from API text as it arrives, before any escaping or truncation.
fn scrub_results(r: &mut Results, red: &Redactor) {
    for d in &mut r.destinations {
        let fields = [
            &mut d.id,
            &mut d.account_name,
            &mut d.url,
            &mut d.error,
            &mut d.published_at,
            &mut d.next_retry_at,
        ];
        for s in fields.into_iter().flatten() {
            red.scrub_in_place(s);
        }
        if let Some(serde_json::Value::String(s)) = &mut d.account_id {
            red.scrub_in_place(s);
        }
        red.scrub_in_place(&mut d.platform);
        red.scrub_in_place(&mut d.raw_status);
    }
    for s in r
        .post_status
        .iter_mut()
        .chain(r.unknown_statuses.iter_mut())
    {
        red.scrub_in_place(s);
    }
}

fn scrub_fault(f: Fault, red: &Redactor) -> Fault {
    match f {
        Fault::RateLimited { wait, reason } => Fault::RateLimited {
            wait,
            reason: red.scrub(&reason),
        },
        Fault::Transient { reason } => Fault::Transient {
            reason: red.scrub(&reason),
        },
        Fault::Fatal { status, message } => Fault::Fatal {
            status,
            message: red.scrub(&message),
        },
    }
}

fn fault_line(
    elapsed: std::time::Duration,
    f: &Fault,
    errors: u32,
    max: u32,
    wait: std::time::Duration,
) -> String {
    let at = format!("[{:>6}]", human_duration(elapsed));
    match f {
        Fault::RateLimited { wait: hint, reason } => format!(
            "{at} rate limited ({reason}); waiting {} ({})",
            human_duration(wait),
            if hint.is_some() {
                "as the API asked"
            } else {
                "backoff"
            }
        ),
        _ => format!(
            "{at} request failed ({errors} in a row, giving up at {max}): {}; retrying in {}",
            f.describe(),
            human_duration(wait)
        ),
    }
}

fn build_report(
    cfg: &Config,
    stop: Stop,
    last: Option<Results>,
    requests: u32,
    started_at: SystemTime,
    t0: Instant,
) -> Report {
    let answered = last.is_some();
    let (post_status, destinations) = last
        .map(|r| (r.post_status, r.destinations))
        .unwrap_or_default();
    let tally = Tally::of(&destinations);
    let mut signal = None;
    let (status, message) = match stop {
        Stop::Poll(End::Complete) => (Status::of_complete(tally), None),
        Stop::Poll(End::Deadline { last_fault }) if answered => {
            let m = match last_fault {
                Some(f) => format!("deadline reached; the last request failed: {f}"),
                None if tally.total == 0 => {
                    "deadline reached and the API listed no destinations for the post".into()
                }
                None => format!(
                    "deadline reached with {} destination(s) still pending",
                    tally.pending
                ),
            };
            (Status::Timeout, Some(m))
        }
        Stop::Poll(End::Deadline { last_fault }) => (
            Status::Error,
            Some(format!(
                "no usable answer from the API before the deadline; last error: {}",
                last_fault.as_deref().unwrap_or("none")
            )),
        ),
        Stop::Poll(End::TooManyErrors { last, count }) => (
            Status::Error,
            Some(format!(
                "gave up after {count} failed requests in a row; last error: {last}"
            )),
        ),
        Stop::Poll(End::Fatal { message }) => (Status::Error, Some(message)),
        Stop::Setup(message) => (Status::Error, Some(message)),
        Stop::Signal(s) => {
            signal = Some(s);
            let name = if s == Signal::Terminate {
                "SIGTERM"
            } else {
                "SIGINT"
            };
            (
                Status::Cancelled,
                Some(format!(
                    "cancelled by {name}; results are the last known state"
                )),
            )
        }
    };
    let exit = exit_code(status, tally, cfg.fail_on, signal);
    debug_assert!(status != Status::Error || exit == code::API);
    Report {
        status,
        exit_code: exit,
        fail_on: cfg.fail_on,
        post_id: cfg.post_id.clone(),
        post_status,
        destinations,
        tally,
        message,
        answered,
        timeout: cfg.timeout,
        elapsed: t0.elapsed(),
        requests,
        started_at,
        simulated: cfg.simulate.is_some(),
    }
}

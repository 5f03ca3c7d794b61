//! Turning a finished wait into a `Report`: each post's status, message and exit code from
//! how its wait ended, then the step's aggregate. Pure.

use crate::config::Config;
use crate::model::Tally;
use crate::outcome::{PostOutcome, Signal, Status, aggregate, exit_code};
use crate::poll::End;
use crate::post::{Finish, PostWait};
use crate::report::{PostReport, Report};
use crate::run::{Stop, Waited};

/// One post's status and message.
/// `published`: the step published the post first (its only post), which may have used the
/// time up to the deadline.
fn judge(
    p: &PostWait,
    stop: &Stop,
    tally: Tally,
    deadline_passed: bool,
    published: bool,
) -> (Status, Option<String>) {
    let answered = p.answered();
    match (p.finished(), stop) {
        (Some(Finish::Complete), _) => (Status::of_complete(tally), None),
        // Ended early for want of request budget, the wait lingering until the deadline:
        // a signal before the deadline cancelled the wait; nothing timed out.
        (Some(Finish::Poll(End::Deadline { .. })), Stop::Signal(s)) if !deadline_passed => cancelled(*s),
        // Every destination is final; only a re-queue (or a look for one listed late) was
        // still to come.
        (Some(Finish::Poll(End::Deadline { .. })), _) if answered && tally.complete() => (
            Status::of_complete(tally),
            Some(if p.in_flight() {
                "the deadline came while PostEverywhere still called the post publishing, every destination \
                 it listed final"
                    .into()
            } else if p.requeues() && tally.failed > 0 {
                "the deadline came before the failed destinations could be re-queued".into()
            } else {
                // With no re-queues, only the look for a destination listed late (the post
                // called failed, none listed failed) was still to come.
                "the deadline came before the post's own status could be checked against its destinations".into()
            }),
        ),
        (Some(Finish::Scheduled(at)), _) => {
            let already = crate::report::text::already_failed(tally.failed);
            let m = format!("scheduled for {at}, after the deadline; not waited for{already}");
            (Status::Scheduled, Some(m))
        }
        (Some(Finish::Draft), _) => (
            Status::Error,
            Some("the post is a draft and will never publish on its own; schedule or publish it in PostEverywhere".into()),
        ),
        (Some(Finish::Poll(End::Deadline { last_fault })), _) if answered => {
            let m = match last_fault {
                Some(f) => format!("deadline reached; the last request failed: {f}"),
                None if tally.total == 0 => "deadline reached and the API listed no destinations for the post".into(),
                None => format!(
                    "deadline reached with {} still pending",
                    crate::report::text::plural(tally.pending, "destination")
                ),
            };
            (Status::Timeout, Some(m))
        }
        (Some(Finish::Poll(End::Deadline { last_fault: None })), _) if p.requests() == 0 && published => (
            Status::Timeout,
            Some(
                "not polled before the deadline: publishing the post took the time (or the request budget \
                 left none after it); raise timeout"
                    .into(),
            ),
        ),
        (Some(Finish::Poll(End::Deadline { last_fault: None })), _) if p.requests() == 0 => (
            Status::Timeout,
            Some(
                "not polled before the deadline: the request budget (rate-limit) went to other posts; \
                 raise rate-limit or timeout"
                    .into(),
            ),
        ),
        (Some(Finish::Poll(End::Deadline { last_fault: None })), _) => {
            (Status::Timeout, Some("deadline reached before the API answered".into()))
        }
        (Some(Finish::Poll(End::Deadline { last_fault })), _) => (
            Status::Error,
            Some(format!(
                "no usable answer from the API before the deadline; last error: {}",
                last_fault.as_deref().unwrap_or("none")
            )),
        ),
        (Some(Finish::Poll(End::TooManyErrors { last, count })), _) => {
            let count = crate::report::text::plural(*count as usize, "failed request");
            (Status::Error, Some(format!("gave up after {count} in a row; last error: {last}")))
        }
        (Some(Finish::Poll(End::Fatal { message })), _) => (Status::Error, Some(message.clone())),
        // Made by this step, none of its results read (the signal came while the create was
        // out, or before the first answer): "the last known state" would be nothing.
        (None, Stop::Signal(s)) if p.made_here() && !answered => {
            (Status::Cancelled, Some(format!("cancelled by {} after the post was made, before any of its results were read", name(*s))))
        }
        (None, Stop::Signal(s)) => cancelled(*s),
        (None, Stop::Setup(m)) => (Status::Error, Some(m.clone())),
        (None, Stop::Early { status, message, .. }) => (*status, Some(message.clone())),
        (None, Stop::Done) => (Status::Error, Some("the wait ended without a result (a bug; please report it)".into())),
    }
}

fn cancelled(s: Signal) -> (Status, Option<String>) {
    (Status::Cancelled, Some(format!("cancelled by {}; results are the last known state", name(s))))
}

fn name(s: Signal) -> &'static str {
    if s == Signal::Terminate { "SIGTERM" } else { "SIGINT" }
}

pub fn report(cfg: &Config, w: Waited, publish: Option<crate::publish::Record>) -> Report {
    let signal = match w.stop {
        Stop::Signal(s) => Some(s),
        _ => None,
    };
    let mut posts = Vec::with_capacity(w.posts.len());
    let requests = w.sent_before + w.posts.iter().map(PostWait::requests).sum::<u32>();
    for mut p in w.posts {
        // The post calls itself (partly) failed, yet every destination is final and none
        // failed (the wait ended before its extra looks): never reported green.
        if let Some(said) = p.says_failed() {
            let t = p.known.tally();
            if t.failed == 0 && t.pending == 0 {
                p.fail_unlisted(&said);
            }
        }
        // The post's state is not needed after this: its destinations are moved into the
        // report, not copied (the tally is what `Tally::of` would count from them).
        let tally = p.known.tally();
        let (status, mut message) = judge(&p, &w.stop, tally, w.elapsed >= cfg.timeout, publish.is_some());
        if !p.notes.is_empty() {
            let notes = p.notes.join("; ");
            message = Some(message.map_or(notes.clone(), |m| format!("{m}; {notes}")));
        }
        let scheduled_for = match p.finished() {
            Some(Finish::Scheduled(at)) => Some(at.clone()),
            _ => None,
        };
        posts.push(PostReport {
            exit_code: exit_code(status, tally, cfg.fail_on, signal),
            answered: p.answered(),
            retried: p.retries(),
            post_status: p.post_status,
            post_id: p.id,
            status,
            destinations: p.known.into_report(),
            tally,
            message,
            scheduled_for,
        });
    }
    let outcomes: Vec<PostOutcome> = posts
        .iter()
        .map(|p| PostOutcome { status: p.status, tally: p.tally, exit_code: p.exit_code })
        .collect();
    let (status, exit_code) = match &w.stop {
        Stop::Early { status, code, .. } => (*status, *code),
        _ => aggregate(&outcomes),
    };
    let mut tally = Tally::default();
    for p in &posts {
        tally += p.tally;
    }
    let message = match (&w.stop, posts.as_slice()) {
        (Stop::Setup(m) | Stop::Early { message: m, .. }, _) => Some(m.clone()),
        (_, [one]) => one.message.clone(),
        (_, many) => {
            // Every post with something to say, the troubled ones first.
            let mut said: Vec<&PostReport> = many.iter().filter(|p| p.message.is_some()).collect();
            said.sort_by_key(|p| !matches!(p.status, Status::Error | Status::Timeout | Status::Cancelled));
            let notes: Vec<String> = said
                .iter()
                .filter_map(|p| p.message.as_ref().map(|m| format!("post {}: {m}", p.post_id)))
                .collect();
            match notes.len() {
                0 => None,
                n if n <= 3 => Some(notes.join("; ")),
                n => Some(format!(
                    "{}; and {} more",
                    notes[..3].join("; "),
                    crate::report::text::plural(n - 3, "post")
                )),
            }
        }
    };
    Report {
        status,
        exit_code,
        fail_on: cfg.fail_on,
        posts,
        tally,
        message,
        timeout: cfg.timeout,
        elapsed: w.elapsed,
        requests,
        started_at: w.started_at,
        simulated: cfg.simulate.is_some(),
        publish,
    }
}

//! Plain-text lines for the log: progress when a poll changed something, the heartbeat,
//! re-queues, failed requests and what comes next, debug detail. Lines may hold API text;
//! the printer in `ci` flattens and neutralises them before anything reaches stdout.

use std::fmt::Write as _;
use std::time::Duration;

use super::human_duration;
use crate::api::Fault;
use crate::api::model::RetryAck;
use crate::escape::{one_line, push_one_line};
use crate::model::{Destination, State, Tally};
use crate::post::Action;
use crate::track::{Change, Known, Shown, Tracked};

/// `3/3 published, 0 failed, 0 pending`; lines write it in place (no string of its own).
impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{} published, {} failed, {} pending",
            self.published, self.total, self.failed, self.pending
        )
    }
}

/// Changes a progress line describes; the rest are counted.
const DESCRIBED: usize = 6;

/// The progress line for a poll, or `None` when nothing shown changed (built only then,
/// straight into one string).
pub fn progress(elapsed: Duration, post: Option<&str>, known: &Known, changes: &[Change]) -> Option<String> {
    let items = known.items();
    let first_empty = items.is_empty() && known.answers() == 1;
    if changes.is_empty() && !first_empty {
        return None;
    }
    let mut line = String::with_capacity(64 + 96 * changes.len().min(DESCRIBED));
    let _ = write!(line, "[{:>6}] ", human_duration(elapsed));
    if let Some(p) = post {
        line.push_str("post ");
        push_one_line(&mut line, p, 60);
        line.push_str(": ");
    }
    let _ = write!(line, "{}", known.tally());
    if items.is_empty() {
        line.push_str(" (no destinations listed yet)");
        return Some(line);
    }
    line.push_str(" · ");
    for (n, c) in changes.iter().take(DESCRIBED).enumerate() {
        if n > 0 {
            line.push_str("; ");
        }
        describe(&mut line, &items[c.index], c.before.as_ref());
    }
    if changes.len() > DESCRIBED {
        let _ = write!(line, "; +{} more", changes.len() - DESCRIBED);
    }
    Some(line)
}

/// The post itself named accounts its results do not list: `[  1.2s] 1/2 published, 0
/// failed, 1 pending · the post names 1 more account than its results list; waiting for it`.
pub fn unlisted(now: Duration, label: String, known: &Known, more: usize) -> String {
    let n = if more == 1 { "1 more account".to_owned() } else { format!("{more} more accounts") };
    let it = if more == 1 { "it" } else { "them" };
    format!(
        "[{:>6}] {label}{} · the post names {n} than its results list; waiting for {it}",
        human_duration(now),
        known.tally()
    )
}

/// One change: `x @a: pending → published https://…`.
fn describe(line: &mut String, t: &Tracked, before: Option<&Shown>) {
    let d = &t.dest;
    push_one_line(line, &d.label(), 60);
    line.push_str(": ");
    match before {
        _ if t.missing => {
            line.push_str("no longer listed (last seen ");
            push_one_line(line, &d.raw_status, 20);
            line.push(')');
        }
        Some(b) if b.raw_status != d.raw_status => {
            push_one_line(line, &b.raw_status, 20);
            line.push_str(" → ");
            push_one_line(line, &d.raw_status, 20);
            detail(line, d, t.state());
        }
        Some(_) if t.state() == State::Pending && d.status == State::Failed => {
            push_one_line(line, &d.raw_status, 20);
            line.push_str(", being re-queued");
        }
        _ => {
            push_one_line(line, &d.raw_status, 20);
            detail(line, d, t.state());
        }
    }
}

fn detail(line: &mut String, d: &Destination, shown: State) {
    let (text, before, max, after) = match shown {
        State::Published => (&d.url, " ", 200, ""),
        State::Failed => (&d.error, " (", 120, ")"),
        State::Pending => (&d.next_retry_at, " (platform retry at ", 40, ")"),
    };
    if let Some(text) = text {
        line.push_str(before);
        push_one_line(line, text, max);
        line.push_str(after);
    }
}

/// What the wait does next, for the heartbeat.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Next {
    /// A request goes out in this long.
    In(Duration),
    /// A request is on its way.
    InFlight,
    /// No request fits before the deadline any more.
    Nothing,
}

/// The line that says the wait is alive: time against the deadline, counts, what is next.
pub fn heartbeat(now: Duration, timeout: Duration, posts: &[crate::post::PostWait], next: Next) -> String {
    let mut t = Tally::default();
    for p in posts {
        t += p.known.tally();
    }
    let done = posts.iter().filter(|p| p.finished().is_some()).count();
    let what = if posts.len() > 1 {
        format!("{done} of {} final", plural(posts.len(), "post"))
    } else {
        "still waiting".to_owned()
    };
    let next = match next {
        Next::In(d) => format!("next request in {}", human_duration(d)),
        Next::InFlight => "a request is on its way".to_owned(),
        Next::Nothing => "no further request fits before the deadline".to_owned(),
    };
    format!("[{:>6} of {}] {what} · {t} · {next}", human_duration(now), human_duration(timeout))
}

/// `[  1.2s] post p: re-queueing 2 failed destinations with {"account_ids":[1,2]}`.
pub fn requeueing(now: Duration, label: String, n: usize, body: &serde_json::Value) -> String {
    format!("[{:>6}] {label}re-queueing {} with {body}", human_duration(now), plural(n, "failed destination"))
}

/// What the API said to a retry call.
#[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
pub fn requeue_answer(now: Duration, label: String, answer: Result<&RetryAck, &Fault>) -> String {
    let what = match answer {
        Ok(RetryAck { retried_count: Some(0) }) => {
            "the API accepted the call but re-queued nothing".to_owned()
        }
        Ok(_) => "the API accepted the re-queue".to_owned(),
        Err(Fault::Transient { reason, .. }) => {
            format!("the re-queue call failed ({reason}); it may have worked: the results will tell")
        }
        Err(f) => format!("the re-queue was not accepted: {}", f.describe()),
    };
    format!("[{:>6}] {label}{what}", human_duration(now))
}

/// A failed request and what happens next: `next` is when the next request goes out, or
/// `None` when none fits before the deadline.
#[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
pub fn fault_line(
    now: Duration,
    label: &str,
    f: &Fault,
    errors: u32,
    max_errors: u32,
    next: Option<Duration>,
    timeout: Duration,
) -> String {
    let at = format!("[{:>6}] {label}", human_duration(now));
    let then = match next {
        Some(t) if t >= timeout && t > now => {
            format!("one last request at the deadline, in {}", human_duration(t - now))
        }
        Some(t) => format!("next request in {}", human_duration(t.saturating_sub(now))),
        None => format!(
            "no further request fits before the deadline ({}); the wait ends then",
            human_duration(timeout)
        ),
    };
    match f {
        Fault::RateLimited { wait: Some(w), reason }
            if next.is_some_and(|t| now + *w > t) && next >= Some(timeout) =>
        {
            format!(
                "{at}rate limited ({reason}); the API asks to wait {}, past the deadline: {then}",
                human_duration(*w)
            )
        }
        Fault::RateLimited { wait, reason } => {
            let why = if wait.is_some() { "as the API asked" } else { "backoff" };
            format!("{at}rate limited ({reason}); {then} ({why})")
        }
        _ => {
            // A 503's Retry-After: the wait is at least it (longer when the backoff or the
            // request budget is).
            let why = match (f, next.map(|t| t.saturating_sub(now))) {
                (Fault::Transient { after: Some(w), .. }, Some(d)) if !w.is_zero() => match d.cmp(w) {
                    std::cmp::Ordering::Greater => {
                        format!(" (the API asked for {})", human_duration(*w))
                    }
                    std::cmp::Ordering::Less => {
                        format!(" (the API asked for {}, past it)", human_duration(*w))
                    }
                    std::cmp::Ordering::Equal => " (as the API asked)".to_owned(),
                },
                _ => String::new(),
            };
            format!(
                "{at}request failed ({errors} in a row, giving up at {max_errors}): {}; {then}{why}",
                f.describe()
            )
        }
    }
}

/// How far this machine's clock is from the API's (`Client::clock_offset`, ms; positive:
/// the API's is ahead), and that the API's times are read on its clock.
pub fn clock_off(ms: i64) -> String {
    let by = super::human_duration(Duration::from_millis(ms.unsigned_abs()));
    let way = if ms > 0 { "behind" } else { "ahead of" };
    format!(
        "this machine's clock is {by} {way} PostEverywhere's (by its Date header): the API's times are read on its clock"
    )
}

/// What one request did, for debug logs.
pub fn debug_line(id: &str, action: &Action, fault: Option<&Fault>, took: Duration) -> String {
    let what = match action {
        Action::Results => "GET results".to_owned(),
        Action::Post => "GET post".to_owned(),
        Action::Retry(plan) => format!("POST retry {}", plan.body),
    };
    let result = fault.map_or("ok", Fault::describe);
    format!("post {}: {what} -> {result} in {} ms", one_line(id, 80), took.as_millis())
}

/// `1 destination`, `2 destinations`.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// What a post scheduled after the deadline adds when `failed` of its destinations have
/// failed already (nothing when none has): `; 1 destination already failed`.
pub fn already_failed(failed: usize) -> String {
    if failed == 0 { String::new() } else { format!("; {} already failed", plural(failed, "destination")) }
}

#[cfg(test)]
mod tests;

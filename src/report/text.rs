//! Plain-text lines for the log: progress when a poll changed something, the heartbeat,
//! re-queues, failed requests and what comes next, debug detail. Lines may hold API text;
//! the printer in `ci` flattens and neutralises them before anything reaches stdout.

use std::fmt::Write as _;
use std::time::Duration;

use super::human_duration;
use crate::api::Fault;
use crate::api::model::RetryAck;
use crate::escape::one_line;
use crate::model::{Destination, State, Tally};
use crate::post::Action;
use crate::track::{Change, Known};

pub fn counts(t: Tally) -> String {
    format!("{}/{} published, {} failed, {} pending", t.published, t.total, t.failed, t.pending)
}

/// The progress line for a poll, or `None` when nothing shown changed.
pub fn progress(elapsed: Duration, post: Option<&str>, known: &Known, changes: &[Change]) -> Option<String> {
    let items = known.items();
    let first_empty = items.is_empty() && known.answers() == 1;
    if changes.is_empty() && !first_empty {
        return None;
    }
    let mut described = Vec::with_capacity(changes.len().min(7));
    for c in changes.iter().take(6) {
        let t = &items[c.index];
        let d = &t.dest;
        let label = one_line(&d.label(), 60);
        let now = one_line(&d.raw_status, 20);
        let what = match &c.before {
            _ if t.missing => format!("{label}: no longer listed (last seen {now})"),
            Some(b) if b.raw_status != d.raw_status => {
                format!("{label}: {} → {now}{}", one_line(&b.raw_status, 20), detail(d, t.state()))
            }
            Some(_) if t.state() == State::Pending && d.status == State::Failed => {
                format!("{label}: {now}, being re-queued")
            }
            _ => format!("{label}: {now}{}", detail(d, t.state())),
        };
        described.push(what);
    }
    let post = post.map(|p| format!("post {}: ", one_line(p, 60))).unwrap_or_default();
    let mut line = format!("[{:>6}] {post}{}", human_duration(elapsed), counts(known.tally()));
    if items.is_empty() {
        line.push_str(" (no destinations listed yet)");
    } else {
        let _ = write!(line, " · {}", described.join("; "));
        if changes.len() > described.len() {
            let _ = write!(line, "; +{} more", changes.len() - described.len());
        }
    }
    Some(line)
}

fn detail(d: &Destination, shown: State) -> String {
    match shown {
        State::Published => d.url.as_deref().map(|u| format!(" {}", one_line(u, 200))).unwrap_or_default(),
        State::Failed => d.error.as_deref().map(|e| format!(" ({})", one_line(e, 120))).unwrap_or_default(),
        State::Pending => d
            .next_retry_at
            .as_deref()
            .map(|t| format!(" (platform retry at {})", one_line(t, 40)))
            .unwrap_or_default(),
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
    format!("[{:>6} of {}] {what} · {} · {next}", human_duration(now), human_duration(timeout), counts(t))
}

/// `[  1.2s] post p: re-queueing 2 failed destinations with {"account_ids":[1,2]}`.
pub fn requeueing(now: Duration, label: String, n: usize, body: &serde_json::Value) -> String {
    format!("[{:>6}] {label}re-queueing {} with {body}", human_duration(now), plural(n, "failed destination"))
}

/// What the API said to a retry call.
pub fn requeue_answer(now: Duration, label: String, answer: Result<&RetryAck, &Fault>) -> String {
    let what = match answer {
        Ok(RetryAck { retried_count: Some(0) }) => {
            "the API accepted the call but re-queued nothing".to_owned()
        }
        Ok(_) => "the API accepted the re-queue".to_owned(),
        Err(Fault::Transient { reason }) => {
            format!("the re-queue call failed ({reason}); it may have worked: the results will tell")
        }
        Err(f) => format!("the re-queue was not accepted: {}", f.describe()),
    };
    format!("[{:>6}] {label}{what}", human_duration(now))
}

/// A failed request and what happens next: `next` is when the next request goes out, or
/// `None` when none fits before the deadline.
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
        _ => format!(
            "{at}request failed ({errors} in a row, giving up at {max_errors}): {}; {then}",
            f.describe()
        ),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::dest;

    #[test]
    fn progress_only_on_change() {
        let mut k = Known::default();
        k.merge(vec![dest("x", "@a", State::Pending)]);
        let c = k.changes();
        let line = progress(Duration::from_millis(1500), None, &k, &c).unwrap();
        assert_eq!(line, "[  1.5s] 0/1 published, 0 failed, 1 pending · x @a: pending");
        k.merge(vec![dest("x", "@a", State::Pending)]);
        let c = k.changes();
        assert_eq!(progress(Duration::from_secs(3), None, &k, &c), None);
        k.merge(vec![dest("x", "@a", State::Published)]);
        let c = k.changes();
        assert_eq!(
            progress(Duration::from_secs(4), Some("p9"), &k, &c).unwrap(),
            "[  4.0s] post p9: 1/1 published, 0 failed, 0 pending · x @a: pending → published https://x.example/p/1"
        );
        k.merge(vec![]);
        let c = k.changes();
        assert!(progress(Duration::from_secs(5), None, &k, &c).unwrap().contains("x @a: no longer listed"));
        let mut empty = Known::default();
        empty.merge(Vec::new());
        assert!(
            progress(Duration::ZERO, None, &empty, &[]).unwrap().ends_with("(no destinations listed yet)")
        );
        empty.merge(Vec::new());
        assert_eq!(progress(Duration::ZERO, None, &empty, &[]), None);
    }

    #[test]
    fn announcements_say_what_will_happen() {
        let s = Duration::from_secs;
        let f = Fault::Transient { reason: "could not connect".into() };
        let l = fault_line(s(2), "", &f, 2, 10, None, s(3));
        assert!(l.ends_with("no further request fits before the deadline (3.0s); the wait ends then"), "{l}");
        let l = fault_line(s(2), "", &f, 2, 10, Some(s(3)), s(3));
        assert!(l.ends_with("one last request at the deadline, in 1.0s"), "{l}");
        let limited = Fault::RateLimited { wait: Some(s(60)), reason: "HTTP 429".into() };
        let l = fault_line(Duration::from_millis(500), "", &limited, 0, 10, Some(s(10)), s(10));
        assert!(
            l.contains(
                "the API asks to wait 1m00s, past the deadline: one last request at the deadline, in 9.5s"
            ),
            "{l}"
        );
        let l = fault_line(
            s(1),
            "",
            &Fault::RateLimited { wait: None, reason: "HTTP 429".into() },
            0,
            10,
            Some(s(3)),
            s(10),
        );
        assert!(l.ends_with("next request in 2.0s (backoff)"), "{l}");
    }
}

//! One post's wait, as a pure state machine: poll the results (through `Poller`), look at
//! the post itself once when every destination is still queued (scheduled? draft?), and
//! re-queue failed destinations (through `RetryBook`) until they are final again. The
//! driver asks `due`, runs the `Action` from `take`, and feeds the answer back.

use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::api::Fault;
use crate::api::model::Results;
use crate::model::{State, Tally, normalise_status};
use crate::poll::{End, Next, Observation, Poller};
use crate::retry::{Form, Plan, RetryBook};

/// A request the post needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// `GET /posts/{id}/results`
    Results,
    /// `GET /posts/{id}` (status and schedule)
    Post,
    /// `POST /posts/{id}/retry`
    Retry(Plan),
}

/// Why this post's wait ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Finish {
    /// Every destination is final (retries done or not allowed).
    Complete,
    /// Scheduled to publish after the deadline, at this time.
    Scheduled(String),
    /// A draft never publishes on its own.
    Draft,
    /// The poller ended it: deadline, errors, or a fatal answer.
    Poll(End),
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Due(Duration, Action),
    InFlight,
    Done(Finish),
}

/// The settings every post shares.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout: Duration,
    pub interval: Duration,
    pub max_errors: u32,
    pub retry_failed: u32,
    /// The deadline as wall-clock time, to compare with `scheduled_for`.
    pub deadline_wall: SystemTime,
}

#[derive(Debug, Clone)]
pub struct PostWait {
    pub id: String,
    limits: Limits,
    poller: Poller,
    book: RetryBook,
    step: Step,
    /// The latest results, with our retry bookkeeping applied.
    pub last: Option<Results>,
    schedule_checked: bool,
    form: Form,
    other_form_tried: bool,
    retry_errors: u32,
    /// The last request's failure, if the last request failed.
    last_fault: Option<String>,
    requests: u32,
    /// Things worth telling the user about this post.
    pub notes: Vec<String>,
}

/// `retried_count`, or the older `retried`, from any retry response shape.
fn retried_count(v: &Value) -> Option<u64> {
    let data = v.get("data").filter(|d| d.is_object()).unwrap_or(v);
    ["retried_count", "retried"].iter().find_map(|k| data.get(*k).and_then(Value::as_u64))
}

impl PostWait {
    pub fn new(id: String, limits: Limits) -> Self {
        Self {
            id,
            limits,
            poller: Poller::new(limits.timeout, limits.interval, limits.max_errors),
            book: RetryBook::new(limits.retry_failed),
            step: Step::Due(Duration::ZERO, Action::Results),
            last: None,
            schedule_checked: false,
            form: Form::AccountIds,
            other_form_tried: false,
            retry_errors: 0,
            last_fault: None,
            requests: 0,
            notes: Vec::new(),
        }
    }

    /// When the next request is due, unless one is in flight or the wait is over.
    pub fn due(&self) -> Option<Duration> {
        match self.step {
            Step::Due(t, _) => Some(t),
            _ => None,
        }
    }

    pub fn finished(&self) -> Option<&Finish> {
        match &self.step {
            Step::Done(f) => Some(f),
            _ => None,
        }
    }

    /// Transient faults in a row so far.
    pub fn errors(&self) -> u32 {
        self.poller.errors()
    }

    /// Re-queues sent for this post.
    pub fn retries(&self) -> u32 {
        self.book.total()
    }

    /// The request timeout for a request starting at `now`.
    pub fn request_timeout(&self, now: Duration) -> Duration {
        self.poller.request_timeout(now)
    }

    /// Requests started for this post.
    pub fn requests(&self) -> u32 {
        self.requests
    }

    /// Marks the due action as started and returns it.
    pub fn take(&mut self) -> Option<Action> {
        match std::mem::replace(&mut self.step, Step::InFlight) {
            Step::Due(_, a) => {
                self.requests += 1;
                Some(a)
            }
            other => {
                self.step = other;
                None
            }
        }
    }

    /// The budget cannot fit another request before the deadline: stop here.
    pub fn expire(&mut self) {
        if matches!(self.step, Step::Due(..)) {
            let last_fault = self.last_fault.clone();
            self.step = Step::Done(Finish::Poll(End::Deadline { last_fault }));
        }
    }

    /// Reads the results again after a retry call: in one interval, or at the deadline.
    fn poll_again(&mut self, now: Duration) {
        let wait = self.limits.interval.min(self.limits.timeout.saturating_sub(now));
        self.step = Step::Due(now + wait, Action::Results);
    }

    fn after_poll(&mut self, now: Duration, obs: Observation, jitter: f64) {
        self.step = match self.poller.step(now, obs, jitter) {
            Next::Wait(d) => Step::Due(now + d, Action::Results),
            Next::Finish(e) => Step::Done(Finish::Poll(e)),
        };
    }

    /// Decides what follows from the results we hold.
    fn decide(&mut self, now: Duration, jitter: f64) {
        let Some(last) = self.last.as_mut() else { return };
        self.book.annotate(&mut last.destinations);
        let tally = Tally::of(&last.destinations);
        // Waiting words that may mean "not due yet" (or never, for a draft).
        let waiting = |s: &str| matches!(normalise_status(s).as_str(), "queued" | "scheduled" | "draft");
        let post_says = last
            .post_status
            .as_deref()
            .is_some_and(|s| matches!(normalise_status(s).as_str(), "scheduled" | "draft"));
        let all_waiting = last.destinations.iter().all(|d| waiting(&d.raw_status));
        if !all_waiting && !post_says {
            // Publishing has started: the schedule is no longer in question.
            self.schedule_checked = true;
        }
        if tally.complete() {
            if now < self.limits.timeout {
                if let Some(plan) = self.book.plan(&last.destinations, self.form) {
                    self.step = Step::Due(now, Action::Retry(plan));
                    return;
                }
                if self.book.unresolved() {
                    self.after_poll(now, Observation::Pending, jitter);
                    return;
                }
            }
            self.book.annotate(&mut last.destinations);
            self.step = Step::Done(Finish::Complete);
            return;
        }
        if !self.schedule_checked && ((tally.total > 0 && all_waiting) || post_says) {
            self.schedule_checked = true;
            self.step = Step::Due(now, Action::Post);
            return;
        }
        self.after_poll(now, Observation::Pending, jitter);
    }

    pub fn on_results(&mut self, now: Duration, answer: Result<Results, Fault>, jitter: f64) {
        match answer {
            Ok(mut r) => {
                self.last_fault = None;
                self.book.apply(&mut r.destinations);
                self.last = Some(r);
                self.decide(now, jitter);
            }
            Err(f) => {
                self.last_fault = Some(f.describe().to_owned());
                self.after_poll(now, Observation::Fault(f), jitter);
            }
        }
    }

    pub fn on_post(&mut self, now: Duration, answer: Result<Results, Fault>, jitter: f64) {
        if matches!(answer, Err(Fault::RateLimited { .. } | Fault::Transient { .. })) {
            // Worth asking again after the next poll.
            self.schedule_checked = false;
        }
        if let Ok(post) = answer {
            if post.post_status.as_deref().map(normalise_status).as_deref() == Some("draft") {
                self.step = Step::Done(Finish::Draft);
                return;
            }
            let at = post.scheduled_for.as_deref().and_then(|s| humantime::parse_rfc3339_weak(s).ok());
            if let (Some(at), Some(text)) = (at, post.scheduled_for) {
                if at > self.limits.deadline_wall {
                    self.step = Step::Done(Finish::Scheduled(text));
                    return;
                }
            }
        }
        // Not knowing the schedule is no reason to stop waiting.
        self.after_poll(now, Observation::Pending, jitter);
    }

    pub fn on_retry(&mut self, now: Duration, plan: &Plan, answer: Result<Value, Fault>, jitter: f64) {
        let dests = self.last.as_ref().map(|l| l.destinations.clone()).unwrap_or_default();
        match answer {
            Ok(v) if retried_count(&v) == Some(0) => {
                self.book.stop(plan, "the API re-queued nothing");
                self.notes.push("the retry call re-queued nothing (retried_count 0)".into());
            }
            Ok(_) => self.book.sent(plan, &dests),
            Err(Fault::RateLimited { wait, .. }) if now < self.limits.timeout => {
                // Safe to repeat: nothing was re-queued. A zero hint must not become a loop.
                let floor = self.limits.interval.min(Duration::from_secs(1));
                let wait = wait.map_or(self.limits.interval, |w| w.max(floor)).min(self.limits.timeout - now);
                self.step = Step::Due(now + wait, Action::Retry(plan.clone()));
                return;
            }
            Err(Fault::RateLimited { .. }) => self.book.stop(plan, "rate limited until the deadline"),
            Err(Fault::Transient { reason }) => {
                self.retry_errors += 1;
                if self.retry_errors >= self.limits.max_errors {
                    self.book.stop(plan, &format!("the retry call kept failing: {reason}"));
                } else {
                    // It may have taken effect: read the results before sending it again.
                    self.book.uncertain(plan, &dests);
                    self.poll_again(now);
                    return;
                }
            }
            Err(Fault::Fatal { status, message }) => {
                let circuit_breaker = message.contains("circuit_breaker");
                if matches!(status, Some(400 | 422)) && !circuit_breaker && !self.other_form_tried {
                    self.other_form_tried = true;
                    let other = match plan.form {
                        Form::AccountIds => Form::DestinationIds,
                        Form::DestinationIds => Form::AccountIds,
                    };
                    if let Some(p) = self.book.plan(&dests, other).filter(|p| p.form == other) {
                        self.form = other;
                        self.step = Step::Due(now, Action::Retry(p));
                        return;
                    }
                }
                self.book.stop(plan, &format!("retry refused: {message}"));
                self.notes.push(format!("retry refused: {message}"));
            }
        }
        if let Some(last) = self.last.as_mut() {
            self.book.annotate(&mut last.destinations);
        }
        let pending =
            self.last.as_ref().is_some_and(|l| l.destinations.iter().any(|d| d.status == State::Pending));
        if pending {
            self.poll_again(now);
        } else {
            self.decide(now, jitter);
        }
    }
}

#[cfg(test)]
mod tests;

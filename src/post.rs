//! One post's wait, as a pure state machine: poll the results (through `Poller`), look at
//! the post itself once when every destination is still queued (scheduled? draft?), and
//! re-queue failed destinations (each tracked in `Known` with its `retry::Entry`) until
//! they are final again. The driver asks `due`, runs the `Action` from `take`, and feeds
//! the answer back.

use std::time::Duration;

use crate::api::Fault;
use crate::api::model::{Results, RetryAck};
use crate::model::{Destination, State, status_is};
use crate::poll::{End, Next, Observation, Poller};
use crate::retry::{self, Form, Phase, Plan};
use crate::track::Known;

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
}

#[derive(Debug, Clone)]
pub struct PostWait {
    pub id: String,
    limits: Limits,
    poller: Poller,
    /// Every destination the post has listed, with our bookkeeping.
    pub known: Known,
    step: Step,
    /// The API's post-level status from the latest answer.
    pub post_status: Option<String>,
    answered: bool,
    schedule_checked: bool,
    form: Form,
    other_form_tried: bool,
    /// The last request's failure, if the last request failed.
    last_fault: Option<String>,
    requests: u32,
    /// Things worth telling the user about this post.
    pub notes: Vec<String>,
    /// Polls spent waiting for a destination the post says is in flight but none lists.
    unlisted_polls: u32,
    /// Whether the post was asked which accounts it is for (a wait-only run's way to know
    /// one the results do not list yet).
    accounts_asked: bool,
    /// This run made the post a moment ago: until its results first answer, a 404 is the
    /// API catching up, not a wrong id.
    fresh: bool,
    /// An earlier run's post this run found and reused (dedupe): a 404 is no post-id's fault.
    reused: bool,
}

/// How many more polls a post gets whose every listed destination is final while it still
/// says `publishing`: enough for a list that grew late, bounded for an aggregate that lags.
const UNLISTED_POLLS: u32 = 2;

impl PostWait {
    pub fn new(id: String, limits: Limits) -> Self {
        Self {
            id,
            limits,
            poller: Poller::new(limits.timeout, limits.interval, limits.max_errors),
            known: Known::default(),
            step: Step::Due(Duration::ZERO, Action::Results),
            post_status: None,
            answered: false,
            schedule_checked: false,
            form: Form::AccountIds,
            other_form_tried: false,
            last_fault: None,
            requests: 0,
            notes: Vec::new(),
            unlisted_polls: 0,
            accounts_asked: false,
            fresh: false,
            reused: false,
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

    /// Whether any usable results answer arrived.
    pub fn answered(&self) -> bool {
        self.answered
    }

    /// This run made the post (see `fresh`).
    pub fn made_here(&self) -> bool {
        self.fresh
    }

    /// Whether the latest answer's post-level status says a destination is still in flight
    /// (`publishing`): with every listed destination final, one may not be listed yet.
    pub fn in_flight(&self) -> bool {
        self.post_status.as_deref().is_some_and(|s| status_is(s, &["publishing"]))
    }

    /// Whether failed destinations may be re-queued (`retry-failed` over 0).
    pub fn requeues(&self) -> bool {
        self.limits.retry_failed > 0
    }

    /// Transient faults in a row so far.
    pub fn errors(&self) -> u32 {
        self.poller.errors()
    }

    /// Re-queues that took effect for this post.
    pub fn retries(&self) -> u32 {
        self.known.items().iter().map(|t| t.retry.took_effect).sum()
    }

    /// The request timeout for a request starting at `now`.
    pub fn request_timeout(&self, now: Duration) -> Duration {
        self.poller.request_timeout(now)
    }

    /// Requests started for this post.
    pub fn requests(&self) -> u32 {
        self.requests
    }

    /// Destinations of our own, reported with the API's (accounts skipped before posting).
    #[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
    pub fn seed(&mut self, dests: Vec<Destination>) {
        self.known.seed(dests);
    }

    /// The destinations as reported.
    #[cfg(test)]
    pub fn destinations(&self) -> Vec<Destination> {
        self.known.report()
    }

    /// Marks the due action as started and returns it.
    pub fn take(&mut self) -> Option<Action> {
        match std::mem::replace(&mut self.step, Step::InFlight) {
            Step::Due(_, a) => {
                self.requests += 1;
                if let Action::Retry(plan) = &a {
                    self.set_phase(plan, &Phase::InFlight);
                }
                Some(a)
            }
            other => {
                self.step = other;
                None
            }
        }
    }

    /// No further request fits before the deadline: the wait for this post ends there.
    /// `why` says what kept the request out (e.g. the request budget).
    pub fn expire(&mut self, why: Option<&str>) {
        if matches!(self.step, Step::Due(..)) {
            if let Some(why) = why {
                self.notes.push(why.to_owned());
            }
            let last_fault = self.last_fault.clone();
            self.step = Step::Done(Finish::Poll(End::Deadline { last_fault }));
        }
    }

    fn set_phase(&mut self, plan: &Plan, phase: &Phase) {
        for &i in &plan.targets {
            self.known.items_mut()[i].retry.phase = phase.clone();
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

    /// A re-queue of every eligible destination, in `form` (or the other when needed).
    fn plan(&self, form: Form, only: Option<&[usize]>) -> Option<Plan> {
        let items = self.known.items();
        let targets: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|(i, _)| only.is_none_or(|o| o.contains(i)))
            .filter(|(_, t)| {
                !t.missing && !t.is_local() && retry::eligible(&t.dest, &t.retry, self.limits.retry_failed)
            })
            .map(|(i, _)| i)
            .collect();
        if targets.is_empty() {
            return None;
        }
        let dests: Vec<&Destination> = items.iter().map(|t| &t.dest).collect();
        // The failures the API has: listed now or before, not accounts skipped before posting.
        let failures = items.iter().filter(|t| !t.is_local() && t.dest.status == State::Failed).count();
        retry::plan(&dests, &targets, failures, form)
    }

    /// Decides what follows from the destinations we know.
    fn decide(&mut self, now: Duration, jitter: f64) {
        let mut tally = self.known.tally();
        // Waiting words that may mean "not due yet" (or never, for a draft).
        let waiting = |s: &str| status_is(s, &["queued", "scheduled", "draft"]);
        let post_says = self.post_status.as_deref().is_some_and(|s| status_is(s, &["scheduled", "draft"]));
        let all_waiting =
            self.known.items().iter().filter(|t| !t.is_local()).all(|t| waiting(&t.dest.raw_status));
        if !all_waiting && !post_says {
            // Publishing has started: the schedule is no longer in question.
            self.schedule_checked = true;
        }
        if tally.complete() && self.in_flight() {
            // A run that did not post does not know the post's accounts: the post names
            // them (GET /posts/{id}), so one the results do not list yet is waited for.
            // Asking counts as one of the polls more that such a post gets (so a question
            // that failed, and is asked again, is asked at most that often).
            if !self.accounts_asked && !self.known.expects_accounts() && self.unlisted_polls < UNLISTED_POLLS
            {
                self.accounts_asked = true;
                self.unlisted_polls += 1;
                self.step = Step::Due(now, Action::Post);
                return;
            }
            // `publishing` is derived from the destinations, but may lag them (the API's own
            // example calls a post with a failed destination `published`): a few more polls
            // for one listed late, then the destinations decide.
            if self.unlisted_polls < UNLISTED_POLLS {
                self.unlisted_polls += 1;
                self.after_poll(now, Observation::Pending, jitter);
                return;
            }
            let note =
                "PostEverywhere still called the post publishing after every destination it listed was final";
            if !self.notes.iter().any(|n| n == note) {
                self.notes.push(note.to_owned());
            }
        }
        if let Some(said) = self.says_failed() {
            if self.failure_unlisted(now, jitter, tally, &said) {
                return;
            }
            tally = self.known.tally();
        }
        if tally.complete() {
            if now < self.limits.timeout {
                if let Some(plan) = self.plan(self.form, None) {
                    self.step = Step::Due(now, Action::Retry(plan));
                    return;
                }
            }
            self.step = Step::Done(Finish::Complete);
            return;
        }
        let listed = tally.total - self.known.unlisted();
        if !self.schedule_checked && ((listed > 0 && all_waiting) || post_says) {
            self.schedule_checked = true;
            self.step = Step::Due(now, Action::Post);
            return;
        }
        self.after_poll(now, Observation::Pending, jitter);
    }

    pub fn on_results(&mut self, now: Duration, answer: Result<Results, Fault>, jitter: f64) {
        match answer {
            Ok(r) => {
                self.last_fault = None;
                self.answered = true;
                self.post_status = r.post_status;
                self.known.merge(r.destinations);
                self.decide(now, jitter);
            }
            Err(f) => {
                self.last_fault = Some(f.describe().to_owned());
                self.after_poll(now, Observation::Fault(f), jitter);
            }
        }
    }

    /// Says this run made the post just now (see `fresh`), or reused an earlier run's.
    pub fn published_here(&mut self, created: bool, reused: bool) {
        (self.fresh, self.reused) = (created, reused);
    }

    /// A results request's fault as this post takes it: a 404 for a post made a moment
    /// ago, before any answer, is the API catching up (transient), not a wrong id.
    pub fn judge(&self, f: Fault) -> Fault {
        match f {
            // No "asking again" here: the same text ends the run's message when the 404 lasts.
            Fault::Fatal { status: Some(404), .. } if self.fresh && !self.answered => Fault::transient(
                "HTTP 404 Not Found: the post was made a moment ago and the API does not list it yet; \
                 if that lasts, look for it in PostEverywhere",
            ),
            Fault::Fatal { status: Some(404), .. } if self.reused => Fault::Fatal {
                status: Some(404),
                message: format!(
                    "HTTP 404 Not Found: post {} (an earlier run's, with this content, reused by dedupe) cannot \
                     be read; if it was deleted, set dedupe: 0 to post again",
                    crate::escape::one_line(&self.id, 60)
                ),
            },
            f => f,
        }
    }

    #[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
    pub fn on_retry(&mut self, now: Duration, plan: &Plan, answer: Result<RetryAck, Fault>, jitter: f64) {
        match answer {
            Ok(ack) => {
                for &i in &plan.targets {
                    let t = &mut self.known.items_mut()[i];
                    t.retry.accepted(&t.dest, ack.retried_count);
                }
                if ack.retried_count == Some(0) {
                    self.notes.push("the retry call re-queued nothing (retried_count 0)".into());
                }
            }
            Err(Fault::RateLimited { wait, .. }) => {
                // Nothing was re-queued: safe to repeat. A zero hint must not become a loop.
                self.set_phase(plan, &Phase::Idle);
                if now < self.limits.timeout {
                    let floor = self.limits.interval.min(Duration::from_secs(1));
                    let wait =
                        wait.map_or(self.limits.interval, |w| w.max(floor)).min(self.limits.timeout - now);
                    self.step = Step::Due(now + wait, Action::Retry(plan.clone()));
                    return;
                }
            }
            Err(Fault::Transient { .. }) => {
                // It may have taken effect: the results decide before anything is sent again.
                for &i in &plan.targets {
                    let t = &mut self.known.items_mut()[i];
                    t.retry.ambiguous(&t.dest);
                }
            }
            Err(Fault::Fatal { status, message }) => {
                self.set_phase(plan, &Phase::Idle);
                let circuit_breaker = crate::failure::is_circuit_breaker(&message);
                if matches!(status, Some(400 | 422)) && !circuit_breaker && !self.other_form_tried {
                    self.other_form_tried = true;
                    let other = plan.form.other();
                    if let Some(p) = self.plan(other, Some(&plan.targets)).filter(|p| p.form == other) {
                        self.form = other;
                        self.step = Step::Due(now, Action::Retry(p));
                        return;
                    }
                }
                self.set_phase(plan, &Phase::Stopped(format!("retry refused: {message}")));
                self.notes.push(format!("retry refused: {message}"));
            }
        }
        if self.known.items().iter().any(|t| t.retry.holds()) {
            self.poll_again(now);
        } else {
            self.decide(now, jitter);
        }
    }
}

mod asked;
#[cfg(test)]
mod tests;

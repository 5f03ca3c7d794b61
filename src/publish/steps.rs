//! The requests of publishing, each within the step's deadline and request budget (and
//! creates within 20 a minute as well), raced against a stop signal: a 429 is waited out,
//! a 5xx or lost answer is repeated with backoff only where repeating cannot post twice.

use std::future::Future;
use std::time::Duration;

use super::{Ended, Record};
use crate::api::{Answer, Client, Fault};
use crate::config::Config;
use crate::outcome::{Signal, Status, code};
use crate::pace::Pacer;
use crate::poll::{DEADLINE_GRACE, MAX_REQUEST_TIME};
use crate::report::human_duration;
use crate::run::{Clock, Events};
use crate::signal::Signals;

mod create;
mod looks;
mod media;
pub use create::Created;
pub use looks::{CLOCK_SKEW, DEDUPE_PAGES};

/// How many times the posts are listed, looking for the post a create whose answer was
/// lost may have made, before it is sent again (a post shows up in the list some time after
/// it is made): `look_pause` apart, 30 s in all at the default timeout.
const LOOKS: u32 = 15;
/// How long a create call out when SIGINT comes is given to answer, so the step can name
/// the post it made: within the 7.5 s a GitHub runner leaves before SIGTERM, with time
/// left to write the outputs.
const CREATE_GRACE: Duration = Duration::from_secs(5);
/// PostEverywhere's own limit on creating posts, per key.
const CREATES_PER_MINUTE: u32 = 20;

/// Why a step did not get its answer.
pub enum Failed {
    Fault(Fault),
    /// The deadline came, or the next try could only come after it: why, when it was not
    /// simply the time running out (a 429 to wait out past it, a back-off past it).
    Deadline(Option<String>),
    /// Stopped by a signal while nothing was out (waiting to send, or between requests).
    Signal(Signal),
    /// Stopped by a signal while a request was out: it may have done what it asked.
    SignalOut(Signal),
    /// The post is there, but with an id that cannot be waited for: never posted again.
    Unusable(String),
}

pub struct Steps<'a, E> {
    cfg: &'a Config,
    client: &'a Client,
    events: &'a E,
    clock: &'a mut Clock,
    signals: &'a mut Signals,
    creates: Pacer,
    /// Posts like this one made before the first create (`note_earlier`): never ours.
    earlier: Vec<String>,
    /// Listed posts asked for their accounts, and what each said (`looks::fill`).
    asked: Vec<(String, Vec<i64>)>,
    /// When the last line was said, and what the step is doing: a wait says so at least
    /// every `heartbeat` (the looks for a post accepted without an id, media processing,
    /// a 429's wait, an upload can each take minutes).
    said_at: std::cell::Cell<Duration>,
    doing: std::cell::Cell<&'static str>,
}

impl<'a, E> Steps<'a, E>
where
    E: Events,
{
    pub fn new(
        cfg: &'a Config,
        client: &'a Client,
        events: &'a E,
        clock: &'a mut Clock,
        signals: &'a mut Signals,
    ) -> Self {
        let creates = Pacer::new(CREATES_PER_MINUTE, cfg.timeout);
        let said_at = std::cell::Cell::new(Duration::ZERO);
        let doing = std::cell::Cell::new("publishing");
        Self {
            cfg,
            client,
            events,
            clock,
            signals,
            creates,
            earlier: Vec::new(),
            asked: Vec::new(),
            said_at,
            doing,
        }
    }

    fn now(&self) -> Duration {
        self.clock.t0.elapsed()
    }

    /// A log line stamped with the time since the start.
    pub fn say(&self, line: &str) {
        let now = self.now();
        self.said_at.set(now);
        self.events.info(&format!("[{:>6}] {line}", human_duration(now)));
    }

    /// When the next heartbeat line is due.
    fn beat_at(&self) -> Duration {
        self.said_at.get() + self.cfg.heartbeat
    }

    /// The heartbeat line: what the step is doing, and the time left.
    fn beat(&self) {
        let left = self.cfg.timeout.saturating_sub(self.now());
        self.say(&format!("still {}; {} left before the deadline", self.doing.get(), human_duration(left)));
    }

    /// How a failed step ends the run.
    pub fn stopped(&self, record: Record, f: Failed, what: &str) -> Ended {
        let (status, code, message) = match f {
            Failed::Fault(f) => (Status::Error, code::API, format!("{what}: {}", f.describe())),
            Failed::Deadline(why) => {
                let why = why.map_or_else(String::new, |w| format!(" ({w})"));
                (Status::Timeout, code::TIMEOUT, format!("{what} before the deadline{why}"))
            }
            Failed::Unusable(why) => (Status::Error, code::API, format!("{what}: {why}")),
            Failed::Signal(s) | Failed::SignalOut(s) => {
                let (name, c) = if s == Signal::Terminate {
                    ("SIGTERM", code::SIGTERM)
                } else {
                    ("SIGINT", code::SIGINT)
                };
                (Status::Cancelled, c, format!("cancelled by {name}: {what}"))
            }
        };
        Ended::Stop { record, status, code, message }
    }

    async fn sleep_until(&mut self, at: Duration) -> Result<(), Failed> {
        loop {
            let until = at.min(self.beat_at());
            let wait = until.saturating_sub(self.now());
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                s = self.signals.recv() => return Err(Failed::Signal(s)),
            }
            if until >= at {
                return Ok(());
            }
            self.beat();
        }
    }

    /// Says what failed and when it is tried again (`back_off(wait)` next), or that it is
    /// not, the deadline coming first.
    fn say_retry(&self, failed: &str, wait: Duration) {
        if self.now() + wait > self.cfg.timeout {
            let wait = human_duration(wait);
            self.say(&format!(
                "{failed}; its next try would be in {wait}, past the deadline: not sent again"
            ));
        } else {
            self.say(&format!("{failed}; trying again in {}", human_duration(wait)));
        }
    }

    /// Waits `wait` (if that ends before the deadline) before trying again.
    async fn back_off(&mut self, wait: Duration) -> Result<(), Failed> {
        let at = self.now() + wait;
        if at > self.cfg.timeout {
            // Said only when it gives up well before the deadline (a long back-off), not
            // when the time simply ran out.
            let left = self.cfg.timeout.saturating_sub(self.now());
            // (A look's or a media check's pause of up to 2 s is the time running out.)
            let why = (left >= Duration::from_secs(5)).then(|| {
                format!(
                    "its next try was due in {}, with {} left",
                    human_duration(wait),
                    human_duration(left)
                )
            });
            return Err(Failed::Deadline(why));
        }
        self.sleep_until(at).await
    }

    /// The answer of the create call out when SIGINT came, if it comes within `CREATE_GRACE`
    /// (and the request's own time); the signal that ended the grace if not (SIGINT, or a
    /// SIGTERM after it).
    async fn grace<O>(&mut self, out: std::pin::Pin<&mut impl Future<Output = O>>) -> Result<O, Signal> {
        self.say(&format!(
            "SIGINT while the create call was out: waiting up to {} for its answer, to tell whether it \
             made the post (SIGTERM or another SIGINT stops at once)",
            human_duration(CREATE_GRACE)
        ));
        tokio::select! {
            biased;
            r = out => Ok(r),
            () = tokio::time::sleep(CREATE_GRACE) => Err(Signal::Interrupt),
            s = self.signals.recv() => Err(s),
        }
    }

    /// How long to wait before repeating a request after `errors` failures in a row:
    /// doubling from `min(poll-interval, 2 s)`, up to 32 times that.
    fn retry_wait(&self, errors: u32) -> Duration {
        self.cfg.poll_interval.min(Duration::from_secs(2)).saturating_mul(1 << errors.min(5))
    }

    /// One API request, paced: a 429 is waited out and repeated; a transient fault is
    /// repeated with backoff when `repeat` (up to max-errors), else returned.
    pub async fn call<T, F, Fut>(&mut self, what: &str, repeat: bool, make: F) -> Result<T, Failed>
    where
        F: FnMut(Duration) -> Fut,
        Fut: Future<Output = Result<Answer<T>, Fault>>,
    {
        self.call_graced(what, repeat, false, make).await.map(|(value, _)| value)
    }

    /// `call`; when `graced`, a SIGINT while the request is out waits up to `CREATE_GRACE`
    /// for its answer (SIGTERM stops at once): an answer then is returned with the signal,
    /// for the step to stop on once it has named what the call did.
    async fn call_graced<T, F, Fut>(
        &mut self,
        what: &str,
        repeat: bool,
        graced: bool,
        mut make: F,
    ) -> Result<(T, Option<Signal>), Failed>
    where
        F: FnMut(Duration) -> Fut,
        Fut: Future<Output = Result<Answer<T>, Fault>>,
    {
        let mut errors = 0u32;
        loop {
            // Not on the deadline either: there the pacer caps what the API asked for (a
            // 429's wait, a spent budget), for the wait's last look; a create there would
            // make a post the step cannot wait for.
            let at = self.clock.pacer.earliest(self.now());
            if at >= self.cfg.timeout {
                // Blamed only when it held a request due before the deadline (the same rule
                // as the wait's).
                let now = self.now();
                let held = now < self.cfg.timeout && self.clock.pacer.held_past_deadline(now);
                let why = held.then(|| {
                    "the request budget (rate-limit) or a 429's wait held the next request past it".to_owned()
                });
                return Err(Failed::Deadline(why));
            }
            self.sleep_until(at).await?;
            let now = self.now();
            self.clock.pacer.record(now);
            self.clock.sent += 1;
            let t = (self.cfg.timeout.saturating_sub(now) + DEADLINE_GRACE).min(MAX_REQUEST_TIME);
            let out = make(t);
            tokio::pin!(out);
            // The request starts on its first poll: a signal already there stops it unsent,
            // and the grace never starts a create.
            let mut started = false;
            let first = tokio::select! {
                biased;
                s = self.signals.recv() => Err(s),
                r = std::future::poll_fn(|cx| {
                    started = true;
                    out.as_mut().poll(cx)
                }) => Ok(r),
            };
            let (r, signal) = match first {
                Ok(r) => (r, None),
                Err(s) if !started => return Err(Failed::Signal(s)),
                Err(s) if graced && s == Signal::Interrupt => match self.grace(out).await {
                    // Taken as any answer below; the step stops once it has named the post.
                    Ok(Ok(a)) => (Ok(a), Some(s)),
                    // A lost answer may have made the post; a refusal (a 429, a 4xx) or a
                    // call that never reached the API made none.
                    Ok(Err(f)) if matches!(f, Fault::Transient { .. }) && !f.never_sent() => {
                        return Err(Failed::SignalOut(s));
                    }
                    Ok(Err(_)) => return Err(Failed::Signal(s)),
                    Err(later) => return Err(Failed::SignalOut(later)),
                },
                Err(s) => return Err(Failed::SignalOut(s)),
            };
            let now = self.now();
            match r {
                Ok(a) => {
                    self.clock.pacer.observe(now, a.rate);
                    return Ok((a.value, signal));
                }
                Err(Fault::RateLimited { wait, reason }) => {
                    let wait = wait.unwrap_or(self.cfg.poll_interval.min(Duration::from_secs(10)));
                    self.clock.pacer.block(now + wait);
                    let next = self.clock.pacer.earliest(now);
                    if next >= self.cfg.timeout || now + wait > self.cfg.timeout {
                        self.say(&format!(
                            "{what}: rate limited ({reason}) until after the deadline; not sent again"
                        ));
                        return Err(Failed::Deadline(Some(format!("rate limited until after it: {reason}"))));
                    }
                    self.say(&format!(
                        "{what}: rate limited ({reason}); next request in {}",
                        human_duration(next - now)
                    ));
                }
                Err(Fault::Transient { reason, after, .. }) if repeat => {
                    errors += 1;
                    if errors >= self.cfg.max_errors {
                        let reason = format!("{errors} failed requests in a row; the last: {reason}");
                        return Err(Failed::Fault(Fault::transient(reason)));
                    }
                    // Never sooner than the answer asked (a 503's Retry-After).
                    let wait = self.retry_wait(errors).max(after.unwrap_or_default());
                    self.say_retry(&format!("{what} failed ({reason})"), wait);
                    self.back_off(wait).await?;
                }
                Err(f) => return Err(Failed::Fault(f)),
            }
        }
    }
}

//! The requests of publishing, each within the step's deadline and request budget (and
//! creates within 20 a minute as well), raced against a stop signal: a 429 is waited out,
//! a 5xx or lost answer is repeated with backoff only where repeating cannot post twice.

use std::future::Future;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::{Ended, Record};
use crate::api::{Answer, Client, Fault};
use crate::config::Config;
use crate::outcome::{Signal, Status, code};
use crate::pace::Pacer;
use crate::poll::{DEADLINE_GRACE, MAX_REQUEST_TIME};
use crate::report::human_duration;
use crate::run::{Clock, Events};

mod looks;
mod media;
pub use looks::{CLOCK_SKEW, DEDUPE_PAGES};

/// `POST /posts` calls at most, each after the API showed no post from the one before.
pub const MAX_CREATES: u32 = 3;
/// How many times the posts are listed, looking for the post a create whose answer was
/// lost may have made, before it is sent again (a post shows up in the list some time after
/// it is made): `look_pause` apart, 30 s in all at the default timeout.
const LOOKS: u32 = 15;
/// PostEverywhere's own limit on creating posts, per key.
const CREATES_PER_MINUTE: u32 = 20;

/// Why `create` made no post it knows of: how it stopped, the calls it made, and the last
/// answer it lost (when there is one, the post may have been made all the same).
pub struct CreateFailed {
    pub failed: Failed,
    pub calls: u32,
    pub lost: Option<String>,
}

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

pub struct Steps<'a, E, S> {
    cfg: &'a Config,
    client: &'a Client,
    events: &'a E,
    clock: &'a mut Clock,
    stop: &'a mut S,
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

impl<'a, E, S> Steps<'a, E, S>
where
    E: Events,
    S: Future<Output = Signal> + Unpin,
{
    pub fn new(
        cfg: &'a Config,
        client: &'a Client,
        events: &'a E,
        clock: &'a mut Clock,
        stop: &'a mut S,
    ) -> Self {
        let creates = Pacer::new(CREATES_PER_MINUTE, cfg.timeout);
        let said_at = std::cell::Cell::new(Duration::ZERO);
        let doing = std::cell::Cell::new("publishing");
        Self {
            cfg,
            client,
            events,
            clock,
            stop,
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
                s = &mut *self.stop => return Err(Failed::Signal(s)),
            }
            if until >= at {
                return Ok(());
            }
            self.beat();
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

    /// How long to wait before repeating a request after `errors` failures in a row:
    /// doubling from `min(poll-interval, 2 s)`, up to 32 times that.
    fn retry_wait(&self, errors: u32) -> Duration {
        self.cfg.poll_interval.min(Duration::from_secs(2)).saturating_mul(1 << errors.min(5))
    }

    /// One API request, paced: a 429 is waited out and repeated; a transient fault is
    /// repeated with backoff when `repeat` (up to max-errors), else returned.
    pub async fn call<T, F, Fut>(&mut self, what: &str, repeat: bool, mut make: F) -> Result<T, Failed>
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
            let r = tokio::select! {
                r = make(t) => r,
                s = &mut *self.stop => return Err(Failed::SignalOut(s)),
            };
            let now = self.now();
            match r {
                Ok(a) => {
                    self.clock.pacer.observe(now, a.rate);
                    return Ok(a.value);
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
                    if self.now() + wait > self.cfg.timeout {
                        self.say(&format!(
                            "{what} failed ({reason}); its next try would be in {}, past the deadline: not sent again",
                            human_duration(wait)
                        ));
                    } else {
                        self.say(&format!(
                            "{what} failed ({reason}); trying again in {}",
                            human_duration(wait)
                        ));
                    }
                    self.back_off(wait).await?;
                }
                Err(f) => return Err(Failed::Fault(f)),
            }
        }
    }

    /// Creates the post, never twice: a call whose answer was lost is repeated only when
    /// the API shows no post from it after `LOOKS` looks, and never when the API accepted
    /// it; a call that never reached the API is repeated at once. Returns the post id and
    /// the calls made; on failure also the answer lost last (the post may exist).
    pub async fn create(
        &mut self,
        body: &Value,
        content: &str,
        accounts: &[i64],
        none_since: Option<SystemTime>,
    ) -> Result<(String, u32), CreateFailed> {
        let client = self.client;
        // `calls` counts the creates that reached the API; `unsent`, those that did not
        // (no connection), which made nothing and are bounded by max-errors instead.
        let (mut calls, mut unsent, mut lost_last) = (0, 0, None);
        loop {
            let at = self.creates.earliest(self.now());
            if at > self.cfg.timeout {
                let why = format!(
                    "PostEverywhere's {CREATES_PER_MINUTE} creates a minute held the next create past it"
                );
                return Err(CreateFailed { failed: Failed::Deadline(Some(why)), calls, lost: lost_last });
            }
            let failed = |failed, calls, lost| CreateFailed { failed, calls, lost };
            self.sleep_until(at).await.map_err(|f| failed(f, calls, lost_last.clone()))?;
            // Clocks differ: a post made by this call may be stamped earlier, by a minute, or
            // back to when the dedupe look found none like it (any since is this one or a
            // twin, never to be posted again).
            let minute = SystemTime::now() - CLOCK_SKEW;
            let since = none_since.map_or(minute, |t| t.min(minute));
            let answer = match self.call("POST posts", false, |t| client.create(body, t)).await {
                // It never reached the API, so it made nothing: sent again, not counted
                // among the creates or against their rate.
                Err(Failed::Fault(f)) if f.never_sent() => {
                    unsent += 1;
                    if unsent >= self.cfg.max_errors {
                        let reason = format!(
                            "{unsent} create calls in a row never reached the API; the last: {}",
                            f.describe()
                        );
                        let f = Fault::Transient { reason, reached: false, after: None };
                        return Err(failed(Failed::Fault(f), calls, lost_last));
                    }
                    let wait = self.retry_wait(unsent);
                    self.say(&format!(
                        "the create call never reached the API ({}); sending it again in {}",
                        f.describe(),
                        human_duration(wait)
                    ));
                    self.back_off(wait).await.map_err(|f| failed(f, calls, lost_last.clone()))?;
                    continue;
                }
                // Stopped before it was sent (waiting for the request budget, or out a
                // 429, which made nothing): no post from it.
                Err(f @ Failed::Deadline(_)) => return Err(failed(f, calls, lost_last)),
                Err(f @ Failed::Signal(_)) => return Err(failed(f, calls, lost_last)),
                answer => answer,
            };
            // Only a create that reached the API counts against its creates a minute, and
            // it ends a run of creates that did not. Timed from its answer: the call may
            // have waited out a 429 before the attempt that reached it.
            self.creates.record(self.now());
            calls += 1;
            unsent = 0;
            let (lost, accepted, asked) = match answer {
                Ok(Some(id)) => return Ok((id, calls)),
                Ok(None) => ("the API accepted the post but gave no usable id".to_owned(), true, None),
                Err(Failed::Fault(Fault::Transient { reason, after, .. })) => (reason, false, after),
                // Stopped while the call was out: the API may have taken it.
                Err(f @ Failed::SignalOut(_)) => {
                    let lost = "stopped while the create call was out".to_owned();
                    return Err(failed(f, calls, Some(lost)));
                }
                Err(f) => return Err(failed(f, calls, lost_last)),
            };
            lost_last = Some(lost.clone());
            self.say(&format!(
                "the create call's answer was lost ({lost}): it may have made the post; looking for it"
            ));
            let lost_at = self.now();
            // A 503's Retry-After: no create again before it.
            let asked_until = asked.map(|w| lost_at + w);
            match self.made(content, accounts, since, accepted).await {
                Ok(Some(p)) => {
                    self.say(&format!("found it, post {}: not posting again", p.post_id));
                    return Ok((p.post_id, calls));
                }
                Ok(None) if calls < MAX_CREATES => {
                    let looked = human_duration(self.now().saturating_sub(lost_at));
                    match asked_until.filter(|&t| t > self.now()) {
                        Some(t) if t > self.cfg.timeout => {
                            let why = format!(
                                "the API asked for {} before another create, past it",
                                human_duration(asked.unwrap_or_default())
                            );
                            self.say(&format!("no such post after {looked} of looking; {why}: not posting again"));
                            return Err(failed(Failed::Deadline(Some(why)), calls, lost_last));
                        }
                        Some(t) => {
                            self.say(&format!(
                                "no such post after {looked} of looking: posting again in {}, as the API asked (call {} of {MAX_CREATES})",
                                human_duration(t - self.now()),
                                calls + 1
                            ));
                            self.sleep_until(t).await.map_err(|f| failed(f, calls, lost_last.clone()))?;
                        }
                        None => self.say(&format!(
                            "no such post after {looked} of looking: posting again (call {} of {MAX_CREATES})",
                            calls + 1
                        )),
                    }
                }
                Ok(None) => {
                    let reason = format!("{calls} create calls got no usable answer");
                    return Err(failed(Failed::Fault(Fault::transient(reason)), calls, lost_last));
                }
                Err(f) => return Err(failed(f, calls, lost_last)),
            }
        }
    }
}

//! The poll state machine: after each observation it decides whether to wait (and how
//! long), or to finish and why. No clock, no I/O and no randomness of its own: time is the
//! elapsed `Duration` since the wait began and jitter is passed in, so every branch is
//! unit-tested. The deadline is exact: waits are clamped so one last poll lands on it.

use std::time::Duration;

use crate::api::Fault;

/// Requests may run this long past the deadline, so the final poll at the deadline
/// can still be answered; the process ends well within a second of `timeout`.
pub const DEADLINE_GRACE: Duration = Duration::from_millis(750);
/// No single request waits longer than this.
pub const MAX_REQUEST_TIME: Duration = Duration::from_secs(30);

/// What one request told us.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// A usable answer that leaves destinations pending (completion is decided per post,
    /// in `post.rs`, where retries can follow it).
    Pending,
    Fault(Fault),
}

/// What to do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Sleep this long, then poll again.
    Wait(Duration),
    Finish(End),
}

/// Why the wait ended.
#[derive(Debug, Clone, PartialEq)]
pub enum End {
    /// The deadline passed with destinations pending (or no usable answer);
    /// carries the last fault, if the last request failed.
    Deadline { last_fault: Option<String> },
    /// `max-errors` transient faults in a row.
    TooManyErrors { last: String, count: u32 },
    /// The API refused in a way retrying cannot fix.
    Fatal { message: String },
}

#[derive(Debug, Clone)]
pub struct Poller {
    timeout: Duration,
    interval: Duration,
    max_errors: u32,
    /// Transient faults since the last usable answer.
    errors: u32,
    /// 429s since the last usable answer (they grow the backoff, never end the wait).
    limited: u32,
}

impl Poller {
    pub fn new(timeout: Duration, interval: Duration, max_errors: u32) -> Self {
        Self { timeout, interval, max_errors: max_errors.max(1), errors: 0, limited: 0 }
    }

    /// Consecutive transient faults so far.
    pub fn errors(&self) -> u32 {
        self.errors
    }

    /// The timeout for a request started at `now`.
    /// Also at most two poll intervals (at least 10 s): an answer later than that is stale,
    /// and a hung request must not hold a slot other posts need.
    pub fn request_timeout(&self, now: Duration) -> Duration {
        let cap = MAX_REQUEST_TIME.min(self.interval.saturating_mul(2).max(Duration::from_secs(10)));
        (self.timeout.saturating_sub(now) + DEADLINE_GRACE).min(cap)
    }

    /// Capped exponential backoff from the poll interval, with up to 25 % added jitter.
    fn backoff(&self, n: u32, jitter: f64) -> Duration {
        let cap = self.interval.max(Duration::from_secs(60));
        let factor = 2u32.saturating_pow(n.saturating_sub(1).min(16));
        let base = self.interval.saturating_mul(factor).min(cap);
        base.mul_f64(1.0 + 0.25 * jitter.clamp(0.0, 1.0)).min(cap)
    }

    /// Decides what follows an observation made at `now`; `jitter` is uniform in `[0, 1)`.
    pub fn step(&mut self, now: Duration, obs: Observation, jitter: f64) -> Next {
        let wait = match obs {
            Observation::Pending => {
                self.errors = 0;
                self.limited = 0;
                if now >= self.timeout {
                    return Next::Finish(End::Deadline { last_fault: None });
                }
                self.interval
            }
            Observation::Fault(Fault::Fatal { message, .. }) => {
                return Next::Finish(End::Fatal { message });
            }
            Observation::Fault(Fault::Transient { reason, after, .. }) => {
                self.errors += 1;
                if self.errors >= self.max_errors {
                    return Next::Finish(End::TooManyErrors { last: reason, count: self.errors });
                }
                if now >= self.timeout {
                    return Next::Finish(End::Deadline { last_fault: Some(reason) });
                }
                // Never sooner than the answer asked (a 503's Retry-After).
                self.backoff(self.errors, jitter).max(after.unwrap_or_default())
            }
            Observation::Fault(Fault::RateLimited { wait, reason }) => {
                self.limited += 1;
                if now >= self.timeout {
                    return Next::Finish(End::Deadline { last_fault: Some(reason) });
                }
                // A zero or missing hint must not turn into a tight loop.
                let floor = self.interval.min(Duration::from_secs(1));
                wait.map_or_else(|| self.backoff(self.limited, jitter), |w| w.max(floor))
            }
        };
        Next::Wait(wait.min(self.timeout - now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn pending() -> Observation {
        Observation::Pending
    }

    fn transient() -> Observation {
        Observation::Fault(Fault::transient("HTTP 503"))
    }

    #[test]
    fn polls_at_the_interval() {
        let mut p = Poller::new(S(300), S(10), 10);
        assert_eq!(p.step(S(0), pending(), 0.0), Next::Wait(S(10)));
        assert_eq!(p.step(S(10), pending(), 0.0), Next::Wait(S(10)));
    }

    #[test]
    fn last_wait_is_clamped_and_a_final_poll_lands_on_the_deadline() {
        let mut p = Poller::new(S(25), S(10), 10);
        assert_eq!(p.step(S(20), pending(), 0.0), Next::Wait(S(5)));
        assert_eq!(p.step(S(25), pending(), 0.0), Next::Finish(End::Deadline { last_fault: None }));
    }

    #[test]
    fn transient_faults_back_off_and_give_up_after_max_errors() {
        let mut p = Poller::new(S(3600), S(10), 3);
        assert_eq!(p.step(S(0), transient(), 0.0), Next::Wait(S(10)));
        assert_eq!(p.step(S(10), transient(), 0.0), Next::Wait(S(20)));
        assert_eq!(
            p.step(S(30), transient(), 0.0),
            Next::Finish(End::TooManyErrors { last: "HTTP 503".into(), count: 3 })
        );
    }

    #[test]
    fn a_server_errors_retry_after_is_the_least_wait_and_still_counts() {
        let mut p = Poller::new(S(100), S(10), 3);
        let asked =
            |w| Observation::Fault(Fault::Transient { reason: "HTTP 503".into(), reached: true, after: w });
        assert_eq!(p.step(S(0), asked(Some(S(45))), 0.0), Next::Wait(S(45)), "longer than the backoff");
        assert_eq!(p.step(S(45), asked(Some(S(1))), 0.0), Next::Wait(S(20)), "shorter: the backoff");
        assert_eq!(
            p.step(S(65), asked(Some(S(45))), 0.0),
            Next::Finish(End::TooManyErrors { last: "HTTP 503".into(), count: 3 })
        );
        let mut p = Poller::new(S(100), S(10), 10);
        assert_eq!(p.step(S(90), asked(Some(S(45))), 0.0), Next::Wait(S(10)), "never past the deadline");
    }

    #[test]
    fn a_usable_answer_resets_the_error_count() {
        let mut p = Poller::new(S(3600), S(10), 2);
        p.step(S(0), transient(), 0.0);
        assert_eq!(p.errors(), 1);
        p.step(S(10), pending(), 0.0);
        assert_eq!(p.errors(), 0);
        assert!(matches!(p.step(S(20), transient(), 0.0), Next::Wait(_)));
    }

    #[test]
    fn backoff_is_capped_and_jittered() {
        let p = Poller::new(S(3600), S(10), 100);
        assert_eq!(p.backoff(1, 0.0), S(10));
        assert_eq!(p.backoff(3, 0.0), S(40));
        assert_eq!(p.backoff(12, 0.0), S(60));
        assert_eq!(p.backoff(2, 1.0), S(25));
        assert_eq!(p.backoff(30, 1.0), S(60));
    }

    #[test]
    fn rate_limits_wait_for_the_hint_but_never_past_the_deadline() {
        let mut p = Poller::new(S(100), S(10), 1);
        let limited = |w| Observation::Fault(Fault::RateLimited { wait: w, reason: "HTTP 429".into() });
        assert_eq!(p.step(S(0), limited(Some(S(32))), 0.0), Next::Wait(S(32)));
        // 429s never count towards max-errors (which is 1 here).
        assert_eq!(p.step(S(32), limited(Some(S(0))), 0.0), Next::Wait(S(1)));
        assert_eq!(p.step(S(33), limited(None), 0.0), Next::Wait(S(40)), "third 429 in a row");
        assert_eq!(p.step(S(90), limited(Some(S(32))), 0.0), Next::Wait(S(10)));
        assert!(matches!(p.step(S(100), limited(Some(S(1))), 0.0), Next::Finish(End::Deadline { .. })));
    }

    #[test]
    fn fatal_ends_at_once() {
        let mut p = Poller::new(S(100), S(10), 10);
        let f = Observation::Fault(Fault::Fatal { status: Some(401), message: "HTTP 401".into() });
        assert_eq!(p.step(S(0), f, 0.0), Next::Finish(End::Fatal { message: "HTTP 401".into() }));
    }

    #[test]
    fn deadline_after_faults_carries_the_last_one() {
        let mut p = Poller::new(S(10), S(10), 10);
        assert_eq!(
            p.step(S(10), transient(), 0.0),
            Next::Finish(End::Deadline { last_fault: Some("HTTP 503".into()) })
        );
    }

    #[test]
    fn request_timeout_never_exceeds_time_left_plus_grace() {
        let p = Poller::new(S(100), S(10), 10);
        assert_eq!(p.request_timeout(S(0)), S(20), "two intervals");
        assert_eq!(Poller::new(S(100), S(60), 10).request_timeout(S(0)), MAX_REQUEST_TIME);
        assert_eq!(Poller::new(S(100), S(1), 10).request_timeout(S(0)), S(10));
        assert_eq!(p.request_timeout(S(99)), S(1) + DEADLINE_GRACE);
        assert_eq!(p.request_timeout(S(100)), DEADLINE_GRACE);
        assert_eq!(p.request_timeout(S(120)), DEADLINE_GRACE);
    }
}

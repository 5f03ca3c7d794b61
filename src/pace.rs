//! The step's request budget, shared by every post: requests start at least
//! `60 s / rate-limit` apart (rounded up), which alone keeps any 60 s window at or under
//! `rate-limit` starts; on top of that the API's own signals slow everyone down: a 429's
//! wait, and the `X-RateLimit-*` rule (see `api::ratelimit::budget_gap`). What the API asks
//! for never holds a request past the deadline, so one last request can land on it; our own
//! spacing always holds. Pure: time is passed in.

use std::time::Duration;

use crate::api::{RateInfo, ratelimit};
use crate::report::human_duration;

const WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct Pacer {
    spacing: Duration,
    /// The end of the wait: the API's holds are capped there.
    deadline: Duration,
    /// When the latest request started.
    last: Option<Duration>,
    /// No request starts before this (a 429's wait, an exhausted budget), deadline aside.
    blocked_until: Duration,
    /// Extra spacing asked for by a low `X-RateLimit-Remaining`, and until when.
    slow: Option<(Duration, Duration)>,
}

impl Pacer {
    pub fn new(per_minute: u32, deadline: Duration) -> Self {
        // Rounded up, so `per_minute` spacings never fit inside one window.
        let nanos = WINDOW.as_nanos().div_ceil(u128::from(per_minute.max(1)));
        let spacing = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        Self { spacing, deadline, last: None, blocked_until: Duration::ZERO, slow: None }
    }

    /// The earliest time at or after `now` a request may start.
    pub fn earliest(&self, now: Duration) -> Duration {
        let mut t = now.max(self.blocked_until.min(self.deadline));
        if let Some(last) = self.last {
            t = t.max(last + self.spacing);
            if let Some((gap, until)) = self.slow {
                if now < until {
                    t = t.max((last + gap).min(self.deadline.max(last + self.spacing)));
                }
            }
        }
        t
    }

    /// Whether the budget (or the API's holds), not the time running out, kept a request
    /// due at `due` from going before the deadline: one rule for the wait and for
    /// publishing, so a message blames rate-limit only where raising it would have helped.
    /// The request was due by the deadline and held half a second or more: milliseconds of
    /// spacing on the deadline are the time running out.
    pub fn held_past_deadline(&self, due: Duration) -> bool {
        due <= self.deadline && self.earliest(due).saturating_sub(due) >= Duration::from_millis(500)
    }

    /// Records that a request started at `at`.
    pub fn record(&mut self, at: Duration) {
        self.last = Some(at);
    }

    /// Takes in the rate-limit headers of an answer received at `now`. Returns when the
    /// API's budget, spent, holds requests until, when that is news (a hold longer than
    /// the one there was).
    pub fn observe(&mut self, now: Duration, rate: RateInfo) -> Option<Duration> {
        match ratelimit::budget_gap(rate) {
            Some(ratelimit::Gap::Exhausted(wait)) => {
                // A hold at least a second longer than the one there was (clocks jitter).
                let news = now + wait > self.blocked_until.max(now) + Duration::from_secs(1);
                self.block(now + wait);
                return news.then_some(now + wait);
            }
            Some(ratelimit::Gap::Spread(gap)) => {
                self.slow = Some((gap, now + rate.reset_in.unwrap_or(WINDOW)));
            }
            None => self.slow = None,
        }
        None
    }

    /// Holds every request until `until` (a 429 applies to the whole key).
    pub fn block(&mut self, until: Duration) {
        self.blocked_until = self.blocked_until.max(until);
    }
}

/// Why the requests wait: the API's budget is spent until `until` (from `now`), and when
/// the next one goes out given the deadline `timeout`.
#[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
pub fn spent_line(now: Duration, until: Duration, timeout: Duration) -> String {
    let then = if until >= timeout {
        format!(
            "past the deadline: one last request at the deadline, in {}",
            human_duration(timeout.saturating_sub(now))
        )
    } else {
        format!("next request in {}", human_duration(until - now))
    };
    format!(
        "[{:>6}] the API's rate limit is spent (X-RateLimit-Remaining 0) until it resets in {}; {then}",
        human_duration(now),
        human_duration(until - now)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn spacing_follows_the_rate() {
        let mut p = Pacer::new(60, Duration::from_secs(3600));
        assert_eq!(p.earliest(MS(0)), MS(0));
        p.record(MS(0));
        assert_eq!(p.earliest(MS(10)), MS(1000));
        p.record(MS(1000));
        assert_eq!(p.earliest(MS(5000)), MS(5000));
    }

    #[test]
    fn never_more_than_the_limit_in_any_window() {
        // 7 a minute does not divide 60 s evenly: rounding down would fit 8 in a window.
        for limit in [600, 7, 50, 13] {
            let mut p = Pacer::new(limit, Duration::from_secs(1_000_000));
            let mut starts = Vec::new();
            let mut now = Duration::ZERO;
            for _ in 0..2000 {
                now = p.earliest(now);
                p.record(now);
                starts.push(now);
            }
            for (i, s) in starts.iter().enumerate() {
                let in_window = starts[i..].iter().take_while(|t| **t < *s + WINDOW).count();
                assert!(in_window <= limit as usize, "{in_window} requests in the window starting at {s:?}");
            }
        }
    }

    #[test]
    fn a_429_blocks_everyone() {
        let mut p = Pacer::new(6000, Duration::from_secs(3600));
        p.block(MS(3000));
        assert_eq!(p.earliest(MS(100)), MS(3000));
        p.block(MS(1000));
        assert_eq!(p.earliest(MS(100)), MS(3000), "an earlier block never shortens a later one");
    }

    #[test]
    fn the_api_never_holds_a_request_past_the_deadline_but_our_spacing_does() {
        let mut p = Pacer::new(60, MS(10_000));
        p.block(MS(60_000));
        assert_eq!(p.earliest(MS(500)), MS(10_000), "one last request at the deadline");
        p.record(MS(9_500));
        assert_eq!(p.earliest(MS(9_600)), MS(10_500), "our own budget is never broken");
    }

    #[test]
    fn the_budget_is_held_to_blame_only_for_half_a_second_or_more_before_the_deadline() {
        let mut p = Pacer::new(60, MS(10_000));
        p.record(MS(9_000));
        assert!(p.held_past_deadline(MS(9_400)), "due 9.4 s, allowed at 10 s");
        assert!(!p.held_past_deadline(MS(9_600)), "400 ms of spacing: the time running out");
        assert!(!p.held_past_deadline(MS(10_100)), "due after the deadline");
        p.record(MS(9_500));
        assert!(p.held_past_deadline(MS(10_000)), "due on it and held half a second");
    }

    #[test]
    fn the_api_budget_slows_and_stops() {
        let mut p = Pacer::new(6000, Duration::from_secs(3600));
        p.record(MS(0));
        let low = RateInfo { limit: Some(60), remaining: Some(2), reset_in: Some(Duration::from_secs(10)) };
        p.observe(MS(0), low);
        assert_eq!(p.earliest(MS(0)), MS(5000));
        let empty = RateInfo { limit: Some(60), remaining: Some(0), reset_in: Some(Duration::from_secs(4)) };
        p.observe(MS(100), empty);
        assert_eq!(p.earliest(MS(100)), MS(5000).max(MS(4350)));
        let fine = RateInfo { limit: Some(60), remaining: Some(50), reset_in: Some(Duration::from_secs(4)) };
        p.observe(MS(200), fine);
        assert_eq!(p.earliest(MS(4400)), MS(4400));
    }

    #[test]
    fn a_spent_budget_is_news_once() {
        let mut p = Pacer::new(60, Duration::from_secs(10));
        let spent = |reset_ms| RateInfo { limit: Some(60), remaining: Some(0), reset_in: Some(MS(reset_ms)) };
        assert_eq!(p.observe(MS(0), spent(30_000)), Some(MS(30_250)));
        assert_eq!(p.observe(MS(500), spent(29_600)), None, "the same hold");
        assert_eq!(p.observe(MS(600), spent(40_000)), Some(MS(40_850)), "a longer one");
        assert_eq!(p.earliest(MS(700)), MS(10_000), "the API's hold ends at the deadline");
        let line = spent_line(MS(0), MS(30_250), MS(10_000));
        assert!(
            line.ends_with("resets in 30s; past the deadline: one last request at the deadline, in 10s"),
            "{line}"
        );
        assert!(spent_line(MS(0), MS(3_250), MS(10_000)).ends_with("; next request in 3.2s"));
    }
}

//! Reading rate-limit hints and pacing requests before the budget runs out.
//!
//! Pure functions over header values and "now", so every rule is unit-tested.
//! The pacing rule (also in the README): with `remaining` requests left until the window
//! resets in `reset_in`, we space requests at least `reset_in / remaining` apart once
//! `remaining` is at or below a quarter of the limit (or 10 when the limit is unknown);
//! at zero we wait for the reset. The poll interval is never shortened.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The `X-RateLimit-*` headers of one answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateInfo {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    /// Time until the window resets, computed from `X-RateLimit-Reset` when received.
    pub reset_in: Option<Duration>,
}

/// Values above this are unix timestamps; below, a number of seconds until the reset.
const EPOCH_THRESHOLD: u64 = 1_000_000_000;

fn since_epoch(now: SystemTime) -> Duration {
    now.duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// `X-RateLimit-Reset`: unix seconds (documented) or, from some proxies, delta seconds.
pub fn parse_reset(value: &str, now: SystemTime) -> Option<Duration> {
    let v: f64 = value.trim().parse().ok()?;
    if !v.is_finite() || v < 0.0 {
        return None;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    if (v as u64) < EPOCH_THRESHOLD {
        return Some(Duration::from_secs_f64(v));
    }
    Some(Duration::from_secs_f64(v).saturating_sub(since_epoch(now)))
}

/// `Retry-After`: delta seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

/// The wait a 429 asks for: `Retry-After`, else the body's `retryAfter`, else the reset.
pub fn rate_limited_wait(
    retry_after: Option<&str>,
    body_secs: Option<f64>,
    rate: RateInfo,
    now: SystemTime,
) -> Option<Duration> {
    retry_after
        .and_then(|v| parse_retry_after(v, now))
        .or_else(|| {
            body_secs
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(Duration::from_secs_f64)
        })
        .or(rate.reset_in)
}

/// How long to wait before the next request, given the planned interval and the budget.
pub fn pace(interval: Duration, rate: RateInfo) -> Duration {
    let (Some(remaining), Some(reset_in)) = (rate.remaining, rate.reset_in) else {
        return interval;
    };
    if remaining == 0 {
        // Wait for the window to reset, plus a little so we land after it.
        return interval.max(reset_in + Duration::from_millis(250));
    }
    let low_water = rate.limit.map_or(10, |l| (l / 4).max(1));
    if remaining > low_water {
        return interval;
    }
    #[allow(clippy::cast_possible_truncation)]
    let spread = reset_in / (remaining.min(u64::from(u32::MAX)) as u32);
    interval.max(spread)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn retry_after_forms() {
        let now = at(1_784_000_000);
        assert_eq!(parse_retry_after("32", now), Some(Duration::from_secs(32)));
        assert_eq!(
            parse_retry_after(" 1.5 ", now),
            Some(Duration::from_millis(1500))
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(parse_retry_after(&date, now), Some(Duration::from_secs(7)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn reset_forms() {
        let now = at(1_784_000_000);
        assert_eq!(
            parse_reset("1784000012", now),
            Some(Duration::from_secs(12))
        );
        assert_eq!(parse_reset("1783999990", now), Some(Duration::ZERO));
        assert_eq!(parse_reset("30", now), Some(Duration::from_secs(30)));
        assert_eq!(parse_reset("x", now), None);
    }

    #[test]
    fn wait_precedence() {
        let now = at(1_784_000_000);
        let rate = RateInfo {
            reset_in: Some(Duration::from_secs(40)),
            ..RateInfo::default()
        };
        assert_eq!(
            rate_limited_wait(Some("3"), Some(9.0), rate, now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            rate_limited_wait(None, Some(9.0), rate, now),
            Some(Duration::from_secs(9))
        );
        assert_eq!(
            rate_limited_wait(Some("bad"), None, rate, now),
            Some(Duration::from_secs(40))
        );
        assert_eq!(
            rate_limited_wait(None, None, RateInfo::default(), now),
            None
        );
    }

    #[test]
    fn pacing_rule() {
        let i = Duration::from_secs(10);
        let r = |limit, remaining, reset| RateInfo {
            limit,
            remaining: Some(remaining),
            reset_in: Some(Duration::from_secs(reset)),
        };
        assert_eq!(pace(i, RateInfo::default()), i);
        assert_eq!(pace(i, r(Some(60), 40, 60)), i, "plenty left");
        assert_eq!(
            pace(i, r(Some(60), 15, 60)),
            i,
            "15 left over 60 s is 4 s apart: keep 10 s"
        );
        assert_eq!(
            pace(i, r(Some(60), 3, 60)),
            Duration::from_secs(20),
            "3 left over 60 s"
        );
        assert_eq!(pace(i, r(None, 2, 50)), Duration::from_secs(25));
        assert_eq!(pace(i, r(Some(60), 0, 30)), Duration::from_millis(30_250));
        assert_eq!(
            pace(i, r(Some(60), 0, 1)),
            i,
            "never shorter than the interval"
        );
    }
}

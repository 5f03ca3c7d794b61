//! Reading rate-limit hints and pacing requests before the budget runs out.
//!
//! Pure functions over header values and "now", so every rule is unit-tested.
//! The pacing rule (also in the README) is `budget_gap`; `pace::Pacer` applies it to every
//! request of the step.

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
/// Values at or above this are unix milliseconds (unix seconds reach it in the year 5138).
const EPOCH_MILLIS_THRESHOLD: u64 = 100_000_000_000;

/// Seconds from an untrusted number: negative, NaN and absurd values are `None`, and
/// anything over a day is capped (no hint may hold the wait longer than that).
fn secs(v: f64) -> Option<Duration> {
    (v.is_finite() && v >= 0.0).then(|| Duration::from_secs_f64(v.min(86_400.0)))
}

fn since_epoch(now: SystemTime) -> Duration {
    now.duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// `X-RateLimit-Reset`: unix seconds (documented) or, from some proxies, delta seconds or
/// unix milliseconds (read as seconds, they would put the reset decades ahead).
pub fn parse_reset(value: &str, now: SystemTime) -> Option<Duration> {
    let v: f64 = value.trim().parse().ok()?;
    if !v.is_finite() || v < 0.0 {
        return None;
    }
    #[allow(clippy::cast_precision_loss)]
    let v = if v >= EPOCH_MILLIS_THRESHOLD as f64 { v / 1000.0 } else { v };
    #[allow(clippy::cast_precision_loss)]
    if v < EPOCH_THRESHOLD as f64 {
        return secs(v);
    }
    secs(v - since_epoch(now).as_secs_f64()).or(Some(Duration::ZERO))
}

/// Offsets of the server's clock this small are not told from noise: `Date` has whole
/// seconds, and the answer took some time to come (its latency makes the server look
/// behind, which takes the looks for a lost create's post further back: the safe side).
const CLOCK_NOISE: Duration = Duration::from_secs(5);
/// Offsets beyond this are not believed: a `Date` a day or years off is a broken server or
/// proxy, and read as the API's clock it would move every look back or ahead by as much (an
/// old post taken for this one, or none found) and every reset with it.
const CLOCK_TRUSTED: Duration = Duration::from_secs(3600);

/// How far the server's clock is from ours, from an answer's `Date` header read at `local`,
/// in milliseconds (positive: the server's is ahead); `Some(0)` within `CLOCK_NOISE`,
/// `None` when `Date` is not a date or is more than `CLOCK_TRUSTED` off.
pub fn clock_offset(date: &str, local: SystemTime) -> Option<i64> {
    let server = httpdate::parse_http_date(date.trim()).ok()?;
    let (ahead, by) = match server.duration_since(local) {
        Ok(by) => (true, by),
        Err(e) => (false, e.duration()),
    };
    if by > CLOCK_TRUSTED {
        return None;
    }
    let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
    Some(if by <= CLOCK_NOISE {
        0
    } else if ahead {
        ms
    } else {
        -ms
    })
}

/// `local` on the server's clock, `offset_ms` (from `clock_offset`) away.
pub fn shifted(local: SystemTime, offset_ms: i64) -> SystemTime {
    let by = Duration::from_millis(offset_ms.unsigned_abs());
    if offset_ms >= 0 { local + by } else { local.checked_sub(by).unwrap_or(UNIX_EPOCH) }
}

/// `Retry-After`: delta seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(s) = value.parse::<f64>() {
        return secs(s);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

/// The wait an answer asks for itself: `Retry-After`, else the body's `retryAfter`. A 429
/// without either falls back on the budget's reset (`rate.reset_in`).
#[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
pub fn asked_wait(retry_after: Option<&str>, body_secs: Option<f64>, now: SystemTime) -> Option<Duration> {
    retry_after.and_then(|v| parse_retry_after(v, now)).or_else(|| body_secs.and_then(secs))
}

/// What the budget headers ask of the next requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gap {
    /// Nothing left: wait this long for the window to reset.
    Exhausted(Duration),
    /// Little left: space requests at least this far apart until the reset.
    Spread(Duration),
}

/// The pacing rule: once `remaining` is at or below a quarter of the limit (or 10 when the
/// limit is unknown), spread what is left evenly until the reset; at zero, wait for it.
pub fn budget_gap(rate: RateInfo) -> Option<Gap> {
    let (Some(remaining), Some(reset_in)) = (rate.remaining, rate.reset_in) else {
        return None;
    };
    if remaining == 0 {
        // Plus a little so we land after the reset.
        return Some(Gap::Exhausted(reset_in + Duration::from_millis(250)));
    }
    let low_water = rate.limit.map_or(10, |l| (l / 4).max(1));
    if remaining > low_water {
        return None;
    }
    #[allow(clippy::cast_possible_truncation)]
    Some(Gap::Spread(reset_in / (remaining.min(u64::from(u32::MAX)) as u32)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn the_servers_clock_from_its_date() {
        let local = at(1_784_000_000);
        let date = |t: SystemTime| httpdate::fmt_http_date(t);
        assert_eq!(clock_offset(&date(local - Duration::from_secs(600)), local), Some(-600_000));
        assert_eq!(clock_offset(&date(local + Duration::from_secs(90)), local), Some(90_000));
        // Within the noise of whole seconds and the answer's time: ours is kept.
        assert_eq!(clock_offset(&date(local + Duration::from_secs(4)), local), Some(0));
        assert_eq!(clock_offset(&date(local - Duration::from_secs(5)), local), Some(0));
        assert_eq!(clock_offset("yesterday", local), None);
        // A day, years, or the epoch off: a broken server's clock, not believed.
        assert_eq!(clock_offset(&date(local + Duration::from_secs(86_400)), local), None);
        assert_eq!(clock_offset("Fri, 31 Dec 9999 23:59:59 GMT", local), None);
        assert_eq!(clock_offset("Thu, 01 Jan 1970 00:00:00 GMT", local), None);
        assert_eq!(clock_offset(&date(local - Duration::from_secs(3600)), local), Some(-3_600_000));
        assert_eq!(shifted(local, -600_000), local - Duration::from_secs(600));
        assert_eq!(shifted(local, 90_000), local + Duration::from_secs(90));
        assert!(shifted(at(5), -10_000) <= UNIX_EPOCH, "no panic before the epoch");
    }

    #[test]
    fn retry_after_forms() {
        let now = at(1_784_000_000);
        assert_eq!(parse_retry_after("32", now), Some(Duration::from_secs(32)));
        assert_eq!(parse_retry_after(" 1.5 ", now), Some(Duration::from_millis(1500)));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(parse_retry_after(&date, now), Some(Duration::from_secs(7)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
        assert_eq!(parse_retry_after("1e30", now), Some(Duration::from_secs(86_400)), "capped, no panic");
        assert_eq!(parse_retry_after("NaN", now), None);
    }

    #[test]
    fn reset_forms() {
        let now = at(1_784_000_000);
        assert_eq!(parse_reset("1784000012", now), Some(Duration::from_secs(12)));
        assert_eq!(parse_reset("1783999990", now), Some(Duration::ZERO));
        assert_eq!(parse_reset("30", now), Some(Duration::from_secs(30)));
        assert_eq!(parse_reset("1784000012000", now), Some(Duration::from_secs(12)));
        assert_eq!(parse_reset("1784000012500.0", now), Some(Duration::from_millis(12_500)));
        assert_eq!(parse_reset("x", now), None);
        assert_eq!(parse_reset("1e30", now), Some(Duration::from_secs(86_400)));
        assert_eq!(parse_reset("inf", now), None);
    }

    #[test]
    fn wait_precedence() {
        let now = at(1_784_000_000);
        let rate = RateInfo { reset_in: Some(Duration::from_secs(40)), ..RateInfo::default() };
        // A 429's wait: the answer's own ask, else the budget's reset.
        let limited = |h, b| asked_wait(h, b, now).or(rate.reset_in);
        assert_eq!(limited(Some("3"), Some(9.0)), Some(Duration::from_secs(3)));
        assert_eq!(limited(None, Some(9.0)), Some(Duration::from_secs(9)));
        assert_eq!(limited(Some("bad"), None), Some(Duration::from_secs(40)));
        assert_eq!(asked_wait(Some("bad"), None, now), None, "a 503 takes no reset");
        assert_eq!(asked_wait(None, None, now), None);
        assert_eq!(asked_wait(None, Some(1e300), now), Some(Duration::from_secs(86_400)));
    }

    proptest::proptest! {
        #[test]
        fn no_header_value_can_panic(v in "\\PC{0,40}|[0-9eE.+-]{1,40}", body in proptest::num::f64::ANY) {
            let now = at(1_784_000_000);
            let _ = parse_retry_after(&v, now);
            let _ = parse_reset(&v, now);
            let _ = asked_wait(Some(&v), Some(body), now);
            let _ = asked_wait(None, Some(body), now);
        }
    }

    #[test]
    fn pacing_rule() {
        let r = |limit, remaining, reset| RateInfo {
            limit,
            remaining: Some(remaining),
            reset_in: Some(Duration::from_secs(reset)),
        };
        let secs = Duration::from_secs;
        assert_eq!(budget_gap(RateInfo::default()), None);
        assert_eq!(budget_gap(r(Some(60), 40, 60)), None, "plenty left");
        assert_eq!(budget_gap(r(Some(60), 15, 60)), Some(Gap::Spread(secs(4))));
        assert_eq!(budget_gap(r(Some(60), 16, 60)), None);
        assert_eq!(budget_gap(r(Some(60), 3, 60)), Some(Gap::Spread(secs(20))));
        assert_eq!(budget_gap(r(None, 2, 50)), Some(Gap::Spread(secs(25))));
        assert_eq!(budget_gap(r(Some(60), 0, 30)), Some(Gap::Exhausted(Duration::from_millis(30_250))));
    }
}

//! Parsers for single input values: durations, strict booleans, `fail-on`, counts.
//! Each returns a message that says what was expected; the caller adds the input's name.

use std::time::Duration;

/// When destinations that failed make the step fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    /// Any failed destination fails the step.
    Any,
    /// The step fails only when no destination published.
    All,
    /// Failed destinations never fail the step.
    Never,
}

impl FailOn {
    pub fn as_str(self) -> &'static str {
        match self {
            FailOn::Any => "any",
            FailOn::All => "all",
            FailOn::Never => "never",
        }
    }
}

pub fn parse_fail_on(v: &str) -> Result<FailOn, String> {
    match v.to_ascii_lowercase().as_str() {
        "any" => Ok(FailOn::Any),
        "all" => Ok(FailOn::All),
        "never" | "none" => Ok(FailOn::Never),
        _ => Err("expected any, all or never".into()),
    }
}

/// Booleans exactly as GitHub's toolkit `getBooleanInput` accepts them (YAML 1.2 core).
pub fn parse_bool(v: &str) -> Result<bool, String> {
    match v {
        "true" | "True" | "TRUE" => Ok(true),
        "false" | "False" | "FALSE" => Ok(false),
        _ => Err("expected true or false (also True/TRUE/False/FALSE)".into()),
    }
}

/// What a duration input looks like, for error messages.
const DURATION_EXAMPLES: &str = "expected a duration such as 90s, 5m, 1m30s, 1h 30m, 5 minutes, 30 seconds or 250ms (a plain number is seconds)";

/// The unit a word names, in seconds.
fn unit(word: &str) -> Option<f64> {
    Some(match word.to_ascii_lowercase().as_str() {
        "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => 0.001,
        "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
        _ => return None,
    })
}

/// A duration as people write it: `300` or `2.5` (seconds), or numbers each followed by a
/// unit, with or without spaces: `250ms`, `90s`, `5 m`, `1m30s`, `1h 30m`, `5 minutes`.
pub fn parse_duration(v: &str) -> Result<Duration, String> {
    let bad = || DURATION_EXAMPLES.to_owned();
    let v = v.trim();
    // Two lines are two values (a list pasted, a YAML block), not one duration to add up.
    if v.contains(char::is_control) {
        return Err("holds a line break or another control character (a tab); give one duration, such as 90s or 1h 30m".into());
    }
    // A plain number is digits with at most one point: Rust's float syntax would also take
    // `1e-9`, `inf` or `+5`, which no one means as a duration.
    let plain =
        !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit() || b == b'.') && v.matches('.').count() <= 1;
    if let Some(n) = plain.then(|| v.parse::<f64>().ok()).flatten() {
        return check_range(n);
    }
    let mut rest = v;
    let mut secs = 0.0;
    let mut parts = 0;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let n: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = rest[digits..].trim_start();
        let word = rest.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(rest.len());
        secs += n * unit(&rest[..word]).ok_or_else(bad)?;
        rest = rest[word..].trim_start_matches([' ', ',']).trim_start();
        rest = rest.strip_prefix("and ").unwrap_or(rest);
        parts += 1;
    }
    if parts == 0 {
        return Err(bad());
    }
    check_range(secs)
}

fn check_range(secs: f64) -> Result<Duration, String> {
    if !secs.is_finite() || secs < 0.0 {
        return Err(DURATION_EXAMPLES.to_owned());
    }
    if secs > 7.0 * 24.0 * 3600.0 {
        return Err("must be at most a week".into());
    }
    // Under a millisecond is no interval any clock here keeps (and a heartbeat that short
    // would flood the log); 0 stays zero.
    if secs > 0.0 && secs < 0.001 {
        return Err("must be 0 or at least 1ms".into());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A duration that is more than zero.
pub fn parse_positive_duration(v: &str) -> Result<Duration, String> {
    parse_duration(v).and_then(|d| if d.is_zero() { Err("must be more than zero".into()) } else { Ok(d) })
}

/// A whole number in `min..=max`.
pub fn parse_count(v: &str, min: u32, max: u32) -> Result<u32, String> {
    match v.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("expected a whole number from {min} to {max}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duration_is_one_line() {
        for v in ["5m\n6m", "1h\r\n30m", "90\ts"] {
            assert!(parse_duration(v).unwrap_err().starts_with("holds a line break"), "{v:?}");
        }
    }

    #[test]
    fn float_syntax_and_sub_millisecond_durations_are_refused() {
        for v in ["1e-9", "1e3", "inf", "NaN", "+5", "1.2.3", "0.0001", "0.5ms"] {
            assert!(parse_duration(v).is_err(), "{v}");
        }
        assert_eq!(parse_duration("0.001"), Ok(Duration::from_millis(1)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration(".5"), Ok(Duration::from_millis(500)));
    }

    #[test]
    fn durations() {
        let ok = |s, ms| assert_eq!(parse_duration(s), Ok(Duration::from_millis(ms)), "{s}");
        ok("300", 300_000);
        ok("2.5", 2_500);
        ok("250ms", 250);
        ok("90s", 90_000);
        ok("5m", 300_000);
        ok("1h", 3_600_000);
        ok("1H", 3_600_000);
        ok("0", 0);
        for (text, ms) in [
            ("5 minutes", 300_000),
            ("30 seconds", 30_000),
            ("1m30s", 90_000),
            ("1h 30m", 5_400_000),
            ("1 hour, 30 minutes", 5_400_000),
            ("1 min and 5 secs", 65_000),
            ("1.5m", 90_000),
            ("5 m", 300_000),
            ("2hr", 7_200_000),
            ("5mins", 300_000),
            ("1 millisecond", 1),
        ] {
            ok(text, ms);
        }
        for bad in ["", "abc", "5x", "-1", "1.2.3", "ms", "1 d", "9999999h", "5 minutes ago", "m5", "1m 30"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} must be rejected");
        }
        assert!(parse_duration("5x").unwrap_err().contains("1m30s"), "the error shows examples");
    }

    #[test]
    fn booleans_are_strict() {
        for t in ["true", "True", "TRUE"] {
            assert_eq!(parse_bool(t), Ok(true));
        }
        for f in ["false", "False", "FALSE"] {
            assert_eq!(parse_bool(f), Ok(false));
        }
        for bad in ["yes", "1", "tRUE", "", "on"] {
            assert!(parse_bool(bad).is_err());
        }
    }

    #[test]
    fn fail_on_and_counts() {
        assert_eq!(parse_fail_on("ANY"), Ok(FailOn::Any));
        assert_eq!(parse_fail_on("all"), Ok(FailOn::All));
        assert_eq!(parse_fail_on("never"), Ok(FailOn::Never));
        assert!(parse_fail_on("some").is_err());
        assert_eq!(parse_count("10", 1, 1000), Ok(10));
        assert!(parse_count("0", 1, 1000).is_err());
        assert!(parse_count("-1", 1, 1000).is_err());
    }
}

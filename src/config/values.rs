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

/// `300`, `2.5`, `250ms`, `90s`, `5m`, `1h` (a number and an optional unit).
pub fn parse_duration(v: &str) -> Result<Duration, String> {
    const EXPECTED: &str = "expected seconds, or a number with ms, s, m or h (e.g. 250ms, 90s, 5m)";
    let split = v.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: f64 = num.parse().map_err(|_| EXPECTED.to_owned())?;
    let scale = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "s" | "sec" | "secs" => 1.0,
        "ms" => 0.001,
        "m" | "min" | "mins" => 60.0,
        "h" | "hr" | "hrs" => 3600.0,
        _ => return Err(EXPECTED.to_owned()),
    };
    let secs = n * scale;
    if !secs.is_finite() || secs > 7.0 * 24.0 * 3600.0 {
        return Err("must be at most a week".into());
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
        for bad in ["", "abc", "5x", "-1", "1.2.3", "ms", "1 d", "1e3", "9999999h"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} must be rejected");
        }
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

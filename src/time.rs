//! Times as the API (and CI variables) write them: RFC 3339 and the ISO 8601 forms close to
//! it, with any UTC offset. `humantime`'s reader takes only `Z` (or `+00:00`) and, with
//! fractional seconds, drops any other offset without a word: a `scheduled_for` written
//! `+05:00` was read five hours late, and a `next_retry_at` written `-05:00` not at all.

use std::time::{Duration, SystemTime};

/// A time read, and whether it named its zone (`Z` or an offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    pub at: SystemTime,
    pub zoned: bool,
}

/// `YYYY-MM-DD` then `T`, `t` or a space, then `HH:MM`, optional `:SS` and fraction, then
/// `Z`, `z`, `±HH:MM`, `±HHMM`, `±HH` or nothing (UTC, as the API writes its times).
pub fn parse(text: &str) -> Option<Read> {
    let b = text.trim().as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let d = b.get(r)?;
        d.iter().all(u8::is_ascii_digit).then(|| d.iter().fold(0, |n, c| n * 10 + i64::from(c - b'0')))
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b[4] != b'-' || b[7] != b'-' || !matches!(b.get(10)?, b'T' | b't' | b' ') || b.get(13)? != &b':' {
        return None;
    }
    let (hour, minute) = (num(11..13)?, num(14..16)?);
    let mut i = 16;
    let mut second = 0;
    let mut nanos = 0u32;
    if b.get(i) == Some(&b':') {
        second = num(i + 1..i + 3)?;
        i += 3;
        if matches!(b.get(i), Some(b'.' | b',')) {
            let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            nanos = (0..9).fold(0, |n, k| {
                n * 10 + b.get(i + 1 + k).filter(|_| k < digits).map_or(0, |c| u32::from(c - b'0'))
            });
            i += 1 + digits;
        }
    }
    let (offset, zoned): (i64, bool) = match &b[i..] {
        [] => (0, false),
        [b'Z' | b'z'] => (0, true),
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (h, m) = match rest {
                [_, _] => (num(i + 1..i + 3)?, 0),
                [_, _, b':', _, _] => (num(i + 1..i + 3)?, num(i + 4..i + 6)?),
                [_, _, _, _] => (num(i + 1..i + 3)?, num(i + 3..i + 5)?),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let secs = h * 3600 + m * 60;
            (if *sign == b'-' { -secs } else { secs }, true)
        }
        _ => return None,
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&month) || day == 0 || day > month_days[(month - 1) as usize] {
        return None;
    }
    // A leap second (`:60`) is read as the last moment of its minute.
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let (second, nanos) = if second == 60 { (59, 999_999_999) } else { (second, nanos) };
    // Four-digit years keep every figure far inside an i64.
    let local = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    let utc = u64::try_from(local - offset).ok()?;
    let at = SystemTime::UNIX_EPOCH.checked_add(Duration::new(utc, nanos))?;
    Some(Read { at, zoned })
}

/// A time read by `parse`, whether or not it named its zone.
pub fn parse_time(text: &str) -> Option<SystemTime> {
    parse(text).map(|r| r.at)
}

/// Days from 1970-01-01 to a date of year 0 to 9999 (Howard Hinnant's `days_from_civil`);
/// negative before 1970.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests;

use super::*;

fn secs(text: &str) -> Option<u64> {
    parse_time(text).map(|t| t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs())
}

#[test]
fn offsets_are_applied_with_and_without_fractions() {
    let utc = secs("2026-12-07T12:00:00Z").unwrap();
    assert_eq!(utc, 1_796_644_800);
    for (text, shift) in [
        ("2026-12-07T17:00:00+05:00", 0),
        ("2026-12-07T17:00:00.114+05:00", 0),
        ("2026-12-07T07:00:00-05:00", 0),
        ("2026-12-07T07:00:00.5-0500", 0),
        ("2026-12-07T13:00:00+01", 0),
        ("2026-12-07 12:00:00", 0),
        ("2026-12-07t12:00:00z", 0),
        ("2026-12-07T12:00Z", 0),
        ("2026-12-07T11:30:00-00:30", 0),
        ("2026-12-07T12:00:60Z", 59),
    ] {
        assert_eq!(secs(text), Some(utc + shift), "{text}");
    }
    // Digits past nanoseconds are dropped (whole 100 ns here: Windows keeps no finer time).
    let fraction = parse_time("2026-12-07T12:00:00.123456700999Z").unwrap();
    assert_eq!(fraction.duration_since(SystemTime::UNIX_EPOCH).unwrap().subsec_nanos(), 123_456_700);
    assert_eq!(parse("2026-12-07T12:00:00").map(|r| r.zoned), Some(false));
    assert_eq!(parse("2026-12-07T12:00:00+00:00").map(|r| r.zoned), Some(true));
}

#[test]
fn what_is_not_a_time_is_refused() {
    for bad in [
        "",
        "soon",
        "2026-12-07",
        "2026-13-01T00:00:00Z",
        "2026-02-29T00:00:00Z",
        "2026-12-07T24:00:00Z",
        "2026-12-07T12:60:00Z",
        "2026-12-07T12:00:00+24:00",
        "2026-12-07T12:00:00+05:60",
        "2026-12-07T12:00:00+5",
        "2026-12-07T12:00:00.Z",
        "2026-12-07T12:00:00 UTC",
        "2026-12-07X12:00:00Z",
        "+2026-12-07T12:00:00Z",
        "1969-12-31T23:59:59Z",
        "２０２６-12-07T12:00:00Z",
        "2026-12-07T12:00:00€",
    ] {
        assert_eq!(parse_time(bad), None, "{bad:?}");
    }
    assert_eq!(secs("2024-02-29T00:00:00Z"), Some(1_709_164_800));
    assert_eq!(secs("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(secs("9999-12-31T23:59:59Z"), Some(253_402_300_799));
}

proptest::proptest! {
    /// Agrees with humantime wherever humantime is right (UTC), and an offset moves the time
    /// by exactly its amount.
    #[test]
    fn agrees_with_utc_and_shifts_by_the_offset(
        t in 0u64..253_402_300_799, off_h in 0u64..24, off_m in 0u64..60, minus: bool
    ) {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(t);
        let text = humantime::format_rfc3339_seconds(at).to_string();
        proptest::prop_assert_eq!(parse_time(&text), Some(at));
        let off = off_h * 3600 + off_m * 60;
        let local = if minus { t.checked_sub(off) } else { t.checked_add(off) };
        if let Some(local) = local.filter(|l| *l < 253_402_300_800) {
            let base = humantime::format_rfc3339_seconds(SystemTime::UNIX_EPOCH + Duration::from_secs(local)).to_string();
            let sign = if minus { '-' } else { '+' };
            let zoned = format!("{}{sign}{off_h:02}:{off_m:02}", base.trim_end_matches('Z'));
            proptest::prop_assert_eq!(parse_time(&zoned), Some(at), "{}", zoned);
        }
    }
}

use super::*;

#[test]
fn status_table() {
    let cases: &[(&str, Option<&str>, State, bool)] = &[
        ("published", None, State::Published, false),
        ("PUBLISHED", None, State::Published, false),
        ("done", None, State::Published, false),
        // Success only as the API spells it: any other word is unknown, so pending.
        ("Succeeded", None, State::Pending, true),
        ("sent", None, State::Pending, true),
        ("live", None, State::Pending, true),
        ("success", None, State::Pending, true),
        ("failed", None, State::Failed, false),
        ("failed", Some(""), State::Failed, false),
        ("failed", Some("2026-04-15T14:35:00Z"), State::Pending, false),
        ("failed", Some("2020-01-01T00:00:00Z"), State::Failed, false),
        ("failed", Some("1893456000"), State::Pending, false),
        ("Error", None, State::Failed, false),
        ("cancelled", None, State::Failed, false),
        ("canceled", None, State::Failed, false),
        ("rejected", None, State::Failed, false),
        ("queued", None, State::Pending, false),
        ("publishing", None, State::Pending, false),
        ("Retry Scheduled", None, State::Pending, false),
        ("in-progress", None, State::Pending, false),
        ("teleporting", None, State::Pending, true),
        ("", None, State::Pending, true),
    ];
    for (raw, retry, state, unknown) in cases {
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_760_000_000);
        assert_eq!(classify(raw, *retry, now), (*state, *unknown), "status {raw:?} retry {retry:?}");
    }
}

/// A failed destination on platform `x` of post `p`, with what a test varies.
fn dest(id: Option<&str>, account_id: Option<serde_json::Value>, account_name: Option<&str>) -> Destination {
    Destination {
        post_id: "p".into(),
        id: id.map(str::to_owned),
        account_id,
        account_name: account_name.map(str::to_owned),
        platform: "x".into(),
        status: State::Failed,
        raw_status: "failed".into(),
        url: None,
        error: None,
        attempts: None,
        published_at: None,
        next_retry_at: None,
        retries: 0,
        note: None,
        class: None,
    }
}

#[test]
fn a_destination_keeps_its_identity_when_the_shape_drifts() {
    let d = |id: Option<&str>, account: serde_json::Value| dest(id, Some(account), None);
    let a = d(Some("dest_1"), serde_json::json!(5));
    assert_eq!(a.key(), d(None, serde_json::json!(5)).key());
    assert_eq!(a.key(), d(None, serde_json::json!("5")).key());
    assert_ne!(a.key(), d(None, serde_json::json!(6)).key());
}

#[test]
fn labels_name_the_platform_and_the_account() {
    let d = |name: Option<&str>, account: Option<serde_json::Value>| dest(None, account, name);
    let cases = [
        (d(Some("@mybrand"), Some(serde_json::json!(5))), "x @mybrand"),
        (d(None, Some(serde_json::json!("2280"))), "x #2280"),
        (d(None, Some(serde_json::json!(2280))), "x #2280"),
        (d(None, Some(serde_json::json!(null))), "x #null"),
        (d(None, None), "x"),
        (d(Some(""), Some(serde_json::json!(5))), "x"),
        (d(None, Some(serde_json::json!(""))), "x #"),
    ];
    for (dest, want) in cases {
        assert_eq!(dest.label(), want);
        let account = dest.label_account();
        let joined =
            if account.is_empty() { dest.platform.clone() } else { format!("{} {account}", dest.platform) };
        assert_eq!(dest.label(), joined, "label and label_account agree");
    }
}

#[test]
fn status_is_compares_the_normalised_word() {
    let words = ["queued", "scheduled", "draft", "retry_scheduled", "in_progress"];
    for raw in [
        "queued",
        " Queued ",
        "SCHEDULED",
        "Retry Scheduled",
        "retry-scheduled",
        "in progress",
        "drafts",
        "draf",
        "",
        "  ",
        "dräft",
        "Ｑueued",
        "queued\u{a0}",
        "\tdraft\n",
    ] {
        let want = words.contains(&normalise_status(raw).as_str());
        assert_eq!(status_is(raw, &words), want, "{raw:?}");
    }
}

#[test]
fn completeness_needs_a_destination() {
    assert!(!Tally::default().complete());
    let t = Tally { total: 2, published: 1, failed: 1, pending: 0 };
    assert!(t.complete());
    let t = Tally { total: 2, published: 1, failed: 0, pending: 1 };
    assert!(!t.complete());
}

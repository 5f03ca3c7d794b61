use super::*;
use crate::report::fixtures::{dest, post, report};

const ROOM: usize = MAX_SUMMARY_BYTES;

#[test]
fn partial_summary() {
    let mut r = report(
        Status::Partial,
        vec![dest("instagram", "@mybrand", State::Published), dest("linkedin", "My Brand", State::Failed)],
    );
    r.exit_code = 1;
    let s = render(&r, ROOM);
    let expected = "## ⚠️ PostEverywhere: 1 of 2 destinations published, 1 failed\n\n\
Post <code>post&#95;1</code> · status **partial** · exit code 1 · waited 12s · 4 requests\n\n\
| | Platform | Account | Status | Link | Attempts | Error |\n|---|---|---|---|---|---|---|\n\
| ❌ | linkedin | My Brand | failed (reconnect) |  | 1 | Token expired. Please reconnect. |\n\
| ✅ | instagram | @\u{200B}mybrand | published | [view post](<https://instagram.example/p/1>) | 1 |  |\n\n\
### What to do next\n\n\
- **linkedin My Brand**: reconnect this account in PostEverywhere, then retry the post.\n\n";
    assert_eq!(s, expected);
}

#[test]
fn hostile_text_is_escaped_and_bad_links_dropped() {
    let mut d = dest("x|<b>", "`@a`", State::Published);
    d.url = Some("javascript:alert(1)".into());
    let mut f = dest("li", "B", State::Failed);
    f.error = Some("line1\n::error::x | <script> www.evil.example https://evil.example/p".into());
    let s = render(&report(Status::Partial, vec![d, f]), ROOM);
    assert!(s.contains("| x&#124;&lt;b&gt; | &#96;@\u{200B}a&#96; |"), "{s}");
    assert!(!s.contains("javascript"));
    assert!(s.contains(
        "line1 ::error::x &#124; &lt;script&gt; www\u{200B}.evil.example https:\u{200B}//evil.example/p"
    ));
    for line in s.lines() {
        assert!(!line.trim_start().starts_with("::"));
    }
}

#[test]
fn timeout_and_error_explain_what_to_do() {
    let r = report(Status::Timeout, vec![dest("x", "@a", State::Pending)]);
    let s = render(&r, ROOM);
    assert!(s.starts_with("## ⏱️ PostEverywhere: timed out after 5m00s with 1 of 1 destination pending"));
    assert!(s.contains("Raise `timeout`"));
    let mut r = report(Status::Error, vec![]);
    r.posts[0].answered = false;
    r.message = Some("HTTP 401 Unauthorized; check the key".into());
    let s = render(&r, ROOM);
    assert!(s.contains("> HTTP 401 Unauthorized; check the key"));
    assert!(!s.contains("| |"));
}

#[test]
fn everything_counts_against_the_room() {
    let mut d = dest("x", &"@a".repeat(60), State::Failed);
    d.error = Some("e|".repeat(150));
    let mut r = report(Status::Failed, vec![d; 5000]);
    r.message = Some("m".repeat(5000));
    for room in [ROOM, 200_000, 20_000, 3_000] {
        let s = render(&r, room);
        assert!(s.len() <= room, "{} > {room}", s.len());
        assert!(s.contains("This summary shows"), "{room}");
        // What to do comes before table rows, when it fits at all.
        if room >= 20_000 {
            assert!(s.contains("### What to do next") && s.contains("and 4990 more"), "{room}");
        }
    }
    assert_eq!(render(&r, 500), "", "not even the headline fits");
}

#[test]
fn failed_rows_come_first() {
    let r = report(
        Status::Partial,
        vec![
            dest("a", "@a", State::Published),
            dest("b", "@b", State::Pending),
            dest("c", "@c", State::Failed),
        ],
    );
    let s = render(&r, ROOM);
    let at = |needle: &str| s.find(needle).unwrap();
    assert!(at("| ❌ | c") < at("| ⏳ | b") && at("| ⏳ | b") < at("| ✅ | a"), "{s}");
}

#[test]
fn one_section_per_post_and_an_overview() {
    let mut r = report(Status::Partial, vec![]);
    let mut a = post(Status::Published, vec![dest("x", "@a", State::Published)]);
    a.post_id = "post_a".into();
    let mut b = post(Status::Failed, vec![dest("li", "B", State::Failed)]);
    b.post_id = "post_b".into();
    b.destinations[0].retries = 1;
    b.retried = 1;
    let mut c = post(Status::Scheduled, vec![]);
    c.post_id = "post_c".into();
    c.scheduled_for = Some("2035-01-01T09:00:00Z".into());
    r.posts = vec![a, b, c];
    let s = render(&r, ROOM);
    assert!(s.contains("3 posts · status **partial**"), "{s}");
    assert!(s.contains("· 1 re-queued"), "{s}");
    assert!(
        s.contains("| 🗓️ | <code>post&#95;c</code> | scheduled | 0 | 0 | 0 | 2035-01-01T09:00:00Z |"),
        "{s}"
    );
    assert!(
        s.find("### Post <code>post&#95;b</code>: failed").unwrap()
            < s.find("### Post <code>post&#95;a</code>").unwrap()
    );
    assert!(!s.contains("### Post <code>post&#95;c</code>"), "no empty section");
    assert!(s.contains("| Attempts | Retried | Error |"));
    assert!(!s.contains("This summary shows"));
}

/// A row as first written (a `format!` of cells built one string each): `push_row` must
/// give the same text.
fn row_ref(d: &Destination, retries: bool) -> String {
    let status = match d.status {
        State::Failed => format!("failed ({})", d.failure_class().as_str()),
        State::Pending if d.next_retry_at.is_some() => {
            format!(
                "pending: platform retry at {}",
                md_cell(&one_line(d.next_retry_at.as_deref().unwrap_or(""), 40))
            )
        }
        State::Pending => format!("pending ({})", md_cell(&one_line(&d.raw_status, 40))),
        State::Published => "published".to_owned(),
    };
    let link = d.url.as_deref().and_then(md_url).map(|u| format!("[view post]({u})")).unwrap_or_default();
    let mut error = d.error.clone().unwrap_or_default();
    if let Some(n) = &d.note {
        error = if error.is_empty() { n.clone() } else { format!("{error} · {n}") };
    }
    let retried = if retries { format!(" {} |", d.retries) } else { String::new() };
    format!(
        "| {} | {} | {} | {} | {} | {} |{retried} {} |\n",
        symbol(d.status),
        md_cell(&one_line(&d.platform, 40)),
        md_cell(&one_line(&d.label_account(), 80)),
        status,
        link,
        d.attempts.map(|a| a.to_string()).unwrap_or_default(),
        md_cell(&one_line(&error, 300)),
    )
}

proptest::proptest! {
    #[test]
    fn rows_pushed_in_place_are_the_rows_first_written(
        status in 0u8..3,
        text in proptest::collection::vec("([a-z |`@:/\n\\\\<>*_~]|www\\.|https://|·){0,8}", 6),
        url in proptest::option::of("(https://|http://|javascript:)[a-z./|<>&]{0,12}"),
        attempts in proptest::option::of(0u64..1000),
        retries in (0u32..4, proptest::bool::ANY),
        some in proptest::collection::vec(proptest::bool::ANY, 4),
    ) {
        let state = [State::Published, State::Failed, State::Pending][usize::from(status)];
        let mut d = dest(&text[0], &text[1], state);
        d.raw_status.clone_from(&text[2]);
        d.url = url;
        d.error = some[0].then(|| text[3].clone());
        d.note = some[1].then(|| text[4].clone());
        d.next_retry_at = some[2].then(|| text[5].clone());
        d.account_name = some[3].then(|| text[1].clone());
        d.attempts = attempts;
        d.retries = retries.0;
        let mut out = "before".to_owned();
        push_row(&mut out, &d, retries.1);
        proptest::prop_assert_eq!(&out["before".len()..], row_ref(&d, retries.1));
    }
}

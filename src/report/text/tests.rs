//! The log lines' wording: progress only on change (and as the reference builds it), and
//! what a failed request announces next.

use super::*;
use crate::report::fixtures::dest;

#[test]
fn progress_only_on_change() {
    let mut k = Known::default();
    k.merge(vec![dest("x", "@a", State::Pending)]);
    let c = k.changes();
    let line = progress(Duration::from_millis(1500), None, &k, &c).unwrap();
    assert_eq!(line, "[  1.5s] 0/1 published, 0 failed, 1 pending · x @a: pending");
    k.merge(vec![dest("x", "@a", State::Pending)]);
    let c = k.changes();
    assert_eq!(progress(Duration::from_secs(3), None, &k, &c), None);
    k.merge(vec![dest("x", "@a", State::Published)]);
    let c = k.changes();
    assert_eq!(
        progress(Duration::from_secs(4), Some("p9"), &k, &c).unwrap(),
        "[  4.0s] post p9: 1/1 published, 0 failed, 0 pending · x @a: pending → published https://x.example/p/1"
    );
    k.merge(vec![]);
    let c = k.changes();
    assert!(progress(Duration::from_secs(5), None, &k, &c).unwrap().contains("x @a: no longer listed"));
    let mut empty = Known::default();
    empty.merge(Vec::new());
    assert!(progress(Duration::ZERO, None, &empty, &[]).unwrap().ends_with("(no destinations listed yet)"));
    empty.merge(Vec::new());
    assert_eq!(progress(Duration::ZERO, None, &empty, &[]), None);
}

/// `progress` as first written (a string per part, joined): the reference.
fn progress_ref(elapsed: Duration, post: Option<&str>, known: &Known, changes: &[Change]) -> Option<String> {
    let items = known.items();
    if changes.is_empty() && !(items.is_empty() && known.answers() == 1) {
        return None;
    }
    let detail = |d: &Destination, shown: State| match shown {
        State::Published => d.url.as_deref().map(|u| format!(" {}", one_line(u, 200))).unwrap_or_default(),
        State::Failed => d.error.as_deref().map(|e| format!(" ({})", one_line(e, 120))).unwrap_or_default(),
        State::Pending => d
            .next_retry_at
            .as_deref()
            .map(|t| format!(" (platform retry at {})", one_line(t, 40)))
            .unwrap_or_default(),
    };
    let mut described = Vec::new();
    for c in changes.iter().take(6) {
        let t = &items[c.index];
        let d = &t.dest;
        let label = one_line(&d.label(), 60);
        let now = one_line(&d.raw_status, 20);
        described.push(match &c.before {
            _ if t.missing => format!("{label}: no longer listed (last seen {now})"),
            Some(b) if b.raw_status != d.raw_status => {
                format!("{label}: {} → {now}{}", one_line(&b.raw_status, 20), detail(d, t.state()))
            }
            Some(_) if t.state() == State::Pending && d.status == State::Failed => {
                format!("{label}: {now}, being re-queued")
            }
            _ => format!("{label}: {now}{}", detail(d, t.state())),
        });
    }
    let post = post.map(|p| format!("post {}: ", one_line(p, 60))).unwrap_or_default();
    let mut line = format!("[{:>6}] {post}{}", human_duration(elapsed), known.tally());
    if items.is_empty() {
        line.push_str(" (no destinations listed yet)");
    } else {
        let _ = write!(line, " · {}", described.join("; "));
        if changes.len() > described.len() {
            let _ = write!(line, "; +{} more", changes.len() - described.len());
        }
    }
    Some(line)
}

#[test]
fn progress_lines_match_the_reference() {
    let many = |n: usize, status: State| -> Vec<Destination> {
        (0..n)
            .map(|i| {
                let mut d = dest(
                    ["x", "linkedin", "ïnstagram\u{85}"][i % 3],
                    &format!("@a{i}{}", "é".repeat(i * 9)),
                    status,
                );
                d.account_id = Some(serde_json::json!(i));
                if i == 2 && status == State::Pending {
                    d.next_retry_at = Some("2099-01-01T00:00:00Z\n".into());
                }
                if i == 3 {
                    d.raw_status = format!("{}\tX{}", d.raw_status, "y".repeat(30));
                }
                d
            })
            .collect()
    };
    let answers = [
        Vec::new(),
        Vec::new(),
        many(8, State::Pending),
        many(8, State::Pending),
        many(5, State::Published),
        many(8, State::Failed),
    ];
    for post in
        [None, Some("p1"), Some("a\u{1b}[31m-very-long-post-id-that-goes-on-and-on-and-on-and-on-and-on")]
    {
        let mut k = Known::default();
        for (n, a) in answers.iter().enumerate() {
            k.merge(a.clone());
            let c = k.changes();
            let at = Duration::from_millis(1234 * n as u64);
            assert_eq!(progress(at, post, &k, &c), progress_ref(at, post, &k, &c), "answer {n}");
        }
    }
}

#[test]
fn announcements_say_what_will_happen() {
    let s = Duration::from_secs;
    let f = Fault::transient("could not connect");
    let l = fault_line(s(2), "", &f, 2, 10, None, s(3));
    assert!(l.ends_with("no further request fits before the deadline (3.0s); the wait ends then"), "{l}");
    let l = fault_line(s(2), "", &f, 2, 10, Some(s(3)), s(3));
    assert!(l.ends_with("one last request at the deadline, in 1.0s"), "{l}");
    let limited = Fault::RateLimited { wait: Some(s(60)), reason: "HTTP 429".into() };
    let l = fault_line(Duration::from_millis(500), "", &limited, 0, 10, Some(s(10)), s(10));
    assert!(
        l.contains(
            "the API asks to wait 1m00s, past the deadline: one last request at the deadline, in 9.5s"
        ),
        "{l}"
    );
    let l = fault_line(
        s(1),
        "",
        &Fault::RateLimited { wait: None, reason: "HTTP 429".into() },
        0,
        10,
        Some(s(3)),
        s(10),
    );
    assert!(l.ends_with("next request in 2.0s (backoff)"), "{l}");
    let asked = Fault::Transient { reason: "HTTP 503".into(), reached: true, after: Some(s(5)) };
    for (next, end) in [
        (s(6), "next request in 5.0s (as the API asked)"),
        (s(9), "next request in 8.0s (the API asked for 5.0s)"),
        (s(3), "one last request at the deadline, in 2.0s (the API asked for 5.0s, past it)"),
    ] {
        let l = fault_line(s(1), "", &asked, 1, 10, Some(next), if next == s(3) { s(3) } else { s(10) });
        assert!(l.ends_with(end), "{l}");
    }
}

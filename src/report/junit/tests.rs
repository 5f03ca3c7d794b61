use super::*;
use crate::report::fixtures::{dest, report};

#[test]
fn escaping() {
    assert_eq!(xml("a<b>&\"c'\n\u{1}"), "a&lt;b&gt;&amp;&quot;c&apos;&#10;\u{FFFD}");
    assert_eq!(xml_cut("a&b", 5), "a…");
    assert!(xml_cut(&"&".repeat(100), 20).len() <= 20);
}

#[test]
fn names_are_unique_after_escaping() {
    let mut a = dest("x", "dup\u{1}", State::Failed);
    a.account_id = None;
    let mut b = dest("x", "dup\u{2}", State::Failed);
    b.account_id = None;
    let r =
        report(Status::Failed, vec![a, b, dest("x", "@a", State::Failed), dest("x", "@a", State::Failed)]);
    let x = render(&r, None).0;
    for name in ["name=\"x dup\u{FFFD}\"", "name=\"x dup\u{FFFD} (2)\"", "name=\"x @a\"", "name=\"x @a (2)\""]
    {
        assert_eq!(x.matches(name).count(), 1, "{name} in {x}");
    }
}

#[test]
fn one_case_per_destination_with_reasons_as_text() {
    let mut r = report(
        Status::Timeout,
        vec![
            dest("x", "@a", State::Published),
            dest("li", "B", State::Failed),
            dest("tt", "C", State::Pending),
        ],
    );
    r.posts[0].status = Status::Timeout;
    let x = render(&r, None).0;
    assert!(x.contains(
        "<testsuites name=\"posteverywhere-wait\" tests=\"3\" failures=\"1\" errors=\"1\" skipped=\"0\""
    ));
    assert!(x.contains("<testcase classname=\"posteverywhere.post_1\" name=\"x @a\""));
    assert!(
        x.contains("<failure type=\"reconnect\" message=\"Token expired. Please reconnect.\">Token expired.")
    );
    assert!(
        x.contains("<error type=\"timeout\" message=\"still pending when the wait ended\">still pending")
    );
    let mut r = report(Status::Scheduled, vec![dest("x", "@a", State::Pending)]);
    r.posts[0].scheduled_for = Some("2035-01-01T09:00:00Z".into());
    let x = render(&r, None).0;
    assert!(
        x.contains(">scheduled for 2035-01-01T09:00:00Z, after the deadline; not waited for</skipped>"),
        "{x}"
    );
}

/// Every kind of case, with texts that fill their budget exactly or grow when escaped,
/// at each budget: no case is longer than `fit` counts it (`CASE_MARKUP`, classname,
/// time, suffix, `TEXTS` texts), and the widest comes within a few bytes of it.
#[test]
fn case_markup_is_bounded() {
    let mut closest = usize::MAX;
    for long in ["a".repeat(3000), "&\"<".repeat(1000)] {
        let (class, time) = (xml_cut(&long, 400), "31536000.000");
        for (status, state) in [
            (Status::Partial, State::Published),
            (Status::Failed, State::Failed),
            (Status::Scheduled, State::Pending),
            (Status::Cancelled, State::Pending),
        ] {
            let mut d = dest(&long, &long, state);
            d.url = d.url.map(|_| long.clone());
            d.error = d.error.map(|_| long.clone());
            d.raw_status.clone_from(&long);
            let mut bare = dest("x", "", state);
            (bare.url, bare.error, bare.account_name) = (None, None, None);
            let mut p = crate::report::fixtures::post(status, vec![d.clone(), d, bare]);
            (p.message, p.scheduled_for) = (Some(long.clone()), Some(long.clone()));
            for each in [MIN_EACH, 399, 400, MAX_EACH] {
                let mut out = String::new();
                let mut slots = Slots { published: 9, others: 9 };
                assert_eq!(post_cases(&mut out, &p, &class, time, each, &mut slots), 3);
                let bound = CASE_MARKUP + class.len() + time.len() + suffix_len(3) + TEXTS * each;
                for case in out.split("    <testcase ").skip(1) {
                    let len = "    <testcase ".len() + case.len();
                    assert!(len <= bound, "{len} > {bound} at {each}: {case}");
                    closest = closest.min(bound - len);
                }
            }
        }
    }
    assert!(closest <= 8, "CASE_MARKUP is {closest} bytes wider than any case needs");
}

/// 50,000 failed destinations of 200-character post ids with long texts made 35 MB,
/// over GitLab's 30 MB: the classname, the message and the markup were not counted.
/// Now 50,000 destinations of the widest kinds, with the longest post ids `post-id`
/// takes, each get a case under `MAX_BYTES` (docs/how-it-works.md says so).
#[test]
fn fifty_thousand_destinations_of_the_longest_post_ids_fit() {
    let mut failed = dest("x", &"n".repeat(300), State::Failed);
    failed.error = Some("<&>".repeat(5000));
    failed.class = Some(failed.failure_class());
    let mut pending = dest("x", &"\"".repeat(300), State::Pending);
    pending.raw_status = "&".repeat(100);
    for (posts, each, d, status) in
        [(100, 500, failed, Status::Failed), (1000, 50, pending, Status::Cancelled)]
    {
        let mut p = crate::report::fixtures::post(status, vec![d; each]);
        p.message = Some("<".repeat(5000));
        let mut r = report(status, Vec::new());
        r.posts = (0..posts).map(|i| PostReport { post_id: format!("{i:0200}"), ..p.clone() }).collect();
        r.tally = crate::model::Tally::of(r.destinations());
        r.elapsed = std::time::Duration::from_secs(366 * 86_400);
        let (x, note) = render(&r, None);
        assert!(x.len() <= MAX_BYTES, "{}", x.len());
        assert_eq!((x.matches("<testcase ").count(), note), (50_000, None));
    }
}

proptest::proptest! {
    /// Any report in any budget that holds the suites' tags: the file fits, is XML, and
    /// leaves out published cases before the others.
    #[test]
    fn any_report_fits_any_budget(
        posts in proptest::collection::vec(
            (0usize..40, 0usize..3, "[a-z&<\"]{0,300}", 0usize..250, proptest::bool::ANY),
            1..4,
        ),
        max in 12_000usize..60_000,
        exit_code in proptest::prop_oneof![proptest::strategy::Just(0u8), proptest::strategy::Just(4u8)],
    ) {
        let r = report(Status::Partial, Vec::new());
        let mut r = Report { posts: Vec::new(), ..r };
        for (n, kind, text, id_len, scheduled) in posts {
            let state = [State::Published, State::Failed, State::Pending][kind];
            let mut d = dest(&text, &text, state);
            d.error = d.error.map(|_| text.clone());
            let status = if scheduled { Status::Scheduled } else { Status::Cancelled };
            let mut p = crate::report::fixtures::post(status, vec![d; n]);
            (p.message, p.scheduled_for) = (Some(text.clone()), Some(text.clone()));
            p.post_id = "p".repeat(id_len);
            p.destinations.extend((0..n).map(|_| dest("x", &text, State::Published)));
            p.tally = crate::model::Tally::of(&p.destinations);
            r.posts.push(p);
        }
        r.tally = crate::model::Tally::of(r.destinations());
        r.exit_code = exit_code;
        let (x, note) = render_within(&r, None, max);
        proptest::prop_assert!(x.len() <= max, "{} > {max}", x.len());
        proptest::prop_assert!(roxmltree::Document::parse(&x).is_ok());
        // Cases of their own: each post without destinations that was not scheduled, and
        // the step when it failed and nothing else says why.
        let own = r.posts.iter().filter(|p| p.destinations.is_empty() && p.status != Status::Scheduled).count();
        let all_others: usize = r.destinations().filter(|d| d.status != State::Published).count();
        let unexplained = all_others - r.destinations().filter(|d| d.status == State::Pending).count()
            + r.posts.iter().filter(|p| p.status != Status::Scheduled).map(|p| p.tally.pending).sum::<usize>()
            + own == 0;
        let step = usize::from(exit_code != 0 && unexplained);
        proptest::prop_assert_eq!(x.matches("name=\"the step\"").count(), step);
        let others = ["</failure>", "</error>", "</skipped>"].iter().map(|e| x.matches(e).count()).sum::<usize>()
            - own
            - step;
        let published = x.matches("<testcase ").count() - others - own - step;
        proptest::prop_assert!(published == 0 || others == all_others);
        let listed = x.matches("<testcase ").count() - own - step;
        proptest::prop_assert_eq!(note.is_some(), listed < r.destinations().count());
        if note.is_none() {
            let tests = format!("<testsuites name=\"posteverywhere-wait\" tests=\"{}\"", listed + own + step);
            proptest::prop_assert!(x.contains(&tests), "{}", tests);
        }
    }
}

/// The cases GitLab counts in `x`: (tests, errors) as its parser reads them.
fn counted(x: &str) -> (usize, usize, Vec<String>) {
    let doc = roxmltree::Document::parse(x).unwrap();
    let cases: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("testcase")).collect();
    let errors: Vec<String> = cases
        .iter()
        .filter_map(|c| c.children().find(|e| e.has_tag_name("error")))
        .map(|e| e.text().unwrap_or("").to_owned())
        .collect();
    (cases.len(), errors.len(), errors)
}

/// A 404 or an unreachable API left a file of no cases (`tests="0"`), which GitLab's Tests
/// tab shows as nothing wrong; a post that ended badly before any destination was listed
/// now has an `error` case of its own, with the reason as its text.
#[test]
fn a_post_without_destinations_that_ended_badly_is_an_error_case() {
    for status in [Status::Error, Status::Timeout, Status::Cancelled] {
        let mut r = report(status, Vec::new());
        (r.exit_code, r.posts[0].status) = (4, status);
        r.posts[0].message = Some("HTTP 404 Not Found; check that post-id is right".into());
        let x = render(&r, None).0;
        assert_eq!(
            counted(&x),
            (1, 1, vec!["HTTP 404 Not Found; check that post-id is right".into()]),
            "{x}"
        );
        assert!(
            x.contains("<testsuites name=\"posteverywhere-wait\" tests=\"1\" failures=\"0\" errors=\"1\"")
        );
        assert!(x.contains("<testsuite name=\"post post_1\" tests=\"1\" failures=\"0\" errors=\"1\""), "{x}");
        assert!(x.contains(&format!(
            "<testcase classname=\"posteverywhere.post_1\" name=\"post post_1\" time=\"12.300\">\n      <error type=\"{}\"",
            status.as_str()
        )));
    }
    // Without a message, a reason all the same.
    let mut r = report(Status::Error, Vec::new());
    r.exit_code = 4;
    assert_eq!(counted(&render(&r, None).0).2, ["ended before PostEverywhere listed any destination"]);
}

/// A step stopped before it posted has no post at all; a post's error can also sit beside
/// destinations that did not fail (another post published). Either way one case says why.
#[test]
fn a_failing_step_that_no_case_explains_gets_a_case() {
    let mut r = report(Status::Error, Vec::new());
    (r.posts, r.exit_code) = (Vec::new(), 4);
    r.message = Some("a post with this text <already> went to x".into());
    let x = render(&r, None).0;
    assert_eq!(counted(&x), (1, 1, vec!["a post with this text <already> went to x".into()]), "{x}");
    assert!(x.contains("<testsuite name=\"posteverywhere-wait\" tests=\"1\" failures=\"0\" errors=\"1\""));
    assert!(x.contains("<testcase classname=\"posteverywhere\" name=\"the step\""));

    let mut r = report(Status::Error, vec![dest("x", "@a", State::Published)]);
    (r.exit_code, r.posts[0].status) = (4, Status::Published);
    let (x, _) = render(&r, None);
    assert_eq!(counted(&x), (2, 1, vec!["the step failed".into()]), "{x}");
    assert!(x.contains("<testsuites name=\"posteverywhere-wait\" tests=\"2\" failures=\"0\" errors=\"1\""));

    // Explained already, or no failure at all: no extra case.
    let mut failed = report(Status::Failed, vec![dest("x", "@a", State::Failed)]);
    failed.exit_code = 1;
    let mut scheduled = report(Status::Scheduled, vec![dest("x", "@a", State::Pending)]);
    scheduled.posts[0].status = Status::Scheduled;
    let mut empty_ok = report(Status::DryRun, Vec::new());
    empty_ok.posts[0].status = Status::DryRun;
    for (r, tests) in [(failed, 1), (scheduled, 1), (report(Status::Published, Vec::new()), 0), (empty_ok, 0)]
    {
        let x = render(&r, None).0;
        assert_eq!(counted(&x).0, tests, "{x}");
        assert!(!x.contains("the step") && !x.contains("name=\"post post_1\" time"), "{x}");
    }
}

/// A report written before this one failed, so the step ends with exit 5: a case says which,
/// even when the destinations all passed (the file read all green before).
#[test]
fn a_report_that_could_not_be_written_is_an_error_case() {
    let r = report(Status::Published, vec![dest("x", "@a", State::Published)]);
    let x = render(&r, Some("cannot write results-file to /gone/r.json: No such file")).0;
    assert_eq!(
        counted(&x),
        (2, 1, vec!["cannot write results-file to /gone/r.json: No such file".into()]),
        "{x}"
    );
}

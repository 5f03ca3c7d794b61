//! A job cancelled while the create call is out. SIGTERM stops at once: the post may have
//! been made, and the step says so. SIGINT (what a GitHub runner sends first, 7.5 s before
//! SIGTERM) gives the call up to 5 s to answer, so the step can name the post it made;
//! no request is started after the signal, and a SIGTERM in that time still stops at once. The
//! answers are held a second or more, so a slow `kill` cannot miss the grace.
#![cfg(unix)] // signals are sent with kill(1)

use std::time::Instant;

use serde_json::json;

use super::*;
use crate::util::Run;

/// What the log says when the grace starts.
const GRACE: &str = "SIGINT while the create call was out: waiting up to 5.0s for its answer";

/// Runs `cmd`, sending each signal (`-INT`, `-TERM`) once the create call has been out
/// for its pause; the run, and how long it took to end after the first signal.
fn cancelled_mid_create(cmd: Cmd, server: &Server, signals: &[(&str, u64)]) -> (Run, Duration) {
    let start = Instant::now();
    let child = cmd.spawn(&[]);
    while creates(server).is_empty() {
        assert!(start.elapsed() < Duration::from_secs(10), "no create arrived");
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut first = None;
    for (signal, pause) in signals {
        std::thread::sleep(Duration::from_millis(*pause));
        first.get_or_insert_with(Instant::now);
        let ok =
            std::process::Command::new("kill").args([*signal, &child.id().to_string()]).status().unwrap();
        assert!(ok.success());
    }
    let run = cmd.collect(child, start);
    (run, first.unwrap().elapsed())
}

/// The paths asked for after the create: none once a signal came.
fn after_create(server: &Server) -> Vec<String> {
    let r = server.requests();
    let at = r.iter().position(|r| r.method == "POST" && r.path == POSTS).unwrap();
    r[at + 1..].iter().map(|r| format!("{} {}", r.method, r.path)).collect()
}

#[test]
fn a_sigterm_while_a_create_hangs_stops_at_once_and_posts_nothing_more() {
    let server = api(vec![Reply::Hang], vec![listing(json!([]))]);
    let (run, took) = cancelled_mid_create(publish(&server), &server, &[("-TERM", 0)]);
    run.expect_code(143);
    assert!(took < Duration::from_secs(2), "took {took:?} to stop");
    assert_eq!((run.output("status"), run.output("created")), ("cancelled", "false"));
    // The create was out when the signal came: the API may have taken it.
    let message = run.output("message");
    assert!(
        message.starts_with("cancelled by SIGTERM: the post may have been made (a create call's answer was lost: stopped while the create call was out)"),
        "{message}"
    );
    assert!(
        message.ends_with("look in PostEverywhere before posting again (a re-run within dedupe reuses it)")
    );
    assert_eq!(creates(&server).len(), 1);
    assert_eq!(after_create(&server), Vec::<String>::new());
}

/// The answer comes about 1.4 s after SIGINT: the post is named (post-id, created) and the
/// step ends cancelled without asking for its results.
#[test]
fn a_sigint_while_a_create_is_out_waits_for_its_answer_and_names_the_post() {
    let slow = Reply::Delay(Duration::from_millis(1500), Box::new(created("p-new")));
    let server = api(vec![slow], vec![listing(json!([]))]);
    let (run, took) = cancelled_mid_create(publish(&server).results_file(), &server, &[("-INT", 100)]);
    run.expect_code(130);
    assert!(took >= Duration::from_secs(1) && took < Duration::from_secs(4), "took {took:?} to stop");
    assert_eq!(
        (run.output("status"), run.output("created"), run.output("post-id")),
        ("cancelled", "true", "p-new")
    );
    assert_eq!(
        run.output("message"),
        "cancelled by SIGINT after the post was made, before any of its results were read"
    );
    assert!(run.stdout.contains(GRACE), "{}", run.stdout);
    assert!(run.stdout.contains("created post p-new (its answer came after the signal)"), "{}", run.stdout);
    assert_eq!(run.results_file.as_ref().unwrap()["publish"]["create_calls"], 1);
    assert_eq!(creates(&server).len(), 1);
    assert_eq!(after_create(&server), Vec::<String>::new());
}

/// No answer: a SIGTERM or a second SIGINT stops at once; without one, the grace ends with the
/// call's own time (here the deadline's: the 1 s timeout and its 750 ms grace), or after
/// 5 s. Each time the post may have been made, and nothing is sent again.
#[test]
fn a_create_that_never_answers_after_sigint_is_reported_as_maybe_made() {
    // A SIGTERM, or a second SIGINT, ends the grace at once.
    for (second, code, name) in [("-TERM", 143, "SIGTERM"), ("-INT", 130, "SIGINT")] {
        let server = api(vec![Reply::Hang], vec![listing(json!([]))]);
        let (run, took) = cancelled_mid_create(publish(&server), &server, &[("-INT", 0), (second, 200)]);
        run.expect_code(code);
        assert!(took < Duration::from_secs(2), "took {took:?} to stop");
        assert!(run.stdout.contains(GRACE), "{}", run.stdout);
        let message = run.output("message");
        assert!(
            message.starts_with(&format!("cancelled by {name}: the post may have been made")),
            "{message}"
        );
        assert_eq!((creates(&server).len(), after_create(&server).len()), (1, 0));
    }

    let maybe = "cancelled by SIGINT: the post may have been made (a create call's answer was lost: stopped \
                 while the create call was out)";
    let server = api(vec![Reply::Hang], vec![listing(json!([]))]);
    let cmd = publish(&server).input("timeout", "1s");
    let (run, took) = cancelled_mid_create(cmd, &server, &[("-INT", 0)]);
    run.expect_code(130);
    assert!(took >= Duration::from_secs(1) && took < Duration::from_secs(3), "took {took:?} to stop");
    assert!(run.stdout.contains(GRACE), "{}", run.stdout);
    assert!(run.output("message").starts_with(maybe), "{}", run.output("message"));
    assert_eq!((creates(&server).len(), after_create(&server).len()), (1, 0));

    // The grace's own limit: 5 s, well before the deadline.
    let server = api(vec![Reply::Hang], vec![listing(json!([]))]);
    let cmd = publish(&server).input("timeout", "30s");
    let (run, took) = cancelled_mid_create(cmd, &server, &[("-INT", 0)]);
    run.expect_code(130);
    assert!(took >= Duration::from_millis(4900) && took < Duration::from_secs(7), "took {took:?} to stop");
    assert!(run.output("message").starts_with(maybe), "{}", run.output("message"));
    assert_eq!((creates(&server).len(), after_create(&server).len()), (1, 0));
}

/// An answer after SIGINT that made nothing (a 429, a refusal) or that names no post: the
/// first two say the post was not created; the third that it may have been, and it is not
/// looked for.
#[test]
fn an_answer_after_sigint_without_a_post_is_not_followed_up() {
    let limited = Reply::status(429, json!({"error": {"code": "rate_limited", "retryAfter": 0.05}}));
    let refused = Reply::status(422, json!({"error": {"code": "validation", "message": "too long"}}));
    for answer in [limited, refused] {
        let server =
            api(vec![Reply::Delay(Duration::from_secs(1), Box::new(answer))], vec![listing(json!([]))]);
        let (run, _) = cancelled_mid_create(publish(&server), &server, &[("-INT", 50)]);
        run.expect_code(130);
        assert!(run.stdout.contains(GRACE), "{}", run.stdout);
        assert_eq!(run.output("message"), "cancelled by SIGINT: the post was not created");
        assert_eq!((creates(&server).len(), after_create(&server).len()), (1, 0));
    }

    let no_id = Reply::status(202, json!({"data": {"status": "queued"}}));
    let server = api(vec![Reply::Delay(Duration::from_secs(1), Box::new(no_id))], vec![listing(json!([]))]);
    let (run, _) = cancelled_mid_create(publish(&server), &server, &[("-INT", 50)]);
    run.expect_code(130);
    assert!(run.stdout.contains(GRACE), "{}", run.stdout);
    let message = run.output("message");
    assert!(
        message.starts_with(
            "cancelled by SIGINT: the post may have been made (a create call's answer was lost: the API accepted \
             the post but gave no usable id, after SIGINT)"
        ),
        "{message}"
    );
    assert_eq!((creates(&server).len(), after_create(&server).len()), (1, 0));
}

//! The looks for the post a lost create may have made: how far apart (the timeout's, not
//! only the poll-interval's), what counts as ours (a post listed for only some of the
//! accounts), and the heartbeat while they last.

use std::time::{Duration, SystemTime};

use serde_json::json;

use super::*;

/// The looks are spaced by the timeout, not only the poll-interval: at the default timeout
/// a 300 ms interval still looks for 30 s, not 4.5 s (a post the list showed 5 s late was
/// made twice). Checked on the spacing of the first looks, with a 15 s timeout (100 ms).
#[test]
fn a_short_poll_interval_does_not_shorten_the_looks() {
    let mine = json!([{"post_id": "p-new", "content": "Launch day!", "account_ids": [1, 2]}]);
    let mut list = vec![listing(json!([])); 4];
    list.push(listing(mine));
    let server = api(vec![Reply::status(502, json!({})), created("twice!")], list);
    let run = publish(&server).input("poll-interval", "10ms").input("timeout", "15s").run();
    run.expect_code(0);
    assert_eq!(creates(&server).len(), 1);
    let looks: Vec<_> =
        server.requests().into_iter().filter(|r| r.method == "GET" && r.path == POSTS).collect();
    assert_eq!(looks.len(), 5, "the dedupe look and four after the lost answer");
    for pair in looks[1..].windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(gap >= Duration::from_millis(95), "looks {gap:?} apart");
    }
}

/// The list may name a post's destinations as they are made: after a lost create, a new
/// post with this text listed for only some of the accounts is ours, not a reason to post
/// again (it was: two posts, exit 0).
#[test]
fn a_lost_create_listed_for_some_accounts_is_found() {
    let now = rfc3339(SystemTime::now());
    let partial = json!([{"post_id": "p-new", "content": "Launch day!", "created_at": now,
                          "destinations": [{"account_id": 1, "platform": "x", "status": "publishing"}]}]);
    let server = api(
        vec![Reply::status(502, json!({})), created("twice!")],
        vec![listing(json!([])), listing(partial)],
    );
    let run = publish(&server).input("timeout", "3s").run();
    run.expect_code(0);
    assert_eq!(creates(&server).len(), 1, "{}", run.stdout);
    assert_eq!(run.output("post-id"), "p-new");
}

/// Publishing is never silent for longer than `heartbeat` either: a create accepted without
/// an id is looked for until the deadline, each look saying nothing (the log was silent
/// for the whole timeout).
#[test]
fn the_looks_for_an_accepted_post_keep_the_heartbeat() {
    let server = api(vec![Reply::status(202, json!({})), created("twice!")], vec![listing(json!([]))]);
    let run = publish(&server).input("heartbeat", "200ms").input("timeout", "1s").run();
    run.expect_code(3);
    let beats: Vec<&str> = run.stdout.lines().filter(|l| l.contains("still looking for the post")).collect();
    assert!(beats.len() >= 3, "{}", run.stdout);
    assert!(beats[0].ends_with("left before the deadline"), "{}", beats[0]);
}

/// A post with this text for some of the accounts and another is not ours (a create for
/// these accounts makes no destination on another): never adopted, whoever made it. The
/// create is sent again once the looks end without ours.
#[test]
fn a_post_with_the_text_for_another_account_too_is_not_ours() {
    let now = rfc3339(SystemTime::now());
    let theirs =
        json!([{"post_id": "p-theirs", "content": "Launch day!", "account_ids": [1, 3], "created_at": now}]);
    let server =
        api(vec![Reply::status(502, json!({})), created("p-new")], vec![listing(json!([])), listing(theirs)]);
    let run = publish(&server).input("poll-interval", "20ms").input("timeout", "6s").run();
    run.expect_code(0);
    assert_eq!((creates(&server).len(), run.output("post-id")), (2, "p-new"), "{}", run.stdout);
}

/// A lost create's looks that see a post made since with no text, or only a cut preview of
/// this one, cannot tell whether it is ours: nothing is sent again (exit 4, the post may
/// exist), where a look that saw neither would post again.
#[test]
fn a_post_the_list_gives_no_text_stops_a_repeat() {
    let now = rfc3339(SystemTime::now());
    for shown in [
        json!({"post_id": "p-new", "account_ids": [1, 2], "created_at": now}),
        json!({"post_id": "p-new", "content": "Launch…", "account_ids": [1, 2], "created_at": now}),
    ] {
        let server = api(
            vec![Reply::status(502, json!({})), created("twice!")],
            vec![listing(json!([])), listing(json!([shown]))],
        );
        let run = publish(&server).input("poll-interval", "20ms").input("timeout", "3s").run();
        run.expect_code(4);
        assert_eq!(creates(&server).len(), 1, "{}", run.stdout);
        let message = run.output("message");
        assert!(message.contains("the post may have been made"), "{message}");
        assert!(
            message.contains("1 listed post made since the create call with no text, or only a cut preview"),
            "{message}"
        );
    }
}

/// A runner whose clock is 10 minutes ahead of the API's: the post its lost create made is
/// stamped 10 minutes before this machine's "now". Read on the API's clock (the `Date` of
/// its first 2xx answer, not of a 503 before it, which may be a proxy's), it is ours, not an
/// earlier post: found, never made again. A runner behind is said to be so.
#[test]
fn a_runner_clock_off_the_apis_still_finds_its_own_post() {
    for (api_ahead, way) in [(false, "ahead of"), (true, "behind")] {
        let ten = Duration::from_secs(600);
        let api_now = if api_ahead { SystemTime::now() + ten } else { SystemTime::now() - ten };
        let mine = json!([{"post_id": "p-new", "content": "Launch day!", "account_ids": [1, 2],
                           "created_at": rfc3339(api_now)}]);
        // The 503's Date says the opposite: believed, it would put "a minute ago" after the post.
        let misleading = if api_ahead { SystemTime::now() - ten } else { SystemTime::now() + ten };
        let proxy = Reply::status(503, json!({})).with_header("Date", httpdate::fmt_http_date(misleading));
        let server = Server::new()
            .route(
                "GET",
                "/api/v1/accounts",
                vec![proxy, accounts().with_header("Date", httpdate::fmt_http_date(api_now))],
            )
            .route("GET", POSTS, vec![listing(json!([])), listing(mine)])
            .route("POST", POSTS, vec![Reply::status(503, json!({})), created("twice!")])
            .route("GET", "/api/v1/posts/p-new/results", vec![published(&[1, 2])]);
        // With dedupe 0 the looks go back a minute only (with a dedupe window, back to its
        // start, which would hide the skew).
        let run = publish(&server).input("timeout", "5s").input("dedupe", "0").run();
        run.expect_code(0);
        assert_eq!((creates(&server).len(), run.output("post-id")), (1, "p-new"));
        // `Date` has whole seconds, and its text was fixed when the server was set up, before
        // the binary started (a second or more under Wine): 10 minutes, give or take a few.
        let line = run.stdout.lines().find(|l| l.contains("this machine's clock is ")).unwrap_or("");
        let near = ["is 9m5", "is 10m0"].iter().any(|by| line.contains(by));
        let said = format!(" {way} PostEverywhere's (by its Date header)");
        assert!(near && line.contains(&said), "{}", run.stdout);
    }
}

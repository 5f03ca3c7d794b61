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

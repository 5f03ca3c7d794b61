//! Not posting twice across runs: the look for an earlier run's post (`dedupe`), and the
//! posts of the last minute a lost create's looks must never take for ours.

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use super::*;

#[test]
fn a_refused_post_listing_is_warned_about_and_the_post_made() {
    let refused = Reply::status(403, json!({"error": {"code": "forbidden", "message": "no"}}));
    let server = api(vec![created("p-new")], vec![refused]);
    let run = publish(&server).run();
    run.expect_code(0);
    assert_eq!(creates(&server).len(), 1);
    assert!(run.stdout.contains("could not look for an earlier post with this content"), "{}", run.stdout);
    // A job run again may well have posted already: it never posts blind.
    let refused = Reply::status(403, json!({"error": {"code": "forbidden", "message": "no"}}));
    let server = api(vec![created("p-new")], vec![refused]);
    let run = publish(&server).env("GITHUB_RUN_ATTEMPT", "2").input("junit-file", "junit.xml").run();
    run.expect_code(4);
    assert_eq!(creates(&server).len(), 0);
    let message = run.output("message");
    assert!(message.starts_with("not posting: this job is run again"), "{message}");
    assert!(message.contains("HTTP 403"), "{message}");
    // No post, so no destination: the step's own case says why (GitLab showed no case).
    let xml = std::fs::read_to_string(run.dir.path().join("junit.xml")).unwrap();
    let j = crate::consumers::gitlab::junit(&xml).unwrap();
    assert_eq!((j.tests, j.errored), (1, 1), "{xml}");
    assert!(
        xml.contains("name=\"the step\"") && xml.contains(">not posting: this job is run again"),
        "{xml}"
    );
}

#[test]
fn a_rerun_reuses_its_post_instead_of_posting_again() {
    let two_days_ago = rfc3339(SystemTime::now() - Duration::from_secs(2 * 86_400));
    let old = json!([{"post_id": "p-old", "content": "Launch day!", "account_ids": [1, 2], "created_at": two_days_ago}]);
    // A re-run (GITHUB_RUN_ATTEMPT 2) looks back a week.
    let server = api(vec![created("p-new")], vec![listing(old.clone())]);
    let run = publish(&server).env("GITHUB_RUN_ATTEMPT", "2").run();
    run.expect_code(0);
    assert_eq!(creates(&server).len(), 0);
    assert_eq!(
        (run.output("post-id"), run.output("reused-post"), run.output("created")),
        ("p-old", "true", "false")
    );
    assert!(run.stdout.contains("reusing it, not posting again"), "{}", run.stdout);
    // A GitLab job retried in its three-day-old pipeline looks back to the pipeline's start.
    let server = api(vec![created("p-new")], vec![listing(old.clone())]);
    let pipeline = rfc3339(SystemTime::now() - Duration::from_secs(3 * 86_400));
    let run = publish(&server).env("GITLAB_CI", "true").env("CI_PIPELINE_CREATED_AT", &pipeline).run();
    run.expect_code(0);
    assert_eq!((creates(&server).len(), run.output("reused-post")), (0, "true"));
    // A first run, 24 h window: two days is too old, so it posts.
    let server = api(vec![created("p-new")], vec![listing(old)]);
    publish(&server).run().expect_code(0);
    assert_eq!(creates(&server).len(), 1);
    // Within the window the same post is reused; dedupe 0 never reuses one (it lists the
    // last minute once, to know the posts that are not its own).
    let recent = json!([{"post_id": "p-old", "content": "Launch day!", "account_ids": [1, 2], "created_at": rfc3339(SystemTime::now())}]);
    let server = api(vec![created("p-new")], vec![listing(recent.clone())]);
    publish(&server).run().expect_code(0);
    assert_eq!(creates(&server).len(), 0);
    let server = api(vec![created("p-new")], vec![listing(recent)]);
    publish(&server).input("dedupe", "0").run().expect_code(0);
    assert_eq!(creates(&server).len(), 1);
    assert_eq!(server.hits("GET", POSTS), 1);
}

/// The post reused cannot be read: no post-id was given, so the message does not say to
/// check one; it names the post and how to post again.
#[test]
fn a_reused_post_that_is_not_found_is_not_blamed_on_post_id() {
    let recent = json!([{"post_id": "p-old", "content": "Launch day!", "account_ids": [1, 2], "created_at": rfc3339(SystemTime::now())}]);
    let missing = Reply::status(404, json!({"error": {"code": "not_found", "message": "Post not found"}}));
    let server = api(vec![created("p-new")], vec![listing(recent)]).route(
        "GET",
        "/api/v1/posts/p-old/results",
        vec![missing],
    );
    let run = publish(&server).run();
    run.expect_code(4);
    assert_eq!(creates(&server).len(), 0);
    let message = run.output("message");
    assert!(!message.contains("check that post-id is right"), "{message}");
    assert!(
        message.contains("post p-old (an earlier run's, with this content, reused by dedupe) cannot be read"),
        "{message}"
    );
    assert!(message.ends_with("if it was deleted, set dedupe: 0 to post again"), "{message}");
}

/// The look for an earlier post reads at most five pages of the newest posts.
#[test]
fn the_look_for_an_earlier_post_reads_at_most_five_pages() {
    let now = rfc3339(SystemTime::now());
    let other = |n: usize| json!({"post_id": format!("o{n}"), "content": "Other", "account_ids": [1], "created_at": now});
    let page = |more: bool, posts: Value| {
        Reply::ok(json!({"data": {"posts": posts, "pagination": {"has_more": more}}}))
    };
    let full = || page(true, Value::Array((0..100).map(other).collect()));
    let mine =
        json!([{"post_id": "p-old", "content": "Launch day!", "account_ids": [1, 2], "created_at": now}]);
    // On the third page: reused.
    let server = api(vec![created("twice!")], vec![full(), full(), page(false, mine.clone())]);
    let run = publish(&server).run();
    run.expect_code(0);
    assert_eq!((run.output("post-id"), run.output("reused-post")), ("p-old", "true"));
    assert_eq!((server.hits("GET", POSTS), creates(&server).len()), (3, 0));
    // On the sixth: never read, so the look cannot tell (`a_post_list_longer_…`): warned
    // about, and the post is made (the posts of the last minute are then noted: one page).
    let mut pages: Vec<Reply> = (0..5).map(|_| full()).collect();
    pages.push(page(false, mine));
    let server = api(vec![created("p-new")], pages);
    let run = publish(&server).run();
    run.expect_code(0);
    assert_eq!((server.hits("GET", POSTS), creates(&server).len()), (6, 1));
    assert_eq!(run.output("post-id"), "p-new");
    assert!(run.stdout.contains("::warning::could not look for an earlier post"), "{}", run.stdout);
}

/// `dedupe: 0` posts again, so a post like this one may have been made a moment before:
/// the looks after a lost create must find ours, never take that one for it.
#[test]
fn a_lost_create_is_never_confused_with_a_like_post_made_just_before() {
    let now = rfc3339(SystemTime::now());
    let post =
        |id: &str| json!({"post_id": id, "content": "Launch day!", "account_ids": [1, 2], "created_at": now});
    let before = listing(json!([post("p-old")]));
    let looks = vec![before.clone(), before.clone(), before, listing(json!([post("p-old"), post("p-new")]))];
    let server = api(vec![Reply::status(504, json!({})), created("twice!")], looks);
    let run =
        publish(&server).input("dedupe", "0").input("poll-interval", "20ms").input("timeout", "3s").run();
    run.expect_code(0);
    assert_eq!((run.output("post-id"), creates(&server).len()), ("p-new", 1));
    assert!(
        run.stdout
            .contains("1 post with this content to some or all of these accounts made in the last minute"),
        "{}",
        run.stdout
    );
    // The list cannot be read: said, and posted all the same.
    let refused = Reply::status(403, json!({"error": {"code": "forbidden", "message": "no"}}));
    let server = api(vec![created("p-new")], vec![refused]);
    let run = publish(&server).input("dedupe", "0").run();
    run.expect_code(0);
    assert_eq!(creates(&server).len(), 1);
    assert!(run.stdout.contains("could not list the posts of the last minute"), "{}", run.stdout);
    // A dedupe window of a minute or more looked that far already: no second list.
    let server = api(vec![created("p-new")], vec![listing(json!([]))]);
    publish(&server).run().expect_code(0);
    assert_eq!(server.hits("GET", POSTS), 1);
}

/// The API's clock runs 90 s behind the runner's: the post a lost create made is stamped
/// before the minute the look allows for clocks, and is still found (the dedupe look found
/// none like it back to its window), never made again.
#[test]
fn a_post_stamped_by_a_clock_behind_is_still_found() {
    let stamped = rfc3339(SystemTime::now() - Duration::from_secs(90));
    let mine =
        json!([{"post_id": "p-new", "content": "Launch day!", "account_ids": [1, 2], "created_at": stamped}]);
    let lost = Reply::status(502, json!({}));
    let server = api(vec![lost, created("twice!")], vec![listing(json!([])), listing(mine)]);
    let run = publish(&server).input("timeout", "20s").run();
    run.expect_code(0);
    assert_eq!(creates(&server).len(), 1);
    assert_eq!(run.output("post-id"), "p-new");
}

/// The look for an earlier post was refused, so nothing is known of the dedupe window: a
/// lost create's looks must not take a like post made ten minutes before for ours (it is
/// the one the look would have found; ours is still to come in the list).
#[test]
fn a_refused_dedupe_look_does_not_widen_a_lost_creates_looks() {
    let post = |id: &str, ago: u64| {
        let at = rfc3339(SystemTime::now() - Duration::from_secs(ago));
        json!({"post_id": id, "content": "Launch day!", "account_ids": [1, 2], "created_at": at})
    };
    let refused = Reply::status(403, json!({"error": {"code": "forbidden", "message": "no"}}));
    let old = listing(json!([post("p-old", 600)]));
    let both = listing(json!([post("p-new", 0), post("p-old", 600)]));
    let looks = vec![refused, old.clone(), old.clone(), both];
    let server = api(vec![Reply::status(504, json!({})), created("twice!")], looks);
    let run = publish(&server).input("poll-interval", "20ms").input("timeout", "3s").run();
    run.expect_code(0);
    assert_eq!((run.output("post-id"), creates(&server).len()), ("p-new", 1), "{}", run.stdout);
}

/// The same text to the same accounts at another time is the same post as far as the list
/// can tell (a re-run, or a second trigger, may compute another `schedule-at`): reused, and
/// the time said in a warning with the way to post again (`dedupe: 0`).
#[test]
fn a_post_for_another_time_is_reused_and_said() {
    let now = SystemTime::now();
    let at = |ahead: u64| rfc3339(now + Duration::from_secs(ahead));
    let nine = json!({"post_id": "p-old", "content": "Launch day!", "account_ids": [1, 2],
                      "created_at": rfc3339(now), "scheduled_for": at(3600)});
    // A re-run whose schedule-at was worked out again, an hour later: reused, and said.
    let server = api(vec![created("twice!")], vec![listing(json!([nine.clone()]))]);
    let run = publish(&server).input("schedule-at", &at(7200)).env("GITHUB_RUN_ATTEMPT", "2").run();
    run.expect_code(0);
    assert_eq!(
        (creates(&server).len(), run.output("post-id"), run.output("reused-post")),
        (0, "p-old", "true")
    );
    let said = format!(
        "::warning::reusing post p-old with this content, scheduled for {}, where this one publishes at {}; \
         if a second post is meant (a reminder), set dedupe: 0",
        at(3600),
        at(7200)
    );
    assert!(run.stdout.contains(&said), "{}", run.stdout);
    // This one now: reused, and said.
    let server = api(vec![created("twice!")], vec![listing(json!([nine.clone()]))]);
    let run = publish(&server).run();
    run.expect_code(0);
    assert_eq!(creates(&server).len(), 0);
    assert!(run.stdout.contains("where this one publishes now; if a second post is meant"), "{}", run.stdout);
    // For the same time: reused, with nothing to say.
    let server = api(vec![created("twice!")], vec![listing(json!([nine]))]);
    let run = publish(&server).input("schedule-at", &at(3600)).run();
    run.expect_code(0);
    assert_eq!((creates(&server).len(), run.output("reused-post")), (0, "true"));
    assert!(!run.stdout.contains("::warning::reusing"), "{}", run.stdout);
}

/// A job run again after the time its first run scheduled the post for: that post is
/// reused. Without it the step stops with the input's error and posts nothing at a time
/// past; a first run, a dry run or `dedupe: 0` gets that error at once, before any request.
#[test]
fn a_rerun_after_its_scheduled_time_reuses_its_post() {
    let now = SystemTime::now();
    let hour_ago = rfc3339(now - Duration::from_secs(3600));
    let first = json!([{"post_id": "p-old", "content": "Launch day!", "account_ids": [1, 2],
                        "created_at": rfc3339(now - Duration::from_secs(3 * 3600)), "scheduled_for": hour_ago}]);
    let rerun =
        |server: &Server| publish(server).input("schedule-at", &hour_ago).env("GITHUB_RUN_ATTEMPT", "2");
    let server = api(vec![created("twice!")], vec![listing(first.clone())]);
    let run = rerun(&server).run();
    run.expect_code(0);
    assert_eq!(
        (creates(&server).len(), run.output("post-id"), run.output("reused-post")),
        (0, "p-old", "true")
    );
    // GitLab, in a pipeline made before that time (a retried job): the same.
    let server = api(vec![created("twice!")], vec![listing(first)]);
    let pipeline = rfc3339(now - Duration::from_secs(4 * 3600));
    let gitlab = publish(&server).input("schedule-at", &hour_ago);
    let run = gitlab.env("GITLAB_CI", "true").env("CI_PIPELINE_CREATED_AT", &pipeline).run();
    run.expect_code(0);
    assert_eq!((creates(&server).len(), run.output("reused-post")), (0, "true"));
    // Not there: the input's error, nothing posted.
    let server = api(vec![created("twice!")], vec![listing(json!([]))]);
    let run = rerun(&server).run();
    run.expect_code(2);
    assert_eq!(creates(&server).len(), 0);
    let message = run.output("message");
    assert!(message.starts_with("input 'schedule-at' (from INPUT_SCHEDULE-AT) has a bad value"), "{message}");
    assert!(message.contains("this job's first run made no post for that time"), "{message}");
    // The listing refused: never posted blind.
    let refused = Reply::status(403, json!({"error": {"code": "forbidden", "message": "no"}}));
    let server = api(vec![created("twice!")], vec![refused]);
    let gitlab = publish(&server).input("schedule-at", &hour_ago);
    let run = gitlab.env("GITLAB_CI", "true").env("CI_PIPELINE_CREATED_AT", &pipeline).run();
    run.expect_code(4);
    assert_eq!(creates(&server).len(), 0);
    // A first run, a dry run, dedupe 0: the error before any request.
    for (k, v, attempt) in [("dedupe", "24h", "1"), ("dry-run", "true", "2"), ("dedupe", "0", "2")] {
        let server = api(vec![created("twice!")], vec![listing(json!([]))]);
        let run = publish(&server)
            .input("schedule-at", &hour_ago)
            .input(k, v)
            .env("GITHUB_RUN_ATTEMPT", attempt)
            .run();
        run.expect_code(2);
        assert!(run.stderr.contains("is in the past; leave schedule-at out"), "{k} {v}: {}", run.stderr);
        assert!(server.requests().is_empty(), "{k} {v}");
    }
}

/// A post list that gives no text to compare (no post has one, or ours only as a cut
/// preview) cannot tell whether the first run posted: a job run again stops (exit 4,
/// nothing posted), as with a refused listing; a first run warns and posts. (A re-run
/// posted a second time without a word.)
#[test]
fn a_list_without_texts_to_compare_is_a_look_that_cannot_tell() {
    let now = rfc3339(SystemTime::now());
    let bare = json!([{"post_id": "p-old", "account_ids": [1, 2], "created_at": now}]);
    let preview = json!([{"post_id": "p-old", "content": "Launch d…", "account_ids": [1, 2], "created_at": now},
                         {"post_id": "p-x", "content": "Another text", "account_ids": [1], "created_at": now}]);
    for list in [bare.clone(), preview] {
        let server = api(vec![created("twice!")], vec![listing(list.clone())]);
        let run = publish(&server).env("GITHUB_RUN_ATTEMPT", "2").run();
        run.expect_code(4);
        assert_eq!(creates(&server).len(), 0, "{list}");
        let message = run.output("message");
        assert!(message.starts_with("not posting: this job is run again"), "{message}");
        assert!(message.contains("the post list gives"), "{message}");
    }
    // A whole text this one merely begins with ("Launch", no `…`) is another post.
    let other = json!([{"post_id": "p-old", "content": "Launch", "account_ids": [1, 2], "created_at": now}]);
    let server = api(vec![created("p-new")], vec![listing(other)]);
    let run = publish(&server).env("GITHUB_RUN_ATTEMPT", "2").run();
    run.expect_code(0);
    assert_eq!(creates(&server).len(), 1);
    let server = api(vec![created("p-new")], vec![listing(bare)]);
    let run = publish(&server).run();
    run.expect_code(0);
    assert_eq!(creates(&server).len(), 1);
    assert!(
        run.stdout.contains("::warning::could not look for an earlier post with this content (the post list gives its posts no text"),
        "{}",
        run.stdout
    );
}

/// A server that ignores the order asked for and lists the oldest posts first: a first page
/// all older than the window does not end the look (it did, and a re-run posted again).
#[test]
fn a_list_oldest_first_is_read_past_its_old_first_page() {
    let month_ago = SystemTime::now() - Duration::from_secs(30 * 86_400);
    let page1: Vec<Value> = (0..100)
        .map(|n| {
            let at = rfc3339(month_ago + Duration::from_secs(60 * n));
            json!({"post_id": format!("p-{n}"), "content": format!("old {n}"), "account_ids": [1], "created_at": at})
        })
        .collect();
    let page1 = Reply::ok(
        json!({"data": {"posts": page1, "pagination": {"limit": 100, "offset": 0, "has_more": true}}}),
    );
    let mine = json!([{"post_id": "p-first", "content": "Launch day!", "account_ids": [1, 2],
                       "created_at": rfc3339(SystemTime::now() - Duration::from_secs(3600))}]);
    let server = api(vec![created("twice!")], vec![page1, listing(mine)]).route(
        "GET",
        "/api/v1/posts/p-first/results",
        vec![published(&[1, 2])],
    );
    let run = publish(&server).env("GITHUB_RUN_ATTEMPT", "2").run();
    run.expect_code(0);
    assert_eq!((creates(&server).len(), run.output("post-id")), (0, "p-first"));
}

/// A post list with more posts since then than the pages read (5, each saying there are
/// more) cannot tell that no earlier post is there: as a refused listing, warned about
/// on a first run, never posted beside on a re-run, and after a lost create never posted
/// again (before, "none found" and a second post).
#[test]
fn a_post_list_longer_than_the_pages_read_cannot_tell() {
    let now = rfc3339(SystemTime::now());
    let others: Vec<Value> = (0..3)
        .map(|n| json!({"post_id": format!("o{n}"), "content": format!("Other {n}"), "account_ids": [1], "created_at": now}))
        .collect();
    let full = || {
        Reply::ok(
            json!({"data": {"posts": others, "pagination": {"limit": 100, "offset": 0, "has_more": true}}}),
        )
    };
    let said = "more posts were made since then than the newest 500, which the post list was read for";
    let server = api(vec![created("p-new")], vec![full()]);
    let run = publish(&server).run();
    run.expect_code(0);
    assert_eq!(creates(&server).len(), 1);
    assert!(
        run.stdout.contains(&format!(
            "::warning::could not look for an earlier post with this content ({said}); posting"
        )),
        "{}",
        run.stdout
    );

    let server = api(vec![created("p-new")], vec![full()]);
    let run = publish(&server).env("GITHUB_RUN_ATTEMPT", "2").run();
    run.expect_code(4);
    assert_eq!(creates(&server).len(), 0);
    assert!(run.output("message").contains(said), "{}", run.output("message"));

    let server = api(vec![Reply::status(502, json!({})), created("twice!")], vec![full()]);
    let run = publish(&server).input("dedupe", "0").input("timeout", "3s").run();
    run.expect_code(4);
    assert_eq!(creates(&server).len(), 1, "never posted again");
    let message = run.output("message");
    assert!(message.starts_with("the post may have been made") && message.contains(said), "{message}");
}

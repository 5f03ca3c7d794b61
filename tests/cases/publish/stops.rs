//! Publishing that stops rather than post twice, or send what it cannot wait for: a
//! re-run whose earlier post shares only some accounts, a create stopped before it was
//! sent, a create the API holds past the deadline, an upload after it; and a post made at
//! the deadline, said to be so.

use serde_json::json;

use super::*;

/// A create still waiting for the request budget when a signal or the deadline comes was
/// never sent: the step says the post was not created, not that it may have been, and
/// counts no create call.
#[cfg(unix)] // signals are sent with kill(1)
#[test]
fn a_create_stopped_before_it_was_sent_made_no_post() {
    let server = api(vec![created("p-new")], vec![listing(json!([]))]);
    // 60 a minute: the accounts at 0 s, the dedupe look at 1 s, the create not before 2 s.
    let cmd = publish(&server).input("rate-limit", "60").results_file();
    let start = std::time::Instant::now();
    let child = cmd.spawn(&[]);
    while server.hits("GET", POSTS) == 0 {
        assert!(start.elapsed() < Duration::from_secs(10), "no dedupe look arrived");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(200));
    let ok = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(ok.success());
    let run = cmd.collect(child, start);
    run.expect_code(143);
    assert_eq!(creates(&server).len(), 0);
    assert_eq!(run.output("message"), "cancelled by SIGTERM: the post was not created");
    assert_eq!(run.results_file.as_ref().unwrap()["publish"]["create_calls"], 0);
    // The deadline (1.5 s) before the budget allows the create (2 s): none sent or counted.
    let server = api(vec![created("p-new")], vec![listing(json!([]))]);
    let run = publish(&server).input("rate-limit", "60").input("timeout", "1500ms").results_file().run();
    run.expect_code(3);
    assert_eq!(creates(&server).len(), 0);
    assert_eq!(
        run.output("message"),
        "the post was not created before the deadline (the request budget (rate-limit) or a 429's wait held \
         the next request past it)"
    );
    assert_eq!(run.results_file.as_ref().unwrap()["publish"]["create_calls"], 0);
}

/// A first run that skipped an account (skip-unhealthy) posted to the others; the account
/// is reconnected and the job re-run: a post to every account would put the content on
/// the others a second time. Nothing is posted, and the step says why.
#[test]
fn a_rerun_never_posts_again_to_accounts_an_earlier_post_has() {
    let now = rfc3339(SystemTime::now());
    let first =
        json!([{"post_id": "p-old", "content": "Launch day!", "account_ids": [1], "created_at": now}]);
    let a = |id: u64, platform: &str| {
        json!({"id": id, "platform": platform, "platform_username": "brand", "is_active": true,
               "health": {"status": "healthy"}})
    };
    let healed = Reply::ok(json!({"data": {"accounts": [a(1, "x"), a(5, "tiktok")]}}));
    let server =
        api(vec![created("p-new")], vec![listing(first)]).route("GET", "/api/v1/accounts", vec![healed]);
    let run = publish(&server)
        .input("accounts", "x, tiktok")
        .input("skip-unhealthy", "true")
        .env("GITHUB_RUN_ATTEMPT", "2")
        .input("timeout", "2s")
        .run();
    run.expect_code(4);
    assert_eq!(creates(&server).len(), 0);
    assert_eq!((run.output("status"), run.output("created")), ("error", "false"));
    let message = run.output("message");
    assert!(
        message.starts_with("post p-old (made ")
            && message.contains("already has this content, on x @brand (id 1), not on tiktok @brand (id 5):"),
        "{message}"
    );
    assert!(
        message.contains("name only the accounts it lacks to post to them, or set dedupe: 0"),
        "{message}"
    );
    // A job run again looks back a week, not the 24 h dedupe it was given: said so.
    assert!(message.ends_with("set dedupe: 0 to post anyway (it looked back 7days)"), "{message}");
    // The summary does not say it was posted, nor show a table of no posts.
    assert!(run.summary.contains("### What was to be posted\n"), "{}", run.summary);
    assert!(!run.summary.contains("What was posted") && !run.summary.contains("| Post |"), "{}", run.summary);
    // The first run posted to more accounts than this one (one since skipped): nothing either.
    let wider =
        json!([{"post_id": "p-old", "content": "Launch day!", "account_ids": [1, 2, 5], "created_at": now}]);
    let server = api(vec![created("p-new")], vec![listing(wider)]);
    let run = publish(&server).input("timeout", "2s").run();
    run.expect_code(4);
    assert_eq!(creates(&server).len(), 0);
    let message = run.output("message");
    let both = "x @brand (id 1), linkedin @Brand Inc (id 2)";
    assert!(
        message.contains(&format!(
            "already has this content, on {both} and 1 other account: posting again would put it on {both} \
             twice, so nothing was posted; set dedupe: 0"
        )),
        "{message}"
    );
    // Another account with the same text is no second post anywhere: posted.
    let other =
        json!([{"post_id": "p-old", "content": "Launch day!", "account_ids": [3], "created_at": now}]);
    let server = api(vec![created("p-new")], vec![listing(other)]);
    publish(&server).run().expect_code(0);
    assert_eq!(creates(&server).len(), 1);
}

/// A 429 on the create, or a spent budget, whose wait ends after the deadline: the create
/// is not sent on the deadline (a post made then could not be waited for, and the API
/// asked for nothing sooner).
#[test]
fn a_create_held_by_the_api_past_the_deadline_is_not_sent() {
    let limited =
        Reply::status(429, json!({"error": {"code": "rate_limited"}})).with_header("Retry-After", "5");
    let server = api(vec![limited, created("p-new")], vec![listing(json!([]))]);
    let run = publish(&server).input("timeout", "1s").run();
    run.expect_code(3);
    assert_eq!(creates(&server).len(), 1, "{:?}", server.requests());
    // The message and its annotation say why, not "check the post id" (there is none).
    let message = run.output("message");
    assert!(
        message.starts_with(
            "the post was not created before the deadline (rate limited until after it: HTTP 429"
        ),
        "{message}"
    );
    let annotation = run.stdout.lines().find(|l| l.starts_with("::error")).unwrap_or_default();
    assert!(
        annotation.contains("rate limited until after it") && !annotation.contains("post id"),
        "{annotation}"
    );
    // The same when the dedupe look's answer says the key's budget is spent for a minute.
    let reset = SystemTime::now() + Duration::from_secs(60);
    let reset = reset.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs().to_string();
    let spent = listing(json!([]))
        .with_header("X-RateLimit-Limit", "60")
        .with_header("X-RateLimit-Remaining", "0")
        .with_header("X-RateLimit-Reset", reset);
    let server = api(vec![created("p-new")], vec![spent]);
    let run = publish(&server).input("timeout", "1s").run();
    run.expect_code(3);
    assert_eq!(creates(&server).len(), 0, "{:?}", server.requests());
    assert_eq!(
        run.output("message"),
        "the post was not created before the deadline (the request budget (rate-limit) or a 429's wait held \
         the next request past it)"
    );
}

/// An upload URL answered after the deadline (within the request's grace): the file is not
/// sent to the storage host then, and nothing is created.
#[test]
fn no_upload_starts_after_the_deadline() {
    let server = api(vec![created("p-new")], vec![listing(json!([]))]);
    let storage = format!("http://127.0.0.1:{}/storage/m1", server.port());
    let slot = Reply::ok(json!({"data": {"media_id": "m1", "upload_url": storage, "expires_in": 900}}));
    let late = Reply::Delay(Duration::from_millis(900), Box::new(slot));
    let server = server.route("POST", "/api/v1/media/upload", vec![late]);
    let cmd = publish(&server).input("timeout", "500ms");
    let media = png(cmd.path("").as_path());
    let run = cmd.input("media", &media).run();
    run.expect_code(3);
    assert_eq!(server.hits("POST", "/api/v1/media/upload"), 1);
    assert_eq!(server.hits("PUT", "/storage/m1"), 0, "{:?}", server.requests());
    assert_eq!(creates(&server).len(), 0);
    assert!(
        run.output("message").ends_with("could not be uploaded before the deadline"),
        "{}",
        run.output("message")
    );
}

/// A create answered in its grace past the deadline: the post is made (its id an output)
/// and never polled, and the step says it was the publishing that took the time.
#[test]
fn a_post_created_at_the_deadline_is_reported_as_such() {
    let late = Reply::Delay(Duration::from_millis(700), Box::new(created("p-new")));
    let server = api(vec![late], vec![listing(json!([]))]);
    let run = publish(&server).input("timeout", "400ms").run();
    run.expect_code(3);
    assert_eq!((run.output("post-id"), run.output("created")), ("p-new", "true"));
    assert_eq!(server.hits("GET", "/api/v1/posts/p-new/results"), 0);
    let message = run.output("message");
    assert!(
        message.starts_with("not polled before the deadline: publishing the post took the time"),
        "{message}"
    );
}

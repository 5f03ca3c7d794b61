//! What the post itself says, against its results: the post-level status (`publishing`,
//! `failed`, `partially_failed`) and the accounts the post names (`GET /posts/{id}`) when
//! the results disagree with them. A failure is never green on the API's own word; one
//! listed late is waited for.

use serde_json::{Value, json};

use crate::server::{RESULTS, Reply, Server};
use crate::util::{Cmd, account, dest, results};

/// A run that did not post learns the post's accounts from the post itself: one the results
/// do not list yet is waited for, not left to two more polls, so a late failure is never
/// reported green.
#[test]
fn a_post_still_publishing_is_asked_which_accounts_it_is_for() {
    let only_x = json!({"data": {"post_id": "post_1", "post_status": "publishing", "results": [dest("x", "published")]}});
    let both = results(json!([dest("x", "published"), dest("linkedin", "failed")]));
    let post = |ids: Value| {
        Reply::ok(json!({"data": {"post_id": "post_1", "status": "publishing", "account_ids": ids,
                                  "destinations": [dest("x", "publishing"), dest("linkedin", "publishing")]}}))
    };
    let accounts = json!([account("x"), account("linkedin").to_string()]);
    let mut answers = vec![Reply::ok(only_x.clone()); 6];
    answers.push(Reply::ok(both));
    let server = Server::new().results(answers).route("GET", "/api/v1/posts/post_1", vec![post(accounts)]);
    let run = Cmd::github(&server.base_url()).input("poll-interval", "20ms").run();
    run.expect_code(1);
    assert_eq!(server.hits("GET", "/api/v1/posts/post_1"), 1);
    assert_eq!(server.hits("GET", RESULTS), 7, "waited for linkedin until it was listed");
    assert_eq!((run.output("status"), run.output("failed-count")), ("partial", "1"));
    // Never listed: pending to the deadline (exit 3), and the summary names the account.
    let server = Server::new().results(vec![Reply::ok(only_x.clone())]).route(
        "GET",
        "/api/v1/posts/post_1",
        vec![post(json!([account("x"), account("linkedin")]))],
    );
    let run = Cmd::github(&server.base_url()).input("poll-interval", "20ms").input("timeout", "300ms").run();
    run.expect_code(3);
    assert!(run.summary.contains("| linkedin | @\u{200b}linkedin | pending (not listed)"), "{}", run.summary);
    assert!(run.summary.contains("the post names this account"), "{}", run.summary);
    // The log says so when the post names it, not only at the end: the last line before
    // the deadline is never "1/1 published".
    let line = "1/2 published, 0 failed, 1 pending · the post names 1 more account than its results list";
    assert!(run.stdout.contains(line), "{}", run.stdout);
    // Every account it names is listed, or it names none (not in `account_ids`, not in its
    // destinations): the destinations decide after two more polls, as before.
    let named_x = |ids: Value| {
        Reply::ok(json!({"data": {"post_id": "post_1", "status": "publishing", "account_ids": ids,
                                  "destinations": [dest("x", "publishing")]}}))
    };
    for ids in [json!([account("x")]), json!([])] {
        let server = Server::new().results(vec![Reply::ok(only_x.clone())]).route(
            "GET",
            "/api/v1/posts/post_1",
            vec![named_x(ids)],
        );
        let run = Cmd::github(&server.base_url()).run();
        run.expect_code(0);
        assert_eq!(server.hits("GET", RESULTS), 3);
        assert_eq!(server.hits("GET", "/api/v1/posts/post_1"), 1);
    }
    // Its destinations name linkedin, `account_ids` does not: linkedin is waited for.
    let server = Server::new().results(vec![Reply::ok(only_x.clone())]).route(
        "GET",
        "/api/v1/posts/post_1",
        vec![post(json!([]))],
    );
    let run = Cmd::github(&server.base_url()).input("poll-interval", "20ms").input("timeout", "300ms").run();
    run.expect_code(3);
    assert!(run.summary.contains("| linkedin | @\u{200b}linkedin | pending (not listed)"), "{}", run.summary);
}

/// The post calls itself failed or partially_failed, yet every destination its results
/// list published: it is asked which accounts it is for. One never listed counts as failed
/// (with the error the post's own answer gives it); with no account known, one unnamed
/// destination does; only when every account it is for is listed published does the
/// word lag (a re-queued failure since published), and the step is green but says so.
#[test]
fn a_post_that_says_it_failed_is_never_green_unless_every_account_published() {
    let says = |word: &str| {
        Reply::ok(
            json!({"data": {"post_id": "post_1", "post_status": word, "results": [dest("x", "published")]}}),
        )
    };
    let post = |body: Value| Reply::ok(json!({"data": body}));
    let failed_linkedin = {
        let mut d = dest("linkedin", "failed");
        d["error"] = json!("Token expired; reconnect the account");
        d
    };
    // The helper's case: its destinations (no account_ids) show linkedin failed.
    let answer = post(json!({"post_id": "post_1", "status": "partially_failed",
                             "destinations": [dest("x", "published"), failed_linkedin]}));
    let server = Server::new().results(vec![says("partially_failed")]).route(
        "GET",
        "/api/v1/posts/post_1",
        vec![answer],
    );
    let run = Cmd::github(&server.base_url()).input("poll-interval", "20ms").run();
    run.expect_code(1);
    assert_eq!(
        (run.output("status"), run.output("failed-count"), run.output("total-count")),
        ("partial", "1", "2")
    );
    assert!(run.summary.contains("Token expired; reconnect the account"), "{}", run.summary);
    assert!(
        run.output("message").contains("its results never listed 1 destination: counted failed"),
        "{}",
        run.output("message")
    );
    assert_eq!((server.hits("GET", "/api/v1/posts/post_1"), server.hits("GET", RESULTS)), (1, 3));
    // It cannot be asked (404), or names no account: one unnamed destination counts as failed.
    for answer in [Reply::status(404, json!({})), post(json!({"post_id": "post_1", "status": "failed"}))] {
        let server =
            Server::new().results(vec![says("failed")]).route("GET", "/api/v1/posts/post_1", vec![answer]);
        let run = Cmd::github(&server.base_url()).input("poll-interval", "20ms").run();
        run.expect_code(1);
        assert_eq!((run.output("published-count"), run.output("failed-count")), ("1", "1"));
        let message = run.output("message");
        assert!(
            message
                .contains("PostEverywhere calls the post failed, yet its results list no failed destination"),
            "{message}"
        );
        assert!(run.stdout.contains("::error "), "{}", run.stdout);
    }
    // Every account it is for is listed published: the word lags; green, and said.
    let answer = post(json!({"post_id": "post_1", "status": "failed", "account_ids": [account("x")]}));
    let server =
        Server::new().results(vec![says("failed")]).route("GET", "/api/v1/posts/post_1", vec![answer]);
    let run = Cmd::github(&server.base_url()).input("poll-interval", "20ms").run();
    run.expect_code(0);
    assert_eq!(run.output("status"), "published");
    assert!(run.output("message").contains(
        "PostEverywhere calls the post failed, yet every destination it is known to have is listed published"
    ));
    // The deadline comes before the post is asked: never green either.
    let server =
        Server::new().results(vec![says("failed")]).route("GET", "/api/v1/posts/post_1", vec![Reply::Hang]);
    let run = Cmd::github(&server.base_url()).input("timeout", "300ms").run();
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.output("failed-count"), "1");
    // And the message says what was cut short: with retry-failed 0, no re-queue was.
    let message = run.output("message");
    assert!(!message.contains("re-queued"), "{message}");
    assert!(message.contains("the deadline came before the post's own status could be checked"), "{message}");
}

/// A failure this run re-queued publishes while the post still calls itself
/// partially_failed (the word lags); its destinations carry ids, no accounts. Green, and
/// said, whether the post's own answer lists the same destinations or cannot be read; red
/// when that answer lists a destination the results never do, counted failed with its error.
/// (Found in review: red with an invented third destination.)
#[test]
fn a_requeued_failure_since_published_is_green_though_the_word_lags() {
    let d = |id: &str, platform: &str, status: &str| {
        json!({"id": id, "platform": platform, "status": status,
               "error": (status == "failed").then_some("Platform returned 503"),
               "platform_post_url": (status == "published").then(|| format!("https://{platform}.example/p/1"))})
    };
    let listing = |li: &str| {
        Reply::ok(json!({"data": {"post_id": "post_1", "post_status": "partially_failed",
                                  "results": [d("d1", "x", "published"), d("d2", "linkedin", li)]}}))
    };
    let retry = Reply::ok(json!({"data": {"post_id": "post_1", "retried_count": 1}}));
    let run_with = |post: Reply| {
        let server = Server::new()
            .results(vec![listing("failed"), listing("published")])
            .route("POST", "/api/v1/posts/post_1/retry", vec![retry.clone()])
            .route("GET", "/api/v1/posts/post_1", vec![post]);
        let run =
            Cmd::github(&server.base_url()).input("poll-interval", "20ms").input("retry-failed", "1").run();
        (server, run)
    };
    let own = |dests: Value| {
        Reply::ok(json!({"data": {"post_id": "post_1", "status": "partially_failed", "destinations": dests}}))
    };
    for post in [
        own(json!([d("d1", "x", "published"), d("d2", "linkedin", "failed")])),
        Reply::status(404, json!({})),
    ] {
        let (server, run) = run_with(post);
        run.expect_code(0);
        assert_eq!((run.output("total-count"), run.output("retried-count")), ("2", "1"), "{}", run.stdout);
        assert_eq!(server.hits("POST", "/api/v1/posts/post_1/retry"), 1);
        assert!(
            run.output("message").contains("yet every destination it is known to have is listed published")
        );
    }
    // Its own answer lists a third destination the results never do: counted failed.
    let mut third = d("d3", "threads", "failed");
    third["error"] = json!("Token expired");
    let (_, run) = run_with(own(json!([d("d1", "x", "published"), d("d2", "linkedin", "published"), third])));
    run.expect_code(1);
    assert_eq!((run.output("total-count"), run.output("failed-count")), ("3", "1"));
    assert!(run.summary.contains("Token expired"), "{}", run.summary);
}

/// The post's own destinations are matched to the listed ones one for one: by account, by
/// id where the ids compare, else by platform. A failure only the post lists is counted,
/// whether or not the results carry accounts or ids; ids of another kind (the post's own id
/// on each row) never invent destinations. (Found in review.)
#[test]
fn the_posts_own_destinations_are_matched_one_for_one() {
    let row = |extra: Value| {
        let mut d =
            json!({"platform": "x", "status": "published", "platform_post_url": "https://x.example/p/1"});
        d.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        d
    };
    let says = |rows: Value| {
        Reply::ok(json!({"data": {"post_id": "post_1", "post_status": "partially_failed", "results": rows}}))
    };
    let own = |dests: Value| {
        Reply::ok(json!({"data": {"post_id": "post_1", "status": "partially_failed", "destinations": dests}}))
    };
    let by_id = json!([{"id": "d1", "platform": "x", "status": "published"},
                       {"id": "d2", "platform": "linkedin", "status": "failed", "error": "Token expired. Please reconnect."}]);
    // Results with an account, or with nothing but the platform: linkedin failed, counted.
    for listed in [row(json!({"account_id": 1})), row(json!({}))] {
        let server = Server::new().results(vec![says(json!([listed]))]).route(
            "GET",
            "/api/v1/posts/post_1",
            vec![own(by_id.clone())],
        );
        let run = Cmd::github(&server.base_url()).input("poll-interval", "20ms").run();
        run.expect_code(1);
        assert_eq!((run.output("total-count"), run.output("failed-count")), ("2", "1"));
        assert!(run.summary.contains("Token expired. Please reconnect."), "{}", run.summary);
    }
    // Every row carries the post's id; the post's destinations have their own: matched by
    // platform, both published, the word lags.
    let rows = json!([row(json!({"id": "post_1", "account_id": 1})),
                      {"id": "post_1", "account_id": 2, "platform": "linkedin", "status": "published"}]);
    let uuids = json!([{"id": "8a1f-01", "platform": "x", "status": "published"},
                       {"id": "8a1f-02", "platform": "linkedin", "status": "published"}]);
    let server =
        Server::new().results(vec![says(rows)]).route("GET", "/api/v1/posts/post_1", vec![own(uuids)]);
    let run = Cmd::github(&server.base_url()).input("poll-interval", "20ms").run();
    run.expect_code(0);
    assert_eq!(run.output("total-count"), "2");
}

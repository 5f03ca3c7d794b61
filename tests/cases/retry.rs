//! Re-queueing failed destinations: what is retried and what is not, both body forms,
//! ambiguous and rate-limited retry calls, and repeated rounds.

use serde_json::{Value, json};

use crate::server::{RESULTS, Reply, Server};
use crate::util::{Cmd, account, dest, results};

const RETRY: &str = "/api/v1/posts/post_1/retry";

fn failed(platform: &str, error: &str, attempts: u64) -> Value {
    let mut d = dest(platform, "failed");
    d["error"] = json!(error);
    d["attempts"] = json!(attempts);
    d
}

fn accepted() -> Reply {
    Reply::ok(
        json!({"data": {"post_id": "post_1", "retried_count": 1, "destinations": [], "next_step": "poll"}}),
    )
}

fn bodies(server: &Server) -> Vec<Value> {
    server
        .requests()
        .iter()
        .filter(|r| r.path == RETRY)
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect()
}

#[test]
fn a_transient_failure_is_retried_and_then_publishes() {
    let server = Server::new()
        .results(vec![
            Reply::ok(results(json!([
                dest("instagram", "published"),
                failed("x", "Platform returned 503", 1)
            ]))),
            Reply::ok(results(json!([dest("instagram", "published"), dest("x", "queued")]))),
            Reply::ok(results(json!([dest("instagram", "published"), dest("x", "published")]))),
        ])
        .route("POST", RETRY, vec![accepted()]);
    let run = Cmd::github(&server.base_url()).input("retry-failed", "1").run();
    run.expect_code(0);
    assert_eq!(run.output("status"), "published");
    assert_eq!(run.output("retried-count"), "1");
    assert_eq!(bodies(&server), vec![json!({"account_ids": [account("x")]})]);
    let post = server.requests().into_iter().find(|r| r.path == RETRY).unwrap();
    assert_eq!(post.header("content-type"), Some("application/json"));
    assert_eq!(run.results()[1]["retries"], 1);
    assert!(run.summary.contains("| Retried |") && run.summary.contains("1 re-queued"), "{}", run.summary);
}

#[test]
fn failures_a_retry_cannot_fix_are_reported_not_retried() {
    let server = Server::new()
        .results(vec![Reply::ok(results(json!([
            dest("instagram", "published"),
            failed("linkedin", "Token expired. Please reconnect your LinkedIn account.", 3),
            failed("x", "Text is too long (312 of 280 characters)", 1),
            // A limit that looks like a server's status (500) is still the content's fault.
            failed("threads", "Text is too long (max 500 characters)", 1),
        ])))])
        .route("POST", RETRY, vec![accepted()]);
    let run = Cmd::github(&server.base_url()).input("retry-failed", "3").run();
    run.expect_code(1);
    assert_eq!(server.hits("POST", RETRY), 0);
    assert_eq!(run.output("retried-count"), "0");
    assert!(
        run.summary.contains("failed (reconnect)") && run.summary.matches("failed (content)").count() == 2,
        "{}",
        run.summary
    );
    assert!(run.summary.contains("reconnect this account in PostEverywhere"), "{}", run.summary);
    assert!(run.summary.contains("fix the content or media"), "{}", run.summary);
}

#[test]
fn a_failure_the_platform_will_retry_is_never_requeued() {
    let mut scheduled = failed("x", "Platform returned 503", 1);
    scheduled["next_retry_at"] = json!("2099-01-01T00:00:00Z");
    let server = Server::new()
        .results(vec![
            Reply::ok(results(json!([scheduled.clone()]))),
            Reply::ok(results(json!([scheduled]))),
            Reply::ok(results(json!([dest("x", "published")]))),
        ])
        .route("POST", RETRY, vec![accepted()]);
    let run = Cmd::github(&server.base_url()).input("retry-failed", "2").run();
    run.expect_code(0);
    assert_eq!(server.hits("POST", RETRY), 0);
}

#[test]
fn a_rejected_body_form_falls_back_to_the_other_once() {
    let mut d = failed("x", "boom", 1);
    d["id"] = json!("dest_456");
    let server = Server::new()
        .results(vec![Reply::ok(results(json!([d]))), Reply::ok(results(json!([dest("x", "published")])))])
        .route(
            "POST",
            RETRY,
            vec![
                Reply::status(400, json!({"data": null, "error": {"code": "invalid_field_name", "message": "unknown field account_ids"}})),
                accepted(),
            ],
        );
    let run = Cmd::github(&server.base_url()).input("retry-failed", "1").run();
    run.expect_code(0);
    assert_eq!(
        bodies(&server),
        vec![json!({"account_ids": [account("x")]}), json!({"destinationIds": ["dest_456"]})]
    );
}

#[test]
fn a_retry_call_that_fails_ambiguously_is_not_repeated_when_it_took_effect() {
    let server = Server::new()
        .results(vec![
            Reply::ok(results(json!([failed("x", "boom", 1)]))),
            Reply::ok(results(json!([dest("x", "queued")]))),
            Reply::ok(results(json!([dest("x", "published")]))),
        ])
        .route(
            "POST",
            RETRY,
            vec![Reply::status(502, json!({"error": {"code": "bad_gateway", "message": "upstream"}}))],
        );
    let run = Cmd::github(&server.base_url()).input("retry-failed", "1").run();
    run.expect_code(0);
    assert_eq!(server.hits("POST", RETRY), 1, "exactly one POST");
    assert_eq!(run.output("retried-count"), "1");
}

/// A re-queue answered 503 with `Retry-After` may have taken effect: the results decide,
/// read no sooner than the API asked (the next poll would be 20 ms later).
#[test]
fn a_retry_call_answered_503_with_retry_after_holds_the_next_poll() {
    let down =
        Reply::status(503, json!({"error": {"code": "maintenance"}})).with_header("Retry-After", "0.4");
    let server = Server::new()
        .results(vec![
            Reply::ok(results(json!([failed("x", "boom", 1)]))),
            Reply::ok(results(json!([dest("x", "published")]))),
        ])
        .route("POST", RETRY, vec![down]);
    let run = Cmd::github(&server.base_url()).input("retry-failed", "1").run();
    run.expect_code(0);
    let r = server.requests();
    let retry = r.iter().position(|q| q.path == RETRY).unwrap();
    let next = r[retry + 1..].iter().find(|q| q.path == RESULTS).unwrap();
    let gap = next.at - r[retry].at;
    assert!(gap >= std::time::Duration::from_millis(390), "{gap:?}");
    assert_eq!(server.hits("POST", RETRY), 1);
}

#[test]
fn a_rate_limited_retry_call_is_repeated_after_waiting() {
    let server = Server::new()
        .results(vec![
            Reply::ok(results(json!([failed("x", "boom", 1)]))),
            Reply::ok(results(json!([dest("x", "published")]))),
        ])
        .route(
            "POST",
            RETRY,
            vec![
                Reply::status(
                    429,
                    json!({"error": {"code": "rate_limited", "message": "m", "retryAfter": 0.3}}),
                ),
                accepted(),
            ],
        );
    let run = Cmd::github(&server.base_url()).input("retry-failed", "1").run();
    run.expect_code(0);
    let posts: Vec<_> = server.requests().into_iter().filter(|r| r.path == RETRY).collect();
    assert_eq!(posts.len(), 2);
    assert!(posts[1].at.as_millis() - posts[0].at.as_millis() >= 290);
    assert_eq!(run.output("retried-count"), "1");
}

#[test]
fn two_rounds_of_retries_then_success() {
    let server = Server::new()
        .results(vec![
            Reply::ok(results(json!([failed("x", "Platform returned 503", 1)]))),
            Reply::ok(results(json!([dest("x", "queued")]))),
            Reply::ok(results(json!([failed("x", "Platform returned 503", 2)]))),
            Reply::ok(results(json!([dest("x", "publishing")]))),
            Reply::ok(results(json!([dest("x", "published")]))),
        ])
        .route("POST", RETRY, vec![accepted()]);
    let run = Cmd::github(&server.base_url()).input("retry-failed", "2").run();
    run.expect_code(0);
    assert_eq!(server.hits("POST", RETRY), 2);
    assert_eq!(run.output("retried-count"), "2");
    assert_eq!(server.hits("GET", RESULTS), 5);
}

#[test]
fn the_retry_budget_is_respected() {
    let server = Server::new()
        .results(vec![
            Reply::ok(results(json!([failed("x", "boom", 1)]))),
            Reply::ok(results(json!([failed("x", "boom", 2)]))),
        ])
        .route("POST", RETRY, vec![accepted()]);
    let run = Cmd::github(&server.base_url()).input("retry-failed", "1").run();
    run.expect_code(1);
    assert_eq!(server.hits("POST", RETRY), 1);
    assert_eq!(run.output("status"), "failed");
}

#[test]
fn an_ambiguous_retry_without_attempts_counts_against_the_budget() {
    let mut d = failed("x", "boom", 1);
    d.as_object_mut().unwrap().remove("attempts");
    let server = Server::new().results(vec![Reply::ok(results(json!([d])))]).route(
        "POST",
        RETRY,
        vec![Reply::status(502, json!({"error": {"code": "bad_gateway", "message": "upstream"}}))],
    );
    let run = Cmd::github(&server.base_url()).input("retry-failed", "1").input("timeout", "2s").run();
    run.expect_code(1);
    assert_eq!(server.hits("POST", RETRY), 1, "never more than retry-failed POSTs");
}

/// A re-queue the API refuses is not asked again, and the `message` output says why (the
/// outcome is the failure); a wait that went as asked has an empty `message`.
#[test]
fn a_refused_retry_is_noted_in_the_message() {
    let server = Server::new().results(vec![Reply::ok(results(json!([failed("x", "boom", 1)])))]).route(
        "POST",
        RETRY,
        vec![Reply::status(409, json!({"error": {"code": "not_retryable", "message": "already retried"}}))],
    );
    let run = Cmd::github(&server.base_url()).input("retry-failed", "2").run();
    run.expect_code(1);
    assert_eq!(run.output("status"), "failed");
    assert!(run.output("message").starts_with("retry refused: "), "{}", run.output("message"));
    assert!(run.output("message").contains("already retried"), "{}", run.output("message"));
    assert_eq!(bodies(&server).len(), 1);

    let server = Server::new().results(vec![Reply::ok(results(json!([dest("x", "published")])))]);
    let run = Cmd::github(&server.base_url()).run();
    run.expect_code(0);
    assert_eq!(run.output("message"), "");
}

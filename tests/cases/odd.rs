//! Answers that are odd but honest: a byte order mark before the JSON, a 200 that carries an
//! error and no destinations, a rate limit spent until after the deadline, a reset on a
//! clock 10 minutes off this one. Each is read for what it says, and the log and message
//! say it.

use std::time::Duration;

use serde_json::json;

use crate::server::{Reply, Server};
use crate::util::{Cmd, dest, results, rfc3339};

/// A UTF-8 byte order mark before the body (some proxies add one) is read past.
#[test]
fn a_byte_order_mark_before_the_json_is_read_past() {
    let mut body = b"\xEF\xBB\xBF".to_vec();
    body.extend(results(json!([dest("x", "published")])).to_string().into_bytes());
    let server =
        Server::new().results(vec![Reply::Raw(200, vec![("Content-Type", "application/json".into())], body)]);
    let run = Cmd::github(&server.base_url()).run();
    run.expect_code(0);
    assert_eq!(run.output("published-count"), "1");
}

/// A 200 with an error and no destinations: the API's words are shown; one it calls not
/// retryable stops the wait at once, any other is tried again.
#[test]
fn an_error_inside_a_200_is_shown_as_the_api_said_it() {
    let error = |retryable: bool| {
        Reply::ok(
            json!({"data": null, "error": {"code": "not_found", "message": "Post not found", "retryable": retryable},
                         "meta": {"request_id": "req_9"}}),
        )
    };
    let server = Server::new().results(vec![error(false)]);
    let run = Cmd::github(&server.base_url()).run();
    run.expect_code(4);
    assert_eq!(server.requests().len(), 1, "not asked again");
    let message = run.output("message");
    assert!(
        message.contains(
            "the API answered HTTP 200: not_found: Post not found (request id req_9), and no destinations"
        ),
        "{message}"
    );
    // Retryable: asked again, and the next answer counts.
    let server =
        Server::new().results(vec![error(true), Reply::ok(results(json!([dest("x", "published")])))]);
    let run = Cmd::github(&server.base_url()).input("poll-interval", "20ms").run();
    run.expect_code(0);
    assert!(run.stdout.contains("Post not found"), "{}", run.stdout);
}

/// A budget the API says is spent until after the deadline: said when it is spent, once;
/// one last poll at the deadline, and the message says why the wait got no further.
#[test]
fn a_rate_limit_spent_past_the_deadline_is_said() {
    let spent = Reply::ok(results(json!([dest("x", "publishing")])))
        .with_header("X-RateLimit-Limit", "60")
        .with_header("X-RateLimit-Remaining", "0")
        .with_header("X-RateLimit-Reset", "60");
    let server = Server::new().results(vec![spent]);
    let run = Cmd::github(&server.base_url()).input("timeout", "700ms").input("poll-interval", "100ms").run();
    run.expect_code(3);
    assert_eq!(server.requests().len(), 2, "the first poll, and one at the deadline");
    assert!(run.elapsed >= Duration::from_millis(700), "ended after {:?}", run.elapsed);
    let said = "the API's rate limit is spent (X-RateLimit-Remaining 0) until it resets in 1m00s; past the deadline: \
                one last request at the deadline, in";
    assert_eq!(run.stdout.matches(said).count(), 1, "{}", run.stdout);
    let message = run.output("message");
    assert!(
        message.contains("the API's rate limit (X-RateLimit-Remaining 0) was spent until after the deadline"),
        "{message}"
    );
}

/// A budget the API says is spent until `reset` (given in unix seconds), its answer dated
/// `date`: the run (8 s at most, published at the second answer) and its requests' gap.
fn spent_until(date: std::time::SystemTime, reset: std::time::SystemTime) -> (crate::util::Run, Duration) {
    let epoch = reset.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let spent = Reply::ok(results(json!([dest("x", "publishing")])))
        .with_header("Date", httpdate::fmt_http_date(date))
        .with_header("X-RateLimit-Limit", "60")
        .with_header("X-RateLimit-Remaining", "0")
        .with_header("X-RateLimit-Reset", epoch.to_string());
    let server = Server::new().results(vec![spent, Reply::ok(results(json!([dest("x", "published")])))]);
    let run = Cmd::github(&server.base_url()).input("timeout", "8s").input("poll-interval", "100ms").run();
    run.expect_code(0);
    let r = server.requests();
    assert_eq!(r.len(), 2);
    (run, r[1].at - r[0].at)
}

/// This machine's clock 10 minutes behind the API's: a reset given in unix seconds, read on
/// this clock, would be 10 minutes away, past the deadline. Read on the API's (its `Date`
/// header) it is a second away: waited out, and the post is seen published.
#[test]
fn a_reset_is_read_on_the_apis_clock() {
    let api_now = std::time::SystemTime::now() + Duration::from_secs(600);
    let (run, gap) = spent_until(api_now, api_now + Duration::from_secs(1));
    // The reset is 0-1 s away on the API's clock (Date has whole seconds), plus a margin.
    assert!(gap < Duration::from_secs(3), "{gap:?}");
    assert!(run.stdout.contains(" behind PostEverywhere's (by its Date header)"), "{}", run.stdout);
}

/// A post's schedule is read against the deadline on the API's clock alone: 60 s after the
/// API's now is after a 3 s deadline though this machine's clock runs 10 minutes ahead (on
/// it, the time is long past), and 1 s after it is before the deadline though this clock
/// runs 10 minutes behind (on it, the time is minutes past the deadline).
#[test]
fn a_schedule_is_read_on_the_apis_clock() {
    for (skew, due_in, scheduled) in [(-600i64, 60, true), (600, 1, false)] {
        let api_now = if skew < 0 {
            std::time::SystemTime::now() - Duration::from_secs(skew.unsigned_abs())
        } else {
            std::time::SystemTime::now() + Duration::from_secs(skew.unsigned_abs())
        };
        let dated = |r: Reply| r.with_header("Date", httpdate::fmt_http_date(api_now));
        let at = rfc3339(api_now + Duration::from_secs(due_in));
        let queued = dated(Reply::ok(results(json!([dest("x", "queued")]))));
        let published = dated(Reply::ok(results(json!([dest("x", "published")]))));
        let post = json!({"data": {"post_id": "post_1", "status": "scheduled", "scheduled_for": at}});
        let server = Server::new().results(vec![queued, published]).route(
            "GET",
            "/api/v1/posts/post_1",
            vec![dated(Reply::ok(post))],
        );
        let run =
            Cmd::github(&server.base_url()).input("timeout", "3s").input("poll-interval", "100ms").run();
        run.expect_code(0);
        let status = if scheduled { "scheduled" } else { "published" };
        assert_eq!(run.output("status"), status, "clock {skew} s off, due in {due_in} s: {}", run.stdout);
        assert_eq!(server.requests().len(), if scheduled { 2 } else { 3 }, "{skew}");
    }
}

/// A `Date` more than an hour from this machine's clock is not believed (a broken server, or
/// a cached page): nothing is read on it, and the log says nothing of the clock. A reset in
/// unix seconds is then read on this machine's clock, a second away (on the `Date`'s, two
/// hours away, past the deadline).
#[test]
fn a_date_hours_off_is_not_believed() {
    let now = std::time::SystemTime::now();
    let (run, gap) = spent_until(now - Duration::from_secs(2 * 3600), now + Duration::from_secs(1));
    assert!(gap < Duration::from_secs(3), "{gap:?}");
    assert!(!run.stdout.contains("clock is"), "{}", run.stdout);
}

/// Two destinations on one platform that name nothing else (the polling example's shape:
/// platform, status, url, error) are two: one published and one failed is `partial`, not a
/// failure, and both are counted.
#[test]
fn a_platform_alone_twice_is_two_destinations() {
    let body = json!({"destinations": [
        {"platform": "x", "status": "published", "url": "https://x.example/a/1"},
        {"platform": "x", "status": "failed", "error": "boom"},
    ]});
    let server = Server::new().results(vec![Reply::ok(body)]);
    let run = Cmd::github(&server.base_url()).input("fail-on", "all").run();
    run.expect_code(0);
    assert_eq!(
        (run.output("status"), run.output("total-count"), run.output("failed-count")),
        ("partial", "2", "1")
    );
    assert_eq!(run.output("published-urls"), "https://x.example/a/1");
}

/// A 503 that says when to come back is waited out, and still counts towards `max-errors`:
/// a server that keeps answering so ends the wait after that many, not at the deadline.
#[test]
fn a_server_error_with_retry_after_counts_towards_max_errors() {
    let down = || {
        Reply::status(503, json!({"error": {"code": "maintenance", "message": "back soon"}}))
            .with_header("Retry-After", "0.05")
    };
    let server = Server::new().results(vec![down(), down(), down()]);
    let run = Cmd::github(&server.base_url()).input("max-errors", "2").input("timeout", "20s").run();
    run.expect_code(4);
    assert_eq!(server.requests().len(), 2);
    assert!(run.elapsed < Duration::from_secs(5), "{:?}", run.elapsed);
    let message = run.output("message");
    assert!(
        message.starts_with("gave up after 2 failed requests in a row; last error: HTTP 503"),
        "{message}"
    );
}

/// A 200 carrying an error other than `not_found`: one the API calls not retryable stops
/// the wait at once; one that does not say is asked again.
#[test]
fn an_error_inside_a_200_stops_only_when_the_api_says_so() {
    let quota = |retryable: Option<bool>| {
        let mut error = json!({"code": "quota_exceeded", "message": "Monthly quota reached"});
        if let Some(r) = retryable {
            error["retryable"] = json!(r);
        }
        Reply::ok(json!({"data": null, "error": error}))
    };
    let server =
        Server::new().results(vec![quota(Some(false)), Reply::ok(results(json!([dest("x", "published")])))]);
    let run = Cmd::github(&server.base_url()).run();
    run.expect_code(4);
    assert_eq!(server.requests().len(), 1, "not asked again");
    assert!(
        run.output("message").contains("quota_exceeded: Monthly quota reached"),
        "{}",
        run.output("message")
    );
    let server =
        Server::new().results(vec![quota(None), Reply::ok(results(json!([dest("x", "published")])))]);
    let run = Cmd::github(&server.base_url()).run();
    run.expect_code(0);
    assert_eq!(server.requests().len(), 2);
    assert!(run.stdout.contains("quota_exceeded: Monthly quota reached"), "{}", run.stdout);
}

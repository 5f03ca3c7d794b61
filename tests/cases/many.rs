//! Several posts in one step, the shared request budget, scheduled and draft posts.

use std::time::Duration;

use serde_json::{Value, json};

use crate::server::{Reply, Server};
use crate::util::{Cmd, dest, results};

fn results_of(post: &str) -> String {
    format!("/api/v1/posts/{post}/results")
}

#[test]
fn three_posts_with_mixed_outcomes_aggregate() {
    let server = Server::new()
        .route(
            "GET",
            &results_of("post_a"),
            vec![Reply::ok(results(json!([dest("instagram", "published"), dest("x", "published")])))],
        )
        .route(
            "GET",
            &results_of("post_b"),
            vec![
                Reply::ok(results(json!([dest("linkedin", "publishing")]))),
                Reply::ok(results(json!([dest("linkedin", "failed")]))),
            ],
        )
        .route(
            "GET",
            &results_of("post_c"),
            vec![Reply::ok(results(json!([dest("threads", "published"), dest("x", "failed")])))],
        );
    let run = Cmd::github(&server.base_url()).input("post-id", "post_a, post_b\npost_c post_a").run();
    run.expect_code(1);
    assert_eq!(run.output("status"), "partial");
    assert_eq!(run.output("total-count"), "5");
    assert_eq!(run.output("published-count"), "3");
    assert_eq!(run.output("failed-count"), "2");
    assert_eq!(run.output("failed-platforms"), "linkedin,x");
    assert_eq!(run.output("published-urls").lines().count(), 3);
    let posts: Vec<String> =
        run.results().iter().map(|r| r["post_id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(posts, ["post_a", "post_a", "post_b", "post_c", "post_c"]);
    assert_eq!(
        server.hits("GET", &results_of("post_a")),
        1,
        "a finished post is not polled again; duplicates dropped"
    );
    for section in [
        "### Post <code>post&#95;a</code>: published",
        "### Post <code>post&#95;b</code>: failed",
        "### Post <code>post&#95;c</code>: partial",
    ] {
        assert!(run.summary.contains(section), "{section}\n{}", run.summary);
    }
    assert!(run.summary.contains("3 posts · status **partial**"));
}

#[test]
fn fail_on_all_judges_each_post() {
    let server = Server::new()
        .route("GET", &results_of("post_a"), vec![Reply::ok(results(json!([dest("x", "published")])))])
        .route("GET", &results_of("post_b"), vec![Reply::ok(results(json!([dest("x", "failed")])))]);
    let run = Cmd::github(&server.base_url()).input("post-id", "post_a,post_b").input("fail-on", "all").run();
    run.expect_code(1);
    let run =
        Cmd::github(&server.base_url()).input("post-id", "post_a,post_b").input("fail-on", "never").run();
    run.expect_code(0);
}

#[test]
fn twenty_posts_share_one_request_budget() {
    let mut server = Server::new();
    let ids: Vec<String> = (0..20).map(|i| format!("p{i:02}")).collect();
    for id in &ids {
        server = server.route(
            "GET",
            &results_of(id),
            vec![
                Reply::ok(results(json!([dest("x", "publishing")]))),
                Reply::ok(results(json!([dest("x", "published")]))),
            ],
        );
    }
    // 1200 a minute: at most 20 requests in any second, one every 50 ms.
    let run =
        Cmd::github(&server.base_url()).input("post-id", &ids.join(" ")).input("rate-limit", "1200").run();
    run.expect_code(0);
    let times: Vec<Duration> = server.requests().iter().map(|r| r.at).collect();
    assert_eq!(times.len(), 40);
    for (i, t) in times.iter().enumerate() {
        let in_window = times[i..].iter().take_while(|u| **u < *t + Duration::from_secs(1)).count();
        assert!(in_window <= 20, "{in_window} requests in the second after {t:?}");
    }
    // No bursts: sent 50 ms apart. These are arrival times at the test server, which carry
    // its scheduling delays (10 ms seen under Wine on two busy cores), so half the spacing
    // is asked for; the budget itself is the check above.
    for w in times.windows(2) {
        assert!(w[1] - w[0] >= Duration::from_millis(25), "requests {:?} apart", w[1] - w[0]);
    }
}

#[test]
fn a_post_scheduled_after_the_deadline_is_not_waited_for() {
    let queued = results(json!([dest("instagram", "queued"), dest("x", "queued")]));
    let server = Server::new().results(vec![Reply::ok(queued)]).route(
        "GET",
        "/api/v1/posts/post_1",
        vec![Reply::ok(json!({"data": {"post_id": "post_1", "status": "scheduled",
            "scheduled_for": "2099-06-01T09:00:00Z", "destinations": []}}))],
    );
    let run = Cmd::github(&server.base_url()).input("timeout", "60").run();
    run.expect_code(0);
    assert_eq!(run.output("status"), "scheduled");
    assert!(run.elapsed < Duration::from_secs(5));
    assert!(
        run.summary.contains("scheduled for 2099-06-01T09:00:00Z, after the deadline"),
        "{}",
        run.summary
    );
    assert_eq!(server.requests().len(), 2);
}

/// A destination that already failed (an account that cannot post fails at once) is not
/// hidden by the schedule: `fail-on` judges it, and the message says so.
#[test]
fn a_scheduled_post_that_already_failed_somewhere_is_not_green() {
    let body = json!({"data": {"post_id": "post_1", "post_status": "scheduled",
        "results": [dest("x", "queued"), dest("linkedin", "failed")]}});
    let post = json!({"data": {"post_id": "post_1", "status": "scheduled", "scheduled_for": "2099-06-01T09:00:00Z"}});
    for (fail_on, code) in [("any", 1), ("all", 0), ("never", 0)] {
        let server = Server::new().results(vec![Reply::ok(body.clone())]).route(
            "GET",
            "/api/v1/posts/post_1",
            vec![Reply::ok(post.clone())],
        );
        let run = Cmd::github(&server.base_url()).input("timeout", "60").input("fail-on", fail_on).run();
        run.expect_code(code);
        assert_eq!((run.output("status"), run.output("failed-count")), ("scheduled", "1"), "{fail_on}");
        assert_eq!(run.output("exit-code"), code.to_string());
        let already = "after the deadline; not waited for; 1 destination already failed";
        assert!(run.output("message").contains(already), "{}", run.output("message"));
        assert!(
            run.summary.contains(already) && run.summary.contains("| ❌ | linkedin |"),
            "{}",
            run.summary
        );
    }
}

/// Waits for `post_a`, scheduled for 2099 with `dests` listed, beside `post_b`, published.
fn scheduled_beside_published(dests: Value) -> crate::util::Run {
    let scheduled = json!({"data": {"post_id": "post_a", "post_status": "scheduled", "results": dests}});
    let post = json!({"data": {"status": "scheduled", "scheduled_for": "2099-06-01T09:00:00Z"}});
    let server = Server::new()
        .route("GET", &results_of("post_a"), vec![Reply::ok(scheduled)])
        .route("GET", "/api/v1/posts/post_a", vec![Reply::ok(post)])
        .route("GET", &results_of("post_b"), vec![Reply::ok(results(json!([dest("x", "published")])))]);
    Cmd::github(&server.base_url()).input("post-id", "post_a, post_b").input("timeout", "60").run()
}

/// Beside a published post, a scheduled one that already failed somewhere makes the step
/// partial, never published.
#[test]
fn a_scheduled_post_that_failed_somewhere_is_counted_beside_others() {
    let run = scheduled_beside_published(json!([dest("x", "queued"), dest("linkedin", "failed")]));
    run.expect_code(1);
    assert_eq!(run.output("status"), "partial");
    let message = run.output("message");
    assert!(message.starts_with("post post_a: scheduled for 2099-06-01T09:00:00Z"), "{message}");
    assert!(message.contains("1 destination already failed"), "{message}");
    assert!(
        run.summary.contains("⚠️ PostEverywhere: 1 of 3 destinations published, 1 failed"),
        "{}",
        run.summary
    );
}

/// With several posts the step's message carries every post's note, not only the troubled
/// ones': here a schedule beside a published post (exit 0).
#[test]
fn the_message_of_several_posts_keeps_each_posts_note() {
    let run = scheduled_beside_published(json!([dest("x", "queued")]));
    run.expect_code(0);
    assert_eq!(run.output("status"), "published");
    assert_eq!(
        run.output("message"),
        "post post_a: scheduled for 2099-06-01T09:00:00Z, after the deadline; not waited for"
    );
}

/// `t` as RFC 3339 in the zone `offset` hours east (with milliseconds or without).
fn in_zone(t: std::time::SystemTime, offset: i64, millis: bool) -> String {
    let shift = std::time::Duration::from_secs(offset.unsigned_abs() * 3600);
    let local = if offset >= 0 { t + shift } else { t - shift };
    let text = if millis {
        humantime::format_rfc3339_millis(local)
    } else {
        humantime::format_rfc3339_seconds(local)
    };
    let sign = if offset >= 0 { '+' } else { '-' };
    format!("{}{sign}{:02}:00", text.to_string().trim_end_matches('Z'), offset.abs())
}

/// Due before the deadline however the API writes the time: waited for. (A `+05:00` with
/// milliseconds was once read five hours late: "after the deadline", green at once.)
#[test]
fn a_post_due_before_the_deadline_is_waited_for() {
    let now = std::time::SystemTime::now();
    for soon in [humantime::format_rfc3339(now).to_string(), in_zone(now, 5, true), in_zone(now, -5, false)] {
        let queued = results(json!([dest("x", "queued")]));
        let server = Server::new()
            .results(vec![
                Reply::ok(queued.clone()),
                Reply::ok(queued),
                Reply::ok(results(json!([dest("x", "failed")]))),
            ])
            .route(
                "GET",
                "/api/v1/posts/post_1",
                vec![Reply::ok(json!({"data": {"status": "scheduled", "scheduled_for": soon}}))],
            );
        let run = Cmd::github(&server.base_url()).run();
        run.expect_code(1);
        assert_eq!(run.output("status"), "failed", "{soon}");
        assert_eq!(server.hits("GET", "/api/v1/posts/post_1"), 1, "looked at the post once");
    }
    // Due after it, in a zone east of UTC without fractions: not waited for.
    let later = in_zone(now + std::time::Duration::from_secs(7200), 1, false);
    let server = Server::new().results(vec![Reply::ok(results(json!([dest("x", "queued")])))]).route(
        "GET",
        "/api/v1/posts/post_1",
        vec![Reply::ok(json!({"data": {"status": "scheduled", "scheduled_for": later}}))],
    );
    let run = Cmd::github(&server.base_url()).input("timeout", "2s").run();
    run.expect_code(0);
    assert_eq!(run.output("status"), "scheduled", "{later}");
}

#[test]
fn a_draft_is_an_error() {
    let server = Server::new().results(vec![Reply::ok(results(json!([dest("x", "queued")])))]).route(
        "GET",
        "/api/v1/posts/post_1",
        vec![Reply::ok(json!({"data": {"post_id": "post_1", "status": "draft", "scheduled_for": null}}))],
    );
    let run = Cmd::github(&server.base_url()).run();
    run.expect_code(4);
    assert_eq!(run.output("status"), "error");
    assert!(run.output("message").contains("draft"), "{}", run.output("message"));
}

#[test]
fn posts_the_budget_never_reached_time_out_rather_than_error() {
    let mut server = Server::new();
    for id in ["p1", "p2", "p3", "p4"] {
        server =
            server.route("GET", &results_of(id), vec![Reply::ok(results(json!([dest("x", "publishing")])))]);
    }
    // One request a second: p1 at 0 s, p2 at 1 s, and the deadline at 1.5 s.
    let run = Cmd::github(&server.base_url())
        .input("post-id", "p1 p2 p3 p4")
        .input("rate-limit", "60")
        .input("timeout", "1500ms")
        .run();
    run.expect_code(3);
    assert_eq!(run.output("status"), "timeout");
    assert_eq!(server.requests().len(), 2);
    assert!(run.output("message").contains("request budget"), "{}", run.output("message"));
    assert!(run.elapsed < Duration::from_millis(2500), "{:?}", run.elapsed);
}

#[test]
fn scheduled_words_in_the_results_also_trigger_the_schedule_check() {
    let body = json!({"data": {"post_id": "post_1", "post_status": "scheduled",
        "results": [dest("x", "scheduled"), dest("instagram", "scheduled")]}});
    let server = Server::new().results(vec![Reply::ok(body)]).route(
        "GET",
        "/api/v1/posts/post_1",
        vec![
            Reply::status(
                429,
                json!({"error": {"code": "rate_limited", "message": "m", "retryAfter": 0.05}}),
            ),
            Reply::ok(json!({"data": {"status": "scheduled", "scheduled_for": "2099-01-01T00:00:00Z"}})),
        ],
    );
    let run = Cmd::github(&server.base_url()).input("timeout", "30").run();
    run.expect_code(0);
    assert_eq!(run.output("status"), "scheduled");
    assert_eq!(server.hits("GET", "/api/v1/posts/post_1"), 2, "asked again after the 429");
    // Every destination a draft: the post is asked too, again after a 5xx; a draft never
    // publishes on its own.
    let body =
        json!({"data": {"post_id": "post_1", "results": [dest("x", "draft"), dest("instagram", "draft")]}});
    let server = Server::new().results(vec![Reply::ok(body)]).route(
        "GET",
        "/api/v1/posts/post_1",
        vec![
            Reply::status(503, json!({"error": {"code": "unavailable", "message": "m"}})),
            Reply::ok(json!({"data": {"status": "draft"}})),
        ],
    );
    let run = Cmd::github(&server.base_url()).input("timeout", "30").run();
    run.expect_code(4);
    assert_eq!(run.output("status"), "error");
    assert_eq!(server.hits("GET", "/api/v1/posts/post_1"), 2, "asked again after the 503");
}

/// The runner shows 10 warnings a step: five go to warnings while waiting, the rest are log
/// lines, so the report's own annotations keep their room.
#[test]
fn warnings_while_waiting_take_at_most_five_annotations() {
    let odd: Vec<Value> = (0..8)
        .map(|n| {
            let mut d = dest("x", &format!("weird{n}"));
            d["account_id"] = json!(500 + n);
            d
        })
        .collect();
    let done: Vec<Value> = (0..8)
        .map(|n| {
            let mut d = dest("x", "published");
            d["account_id"] = json!(500 + n);
            d
        })
        .collect();
    let server = Server::new()
        .results(vec![Reply::ok(results(Value::Array(odd))), Reply::ok(results(Value::Array(done)))]);
    let run = Cmd::github(&server.base_url()).run();
    run.expect_code(0);
    let lines =
        |start: &str| run.stdout.lines().filter(|l| l.starts_with(start) && l.contains("weird")).count();
    assert_eq!(lines("::warning"), 5, "{}", run.stdout);
    assert_eq!(lines("posteverywhere-wait: warning:"), 3, "{}", run.stdout);
    let annotations =
        run.stdout.lines().filter(|l| l.starts_with("::warning") || l.starts_with("::error")).count();
    assert!(annotations <= 10, "{annotations}");
}

/// Requests for many posts run at once, at most 32 in flight: with every answer hanging,
/// the API sees 32 requests and no more, and none after the deadline.
#[test]
fn at_most_thirty_two_requests_are_in_flight() {
    let ids: Vec<String> = (0..40).map(|n| format!("post_{n}")).collect();
    let mut server = Server::new();
    for id in &ids {
        server = server.route("GET", &results_of(id), vec![Reply::Hang]);
    }
    let run =
        Cmd::github(&server.base_url()).input("post-id", &ids.join("\n")).input("timeout", "300ms").run();
    run.expect_code(4);
    assert_eq!(server.requests().len(), 32);
    // Timed from the server's start, so under Wine the process's slow start counts too.
    let slack = if cfg!(windows) { crate::util::PROCESS_SLACK } else { Duration::ZERO };
    assert!(server.requests().iter().all(|r| r.at < Duration::from_millis(300) + slack));
}

/// A 429 or a 503's `Retry-After` on one post's request holds every post's next request,
/// not only its own: the API's budget is the key's.
#[test]
fn a_wait_the_api_asks_for_holds_every_post() {
    for limited in [
        Reply::status(429, json!({"error": {"code": "rate_limited"}})).with_header("Retry-After", "0.5"),
        Reply::status(503, json!({"error": {"code": "maintenance"}})).with_header("Retry-After", "0.5"),
    ] {
        let pending = || Reply::ok(results(json!([dest("x", "publishing")])));
        let done = || Reply::ok(results(json!([dest("x", "published")])));
        let server = Server::new().route("GET", &results_of("post_a"), vec![limited.clone(), done()]).route(
            "GET",
            &results_of("post_b"),
            vec![pending(), pending(), done()],
        );
        let run = Cmd::github(&server.base_url()).input("post-id", "post_a post_b").run();
        run.expect_code(0);
        let r = server.requests();
        let first = |post: &str| r.iter().position(|q| q.path == results_of(post)).unwrap();
        let (a, b) = (first("post_a"), first("post_b"));
        // Every request but each post's first (sent together) comes no sooner than asked
        // after the one answered so; post_b's own polls are 20 ms apart.
        let after: Vec<_> =
            r.iter().enumerate().filter(|(i, _)| *i != a && *i != b).map(|(_, q)| q.at - r[a].at).collect();
        assert!(after.len() >= 2, "{after:?}");
        assert!(after.iter().all(|d| *d >= Duration::from_millis(480)), "{after:?}");
    }
}

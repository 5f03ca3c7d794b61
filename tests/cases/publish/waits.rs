//! What publishing waits for when the API asks it to: a 429 on a create, waited out and
//! the create sent again; a 503's `Retry-After` on a call it repeats, and on an upload.

use serde_json::json;

use super::*;

#[test]
fn a_rate_limited_create_is_waited_out_and_repeated() {
    let limited = Reply::status(429, json!({"error": {"code": "rate_limited", "retryAfter": 0.2}}));
    let server = api(vec![limited, created("p-new")], vec![listing(json!([]))]);
    let run = publish(&server).run();
    run.expect_code(0);
    let c = creates(&server);
    assert_eq!(c.len(), 2);
    assert!(c[1].at - c[0].at >= Duration::from_millis(190));
}

/// A call publishing repeats (the accounts, say) is not sent again sooner than a 503's
/// `Retry-After`, though its backoff alone would be 20 ms.
#[test]
fn a_server_error_with_retry_after_holds_a_repeated_call() {
    let down =
        Reply::status(503, json!({"error": {"code": "maintenance"}})).with_header("Retry-After", "0.4");
    let server = Server::new()
        .route("GET", "/api/v1/accounts", vec![down, accounts()])
        .route("GET", POSTS, vec![listing(json!([]))])
        .route("POST", POSTS, vec![created("p-new")])
        .route("GET", "/api/v1/posts/p-new/results", vec![published(&[1, 2])]);
    let run = publish(&server).run();
    run.expect_code(0);
    let asked: Vec<_> = server.requests().into_iter().filter(|r| r.path == "/api/v1/accounts").collect();
    assert_eq!(asked.len(), 2);
    let gap = asked[1].at - asked[0].at;
    assert!((Duration::from_millis(390)..Duration::from_millis(1500)).contains(&gap), "{gap:?}");
    assert!(run.stdout.contains("GET accounts failed (HTTP 503"), "{}", run.stdout);

    // Asked for past the deadline: not sent again, and said so (not "trying again in 1m").
    let down = Reply::status(503, json!({"error": {"code": "maintenance"}})).with_header("Retry-After", "60");
    let server = Server::new().route("GET", "/api/v1/accounts", vec![down]);
    let run = publish(&server).input("timeout", "10s").run();
    run.expect_code(3);
    assert_eq!(server.requests().len(), 1);
    assert!(
        run.stdout.contains("its next try would be in 1m00s, past the deadline: not sent again"),
        "{}",
        run.stdout
    );
    assert!(run.output("message").contains("its next try was due in 1m00s"), "{}", run.output("message"));
}

/// A create answered 503 with `Retry-After` may not have made the post: it is looked for,
/// and sent again no sooner than asked (3.4 s here, past the 3 s the creates a minute keep);
/// asked for past the deadline, it is not sent again and the step says why.
#[test]
fn a_create_answered_503_with_retry_after_is_repeated_no_sooner() {
    let busy =
        |after: &str| Reply::status(503, json!({"error": "maintenance"})).with_header("Retry-After", after);
    let server = api(vec![busy("3.4"), created("p-new")], vec![listing(json!([]))]);
    let run = publish(&server).input("timeout", "8s").run();
    run.expect_code(0);
    let c = creates(&server);
    assert_eq!(c.len(), 2);
    assert!(c[1].at - c[0].at >= Duration::from_millis(3390), "{:?}", c[1].at - c[0].at);
    assert!(run.stdout.contains("posting again in "), "{}", run.stdout);
    assert!(run.stdout.contains(", as the API asked (call 2 of 3)"), "{}", run.stdout);

    let server = api(vec![busy("60"), created("twice!")], vec![listing(json!([]))]);
    let run = publish(&server).input("timeout", "3s").run();
    assert_eq!(creates(&server).len(), 1);
    assert!(
        run.stdout.contains("the API asked for 1m00s before another create, past it: not posting again"),
        "{}",
        run.stdout
    );
    let message = run.output("message");
    assert!(message.contains("the API asked for 1m00s before another create, past it"), "{message}");
    assert!(message.starts_with("the post may have been made"), "{message}");
    run.expect_code(3);
}

/// The storage host's `Retry-After` (on a 503, a 429) holds the upload's next try (its own
/// back-off is 1 s); asked for past the deadline, it is not sent again and the step says so.
/// A 429 there counts towards max-errors.
#[test]
fn an_upload_answered_503_with_retry_after_is_sent_again_no_sooner() {
    let slow = |after: &str| Reply::status(503, json!({})).with_header("Retry-After", after);
    let run = |puts: Vec<Reply>, timeout: &str, max_errors: &str| {
        let server = api(vec![created("p-new")], vec![listing(json!([]))]).route("PUT", "/storage/m1", puts);
        let cmd = publish(&server).input("timeout", timeout).input("max-errors", max_errors);
        let media = png(cmd.path("").as_path());
        let run = cmd.input("media", &media).run();
        let puts: Vec<_> = server.requests().into_iter().filter(|r| r.method == "PUT").collect();
        (run, puts.iter().map(|r| r.at).collect::<Vec<_>>(), creates(&server).len())
    };
    let (done, puts, made) = run(vec![slow("1.6"), Reply::ok(json!({}))], "10s", "5");
    done.expect_code(0);
    assert_eq!((puts.len(), made), (2, 1));
    assert!(puts[1] - puts[0] >= Duration::from_millis(1600), "{:?}", puts[1] - puts[0]);
    assert!(
        done.stdout.contains("the upload host answered HTTP 503); trying again in 1.6s"),
        "{}",
        done.stdout
    );

    // A 429 the same way, asking past the deadline.
    let limited = Reply::status(429, json!({})).with_header("Retry-After", "60");
    let (stopped, puts, made) = run(vec![limited, Reply::ok(json!({}))], "10s", "5");
    stopped.expect_code(3);
    assert_eq!((puts.len(), made), (1, 0));
    assert!(
        stopped.stdout.contains("its next try would be in 1m00s, past the deadline: not sent again"),
        "{}",
        stopped.stdout
    );
    assert!(
        stopped.output("message").contains("its next try was due in 1m00s"),
        "{}",
        stopped.output("message")
    );

    // A 429 from the storage host counts towards max-errors, as a 5xx does.
    let limited = || Reply::status(429, json!({})).with_header("Retry-After", "0.1");
    let (given_up, puts, made) = run(vec![limited(), limited(), Reply::ok(json!({}))], "10s", "2");
    given_up.expect_code(4);
    assert_eq!((puts.len(), made), (2, 0));
    assert!(given_up.output("message").contains("HTTP 429"), "{}", given_up.output("message"));
}

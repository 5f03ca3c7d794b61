//! Creating the post never twice: a lost or refused create answer, the cap on create
//! calls, rate limits, scheduled posts and uploads sent again.

use serde_json::{Value, json};

use super::*;

#[test]
fn a_lost_create_answer_is_looked_for_before_any_repeat() {
    let mine = json!([{"post_id": "p-new", "content": "Launch day!\n", "account_ids": [2, 1]}]);
    // The post was made: found, never sent again; for every way an answer gets lost.
    for lost in [Reply::status(502, json!({"error": "bad gateway"})), Reply::Reset, Reply::ResetMidBody] {
        let server =
            api(vec![lost.clone(), created("twice!")], vec![listing(json!([])), listing(mine.clone())]);
        let run = publish(&server).input("timeout", "3s").run();
        run.expect_code(0);
        assert_eq!(creates(&server).len(), 1, "{lost:?}: one POST");
        assert_eq!((run.output("post-id"), run.output("created")), ("p-new", "true"));
        assert!(run.stdout.contains("found it, post p-new: not posting again"), "{}", run.stdout);
    }
    // It was not: sent again, once (the looks `timeout / 150` apart: 6 s keeps them short).
    let server = api(vec![Reply::status(503, json!({})), created("p-new")], vec![listing(json!([]))]);
    let run = publish(&server).input("timeout", "6s").results_file().run();
    run.expect_code(0);
    assert_eq!(creates(&server).len(), 2);
    assert_eq!(run.results_file.as_ref().unwrap()["publish"]["create_calls"], 2);
}

/// The post a lost create made may show up in the list only some looks later: it is looked
/// for that long before any repeat, and a create the API accepted is never sent again.
#[test]
fn a_post_that_shows_up_late_is_still_found_and_never_made_twice() {
    let mine = json!([{"post_id": "p-new", "content": "Launch day!", "account_ids": [1, 2]}]);
    let accepted_without_id = Reply::status(202, json!({"data": {"status": "publishing"}}));
    for (lost, empty_looks, timeout) in
        [(Reply::status(504, json!({})), 8, "3s"), (accepted_without_id, 40, "8s")]
    {
        // The dedupe look, then the empty looks after the lost answer, then the post.
        let mut list = vec![listing(json!([])); 1 + empty_looks];
        list.push(listing(mine.clone()));
        let server = api(vec![lost.clone(), created("twice!")], list);
        // Looks `timeout / 150` apart at least: 20 ms at 3 s, 53 ms at 8 s, which leaves 40
        // looks room under Wine (about 60 ms a request there; 3 s ran out at 43 requests).
        let run = publish(&server).input("timeout", timeout).run();
        run.expect_code(0);
        assert_eq!(creates(&server).len(), 1, "{lost:?}: one POST");
        assert_eq!(run.output("post-id"), "p-new");
        let looks = server.requests().iter().filter(|r| r.method == "GET" && r.path == POSTS).count();
        assert_eq!(looks, 2 + empty_looks, "{lost:?}");
    }
    // Looks are `min(poll-interval, 2 s)` apart (or `timeout / 150`, here less): at a 10 s
    // interval, the first comes 2 s after the lost answer, well before the deadline.
    let server =
        api(vec![Reply::status(504, json!({})), created("twice!")], vec![listing(json!([])), listing(mine)]);
    let run = publish(&server).input("poll-interval", "10s").input("timeout", "6s").run();
    run.expect_code(0);
    let at = |method: &str| server.requests().into_iter().rfind(|r| r.method == method && r.path == POSTS);
    let gap = at("GET").unwrap().at - at("POST").unwrap().at;
    assert!(gap >= Duration::from_millis(1990) && gap < Duration::from_millis(2900), "{gap:?}");
    // Accepted (without an id, or with its body cut short) and never listed: looked for
    // until the deadline, not sent again.
    let see_other = Reply::Raw(303, vec![("Location", "/api/v1/posts/p-new".to_owned())], Vec::new());
    for accepted in [Reply::status(202, json!({})), Reply::ResetMidBody, see_other] {
        let server = api(vec![accepted.clone(), created("twice!")], vec![listing(json!([]))]);
        let run = publish(&server).input("timeout", "600ms").run();
        run.expect_code(3);
        assert_eq!(creates(&server).len(), 1, "{accepted:?}");
    }
    let server = api(vec![Reply::status(202, json!({})), created("twice!")], vec![listing(json!([]))]);
    let run = publish(&server).input("timeout", "600ms").run();
    let message = run.output("message");
    assert!(
        message.starts_with("the post may have been made (a create call's answer was lost: the API accepted"),
        "{message}"
    );
    assert!(
        message.contains("before the deadline; look in PostEverywhere before posting again"),
        "{message}"
    );
    // With dedupe 0 a re-run does not look for it: the step does not say it would.
    let server = api(vec![Reply::status(202, json!({})), created("twice!")], vec![listing(json!([]))]);
    let run = publish(&server).input("timeout", "600ms").input("dedupe", "0").run();
    let message = run.output("message");
    assert!(message.ends_with("(with dedupe: 0 a re-run posts again)"), "{message}");
}

#[test]
fn at_most_three_creates_that_could_have_posted() {
    let lost = || Reply::status(503, json!({"error": "unavailable"}));
    let limited = Reply::status(429, json!({"error": {"code": "rate_limited", "retryAfter": 0.05}}));
    let server = api(vec![limited, lost(), lost(), lost(), created("p-new")], vec![listing(json!([]))]);
    // The looks are `timeout / 150` apart at least: 8 s keeps them (and the test) short.
    let run = publish(&server).input("timeout", "8s").results_file().run();
    run.expect_code(4);
    // The 429 made nothing and is sent again; then three lost answers, each looked for.
    let made = creates(&server);
    assert_eq!(made.len(), 4);
    // PostEverywhere takes 20 creates a minute: the ones that reached it are 3 s apart.
    for pair in made[1..].windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(gap >= Duration::from_millis(2990), "creates {gap:?} apart");
    }
    let message = run.output("message");
    assert!(message.contains("3 create calls got no usable answer"), "{message}");
    assert!(
        message.starts_with("the post may have been made (a create call's answer was lost: HTTP 503"),
        "{message}"
    );
    assert!(
        message.ends_with("look in PostEverywhere before posting again (a re-run within dedupe reuses it)")
    );
    assert_eq!(run.output("created"), "false");
    assert_eq!(run.results_file.as_ref().unwrap()["publish"]["create_calls"], 3);
}

/// A create that never reached the API (nothing listening on its port) made nothing: it is
/// sent again after a back-off, not looked for and not counted among the three; too many
/// in a row stop the step without saying a post may exist.
#[test]
fn a_create_that_never_reached_the_api_is_sent_again() {
    let dark = |refuse_ms| Reply::ThenRefuse(Box::new(listing(json!([]))), Duration::from_millis(refuse_ms));
    // Dark for 150 ms: the first create is refused, the second (200 ms later) arrives.
    let server = api(vec![created("p-new")], vec![dark(150), listing(json!([]))]);
    let run = publish(&server).input("poll-interval", "100ms").results_file().run();
    run.expect_code(0);
    assert_eq!(creates(&server).len(), 1, "one POST reached the API");
    assert!(
        run.stdout.contains("the create call never reached the API (could not connect"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("sending it again in 0.2s"), "{}", run.stdout);
    assert_eq!(server.hits("GET", POSTS), 1, "only the dedupe look: nothing was lost");
    assert_eq!(run.output("post-id"), "p-new");
    assert_eq!(run.results_file.as_ref().unwrap()["publish"]["create_calls"], 1);
    // Dark for good: max-errors creates that never left, then exit 4 and no "may exist".
    let server = api(vec![created("p-new")], vec![dark(60_000)]);
    let run = publish(&server).input("poll-interval", "20ms").input("max-errors", "3").run();
    run.expect_code(4);
    assert_eq!(creates(&server).len(), 0);
    assert_eq!(run.stdout.matches("the create call never reached the API").count(), 2, "{}", run.stdout);
    let message = run.output("message");
    assert!(
        message.contains("3 create calls in a row never reached the API; the last: could not connect"),
        "{message}"
    );
    assert!(!message.contains("may have been made"), "{message}");
    assert_eq!(run.output("created"), "false");
}

/// Creates that never reached the API are counted in a row: one that reached it ends the
/// row, so a short outage before the first create and another before the second do not add
/// up to max-errors. (Takes ~4 s: a second create that reached the API waits 3 s after the
/// first, the API's creates-a-minute limit.)
#[test]
fn a_create_that_reached_the_api_ends_a_row_of_creates_that_did_not() {
    let dark = |refuse_ms| Reply::ThenRefuse(Box::new(listing(json!([]))), Duration::from_millis(refuse_ms));
    // The dedupe look, then fifteen looks for the lost create: the first and the last leave
    // the API dark for a moment, so one create before and one after the lost one is refused.
    let mut looks = vec![dark(100)];
    looks.extend((0..14).map(|_| listing(json!([]))));
    looks.extend([dark(200), listing(json!([]))]);
    let lost = Reply::status(503, json!({"error": "unavailable"}));
    let server = api(vec![lost, created("p-new")], looks);
    // The 200 ms interval spaces the looks (a 6 s timeout's `timeout / 150` is less), fifteen in all.
    let run = publish(&server)
        .input("poll-interval", "200ms")
        .input("timeout", "6s")
        .input("max-errors", "2")
        .results_file()
        .run();
    run.expect_code(0);
    assert_eq!(run.stdout.matches("the create call never reached the API").count(), 2, "{}", run.stdout);
    assert_eq!(creates(&server).len(), 2, "the lost create and the one after it reached the API");
    assert!(run.stdout.contains("posting again (call 2 of 3)"), "{}", run.stdout);
    assert_eq!(run.output("post-id"), "p-new");
    assert_eq!(run.results_file.as_ref().unwrap()["publish"]["create_calls"], 2);
}

/// Ids from the API go into outputs one a line: an id with a line break (it would forge a
/// second one) or longer than an output holds (it would leave post-id empty) is no id. A
/// create answered with one is a post made without a usable id: found in the list, never
/// sent again; an upload slot with one is asked for again.
#[test]
fn an_id_from_the_api_that_is_no_id_is_never_used() {
    let mine = json!([{"post_id": "p-new", "content": "Launch day!", "account_ids": [1, 2]}]);
    for bad in ["p1\nforged".to_owned(), "p".repeat(300)] {
        let made = Reply::status(201, json!({"data": {"post_id": bad, "status": "publishing"}}));
        let server = api(vec![made, created("twice!")], vec![listing(json!([])), listing(mine.clone())]);
        let storage = format!("http://127.0.0.1:{}/storage/m1", server.port());
        let slot =
            |id: &str| Reply::ok(json!({"data": {"media_id": id, "upload_url": storage, "expires_in": 900}}));
        let server = server.route("POST", "/api/v1/media/upload", vec![slot("m1\nm2"), slot("m1")]);
        let cmd = publish(&server).input("poll-interval", "50ms").input("timeout", "5s");
        let media = png(cmd.path("").as_path());
        let run = cmd.input("media", &media).run();
        run.expect_code(0);
        assert_eq!(creates(&server).len(), 1, "{bad:?}");
        assert_eq!((run.output("post-id"), run.output("media-ids")), ("p-new", "m1"));
        assert_eq!(server.hits("POST", "/api/v1/media/upload"), 2);
        assert!(run.stdout.contains("the API accepted the post but gave no usable id"), "{}", run.stdout);
    }
    // Listed under that same id, or found by a re-run's dedupe look: the post is there, so
    // it is never made again, and the step stops saying so.
    let bad = "p".repeat(201);
    let same = json!([{"post_id": bad, "content": "Launch day!", "account_ids": [1, 2],
                       "created_at": rfc3339(SystemTime::now())}]);
    let made = Reply::status(201, json!({"data": {"post_id": bad, "status": "publishing"}}));
    let lost = api(vec![made, created("twice!")], vec![listing(json!([])), listing(same.clone())]);
    let rerun = api(vec![created("twice!")], vec![listing(same)]);
    for (server, creates_made) in [(lost, 1), (rerun, 0)] {
        let run = publish(&server)
            .input("poll-interval", "50ms")
            .input("timeout", "5s")
            .env("GITHUB_RUN_ATTEMPT", "2")
            .run();
        run.expect_code(4);
        assert_eq!(creates(&server).len(), creates_made);
        let message = run.output("message");
        assert!(message.contains("gave it an id that cannot be used"), "{message}");
        assert!(message.contains("not posting again"), "{message}");
    }
}

#[test]
fn a_scheduled_post_is_created_for_its_time_and_not_waited_for() {
    let at = rfc3339(SystemTime::now() + Duration::from_secs(86_400));
    // The new post: its destinations queued, and the post scheduled for `at`.
    let scheduled = |results: Value| {
        api(vec![created("p-new")], vec![listing(json!([]))])
            .route(
                "GET",
                "/api/v1/posts/p-new/results",
                vec![Reply::ok(json!({"data": {"post_id": "p-new", "results": results}}))],
            )
            .route(
                "GET",
                "/api/v1/posts/p-new",
                vec![Reply::ok(json!({"data": {"id": "p-new", "status": "scheduled", "scheduled_for": at}}))],
            )
    };
    let server = scheduled(json!([
        {"account_id": 1, "platform": "x", "status": "queued"},
        {"account_id": 2, "platform": "linkedin", "status": "queued"}]));
    let run = publish(&server).input("schedule-at", &at).run();
    run.expect_code(0);
    assert_eq!(run.output("status"), "scheduled");
    let body: Value = serde_json::from_str(&creates(&server)[0].body).unwrap();
    assert_eq!(body["scheduled_for"], json!(at));
    // An account left out by skip-unhealthy counts as failed: fail-on judges it, as for any
    // post, and the message counts it.
    let server = scheduled(json!([{"account_id": 1, "platform": "x", "status": "queued"}]));
    let cmd = publish(&server)
        .input("schedule-at", &at)
        .input("accounts", "x, tiktok")
        .input("skip-unhealthy", "true");
    let run = cmd.run();
    run.expect_code(1);
    assert_eq!((run.output("failed-count"), run.output("failed-platforms")), ("1", "tiktok"));
    let body: Value = serde_json::from_str(&creates(&server)[0].body).unwrap();
    assert_eq!(body["account_ids"], json!([1]));
    let message = run.output("message");
    assert!(message.ends_with("not waited for; 1 destination already failed"), "{message}");
}

#[test]
fn an_upload_is_sent_again_and_a_refused_one_gets_a_new_url_once() {
    // The storage host answers `puts` in turn; returns the server after the run's exit code.
    let upload = |puts: Vec<Reply>, code: i32| {
        let server = api(vec![created("p-new")], vec![listing(json!([]))]).route("PUT", "/storage/m1", puts);
        let cmd = publish(&server);
        let media = png(cmd.path("").as_path());
        cmd.input("media", &media).run().expect_code(code);
        let slots = server.hits("POST", "/api/v1/media/upload");
        (server.hits("PUT", "/storage/m1"), slots, creates(&server).len())
    };
    // Lost in transit: the same URL again.
    assert_eq!(upload(vec![Reply::status(500, json!({})), Reply::ok(json!({}))], 0), (2, 1, 1));
    // Refused by the storage host (an expired URL): a new URL, once.
    assert_eq!(upload(vec![Reply::status(403, json!({})), Reply::ok(json!({}))], 0), (2, 2, 1));
    assert_eq!(upload(vec![Reply::status(403, json!({}))], 4), (2, 2, 0));
}

#[test]
fn a_create_that_hangs_is_never_repeated_blindly() {
    let server = api(vec![Reply::Hang], vec![listing(json!([]))]);
    let run = publish(&server).input("timeout", "700ms").run();
    run.expect_code(3);
    assert_eq!(creates(&server).len(), 1);
    assert_eq!(run.output("created"), "false");
}

/// The API may not list a post it made a moment ago: a 404 on its results before their
/// first answer is asked again, not "check that post-id is right" (nobody gave one).
#[test]
fn a_post_just_made_is_asked_for_again_after_a_404() {
    let missing = || Reply::status(404, json!({"error": {"code": "not_found", "message": "Post not found"}}));
    let server = api(vec![created("p-new")], vec![listing(json!([]))]).route(
        "GET",
        "/api/v1/posts/p-new/results",
        vec![missing(), missing(), published(&[1, 2])],
    );
    let run = publish(&server).input("poll-interval", "20ms").run();
    run.expect_code(0);
    assert_eq!(server.hits("GET", "/api/v1/posts/p-new/results"), 3);
    assert!(
        run.stdout.contains("the post was made a moment ago and the API does not list it yet"),
        "{}",
        run.stdout
    );
    // It lasts: the run's message says what happened and what to do, never "asking again".
    let server = api(vec![created("p-new")], vec![listing(json!([]))]).route(
        "GET",
        "/api/v1/posts/p-new/results",
        vec![missing()],
    );
    let run = publish(&server).input("poll-interval", "20ms").input("timeout", "2s").run();
    run.expect_code(4);
    let message = run.output("message");
    assert!(message.ends_with("if that lasts, look for it in PostEverywhere"), "{message}");
    assert!(!message.contains("asking again"), "{message}");
    // Waiting for a post-id given: a 404 is the id's fault at once.
    let server = Server::new().results(vec![missing(), Reply::ok(json!({}))]);
    let run = Cmd::github(&server.base_url()).run();
    run.expect_code(4);
    assert!(run.output("message").contains("404"), "{}", run.output("message"));
}

/// The post's results answer 200 with a `not_found` error a moment after it was made: the
/// API catching up, as a 404 is, waited for. (Found in review: exit 4 at the first poll.)
#[test]
fn a_not_found_inside_a_200_for_a_post_just_made_is_waited_for() {
    let not_found =
        Reply::ok(json!({"data": null, "error": {"code": "not_found", "message": "Post not found",
                                     "retryable": false}}));
    let server = api(vec![created("p-new")], vec![listing(json!([]))]).route(
        "GET",
        "/api/v1/posts/p-new/results",
        vec![not_found.clone(), not_found, published(&[1, 2])],
    );
    let run = publish(&server).input("poll-interval", "20ms").run();
    run.expect_code(0);
    assert_eq!((run.output("post-id"), run.output("published-count")), ("p-new", "2"));
    assert_eq!(server.hits("GET", "/api/v1/posts/p-new/results"), 3, "{}", run.stdout);
}

/// A 2xx create answer that is the API's error envelope, with an error it calls not
/// retryable, is that error: refused at once with its words (it was taken as "accepted":
/// looked for until the deadline, then exit 3). Any other 2xx without an id may have made
/// the post (a `message` beside it, an error the API does not call final): accepted, looked
/// for, never sent again.
#[test]
fn an_error_inside_a_2xx_create_answer_is_the_error() {
    let refused = Reply::ok(json!({"data": null, "error": {"code": "content_too_long",
        "message": "Content exceeds the X limit", "retryable": false}}));
    let server = api(vec![refused, created("twice!")], vec![listing(json!([]))]);
    let run = publish(&server).run();
    run.expect_code(4);
    assert_eq!(creates(&server).len(), 1);
    let message = run.output("message");
    assert!(
        message.ends_with(
            "the API answered HTTP 200: content_too_long: Content exceeds the X limit, and no post id"
        ),
        "{message}"
    );
    assert_eq!(run.output("created"), "false");
    let looks = server.requests().iter().filter(|r| r.method == "GET" && r.path == POSTS).count();
    assert_eq!(looks, 1, "the dedupe look only: nothing was made to look for");
    let mine = json!([{"post_id": "p-new", "content": "Launch day!", "account_ids": [1, 2]}]);
    let busy = Reply::status(201, json!({"data": null, "error": {"code": "busy", "retryable": true}}));
    let said = Reply::status(201, json!({"message": "Post created", "data": {"post": {"ref": "p-new"}}}));
    for accepted in [busy, said] {
        let server =
            api(vec![accepted.clone(), created("twice!")], vec![listing(json!([])), listing(mine.clone())]);
        let run = publish(&server).input("poll-interval", "20ms").input("timeout", "3s").run();
        run.expect_code(0);
        assert_eq!((creates(&server).len(), run.output("post-id")), (1, "p-new"), "{accepted:?}");
        assert!(run.stdout.contains("the API accepted the post but gave no usable id"), "{}", run.stdout);
    }
}

/// An answer outside 2xx whose body is the post alone (`data.post_id`, no `error`, as bulk
/// creates may answer 422) made it: waited for, never called "not created" (a re-run with
/// `dedupe: 0` would have posted it again). With an `error` or a `message` beside it, or
/// only some `id`, it is the refusal.
#[test]
fn a_refusal_status_that_names_the_post_made_it() {
    for status in [422, 409, 500] {
        let made = Reply::status(
            status,
            json!({"data": {"post_id": "p-new", "status": "publishing"}, "error": null}),
        );
        let server = api(vec![made, created("twice!")], vec![listing(json!([]))]);
        let run = publish(&server).run();
        run.expect_code(0);
        assert_eq!(
            (creates(&server).len(), run.output("post-id"), run.output("created")),
            (1, "p-new", "true"),
            "{status}"
        );
    }
    let refusals = [
        json!({"data": {"post_id": "p-new"}, "error": {"code": "validation_error", "message": "Bad media"}}),
        json!({"message": "Bad media", "data": {"post_id": "p-new"}}),
        json!({"data": {"id": "med_1"}}),
    ];
    for body in refusals {
        let server = api(vec![Reply::status(422, body.clone()), created("twice!")], vec![listing(json!([]))]);
        let run = publish(&server).run();
        run.expect_code(4);
        assert_eq!((creates(&server).len(), run.output("created")), (1, "false"), "{body}");
        assert!(run.output("message").contains("HTTP 422"), "{}", run.output("message"));
    }
}

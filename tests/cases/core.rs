//! The core wait: response shapes, pending to final, fail-on, platform retries, the
//! deadline, outputs parsed back with the runner's rules, plain mode.

use serde_json::{Value, json};

use crate::server::{RESULTS, Reply, Server};
use crate::util::{Cmd, KEY, account, dest, results};

#[test]
fn every_documented_response_shape_is_understood() {
    let shapes = [
        results(json!([dest("instagram", "published")])),
        json!({"data": {"post_id": "post_1", "destinations": [dest("instagram", "published")]}}),
        json!({"destinations": [{"platform": "instagram", "status": "published", "url": "https://instagram.example/p/1"}]}),
        json!({"results": [{"platform": "instagram", "status": "published", "permalink": "https://instagram.example/p/1"}]}),
        json!({"data": {"post_id": "post_1", "results": [{"id": "d1", "platform": "instagram", "social_account_id": 7,
            "status": "done", "platform_post_url": "https://instagram.example/p/1", "last_error": null}]}}),
        json!({"data": {"post_id": "post_1", "results": [{"platform": "instagram", "status": "PUBLISHED",
            "platform_post_url": "https://instagram.example/p/1", "extra": {"ignored": true}}]}, "meta": {"requestId": "r"}}),
    ];
    for body in shapes {
        let server = Server::new().results(vec![Reply::ok(body.clone())]);
        let run = Cmd::github(&server.base_url()).run();
        run.expect_code(0);
        assert_eq!(run.output("status"), "published", "{body}");
        assert_eq!(run.output("published-urls"), "https://instagram.example/p/1", "{body}");
    }
}

#[test]
fn pending_then_published_sends_auth_and_user_agent() {
    let server = Server::new().results(vec![
        Reply::ok(results(json!([dest("instagram", "queued"), dest("x", "queued")]))),
        Reply::ok(results(json!([dest("instagram", "publishing"), dest("x", "queued")]))),
        Reply::ok(results(json!([dest("instagram", "published"), dest("x", "published")]))),
    ]);
    let run = Cmd::github(&server.base_url()).run();
    run.expect_code(0);
    assert_eq!(server.hits("GET", RESULTS), 3);
    let req = &server.requests()[0];
    assert_eq!(req.header("authorization"), Some(format!("Bearer {KEY}").as_str()));
    assert!(req.header("user-agent").unwrap().starts_with("posteverywhere-wait/"));
    assert!(req.body.is_empty(), "a GET has no body");
    assert_eq!(run.output("total-count"), "2");
    assert_eq!(run.output("published-count"), "2");
    assert_eq!(run.output("pending-count"), "0");
    assert_eq!(run.output("message"), "", "nothing went wrong, so no message");
    assert_eq!(run.output("published-urls"), "https://instagram.example/p/1\nhttps://x.example/p/1");
    let results = run.results();
    assert_eq!(results[0]["post_id"], "post_1");
    assert_eq!(results[0]["status"], "published");
    assert_eq!(results[0]["account_id"], crate::util::account("instagram"));
    assert_eq!(results[0]["next_retry_at"], serde_json::Value::Null);
    assert!(run.summary.starts_with("## ✅ PostEverywhere: published to 2 of 2 destinations"));
    // The key is masked before anything else is printed.
    assert!(run.stdout.starts_with("::add-mask::"));
    // One progress line per poll that changed something: three polls, three lines.
    assert_eq!(run.stdout.lines().filter(|l| l.starts_with('[')).count(), 3, "{}", run.stdout);
}

#[test]
fn partial_failure_under_each_fail_on() {
    for (fail_on, code) in [("any", 1), ("all", 0), ("never", 0)] {
        let server = Server::new().results(vec![Reply::ok(results(json!([
            dest("instagram", "published"),
            dest("linkedin", "failed")
        ])))]);
        let run = Cmd::github(&server.base_url()).input("fail-on", fail_on).run();
        run.expect_code(code);
        assert_eq!(run.output("status"), "partial");
        assert_eq!(run.output("failed-count"), "1");
        assert_eq!(run.output("failed-platforms"), "linkedin");
        // An error when the step fails, a warning when fail-on lets it pass.
        let kind = if code == 0 { "warning" } else { "error" };
        let want =
            format!("::{kind} title=PostEverywhere%3A linkedin @linkedin failed::Platform returned 503");
        assert!(run.stdout.contains(&want), "{}", run.stdout);
    }
    for (fail_on, code) in [("any", 1), ("all", 1), ("never", 0)] {
        let server = Server::new().results(vec![Reply::ok(results(json!([dest("linkedin", "failed")])))]);
        let run = Cmd::github(&server.base_url()).input("fail-on", fail_on).run();
        run.expect_code(code);
        assert_eq!(run.output("status"), "failed");
    }
}

#[test]
fn a_failure_the_platform_will_retry_is_not_final() {
    let mut retrying = dest("x", "failed");
    retrying["next_retry_at"] = json!("2099-01-01T00:00:00Z");
    let server = Server::new().results(vec![
        Reply::ok(results(json!([dest("instagram", "published"), retrying]))),
        Reply::ok(results(json!([dest("instagram", "published"), dest("x", "publishing")]))),
        Reply::ok(results(json!([dest("instagram", "published"), dest("x", "published")]))),
    ]);
    let run = Cmd::github(&server.base_url()).run();
    run.expect_code(0);
    assert_eq!(run.output("status"), "published");
    assert_eq!(server.hits("GET", RESULTS), 3);
    // A retry time already past is final, whatever zone it is written in.
    for past in ["2020-01-01T00:00:00-05:00", "2020-01-01T00:00:00.5+0530", "2020-01-01 00:00:00Z"] {
        let mut retried = dest("x", "failed");
        retried["next_retry_at"] = json!(past);
        let server =
            Server::new().results(vec![Reply::ok(results(json!([dest("instagram", "published"), retried])))]);
        let run = Cmd::github(&server.base_url()).input("timeout", "1s").run();
        run.expect_code(1);
        assert_eq!(server.hits("GET", RESULTS), 1, "{past}: final at once");
    }
}

/// `publishing` is derived from the destinations: with every one listed final, another may
/// not be listed yet. A first answer listing only the fastest platform was once reported
/// green; now a post that still says `publishing` gets two more polls.
#[test]
fn a_post_still_publishing_gets_a_few_more_polls() {
    let only_x = json!({"data": {"post_id": "post_1", "post_status": "publishing", "results": [dest("x", "published")]}});
    let server = Server::new().results(vec![
        Reply::ok(only_x.clone()),
        Reply::ok(results(json!([dest("x", "published"), dest("linkedin", "failed")]))),
    ]);
    let run = Cmd::github(&server.base_url()).run();
    run.expect_code(1);
    assert_eq!((run.output("status"), run.output("total-count")), ("partial", "2"));
    // An aggregate that lags behind its destinations: they decide after two more polls,
    // and the message says so.
    let server = Server::new().results(vec![Reply::ok(only_x)]);
    let run = Cmd::github(&server.base_url()).run();
    run.expect_code(0);
    assert_eq!(server.hits("GET", RESULTS), 3);
    let message = run.output("message");
    assert!(message.contains("PostEverywhere still called the post publishing"), "{message}");
}

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
        run.output("message").contains("its results never listed 1 account: counted failed"),
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
    assert!(
        run.output("message").contains(
            "PostEverywhere calls the post failed, yet every account it is for is listed published"
        )
    );
    // The deadline comes before the post is asked: never green either.
    let server =
        Server::new().results(vec![says("failed")]).route("GET", "/api/v1/posts/post_1", vec![Reply::Hang]);
    let run = Cmd::github(&server.base_url()).input("timeout", "300ms").run();
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.output("failed-count"), "1");
}

#[test]
fn no_destinations_until_the_deadline_times_out_with_a_summary() {
    let server = Server::new().results(vec![Reply::ok(results(json!([])))]);
    let run = Cmd::github(&server.base_url()).input("timeout", "200ms").run();
    run.expect_code(3);
    assert_eq!(run.output("status"), "timeout");
    assert_eq!(run.output("total-count"), "0");
    assert!(run.summary.contains("timed out"), "{}", run.summary);
    assert!(run.summary.contains("no destinations"), "{}", run.summary);
    // A timeout fails the step (exit 3): an error, not a warning.
    assert!(run.stdout.contains("::error title=PostEverywhere%3A timed out::"), "{}", run.stdout);
}

#[test]
fn the_deadline_is_exact_with_a_final_poll_on_it() {
    let server = Server::new().results(vec![Reply::ok(results(json!([dest("x", "publishing")])))]);
    let run = Cmd::github(&server.base_url()).input("timeout", "500ms").input("poll-interval", "200ms").run();
    run.expect_code(3);
    assert!(run.elapsed.as_millis() >= 500, "{:?}", run.elapsed);
    assert!(run.elapsed.as_millis() < 1500, "ran {:?} for a 500 ms timeout", run.elapsed);
    let polls: Vec<u128> = server.requests().iter().map(|r| r.at.as_millis()).collect();
    // Polls at 0, 200, 400 and one clamped to the deadline at 500.
    assert_eq!(polls.len(), 4, "{polls:?}");
    // Each wait starts when an answer arrives, so slow answers (a loaded machine, Wine)
    // shift the polls; the last wait is still cut short to land on the deadline.
    let last_gap = polls[3] - polls[2];
    assert!(last_gap < 190, "the last wait was not clamped: {polls:?}");
    assert!(polls[3] - polls[0] >= 400, "the last poll is on the deadline: {polls:?}");
}

#[test]
fn values_with_newlines_and_hostile_text_survive_the_output_file() {
    let mut evil = dest("linkedin", "failed");
    evil["error"] = json!(
        "line one\nghadelimiter_00000000000000000000000000000000\n::set-output name=status::published\n##[error]x"
    );
    let server = Server::new().results(vec![Reply::ok(results(json!([
        dest("instagram", "published"),
        dest("x", "published"),
        evil
    ])))]);
    let run = Cmd::github(&server.base_url()).run();
    run.expect_code(1);
    assert_eq!(run.output("status"), "partial");
    assert_eq!(run.output("published-urls").lines().count(), 2);
    let results = run.results();
    assert_eq!(results[2]["error"].as_str().unwrap().lines().count(), 4);
}

#[test]
fn durations_as_people_write_them() {
    let server = Server::new().results(vec![Reply::ok(results(json!([dest("x", "published")])))]);
    for (timeout, interval) in [("1 minute", "20 milliseconds"), ("1m30s", "0.02"), ("1h 30m", "20ms")] {
        Cmd::github(&server.base_url())
            .input("timeout", timeout)
            .input("poll-interval", interval)
            .run()
            .expect_code(0);
    }
}

#[test]
fn plain_mode_prints_a_table_and_writes_only_the_results_file() {
    let server = Server::new().results(vec![Reply::ok(results(json!([
        dest("instagram", "published"),
        dest("linkedin", "failed")
    ])))]);
    let run = Cmd::plain()
        .env("POSTEVERYWHERE_API_KEY", KEY)
        .env("POSTEVERYWHERE_POST_ID", "post_1")
        .env("POSTEVERYWHERE_BASE_URL", &server.base_url())
        .results_file()
        .run();
    run.expect_code(1);
    assert!(!run.stdout.contains("::"), "no workflow commands outside GitHub:\n{}", run.stdout);
    assert!(run.stdout.contains("posteverywhere-wait: partial — 1/2 published, 1 failed, 0 pending"));
    assert!(run.stdout.contains("✓ instagram"));
    assert!(run.summary.is_empty() && run.outputs.is_empty());
    let doc = run.results_file.as_ref().expect("results file");
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["status"], "partial");
    assert_eq!(doc["exit_code"], 1);
    assert_eq!(doc["destinations"].as_array().unwrap().len(), 2);
    let names: Vec<String> = std::fs::read_dir(run.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, vec!["results.json"]);
}

#[test]
fn summary_false_writes_no_summary() {
    let server = Server::new().results(vec![Reply::ok(results(json!([dest("x", "published")])))]);
    let run = Cmd::github(&server.base_url()).input("summary", "false").run();
    run.expect_code(0);
    assert!(run.summary.is_empty());
    assert_eq!(run.output("status"), "published");
}

#[test]
fn unknown_statuses_are_pending_and_warned_about_once() {
    let body = results(json!([{"platform": "x", "status": "teleporting"}]));
    let server = Server::new().results(vec![
        Reply::ok(body.clone()),
        Reply::ok(body),
        Reply::ok(results(json!([dest("x", "published")]))),
    ]);
    let run = Cmd::github(&server.base_url()).run();
    run.expect_code(0);
    assert_eq!(run.stdout.matches("unknown destination status \"teleporting\"").count(), 1, "{}", run.stdout);
}

/// An account id the API sends as a fraction reaches the results file as text, so the file
/// still holds to its schema (integer, string or null); `collect` validates every file.
#[test]
fn a_fractional_account_id_keeps_the_results_file_valid() {
    let mut d = dest("x", "published");
    d["account_id"] = json!(1.5);
    let server = Server::new().results(vec![Reply::ok(results(json!([d])))]);
    let run = Cmd::github(&server.base_url()).results_file().run();
    run.expect_code(0);
    let doc = run.results_file.as_ref().expect("results file");
    assert_eq!(doc["destinations"][0]["account_id"], "1.5");
    let schema = crate::consumers::schema::results_schema();
    assert_eq!(crate::consumers::schema::validate(&schema, doc), Ok(()));
}

/// With 300 destinations `results` was one line of 88 KB, and `act` reads lines up to
/// 64 KiB, so it failed the whole output file (`collect` reads every output file as act
/// does). One destination a line, the value is still the JSON the results file holds.
#[test]
fn three_hundred_destinations_keep_every_output_line_readable_by_act() {
    let dests: Vec<serde_json::Value> = (0..300)
        .map(|i| {
            json!({"account_id": i, "account_name": format!("@brand{i}"), "platform": "instagram",
                "status": "published", "platform_post_url": format!("https://instagram.example/p/{i}"), "attempts": 1})
        })
        .collect();
    let server = Server::new().results(vec![Reply::ok(results(json!(dests)))]);
    let run = Cmd::github(&server.base_url()).results_file().run();
    run.expect_code(0);
    let raw = std::fs::read_to_string(run.dir.path().join("github_output")).unwrap();
    assert!(raw.len() > crate::consumers::github::ACT_MAX_LINE, "{} bytes", raw.len());
    let longest = raw.split('\n').map(str::len).max().unwrap();
    assert!(longest < 1024, "a line of {longest} bytes");
    assert_eq!(json!(run.results()), run.results_file.as_ref().unwrap()["destinations"]);
}

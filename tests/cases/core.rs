//! The core wait: response shapes, pending to final, fail-on, platform retries, the
//! deadline, outputs parsed back with the runner's rules, plain mode.

use serde_json::json;

use crate::server::{RESULTS, Reply, Server};
use crate::util::{Cmd, KEY, dest, results};

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

/// Success is only `published` or `done`, the API's own words: a word that might mean
/// "handed to the platform, not yet verified" is pending, never green.
#[test]
fn only_the_apis_words_for_success_are_green() {
    for word in ["sent", "success", "live"] {
        let server =
            Server::new().results(vec![Reply::ok(results(json!([{"platform": "x", "status": word}])))]);
        let run = Cmd::github(&server.base_url()).input("timeout", "300ms").run();
        run.expect_code(3);
        assert_eq!((run.output("status"), run.output("pending-count")), ("timeout", "1"), "{word}");
        assert!(run.stdout.contains(&format!("unknown destination status \"{word}\"")), "{}", run.stdout);
    }
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

/// Links follow one rule everywhere, `https://` only: a published URL in clear (`http://`)
/// or of another scheme counts as published but is left out of `published-urls` (a note
/// says so) and of the summary's links; `results` keeps it.
#[test]
fn only_https_urls_are_links_and_published_urls() {
    let mut x = dest("x", "published");
    x["platform_post_url"] = json!("http://x.example/p/1");
    let mut linkedin = dest("linkedin", "published");
    linkedin["platform_post_url"] = json!("javascript:alert(1)");
    let server =
        Server::new().results(vec![Reply::ok(results(json!([dest("instagram", "published"), x, linkedin])))]);
    let run = Cmd::github(&server.base_url()).run();
    run.expect_code(0);
    assert_eq!(run.output("published-count"), "3");
    assert_eq!(run.output("published-urls"), "https://instagram.example/p/1");
    assert!(run.stdout.contains("published-urls leaves out 2 URLs that are not https://"), "{}", run.stdout);
    assert!(run.summary.contains("(<https://instagram.example/p/1>)"), "{}", run.summary);
    assert!(!run.summary.contains("http://") && !run.summary.contains("javascript"), "{}", run.summary);
    let urls: Vec<_> = run.results().iter().map(|d| d["url"].as_str().unwrap_or("").to_owned()).collect();
    assert!(urls.contains(&"http://x.example/p/1".to_owned()), "{urls:?}");
}

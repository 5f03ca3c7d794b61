//! Publish and verify (issue #14): accounts resolved before anything is created, media
//! uploaded without the key, the post created never twice (a lost answer is looked for
//! before any repeat, a re-run reuses its post), then the same wait and report. Every case
//! counts the POSTs the server received.

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use crate::server::{Reply, Request, Server};
use crate::util::Cmd;

const POSTS: &str = "/api/v1/posts";

fn accounts() -> Reply {
    let a = |id: u64, platform: &str, user: &str, health: &str, active: bool| {
        json!({"id": id, "platform": platform, "platform_username": user, "display_name": user,
               "is_active": active, "health": {"status": health, "message": if health == "expired" { "Token expired" } else { "" }}})
    };
    Reply::ok(json!({"data": {"accounts": [
        a(1, "x", "brand", "healthy", true),
        a(2, "linkedin", "Brand Inc", "healthy", true),
        a(3, "instagram", "brand", "healthy", true),
        a(4, "instagram", "other", "healthy", true),
        a(5, "tiktok", "brand", "expired", true),
        a(6, "threads", "brand", "healthy", false),
    ]}}))
}

fn published(ids: &[u64]) -> Reply {
    let names = ["", "x", "linkedin", "instagram", "instagram", "tiktok", "threads"];
    let results: Vec<Value> = ids
        .iter()
        .map(|id| {
            let p = names[*id as usize];
            json!({"account_id": id, "account_name": format!("@{p}"), "platform": p, "status": "published",
                   "platform_post_url": format!("https://{p}.example/p/{id}"), "attempts": 1})
        })
        .collect();
    Reply::ok(json!({"data": {"post_id": "p-new", "post_status": "published", "results": results}}))
}

fn created(id: &str) -> Reply {
    Reply::status(201, json!({"data": {"post_id": id, "status": "publishing", "message": "created"}}))
}

fn listing(posts: Value) -> Reply {
    Reply::ok(json!({"data": {"posts": posts, "pagination": {"limit": 100, "offset": 0, "has_more": false}}}))
}

/// A server for publishing to x and linkedin: accounts, media, an empty post list, create
/// answers as given, and the new post's results.
fn api(create: Vec<Reply>, list: Vec<Reply>) -> Server {
    let s = Server::new();
    let storage = format!("http://127.0.0.1:{}/storage/m1", s.port());
    s.route("GET", "/api/v1/accounts", vec![accounts()])
        .route(
            "POST",
            "/api/v1/media/upload",
            vec![Reply::ok(json!({"data": {"media_id": "m1", "upload_url": storage, "expires_in": 900}}))],
        )
        .route("PUT", "/storage/m1", vec![Reply::ok(json!({}))])
        .route(
            "POST",
            "/api/v1/media/m1/complete",
            vec![Reply::ok(json!({"data": {"upload_status": "processing"}}))],
        )
        .route(
            "GET",
            "/api/v1/media/m1",
            vec![
                Reply::ok(json!({"data": {"upload_status": "processing"}})),
                Reply::ok(json!({"data": {"upload_status": "ready"}})),
            ],
        )
        .route("GET", POSTS, list)
        .route("POST", POSTS, create)
        .route("GET", "/api/v1/posts/p-new/results", vec![published(&[1, 2])])
        .route("GET", "/api/v1/posts/p-old/results", vec![published(&[1, 2])])
}

fn publish(server: &Server) -> Cmd {
    Cmd::github(&server.base_url())
        .without("INPUT_POST-ID")
        .input("content", "Launch day!")
        .input("accounts", "x, linkedin")
}

fn creates(server: &Server) -> Vec<Request> {
    server.requests().into_iter().filter(|r| r.method == "POST" && r.path == POSTS).collect()
}

fn posts_made(server: &Server) -> usize {
    server.requests().iter().filter(|r| r.method == "POST" || r.method == "PUT").count()
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a time (days from the civil calendar algorithm).
fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

fn png(run_dir: &std::path::Path) -> String {
    let p = run_dir.join("launch.png");
    std::fs::write(&p, b"\x89PNG\r\n\x1a\nfake image bytes").unwrap();
    p.display().to_string()
}

#[test]
fn publishes_with_media_then_waits_and_reports() {
    let server = api(vec![created("p-new")], vec![listing(json!([]))]);
    let cmd = publish(&server).input("dedupe", "24h");
    let media = png(cmd.path("").as_path());
    let run = cmd.input("media", &media).results_file().run();
    run.expect_code(0);
    assert_eq!(
        (run.output("post-id"), run.output("created"), run.output("reused-post"), run.output("media-ids")),
        ("p-new", "true", "false", "m1")
    );
    assert_eq!(run.output("published-count"), "2");
    let c = creates(&server);
    assert_eq!(c.len(), 1);
    let body: Value = serde_json::from_str(&c[0].body).unwrap();
    assert_eq!(body, json!({"content": "Launch day!", "account_ids": [1, 2], "media_ids": ["m1"]}));
    // The storage host never gets the key; it gets the file, whole.
    let put = server.requests().into_iter().find(|r| r.method == "PUT").unwrap();
    assert_eq!(put.header("authorization"), None);
    assert!(
        server
            .requests()
            .iter()
            .filter(|r| r.path.starts_with("/api/"))
            .all(|r| r.header("authorization").is_some())
    );
    assert_eq!(
        put.header("content-length"),
        Some(std::fs::metadata(&media).unwrap().len().to_string().as_str())
    );
    assert_eq!(put.header("content-type"), Some("image/png"));
    assert!(
        run.summary.contains("### What was posted") && run.summary.contains("Launch day!"),
        "{}",
        run.summary
    );
    let results = run.results_file.as_ref().unwrap();
    let p = &results["publish"];
    assert_eq!((p["created"].clone(), p["create_calls"].clone()), (json!(true), json!(1)));
    // The requests counted are every API request, publishing's included.
    let api_requests = server.requests().iter().filter(|r| r.path.starts_with("/api/")).count();
    assert_eq!(results["timing"]["requests"], json!(api_requests));
    assert!(run.stdout.contains(&format!("{api_requests} requests")), "{}", run.stdout);
}

#[test]
fn accounts_are_checked_before_anything_is_created() {
    for (accounts, code, needle) in [
        ("instagram", 2, "2 instagram accounts are connected"),
        (
            "pinterest",
            2,
            "no connected account matches; connected: x @brand (id 1), linkedin @Brand Inc (id 2)",
        ),
        ("x, tiktok", 4, "reconnect or activate it in PostEverywhere"),
        ("threads", 4, "inactive"),
    ] {
        let server = api(vec![created("p-new")], vec![listing(json!([]))]);
        let run = publish(&server).input("accounts", accounts).run();
        run.expect_code(code);
        assert!(run.stdout.contains(needle), "{accounts}: {}", run.stdout);
        assert_eq!(posts_made(&server), 0, "{accounts}: nothing is created or uploaded");
        assert_eq!(run.output("created"), "false");
    }
    // skip-unhealthy: posts to the healthy account, reports the other as failed.
    let server = api(vec![created("p-new")], vec![listing(json!([]))]).route(
        "GET",
        "/api/v1/posts/p-new/results",
        vec![published(&[1])],
    );
    let run = publish(&server).input("accounts", "x, tiktok").input("skip-unhealthy", "true").run();
    run.expect_code(1);
    let body: Value = serde_json::from_str(&creates(&server)[0].body).unwrap();
    assert_eq!(body["account_ids"], json!([1]));
    assert_eq!((run.output("published-count"), run.output("failed-count")), ("1", "1"));
    let tiktok = run.results().into_iter().find(|d| d["platform"] == "tiktok").unwrap();
    assert_eq!(tiktok["failure_class"], "reconnect");
    assert!(tiktok["error"].as_str().unwrap().contains("Token expired"), "{tiktok}");
}

#[test]
fn a_dry_run_posts_nothing_and_says_what_it_would() {
    let server = api(vec![created("p-new")], vec![listing(json!([]))]);
    let cmd = publish(&server).input("dry-run", "true");
    let media = png(cmd.path("").as_path());
    let run = cmd.input("media", &media).run();
    run.expect_code(0);
    assert_eq!(run.output("status"), "dry-run");
    assert_eq!(posts_made(&server), 0);
    assert!(run.stdout.contains("to x @brand (id 1)") && run.stdout.contains("launch.png"), "{}", run.stdout);
    assert!(run.summary.contains("What would be posted"), "{}", run.summary);
}

#[test]
fn a_lost_create_answer_is_looked_for_before_any_repeat() {
    let mine = json!([{"post_id": "p-new", "content": "Launch day!\n", "account_ids": [2, 1]}]);
    // The post was made: found, never sent again; for every way an answer gets lost.
    for lost in [Reply::status(502, json!({"error": "bad gateway"})), Reply::Reset, Reply::ResetMidBody] {
        let server =
            api(vec![lost.clone(), created("twice!")], vec![listing(json!([])), listing(mine.clone())]);
        let run = publish(&server).run();
        run.expect_code(0);
        assert_eq!(creates(&server).len(), 1, "{lost:?}: one POST");
        assert_eq!((run.output("post-id"), run.output("created")), ("p-new", "true"));
        assert!(run.stdout.contains("found it, post p-new: not posting again"), "{}", run.stdout);
    }
    // It was not: sent again, once.
    let server = api(vec![Reply::status(503, json!({})), created("p-new")], vec![listing(json!([]))]);
    let run = publish(&server).results_file().run();
    run.expect_code(0);
    assert_eq!(creates(&server).len(), 2);
    assert_eq!(run.results_file.as_ref().unwrap()["publish"]["create_calls"], 2);
}

#[test]
fn at_most_three_creates_that_could_have_posted() {
    let lost = || Reply::status(503, json!({"error": "unavailable"}));
    let limited = Reply::status(429, json!({"error": {"code": "rate_limited", "retryAfter": 0.05}}));
    let server = api(vec![limited, lost(), lost(), lost(), created("p-new")], vec![listing(json!([]))]);
    let run = publish(&server).results_file().run();
    run.expect_code(4);
    // The 429 made nothing and is sent again; then three lost answers, each looked for.
    assert_eq!(creates(&server).len(), 4);
    assert!(
        run.output("message").contains("3 create calls failed and made no post"),
        "{}",
        run.output("message")
    );
    assert_eq!(run.output("created"), "false");
    assert_eq!(run.results_file.as_ref().unwrap()["publish"]["create_calls"], 3);
}

#[test]
fn a_scheduled_post_is_created_for_its_time_and_not_waited_for() {
    let at = rfc3339(SystemTime::now() + Duration::from_secs(86_400));
    let queued = Reply::ok(json!({"data": {"post_id": "p-new", "results": [
        {"account_id": 1, "platform": "x", "status": "queued"},
        {"account_id": 2, "platform": "linkedin", "status": "queued"}]}}));
    let server = api(vec![created("p-new")], vec![listing(json!([]))])
        .route("GET", "/api/v1/posts/p-new/results", vec![queued])
        .route(
            "GET",
            "/api/v1/posts/p-new",
            vec![Reply::ok(json!({"data": {"id": "p-new", "status": "scheduled", "scheduled_for": at}}))],
        );
    let run = publish(&server).input("schedule-at", &at).run();
    run.expect_code(0);
    assert_eq!(run.output("status"), "scheduled");
    let body: Value = serde_json::from_str(&creates(&server)[0].body).unwrap();
    assert_eq!(body["scheduled_for"], json!(at));
}

#[test]
fn a_refused_post_listing_is_warned_about_and_the_post_made() {
    let refused = Reply::status(403, json!({"error": {"code": "forbidden", "message": "no"}}));
    let server = api(vec![created("p-new")], vec![refused]);
    let run = publish(&server).run();
    run.expect_code(0);
    assert_eq!(creates(&server).len(), 1);
    assert!(run.stdout.contains("could not look for an earlier post with this content"), "{}", run.stdout);
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
    // Within the window the same post is reused; dedupe 0 never looks.
    let recent = json!([{"post_id": "p-old", "content": "Launch day!", "account_ids": [1, 2], "created_at": rfc3339(SystemTime::now())}]);
    let server = api(vec![created("p-new")], vec![listing(recent.clone())]);
    publish(&server).run().expect_code(0);
    assert_eq!(creates(&server).len(), 0);
    let server = api(vec![created("p-new")], vec![listing(recent)]);
    publish(&server).input("dedupe", "0").run().expect_code(0);
    assert_eq!(creates(&server).len(), 1);
    assert_eq!(server.hits("GET", POSTS), 0);
}

#[test]
fn an_upload_url_in_clear_to_another_host_is_refused() {
    let server = api(vec![created("p-new")], vec![listing(json!([]))]).route(
        "POST",
        "/api/v1/media/upload",
        vec![Reply::ok(json!({"data": {"media_id": "m1", "upload_url": "http://storage.example/m1"}}))],
    );
    let cmd = publish(&server);
    let media = png(cmd.path("").as_path());
    let run = cmd.input("media", &media).run();
    run.expect_code(4);
    assert!(run.output("message").contains("not https"), "{}", run.output("message"));
    assert_eq!(creates(&server).len(), 0);
}

#[test]
fn requests_share_the_budget() {
    let server = api(vec![created("p-new")], vec![listing(json!([]))]);
    let cmd = publish(&server).input("rate-limit", "600");
    let media = png(cmd.path("").as_path());
    cmd.input("media", &media).run().expect_code(0);
    let api: Vec<Duration> =
        server.requests().iter().filter(|r| r.path.starts_with("/api/")).map(|r| r.at).collect();
    for pair in api.windows(2) {
        assert!(pair[1] - pair[0] >= Duration::from_millis(95), "{api:?}");
    }
}

#[test]
fn bad_inputs_stop_before_any_request() {
    let server = Server::new();
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.png");
    std::fs::File::create(&big).unwrap().set_len(25 * 1024 * 1024).unwrap();
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (vec![("content", " ".into())], "is set, but no content or content-file"),
        (
            vec![("content", String::new()), ("content-file", "/no/such/notes.md".into())],
            "input 'content-file'",
        ),
        (
            vec![("content-file", "/no/such/notes.md".into())],
            "inputs 'content' and 'content-file' are exclusive",
        ),
        (vec![("accounts", "linkdin".into())], "did you mean linkedin?"),
        (vec![("media", big.display().to_string())], "over the 20 MiB"),
        (vec![("schedule-at", "2020-01-01T00:00:00Z".into())], "is in the past"),
        (vec![("schedule-at", "next tuesday".into())], "expected a time like"),
        (vec![("post-id", "p1".into())], "inputs 'post-id' and 'content' are exclusive"),
        (vec![("accounts", String::new())], "input 'accounts' is required"),
    ];
    for (inputs, needle) in cases {
        let mut cmd = Cmd::github(&server.base_url())
            .without("INPUT_POST-ID")
            .input("content", "hi")
            .input("accounts", "x");
        for (k, v) in &inputs {
            cmd = cmd.input(k, v);
        }
        let run = cmd.run();
        run.expect_code(2);
        assert!(run.stderr.contains(needle), "{inputs:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
    }
    assert_eq!(server.requests().len(), 0);
}

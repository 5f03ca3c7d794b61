//! Publish and verify (issue #14): accounts resolved before anything is created, media
//! uploaded without the key, the post created never twice (a lost answer is looked for
//! before any repeat, a re-run reuses its post), then the same wait and report. Every case
//! counts the POSTs the server received.

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use crate::server::{Reply, Request, Server};
use crate::util::{Cmd, rfc3339};

mod bare;
mod cancel;
mod create;
mod dedupe;
mod looks;
mod stops;
mod twice;
mod waits;

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
    assert!(run.output("message").starts_with("dry run: would post to "), "{}", run.output("message"));
    assert_eq!(posts_made(&server), 0);
    assert!(run.stdout.contains("to x @brand (id 1)") && run.stdout.contains("launch.png"), "{}", run.stdout);
    assert!(run.summary.contains("What would be posted"), "{}", run.summary);
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
    // The budget spaces the sends 100 ms apart. An arrival lags its send by anything from
    // nothing to a connection's set-up (the first two arrived 57 ms apart under Wine in
    // CI), so a pair k sends apart arrives at least 100·k − 60 ms apart. Without the shared
    // budget the sends bunch at 0 ms; at half of it, pairs two or more apart fall short.
    for (i, a) in api.iter().enumerate() {
        for (k, b) in api[i + 1..].iter().enumerate() {
            let floor = Duration::from_millis(100 * (k as u64 + 1)).saturating_sub(Duration::from_millis(60));
            assert!(*b - *a >= floor, "{api:?}");
        }
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
        (vec![("schedule-at", "next tuesday".into())], "expected a time with its zone, like"),
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

/// Every account posted to must show up in the results: one not listed yet keeps the wait
/// going (a first answer may list only the fastest platform), and one never listed is
/// pending at the deadline, never reported green.
#[test]
fn an_account_posted_to_is_waited_for_until_the_results_list_it() {
    let results = "/api/v1/posts/p-new/results";
    let server = api(vec![created("p-new")], vec![listing(json!([]))]).route(
        "GET",
        results,
        vec![published(&[1]), published(&[1]), published(&[2, 1])],
    );
    let run = publish(&server).run();
    run.expect_code(0);
    assert_eq!((run.output("published-count"), run.output("total-count")), ("2", "2"));
    assert_eq!(server.requests().iter().filter(|r| r.path == results).count(), 3);

    let server =
        api(vec![created("p-new")], vec![listing(json!([]))]).route("GET", results, vec![published(&[1])]);
    let run = publish(&server).input("timeout", "300ms").run();
    run.expect_code(3);
    assert_eq!((run.output("status"), run.output("pending-count")), ("timeout", "1"));
    assert!(run.output("message").contains("1 destination still pending"), "{}", run.output("message"));
    let linkedin = run.results().into_iter().find(|d| d["platform"] == "linkedin").unwrap();
    assert_eq!((linkedin["status"].clone(), linkedin["account_id"].clone()), (json!("pending"), json!(2)));
    assert!(linkedin["note"].as_str().unwrap().contains("not listed in the results"), "{linkedin}");
    assert!(run.summary.contains("| ⏳ | linkedin |"), "{}", run.summary);
    assert!(server.requests().iter().filter(|r| r.path == results).count() > 1);
}

/// Answers publishing reads are decoded before they are scrubbed: one that echoes the key
/// with a JSON escape cut by the scrub (`\\x70e_live…` on the wire), or holds a byte that is
/// not UTF-8, is still read, and the key still never shown.
#[test]
fn odd_but_usable_answers_do_not_stop_publishing() {
    let echo = format!("old {}", crate::util::KEY.replacen("pe", r"\x70e", 1));
    let old = json!([{"post_id": "p-old", "content": echo, "account_ids": [9]}]);
    let mut latin1 =
        br#"{"data": {"accounts": [{"id": 1, "platform": "x", "platform_username": "Caf"#.to_vec();
    latin1.extend_from_slice(b"\xe9\", \"is_active\": true, \"health\": {\"status\": \"healthy\"}},");
    latin1.extend_from_slice(
        br#" {"id": 2, "platform": "linkedin", "display_name": "Brand", "is_active": true}]}}"#,
    );
    let server = api(vec![created("p-new")], vec![listing(old)]).route(
        "GET",
        "/api/v1/accounts",
        vec![Reply::Raw(200, vec![], latin1)],
    );
    let run = publish(&server).run();
    run.expect_code(0);
    assert_eq!((creates(&server).len(), run.output("post-id")), (1, "p-new"));
}

/// A content file saved with a byte-order mark posts its text without it; one file named
/// twice (`a.png, ./a.png`) is attached once; `schedule-at: now` is the default, said.
#[test]
fn a_bom_a_file_named_twice_and_now_are_read_as_meant() {
    let server = api(vec![created("p-new")], vec![listing(json!([]))]);
    let cmd = publish(&server).without("INPUT_CONTENT").input("dry-run", "true").input("schedule-at", "now");
    let media = png(cmd.path("").as_path());
    let text = cmd.path("post.txt");
    std::fs::write(&text, "\u{FEFF}Launch day!").unwrap();
    let dot = format!("{}/./launch.png", cmd.path("").display());
    let run =
        cmd.input("content-file", text.to_str().unwrap()).input("media", &format!("{media}, {dot}")).run();
    run.expect_code(0);
    assert!(run.stdout.contains("publishing \"Launch day!\" (11 characters, 1 media)"), "{}", run.stdout);
}

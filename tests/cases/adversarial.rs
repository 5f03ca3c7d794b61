//! An adversarial API and environment (issue #11, items 1-12): re-queue answers with odd
//! bodies, long rate-limit hints, a budget that cannot fit the last request, keys in
//! config values and encoded echoes, special files, failed writes, closed pipes,
//! duplicated and vanishing destinations, a re-queue in flight at the deadline, an empty
//! body. Each case runs the real binary against a scripted server on 127.0.0.1.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::server::{RESULTS, Reply, Server};
use crate::util::{Cmd, KEY, account, base64, dest, results};

const RETRY: &str = "/api/v1/posts/post_1/retry";

fn failed(platform: &str, attempts: u64) -> Value {
    let mut d = dest(platform, "failed");
    d["attempts"] = json!(attempts);
    d
}

fn retry_bodies(server: &Server) -> Vec<String> {
    server.requests().into_iter().filter(|r| r.path == RETRY).map(|r| r.body).collect()
}

// 1. A 2xx to the retry call is a success whatever its body; a re-queue that took effect
//    is never sent again while the results lag.
#[test]
fn any_2xx_to_a_requeue_is_taken_and_never_repeated() {
    let odd_answers = [
        Reply::Raw(204, vec![], Vec::new()),
        Reply::Raw(202, vec![], Vec::new()),
        Reply::Raw(200, vec![("Content-Type", "text/plain".into())], b"Re-queued.".to_vec()),
    ];
    for answer in odd_answers {
        let stale = Reply::ok(results(json!([failed("x", 1)])));
        let server = Server::new()
            .results(vec![
                stale.clone(),
                stale.clone(),
                stale,
                Reply::ok(results(json!([dest("x", "queued")]))),
                Reply::ok(results(json!([dest("x", "published")]))),
            ])
            .route("POST", RETRY, vec![answer.clone()]);
        let run = Cmd::github(&server.base_url()).input("retry-failed", "3").run();
        run.expect_code(0);
        assert_eq!(
            retry_bodies(&server),
            vec![format!("{{\"account_ids\":[{}]}}", account("x"))],
            "{answer:?}"
        );
        assert_eq!(run.output("retried-count"), "1");
        assert!(run.stdout.contains("the API accepted the re-queue"), "{}", run.stdout);
    }
}

// 2. A rate-limit hint longer than the time left never ends the wait early: one last poll
//    lands on the deadline.
#[test]
fn a_long_rate_limit_hint_waits_for_a_last_poll_at_the_deadline() {
    let limited =
        || Reply::status(429, json!({"error": {"code": "rate_limited"}})).with_header("Retry-After", "60");
    let exhausted = || {
        Reply::ok(results(json!([dest("x", "publishing")])))
            .with_header("X-RateLimit-Limit", "60")
            .with_header("X-RateLimit-Remaining", "0")
            .with_header("X-RateLimit-Reset", "60")
    };
    let cases: [(Vec<Reply>, i32); 3] = [
        (vec![Reply::ok(results(json!([dest("x", "publishing")]))), limited()], 3),
        // Limited on the very first request: no usable answer ever, at the deadline.
        (vec![limited()], 4),
        (vec![exhausted()], 3),
    ];
    for (replies, code) in cases {
        let server = Server::new().results(replies);
        let run =
            Cmd::github(&server.base_url()).input("timeout", "700ms").input("poll-interval", "100ms").run();
        run.expect_code(code);
        let last = server.requests().last().unwrap().at;
        let first = server.requests()[0].at;
        let offset = last - first;
        assert!(
            offset >= Duration::from_millis(650) && offset <= Duration::from_millis(800),
            "last poll at {offset:?}"
        );
        assert!(run.elapsed >= Duration::from_millis(700), "ended after {:?}", run.elapsed);
        assert!(!run.stdout.contains("deadline reached") || run.elapsed >= Duration::from_millis(700));
    }
}

// 3. The log never announces a request that is not made; a wait whose budget fits no
//    further request still lasts until the deadline.
#[test]
fn no_retry_is_announced_that_the_budget_cannot_make() {
    let unreachable = format!("http://127.0.0.1:{}/api/v1", closed_port());
    let run = Cmd::github(&unreachable)
        .input("rate-limit", "50")
        .input("poll-interval", "400ms")
        .input("timeout", "600ms")
        .run();
    run.expect_code(4);
    assert!(run.stdout.contains("no further request fits before the deadline"), "{}", run.stdout);
    assert!(!run.stdout.contains("next request in"), "{}", run.stdout);
    assert!(run.elapsed >= Duration::from_millis(600), "{:?}", run.elapsed);
    // With room in the budget, every announced request is made.
    let run = Cmd::github(&unreachable)
        .input("poll-interval", "200ms")
        .input("timeout", "500ms")
        .results_file()
        .run();
    run.expect_code(4);
    let announced =
        run.stdout.matches("next request in").count() + run.stdout.matches("one last request").count();
    let made = run.results_file.as_ref().unwrap()["timing"]["requests"].as_u64().unwrap() as usize;
    assert!(announced >= 2, "{}", run.stdout);
    assert_eq!(made, announced + 1, "each announcement is followed by its request:\n{}", run.stdout);
}

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

// 4. A key inside another input's value never reaches an error, and it is masked first.
#[test]
fn a_key_inside_a_config_value_is_never_printed() {
    for base in [format!("https://u:{KEY}@api.example/v1"), format!("https://api.example/v1?key={KEY}")] {
        let run = Cmd::github("https://unused.example").input("base-url", &base).run();
        run.expect_code(2);
        assert!(run.stdout.starts_with("::add-mask::"), "{}", run.stdout);
        assert!(run.stderr.contains("input 'base-url'"), "{}", run.stderr);
    }
}

// 5. Echoes of the key in encoded forms are scrubbed from the log, outputs and files.
#[test]
fn encoded_echoes_of_the_key_are_scrubbed_everywhere() {
    let b64 = base64(format!("Bearer {KEY}").as_bytes());
    let upper: String = KEY.bytes().map(|b| format!("%{b:02X}")).collect();
    let lower: String = KEY.bytes().map(|b| format!("%{b:02x}")).collect();
    let mut d = dest("x", "failed");
    d["error"] = json!(format!("rejected Authorization {b64}"));
    d["account_name"] = json!(format!("@{upper}"));
    let mut ok = dest("instagram", "published");
    ok["platform_post_url"] = json!(format!("https://instagram.example/p/1?k={lower}"));
    let server = Server::new().results(vec![Reply::ok(results(json!([ok, d])))]);
    let run = Cmd::github(&server.base_url()).results_file().input("junit-file", "junit.xml").run();
    run.expect_code(1);
    // util checked every form in every output and file; the rest of the text survives.
    assert_eq!(run.results()[1]["account_name"], "@***");
    assert!(run.results()[1]["error"].as_str().unwrap().starts_with("rejected Authorization "));
    let err =
        Reply::status(401, json!({"error": {"code": "unauthorized", "message": format!("bad key {b64}")}}));
    let server = Server::new().results(vec![err]);
    Cmd::github(&server.base_url()).run().expect_code(4);
}

// 6. No report file ever replaces something that is not a regular file.
#[cfg(unix)]
#[test]
fn special_files_are_refused_before_the_wait_and_links_are_written_through() {
    let server = Server::new().results(vec![Reply::ok(results(json!([dest("x", "published")])))]);
    let dir = tempfile::tempdir().unwrap();
    let link_to_null = dir.path().join("stdout");
    std::os::unix::fs::symlink("/dev/null", &link_to_null).unwrap();
    let fifo = dir.path().join("fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    // A link to nowhere: written through, it would make a file wherever it points.
    let dangling = dir.path().join("dangling");
    std::os::unix::fs::symlink(dir.path().join("missing").join("results.json"), &dangling).unwrap();
    for (path, why) in [
        ("/dev/null".to_owned(), "a character device"),
        (link_to_null.display().to_string(), "not a regular file"),
        (fifo.display().to_string(), "a named pipe"),
        (dir.path().display().to_string(), "a folder"),
        (dangling.display().to_string(), "does not exist"),
    ] {
        let run = Cmd::github(&server.base_url()).input("results-file", &path).run();
        run.expect_code(2);
        assert!(run.stderr.contains("input 'results-file'") && run.stderr.contains(why), "{}", run.stderr);
    }
    assert_eq!(server.requests().len(), 0, "refused before any request");
    use std::os::unix::fs::FileTypeExt as _;
    assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    assert!(std::fs::symlink_metadata(&dangling).unwrap().file_type().is_symlink());
    assert!(!dir.path().join("missing").exists(), "nothing made where the link points");
    // A link to a regular file is written through and stays a link.
    let real = dir.path().join("real.json");
    std::fs::write(&real, "{}").unwrap();
    let link = dir.path().join("results.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    Cmd::github(&server.base_url()).input("results-file", link.to_str().unwrap()).run().expect_code(0);
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert!(std::fs::read_to_string(&real).unwrap().contains("\"schema_version\""));
}

// 7. A failed write fails the step with exit 5 (before the wait when it can be known).
#[test]
fn failed_writes_fail_the_step() {
    let server = Server::new().results(vec![Reply::ok(results(json!([dest("x", "published")])))]);
    let run = Cmd::github(&server.base_url()).env("GITHUB_OUTPUT", "/nonexistent-folder/out").run();
    run.expect_code(5);
    assert!(run.stdout.contains("::error::cannot write GITHUB_OUTPUT"), "{}", run.stdout);
    assert_eq!(server.requests().len(), 0, "nothing is waited for when outputs cannot be written");
    #[cfg(target_os = "linux")]
    {
        // A full disk: the summary cannot be written at the end.
        let run = Cmd::github(&server.base_url()).env("GITHUB_STEP_SUMMARY", "/dev/full").run();
        run.expect_code(5);
        assert!(
            run.stdout.contains("a report was not written::cannot write summary to /dev/full"),
            "{}",
            run.stdout
        );
        assert_eq!(run.output("status"), "published", "the outputs still say what happened");
        // Written last, they carry the exit code the step ends with (they once said 0).
        assert_eq!(run.output("exit-code"), "5");
        // A folder that takes no new files (sysfs refuses even root).
        let run = Cmd::github(&server.base_url()).input("results-file", "/sys/kernel/pew-results.json").run();
        run.expect_code(2);
        assert!(run.stderr.contains("cannot create files in folder /sys/kernel"), "{}", run.stderr);
    }
}

/// Every report file that cannot be written at the end (its folder gone mid-run) fails the
/// step with exit 5 and is named; the others are still written.
#[test]
#[cfg(unix)] // Windows will not remove a folder a process has open
fn a_report_that_cannot_be_written_at_the_end_fails_the_step() {
    let pending = || Reply::ok(results(json!([dest("x", "publishing")])));
    let server =
        Server::new().results(vec![pending(), pending(), Reply::ok(results(json!([dest("x", "failed")])))]);
    let cmd = Cmd::plain().env("GITLAB_CI", "true").env("CI", "true");
    let gone = cmd.path("gone");
    std::fs::create_dir(&gone).unwrap();
    let files = ["dotenv-file", "junit-file", "annotations-file", "summary-file", "results-file"];
    let mut cmd = cmd
        .env("POSTEVERYWHERE_API_KEY", KEY)
        .env("POSTEVERYWHERE_POST_ID", "post_1")
        .env("POSTEVERYWHERE_BASE_URL", &server.base_url())
        .env("POSTEVERYWHERE_POLL_INTERVAL", "100ms")
        .env("POSTEVERYWHERE_RATE_LIMIT", "60000");
    for (n, name) in files.iter().enumerate() {
        // The results file stays where it can be written.
        let dir = if n == 4 { cmd.path("") } else { gone.clone() };
        let var = format!("POSTEVERYWHERE_{}", name.to_uppercase().replace('-', "_"));
        cmd = cmd.env(&var, dir.join(format!("{name}.out")).to_str().unwrap());
    }
    let start = std::time::Instant::now();
    let child = cmd.spawn(&[]);
    while server.hits("GET", RESULTS) == 0 {
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "no request");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    std::fs::remove_dir_all(&gone).unwrap();
    let run = cmd.collect(child, start);
    run.expect_code(5);
    for name in &files[..4] {
        assert!(run.stderr.contains(&format!("{name}.out")), "{name} not named:\n{}", run.stderr);
    }
    let results = std::fs::read_to_string(run.dir.path().join("results-file.out")).unwrap();
    let results: serde_json::Value = serde_json::from_str(&results).unwrap();
    assert_eq!(results["status"], "failed");
    // Known before the first report was written: every report says exit 5, and why.
    assert_eq!(results["exit_code"], 5, "{results}");
    let message = results["message"].as_str().unwrap();
    assert!(
        message.contains("cannot write junit-file to ") && message.contains("does not exist"),
        "{message}"
    );
    assert!(run.stdout.contains("exit code 5)"), "{}", run.stdout);
}

// 8. No panic on a closed stdout or stderr.
#[test]
fn closed_pipes_never_panic() {
    let server = Server::new().results(vec![Reply::ok(results(json!([dest("x", "published")])))]);
    for args in [&["--version"][..], &["--help"], &["--bogus"], &["--demo"], &[]] {
        for close_stderr in [false, true] {
            let cmd = Cmd::plain()
                .env("POSTEVERYWHERE_API_KEY", KEY)
                .env("POSTEVERYWHERE_POST_ID", "post_1")
                .env("POSTEVERYWHERE_BASE_URL", &server.base_url())
                .env("POSTEVERYWHERE_POLL_INTERVAL", "20ms");
            let mut child = cmd.spawn(args);
            drop(child.stdout.take());
            if close_stderr {
                drop(child.stderr.take());
            }
            let start = Instant::now();
            let out = loop {
                if let Some(status) = child.try_wait().unwrap() {
                    break status;
                }
                assert!(start.elapsed() < Duration::from_secs(30), "{args:?} hung");
                std::thread::sleep(Duration::from_millis(5));
            };
            let code = out.code();
            let expected = match args.first().copied() {
                Some("--bogus") => 2,
                Some("--demo") => 1,
                _ => 0,
            };
            assert_eq!(code, Some(expected), "{args:?} with a closed stdout (stderr closed: {close_stderr})");
            if let Some(mut err) = child.stderr.take() {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut err, &mut text).unwrap();
                assert!(!text.contains("panicked"), "{text}");
            }
        }
    }
}

// 9. A destination listed twice is one destination, re-queued once.
#[test]
fn duplicate_entries_are_one_destination() {
    let server = Server::new()
        .results(vec![
            Reply::ok(results(json!([failed("x", 1), failed("x", 1), dest("instagram", "published")]))),
            Reply::ok(results(json!([
                dest("x", "published"),
                dest("x", "published"),
                dest("instagram", "published")
            ]))),
        ])
        .route("POST", RETRY, vec![Reply::ok(json!({"data": {"retried_count": 1}}))]);
    let run = Cmd::github(&server.base_url()).input("retry-failed", "1").run();
    run.expect_code(0);
    assert_eq!(retry_bodies(&server), vec![format!("{{\"account_ids\":[{}]}}", account("x"))]);
    assert_eq!(run.output("total-count"), "2");
    assert_eq!(run.output("retried-count"), "1");
    assert!(run.results()[0]["note"].as_str().unwrap().contains("listed more than once"));
}

// 10. A re-queue in flight at the deadline is pending: a timeout always has something
//     pending.
#[test]
fn a_requeue_in_flight_at_the_deadline_is_pending() {
    let server = Server::new()
        .results(vec![Reply::ok(results(json!([failed("x", 1), dest("instagram", "published")])))])
        .route("POST", RETRY, vec![Reply::Hang]);
    let run = Cmd::github(&server.base_url()).input("retry-failed", "1").input("timeout", "300ms").run();
    run.expect_code(3);
    assert_eq!(run.output("status"), "timeout");
    assert_eq!(run.output("pending-count"), "1");
    assert!(run.output("message").contains("1 destination still pending"), "{}", run.output("message"));
    assert_eq!(server.hits("POST", RETRY), 1);
}

// 11. A destination that disappears is never forgotten.
#[test]
fn a_destination_that_disappears_keeps_its_last_state() {
    let server = Server::new().results(vec![
        Reply::ok(results(json!([dest("x", "publishing"), dest("instagram", "publishing")]))),
        Reply::ok(results(json!([dest("instagram", "published")]))),
    ]);
    let run = Cmd::github(&server.base_url()).input("timeout", "300ms").run();
    run.expect_code(3);
    assert_eq!((run.output("total-count"), run.output("pending-count")), ("2", "1"));
    let x = run.results().into_iter().find(|d| d["platform"] == "x").unwrap();
    assert_eq!(x["status"], "pending");
    assert!(x["note"].as_str().unwrap().contains("missing from the latest answer"), "{x}");
    assert!(run.stdout.contains("x @x: no longer listed"), "{}", run.stdout);
}

// 11b. One account whose platform is spelled differently between answers (or not named
// at first) is one destination: it once stood as two, one of them pending to the deadline.
#[test]
fn a_platform_spelled_differently_later_is_the_same_destination() {
    let mut capital = dest("linkedin", "queued");
    capital["platform"] = json!("LinkedIn");
    let mut unnamed = dest("linkedin", "queued");
    unnamed.as_object_mut().unwrap().remove("platform");
    for first in [capital, unnamed] {
        let server = Server::new().results(vec![
            Reply::ok(results(json!([first.clone()]))),
            Reply::ok(results(json!([dest("linkedin", "published")]))),
        ]);
        let run = Cmd::github(&server.base_url()).input("timeout", "1s").run();
        run.expect_code(0);
        assert_eq!(run.output("total-count"), "1", "{first}");
        assert_eq!(run.results()[0]["platform"], "linkedin");
    }
}

// 11c. One byte that is not UTF-8 (a Latin-1 name) once made every answer unusable: the
// answer is read with U+FFFD for it.
#[test]
fn a_latin1_byte_in_a_name_does_not_spoil_the_answer() {
    let mut body = br#"{"data": {"results": [{"account_id": 1, "platform": "x", "status": "published", "account_name": "Caf"#.to_vec();
    body.extend_from_slice(b"\xe9\"}]}}");
    let server = Server::new().results(vec![Reply::Raw(200, vec![], body)]);
    let run = Cmd::github(&server.base_url()).results_file().run();
    run.expect_code(0);
    assert_eq!(run.results()[0]["account_name"], "Caf\u{FFFD}");
}

// 12. An empty 200 is reported as empty.
#[test]
fn an_empty_body_is_called_empty() {
    let server = Server::new().results(vec![
        Reply::Raw(200, vec![], Vec::new()),
        Reply::ok(results(json!([dest("x", "published")]))),
    ]);
    let run = Cmd::github(&server.base_url()).run();
    run.expect_code(0);
    assert!(run.stdout.contains("answer body is empty"), "{}", run.stdout);
    assert!(!run.stdout.contains("truncated"), "{}", run.stdout);
    assert_eq!(server.hits("GET", RESULTS), 2);
}

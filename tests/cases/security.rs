//! Security: hostile API text cannot inject workflow commands, outputs or markup; the key
//! never leaks even when the API echoes it; proxies are honoured. (TLS trust: `tls.rs`.)

use serde_json::json;

use crate::server::{RESULTS, Reply, Server};
use crate::util::{Cmd, KEY, base64, dest, results};

const HOSTILE: &str = "::error::pwned\n::set-output name=status::published\n##[error]legacy %0A%25 \
    | <script>alert(1)</script> **bold** [link](javascript:x) `code` ghadelimiter_0123\r\nEOF";

#[test]
fn hostile_api_text_stays_inert_everywhere() {
    let evil = json!({
        "account_id": 1, "account_name": HOSTILE, "platform": format!("x\n{HOSTILE}"), "status": "failed",
        "error": HOSTILE, "attempts": 1, "next_retry_at": null, "platform_post_url": "javascript:alert(1)"
    });
    let mut ok = dest("instagram", "published");
    ok["platform_post_url"] = json!("https://instagram.example/p/1?a=(b)|c");
    let server = Server::new().results(vec![Reply::ok(results(json!([ok, evil])))]);
    let run = Cmd::github(&server.base_url()).run();
    // `util` already checked that no line we printed is a command we did not write.
    run.expect_code(1);
    assert_eq!(run.output("status"), "partial", "a value must not set another output");
    let results = run.results();
    assert_eq!(results[1]["error"], HOSTILE, "values round-trip exactly through GITHUB_OUTPUT");
    let annotations: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("::error")).collect();
    assert_eq!(annotations.len(), 2, "why the step failed, then the destination:\n{}", run.stdout);
    assert!(annotations[0].contains("destinations failed"), "{}", annotations[0]);
    assert!(
        annotations[1].contains("pwned ::set-output") && annotations[1].contains("%250A%2525"),
        "{}",
        annotations[1]
    );
    assert!(!run.summary.contains("](javascript") && !run.summary.contains("**bold**"));
    for bad in ["<script>", "](", "`code`"] {
        let in_table = run.summary.lines().filter(|l| l.starts_with("| ❌")).any(|l| l.contains(bad));
        assert!(!in_table, "{bad} reached the summary table:\n{}", run.summary);
    }
    assert!(
        run.summary.contains("[view post](<https://instagram.example/p/1?a=(b)\\|c>)"),
        "{}",
        run.summary
    );
    let table_rows = run.summary.lines().filter(|l| l.starts_with("| ")).count();
    assert_eq!(table_rows, 3, "header plus two rows; hostile text must not add rows:\n{}", run.summary);
}

/// Bidirectional controls from the API (U+202E reverses what follows it on screen: a
/// `failed` read as `deliaf`, words moved between a row's cells) are shown as U+FFFD in
/// the log, the annotations and the summary; the results (output and file) keep the API's
/// text as is.
#[test]
fn bidi_controls_from_the_api_are_shown_not_obeyed() {
    let mut evil = dest("x", "failed");
    evil["account_name"] = json!("Brand\u{202E}");
    evil["error"] = json!("Token \u{2066}expired");
    let server = Server::new().results(vec![Reply::ok(results(json!([evil])))]);
    let run = Cmd::github(&server.base_url()).results_file().run();
    run.expect_code(1);
    for (what, text) in [("stdout", &run.stdout), ("stderr", &run.stderr), ("summary", &run.summary)] {
        assert!(!text.contains(['\u{202E}', '\u{2066}']), "a bidi control reached the {what}:\n{text}");
    }
    assert!(run.stdout.contains("Brand\u{FFFD}"), "{}", run.stdout);
    assert_eq!(run.results()[0]["account_name"], "Brand\u{202E}");
}

#[test]
fn a_key_echoed_by_the_api_is_scrubbed() {
    let body = json!({"error": {"code": "unauthorized", "message": format!("key {KEY} is revoked")}});
    let server = Server::new().results(vec![Reply::status(401, body)]);
    let run = Cmd::github(&server.base_url()).results_file().run();
    run.expect_code(4);
    assert!(run.output("message").contains("key *** is revoked"), "{}", run.output("message"));
}

#[test]
fn a_key_spelled_with_json_escapes_is_scrubbed_too() {
    let escaped = KEY.replace('_', "\\u005f");
    let body = format!(
        r#"{{"data": {{"results": [{{"platform": "x", "account_id": 1, "account_name": "@{escaped}", "status": "failed", "error": "{escaped}"}}]}}}}"#
    );
    let server = Server::new().results(vec![Reply::Raw(200, vec![], body.into_bytes())]);
    let run = Cmd::github(&server.base_url()).results_file().run();
    run.expect_code(1);
    assert_eq!(run.results()[0]["account_name"], "@***");
}

/// Echoes that escape only some of the key's characters (an API that decoded it in part):
/// no fixed list of forms holds them, and every run's outputs are checked for the key's
/// tail, which each of these leaves as it is.
#[test]
fn a_key_escaped_only_in_part_is_scrubbed() {
    let spellings =
        [KEY.replacen('_', "%5F", 1), KEY.replacen('_', "&#95;", 2), KEY.replacen("pe", r"\x70e", 1)];
    for echo in spellings {
        let body = json!({"error": {"code": "unauthorized", "message": format!("key {echo} is revoked")}});
        let server = Server::new().results(vec![Reply::status(401, body)]);
        let run = Cmd::github(&server.base_url()).results_file().run();
        run.expect_code(4);
        assert!(run.output("message").contains("key *** is revoked"), "{echo}: {}", run.output("message"));
    }
    // A 2xx body that is not JSON is quoted in the log as it is, JSON escapes and all.
    let echo = KEY.replace('_', "\\u005f");
    let broken = Reply::Raw(200, vec![], format!("{{\"echo\": \"{echo}\", oops}}").into_bytes());
    let server = Server::new().results(vec![broken, Reply::ok(results(json!([dest("x", "published")])))]);
    let run = Cmd::github(&server.base_url()).input("poll-interval", "0.05s").run();
    run.expect_code(0);
    assert!(run.stdout.contains("answer is not valid JSON"), "{}", run.stdout);
    assert!(run.stdout.contains("{\"echo\": \"***\", oops}"), "{}", run.stdout);
}

#[test]
fn a_usable_answer_is_scrubbed_as_decoded_and_an_unusable_one_before_it_is_quoted() {
    // A 2xx body that cannot be used is quoted in the log, cut at 80 characters: the key
    // in it is masked before the cut (after it, the log's own scrub would see only part of
    // the key). A usable one echoing the key in fields it keeps, as is and in base64, is
    // masked in each (every run's outputs and files are checked for every form of the key).
    let pad = "x".repeat(60);
    let html = Reply::Raw(
        200,
        vec![("Content-Type", "text/html".into())],
        format!("<p>{pad}{KEY}</p>").into_bytes(),
    );
    let b64 = base64(format!("user:{KEY}").as_bytes());
    let mut echo = dest("x", "failed");
    echo["account_name"] = json!(format!("@{b64}"));
    echo["error"] = json!(format!("{KEY} was refused"));
    echo["platform"] = json!(format!("x{KEY}"));
    let server = Server::new().results(vec![html, Reply::ok(results(json!([echo])))]);
    let run = Cmd::github(&server.base_url()).results_file().input("poll-interval", "0.05s").run();
    assert!(
        run.stdout.contains(&format!("answer is HTML, not JSON (a proxy or error page?): <p>{pad}***</p>")),
        "{}",
        run.stdout
    );
    let d = &run.results()[0];
    // `user:` stays readable: its base64 characters do not carry the key's bits.
    assert_eq!((d["account_name"].as_str(), d["platform"].as_str()), (Some("@dXNlcjp***"), Some("x***")));
    assert_eq!(d["error"], "*** was refused");
}

/// A key with capitals, echoed in a field the tool lower-cases (the platform): scrubbed
/// before it is lower-cased, so neither spelling reaches any output.
#[test]
fn a_key_with_capitals_is_scrubbed_before_any_field_is_lower_cased() {
    const CAPS: &str = "pe_live_0123456789ABCDEF0123456789ABCDEF";
    let mut echo = dest("x", "failed");
    echo["platform"] = json!(format!("X{CAPS}"));
    echo["error"] = json!("Token expired");
    let server = Server::new().results(vec![Reply::ok(results(json!([echo])))]);
    let cmd = Cmd::github(&server.base_url()).input("api-key", CAPS).results_file();
    let (dotenv, junit) = (cmd.path("out.env"), cmd.path("junit.xml"));
    let run =
        cmd.input("dotenv-file", dotenv.to_str().unwrap()).input("junit-file", junit.to_str().unwrap()).run();
    run.expect_code(1);
    assert_eq!(run.results()[0]["platform"], "x***");
    // The one place the key may appear is the line that masks it in the log.
    let stdout = run.stdout.lines().filter(|l| !l.starts_with("::add-mask::")).collect::<Vec<_>>().join("\n");
    let mut texts = vec![stdout, run.stderr.clone(), run.summary.clone()];
    texts.extend(run.outputs.values().cloned());
    for entry in std::fs::read_dir(run.dir.path()).unwrap().flatten() {
        texts.extend(std::fs::read_to_string(entry.path()));
    }
    let lower = CAPS.to_ascii_lowercase();
    for text in &texts {
        assert!(!text.contains(&CAPS[8..]) && !text.contains(&lower[8..]), "the key leaked:\n{text}");
    }
    assert!(run.stdout.contains("x***"), "{}", run.stdout);
}

#[test]
fn a_key_split_by_truncation_is_still_scrubbed() {
    // The message is cut at 300 characters, in the middle of the key.
    let body = json!({"error": {"code": "unauthorized", "message": format!("{}{KEY}", "x".repeat(280))}});
    let server = Server::new().results(vec![Reply::status(401, body)]);
    Cmd::github(&server.base_url()).run().expect_code(4);
    let mut echo = dest("x", "failed");
    echo["account_name"] = json!(format!("@{KEY}"));
    echo["error"] = json!(format!("{}{KEY} rejected", "e".repeat(290)));
    echo["platform_post_url"] = json!(format!("https://x.example/{KEY}"));
    let server = Server::new().results(vec![Reply::ok(results(json!([echo])))]);
    let run = Cmd::github(&server.base_url()).results_file().run();
    run.expect_code(1);
    assert_eq!(run.results()[0]["account_name"], "@***");
}

#[test]
fn a_loopback_api_never_goes_through_a_proxy() {
    // A proxy would see the key in clear over plain http.
    let api = Server::new().results(vec![Reply::ok(results(json!([dest("x", "published")])))]);
    let proxy = Server::new();
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port());
    Cmd::github(&api.base_url())
        .env("HTTP_PROXY", &proxy_url)
        .env("http_proxy", &proxy_url)
        .run()
        .expect_code(0);
    assert_eq!(proxy.requests().len(), 0);
    assert_eq!(api.hits("GET", RESULTS), 1);
    let run = Cmd::plain().env("HTTP_PROXY", &proxy_url).env("HTTPS_PROXY", &proxy_url).run_args(&["--demo"]);
    run.expect_code(1);
    assert_eq!(proxy.requests().len(), 0, "the simulator is reached directly too");
}

#[test]
fn no_proxy_bypasses_the_https_proxy() {
    let proxy = Server::new();
    let run = Cmd::github("https://api.posteverywhere.test/api/v1")
        .env("HTTPS_PROXY", &format!("http://127.0.0.1:{}", proxy.port()))
        .env("NO_PROXY", "api.posteverywhere.test")
        .input("max-errors", "1")
        .run();
    run.expect_code(4);
    assert_eq!(proxy.requests().len(), 0);
}

#[test]
fn https_proxy_gets_a_connect_tunnel() {
    let proxy =
        Server::new().route("CONNECT", "api.posteverywhere.test:443", vec![Reply::status(403, json!({}))]);
    let run = Cmd::github("https://api.posteverywhere.test/api/v1")
        .env("HTTPS_PROXY", &format!("http://127.0.0.1:{}", proxy.port()))
        .input("max-errors", "1")
        .run();
    run.expect_code(4);
    assert_eq!(proxy.hits("CONNECT", "api.posteverywhere.test:443"), 1, "{:?}", proxy.requests());
}

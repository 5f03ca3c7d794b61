//! Configuration through the real binary: every bad input exits 2 with a one-line message
//! naming the input and value; all three spellings of an input work; flags.

use serde_json::json;

use crate::server::{Reply, Server};
use crate::util::{Cmd, KEY, dest, results};

#[track_caller]
fn rejected(cmd: Cmd, needle: &str) {
    let run = cmd.run();
    run.expect_code(2);
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("error:"))
        .unwrap_or_else(|| panic!("no error line:\n{}", run.stderr));
    assert!(line.contains(needle), "{line:?} should contain {needle:?}");
    assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
}

#[test]
fn every_config_error_exits_2_naming_the_input() {
    // A closed loopback port, so that nothing is sent anywhere else should a case pass.
    let base = || {
        Cmd::plain()
            .env("POSTEVERYWHERE_API_KEY", KEY)
            .env("POSTEVERYWHERE_POST_ID", "p")
            .env("POSTEVERYWHERE_BASE_URL", "http://127.0.0.1:9/api/v1")
    };
    rejected(Cmd::plain().env("POSTEVERYWHERE_POST_ID", "p"), "input 'api-key' is required");
    rejected(Cmd::plain().env("POSTEVERYWHERE_API_KEY", KEY), "input 'post-id' or 'content' is required");
    rejected(
        base().env("POSTEVERYWHERE_TIMEOUT", "5 fortnights"),
        "input 'timeout' (from POSTEVERYWHERE_TIMEOUT) has a bad value \"5 fortnights\": expected a duration such as 90s, 5m, 1m30s",
    );
    rejected(
        base().env("POSTEVERYWHERE_POST_ID", "{\"id\": 123}"),
        "looks like JSON; give the post's id alone",
    );
    rejected(base().env("POSTEVERYWHERE_POST_ID", "a/b"), "has a character no post id has ('/')");
    rejected(
        base().env("POSTEVERYWHERE_API_KEY", &format!("Bearer {KEY}")),
        "input 'api-key' (from POSTEVERYWHERE_API_KEY) starts with 'Bearer ': give the key alone",
    );
    // A character across the 7th byte once made the 'Bearer ' check panic, quoting the key.
    rejected(
        base().env("POSTEVERYWHERE_API_KEY", "pe_liv€_0123456789abcdef0123456789abcdef"),
        "input 'api-key' (from POSTEVERYWHERE_API_KEY) contains characters that are not ASCII",
    );
    rejected(
        base().env("POSTEVERYWHERE_API_KEY", "ghp_0123456789abcdef"),
        "looks like a GitHub token (ghp_…)",
    );
    // Too short to be a key (and to be scrubbed: one letter would be everywhere).
    rejected(
        base().env("POSTEVERYWHERE_API_KEY", "abc"),
        "input 'api-key' (from POSTEVERYWHERE_API_KEY) is 3 characters long",
    );
    rejected(
        base().env("INPUT_POLL-INTERVAL", "fast"),
        "input 'poll-interval' (from INPUT_POLL-INTERVAL) has a bad value \"fast\"",
    );
    rejected(
        base().env("INPUT_SUMMARY", "yes"),
        "input 'summary' (from INPUT_SUMMARY) has a bad value \"yes\"",
    );
    rejected(
        base().env("INPUT_FAIL_ON", "sometimes"),
        "input 'fail-on' (from INPUT_FAIL_ON) has a bad value \"sometimes\"",
    );
    rejected(base().env("POSTEVERYWHERE_BASE_URL", "http://example.com/api"), "input 'base-url'");
    // Two lines are never one value (a URL parser would drop the break, durations would add).
    rejected(
        base().env("POSTEVERYWHERE_TIMEOUT", "5m\n6m"),
        "input 'timeout' (from POSTEVERYWHERE_TIMEOUT) has a bad value \"5m 6m\": holds a line break",
    );
    let publish =
        || base().without("POSTEVERYWHERE_POST_ID").env("INPUT_CONTENT", "hi").env("INPUT_ACCOUNTS", "x");
    rejected(publish().env("INPUT_DEDUPE", "1h\n1h"), "input 'dedupe' (from INPUT_DEDUPE) has a bad value");
    // A spelling that is not read would be ignored: `dry-run` ignored posts for real.
    rejected(
        publish().env("POSTEVERYWHERE_DRY-RUN", "true"),
        "input 'dry-run' is set as POSTEVERYWHERE_DRY-RUN, a spelling that is not read: name the variable \
         POSTEVERYWHERE_DRY_RUN (upper case)",
    );
    rejected(
        publish().env("POSTEVERYWHERE_dry_run", "true"),
        "input 'dry-run' is set as POSTEVERYWHERE_dry_run",
    );
    // Both of GitHub's spellings, to different values: only one would be read, unsaid.
    rejected(
        publish().env("INPUT_DRY-RUN", "false").env("INPUT_DRY_RUN", "true"),
        "input 'dry-run' is set twice to different values, as INPUT_DRY-RUN and INPUT_DRY_RUN: set it once",
    );
    rejected(
        base().env("POSTEVERYWHERE_BASE_URL", "http://127.0.0.1:9/api\n/v1"),
        "input 'base-url' (from POSTEVERYWHERE_BASE_URL) has a bad value \"http://127.0.0.1:9/api /v1\": holds a",
    );
    rejected(base().env("POSTEVERYWHERE_RESULTS_FILE", "/no/such/dir/r.json"), "input 'results-file'");
}

/// Two reports, or a report and the runner's own files, named as one file (a link or
/// `./` does not hide it): each would overwrite the other, so it is an input mistake.
#[test]
fn two_reports_in_one_file_are_an_input_mistake() {
    let run = |cmd: Cmd| {
        let run = cmd.run();
        run.expect_code(2);
        let line = run.stderr.lines().find(|l| l.contains("error:")).unwrap_or_default().to_owned();
        assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
        (line, run)
    };
    let gh = || Cmd::github("http://127.0.0.1:9/api/v1");
    let (line, r) = run(gh().input("junit-file", "report.xml").input("dotenv-file", "./report.xml"));
    assert!(line.contains("input 'dotenv-file' and input 'junit-file' name the same file"), "{line}");
    assert!(!r.dir.path().join("report.xml").exists() && r.summary.is_empty());
    assert_eq!((r.output("status"), r.output("exit-code")), ("error", "2"));
    let cmd = gh();
    let out = cmd.path("github_output");
    let (line, r) = run(cmd.input("results-file", out.to_str().unwrap()));
    assert!(line.contains("GITHUB_OUTPUT and input 'results-file' name the same file"), "{line}");
    // The runner's file holds the outputs that say why, not a results file.
    assert_eq!((r.output("status"), r.output("exit-code"), r.outputs.len()), ("error", "2", 3));
    #[cfg(unix)]
    {
        let cmd = gh();
        std::os::unix::fs::symlink(cmd.path("step_summary"), cmd.path("link.md")).unwrap();
        let (line, _) = run(cmd.input("summary-file", "link.md"));
        assert!(line.contains("GITHUB_STEP_SUMMARY and input 'summary-file' name the same file"), "{line}");
    }
}

/// GitLab hands a misspelled variable over as it is: the step says so, and goes on. The
/// variables of our own dotenv report, which a later job receives, are not taken for typos.
#[test]
fn a_misspelled_variable_gets_a_warning_naming_the_likely_input() {
    let run = Cmd::plain()
        .env("GITLAB_CI", "true")
        .env("POSTEVERYWHERE_SIMULATE", "published")
        .env("POSTEVERYWHERE_TIMOUT", "20s")
        .env("POSTEVERYWHERE_POST_IDS", "post_1")
        .run();
    run.expect_code(0);
    let warnings: Vec<&str> = run.stderr.lines().filter(|l| l.contains("warning:")).collect();
    assert_eq!(
        warnings,
        [
            "posteverywhere-wait: warning: POSTEVERYWHERE_TIMOUT is not an input, so it is ignored; did you mean POSTEVERYWHERE_TIMEOUT?"
        ],
        "{}",
        run.stderr
    );
}

/// A refused input on GitHub: an annotation, and only the outputs that say so (a later
/// `if: always()` step reads `exit-code` 2 and why), no summary.
#[test]
fn config_errors_on_github_are_annotated_and_write_only_the_error_outputs() {
    let run = Cmd::github("http://127.0.0.1:9/api").input("timeout", "soon").run();
    run.expect_code(2);
    let why = "input 'timeout' (from INPUT_TIMEOUT) has a bad value \"soon\"";
    assert!(run.stdout.contains(&format!("::error::{why}")), "{}", run.stdout);
    assert_eq!((run.output("status"), run.output("exit-code")), ("error", "2"));
    assert!(run.output("message").starts_with(why), "{}", run.output("message"));
    assert_eq!(run.outputs.len(), 3, "{:?}", run.outputs);
    assert!(run.summary.is_empty());
}

#[test]
fn all_three_spellings_reach_the_binary() {
    for (key_var, id_var, base_var) in [
        ("INPUT_API-KEY", "INPUT_POST-ID", "INPUT_BASE-URL"),
        ("INPUT_API_KEY", "INPUT_POST_ID", "INPUT_BASE_URL"),
        ("POSTEVERYWHERE_API_KEY", "POSTEVERYWHERE_POST_ID", "POSTEVERYWHERE_BASE_URL"),
    ] {
        let server = Server::new().results(vec![Reply::ok(results(json!([dest("x", "published")])))]);
        let run =
            Cmd::plain().env(key_var, KEY).env(id_var, "post_1").env(base_var, &server.base_url()).run();
        run.expect_code(0);
        assert_eq!(server.hits("GET", crate::server::RESULTS), 1, "{key_var}");
    }
}

#[cfg(target_os = "linux")] // where start-up reads the environment block (Windows caps a variable at 32 K)
#[test]
fn inputs_are_found_among_a_runners_many_variables() {
    // A CI step's environment: a hundred and fifty other variables, one of them larger
    // than the buffer start-up reads the environment block into, all before the inputs.
    let server = Server::new().results(vec![Reply::ok(results(json!([dest("x", "published")])))]);
    let mut cmd = Cmd::plain().env("A_TOKEN", &"t".repeat(40 << 10));
    for i in 0..150 {
        cmd = cmd.env(&format!("A_RUNNER_VAR_{i}"), "/opt/hostedtoolcache/some/tool/1.2.3/x64");
    }
    let run = cmd
        .env("INPUT_API-KEY", KEY)
        .env("POSTEVERYWHERE_POST_ID", "post_1")
        .env("INPUT_BASE-URL", &server.base_url())
        .run();
    run.expect_code(0);
    assert_eq!(server.hits("GET", crate::server::RESULTS), 1);
}

#[test]
fn empty_github_inputs_fall_back_to_the_generic_names() {
    let server = Server::new().results(vec![Reply::ok(results(json!([dest("x", "published")])))]);
    let run = Cmd::plain()
        .env("INPUT_API-KEY", "")
        .env("INPUT_POST-ID", "  ")
        .env("INPUT_TIMEOUT", "")
        .env("POSTEVERYWHERE_API_KEY", KEY)
        .env("POSTEVERYWHERE_POST_ID", "post_1")
        .env("POSTEVERYWHERE_BASE_URL", &server.base_url())
        .run();
    run.expect_code(0);
}

#[test]
fn flags() {
    let run = Cmd::plain().run_args(&["--version"]);
    run.expect_code(0);
    assert!(run.stdout.starts_with("posteverywhere-wait 0."));
    let run = Cmd::plain().run_args(&["--help"]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("INPUT_POLL-INTERVAL") && run.stdout.contains("POSTEVERYWHERE_POLL_INTERVAL")
    );
    let run = Cmd::plain().run_args(&["--post-id=1"]);
    run.expect_code(2);
    assert!(run.stderr.contains("unknown argument \"--post-id=1\""));
}

/// The key passed to another input (a secret wired to the wrong input) is refused before
/// anything is printed with it, sent, written or posted; the error shows it masked.
#[test]
fn the_key_in_another_input_is_refused() {
    let server = Server::new();
    rejected(
        Cmd::github(&server.base_url()).input("post-id", KEY),
        "input 'post-id' (from INPUT_POST-ID) has a bad value \"***\": it holds the API key",
    );
    rejected(
        Cmd::github(&server.base_url())
            .without("INPUT_POST-ID")
            .input("content", &format!("New key: {KEY}"))
            .input("accounts", "x"),
        "input 'content' (from INPUT_CONTENT) has a bad value \"New key: ***\": it holds the API key",
    );
    assert!(server.requests().is_empty());
}

/// Found by a review of the inputs: each refused before any request, naming the input.
#[test]
fn inputs_a_review_found_accepted() {
    let server = Server::new().results(vec![Reply::ok(results(json!([dest("x", "published")])))]);
    let base = || Cmd::github(&server.base_url());
    // A report path no file can go at: a trailing slash, a name too long for its temporary
    // file (the check passed, the wait ran, and the write failed at the end with exit 5).
    let long = "r".repeat(240);
    for path in ["out/results.json/".to_owned(), format!("{long}.json")] {
        let cmd = base();
        std::fs::create_dir_all(cmd.path("out")).unwrap();
        let path = cmd.path(&path).display().to_string();
        rejected(cmd.input("results-file", &path), "input 'results-file'");
    }
    // Another key than api-key's, in another input (two secrets swapped): never echoed.
    let other = "pe_live_ABCDEFGHIJKLMNOPQRSTUVWXYZ123456";
    let cmd = base().input("api-key", "3f0c2a1e58cc4372a5670e02b2c3d479").input("post-id", other);
    let run = cmd.run();
    run.expect_code(2);
    assert!(
        run.stderr.contains("input 'post-id'") && run.stderr.contains("other than api-key's"),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains(other) && !run.stderr.contains(other), "{}{}", run.stdout, run.stderr);
    // Another key in a content-file would be posted.
    let cmd = base().without("INPUT_POST-ID").input("accounts", "x");
    let file = cmd.path("post.txt");
    std::fs::write(&file, format!("Launch day! {other}")).unwrap();
    let run = cmd.input("content-file", file.to_str().unwrap()).run();
    run.expect_code(2);
    assert!(run.stderr.contains("input 'content-file'") && !run.stderr.contains(other), "{}", run.stderr);
    // A key too short to be one is said as such, not blamed on an input that holds its text.
    rejected(base().input("api-key", "true").input("summary", "true"), "input 'api-key'");
    // dedupe in a step that only waits (it may come as every step's default): still checked.
    rejected(base().input("dedupe", "banana"), "input 'dedupe'");
    assert_eq!(server.requests().len(), 0, "refused before any request");
}

/// A value that is not UTF-8 (a Latin-1 file's text) is refused by name: it was taken as
/// unset, so a timeout ran with the default and a results-file was never written.
#[cfg(unix)]
#[test]
fn a_value_that_is_not_utf8_is_refused_by_name() {
    use std::os::unix::ffi::OsStringExt as _;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_posteverywhere-wait"))
        .env_clear()
        .env("POSTEVERYWHERE_API_KEY", KEY)
        .env("POSTEVERYWHERE_POST_ID", "p")
        .env("POSTEVERYWHERE_BASE_URL", "http://127.0.0.1:9/api/v1")
        .env("POSTEVERYWHERE_TIMEOUT", std::ffi::OsString::from_vec(b"5\xffm".to_vec()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("input 'timeout' (from POSTEVERYWHERE_TIMEOUT) is not UTF-8 text"), "{stderr}");
}

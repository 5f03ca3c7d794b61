//! Every report the binary writes, read back by the consumers' own rules (`consumers`):
//! with a corpus of hostile API text, and at the largest scale we support (1000 posts,
//! 50,000 destinations). Log lines through the runner's command parser, the summary
//! through GitHub's renderer, outputs through the runner's file reader, dotenv through
//! GitLab's parser and both expansions, JUnit and annotations through GitLab's rules.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::consumers::{github, gitlab, markdown};
use crate::server::{Reply, Server};
use crate::util::{Cmd, Run};

/// Text an API (or whoever controls an account name) might send.
fn corpus() -> Vec<String> {
    let mut c: Vec<String> = [
        "see www.evil.example/x and https://evil.example/phish",
        "mail admin@evil.example or mailto:x@y.example, xmpp:z@y.example",
        "token ${CI_JOB_TOKEN} $HOME $$ %CI_JOB_TOKEN% %HOME% $1",
        "pipe | table | breaker \\| and ` backtick `",
        "<script>alert(1)</script> <img src=x onerror=alert(1)> &amp; &quot; &lt;",
        "[link](https://evil.example) ![img](https://evil.example/i.png) <https://evil.example>",
        "line1\nline2\r\n::set-output name=status::forged\r::error::injected",
        "##[error]legacy ##[set-output name=x]y",
        "%0A%25%0D ::add-mask::x",
        "ctrl \u{1} \u{2} \u{7f} \u{85} \u{2028} \u{202e}rtl \u{0}nul",
        "**bold** _em_ ~~strike~~ # heading",
        "(#100) Invalid parameter; fixes #42, see !7 and &3 (GitLab), #1, GH-5, org/repo#9",
        "ghadelimiter_00000000-0000-0000-0000-000000000000",
        "dup\u{1}",
        "dup\u{2}",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    c.push("long ".repeat(4000));
    c
}

/// Published URLs in every odd shape: some links, some never.
fn urls() -> Vec<String> {
    vec![
        "https://ok.example/p?a=1&b=2".into(),
        "https://ok.example/p?x=&quot;y&amp;z".into(),
        "https://ok.example/(a)|b\\c<d>*_".into(),
        "https://ok.example/$top=1/%CI_JOB_TOKEN%/%E2%80%99".into(),
        "http://plain.example/x".into(),
        "javascript:alert(1)".into(),
        format!("https://ok.example/{}", "l".repeat(3000)),
        "https://ok.example/a b".into(),
    ]
}

fn destinations(post: &str) -> Vec<Value> {
    let c = corpus();
    let u = urls();
    (0..c.len() + u.len())
        .map(|i| {
            let status = ["published", "failed", "publishing"][i % 3];
            json!({
                "account_id": 1000 + i, "account_name": c[i % c.len()], "platform": if i % 4 == 0 { c[(i + 3) % c.len()].as_str() } else { "x" },
                "status": status, "attempts": 1,
                "error": (status == "failed").then(|| c[(i + 5) % c.len()].clone()),
                "platform_post_url": (status == "published").then(|| u[i % u.len()].clone()),
                "id": format!("{post}-{i}"),
            })
        })
        .collect()
}

fn server(posts: &[&str]) -> Server {
    posts.iter().fold(Server::new(), |s, p| {
        let body = json!({"data": {"post_id": p, "post_status": "publishing", "results": destinations(p)}});
        s.route("GET", &format!("/api/v1/posts/{p}/results"), vec![Reply::ok(body)])
    })
}

fn read(run: &Run, name: &str) -> String {
    std::fs::read_to_string(run.dir.path().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The run with every report file asked for.
fn with_reports(cmd: Cmd) -> Cmd {
    cmd.results_file()
        .input("summary-file", "summary.md")
        .input("dotenv-file", "report.env")
        .input("junit-file", "junit.xml")
        .input("annotations-file", "links.json")
}

/// The URLs the summary may link to: what the results file says was published.
fn published(results: &Value) -> Vec<String> {
    results["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == "published")
        .filter_map(|d| d["url"].as_str().map(str::to_owned))
        .collect()
}

/// A link in the sense of every report: https, up to 2 KiB, one line, no spaces.
fn linkable(u: &str) -> bool {
    u.starts_with("https://") && u.len() <= 2048 && !u.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A value as GitLab must hand it to the next job: exact, or with `%` doubled when it
/// holds a `%NAME%` reference (README: GitLab CI).
fn as_delivered(v: &str) -> String {
    let b = v.as_bytes();
    let has_ref = (0..b.len()).any(|i| {
        b[i] == b'%'
            && b.get(i + 1).is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
            && b[i + 1..]
                .iter()
                .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
                .is_some_and(|n| b[i + 1 + n] == b'%')
    });
    if has_ref { v.replace('%', "%%") } else { v.to_owned() }
}

/// Every report of a run, checked by the consumers' rules.
fn check_everything(run: &Run) {
    github::check_log(&run.stdout, &run.stderr, &["add-mask", "error", "warning"]).unwrap();
    let results = run.results_file.clone().expect("results file");
    let links = published(&results);
    let published_set: std::collections::HashSet<&String> = links.iter().collect();
    #[cfg(target_os = "linux")] // cmark-gfm comes from Debian's packages
    {
        markdown::check_summary(&run.summary, &links).unwrap();
        markdown::check_summary(&read(run, "summary.md"), &links).unwrap();
    }
    assert!(run.summary.len() < 1024 * 1024, "the runner drops a summary over 1 MiB: {}", run.summary.len());
    assert!(read(run, "summary.md").len() <= 65_536, "a pull request comment takes 65,536 characters");

    // dotenv: accepted, and each value arrives in the next job as the results file says.
    let vars = gitlab::dotenv(&read(run, "report.env")).unwrap();
    let known =
        HashMap::from([("CI_JOB_TOKEN", "SECRET-TOKEN"), ("HOME", "/root"), ("top", "TOP"), ("E2", "E")]);
    let down = |k: &str| gitlab::downstream(vars.get(k).map_or("", String::as_str), &known);
    assert_eq!(down("POSTEVERYWHERE_STATUS"), results["status"].as_str().unwrap());
    assert_eq!(down("POSTEVERYWHERE_FAILED_COUNT"), results["counts"]["failed"].to_string());
    let want: Vec<String> = links.iter().filter(|u| linkable(u)).map(|u| as_delivered(u)).collect();
    let got = down("POSTEVERYWHERE_PUBLISHED_URLS");
    if !got.contains("…+") {
        assert_eq!(got, want.join(" "));
    } else {
        assert!(got.starts_with(&want[0]), "{got}");
    }
    for (k, v) in &vars {
        let d = gitlab::downstream(v, &known);
        assert!(!d.contains("SECRET-TOKEN") && !d.contains("/root"), "{k} pulled a variable in: {d}");
    }

    // JUnit: GitLab shows our counts.
    let j = gitlab::junit(&read(run, "junit.xml")).unwrap();
    let c = &results["counts"];
    let pending = c["pending"].as_u64().unwrap() as usize;
    assert_eq!(
        (j.tests, j.failed, j.errored + j.skipped),
        (c["total"].as_u64().unwrap() as usize, c["failed"].as_u64().unwrap() as usize, pending)
    );

    // Annotations: accepted, and only links that are links.
    for (_, url) in gitlab::annotations(&read(run, "links.json")).unwrap() {
        assert!(linkable(&url), "{url}");
        assert!(published_set.contains(&url), "{url} was not published");
    }
}

#[test]
fn hostile_text_reads_back_as_meant_everywhere() {
    let posts = ["post_a", "post_b"];
    let server = server(&posts);
    let run = with_reports(Cmd::github(&server.base_url()))
        .input("post-id", &posts.join(" "))
        .input("timeout", "300ms")
        .input("fail-on", "never")
        .run();
    run.expect_code(3);
    check_everything(&run);
    // Outputs read back exactly (util parsed them with the runner's reader and act's), but
    // for the destinations over 16 KiB of JSON: one a line, they would pass act's 64 KiB.
    let results = run.results_file.clone().unwrap();
    let all = results["destinations"].as_array().unwrap();
    let fit: Vec<&Value> = all.iter().filter(|d| d.to_string().len() < 16 * 1024).collect();
    assert!(fit.len() < all.len());
    assert_eq!(run.results().iter().collect::<Vec<_>>(), fit);
    assert!(run.stdout.contains(&format!("the results output holds {} of {}", fit.len(), all.len())));
    // The annotation that says why the step failed comes first.
    let commands = github::commands(&run.stdout);
    let first = commands.iter().find(|c| c.name == "error").unwrap();
    assert!(first.data.contains("still pending"), "{first:?}");
}

#[test]
fn a_thousand_posts_and_fifty_thousand_destinations_stay_within_every_limit() {
    let posts: Vec<String> = (0..1000).map(|i| format!("p{i}")).collect();
    let refs: Vec<&str> = posts.iter().map(String::as_str).collect();
    let body = |p: &str| {
        let mut dests = destinations(p);
        dests.truncate(20);
        let mut all = Vec::with_capacity(50);
        for k in 0..50 {
            let mut d = dests[k % dests.len()].clone();
            d["account_id"] = json!(k);
            // Hostile, but not huge: the corpus test has the huge texts.
            for field in ["account_name", "error", "platform"] {
                if let Some(t) = d[field].as_str().filter(|t| t.len() > 300) {
                    d[field] = json!(t[..300].to_owned());
                }
            }
            // Final on the first poll, so the step takes one request per post.
            if d["status"] == "publishing" {
                d["status"] = json!("published");
                d["platform_post_url"] = json!(format!("https://ok.example/{p}/{k}"));
            }
            all.push(d);
        }
        json!({"data": {"post_id": p, "post_status": "partially_failed", "results": all}})
    };
    let server = refs.iter().fold(Server::new(), |s, p| {
        s.route("GET", &format!("/api/v1/posts/{p}/results"), vec![Reply::ok(body(p))])
    });
    let run = with_reports(Cmd::github(&server.base_url()))
        .input("post-id", &posts.join(","))
        .input("timeout", "60s")
        .run();
    run.expect_code(1);
    let results = run.results_file.clone().unwrap();
    assert_eq!(results["counts"]["total"], 50_000);
    check_everything(&run);
    // The log stays proportionate: no line per destination.
    assert!(run.stdout.len() < 2_000_000, "{} bytes of log", run.stdout.len());
    assert!(run.summary.contains("This summary shows"), "a cut summary says so");
}

#[test]
fn every_line_of_an_error_stays_inert_whatever_its_source() {
    // An input value, and the OS error that quotes it, both carry a line break.
    let server = Server::new();
    let evil = "missing\n::set-output name=status::forged\r::error::injected/summary.md";
    let run = Cmd::github(&server.base_url()).input("summary-file", evil).run();
    run.expect_code(2);
    let commands = github::check_log(&run.stdout, &run.stderr, &["add-mask", "error"]).unwrap();
    assert_eq!(commands.iter().filter(|c| c.name == "error").count(), 1, "{commands:?}");
    assert!(run.stderr.lines().count() == 1, "one line: {:?}", run.stderr);
}

/// Each input `action.yml` declares, with its default.
type Declared = HashMap<String, Option<String>>;

/// What `action.yml` declares: each input's default, and the variable its run step hands
/// the input over in (`INPUT_X: ${{ inputs.x }}`).
fn action_yml() -> (Declared, Vec<(String, String)>) {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/action.yml")).unwrap();
    let (mut inputs, mut mapped, mut section, mut current) = (HashMap::new(), Vec::new(), "", None);
    for line in text.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            section = line.trim_end_matches(':');
        } else if section == "inputs" && line.starts_with("  ") && !line.starts_with("   ") {
            let name = line.trim().trim_end_matches(':').to_owned();
            inputs.insert(name.clone(), None);
            current = Some(name);
        } else if let (Some(name), Some(v)) = (&current, line.trim().strip_prefix("default: ")) {
            if section == "inputs" {
                inputs.insert(name.clone(), Some(v.trim_matches('"').to_owned()));
            }
        }
        let (var, value) = line.trim().split_once(": ").unwrap_or_default();
        if let Some(input) = value.strip_prefix("${{ inputs.").and_then(|v| v.strip_suffix(" }}")) {
            mapped.push((var.to_owned(), input.to_owned()));
        }
    }
    (inputs, mapped)
}

/// The binary as the Action runs it: every input it maps is passed, each left out as its
/// default or, without one, as an empty string (what the runner hands a composite action).
fn as_the_action_runs_it(with: &[(&str, &str)]) -> Cmd {
    let (inputs, mapped) = action_yml();
    assert!(mapped.len() >= 20 && inputs.len() == mapped.len(), "{inputs:?} {mapped:?}");
    let mut cmd = Cmd::github_step();
    for (var, input) in &mapped {
        assert!(inputs.contains_key(input), "{var} maps an undeclared input {input}");
        let given = with.iter().find(|(k, _)| k == input).map(|(_, v)| (*v).to_owned());
        cmd = cmd.env(var, &given.or_else(|| inputs[input].clone()).unwrap_or_default());
    }
    cmd
}

/// Both ways to wait without publishing work with the inputs the Action passes, left out
/// (its `skip-unhealthy: false` and `dry-run: false`, when it passed defaults, once made
/// every such run exit 2), and a publishing switch turned on in `with:` without content is
/// still refused by name.
#[test]
fn the_action_runs_with_the_inputs_left_out() {
    let body = crate::util::results(json!([crate::util::dest("x", "published")]));
    let server = Server::new().results(vec![Reply::ok(body)]);
    let base = server.base_url();
    let run =
        as_the_action_runs_it(&[("api-key", crate::util::KEY), ("post-id", "post_1"), ("base-url", &base)])
            .run();
    run.expect_code(0);
    assert_eq!(run.output("post-id"), "post_1");
    as_the_action_runs_it(&[("simulate", "published")]).run().expect_code(0);
    let run = as_the_action_runs_it(&[("simulate", "published"), ("dry-run", "true")]).run();
    run.expect_code(2);
    assert!(run.stdout.contains("input 'dry-run' is set, but no content"), "{}", run.stdout);
    let run = as_the_action_runs_it(&[("simulate", "published"), ("skip-unhealthy", "maybe")]).run();
    run.expect_code(2);
    assert!(run.stdout.contains("skip-unhealthy") && run.stdout.contains("maybe"), "{}", run.stdout);
}

/// An input left out of `with:` takes POSTEVERYWHERE_<NAME> from the job's environment: the
/// Action passes no default of its own that would hide it (`dry-run: false` there once made
/// a dry run set on the job post for real, and `fail-on`, `summary`… ignored the job's). A
/// publishing switch set on the job is only a warning in a step that waits.
#[test]
fn the_jobs_environment_sets_what_the_action_leaves_out() {
    let account = json!({"id": 1, "platform": "x", "platform_username": "brand", "display_name": "brand",
                         "is_active": true, "health": {"status": "healthy"}});
    let listing =
        json!({"data": {"posts": [], "pagination": {"limit": 100, "offset": 0, "has_more": false}}});
    let server = Server::new()
        .route("GET", "/api/v1/accounts", vec![Reply::ok(json!({"data": {"accounts": [account]}}))])
        .route("GET", "/api/v1/posts", vec![Reply::ok(listing)]);
    let base = server.base_url();
    let with =
        [("api-key", crate::util::KEY), ("content", "Launch day!"), ("accounts", "x"), ("base-url", &base)];
    let run = as_the_action_runs_it(&with).env("POSTEVERYWHERE_DRY_RUN", "true").run();
    run.expect_code(0);
    assert_eq!(run.output("status"), "dry-run");
    assert!(server.requests().iter().all(|r| r.method == "GET"), "{:?}", server.requests());

    let failed = crate::util::results(json!([crate::util::dest("x", "failed")]));
    let server = Server::new().results(vec![Reply::ok(failed)]);
    let base = server.base_url();
    let with = [("api-key", crate::util::KEY), ("post-id", "post_1"), ("base-url", &base)];
    // The job's dry run is meant for its publishing steps: a waiting step says so and waits.
    let run = as_the_action_runs_it(&with)
        .env("POSTEVERYWHERE_FAIL_ON", "never")
        .env("POSTEVERYWHERE_SUMMARY", "false")
        .env("POSTEVERYWHERE_DRY_RUN", "true")
        .run();
    run.expect_code(0);
    assert_eq!(run.output("status"), "failed");
    assert!(run.summary.is_empty(), "{}", run.summary);
    assert!(
        run.stdout.contains(
            "input 'dry-run' is set (from POSTEVERYWHERE_DRY_RUN), but this step publishes nothing (no content): ignored here"
        ),
        "{}",
        run.stdout
    );
}

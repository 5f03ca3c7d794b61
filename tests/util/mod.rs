//! Running the real binary in a sealed environment: `env_clear()`, a temp dir for every
//! file it may write, a deadline on the process, and on every run the check that the API
//! key appears nowhere (stdout, stderr, outputs, summary, results file), that `act` reads
//! the same outputs as the runner, and that a results file holds to its published schema.

pub mod runner;
pub mod spelled;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const KEY: &str = "pe_live_0123456789abcdef0123456789abcdef";

/// What starting and ending the binary may add to a run's wall time in a bound: a Windows
/// build runs under Wine in CI, whose process start alone takes hundreds of milliseconds
/// on a loaded machine (a 600 ms deadline measured 1.69 s there once).
pub const PROCESS_SLACK: std::time::Duration =
    std::time::Duration::from_millis(if cfg!(windows) { 1500 } else { 250 });

pub struct Cmd {
    env: Vec<(String, String)>,
    dir: tempfile::TempDir,
    github: bool,
}

/// What a finished run left behind.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// `$GITHUB_OUTPUT` parsed with the runner's rules (empty outside GitHub mode).
    pub outputs: BTreeMap<String, String>,
    pub summary: String,
    pub results_file: Option<Value>,
    pub elapsed: Duration,
    pub dir: tempfile::TempDir,
}

impl Run {
    pub fn output(&self, name: &str) -> &str {
        self.outputs
            .get(name)
            .map_or_else(|| panic!("no output {name}; stdout:\n{}", self.stdout), String::as_str)
    }

    pub fn results(&self) -> Vec<Value> {
        serde_json::from_str(self.output("results")).expect("results output is JSON")
    }

    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "exit code\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }
}

impl Cmd {
    /// GitHub mode with the key and post id set, pointed at `base`.
    pub fn github(base: &str) -> Cmd {
        Cmd::plain()
            .gh()
            .input("api-key", KEY)
            .input("post-id", "post_1")
            .input("base-url", base)
            .input("poll-interval", "20ms")
            .input("rate-limit", "60000")
    }

    /// A GitHub step's files and variables, and no input.
    pub fn github_step() -> Cmd {
        Cmd::plain().gh()
    }

    /// No CI detected, nothing set.
    pub fn plain() -> Cmd {
        Cmd { env: Vec::new(), dir: tempfile::tempdir().unwrap(), github: false }
    }

    fn gh(mut self) -> Cmd {
        self.github = true;
        let out = self.path("github_output");
        let sum = self.path("step_summary");
        std::fs::write(&out, "").unwrap();
        std::fs::write(&sum, "").unwrap();
        self.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", out.to_str().unwrap())
            .env("GITHUB_STEP_SUMMARY", sum.to_str().unwrap())
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn env(mut self, k: &str, v: &str) -> Cmd {
        self.env.retain(|(n, _)| n != k);
        self.env.push((k.to_owned(), v.to_owned()));
        self
    }

    /// Sets an input the way the GitHub runner does: `INPUT_NAME-WITH-HYPHENS`.
    pub fn input(self, name: &str, v: &str) -> Cmd {
        let k = format!("INPUT_{}", name.to_ascii_uppercase());
        self.env(&k, v)
    }

    pub fn without(mut self, k: &str) -> Cmd {
        self.env.retain(|(n, _)| n != k);
        self
    }

    pub fn results_file(self) -> Cmd {
        let p = self.path("results.json");
        self.input("results-file", p.to_str().unwrap())
    }

    pub fn spawn(&self, args: &[&str]) -> Child {
        let start = || {
            Command::new(env!("CARGO_BIN_EXE_posteverywhere-wait"))
                .args(args)
                .env_clear()
                .envs(platform_env())
                .envs(self.env.iter().map(|(k, v)| (k, v)))
                .current_dir(self.dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
        };
        // Wine's CreateProcess now and then fails with ERROR_INTERNAL_ERROR (1359) under
        // load (seen once in CI): the binary never started, so starting it again is the
        // same test. Anything else, or a third failure, is the test's failure.
        let mut tries = 1;
        loop {
            match start() {
                Err(e) if cfg!(windows) && e.raw_os_error() == Some(1359) && tries < 3 => tries += 1,
                r => return r.expect("spawn the binary"),
            }
        }
    }

    pub fn run(self) -> Run {
        self.run_args(&[])
    }

    pub fn run_args(self, args: &[&str]) -> Run {
        let start = Instant::now();
        let child = self.spawn(args);
        self.collect(child, start)
    }

    /// Waits (at most 60 s) for a spawned child and gathers everything it wrote.
    pub fn collect(self, mut child: Child, start: Instant) -> Run {
        // Drain both pipes while waiting: a full pipe would block the binary.
        let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                if let Some(mut p) = pipe {
                    let _ = p.read_to_end(&mut buf);
                }
                buf
            })
        };
        let out_reader = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn std::io::Read + Send>));
        let err_reader = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn std::io::Read + Send>));
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                panic!("the binary ran for over 60 s");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let elapsed = start.elapsed();
        let out = std::process::Output {
            status,
            stdout: out_reader.join().unwrap(),
            stderr: err_reader.join().unwrap(),
        };
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        let raw_outputs = read(&self.path("github_output"));
        let summary = read(&self.path("step_summary"));
        let results_text = read(&self.path("results.json"));
        let outputs = runner::parse(&raw_outputs)
            .unwrap_or_else(|e| panic!("runner would reject GITHUB_OUTPUT: {e}\n{raw_outputs}"));
        if self.github {
            // `act` must read the same outputs (ci-conventions item 24).
            let act = crate::consumers::github::act_outputs(&raw_outputs)
                .unwrap_or_else(|e| panic!("act would reject GITHUB_OUTPUT: {e}"));
            assert!(act == outputs, "act reads other outputs than the runner:\n{act:?}\n{outputs:?}");
        }
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            outputs,
            summary,
            results_file: (!results_text.is_empty())
                .then(|| serde_json::from_str(&results_text).expect("results file is JSON")),
            elapsed,
            dir: self.dir,
        };
        // The one place the key may appear: the `::add-mask::` line that hides it in the log.
        let masks = run.stdout.lines().filter(|l| l.starts_with("::add-mask::")).count();
        assert!(masks <= 1, "the key was masked {masks} times");
        let stdout: String =
            run.stdout.lines().filter(|l| !l.starts_with("::add-mask::")).collect::<Vec<_>>().join("\n");
        let mut texts = vec![
            ("stdout".to_owned(), stdout),
            ("stderr".to_owned(), run.stderr.clone()),
            ("outputs".to_owned(), raw_outputs),
            ("summary".to_owned(), run.summary.clone()),
        ];
        // Every file the run left in its folder and the folders under it (results,
        // reports, summary-file…).
        let mut folders = vec![run.dir.path().to_owned()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).unwrap().flatten() {
                let path = entry.path();
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    folders.push(path);
                } else if let Ok(text) = std::fs::read_to_string(&path) {
                    texts.push((path.display().to_string(), text));
                }
            }
        }
        for (what, text) in &texts {
            for form in key_forms() {
                assert!(!text.contains(&form), "the API key leaked into {what} as {form:?}:\n{text}");
            }
            // Any mix of per-character escapes (the largest reports, from scale tests, are
            // left to the fixed forms: the oracle is slow in a debug build).
            if text.len() < 4 << 20 {
                let plain = spelled::unspelled(text);
                assert!(!plain.contains(&KEY[8..]), "the API key leaked into {what}, spelled:\n{text}");
            }
        }
        assert_no_injected_commands(&run.stdout);
        assert_no_injected_commands(&run.stderr);
        if let Some(doc) = &run.results_file {
            let schema = crate::consumers::schema::results_schema();
            crate::consumers::schema::validate(&schema, doc)
                .unwrap_or_else(|e| panic!("the results file breaks its schema: {e}"));
        }
        run
    }
}

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() { char::from(A[((n >> (18 - 6 * i)) & 63) as usize]) } else { '=' });
        }
    }
    out
}

/// Forms of the key that must never appear: as is, its secret part, its base64 (the
/// middle, whatever precedes it) and its percent-encoding in either case.
pub fn key_forms() -> Vec<String> {
    let mut forms = vec![KEY.to_owned(), KEY[8..].to_owned()];
    for prefix in ["", "a", "ab"] {
        let b = base64(format!("{prefix}{KEY}").as_bytes());
        forms.push(b[4..b.len() - 4].to_owned());
    }
    forms.push(KEY.bytes().map(|b| format!("%{b:02X}")).collect());
    forms.push(KEY.bytes().map(|b| format!("%{b:02x}")).collect());
    forms
}

/// What a process needs from the environment on this OS even when sealed: Windows cannot
/// open sockets without `SystemRoot`, nor find a temp folder without `TEMP`.
fn platform_env() -> Vec<(String, String)> {
    if cfg!(windows) {
        ["SystemRoot", "SYSTEMROOT", "TEMP", "TMP"]
            .iter()
            .filter_map(|k| Some(((*k).to_owned(), std::env::var(k).ok()?)))
            .collect()
    } else {
        Vec::new()
    }
}

/// Every workflow command on a line we printed must be one we write ourselves.
#[track_caller]
pub fn assert_no_injected_commands(text: &str) {
    const OURS: &[&str] = &[
        "::add-mask::",
        "::error::",
        "::error title=",
        "::warning::",
        "::warning title=",
        "::notice",
        "::group::",
        "::endgroup::",
        "::debug::",
    ];
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("::") {
            assert!(OURS.iter().any(|o| t.starts_with(o)), "unexpected workflow command: {line}");
        }
        assert!(!line.contains("##["), "legacy command marker in: {line}");
    }
}

/// A results answer listing `dests`, its `post_status` derived from them as PostEverywhere
/// derives it: `publishing` while any is not final.
pub fn results(dests: Value) -> Value {
    let statuses: Vec<String> = dests
        .as_array()
        .map(|d| d.iter().filter_map(|d| d["status"].as_str()).map(str::to_lowercase).collect())
        .unwrap_or_default();
    let is = |words: &[&str]| statuses.iter().filter(|s| words.contains(&s.as_str())).count();
    let published = is(&["published", "done"]);
    let failed = is(&["failed", "error", "cancelled", "canceled", "rejected"]);
    let post_status = match (published, failed) {
        _ if statuses.is_empty() || published + failed < statuses.len() => "publishing",
        (_, 0) => "published",
        (0, _) => "failed",
        _ => "partially_failed",
    };
    serde_json::json!({"data": {"post_id": "post_1", "post_status": post_status, "results": dests}, "error": null, "meta": {"request_id": "req_1"}})
}

/// A distinct account id per platform, as the API has.
pub fn account(platform: &str) -> u64 {
    2000 + platform.bytes().map(u64::from).sum::<u64>()
}

pub fn dest(platform: &str, status: &str) -> Value {
    let published = status == "published";
    serde_json::json!({
        "account_id": account(platform), "account_name": format!("@{platform}"), "platform": platform, "status": status,
        "platform_post_url": published.then(|| format!("https://{platform}.example/p/1")),
        "error": (status == "failed").then_some("Platform returned 503"), "attempts": 1, "next_retry_at": null
    })
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a time (days from the civil calendar algorithm).
pub fn rfc3339(t: std::time::SystemTime) -> String {
    let secs = t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
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

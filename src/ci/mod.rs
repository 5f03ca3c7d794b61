//! Where the report goes. `detect` (pure) picks the CI from the environment; `Sink` is the
//! only thing in the program that prints or writes report files, so every byte passes
//! through the redactor and the workflow-command neutraliser on its way out.

mod files;
mod reports;
pub use files::{check as check_target, clash};
mod github;
mod gitlab;
// The live view exists only in builds with the `terminal` feature; without it a terminal
// gets the plain lines (see no_terminal.rs).
#[cfg(feature = "terminal")]
mod terminal;
#[cfg(not(feature = "terminal"))]
#[path = "no_terminal.rs"]
mod terminal;

use std::cell::RefCell;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use crate::escape::{command_data, neutralise_line};
use crate::report::{Report, table, text};
use crate::secret::{ApiKey, Redactor};
use crate::track::{Change, Known};

/// Where we run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ci {
    /// `GITHUB_ACTIONS=true`: workflow commands, `$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`.
    GitHub,
    /// `GITLAB_CI=true`: collapsible log sections; reports through the file inputs.
    GitLab,
    /// A person: stdout is a terminal and no CI is detected. Live view and colours in
    /// builds with the `terminal` feature, plain lines in others.
    Terminal,
    /// Anything else (another CI, a pipe): plain lines on stdout and stderr.
    Plain,
}

/// Files the report is written to.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    /// Step outputs in the runner's heredoc format (appended).
    pub output: Option<PathBuf>,
    /// The job summary, `$GITHUB_STEP_SUMMARY` (appended; only if `summary` is true).
    pub summary: Option<PathBuf>,
    /// The results JSON document.
    pub results: Option<PathBuf>,
    /// The Markdown summary again, for a merge or pull request comment (input `summary-file`).
    pub summary_file: Option<PathBuf>,
    /// GitLab dotenv report (input `dotenv-file`).
    pub dotenv: Option<PathBuf>,
    /// JUnit XML (input `junit-file`).
    pub junit: Option<PathBuf>,
    /// GitLab annotations JSON (input `annotations-file`).
    pub annotations: Option<PathBuf>,
}

/// Whether `detect` reads the variable named `entry`, given as its name or as a whole
/// `NAME=value` entry. Start-up keeps these, with the inputs', from its one read of the
/// environment, so detecting the CI costs no `getenv` (each scans every variable: about 7 k
/// instructions a call in a runner's step, musl, measured; docs/performance.md). Asked of every
/// variable, so most are turned away by their first byte, the rest by the byte after a name.
pub fn reads(entry: &[u8]) -> bool {
    let names: &[&[u8]] = match entry.first() {
        Some(b'G') => &[b"GITHUB_ACTIONS", b"GITHUB_OUTPUT", b"GITHUB_STEP_SUMMARY", b"GITLAB_CI"],
        Some(b'R') => &[b"RUNNER_DEBUG"],
        Some(b'C') => &[b"CI", b"CI_DEBUG_TRACE"],
        _ => return false,
    };
    names.iter().any(|name| match entry.get(name.len()) {
        None => entry == *name,
        Some(b'=') => entry.starts_with(name),
        Some(_) => false,
    })
}

/// Picks where we run, its files, and whether debug output was asked for.
pub fn detect(get: impl Fn(&str) -> Option<String>, stdout_is_terminal: bool) -> (Ci, Targets, bool) {
    let path = |k: &str| get(k).filter(|v| !v.trim().is_empty()).map(PathBuf::from);
    let is = |k: &str, v: &str| get(k).is_some_and(|x| x.trim().eq_ignore_ascii_case(v));
    if is("GITHUB_ACTIONS", "true") {
        let targets = Targets {
            output: path("GITHUB_OUTPUT"),
            summary: path("GITHUB_STEP_SUMMARY"),
            ..Targets::default()
        };
        (Ci::GitHub, targets, is("RUNNER_DEBUG", "1"))
    } else if is("GITLAB_CI", "true") {
        (Ci::GitLab, Targets::default(), is("CI_DEBUG_TRACE", "true"))
    } else if stdout_is_terminal && !is("CI", "true") {
        (Ci::Terminal, Targets::default(), false)
    } else {
        (Ci::Plain, Targets::default(), false)
    }
}

pub struct Sink {
    ci: Ci,
    targets: Targets,
    redactor: Redactor,
    /// Warnings printed so far.
    warnings: std::cell::Cell<usize>,
    debug: bool,
    view: RefCell<Option<terminal::View>>,
}

impl Sink {
    pub fn new(ci: Ci, targets: Targets, debug: bool) -> Self {
        Self {
            ci,
            targets,
            redactor: Redactor::default(),
            warnings: std::cell::Cell::new(0),
            debug,
            view: RefCell::new(None),
        }
    }

    pub fn targets(&self) -> &Targets {
        &self.targets
    }

    /// Points the reports at `targets` (the files the inputs name are known after the config).
    pub fn retarget(&mut self, targets: Targets) {
        self.targets = targets;
    }

    /// Checks, before the wait, that the runner's own files (step outputs, job summary) can
    /// be appended to: a step that cannot publish its outputs must not pretend to.
    pub fn check_runner_files(&self) -> Result<(), String> {
        for (what, path) in
            [("GITHUB_OUTPUT", &self.targets.output), ("GITHUB_STEP_SUMMARY", &self.targets.summary)]
        {
            if let Some(p) = path {
                if p.as_os_str() == crate::config::NOT_UTF8 {
                    return Err(format!("cannot write {what}: its path is not UTF-8 text"));
                }
                files::append(p, "").map_err(|e| format!("cannot write {what} ({}): {e}", p.display()))?;
            }
        }
        Ok(())
    }

    /// Registers the key with the runner's masker (first thing printed) and takes the
    /// redactor built for it.
    pub fn protect(&mut self, key: Option<&ApiKey>, redactor: Redactor) {
        self.redactor = redactor;
        if let (Ci::GitHub, Some(k)) = (self.ci, key) {
            raw_stdout(&github::add_mask(k.expose()));
        }
    }

    /// The waiting starts: open the GitLab section, or the terminal's live view.
    pub fn begin(&self, timeout: Duration) {
        match self.ci {
            Ci::GitLab => raw_stdout(&gitlab::section_start("Waiting for PostEverywhere results")),
            Ci::Terminal => *self.view.borrow_mut() = terminal::View::new(timeout),
            _ => {}
        }
    }

    /// A log line on stdout.
    pub fn info(&self, line: &str) {
        let line = neutralise_line(&self.redactor.scrub(line));
        match self.view.borrow().as_ref() {
            Some(view) => view.println(&line),
            None => raw_stdout(&line),
        }
    }

    /// A poll's news: a line when something changed, or the terminal's live view.
    pub fn progress(&self, elapsed: Duration, post: Option<&str>, known: &Known, changes: &[Change]) {
        if let Some(view) = self.view.borrow_mut().as_mut() {
            if !changes.is_empty() {
                view.update(post, &known.report());
            }
            return;
        }
        if let Some(line) = text::progress(elapsed, post, known, changes) {
            self.info(&line);
        }
    }

    /// Detail shown only when the CI's debug logging is on.
    pub fn debug(&self, msg: &str) {
        if !self.debug {
            return;
        }
        let msg = self.redactor.scrub(msg);
        match self.ci {
            Ci::GitHub => raw_stdout(&format!("::debug::{}", command_data(&msg))),
            _ => self.info(&format!("debug: {msg}")),
        }
    }

    /// A warning: an annotation on GitHub while the live budget lasts (the report needs the
    /// rest), else a log line.
    pub fn warn(&self, msg: &str) {
        let msg = self.redactor.scrub(msg);
        let n = self.warnings.get();
        self.warnings.set(n + 1);
        match self.ci {
            Ci::GitHub if n < github::LIVE_WARNINGS => raw_stdout(&github::command("warning", None, &msg)),
            Ci::GitHub => raw_stdout(&neutralise_line(&format!("posteverywhere-wait: warning: {msg}"))),
            _ => raw_stderr(&neutralise_line(&format!("posteverywhere-wait: warning: {msg}"))),
        }
    }

    pub fn error(&self, msg: &str) {
        let msg = self.redactor.scrub(msg);
        if self.ci == Ci::GitHub {
            raw_stdout(&github::command("error", None, &msg));
        }
        raw_stderr(&neutralise_line(&format!("posteverywhere-wait: error: {msg}")));
    }

    /// An input was refused (exit 2): the error, and on GitHub the step outputs that say so.
    pub fn refuse(&self, msg: &str) {
        self.error(msg);
        if self.ci == Ci::GitHub {
            reports::refused(self, msg, crate::outcome::code::USAGE);
        }
    }

    /// Writes everything the final report produces: files, then annotations (why the step
    /// ended first); `table` prints the table. Returns whether every write succeeded.
    pub fn finish(&self, r: &mut Report, want_summary: bool) -> bool {
        if let Some(view) = self.view.borrow_mut().take() {
            view.clear();
        }
        if self.ci == Ci::GitLab {
            raw_stdout(&gitlab::section_end());
        }
        let failures = reports::write_all(self, r, want_summary);
        for e in &failures {
            raw_stderr(&neutralise_line(&format!("posteverywhere-wait: error: {}", self.redactor.scrub(e))));
        }
        let r = &*r;
        if self.ci == Ci::GitHub {
            for a in github::annotations(r, &failures, self.warnings.get().min(github::LIVE_WARNINGS)) {
                raw_stdout(&self.redactor.scrub(&a));
            }
        }
        failures.is_empty()
    }

    /// The final table: the last thing printed; fitted to a terminal's width.
    pub fn table(&self, r: &Report) {
        let cols = (self.ci == Ci::Terminal).then(terminal::columns);
        for line in table::table(r, cols) {
            let line = neutralise_line(&self.redactor.scrub(&line));
            raw_stdout(&if self.ci == Ci::Terminal { terminal::paint_line(&line) } else { line });
        }
    }

    /// Removes the key, in every form, from text about to be written; copies it only when
    /// the key is in it.
    fn scrub_in_place(&self, text: &mut String) {
        self.redactor.scrub_in_place(text);
    }

    /// `scrub_in_place` for a text that is moved in and out (a whole report).
    fn scrubbed(&self, mut text: String) -> String {
        self.scrub_in_place(&mut text);
        text
    }
}

impl crate::run::Events for Sink {
    fn info(&self, line: &str) {
        Sink::info(self, line);
    }
    fn warn(&self, msg: &str) {
        Sink::warn(self, msg);
    }
    fn debug(&self, msg: impl FnOnce() -> String) {
        if self.debug {
            Sink::debug(self, &msg());
        }
    }
    fn progress(&self, now: Duration, post: Option<&str>, known: &Known, changes: &[Change]) {
        Sink::progress(self, now, post, known, changes);
    }
    fn heartbeat(&self, line: &str) {
        // The live view shows the time and counts already.
        if self.view.borrow().is_none() {
            Sink::info(self, line);
        }
    }
}

/// Writes one line, ignoring a closed stdout (a pipe to `head` must not panic us).
fn raw_stdout(line: &str) {
    let mut out = std::io::stdout().lock();
    // What `writeln!` writes, without the formatting machinery.
    let _ = out.write_all(line.as_bytes()).and_then(|()| out.write_all(b"\n"));
    let _ = out.flush();
}

fn raw_stderr(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
        };
        let (ci, t, debug) = detect(
            env(&[("GITHUB_ACTIONS", "true"), ("GITHUB_OUTPUT", "/o"), ("GITHUB_STEP_SUMMARY", "")]),
            false,
        );
        assert_eq!((ci, debug), (Ci::GitHub, false));
        assert_eq!(t.output, Some(PathBuf::from("/o")));
        assert_eq!(t.summary, None);
        assert!(detect(env(&[("GITHUB_ACTIONS", "true"), ("RUNNER_DEBUG", "1")]), false).2);
        assert_eq!(detect(env(&[("CI", "true"), ("GITLAB_CI", "true")]), true).0, Ci::GitLab);
        assert!(detect(env(&[("GITLAB_CI", "true"), ("CI_DEBUG_TRACE", "true")]), false).2);
        assert_eq!(detect(env(&[("GITHUB_ACTIONS", "false")]), false).0, Ci::Plain);
        assert_eq!(detect(env(&[]), true).0, Ci::Terminal);
        assert_eq!(detect(env(&[("CI", "true")]), true).0, Ci::Plain, "another CI with a TTY stays plain");
    }

    /// Start-up keeps only the variables `reads` takes for `detect`: every one it asks
    /// for, on every path, must be among them. Every path is walked: each variable asked
    /// for is answered, in turn, with each value below (absent, and each value a check
    /// compares with, padded and in another case too), until every sequence of answers
    /// has been tried.
    #[test]
    fn detect_reads_only_what_start_up_keeps() {
        const ANSWERS: [Option<&str>; 7] =
            [None, Some(""), Some("true"), Some(" TRUE "), Some("1"), Some("false"), Some("/f")];
        // The answer to the n-th question of a walk; the walks count like an odometer.
        let mut script: Vec<usize> = Vec::new();
        let (mut walks, mut asked_at_all) = (0, std::collections::BTreeSet::new());
        loop {
            let (asked, mut longest) = (RefCell::new(Vec::new()), 0);
            for tty in [false, true] {
                asked.borrow_mut().clear();
                detect(
                    |k: &str| {
                        let mut asked = asked.borrow_mut();
                        asked.push(k.to_owned());
                        ANSWERS[script.get(asked.len() - 1).copied().unwrap_or(0)].map(str::to_owned)
                    },
                    tty,
                );
                for name in asked.borrow().iter() {
                    assert!(reads(name.as_bytes()), "{name}");
                    assert!(
                        reads(format!("{name}=x").as_bytes()) && reads(format!("{name}=").as_bytes()),
                        "{name}"
                    );
                    asked_at_all.insert(name.clone());
                }
                longest = longest.max(asked.borrow().len());
            }
            walks += 1;
            // The next sequence: the last question not yet at its last answer moves on, and
            // the questions after it start again.
            script.resize(longest, 0);
            match script.iter().rposition(|&a| a + 1 < ANSWERS.len()) {
                Some(i) => {
                    script[i] += 1;
                    script.truncate(i + 1);
                }
                None => break,
            }
        }
        let names: Vec<&str> = asked_at_all.iter().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "CI",
                "CI_DEBUG_TRACE",
                "GITHUB_ACTIONS",
                "GITHUB_OUTPUT",
                "GITHUB_STEP_SUMMARY",
                "GITLAB_CI",
                "RUNNER_DEBUG"
            ],
            "after {walks} walks"
        );
        for other in
            ["", "C", "CIX=1", "CI_X=1", "GITHUB_ACTION=x", "GITHUB_ACTIONS_X=1", "RUNNER_TEMP=/t", "HOME"]
        {
            assert!(!reads(other.as_bytes()), "{other}");
        }
    }
}

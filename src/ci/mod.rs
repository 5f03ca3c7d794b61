//! Where the report goes. `detect` (pure) picks the CI from the environment; `Sink` is the
//! only thing in the program that prints or writes report files, so every byte passes
//! through the redactor and the workflow-command neutraliser on its way out.

mod files;
mod github;

use std::io::Write as _;
use std::path::PathBuf;

use crate::escape::neutralise_line;
use crate::report::{Report, json, outputs, summary, text};
use crate::secret::{ApiKey, Redactor};

/// The CI we run in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ci {
    /// `GITHUB_ACTIONS=true`: workflow commands, `$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`.
    GitHub,
    /// Anything else: plain lines on stdout and stderr.
    Plain,
}

/// Files the report is written to.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    /// Step outputs in the runner's heredoc format (appended).
    pub output: Option<PathBuf>,
    /// The Markdown summary (appended).
    pub summary: Option<PathBuf>,
    /// The results JSON document (replaced atomically).
    pub results: Option<PathBuf>,
}

/// Picks the CI and its files from environment variables.
pub fn detect(get: impl Fn(&str) -> Option<String>) -> (Ci, Targets) {
    let path = |k: &str| get(k).filter(|v| !v.trim().is_empty()).map(PathBuf::from);
    if get("GITHUB_ACTIONS").as_deref() == Some("true") {
        let targets =
            Targets { output: path("GITHUB_OUTPUT"), summary: path("GITHUB_STEP_SUMMARY"), results: None };
        (Ci::GitHub, targets)
    } else {
        (Ci::Plain, Targets::default())
    }
}

pub struct Sink {
    ci: Ci,
    targets: Targets,
    redactor: Redactor,
}

impl Sink {
    pub fn new(ci: Ci, targets: Targets) -> Self {
        Self { ci, targets, redactor: Redactor::default() }
    }

    pub fn targets(&self) -> &Targets {
        &self.targets
    }

    /// Registers the key with the runner's masker (first thing printed) and the redactor.
    pub fn protect(&mut self, key: Option<&ApiKey>) {
        self.redactor = Redactor::new(key);
        if let (Ci::GitHub, Some(k)) = (self.ci, key) {
            raw_stdout(&github::add_mask(k.expose()));
        }
    }

    /// A progress or report line on stdout.
    pub fn info(&self, line: &str) {
        raw_stdout(&neutralise_line(&self.redactor.scrub(line)));
    }

    pub fn warn(&self, msg: &str) {
        let msg = self.redactor.scrub(msg);
        match self.ci {
            Ci::GitHub => raw_stdout(&github::command("warning", None, &msg)),
            Ci::Plain => raw_stderr(&neutralise_line(&format!("posteverywhere-wait: warning: {msg}"))),
        }
    }

    pub fn error(&self, msg: &str) {
        let msg = self.redactor.scrub(msg);
        if self.ci == Ci::GitHub {
            raw_stdout(&github::command("error", None, &msg));
        }
        raw_stderr(&neutralise_line(&format!("posteverywhere-wait: error: {msg}")));
    }

    /// Writes everything the final report produces: files, annotations, the table.
    pub fn finish(&self, r: &Report, want_summary: bool) {
        let scrub = |s: &str| self.redactor.scrub(s);
        if self.ci == Ci::GitHub {
            for a in github::annotations(r) {
                raw_stdout(&scrub(&a));
            }
        }
        if let Some(p) = &self.targets.output {
            let (list, note) = outputs::outputs(r);
            if let Some(note) = note {
                self.warn(&note);
            }
            let list: Vec<(&str, String)> = list.iter().map(|(k, v)| (*k, scrub(v))).collect();
            self.report_io("outputs", p, files::append(p, &outputs::encode(&list)));
        }
        if want_summary && (r.answered() || r.message.is_some()) {
            if let Some(p) = &self.targets.summary {
                self.report_io("summary", p, files::append(p, &scrub(&summary::render(r))));
            }
        }
        if let Some(p) = &self.targets.results {
            self.report_io("results-file", p, files::replace(p, &scrub(&json::document(r))));
        }
        for line in text::table(r) {
            self.info(&line);
        }
    }

    fn report_io(&self, what: &str, path: &std::path::Path, res: std::io::Result<()>) {
        if let Err(e) = res {
            self.error(&format!("cannot write {what} to {}: {e}", path.display()));
        }
    }
}

/// Writes one line, ignoring a closed stdout (a pipe to `head` must not panic us).
fn raw_stdout(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
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
        let (ci, t) =
            detect(env(&[("GITHUB_ACTIONS", "true"), ("GITHUB_OUTPUT", "/o"), ("GITHUB_STEP_SUMMARY", "")]));
        assert_eq!(ci, Ci::GitHub);
        assert_eq!(t.output, Some(PathBuf::from("/o")));
        assert_eq!(t.summary, None);
        assert_eq!(detect(env(&[("CI", "true"), ("GITLAB_CI", "true")])).0, Ci::Plain);
        assert_eq!(detect(env(&[("GITHUB_ACTIONS", "false")])).0, Ci::Plain);
    }
}

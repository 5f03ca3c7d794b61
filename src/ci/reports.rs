//! Writing the report files the targets name: step outputs, the job summary (within what is
//! left of the runner's limit for the step), `summary-file` (sized for a pull request
//! comment), the results JSON, and the GitLab dotenv, JUnit and annotations reports. Every
//! text is scrubbed of the key on its way out. Failures are collected, not printed: the
//! caller reports them (they fail the step).

use std::path::Path;

use super::{Sink, files};
use crate::outcome::after_writing;
use crate::report::{Report, dotenv, json, junit, links, outputs, summary};

/// Notes in `failed` a report that could not be written.
fn io(failed: &mut Vec<String>, what: &str, path: &Path, res: std::io::Result<()>) {
    if let Err(e) = res {
        failed.push(format!("cannot write {what} to {}: {e}", path.display()));
    }
}

/// The reports whose folder is gone (removed during the wait, or a link's target's), one
/// line each: they cannot be written, so the step ends with exit 5, and the reports written
/// before them must say so too. A look a report; what only the write can tell (a full
/// disk) is told by it.
fn doomed(sink: &Sink, summary: bool) -> Vec<String> {
    let t = sink.targets();
    // The runner's own files are appended to (a link is followed by the open); the rest
    // are replaced, through a link to the file it names (`files::gone`).
    let named = [
        ("summary", if summary { &t.summary } else { &None }, false),
        ("summary-file", &t.summary_file, true),
        ("results-file", &t.results, true),
        ("annotations-file", &t.annotations, true),
        ("junit-file", &t.junit, true),
        ("dotenv-file", &t.dotenv, true),
        ("step outputs", &t.output, false),
    ];
    let mut out = Vec::new();
    for (what, path, replaced) in named {
        let Some(p) = path else { continue };
        if let Some(why) = files::gone(p, replaced) {
            out.push(format!("cannot write {what} to {}: {why}", p.display()));
        }
    }
    out
}

/// Writes every report; returns a line for each that could not be written. A report whose
/// folder is gone is known before any is written: `r` then takes the exit code the step
/// ends with (5) and says why, so every report agrees. The JUnit report, then the dotenv
/// report and the step outputs, which later jobs and steps read the exit code from, go
/// last, with the exit code the step ends with (5 when an earlier file failed; JUnit gets
/// an error case saying which).
pub(super) fn write_all(sink: &Sink, r: &mut Report, want_summary: bool) -> Vec<String> {
    let has_summary = r.answered() || r.message.is_some();
    let doomed = doomed(sink, want_summary && has_summary);
    if !doomed.is_empty() {
        r.exit_code = after_writing(r.exit_code, false);
        let why = doomed.join("; ");
        r.message = Some(r.message.take().map_or_else(|| why.clone(), |m| format!("{m}; {why}")));
    }
    let r = &*r;
    let t = sink.targets();
    let mut failed = Vec::new();
    let mut dotenv_refused = None;
    if let (true, true, Some(p)) = (want_summary, has_summary, &t.summary) {
        // The runner's limit is for the whole file: what an earlier writer left counts.
        let used = std::fs::metadata(p).map_or(0, |m| usize::try_from(m.len()).unwrap_or(usize::MAX));
        let text = summary::render(r, summary::MAX_SUMMARY_BYTES.saturating_sub(used));
        if text.is_empty() {
            sink.warn("the job summary file is already full; no summary written");
        } else {
            io(&mut failed, "summary", p, files::append(p, &sink.scrubbed(text)));
        }
    }
    if let Some(p) = &t.summary_file {
        io(
            &mut failed,
            "summary-file",
            p,
            files::replace(p, &sink.scrubbed(summary::render(r, summary::MAX_COMMENT_BYTES))),
        );
    }
    if let Some(p) = &t.results {
        io(&mut failed, "results-file", p, files::replace(p, &sink.scrubbed(json::document(r))));
    }
    if let Some(p) = &t.annotations {
        let (text, note) = links::render(r);
        if let Some(note) = note {
            sink.warn(&note);
        }
        io(&mut failed, "annotations-file", p, files::replace(p, &sink.scrubbed(text)));
    }
    if let Some(p) = &t.junit {
        // After the files above: one that failed makes the step fail (exit 5), and a case
        // says so.
        let unwritten = (!failed.is_empty()).then(|| failed.join("; "));
        let (text, note) = junit::render(r, unwritten.as_deref());
        if let Some(note) = note {
            sink.warn(&note);
        }
        io(&mut failed, "junit-file", p, files::replace(p, &sink.scrubbed(text)));
    }
    if let Some(p) = &t.dotenv {
        let results = t.results.as_deref().map(|p| p.display().to_string());
        let code = after_writing(r.exit_code, failed.is_empty());
        let text = sink.scrubbed(dotenv::render(r, results.as_deref(), code));
        match dotenv::validate(&text) {
            Ok(()) => io(&mut failed, "dotenv-file", p, files::replace_exact(p, &text)),
            Err(e) => {
                dotenv_refused =
                    Some(format!("the dotenv report would be rejected by GitLab ({e}); not written"))
            }
        }
    }
    if let Some(p) = &t.output {
        // Written last, with the exit code the step will end with.
        let code = after_writing(r.exit_code, failed.is_empty() && dotenv_refused.is_none());
        let (mut list, note) = outputs::outputs(r, code);
        if let Some(note) = note {
            sink.warn(&note);
        }
        for (_, v) in &mut list {
            sink.scrub_in_place(v);
        }
        io(&mut failed, "step outputs", p, files::append(p, &outputs::encode(&list)));
    }
    failed.extend(dotenv_refused);
    failed
}

/// The step outputs of a run that never started, its inputs refused (exit 2): `status`
/// `error`, `exit-code` and the one-line `message`, so a later `if: always()` step reads
/// why. Only the runner's own file is written: a report path may be the bad input.
pub(super) fn refused(sink: &Sink, message: &str, exit_code: u8) {
    if let Some(p) = &sink.targets().output {
        // Scrubbed before it is cut: a cut through the key would leave a part of it.
        let message = crate::escape::one_line(&sink.scrubbed(message.to_owned()), outputs::MESSAGE_MAX_CHARS);
        let list =
            [("status", "error".to_owned()), ("exit-code", exit_code.to_string()), ("message", message)];
        // Nothing more can be done if it fails: the error line is already out.
        let _ = files::append(p, &outputs::encode(&list));
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Ci, Targets};
    use super::*;
    use crate::secret::{ApiKey, Redactor};

    /// A refused input's `message` output never holds part of the key, even when the key
    /// straddles the output's cut: it is scrubbed first, then cut.
    #[test]
    fn a_refused_inputs_message_is_scrubbed_before_it_is_cut() {
        const KEY: &str = "pe_live_0123456789abcdef0123456789abcdef";
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("output");
        let targets = Targets { output: Some(out.clone()), ..Targets::default() };
        let mut sink = Sink::new(Ci::GitHub, targets, false);
        sink.redactor = Redactor::new(Some(&ApiKey::new(KEY.into())));
        for pad in [1970, 1990, 1999] {
            std::fs::write(&out, "").unwrap();
            refused(&sink, &format!("{}{KEY}", "x".repeat(pad)), 2);
            let text = std::fs::read_to_string(&out).unwrap();
            for part in KEY.as_bytes().windows(12) {
                let part = std::str::from_utf8(part).unwrap();
                assert!(!text.contains(part), "{pad}: a part of the key, {part}, in {text}");
            }
        }
    }
}

//! `--demo`: the whole program against the simulator, showing what CI gets. Simulator
//! defaults go under the user's own settings; the outputs, summary and results go to a
//! fresh temp folder (unless running inside GitHub Actions), which is removed afterwards
//! unless `--keep` is given. What the files hold is shown before the verdict, so the verdict
//! and the table end the output, on the last screen; every command it suggests can be
//! pasted as is.

use std::path::{Path, PathBuf};

use crate::ci::{Ci, Sink, Targets};
use crate::config::env_names;

/// How the demo was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Demo {
    /// Leave the folder of files behind.
    pub keep: bool,
}

/// The environment for a demo: the caller's variables minus any API key or base URL,
/// then our defaults (which the caller's own settings override).
pub fn vars(env: Vec<(String, String)>) -> Vec<(String, String)> {
    let dropped: Vec<String> = ["api-key", "base-url"].iter().flat_map(|i| env_names(i)).collect();
    let mut v: Vec<(String, String)> = env.into_iter().filter(|(k, _)| !dropped.contains(k)).collect();
    for (k, val) in [
        ("POSTEVERYWHERE_SIMULATE", "retry"),
        ("POSTEVERYWHERE_POST_ID", "demo-post"),
        ("POSTEVERYWHERE_POLL_INTERVAL", "300ms"),
    ] {
        v.push((k.to_owned(), val.to_owned()));
    }
    v
}

/// Files for the demo: the runner's own when inside GitHub Actions, else a temp folder
/// (returned, to be removed).
pub fn targets(ci: Ci, mut t: Targets) -> std::io::Result<(Targets, Option<PathBuf>)> {
    if ci == Ci::GitHub {
        return Ok((t, None));
    }
    let dir = std::env::temp_dir().join(format!("posteverywhere-wait-demo-{}", &crate::rand::token()[..8]));
    std::fs::create_dir_all(&dir)?;
    t.output = Some(dir.join("outputs.txt"));
    t.summary = Some(dir.join("summary.md"));
    t.results.get_or_insert_with(|| dir.join("results.json"));
    Ok((t, Some(dir)))
}

/// Reads back heredoc records (`name<<DELIM`, lines, `DELIM`) for display.
fn parse_outputs(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some((name, delim)) = line.split_once("<<") else {
            continue;
        };
        let body: Vec<&str> = lines.by_ref().take_while(|l| *l != delim).collect();
        out.push((name.to_owned(), body.join("\n")));
    }
    out
}

/// A word the shell takes as it is: quoted when it holds anything but safe characters.
fn shell_word(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+:=@%".contains(c)) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The program as it was started, so a suggested command runs the same binary.
fn program() -> String {
    let arg0 = std::env::args_os().next().map(|a| a.to_string_lossy().into_owned()).unwrap_or_default();
    // Started by name from PATH: the name works again; by a path: that path does.
    if arg0.is_empty() { env!("CARGO_PKG_NAME").to_owned() } else { shell_word(&arg0) }
}

/// Shows what CI got from the run (the long files before the short ones), and how to try
/// the other scenarios. The caller prints the verdict and table after this.
pub fn show(sink: &Sink, demo: Demo, dir: Option<&Path>) {
    let t = sink.targets();
    sink.info("");
    sink.info("The demo ran the real program against the built-in simulator; nothing was published.");
    if let Some(p) = &t.summary {
        sink.info("");
        sink.info("── The job summary (Markdown, shown on the run's page in GitHub Actions):");
        match std::fs::read_to_string(p) {
            Ok(text) => text.lines().for_each(|l| sink.info(&format!("   {l}"))),
            Err(e) => sink.info(&format!("   (cannot read it: {e})")),
        }
    }
    if let Some(p) = &t.output {
        sink.info("── The step outputs (what later steps read as steps.<id>.outputs.<name>):");
        let text = std::fs::read_to_string(p).unwrap_or_default();
        for (name, value) in parse_outputs(&text) {
            let shown = if value.len() > 70 || value.contains('\n') {
                let lines = value.lines().count();
                format!(
                    "{} … ({} bytes{})",
                    crate::escape::one_line(&value, 60),
                    value.len(),
                    if lines > 1 { format!(", {lines} lines") } else { String::new() }
                )
            } else {
                value
            };
            sink.info(&format!("   {name}: {shown}"));
        }
    }
    match (dir, demo.keep) {
        (Some(d), true) => sink.info(&format!("── The files are kept in {}", d.display())),
        (Some(_), false) => {
            sink.info("── The files were in a temporary folder, now removed; add --keep to keep them.")
        }
        (None, _) => {}
    }
    sink.info("── Try another outcome (paste one; --help says what each scenario does):");
    let me = program();
    for (name, _) in crate::sim::SCENARIOS {
        sink.info(&format!("   POSTEVERYWHERE_SIMULATE={name} {me} --demo"));
    }
    sink.info("");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggested_words_paste_as_they_are() {
        assert_eq!(shell_word("target/release/posteverywhere-wait"), "target/release/posteverywhere-wait");
        assert_eq!(shell_word("/tmp/my dir/pew"), "'/tmp/my dir/pew'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }
}

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

/// A 1×1 PNG: the demo's media file.
const PIXEL: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00,
    0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x60, 0x60, 0x60, 0xF8, 0x0F, 0x00, 0x01,
    0x04, 0x01, 0x00, 0x5F, 0xE5, 0xC3, 0x4B, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42,
    0x60, 0x82,
];

/// The demo's folder in the temp dir, with its media file (none inside GitHub Actions,
/// where the runner's own files are used).
#[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
pub fn folder(ci: Ci) -> std::io::Result<Option<PathBuf>> {
    if ci == Ci::GitHub {
        return Ok(None);
    }
    let dir = std::env::temp_dir().join(format!("posteverywhere-wait-demo-{}", &crate::rand::token()[..8]));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("launch.png"), PIXEL)?;
    Ok(Some(dir))
}

/// The environment for a demo: the caller's variables minus any API key or base URL,
/// then our defaults (which the caller's own settings override): publish a post with a
/// picture to three accounts of the simulator, and wait for it.
#[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
pub fn vars(env: Vec<(String, String)>, dir: Option<&Path>) -> Vec<(String, String)> {
    let dropped: Vec<String> = ["api-key", "base-url"].iter().flat_map(|i| env_names(i)).collect();
    let mut v: Vec<(String, String)> = env.into_iter().filter(|(k, _)| !dropped.contains(k)).collect();
    let given = |input: &str| {
        env_names(input).iter().any(|n| v.iter().any(|(k, val)| k == n && !val.trim().is_empty()))
    };
    let mut defaults = vec![
        ("POSTEVERYWHERE_SIMULATE", "retry".to_owned()),
        ("POSTEVERYWHERE_POLL_INTERVAL", "300ms".to_owned()),
    ];
    if !given("post-id") && !given("content") && !given("content-file") {
        defaults.push((
            "POSTEVERYWHERE_CONTENT",
            "Version 2.0 is out: faster builds and a new dashboard.".to_owned(),
        ));
        defaults.push(("POSTEVERYWHERE_ACCOUNTS", "instagram, linkedin, x".to_owned()));
        if let Some(d) = dir {
            defaults.push(("POSTEVERYWHERE_MEDIA", d.join("launch.png").display().to_string()));
        }
    }
    for (k, val) in defaults {
        v.push((k.to_owned(), val));
    }
    v
}

/// Files for the demo: the runner's own when inside GitHub Actions, else the demo folder.
#[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
pub fn targets(mut t: Targets, dir: Option<&Path>) -> Targets {
    if let Some(dir) = dir {
        t.output = Some(dir.join("outputs.txt"));
        t.summary = Some(dir.join("summary.md"));
        t.results.get_or_insert_with(|| dir.join("results.json"));
    }
    t
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
    if arg0.is_empty() { env!("CARGO_PKG_NAME").to_owned() } else { arg0 }
}

/// A command that runs `program --demo` with scenario `name`, pasted into the shell of the
/// platform: sh and its kin, or PowerShell on Windows (the variable removed again after, so
/// a later real run in that window does not meet the simulator).
fn suggestion(name: &str, program: &str) -> String {
    if cfg!(windows) {
        format!(
            "$env:POSTEVERYWHERE_SIMULATE='{name}'; & '{}' --demo; Remove-Item Env:POSTEVERYWHERE_SIMULATE",
            program.replace('\'', "''")
        )
    } else {
        format!("POSTEVERYWHERE_SIMULATE={name} {} --demo", shell_word(program))
    }
}

/// Shows what CI got from the run (the long files before the short ones), and how to try
/// the other scenarios. The caller prints the verdict and table after this.
#[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
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
        sink.info(&format!("   {}", suggestion(name, &me)));
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
        let s = suggestion("published", r"C:\Users\o'neil\pew.exe");
        if cfg!(windows) {
            assert_eq!(
                s,
                r"$env:POSTEVERYWHERE_SIMULATE='published'; & 'C:\Users\o''neil\pew.exe' --demo; Remove-Item Env:POSTEVERYWHERE_SIMULATE"
            );
        } else {
            assert_eq!(s, r"POSTEVERYWHERE_SIMULATE=published 'C:\Users\o'\''neil\pew.exe' --demo");
        }
    }
}

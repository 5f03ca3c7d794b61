//! `--demo`: the whole program against the simulator, with files a person can open.
//! Adds simulator defaults under the user's own settings, points the outputs, summary and
//! results at a fresh temp folder (unless running inside GitHub Actions), and afterwards
//! prints where each file is and what it holds.

use std::path::PathBuf;

use crate::ci::{Ci, Sink, Targets};
use crate::config::env_names;

/// The environment for a demo: the caller's variables minus any API key or base URL,
/// then our defaults (which the caller's own settings override).
pub fn vars(env: Vec<(String, String)>) -> Vec<(String, String)> {
    let dropped: Vec<String> = ["api-key", "base-url"].iter().flat_map(|i| env_names(i)).collect();
    let mut v: Vec<(String, String)> = env.into_iter().filter(|(k, _)| !dropped.contains(k)).collect();
    for (k, val) in [
        ("POSTEVERYWHERE_SIMULATE", "retry"),
        ("POSTEVERYWHERE_RETRY_FAILED", "1"),
        ("POSTEVERYWHERE_POST_ID", "demo-post"),
        ("POSTEVERYWHERE_POLL_INTERVAL", "300ms"),
        ("POSTEVERYWHERE_TIMEOUT", "60"),
    ] {
        v.push((k.to_owned(), val.to_owned()));
    }
    v
}

/// Files for the demo: the runner's own when inside GitHub Actions, else a temp folder.
pub fn targets(ci: Ci, mut t: Targets) -> std::io::Result<Targets> {
    if ci == Ci::GitHub {
        return Ok(t);
    }
    let dir = std::env::temp_dir().join(format!("posteverywhere-wait-demo-{}", &crate::rand::token()[..8]));
    std::fs::create_dir_all(&dir)?;
    t.output = Some(dir.join("outputs.txt"));
    t.summary = Some(dir.join("summary.md"));
    t.results.get_or_insert_with(|| dir.join("results.json"));
    Ok(t)
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

/// Prints each file's path and contents.
pub fn show(sink: &Sink) {
    let t = sink.targets();
    let files: [(&str, &Option<PathBuf>); 3] =
        [("step outputs", &t.output), ("job summary (Markdown)", &t.summary), ("results JSON", &t.results)];
    sink.info("");
    sink.info("The demo ran the real program against the built-in simulator (nothing was published).");
    for (what, path) in files {
        let Some(path) = path else { continue };
        sink.info("");
        sink.info(&format!("── {what}: {}", path.display()));
        match std::fs::read_to_string(path) {
            Ok(text) if what == "step outputs" => {
                sink.info("   (written in the runner's name<<delimiter format; shown here as name: value)");
                for (name, value) in parse_outputs(&text) {
                    let value = if value.contains('\n') { value.replace('\n', "\n        ") } else { value };
                    sink.info(&format!("   {name}: {value}"));
                }
            }
            Ok(text) => text.lines().for_each(|l| sink.info(&format!("   {l}"))),
            Err(e) => sink.info(&format!("   (cannot read it: {e})")),
        }
    }
    sink.info("");
    sink.info("Try another outcome: POSTEVERYWHERE_SIMULATE=published|partial|failed|slow|retry posteverywhere-wait --demo");
}

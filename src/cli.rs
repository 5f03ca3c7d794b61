//! Command-line arguments (a handful of flags; every setting is an input read from the
//! environment) and the `--help` text, generated from the input table and kept within 100
//! columns.

use std::ffi::OsString;
use std::fmt::Write as _;

use crate::config::{INPUTS, env_names};

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Command {
    Run,
    /// The demo; `keep`: leave its folder of files behind.
    Demo {
        keep: bool,
    },
    Help,
    Version,
}

/// The widest line `--help` prints.
pub const HELP_WIDTH: usize = 100;

pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
    let (mut cmd, mut keep) = (Command::Run, false);
    for arg in args {
        let next = match arg.to_str() {
            Some("-h" | "--help") => Command::Help,
            Some("-V" | "--version") => Command::Version,
            Some("--demo") => Command::Demo { keep: false },
            Some("--keep") => {
                keep = true;
                continue;
            }
            _ => {
                return Err(format!(
                    "unknown argument {:?}: settings are read from environment variables (see --help)",
                    arg.to_string_lossy()
                ));
            }
        };
        if matches!(next, Command::Help | Command::Version) || cmd == Command::Run {
            cmd = next;
        }
    }
    match cmd {
        Command::Demo { .. } => Ok(Command::Demo { keep }),
        _ if keep && cmd == Command::Run => Err("--keep goes with --demo (it keeps the demo's files)".into()),
        c => Ok(c),
    }
}

pub fn version() -> String {
    format!("{} {}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
}

/// `text` in lines of at most `width` characters, broken between words, each line after
/// the first starting with `indent`; the first line keeps `text`'s own leading spaces.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let body = text.trim_start_matches(' ');
    let mut out = String::new();
    let mut line = text[..text.len() - body.len()].to_owned();
    for word in body.split(' ') {
        if !line.trim_start().is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line = indent.to_owned();
        } else if !line.trim_start().is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out
}

#[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
pub fn help() -> String {
    let mut s = format!(
        "{}\nPublish a PostEverywhere post (or take its id), wait for every destination's result, report it.\n\n\
         USAGE:\n    posteverywhere-wait                   wait, using inputs from the environment\n    \
         posteverywhere-wait --demo [--keep]   run against the built-in simulator and show what CI gets\n    \
         posteverywhere-wait --help | --version\n\n\
         INPUTS (each read from INPUT_<NAME> with - or _, else POSTEVERYWHERE_<NAME>):\n",
        version()
    );
    let indent = " ".repeat(22);
    for spec in INPUTS {
        let [gh, _, other] = env_names(spec.name);
        let default =
            if spec.default.is_empty() { String::new() } else { format!(" [default: {}]", spec.default) };
        let text = format!("    {:<17} {}{default}", spec.name, spec.help);
        let _ = writeln!(s, "{}", wrap(&text, HELP_WIDTH, &indent));
        let _ = writeln!(s, "{}", wrap(&format!("{indent}env: {gh} or {other}"), HELP_WIDTH, &indent));
    }
    s.push_str("\nSIMULATOR SCENARIOS (input simulate; no key needed, nothing is published):\n");
    for (name, what) in crate::sim::SCENARIOS {
        let _ = writeln!(s, "{}", wrap(&format!("    {name:<17} {what}"), HELP_WIDTH, &indent));
    }
    s.push_str(
        "\nEXIT CODES:\n    0  the outcome passes fail-on\n    1  destinations failed (per fail-on)\n    \
         2  bad configuration or usage\n    3  timed out with destinations still pending\n    \
         4  the API stopped the wait (refused, unreachable, unusable answers)\n    \
         5  an output, the summary or a report file could not be written\n    \
         130/143  cancelled by SIGINT/SIGTERM\n",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Command, String> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn flags() {
        assert_eq!(p(&[]), Ok(Command::Run));
        assert_eq!(p(&["--demo"]), Ok(Command::Demo { keep: false }));
        assert_eq!(p(&["--demo", "--keep"]), Ok(Command::Demo { keep: true }));
        assert_eq!(p(&["--keep", "--demo"]), Ok(Command::Demo { keep: true }));
        assert!(p(&["--keep"]).unwrap_err().contains("--demo"));
        assert_eq!(p(&["--demo", "--help"]), Ok(Command::Help));
        assert_eq!(p(&["-V"]), Ok(Command::Version));
        assert!(p(&["--post-id", "x"]).unwrap_err().contains("\"--post-id\""));
    }

    #[test]
    fn help_lists_every_input_and_fits_100_columns() {
        let h = help();
        for spec in INPUTS {
            assert!(h.contains(spec.name));
            for name in [env_names(spec.name)[0].as_str(), env_names(spec.name)[2].as_str()] {
                assert!(h.contains(name), "{name}");
            }
        }
        for spec in INPUTS {
            let entry = format!("\n    {:<17} ", spec.name);
            assert!(h.contains(&entry), "{} is not listed as {entry:?}", spec.name);
        }
        assert!(h.contains("\n                      env: INPUT_API-KEY or POSTEVERYWHERE_API_KEY\n"));
        for line in h.lines() {
            assert!(line.chars().count() <= HELP_WIDTH, "{} columns: {line}", line.chars().count());
        }
    }
}

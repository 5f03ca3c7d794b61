//! Command-line arguments (there are only three flags; every setting is an input read
//! from the environment) and the `--help` text, generated from the input table.

use std::ffi::OsString;
use std::fmt::Write as _;

use crate::config::{INPUTS, env_names};

#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Run,
    Demo,
    Help,
    Version,
}

pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
    let mut cmd = Command::Run;
    for arg in args {
        let next = match arg.to_str() {
            Some("-h" | "--help") => Command::Help,
            Some("-V" | "--version") => Command::Version,
            Some("--demo") => Command::Demo,
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
    Ok(cmd)
}

pub fn version() -> String {
    format!("{} {}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
}

pub fn help() -> String {
    let mut s = format!(
        "{}\nWait for a PostEverywhere post's per-destination results, then report them to the CI.\n\n\
         USAGE:\n    posteverywhere-wait            wait, using inputs from the environment\n    \
         posteverywhere-wait --demo     run against the built-in simulator and show what it writes\n    \
         posteverywhere-wait --help | --version\n\n\
         INPUTS (each read from INPUT_<NAME> with - or _, else POSTEVERYWHERE_<NAME>):\n",
        version()
    );
    for spec in INPUTS {
        let [gh, _, other] = env_names(spec.name);
        let default =
            if spec.default.is_empty() { String::new() } else { format!(" [default: {}]", spec.default) };
        let _ =
            writeln!(s, "    {:<17} {}{default}\n    {:<17} env: {gh} or {other}", spec.name, spec.help, "");
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
        assert_eq!(p(&["--demo"]), Ok(Command::Demo));
        assert_eq!(p(&["--demo", "--help"]), Ok(Command::Help));
        assert_eq!(p(&["-V"]), Ok(Command::Version));
        assert!(p(&["--post-id", "x"]).unwrap_err().contains("\"--post-id\""));
    }

    #[test]
    fn help_lists_every_input_and_its_env_names() {
        let h = help();
        for spec in INPUTS {
            assert!(h.contains(spec.name));
            for name in [env_names(spec.name)[0].as_str(), env_names(spec.name)[2].as_str()] {
                assert!(h.contains(name), "{name}");
            }
        }
    }
}

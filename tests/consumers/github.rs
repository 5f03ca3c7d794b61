//! The GitHub runner's reading of a step's output (actions/runner `ProcessInvoker.cs`,
//! `ActionCommand.cs`, `OutputManager.cs`): lines split at CR, LF and CRLF; a line whose
//! trimmed start is `::` is a command when the name before the first space (up to the next
//! `::`) is a registered one, case-insensitively; the legacy `##[name` form counts anywhere
//! in a line. At most 10 annotations of each type are shown per step.

/// The command names the runner acts on.
const REGISTERED: &[&str] = &[
    "add-mask",
    "add-matcher",
    "add-path",
    "debug",
    "echo",
    "endgroup",
    "error",
    "group",
    "notice",
    "remove-matcher",
    "save-state",
    "set-env",
    "set-output",
    "stop-commands",
    "warning",
];

/// Annotations of one type the runner shows per step.
pub const SHOWN_PER_TYPE: usize = 10;

#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub name: String,
    /// The data after the second `::`, unescaped as the runner does.
    pub data: String,
    pub legacy: bool,
}

fn registered(name: &str) -> bool {
    REGISTERED.iter().any(|r| r.eq_ignore_ascii_case(name))
}

/// `%0D`, `%0A`, `%25` in command data.
fn unescape(data: &str) -> String {
    data.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")
}

/// Every command the runner would see in a process's output.
pub fn commands(output: &str) -> Vec<Command> {
    let mut out = Vec::new();
    for line in output.split(['\r', '\n']) {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("::") {
            if let Some(end) = rest.find("::") {
                let info = &rest[..end];
                let name = info.split(' ').next().unwrap_or("");
                if registered(name) {
                    out.push(Command {
                        name: name.to_ascii_lowercase(),
                        data: unescape(&rest[end + 2..]),
                        legacy: false,
                    });
                }
            }
        }
        let mut from = 0;
        while let Some(at) = line[from..].find("##[") {
            let rest = &line[from + at + 3..];
            let name: String = rest.chars().take_while(|c| *c != ' ' && *c != ']').collect();
            if rest.contains(']') && registered(&name) {
                out.push(Command { name: name.to_ascii_lowercase(), data: String::new(), legacy: true });
            }
            from += at + 3;
        }
    }
    out
}

/// Checks a run's stdout and stderr: only the commands we write (`allowed`), the key
/// masked once and first, no legacy commands, and no annotation beyond what is shown.
pub fn check_log(stdout: &str, stderr: &str, allowed: &[&str]) -> Result<Vec<Command>, String> {
    let mut all = commands(stdout);
    all.extend(commands(stderr));
    if let Some(c) = all.iter().find(|c| c.legacy || !allowed.contains(&c.name.as_str())) {
        return Err(format!("a command we did not mean to send: {c:?}"));
    }
    for kind in ["error", "warning", "notice"] {
        let n = all.iter().filter(|c| c.name == kind).count();
        if n > SHOWN_PER_TYPE {
            return Err(format!("{n} {kind} annotations; the runner shows {SHOWN_PER_TYPE}"));
        }
    }
    let masks: Vec<usize> =
        all.iter().enumerate().filter(|(_, c)| c.name == "add-mask").map(|(i, _)| i).collect();
    if masks.len() > 1 || masks.first().is_some_and(|i| *i != 0) {
        return Err("the key must be masked once, before any other command".into());
    }
    Ok(all)
}

#[test]
fn the_checker_sees_what_the_runner_sees() {
    let log = "ok\n  ::error title=x::a%0Ab\rtext ::set-output name=a::b\rx ##[warning]y\r\n::nope::z\n::ADD-MASK::s";
    let c = commands(log);
    let names: Vec<(&str, bool)> = c.iter().map(|c| (c.name.as_str(), c.legacy)).collect();
    assert_eq!(names, [("error", false), ("warning", true), ("add-mask", false)]);
    assert_eq!(c[0].data, "a\nb");
    // A line break inside a message starts a new line, which can be a command.
    assert!(check_log("msg\n::set-output name=status::x", "", &["error"]).is_err());
    assert!(check_log("a\r::error::x", "", &["warning"]).is_err());
    assert!(check_log("", "text ##[error]x", &["error"]).is_err(), "legacy anywhere in a line");
    assert!(check_log(&"::error::x\n".repeat(11), "", &["error"]).is_err(), "more than 10 errors");
    assert!(check_log("::error::x\n::add-mask::k", "", &["error", "add-mask"]).is_err(), "mask first");
    assert!(check_log("::add-mask::k\n\\::error::x ##\\[error]", "", &["add-mask"]).is_ok());
}

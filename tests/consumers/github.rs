//! The GitHub runner's reading of a step's output (actions/runner `ProcessInvoker.cs`,
//! `ActionCommand.cs`, `OutputManager.cs`): lines split at CR, LF and CRLF; a line whose
//! trimmed start is `::` is a command when the name before the first space (up to the next
//! `::`) is a registered one, case-insensitively; the legacy `##[name` form counts anywhere
//! in a line. At most 10 annotations of each type are shown per step. And `act`'s reading
//! of `$GITHUB_OUTPUT` (nektos/act `pkg/container/parse_env_file.go`), which differs from
//! the runner's (`tests/util/runner.rs`) where it matters to us: lines over 64 KiB.

use std::collections::BTreeMap;

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

/// The longest line (with its LF) a default `bufio.Scanner` returns (`MaxScanTokenSize`).
pub const ACT_MAX_LINE: usize = 64 * 1024;

/// `$GITHUB_OUTPUT` as `act` reads it: lines from a default `bufio.Scanner` (split at LF, a
/// CR before it dropped, at most `ACT_MAX_LINE`), a UTF-8 BOM skipped; `NAME=VALUE` when
/// `=` comes before `<<`, else a heredoc up to the line equal to its delimiter, whose lines
/// are joined with LF once the value is not empty. A blank line is an error. A line over
/// the limit ends the scan: inside a heredoc act reports the delimiter missing; between
/// records it silently keeps what it read so far, which loses outputs, so both are errors
/// here.
pub fn act_outputs(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut lines = Vec::new();
    for (n, raw) in text.split_inclusive('\n').enumerate() {
        if raw.len() > ACT_MAX_LINE {
            lines.push(Err(format!("line {} is {} bytes; act reads lines up to 64 KiB", n + 1, raw.len())));
            break;
        }
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        lines.push(Ok(line.strip_suffix('\r').unwrap_or(line)));
    }
    let mut out = BTreeMap::new();
    let mut lines = lines.into_iter();
    let mut first = true;
    while let Some(line) = lines.next() {
        let mut line = line?;
        if std::mem::take(&mut first) {
            line = line.strip_prefix('\u{feff}').unwrap_or(line);
        }
        match (line.find('='), line.find("<<")) {
            (Some(e), h) if h.is_none_or(|h| e < h) => {
                out.insert(line[..e].to_owned(), line[e + 1..].to_owned());
            }
            (_, Some(h)) => {
                let delim = &line[h + 2..];
                let mut value = String::new();
                loop {
                    let Some(Ok(content)) = lines.next() else {
                        return Err(format!(
                            "invalid format delimiter '{delim}' not found before end of file"
                        ));
                    };
                    if content == delim {
                        break;
                    }
                    if !value.is_empty() {
                        value.push('\n');
                    }
                    value.push_str(content);
                }
                out.insert(line[..h].to_owned(), value);
            }
            _ => return Err(format!("invalid format '{line}', expected a line with '=' or '<<'")),
        }
    }
    Ok(out)
}

#[test]
fn the_act_reader_reads_what_act_reads() {
    let ok = act_outputs("\u{feff}a=1<<x\nb<<D\n\nline1\r\n\nline3\nD\nc<<E\nE\n").unwrap();
    assert_eq!(ok["a"], "1<<x");
    assert_eq!(ok["b"], "line1\n\nline3", "a leading blank line is dropped, CR before LF too");
    assert_eq!(ok["c"], "");
    assert!(act_outputs("a=1\n\nb=2\n").unwrap_err().contains("invalid format ''"), "blank line");
    let long = "v".repeat(ACT_MAX_LINE);
    assert!(act_outputs(&format!("r<<D\n{long}\nD\n")).unwrap_err().contains("delimiter 'D' not found"));
    assert!(act_outputs(&format!("a=1\nr={long}\n")).unwrap_err().contains("up to 64 KiB"));
    let fits = "v".repeat(ACT_MAX_LINE - 1);
    assert_eq!(act_outputs(&format!("r<<D\n{fits}\nD\n")).unwrap()["r"], fits);
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

//! A faithful port of the GitHub runner's parser for `$GITHUB_OUTPUT` / `$GITHUB_ENV`
//! (actions/runner FileCommandManager.cs `EnvFileKeyValuePairs`, Linux build): split on
//! LF only, skip empty lines, `NAME=VALUE` when `=` comes before `<<`, else a heredoc up
//! to the first line equal to the delimiter. Errors as the runner raises them.

use std::collections::BTreeMap;

pub fn parse(text: &str) -> Result<BTreeMap<String, String>, String> {
    let lines: Vec<&str> = text.split('\n').collect();
    // A trailing LF leaves one empty last element, which the runner also skips.
    let mut out = BTreeMap::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        if line.is_empty() {
            continue;
        }
        let eq = line.find('=');
        let heredoc = line.find("<<");
        match (eq, heredoc) {
            (Some(e), h) if h.is_none_or(|h| e < h) => {
                let (k, v) = (&line[..e], &line[e + 1..]);
                if k.is_empty() {
                    return Err(format!("Invalid format '{line}'. Name must not be empty"));
                }
                out.insert(k.to_owned(), v.to_owned());
            }
            (_, Some(h)) => {
                let (k, delim) = (&line[..h], &line[h + 2..]);
                if k.is_empty() || delim.is_empty() {
                    return Err(format!("Invalid format '{line}'"));
                }
                let mut body = Vec::new();
                loop {
                    if i >= lines.len() {
                        return Err(format!("Invalid value. Matching delimiter not found '{delim}'"));
                    }
                    let l = lines[i];
                    i += 1;
                    if l == delim {
                        break;
                    }
                    // The last line of the file must end with LF (runner: "EOF marker missing new line").
                    if i == lines.len() {
                        return Err(format!("Invalid value. EOF marker missing new line '{delim}'"));
                    }
                    body.push(l);
                }
                out.insert(k.to_owned(), body.join("\n"));
            }
            _ => return Err(format!("Invalid format '{line}'")),
        }
    }
    Ok(out)
}

#[test]
fn runner_parser_rules() {
    let p = parse("a=1<<EOF\nb<<X\nline1\n\nline3\nX\n\nc<<Y\nY\n").unwrap();
    assert_eq!(p["a"], "1<<EOF");
    assert_eq!(p["b"], "line1\n\nline3");
    assert_eq!(p["c"], "");
    assert_eq!(parse("k=1\r\n").unwrap()["k"], "1\r", "CR stays on Linux");
    assert!(parse("b<<X\nvalue\n").is_err(), "missing delimiter");
    assert!(parse("junk\n").is_err());
    assert!(parse("<<X\nX\n").is_err());
    assert_eq!(parse("k=1\nk=2\n").unwrap()["k"], "2", "last wins");
}

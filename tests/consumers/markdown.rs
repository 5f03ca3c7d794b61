//! GitHub's Markdown renderer, for real: `cmark-gfm` (the Debian package; `.ci/run`
//! installs it) with the extensions GitHub enables, raw HTML let through (`--unsafe`) so
//! that any that got in shows. A summary passes when every table keeps its shape, the
//! only tags are the ones we write, the only links are our "view post" links whose
//! rendered target is the URL the API gave, and no `@name` would mention anyone when the
//! summary is posted as a comment.

use std::io::Write as _;
use std::process::{Command, Stdio};

/// Tags a summary may render to.
const TAGS: &[&str] = &[
    "h2",
    "h3",
    "p",
    "blockquote",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "a",
    "code",
    "strong",
    "em",
    "ul",
    "li",
    "br",
];

/// Renders Markdown to HTML with GitHub's renderer.
pub fn render(md: &str) -> String {
    let mut child = Command::new("cmark-gfm")
        .args(["--unsafe", "-e", "table", "-e", "autolink", "-e", "tagfilter", "-e", "strikethrough"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("cmark-gfm must be installed (Debian package cmark-gfm; .ci/run installs it)");
    child.stdin.take().unwrap().write_all(md.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "cmark-gfm failed");
    String::from_utf8(out.stdout).unwrap()
}

/// A URL as cmark-gfm writes it into `href`: bytes outside its safe set percent-encoded.
pub fn as_href(url: &str) -> String {
    let mut out = String::new();
    for b in url.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'();/?:@&=+$,#%".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Cells of a table line as GFM splits it: pipes not escaped with a backslash.
fn cells(line: &str) -> usize {
    let b = line.as_bytes();
    let pipes = (0..b.len()).filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\')).count();
    pipes.saturating_sub(1)
}

/// Calls `f(prev, c, after)` for each character of rendered HTML's text outside `<a>` and
/// `<code>` (which GitHub's and GitLab's reference filters skip): the character before it
/// (a space after a tag), it, and the text after it.
fn each_char_outside_links(html: &str, mut f: impl FnMut(char, char, &str)) {
    let (mut skip, mut prev) = (0i32, ' ');
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        if c == '<' {
            let tag = rest[1..].split(['>', ' ']).next().unwrap_or("");
            skip += match tag {
                "a" | "code" => 1,
                "/a" | "/code" => -1,
                _ => 0,
            };
            rest = rest.split_once('>').map_or("", |(_, r)| r);
            prev = ' ';
            continue;
        }
        let after = &rest[c.len_utf8()..];
        if skip == 0 {
            f(prev, c, after);
        }
        prev = c;
        rest = after;
    }
}

/// The `@name`s GitHub's and GitLab's mention filters would link (and notify) in rendered
/// HTML: an `@` after a non-word character (or at the start) and before a letter, digit or
/// `_` (html-pipeline's MentionFilter, GitLab's user reference pattern), outside `<a>` and
/// `<code>`.
pub fn mentions(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    each_char_outside_links(html, |prev, c, after| {
        if c == '@' && !(prev.is_alphanumeric() || prev == '_') {
            let name: String =
                after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
            if !name.is_empty() {
                found.push(name);
            }
        }
    });
    found
}

/// The references GitHub's and GitLab's filters would link in rendered HTML (and note on
/// the issue referenced): `#` and `GH-`, and GitLab's `!` (merge requests) and `&` (epics),
/// after a non-word character (or at the start) and right before a digit, outside `<a>` and
/// `<code>`. `&` is read as the renderer wrote it, `&amp;`.
pub fn references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    each_char_outside_links(&html.replace("&amp;", "&"), |prev, c, after| {
        let gh =
            matches!(c, 'g' | 'G') && after.len() > 2 && after.as_bytes()[..2].eq_ignore_ascii_case(b"h-");
        let (mark, after) = if gh { (&after[..2], &after[2..]) } else { ("", after) };
        if (gh || matches!(c, '#' | '!' | '&')) && !(prev.is_alphanumeric() || prev == '_') {
            let n: String = after.chars().take_while(char::is_ascii_digit).collect();
            if !n.is_empty() {
                found.push(format!("{c}{mark}{n}"));
            }
        }
    });
    found
}

/// Checks a summary: tables keep their shape in the source and in the HTML, no raw HTML
/// from anywhere but us, no link but ours to `links`, no mention.
pub fn check_summary(md: &str, links: &[String]) -> Result<(), String> {
    let targets: std::collections::HashSet<String> = links.iter().map(|l| as_href(l)).collect();
    let mut rows = 0;
    let mut header: Option<usize> = None;
    for line in md.lines() {
        if !line.starts_with('|') {
            header = None;
            continue;
        }
        let n = cells(line);
        match header {
            None => header = Some(n),
            Some(h) if h != n => {
                return Err(format!("a table row with {n} cells under a header of {h}: {line}"));
            }
            Some(_) => {}
        }
        if !line.starts_with("|---") {
            rows += 1;
        }
    }
    let html = render(md);
    if let [name, ..] = mentions(&html).as_slice() {
        return Err(format!("@{name} would mention (and notify) someone"));
    }
    if let [r, ..] = references(&html).as_slice() {
        return Err(format!("{r} would reference an issue, merge request or epic"));
    }
    if html.matches("<tr>").count() != rows {
        return Err(format!("{} table rows rendered for {rows} written", html.matches("<tr>").count()));
    }
    let mut rest = html.as_str();
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        let name: String =
            rest.trim_start_matches('/').chars().take_while(char::is_ascii_alphanumeric).collect();
        if !name.is_empty() && !TAGS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(format!("raw HTML <{name}> in the summary"));
        }
        if let Some(a) = rest.strip_prefix("a ") {
            let href = a.strip_prefix("href=\"").and_then(|h| h.split('"').next()).unwrap_or("");
            let text = a.split_once('>').map(|(_, t)| t.split("</a>").next().unwrap_or("")).unwrap_or("");
            if text != "view post" {
                return Err(format!("a link whose text came from the API: {text:?} → {href}"));
            }
            let target = html_unescape(href);
            if !targets.contains(&target) {
                return Err(format!("a link to {target}, which is no published URL as given"));
            }
        }
    }
    Ok(())
}

#[cfg(target_os = "linux")] // cmark-gfm comes from Debian's packages
#[test]
fn the_checker_rejects_what_the_renderer_would_break() {
    let table = "| a | b |\n|---|---|\n";
    let ok = format!("{table}| x | [view post](<https://x.example/a?b=1&amp;c=(2)\\|3>) |\n");
    check_summary(&ok, &["https://x.example/a?b=1&c=(2)|3".into()]).unwrap();
    let quiet = format!("{table}| @\u{200B}yourbrand | a@\u{200B}b.co `@x` #\u{200B}1 C#9 |\n");
    check_summary(&quiet, &[]).unwrap();
    for (bad, why) in [
        (format!("{table}| x | y | z |\n"), "extra cell"),
        (format!("{table}| www.evil.example | y |\n"), "autolink"),
        (format!("{table}| see https://evil.example | y |\n"), "autolink"),
        (format!("{table}| <img src=x> | y |\n"), "raw HTML"),
        (format!("{table}| x | [view post](https://x.example/a?b=1&quot;) |\n"), "entity in the target"),
        (format!("{table}| [click](https://x.example) | y |\n"), "a link with API text"),
        (format!("{table}| @yourbrand | y |\n"), "a mention"),
        (format!("{table}| x | ping \u{200B}@octocat |\n"), "a mention after a zero-width space"),
        (format!("{table}| (#100) Invalid parameter | y |\n"), "an issue reference"),
        (format!("{table}| x | see !7 |\n"), "a merge request reference"),
        (format!("{table}| x | epic &amp;3 |\n"), "an epic reference"),
        (format!("{table}| x | see GH-12 |\n"), "an issue reference, GitHub's other form"),
    ] {
        assert!(check_summary(&bad, &["https://x.example/a?b=1&quot;".into()]).is_err(), "{why}: {bad}");
    }
}

//! Escaping untrusted text (anything the API sent) for each place it can land: our log
//! lines, workflow-command data and properties, and Markdown table cells and links.
//!
//! Rules come from ci-conventions §3–§4: the runner treats a line whose trimmed start is
//! `::` as a command and `##[` anywhere as a legacy command; `%`, CR and LF are escaped in
//! command data, plus `:` and `,` in properties.

/// Bidirectional-text controls (U+061C, U+200E/F, U+202A–202E, U+2066–2069): invisible,
/// they reorder what a person reads after them (`failed` shown as `deliaf`, a row's words
/// moved), so untrusted text shows each as U+FFFD instead.
fn is_bidi(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// What an untrusted character becomes in one line of text: a space for a control
/// character (but those `keep` names), U+FFFD for a bidi control, else itself.
fn shown(c: char, keep: &[char]) -> char {
    if c.is_control() && !keep.contains(&c) {
        ' '
    } else if is_bidi(c) {
        '\u{FFFD}'
    } else {
        c
    }
}

/// Whether UTF-8 bytes hold a bidi control (`is_bidi`), found by their lead bytes.
fn holds_bidi(b: &[u8]) -> bool {
    memchr::memchr2_iter(0xD8, 0xE2, b).any(|i| match b[i] {
        0xD8 => b.get(i + 1) == Some(&0x9C),
        _ => matches!(
            (b.get(i + 1), b.get(i + 2)),
            (Some(0x80), Some(0x8E | 0x8F | 0xAA..=0xAE)) | (Some(0x81), Some(0xA6..=0xA9))
        ),
    })
}

/// Collapses control characters to spaces, shows bidi controls as U+FFFD, and cuts to
/// `max` characters (with `…`).
pub fn one_line(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max + 4));
    push_one_line(&mut out, s, max);
    out
}

/// `one_line`, appended to `out`.
pub fn push_one_line(out: &mut String, s: &str, max: usize) {
    // Most text is printable ASCII and short enough: nothing to change (bytes are chars).
    if s.len() <= max && !s.bytes().fold(false, |any, b| any | !(0x20..0x7f).contains(&b)) {
        out.push_str(s);
        return;
    }
    for (n, c) in s.chars().enumerate() {
        if n == max {
            out.push('…');
            break;
        }
        out.push(shown(c, &[]));
    }
}

/// Makes text one inert line of our log: every control character (CR and LF included,
/// which the runner splits lines at) becomes a space, so no part of it can start a line of
/// its own; then a leading `::` (after whitespace) gets a `\` in front and every `##[`
/// becomes `##\[`, so the runner's command parser sees no command in it.
pub fn neutralise_line(line: &str) -> String {
    if inert(line) {
        return line.to_owned();
    }
    let flat: String = line.chars().map(|c| shown(c, &['\t'])).collect();
    let mut out = flat.replace("##[", "##\\[");
    let trimmed = out.trim_start();
    if trimmed.starts_with("::") {
        let indent = out.len() - trimmed.len();
        out.insert(indent, '\\');
    }
    out
}

/// Whether `neutralise_line` would leave `line` as it is: no control character but tab
/// (C0, DEL, or C1, which UTF-8 spells `C2 80`–`C2 9F`), no bidi control, no `##[`, no
/// leading `::`. One pass over the bytes, for the common case.
fn inert(line: &str) -> bool {
    let b = line.as_bytes();
    // No early exit: the compiler can check many bytes at a time.
    let c0 = b.iter().fold(false, |any, &c| any | ((c < 0x20 && c != b'\t') || c == 0x7f));
    !c0 && !memchr::memchr_iter(0xC2, b).any(|i| matches!(b.get(i + 1), Some(0x80..=0x9F)))
        && !holds_bidi(b)
        && !memchr::memchr_iter(b'#', b).any(|i| b[i + 1..].starts_with(b"#["))
        && !line.trim_start().starts_with("::")
}

/// Workflow-command data (the message after the second `::`).
pub fn command_data(s: &str) -> String {
    // Other control characters (NUL, ESC…) have no escape; they become spaces.
    let s: String = s.chars().map(|c| shown(c, &['\r', '\n'])).collect();
    s.replace("##[", "##\\[").replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Workflow-command property values (`title=…`).
pub fn command_property(s: &str) -> String {
    command_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The entity for a character that is markup in HTML and XML.
fn markup_entity(c: char) -> Option<&'static str> {
    Some(match c {
        '&' => "&amp;",
        '<' => "&lt;",
        '>' => "&gt;",
        '"' => "&quot;",
        '\'' => "&apos;",
        _ => return None,
    })
}

/// Text for XML content and attribute values; characters XML 1.0 forbids become U+FFFD.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        xml_push(&mut out, c);
    }
    out
}

/// Appends one character escaped for XML.
pub fn xml_push(out: &mut String, c: char) {
    if let Some(e) = markup_entity(c) {
        out.push_str(e);
        return;
    }
    match c {
        '\t' => out.push_str("&#9;"),
        '\n' => out.push_str("&#10;"),
        '\r' => out.push_str("&#13;"),
        c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
        c => out.push(c),
    }
}

/// U+200B ZERO WIDTH SPACE: invisible, and it breaks the autolink patterns GitHub's
/// renderer looks for in plain text (`www.`, `scheme://`, `mailto:`, `user@host`), and
/// after `@` the mentions of GitHub and GitLab (which need a letter or digit right after
/// the `@`: a summary posted as a comment must not notify whoever owns `@yourbrand`), and
/// after `#`, `!` or `&` (and `GH-`) before a digit the references to issues, merge requests
/// and epics (`(#100) Invalid parameter`, a caption's `fixes #42`: posted as a comment, each
/// would link to that issue and leave a "mentioned in" note on it).
const BREAK: char = '\u{200B}';

/// Text for a Markdown table cell: HTML-escaped, pipes and backticks neutralised, links and
/// images impossible (autolinks included: a zero-width space goes after `www`, after the
/// `:` of `scheme:` and after `@`), no mention or reference (`BREAK`), newlines as `<br>`.
pub fn md_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    push_md_cell(&mut out, s);
    out
}

/// `md_cell`, appended to `out`.
pub fn push_md_cell(out: &mut String, s: &str) {
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let rest = &s[i + c.len_utf8()..];
        if c == '@' {
            out.push('@');
            out.push(BREAK);
            continue;
        }
        let gh = c == '-' && s[..i].len() >= 2 && s.as_bytes()[i - 2..i].eq_ignore_ascii_case(b"gh");
        if (gh || matches!(c, '#' | '!' | '&')) && rest.starts_with(|d: char| d.is_ascii_digit()) {
            match markup_entity(c) {
                Some(e) => out.push_str(e),
                None => out.push(c),
            }
            out.push(BREAK);
            continue;
        }
        if c == ':' && (rest.starts_with("//") || rest.starts_with("\\") || mail_scheme(&s[..i])) {
            out.push(':');
            out.push(BREAK);
            continue;
        }
        if matches!(c, 'w' | 'W') && rest.len() >= 3 && rest.as_bytes()[..3].eq_ignore_ascii_case(b"ww.") {
            // `www.` → `w` `w` `w` BREAK `.`: handled by emitting the three w's here.
            out.push(c);
            out.push_str(&rest[..2]);
            out.push(BREAK);
            chars.next();
            chars.next();
            continue;
        }
        if let Some(e) = markup_entity(c) {
            out.push_str(e);
            continue;
        }
        match c {
            '|' => out.push_str("&#124;"),
            '`' => out.push_str("&#96;"),
            '[' => out.push_str("&#91;"),
            ']' => out.push_str("&#93;"),
            '\\' => out.push_str("&#92;"),
            '*' => out.push_str("&#42;"),
            '_' => out.push_str("&#95;"),
            '~' => out.push_str("&#126;"),
            '\n' => out.push_str("<br>"),
            c => out.push(shown(c, &[])),
        }
    }
}

/// Whether `before` ends with a scheme GitHub's renderer autolinks without `//`.
fn mail_scheme(before: &str) -> bool {
    let b = before.as_bytes();
    ["mailto", "xmpp"]
        .iter()
        .any(|m| b.len() >= m.len() && b[b.len() - m.len()..].eq_ignore_ascii_case(m.as_bytes()))
}

/// Links are made only from URLs up to this long.
pub const MAX_LINK_URL: usize = 2048;

/// A published URL fit to be a link: `https://` with a host, at most `MAX_LINK_URL` bytes,
/// no whitespace or control characters. Anything else is shown as text, never linked.
pub fn link_url(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let ok = scheme.eq_ignore_ascii_case("https")
        && !rest.is_empty()
        && !rest.starts_with('/')
        && url.len() <= MAX_LINK_URL
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then_some(url)
}

/// A link destination for `[text](…)` in a table cell whose target, once the renderer has
/// split the row (`\|` is a pipe inside a cell) and decoded entities and backslash escapes,
/// is exactly `url`: the `<…>` form, with `&`, `\`, `<`, `>` and `|` escaped. `None` unless
/// `link_url` accepts the URL.
pub fn md_url(url: &str) -> Option<String> {
    let url = link_url(url)?;
    let mut out = String::with_capacity(url.len() + 8);
    out.push('<');
    for c in url.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '\\' | '<' | '>' | '|' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push('>');
    Some(out)
}

#[cfg(test)]
mod tests;

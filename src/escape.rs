//! Escaping untrusted text (anything the API sent) for each place it can land: our log
//! lines, workflow-command data and properties, and Markdown table cells and links.
//!
//! Rules come from ci-conventions §3–§4: the runner treats a line whose trimmed start is
//! `::` as a command and `##[` anywhere as a legacy command; `%`, CR and LF are escaped in
//! command data, plus `:` and `,` in properties.

/// Collapses control characters to spaces and cuts to `max` characters (with `…`).
pub fn one_line(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max + 4));
    for (n, c) in s.chars().enumerate() {
        if n == max {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

/// Makes one line of our log inert for the runner's command parser: a leading `::`
/// (after whitespace) gets a `\` in front and every `##[` becomes `##\[`.
pub fn neutralise_line(line: &str) -> String {
    let mut out = line.replace("##[", "##\\[");
    let trimmed = out.trim_start();
    if trimmed.starts_with("::") {
        let indent = out.len() - trimmed.len();
        out.insert(indent, '\\');
    }
    out
}

/// Workflow-command data (the message after the second `::`).
pub fn command_data(s: &str) -> String {
    // Other control characters (NUL, ESC…) have no escape; they become spaces.
    let s: String =
        s.chars().map(|c| if c.is_control() && c != '\r' && c != '\n' { ' ' } else { c }).collect();
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
        if let Some(e) = markup_entity(c) {
            out.push_str(e);
            continue;
        }
        match c {
            '\t' | '\n' | '\r' => out.push_str(&format!("&#{};", u32::from(c))),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Text for a Markdown table cell: HTML-escaped, pipes and backticks neutralised, links
/// and images impossible, newlines as `<br>`.
pub fn md_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
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
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A URL safe to put inside `[text](…)`, or `None` unless it is `http`/`https`.
pub fn md_url(url: &str) -> Option<String> {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://")?;
    if !(scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http")) || rest.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(url.len() + 8);
    for b in url.bytes() {
        let safe = b.is_ascii_alphanumeric() || b"-._~:/?#@!$&'*+,;=%".contains(&b);
        if safe {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lines_cannot_become_commands() {
        assert_eq!(neutralise_line("::error::pwned"), "\\::error::pwned");
        assert_eq!(neutralise_line("   ::warning::x"), "   \\::warning::x");
        assert_eq!(neutralise_line("ok ##[error]x"), "ok ##\\[error]x");
        assert_eq!(neutralise_line("a :: b"), "a :: b");
    }

    #[test]
    fn command_escaping() {
        assert_eq!(command_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(command_data("%0A"), "%250A");
        assert_eq!(command_property("a:b,c"), "a%3Ab%2Cc");
    }

    #[test]
    fn markdown_cells() {
        assert_eq!(
            md_cell("a|b<script>`x`&[l](u)\nz"),
            "a&#124;b&lt;script&gt;&#96;x&#96;&amp;&#91;l&#93;(u)<br>z"
        );
    }

    #[test]
    fn markdown_urls() {
        assert_eq!(md_url("https://x.com/p/1?a=b#c").as_deref(), Some("https://x.com/p/1?a=b#c"));
        assert_eq!(md_url("https://x.com/a b)c").as_deref(), Some("https://x.com/a%20b%29c"));
        assert_eq!(md_url("javascript:alert(1)"), None);
        assert_eq!(md_url("ftp://x"), None);
        assert_eq!(md_url("https://"), None);
    }

    /// Undoes `command_data` the way the runner does (`%25` last).
    fn runner_unescape(s: &str) -> String {
        s.replace("%0D", "\r")
            .replace("%0A", "\n")
            .replace("%3A", ":")
            .replace("%2C", ",")
            .replace("%25", "%")
    }

    proptest! {
        #[test]
        fn command_data_round_trips_and_stays_on_one_line(s in "\\PC*|[%\r\n:,#\\[]{0,20}") {
            let e = command_property(&s);
            prop_assert!(!e.contains('\n') && !e.contains('\r') && !e.contains(',') && !e.contains(':'));
            prop_assert_eq!(runner_unescape(&e), s.replace("##[", "##\\["));
        }

        #[test]
        fn neutralised_lines_are_inert(s in "[ \t:#\\[a-z]{0,12}") {
            let l = neutralise_line(&s);
            prop_assert!(!l.trim_start().starts_with("::"));
            prop_assert!(!l.contains("##["));
        }

        #[test]
        fn cells_never_break_a_table(s in "\\PC*|[|<>`\n\\[\\]&]{0,20}") {
            let c = md_cell(&s).replace("<br>", "");
            prop_assert!(!c.contains('|') && !c.contains('\n') && !c.contains('<'));
            prop_assert!(!c.contains('`') && !c.contains('['));
        }
    }
}

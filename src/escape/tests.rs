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
fn bidi_controls_are_shown_not_obeyed() {
    let evil = "Brand\u{202E}deliaf\u{2066}x\u{200F}";
    let seen = "Brand\u{FFFD}deliaf\u{FFFD}x\u{FFFD}";
    assert_eq!(neutralise_line(evil), seen);
    assert_eq!(one_line(evil, 80), seen);
    assert_eq!(command_data(evil), seen);
    assert_eq!(md_cell(evil), seen);
    // Look-alike neighbours (U+2028, U+202F, U+2070, an em dash) are not bidi controls.
    assert!(!holds_bidi("\u{2028}\u{202F}\u{2070}\u{2014}\u{0600}".as_bytes()));
    assert!(holds_bidi("\u{061C}".as_bytes()) && holds_bidi("\u{2069}".as_bytes()));
}

/// `one_line` and `neutralise_line` as first written (every character visited): the
/// fast paths must give the same text.
fn one_line_ref(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n == max {
            out.push('…');
            break;
        }
        out.push(if c.is_control() {
            ' '
        } else if is_bidi(c) {
            '\u{FFFD}'
        } else {
            c
        });
    }
    out
}

fn neutralise_ref(line: &str) -> String {
    let flat: String = line
        .chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                ' '
            } else if is_bidi(c) {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect();
    let mut out = flat.replace("##[", "##\\[");
    let trimmed = out.trim_start();
    if trimmed.starts_with("::") {
        let indent = out.len() - trimmed.len();
        out.insert(indent, '\\');
    }
    out
}

proptest! {
    #[test]
    fn fast_paths_change_nothing(
        s in "([a-z :#\\[\t·✓]|\u{85}|\u{9f}|\u{a0}|\u{7f}|\u{1}|\n|::|##\\[|\u{202e}|\u{2066}|\u{2069}|\u{200f}|\u{61c}|\u{2028}|\u{2014}|\u{2070}|\u{202f}){0,12}",
        max in 0usize..16,
    ) {
        prop_assert_eq!(one_line(&s, max), one_line_ref(&s, max));
        prop_assert_eq!(neutralise_line(&s), neutralise_ref(&s));
    }
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
    assert_eq!(md_url("https://x.com/p/1?a=b#c").as_deref(), Some("<https://x.com/p/1?a=b#c>"));
    assert_eq!(md_url("https://x.com/a)c&quot;\\<").as_deref(), Some("<https://x.com/a)c&amp;quot;\\\\\\<>"));
    for bad in
        ["javascript:alert(1)", "ftp://x", "https://", "http://x.com", "https:///x", "https://x.com/a b"]
    {
        assert_eq!(md_url(bad), None, "{bad}");
    }
    assert_eq!(md_url(&format!("https://x.com/{}", "a".repeat(MAX_LINK_URL))), None);
}

#[test]
fn autolink_triggers_are_broken() {
    let c = md_cell("see www.evil.example/x and https://evil.example and a@b.co and mailto:x");
    assert_eq!(
        c,
        "see www\u{200B}.evil.example/x and https:\u{200B}//evil.example and a@\u{200B}b.co and mailto:\u{200B}x"
    );
    assert_eq!(md_cell("WWW.X.Y"), "WWW\u{200B}.X.Y");
    assert_eq!(md_cell("14:30 ww w"), "14:30 ww w");
}

/// Issue, merge request and epic references (`#1`, `!2`, `&3`) are broken; a `#` before
/// anything but a digit is left as it is.
#[test]
fn references_are_broken() {
    assert_eq!(
        md_cell("(#100) fixes #42, !7 and &3"),
        "(#\u{200B}100) fixes #\u{200B}42, !\u{200B}7 and &amp;\u{200B}3"
    );
    assert_eq!(md_cell("#launch ! & #"), "#launch ! &amp; #");
    assert_eq!(md_cell("see GH-12, gh-3"), "see GH-\u{200B}12, gh-\u{200B}3");
    assert_eq!(md_cell("high-5 é-1"), "high-\u{200B}5 é-1", "`gh-` anywhere: a break too many is unseen");
}

#[test]
fn log_lines_are_one_inert_line() {
    assert_eq!(
        neutralise_line("a\n::set-output name=x::y\r::error::z"),
        "a ::set-output name=x::y ::error::z"
    );
    assert_eq!(neutralise_line("\n::error::x"), " \\::error::x", "a line that would have started with ::");
}

/// Undoes `command_data` the way the runner does (`%25` last).
fn runner_unescape(s: &str) -> String {
    s.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")
}

proptest! {
    #[test]
    fn command_data_round_trips_and_stays_on_one_line(s in "\\PC*|[%\r\n:,#\\[]{0,20}") {
        let e = command_property(&s);
        prop_assert!(!e.contains('\n') && !e.contains('\r') && !e.contains(',') && !e.contains(':'));
        prop_assert_eq!(runner_unescape(&e), s.replace("##[", "##\\["));
    }

    #[test]
    fn neutralised_lines_are_inert(s in "[ \t\r\n\u{85}:#\\[a-z]{0,16}") {
        let l = neutralise_line(&s);
        let breaks = ['\r', '\n', '\u{85}'];
        prop_assert!(!l.contains(breaks));
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

//! Fitting text to a terminal's width: the columns a string takes (wide East Asian
//! characters and emoji take two, combining marks none), shortening with an ellipsis, and
//! wrapping between words, never inside one (a word wider than the line is shortened).

/// Columns one character takes on a terminal.
pub fn char_width(c: char) -> usize {
    let u = u32::from(c);
    match u {
        0x200B..=0x200F | 0x0300..=0x036F | 0xFE00..=0xFE0F | 0x20E3 => 0,
        0x1100..=0x115F
        | 0x2E80..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x1F300..=0x1FAFF
        | 0x20000..=0x3FFFD => 2,
        _ => 1,
    }
}

/// Columns a string takes.
pub fn width(s: &str) -> usize {
    // Most cells are ASCII (names, statuses, URLs): a byte is a column, and checking that
    // reads a word at a time, where the general case decodes and ranges every character.
    if s.is_ascii() { s.len() } else { s.chars().map(char_width).sum() }
}

/// `s` in at most `max` columns: as it is, or cut with `…`.
pub fn shorten(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = char_width(c);
        if used + w + 1 > max {
            break;
        }
        out.push(c);
        used += w;
    }
    if max > 0 {
        out.push('…');
    }
    out
}

/// `s` padded with spaces to `cols` columns.
pub fn pad(s: &str, cols: usize) -> String {
    let mut out = String::with_capacity(s.len() + cols);
    push_pad(&mut out, s, cols);
    out
}

/// `pad`, appended to `out`.
pub fn push_pad(out: &mut String, s: &str, cols: usize) {
    out.push_str(s);
    out.extend(std::iter::repeat_n(' ', cols.saturating_sub(width(s))));
}

/// `text` as lines of at most `max` columns, the first starting with `first`, the rest with
/// `rest`; broken between words only (a word too wide for a line is shortened with `…`).
pub fn wrap(text: &str, max: usize, first: &str, rest: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_owned();
    let mut empty = true;
    for word in text.split_whitespace() {
        let indent = if lines.is_empty() { first } else { rest };
        let room = max.saturating_sub(width(indent)).max(1);
        let word = shorten(word, room);
        if !empty && width(&line) + 1 + width(&word) > max {
            lines.push(std::mem::replace(&mut line, rest.to_owned()));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(&word);
        empty = false;
    }
    if !empty || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths() {
        assert_eq!(width("abc"), 3);
        assert_eq!(width("日本"), 4);
        assert_eq!(width("✓ ok"), 4);
        assert_eq!(width("a\u{200B}b"), 2);
        assert_eq!(width("🚀"), 2);
    }

    #[test]
    fn shortening_and_wrapping_never_break_a_word_across_lines() {
        assert_eq!(shorten("Your Brand Inc.", 8), "Your Br…");
        assert_eq!(shorten("short", 8), "short");
        let lines = wrap("Token expired. Please reconnect your LinkedIn account.", 20, "  ", "    ");
        assert_eq!(lines, ["  Token expired.", "    Please reconnect", "    your LinkedIn", "    account."]);
        for l in &lines {
            assert!(width(l) <= 20);
        }
        let lines = wrap("https://example.com/a/very/long/path/that/cannot/fit", 20, "", "");
        assert_eq!(lines, ["https://example.com…"]);
    }
}

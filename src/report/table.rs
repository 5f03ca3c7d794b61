//! The final table printed at the end of a wait: the verdict, then a line per destination,
//! failed first, at most `TABLE_LINES` of them with a count of the rest. In a log each
//! destination is one line (easy to grep); on a terminal of a known width each line fits
//! it: names are shortened with `…`, and the detail (link, or error and what to do) goes on
//! the lines below, wrapped between words.

use std::fmt::Write as _;

use super::fit::{pad, push_pad, shorten, width, wrap};
use super::text::plural;
use super::{Report, human_duration};
use crate::escape::one_line;
use crate::model::{Destination, State};
use crate::outcome::Status;

/// Destination lines in the final table at most (post headings included); the rest are
/// counted, so a log stays readable at any scale.
pub const TABLE_LINES: usize = 50;

/// Failed first, then pending, then published.
fn rank(s: State) -> u8 {
    match s {
        State::Failed => 0,
        State::Pending => 1,
        State::Published => 2,
    }
}

/// One destination: mark, platform, account, status, and the detail after them.
struct Row {
    mark: &'static str,
    platform: String,
    account: String,
    status: String,
    detail: String,
}

fn row(d: &Destination) -> Row {
    let (mark, mut status, detail) = match d.status {
        State::Published => {
            ("✓", "published".to_owned(), one_line(d.url.as_deref().unwrap_or_default(), 300))
        }
        State::Failed => {
            let class = d.failure_class();
            let why = d.error.as_deref().or(d.note.as_deref()).unwrap_or("no error text");
            ("✗", format!("failed/{}", class.as_str()), one_line(&format!("{why} → {}", class.advice()), 300))
        }
        State::Pending => (
            "…",
            format!("pending/{}", one_line(&d.raw_status, 30)),
            one_line(d.note.as_deref().unwrap_or_default(), 300),
        ),
    };
    if d.retries > 0 {
        let _ = write!(status, " (re-queued {}×)", d.retries);
    }
    Row {
        mark,
        platform: one_line(&d.platform, 20),
        account: one_line(&d.label_account(), 40),
        status,
        detail,
    }
}

/// Aligned lines for a set of destinations, failed first, indented by `indent`, while
/// `left` lasts; returns how many were shown.
fn rows(
    dests: &[Destination],
    indent: &str,
    cols: Option<usize>,
    lines: &mut Vec<String>,
    left: &mut usize,
) -> usize {
    let mut sorted = super::by_rank(dests.iter(), |d| rank(d.status));
    sorted.truncate(*left);
    *left -= sorted.len();
    let rows: Vec<Row> = sorted.iter().map(|d| row(d)).collect();
    let mut w1 = rows.iter().map(|r| width(&r.platform)).max().unwrap_or(0);
    let mut w2 = rows.iter().map(|r| width(&r.account)).max().unwrap_or(0);
    let Some(cols) = cols else {
        for r in rows {
            // `{indent}{mark} {platform}  {account}  {status} {detail}`, padded, trimmed.
            let mut line =
                String::with_capacity(indent.len() + w1 + w2 + r.status.len() + r.detail.len() + 16);
            line.push_str(indent);
            line.push_str(r.mark);
            line.push(' ');
            push_pad(&mut line, &r.platform, w1);
            line.push_str("  ");
            push_pad(&mut line, &r.account, w2);
            line.push_str("  ");
            line.push_str(&r.status);
            line.push(' ');
            line.push_str(&r.detail);
            line.truncate(line.trim_end().len());
            lines.push(line);
        }
        return sorted.len();
    };
    // Fit the names: shorten the account first, then the platform, never below 6 columns.
    let w3 = rows.iter().map(|r| width(&r.status)).max().unwrap_or(0);
    let fixed = width(indent) + 2 + 2 + 2;
    while fixed + w1 + w2 + w3 > cols && (w2 > 6 || w1 > 6) {
        if w2 >= w1 && w2 > 6 { w2 -= 1 } else { w1 -= 1 }
    }
    let status_room = cols.saturating_sub(fixed + w1 + w2).max(1);
    let detail_indent = format!("{indent}    ");
    for r in rows {
        let (p, a) = (shorten(&r.platform, w1), shorten(&r.account, w2));
        let line = format!(
            "{indent}{} {}  {}  {}",
            r.mark,
            pad(&p, w1),
            pad(&a, w2),
            shorten(&r.status, status_room)
        );
        lines.push(line.trim_end().to_owned());
        if !r.detail.is_empty() {
            lines.extend(wrap(&r.detail, cols, &detail_indent, &detail_indent));
        }
    }
    sorted.len()
}

/// Posts that need attention first.
fn post_rank(s: Status) -> u8 {
    match s {
        Status::Error | Status::Failed => 0,
        Status::Published | Status::Scheduled => 2,
        _ => 1,
    }
}

/// The final report as aligned lines, fitted to `cols` columns when known.
pub fn table(r: &Report, cols: Option<usize>) -> Vec<String> {
    let text = |t: &str, first: &str, rest: &str, lines: &mut Vec<String>| match cols {
        Some(c) => lines.extend(wrap(t, c, first, rest)),
        None => lines.push(format!("{first}{t}")),
    };
    let what = match r.posts.as_slice() {
        [] => "no post".to_owned(),
        [one] => format!("post {}", one_line(&one.post_id, 80)),
        posts => plural(posts.len(), "post"),
    };
    let mut lines = Vec::new();
    let headline = format!(
        "posteverywhere-wait: {} — {} ({what}, {}, {}, exit code {})",
        r.status.as_str(),
        r.tally,
        human_duration(r.elapsed),
        plural(r.requests as usize, "request"),
        r.exit_code
    );
    text(&headline, "", "  ", &mut lines);
    if let Some(m) = &r.message {
        text(&one_line(m, 500), "  ", "  ", &mut lines);
    }
    let mut left = TABLE_LINES;
    let mut shown = 0;
    let mut posts_shown = 0;
    if let [one] = r.posts.as_slice() {
        shown = rows(&one.destinations, "  ", cols, &mut lines, &mut left);
        posts_shown = 1;
    } else {
        let posts = super::by_rank(r.posts.iter(), |p| post_rank(p.status));
        for p in posts {
            if left == 0 {
                break;
            }
            left -= 1;
            posts_shown += 1;
            let mut head = format!("post {}: {} — {}", one_line(&p.post_id, 80), p.status.as_str(), p.tally);
            if let Some(m) = p.message.as_deref().or(p.scheduled_for.as_deref()) {
                head.push_str(&format!(" ({})", one_line(m, 200)));
            }
            text(&head, "  ", "    ", &mut lines);
            shown += rows(&p.destinations, "    ", cols, &mut lines, &mut left);
        }
    }
    let total = r.tally.total;
    if shown < total || posts_shown < r.posts.len() {
        let posts =
            if r.posts.len() > 1 { format!(" in {}", plural(r.posts.len(), "post")) } else { String::new() };
        let note = format!(
            "…{} of {}{posts} not shown here; the results file and the job summary have them",
            total - shown,
            plural(total, "destination")
        );
        text(&note, "  ", "  ", &mut lines);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{dest, report};

    #[test]
    fn final_table_is_aligned() {
        let r = report(
            Status::Partial,
            vec![dest("instagram", "@mybrand", State::Published), dest("x", "B", State::Failed)],
        );
        let t = table(&r, None);
        assert_eq!(
            t[0],
            "posteverywhere-wait: partial — 1/2 published, 1 failed, 0 pending (post post_1, 12s, 4 requests, exit code 0)"
        );
        assert!(t[1].starts_with(
            "  ✗ x          B         failed/reconnect Token expired. Please reconnect. → reconnect"
        ));
        assert_eq!(t[2], "  ✓ instagram  @mybrand  published https://instagram.example/p/1");
    }

    #[test]
    fn the_log_stays_readable_at_scale() {
        let mut dests = vec![dest("x", "@a", State::Published); 3000];
        dests.push(dest("li", "B", State::Failed));
        let t = table(&report(Status::Partial, dests), None);
        assert_eq!(t.len(), 1 + TABLE_LINES + 1);
        assert!(t[1].contains("✗ li"), "failed first: {}", t[1]);
        assert_eq!(
            t.last().unwrap(),
            "  …2951 of 3001 destinations not shown here; the results file and the job summary have them"
        );
    }

    #[test]
    fn a_terminal_table_fits_its_width_and_keeps_words_whole() {
        let mut f = dest("linkedin", "Your Brand Incorporated International", State::Failed);
        f.error = Some("Token expired. Please reconnect your LinkedIn account.".into());
        let r = report(Status::Partial, vec![dest("instagram", "@yourbrand", State::Published), f]);
        let words: Vec<String> = table(&r, None).join(" ").split_whitespace().map(str::to_owned).collect();
        for cols in [40, 50, 80, 120] {
            let t = table(&r, Some(cols));
            for line in &t {
                assert!(width(line) <= cols, "{cols}: {line:?}");
                for w in line.split_whitespace() {
                    let whole = words.iter().any(|x| x == w) || w.ends_with('…');
                    assert!(whole, "{cols}: {w:?} is a broken word in {line:?}");
                }
            }
            assert!(t.iter().any(|l| l.contains("reconnect")), "{t:?}");
        }
    }
}

//! Plain-text rendering for logs and terminals: the progress line printed when a poll
//! changed something, and the final table. Lines may hold API text; the printer in `ci`
//! neutralises workflow-command syntax before anything reaches stdout.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use super::{Report, human_duration};
use crate::escape::one_line;
use crate::model::{Destination, State, Tally};

fn counts(t: Tally) -> String {
    format!("{}/{} published, {} failed, {} pending", t.published, t.total, t.failed, t.pending)
}

/// The progress line for a poll, or `None` when nothing changed since `before`.
pub fn progress(
    elapsed: Duration,
    post: Option<&str>,
    before: Option<&[Destination]>,
    now: &[Destination],
) -> Option<String> {
    let old: HashMap<String, &Destination> =
        before.unwrap_or_default().iter().map(|d| (d.key(), d)).collect();
    let mut changes = Vec::new();
    for d in now {
        match old.get(&d.key()) {
            Some(o) if o.raw_status == d.raw_status && o.status == d.status => {}
            Some(o) => changes.push(format!(
                "{}: {} → {}{}",
                one_line(&d.label(), 60),
                one_line(&o.raw_status, 20),
                one_line(&d.raw_status, 20),
                detail(d)
            )),
            None => changes.push(format!(
                "{}: {}{}",
                one_line(&d.label(), 60),
                one_line(&d.raw_status, 20),
                detail(d)
            )),
        }
    }
    if changes.is_empty() && (before.is_some() || !now.is_empty()) {
        return None;
    }
    let shown = changes.len().min(6);
    let post = post.map(|p| format!("post {}: ", one_line(p, 60))).unwrap_or_default();
    let mut line = format!("[{:>6}] {post}{}", human_duration(elapsed), counts(Tally::of(now)));
    if now.is_empty() {
        line.push_str(" (no destinations listed yet)");
    } else {
        let _ = write!(line, " · {}", changes[..shown].join("; "));
        if changes.len() > shown {
            let _ = write!(line, "; +{} more", changes.len() - shown);
        }
    }
    Some(line)
}

fn detail(d: &Destination) -> String {
    match d.status {
        State::Published => d.url.as_deref().map(|u| format!(" {}", one_line(u, 200))).unwrap_or_default(),
        State::Failed => d.error.as_deref().map(|e| format!(" ({})", one_line(e, 120))).unwrap_or_default(),
        State::Pending => d
            .next_retry_at
            .as_deref()
            .map(|t| format!(" (platform retry at {})", one_line(t, 40)))
            .unwrap_or_default(),
    }
}

/// Aligned lines for a set of destinations, indented by `indent`.
fn rows(dests: &[Destination], indent: &str, lines: &mut Vec<String>) {
    let rows: Vec<[String; 4]> = dests
        .iter()
        .map(|d| {
            let (mark, status, tail) = match d.status {
                State::Published => ("✓", "published".to_owned(), d.url.clone().unwrap_or_default()),
                State::Failed => {
                    let class = d.failure_class();
                    let why = d.error.as_deref().or(d.note.as_deref()).unwrap_or("no error text");
                    ("✗", format!("failed/{}", class.as_str()), format!("{why} → {}", class.advice()))
                }
                State::Pending => ("…", format!("pending/{}", d.raw_status), String::new()),
            };
            let retried = if d.retries > 0 { format!(" (re-queued {}×)", d.retries) } else { String::new() };
            [
                mark.to_owned(),
                one_line(&d.platform, 20),
                one_line(&d.label_account(), 40),
                format!("{}{retried} {}", one_line(&status, 40), one_line(&tail, 300)),
            ]
        })
        .collect();
    let w1 = rows.iter().map(|r| r[1].chars().count()).max().unwrap_or(0);
    let w2 = rows.iter().map(|r| r[2].chars().count()).max().unwrap_or(0);
    for [mark, platform, account, rest] in rows {
        lines.push(format!("{indent}{mark} {platform:<w1$}  {account:<w2$}  {}", rest.trim_end()));
    }
}

/// The final report as aligned plain-text lines.
pub fn table(r: &Report) -> Vec<String> {
    let what = match r.posts.as_slice() {
        [one] => format!("post {}", one_line(&one.post_id, 80)),
        posts => format!("{} posts", posts.len()),
    };
    let mut lines = vec![format!(
        "posteverywhere-wait: {} — {} ({what}, {}, {} request(s), exit code {})",
        r.status.as_str(),
        counts(r.tally),
        human_duration(r.elapsed),
        r.requests,
        r.exit_code
    )];
    if let Some(m) = &r.message {
        lines.push(format!("  {}", one_line(m, 500)));
    }
    if let [one] = r.posts.as_slice() {
        rows(&one.destinations, "  ", &mut lines);
        return lines;
    }
    for p in &r.posts {
        let mut head =
            format!("  post {}: {} — {}", one_line(&p.post_id, 80), p.status.as_str(), counts(p.tally));
        if let Some(m) = p.message.as_deref().or(p.scheduled_for.as_deref()) {
            head.push_str(&format!(" ({})", one_line(m, 200)));
        }
        lines.push(head);
        rows(&p.destinations, "    ", &mut lines);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use crate::report::fixtures::{dest, report};

    #[test]
    fn progress_only_on_change() {
        let a = vec![dest("x", "@a", State::Pending)];
        let line = progress(Duration::from_millis(1500), None, None, &a).unwrap();
        assert_eq!(line, "[  1.5s] 0/1 published, 0 failed, 1 pending · x @a: pending");
        assert_eq!(progress(Duration::from_secs(3), None, Some(&a), &a), None);
        let b = vec![dest("x", "@a", State::Published)];
        let line = progress(Duration::from_secs(4), Some("p9"), Some(&a), &b).unwrap();
        assert_eq!(
            line,
            "[  4.0s] post p9: 1/1 published, 0 failed, 0 pending · x @a: pending → published https://x.example/p/1"
        );
        let empty: Vec<Destination> = Vec::new();
        assert!(
            progress(Duration::ZERO, None, None, &empty).unwrap().ends_with("(no destinations listed yet)")
        );
        assert_eq!(progress(Duration::ZERO, None, Some(&empty), &empty), None);
    }

    #[test]
    fn final_table_is_aligned() {
        let r = report(
            Status::Partial,
            vec![dest("instagram", "@mybrand", State::Published), dest("x", "B", State::Failed)],
        );
        let t = table(&r);
        assert_eq!(
            t[0],
            "posteverywhere-wait: partial — 1/2 published, 1 failed, 0 pending (post post_1, 12s, 4 request(s), exit code 0)"
        );
        assert_eq!(t[1], "  ✓ instagram  @mybrand  published https://instagram.example/p/1");
        assert!(t[2].starts_with(
            "  ✗ x          B         failed/reconnect Token expired. Please reconnect. → reconnect"
        ));
    }
}

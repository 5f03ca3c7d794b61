//! The job summary: GitHub-flavoured Markdown a person can scan. Untrusted text is escaped
//! for table cells, links are only made for http(s) URLs, and the whole summary stays
//! under the runner's 1 MiB cap, with a note when rows had to be left out.

use std::fmt::Write as _;

use super::{Report, human_duration};
use crate::escape::{md_cell, md_url, one_line};
use crate::failure::FailureClass;
use crate::model::{Destination, State};
use crate::outcome::Status;

/// Stay well under the runner's 1 MiB step-summary limit.
pub const MAX_SUMMARY_BYTES: usize = 900 * 1024;

fn headline(r: &Report) -> String {
    let t = r.tally;
    let posts = if r.posts.len() > 1 { format!(" across {} posts", r.posts.len()) } else { String::new() };
    match r.status {
        Status::Published => {
            format!("✅ PostEverywhere: published to {} of {} destinations{posts}", t.published, t.total)
        }
        Status::Partial => format!(
            "⚠️ PostEverywhere: {} of {} destinations published, {} failed{posts}",
            t.published, t.total, t.failed
        ),
        Status::Failed => format!("❌ PostEverywhere: all {} destinations failed{posts}", t.total),
        Status::Timeout if t.total == 0 => {
            format!(
                "⏱️ PostEverywhere: timed out after {} with no destinations listed",
                human_duration(r.timeout)
            )
        }
        Status::Timeout => format!(
            "⏱️ PostEverywhere: timed out after {} with {} of {} destinations pending{posts}",
            human_duration(r.timeout),
            t.pending,
            t.total
        ),
        Status::Error => "🛑 PostEverywhere: the wait stopped on an error".to_owned(),
        Status::Cancelled => format!("⏹️ PostEverywhere: cancelled after {}", human_duration(r.elapsed)),
        Status::Scheduled => {
            match (r.posts.len(), r.posts.first().and_then(|p| p.scheduled_for.as_deref())) {
                (1, Some(at)) => {
                    format!(
                        "🗓️ PostEverywhere: scheduled for {}, after the deadline; not waited for",
                        md_cell(at)
                    )
                }
                _ => "🗓️ PostEverywhere: scheduled after the deadline; not waited for".to_owned(),
            }
        }
    }
}

fn symbol(s: State) -> &'static str {
    match s {
        State::Published => "✅",
        State::Failed => "❌",
        State::Pending => "⏳",
    }
}

fn status_symbol(s: Status) -> &'static str {
    match s {
        Status::Published => "✅",
        Status::Partial => "⚠️",
        Status::Failed | Status::Error => "❌",
        Status::Timeout => "⏱️",
        Status::Cancelled => "⏹️",
        Status::Scheduled => "🗓️",
    }
}

fn row(d: &Destination, retries: bool) -> String {
    let status = match d.status {
        State::Failed => format!("failed ({})", d.failure_class().as_str()),
        State::Pending if d.next_retry_at.is_some() => {
            format!("pending: platform retry at {}", md_cell(d.next_retry_at.as_deref().unwrap_or("")))
        }
        State::Pending => format!("pending ({})", md_cell(&one_line(&d.raw_status, 40))),
        State::Published => "published".to_owned(),
    };
    let link = d.url.as_deref().and_then(md_url).map(|u| format!("[view post]({u})")).unwrap_or_default();
    let mut error = d.error.clone().unwrap_or_default();
    if let Some(n) = &d.note {
        error = if error.is_empty() { n.clone() } else { format!("{error} · {n}") };
    }
    let retried = if retries { format!(" {} |", d.retries) } else { String::new() };
    format!(
        "| {} | {} | {} | {} | {} | {} |{retried} {} |\n",
        symbol(d.status),
        md_cell(&one_line(&d.platform, 40)),
        md_cell(&one_line(&d.label_account(), 80)),
        status,
        link,
        d.attempts.map(|a| a.to_string()).unwrap_or_default(),
        md_cell(&one_line(&error, 300)),
    )
}

fn next_steps(r: &Report) -> Vec<String> {
    // One step per kind of failure, naming up to ten destinations each.
    let mut groups: Vec<(FailureClass, Vec<String>)> = Vec::new();
    for d in r.destinations().filter(|d| d.status == State::Failed) {
        let class = d.failure_class();
        let label = format!("**{}**", md_cell(&one_line(&d.label(), 120)));
        match groups.iter_mut().find(|(c, _)| *c == class) {
            Some((_, labels)) => labels.push(label),
            None => groups.push((class, vec![label])),
        }
    }
    let mut steps: Vec<String> = groups
        .into_iter()
        .map(|(class, labels)| {
            let more = labels.len().saturating_sub(10);
            let mut who = labels.into_iter().take(10).collect::<Vec<_>>().join(", ");
            if more > 0 {
                who.push_str(&format!(" and {more} more"));
            }
            format!("{who}: {}.", class.advice())
        })
        .collect();
    match r.status {
        Status::Timeout if r.tally.total == 0 => steps.push(
            "The API listed no destinations: check that post-id is the id the create call returned, \
             and look at the post in PostEverywhere."
                .to_owned(),
        ),
        Status::Timeout => steps.push(format!(
            "{} destination(s) were still pending after {}: raise `timeout`, or check the post in PostEverywhere \
             (video on Instagram and TikTok can take minutes to process).",
            r.tally.pending,
            human_duration(r.timeout)
        )),
        Status::Error => steps.push("Fix the cause named above and run the job again.".to_owned()),
        Status::Cancelled => steps.push("The job was cancelled; the table shows the last known state.".to_owned()),
        _ => {}
    }
    steps
}

/// The destinations table of one post, rows added while `budget` lasts.
fn table(out: &mut String, dests: &[Destination], retries: bool, left: &mut usize) {
    if retries {
        out.push_str("| | Platform | Account | Status | Link | Attempts | Retried | Error |\n|---|---|---|---|---|---|---|---|\n");
    } else {
        out.push_str(
            "| | Platform | Account | Status | Link | Attempts | Error |\n|---|---|---|---|---|---|---|\n",
        );
    }
    for (n, d) in dests.iter().enumerate() {
        let line = row(d, retries);
        if line.len() > *left {
            let _ = writeln!(
                out,
                "\n…and {} more destination(s) not shown (summary size limit); see the `results` output or results-file.",
                dests.len() - n
            );
            *left = 0;
            break;
        }
        *left -= line.len();
        out.push_str(&line);
    }
    out.push('\n');
}

/// Renders the summary for one step.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## {}\n", headline(r));
    if r.simulated {
        out.push_str("> Simulated results (input `simulate`): nothing was published.\n\n");
    }
    let what = match r.posts.as_slice() {
        [one] => format!("Post <code>{}</code>", md_cell(&one_line(&one.post_id, 200))),
        posts => format!("{} posts", posts.len()),
    };
    let retried = if r.retried() > 0 { format!(" · {} re-queued", r.retried()) } else { String::new() };
    let _ = writeln!(
        out,
        "{what} · status **{}** · exit code {} · waited {} · {} request(s){retried}\n",
        r.status.as_str(),
        r.exit_code,
        human_duration(r.elapsed),
        r.requests
    );
    if let Some(m) = &r.message {
        let _ = writeln!(out, "> {}\n", md_cell(&one_line(m, 1000)));
    }
    let retries = r.destinations().any(|d| d.retries > 0);
    let mut left = MAX_SUMMARY_BYTES - 64 * 1024;
    if let [one] = r.posts.as_slice() {
        if !one.destinations.is_empty() {
            table(&mut out, &one.destinations, retries, &mut left);
        } else if one.answered {
            out.push_str("The API has listed no destinations for this post yet.\n\n");
        }
    } else {
        out.push_str(
            "| | Post | Status | Published | Failed | Pending | Note |\n|---|---|---|---|---|---|---|\n",
        );
        for p in &r.posts {
            let note = p.message.as_deref().or(p.scheduled_for.as_deref()).unwrap_or("");
            let line = format!(
                "| {} | <code>{}</code> | {} | {} | {} | {} | {} |\n",
                status_symbol(p.status),
                md_cell(&one_line(&p.post_id, 100)),
                p.status.as_str(),
                p.tally.published,
                p.tally.failed,
                p.tally.pending,
                md_cell(&one_line(note, 200))
            );
            if line.len() > left {
                out.push_str("\n…more posts not shown (summary size limit).\n");
                left = 0;
                break;
            }
            left -= line.len();
            out.push_str(&line);
        }
        out.push('\n');
        for p in r.posts.iter().filter(|p| !p.destinations.is_empty()) {
            if left < 1024 {
                break;
            }
            let _ = writeln!(
                out,
                "### Post <code>{}</code>: {}\n",
                md_cell(&one_line(&p.post_id, 200)),
                p.status.as_str()
            );
            table(&mut out, &p.destinations, retries, &mut left);
        }
    }
    let steps = next_steps(r);
    if !steps.is_empty() {
        out.push_str("### What to do next\n\n");
        for s in steps {
            let _ = writeln!(out, "- {s}");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{dest, report};

    #[test]
    fn partial_summary() {
        let mut r = report(
            Status::Partial,
            vec![
                dest("instagram", "@mybrand", State::Published),
                dest("linkedin", "My Brand", State::Failed),
            ],
        );
        r.exit_code = 1;
        let s = render(&r);
        let expected = "## ⚠️ PostEverywhere: 1 of 2 destinations published, 1 failed\n\n\
Post <code>post&#95;1</code> · status **partial** · exit code 1 · waited 12s · 4 request(s)\n\n\
| | Platform | Account | Status | Link | Attempts | Error |\n|---|---|---|---|---|---|---|\n\
| ✅ | instagram | @mybrand | published | [view post](https://instagram.example/p/1) | 1 |  |\n\
| ❌ | linkedin | My Brand | failed (reconnect) |  | 1 | Token expired. Please reconnect. |\n\n\
### What to do next\n\n\
- **linkedin My Brand**: reconnect this account in PostEverywhere, then retry the post.\n\n";
        assert_eq!(s, expected);
    }

    #[test]
    fn hostile_text_is_escaped_and_bad_links_dropped() {
        let mut d = dest("x|<b>", "`@a`", State::Published);
        d.url = Some("javascript:alert(1)".into());
        let mut f = dest("li", "B", State::Failed);
        f.error = Some("line1\n::error::x | <script>".into());
        let s = render(&report(Status::Partial, vec![d, f]));
        assert!(s.contains("| x&#124;&lt;b&gt; | &#96;@a&#96; |"));
        assert!(!s.contains("javascript"));
        assert!(s.contains("line1 ::error::x &#124; &lt;script&gt;"));
        for line in s.lines() {
            assert!(!line.trim_start().starts_with("::"));
        }
    }

    #[test]
    fn timeout_and_error_explain_what_to_do() {
        let r = report(Status::Timeout, vec![dest("x", "@a", State::Pending)]);
        let s = render(&r);
        assert!(
            s.starts_with("## ⏱️ PostEverywhere: timed out after 5m00s with 1 of 1 destinations pending")
        );
        assert!(s.contains("raise `timeout`"));
        let mut r = report(Status::Error, vec![]);
        r.posts[0].answered = false;
        r.message = Some("HTTP 401 Unauthorized; check the key".into());
        let s = render(&r);
        assert!(s.contains("> HTTP 401 Unauthorized; check the key"));
        assert!(!s.contains("| |"));
    }

    #[test]
    fn stays_under_the_size_cap() {
        let mut d = dest("x", "@a", State::Failed);
        d.error = Some("e".repeat(290));
        let r = report(Status::Failed, vec![d; 5000]);
        let s = render(&r);
        assert!(s.len() < MAX_SUMMARY_BYTES, "{}", s.len());
        assert!(s.contains("more destination(s) not shown"));
    }
}

#[cfg(test)]
mod several {
    use super::*;
    use crate::report::fixtures::{dest, post, report};

    #[test]
    fn one_section_per_post_and_an_overview() {
        let mut r = report(Status::Partial, vec![]);
        let mut a = post(Status::Published, vec![dest("x", "@a", State::Published)]);
        a.post_id = "post_a".into();
        let mut b = post(Status::Failed, vec![dest("li", "B", State::Failed)]);
        b.post_id = "post_b".into();
        b.destinations[0].retries = 1;
        b.retried = 1;
        let mut c = post(Status::Scheduled, vec![]);
        c.post_id = "post_c".into();
        c.scheduled_for = Some("2035-01-01T09:00:00Z".into());
        r.posts = vec![a, b, c];
        let s = render(&r);
        assert!(s.contains("3 posts · status **partial**"), "{s}");
        assert!(s.contains("· 1 re-queued"), "{s}");
        assert!(
            s.contains("| 🗓️ | <code>post&#95;c</code> | scheduled | 0 | 0 | 0 | 2035-01-01T09:00:00Z |"),
            "{s}"
        );
        assert!(s.contains("### Post <code>post&#95;a</code>: published"));
        assert!(s.contains("### Post <code>post&#95;b</code>: failed"));
        assert!(!s.contains("### Post <code>post&#95;c</code>"), "no empty section");
        assert!(s.contains("| Attempts | Retried | Error |"));
    }
}

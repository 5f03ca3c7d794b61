//! The job summary: GitHub-flavoured Markdown a person can scan. Untrusted text is escaped
//! for table cells (no HTML, no links, no autolinks), the only links are our own "view post"
//! links to validated `https://` URLs, failed rows come first, and the whole text fits the
//! room it is given, everything counted: rows that do not fit are left out with a note that
//! points to the results file.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::{Report, human_duration, text::plural};
use crate::escape::{md_cell, md_url, one_line, push_md_cell};
use crate::failure::FailureClass;
use crate::model::{Destination, State};
use crate::outcome::Status;

/// The runner drops a step summary over 1 MiB entirely; we stay well under it.
pub const MAX_SUMMARY_BYTES: usize = 900 * 1024;
/// `summary-file` is meant for a pull or merge request comment: GitHub takes 65,536
/// characters at most.
pub const MAX_COMMENT_BYTES: usize = 64_000;
/// Kept free for the note that says rows were left out.
const NOTE_ROOM: usize = 1024;

fn headline(r: &Report) -> String {
    let t = r.tally;
    let posts = if r.posts.len() > 1 { format!(" across {} posts", r.posts.len()) } else { String::new() };
    match r.status {
        Status::Published => {
            format!(
                "✅ PostEverywhere: published to {} of {}{posts}",
                t.published,
                plural(t.total, "destination")
            )
        }
        Status::Partial => format!(
            "⚠️ PostEverywhere: {} of {} destinations published, {} failed{posts}",
            t.published, t.total, t.failed
        ),
        Status::Failed if t.total == 1 => "❌ PostEverywhere: the one destination failed".to_owned(),
        Status::Failed => format!("❌ PostEverywhere: all {} failed{posts}", plural(t.total, "destination")),
        Status::Timeout if t.total == 0 => {
            format!(
                "⏱️ PostEverywhere: timed out after {} with no destinations listed",
                human_duration(r.timeout)
            )
        }
        Status::Timeout => format!(
            "⏱️ PostEverywhere: timed out after {} with {} of {} pending{posts}",
            human_duration(r.timeout),
            t.pending,
            plural(t.total, "destination")
        ),
        Status::Error if r.posts.is_empty() && r.publish.is_some() => {
            "🛑 PostEverywhere: nothing was posted".to_owned()
        }
        Status::Error => "🛑 PostEverywhere: the wait stopped on an error".to_owned(),
        Status::DryRun => "🧪 PostEverywhere: dry run; nothing was posted".to_owned(),
        Status::Cancelled => format!("⏹️ PostEverywhere: cancelled after {}", human_duration(r.elapsed)),
        Status::Scheduled => {
            let already = super::text::already_failed(t.failed);
            match (r.posts.len(), r.posts.first().and_then(|p| p.scheduled_for.as_deref())) {
                (1, Some(at)) => format!(
                    "🗓️ PostEverywhere: scheduled for {}, after the deadline; not waited for{already}",
                    md_cell(&one_line(at, 60))
                ),
                _ => format!("🗓️ PostEverywhere: scheduled after the deadline; not waited for{already}"),
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
        Status::DryRun => "🧪",
    }
}

/// Failed first, then pending, then published.
fn rank(s: State) -> u8 {
    match s {
        State::Failed => 0,
        State::Pending => 1,
        State::Published => 2,
    }
}

/// Posts that need attention first.
fn post_rank(s: Status) -> u8 {
    match s {
        Status::Error | Status::Failed => 0,
        Status::Timeout | Status::Cancelled | Status::Partial => 1,
        Status::Scheduled | Status::Published | Status::DryRun => 2,
    }
}

/// Appends one destination's row (pieces pushed in place: a row is built for every
/// destination the summary shows).
fn push_row(out: &mut String, d: &Destination, retries: bool) {
    let cell = |out: &mut String, text: &str, max: usize| {
        push_md_cell(out, &one_line(text, max));
        out.push_str(" | ");
    };
    out.push_str("| ");
    out.push_str(symbol(d.status));
    out.push_str(" | ");
    cell(out, &d.platform, 40);
    cell(out, &d.label_account(), 80);
    match d.status {
        State::Failed => {
            out.push_str("failed (");
            out.push_str(d.failure_class().as_str());
            out.push(')');
        }
        State::Pending if d.next_retry_at.is_some() => {
            out.push_str("pending: platform retry at ");
            push_md_cell(out, &one_line(d.next_retry_at.as_deref().unwrap_or(""), 40));
        }
        State::Pending => {
            out.push_str("pending (");
            push_md_cell(out, &one_line(&d.raw_status, 40));
            out.push(')');
        }
        State::Published => out.push_str("published"),
    }
    out.push_str(" | ");
    if let Some(u) = d.url.as_deref().and_then(md_url) {
        out.push_str("[view post](");
        out.push_str(&u);
        out.push(')');
    }
    out.push_str(" | ");
    if let Some(a) = d.attempts {
        let _ = write!(out, "{a}");
    }
    out.push_str(" |");
    if retries {
        let _ = write!(out, " {} |", d.retries);
    }
    out.push(' ');
    let error = match (d.error.as_deref().unwrap_or_default(), &d.note) {
        ("", Some(n)) => Cow::Borrowed(n.as_str()),
        (e, Some(n)) => Cow::Owned(format!("{e} · {n}")),
        (e, None) => Cow::Borrowed(e),
    };
    push_md_cell(out, &one_line(&error, 300));
    out.push_str(" |\n");
}

fn next_steps(r: &Report) -> String {
    // One step per kind of failure, naming up to ten destinations each.
    let mut groups: Vec<(FailureClass, Vec<String>, usize)> = Vec::new();
    for d in r.destinations().filter(|d| d.status == State::Failed) {
        let class = d.failure_class();
        let i = groups.iter().position(|(c, ..)| *c == class).unwrap_or_else(|| {
            groups.push((class, Vec::new(), 0));
            groups.len() - 1
        });
        let (_, labels, count) = &mut groups[i];
        *count += 1;
        if labels.len() < 10 {
            labels.push(format!("**{}**", md_cell(&one_line(&d.label(), 120))));
        }
    }
    let mut steps: Vec<String> = groups
        .into_iter()
        .map(|(class, labels, count)| {
            let mut who = labels.join(", ");
            if count > labels.len() {
                let _ = write!(who, " and {} more", count - labels.len());
            }
            format!("{who}: {}.", class.advice())
        })
        .collect();
    match r.status {
        Status::Timeout if r.tally.total == 0 => steps.push(
            "Check that post-id is the id the create call returned, and look at the post in PostEverywhere."
                .to_owned(),
        ),
        Status::Timeout => steps.push(
            "Raise `timeout`, or check the post in PostEverywhere (video on Instagram and TikTok can take \
             minutes to process)."
                .to_owned(),
        ),
        Status::Error => steps.push("Fix the cause named above and run the job again.".to_owned()),
        Status::Cancelled => {
            steps.push("The job was cancelled; the table shows the last known state.".to_owned())
        }
        _ => {}
    }
    if steps.is_empty() {
        return String::new();
    }
    let mut out = String::from("### What to do next\n\n");
    for s in steps {
        let _ = writeln!(out, "- {s}");
    }
    out.push('\n');
    out
}

/// The destinations table of one post, failed rows first, while `left` lasts. Returns
/// how many rows were shown.
fn table(out: &mut String, dests: &[Destination], retries: bool, left: &mut usize) -> usize {
    let header = if retries {
        "| | Platform | Account | Status | Link | Attempts | Retried | Error |\n|---|---|---|---|---|---|---|---|\n"
    } else {
        "| | Platform | Account | Status | Link | Attempts | Error |\n|---|---|---|---|---|---|---|\n"
    };
    let sorted = super::by_rank(dests.iter(), |d| rank(d.status));
    let mut shown = 0;
    for d in sorted {
        // Written in place, then taken back when it does not fit (with the header, for the
        // first row).
        let before = out.len();
        if shown == 0 {
            out.push_str(header);
        }
        push_row(out, d, retries);
        let need = out.len() - before + usize::from(shown == 0);
        if need > *left {
            out.truncate(before);
            break;
        }
        *left -= need;
        shown += 1;
    }
    if shown > 0 {
        out.push('\n');
    }
    shown
}

fn header(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## {}\n", headline(r));
    if r.simulated {
        out.push_str("> Simulated results (input `simulate`): nothing was published.\n\n");
    }
    let what = match r.posts.as_slice() {
        [] => "No post".to_owned(),
        [one] => format!("Post <code>{}</code>", md_cell(&one_line(&one.post_id, 200))),
        posts => format!("{} posts", posts.len()),
    };
    let retried = if r.retried() > 0 { format!(" · {} re-queued", r.retried()) } else { String::new() };
    let _ = writeln!(
        out,
        "{what} · status **{}** · exit code {} · waited {} · {}{retried}\n",
        r.status.as_str(),
        r.exit_code,
        human_duration(r.elapsed),
        plural(r.requests as usize, "request"),
    );
    // A timeout's message repeats the headline; say only what it adds.
    let message = match r.status {
        Status::Timeout => r.message.as_deref().and_then(|m| m.split_once("; ").map(|(_, rest)| rest)),
        _ => r.message.as_deref(),
    };
    if let Some(m) = message {
        let _ = writeln!(out, "> {}\n", md_cell(&one_line(m, 1000)));
    }
    if let Some(p) = &r.publish {
        posted::section(&mut out, p);
    }
    out
}

/// The overview of several posts, those that need attention first.
#[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
fn overview(out: &mut String, r: &Report, left: &mut usize) -> usize {
    let head = "| | Post | Status | Published | Failed | Pending | Note |\n|---|---|---|---|---|---|---|\n";
    if head.len() + 1 > *left {
        return 0;
    }
    out.push_str(head);
    *left -= head.len() + 1;
    let posts = super::by_rank(r.posts.iter(), |p| post_rank(p.status));
    let mut shown = 0;
    for p in posts {
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
        if line.len() > *left {
            break;
        }
        *left -= line.len();
        out.push_str(&line);
        shown += 1;
    }
    out.push('\n');
    shown
}

/// Renders the summary so that it takes at most `room` bytes, or nothing when not even its
/// headline fits.
pub fn render(r: &Report, room: usize) -> String {
    let head = header(r);
    let steps = next_steps(r);
    if head.len() + NOTE_ROOM > room {
        return String::new();
    }
    let mut out = head;
    let mut left = room - out.len() - NOTE_ROOM;
    let steps_fit = steps.len() <= left;
    if steps_fit {
        left -= steps.len();
    }
    let retries = r.destinations().any(|d| d.retries > 0);
    let total = r.tally.total;
    let mut shown = 0;
    let mut posts_shown = r.posts.len();
    if let [one] = r.posts.as_slice() {
        if !one.destinations.is_empty() {
            shown = table(&mut out, &one.destinations, retries, &mut left);
        } else if one.answered {
            out.push_str("The API has listed no destinations for this post yet.\n\n");
        }
    } else if !r.posts.is_empty() {
        // No post (publishing stopped before one was made): no table of none.
        posts_shown = overview(&mut out, r, &mut left);
        let posts =
            super::by_rank(r.posts.iter().filter(|p| !p.destinations.is_empty()), |p| post_rank(p.status));
        for p in posts {
            let heading = format!(
                "### Post <code>{}</code>: {}\n\n",
                md_cell(&one_line(&p.post_id, 200)),
                p.status.as_str()
            );
            if heading.len() + 512 > left {
                break;
            }
            let before = out.len();
            out.push_str(&heading);
            left -= heading.len();
            let n = table(&mut out, &p.destinations, retries, &mut left);
            if n == 0 {
                out.truncate(before);
                break;
            }
            shown += n;
        }
    }
    if shown < total || posts_shown < r.posts.len() {
        let posts = if r.posts.len() > 1 {
            format!(" and {posts_shown} of {}", plural(r.posts.len(), "post"))
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "> ⚠️ This summary shows {shown} of {}{posts}, to stay within GitHub's size limit for a \
             summary. The results file (input `results-file`) and the `results` output have all of them.\n",
            plural(total, "destination"),
        );
    }
    if steps_fit {
        out.push_str(&steps);
    }
    out
}

mod posted;

#[cfg(test)]
mod tests;

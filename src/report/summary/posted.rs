//! The job summary's "What was posted" section: the post's first line, its size, media and
//! schedule, the accounts it went to or skipped, and the post created or reused.

use std::fmt::Write as _;

use super::super::text::plural;
use crate::escape::{md_cell, one_line};

/// What was (or would have been) posted, to whom, and what stopped it.
#[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
pub(super) fn section(out: &mut String, p: &crate::publish::Record) {
    let names = |list: Vec<String>| {
        let more = list.len().saturating_sub(20);
        let mut s =
            list.into_iter().take(20).map(|l| md_cell(&one_line(&l, 80))).collect::<Vec<_>>().join(", ");
        if more > 0 {
            let _ = write!(s, " and {more} more");
        }
        s
    };
    let heading = match (p.dry_run, &p.post_id) {
        (true, _) => "What would be posted",
        (false, Some(_)) => "What was posted",
        // Stopped before a post was made (or known to be): "was posted" would say it was.
        (false, None) => "What was to be posted",
    };
    let _ = writeln!(out, "### {heading}\n");
    let _ = writeln!(out, "> {}\n", md_cell(&p.first_line));
    let media = if p.media_files > 0 {
        format!(" · {}", plural(p.media_files, "media file"))
    } else {
        String::new()
    };
    let when = p
        .scheduled_for
        .as_deref()
        .map_or("now".to_owned(), |t| format!("scheduled for {}", md_cell(&one_line(t, 40))));
    let _ = writeln!(out, "{} characters{media} · {when}\n", p.chars);
    if !p.targets.is_empty() {
        let _ = writeln!(
            out,
            "To: {}\n",
            names(p.targets.iter().map(|a| format!("{} (id {})", a.label(), a.id)).collect())
        );
    }
    if !p.skipped.is_empty() {
        let _ = writeln!(
            out,
            "Skipped (skip-unhealthy): {}\n",
            names(p.skipped.iter().map(|(a, why)| format!("{}: {why}", a.label())).collect())
        );
    }
    let post = |id: &str| format!("<code>{}</code>", md_cell(&one_line(id, 200)));
    match (&p.post_id, p.reused, p.create_calls) {
        (Some(id), true, _) => {
            let _ = writeln!(
                out,
                "Reused post {}: an earlier run made it with the same content and accounts (input dedupe).\n",
                post(id)
            );
        }
        (Some(id), false, n) if n > 1 => {
            let _ = writeln!(
                out,
                "Created post {} ({n} create calls; answers were lost, and each was checked for a post before the next).\n",
                post(id)
            );
        }
        (Some(id), false, _) => {
            let _ = writeln!(out, "Created post {}.\n", post(id));
        }
        (None, ..) => {}
    }
    if !p.problems.is_empty() {
        out.push_str("To fix before posting:\n\n");
        for line in p.problems.iter().take(20) {
            let _ = writeln!(out, "- {}", md_cell(&one_line(line, 300)));
        }
        out.push('\n');
    }
}

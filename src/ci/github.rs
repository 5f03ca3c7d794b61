//! GitHub Actions workflow commands: `::add-mask::`, and annotations with escaped data and
//! properties (ci-conventions §4), within the runner's budget: it shows at most 10
//! annotations of each type per step and drops the rest silently, so the one that says why
//! the step failed comes first, and what does not fit is summed up in one last annotation.
//! Pure string builders; `Sink` prints them.

use crate::escape::{command_data, command_property, one_line};
use crate::model::{Destination, State};
use crate::outcome::Status;
use crate::report::text::plural;
use crate::report::{Report, human_duration};

/// Annotations of one type the runner shows for a step.
pub(super) const PER_TYPE: usize = 10;
/// Warnings printed as annotations while waiting; the rest of the budget is the report's.
pub(super) const LIVE_WARNINGS: usize = 5;

pub(super) fn add_mask(secret: &str) -> String {
    format!("::add-mask::{}", command_data(secret))
}

/// `::name title=T::message`, with both parts escaped.
pub(super) fn command(name: &str, title: Option<&str>, message: &str) -> String {
    match title {
        Some(t) => format!("::{name} title={}::{}", command_property(t), command_data(message)),
        None => format!("::{name}::{}", command_data(message)),
    }
}

/// Why the step ended as it did, when that is worth an annotation.
fn verdict(r: &Report) -> Option<(&'static str, String)> {
    let t = r.tally;
    let fails = r.exit_code != 0;
    Some(match r.status {
        Status::Error => {
            ("wait stopped", r.message.clone().unwrap_or_else(|| "the API stopped the wait".into()))
        }
        // Publishing ran out of time (or a 429 past the deadline stopped it): its message
        // says why and whether the post may exist; there is no post id to check.
        Status::Timeout if t.total == 0 && r.publish.as_ref().is_some_and(|p| !p.created && !p.reused) => (
            "timed out",
            r.message.clone().unwrap_or_else(|| "the post was not created before the deadline".into()),
        ),
        Status::Timeout if t.total == 0 => (
            "timed out",
            format!(
                "the API listed no destinations within {}; check the post id and the post in PostEverywhere",
                human_duration(r.timeout)
            ),
        ),
        Status::Timeout => (
            "timed out",
            format!(
                "{} of {} still pending after {}; raise timeout or check the post",
                t.pending,
                plural(t.total, "destination"),
                human_duration(r.timeout)
            ),
        ),
        Status::Failed | Status::Partial => (
            if fails { "destinations failed" } else { "some destinations failed" },
            format!(
                "{} of {} failed ({}): {}; the job summary says what to do",
                t.failed,
                plural(t.total, "destination"),
                if fails { format!("fail-on {}", r.fail_on.as_str()) } else { "allowed by fail-on".into() },
                r.failed_platforms().join(", ")
            ),
        ),
        _ => return None,
    })
}

/// Keeps at most `room` annotations: the first `room - 1` and one that sums up the rest.
fn within(mut list: Vec<String>, room: usize, kind: &str, what: &str) -> Vec<String> {
    if list.len() <= room {
        return list;
    }
    let more = list.len() - (room.max(1) - 1);
    list.truncate(room.max(1) - 1);
    list.push(command(
        kind,
        Some("PostEverywhere: more"),
        &format!("and {more} more {what}; see the job summary and the results file"),
    ));
    list
}

/// The report's annotations, in order: why the step failed or stopped, files that could not
/// be written, then failed destinations. Errors when the step fails, else warnings;
/// `warnings_used` were already printed while waiting.
pub(super) fn annotations(r: &Report, write_errors: &[String], warnings_used: usize) -> Vec<String> {
    let fails = r.exit_code != 0 || !write_errors.is_empty();
    let kind = if fails { "error" } else { "warning" };
    let mut list = Vec::new();
    if let Some((title, message)) = verdict(r) {
        let kind = if r.exit_code != 0 { "error" } else { "warning" };
        list.push((kind, command(kind, Some(&format!("PostEverywhere: {title}")), &message)));
    }
    for e in write_errors {
        list.push(("error", command("error", Some("PostEverywhere: a report was not written"), e)));
    }
    let several = r.posts.len() > 1;
    for d in r.destinations().filter(|d| d.status == State::Failed) {
        list.push((kind, failed(d, kind, several)));
    }
    let (errors, warnings): (Vec<_>, Vec<_>) = list.into_iter().partition(|(k, _)| *k == "error");
    let strip = |v: Vec<(&str, String)>| v.into_iter().map(|(_, a)| a).collect::<Vec<_>>();
    let mut out = within(strip(errors), PER_TYPE, "error", "failed destinations");
    out.extend(within(
        strip(warnings),
        PER_TYPE.saturating_sub(warnings_used),
        "warning",
        "failed destinations",
    ));
    out
}

/// The annotation for a destination that failed.
#[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
fn failed(d: &Destination, kind: &str, several: bool) -> String {
    let class = d.failure_class();
    let post = if several { format!(" (post {})", one_line(&d.post_id, 60)) } else { String::new() };
    let title = format!("PostEverywhere: {} failed{post}", one_line(&d.label(), 100));
    let msg = format!(
        "{} ({}: {})",
        one_line(d.error.as_deref().unwrap_or("no error text from the API"), 1000),
        class.as_str(),
        class.advice()
    );
    command(kind, Some(&title), &msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{dest, report};

    #[test]
    fn annotations_are_escaped() {
        let mut f = dest("li,x", "A: B", State::Failed);
        f.error = Some("bad\n::set-output name=x::y 100%".into());
        let mut r = report(Status::Failed, vec![f]);
        r.exit_code = 1;
        let a = annotations(&r, &[], 0);
        assert_eq!(a.len(), 2);
        assert!(
            a[0].starts_with(
                "::error title=PostEverywhere%3A destinations failed::1 of 1 destination failed"
            )
        );
        assert!(
            a[1].starts_with("::error title=PostEverywhere%3A li%2Cx A%3A B failed::bad ::set-output"),
            "{}",
            a[1]
        );
        assert!(a[1].contains("100%25"));
        assert!(!a.iter().any(|l| l.contains('\n')));
    }

    #[test]
    fn a_timeout_that_fails_the_step_is_an_error() {
        let mut r = report(Status::Timeout, vec![dest("x", "@a", State::Pending)]);
        r.exit_code = 3;
        let a = annotations(&r, &[], 0);
        assert_eq!(a, vec!["::error title=PostEverywhere%3A timed out::1 of 1 destination still pending after 5m00s; raise timeout or check the post".to_owned()]);
    }

    #[test]
    fn the_reason_comes_first_and_the_rest_is_summed_up() {
        let mut r = report(Status::Error, vec![dest("x", "@a", State::Failed); 12]);
        r.exit_code = 4;
        r.message = Some("HTTP 401 Unauthorized".into());
        let a = annotations(&r, &["cannot write results-file".into()], 0);
        assert_eq!(a.len(), PER_TYPE);
        assert!(a[0].starts_with("::error title=PostEverywhere%3A wait stopped::HTTP 401"));
        assert!(a[1].contains("a report was not written"));
        assert!(a[9].contains("and 5 more failed destinations"), "{}", a[9]);
        // A passing step warns instead, within what live warnings left.
        let mut r = report(Status::Partial, vec![dest("x", "@a", State::Failed); 30]);
        r.fail_on = crate::config::FailOn::Never;
        let a = annotations(&r, &[], 3);
        assert_eq!(a.len(), PER_TYPE - 3);
        assert!(a.iter().all(|l| l.starts_with("::warning")));
        assert!(a[0].contains("some destinations failed"));
    }
}

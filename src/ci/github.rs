//! GitHub Actions workflow commands: `::add-mask::`, annotations with escaped data and
//! properties (ci-conventions §4). Pure string builders; `Sink` prints them.

use crate::escape::{command_data, command_property, one_line};
use crate::model::State;
use crate::outcome::Status;
use crate::report::{Report, human_duration};

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

/// One `::error` per failed destination, a `::warning` on timeout, an `::error` for an
/// API stop.
pub(super) fn annotations(r: &Report) -> Vec<String> {
    let mut out = Vec::new();
    let several = r.posts.len() > 1;
    for d in r.destinations().filter(|d| d.status == State::Failed) {
        let class = d.failure_class();
        let post = if several { format!(" (post {})", one_line(&d.post_id, 60)) } else { String::new() };
        let title = format!("PostEverywhere: {} failed{post}", one_line(&d.label(), 100));
        let msg = format!(
            "{} ({}: {})",
            d.error.as_deref().unwrap_or("no error text from the API"),
            class.as_str(),
            class.advice()
        );
        out.push(command("error", Some(&title), &msg));
    }
    match r.status {
        Status::Timeout if r.tally.total == 0 && !several => out.push(command(
            "warning",
            Some("PostEverywhere: timed out"),
            &format!(
                "the API listed no destinations for the post within {}; check the post id and the post in PostEverywhere",
                human_duration(r.timeout)
            ),
        )),
        Status::Timeout => out.push(command(
            "warning",
            Some("PostEverywhere: timed out"),
            &format!(
                "{} of {} destinations still pending after {}; raise timeout or check the post",
                r.tally.pending,
                r.tally.total,
                human_duration(r.timeout)
            ),
        )),
        Status::Error => out.push(command(
            "error",
            Some("PostEverywhere: wait stopped"),
            r.message.as_deref().unwrap_or("the API stopped the wait"),
        )),
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{dest, report};

    #[test]
    fn annotations_are_escaped() {
        let mut f = dest("li,x", "A: B", State::Failed);
        f.error = Some("bad\n::set-output name=x::y 100%".into());
        let a = annotations(&report(Status::Failed, vec![f]));
        assert_eq!(a.len(), 1);
        assert!(a[0].starts_with("::error title=PostEverywhere%3A li%2Cx A%3A B failed::bad%0A::set-output"));
        assert!(a[0].contains("100%25"));
        assert!(!a[0].contains('\n'));
    }

    #[test]
    fn timeout_warns() {
        let a = annotations(&report(Status::Timeout, vec![dest("x", "@a", State::Pending)]));
        assert_eq!(a, vec!["::warning title=PostEverywhere%3A timed out::1 of 1 destinations still pending after 5m00s; raise timeout or check the post".to_owned()]);
    }
}

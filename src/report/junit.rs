//! The JUnit XML report: one `testcase` per destination, so GitLab's Tests tab and merge
//! request widget (and Jenkins, CircleCI…) show per-platform results. Failed destinations
//! carry a `failure`, destinations still pending when the wait ended an `error`, posts
//! scheduled after the deadline a `skipped`. Every string from the API is escaped.

use std::collections::HashSet;
use std::fmt::Write as _;

use super::{PostReport, Report};
use crate::escape::xml;
use crate::model::State;
use crate::outcome::Status;

fn post_cases(out: &mut String, p: &PostReport, time: f64) {
    let failures = p.tally.failed;
    let pending_is_error = !matches!(p.status, Status::Scheduled);
    let errors = if pending_is_error { p.tally.pending } else { 0 };
    let skipped = if pending_is_error { 0 } else { p.tally.pending };
    let _ = writeln!(
        out,
        "  <testsuite name=\"post {}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{time:.3}\">",
        xml(&p.post_id),
        p.destinations.len()
    );
    let classname = format!("posteverywhere.{}", p.post_id);
    let mut names = HashSet::new();
    for d in &p.destinations {
        let mut name = d.label();
        let mut n = 1;
        while !names.insert(name.clone()) {
            n += 1;
            name = format!("{} ({n})", d.label());
        }
        let _ = write!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\" time=\"{time:.3}\"",
            xml(&classname),
            xml(&name)
        );
        match d.status {
            State::Published => {
                let url = d.url.as_deref().unwrap_or("published");
                let _ = writeln!(out, ">\n      <system-out>{}</system-out>\n    </testcase>", xml(url));
            }
            State::Failed => {
                let class = d.failure_class();
                let error =
                    d.error.as_deref().or(d.note.as_deref()).unwrap_or("failed (no error text from the API)");
                let _ = writeln!(
                    out,
                    ">\n      <failure type=\"{}\" message=\"{}\">{}\n{}</failure>\n    </testcase>",
                    class.as_str(),
                    xml(error),
                    xml(error),
                    xml(class.advice())
                );
            }
            State::Pending if !pending_is_error => {
                let why = p.scheduled_for.as_deref().unwrap_or("scheduled after the deadline");
                let _ = writeln!(
                    out,
                    ">\n      <skipped message=\"scheduled for {}\"/>\n    </testcase>",
                    xml(why)
                );
            }
            State::Pending => {
                let why = p.message.as_deref().unwrap_or("still pending when the wait ended");
                let _ = writeln!(
                    out,
                    ">\n      <error type=\"{}\" message=\"still {} when the wait ended\">{}</error>\n    </testcase>",
                    p.status.as_str(),
                    xml(&d.raw_status),
                    xml(why)
                );
            }
        }
    }
    out.push_str("  </testsuite>\n");
}

/// The whole report as JUnit XML.
pub fn render(r: &Report) -> String {
    let time = r.elapsed.as_secs_f64();
    let t = r.tally;
    let errors: usize =
        r.posts.iter().filter(|p| p.status != Status::Scheduled).map(|p| p.tally.pending).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"posteverywhere-wait\" tests=\"{}\" failures=\"{}\" errors=\"{errors}\" time=\"{time:.3}\">",
        t.total, t.failed
    );
    for p in &r.posts {
        post_cases(&mut out, p, time);
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{dest, report};

    #[test]
    fn escaping() {
        assert_eq!(xml("a<b>&\"c'\n\u{1}"), "a&lt;b&gt;&amp;&quot;c&apos;&#10;\u{FFFD}");
    }

    #[test]
    fn names_are_unique_within_a_post() {
        let r = report(Status::Failed, vec![dest("x", "@a", State::Failed); 3]);
        let x = render(&r);
        for name in ["name=\"x @a\"", "name=\"x @a (2)\"", "name=\"x @a (3)\""] {
            assert_eq!(x.matches(name).count(), 1, "{name} in {x}");
        }
    }

    #[test]
    fn one_case_per_destination() {
        let mut r = report(
            Status::Timeout,
            vec![
                dest("x", "@a", State::Published),
                dest("li", "B", State::Failed),
                dest("tt", "C", State::Pending),
            ],
        );
        r.posts[0].status = Status::Timeout;
        let x = render(&r);
        assert!(
            x.contains("<testsuites name=\"posteverywhere-wait\" tests=\"3\" failures=\"1\" errors=\"1\"")
        );
        assert!(x.contains("<testcase classname=\"posteverywhere.post_1\" name=\"x @a\""));
        assert!(x.contains("<failure type=\"reconnect\" message=\"Token expired. Please reconnect.\">"));
        assert!(x.contains("<error type=\"timeout\" message=\"still pending when the wait ended\">"));
    }
}

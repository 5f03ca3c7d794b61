//! The JUnit XML report: one `testcase` per destination, so GitLab's Tests tab and merge
//! request widget (and Jenkins, CircleCI…) show per-platform results. Failed destinations
//! carry a `failure`, destinations still pending when the wait ended an `error`, posts
//! scheduled after the deadline a `skipped`; each with its reason as the element's text
//! (GitLab reads that, not the `message` attribute). GitLab keeps one case per suite,
//! class and name *after* escaping, so names are made unique on their escaped form, and
//! the counts it shows are ours. Every text is escaped and cut so that the file stays far
//! under GitLab's 30 MB limit at any number of destinations.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use super::{PostReport, Report};
use crate::escape::{xml, xml_push};
use crate::model::State;
use crate::outcome::Status;

/// The whole file stays under this many bytes (GitLab accepts 30 MB per file).
const MAX_BYTES: usize = 24_000_000;

/// `s` escaped for XML, cut (before escaping) so the result is at most `max` bytes.
fn xml_cut(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max));
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        let mark = out.len();
        xml_push(&mut out, c);
        // Room for the `…` unless this is the last character.
        let reserve = if chars.as_str().is_empty() { 0 } else { '…'.len_utf8() };
        if out.len() + reserve > max {
            out.truncate(mark);
            out.push('…');
            break;
        }
    }
    out
}

/// Bytes each variable text of a case may take, so `cases` of them fit `MAX_BYTES`.
fn text_budget(cases: usize) -> usize {
    (MAX_BYTES / cases.max(1) / 4).clamp(40, 2000)
}

fn post_cases(out: &mut String, p: &PostReport, time: f64, each: usize) {
    let failures = p.tally.failed;
    let pending_is_error = !matches!(p.status, Status::Scheduled);
    let errors = if pending_is_error { p.tally.pending } else { 0 };
    let skipped = if pending_is_error { 0 } else { p.tally.pending };
    let _ = writeln!(
        out,
        "  <testsuite name=\"post {}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{time:.3}\">",
        xml_cut(&p.post_id, 400),
        p.destinations.len()
    );
    let classname = xml_cut(&format!("posteverywhere.{}", p.post_id), 400);
    let mut names: HashSet<String> = HashSet::with_capacity(p.destinations.len());
    // The next number to try for each name that was taken.
    let mut next: HashMap<String, usize> = HashMap::new();
    let advice = each >= 400;
    for d in &p.destinations {
        // Unique as GitLab will see it: after escaping and cutting.
        let base = xml_cut(&d.label(), each.min(200));
        let mut name = base.clone();
        while !names.insert(name.clone()) {
            let n = next.entry(base.clone()).or_insert(1);
            *n += 1;
            name = format!("{base} ({n})");
        }
        let _ = write!(out, "    <testcase classname=\"{classname}\" name=\"{name}\" time=\"{time:.3}\"");
        match d.status {
            State::Published => {
                let url = d.url.as_deref().map(|u| xml_cut(u, each)).unwrap_or_default();
                if url.is_empty() {
                    out.push_str("/>\n");
                } else {
                    let _ = writeln!(out, ">\n      <system-out>{url}</system-out>\n    </testcase>");
                }
            }
            State::Failed => {
                let class = d.failure_class();
                let error =
                    d.error.as_deref().or(d.note.as_deref()).unwrap_or("failed (no error text from the API)");
                let text = xml_cut(error, each);
                let tail = if advice { format!("\n{}", xml(class.advice())) } else { String::new() };
                let _ = writeln!(
                    out,
                    ">\n      <failure type=\"{}\" message=\"{}\">{text}{tail}</failure>\n    </testcase>",
                    class.as_str(),
                    xml_cut(error, each.min(200)),
                );
            }
            State::Pending if !pending_is_error => {
                let why = format!(
                    "scheduled for {}, after the deadline; not waited for",
                    p.scheduled_for.as_deref().unwrap_or("a time")
                );
                let why = xml_cut(&why, each);
                let _ = writeln!(out, ">\n      <skipped message=\"{why}\">{why}</skipped>\n    </testcase>");
            }
            State::Pending => {
                let why = p.message.as_deref().unwrap_or("still pending when the wait ended");
                let _ = writeln!(
                    out,
                    ">\n      <error type=\"{}\" message=\"still {} when the wait ended\">{}</error>\n    </testcase>",
                    p.status.as_str(),
                    xml_cut(&d.raw_status, 60),
                    xml_cut(why, each)
                );
            }
        }
    }
    out.push_str("  </testsuite>\n");
}

/// The whole report as JUnit XML.
#[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
pub fn render(r: &Report) -> String {
    let time = r.elapsed.as_secs_f64();
    let t = r.tally;
    let errors: usize =
        r.posts.iter().filter(|p| p.status != Status::Scheduled).map(|p| p.tally.pending).sum();
    let skipped = t.pending - errors;
    let each = text_budget(t.total);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"posteverywhere-wait\" tests=\"{}\" failures=\"{}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{time:.3}\">",
        t.total, t.failed
    );
    for p in &r.posts {
        post_cases(&mut out, p, time, each);
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
        assert_eq!(xml_cut("a&b", 5), "a…");
        assert!(xml_cut(&"&".repeat(100), 20).len() <= 20);
    }

    #[test]
    fn names_are_unique_after_escaping() {
        let mut a = dest("x", "dup\u{1}", State::Failed);
        a.account_id = None;
        let mut b = dest("x", "dup\u{2}", State::Failed);
        b.account_id = None;
        let r = report(
            Status::Failed,
            vec![a, b, dest("x", "@a", State::Failed), dest("x", "@a", State::Failed)],
        );
        let x = render(&r);
        for name in
            ["name=\"x dup\u{FFFD}\"", "name=\"x dup\u{FFFD} (2)\"", "name=\"x @a\"", "name=\"x @a (2)\""]
        {
            assert_eq!(x.matches(name).count(), 1, "{name} in {x}");
        }
    }

    #[test]
    fn one_case_per_destination_with_reasons_as_text() {
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
        assert!(x.contains(
            "<testsuites name=\"posteverywhere-wait\" tests=\"3\" failures=\"1\" errors=\"1\" skipped=\"0\""
        ));
        assert!(x.contains("<testcase classname=\"posteverywhere.post_1\" name=\"x @a\""));
        assert!(x.contains(
            "<failure type=\"reconnect\" message=\"Token expired. Please reconnect.\">Token expired."
        ));
        assert!(
            x.contains("<error type=\"timeout\" message=\"still pending when the wait ended\">still pending")
        );
        let mut r = report(Status::Scheduled, vec![dest("x", "@a", State::Pending)]);
        r.posts[0].scheduled_for = Some("2035-01-01T09:00:00Z".into());
        let x = render(&r);
        assert!(
            x.contains(">scheduled for 2035-01-01T09:00:00Z, after the deadline; not waited for</skipped>"),
            "{x}"
        );
    }

    #[test]
    fn stays_small_at_any_scale() {
        let mut d = dest("x", &"\"".repeat(500), State::Failed);
        d.error = Some("<&>".repeat(5000));
        d.class = Some(d.failure_class());
        let r = report(Status::Failed, vec![d; 50_000]);
        let x = render(&r);
        assert!(x.len() < MAX_BYTES + 2_000_000, "{}", x.len());
        assert_eq!(x.matches("<testcase ").count(), 50_000);
    }
}

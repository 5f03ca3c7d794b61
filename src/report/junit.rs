//! The JUnit XML report: one `testcase` per destination, so GitLab's Tests tab and merge
//! request widget (and Jenkins, CircleCI…) show per-platform results. Failed destinations
//! carry a `failure`, destinations still pending when the wait ended an `error`, posts
//! scheduled after the deadline a `skipped`; each with its reason as the element's text
//! (GitLab reads that, not the `message` attribute). GitLab keeps one case per suite,
//! class and name *after* escaping, so names are made unique on their escaped form, and
//! the counts it shows are ours. The file stays under `MAX_BYTES` (GitLab takes 30 MB)
//! whatever the input: each case's markup, classname and time are counted first, and its
//! texts share what is left (`fit`). Up to 50,000 destinations with post ids of up to 200
//! characters all get a case; past what fits, published ones are left out first, then
//! the rest, and a note says so (the suites' counts stay ours).
//!
//! A wait that went wrong before any destination was listed (a 404, the API unreachable,
//! a stop before posting) would otherwise leave a file of no cases, which GitLab shows as
//! nothing wrong: each post without destinations that ended badly gets one `error` case
//! of its own, and a failing step that no case explains gets one for the step.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use super::{PostReport, Report};
use crate::escape::{xml, xml_push};
use crate::model::State;
use crate::outcome::Status;

/// The whole file stays under this many bytes (GitLab accepts 30 MB per file).
const MAX_BYTES: usize = 24_000_000;

/// Bytes of a case besides its classname, time, name suffix and texts: the markup of the
/// widest kind (an `error` with its type). `case_markup_is_bounded` checks it.
const CASE_MARKUP: usize = 140;

/// Texts a case carries (its name, a message or status word, and a reason), each at most
/// `each` bytes.
const TEXTS: usize = 3;

/// Bytes a text may take: at most; and at least, below which cases are left out instead.
const MAX_EACH: usize = 2000;
const MIN_EACH: usize = 32;

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

/// Cases still to list: published ones are left out first when not all fit.
#[derive(Debug, Clone, Copy)]
struct Slots {
    published: usize,
    others: usize,
}

/// The longest ` (n)` a name can get in a post of `cases` (n is at most `cases + 1`).
fn suffix_len(cases: usize) -> usize {
    " ()".len() + (cases + 1).to_string().len()
}

/// Bytes each text may take, and the cases listed, so that the file is at most `max`
/// bytes. `frame` is the exact size of everything but the cases; a case of post `p` takes
/// at most `case(p) + TEXTS * each`. The texts share what the cases' markup leaves; when
/// even `MIN_EACH` does not fit every case, as many cases as fit the widest are listed,
/// the others before published ones.
fn fit(r: &Report, classes: &[String], frame: usize, time: usize, max: usize) -> (usize, Slots) {
    let case = |(p, class): (&PostReport, &String)| {
        CASE_MARKUP + class.len() + time + suffix_len(p.destinations.len())
    };
    let posts = || r.posts.iter().zip(classes);
    let markup: usize = posts().map(|pc| pc.0.destinations.len() * case(pc)).sum();
    let cases: usize = r.posts.iter().map(|p| p.destinations.len()).sum();
    let published = r.destinations().filter(|d| d.status == State::Published).count();
    let all = Slots { published, others: cases - published };
    let room = max.saturating_sub(frame + markup);
    if room >= cases * TEXTS * MIN_EACH {
        return ((room / (cases * TEXTS).max(1)).min(MAX_EACH), all);
    }
    let widest = posts().map(case).max().unwrap_or(0) + TEXTS * MIN_EACH;
    let fits = max.saturating_sub(frame) / widest;
    let others = all.others.min(fits);
    (MIN_EACH, Slots { published: (fits - others).min(published), others })
}

/// Whether `p` gets a case of its own: it ended badly before any destination was listed.
fn post_case_needed(p: &PostReport) -> bool {
    p.destinations.is_empty() && matches!(p.status, Status::Error | Status::Timeout | Status::Cancelled)
}

/// An `error` case named `name` of class `classname`, with `why` as its reason.
fn error_case(classname: &str, name: &str, kind: Status, why: &str, time: &str) -> String {
    format!(
        "    <testcase classname=\"{classname}\" name=\"{name}\" time=\"{time}\">\n      <error type=\"{}\" message=\"{}\">{}</error>\n    </testcase>\n",
        kind.as_str(),
        xml_cut(why, 200),
        xml_cut(why, MAX_EACH),
    )
}

/// The case of a post without destinations that ended badly (`post_case_needed`).
fn post_case(p: &PostReport, classname: &str, time: &str) -> String {
    let why = p.message.as_deref().unwrap_or("ended before PostEverywhere listed any destination");
    error_case(classname, &format!("post {}", xml_cut(&p.post_id, 400)), p.status, why, time)
}

/// The suite of the step's own case, when the step failed and no case says why (a stop
/// before posting, a post's error reported beside destinations that did not fail), or a
/// report written before this one failed (`unwritten`: the step ends with exit 5).
fn step_suite(r: &Report, explained: bool, unwritten: Option<&str>, time: &str) -> Option<String> {
    let (kind, why) = match unwritten {
        Some(why) => (Status::Error, why),
        None if r.exit_code == 0 || explained => return None,
        None => (r.status, r.message.as_deref().unwrap_or("the step failed")),
    };
    Some(format!(
        "  <testsuite name=\"posteverywhere-wait\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"{time}\">\n{}  </testsuite>\n",
        error_case("posteverywhere", "the step", kind, why, time)
    ))
}

/// A post's `testsuite` start tag; `own` when it has a case of its own (`post_case`).
fn suite_tag(p: &PostReport, own: bool, time: &str) -> String {
    let failures = p.tally.failed;
    let pending_is_error = !matches!(p.status, Status::Scheduled);
    let errors = if pending_is_error { p.tally.pending } else { 0 } + usize::from(own);
    let skipped = if pending_is_error { 0 } else { p.tally.pending };
    format!(
        "  <testsuite name=\"post {}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{time}\">\n",
        xml_cut(&p.post_id, 400),
        p.destinations.len() + usize::from(own)
    )
}

/// Appends the cases of `p` that `slots` still allows; returns how many.
fn post_cases(
    out: &mut String,
    p: &PostReport,
    classname: &str,
    time: &str,
    each: usize,
    slots: &mut Slots,
) -> usize {
    let pending_is_error = !matches!(p.status, Status::Scheduled);
    let mut names: HashSet<String> = HashSet::with_capacity(p.destinations.len());
    // The next number to try for each name that was taken.
    let mut next: HashMap<String, usize> = HashMap::new();
    let advice = each >= 400;
    let mut listed = 0;
    for d in &p.destinations {
        let slot = if d.status == State::Published { &mut slots.published } else { &mut slots.others };
        if *slot == 0 {
            continue;
        }
        *slot -= 1;
        listed += 1;
        // Unique as GitLab will see it: after escaping and cutting.
        let base = xml_cut(&d.label(), each.min(200));
        let mut name = base.clone();
        while !names.insert(name.clone()) {
            let n = next.entry(base.clone()).or_insert(1);
            *n += 1;
            name = format!("{base} ({n})");
        }
        let _ = write!(out, "    <testcase classname=\"{classname}\" name=\"{name}\" time=\"{time}\"");
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
                // The advice shares the reason's `each` bytes.
                let tail = if advice { format!("\n{}", xml(class.advice())) } else { String::new() };
                let text = xml_cut(error, each - tail.len());
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
                    xml_cut(&d.raw_status, each.min(60)),
                    xml_cut(why, each)
                );
            }
        }
    }
    listed
}

/// The whole report as JUnit XML, and a note when cases had to be left out.
#[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
pub fn render(r: &Report, unwritten: Option<&str>) -> (String, Option<String>) {
    render_within(r, unwritten, MAX_BYTES)
}

/// `render` into at most `max` bytes (when the suites' tags alone fit).
fn render_within(r: &Report, unwritten: Option<&str>, max: usize) -> (String, Option<String>) {
    const END: &str = "</testsuites>\n";
    const SUITE_END: &str = "  </testsuite>\n";
    let time = format!("{:.3}", r.elapsed.as_secs_f64());
    let t = r.tally;
    let classes: Vec<String> =
        r.posts.iter().map(|p| xml_cut(&format!("posteverywhere.{}", p.post_id), 400)).collect();
    let own: Vec<Option<String>> = r
        .posts
        .iter()
        .zip(&classes)
        .map(|(p, class)| post_case_needed(p).then(|| post_case(p, class, &time)))
        .collect();
    let pending_errors: usize =
        r.posts.iter().filter(|p| p.status != Status::Scheduled).map(|p| p.tally.pending).sum();
    let owned = own.iter().flatten().count();
    let step = step_suite(r, t.failed + pending_errors + owned > 0, unwritten, &time);
    // The cases of our own: each an error.
    let extra = owned + usize::from(step.is_some());
    let (tests, errors) = (t.total + extra, pending_errors + extra);
    let skipped = t.pending - pending_errors;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"posteverywhere-wait\" tests=\"{tests}\" failures=\"{}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{time}\">",
        t.failed
    );
    let tags: Vec<String> =
        r.posts.iter().zip(&own).map(|(p, own)| suite_tag(p, own.is_some(), &time)).collect();
    let frame = out.len()
        + END.len()
        + tags.iter().map(|t| t.len() + SUITE_END.len()).sum::<usize>()
        + own.iter().flatten().map(String::len).sum::<usize>()
        + step.as_ref().map_or(0, String::len);
    let (each, mut slots) = fit(r, &classes, frame, time.len(), max);
    let mut listed = 0;
    for (((p, tag), classname), own) in r.posts.iter().zip(&tags).zip(&classes).zip(&own) {
        out.push_str(tag);
        if let Some(case) = own {
            out.push_str(case);
        }
        listed += post_cases(&mut out, p, classname, &time, each, &mut slots);
        out.push_str(SUITE_END);
    }
    if let Some(suite) = &step {
        out.push_str(suite);
    }
    out.push_str(END);
    let total: usize = r.posts.iter().map(|p| p.destinations.len()).sum();
    let note = (listed < total).then(|| {
        format!(
            "junit-file lists {listed} of {total} destinations, published ones left out first \
             (it is kept under {} MB for GitLab); results-file has them all",
            MAX_BYTES / 1_000_000
        )
    });
    (out, note)
}

#[cfg(test)]
mod tests;

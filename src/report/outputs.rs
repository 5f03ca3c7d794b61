//! Step outputs: which names and values we publish, and the heredoc encoding GitHub's
//! runner parses (ci-conventions §2): `name<<DELIM`, the value, `DELIM`, with a random
//! delimiter that is regenerated until the value does not contain it.

use super::{Report, json::destination};
use crate::model::State;

/// Keep the `results` output well under GitHub's 1 MB-per-job output limit.
pub const RESULTS_MAX_BYTES: usize = 200 * 1024;

/// The other list outputs stay small too; one URL longer than this is left out.
const URLS_MAX_BYTES: usize = 64 * 1024;
const URL_MAX_BYTES: usize = 2048;
const PLATFORMS_MAX_BYTES: usize = 4096;
const MESSAGE_MAX_CHARS: usize = 2000;

/// Joins items while they fit in `max` bytes, leaving out any longer than `each` or
/// holding a line break; returns the text and how many were left out.
fn join_capped<'a>(
    items: impl Iterator<Item = &'a str>,
    sep: &str,
    each: usize,
    max: usize,
) -> (String, usize) {
    let mut out = String::new();
    let mut dropped = 0;
    for item in items {
        if item.len() > each || item.contains(['\n', '\r']) || out.len() + sep.len() + item.len() > max {
            dropped += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(sep);
        }
        out.push_str(item);
    }
    (out, dropped)
}

/// The outputs, in a stable order, and a note for each value that had to be cut.
pub fn outputs(r: &Report) -> (Vec<(&'static str, String)>, Option<String>) {
    // Links everywhere follow one rule: https, at most 2 KiB, one line.
    let published =
        r.destinations().filter(|d| d.status == State::Published).filter_map(|d| d.url.as_deref());
    let mut unfit = 0;
    let urls = published.filter(|u| {
        let fit = crate::escape::link_url(u).is_some();
        unfit += usize::from(!fit);
        fit
    });
    let (urls, cut) = join_capped(urls, "\n", URL_MAX_BYTES, URLS_MAX_BYTES);
    let urls_dropped = cut + unfit;
    let mut failed_platforms: Vec<String> = Vec::new();
    for d in r.destinations().filter(|d| d.status == State::Failed) {
        let p = crate::escape::one_line(&d.platform, 64).replace(',', " ");
        if !failed_platforms.contains(&p) {
            failed_platforms.push(p);
        }
    }
    let (platforms, _) =
        join_capped(failed_platforms.iter().map(String::as_str), ",", 256, PLATFORMS_MAX_BYTES);
    let (results, mut note) = capped_results(r);
    if urls_dropped > 0 {
        let n = format!(
            "published-urls leaves out {} that {} not https://, over 2 KiB, or past its size limit; results-file has them",
            crate::report::text::plural(urls_dropped, "URL"),
            if urls_dropped == 1 { "is" } else { "are" }
        );
        note = Some(note.map_or(n.clone(), |m| format!("{m}; {n}")));
    }
    let list = vec![
        ("status", r.status.as_str().to_owned()),
        ("exit-code", r.exit_code.to_string()),
        ("total-count", r.tally.total.to_string()),
        ("published-count", r.tally.published.to_string()),
        ("failed-count", r.tally.failed.to_string()),
        ("pending-count", r.tally.pending.to_string()),
        ("published-urls", urls),
        ("failed-platforms", platforms),
        ("retried-count", r.retried().to_string()),
        ("results", results),
        ("post-id", post_ids(r)),
        ("created", r.publish.as_ref().is_some_and(|p| p.created).to_string()),
        ("reused-post", r.publish.as_ref().is_some_and(|p| p.reused).to_string()),
        ("media-ids", r.publish.as_ref().map(|p| p.media_ids.join("\n")).unwrap_or_default()),
        (
            "message",
            r.message.as_deref().map(|m| crate::escape::one_line(m, MESSAGE_MAX_CHARS)).unwrap_or_default(),
        ),
    ];
    (list, note)
}

/// The post(s) waited for, one a line (capped like the other lists).
fn post_ids(r: &Report) -> String {
    join_capped(r.posts.iter().map(|p| p.post_id.as_str()), "\n", 256, URLS_MAX_BYTES).0
}

/// The `results` array, cut to whole entries that fit `RESULTS_MAX_BYTES`. Entries are
/// serialised one at a time, so the cost is one string, whatever the number of posts.
fn capped_results(r: &Report) -> (String, Option<String>) {
    let mut out = String::from("[");
    let mut kept = 0usize;
    for d in r.destinations() {
        let entry = serde_json::to_string(&destination(d)).unwrap_or_default();
        if out.len() + entry.len() + 2 > RESULTS_MAX_BYTES {
            break;
        }
        if kept > 0 {
            out.push(',');
        }
        out.push_str(&entry);
        kept += 1;
    }
    out.push(']');
    let total = r.tally.total;
    let note = (kept < total).then(|| {
        format!(
            "the results output holds {kept} of {total} destinations (GitHub limits output size); \
             set results-file for all of them"
        )
    });
    (out, note)
}

/// One output record in heredoc form. `token` supplies random delimiter suffixes.
pub fn heredoc(name: &str, value: &str, mut token: impl FnMut() -> String) -> String {
    let delim = loop {
        let d = format!("ghadelimiter_{}", token());
        if !value.contains(&d) && !name.contains(&d) {
            break d;
        }
    };
    format!("{name}<<{delim}\n{value}\n{delim}\n")
}

/// Every output record, ready to append to `$GITHUB_OUTPUT`.
pub fn encode(list: &[(&str, String)]) -> String {
    list.iter().map(|(k, v)| heredoc(k, v, crate::rand::token)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use crate::report::fixtures::{dest, report};

    #[test]
    fn values() {
        let r = report(
            Status::Partial,
            vec![
                dest("x", "@a", State::Published),
                dest("linkedin", "B", State::Failed),
                dest("x", "@c", State::Published),
            ],
        );
        let (list, note) = outputs(&r);
        let get = |k| list.iter().find(|(n, _)| *n == k).unwrap().1.clone();
        assert_eq!(get("status"), "partial");
        assert_eq!(get("published-count"), "2");
        assert_eq!(get("published-urls"), "https://x.example/p/1\nhttps://x.example/p/1");
        assert_eq!(get("failed-platforms"), "linkedin");
        assert!(get("results").starts_with("[{\"post_id\":\"post_1\",\"id\":null,\"account_id\":2280"));
        assert!(note.is_none());
    }

    #[test]
    fn every_output_is_bounded() {
        let mut d = dest("x".repeat(5000).as_str(), "@a", State::Published);
        d.url = Some(format!("https://x.example/{}", "a".repeat(URL_MAX_BYTES)));
        let mut f = dest("li,\nnk", "@b", State::Failed);
        f.platform = format!("li,\nnk{}", "y".repeat(5000));
        let mut r = report(Status::Partial, vec![d, f]);
        r.message = Some("m".repeat(100_000));
        let (list, note) = outputs(&r);
        let total: usize = list.iter().map(|(_, v)| v.len()).sum();
        assert!(total < 16 * 1024, "{total}");
        let get = |k| list.iter().find(|(n, _)| *n == k).unwrap().1.clone();
        assert_eq!(get("published-urls"), "");
        assert!(!get("failed-platforms").contains('\n') && get("failed-platforms").starts_with("li  nk"));
        assert!(note.unwrap().contains("not https://, over 2 KiB"));
    }

    #[test]
    fn delimiter_is_regenerated_when_the_value_contains_it() {
        let mut n = 0;
        let tokens = || {
            n += 1;
            if n == 1 { "aaa".to_owned() } else { "bbb".to_owned() }
        };
        let rec = heredoc("results", "x\nghadelimiter_aaa\ny", tokens);
        assert_eq!(rec, "results<<ghadelimiter_bbb\nx\nghadelimiter_aaa\ny\nghadelimiter_bbb\n");
    }

    #[test]
    fn oversized_results_are_cut_to_whole_entries() {
        let mut d = dest("x", "@a", State::Failed);
        d.error = Some("e".repeat(10_000));
        let r = report(Status::Failed, vec![d; 40]);
        let (list, note) = outputs(&r);
        let results = &list.iter().find(|(n, _)| *n == "results").unwrap().1;
        assert!(results.len() <= RESULTS_MAX_BYTES);
        let parsed: Vec<serde_json::Value> = serde_json::from_str(results).unwrap();
        assert!(!parsed.is_empty() && parsed.len() < 40);
        assert!(note.unwrap().contains("results-file"));
    }
}

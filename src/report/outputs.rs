//! Step outputs: which names and values we publish, and the heredoc encoding GitHub's
//! runner parses (ci-conventions §2): `name<<DELIM`, the value, `DELIM`, with a random
//! delimiter that is regenerated until the value does not contain it. No line of the file
//! is longer than `ENTRY_MAX_BYTES`: `act` reads it with Go's `bufio.Scanner`, which gives
//! up at a line over 64 KiB and fails the whole file.

use super::{Report, json::destination};
use crate::model::State;

/// Keep the `results` output well under GitHub's 1 MB-per-job output limit.
pub const RESULTS_MAX_BYTES: usize = 200 * 1024;

/// `results` has one destination a line; one whose JSON (and comma) is longer is left
/// out, so that no line comes near the 64 KiB `act` can read (ci-conventions item 24).
pub const ENTRY_MAX_BYTES: usize = 16 * 1024;

/// The other list outputs stay small too; one URL longer than this is left out.
const URLS_MAX_BYTES: usize = 64 * 1024;
const URL_MAX_BYTES: usize = 2048;
const PLATFORMS_MAX_BYTES: usize = 4096;
/// Media ids, like post ids, are short; a longer one is left out (one a line).
const ID_MAX_BYTES: usize = 256;
pub const MESSAGE_MAX_CHARS: usize = 2000;

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
pub fn outputs(r: &Report, exit_code: u8) -> (Vec<(&'static str, String)>, Option<String>) {
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
    let (platforms, platforms_dropped) =
        join_capped(failed_platforms.iter().map(String::as_str), ",", 256, PLATFORMS_MAX_BYTES);
    let (results, mut note) = capped_results(r);
    let mut add_note = |n: String| note = Some(note.take().map_or(n.clone(), |m| format!("{m}; {n}")));
    if urls_dropped > 0 {
        add_note(format!(
            "published-urls leaves out {} that {} not https://, over 2 KiB, or past its size limit; results-file has them",
            crate::report::text::plural(urls_dropped, "URL"),
            if urls_dropped == 1 { "is" } else { "are" }
        ));
    }
    if platforms_dropped > 0 {
        add_note(format!(
            "failed-platforms leaves out {} past its size limit; results-file has them",
            crate::report::text::plural(platforms_dropped, "platform"),
        ));
    }
    let (post_ids, posts_dropped) =
        join_capped(r.posts.iter().map(|p| p.post_id.as_str()), "\n", ID_MAX_BYTES, URLS_MAX_BYTES);
    if posts_dropped > 0 {
        add_note(format!(
            "post-id leaves out {} over 256 bytes, holding a line break or past its size limit; results-file has them",
            crate::report::text::plural(posts_dropped, "id"),
        ));
    }
    let media = r.publish.as_ref().map(|p| p.media_ids.as_slice()).unwrap_or_default();
    let (media_ids, media_dropped) =
        join_capped(media.iter().map(String::as_str), "\n", ID_MAX_BYTES, URLS_MAX_BYTES);
    if media_dropped > 0 {
        add_note(format!(
            "media-ids leaves out {} over 256 bytes or holding a line break; results-file has them",
            crate::report::text::plural(media_dropped, "id"),
        ));
    }
    let list = vec![
        ("status", r.status.as_str().to_owned()),
        ("exit-code", exit_code.to_string()),
        ("total-count", r.tally.total.to_string()),
        ("published-count", r.tally.published.to_string()),
        ("failed-count", r.tally.failed.to_string()),
        ("pending-count", r.tally.pending.to_string()),
        ("published-urls", urls),
        ("failed-platforms", platforms),
        ("retried-count", r.retried().to_string()),
        ("results", results),
        ("post-id", post_ids),
        ("created", r.publish.as_ref().is_some_and(|p| p.created).to_string()),
        ("reused-post", r.publish.as_ref().is_some_and(|p| p.reused).to_string()),
        ("media-ids", media_ids),
        (
            "message",
            r.message.as_deref().map(|m| crate::escape::one_line(m, MESSAGE_MAX_CHARS)).unwrap_or_default(),
        ),
    ];
    (list, note)
}

/// The `results` array, one destination a line, cut to whole entries that fit
/// `RESULTS_MAX_BYTES`; an entry over `ENTRY_MAX_BYTES` is left out. Entries are serialised
/// one at a time, so the cost is one string, whatever the number of posts.
fn capped_results(r: &Report) -> (String, Option<String>) {
    let mut out = String::from("[");
    let mut kept = 0usize;
    for d in r.destinations() {
        let entry = serde_json::to_string(&destination(d)).unwrap_or_default();
        if entry.len() >= ENTRY_MAX_BYTES {
            continue;
        }
        if out.len() + entry.len() + 4 > RESULTS_MAX_BYTES {
            break;
        }
        out.push_str(if kept > 0 { ",\n" } else { "\n" });
        out.push_str(&entry);
        kept += 1;
    }
    out.push_str(if kept > 0 { "\n]" } else { "]" });
    let total = r.tally.total;
    let note = (kept < total).then(|| {
        format!(
            "the results output holds {kept} of {total} destinations (it is capped at 200 KiB, 16 KiB a destination); \
             set results-file for all of them"
        )
    });
    (out, note)
}

/// What every delimiter starts with; a random token follows.
const DELIM_PREFIX: &str = "ghadelimiter_";

/// Appends one output record in heredoc form. `token` appends a random delimiter suffix; a
/// delimiter that occurs in the value (or name) is drawn again.
pub fn push_heredoc(out: &mut String, name: &str, value: &str, mut token: impl FnMut(&mut String)) {
    let mut delim = String::with_capacity(DELIM_PREFIX.len() + 32);
    loop {
        delim.clear();
        delim.push_str(DELIM_PREFIX);
        token(&mut delim);
        if !contains(value, &delim) && !contains(name, &delim) {
            break;
        }
    }
    for part in [name, "<<", &delim, "\n", value, "\n", &delim, "\n"] {
        out.push_str(part);
    }
}

/// Whether `needle` occurs in `hay` (a value shorter than a delimiter cannot hold one).
fn contains(hay: &str, needle: &str) -> bool {
    hay.len() >= needle.len() && hay.contains(needle)
}

/// Every output record, ready to append to `$GITHUB_OUTPUT`, in one string sized up front.
pub fn encode(list: &[(&str, String)]) -> String {
    let record = |(k, v): &(&str, String)| k.len() + v.len() + 2 * (DELIM_PREFIX.len() + 32) + 5;
    let mut out = String::with_capacity(list.iter().map(record).sum());
    for (k, v) in list {
        push_heredoc(&mut out, k, v, crate::rand::push_token);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use crate::report::PostReport;
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
        let (list, note) = outputs(&r, r.exit_code);
        let get = |k| list.iter().find(|(n, _)| *n == k).unwrap().1.clone();
        assert_eq!(get("status"), "partial");
        assert_eq!(get("published-count"), "2");
        assert_eq!(get("published-urls"), "https://x.example/p/1\nhttps://x.example/p/1");
        assert_eq!(get("failed-platforms"), "linkedin");
        assert!(get("results").starts_with("[\n{\"post_id\":\"post_1\",\"id\":null,\"account_id\":2280"));
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
        let (list, note) = outputs(&r, r.exit_code);
        let total: usize = list.iter().map(|(_, v)| v.len()).sum();
        assert!(total < 16 * 1024, "{total}");
        let get = |k| list.iter().find(|(n, _)| *n == k).unwrap().1.clone();
        assert_eq!(get("published-urls"), "");
        assert!(!get("failed-platforms").contains('\n') && get("failed-platforms").starts_with("li  nk"));
        assert!(note.unwrap().contains("not https://, over 2 KiB"));
    }

    /// A list cut to its size limit says so, whichever list it is.
    #[test]
    fn every_cut_list_is_noted() {
        let failed: Vec<_> = (0..100)
            .map(|n| dest(&format!("platform{n:02}{}", "p".repeat(50)), "@a", State::Failed))
            .collect();
        let mut r = report(Status::Failed, failed);
        let post = r.posts[0].clone();
        r.posts = (0..300).map(|n| PostReport { post_id: format!("{n:0>250}"), ..post.clone() }).collect();
        let (list, note) = outputs(&r, r.exit_code);
        let get = |k| list.iter().find(|(n, _)| *n == k).unwrap().1.clone();
        let platforms = get("failed-platforms").split(',').count();
        assert!((50..100).contains(&platforms), "{platforms}");
        let ids = get("post-id").lines().count();
        assert!((200..300).contains(&ids), "{ids}");
        let note = note.unwrap();
        assert!(
            note.contains(&format!("failed-platforms leaves out {} platforms", 100 - platforms)),
            "{note}"
        );
        assert!(note.contains(&format!("post-id leaves out {} ids", 300 - ids)), "{note}");
    }

    /// `act` fails the whole file at a line over 64 KiB (`results` was one line, 88 KB at
    /// 300 destinations): every line stays short whatever the API sent, and `results` still
    /// reads as the JSON array of the destinations it keeps.
    #[test]
    fn every_line_of_the_file_is_short() {
        let mut long = dest("x", "@a", State::Failed);
        long.error = Some("e".repeat(ENTRY_MAX_BYTES));
        let mut dests = vec![dest("instagram", "@b", State::Published); 300];
        dests.insert(1, long);
        let mut r = report(Status::Partial, dests);
        r.message = Some("\u{10000}".repeat(100_000));
        let media_ids = vec!["m".repeat(70_000), "a\nb".into(), "m1".into()];
        r.publish = Some(crate::publish::Record { media_ids, ..Default::default() });
        let (list, note) = outputs(&r, r.exit_code);
        let file = encode(&list);
        assert!(file.len() > 64 * 1024);
        assert!(file.split('\n').all(|line| line.len() <= ENTRY_MAX_BYTES));
        let get = |k| list.iter().find(|(n, _)| *n == k).unwrap().1.clone();
        let results: Vec<serde_json::Value> = serde_json::from_str(&get("results")).unwrap();
        assert_eq!(results.len(), 300);
        assert_eq!(results[1], serde_json::to_value(destination(&r.posts[0].destinations[2])).unwrap());
        assert_eq!(get("media-ids"), "m1");
        let note = note.unwrap();
        assert!(note.contains("holds 300 of 301") && note.contains("media-ids leaves out 2 ids"), "{note}");
    }

    #[test]
    fn delimiter_is_regenerated_when_the_value_contains_it() {
        let mut n = 0;
        let tokens = |s: &mut String| {
            n += 1;
            s.push_str(if n == 1 { "aaa" } else { "bbb" });
        };
        let mut rec = "before\n".to_owned();
        push_heredoc(&mut rec, "results", "x\nghadelimiter_aaa\ny", tokens);
        assert_eq!(rec, "before\nresults<<ghadelimiter_bbb\nx\nghadelimiter_aaa\ny\nghadelimiter_bbb\n");
        assert_eq!(n, 2);
    }

    /// The runner's reading of one record (ci-conventions §2): `NAME<<DELIM`, then lines up
    /// to the first that is exactly `DELIM`.
    fn read_record(rec: &str) -> Option<(&str, String)> {
        let (head, body) = rec.split_once('\n')?;
        let (name, delim) = head.split_once("<<")?;
        let mut lines = Vec::new();
        for line in body.split('\n') {
            if line == delim {
                return Some((name, lines.join("\n")));
            }
            lines.push(line);
        }
        None
    }

    proptest::proptest! {
        /// Values made of delimiter look-alikes, with tokens that collide on purpose (0, 1,
        /// 2, …): every record reads back as exactly its name and value, and what the string
        /// held before is kept as it was (a file's earlier lines: `files::append`).
        #[test]
        fn every_record_reads_back_exactly(
            value in "(ghadelimiter_|[012]|\n|\r\n|x|ghadelimiter_1\n){0,12}",
            before in "(ok|\n){0,3}",
        ) {
            let mut n = 0u32;
            let mut rec = before.clone();
            push_heredoc(&mut rec, "results", &value, |s| {
                s.push_str(&n.to_string());
                n += 1;
            });
            proptest::prop_assert!(rec.starts_with(&before));
            proptest::prop_assert_eq!(read_record(&rec[before.len()..]), Some(("results", value.clone())));
            proptest::prop_assert!(rec.ends_with('\n'));
        }
    }

    #[test]
    fn oversized_results_are_cut_to_whole_entries() {
        let mut d = dest("x", "@a", State::Failed);
        d.error = Some("e".repeat(10_000));
        let r = report(Status::Failed, vec![d; 40]);
        let (list, note) = outputs(&r, r.exit_code);
        let results = &list.iter().find(|(n, _)| *n == "results").unwrap().1;
        assert!(results.len() <= RESULTS_MAX_BYTES);
        let parsed: Vec<serde_json::Value> = serde_json::from_str(results).unwrap();
        assert!(!parsed.is_empty() && parsed.len() < 40);
        assert!(note.unwrap().contains("results-file"));
    }
}

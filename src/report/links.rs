//! GitLab's annotations report (`artifacts:reports:annotations`): an `external_link` to
//! every published post, so the links show on the job page. GitLab rejects the whole
//! upload, and the job fails, for more than 1000 items in a list or over 80 KiB compressed,
//! so the list stops well before either (at most 1000 links and 64 KiB of JSON, which no
//! compression can grow past 80 KiB), with a note. Only `https://` URLs up to 2 KiB are
//! linked, as everywhere else.

use serde_json::{Value, json};

use super::Report;
use crate::escape::{link_url, one_line};
use crate::model::State;

pub const SECTION: &str = "posteverywhere_published_posts";
/// GitLab's schema allows 1000 items per list.
pub const MAX_LINKS: usize = 1000;
/// Uncompressed bytes at most; gzip never makes JSON this small reach 80 KiB.
pub const MAX_BYTES: usize = 64 * 1024;

/// The report, and a note when links were left out.
#[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
pub fn render(r: &Report) -> (String, Option<String>) {
    let several = r.posts.len() > 1;
    let mut links: Vec<Value> = Vec::new();
    let (mut size, mut unfit, mut cut) = (64, 0usize, 0usize);
    for d in r.destinations().filter(|d| d.status == State::Published) {
        let Some(url) = d.url.as_deref().and_then(link_url) else {
            unfit += usize::from(d.url.is_some());
            continue;
        };
        let post = if several { format!(" (post {})", one_line(&d.post_id, 60)) } else { String::new() };
        let link =
            json!({"external_link": {"label": one_line(&format!("{}{post}", d.label()), 200), "url": url}});
        let len = link.to_string().len() + 1;
        if links.len() == MAX_LINKS || size + len > MAX_BYTES {
            cut += 1;
            continue;
        }
        size += len;
        links.push(link);
    }
    let mut notes = Vec::new();
    if cut > 0 {
        notes.push(format!(
            "the GitLab annotations report links {} of {} published posts (GitLab's limits); the results file has all",
            links.len(),
            links.len() + cut
        ));
    }
    if unfit > 0 {
        let (are, them) = if unfit == 1 { ("is", "it is") } else { ("are", "they are") };
        notes.push(format!(
            "{} {are} not https:// or longer than 2 KiB, so {them} not linked",
            crate::report::text::plural(unfit, "published URL")
        ));
    }
    let text = serde_json::to_string(&json!({ SECTION: links })).unwrap_or_default();
    (text, (!notes.is_empty()).then(|| notes.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use crate::report::fixtures::{dest, report};

    #[test]
    fn links_to_published_posts_only() {
        let mut bad = dest("x", "@b", State::Published);
        bad.url = Some("javascript:alert(1)".into());
        let mut plain = dest("y", "@c", State::Published);
        plain.url = Some("http://y.example/1".into());
        let r = report(
            Status::Partial,
            vec![dest("instagram", "@a", State::Published), bad, plain, dest("li", "C", State::Failed)],
        );
        let (text, note) = render(&r);
        let v: Value = serde_json::from_str(&text).unwrap();
        let links = v[SECTION].as_array().unwrap();
        assert_eq!(links.len(), 1);
        assert_eq!(links[0]["external_link"]["label"], "instagram @a");
        assert_eq!(links[0]["external_link"]["url"], "https://instagram.example/p/1");
        assert!(note.unwrap().contains("2 published URLs are not https://"));
    }

    #[test]
    fn within_gitlab_limits_at_any_scale() {
        let mut d = dest("x", "@a", State::Published);
        d.url = Some(format!("https://x.example/{}", "p".repeat(100)));
        let (text, note) = render(&report(Status::Published, vec![d; 3000]));
        assert!(text.len() <= MAX_BYTES, "{}", text.len());
        let v: Value = serde_json::from_str(&text).unwrap();
        let n = v[SECTION].as_array().unwrap().len();
        assert!(n > 100 && n <= MAX_LINKS, "{n}");
        assert!(note.unwrap().contains(&format!("links {n} of 3000")));
        let small = dest("x", "@a", State::Published);
        let (text, _) = render(&report(Status::Published, vec![small; 1500]));
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v[SECTION].as_array().unwrap().len(), MAX_LINKS);
    }
}

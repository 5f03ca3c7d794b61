//! GitLab's annotations report (`artifacts:reports:annotations`): an `external_link` to
//! every published post, so the links show on the job page. Only http(s) URLs.

use serde_json::{Value, json};

use super::Report;
use crate::escape::one_line;
use crate::model::State;

pub const SECTION: &str = "posteverywhere_published_posts";

pub fn render(r: &Report) -> String {
    let several = r.posts.len() > 1;
    let links: Vec<Value> = r
        .destinations()
        .filter(|d| d.status == State::Published)
        .filter_map(|d| {
            let url = d.url.as_deref()?.trim();
            let lower = url.to_ascii_lowercase();
            if !(lower.starts_with("https://") || lower.starts_with("http://")) {
                return None;
            }
            let post = if several { format!(" (post {})", one_line(&d.post_id, 60)) } else { String::new() };
            Some(json!({"external_link": {"label": one_line(&format!("{}{post}", d.label()), 200), "url": url}}))
        })
        .collect();
    serde_json::to_string_pretty(&json!({ SECTION: links })).unwrap_or_default()
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
        let r = report(
            Status::Partial,
            vec![dest("instagram", "@a", State::Published), bad, dest("li", "C", State::Failed)],
        );
        let v: Value = serde_json::from_str(&render(&r)).unwrap();
        let links = v[SECTION].as_array().unwrap();
        assert_eq!(links.len(), 1);
        assert_eq!(links[0]["external_link"]["label"], "instagram @a");
        assert_eq!(links[0]["external_link"]["url"], "https://instagram.example/p/1");
    }
}

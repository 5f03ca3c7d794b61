//! The normalised result model: one `Destination` per social account a post goes to, its
//! `State` (published / failed / pending) and the counts over a set of destinations.
//!
//! Decoding the API's many shapes lives in `api::model`; this module only classifies.

use serde::Serialize;
use serde_json::Value;

/// Where a destination stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Published,
    Failed,
    Pending,
}

impl State {
    #[cfg(test)]
    pub fn as_str(self) -> &'static str {
        match self {
            State::Published => "published",
            State::Failed => "failed",
            State::Pending => "pending",
        }
    }
}

/// One destination as the API reported it, normalised across response shapes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Destination {
    pub post_id: String,
    /// Destination id (older API versions only).
    pub id: Option<String>,
    /// Account id: a number in the documented API, kept as the JSON value it came as.
    pub account_id: Option<Value>,
    pub account_name: Option<String>,
    pub platform: String,
    pub status: State,
    /// The status word exactly as the API sent it.
    pub raw_status: String,
    pub url: Option<String>,
    pub error: Option<String>,
    pub attempts: Option<u64>,
    pub published_at: Option<String>,
    pub next_retry_at: Option<String>,
    /// How many times this tool re-queued the destination.
    pub retries: u32,
    /// Our own remark (e.g. why a retry was refused); part of the failure's classification.
    pub note: Option<String>,
    /// When the scheduler fires for this destination (GET /posts/{id} only).
    #[serde(skip)]
    pub scheduled_for: Option<String>,
}

impl Destination {
    /// A short human label: `instagram @mybrand`, or `instagram #2280` without a name.
    pub fn label(&self) -> String {
        match (&self.account_name, &self.account_id) {
            (Some(name), _) => format!("{} {}", self.platform, name),
            (None, Some(Value::Number(n))) => format!("{} #{n}", self.platform),
            (None, Some(Value::String(s))) => format!("{} #{s}", self.platform),
            _ => self.platform.clone(),
        }
    }

    /// Why it failed, judged from the API's error text and our own note.
    pub fn failure_class(&self) -> crate::failure::FailureClass {
        match (&self.error, &self.note) {
            (Some(e), Some(n)) => crate::failure::classify_failure(Some(&format!("{e} {n}"))),
            (e, n) => crate::failure::classify_failure(e.as_deref().or(n.as_deref())),
        }
    }

    /// The account as people know it: its name, else `#id`.
    pub fn label_account(&self) -> String {
        match (&self.account_name, &self.account_id) {
            (Some(name), _) => name.clone(),
            (None, Some(Value::String(s))) => format!("#{s}"),
            (None, Some(v)) => format!("#{v}"),
            (None, None) => String::new(),
        }
    }

    /// A key that identifies the destination across polls.
    pub fn key(&self) -> String {
        if let Some(id) = &self.id {
            return format!("id:{id}");
        }
        match &self.account_id {
            Some(a) => format!("acct:{a}:{}", self.platform),
            None => format!("name:{}:{}", self.platform, self.account_name.as_deref().unwrap_or("")),
        }
    }
}

/// Status words that mean the destination is live.
const PUBLISHED: &[&str] = &["published", "done", "success", "succeeded", "sent", "live"];
/// Status words that mean the destination failed (final unless a retry is scheduled).
const FAILED: &[&str] = &["failed", "error", "cancelled", "canceled", "rejected"];
/// Status words known to mean "not final yet"; anything else is pending too, with a warning.
const KNOWN_PENDING: &[&str] = &[
    "queued",
    "pending",
    "scheduled",
    "draft",
    "publishing",
    "processing",
    "preparing",
    "uploading",
    "verifying",
    "retry_scheduled",
    "retrying",
    "in_progress",
    "in_queue",
];

/// Lower-cases and maps `-` and spaces to `_`: `Retry Scheduled` → `retry_scheduled`.
pub fn normalise_status(raw: &str) -> String {
    raw.trim()
        .chars()
        .map(|c| match c {
            '-' | ' ' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Classifies a status word. Returns the state and whether the word was unknown.
pub fn classify(raw_status: &str, next_retry_at: Option<&str>) -> (State, bool) {
    let word = normalise_status(raw_status);
    if PUBLISHED.contains(&word.as_str()) {
        (State::Published, false)
    } else if FAILED.contains(&word.as_str()) {
        // A failure the platform will retry by itself is not final yet.
        let retry_scheduled = next_retry_at.is_some_and(|t| !t.trim().is_empty());
        let state = if retry_scheduled { State::Pending } else { State::Failed };
        (state, false)
    } else {
        (State::Pending, !KNOWN_PENDING.contains(&word.as_str()))
    }
}

/// Counts over a set of destinations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub total: usize,
    pub published: usize,
    pub failed: usize,
    pub pending: usize,
}

impl Tally {
    pub fn of<'a>(dests: impl IntoIterator<Item = &'a Destination>) -> Self {
        let mut t = Tally::default();
        for d in dests {
            t.total += 1;
            match d.status {
                State::Published => t.published += 1,
                State::Failed => t.failed += 1,
                State::Pending => t.pending += 1,
            }
        }
        t
    }

    /// A post is complete when it has at least one destination and none is pending.
    pub fn complete(&self) -> bool {
        self.total > 0 && self.pending == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_table() {
        let cases: &[(&str, Option<&str>, State, bool)] = &[
            ("published", None, State::Published, false),
            ("PUBLISHED", None, State::Published, false),
            ("done", None, State::Published, false),
            ("Succeeded", None, State::Published, false),
            ("sent", None, State::Published, false),
            ("live", None, State::Published, false),
            ("success", None, State::Published, false),
            ("failed", None, State::Failed, false),
            ("failed", Some(""), State::Failed, false),
            ("failed", Some("2026-04-15T14:35:00Z"), State::Pending, false),
            ("Error", None, State::Failed, false),
            ("cancelled", None, State::Failed, false),
            ("canceled", None, State::Failed, false),
            ("rejected", None, State::Failed, false),
            ("queued", None, State::Pending, false),
            ("publishing", None, State::Pending, false),
            ("Retry Scheduled", None, State::Pending, false),
            ("in-progress", None, State::Pending, false),
            ("teleporting", None, State::Pending, true),
            ("", None, State::Pending, true),
        ];
        for (raw, retry, state, unknown) in cases {
            assert_eq!(classify(raw, *retry), (*state, *unknown), "status {raw:?} retry {retry:?}");
        }
    }

    #[test]
    fn completeness_needs_a_destination() {
        assert!(!Tally::default().complete());
        let t = Tally { total: 2, published: 1, failed: 1, pending: 0 };
        assert!(t.complete());
        let t = Tally { total: 2, published: 1, failed: 0, pending: 1 };
        assert!(!t.complete());
    }
}

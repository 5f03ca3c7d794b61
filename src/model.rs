//! The normalised result model: one `Destination` per social account a post goes to, its
//! `State` (published / failed / pending) and the counts over a set of destinations.
//!
//! Decoding the API's many shapes lives in `api::model`; this module only classifies.

use std::time::SystemTime;

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
    /// The failure's class, once worked out for the report (`failure_class` computes it
    /// otherwise): reports read it several times per destination, at any scale.
    #[serde(skip)]
    pub class: Option<crate::failure::FailureClass>,
}

impl Destination {
    /// A short human label: `instagram @mybrand`, or `instagram #2280` without a name.
    pub fn label(&self) -> String {
        // Built by hand, in one allocation for a name or a string id: `format!` costs about
        // 1.2 k instructions a label, and a progress line has one per destination.
        match self.account() {
            Some((mark, account)) if !(mark.is_empty() && account.is_empty()) => {
                let mut label = String::with_capacity(self.platform.len() + 1 + mark.len() + account.len());
                label.extend([self.platform.as_str(), " ", mark, &account]);
                label
            }
            _ => self.platform.clone(),
        }
    }

    /// Why it failed, judged from the API's error text and our own note.
    /// Our note only matters when the API's circuit breaker refused a re-queue.
    pub fn failure_class(&self) -> crate::failure::FailureClass {
        if let Some(c) = self.class {
            return c;
        }
        if self.note.as_deref().is_some_and(crate::failure::is_circuit_breaker) {
            return crate::failure::FailureClass::Permanent;
        }
        crate::failure::classify_failure(self.error.as_deref())
    }

    /// The account as people know it: its name, else `#id`.
    pub fn label_account(&self) -> String {
        self.account().map(|(mark, account)| [mark, &account].concat()).unwrap_or_default()
    }

    /// The account's mark (`#` before an id) and name or id, borrowed where it can be.
    fn account(&self) -> Option<(&'static str, std::borrow::Cow<'_, str>)> {
        match (&self.account_name, &self.account_id) {
            (Some(name), _) => Some(("", name.into())),
            (None, Some(Value::String(s))) => Some(("#", s.into())),
            (None, Some(v)) => Some(("#", v.to_string().into())),
            (None, None) => None,
        }
    }

    /// What identifies the destination across polls, borrowed (nothing is allocated):
    /// the account (`5` and `"5"` alike) and platform when there is an account id, which
    /// every API version sends; else the destination id; else platform and name.
    pub fn key(&self) -> DestKey<'_> {
        let account = match &self.account_id {
            Some(Value::Number(n)) => n.as_i64().map(AccountRef::Num),
            Some(Value::String(s)) => {
                let s = s.trim();
                Some(s.parse().map_or(AccountRef::Text(s), AccountRef::Num))
            }
            _ => None,
        };
        match (account, &self.id) {
            (Some(a), _) => DestKey::Account(a, &self.platform),
            (None, Some(id)) => DestKey::Id(id),
            (None, None) => DestKey::Name(&self.platform, self.account_name.as_deref().unwrap_or("")),
        }
    }

    /// A pending destination of `post_id` on an account the results do not list yet, known
    /// from elsewhere (the accounts posted to, or the post's own `account_ids`).
    pub fn unlisted(
        post_id: &str,
        account_id: i64,
        platform: String,
        name: Option<String>,
        note: &str,
    ) -> Self {
        Destination {
            post_id: post_id.to_owned(),
            id: None,
            account_id: Some(Value::from(account_id)),
            account_name: name,
            platform,
            status: State::Pending,
            raw_status: "not listed".into(),
            url: None,
            error: None,
            attempts: None,
            published_at: None,
            next_retry_at: None,
            retries: 0,
            note: Some(note.into()),
            class: None,
        }
    }

    /// The account id as the retry call takes it: an integer.
    pub fn account_number(&self) -> Option<i64> {
        match self.key() {
            DestKey::Account(AccountRef::Num(n), _) => Some(n),
            _ => None,
        }
    }
}

/// An account id as the retry call takes it (an integer), whether sent as a number or a
/// string of one.
pub fn account_number(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The platform of a destination whose answer names none.
pub const UNKNOWN_PLATFORM: &str = "unknown";

/// An account id, read the same whether the API sent it as a number or a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountRef<'a> {
    Num(i64),
    Text(&'a str),
}

/// A destination's identity (see `Destination::key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DestKey<'a> {
    Account(AccountRef<'a>, &'a str),
    Id(&'a str),
    Name(&'a str, &'a str),
}

impl DestKey<'_> {
    /// A platform alone (no account id, destination id or account name): two such on one
    /// platform in one answer are two accounts there, told apart only by their order.
    pub fn is_anonymous(&self) -> bool {
        matches!(self, DestKey::Name(_, ""))
    }
}

/// Status words that mean the destination is live: only these two (the API's reference). A
/// word that might mean "handed to the platform" (`sent`, `success`) is not taken for it:
/// the web app's Verifying comes after that, and its API spelling is not documented.
const PUBLISHED: &[&str] = &["published", "done"];
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

/// Whether `raw`, normalised as `normalise_status` does, is one of `words` (lower-case
/// ASCII), without building the normalised copy: the mapping is byte for byte (only ASCII
/// bytes change), so the lengths and bytes compare directly.
pub fn status_is(raw: &str, words: &[&str]) -> bool {
    let t = raw.trim();
    let norm = |b: u8| match b {
        b'-' | b' ' => b'_',
        b => b.to_ascii_lowercase(),
    };
    words.iter().any(|w| w.len() == t.len() && t.bytes().map(norm).eq(w.bytes()))
}

/// Whether a `next_retry_at` value means the platform will still retry: a time in the
/// future, or anything we cannot read as a time (better to wait than to call it final).
fn retry_ahead(next_retry_at: &str, now: SystemTime) -> bool {
    let t = next_retry_at.trim();
    !t.is_empty() && crate::time::parse_time(t).is_none_or(|at| at > now)
}

/// Classifies a status word at `now`. Returns the state and whether the word was unknown.
pub fn classify(raw_status: &str, next_retry_at: Option<&str>, now: SystemTime) -> (State, bool) {
    // Most words arrive normalised already: compare them as they are, without a copy.
    let trimmed = raw_status.trim();
    let word: std::borrow::Cow<str> =
        if trimmed.bytes().any(|b| b.is_ascii_uppercase() || b == b'-' || b == b' ') {
            normalise_status(trimmed).into()
        } else {
            trimmed.into()
        };
    let word: &str = &word;
    if PUBLISHED.contains(&word) {
        (State::Published, false)
    } else if FAILED.contains(&word) {
        // A failure the platform will retry by itself is not final yet.
        let retry_scheduled = next_retry_at.is_some_and(|t| retry_ahead(t, now));
        let state = if retry_scheduled { State::Pending } else { State::Failed };
        (state, false)
    } else {
        (State::Pending, !KNOWN_PENDING.contains(&word))
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

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, other: Tally) {
        self.total += other.total;
        self.published += other.published;
        self.failed += other.failed;
        self.pending += other.pending;
    }
}

impl Tally {
    #[cfg(any(test, feature = "terminal"))]
    pub fn of<'a>(dests: impl IntoIterator<Item = &'a Destination>) -> Self {
        let mut t = Tally::default();
        for d in dests {
            t.add(d.status);
        }
        t
    }

    /// Counts one destination in `state`.
    pub fn add(&mut self, state: State) {
        self.total += 1;
        match state {
            State::Published => self.published += 1,
            State::Failed => self.failed += 1,
            State::Pending => self.pending += 1,
        }
    }

    /// A post is complete when it has at least one destination and none is pending.
    pub fn complete(&self) -> bool {
        self.total > 0 && self.pending == 0
    }
}

#[cfg(test)]
mod tests;

//! Why a destination failed, sorted by what fixes it: a person reconnecting the account,
//! a person fixing the content, nothing at all (the platform's circuit breaker), or just
//! trying again. A pure, table-tested function of the error text.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// Expired or revoked token: reconnect the account in PostEverywhere.
    Reconnect,
    /// The platform rejected the content or media: fix the post.
    Content,
    /// PostEverywhere stopped retrying after repeated identical failures.
    Permanent,
    /// Anything else: a retry may well succeed.
    Retryable,
}

impl FailureClass {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::Reconnect => "reconnect",
            FailureClass::Content => "content",
            FailureClass::Permanent => "permanent",
            FailureClass::Retryable => "retryable",
        }
    }

    /// What the user should do.
    pub fn advice(self) -> &'static str {
        match self {
            FailureClass::Reconnect => "reconnect this account in PostEverywhere, then retry the post",
            FailureClass::Content => "fix the content or media for this platform, then retry the post",
            FailureClass::Permanent => {
                "PostEverywhere stopped retrying after repeated identical failures; fix the cause and publish a new post"
            }
            FailureClass::Retryable => "retry the post (input retry-failed, or Retry in PostEverywhere)",
        }
    }
}

const PERMANENT: &[&str] =
    &["permanent_failure_circuit_breaker", "circuit breaker", "circuit_breaker", "circuit-breaker"];

/// Whether a refusal's text is PostEverywhere's circuit breaker (however it is spelled):
/// a re-queue it refused will not be taken in another body form either.
pub fn is_circuit_breaker(text: &str) -> bool {
    let text = text.to_ascii_lowercase();
    PERMANENT.iter().any(|w| text.contains(w))
}
const RECONNECT: &[&str] = &[
    "reconnect",
    "re-connect",
    "token expired",
    "expired token",
    "token has expired",
    "token_expired",
    "token is expired",
    "invalid token",
    "invalid access token",
    "invalid_token",
    "revoked",
    "re-authenticate",
    "reauthenticate",
    "reauthorize",
    "re-authorize",
    "needs_reconnection",
    "session has expired",
    "session expired",
    "not authorized",
    "unauthorized",
    "permission",
];
const TRANSIENT: &[&str] = &[
    "timed out",
    "timeout",
    "temporar",
    "try again",
    "rate limit",
    "rate_limit",
    "too many requests",
    "unavailable",
    "internal error",
    "internal server error",
    "network",
    "connection",
    "bad gateway",
];
/// HTTP statuses an error may quote that mean "the platform's server failed": each only as a
/// number of its own (not in `15003` or `502.3`), said as a status (`HTTP 503`, `returned
/// 500`, `status of 502`: one of `STATUS_WORDS` among the two words before it), and not as a
/// size (`error: 500 characters`). A limit (`the maximum is 500`) is none of these.
const SERVER_STATUSES: &[&str] = &["500", "502", "503", "504"];
const STATUS_WORDS: &[&str] = &[
    "http",
    "status",
    "code",
    "error",
    "err",
    "returned",
    "returns",
    "got",
    "response",
    "responded",
    "answered",
    "failed",
    "fails",
    "with",
];
const UNIT_AFTER: &[&str] = &[
    "char", "byte", "kb", "mb", "gb", "kib", "mib", "px", "pixel", "word", "sec", "second", "minute", "ms",
    "frame", "hashtag", "mention",
];
const CONTENT: &[&str] = &[
    "too long",
    "too_long",
    "character limit",
    "exceeds",
    "duplicate",
    "content",
    "media",
    "image",
    "video",
    "aspect ratio",
    "file size",
    "unsupported",
    "format",
    "caption",
    "policy",
    "spam",
    "invalid_parameter",
];

/// Classifies a destination's error text (case-insensitive substring rules, in order:
/// permanent, reconnect, transient, content, else retryable).
pub fn classify_failure(error: Option<&str>) -> FailureClass {
    // What an error says is in its first few hundred characters; a huge one is not read whole.
    let mut text = error.unwrap_or_default();
    if text.len() > 2048 {
        let mut end = 2048;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text = &text[..end];
    }
    let text = text.to_lowercase();
    let any = |words: &[&str]| words.iter().any(|w| text.contains(w));
    if any(PERMANENT) {
        FailureClass::Permanent
    } else if any(RECONNECT) {
        FailureClass::Reconnect
    } else if any(TRANSIENT) || quotes_server_status(&text) {
        FailureClass::Retryable
    } else if any(CONTENT) {
        FailureClass::Content
    } else {
        FailureClass::Retryable
    }
}

/// Whether lower-cased `text` quotes a server-failure status (`SERVER_STATUSES`).
fn quotes_server_status(text: &str) -> bool {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '.')
        .map(|w| w.trim_matches('.'))
        .filter(|w| !w.is_empty())
        .collect();
    words.iter().enumerate().any(|(i, w)| {
        SERVER_STATUSES.contains(w)
            && words[i.saturating_sub(2)..i].iter().any(|p| STATUS_WORDS.contains(p))
            && !words.get(i + 1).is_some_and(|n| UNIT_AFTER.iter().any(|u| n.starts_with(u)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use FailureClass::*;

    #[test]
    fn the_circuit_breaker_however_it_is_spelled() {
        for text in ["HTTP 422: permanent_failure_circuit_breaker", "Circuit Breaker open", "circuit-breaker"]
        {
            assert!(is_circuit_breaker(text), "{text}");
            assert_eq!(classify_failure(Some(text)), Permanent, "{text}");
        }
        assert!(!is_circuit_breaker("HTTP 422: invalid_field_name account_ids"));
    }

    #[test]
    fn table() {
        let cases = [
            ("Token expired. Please reconnect your LinkedIn account.", Reconnect),
            ("OAuth access token has been revoked", Reconnect),
            ("Error validating access token: Session has expired", Reconnect),
            ("User not authorized to post", Reconnect),
            ("permanent_failure_circuit_breaker: 5 identical failures", Permanent),
            ("Text is too long (max 280 characters)", Content),
            ("Status is a duplicate", Content),
            ("Invalid media: aspect ratio not supported", Content),
            ("Video upload timed out", Retryable),
            ("Media processing temporarily unavailable", Retryable),
            ("Platform returned 503", Retryable),
            ("HTTP 502 from the platform", Retryable),
            ("Video upload failed: HTTP 500", Retryable),
            ("upstream error (504)", Retryable),
            // A number that is a limit, or part of another, is no status.
            ("Text is too long (max 500 characters)", Content),
            ("File size exceeds 500 MB", Content),
            ("Caption must be under 500 chars", Content),
            ("Image must be at least 500x500", Content),
            ("Invalid media id 15003", Content),
            ("Description is too long, the maximum is 500", Content),
            ("Caption must be 500 or fewer characters", Content),
            ("Video length 502.3 seconds exceeds the limit", Content),
            ("Video upload failed with a status of 503", Retryable),
            ("Image upload got 502 from the CDN", Retryable),
            ("Minimum 500 followers to post videos", Content),
            ("Media upload failed: 502", Retryable),
            ("Image processing failed (503)", Retryable),
            ("Video upload failed with 503", Retryable),
            ("Rate limit reached on platform", Retryable),
            ("something odd happened", Retryable),
            ("", Retryable),
        ];
        for (text, class) in cases {
            assert_eq!(classify_failure(Some(text)), class, "{text:?}");
        }
        assert_eq!(classify_failure(None), Retryable);
    }
}

//! What went wrong with one API call, sorted by what the wait should do about it:
//! wait and poll again (`RateLimited`), back off and count (`Transient`), or stop (`Fatal`).
//! The mapping from an HTTP answer (or a body we cannot use) to a `Fault` is pure and
//! table-tested here.

use std::time::Duration;

use super::MAX_BODY_BYTES;
use super::model::{DecodeError, ErrorBody};
use crate::escape::one_line;

#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// 429: wait (for the hinted time when there is one) and poll again; never fatal.
    RateLimited { wait: Option<Duration>, reason: String },
    /// 5xx, network trouble, unusable bodies: back off, count, poll again. `reached` is
    /// false only when no connection was made: the request cannot have done anything.
    /// `after`: the least wait the answer asked for (`Retry-After` on a 503, say), which
    /// the backoff never undercuts.
    Transient { reason: String, reached: bool, after: Option<Duration> },
    /// The API refused the request in a way more requests will not fix.
    Fatal { status: Option<u16>, message: String },
}

impl Fault {
    /// A transient fault of a request that may have reached the server.
    pub fn transient(reason: impl Into<String>) -> Fault {
        Fault::Transient { reason: reason.into(), reached: true, after: None }
    }

    /// The request never reached the server: repeating it cannot do anything twice.
    pub fn never_sent(&self) -> bool {
        matches!(self, Fault::Transient { reached: false, .. })
    }

    pub fn describe(&self) -> &str {
        match self {
            Fault::RateLimited { reason, .. } | Fault::Transient { reason, .. } => reason,
            Fault::Fatal { message, .. } => message,
        }
    }
}

/// What to tell a person for a status the API answered with.
fn hint(status: u16) -> &'static str {
    match status {
        401 => "check that the api-key secret holds a valid, unrevoked PostEverywhere API key",
        402 => "the PostEverywhere workspace has no active subscription or credits",
        403 => "the API key lacks the scope for this call, or a plan quota blocks it",
        404 => "check that post-id is right and that the post belongs to the API key's workspace",
        409 => "the post is in a state that does not allow this call",
        400 | 422 => "the API rejected the request as invalid",
        _ => "the API refused the request",
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        409 => "Conflict",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// `HTTP 401 Unauthorized: unauthorized: Invalid key (request id req_1)`.
pub fn describe_answer(status: u16, err: &ErrorBody) -> String {
    let mut s = format!("HTTP {status}");
    let phrase = reason_phrase(status);
    if !phrase.is_empty() {
        s.push(' ');
        s.push_str(phrase);
    }
    match (&err.code, &err.message) {
        (Some(c), Some(m)) => s.push_str(&format!(": {}: {}", one_line(c, 80), one_line(m, 300))),
        (Some(c), None) => s.push_str(&format!(": {}", one_line(c, 80))),
        (None, Some(m)) => s.push_str(&format!(": {}", one_line(m, 300))),
        (None, None) => {}
    }
    if let Some(id) = &err.request_id {
        s.push_str(&format!(" (request id {})", one_line(id, 80)));
    }
    s
}

/// Sorts a non-2xx answer. `asked` is the wait the answer's own `Retry-After` (or body
/// `retryAfter`) gives: a 429's wait (else the budget's `reset_in`), and the least wait
/// before a transient answer's request is sent again (a 503 while the API is down for
/// maintenance, say).
#[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
pub fn classify_status(
    status: u16,
    err: &ErrorBody,
    asked: Option<Duration>,
    reset_in: Option<Duration>,
) -> Fault {
    let what = describe_answer(status, err);
    if status == 429 {
        return Fault::RateLimited { wait: asked.or(reset_in), reason: what };
    }
    if status >= 500 || status == 408 || err.retryable == Some(true) {
        return Fault::Transient { reason: what, reached: true, after: asked };
    }
    Fault::Fatal { status: Some(status), message: format!("{what}; {}", hint(status)) }
}

pub(super) fn too_big() -> Fault {
    Fault::transient(format!("answer body larger than {} MiB; refused", MAX_BODY_BYTES / (1024 * 1024)))
}

/// A 2xx body we cannot use, as a transient fault (the next poll may do better).
pub(super) fn unusable(bytes: &[u8], e: DecodeError) -> Fault {
    let reason = match e {
        DecodeError::NotJson(e) => not_json(bytes, &e),
        DecodeError::Unusable(why) => format!("unexpected answer: {why}"),
    };
    Fault::transient(reason)
}

pub(super) fn not_json(bytes: &[u8], e: &serde_json::Error) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]);
    let start = text.trim_start();
    if start.starts_with('<') {
        format!("answer is HTML, not JSON (a proxy or error page?): {}", one_line(start, 80))
    } else if bytes.iter().all(u8::is_ascii_whitespace) {
        "answer body is empty".to_owned()
    } else if e.is_eof() {
        "answer JSON is truncated".to_owned()
    } else {
        format!("answer is not valid JSON ({e}): {}", one_line(start, 80))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn body(code: &str, retryable: Option<bool>) -> ErrorBody {
        ErrorBody {
            code: Some(code.into()),
            message: Some("msg".into()),
            retryable,
            request_id: Some("req_9".into()),
            retry_after_secs: None,
        }
    }

    #[test]
    fn status_table() {
        let fatal = |s| matches!(classify_status(s, &ErrorBody::default(), None, None), Fault::Fatal { .. });
        let transient =
            |s| matches!(classify_status(s, &ErrorBody::default(), None, None), Fault::Transient { .. });
        for s in [400, 401, 402, 403, 404, 409, 410, 422] {
            assert!(fatal(s), "{s} must be fatal");
        }
        for s in [408, 500, 502, 503, 504, 599] {
            assert!(transient(s), "{s} must be transient");
        }
        assert!(matches!(
            classify_status(429, &ErrorBody::default(), None, None),
            Fault::RateLimited { wait: None, .. }
        ));
    }

    /// A 429 waits what it asked, else the budget's reset; a 503 keeps only what it asked.
    #[test]
    fn the_waits_an_answer_carries() {
        let (asked, reset) = (Some(Duration::from_secs(3)), Some(Duration::from_secs(40)));
        let e = ErrorBody::default();
        assert!(
            matches!(classify_status(429, &e, asked, reset), Fault::RateLimited { wait, .. } if wait == asked)
        );
        assert!(
            matches!(classify_status(429, &e, None, reset), Fault::RateLimited { wait, .. } if wait == reset)
        );
        assert!(
            matches!(classify_status(503, &e, asked, reset), Fault::Transient { after, .. } if after == asked)
        );
        assert!(matches!(classify_status(503, &e, None, reset), Fault::Transient { after: None, .. }));
    }

    #[test]
    fn retryable_flag_overrides_a_4xx() {
        assert!(matches!(classify_status(400, &body("x", Some(true)), None, None), Fault::Transient { .. }));
        assert!(matches!(classify_status(400, &body("x", Some(false)), None, None), Fault::Fatal { .. }));
    }

    #[test]
    fn fatal_message_names_status_code_request_and_hint() {
        let Fault::Fatal { message, .. } = classify_status(401, &body("unauthorized", None), None, None)
        else {
            panic!("not fatal")
        };
        assert_eq!(
            message,
            "HTTP 401 Unauthorized: unauthorized: msg (request id req_9); \
             check that the api-key secret holds a valid, unrevoked PostEverywhere API key"
        );
    }

    #[test]
    fn html_and_truncated_bodies_are_named() {
        let e = serde_json::from_slice::<Value>(b"<html>").unwrap_err();
        assert!(not_json(b"<html><body>502</body></html>", &e).starts_with("answer is HTML"));
        let e = serde_json::from_slice::<Value>(b"{\"data\": {").unwrap_err();
        assert_eq!(not_json(b"{\"data\": {", &e), "answer JSON is truncated");
        for empty in [&b""[..], b" \r\n"] {
            let e = serde_json::from_slice::<Value>(empty).unwrap_err();
            assert_eq!(not_json(empty, &e), "answer body is empty");
        }
    }
}

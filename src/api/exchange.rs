//! One HTTP exchange of the client: the request sent and the answer's head taken; a 2xx
//! body read within `MAX_BODY_BYTES`; any other answer (a redirect included) turned into a
//! `Fault` from its error body, decoded and then scrubbed; a network error told on one line
//! (and whether the request can have reached the server). Also the rate-limit headers, and
//! an answer that is not UTF-8 read again with U+FFFD for its bad bytes.

use std::time::SystemTime;

use reqwest::header::{self, HeaderMap};
use reqwest::{Response, StatusCode};

use super::model::decode_error;
use super::{Client, Fault, MAX_BODY_BYTES, RateInfo, fault, ratelimit};
use crate::escape::one_line;
use fault::too_big;

impl Client {
    /// Sends and reads a capped body; an answer other than 2xx becomes a `Fault`. The body
    /// of a 2xx answer is returned as read: every caller scrubs what it keeps from it, as
    /// decoded (scrubbing the raw bytes could cut a JSON escape in two). Any other answer's
    /// error body is decoded, then scrubbed, into the `Fault`.
    pub(super) async fn send_unscrubbed(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<(Vec<u8>, RateInfo), Fault> {
        let (resp, rate) = self.sent(req).await?;
        let status = resp.status();
        if status.is_success() {
            return Ok((self.read_capped(resp).await?, rate));
        }
        Err(self.refused(resp, rate).await)
    }

    /// Sends a request and takes its answer's head, whatever its status.
    pub(super) async fn sent(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<(reqwest::Response, RateInfo), Fault> {
        let resp = req.send().await.map_err(|e| self.network(&e))?;
        // The API's own answer (a 2xx) tells its clock: a proxy's or load balancer's error
        // page, or a redirect, may carry another's.
        if self.server_clock.get().is_none() && resp.status().is_success() {
            let date = resp.headers().get(header::DATE).and_then(|v| v.to_str().ok());
            if let Some(offset) = date.and_then(|d| ratelimit::clock_offset(d, SystemTime::now())) {
                let _ = self.server_clock.set(offset);
            }
        }
        let rate = rate_info(resp.headers(), self.now());
        Ok((resp, rate))
    }

    /// The `Fault` for an answer other than 2xx: a redirect (never followed), or a refusal
    /// read from its status, headers and body.
    #[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
    pub(super) async fn refused(&self, resp: reqwest::Response, rate: RateInfo) -> Fault {
        let status = resp.status();
        if status.is_redirection() {
            return self.redirect_fault(status, resp.headers());
        }
        let retry_after = retry_after(resp.headers()).map(str::to_owned);
        let bytes = match self.read_capped(resp).await {
            Ok(bytes) => bytes,
            Err(f) => return f,
        };
        self.refusal(status, retry_after.as_deref(), &bytes, rate)
    }

    /// The `Fault` for a refusal (neither 2xx nor a redirect) whose body is `bytes`.
    #[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
    pub(super) fn refusal(
        &self,
        status: StatusCode,
        retry_after: Option<&str>,
        bytes: &[u8],
        rate: RateInfo,
    ) -> Fault {
        // Only decoded strings are kept, each scrubbed as decoded: scrubbing the raw body
        // first could cut a JSON escape in two (`\\x70e_live…`) and leave no message.
        let mut err = decode_error(bytes);
        for s in [&mut err.code, &mut err.message, &mut err.request_id].into_iter().flatten() {
            self.redactor.scrub_in_place(s);
        }
        let asked = ratelimit::asked_wait(retry_after, err.retry_after_secs, self.now());
        match (fault::classify_status(status.as_u16(), &err, asked, rate.reset_in), &self.path_hint) {
            (Fault::Fatal { status: Some(404), .. }, Some(hint)) => Fault::Fatal {
                status: Some(404),
                message: format!("{}; {hint}", fault::describe_answer(404, &err)),
            },
            (f, _) => f,
        }
    }

    #[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
    pub(super) fn redirect_fault(&self, status: StatusCode, h: &HeaderMap) -> Fault {
        let location =
            h.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("(no Location header)");
        // Drop the query string and fragment: they may carry tokens.
        let shown = self.redactor.scrub(location.split(['?', '#']).next().unwrap_or_default());
        Fault::Fatal {
            status: Some(status.as_u16()),
            message: format!(
                "HTTP {}: the API answered with a redirect to {}; redirects are not followed so the API key \
                 stays with the configured host; set base-url to the final address",
                status.as_u16(),
                one_line(&shown, 200)
            ),
        }
    }

    pub(super) async fn read_capped(&self, mut resp: Response) -> Result<Vec<u8>, Fault> {
        if resp.content_length().is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Err(too_big());
        }
        // Sized from Content-Length (already capped), so the body is not copied as it grows.
        let expected = resp.content_length().map_or(0, |n| usize::try_from(n).unwrap_or(0));
        let mut buf = Vec::with_capacity(expected);
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.network(&e))? {
            if buf.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(too_big());
            }
            buf.extend_from_slice(&chunk);
        }
        // A UTF-8 byte order mark before the JSON (some proxies add one), which a JSON
        // reader may ignore (RFC 8259) and serde_json does not.
        if buf.starts_with(b"\xEF\xBB\xBF") {
            buf.drain(..3);
        }
        Ok(buf)
    }

    /// A network error as a transient fault, which reached the server unless no connection
    /// (or TLS session) was made.
    /// A certificate the trust store refuses is refused again on every try (the store does
    /// not change during a run), so it stops the run at once instead of taking every try
    /// and the whole timeout to say the same thing; no request was sent over it.
    pub(super) fn network(&self, e: &reqwest::Error) -> Fault {
        let at = || {
            e.url().map_or(String::new(), |u| {
                format!(" at {}:{}", u.host_str().unwrap_or(""), u.port_or_known_default().unwrap_or(443))
            })
        };
        // Asked again, either answers the same: said at once, with what to check.
        match tls_refusal(e) {
            Some(Refusal::Certificate) => {
                let message = format!(
                    "{}; the certificate of the server{} is not trusted here: check the URL's host, or, \
                     behind a proxy that inspects TLS, give its CA in SSL_CERT_FILE",
                    self.describe(e),
                    at()
                );
                Fault::Fatal { status: None, message }
            }
            Some(Refusal::NotTls) => {
                let message = format!(
                    "{}; the server{} does not answer in TLS (plain HTTP on an https URL?): check the URL's \
                     scheme and port",
                    self.describe(e),
                    at()
                );
                Fault::Fatal { status: None, message }
            }
            None => Fault::Transient { reason: self.describe(e), reached: !e.is_connect(), after: None },
        }
    }

    /// A network error as one line: what failed and the root cause.
    pub(super) fn describe(&self, e: &reqwest::Error) -> String {
        let what = if e.is_timeout() {
            "request timed out"
        } else if e.is_connect() {
            "could not connect"
        } else if e.is_body() || e.is_decode() {
            "connection broke while reading the answer"
        } else {
            "request failed"
        };
        let mut root: &(dyn std::error::Error + 'static) = e;
        while let Some(s) = root.source() {
            root = s;
        }
        let cause = root.to_string();
        if std::ptr::addr_eq(root, e as &(dyn std::error::Error + 'static)) {
            return what.to_owned();
        }
        let mut text = format!("{what}: {}", one_line(&self.redactor.scrub(&cause), 200));
        if cause.contains("invalid peer certificate") {
            for note in self.trust.iter().flat_map(|t| t.notes()) {
                text.push_str("; ");
                text.push_str(&one_line(&note, 300));
            }
        }
        text
    }
}

/// What TLS refused that no repeat can change.
enum Refusal {
    /// The server's certificate, refused by the trust store.
    Certificate,
    /// The server's first bytes are not TLS (a plain HTTP server behind an https URL).
    NotTls,
}

/// The refusal in the error's causes, if any. The TLS stream wraps rustls's error in
/// `io::Error`s, whose `source()` skips the error each holds: those are followed through
/// `get_ref`.
fn tls_refusal(e: &reqwest::Error) -> Option<Refusal> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        match c.downcast_ref::<rustls::Error>() {
            Some(rustls::Error::InvalidCertificate(_)) => return Some(Refusal::Certificate),
            Some(rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType)) => {
                return Some(Refusal::NotTls);
            }
            _ => {}
        }
        cause = match c.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|held| held as &(dyn std::error::Error + 'static)),
            None => c.source(),
        };
    }
    None
}

/// The `Retry-After` header's text, for `ratelimit::asked_wait` (the API's answers and a
/// storage host's alike).
pub(super) fn retry_after(h: &HeaderMap) -> Option<&str> {
    h.get(header::RETRY_AFTER).and_then(|v| v.to_str().ok())
}

pub(super) fn rate_info(h: &HeaderMap, now: SystemTime) -> RateInfo {
    let get = |name: &str| h.get(name).and_then(|v| v.to_str().ok());
    RateInfo {
        limit: get("x-ratelimit-limit").and_then(|v| v.trim().parse().ok()),
        remaining: get("x-ratelimit-remaining").and_then(|v| v.trim().parse().ok()),
        reset_in: get("x-ratelimit-reset").and_then(|v| ratelimit::parse_reset(v, now)),
    }
}

/// The error and its causes on one line, without the URL.
pub(super) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut src = e.source();
    while let Some(s) = src {
        let s_text = s.to_string();
        if !parts.iter().any(|p| p.contains(&s_text)) {
            parts.push(s_text);
        }
        src = s.source();
    }
    one_line(&parts.join(": "), 300)
}

/// `decode` of an answer, and again with each byte that is not UTF-8 read as U+FFFD when
/// the body is not UTF-8: serde_json refuses a whole body over one Latin-1 byte in a name,
/// which would make every answer unusable although its statuses can be read. The first
/// error is kept when the second reading fails too. The happy path pays nothing.
pub(super) fn lossy<T, E>(bytes: &[u8], decode: impl Fn(&[u8]) -> Result<T, E>) -> Result<T, E> {
    decode(bytes).or_else(|e| match std::str::from_utf8(bytes) {
        Ok(_) => Err(e),
        Err(_) => decode(String::from_utf8_lossy(bytes).as_bytes()).map_err(|_| e),
    })
}

//! The PostEverywhere HTTP client: one `reqwest::Client` (rustls trusting what `trust`
//! says, no redirects, `User-Agent`, bearer auth) and the calls the wait makes. Every
//! answer is turned into data or a `Fault`; nothing here sleeps or decides to retry.

mod exchange;
pub mod fault;
mod filebody;
pub mod model;
pub mod publish;
pub mod ratelimit;
mod trust;
mod wire;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use reqwest::Url;
use reqwest::header::{self, HeaderMap, HeaderValue};
use serde_json::Value;

use crate::secret::{ApiKey, Redactor};
use exchange::{chain, lossy};
pub use fault::Fault;
use fault::unusable;
use model::{DecodeError, Results, RetryAck, decode_post, decode_results};
pub use ratelimit::RateInfo;

/// Bodies larger than this are refused rather than buffered.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

pub const USER_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

/// A successful answer with the rate-limit headers that came with it.
#[derive(Debug, Clone)]
pub struct Answer<T> {
    pub value: T,
    pub rate: RateInfo,
}

pub struct Client {
    http: reqwest::Client,
    base: Url,
    /// Removes the key from anything the server sends back, before it is cut or escaped.
    redactor: Redactor,
    /// What TLS trusts (https only): its notes on unusable `SSL_CERT_*` entries are named
    /// when a server's certificate is refused.
    trust: Option<Arc<trust::Trust>>,
    /// Said with a 404 when the base URL has no API path.
    path_hint: Option<String>,
    /// For upload hosts (built when first needed): never carries the key.
    storage: std::sync::OnceLock<reqwest::Client>,
    /// Each post's request URLs once built (by `Call`): a poll clones its URL instead of
    /// setting and parsing the path again.
    urls: Mutex<HashMap<String, [Option<Url>; 3]>>,
    /// How far the API's clock is from this machine's, in ms, from the first answer with a
    /// `Date` header (`ratelimit::clock_offset`): the API's times are read on its clock.
    server_clock: std::sync::OnceLock<i64>,
}

/// A call on one post, and the path after `posts/{id}` it goes to.
#[derive(Clone, Copy)]
enum Call {
    Results,
    Post,
    Retry,
}

impl Call {
    fn tail(self) -> &'static str {
        match self {
            Call::Results => "/results",
            Call::Post => "",
            Call::Retry => "/retry",
        }
    }
}

/// Percent-encodes one path segment (everything but RFC 3986 unreserved characters).
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Client {
    /// `redactor` is the one built for `key` (or an empty one when there is no key).
    pub fn new(base: &Url, key: Option<&ApiKey>, redactor: Redactor) -> anyhow::Result<Self> {
        // Installing twice (e.g. the simulator's client) is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(key) = key {
            let mut auth = HeaderValue::from_str(&["Bearer ", key.expose()].concat()).map_err(|_| {
                anyhow::anyhow!("input 'api-key' contains characters not allowed in an HTTP header")
            })?;
            auth.set_sensitive(true);
            headers.insert(header::AUTHORIZATION, auth);
        }
        let builder = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .default_headers(headers)
            // Never follow a redirect: the key would travel with it.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10));
        // A proxy between us and a loopback API would see the key in clear (and could not
        // reach our loopback anyway): loopback is always direct.
        let builder = if crate::config::is_loopback(base) { builder.no_proxy() } else { builder };
        // `localhost` is loopback by name only: a hosts file or resolver may map it to
        // another machine, which would then get the key over plain http. It is pinned to
        // the loopback addresses (RFC 6761), whatever the resolver says.
        let builder = if base.host() == Some(url::Host::Domain("localhost")) {
            use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
            let loopback: [SocketAddr; 2] =
                [(Ipv4Addr::LOCALHOST, 0u16).into(), (Ipv6Addr::LOCALHOST, 0u16).into()];
            builder.resolve_to_addrs("localhost", &loopback)
        } else {
            builder
        };
        let mut trust = None;
        let builder = if base.scheme() == "https" {
            // The bundled web roots, SSL_CERT_FILE / SSL_CERT_DIR, then the OS store.
            let (tls, t) = trust::client_config().context("cannot set up TLS")?;
            trust = Some(t);
            builder.tls_backend_preconfigured(tls)
        } else {
            // Plain http is only allowed to loopback; skip loading any trust store.
            builder.tls_certs_only(Vec::new())
        };
        let http =
            builder.build().map_err(|e| anyhow::anyhow!("cannot set up the HTTP client: {}", chain(&e)))?;
        let mut base = base.clone();
        if !base.path().ends_with('/') {
            base.set_path(&[base.path(), "/"].concat());
        }
        // A 404 from a base URL without its API path is about the URL, not the post.
        let path_hint = crate::config::base_url_hint(&base).filter(|_| key.is_some());
        Ok(Self {
            http,
            base,
            redactor,
            trust,
            path_hint,
            storage: std::sync::OnceLock::new(),
            urls: Mutex::new(HashMap::new()),
            server_clock: std::sync::OnceLock::new(),
        })
    }

    /// Now on the API's clock, as its `Date` header showed it (this machine's until then,
    /// and when the two agree within seconds): what the times the API gives (a post's
    /// `created_at`, a reset, a next retry) are compared with. A runner whose clock is a few
    /// minutes ahead would otherwise not know the post its own lost create made, and post
    /// again.
    pub fn now(&self) -> SystemTime {
        ratelimit::shifted(SystemTime::now(), self.server_clock.get().copied().unwrap_or(0))
    }

    /// How far the API's clock is from this machine's, in ms, once an answer showed it to
    /// be more than a few seconds off.
    pub fn clock_offset(&self) -> Option<i64> {
        self.server_clock.get().copied().filter(|&ms| ms != 0)
    }

    /// `{base}posts/{id}{tail}`, built once per post and call.
    fn url(&self, post_id: &str, call: Call) -> Url {
        let mut urls = self.urls.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(url) = urls.get(post_id).and_then(|u| u[call as usize].as_ref()) {
            return url.clone();
        }
        let url = self.build_url(post_id, call.tail());
        urls.entry(post_id.to_owned()).or_default()[call as usize] = Some(url.clone());
        url
    }

    /// `{base}posts/{id}{tail}`. Only the path is parsed (the base was parsed once), as a
    /// relative `join` would, so dot segments resolve the same way.
    fn build_url(&self, post_id: &str, tail: &str) -> Url {
        let mut url = self.base.clone();
        url.set_query(None);
        url.set_fragment(None);
        url.set_path(&[self.base.path(), "posts/", &encode_segment(post_id), tail].concat());
        url
    }

    /// `GET {base}/posts/{id}/results`.
    pub async fn results(&self, post_id: &str, timeout: Duration) -> Result<Answer<Results>, Fault> {
        let req = self.http.get(self.url(post_id, Call::Results)).timeout(timeout);
        let (bytes, rate) = self.send_unscrubbed(req).await?;
        let value = lossy(&bytes, |b| decode_results(post_id, b, self.now()));
        self.scrubbed(value, bytes, rate)
    }

    /// `GET {base}/posts/{id}`: the post's status and schedule (destinations if listed).
    pub async fn post(&self, post_id: &str, timeout: Duration) -> Result<Answer<Results>, Fault> {
        let req = self.http.get(self.url(post_id, Call::Post)).timeout(timeout);
        let (bytes, rate) = self.send_unscrubbed(req).await?;
        let value = lossy(&bytes, |b| decode_post(post_id, b, self.now()));
        self.scrubbed(value, bytes, rate)
    }

    /// `POST {base}/posts/{id}/retry` with a JSON body. Any 2xx is a re-queue the API took,
    /// whatever its body (`204`, `202` with nothing, text): `retried_count` is read when the
    /// body is JSON that has it.
    pub async fn retry(
        &self,
        post_id: &str,
        body: &Value,
        timeout: Duration,
    ) -> Result<Answer<RetryAck>, Fault> {
        let req = self
            .http
            .post(self.url(post_id, Call::Retry))
            .timeout(timeout)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        // Only a number is kept from it: nothing to scrub.
        let (bytes, rate) = self.send_unscrubbed(req).await?;
        Ok(Answer { value: model::decode_retry_ack(&bytes), rate })
    }

    /// A decoded results or post answer, every string in it scrubbed; or the fault, told
    /// from the body scrubbed first (as it is cut to be quoted).
    fn scrubbed(
        &self,
        decoded: Result<Results, DecodeError>,
        bytes: Vec<u8>,
        rate: RateInfo,
    ) -> Result<Answer<Results>, Fault> {
        match decoded {
            Ok(mut value) => {
                self.scrub_results(&mut value);
                Ok(Answer { value, rate })
            }
            Err(e @ DecodeError::Unusable(_)) => Err(self
                .error_envelope(200, &bytes, "destinations")
                .unwrap_or_else(|| unusable(&self.redactor.scrub_bytes(bytes), e))),
            Err(e) => Err(unusable(&self.redactor.scrub_bytes(bytes), e)),
        }
    }

    /// A 2xx answer without what was asked for (`lacking`: destinations, a post id) but
    /// with an error in it (`{"data": null, "error": {...}}`): the API's own words,
    /// scrubbed, instead of "no results list". One the API calls retryable is tried again;
    /// `not_found` is taken as a 404; any other it calls not retryable stops the wait; the
    /// rest are tried again (as a fault that may have done something).
    #[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
    fn error_envelope(&self, status: u16, bytes: &[u8], lacking: &str) -> Option<Fault> {
        let mut err = model::decode_error(bytes);
        if err.code.is_none() && err.message.is_none() {
            return None;
        }
        for s in [&mut err.code, &mut err.message, &mut err.request_id].into_iter().flatten() {
            self.redactor.scrub_in_place(s);
        }
        let said = fault::describe_answer(status, &err);
        let message = format!("the API answered {said}, and no {lacking}");
        // "Not found" is a 404 whatever the status line said: for a post made a moment ago,
        // the API catching up (`PostWait::judge`).
        let not_found = err.code.as_deref().is_some_and(|c| c.eq_ignore_ascii_case("not_found"));
        Some(if not_found && err.retryable != Some(true) {
            Fault::Fatal { status: Some(404), message }
        } else if err.retryable == Some(false) {
            Fault::Fatal { status: None, message }
        } else {
            Fault::transient(message)
        })
    }

    /// Every string kept from a results body, decoded: JSON escapes (`pe\u005flive…`) can
    /// spell the key in a way only decoding reveals. Nothing else of a usable body is kept,
    /// so its raw bytes need no search of their own.
    fn scrub_results(&self, r: &mut Results) {
        let red = &self.redactor;
        for d in &mut r.destinations {
            let fields = [
                &mut d.id,
                &mut d.account_name,
                &mut d.url,
                &mut d.error,
                &mut d.published_at,
                &mut d.next_retry_at,
            ];
            for s in fields.into_iter().flatten() {
                red.scrub_in_place(s);
            }
            if let Some(Value::String(s)) = &mut d.account_id {
                red.scrub_in_place(s);
            }
            red.scrub_in_place(&mut d.platform);
            // In lower case, as the accounts list has it (answers spell it `LinkedIn` or
            // `linkedin`), and only now: a key with capitals, lower-cased before the scrub,
            // would no longer be the key it searches for.
            d.platform.make_ascii_lowercase();
            red.scrub_in_place(&mut d.raw_status);
        }
        for s in
            r.post_status.iter_mut().chain(r.scheduled_for.iter_mut()).chain(r.unknown_statuses.iter_mut())
        {
            red.scrub_in_place(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(encode_segment("f47ac10b-58cc"), "f47ac10b-58cc");
        assert_eq!(encode_segment("a/b?c#d e%"), "a%2Fb%3Fc%23d%20e%25");
        assert_eq!(encode_segment(".."), "..");
    }

    #[test]
    fn request_urls_are_built_once_per_post_and_call() {
        let base: Url = "http://127.0.0.1:9/api/v1?q=1#f".parse().unwrap();
        let c = Client::new(&base, None, Redactor::default()).unwrap();
        for (id, call, want) in [
            ("p1", Call::Results, "http://127.0.0.1:9/api/v1/posts/p1/results"),
            ("p1", Call::Post, "http://127.0.0.1:9/api/v1/posts/p1"),
            ("a/b c", Call::Retry, "http://127.0.0.1:9/api/v1/posts/a%2Fb%20c/retry"),
            ("..", Call::Results, "http://127.0.0.1:9/api/v1/results"),
        ] {
            for _ in 0..2 {
                assert_eq!(c.url(id, call).as_str(), want);
                assert_eq!(c.url(id, call), c.build_url(id, call.tail()));
            }
        }
        assert_eq!(c.urls.lock().unwrap().len(), 3);
    }
}

//! The calls that publish a post: the connected accounts, the three-step media upload
//! (ask for an upload URL, `PUT` the bytes there, mark it complete, then watch it become
//! ready), creating the post, and listing recent posts (to find one a failed create may
//! have made, or a re-run's). Answers are read tolerantly (envelope or bare, `id` or
//! `post_id`, …) and scrubbed of the key. The upload host gets no `Authorization` header.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Url;
use reqwest::header::{self, HeaderValue};
use serde_json::{Map, Value, json};

use super::filebody::FileBody;
use super::{Answer, Client, Fault};
use crate::config::publish::MediaFile;

/// A connected social account.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub id: i64,
    pub platform: String,
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub active: bool,
    pub health: Option<String>,
    pub health_message: Option<String>,
    pub can_post: Option<bool>,
}

impl Account {
    /// `x @yourbrand`, `linkedin Your Brand Inc.`, `x #2280`.
    pub fn label(&self) -> String {
        let name =
            self.username.as_deref().map(|u| if u.starts_with('@') { u.to_owned() } else { format!("@{u}") });
        match name.or_else(|| self.display_name.clone()) {
            Some(n) => format!("{} {n}", self.platform),
            None => format!("{} #{}", self.platform, self.id),
        }
    }

    /// Why nothing can be posted to it, if so: inactive, or its health says reconnect.
    pub fn unusable(&self) -> Option<String> {
        if !self.active {
            return Some("the account is inactive in PostEverywhere".into());
        }
        let status = self.health.as_deref().unwrap_or("").to_ascii_lowercase();
        let broken =
            matches!(status.as_str(), "expired" | "unhealthy" | "broken") || self.can_post == Some(false);
        broken.then(|| {
            let why = self.health_message.as_deref().unwrap_or("its token expired");
            format!(
                "health {}: {}",
                if status.is_empty() { "cannot post" } else { &status },
                crate::escape::one_line(why, 200)
            )
        })
    }
}

/// Where to `PUT` a media file.
#[derive(Debug, Clone)]
pub struct UploadSlot {
    pub media_id: String,
    pub url: Url,
}

/// A listed post, for finding one with the same content and accounts.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub post_id: String,
    pub content: Option<String>,
    pub account_ids: Vec<i64>,
    pub created_at: Option<SystemTime>,
    /// When it is (or was) to publish: `scheduled_for`, or the older `scheduled_at`.
    pub scheduled_for: Option<SystemTime>,
}

fn data(body: &Value) -> &Value {
    body.get("data").filter(|d| !d.is_null()).unwrap_or(body)
}

fn text(o: &Map<String, Value>, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| match o.get(*n) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// An id the API gave (a post's, a media file's) that can be used as one, by the post-id
/// input's rule (`config::id_problem`): outputs hold one id a line and drop what does not
/// fit, so an id with a line break would forge a second one, an overlong one would leave
/// `post-id` empty, and one with a comma would be two post ids to a later step.
fn id(o: &Map<String, Value>, names: &[&str]) -> Option<String> {
    text(o, names).filter(|s| crate::config::id_problem(s).is_none())
}

fn number(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_str()?.trim().parse().ok())
}

fn account(v: &Value) -> Option<Account> {
    let o = v.as_object()?;
    let health = o.get("health");
    let h = |k: &str| health.and_then(|h| h.get(k));
    Some(Account {
        id: o.get("id").or_else(|| o.get("account_id")).and_then(number)?,
        platform: text(o, &["platform"])?.to_ascii_lowercase(),
        username: text(o, &["platform_username", "username", "handle"]),
        display_name: text(o, &["display_name", "name", "account_name"]),
        active: o.get("is_active").and_then(Value::as_bool).unwrap_or(true),
        health: health
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| h("status")?.as_str().map(str::to_owned)),
        health_message: h("message").and_then(Value::as_str).map(str::to_owned),
        can_post: h("can_post").or_else(|| o.get("can_post")).and_then(Value::as_bool),
    })
}

/// The accounts of a `GET /accounts` answer: `accounts` under `data` or at the top, or
/// `data` as the list.
pub fn decode_accounts(body: &Value) -> Result<Vec<Account>, String> {
    let d = data(body);
    let list = d.get("accounts").or_else(|| body.get("accounts")).unwrap_or(d);
    let items = list.as_array().ok_or("no accounts list in the answer")?;
    Ok(items.iter().filter_map(account).collect())
}

/// A listed post's accounts: `account_ids`, or its destinations' `account_id`.
fn listed(v: &Value) -> Option<Listed> {
    let o = v.as_object()?;
    let mut account_ids: Vec<i64> = o
        .get("account_ids")
        .and_then(Value::as_array)
        .map_or_else(Vec::new, |a| a.iter().filter_map(number).collect());
    if account_ids.is_empty() {
        let dests = o.get("destinations").or_else(|| o.get("results")).and_then(Value::as_array);
        account_ids = dests.map_or_else(Vec::new, |d| {
            d.iter()
                .filter_map(|x| x.get("account_id").or_else(|| x.get("social_account_id")).and_then(number))
                .collect()
        });
    }
    Some(Listed {
        // Kept whatever it is: a post found with an id that cannot be used must still stop
        // the step from posting again (`Steps::find`).
        post_id: text(o, &["post_id", "id"])?,
        content: text(o, &["content", "text"]),
        account_ids,
        created_at: text(o, &["created_at"]).and_then(|t| crate::time::parse_time(&t)),
        scheduled_for: text(o, &["scheduled_for", "scheduled_at"]).and_then(|t| crate::time::parse_time(&t)),
    })
}

/// One page of `GET /posts`, and whether there are more.
pub fn decode_posts(body: &Value) -> Result<(Vec<Listed>, bool), String> {
    let d = data(body);
    let list = d.get("posts").or_else(|| body.get("posts")).unwrap_or(d);
    // `"posts": null` is a page with none (an empty window, as some APIs say it).
    let none = Vec::new();
    let items = if list.is_null() { &none } else { list.as_array().ok_or("no posts list in the answer")? };
    let more = d.get("pagination").and_then(|p| p.get("has_more")).and_then(Value::as_bool);
    Ok((items.iter().filter_map(listed).collect(), more.unwrap_or(items.len() >= PAGE)))
}

/// Posts asked for a page.
pub const PAGE: usize = 100;

/// A JSON request body.
fn with_json(req: reqwest::RequestBuilder, body: &Value) -> reqwest::RequestBuilder {
    req.header(header::CONTENT_TYPE, "application/json").body(body.to_string())
}

fn fatal(message: String) -> Fault {
    Fault::Fatal { status: None, message }
}

impl Client {
    /// The client for upload hosts: no key, no redirects, the same trust as the API's; a
    /// loopback host (the simulator's storage) is reached directly, others as the proxy
    /// settings say.
    fn storage(&self, url: &Url) -> anyhow::Result<reqwest::Client> {
        let loopback = crate::config::is_loopback(url);
        if let (Some(c), false) = (self.storage.get(), loopback) {
            return Ok(c.clone());
        }
        let builder = reqwest::Client::builder()
            .user_agent(super::USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10));
        if loopback && url.scheme() == "http" {
            // Plain http to this machine: no trust store to load.
            return Ok(builder.no_proxy().tls_certs_only(Vec::new()).build()?);
        }
        let (tls, _) = super::trust::client_config()?;
        let builder = builder.tls_backend_preconfigured(tls);
        if loopback {
            return Ok(builder.no_proxy().build()?);
        }
        let c = builder.build()?;
        Ok(self.storage.get_or_init(|| c).clone())
    }

    fn api_url(&self, path: &str) -> Result<Url, Fault> {
        self.base.join(path).map_err(|e| fatal(format!("cannot build the request URL: {e}")))
    }

    /// Sends and reads a JSON answer (these calls are few: a `Value` is fine here), every
    /// string in it scrubbed as decoded: scrubbing the raw body first could cut a JSON escape
    /// in two and spoil a usable answer. Bytes that are not UTF-8 are read as U+FFFD.
    async fn json(&self, req: reqwest::RequestBuilder) -> Result<Answer<Value>, Fault> {
        let (bytes, rate) = self.send_unscrubbed(req).await?;
        let mut value =
            super::exchange::lossy(&bytes, |b| serde_json::from_slice::<Value>(b)).map_err(|e| {
                Fault::transient(super::fault::not_json(&self.redactor.scrub_bytes(bytes.clone()), &e))
            })?;
        self.scrub_value(&mut value);
        Ok(Answer { value, rate })
    }

    /// Scrubs every string in a decoded answer.
    fn scrub_value(&self, v: &mut Value) {
        match v {
            Value::String(s) => self.redactor.scrub_in_place(s),
            Value::Array(a) => a.iter_mut().for_each(|v| self.scrub_value(v)),
            Value::Object(o) => o.values_mut().for_each(|v| self.scrub_value(v)),
            _ => {}
        }
    }

    /// `GET {base}/accounts`.
    pub async fn accounts(&self, timeout: Duration) -> Result<Answer<Vec<Account>>, Fault> {
        let a = self.json(self.http.get(self.api_url("accounts")?).timeout(timeout)).await?;
        let mut list =
            decode_accounts(&a.value).map_err(|e| Fault::transient(format!("unexpected answer: {e}")))?;
        for acc in &mut list {
            for s in [&mut acc.username, &mut acc.display_name, &mut acc.health_message].into_iter().flatten()
            {
                self.redactor.scrub_in_place(s);
            }
        }
        Ok(Answer { value: list, rate: a.rate })
    }

    /// `POST {base}/media/upload`: where to upload a file.
    pub async fn media_slot(&self, file: &MediaFile, timeout: Duration) -> Result<Answer<UploadSlot>, Fault> {
        let body = json!({"filename": file.name, "content_type": file.content_type, "file_size": file.size});
        let req = with_json(self.http.post(self.api_url("media/upload")?).timeout(timeout), &body);
        let a = self.json(req).await?;
        let d = data(&a.value).as_object().cloned().unwrap_or_default();
        let unexpected =
            |what: &str| Fault::transient(format!("unexpected answer: no {what} for the upload"));
        let media_id = id(&d, &["media_id", "id"]).ok_or_else(|| unexpected("usable media_id"))?;
        let url = text(&d, &["upload_url", "url"]).ok_or_else(|| unexpected("upload_url"))?;
        let url: Url = url.parse().map_err(|_| unexpected("usable upload_url"))?;
        Ok(Answer { value: UploadSlot { media_id, url }, rate: a.rate })
    }

    /// `PUT` a file's bytes to its upload URL: a storage host, which never gets the key,
    /// over https (plain http only to a loopback host).
    pub async fn upload(&self, slot: &UploadSlot, file: &MediaFile, timeout: Duration) -> Result<(), Fault> {
        let url = &slot.url;
        let plain_ok = url.scheme() == "http" && crate::config::is_loopback(url);
        if url.scheme() != "https" && !plain_ok {
            return Err(fatal(format!(
                "the API gave an upload URL that is not https ({}://{}); refusing to send the file in clear",
                url.scheme(),
                url.host_str().unwrap_or("")
            )));
        }
        let storage =
            self.storage(url).map_err(|e| fatal(format!("cannot set up the upload client: {e:#}")))?;
        let f = tokio::fs::File::open(&file.path)
            .await
            .map_err(|e| fatal(format!("cannot read {}: {e}", file.path.display())))?;
        let body = FileBody::new(f, file.size);
        let req = storage
            .put(url.clone())
            .timeout(timeout)
            .header(header::CONTENT_TYPE, HeaderValue::from_static(file.content_type))
            .header(header::CONTENT_LENGTH, file.size)
            .body(reqwest::Body::wrap(body));
        let resp = req.send().await.map_err(|e| self.network(&e))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let what = format!("the upload host answered HTTP {}", status.as_u16());
        if status.as_u16() == 429 || status.is_server_error() || status.as_u16() == 408 {
            // A storage host asks for a pause the same way (S3's 503 Slow Down may).
            let asked = super::exchange::retry_after(resp.headers());
            let after = super::ratelimit::asked_wait(asked, None, SystemTime::now());
            Err(Fault::Transient { reason: what, reached: true, after })
        } else {
            Err(Fault::Fatal {
                status: Some(status.as_u16()),
                message: format!("{what}; the upload URL may have expired"),
            })
        }
    }

    /// `POST {base}/media/{id}/complete`.
    pub async fn media_complete(&self, media_id: &str, timeout: Duration) -> Result<Answer<()>, Fault> {
        let url = self.api_url(&format!("media/{}/complete", super::encode_segment(media_id)))?;
        let (_, rate) = self.send_unscrubbed(self.http.post(url).timeout(timeout)).await?;
        Ok(Answer { value: (), rate })
    }

    /// `GET {base}/media/{id}`: `ready`, `failed` (with why), or anything else (not yet).
    pub async fn media_state(
        &self,
        media_id: &str,
        timeout: Duration,
    ) -> Result<Answer<(String, Option<String>)>, Fault> {
        let url = self.api_url(&format!("media/{}", super::encode_segment(media_id)))?;
        let a = self.json(self.http.get(url).timeout(timeout)).await?;
        let d = data(&a.value).as_object().cloned().unwrap_or_default();
        let state = text(&d, &["upload_status", "status"]).unwrap_or_default().to_ascii_lowercase();
        let mut why = text(&d, &["error", "message"]);
        if let Some(w) = &mut why {
            self.redactor.scrub_in_place(w);
        }
        Ok(Answer { value: (state, why), rate: a.rate })
    }

    /// `POST {base}/posts`: the new post's id (when the answer names it). A 2xx is the
    /// API taking the post, even when its body is cut short or cannot be read: `Ok(None)`,
    /// so the post is looked for and the create never sent again; so is a 303 See Other,
    /// which after a POST means "made; see there" (it is not followed). A 2xx with no id
    /// but the API's error in it is that error (`error_envelope`): refused when the API
    /// calls it not retryable, else a fault the post is looked for after. Any other answer
    /// that names the post in `data` with no `error` (a 207 or 422 as bulk creates give) made
    /// it: never called "not created".
    pub async fn create(&self, body: &Value, timeout: Duration) -> Result<Answer<Option<String>>, Fault> {
        let req = with_json(self.http.post(self.api_url("posts")?).timeout(timeout), body);
        let (resp, rate) = self.sent(req).await?;
        if resp.status() == reqwest::StatusCode::SEE_OTHER {
            return Ok(Answer { value: None, rate });
        }
        let status = resp.status();
        if status.is_redirection() {
            return Err(self.refused(resp, rate).await);
        }
        let asked = super::exchange::retry_after(resp.headers()).map(str::to_owned);
        let bytes = match self.read_capped(resp).await {
            Ok(bytes) => bytes,
            Err(_) if status.is_success() => return Ok(Answer { value: None, rate }),
            Err(f) => return Err(f),
        };
        let v = super::exchange::lossy(&bytes, |b| serde_json::from_slice::<Value>(b)).ok();
        let post_id = |o: &Map<String, Value>, names| id(o, names).map(|id| self.redactor.scrub(&id));
        if !status.is_success() {
            // Nothing but the post: no error, no message or errors beside it (a refusal that
            // echoes some id), and the post's own id field.
            let quiet = |v: &&Value| {
                ["error", "errors", "message"].iter().all(|k| v.get(k).is_none_or(Value::is_null))
            };
            let made =
                v.as_ref().filter(quiet).and_then(|v| post_id(v.get("data")?.as_object()?, &["post_id"]));
            return match made {
                Some(id) => Ok(Answer { value: Some(id), rate }),
                None => Err(self.refusal(status, asked.as_deref(), &bytes, rate)),
            };
        }
        let id = v.as_ref().and_then(|v| post_id(data(v).as_object()?, &["post_id", "id"]));
        // Only an explicit refusal is one: any other 2xx (a `message` beside the post, an
        // error the API does not call final) may have made the post, so it stays accepted.
        if id.is_none()
            && v.as_ref().is_some_and(refusal_in_2xx)
            && let Some(f) = self.error_envelope(status.as_u16(), &bytes, "post id")
        {
            return Err(f);
        }
        Ok(Answer { value: id, rate })
    }

    /// `GET {base}/posts`, newest first, created after `since` (older servers ignore the
    /// filters; the caller checks `created_at` itself).
    pub async fn list_posts(
        &self,
        offset: usize,
        since: SystemTime,
        timeout: Duration,
    ) -> Result<Answer<(Vec<Listed>, bool)>, Fault> {
        let mut url = self.api_url("posts")?;
        url.query_pairs_mut()
            .append_pair("limit", &PAGE.to_string())
            .append_pair("offset", &offset.to_string())
            // Not before the epoch (a machine with no clock set), which would not format.
            .append_pair(
                "created_after",
                &humantime::format_rfc3339_seconds(since.max(UNIX_EPOCH)).to_string(),
            )
            .append_pair("sort", "created_at")
            .append_pair("order", "desc");
        let a = self.json(self.http.get(url).timeout(timeout)).await?;
        let page = decode_posts(&a.value).map_err(|e| Fault::transient(format!("unexpected answer: {e}")))?;
        Ok(Answer { value: page, rate: a.rate })
    }
}

#[cfg(test)]
mod tests;

/// Whether a 2xx answer is the API refusing for good: no data, and an error it calls not
/// retryable (`{"data": null, "error": {"retryable": false, ...}}`).
fn refusal_in_2xx(v: &Value) -> bool {
    v.get("data").is_none_or(Value::is_null)
        && v.get("error").and_then(|e| e.get("retryable")).and_then(Value::as_bool) == Some(false)
}

//! Decoding PostEverywhere's response bodies, in every shape seen in the wild
//! (posteverywhere-api.md §2, §3, §10, §13): the `{data, error, meta}` envelope or a bare
//! object; destinations under `results` or `destinations` (in `data` or at the top level),
//! or `data` as the list; three names for the link, two for the error and two for the
//! account id. Unknown fields are ignored. Results bodies are read by `wire` into typed
//! structs (no `Value` tree per answer); error bodies, rare, go through `serde_json::Value`.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};

use super::wire::{self, Body, Ctx, Fields, List};
use crate::model::{Destination, classify};

/// A decoded results answer for one post.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Results {
    pub post_status: Option<String>,
    /// Post-level schedule, when the body carries one (GET /posts/{id}).
    pub scheduled_for: Option<String>,
    /// The accounts the post is for, when the body names them (GET /posts/{id}); ids that
    /// are neither a whole number nor a string of one are left out.
    pub account_ids: Vec<i64>,
    pub destinations: Vec<Destination>,
    /// Status words we did not recognise (treated as pending).
    pub unknown_statuses: Vec<String>,
    /// How long until `scheduled_for` (zero when past) from when the answer was read, on
    /// the API's clock as `Client::now` reads it (GET /posts/{id} only): the wait adds it to
    /// its own elapsed time, so its deadline is never set against a time of day.
    pub scheduled_in: Option<Duration>,
}

/// The API's error object, from the envelope or a bare `{"error": …}` body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ErrorBody {
    pub code: Option<String>,
    pub message: Option<String>,
    pub retryable: Option<bool>,
    pub request_id: Option<String>,
    /// `retryAfter` / `retry_after` in seconds, from the error object or the top level.
    pub retry_after_secs: Option<f64>,
}

/// What a successful retry call said. Any 2xx means the API took the re-queue; the body
/// is optional (`204`, an empty `202`, text) and only read for `retried_count`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetryAck {
    /// `retried_count` (or the older `retried`), when the body is JSON that has it.
    pub retried_count: Option<u64>,
}

/// Reads a retry answer's body, whatever it is.
pub fn decode_retry_ack(bytes: &[u8]) -> RetryAck {
    let Ok(v) = serde_json::from_slice::<Value>(bytes) else { return RetryAck::default() };
    let data = v.get("data").filter(|d| d.is_object()).unwrap_or(&v);
    RetryAck {
        retried_count: ["retried_count", "retried"].iter().find_map(|k| data.get(*k).and_then(Value::as_u64)),
    }
}

/// Why a body could not be used.
#[derive(Debug)]
pub enum DecodeError {
    /// The bytes are not JSON (see `api::not_json` for how that is told).
    NotJson(serde_json::Error),
    /// JSON, but not an answer we can read.
    Unusable(String),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::NotJson(e) => e.fmt(f),
            DecodeError::Unusable(why) => f.write_str(why),
        }
    }
}

fn read(post_id: &str, bytes: &[u8], now: SystemTime) -> Result<Body, DecodeError> {
    wire::read(Ctx { post_id, now }, bytes).map_err(DecodeError::NotJson)
}

fn string(v: Option<Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

/// A non-empty string, or a number rendered as a string.
fn id(v: Option<Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// The error text of a destination: a string as is, an object's message (with its code), or
/// any other JSON compactly.
fn error_text(v: Option<Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s),
        Value::Object(o) => {
            let message = o.get("message").and_then(Value::as_str);
            let code = o.get("code").and_then(Value::as_str);
            match (code, message) {
                (Some(c), Some(m)) => Some(format!("{m} ({c})")),
                (None, Some(m)) => Some(m.to_owned()),
                _ => Some(Value::Object(o).to_string()),
            }
        }
        other => Some(other.to_string()),
    }
}

/// One destination from its fields; also says whether its status word was unknown.
pub(super) fn destination(ctx: Ctx<'_>, d: &mut Fields) -> (Destination, bool) {
    let raw_status = string(d.take("status")).or_else(|| string(d.take("new_status"))).unwrap_or_default();
    // A number or other non-null value is kept as text: unreadable as a time, it counts as
    // a retry still ahead (see `classify`).
    let next_retry_at = match d.take("next_retry_at") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    };
    let (status, unknown) = classify(&raw_status, next_retry_at.as_deref(), ctx.now);
    // The results schema says integer, string or null: any other number is kept as a string
    // (`1.5` as "1.5"), not dropped, so the destination stays identifiable by it.
    let account_id =
        [d.take("account_id"), d.take("social_account_id")].into_iter().flatten().find_map(|v| match v {
            Value::Number(n) if !(n.is_i64() || n.is_u64()) => Some(Value::String(n.to_string())),
            Value::Number(_) | Value::String(_) => Some(v),
            _ => None,
        });
    let error = error_text(d.take("error")).or_else(|| error_text(d.take("last_error")));
    let attempts = match d.take("attempts") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let dest = Destination {
        post_id: ctx.post_id.to_owned(),
        id: id(d.take("id")).or_else(|| id(d.take("destination_id"))),
        account_id,
        account_name: string(d.take("account_name")),
        // As sent: `Client::scrub_results` lower-cases it once the key is scrubbed from it
        // (lower-casing first would hide a key with capitals from the scrub).
        platform: string(d.take("platform")).unwrap_or_else(|| crate::model::UNKNOWN_PLATFORM.to_owned()),
        status,
        raw_status,
        url: string(d.take("platform_post_url"))
            .or_else(|| string(d.take("url")))
            .or_else(|| string(d.take("permalink"))),
        error,
        attempts,
        published_at: string(d.take("published_at")),
        next_retry_at,
        retries: 0,
        note: None,
        class: None,
    };
    (dest, unknown)
}

/// The destinations and post status of a read body.
fn results(body: Body) -> Result<Results, DecodeError> {
    let mut top =
        body.0.map_err(|kind| DecodeError::Unusable(format!("expected a JSON object, got {kind}")))?;
    let mut data = top.data.take();
    let payload = data.as_deref_mut().unwrap_or(&mut top);
    let post_status = payload.post_status.take().or_else(|| payload.status.take());
    let scheduled_for = payload.scheduled_for.take().or_else(|| payload.scheduled_at.take());
    let in_payload = payload.results.take().or_else(|| payload.destinations.take());
    let list: List = in_payload
        .or_else(|| top.results.take())
        .or_else(|| top.destinations.take())
        .or_else(|| top.data_list.take())
        .ok_or_else(|| DecodeError::Unusable("no `results` or `destinations` list in the answer".into()))?;
    if let Some(kind) = list.not_object {
        return Err(DecodeError::Unusable(format!("a destination is not an object: {kind}")));
    }
    Ok(Results {
        post_status,
        scheduled_for,
        account_ids: Vec::new(),
        destinations: list.destinations,
        unknown_statuses: list.unknown_statuses,
        scheduled_in: None,
    })
}

/// Decodes a results body (`GET /posts/{id}/results`) for `post_id`; `now` on the API's
/// clock (a next retry is judged against it).
pub fn decode_results(post_id: &str, bytes: &[u8], now: SystemTime) -> Result<Results, DecodeError> {
    results(read(post_id, bytes, now)?)
}

/// How long until `at` (an RFC 3339 time), from `now` on the same clock: zero when past.
fn scheduled_in(at: Option<&str>, now: SystemTime) -> Option<Duration> {
    let at = crate::time::parse_time(at?)?;
    Some(at.duration_since(now).unwrap_or_default())
}

/// Decodes a post body (`GET /posts/{id}`): its status and schedule, and its destinations
/// when it lists them (none otherwise). Fails only when the body is not JSON.
pub fn decode_post(post_id: &str, bytes: &[u8], now: SystemTime) -> Result<Results, DecodeError> {
    let mut body = read(post_id, bytes, now)?;
    let (mut post_status, mut scheduled_for, mut account_ids) = (None, None, Vec::new());
    if let Ok(top) = &mut body.0 {
        let payload = match top.data.as_deref_mut() {
            Some(data) => data,
            None => top,
        };
        post_status = payload.status.take().or_else(|| payload.post_status.take());
        scheduled_for = payload.scheduled_for.take().or_else(|| payload.scheduled_at.take());
        if let Some(Value::Array(ids)) = payload.account_ids.take() {
            account_ids = ids.iter().filter_map(crate::model::account_number).collect();
            account_ids.sort_unstable();
            account_ids.dedup();
        }
    }
    let destinations = results(body).map(|r| r.destinations).unwrap_or_default();
    Ok(Results {
        post_status,
        scheduled_in: scheduled_in(scheduled_for.as_deref(), now),
        scheduled_for,
        account_ids,
        destinations,
        unknown_statuses: Vec::new(),
    })
}

fn str_field<'a>(obj: &'a Map<String, Value>, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|n| obj.get(*n).and_then(Value::as_str))
}

/// Reads the error object and request id from any error body (enveloped or bare); a body
/// that is not a JSON object gives an empty `ErrorBody`.
#[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
pub fn decode_error(bytes: &[u8]) -> ErrorBody {
    let Ok(Value::Object(top)) = serde_json::from_slice::<Value>(bytes) else {
        return ErrorBody::default();
    };
    let meta = top.get("meta").and_then(Value::as_object);
    let request_id = meta
        .and_then(|m| str_field(m, &["request_id", "requestId"]))
        .or_else(|| str_field(&top, &["request_id", "requestId"]))
        .map(str::to_owned);
    let retry_after = |o: &Map<String, Value>| {
        ["retryAfter", "retry_after"].iter().find_map(|k| match o.get(*k) {
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        })
    };
    let mut out = ErrorBody { request_id, retry_after_secs: retry_after(&top), ..ErrorBody::default() };
    match top.get("error") {
        Some(Value::Object(e)) => {
            out.code = str_field(e, &["code"]).map(str::to_owned);
            out.message = str_field(e, &["message"]).map(str::to_owned);
            out.retryable = e.get("retryable").and_then(Value::as_bool);
            out.retry_after_secs = retry_after(e).or(out.retry_after_secs);
        }
        Some(Value::String(s)) => out.message = Some(s.clone()),
        _ => out.message = str_field(&top, &["message"]).map(str::to_owned),
    }
    out
}

#[cfg(test)]
mod tests;

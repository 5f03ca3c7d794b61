//! Decoding PostEverywhere's response bodies, in every shape seen in the wild
//! (posteverywhere-api.md §2, §3, §10, §13): the `{data, error, meta}` envelope or a bare
//! object; destinations under `results` or `destinations`; three names for the link, two
//! for the error and two for the account id. Unknown fields are ignored.

use serde_json::{Map, Value};

use crate::model::{Destination, classify};

/// A decoded results answer for one post.
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    pub post_status: Option<String>,
    /// Post-level schedule, when the body carries one (GET /posts/{id}).
    pub scheduled_for: Option<String>,
    pub destinations: Vec<Destination>,
    /// Status words we did not recognise (treated as pending).
    pub unknown_statuses: Vec<String>,
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

/// The object that holds the payload: `data` when it is an object, else the body itself.
fn payload(body: &Value) -> Option<&Map<String, Value>> {
    let top = body.as_object()?;
    match top.get("data") {
        Some(Value::Object(d)) => Some(d),
        _ => Some(top),
    }
}

fn str_field<'a>(obj: &'a Map<String, Value>, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|n| obj.get(*n).and_then(Value::as_str))
}

/// A string, or a number rendered as a string.
fn id_field(obj: &Map<String, Value>, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| match obj.get(*n) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// The error text of a destination: a string as is, an object's message (with its code), or
/// any other JSON compactly.
fn error_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => {
            let message = o.get("message").and_then(Value::as_str);
            let code = o.get("code").and_then(Value::as_str);
            match (code, message) {
                (Some(c), Some(m)) => Some(format!("{m} ({c})")),
                (None, Some(m)) => Some(m.to_owned()),
                _ => Some(v.to_string()),
            }
        }
        other => Some(other.to_string()),
    }
}

fn destination(post_id: &str, v: &Value) -> Result<(Destination, bool), DecodeError> {
    let obj =
        v.as_object().ok_or_else(|| DecodeError(format!("a destination is not an object: {}", kind(v))))?;
    let raw_status = str_field(obj, &["status", "new_status"]).unwrap_or("").to_owned();
    // A number or other non-null value is kept as text: unreadable as a time, it counts as
    // a retry still ahead (see `classify`).
    let next_retry_at = match obj.get("next_retry_at") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    let (status, unknown) = classify(&raw_status, next_retry_at.as_deref(), std::time::SystemTime::now());
    let account_id = ["account_id", "social_account_id"].iter().find_map(|n| match obj.get(*n) {
        Some(v @ (Value::Number(_) | Value::String(_))) => Some(v.clone()),
        _ => None,
    });
    let error = ["error", "last_error"].iter().find_map(|n| obj.get(*n).and_then(error_text));
    let attempts = match obj.get("attempts") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let dest = Destination {
        post_id: post_id.to_owned(),
        id: id_field(obj, &["id", "destination_id"]),
        account_id,
        account_name: str_field(obj, &["account_name"]).map(str::to_owned),
        platform: str_field(obj, &["platform"]).unwrap_or("unknown").to_owned(),
        status,
        raw_status,
        url: str_field(obj, &["platform_post_url", "url", "permalink"]).map(str::to_owned),
        error,
        attempts,
        published_at: str_field(obj, &["published_at"]).map(str::to_owned),
        next_retry_at,
        retries: 0,
        note: None,
        class: None,
    };
    Ok((dest, unknown))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Decodes a results (or GET /posts/{id}) body for `post_id`.
pub fn decode_results(post_id: &str, body: &Value) -> Result<Results, DecodeError> {
    let top =
        body.as_object().ok_or_else(|| DecodeError(format!("expected a JSON object, got {}", kind(body))))?;
    let data = payload(body).unwrap_or(top);
    let list = ["results", "destinations"]
        .iter()
        .find_map(|k| data.get(*k).and_then(Value::as_array))
        .or_else(|| ["results", "destinations"].iter().find_map(|k| top.get(*k).and_then(Value::as_array)))
        .or_else(|| top.get("data").and_then(Value::as_array))
        .ok_or_else(|| DecodeError("no `results` or `destinations` list in the answer".into()))?;
    let mut destinations = Vec::with_capacity(list.len());
    let mut unknown_statuses = Vec::new();
    for item in list {
        let (d, unknown) = destination(post_id, item)?;
        if unknown && !unknown_statuses.contains(&d.raw_status) {
            unknown_statuses.push(d.raw_status.clone());
        }
        destinations.push(d);
    }
    Ok(Results {
        post_status: str_field(data, &["post_status", "status"]).map(str::to_owned),
        scheduled_for: str_field(data, &["scheduled_for", "scheduled_at"]).map(str::to_owned),
        destinations,
        unknown_statuses,
    })
}

/// Reads the error object and request id from any error body (enveloped or bare).
pub fn decode_error(body: &Value) -> ErrorBody {
    let Some(top) = body.as_object() else {
        return ErrorBody::default();
    };
    let meta = top.get("meta").and_then(Value::as_object);
    let request_id = meta
        .and_then(|m| str_field(m, &["request_id", "requestId"]))
        .or_else(|| str_field(top, &["request_id", "requestId"]))
        .map(str::to_owned);
    let retry_after = |o: &Map<String, Value>| {
        ["retryAfter", "retry_after"].iter().find_map(|k| match o.get(*k) {
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        })
    };
    let mut out = ErrorBody { request_id, retry_after_secs: retry_after(top), ..ErrorBody::default() };
    match top.get("error") {
        Some(Value::Object(e)) => {
            out.code = str_field(e, &["code"]).map(str::to_owned);
            out.message = str_field(e, &["message"]).map(str::to_owned);
            out.retryable = e.get("retryable").and_then(Value::as_bool);
            out.retry_after_secs = retry_after(e).or(out.retry_after_secs);
        }
        Some(Value::String(s)) => out.message = Some(s.clone()),
        _ => out.message = str_field(top, &["message"]).map(str::to_owned),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::State;
    use serde_json::json;

    #[test]
    fn documented_envelope() {
        let body = json!({"data": {"post_id": "p", "post_status": "publishing", "results": [
            {"account_id": 2280, "account_name": "@mybrand", "platform": "instagram", "status": "published",
             "platform_post_url": "https://www.instagram.com/p/ABC/", "error": null, "attempts": 1, "next_retry_at": null},
            {"account_id": 2285, "platform": "linkedin", "status": "failed",
             "error": "Token expired. Please reconnect.", "attempts": 3, "next_retry_at": null}]},
            "error": null, "meta": {"request_id": "a1"}});
        let r = decode_results("p", &body).unwrap();
        assert_eq!(r.post_status.as_deref(), Some("publishing"));
        assert_eq!(r.destinations.len(), 2);
        let ig = &r.destinations[0];
        assert_eq!(ig.status, State::Published);
        assert_eq!(ig.url.as_deref(), Some("https://www.instagram.com/p/ABC/"));
        assert_eq!(ig.account_id, Some(json!(2280)));
        assert_eq!(r.destinations[1].status, State::Failed);
        assert_eq!(r.destinations[1].error.as_deref(), Some("Token expired. Please reconnect."));
    }

    #[test]
    fn older_sdk_and_polling_guide_shapes() {
        let sdk = json!({"data": {"post_id": "p", "results": [
            {"id": "d1", "platform": "x", "social_account_id": 7, "status": "done", "last_error": {"code": "x", "message": "m"}}]}});
        let d = &decode_results("p", &sdk).unwrap().destinations[0];
        assert_eq!(
            (d.status, d.id.as_deref(), d.account_id.clone()),
            (State::Published, Some("d1"), Some(json!(7)))
        );
        assert_eq!(d.error.as_deref(), Some("m (x)"));

        let guide =
            json!({"destinations": [{"platform": "x", "status": "published", "url": "https://x.com/1"}]});
        let d = &decode_results("p", &guide).unwrap().destinations[0];
        assert_eq!(d.url.as_deref(), Some("https://x.com/1"));

        let data_dest = json!({"data": {"destinations": [{"platform": "x", "status": "queued", "permalink": "https://x/2"}]}});
        let d = &decode_results("p", &data_dest).unwrap().destinations[0];
        assert_eq!((d.status, d.url.as_deref()), (State::Pending, Some("https://x/2")));
    }

    #[test]
    fn unusable_bodies_are_errors() {
        assert!(decode_results("p", &json!([1])).is_err());
        assert!(decode_results("p", &json!({"data": {"post_id": "p"}})).is_err());
        assert!(decode_results("p", &json!({"results": [1]})).is_err());
    }

    #[test]
    fn unknown_statuses_are_collected_once() {
        let body = json!({"results": [{"platform": "a", "status": "warping"}, {"platform": "b", "status": "warping"}]});
        assert_eq!(decode_results("p", &body).unwrap().unknown_statuses, vec!["warping".to_owned()]);
    }

    #[test]
    fn error_bodies() {
        let e = decode_error(
            &json!({"data": null, "error": {"code": "unauthorized", "message": "Invalid key", "retryable": false},
            "meta": {"requestId": "req_1"}}),
        );
        assert_eq!(e.code.as_deref(), Some("unauthorized"));
        assert_eq!(e.request_id.as_deref(), Some("req_1"));
        assert_eq!(e.retryable, Some(false));
        let e = decode_error(&json!({"error": {"code": "rate_limited", "retryAfter": 32}}));
        assert_eq!(e.retry_after_secs, Some(32.0));
        let e = decode_error(&json!({"error": {"code": "rate_limit_exceeded", "retry_after": "5"}}));
        assert_eq!(e.retry_after_secs, Some(5.0));
    }
}

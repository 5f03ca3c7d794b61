//! Decoding PostEverywhere's response bodies, in every shape seen in the wild
//! (posteverywhere-api.md §2, §3, §10, §13): the `{data, error, meta}` envelope or a bare
//! object; destinations under `results` or `destinations` (in `data` or at the top level),
//! or `data` as the list; three names for the link, two for the error and two for the
//! account id. Unknown fields are ignored. Results bodies are read by `wire` into typed
//! structs (no `Value` tree per answer); error bodies, rare, go through `serde_json::Value`.

use std::fmt;
use std::time::SystemTime;

use serde_json::{Map, Value};

use super::wire::{self, Body, Ctx, Fields, List};
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

fn read(post_id: &str, bytes: &[u8]) -> Result<Body, DecodeError> {
    wire::read(Ctx { post_id, now: SystemTime::now() }, bytes).map_err(DecodeError::NotJson)
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
        // In lower case, as the accounts list has it: answers spell it `LinkedIn` or `linkedin`.
        platform: string(d.take("platform")).map_or_else(
            || crate::model::UNKNOWN_PLATFORM.to_owned(),
            |mut p| {
                p.make_ascii_lowercase();
                p
            },
        ),
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
        destinations: list.destinations,
        unknown_statuses: list.unknown_statuses,
    })
}

/// Decodes a results body (`GET /posts/{id}/results`) for `post_id`.
pub fn decode_results(post_id: &str, bytes: &[u8]) -> Result<Results, DecodeError> {
    results(read(post_id, bytes)?)
}

/// Decodes a post body (`GET /posts/{id}`): its status and schedule, and its destinations
/// when it lists them (none otherwise). Fails only when the body is not JSON.
pub fn decode_post(post_id: &str, bytes: &[u8]) -> Result<Results, DecodeError> {
    let mut body = read(post_id, bytes)?;
    let (mut post_status, mut scheduled_for) = (None, None);
    if let Ok(top) = &mut body.0 {
        let payload = match top.data.as_deref_mut() {
            Some(data) => data,
            None => top,
        };
        post_status = payload.status.take().or_else(|| payload.post_status.take());
        scheduled_for = payload.scheduled_for.take().or_else(|| payload.scheduled_at.take());
    }
    let destinations = results(body).map(|r| r.destinations).unwrap_or_default();
    Ok(Results { post_status, scheduled_for, destinations, unknown_statuses: Vec::new() })
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
mod tests {
    use super::*;
    use crate::model::State;
    use serde_json::json;

    fn decode(body: Value) -> Result<Results, DecodeError> {
        decode_results("p", body.to_string().as_bytes())
    }

    fn error(body: Value) -> ErrorBody {
        decode_error(body.to_string().as_bytes())
    }

    #[test]
    fn documented_envelope() {
        let body = json!({"data": {"post_id": "p", "post_status": "publishing", "results": [
            {"account_id": 2280, "account_name": "@mybrand", "platform": "instagram", "status": "published",
             "platform_post_url": "https://www.instagram.com/p/ABC/", "error": null, "attempts": 1, "next_retry_at": null},
            {"account_id": 2285, "platform": "linkedin", "status": "failed",
             "error": "Token expired. Please reconnect.", "attempts": 3, "next_retry_at": null}]},
            "error": null, "meta": {"request_id": "a1"}});
        let r = decode(body).unwrap();
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
        let d = &decode(sdk).unwrap().destinations[0];
        assert_eq!(
            (d.status, d.id.as_deref(), d.account_id.clone()),
            (State::Published, Some("d1"), Some(json!(7)))
        );
        assert_eq!(d.error.as_deref(), Some("m (x)"));

        let guide =
            json!({"destinations": [{"platform": "x", "status": "published", "url": "https://x.com/1"}]});
        let d = &decode(guide).unwrap().destinations[0];
        assert_eq!(d.url.as_deref(), Some("https://x.com/1"));

        let data_dest = json!({"data": {"destinations": [{"platform": "x", "status": "queued", "permalink": "https://x/2"}]}});
        let d = &decode(data_dest).unwrap().destinations[0];
        assert_eq!((d.status, d.url.as_deref()), (State::Pending, Some("https://x/2")));
    }

    #[test]
    fn unusable_bodies_are_errors() {
        assert!(decode(json!([1])).is_err());
        assert!(decode(json!({"data": {"post_id": "p"}})).is_err());
        assert!(decode(json!({"results": [1]})).is_err());
    }

    #[test]
    fn unknown_statuses_are_collected_once() {
        let body = json!({"results": [{"platform": "a", "status": "warping"}, {"platform": "b", "status": "warping"}]});
        assert_eq!(decode(body).unwrap().unknown_statuses, vec!["warping".to_owned()]);
    }

    #[test]
    fn error_bodies() {
        let e = error(
            json!({"data": null, "error": {"code": "unauthorized", "message": "Invalid key", "retryable": false},
            "meta": {"requestId": "req_1"}}),
        );
        assert_eq!(e.code.as_deref(), Some("unauthorized"));
        assert_eq!(e.request_id.as_deref(), Some("req_1"));
        assert_eq!(e.retryable, Some(false));
        let e = error(json!({"error": {"code": "rate_limited", "retryAfter": 32}}));
        assert_eq!(e.retry_after_secs, Some(32.0));
        let e = error(json!({"error": {"code": "rate_limit_exceeded", "retry_after": "5"}}));
        assert_eq!(e.retry_after_secs, Some(5.0));
    }

    #[test]
    fn fields_of_an_unexpected_type_read_as_absent() {
        let body = json!({"results": [{
            "status": 5, "new_status": "failed", "platform": {"name": "x"}, "account_name": [1],
            "platform_post_url": 7, "url": null, "permalink": "https://p/1", "id": "", "destination_id": 9,
            "account_id": true, "social_account_id": "77", "attempts": " 3 ", "next_retry_at": 1893456000,
            "error": "  ", "last_error": {"detail": "quota"}, "published_at": false, "extra": {"deep": [1, {}]}}]});
        let d = &decode(body).unwrap().destinations[0];
        assert_eq!((d.raw_status.as_str(), d.status), ("failed", State::Pending), "a retry time ahead");
        assert_eq!((d.platform.as_str(), d.account_name.as_deref()), ("unknown", None));
        assert_eq!((d.url.as_deref(), d.id.as_deref()), (Some("https://p/1"), Some("9")));
        assert_eq!((d.account_id.clone(), d.attempts), (Some(json!("77")), Some(3)));
        assert_eq!(d.next_retry_at.as_deref(), Some("1893456000"));
        assert_eq!(d.error.as_deref(), Some(r#"{"detail":"quota"}"#));
        assert_eq!(d.published_at, None);
        let d =
            &decode(json!({"results": [{"platform": "x", "status": "failed", "error": [1, "a"]}]})).unwrap();
        assert_eq!(d.destinations[0].error.as_deref(), Some(r#"[1,"a"]"#));
    }

    /// The results file's schema says integer, string or null; 1.5 once reached it as is.
    #[test]
    fn account_ids_stay_integers_or_text() {
        let big = json!(u64::MAX);
        for (sent, kept) in [(json!(1.5), json!("1.5")), (json!(1e3), json!("1000.0")), (big.clone(), big)] {
            let body = json!({"results": [{"platform": "x", "status": "queued", "account_id": sent}]});
            assert_eq!(decode(body).unwrap().destinations[0].account_id, Some(kept), "{sent}");
        }
    }

    #[test]
    fn the_list_is_found_wherever_it_is() {
        let dest = json!({"platform": "x", "status": "published"});
        for body in [
            json!({"data": {"results": "none", "destinations": [dest]}}),
            json!({"data": {"post_status": "publishing"}, "results": [dest]}),
            json!({"data": {"results": 3}, "destinations": [dest]}),
            json!({"data": [dest]}),
            json!({"data": null, "results": [dest], "error": null}),
            json!({"data": {"results": [dest]}, "results": [1]}),
        ] {
            let r = decode(body.clone()).unwrap_or_else(|e| panic!("{body}: {e:?}"));
            assert_eq!(r.destinations.len(), 1, "{body}");
        }
        let r = decode(json!({"data": {"post_status": "scheduled", "scheduled_at": "2030-01-01T00:00:00Z",
            "results": []}, "post_status": "ignored"}))
        .unwrap();
        assert_eq!(
            (r.post_status.as_deref(), r.scheduled_for.as_deref()),
            (Some("scheduled"), Some("2030-01-01T00:00:00Z"))
        );
        assert_eq!(decode(json!("text")).unwrap_err().to_string(), "expected a JSON object, got a string");
        assert_eq!(
            decode(json!({"results": [[]]})).unwrap_err().to_string(),
            "a destination is not an object: an array"
        );
    }

    #[test]
    fn keys_are_read_as_json_defines_them() {
        let raw = br#"{"results": [{"platform": "x", "status": "queued", "status": "published",
            "pl\u0061tform_post_url": "https:\/\/x\/1"}]}"#;
        let d = &decode_results("p", raw).unwrap().destinations[0];
        assert_eq!((d.status, d.url.as_deref()), (State::Published, Some("https://x/1")), "last key wins");
        assert!(matches!(decode_results("p", b"<html>"), Err(DecodeError::NotJson(_))));
        let truncated = decode_results("p", br#"{"data": {"results": ["#);
        assert!(matches!(truncated, Err(DecodeError::NotJson(e)) if e.is_eof()));
        assert!(matches!(decode_results("p", b"{} x"), Err(DecodeError::NotJson(_))), "trailing bytes");
    }

    #[test]
    fn post_bodies_give_status_schedule_and_any_destinations() {
        let body = json!({"data": {"id": "p", "status": "scheduled", "post_status": "other",
            "scheduled_at": "2030-01-01T00:00:00Z"}});
        let r = decode_post("p", body.to_string().as_bytes()).unwrap();
        assert_eq!(
            (r.post_status.as_deref(), r.scheduled_for.as_deref()),
            (Some("scheduled"), Some("2030-01-01T00:00:00Z"))
        );
        assert!(r.destinations.is_empty(), "no list is no error here");
        let body =
            json!({"post_status": "publishing", "destinations": [{"platform": "x", "status": "live"}]});
        let r = decode_post("p", body.to_string().as_bytes()).unwrap();
        assert_eq!((r.post_status.as_deref(), r.destinations.len()), (Some("publishing"), 1));
        assert!(decode_post("p", b"[1]").unwrap().post_status.is_none());
        assert!(matches!(decode_post("p", b"nope"), Err(DecodeError::NotJson(_))));
    }
}

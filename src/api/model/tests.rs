use super::*;
use crate::model::State;
use serde_json::json;

fn decode(body: Value) -> Result<Results, DecodeError> {
    decode_results("p", body.to_string().as_bytes(), SystemTime::now())
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

    let guide = json!({"destinations": [{"platform": "x", "status": "published", "url": "https://x.com/1"}]});
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
    let body =
        json!({"results": [{"platform": "a", "status": "warping"}, {"platform": "b", "status": "warping"}]});
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
    let d = &decode(json!({"results": [{"platform": "x", "status": "failed", "error": [1, "a"]}]})).unwrap();
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
    let d = &decode_results("p", raw, SystemTime::now()).unwrap().destinations[0];
    assert_eq!((d.status, d.url.as_deref()), (State::Published, Some("https://x/1")), "last key wins");
    assert!(matches!(decode_results("p", b"<html>", SystemTime::now()), Err(DecodeError::NotJson(_))));
    let truncated = decode_results("p", br#"{"data": {"results": ["#, SystemTime::now());
    assert!(matches!(truncated, Err(DecodeError::NotJson(e)) if e.is_eof()));
    assert!(
        matches!(decode_results("p", b"{} x", SystemTime::now()), Err(DecodeError::NotJson(_))),
        "trailing bytes"
    );
}

#[test]
fn post_bodies_give_status_schedule_and_any_destinations() {
    let body = json!({"data": {"id": "p", "status": "scheduled", "post_status": "other",
        "scheduled_at": "2030-01-01T00:00:00Z"}});
    // Read on the API's clock (`now`), a day before it is due.
    let api_now = httpdate::parse_http_date("Mon, 31 Dec 2029 00:00:00 GMT").unwrap();
    let r = decode_post("p", body.to_string().as_bytes(), api_now).unwrap();
    assert_eq!(
        (r.post_status.as_deref(), r.scheduled_for.as_deref(), r.scheduled_in),
        (Some("scheduled"), Some("2030-01-01T00:00:00Z"), Some(Duration::from_secs(86_400)))
    );
    let later = api_now + Duration::from_secs(90_000);
    let r = decode_post("p", body.to_string().as_bytes(), later).unwrap();
    assert_eq!(r.scheduled_in, Some(Duration::ZERO), "past");
    let body = json!({"data": {"status": "scheduled", "scheduled_for": "soon"}});
    let r = decode_post("p", body.to_string().as_bytes(), api_now).unwrap();
    assert_eq!((r.scheduled_for.as_deref(), r.scheduled_in), (Some("soon"), None), "unreadable");
    assert!(r.destinations.is_empty(), "no list is no error here");
    let body = json!({"post_status": "publishing", "destinations": [{"platform": "x", "status": "live"}]});
    let r = decode_post("p", body.to_string().as_bytes(), SystemTime::now()).unwrap();
    assert_eq!((r.post_status.as_deref(), r.destinations.len()), (Some("publishing"), 1));
    assert!(decode_post("p", b"[1]", SystemTime::now()).unwrap().post_status.is_none());
    assert!(matches!(decode_post("p", b"nope", SystemTime::now()), Err(DecodeError::NotJson(_))));
    // The accounts it is for: numbers or strings of one, once each; anything else left out.
    let body = json!({"data": {"status": "publishing", "account_ids": [7, " 3 ", 7, "x", 1.5, null, -2]}});
    assert_eq!(
        decode_post("p", body.to_string().as_bytes(), SystemTime::now()).unwrap().account_ids,
        [-2, 3, 7]
    );
    for ids in [json!("7"), json!({"a": 1}), json!(null)] {
        let body = json!({"data": {"status": "publishing", "account_ids": ids}});
        assert!(
            decode_post("p", body.to_string().as_bytes(), SystemTime::now()).unwrap().account_ids.is_empty(),
            "{ids}"
        );
    }
    // A results answer never names them (and an `account_ids` in it changes nothing).
    let body = json!({"data": {"account_ids": [1], "results": [{"platform": "x", "status": "live"}]}});
    assert!(
        decode_results("p", body.to_string().as_bytes(), SystemTime::now()).unwrap().account_ids.is_empty()
    );
}

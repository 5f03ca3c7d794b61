use super::*;
use crate::api::model::RetryAck;
use crate::model::Destination;
use crate::model::State;
use crate::report::fixtures::dest;
use serde_json::json;

const S: fn(u64) -> Duration = Duration::from_secs;

fn limits(retry_failed: u32) -> Limits {
    Limits { timeout: S(300), interval: S(10), max_errors: 3, retry_failed }
}

fn results(dests: Vec<Destination>) -> Results {
    Results { destinations: dests, ..Results::default() }
}

fn failed(error: &str) -> Destination {
    let mut d = dest("x", "@x", State::Failed);
    d.account_id = Some(json!(7));
    d.id = Some("dest_7".into());
    d.error = Some(error.into());
    d
}

fn with_status(mut d: Destination, status: State, raw: &str) -> Destination {
    d.status = status;
    d.raw_status = raw.into();
    d
}

#[test]
fn polls_until_complete() {
    let mut p = PostWait::new("p".into(), limits(0));
    assert_eq!(p.take(), Some(Action::Results));
    p.on_results(S(0), Ok(results(vec![dest("x", "@x", State::Pending)])), 0.0);
    assert_eq!(p.due(), Some(S(10)));
    assert_eq!(p.take(), Some(Action::Results));
    p.on_results(S(10), Ok(results(vec![dest("x", "@x", State::Published)])), 0.0);
    assert_eq!(p.finished(), Some(&Finish::Complete));
}

#[test]
fn a_retryable_failure_is_requeued_then_polled_to_the_end() {
    let mut p = PostWait::new("p".into(), limits(1));
    p.take();
    p.on_results(S(0), Ok(results(vec![failed("Platform returned 503")])), 0.0);
    let Some(Action::Retry(plan)) = p.take() else { panic!("expected a retry") };
    assert_eq!(plan.body, json!({"account_ids": [7]}));
    p.on_retry(S(1), &plan, Ok(RetryAck { retried_count: Some(1) }), 0.0);
    assert_eq!(p.due(), Some(S(11)));
    assert_eq!(p.take(), Some(Action::Results));
    // The next results still show the old failure: it is being picked up, not final.
    p.on_results(S(11), Ok(results(vec![failed("Platform returned 503")])), 0.0);
    assert_eq!(p.take(), Some(Action::Results));
    p.on_results(S(21), Ok(results(vec![with_status(failed(""), State::Published, "published")])), 0.0);
    assert_eq!(p.finished(), Some(&Finish::Complete));
    assert_eq!(p.retries(), 1);
    assert_eq!(p.destinations()[0].retries, 1);
}

#[test]
fn failures_a_retry_cannot_fix_are_not_requeued() {
    let mut p = PostWait::new("p".into(), limits(3));
    p.take();
    p.on_results(S(0), Ok(results(vec![failed("Token expired. Please reconnect.")])), 0.0);
    assert_eq!(p.finished(), Some(&Finish::Complete));
    assert_eq!(p.retries(), 0);
}

#[test]
fn a_bad_request_switches_to_the_other_body_once() {
    for status in [400, 422] {
        let mut p = PostWait::new("p".into(), limits(1));
        p.take();
        p.on_results(S(0), Ok(results(vec![failed("boom")])), 0.0);
        let Some(Action::Retry(plan)) = p.take() else { panic!() };
        let message = format!("HTTP {status} Bad Request: invalid_field_name");
        let refused = Fault::Fatal { status: Some(status), message };
        p.on_retry(S(1), &plan, Err(refused.clone()), 0.0);
        let Some(Action::Retry(other)) = p.take() else { panic!("{status}: expected the other form") };
        assert_eq!(other.body, json!({"destinationIds": ["dest_7"]}));
        p.on_retry(S(2), &other, Err(refused), 0.0);
        assert_eq!(p.finished(), Some(&Finish::Complete), "no third attempt");
        assert!(p.notes[0].starts_with(&format!("retry refused: HTTP {status}")));
        assert!(p.destinations()[0].note.as_deref().unwrap().contains("retry refused"));
    }
}

#[test]
fn the_circuit_breaker_is_final() {
    let mut p = PostWait::new("p".into(), limits(2));
    p.take();
    p.on_results(S(0), Ok(results(vec![failed("boom")])), 0.0);
    let Some(Action::Retry(plan)) = p.take() else { panic!() };
    let f = Fault::Fatal {
        status: Some(422),
        message: "HTTP 422: permanent_failure_circuit_breaker: stop".into(),
    };
    p.on_retry(S(1), &plan, Err(f), 0.0);
    assert_eq!(p.finished(), Some(&Finish::Complete));
    let d = &p.destinations()[0];
    assert_eq!(d.failure_class(), crate::failure::FailureClass::Permanent);
}

#[test]
fn an_ambiguous_retry_is_checked_before_being_repeated() {
    let mut p = PostWait::new("p".into(), limits(1));
    p.take();
    p.on_results(S(0), Ok(results(vec![failed("boom")])), 0.0);
    let Some(Action::Retry(plan)) = p.take() else { panic!() };
    p.on_retry(S(1), &plan, Err(Fault::transient("HTTP 502")), 0.0);
    assert_eq!(p.take(), Some(Action::Results), "read the results first");
    p.on_results(S(11), Ok(results(vec![with_status(failed(""), State::Pending, "queued")])), 0.0);
    assert_eq!(p.retries(), 1, "the results show it took effect");
    assert_eq!(p.take(), Some(Action::Results));
    p.on_results(S(21), Ok(results(vec![with_status(failed(""), State::Published, "published")])), 0.0);
    assert_eq!(p.finished(), Some(&Finish::Complete));
}

#[test]
fn an_ambiguous_retry_is_sent_again_only_when_the_results_prove_it_did_nothing() {
    let mut p = PostWait::new("p".into(), limits(2));
    p.take();
    p.on_results(S(0), Ok(results(vec![failed("boom")])), 0.0);
    let Some(Action::Retry(plan)) = p.take() else { panic!() };
    p.on_retry(S(1), &plan, Err(Fault::transient("reset")), 0.0);
    for n in 0..crate::retry::PICKUP_POLLS {
        assert_eq!(p.take(), Some(Action::Results), "poll {n}: not yet proven");
        p.on_results(S(11 + 10 * u64::from(n)), Ok(results(vec![failed("boom")])), 0.0);
        assert_eq!(p.destinations()[0].status, State::Pending);
    }
    assert_eq!(p.take(), Some(Action::Results));
    p.on_results(S(50), Ok(results(vec![failed("boom")])), 0.0);
    assert!(matches!(p.take(), Some(Action::Retry(_))), "same failure, same attempts, poll after poll");
    assert_eq!(p.retries(), 0, "nothing took effect");
}

#[test]
fn an_accepted_requeue_is_never_repeated_while_the_results_lag() {
    let mut p = PostWait::new("p".into(), limits(3));
    p.take();
    p.on_results(S(0), Ok(results(vec![failed("boom")])), 0.0);
    let Some(Action::Retry(plan)) = p.take() else { panic!() };
    p.on_retry(S(1), &plan, Ok(RetryAck { retried_count: None }), 0.0);
    let mut now = 1;
    while p.finished().is_none() {
        now += 10;
        assert_eq!(p.take(), Some(Action::Results), "never a second re-queue");
        p.on_results(S(now), Ok(results(vec![failed("boom")])), 0.0);
    }
    assert_eq!(p.finished(), Some(&Finish::Complete));
    let d = &p.destinations()[0];
    assert_eq!((d.status, d.retries), (State::Failed, 1));
    assert!(d.note.as_deref().unwrap().contains("still show the old failure"), "{:?}", d.note);
}

#[test]
fn a_requeue_in_flight_shows_as_pending() {
    let mut p = PostWait::new("p".into(), limits(1));
    p.take();
    p.on_results(S(0), Ok(results(vec![failed("boom")])), 0.0);
    assert!(matches!(p.take(), Some(Action::Retry(_))));
    assert_eq!(p.known.tally().pending, 1);
}

#[test]
fn a_zero_retry_after_on_the_retry_call_is_not_a_tight_loop() {
    let mut p = PostWait::new("p".into(), limits(1));
    p.take();
    p.on_results(S(0), Ok(results(vec![failed("boom")])), 0.0);
    let Some(Action::Retry(plan)) = p.take() else { panic!() };
    p.on_retry(S(1), &plan, Err(Fault::RateLimited { wait: Some(S(0)), reason: "429".into() }), 0.0);
    assert_eq!(p.due(), Some(S(2)), "at least min(interval, 1 s)");
}

#[test]
fn rate_limited_retries_wait_and_repeat() {
    let mut p = PostWait::new("p".into(), limits(1));
    p.take();
    p.on_results(S(0), Ok(results(vec![failed("boom")])), 0.0);
    let Some(Action::Retry(plan)) = p.take() else { panic!() };
    p.on_retry(S(1), &plan, Err(Fault::RateLimited { wait: Some(S(5)), reason: "429".into() }), 0.0);
    assert_eq!(p.due(), Some(S(6)));
    assert_eq!(p.take(), Some(Action::Retry(plan)));
}

#[test]
fn all_queued_looks_at_the_post_once() {
    let queued = || results(vec![with_status(dest("x", "@x", State::Pending), State::Pending, "queued")]);
    // Decoded as the client does, on an API clock whose `now` is the step's start, 300 s
    // before its deadline.
    let api_now = std::time::SystemTime::UNIX_EPOCH + S(2_000_000_000);
    let post = |status: &str, at: Option<&str>| {
        let mut body = json!({"data": {"id": "p", "status": status, "destinations": []}});
        if let Some(at) = at {
            body["data"]["scheduled_for"] = json!(at);
        }
        crate::api::model::decode_post("p", body.to_string().as_bytes(), api_now).unwrap()
    };
    // Due after the deadline: stop at once.
    let mut p = PostWait::new("p".into(), limits(0));
    p.take();
    p.on_results(S(0), Ok(queued()), 0.0);
    assert_eq!(p.take(), Some(Action::Post));
    p.on_post(S(0), Ok(post("scheduled", Some("2035-01-01T09:00:00Z"))), 0.0);
    assert_eq!(p.finished(), Some(&Finish::Scheduled("2035-01-01T09:00:00Z".into())));
    // A draft never publishes.
    let mut p = PostWait::new("p".into(), limits(0));
    p.take();
    p.on_results(S(0), Ok(queued()), 0.0);
    p.take();
    p.on_post(S(0), Ok(post("draft", None)), 0.0);
    assert_eq!(p.finished(), Some(&Finish::Draft));
    // Due before the deadline: keep polling, and do not look again.
    let mut p = PostWait::new("p".into(), limits(0));
    p.take();
    p.on_results(S(0), Ok(queued()), 0.0);
    p.take();
    p.on_post(S(0), Ok(post("scheduled", Some("2020-01-01T00:00:00Z"))), 0.0);
    assert_eq!(p.take(), Some(Action::Results));
    p.on_results(S(10), Ok(queued()), 0.0);
    assert_eq!(p.take(), Some(Action::Results));
    // Due a time after the API's now when it answered (2033-05-18T03:33:20Z), and the
    // answer read some time into the step: the two add up against the 300 s deadline,
    // whichever clock this machine keeps (the wait never reads it).
    for (due, read_at, after) in [("03:37:30", 0, false), ("03:37:30", 100, true), ("03:40:00", 0, true)] {
        let mut p = PostWait::new("p".into(), limits(0));
        p.take();
        p.on_results(S(0), Ok(queued()), 0.0);
        p.take();
        p.on_post(S(read_at), Ok(post("scheduled", Some(&format!("2033-05-18T{due}Z")))), 0.0);
        assert_eq!(
            matches!(p.finished(), Some(Finish::Scheduled(_))),
            after,
            "due {due}, read at {read_at} s"
        );
    }
}

/// `destinationIds` only when it names every failure the post has: an account skipped
/// before posting (a local placeholder, failed) is none of the post's.
#[test]
fn destination_ids_count_only_the_posts_own_failures() {
    let id_only = |id: &str| {
        let mut d = failed("Platform returned 503");
        d.account_id = None;
        d.id = Some(id.into());
        d
    };
    let mut skipped = dest("tiktok", "@t", State::Failed);
    skipped.account_id = Some(json!(5));
    let mut p = PostWait::new("p".into(), limits(1));
    p.seed(vec![skipped]);
    p.take();
    p.on_results(S(0), Ok(results(vec![id_only("d1")])), 0.0);
    let Some(Action::Retry(plan)) = p.take() else { panic!("expected a retry") };
    assert_eq!(plan.body, json!({"destinationIds": ["d1"]}));
    // Another failure the retry may not name (refused: content): no destinationIds call.
    let mut p = PostWait::new("p".into(), limits(1));
    p.take();
    let mut content = id_only("d2");
    content.error = Some("Caption is too long".into());
    p.on_results(S(0), Ok(results(vec![id_only("d1"), content])), 0.0);
    assert_eq!(p.finished(), Some(&Finish::Complete));
}

/// A run that did not post asks a post still `publishing`, its listed destinations final,
/// which accounts it is for; a question that met a 5xx or a 429 is asked again (within the
/// polls such a post gets), so one failure does not leave an unlisted account unknown.
#[test]
fn the_accounts_question_is_asked_again_after_a_transient_fault() {
    let only_x = || Results {
        post_status: Some("publishing".into()),
        ..results(vec![dest("x", "@x", State::Published)])
    };
    let mut p = PostWait::new("p".into(), limits(0));
    p.take();
    p.on_results(S(0), Ok(only_x()), 0.0);
    assert_eq!(p.take(), Some(Action::Post));
    p.on_post(S(0), Err(Fault::transient("HTTP 503")), 0.0);
    assert_eq!(p.take(), Some(Action::Results));
    p.on_results(S(10), Ok(only_x()), 0.0);
    assert_eq!(p.take(), Some(Action::Post), "asked again");
    let post =
        Results { post_status: Some("publishing".into()), account_ids: vec![2280, 8], ..Results::default() };
    p.on_post(S(10), Ok(post), 0.0);
    assert_eq!(p.known.unlisted(), 1, "account 8 is waited for");
    // Failing every time, it is asked at most twice, then the destinations decide.
    let mut p = PostWait::new("p".into(), limits(0));
    let mut posts = 0;
    for n in 0..6 {
        match p.take() {
            Some(Action::Results) => p.on_results(S(n * 10), Ok(only_x()), 0.0),
            Some(Action::Post) => {
                posts += 1;
                p.on_post(S(n * 10), Err(Fault::transient("HTTP 503")), 0.0);
            }
            other => assert!(other.is_none(), "{other:?}"),
        }
    }
    assert_eq!((posts, p.finished()), (2, Some(&Finish::Complete)));
}

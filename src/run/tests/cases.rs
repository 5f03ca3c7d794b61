//! Hand-picked runs of the driver that the property test reaches only by chance.

use super::fake::*;
use super::*;

#[test]
fn a_long_rate_limit_hint_waits_for_one_last_poll_at_the_deadline() {
    let s = Setup {
        posts: 1,
        timeout_ms: 10_000,
        interval_ms: 1000,
        retry_failed: 0,
        max_errors: 3,
        rate_limit: 600,
        posted_to: 0,
    };
    let pending = ResultsStep::Listed(vec![Row { account: 1, word: Word::Queued, attempts: 0, twice: None }]);
    let script = Script {
        results: vec![pending, ResultsStep::Limited(Some(60_000)), ResultsStep::Limited(Some(60_000))],
        retries: vec![RetryStep::Transient],
        latencies_ms: vec![10],
        lagging: false,
        hidden: false,
    };
    let (log, elapsed) = simulate(&s, script).unwrap();
    let last = log.iter().map(|l| l.start).max().unwrap();
    assert_eq!(last, Duration::from_secs(10), "the last poll lands on the deadline: {log:?}");
    assert!(elapsed >= Duration::from_secs(10));
}

#[test]
fn a_request_the_budget_cannot_fit_is_not_announced_and_the_wait_lasts() {
    // 2 s between polls, a 3 s deadline, the API unreachable, 50 requests a minute.
    let s = Setup {
        posts: 1,
        timeout_ms: 3000,
        interval_ms: 2000,
        retry_failed: 0,
        max_errors: 10,
        rate_limit: 50,
        posted_to: 0,
    };
    let script = Script {
        results: vec![ResultsStep::Transient],
        retries: vec![RetryStep::Transient],
        latencies_ms: vec![0],
        lagging: false,
        hidden: false,
    };
    let (log, elapsed) = simulate(&s, script).unwrap();
    assert!(elapsed >= Duration::from_secs(3), "ended at {elapsed:?}");
    assert!(log.len() >= 2, "{log:?}");
}

#[test]
fn an_accepted_requeue_is_not_repeated_while_the_results_lag() {
    let s = Setup {
        posts: 1,
        timeout_ms: 20_000,
        interval_ms: 500,
        retry_failed: 3,
        max_errors: 3,
        rate_limit: 600,
        posted_to: 0,
    };
    let stale = ResultsStep::Listed(vec![Row { account: 1, word: Word::Failed, attempts: 1, twice: None }]);
    let script = Script {
        results: vec![stale],
        retries: vec![RetryStep::Accepted(None)],
        latencies_ms: vec![5],
        lagging: false,
        hidden: false,
    };
    let (log, _) = simulate(&s, script).unwrap();
    assert_eq!(log.iter().filter(|l| l.body.is_some()).count(), 1, "{log:#?}");
}

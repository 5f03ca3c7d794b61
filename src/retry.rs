//! Re-queueing failed destinations, safely. Each tracked destination carries an `Entry`:
//! how many re-queues were sent for it (never more than `retry-failed`), how many took
//! effect, and where its latest re-queue stands. A re-queue the API accepted (any 2xx) is
//! never sent again for the same failure; one whose call failed ambiguously (5xx, network)
//! is repeated only when the results prove it did nothing. Pure; `post` drives it.

use serde_json::{Value, json};

use crate::model::{Destination, State};

/// Polls a re-queued destination may still show its old failure before we stop waiting.
pub const PICKUP_POLLS: u32 = 3;

/// The two request bodies the docs disagree on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// API reference: `{"account_ids": [int, …]}`.
    AccountIds,
    /// Polling guide: `{"destinationIds": [string, …]}`.
    DestinationIds,
}

impl Form {
    pub fn other(self) -> Form {
        match self {
            Form::AccountIds => Form::DestinationIds,
            Form::DestinationIds => Form::AccountIds,
        }
    }
}

/// One retry request: which tracked destinations (by index), in which body.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub form: Form,
    pub body: Value,
    pub targets: Vec<usize>,
}

/// Where a destination's latest re-queue stands.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Phase {
    /// Nothing under way: a final failure may be re-queued (budget allowing).
    #[default]
    Idle,
    /// The retry call is on its way.
    InFlight,
    /// Re-queued (`confirmed`: the API said so with a 2xx; else the call failed ambiguously);
    /// waiting for the results to move away from the failure seen before (`attempts` then).
    Awaiting { before: Option<u64>, polls: u32, confirmed: bool },
    /// Never re-queued again, and why.
    Stopped(String),
}

/// One destination's re-queue bookkeeping.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entry {
    /// Calls that could have re-queued it (2xx, 5xx, no answer); never above `retry-failed`.
    pub sent: u32,
    /// Re-queues that took effect: accepted with a 2xx, or proven by the results.
    pub took_effect: u32,
    pub phase: Phase,
}

fn grew(before: Option<u64>, now: Option<u64>) -> bool {
    matches!((before, now), (Some(b), Some(n)) if n > b)
}

impl Entry {
    /// Whether the destination shows as pending although the API still says `failed`.
    pub fn holds(&self) -> bool {
        matches!(self.phase, Phase::InFlight | Phase::Awaiting { .. })
    }

    pub fn stop_reason(&self) -> Option<&str> {
        match &self.phase {
            Phase::Stopped(why) => Some(why),
            _ => None,
        }
    }

    /// Takes in the destination as a fresh answer shows it.
    pub fn observe(&mut self, d: &Destination) {
        let Phase::Awaiting { before, polls, confirmed } = &mut self.phase else { return };
        if d.status != State::Failed || grew(*before, d.attempts) {
            // It moved: the re-queue took effect (a later failure is a new one).
            if !*confirmed {
                self.took_effect += 1;
            }
            self.phase = Phase::Idle;
        } else if *polls < PICKUP_POLLS {
            *polls += 1;
        } else if *confirmed {
            self.phase = Phase::Stopped("re-queued, but the results still show the old failure".into());
        } else if before.is_some() {
            // The same failure with the same attempt count, poll after poll: the call that
            // failed did nothing, so it may be sent again (within the budget).
            self.phase = Phase::Idle;
        } else {
            self.phase = Phase::Stopped(
                "the retry call failed and the results cannot show whether it took effect".into(),
            );
        }
    }

    /// The retry call was answered with a 2xx; `retried_count` when the body had one.
    pub fn accepted(&mut self, d: &Destination, retried_count: Option<u64>) {
        self.sent += 1;
        if retried_count == Some(0) {
            self.phase = Phase::Stopped("the API re-queued nothing (retried_count 0)".into());
        } else {
            self.took_effect += 1;
            self.phase = Phase::Awaiting { before: d.attempts, polls: 0, confirmed: true };
        }
    }

    /// The retry call failed in a way that may have taken effect (5xx, no answer).
    pub fn ambiguous(&mut self, d: &Destination) {
        self.sent += 1;
        self.phase = Phase::Awaiting { before: d.attempts, polls: 0, confirmed: false };
    }
}

/// Whether a destination may be re-queued now.
pub fn eligible(d: &Destination, e: &Entry, max: u32) -> bool {
    d.status == State::Failed
        && d.failure_class() == crate::failure::FailureClass::Retryable
        && e.phase == Phase::Idle
        && e.sent < max
}

/// The request for `targets` (indices into `dests`) in the preferred form, falling back to
/// the other when no target can be named in it. Each account or id is listed once; an
/// empty body, which would re-queue every failure of the post, is never built.
#[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
pub fn plan(dests: &[&Destination], targets: &[usize], failures: usize, prefer: Form) -> Option<Plan> {
    let mut accounts: Vec<i64> = Vec::new();
    let mut by_account = Vec::new();
    let mut ids: Vec<&str> = Vec::new();
    let mut by_id = Vec::new();
    for &i in targets {
        let d = dests[i];
        if let Some(a) = d.account_number() {
            if !accounts.contains(&a) {
                accounts.push(a);
            }
            by_account.push(i);
        }
        if let Some(id) = d.id.as_deref() {
            if !ids.contains(&id) {
                ids.push(id);
            }
            by_id.push(i);
        }
    }
    let with_accounts = || Plan {
        form: Form::AccountIds,
        body: json!({"account_ids": accounts}),
        targets: by_account.clone(),
    };
    let with_ids =
        || Plan { form: Form::DestinationIds, body: json!({"destinationIds": ids}), targets: by_id.clone() };
    // The API reference knows no `destinationIds`: an API that ignores it re-queues every
    // failed destination, as a call without a body does. So that form is sent only when it
    // names all `failures` the post has, which is then the same call either way: never one
    // that was refused a re-queue or has had its share.
    let every_failure = by_id.len() == failures;
    match prefer {
        Form::AccountIds if !accounts.is_empty() => Some(with_accounts()),
        _ if !ids.is_empty() && every_failure => Some(with_ids()),
        _ if !accounts.is_empty() => Some(with_accounts()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::dest;

    fn failed(platform: &str, account: i64, error: &str) -> Destination {
        let mut d = dest(platform, "@a", State::Failed);
        d.account_id = Some(json!(account));
        d.error = Some(error.into());
        d
    }

    #[test]
    fn only_retryable_final_failures_are_eligible() {
        let e = Entry::default();
        assert!(eligible(&failed("x", 1, "Platform returned 503"), &e, 1));
        assert!(!eligible(&failed("li", 2, "Token expired. Please reconnect."), &e, 1));
        assert!(!eligible(&failed("ig", 3, "Caption is too long"), &e, 1));
        assert!(!eligible(&dest("threads", "@t", State::Published), &e, 1));
        assert!(!eligible(&failed("x", 1, "boom"), &Entry { sent: 1, ..Entry::default() }, 1));
    }

    #[test]
    fn bodies_name_each_account_once_and_fall_back_to_destination_ids() {
        let a = failed("x", 5, "boom");
        let b = failed("x", 5, "boom");
        let mut c = failed("li", 1, "boom");
        c.account_id = None;
        c.id = Some("dest_9".into());
        let dests = [&a, &b, &c];
        let p = plan(&dests, &[0, 1, 2], 3, Form::AccountIds).unwrap();
        assert_eq!((p.body.clone(), p.targets), (json!({"account_ids": [5]}), vec![0, 1]));
        // Destination ids only for every failure at once: an API that ignores the field
        // re-queues them all.
        assert_eq!(plan(&dests, &[2], 3, Form::AccountIds), None);
        let p = plan(&[&c], &[0], 1, Form::AccountIds).unwrap();
        assert_eq!(p.body, json!({"destinationIds": ["dest_9"]}));
        assert_eq!(plan(&[&a, &c], &[1], 2, Form::DestinationIds), None);
        assert_eq!(
            plan(&[&a, &c], &[0, 1], 2, Form::DestinationIds).unwrap().body,
            json!({"account_ids": [5]})
        );
        let mut none = failed("x", 1, "boom");
        none.account_id = None;
        assert_eq!(plan(&[&none], &[0], 1, Form::AccountIds), None);
    }

    #[test]
    fn an_accepted_requeue_is_never_sent_again_for_the_same_failure() {
        let d = failed("x", 1, "boom");
        let mut e = Entry::default();
        e.accepted(&d, Some(1));
        assert_eq!((e.sent, e.took_effect), (1, 1));
        for _ in 0..PICKUP_POLLS {
            e.observe(&d);
            assert!(e.holds());
        }
        e.observe(&d);
        assert!(e.stop_reason().unwrap().contains("still show the old failure"));
        assert!(!eligible(&d, &e, 5));
    }

    #[test]
    fn a_new_failure_after_a_requeue_may_be_requeued_again() {
        let d = failed("x", 1, "boom");
        let mut e = Entry::default();
        e.accepted(&d, None);
        let mut again = d.clone();
        again.attempts = Some(2);
        e.observe(&again);
        assert_eq!(e.phase, Phase::Idle);
        assert!(eligible(&again, &e, 2));
        assert!(!eligible(&again, &e, 1), "the budget is per destination");
    }

    #[test]
    fn an_ambiguous_call_counts_only_when_the_results_move() {
        let d = failed("x", 1, "boom");
        let mut e = Entry::default();
        e.ambiguous(&d);
        let mut queued = d.clone();
        queued.status = State::Pending;
        e.observe(&queued);
        assert_eq!((e.sent, e.took_effect, e.phase.clone()), (1, 1, Phase::Idle));

        let mut e = Entry::default();
        e.ambiguous(&d);
        for _ in 0..=PICKUP_POLLS {
            e.observe(&d);
        }
        assert_eq!(
            (e.sent, e.took_effect, e.phase.clone()),
            (1, 0, Phase::Idle),
            "proven not to have worked"
        );

        let mut blind = d.clone();
        blind.attempts = None;
        let mut e = Entry::default();
        e.ambiguous(&blind);
        for _ in 0..=PICKUP_POLLS {
            e.observe(&blind);
        }
        assert!(e.stop_reason().is_some(), "without attempts nothing proves it did nothing");
    }

    #[test]
    fn retried_count_zero_stops() {
        let d = failed("x", 1, "boom");
        let mut e = Entry::default();
        e.accepted(&d, Some(0));
        assert_eq!((e.sent, e.took_effect), (1, 0));
        assert!(e.stop_reason().unwrap().contains("re-queued nothing"));
    }
}

//! Re-queueing failed destinations, safely. `RetryBook` remembers, per destination, how
//! often we re-queued it and whether a re-queue is still being picked up, so a stale
//! `failed` right after a retry is not mistaken for a new failure (and never re-queued
//! twice), and a retry whose POST failed ambiguously is only repeated if the results show
//! it did not take effect. Pure; the driver sends what `plan` returns.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::failure::FailureClass;
use crate::model::{Destination, State};

/// Polls a re-queued destination may still show its old failure before we stop waiting.
const PICKUP_POLLS: u32 = 3;

/// The two request bodies the docs disagree on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// API reference: `{"account_ids": [int, …]}`.
    AccountIds,
    /// Polling guide: `{"destinationIds": [string, …]}`.
    DestinationIds,
}

/// One retry request: which destinations, in which body.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub form: Form,
    pub body: Value,
    pub keys: Vec<String>,
}

#[derive(Debug, Clone, Default)]
struct Entry {
    retries: u32,
    /// Re-queued; `attempts` before, and polls since.
    awaiting: Option<(Option<u64>, u32)>,
    /// The retry POST failed ambiguously; `attempts` before it.
    uncertain: Option<Option<u64>>,
    /// Why we will not retry it again.
    stopped: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RetryBook {
    max: u32,
    entries: HashMap<String, Entry>,
}

fn grew(before: Option<u64>, now: Option<u64>) -> bool {
    matches!((before, now), (Some(b), Some(n)) if n > b)
}

fn account_number(d: &Destination) -> Option<i64> {
    match &d.account_id {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    }
}

impl RetryBook {
    pub fn new(max: u32) -> Self {
        Self { max, entries: HashMap::new() }
    }

    /// Every re-queue sent so far.
    pub fn total(&self) -> u32 {
        self.entries.values().map(|e| e.retries).sum()
    }

    /// Adjusts freshly observed destinations: a re-queued one that still shows its old
    /// failure is pending for a few polls; counts and notes are copied in.
    pub fn apply(&mut self, dests: &mut [Destination]) {
        for d in dests {
            let Some(e) = self.entries.get_mut(&d.key()) else { continue };
            let moved = d.status != State::Failed;
            if let Some(before) = e.uncertain.take() {
                // Counted when sent; given back only when the results prove it did nothing.
                let unchanged = before.is_some() && before == d.attempts;
                if !moved && unchanged {
                    e.retries = e.retries.saturating_sub(1);
                }
            }
            if let Some((before, polls)) = e.awaiting {
                if moved || grew(before, d.attempts) {
                    e.awaiting = None;
                } else if polls < PICKUP_POLLS {
                    e.awaiting = Some((before, polls + 1));
                    d.status = State::Pending;
                } else {
                    e.awaiting = None;
                    e.stopped = Some("the re-queue did not take effect".into());
                }
            }
            d.retries = e.retries;
            d.note.clone_from(&e.stopped);
        }
    }

    /// Copies counts and notes into destinations, and shows the ones being re-queued as
    /// pending, without advancing any state (for results we already hold).
    pub fn annotate(&self, dests: &mut [Destination]) {
        for d in dests {
            if let Some(e) = self.entries.get(&d.key()) {
                d.retries = e.retries;
                d.note.clone_from(&e.stopped);
                if e.awaiting.is_some() && d.status == State::Failed {
                    d.status = State::Pending;
                }
            }
        }
    }

    /// Whether an ambiguous re-queue still waits for the next results to decide it.
    pub fn unresolved(&self) -> bool {
        self.entries.values().any(|e| e.uncertain.is_some())
    }

    /// What to re-queue now, if anything; destinations we cannot address are stopped.
    pub fn plan(&mut self, dests: &[Destination], prefer: Form) -> Option<Plan> {
        let mut accounts = Vec::new();
        let mut ids = Vec::new();
        for d in
            dests.iter().filter(|d| d.status == State::Failed && d.failure_class() == FailureClass::Retryable)
        {
            let e = self.entries.entry(d.key()).or_default();
            if e.retries >= self.max || e.stopped.is_some() || e.awaiting.is_some() || e.uncertain.is_some() {
                continue;
            }
            match (account_number(d), &d.id) {
                (None, None) => e.stopped = Some("no account or destination id to re-queue it with".into()),
                (a, i) => {
                    if let Some(a) = a {
                        accounts.push((d.key(), a));
                    }
                    if let Some(i) = i {
                        ids.push((d.key(), i.clone()));
                    }
                }
            }
        }
        let by_accounts = || Plan {
            form: Form::AccountIds,
            body: json!({"account_ids": accounts.iter().map(|(_, a)| *a).collect::<Vec<_>>()}),
            keys: accounts.iter().map(|(k, _)| k.clone()).collect(),
        };
        let by_ids = || Plan {
            form: Form::DestinationIds,
            body: json!({"destinationIds": ids.iter().map(|(_, i)| i.clone()).collect::<Vec<_>>()}),
            keys: ids.iter().map(|(k, _)| k.clone()).collect(),
        };
        match prefer {
            Form::AccountIds if !accounts.is_empty() => Some(by_accounts()),
            _ if !ids.is_empty() => Some(by_ids()),
            _ if !accounts.is_empty() => Some(by_accounts()),
            _ => None,
        }
    }

    /// The API accepted the re-queue.
    pub fn sent(&mut self, plan: &Plan, dests: &[Destination]) {
        for d in dests.iter().filter(|d| plan.keys.contains(&d.key())) {
            let e = self.entries.entry(d.key()).or_default();
            e.retries += 1;
            e.awaiting = Some((d.attempts, 0));
        }
    }

    /// The POST failed in a way that may have taken effect. It counts against the budget;
    /// if the next results show the same failure with the same `attempts`, it did not take
    /// effect and is given back, so it may be sent again (the API only re-queues failed
    /// destinations, so a repeat cannot publish twice). Without `attempts` it stays counted.
    pub fn uncertain(&mut self, plan: &Plan, dests: &[Destination]) {
        for d in dests.iter().filter(|d| plan.keys.contains(&d.key())) {
            let e = self.entries.entry(d.key()).or_default();
            e.retries += 1;
            e.uncertain = Some(d.attempts);
        }
    }

    /// The API refused or re-queued nothing: do not ask again for these.
    pub fn stop(&mut self, plan: &Plan, why: &str) {
        for k in &plan.keys {
            self.entries.entry(k.clone()).or_default().stopped = Some(why.to_owned());
        }
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
    fn only_retryable_final_failures_are_planned() {
        let mut book = RetryBook::new(1);
        let dests = vec![
            failed("x", 1, "Platform returned 503"),
            failed("linkedin", 2, "Token expired. Please reconnect."),
            failed("instagram", 3, "Caption is too long"),
            dest("threads", "@t", State::Published),
        ];
        let plan = book.plan(&dests, Form::AccountIds).unwrap();
        assert_eq!(plan.body, json!({"account_ids": [1]}));
        assert_eq!(plan.form, Form::AccountIds);
    }

    #[test]
    fn falls_back_to_destination_ids() {
        let mut book = RetryBook::new(1);
        let mut d = failed("x", 1, "boom");
        d.account_id = None;
        d.id = Some("dest_9".into());
        let plan = book.plan(std::slice::from_ref(&d), Form::AccountIds).unwrap();
        assert_eq!(plan.body, json!({"destinationIds": ["dest_9"]}));
        d.account_id = Some(json!(5));
        assert_eq!(
            book.plan(std::slice::from_ref(&d), Form::DestinationIds).unwrap().form,
            Form::DestinationIds
        );
        d.id = None;
        d.account_id = None;
        assert_eq!(book.plan(std::slice::from_ref(&d), Form::AccountIds), None);
        let mut dests = vec![d];
        book.apply(&mut dests);
        assert!(dests[0].note.as_deref().unwrap().contains("no account or destination id"));
    }

    #[test]
    fn a_stale_failure_after_a_retry_is_pending_then_counted() {
        let mut book = RetryBook::new(2);
        let d = failed("x", 1, "boom");
        let plan = book.plan(std::slice::from_ref(&d), Form::AccountIds).unwrap();
        book.sent(&plan, std::slice::from_ref(&d));
        assert_eq!(
            book.plan(std::slice::from_ref(&d), Form::AccountIds),
            None,
            "never re-queued while being picked up"
        );
        let mut seen = vec![d.clone()];
        book.apply(&mut seen);
        assert_eq!((seen[0].status, seen[0].retries), (State::Pending, 1));
        // It fails again with more attempts: final, and retryable once more.
        let mut again = d.clone();
        again.attempts = Some(2);
        let mut seen = vec![again.clone()];
        book.apply(&mut seen);
        assert_eq!(seen[0].status, State::Failed);
        assert!(book.plan(&seen, Form::AccountIds).is_some());
        let plan = book.plan(&seen, Form::AccountIds).unwrap();
        book.sent(&plan, &seen);
        assert_eq!(book.total(), 2);
        // Now the budget is spent.
        let mut later = again;
        later.attempts = Some(3);
        let mut seen = vec![later];
        book.apply(&mut seen);
        assert_eq!(book.plan(&seen, Form::AccountIds), None);
    }

    #[test]
    fn a_retry_that_never_shows_up_is_given_up_after_a_few_polls() {
        let mut book = RetryBook::new(3);
        let d = failed("x", 1, "boom");
        book.sent(
            &book.clone().plan(std::slice::from_ref(&d), Form::AccountIds).unwrap(),
            std::slice::from_ref(&d),
        );
        for _ in 0..PICKUP_POLLS {
            let mut seen = vec![d.clone()];
            book.apply(&mut seen);
            assert_eq!(seen[0].status, State::Pending);
        }
        let mut seen = vec![d.clone()];
        book.apply(&mut seen);
        assert_eq!(seen[0].status, State::Failed);
        assert_eq!(seen[0].note.as_deref(), Some("the re-queue did not take effect"));
        assert_eq!(book.plan(&seen, Form::AccountIds), None);
    }

    #[test]
    fn an_ambiguous_post_counts_only_if_the_results_moved() {
        let d = failed("x", 1, "boom");
        // Took effect: the destination is queued again.
        let mut book = RetryBook::new(1);
        let plan = book.plan(std::slice::from_ref(&d), Form::AccountIds).unwrap();
        book.uncertain(&plan, std::slice::from_ref(&d));
        let mut queued = d.clone();
        queued.status = State::Pending;
        queued.raw_status = "queued".into();
        let mut seen = vec![queued];
        book.apply(&mut seen);
        assert_eq!((book.total(), seen[0].retries), (1, 1));
        // Did not: still failed with the same attempts, so it may be sent again later.
        let mut book = RetryBook::new(1);
        book.uncertain(&plan, std::slice::from_ref(&d));
        let mut seen = vec![d.clone()];
        book.apply(&mut seen);
        assert_eq!(book.total(), 0);
        assert!(book.plan(&seen, Form::AccountIds).is_some());
        // Without attempts nothing proves it did nothing: it stays counted.
        let mut blind = d.clone();
        blind.attempts = None;
        let mut book = RetryBook::new(1);
        book.uncertain(&plan, std::slice::from_ref(&blind));
        let mut seen = vec![blind];
        book.apply(&mut seen);
        assert_eq!(book.total(), 1);
        assert_eq!(book.plan(&seen, Form::AccountIds), None);
    }
}

//! Every destination a post has listed, by identity (`Destination::key`), across polls:
//! duplicates within one answer are merged (except destinations that name only their
//! platform: those are as many as listed, matched by order), a destination missing from a later answer
//! keeps its last known state with a note (it is never forgotten, so a pending one never
//! silently turns a post green), and each carries its re-queue bookkeeping. Accounts this
//! run posted to stand as pending until an answer lists them. What is shown
//! (`state`) is the API's state, except that a failure being re-queued is pending. Pure.

use std::collections::HashMap;

use crate::model::{DestKey, Destination, State, Tally, UNKNOWN_PLATFORM};
use crate::retry::Entry;

/// Above this many destinations a merge looks identities up in a map, not by scanning.
const SCAN_LIMIT: usize = 32;

#[derive(Debug, Clone)]
pub struct Tracked {
    /// As the API last reported it.
    pub dest: Destination,
    pub retry: Entry,
    /// Absent from the latest answer.
    pub missing: bool,
    /// Listed more than once in one answer at some point.
    pub duplicated: bool,
    /// The answer that last listed it (to spot duplicates within one answer).
    seen_in: u64,
    /// What was last shown, to report changes.
    shown: Option<Shown>,
    /// Ours, not the API's (an account skipped before posting): never missing, never
    /// re-queued.
    local: bool,
}

impl Tracked {
    /// The state to show and count.
    pub fn state(&self) -> State {
        if self.dest.status == State::Failed && self.retry.holds() {
            State::Pending
        } else {
            self.dest.status
        }
    }

    /// Ours, not the API's.
    pub fn is_local(&self) -> bool {
        self.local
    }

    /// Our remarks on it, one line.
    pub fn note(&self) -> Option<String> {
        let mut notes: Vec<&str> = Vec::new();
        if let Some(why) = self.retry.stop_reason() {
            notes.push(why);
        }
        if self.retry.holds() && self.dest.status == State::Failed {
            notes.push("re-queued; the results still show the earlier failure");
        }
        if self.missing {
            notes.push("missing from the latest answer; last known state shown");
        }
        if self.duplicated {
            notes.push("listed more than once in one answer; merged");
        }
        (!notes.is_empty()).then(|| notes.join("; "))
    }

    /// The destination as reported: shown state, re-queues that took effect, our note.
    pub fn report(&self) -> Destination {
        Self::stamped(self.dest.clone(), self.state(), self.retry.took_effect, self.note())
    }

    /// `report`, moving the destination out instead of copying its strings.
    pub fn into_report(self) -> Destination {
        let (state, note) = (self.state(), self.note());
        Self::stamped(self.dest, state, self.retry.took_effect, note)
    }

    /// `d` with what the report adds, and a failure's class.
    fn stamped(mut d: Destination, state: State, retries: u32, note: Option<String>) -> Destination {
        d.status = state;
        d.retries = retries;
        d.note = note;
        d.class = (state == State::Failed).then(|| d.failure_class());
        d
    }
}

/// What a destination showed: its state, the API's status word, and whether it was missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub state: State,
    pub raw_status: String,
    pub missing: bool,
}

/// One shown change: the destination's index and what it showed before (`None`: new).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub index: usize,
    pub before: Option<Shown>,
}

/// Whether `a` should win over `b` when one answer lists the same destination twice:
/// not final beats failed beats published, so a duplicate can never make it greener.
fn outranks(a: &Destination, b: &Destination) -> bool {
    rank(a.status) > rank(b.status)
}

/// How far a state is from done: pending, then failed, then published.
fn rank(s: State) -> u8 {
    match s {
        State::Pending => 2,
        State::Failed => 1,
        State::Published => 0,
    }
}

/// Whether two listings are the same destination by what both say of it: the account when
/// both name one (and the platform, unless one answer named none), else the destination id
/// when both have one, else platform and name (an absent name matches any).
fn same(a: &Destination, b: &Destination) -> bool {
    match (a.key(), b.key()) {
        (DestKey::Account(x, p), DestKey::Account(y, q)) => {
            x == y && (p == q || p == UNKNOWN_PLATFORM || q == UNKNOWN_PLATFORM)
        }
        _ if a.id.is_some() && b.id.is_some() => a.id == b.id,
        _ => {
            let names = match (&a.account_name, &b.account_name) {
                (Some(x), Some(y)) => x == y,
                _ => true,
            };
            a.platform == b.platform && names
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Known {
    items: Vec<Tracked>,
    answers: u64,
    /// Accounts this run posted to, as placeholders.
    expected: Vec<Destination>,
    /// Those the destinations listed so far do not account for: each counts as pending.
    unlisted: Vec<Destination>,
    /// The destinations the post's own answer (`GET /posts/{id}`) listed, once one came.
    post_said: Option<Vec<Destination>>,
}

impl Known {
    pub fn items(&self) -> &[Tracked] {
        &self.items
    }

    pub fn items_mut(&mut self) -> &mut [Tracked] {
        &mut self.items
    }

    /// Answers taken in so far.
    pub fn answers(&self) -> u64 {
        self.answers
    }

    pub fn tally(&self) -> Tally {
        let mut t = Tally::default();
        for i in &self.items {
            t.add(i.state());
        }
        for _ in &self.unlisted {
            t.add(State::Pending);
        }
        t
    }

    /// Whether the accounts the post is for are known (`expect`).
    pub fn expects_accounts(&self) -> bool {
        !self.expected.is_empty()
    }

    /// Accounts posted to and not listed yet (counted in `tally` as pending).
    pub fn unlisted(&self) -> usize {
        self.unlisted.len()
    }

    /// Adds the accounts this run posted to: each is a pending destination until an answer
    /// lists its account id, so a post is never complete while one is missing. An answer
    /// whose destinations carry no account id cannot say which; each such destination then
    /// accounts for one.
    pub fn expect(&mut self, dests: Vec<Destination>) {
        self.expected = dests;
        self.settle();
    }

    /// Works out again, from every destination listed so far as it now stands, which
    /// expected accounts are not accounted for (an identity can gain or lose its account
    /// id between answers, so nothing is settled for good).
    fn settle(&mut self) {
        if self.expected.is_empty() {
            return;
        }
        let listed = self.items.iter().filter(|t| !t.local);
        let mut unlisted: Vec<&Destination> = self
            .expected
            .iter()
            .filter(|e| !listed.clone().any(|t| t.dest.account_number() == e.account_number()))
            .collect();
        // A destination without an account id stands for one account (missing from the
        // latest answer or not: it is kept, and counted, with its last known state): one
        // on its own platform when one is left; none when its platform's accounts are all
        // listed by id or accounted for (it is a copy of one of them, as when it shares its
        // destination id with one, or the API repeating one); else, the platform spelled
        // otherwise, the last.
        let numbered: Vec<&Destination> =
            listed.clone().map(|t| &t.dest).filter(|d| d.account_number().is_some()).collect();
        for d in listed.map(|t| &t.dest).filter(|d| d.account_number().is_none()) {
            let platform = |e: &&Destination| e.platform.eq_ignore_ascii_case(&d.platform);
            let copy = d.id.is_some() && numbered.iter().any(|n| n.id == d.id);
            let taken = match unlisted.iter().position(platform) {
                _ if copy => None,
                Some(i) => Some(i),
                // Its platform's accounts all accounted for: a copy (or a repeat).
                None if numbered.iter().any(platform) || self.expected.iter().any(|e| platform(&e)) => None,
                None => unlisted.len().checked_sub(1),
            };
            if let Some(i) = taken {
                unlisted.remove(i);
            }
        }
        self.unlisted = unlisted.into_iter().cloned().collect();
    }

    /// Adds destinations of our own (accounts skipped before posting): reported with the
    /// rest, never looked for in answers.
    pub fn seed(&mut self, dests: Vec<Destination>) {
        for d in dests {
            let t = Tracked {
                dest: d,
                retry: Entry::default(),
                missing: false,
                duplicated: false,
                seen_in: 0,
                shown: None,
                local: true,
            };
            self.items.push(t);
        }
    }

    /// Which known destination each of `fresh` is by its identity (`None`: none). Those
    /// that name only their platform are matched by order: the k-th of a platform in
    /// `fresh` is the k-th of it known.
    fn identify(&self, fresh: &[Destination]) -> Vec<Option<usize>> {
        let ours = || self.items.iter().enumerate().filter(|(_, t)| !t.local);
        let index: Option<HashMap<DestKey<'_>, usize>> =
            (self.items.len() > SCAN_LIMIT).then(|| ours().map(|(i, t)| (t.dest.key(), i)).collect());
        // Known platform-only destinations by key, in order, and how many `fresh` has used.
        let mut anonymous: HashMap<DestKey<'_>, (Vec<usize>, usize)> = HashMap::new();
        if fresh.iter().any(|d| d.key().is_anonymous()) {
            for (i, t) in ours().filter(|(_, t)| t.dest.key().is_anonymous()) {
                anonymous.entry(t.dest.key()).or_default().0.push(i);
            }
            // Fewer listed than known: nothing says which are missing, so the worst are
            // taken to be (they keep their state; a failure is never lost to a swap).
            let mut listed: HashMap<DestKey<'_>, usize> = HashMap::new();
            for d in fresh.iter().filter(|d| d.key().is_anonymous()) {
                *listed.entry(d.key()).or_default() += 1;
            }
            for (key, (known, _)) in &mut anonymous {
                let n = listed.get(key).copied().unwrap_or(0);
                while known.len() > n {
                    let worst = (0..known.len()).max_by_key(|&j| rank(self.items[known[j]].dest.status));
                    known.remove(worst.unwrap_or(0));
                }
            }
        }
        let find = |n: usize, key: DestKey<'_>| {
            let same_place = self.items.get(n).filter(|t| !t.local && t.dest.key() == key).map(|_| n);
            same_place.or_else(|| match &index {
                Some(map) => map.get(&key).copied(),
                None => ours().find(|(_, t)| t.dest.key() == key).map(|(i, _)| i),
            })
        };
        let mut matched = Vec::with_capacity(fresh.len());
        for (n, d) in fresh.iter().enumerate() {
            let key = d.key();
            matched.push(if key.is_anonymous() {
                anonymous.get_mut(&key).and_then(|(known, used)| {
                    *used += 1;
                    known.get(*used - 1).copied()
                })
            } else {
                find(n, key)
            });
        }
        matched
    }

    /// Takes in one answer's destinations.
    pub fn merge(&mut self, fresh: Vec<Destination>) {
        self.answers += 1;
        let answer = self.answers;
        let matched = self.identify(&fresh);
        // Known ones another of `fresh` is by identity: no other takes them by drift.
        let claimed = |i: usize| matched.contains(&Some(i));
        for t in self.items.iter_mut().filter(|t| !t.local) {
            t.missing = true;
        }
        for (d, &found) in fresh.into_iter().zip(&matched) {
            // Not found by its identity: a duplicate of one first seen in this very answer
            // (never for a platform alone: another account there), or one whose identity
            // drifted between answer shapes (then it is the same destination by whatever
            // both answers say of it: of several it may be, the nearest to done, so the
            // others, missing, keep the worse states).
            let fallback = || {
                let key = d.key();
                self.items
                    .iter()
                    .position(|t| {
                        !key.is_anonymous() && !t.local && t.seen_in == answer && t.dest.key() == key
                    })
                    .or_else(|| {
                        let drifted = self.items.iter().enumerate().filter(|(i, t)| {
                            !t.local && t.seen_in != answer && t.missing && same(&t.dest, &d) && !claimed(*i)
                        });
                        drifted.min_by_key(|(_, t)| rank(t.dest.status)).map(|(i, _)| i)
                    })
            };
            let i = match found {
                Some(i) => i,
                None => match fallback() {
                    Some(i) => i,
                    None => {
                        self.items.push(Tracked {
                            dest: d,
                            retry: Entry::default(),
                            missing: false,
                            duplicated: false,
                            seen_in: answer,
                            shown: None,
                            local: false,
                        });
                        continue;
                    }
                },
            };
            let t = &mut self.items[i];
            if t.seen_in == answer {
                t.duplicated = true;
                if outranks(&d, &t.dest) {
                    t.dest = d;
                }
            } else {
                t.dest = d;
                t.seen_in = answer;
            }
            t.missing = false;
        }
        for t in &mut self.items {
            if !t.missing {
                t.retry.observe(&t.dest);
            }
        }
        self.settle();
    }

    /// What is shown differently since the last call.
    pub fn changes(&mut self) -> Vec<Change> {
        let mut out = Vec::new();
        for (index, t) in self.items.iter_mut().enumerate() {
            let state = t.state();
            let same = t.shown.as_ref().is_some_and(|s| {
                s.state == state && s.missing == t.missing && s.raw_status == t.dest.raw_status
            });
            if !same {
                let now = Shown { state, raw_status: t.dest.raw_status.clone(), missing: t.missing };
                out.push(Change { index, before: t.shown.replace(now) });
            }
        }
        out
    }

    /// The destinations as reported.
    pub fn report(&self) -> Vec<Destination> {
        self.items.iter().map(Tracked::report).chain(self.unlisted.iter().cloned()).collect()
    }

    /// `report`, moving the destinations out instead of copying them.
    pub fn into_report(self) -> Vec<Destination> {
        self.items.into_iter().map(Tracked::into_report).chain(self.unlisted).collect()
    }
}

mod said;
#[cfg(test)]
mod tests;

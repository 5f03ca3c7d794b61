//! What the post's own answer (`GET /posts/{id}`) says against its results: the error of a
//! failure the results do not list, the destinations it has that they do not account for,
//! and, when the post calls itself failed while none listed did, those counted failed.

use super::Known;
use crate::model::{Destination, State, UNKNOWN_PLATFORM};

impl Known {
    /// What the post's own answer (`GET /posts/{id}`) lists as failed, kept on the expected
    /// accounts the results do not list: its error says what to fix, should they never be.
    pub fn expect_failures(&mut self, from: &[Destination]) {
        for e in &mut self.expected {
            let failed =
                from.iter().find(|d| d.status == State::Failed && d.account_number() == e.account_number());
            if let Some(d) = failed.filter(|d| d.error.is_some()) {
                e.error.clone_from(&d.error);
            }
        }
        self.settle();
    }

    /// Keeps what the post's own answer lists, to compare with the results at the end (an
    /// answer that lists none tells nothing).
    pub fn post_answered(&mut self, from: Vec<Destination>) {
        if !from.is_empty() {
            self.post_said = Some(from);
        }
    }

    /// The destinations the post's own answer lists that the results do not account for,
    /// each listed destination standing for one of the post's at most once: by account (an
    /// expected account not listed stands as `unlisted` already), else by id where the ids
    /// compare (one of the post's is among the listed ones: results may carry the post's id,
    /// or none), else by platform, published ones first (a failed one is the one the results
    /// miss). As pending placeholders; `None` when the post never listed its destinations.
    pub fn post_unlisted(&self) -> Option<Vec<Destination>> {
        let said = self.post_said.as_ref()?;
        let mut pool: Vec<&Destination> = self.items.iter().filter(|t| !t.local).map(|t| &t.dest).collect();
        let take = |pool: &mut Vec<&Destination>, same: &dyn Fn(&Destination) -> bool| {
            pool.iter().position(|l| same(l)).map(|i| pool.swap_remove(i)).is_some()
        };
        let ids = said.iter().any(|d| d.id.is_some() && pool.iter().any(|l| l.id == d.id));
        let (mut unlisted, mut rest) = (Vec::new(), Vec::new());
        for d in said {
            let found = match (d.account_number(), &d.id) {
                (Some(n), _) => {
                    take(&mut pool, &|l| l.account_number() == Some(n))
                        || self.expected.iter().any(|e| e.account_number() == Some(n))
                }
                (None, Some(_)) if ids => take(&mut pool, &|l| l.id == d.id),
                _ => {
                    rest.push(d);
                    continue;
                }
            };
            if !found {
                unlisted.push(d);
            }
        }
        rest.sort_by_key(|d| d.status != State::Published);
        for d in rest {
            if !take(&mut pool, &|l| l.platform.eq_ignore_ascii_case(&d.platform)) {
                unlisted.push(d);
            }
        }
        let placeholder = |d: &Destination| Destination {
            status: State::Pending,
            raw_status: "not listed".into(),
            error: (d.status == State::Failed).then(|| d.error.clone()).flatten(),
            ..d.clone()
        };
        Some(unlisted.into_iter().map(placeholder).collect())
    }

    /// The post calls itself `said` (failed, partially_failed), yet no destination failed
    /// and every listed one is final: each expected account not listed, and each of `extra`
    /// (the post's own destinations the results do not list), counts as failed for good
    /// (with the error the post's own answer gave it), or, with none, one unnamed
    /// destination does. Never green against the API's own word.
    pub fn fail_unlisted(&mut self, post_id: &str, said: &str, extra: Vec<Destination>) {
        let why =
            format!("PostEverywhere calls the post {said}, and its results do not list this destination");
        let mut dests = std::mem::take(&mut self.unlisted);
        // No longer expected in answers: counted here for good.
        self.expected.retain(|e| !dests.iter().any(|d| d.account_number() == e.account_number()));
        dests.extend(extra);
        if dests.is_empty() {
            let mut d = Destination::unlisted(post_id, 0, UNKNOWN_PLATFORM.to_owned(), None, "");
            d.account_id = None;
            dests.push(d);
        }
        for mut d in dests {
            d.status = State::Failed;
            d.error = Some(d.error.take().unwrap_or_else(|| why.clone()));
            d.note = Some(why.clone());
            self.seed(vec![d]);
        }
    }
}

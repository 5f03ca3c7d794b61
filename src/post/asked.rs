//! What the post itself says (`GET /posts/{id}`), asked when the results alone cannot
//! tell: whether it is a draft or scheduled after the deadline, and, for a run that did not
//! post it, which accounts it is for.

use std::time::Duration;

use super::{Action, Finish, PostWait, Step, UNLISTED_POLLS};
use crate::api::Fault;
use crate::api::model::Results;
use crate::model::{Destination, State, Tally, status_is};
use crate::poll::Observation;

impl PostWait {
    #[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
    pub fn on_post(&mut self, now: Duration, answer: Result<Results, Fault>, jitter: f64) {
        if matches!(answer, Err(Fault::RateLimited { .. } | Fault::Transient { .. })) {
            // Worth asking again after the next poll (the schedule, or the accounts).
            self.schedule_checked = false;
            self.accounts_asked = false;
        }
        if let Ok(mut post) = answer {
            if post.post_status.as_deref().is_some_and(|s| status_is(s, &["draft"])) {
                self.step = Step::Done(Finish::Draft);
                return;
            }
            if let (Some(left), Some(text)) = (post.scheduled_in, post.scheduled_for.take()) {
                // The time left until it, read on the API's clock, against the wait's own.
                if now + left > self.limits.timeout {
                    self.step = Step::Done(Finish::Scheduled(text));
                    return;
                }
            }
            if self.known.expects_accounts() {
                self.known.expect_failures(&post.destinations);
            } else {
                let accounts = self.accounts_of(&post);
                if !accounts.is_empty() {
                    self.known.expect(accounts);
                }
            }
            self.known.post_answered(post.destinations);
        }
        // Not knowing the schedule is no reason to stop waiting.
        self.after_poll(now, Observation::Pending, jitter);
    }

    /// The accounts `post` names (`account_ids`, or its destinations'), as destinations
    /// that stand for each until the results list it: named and on the platform its own
    /// destinations give, with the error of one that failed there.
    fn accounts_of(&self, post: &Results) -> Vec<Destination> {
        let note = "the post names this account, but its results do not list it yet";
        let mut ids = post.account_ids.clone();
        if ids.is_empty() {
            ids = post.destinations.iter().filter_map(Destination::account_number).collect();
            ids.sort_unstable();
            ids.dedup();
        }
        let each = |&n: &i64| {
            let d = post.destinations.iter().find(|d| d.account_number() == Some(n));
            let platform =
                d.map_or_else(|| crate::model::UNKNOWN_PLATFORM.to_owned(), |d| d.platform.clone());
            let mut e =
                Destination::unlisted(&self.id, n, platform, d.and_then(|d| d.account_name.clone()), note);
            e.error = d.filter(|d| d.status == State::Failed).and_then(|d| d.error.clone());
            e
        };
        ids.iter().map(each).collect()
    }

    /// The post calls itself failed or partially_failed, yet no destination known failed
    /// and every listed one is final: a failed one may not be listed. The post is asked
    /// which accounts it is for and what its destinations say (once), `UNLISTED_POLLS` more
    /// polls follow, and then `fail_unlisted` decides. Returns whether it set the next step.
    pub(super) fn failure_unlisted(&mut self, now: Duration, jitter: f64, tally: Tally, said: &str) -> bool {
        if tally.failed > 0 || tally.pending > self.known.unlisted() {
            return false;
        }
        if !self.accounts_asked && self.unlisted_polls < UNLISTED_POLLS {
            self.accounts_asked = true;
            self.unlisted_polls += 1;
            self.step = Step::Due(now, Action::Post);
            return true;
        }
        if self.unlisted_polls < UNLISTED_POLLS {
            self.unlisted_polls += 1;
            self.after_poll(now, Observation::Pending, jitter);
            return true;
        }
        self.fail_unlisted(said);
        false
    }

    /// The API's rate limit was found spent; `past` when until after the deadline, which
    /// the final message then explains.
    #[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
    pub fn budget_spent(&mut self, past: bool) {
        let note = "the API's rate limit (X-RateLimit-Remaining 0) was spent until after the deadline";
        if past && !self.notes.iter().any(|n| n == note) {
            self.notes.push(note.to_owned());
        }
    }

    /// The post-level status, when it says a destination failed (`failed`,
    /// `partially_failed`).
    pub fn says_failed(&self) -> Option<String> {
        self.post_status
            .as_deref()
            .filter(|s| status_is(s, &["failed", "partially_failed"]))
            .map(str::to_owned)
    }

    /// The post calls itself `said` (failed, partially_failed) while no destination failed.
    /// When every destination it is known to have is listed (its accounts, and its own
    /// answer's destinations, `Known::post_unlisted`), or, its own answer never read, a run
    /// that posted sees every account listed or a failure this run re-queued has since
    /// published, the word lags its destinations: said in a note. Else each account and
    /// destination never listed counts as failed, or one unnamed destination does when none
    /// is known (`Known::fail_unlisted`), with a note saying why.
    pub fn fail_unlisted(&mut self, said: &str) {
        let n = self.known.unlisted();
        // The post's own destinations the results do not account for: failed too.
        let extra = self.known.post_unlisted();
        let lags = n == 0
            && match &extra {
                Some(extra) => extra.is_empty(),
                None => self.known.expects_accounts() || self.retries() > 0,
            };
        if lags {
            let note = format!(
                "PostEverywhere calls the post {said}, yet every destination it is known to have is listed \
                 published: look at the post there"
            );
            if !self.notes.contains(&note) {
                self.notes.push(note);
            }
            return;
        }
        let extra = extra.unwrap_or_default();
        let n = n + extra.len();
        self.known.fail_unlisted(&self.id, said, extra);
        self.notes.push(if n == 0 {
            format!(
                "PostEverywhere calls the post {said}, yet its results list no failed destination: one unnamed \
                 destination is counted failed; look at the post there"
            )
        } else {
            format!(
                "PostEverywhere calls the post {said}, and its results never listed {}: counted failed",
                crate::report::text::plural(n, "destination")
            )
        });
    }
}

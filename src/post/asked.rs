//! What the post itself says (`GET /posts/{id}`), asked when the results alone cannot
//! tell: whether it is a draft or scheduled after the deadline, and, for a run that did not
//! post it, which accounts it is for.

use std::time::Duration;

use super::{Finish, PostWait, Step};
use crate::api::Fault;
use crate::api::model::Results;
use crate::model::{Destination, status_is};
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
            let at = post.scheduled_for.as_deref().and_then(crate::time::parse_time);
            if let (Some(at), Some(text)) = (at, post.scheduled_for.take()) {
                if at > self.limits.deadline_wall {
                    self.step = Step::Done(Finish::Scheduled(text));
                    return;
                }
            }
            if !post.account_ids.is_empty() && !self.known.expects_accounts() {
                self.known.expect(self.accounts_of(&post));
            }
        }
        // Not knowing the schedule is no reason to stop waiting.
        self.after_poll(now, Observation::Pending, jitter);
    }

    /// The accounts `post` names, as destinations that stand for each until the results
    /// list it (named and on the platform its own destinations give, when they do).
    fn accounts_of(&self, post: &Results) -> Vec<Destination> {
        let note = "the post names this account, but its results do not list it yet";
        let each = |&n: &i64| {
            let d = post.destinations.iter().find(|d| d.account_number() == Some(n));
            let platform =
                d.map_or_else(|| crate::model::UNKNOWN_PLATFORM.to_owned(), |d| d.platform.clone());
            Destination::unlisted(&self.id, n, platform, d.and_then(|d| d.account_name.clone()), note)
        };
        post.account_ids.iter().map(each).collect()
    }
}

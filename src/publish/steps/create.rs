//! Creating the post, never twice: a call whose answer was lost is looked for before it is
//! sent again, one the API accepted never is, and one out when SIGINT came is given
//! `CREATE_GRACE` to name the post it made.

use std::time::SystemTime;

use serde_json::Value;

use super::{CLOCK_SKEW, CREATES_PER_MINUTE, Failed, Steps};
use crate::api::Fault;
use crate::outcome::Signal;
use crate::report::human_duration;
use crate::run::Events;

/// `POST /posts` calls at most, each after the API showed no post from the one before.
const MAX_CREATES: u32 = 3;

/// The post `create` made: its id, the calls made, and the signal that came while the
/// call that made it was out (its answer came in `CREATE_GRACE`; the step stops on it).
pub struct Created {
    pub id: String,
    pub calls: u32,
    pub signal: Option<Signal>,
}

/// Why `create` made no post it knows of: how it stopped, the calls it made, and the last
/// answer it lost (when there is one, the post may have been made all the same).
pub struct CreateFailed {
    pub failed: Failed,
    pub calls: u32,
    pub lost: Option<String>,
}

impl<E> Steps<'_, E>
where
    E: Events,
{
    /// Creates the post, never twice: a call whose answer was lost is repeated only when
    /// the API shows no post from it after `LOOKS` looks, and never when the API accepted
    /// it; a call that never reached the API is repeated at once. On failure, also the
    /// answer lost last (the post may exist).
    pub async fn create(
        &mut self,
        body: &Value,
        content: &str,
        accounts: &[i64],
        none_since: Option<SystemTime>,
    ) -> Result<Created, CreateFailed> {
        let client = self.client;
        // `calls` counts the creates that reached the API; `unsent`, those that did not
        // (no connection), which made nothing and are bounded by max-errors instead.
        let (mut calls, mut unsent, mut lost_last) = (0, 0, None);
        let failed = |failed, calls, lost| CreateFailed { failed, calls, lost };
        loop {
            let at = self.creates.earliest(self.now());
            if at > self.cfg.timeout {
                let why = format!(
                    "PostEverywhere's {CREATES_PER_MINUTE} creates a minute held the next create past it"
                );
                return Err(failed(Failed::Deadline(Some(why)), calls, lost_last));
            }
            self.sleep_until(at).await.map_err(|f| failed(f, calls, lost_last.clone()))?;
            // On the API's clock (`Client::now`), and clocks still differ: a post made by this
            // call may be stamped earlier, by a minute, or back to when the dedupe look found
            // none like it (any since is this one or a twin, never to be posted again).
            let minute = client.now() - CLOCK_SKEW;
            let since = none_since.map_or(minute, |t| t.min(minute));
            let answer = match self.call_graced("POST posts", false, true, |t| client.create(body, t)).await {
                // It never reached the API, so it made nothing: sent again, not counted
                // among the creates or against their rate.
                Err(Failed::Fault(f)) if f.never_sent() => {
                    unsent += 1;
                    if unsent >= self.cfg.max_errors {
                        let reason = format!(
                            "{unsent} create calls in a row never reached the API; the last: {}",
                            f.describe()
                        );
                        let f = Fault::Transient { reason, reached: false, after: None };
                        return Err(failed(Failed::Fault(f), calls, lost_last));
                    }
                    let wait = self.retry_wait(unsent);
                    self.say(&format!(
                        "the create call never reached the API ({}); sending it again in {}",
                        f.describe(),
                        human_duration(wait)
                    ));
                    self.back_off(wait).await.map_err(|f| failed(f, calls, lost_last.clone()))?;
                    continue;
                }
                // Stopped before it was sent (waiting for the request budget, or out a
                // 429, which made nothing): no post from it.
                Err(f @ (Failed::Deadline(_) | Failed::Signal(_))) => {
                    return Err(failed(f, calls, lost_last));
                }
                answer => answer,
            };
            // Only a create that reached the API counts against its creates a minute, and
            // it ends a run of creates that did not. Timed from its answer: the call may
            // have waited out a 429 before the attempt that reached it.
            self.creates.record(self.now());
            calls += 1;
            unsent = 0;
            let (lost, accepted, asked) = match answer {
                Ok((Some(id), signal)) => return Ok(Created { id, calls, signal }),
                // Its answer came after SIGINT: not looked for, the step stops.
                Ok((None, Some(signal))) => {
                    // Only SIGINT has a grace.
                    let lost = "the API accepted the post but gave no usable id, after SIGINT".to_owned();
                    return Err(failed(Failed::SignalOut(signal), calls, Some(lost)));
                }
                Ok((None, None)) => {
                    ("the API accepted the post but gave no usable id".to_owned(), true, None)
                }
                Err(Failed::Fault(Fault::Transient { reason, after, .. })) => (reason, false, after),
                // Stopped while the call was out: the API may have taken it.
                Err(f @ Failed::SignalOut(_)) => {
                    let lost = "stopped while the create call was out".to_owned();
                    return Err(failed(f, calls, Some(lost)));
                }
                Err(f) => return Err(failed(f, calls, lost_last)),
            };
            lost_last = Some(lost.clone());
            self.say(&format!(
                "the create call's answer was lost ({lost}): it may have made the post; looking for it"
            ));
            let lost_at = self.now();
            // A 503's Retry-After: no create again before it.
            let asked_until = asked.map(|w| lost_at + w);
            match self.made(content, accounts, since, accepted).await {
                Ok(Some(p)) => {
                    self.say(&format!("found it, post {}: not posting again", p.post_id));
                    return Ok(Created { id: p.post_id, calls, signal: None });
                }
                Ok(None) if calls < MAX_CREATES => {
                    let looked = human_duration(self.now().saturating_sub(lost_at));
                    match asked_until.filter(|&t| t > self.now()) {
                        Some(t) if t > self.cfg.timeout => {
                            let why = format!(
                                "the API asked for {} before another create, past it",
                                human_duration(asked.unwrap_or_default())
                            );
                            self.say(&format!("no such post after {looked} of looking; {why}: not posting again"));
                            return Err(failed(Failed::Deadline(Some(why)), calls, lost_last));
                        }
                        Some(t) => {
                            self.say(&format!(
                                "no such post after {looked} of looking: posting again in {}, as the API asked (call {} of {MAX_CREATES})",
                                human_duration(t - self.now()),
                                calls + 1
                            ));
                            self.sleep_until(t).await.map_err(|f| failed(f, calls, lost_last.clone()))?;
                        }
                        None => self.say(&format!(
                            "no such post after {looked} of looking: posting again (call {} of {MAX_CREATES})",
                            calls + 1
                        )),
                    }
                }
                Ok(None) => {
                    let reason = format!("{calls} create calls got no usable answer");
                    return Err(failed(Failed::Fault(Fault::transient(reason)), calls, lost_last));
                }
                Err(f) => return Err(failed(f, calls, lost_last)),
            }
        }
    }
}

//! Looking through the listed posts for this one: before posting (a run that already
//! posted it), before the first create (posts like it from the last minute, so a lost
//! create's looks never take one of them for ours) and after a create whose answer was lost.
//! A listed post with this content whose accounts the list leaves out is asked about
//! (`GET /posts/{id}`, once each, `ASKS` at most a step), so neither a re-run nor a lost
//! create's looks take it for another post, or miss ours.

use std::future::Future;
use std::time::{Duration, SystemTime};

use super::{Failed, LOOKS, Steps};
use crate::api::Fault;
use crate::api::model::Results;
use crate::api::publish::{Listed, PAGE};
use crate::outcome::Signal;
use crate::publish::dedupe;
use crate::run::Events;

/// How much earlier than our clock the API may stamp a post we made: the looks after a
/// lost create take posts made since that much before it.
pub const CLOCK_SKEW: Duration = Duration::from_secs(60);

/// Pages of posts the look for an earlier run's post reads at most.
pub const DEDUPE_PAGES: usize = 5;

/// Listed posts a step asks about at most, when the list leaves their accounts out.
const ASKS: usize = 20;

/// The accounts a post's own answer names: `account_ids`, or its destinations'.
fn accounts_of(post: &Results) -> Vec<i64> {
    let mut ids = post.account_ids.clone();
    if ids.is_empty() {
        ids = post.destinations.iter().filter_map(crate::model::Destination::account_number).collect();
    }
    ids.sort_unstable();
    ids.dedup();
    ids
}

impl<E, S> Steps<'_, E, S>
where
    E: Events,
    S: Future<Output = Signal> + Unpin,
{
    /// Fills in the accounts of the posts with `content` made since `since` that the list
    /// gives without them, from each post's own answer (asked once a step; a post gone
    /// since is for no account).
    async fn fill(&mut self, posts: &mut [Listed], content: &str, since: SystemTime) -> Result<(), Failed> {
        let client = self.client;
        for p in posts.iter_mut().filter(|p| p.account_ids.is_empty() && dedupe::like(p, content, since)) {
            if let Some((_, ids)) = self.asked.iter().find(|(id, _)| *id == p.post_id) {
                p.account_ids.clone_from(ids);
                continue;
            }
            if self.asked.len() >= ASKS {
                continue;
            }
            let id = p.post_id.clone();
            let ids = match self.call("GET post", true, |t| client.post(&id, t)).await {
                Ok(post) => accounts_of(&post),
                Err(Failed::Fault(Fault::Fatal { status: Some(404 | 410), .. })) => Vec::new(),
                Err(f) => return Err(f),
            };
            let said = if ids.is_empty() {
                "nor does its own answer: not taken for this one".to_owned()
            } else {
                let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
                format!("its own answer names {}", ids.join(", "))
            };
            self.say(&format!(
                "post {} has this content; the post list names no accounts for it, {said}",
                crate::escape::one_line(&id, 60)
            ));
            p.account_ids.clone_from(&ids);
            self.asked.push((id, ids));
        }
        Ok(())
    }

    /// Reads the posts made since `since`, newest first, at most `pages` pages, handing each
    /// page to `take` until it returns something; with `content`, the accounts of the posts
    /// that have it are filled in first (`fill`).
    async fn scan<T>(
        &mut self,
        since: SystemTime,
        pages: usize,
        content: &str,
        mut take: impl FnMut(&[Listed]) -> Option<T>,
    ) -> Result<Option<T>, Failed> {
        let client = self.client;
        for page in 0..pages {
            let (mut posts, more) =
                self.call("GET posts", true, |t| client.list_posts(page * PAGE, since, t)).await?;
            self.fill(&mut posts, content, since).await?;
            if let Some(found) = take(&posts) {
                return Ok(Some(found));
            }
            let older = !posts.is_empty() && posts.iter().all(|p| p.created_at.is_some_and(|t| t < since));
            if !more || older {
                break;
            }
        }
        Ok(None)
    }

    /// The newest listed post made since `since` with `content` for `accounts`, looking
    /// through at most `pages` pages; never one of the posts noted before the first create.
    pub async fn find(
        &mut self,
        content: &str,
        accounts: &[i64],
        since: SystemTime,
        pages: usize,
    ) -> Result<Option<Listed>, Failed> {
        let earlier = std::mem::take(&mut self.earlier);
        let found = self
            .scan(since, pages, content, |posts| {
                let ours = |p: &&Listed| !earlier.contains(&p.post_id);
                dedupe::find(posts.iter().filter(ours), content, accounts, since).cloned()
            })
            .await;
        self.earlier = earlier;
        found?.map(usable).transpose()
    }

    /// As `find` (before any create); when there is no such post, also the newest with
    /// `content` made since `since` that shares some of `accounts` (`dedupe::overlapping`).
    pub async fn look(
        &mut self,
        content: &str,
        accounts: &[i64],
        since: SystemTime,
        pages: usize,
    ) -> Result<(Option<Listed>, Option<Listed>), Failed> {
        let mut overlap = None;
        let found = self
            .scan(since, pages, content, |posts| {
                if overlap.is_none() {
                    overlap = dedupe::overlapping(posts, content, accounts, since).cloned();
                }
                dedupe::find(posts, content, accounts, since).cloned()
            })
            .await?;
        match found {
            Some(p) => Ok((Some(usable(p)?), None)),
            None => Ok((None, overlap)),
        }
    }

    /// Notes the posts like this one made in the last `CLOCK_SKEW`, before the first create:
    /// needed when the look for an earlier run's post (`dedupe`) did not reach that far back.
    pub async fn note_earlier(&mut self, content: &str, accounts: &[i64]) -> Result<usize, Failed> {
        let since = SystemTime::now() - CLOCK_SKEW;
        let mut earlier = Vec::new();
        self.scan(since, DEDUPE_PAGES, content, |posts| {
            // One whose accounts could not be asked (`ASKS`) may be for these: never ours.
            let unknown = |p: &Listed| p.account_ids.is_empty() && dedupe::like(p, content, since);
            let like = posts.iter().filter(|p| dedupe::same(p, content, accounts, since) || unknown(p));
            earlier.extend(like.map(|p| p.post_id.clone()));
            None::<()>
        })
        .await?;
        self.earlier = earlier;
        Ok(self.earlier.len())
    }

    /// Looks for the post a create call may have made, `LOOKS` times (`forever`: until the
    /// deadline, for a create the API accepted), a pause apart.
    pub(super) async fn made(
        &mut self,
        content: &str,
        accounts: &[i64],
        since: SystemTime,
        forever: bool,
    ) -> Result<Option<Listed>, Failed> {
        let pause = self.cfg.poll_interval.min(Duration::from_secs(2));
        let mut looks = 0;
        while forever || looks < LOOKS {
            self.back_off(pause).await?;
            looks += 1;
            if let Some(p) = self.find(content, accounts, since, 1).await? {
                return Ok(Some(p));
            }
        }
        Ok(None)
    }
}

/// A found post, when its id can be waited for; else the step stops, never posting again.
fn usable(p: Listed) -> Result<Listed, Failed> {
    match crate::config::id_problem(&p.post_id) {
        None => Ok(p),
        Some(why) => Err(Failed::Unusable(format!(
            "a post with this content to these accounts is there, but PostEverywhere gave it an id \
             that cannot be used ({:?} {why}); not posting again: look at it in PostEverywhere",
            crate::escape::one_line(&p.post_id, 60)
        ))),
    }
}

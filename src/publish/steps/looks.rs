//! Looking through the listed posts for this one: before posting (a run that already
//! posted it), before the first create (posts like it from the last minute, so a lost
//! create's looks never take one of them for ours) and after a create whose answer was lost.

use std::future::Future;
use std::time::{Duration, SystemTime};

use super::{Failed, LOOKS, Steps};
use crate::api::publish::{Listed, PAGE};
use crate::outcome::Signal;
use crate::publish::dedupe;
use crate::run::Events;

/// How much earlier than our clock the API may stamp a post we made: the looks after a
/// lost create take posts made since that much before it.
pub const CLOCK_SKEW: Duration = Duration::from_secs(60);

/// Pages of posts the look for an earlier run's post reads at most.
pub const DEDUPE_PAGES: usize = 5;

impl<E, S> Steps<'_, E, S>
where
    E: Events,
    S: Future<Output = Signal> + Unpin,
{
    /// Reads the posts made since `since`, newest first, at most `pages` pages, handing each
    /// page to `take` until it returns something.
    async fn scan<T>(
        &mut self,
        since: SystemTime,
        pages: usize,
        mut take: impl FnMut(&[Listed]) -> Option<T>,
    ) -> Result<Option<T>, Failed> {
        let client = self.client;
        for page in 0..pages {
            let (posts, more) =
                self.call("GET posts", true, |t| client.list_posts(page * PAGE, since, t)).await?;
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
            .scan(since, pages, |posts| {
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
            .scan(since, pages, |posts| {
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
        self.scan(since, DEDUPE_PAGES, |posts| {
            let like = posts.iter().filter(|p| dedupe::same(p, content, accounts, since));
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

//! Looking through the listed posts for this one: before posting (a run that already
//! posted it), before the first create (posts like it from the last minute, so a lost
//! create's looks never take one of them for ours) and after a create whose answer was lost.
//! A listed post with this content whose accounts the list leaves out is asked about
//! (`GET /posts/{id}`, `ASKS` at most a scan), so neither a re-run nor a lost create's
//! looks take it for another post, or miss ours; one that stays unknown makes a look that
//! finds nothing fail rather than post beside it.

use std::time::{Duration, SystemTime};

use super::{Failed, LOOKS, Steps};
use crate::api::Fault;
use crate::api::model::Results;
use crate::api::publish::{Listed, PAGE};
use crate::publish::dedupe;
use crate::run::Events;

/// How much earlier than the API's clock as we read it (`Client::now`, its `Date` header)
/// it may stamp a post we made: the looks after a lost create take posts made since that
/// much before it.
pub const CLOCK_SKEW: Duration = Duration::from_secs(60);

/// Pages of posts the look for an earlier run's post reads at most.
pub const DEDUPE_PAGES: usize = 5;

/// Listed posts a scan asks about at most, when the list leaves their accounts out.
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

impl<E> Steps<'_, E>
where
    E: Events,
{
    /// Fills in the accounts of the posts with `content` made since `since` that the list
    /// gives without them, from each post's own answer (`ASKS` at most a scan, `asks`
    /// counting them). An answer naming accounts is kept for the step; one that names none,
    /// a 404 (a post only just made may not answer yet) or a refusal leaves the post
    /// unknown, asked again at the next scan.
    async fn fill(
        &mut self,
        posts: &mut [Listed],
        content: &str,
        since: SystemTime,
        asks: &mut usize,
    ) -> Result<(), Failed> {
        let client = self.client;
        for p in posts.iter_mut().filter(|p| p.account_ids.is_empty() && dedupe::like(p, content, since)) {
            if let Some((_, ids)) = self.asked.iter().find(|(id, _)| *id == p.post_id) {
                p.account_ids.clone_from(ids);
                continue;
            }
            if *asks >= ASKS {
                continue;
            }
            *asks += 1;
            let id = crate::escape::one_line(&p.post_id, 60);
            let (ids, said) = match self.call("GET post", true, |t| client.post(&p.post_id, t)).await {
                Ok(post) => {
                    let ids = accounts_of(&post);
                    let named: Vec<String> = ids.iter().map(i64::to_string).collect();
                    let said = if ids.is_empty() {
                        "nor does its own answer".to_owned()
                    } else {
                        format!("its own answer names {}", named.join(", "))
                    };
                    (ids, said)
                }
                Err(Failed::Fault(f)) => {
                    (Vec::new(), format!("and asking for them failed ({})", f.describe()))
                }
                Err(f) => return Err(f),
            };
            self.say(&format!("post {id} has this content; the post list names no accounts for it, {said}"));
            if ids.is_empty() {
                continue;
            }
            p.account_ids.clone_from(&ids);
            self.asked.push((p.post_id.clone(), ids));
        }
        Ok(())
    }

    /// Reads the posts made since `since`, newest first, at most `pages` pages, handing each
    /// page to `take` until it returns something; with `fill`, the accounts of the posts
    /// with that content are filled in first (`fill`). Also whether the pages ran out with
    /// more posts since `since` to read (then nothing found is not "none there").
    async fn scan<T>(
        &mut self,
        since: SystemTime,
        pages: usize,
        fill: Option<&str>,
        mut take: impl FnMut(&[Listed]) -> Option<T>,
    ) -> Result<(Option<T>, bool), Failed> {
        let client = self.client;
        let mut asks = 0;
        for page in 0..pages {
            let (mut posts, more) =
                self.call("GET posts", true, |t| client.list_posts(page * PAGE, since, t)).await?;
            if let Some(content) = fill {
                self.fill(&mut posts, content, since, &mut asks).await?;
            }
            if let Some(found) = take(&posts) {
                return Ok((Some(found), false));
            }
            // A page all older than `since` ends the scan only when it is newest first (as
            // asked): a server that ignores the order may list the oldest first.
            let newest_first = posts.windows(2).all(|w| match (w[0].created_at, w[1].created_at) {
                (Some(a), Some(b)) => a >= b,
                _ => true,
            });
            let older = newest_first
                && !posts.is_empty()
                && posts.iter().all(|p| p.created_at.is_some_and(|t| t < since));
            if !more || older {
                return Ok((None, false));
            }
        }
        Ok((None, pages > 0))
    }

    /// The newest listed post made since `since` with `content` for `accounts`, else the
    /// newest with `content` for some of them and no other (the list may name a post's
    /// destinations as they are made: ours, listed in part, must not be made again),
    /// looking through at most `pages` pages; never one of the posts noted before the first
    /// create. Also how many other posts it saw that may be ours all the same: with
    /// `content` and accounts that stay unknown, or with no text or only a cut preview of
    /// this one (the list cannot tell).
    pub async fn find(
        &mut self,
        content: &str,
        accounts: &[i64],
        since: SystemTime,
        pages: usize,
    ) -> Result<(Option<Listed>, Maybe), Failed> {
        let earlier = std::mem::take(&mut self.earlier);
        let mut maybe = Maybe::default();
        let found = self
            .scan(since, pages, Some(content), |posts| {
                let ours = |p: &&Listed| !earlier.contains(&p.post_id);
                for p in posts.iter().filter(ours) {
                    maybe.unknown += usize::from(unknown_like(p, content, since));
                    maybe.untold +=
                        usize::from(dedupe::cut_like(p, content, since) || dedupe::textless(p, since));
                }
                dedupe::find(posts.iter().filter(ours), content, accounts, since)
                    .or_else(|| {
                        posts.iter().filter(ours).find(|p| dedupe::within(p, content, accounts, since))
                    })
                    .cloned()
            })
            .await;
        self.earlier = earlier;
        let (found, beyond) = found?;
        maybe.beyond |= beyond;
        Ok((found.map(usable).transpose()?, maybe))
    }

    /// As `find` (before any create); when there is no such post, also the newest with
    /// `content` made since `since` that shares some of `accounts` (`dedupe::overlapping`).
    /// A post with `content` whose accounts stay unknown may be this one: without a match
    /// the look cannot tell, and fails as a refused listing does.
    pub async fn look(
        &mut self,
        content: &str,
        accounts: &[i64],
        since: SystemTime,
        pages: usize,
    ) -> Result<(Option<Listed>, Option<Listed>), Failed> {
        // Posts listed, those with a text, and those with only a cut preview of this one's.
        let (mut overlap, mut unknown, mut listed, mut texts, mut cut) = (None, 0, 0, 0, 0);
        let (found, beyond) = self
            .scan(since, pages, Some(content), |posts| {
                if overlap.is_none() {
                    overlap = dedupe::overlapping(posts, content, accounts, since).cloned();
                }
                unknown += posts.iter().filter(|p| unknown_like(p, content, since)).count();
                listed += posts.len();
                texts += posts.iter().filter(|p| p.content.is_some()).count();
                cut += posts.iter().filter(|p| dedupe::cut_like(p, content, since)).count();
                dedupe::find(posts, content, accounts, since).cloned()
            })
            .await?;
        match (found, overlap) {
            (Some(p), _) => Ok((Some(usable(p)?), None)),
            (None, None) if unknown > 0 => {
                Err(Failed::Fault(Fault::Fatal { status: None, message: unknown_line(unknown) }))
            }
            // The list gives no whole text to compare (no post has one, or a preview of
            // this one's is cut short): the look cannot tell either.
            (None, None) if cut > 0 || (listed > 0 && texts == 0) => {
                let message = if cut > 0 {
                    format!(
                        "the post list gives {} only a cut preview of this text",
                        crate::report::text::plural(cut, "post")
                    )
                } else {
                    "the post list gives its posts no text to compare with this one".to_owned()
                };
                Err(Failed::Fault(Fault::Fatal { status: None, message }))
            }
            // More posts since then than the pages read: this one may be among the rest.
            (None, None) if beyond => {
                Err(Failed::Fault(Fault::Fatal { status: None, message: beyond_line(pages) }))
            }
            (None, overlap) => Ok((None, overlap)),
        }
    }

    /// Notes the posts like this one made in the last `CLOCK_SKEW`, before the first create:
    /// needed when the look for an earlier run's post (`dedupe`) did not reach that far back.
    /// One for some of these accounts (the looks take such a post for ours, listed in part)
    /// is noted, and so is one whose accounts the list does not name, without asking: it
    /// may be for these, and is never ours.
    /// Returns how many it noted, and how many of them for unknown accounts.
    pub async fn note_earlier(&mut self, content: &str, accounts: &[i64]) -> Result<(usize, usize), Failed> {
        let since = self.client.now() - CLOCK_SKEW;
        let (mut earlier, mut unknown) = (Vec::new(), 0);
        self.scan(since, DEDUPE_PAGES, None, |posts| {
            for p in posts {
                let maybe = unknown_like(p, content, since);
                if maybe || dedupe::shares(p, content, accounts, since) {
                    earlier.push(p.post_id.clone());
                    unknown += usize::from(maybe);
                }
            }
            None::<()>
        })
        .await?;
        self.earlier = earlier;
        Ok((self.earlier.len(), unknown))
    }

    /// Looks for the post a create call may have made, `LOOKS` times (`forever`: until the
    /// deadline, for a create the API accepted), `look_pause` apart; the heartbeat says so
    /// while it looks.
    pub(super) async fn made(
        &mut self,
        content: &str,
        accounts: &[i64],
        since: SystemTime,
        forever: bool,
    ) -> Result<Option<Listed>, Failed> {
        self.doing.set("looking for the post the create call may have made");
        let found = self.looks(content, accounts, since, forever).await;
        self.doing.set("publishing");
        let (found, maybe) = found?;
        if found.is_some() {
            return Ok(found);
        }
        // One of them may be the post: never posted again.
        let message = if maybe.unknown > 0 {
            unknown_line(maybe.unknown)
        } else if maybe.untold > 0 {
            format!(
                "{} made since the create call with no text, or only a cut preview of this one, in the post list",
                crate::report::text::plural(maybe.untold, "listed post")
            )
        } else if maybe.beyond {
            beyond_line(DEDUPE_PAGES)
        } else {
            return Ok(None);
        };
        Err(Failed::Fault(Fault::Fatal { status: None, message }))
    }

    /// `made`'s looks: the post when one finds it, else what the last look saw.
    async fn looks(
        &mut self,
        content: &str,
        accounts: &[i64],
        since: SystemTime,
        forever: bool,
    ) -> Result<(Option<Listed>, Maybe), Failed> {
        let pause = look_pause(self.cfg.poll_interval, self.cfg.timeout);
        let (mut looks, mut last) = (0, (None, Maybe::default()));
        while forever || looks < LOOKS {
            self.back_off(pause).await?;
            looks += 1;
            last = self.find(content, accounts, since, DEDUPE_PAGES).await?;
            if last.0.is_some() {
                break;
            }
        }
        Ok(last)
    }
}

/// The pause between two looks for a lost create's post: `min(poll-interval, 2 s)`, but
/// never under `timeout / 150` (itself at most 2 s). How long the list takes to show a
/// new post is the API's, not the poll-interval's: at the default timeout the looks span
/// 30 s whatever the interval (a 300 ms interval made them 4.5 s, and a post the list
/// showed later was made twice); a short timeout, which could not wait that long, keeps
/// them short.
pub(super) fn look_pause(poll_interval: Duration, timeout: Duration) -> Duration {
    let most = Duration::from_secs(2);
    poll_interval.min(most).max((timeout / 150).min(most))
}

/// Listed posts a look saw that may be the one it looks for, though it cannot tell.
#[derive(Debug, Default, Clone, Copy)]
pub struct Maybe {
    /// With the text, whose accounts stay unknown.
    unknown: usize,
    /// With no text, or only a cut preview of this one.
    untold: usize,
    /// The pages looked at ran out with more posts since then to read.
    beyond: bool,
}

/// Why a look could not tell: more posts since then than `pages` pages hold.
fn beyond_line(pages: usize) -> String {
    format!(
        "more posts were made since then than the newest {}, which the post list was read for",
        pages * PAGE
    )
}

/// Whether `p` has `content`, was made since `since`, and its accounts are not known.
fn unknown_like(p: &Listed, content: &str, since: SystemTime) -> bool {
    p.account_ids.is_empty() && dedupe::like(p, content, since)
}

/// Why a look could not tell: `n` posts with the content whose accounts are unknown.
fn unknown_line(n: usize) -> String {
    format!(
        "{} with this content whose accounts neither the post list nor {} own answer names",
        crate::report::text::plural(n, "listed post"),
        if n == 1 { "its" } else { "their" }
    )
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

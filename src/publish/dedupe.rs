//! Is a listed post the one we are about to create? The same content (line ends and the
//! space around it aside) to the same accounts (in any order), created at or after a
//! given time; its time only said (`Wanted::other_time`), never a reason to post again.
//! Pure; used both after a create that may have worked and to let a re-run reuse its first
//! run's post.

use std::time::{Duration, SystemTime};

use crate::api::publish::Listed;

/// Content as compared: CRLF as LF, trimmed.
pub fn normal(content: &str) -> String {
    content.replace("\r\n", "\n").trim().to_owned()
}

/// How far apart two times may be for one post: the API may round a time.
pub const TIME_SLACK: Duration = Duration::from_secs(300);

/// The post about to be created, as an earlier run's post must match it.
pub struct Wanted {
    /// Its content, as compared (`normal`).
    pub content: String,
    /// When it is to publish (`schedule-at`); `None`: now.
    pub due: Option<SystemTime>,
}

/// How a listed post's time differs from this one's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OtherTime {
    /// Scheduled for this time, where this one publishes now or at another time.
    At(SystemTime),
    /// Published when it was made, where this one is scheduled for later.
    Now,
}

impl Wanted {
    /// How `post`'s time plainly differs from this one's, said when it is reused (it may be
    /// a second post meant, a reminder, which only `dedupe: 0` can tell): scheduled (more
    /// than `TIME_SLACK` after it was made, or from `now` when the list gives no creation
    /// time) for a time more than `TIME_SLACK` from this one's, or at all when this one
    /// publishes now; or published at once where this one is scheduled for later.
    pub fn other_time(&self, post: &Listed, now: SystemTime) -> Option<OtherTime> {
        let t = post.scheduled_for?;
        let near =
            |a: SystemTime, b: SystemTime| a.duration_since(b).unwrap_or_else(|e| e.duration()) <= TIME_SLACK;
        let scheduled = match post.created_at {
            Some(made) => t > made + TIME_SLACK,
            None if t > now + TIME_SLACK => true,
            None => return None,
        };
        match (self.due, scheduled) {
            (Some(due), true) if !near(due, t) => Some(OtherTime::At(t)),
            (None, true) => Some(OtherTime::At(t)),
            (Some(due), false)
                if !near(due, t) && post.created_at.is_some_and(|made| due > made + TIME_SLACK) =>
            {
                Some(OtherTime::Now)
            }
            _ => None,
        }
    }
}

/// Whether `post` has `content` (normalised with `normal`) for exactly `accounts`, created
/// no earlier than `since` (a post without a creation time counts, when the server was
/// asked to filter by time).
pub fn same(post: &Listed, content: &str, accounts: &[i64], since: SystemTime) -> bool {
    let mut a: Vec<i64> = post.account_ids.clone();
    a.sort_unstable();
    a.dedup();
    let mut b: Vec<i64> = accounts.to_vec();
    b.sort_unstable();
    b.dedup();
    a == b && like(post, content, since)
}

/// Whether the list gives `post` (made no earlier than `since`) only a preview of its text,
/// cut short with `…` or `...`, which `content` begins with: it may be this one. (A whole
/// text that `content` merely begins with, "Release v1.2" beside "Release v1.2.1 is
/// out", is another post.)
pub fn cut_like(post: &Listed, content: &str, since: SystemTime) -> bool {
    let Some(t) = post.content.as_deref().map(normal) else { return false };
    let Some(cut) = t.strip_suffix('…').or_else(|| t.strip_suffix("...")).map(str::trim_end) else {
        return false;
    };
    post.created_at.is_none_or(|t| t >= since)
        && !cut.is_empty()
        && cut.len() < content.len()
        && content.starts_with(cut)
}

/// Whether the list gives `post` (made no earlier than `since`) no text at all.
pub fn textless(post: &Listed, since: SystemTime) -> bool {
    post.content.is_none() && post.created_at.is_none_or(|t| t >= since)
}

/// Whether `post` has `content`, was made no earlier than `since`, and goes to some of
/// `accounts` and to no other: what a create for `accounts` that the list shows in part
/// (its destinations named as they are made) looks like.
pub fn within(post: &Listed, content: &str, accounts: &[i64], since: SystemTime) -> bool {
    like(post, content, since)
        && !post.account_ids.is_empty()
        && post.account_ids.iter().all(|a| accounts.contains(a))
}

/// Whether `post` has `content` (normalised) and was made no earlier than `since`, to
/// whichever accounts.
pub fn like(post: &Listed, content: &str, since: SystemTime) -> bool {
    post.created_at.is_none_or(|t| t >= since)
        && post.content.as_deref().map(normal).as_deref() == Some(content)
}

/// The first listed post that is this one, preferring one whose id can be used (the
/// step waits for it by that id).
pub fn find<'a>(
    posts: impl IntoIterator<Item = &'a Listed>,
    content: &str,
    accounts: &[i64],
    since: SystemTime,
) -> Option<&'a Listed> {
    let mut matches = posts.into_iter().filter(|p| same(p, content, accounts, since));
    let first = matches.next()?;
    if crate::config::id_problem(&first.post_id).is_none() {
        return Some(first);
    }
    Some(matches.find(|p| crate::config::id_problem(&p.post_id).is_none()).unwrap_or(first))
}

/// Whether `post` has `content` (normalised), was made no earlier than `since`, and goes to
/// some of `accounts` (exactly them or not).
pub fn shares(post: &Listed, content: &str, accounts: &[i64], since: SystemTime) -> bool {
    like(post, content, since) && post.account_ids.iter().any(|a| accounts.contains(a))
}

/// A listed post with `content`, made no earlier than `since`, that goes to some of
/// `accounts` but not to exactly them (a first run that skipped an account since
/// reconnected, `all` after an account was added): a new post would put the content on
/// the accounts they share a second time.
pub fn overlapping<'a>(
    posts: impl IntoIterator<Item = &'a Listed>,
    content: &str,
    accounts: &[i64],
    since: SystemTime,
) -> Option<&'a Listed> {
    posts.into_iter().find(|p| shares(p, content, accounts, since) && !same(p, content, accounts, since))
}

/// Whether GitHub says this job is run again (`GITHUB_RUN_ATTEMPT` > 1): its first run may
/// have posted.
pub fn rerun(env: impl Fn(&str) -> Option<String>) -> bool {
    env("GITHUB_RUN_ATTEMPT").and_then(|v| v.trim().parse::<u32>().ok()).is_some_and(|n| n > 1)
}

/// Whether this job may have run before `at`: GitHub runs it again (`GITHUB_RUN_ATTEMPT`
/// over 1), or its GitLab pipeline was made before then (a retried job, or one that
/// waited). A post its first run scheduled for `at` may be there to reuse.
pub fn rerun_before(at: SystemTime, env: impl Fn(&str) -> Option<String>) -> bool {
    rerun(&env)
        || env("GITLAB_CI").as_deref() == Some("true")
            && env("CI_PIPELINE_CREATED_AT").and_then(|t| crate::time::parse_time(&t)).is_some_and(|t| t < at)
}

/// How far back a re-run of a job looks, whatever `dedupe` says.
pub const RERUN_LOOKBACK: Duration = Duration::from_secs(7 * 24 * 3600);

/// How far back to look for this post: `dedupe`, widened for a job that is run again,
/// whose first run may be older. GitHub says so (`GITHUB_RUN_ATTEMPT` > 1): a week back.
/// GitLab does not, but a retried job runs in its old pipeline: back to when that pipeline
/// was created (`CI_PIPELINE_CREATED_AT`, with ten minutes for clocks), at most a week.
/// `dedupe` 0 turns the search off, re-runs included.
pub fn window(dedupe: Duration, env: impl Fn(&str) -> Option<String>, now: SystemTime) -> Duration {
    if dedupe.is_zero() {
        return dedupe;
    }
    let github_rerun = rerun(&env);
    let pipeline_age = env("CI_PIPELINE_CREATED_AT")
        .filter(|_| env("GITLAB_CI").as_deref() == Some("true"))
        .and_then(|t| crate::time::parse_time(&t))
        .and_then(|t| now.duration_since(t).ok())
        .map(|age| (age + Duration::from_secs(600)).min(RERUN_LOOKBACK));
    let widened = if github_rerun { Some(RERUN_LOOKBACK) } else { pipeline_age };
    widened.map_or(dedupe, |w| w.max(dedupe))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(content: &str, accounts: &[i64], secs: u64) -> Listed {
        Listed {
            post_id: format!("p{secs}"),
            content: Some(content.into()),
            account_ids: accounts.to_vec(),
            created_at: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs)),
            scheduled_for: None,
        }
    }

    #[test]
    fn a_time_is_said_never_another_post() {
        let at = |s: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        let (made, hour, min) = (100_000, 3600, 60);
        let now = at(made + 10 * min);
        let listed = |sched: Option<u64>, created: Option<u64>| Listed {
            scheduled_for: sched.map(at),
            created_at: created.map(at),
            ..post("Launch day!", &[1], 0)
        };
        let want = |due: Option<u64>| Wanted { content: normal("Launch day!"), due: due.map(at) };
        // 09:00 and 10:00 differ; minutes apart (the API rounding) do not.
        let other = |w: &Wanted, p: &Listed| w.other_time(p, now);
        let nine = listed(Some(made + hour), Some(made));
        assert_eq!(other(&want(Some(made + 2 * hour)), &nine), Some(OtherTime::At(at(made + hour))));
        assert_eq!(other(&want(Some(made + hour + 4 * min)), &nine), None);
        assert_eq!(other(&want(None), &nine), Some(OtherTime::At(at(made + hour))));
        let at_once = listed(Some(made + 30), Some(made));
        assert_eq!(other(&want(None), &at_once), None);
        assert_eq!(other(&want(Some(made + hour)), &at_once), Some(OtherTime::Now));
        assert_eq!(other(&want(Some(made + 3 * min)), &at_once), None, "due when it was made");
        assert_eq!(
            other(&want(None), &listed(Some(made + hour), None)),
            Some(OtherTime::At(at(made + hour)))
        );
        assert_eq!(other(&want(None), &listed(Some(made), None)), None);
        assert_eq!(other(&want(Some(made + hour)), &listed(None, Some(made))), None);
    }

    #[test]
    fn same_content_same_accounts_recent_enough() {
        let since = SystemTime::UNIX_EPOCH + Duration::from_secs(100);
        let c = normal("Launch day!\r\n");
        assert!(same(&post("  Launch day!\n", &[2, 1], 150), &c, &[1, 2], since));
        assert!(!same(&post("Launch day!", &[1], 150), &c, &[1, 2], since), "other accounts");
        assert!(!same(&post("Launch day", &[1, 2], 150), &c, &[1, 2], since), "other content");
        assert!(!same(&post("Launch day!", &[1, 2], 50), &c, &[1, 2], since), "too old");
        let posts = [post("x", &[1], 150), post("Launch day!", &[1, 2], 160)];
        assert_eq!(find(&posts, &c, &[2, 1], since).unwrap().post_id, "p160");
        // A match whose id cannot be used gives way to one that can, and is found only alone.
        let mut odd = post("Launch day!", &[1, 2], 170);
        odd.post_id = "odd:1".into();
        let both = [odd.clone(), post("Launch day!", &[1, 2], 160)];
        assert_eq!(find(&both, &c, &[1, 2], since).unwrap().post_id, "p160");
        assert_eq!(find(&[odd], &c, &[1, 2], since).unwrap().post_id, "odd:1");
    }

    #[test]
    fn a_post_sharing_some_accounts_overlaps() {
        let since = SystemTime::UNIX_EPOCH + Duration::from_secs(100);
        let c = normal("Launch day!");
        let posts = [post("Launch day!", &[1], 150)];
        assert_eq!(overlapping(&posts, &c, &[1, 5], since).unwrap().post_id, "p150");
        assert!(overlapping(&posts, &c, &[1], since).is_none(), "the same post, not an overlap");
        assert!(overlapping(&posts, &c, &[5], since).is_none(), "no account shared");
        assert!(overlapping(&posts, &normal("Other"), &[1, 5], since).is_none(), "other content");
        assert!(overlapping(&[post("Launch day!", &[1], 50)], &c, &[1, 5], since).is_none(), "too old");
        assert!(overlapping(&[post("Launch day!", &[1, 2, 5], 150)], &c, &[1, 5], since).is_some());
    }

    #[test]
    fn reruns_look_back_to_their_first_run() {
        let now = humantime::parse_rfc3339("2026-11-30T12:00:00Z").unwrap();
        let day = Duration::from_secs(86_400);
        let w = |dedupe: Duration, pairs: &[(&str, &str)]| {
            window(dedupe, |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned()), now)
        };
        assert_eq!(w(day, &[]), day);
        assert_eq!(w(day, &[("GITHUB_RUN_ATTEMPT", "1")]), day);
        assert_eq!(w(day, &[("GITHUB_RUN_ATTEMPT", "2")]), RERUN_LOOKBACK);
        assert_eq!(w(Duration::ZERO, &[("GITHUB_RUN_ATTEMPT", "2")]), Duration::ZERO);
        // GitLab: back to the pipeline's creation (plus ten minutes), at most a week.
        let gitlab = |at| [("GITLAB_CI", "true"), ("CI_PIPELINE_CREATED_AT", at)];
        assert_eq!(w(day, &gitlab("2026-11-27T12:00:00Z")), 3 * day + Duration::from_secs(600));
        assert_eq!(w(day, &gitlab("2026-10-30T12:00:00Z")), RERUN_LOOKBACK);
        assert_eq!(w(day, &gitlab("2026-11-30T11:00:00Z")), day, "never narrower than dedupe");
        assert_eq!(w(day, &gitlab("soon")), day);
        assert_eq!(w(day, &[("CI_PIPELINE_CREATED_AT", "2026-11-27T12:00:00Z")]), day, "not GitLab");
        // A time since past: a GitHub re-run, or a GitLab pipeline made before it.
        let before = |at: &str, pairs: &[(&str, &str)]| {
            let at = humantime::parse_rfc3339(at).unwrap();
            rerun_before(at, |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned()))
        };
        assert!(before("2026-11-30T09:00:00Z", &[("GITHUB_RUN_ATTEMPT", "2")]));
        assert!(!before("2026-11-30T09:00:00Z", &[("GITHUB_RUN_ATTEMPT", "1")]));
        assert!(before("2026-11-30T09:00:00Z", &gitlab("2026-11-30T08:00:00Z")));
        assert!(!before("2026-11-30T09:00:00Z", &gitlab("2026-11-30T10:00:00Z")), "made after that time");
        assert!(!before("2026-11-30T09:00:00Z", &[("CI_PIPELINE_CREATED_AT", "2026-11-30T08:00:00Z")]));
    }
}

//! Is a listed post the one we are about to create? The same content (line ends and the
//! space around it aside) to the same accounts (in any order), created at or after a
//! given time. Pure; used both after a create that may have worked and to let a re-run
//! reuse its first run's post.

use std::time::{Duration, SystemTime};

use crate::api::publish::Listed;

/// Content as compared: CRLF as LF, trimmed.
pub fn normal(content: &str) -> String {
    content.replace("\r\n", "\n").trim().to_owned()
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

/// A listed post with `content`, made no earlier than `since`, that goes to some of
/// `accounts` but not to exactly them (a first run that skipped an account since
/// reconnected, `all` after an account was added): a new post would put the content on
/// the accounts they share a second time.
pub fn overlapping<'a>(
    posts: &'a [Listed],
    content: &str,
    accounts: &[i64],
    since: SystemTime,
) -> Option<&'a Listed> {
    posts.iter().find(|p| {
        like(p, content, since)
            && p.account_ids.iter().any(|a| accounts.contains(a))
            && !same(p, content, accounts, since)
    })
}

/// Whether GitHub says this job is run again (`GITHUB_RUN_ATTEMPT` > 1): its first run may
/// have posted.
pub fn rerun(env: impl Fn(&str) -> Option<String>) -> bool {
    env("GITHUB_RUN_ATTEMPT").and_then(|v| v.trim().parse::<u32>().ok()).is_some_and(|n| n > 1)
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
        }
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
    }
}

//! Is a listed post the one we are about to create? The same content (line ends and the
//! space around it aside) to the same accounts (in any order), created at or after a
//! given time. Pure; used both after a create that may have worked and to let a re-run
//! reuse its first run's post.

use std::time::SystemTime;

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
    let recent = post.created_at.is_none_or(|t| t >= since);
    recent && a == b && post.content.as_deref().map(normal).as_deref() == Some(content)
}

/// The first listed post that is this one.
pub fn find<'a>(
    posts: &'a [Listed],
    content: &str,
    accounts: &[i64],
    since: SystemTime,
) -> Option<&'a Listed> {
    posts.iter().find(|p| same(p, content, accounts, since))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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
    }
}

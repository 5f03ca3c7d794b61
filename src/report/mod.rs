//! What the wait found, as plain data, and the pure renderers that turn it into text for
//! each audience: step outputs, the Markdown summary, the results JSON and the terminal
//! table. Nothing here writes anywhere; `ci` decides where the strings go.

pub mod dotenv;
pub mod fit;
pub mod json;
pub mod junit;
pub mod links;
pub mod outputs;
pub mod summary;
pub mod table;
pub mod text;

use std::time::{Duration, SystemTime};

use crate::config::FailOn;
use crate::model::{Destination, State, Tally};
use crate::outcome::Status;

/// One post's final (or last known) state.
#[derive(Debug, Clone)]
pub struct PostReport {
    pub post_id: String,
    pub status: Status,
    pub exit_code: u8,
    /// The API's own post-level status, when it sent one.
    pub post_status: Option<String>,
    pub destinations: Vec<Destination>,
    pub tally: Tally,
    /// Why this post's wait ended early or badly, one line.
    pub message: Option<String>,
    /// Whether any usable answer arrived for it.
    pub answered: bool,
    /// For `scheduled`: when it will publish.
    pub scheduled_for: Option<String>,
    /// Re-queues we sent for it.
    pub retried: u32,
}

/// The whole step: every post and the aggregate.
#[derive(Debug, Clone)]
pub struct Report {
    pub status: Status,
    pub exit_code: u8,
    pub fail_on: FailOn,
    pub posts: Vec<PostReport>,
    pub tally: Tally,
    /// The step-level reason (or the single post's), one line.
    pub message: Option<String>,
    pub timeout: Duration,
    pub elapsed: Duration,
    pub requests: u32,
    pub started_at: SystemTime,
    /// Set when the simulator produced these results.
    pub simulated: bool,
    /// What publishing did, when the step published the post.
    pub publish: Option<crate::publish::Record>,
}

impl Report {
    pub fn destinations(&self) -> impl Iterator<Item = &Destination> {
        self.posts.iter().flat_map(|p| p.destinations.iter())
    }

    /// Whether any post got a usable answer.
    pub fn answered(&self) -> bool {
        self.posts.iter().any(|p| p.answered)
    }

    /// Links of published destinations, in order.
    pub fn published_urls(&self) -> impl Iterator<Item = &str> {
        self.destinations().filter(|d| d.status == State::Published).filter_map(|d| d.url.as_deref())
    }

    /// Platforms with a failed destination, each once, made single-line and comma-free.
    pub fn failed_platforms(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for d in self.destinations().filter(|d| d.status == State::Failed) {
            let p = crate::escape::one_line(&d.platform, 64).trim().replace(',', " ");
            if !out.contains(&p) {
                out.push(p);
            }
        }
        out
    }

    /// Re-queues sent over all posts.
    pub fn retried(&self) -> u32 {
        self.posts.iter().map(|p| p.retried).sum()
    }
}

/// `items` in order of `rank` (0, 1 or 2), in their own order within a rank: what a
/// stable sort by the rank gives, without a sort's code for each kind of item.
// Every run sorts with it, but not every instance runs: not inlined, so the several-post
// ones stay out of the functions every run executes
// (docs/performance.md#code-only-some-runs-execute).
#[inline(never)]
pub fn by_rank<I: Iterator + Clone>(items: I, rank: impl Fn(&I::Item) -> u8) -> Vec<I::Item> {
    let rank = &rank;
    let out: Vec<I::Item> = (0..3).flat_map(|r| items.clone().filter(move |x| rank(x) == r)).collect();
    debug_assert_eq!(out.len(), items.count(), "a rank outside 0..3");
    out
}

/// `1.2s`, `45s`, `3m05s`: durations for people.
pub fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 10_000 {
        format!("{:.1}s", d.as_secs_f64())
    } else if ms < 60_000 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;
    use crate::model::State;
    use serde_json::json;

    pub(crate) fn dest(platform: &str, name: &str, status: State) -> Destination {
        Destination {
            post_id: "post_1".into(),
            id: None,
            account_id: Some(json!(2280)),
            account_name: Some(name.into()),
            platform: platform.into(),
            status,
            raw_status: status.as_str().into(),
            url: (status == State::Published).then(|| format!("https://{platform}.example/p/1")),
            error: (status == State::Failed).then(|| "Token expired. Please reconnect.".to_owned()),
            attempts: Some(1),
            published_at: None,
            next_retry_at: None,
            retries: 0,
            note: None,
            class: None,
        }
    }

    pub(crate) fn post(status: Status, dests: Vec<Destination>) -> PostReport {
        PostReport {
            post_id: "post_1".into(),
            status,
            exit_code: 0,
            post_status: None,
            tally: Tally::of(&dests),
            destinations: dests,
            message: None,
            answered: true,
            scheduled_for: None,
            retried: 0,
        }
    }

    pub(crate) fn report(status: Status, dests: Vec<Destination>) -> Report {
        let tally = Tally::of(&dests);
        Report {
            status,
            exit_code: 0,
            fail_on: FailOn::Any,
            posts: vec![post(status, dests)],
            tally,
            message: None,
            timeout: Duration::from_secs(300),
            elapsed: Duration::from_millis(12_300),
            requests: 4,
            started_at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_784_000_000),
            simulated: false,
            publish: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_rank_is_a_stable_sort_by_rank() {
        for n in 0..200u32 {
            // Items (rank, position) from a fixed pseudo-random sequence.
            let items: Vec<(u8, u32)> = (0..n % 23).map(|i| (((i * 7 + n * 13) % 3) as u8, i)).collect();
            let mut want: Vec<&(u8, u32)> = items.iter().collect();
            want.sort_by_key(|x| x.0);
            assert_eq!(by_rank(items.iter(), |x| x.0), want);
        }
    }

    #[test]
    fn durations_for_people() {
        assert_eq!(human_duration(Duration::from_millis(1234)), "1.2s");
        assert_eq!(human_duration(Duration::from_secs(45)), "45s");
        assert_eq!(human_duration(Duration::from_secs(185)), "3m05s");
    }
}

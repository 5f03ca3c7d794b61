//! The scripted API of the property tests: answers drawn from a `Script` (results listings
//! with duplicated and vanishing rows, faults, 429 hints, retry answers, latencies), every
//! request logged with its start, end and outcome; and a `Recorder` of what the run said.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{Value, json};

use super::super::*;
use crate::api::model::decode_results;
use crate::model::{Destination, State};
use crate::track::Known;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Word {
    Queued,
    Publishing,
    Published,
    /// A failure a retry can fix.
    Failed,
    /// A failure a retry cannot fix.
    Reconnect,
    /// A failure the platform will retry by itself.
    Scheduled,
}

#[derive(Debug, Clone)]
pub(super) struct Row {
    pub(super) account: i64,
    pub(super) word: Word,
    pub(super) attempts: u64,
    pub(super) twice: Option<Word>,
}

#[derive(Debug, Clone)]
pub(super) enum ResultsStep {
    Listed(Vec<Row>),
    Transient,
    Limited(Option<u64>),
    Fatal,
}

#[derive(Debug, Clone)]
pub(super) enum RetryStep {
    Accepted(Option<u64>),
    Transient,
    Limited(Option<u64>),
    Refused(u16),
}

#[derive(Debug, Clone)]
pub(super) struct Script {
    pub(super) results: Vec<ResultsStep>,
    pub(super) retries: Vec<RetryStep>,
    pub(super) latencies_ms: Vec<u64>,
    /// The post-level status lags: `publishing` whatever the destinations say.
    pub(super) lagging: bool,
    /// Account `HIDDEN` failed, and the results never list it: the post calls itself
    /// `partially_failed` once every listed destination is final, and its own answer names
    /// the account, failed.
    pub(super) hidden: bool,
}

/// The account of a failure only the post-level status and the post's own answer tell.
pub(super) const HIDDEN: i64 = 9;

#[derive(Debug, Clone)]
pub(super) enum Outcome {
    Listed(Vec<Destination>),
    /// The post's own answer, naming its accounts.
    Named(Vec<i64>),
    Accepted(Option<u64>),
    Failed,
    Limited,
    Refused,
}

#[derive(Debug, Clone)]
pub(super) struct Logged {
    pub(super) post: String,
    pub(super) body: Option<Value>,
    pub(super) start: Duration,
    pub(super) end: Duration,
    pub(super) outcome: Outcome,
}

pub(super) struct Fake {
    pub(super) script: Script,
    pub(super) t0: Instant,
    pub(super) log: Mutex<Vec<Logged>>,
    pub(super) counts: Mutex<HashMap<(String, u8), usize>>,
}

pub(super) fn row_json(post: &str, r: &Row, word: Word) -> Value {
    let (status, error, retry_at) = match word {
        Word::Queued => ("queued", None, None),
        Word::Publishing => ("publishing", None, None),
        Word::Published => ("published", None, None),
        Word::Failed => ("failed", Some("Platform returned 503"), None),
        Word::Reconnect => ("failed", Some("Token expired. Please reconnect."), None),
        Word::Scheduled => ("failed", Some("Platform returned 503"), Some("2099-01-01T00:00:00Z")),
    };
    json!({
        "account_id": r.account, "account_name": format!("@a{}", r.account), "platform": format!("p{}", r.account),
        "id": format!("d{}", r.account), "status": status, "error": error, "attempts": r.attempts,
        "next_retry_at": retry_at,
        "platform_post_url": (word == Word::Published).then(|| format!("https://x.example/{post}/{}", r.account)),
    })
}

impl Fake {
    fn next(&self, post: &str, kind: u8) -> usize {
        let mut c = self.counts.lock().unwrap();
        let n = c.entry((post.to_owned(), kind)).or_default();
        *n += 1;
        *n - 1
    }

    /// Waits for the scripted latency (or the request's timeout); whether it timed out.
    async fn latency(&self, n: usize, timeout: Duration) -> bool {
        let l = Duration::from_millis(self.script.latencies_ms[n % self.script.latencies_ms.len()]);
        tokio::time::sleep(l.min(timeout)).await;
        l > timeout
    }

    fn record(&self, post: &str, body: Option<Value>, start: Duration, outcome: Outcome) {
        let end = self.t0.elapsed();
        self.log.lock().unwrap().push(Logged { post: post.to_owned(), body, start, end, outcome });
    }
}

pub(super) fn transient() -> Fault {
    Fault::transient("HTTP 503")
}

pub(super) fn limited(ms: Option<u64>) -> Fault {
    Fault::RateLimited { wait: ms.map(Duration::from_millis), reason: "HTTP 429".into() }
}

pub(super) fn answer<T>(value: T) -> Answer<T> {
    Answer { value, rate: RateInfo::default() }
}

impl Api for Fake {
    async fn results(&self, post_id: &str, timeout: Duration) -> Result<Answer<Results>, Fault> {
        let start = self.t0.elapsed();
        let n = self.next(post_id, 0);
        let step = self.script.results[n.min(self.script.results.len() - 1)].clone();
        if self.latency(n, timeout).await {
            self.record(post_id, None, start, Outcome::Failed);
            return Err(transient());
        }
        let (outcome, reply) = match step {
            ResultsStep::Listed(rows) => {
                let mut list = Vec::new();
                for r in &rows {
                    list.push(row_json(post_id, r, r.word));
                    if let Some(w) = r.twice {
                        list.push(row_json(post_id, r, w));
                    }
                }
                let body =
                    json!({"data": {"post_id": post_id, "post_status": "publishing", "results": list}});
                let mut r =
                    decode_results(post_id, body.to_string().as_bytes(), std::time::SystemTime::now())
                        .expect("the fake's answers decode");
                // As PostEverywhere derives it from the destinations it lists (and the one
                // it does not), or lagging.
                let pending =
                    self.script.lagging || r.destinations.iter().any(|d| d.status == State::Pending);
                let word = match (pending, self.script.hidden) {
                    (true, _) => "publishing",
                    (false, true) => "partially_failed",
                    (false, false) => "published",
                };
                r.post_status = Some(word.into());
                (Outcome::Listed(r.destinations.clone()), Ok(answer(r)))
            }
            ResultsStep::Transient => (Outcome::Failed, Err(transient())),
            ResultsStep::Limited(ms) => (Outcome::Limited, Err(limited(ms))),
            ResultsStep::Fatal => {
                (Outcome::Refused, Err(Fault::Fatal { status: Some(401), message: "HTTP 401".into() }))
            }
        };
        self.record(post_id, None, start, outcome);
        reply
    }

    async fn post(&self, post_id: &str, timeout: Duration) -> Result<Answer<Results>, Fault> {
        let start = self.t0.elapsed();
        let n = self.next(post_id, 1);
        let timed_out = self.latency(n, timeout).await;
        if timed_out {
            self.record(post_id, None, start, Outcome::Failed);
            return Err(transient());
        }
        // The post names every account any of its listings has: a wait-only run that asks
        // learns them, and waits for one not listed yet.
        let mut account_ids: Vec<i64> = (self.script.results.iter())
            .filter_map(|s| if let ResultsStep::Listed(rows) = s { Some(rows) } else { None })
            .flat_map(|rows| rows.iter().map(|r| r.account))
            .collect();
        let mut destinations = Vec::new();
        if self.script.hidden {
            account_ids.push(HIDDEN);
            let row = Row { account: HIDDEN, word: Word::Reconnect, attempts: 1, twice: None };
            let body = json!({"data": {"post_id": post_id, "results": [row_json(post_id, &row, row.word)]}});
            destinations = decode_results(post_id, body.to_string().as_bytes(), std::time::SystemTime::now())
                .expect("decodes")
                .destinations;
        }
        account_ids.sort_unstable();
        account_ids.dedup();
        self.record(post_id, None, start, Outcome::Named(account_ids.clone()));
        let post = Results {
            post_status: Some("publishing".into()),
            account_ids,
            destinations,
            ..Results::default()
        };
        Ok(answer(post))
    }

    async fn retry(&self, post_id: &str, body: &Value, timeout: Duration) -> Result<Answer<RetryAck>, Fault> {
        let start = self.t0.elapsed();
        let n = self.next(post_id, 2);
        let step = self.script.retries[n.min(self.script.retries.len() - 1)].clone();
        let (outcome, reply) = if self.latency(n, timeout).await {
            (Outcome::Failed, Err(transient()))
        } else {
            match step {
                RetryStep::Accepted(c) => (Outcome::Accepted(c), Ok(answer(RetryAck { retried_count: c }))),
                RetryStep::Transient => (Outcome::Failed, Err(transient())),
                RetryStep::Limited(ms) => (Outcome::Limited, Err(limited(ms))),
                RetryStep::Refused(s) => (
                    Outcome::Refused,
                    Err(Fault::Fatal { status: Some(s), message: format!("HTTP {s}: refused") }),
                ),
            }
        };
        self.record(post_id, Some(body.clone()), start, outcome);
        reply
    }
}

/// Records announcements of the next request, with the time they were made.
pub(super) struct Recorder {
    pub(super) t0: Instant,
    pub(super) said: Mutex<Vec<(usize, Duration, Duration)>>,
}

impl Events for Recorder {
    fn info(&self, _: &str) {}
    fn warn(&self, _: &str) {}
    fn debug(&self, msg: impl FnOnce() -> String) {
        // Built as when debug logging is on: a line that cannot be built fails the test.
        let _ = msg();
    }
    fn progress(&self, _: Duration, _: Option<&str>, _: &Known, _: &[crate::track::Change]) {}
    fn announce(&self, post: usize, at: Duration, _: &str) {
        self.said.lock().unwrap().push((post, self.t0.elapsed(), at));
    }
}

#[derive(Debug, Clone)]
pub(super) struct Setup {
    pub(super) posts: usize,
    pub(super) timeout_ms: u64,
    pub(super) interval_ms: u64,
    pub(super) retry_failed: u32,
    pub(super) max_errors: u32,
    pub(super) rate_limit: u32,
    /// Accounts 1 to this were posted to (as by publishing): each must be listed.
    pub(super) posted_to: i64,
}

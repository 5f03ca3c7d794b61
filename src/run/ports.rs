//! The driver's two ports: `Api`, the calls the wait makes (`Client` is the real one; the
//! property tests script another), and `Events`, what it tells the user (`ci::Sink` prints
//! it).

use std::future::Future;
use std::time::Duration;

use serde_json::Value;

use crate::api::model::{Results, RetryAck};
use crate::api::{Answer, Client, Fault};
use crate::track::Known;

/// The calls the wait makes. `Client` is the real one.
pub trait Api: Send + Sync + 'static {
    fn results(
        &self,
        post_id: &str,
        timeout: Duration,
    ) -> impl Future<Output = Result<Answer<Results>, Fault>> + Send;
    fn post(
        &self,
        post_id: &str,
        timeout: Duration,
    ) -> impl Future<Output = Result<Answer<Results>, Fault>> + Send;
    fn retry(
        &self,
        post_id: &str,
        body: &Value,
        timeout: Duration,
    ) -> impl Future<Output = Result<Answer<RetryAck>, Fault>> + Send;
}

impl Api for Client {
    fn results(
        &self,
        post_id: &str,
        timeout: Duration,
    ) -> impl Future<Output = Result<Answer<Results>, Fault>> + Send {
        Client::results(self, post_id, timeout)
    }
    fn post(
        &self,
        post_id: &str,
        timeout: Duration,
    ) -> impl Future<Output = Result<Answer<Results>, Fault>> + Send {
        Client::post(self, post_id, timeout)
    }
    fn retry(
        &self,
        post_id: &str,
        body: &Value,
        timeout: Duration,
    ) -> impl Future<Output = Result<Answer<RetryAck>, Fault>> + Send {
        Client::retry(self, post_id, body, timeout)
    }
}

/// What the driver tells the user. `ci::Sink` prints it.
pub trait Events {
    fn info(&self, line: &str);
    fn warn(&self, msg: &str);
    /// Detail for debug logs; `msg` is called only when they are on (nobody reads it else).
    fn debug(&self, msg: impl FnOnce() -> String);
    /// A poll's news: what changed among one post's destinations.
    fn progress(&self, now: Duration, post: Option<&str>, known: &Known, changes: &[crate::track::Change]);
    /// A line that announces post `post`'s next request, due at `at` (since the start).
    fn announce(&self, post: usize, at: Duration, line: &str) {
        let _ = (post, at);
        self.info(line);
    }
    /// A line that says the wait is alive (a terminal's live view has no use for it).
    fn heartbeat(&self, line: &str) {
        self.info(line);
    }
}

//! What the wait starts from and ends with: the step's clock and request budget (shared
//! with publishing), a wait for each post on its deadline, and the state of every post
//! when the loop ended, however it ended.

use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use crate::config::Config;
use crate::outcome::Signal;
use crate::pace::Pacer;
use crate::post::{Limits, PostWait};

/// How the loop ended.
pub enum Stop {
    /// Every post finished.
    Done,
    Signal(Signal),
    /// The wait could not start (simulator, HTTP client).
    Setup(String),
    /// Publishing stopped before there was a post to wait for (or a dry run ended it).
    Early {
        status: crate::outcome::Status,
        code: u8,
        message: String,
    },
}

/// The step's clock and request budget, shared by publishing and waiting.
pub struct Clock {
    pub t0: Instant,
    pub started_at: SystemTime,
    pub pacer: Pacer,
    /// API requests made before the wait (publishing the post).
    pub sent: u32,
}

impl Clock {
    pub fn start(cfg: &Config) -> Clock {
        Clock {
            t0: Instant::now(),
            started_at: SystemTime::now(),
            pacer: Pacer::new(cfg.rate_limit, cfg.timeout),
            sent: 0,
        }
    }
}

/// A wait for each of `ids`, on the step's deadline.
pub fn waits(cfg: &Config, ids: &[String]) -> Vec<PostWait> {
    let limits = limits(cfg);
    ids.iter().map(|id| PostWait::new(id.clone(), limits)).collect()
}

/// The state of every post when the loop ended, for the report.
pub struct Waited {
    pub posts: Vec<PostWait>,
    pub stop: Stop,
    pub started_at: SystemTime,
    pub elapsed: Duration,
    /// API requests made before the wait (publishing the post); the posts count the rest.
    pub sent_before: u32,
}

impl Waited {
    /// The wait never started.
    pub fn not_started(cfg: &Config, why: String) -> Waited {
        let limits = limits(cfg);
        let posts = cfg.post_ids.iter().map(|id| PostWait::new(id.clone(), limits)).collect();
        Waited {
            posts,
            stop: Stop::Setup(why),
            started_at: SystemTime::now(),
            elapsed: Duration::ZERO,
            sent_before: 0,
        }
    }

    /// Publishing made the post, but a signal came before the wait began.
    pub fn cancelled(clock: &Clock, posts: Vec<PostWait>, signal: Signal) -> Waited {
        Waited::after_publishing(clock, posts, Stop::Signal(signal))
    }

    /// Publishing ended the step before any wait.
    pub fn early(clock: &Clock, status: crate::outcome::Status, code: u8, message: String) -> Waited {
        Waited::after_publishing(clock, Vec::new(), Stop::Early { status, code, message })
    }

    fn after_publishing(clock: &Clock, posts: Vec<PostWait>, stop: Stop) -> Waited {
        Waited {
            posts,
            stop,
            started_at: clock.started_at,
            elapsed: clock.t0.elapsed(),
            sent_before: clock.sent,
        }
    }
}

fn limits(cfg: &Config) -> Limits {
    Limits {
        timeout: cfg.timeout,
        interval: cfg.poll_interval,
        max_errors: cfg.max_errors,
        retry_failed: cfg.retry_failed,
    }
}

//! The driver: the one place that touches the clock, the network and signals. Every post
//! is a pure `PostWait`; this loop starts whatever is due as the shared `Pacer` allows
//! (requests run concurrently), feeds each answer back, and races everything against
//! SIGINT and SIGTERM. `verdict` turns what it returns into the report.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;
use tokio::task::JoinSet;

use crate::api::{Answer, Client, Fault, RateInfo, model::Results};
use crate::ci::Sink;
use crate::config::Config;
use crate::outcome::Signal;
use crate::pace::Pacer;
use crate::post::{Action, Limits, PostWait};
use crate::report::human_duration;

/// Requests in flight at once, whatever the budget allows: bounds connections and memory
/// with many posts, and is far above what 60 a minute needs.
const MAX_IN_FLIGHT: usize = 32;

/// How the loop ended.
pub enum Stop {
    /// Every post finished.
    Done,
    Signal(Signal),
    /// The wait could not start (simulator, HTTP client).
    Setup(String),
}

/// What came back for one action.
enum Reply {
    Results(Result<Answer<Results>, Fault>),
    Post(Result<Answer<Results>, Fault>),
    Retry(Result<Answer<Value>, Fault>),
}

impl Reply {
    /// The rate-limit headers of a usable answer, or the fault.
    fn meta(&self) -> Result<RateInfo, &Fault> {
        fn split<T>(r: &Result<Answer<T>, Fault>) -> Result<RateInfo, &Fault> {
            r.as_ref().map(|a| a.rate)
        }
        match self {
            Reply::Results(r) | Reply::Post(r) => split(r),
            Reply::Retry(r) => split(r),
        }
    }
}

/// The state of every post when the loop ended, for the report.
pub struct Waited {
    pub posts: Vec<PostWait>,
    pub stop: Stop,
    pub started_at: SystemTime,
    pub elapsed: Duration,
}

/// Waits for every configured post; returns their state for the report.
pub async fn run(cfg: &Config, sink: &Sink, signals: &mut crate::signal::Signals) -> Waited {
    let started_at = SystemTime::now();
    let t0 = Instant::now();
    let limits = Limits {
        timeout: cfg.timeout,
        interval: cfg.poll_interval,
        max_errors: cfg.max_errors,
        retry_failed: cfg.retry_failed,
        deadline_wall: started_at + cfg.timeout,
    };
    let mut posts: Vec<PostWait> = cfg.post_ids.iter().map(|id| PostWait::new(id.clone(), limits)).collect();
    let several = posts.len() > 1;
    let stop = 'wait: {
        let client = match client(cfg).await {
            Ok(c) => Arc::new(c),
            Err(e) => break 'wait Stop::Setup(e),
        };
        let mut pacer = Pacer::new(cfg.rate_limit);
        let mut inflight: JoinSet<(usize, Action, Reply, Duration)> = JoinSet::new();
        let mut warned: HashSet<String> = HashSet::new();
        loop {
            // Start everything that is due, in order of due time, as the budget allows.
            let wake = loop {
                if inflight.len() >= MAX_IN_FLIGHT {
                    break None;
                }
                let now = t0.elapsed();
                let next =
                    posts.iter().enumerate().filter_map(|(i, p)| p.due().map(|d| (i, d))).min_by_key(|x| x.1);
                let Some((i, due)) = next else { break None };
                let paced = due.max(pacer.earliest(due));
                // No request starts after the deadline (a little slack for the final poll).
                if paced > cfg.timeout || now > cfg.timeout + Duration::from_millis(100) {
                    // The budget cannot fit this request before the deadline.
                    posts[i].expire();
                    continue;
                }
                let start = paced.max(now);
                if start > now {
                    break Some(start - now);
                }
                let Some(action) = posts[i].take() else { continue };
                pacer.record(now);
                if let Action::Retry(plan) = &action {
                    sink.info(&format!(
                        "[{:>6}] {}re-queueing {} failed destination(s) with {}",
                        human_duration(now),
                        label(several, &posts[i].id),
                        plan.keys.len(),
                        plan.body
                    ));
                }
                let (client, id, timeout) =
                    (client.clone(), posts[i].id.clone(), posts[i].request_timeout(now));
                inflight.spawn(async move {
                    let sent = Instant::now();
                    let reply = match &action {
                        Action::Results => Reply::Results(client.results(&id, timeout).await),
                        Action::Post => Reply::Post(client.post(&id, timeout).await),
                        Action::Retry(plan) => Reply::Retry(client.retry(&id, &plan.body, timeout).await),
                    };
                    (i, action, reply, sent.elapsed())
                });
            };
            if inflight.is_empty() && wake.is_none() {
                break 'wait Stop::Done;
            }
            tokio::select! {
                Some(joined) = inflight.join_next() => {
                    let Ok((i, action, reply, took)) = joined else { continue };
                    let now = t0.elapsed();
                    sink.debug(&debug_line(&posts[i].id, &action, &reply, took));
                    let ctx = Ctx { sink, several, now, interval: cfg.poll_interval, max_errors: cfg.max_errors };
                    handle(&ctx, &mut posts[i], &mut pacer, &mut warned, action, reply);
                }
                () = tokio::time::sleep(wake.unwrap_or(Duration::from_secs(3600))), if wake.is_some() => {}
                s = signals.recv() => break 'wait Stop::Signal(s),
            }
        }
    };
    Waited { posts, stop, started_at, elapsed: t0.elapsed() }
}

async fn client(cfg: &Config) -> Result<Client, String> {
    let base = match &cfg.simulate {
        Some(s) => match crate::sim::start(s).await {
            Ok(u) => u.parse().map_err(|e| format!("simulator URL: {e}"))?,
            Err(e) => return Err(format!("cannot start the simulator: {e}")),
        },
        None => cfg.base_url.clone(),
    };
    // The simulator never sees the real key.
    let key = if cfg.simulate.is_some() { None } else { cfg.api_key.as_ref() };
    Client::new(&base, key).map_err(|e| format!("{e:#}"))
}

fn label(several: bool, id: &str) -> String {
    if several { format!("post {}: ", crate::escape::one_line(id, 60)) } else { String::new() }
}

struct Ctx<'a> {
    sink: &'a Sink,
    several: bool,
    now: Duration,
    interval: Duration,
    max_errors: u32,
}

/// Feeds one reply to its post, the pacer and the log.
fn handle(
    c: &Ctx,
    post: &mut PostWait,
    pacer: &mut Pacer,
    warned: &mut HashSet<String>,
    action: Action,
    reply: Reply,
) {
    let jitter = crate::rand::unit();
    match reply.meta() {
        Ok(rate) => pacer.observe(c.now, rate),
        // A 429 holds every post's requests, not just the one that got it.
        Err(Fault::RateLimited { wait, .. }) => {
            pacer.block(c.now + wait.unwrap_or(c.interval.min(Duration::from_secs(10))));
        }
        Err(_) => {}
    }
    match reply {
        Reply::Results(r) => {
            let before = post.last.as_ref().map(|l| l.destinations.clone());
            let r = r.map(|a| a.value);
            if let Ok(res) = &r {
                for word in &res.unknown_statuses {
                    if warned.insert(word.clone()) {
                        c.sink.warn(&format!("unknown destination status {word:?}; treating it as pending"));
                    }
                }
            }
            let fault = r.as_ref().err().cloned();
            post.on_results(c.now, r, jitter);
            if let Some(now) = post.last.as_ref().filter(|_| fault.is_none()) {
                let id = c.several.then_some(post.id.as_str());
                c.sink.progress(c.now, id, before.as_deref(), &now.destinations);
            }
            if let (Some(f), Some(due)) = (fault, post.due()) {
                c.sink.info(&fault_line(c, &post.id, &f, post.errors(), due.saturating_sub(c.now)));
            }
        }
        Reply::Post(r) => {
            post.on_post(c.now, r.map(|a| a.value), jitter);
        }
        Reply::Retry(r) => {
            let Action::Retry(plan) = action else { return };
            let r = r.map(|a| a.value);
            let what = match &r {
                Ok(_) => "the API accepted the re-queue".to_owned(),
                Err(f) => format!("the re-queue failed: {}", f.describe()),
            };
            c.sink.info(&format!("[{:>6}] {}{what}", human_duration(c.now), label(c.several, &post.id)));
            post.on_retry(c.now, &plan, r, jitter);
        }
    }
}

/// What one request did, for debug logs.
fn debug_line(id: &str, action: &Action, reply: &Reply, took: Duration) -> String {
    let what = match action {
        Action::Results => "GET results".to_owned(),
        Action::Post => "GET post".to_owned(),
        Action::Retry(plan) => format!("POST retry {}", plan.body),
    };
    let result = match reply.meta() {
        Ok(_) => "ok",
        Err(f) => f.describe(),
    };
    format!("post {}: {what} -> {result} in {} ms", crate::escape::one_line(id, 80), took.as_millis())
}

fn fault_line(c: &Ctx, id: &str, f: &Fault, errors: u32, wait: Duration) -> String {
    let at = format!("[{:>6}] {}", human_duration(c.now), label(c.several, id));
    match f {
        Fault::RateLimited { wait: hint, reason } => format!(
            "{at}rate limited ({reason}); waiting {} ({})",
            human_duration(wait),
            if hint.is_some() { "as the API asked" } else { "backoff" }
        ),
        _ => format!(
            "{at}request failed ({errors} in a row, giving up at {}): {}; retrying in {}",
            c.max_errors,
            f.describe(),
            human_duration(wait)
        ),
    }
}

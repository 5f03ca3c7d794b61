//! The driver: the one place that touches the clock, the network and signals. Every post
//! is a pure `PostWait`; this loop starts whatever is due as the shared `Pacer` allows
//! (requests run concurrently), feeds each answer back, and races everything against a
//! stop signal. It is generic over the `Api` it calls and the `Events` it reports, so the
//! property tests run this very loop on a paused clock against a scripted API.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::Value;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::api::model::{Results, RetryAck};
use crate::api::{Answer, Client, Fault, RateInfo};
use crate::config::Config;
use crate::outcome::Signal;
use crate::pace::Pacer;
use crate::post::{Action, Limits, PostWait};
use crate::report::text;
use crate::track::Known;

/// Requests in flight at once, whatever the budget allows: bounds connections and memory
/// with many posts, and is far above what 60 a minute needs.
const MAX_IN_FLIGHT: usize = 32;
/// A request may start this late after the deadline (a timer firing late), never later.
pub const START_SLACK: Duration = Duration::from_millis(100);

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
    fn debug(&self, msg: &str);
    /// A poll's news: what changed among one post's destinations.
    fn progress(&self, now: Duration, post: Option<&str>, known: &Known, changes: &[crate::track::Change]);
    /// A line that announces post `post`'s next request, due at `at` (since the start).
    fn announce(&self, post: usize, at: Duration, line: &str) {
        let _ = (post, at);
        self.info(line);
    }
}

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
    Retry(Result<Answer<RetryAck>, Fault>),
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

impl Waited {
    /// The wait never started.
    pub fn not_started(cfg: &Config, why: String) -> Waited {
        let limits = limits(cfg, SystemTime::now());
        let posts = cfg.post_ids.iter().map(|id| PostWait::new(id.clone(), limits)).collect();
        Waited { posts, stop: Stop::Setup(why), started_at: SystemTime::now(), elapsed: Duration::ZERO }
    }
}

fn limits(cfg: &Config, started_at: SystemTime) -> Limits {
    Limits {
        timeout: cfg.timeout,
        interval: cfg.poll_interval,
        max_errors: cfg.max_errors,
        retry_failed: cfg.retry_failed,
        deadline_wall: started_at + cfg.timeout,
    }
}

/// The client for the configured API, or for the built-in simulator.
pub async fn connect(cfg: &Config) -> Result<Client, String> {
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

/// Waits for every configured post; returns their state for the report.
pub async fn run<A: Api>(
    cfg: &Config,
    api: Arc<A>,
    events: &impl Events,
    stop: impl Future<Output = Signal>,
) -> Waited {
    let started_at = SystemTime::now();
    let t0 = Instant::now();
    let limits = limits(cfg, started_at);
    let mut posts: Vec<PostWait> = cfg.post_ids.iter().map(|id| PostWait::new(id.clone(), limits)).collect();
    let ctx = Ctx {
        events,
        several: posts.len() > 1,
        timeout: cfg.timeout,
        interval: cfg.poll_interval,
        max_errors: cfg.max_errors,
    };
    let mut warned: HashSet<String> = HashSet::new();
    let mut pacer = Pacer::new(cfg.rate_limit, cfg.timeout);
    let mut inflight: JoinSet<(usize, Action, Reply, Duration)> = JoinSet::new();
    // A post that could not fit another request ended early; the wait still lasts until the
    // deadline (it may not end sooner than promised), racing the signal.
    let mut linger = false;
    tokio::pin!(stop);
    let stop = loop {
        // Start everything that is due, in order of due time, as the budget allows.
        let wake = loop {
            if inflight.len() >= MAX_IN_FLIGHT {
                break None;
            }
            let now = t0.elapsed();
            let next =
                posts.iter().enumerate().filter_map(|(i, p)| p.due().map(|d| (i, d))).min_by_key(|x| x.1);
            let Some((i, due)) = next else { break None };
            let paced = pacer.earliest(due);
            if paced > cfg.timeout || now > cfg.timeout + START_SLACK {
                let why = (now < cfg.timeout).then(|| {
                    format!(
                        "the request budget (rate-limit {} a minute) left no room for another request before the deadline",
                        cfg.rate_limit
                    )
                });
                posts[i].expire(why.as_deref());
                linger |= now < cfg.timeout;
                continue;
            }
            let start = paced.max(now);
            if start > now {
                break Some(start - now);
            }
            let Some(action) = posts[i].take() else { continue };
            pacer.record(now);
            if let Action::Retry(plan) = &action {
                events.info(&text::requeueing(
                    now,
                    label(ctx.several, &posts[i].id),
                    plan.targets.len(),
                    &plan.body,
                ));
            }
            let (api, id, timeout) = (api.clone(), posts[i].id.clone(), posts[i].request_timeout(now));
            inflight.spawn(async move {
                let sent = Instant::now();
                let reply = match &action {
                    Action::Results => Reply::Results(api.results(&id, timeout).await),
                    Action::Post => Reply::Post(api.post(&id, timeout).await),
                    Action::Retry(plan) => Reply::Retry(api.retry(&id, &plan.body, timeout).await),
                };
                (i, action, reply, sent.elapsed())
            });
        };
        if inflight.is_empty() && wake.is_none() {
            let now = t0.elapsed();
            if linger && now < cfg.timeout {
                tokio::select! {
                    () = tokio::time::sleep(cfg.timeout - now) => {}
                    s = &mut stop => break Stop::Signal(s),
                }
            }
            break Stop::Done;
        }
        tokio::select! {
            Some(joined) = inflight.join_next() => {
                let Ok((i, action, reply, took)) = joined else { continue };
                let now = t0.elapsed();
                events.debug(&text::debug_line(&posts[i].id, &action, reply.meta().err(), took));
                handle(&ctx, i, &mut posts[i], &mut pacer, &mut warned, now, (action, reply));
            }
            () = tokio::time::sleep(wake.unwrap_or(Duration::from_secs(3600))), if wake.is_some() => {}
            s = &mut stop => break Stop::Signal(s),
        }
    };
    Waited { posts, stop, started_at, elapsed: t0.elapsed() }
}

fn label(several: bool, id: &str) -> String {
    if several { format!("post {}: ", crate::escape::one_line(id, 60)) } else { String::new() }
}

struct Ctx<'a, E> {
    events: &'a E,
    several: bool,
    timeout: Duration,
    interval: Duration,
    max_errors: u32,
}

/// Feeds one reply to its post, the pacer and the log.
fn handle<E: Events>(
    c: &Ctx<'_, E>,
    index: usize,
    post: &mut PostWait,
    pacer: &mut Pacer,
    warned: &mut HashSet<String>,
    now: Duration,
    (action, reply): (Action, Reply),
) {
    let jitter = crate::rand::unit();
    let fault = match reply.meta() {
        Ok(rate) => {
            pacer.observe(now, rate);
            None
        }
        Err(f) => {
            if let Fault::RateLimited { wait, .. } = f {
                // A 429 holds every post's requests, not just the one that got it.
                pacer.block(now + wait.unwrap_or(c.interval.min(Duration::from_secs(10))));
            }
            Some(f.clone())
        }
    };
    match reply {
        Reply::Results(r) => {
            let r = r.map(|a| a.value);
            if let Ok(res) = &r {
                for word in res.unknown_statuses.iter().filter(|w| warned.insert((*w).clone())) {
                    c.events.warn(&format!("unknown destination status {word:?}; treating it as pending"));
                }
            }
            post.on_results(now, r, jitter);
            match (fault, post.due()) {
                (None, _) => {
                    let changes = post.known.changes();
                    let id = c.several.then_some(post.id.as_str());
                    c.events.progress(now, id, &post.known, &changes);
                }
                // Say when the next request goes out, as the budget will allow it, or that
                // none will.
                (Some(f), Some(due)) => {
                    let at = pacer.earliest(due);
                    let next = (at <= c.timeout).then_some(at);
                    let label = label(c.several, &post.id);
                    let line =
                        text::fault_line(now, &label, &f, post.errors(), c.max_errors, next, c.timeout);
                    c.events.announce(index, at, &line);
                }
                (Some(_), None) => {}
            }
        }
        Reply::Post(r) => post.on_post(now, r.map(|a| a.value), jitter),
        Reply::Retry(r) => {
            let Action::Retry(plan) = action else { return };
            let r = r.map(|a| a.value);
            c.events.info(&text::requeue_answer(now, label(c.several, &post.id), r.as_ref()));
            post.on_retry(now, &plan, r, jitter);
            let changes = post.known.changes();
            if !changes.is_empty() {
                c.events.progress(now, c.several.then_some(post.id.as_str()), &post.known, &changes);
            }
        }
    }
}

#[cfg(test)]
mod tests;

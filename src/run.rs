//! The driver: the one place that touches the clock, the network and signals. Every post
//! is a pure `PostWait`; this loop starts whatever is due as the shared `Pacer` allows
//! (requests run concurrently), feeds each answer back, and races everything against a
//! stop signal. It is generic over the `Api` it calls and the `Events` it reports, so the
//! property tests run this very loop on a paused clock against a scripted API.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::api::model::{Results, RetryAck};
use crate::api::{Answer, Client, Fault, RateInfo};
use crate::config::Config;
use crate::outcome::Signal;
use crate::pace::Pacer;
use crate::post::{Action, PostWait};
use crate::report::text;

pub use ports::{Api, Events};
pub use state::{Clock, Stop, Waited, waits};

/// Requests in flight at once, whatever the budget allows: bounds connections and memory
/// with many posts, and is far above what 60 a minute needs.
const MAX_IN_FLIGHT: usize = 32;
/// A request may start this late after the deadline (a timer firing late), never later.
pub const START_SLACK: Duration = Duration::from_millis(100);

/// Above this many posts, the log gets one line for all of them instead of a line per post.
const MANY_POSTS: usize = 10;
/// With many posts, at most one progress line this often.
const AGGREGATE_EVERY: Duration = Duration::from_secs(5);

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

type SimStart<'a> = std::pin::Pin<Box<dyn Future<Output = std::io::Result<String>> + 'a>>;

/// The client for the configured API, or for the built-in simulator.
pub async fn connect(cfg: &Config) -> Result<Client, String> {
    let base = match &cfg.simulate {
        // Boxed as a trait object, so the simulator's start is polled through its own function
        // and not inlined into this one (docs/performance.md#code-only-some-runs-execute).
        Some(s) => match (Box::pin(crate::sim::start(s)) as SimStart<'_>).await {
            Ok(u) => u.parse().map_err(|e| format!("simulator URL: {e}"))?,
            Err(e) => return Err(format!("cannot start the simulator: {e}")),
        },
        None => cfg.base_url.clone(),
    };
    // The simulator never sees the real key.
    let (key, redactor) = match cfg.simulate {
        Some(_) => (None, crate::secret::Redactor::default()),
        None => (cfg.api_key.as_ref(), cfg.redactor.clone()),
    };
    Client::new(&base, key, redactor).map_err(|e| format!("{e:#}"))
}

/// Waits for every configured post; returns their state for the report.
pub async fn run<A: Api>(
    cfg: &Config,
    api: Arc<A>,
    events: &impl Events,
    stop: impl Future<Output = Signal>,
    clock: Clock,
    mut posts: Vec<PostWait>,
) -> Waited {
    let Clock { t0, started_at, mut pacer, sent: sent_before } = clock;
    let ctx = Ctx {
        events,
        several: posts.len() > 1,
        quiet: posts.len() > MANY_POSTS,
        timeout: cfg.timeout,
        interval: cfg.poll_interval,
        max_errors: cfg.max_errors,
    };
    let mut warned: HashSet<String> = HashSet::new();
    let many = posts.len() > MANY_POSTS;
    // When the log last said something, and whether there is news it has not said yet.
    let (mut last_news, mut unsaid) = (Duration::ZERO, false);
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
                // A poll due after the deadline, or spaced by milliseconds past it, is the
                // time running out: raising rate-limit would not help.
                let why = (now < cfg.timeout && pacer.held_past_deadline(due)).then(|| {
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
                last_news = now;
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
        let now = t0.elapsed();
        // Nothing left to send; a post that could not fit its request still waits for the
        // deadline (the wait may not end sooner than promised).
        let idle = inflight.is_empty() && wake.is_none();
        let lingering = idle && linger && now < cfg.timeout;
        if idle && !lingering {
            break Stop::Done;
        }
        // Never silent for longer than `heartbeat`; with many posts, news at most every 5 s.
        if now >= last_news + cfg.heartbeat || (unsaid && now >= last_news + AGGREGATE_EVERY) {
            let next = if lingering {
                text::Next::Nothing
            } else {
                next_request(&posts, &pacer, now, inflight.len())
            };
            events.heartbeat(&text::heartbeat(now, cfg.timeout, &posts, next));
            (last_news, unsaid) = (now, false);
        }
        let mut alarm = last_news + cfg.heartbeat;
        if unsaid {
            alarm = alarm.min(last_news + AGGREGATE_EVERY);
        }
        if lingering {
            alarm = alarm.min(cfg.timeout);
        }
        let alarm = alarm.saturating_sub(now);
        let wake = wake.map_or(alarm, |w| w.min(alarm));
        tokio::select! {
            Some(joined) = inflight.join_next() => {
                let Ok((i, action, reply, took)) = joined else { continue };
                let now = t0.elapsed();
                events.debug(|| text::debug_line(&posts[i].id, &action, reply.meta().err(), took));
                let news = handle(&ctx, i, &mut posts[i], &mut pacer, &mut warned, now, (action, reply));
                if news && many {
                    unsaid = true;
                } else if news {
                    last_news = now;
                }
            }
            () = tokio::time::sleep(wake) => {}
            s = &mut stop => break Stop::Signal(s),
        }
    };
    Waited { posts, stop, started_at, elapsed: t0.elapsed(), sent_before }
}

fn label(several: bool, id: &str) -> String {
    if several { format!("post {}: ", crate::escape::one_line(id, 60)) } else { String::new() }
}

struct Ctx<'a, E> {
    events: &'a E,
    several: bool,
    /// Many posts: no line per post (the driver sums them up).
    quiet: bool,
    timeout: Duration,
    interval: Duration,
    max_errors: u32,
}

/// When the next request of any post goes out, as far as the budget says now.
fn next_request(posts: &[PostWait], pacer: &Pacer, now: Duration, in_flight: usize) -> text::Next {
    match posts.iter().filter_map(PostWait::due).min() {
        Some(due) => text::Next::In(pacer.earliest(due).max(now) - now),
        None if in_flight > 0 => text::Next::InFlight,
        None => text::Next::Nothing,
    }
}

/// Feeds one reply to its post, the pacer and the log; returns whether it was news.
fn handle<E: Events>(
    c: &Ctx<'_, E>,
    index: usize,
    post: &mut PostWait,
    pacer: &mut Pacer,
    warned: &mut HashSet<String>,
    now: Duration,
    (action, reply): (Action, Reply),
) -> bool {
    let jitter = crate::rand::unit();
    match reply.meta() {
        Ok(rate) => {
            if let Some(until) = pacer.observe(now, rate) {
                c.events.info(&crate::pace::spent_line(now, until, c.timeout));
                post.budget_spent(until >= c.timeout);
            }
        }
        // A 429 holds every post's requests, not just the one that got it.
        Err(Fault::RateLimited { wait, .. }) => {
            pacer.block(now + wait.unwrap_or(c.interval.min(Duration::from_secs(10))));
        }
        // So does a 5xx that says when to come back (a 503 for maintenance), whatever the
        // call: the results, a re-queue, the post itself.
        Err(Fault::Transient { after: Some(w), .. }) => pacer.block(now + *w),
        Err(_) => {}
    }
    match reply {
        Reply::Results(r) => {
            // The fault as this post takes it (judged once; the line below quotes it).
            let r = r.map(|a| a.value).map_err(|f| post.judge(f));
            let fault = r.as_ref().err().cloned();
            if let Ok(res) = &r {
                for word in res.unknown_statuses.iter().filter(|w| warned.insert((*w).clone())) {
                    c.events.warn(&format!("unknown destination status {word:?}; treating it as pending"));
                }
            }
            post.on_results(now, r, jitter);
            match (fault, post.due()) {
                (None, _) => {
                    let changes = post.known.changes();
                    let first = post.known.answers() == 1;
                    if !c.quiet {
                        let id = c.several.then_some(post.id.as_str());
                        c.events.progress(now, id, &post.known, &changes);
                    }
                    !changes.is_empty() || first
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
                    true
                }
                (Some(_), None) => false,
            }
        }
        Reply::Post(r) => {
            let before = post.known.unlisted();
            post.on_post(now, r.map(|a| a.value), jitter);
            // The post named accounts its results lack: the last line's count was short.
            let more = post.known.unlisted().saturating_sub(before);
            if more > 0 && !c.quiet {
                c.events.info(&text::unlisted(now, label(c.several, &post.id), &post.known, more));
            }
            false
        }
        Reply::Retry(r) => {
            let Action::Retry(plan) = action else { return false };
            let r = r.map(|a| a.value);
            c.events.info(&text::requeue_answer(now, label(c.several, &post.id), r.as_ref()));
            post.on_retry(now, &plan, r, jitter);
            let changes = post.known.changes();
            if !changes.is_empty() && !c.quiet {
                c.events.progress(now, c.several.then_some(post.id.as_str()), &post.known, &changes);
            }
            true
        }
    }
}

mod ports;
mod state;

#[cfg(test)]
mod tests;

//! Publishing the post before waiting for it, all within the step's deadline and request
//! budget: the accounts resolved (and checked) before anything is created, a dry run that
//! stops there, a post a re-run already made reused, media uploaded, and the post created,
//! never twice: a create whose answer was lost is repeated only when the post it may have
//! made is not there. `run` then waits for the post as for any `post-id`.

pub mod accounts;
pub mod dedupe;
mod steps;

use std::time::SystemTime;

use serde_json::json;

use crate::api::Client;
use crate::api::publish::Account;
use crate::config::{Config, Publish};
use crate::model::{Destination, State};
use crate::outcome::{Signal, Status, code};
use crate::run::{Clock, Events};
use crate::signal::Signals;
use steps::{CLOCK_SKEW, Created, DEDUPE_PAGES, Failed, Steps};

/// What publishing did, for the report.
#[derive(Debug, Clone, Default)]
pub struct Record {
    pub dry_run: bool,
    /// This run created the post.
    pub created: bool,
    /// An earlier run's post with the same content and accounts was reused.
    pub reused: bool,
    pub post_id: Option<String>,
    pub media_ids: Vec<String>,
    /// The accounts posted to, as the API listed them: each must show up in the results.
    pub targets: Vec<Account>,
    /// Accounts left out (`skip-unhealthy`): the account and why.
    pub skipped: Vec<(Account, String)>,
    /// `POST /posts` calls sent.
    pub create_calls: u32,
    /// The content's first line and its length in characters.
    pub first_line: String,
    pub chars: usize,
    pub media_files: usize,
    pub scheduled_for: Option<String>,
    /// What stopped the post, one line each (accounts to fix…).
    pub problems: Vec<String>,
}

impl Record {
    /// The accounts left out, as failed destinations of `post_id` (what to do: reconnect).
    #[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
    pub fn skipped_destinations(&self, post_id: &str) -> Vec<Destination> {
        self.skipped
            .iter()
            .map(|(a, why)| Destination {
                status: State::Failed,
                raw_status: "skipped".into(),
                error: Some(format!("not posted to: {why}")),
                note: Some("skipped before posting (skip-unhealthy)".into()),
                class: Some(crate::failure::FailureClass::Reconnect),
                ..account_destination(post_id, a)
            })
            .collect()
    }

    /// The accounts posted to, as pending destinations of `post_id`, to stand for each one
    /// until the results list it.
    #[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
    pub fn expected_destinations(&self, post_id: &str) -> Vec<Destination> {
        self.targets.iter().map(|a| account_destination(post_id, a)).collect()
    }
}

/// A destination of `post_id` on account `a`, pending, as we know it before the API lists it.
fn account_destination(post_id: &str, a: &Account) -> Destination {
    let name = a
        .username
        .as_ref()
        .map(|u| format!("@{}", u.trim_start_matches('@')))
        .or_else(|| a.display_name.clone());
    Destination::unlisted(
        post_id,
        a.id,
        a.platform.clone(),
        name,
        "posted to, but not listed in the results yet",
    )
}

/// Why a post with the same content that shares some of the `targets` stops the step.
fn overlap_line(
    other: &crate::api::publish::Listed,
    targets: &[Account],
    window: std::time::Duration,
) -> String {
    let labels = |on: bool| {
        let l: Vec<String> = targets
            .iter()
            .filter(|a| other.account_ids.contains(&a.id) == on)
            .map(|a| format!("{} (id {})", a.label(), a.id))
            .collect();
        l.join(", ")
    };
    let (shared, missing) = (labels(true), labels(false));
    let others = other.account_ids.iter().filter(|id| !targets.iter().any(|a| a.id == **id)).count();
    let mut has = shared.clone();
    if others > 0 {
        has.push_str(&format!(" and {}", crate::report::text::plural(others, "other account")));
    }
    let (lacks, fix) = if missing.is_empty() {
        (String::new(), "")
    } else {
        (format!(", not on {missing}"), "name only the accounts it lacks to post to them, or ")
    };
    format!(
        "post {} (made {}) already has this content, on {has}{lacks}: posting again would put it on {shared} \
         twice, so nothing was posted; {fix}set dedupe: 0 to post anyway (it looked back {})",
        crate::escape::one_line(&other.post_id, 60),
        other.created_at.map_or("recently".to_owned(), |t| humantime::format_rfc3339_seconds(t).to_string()),
        humantime::format_duration(window)
    )
}

/// What a reused post's time says next to this one's, when it plainly differs: a second
/// post meant (a reminder) needs `dedupe: 0`, as the line goes on to say.
fn other_time(want: &dedupe::Wanted, found: &crate::api::publish::Listed, now: SystemTime) -> String {
    let at = |t: SystemTime| humantime::format_rfc3339_seconds(t).to_string();
    let ours = want.due.map_or("now".to_owned(), |t| format!("at {}", at(t)));
    match want.other_time(found, now) {
        Some(dedupe::OtherTime::At(t)) => {
            format!(", scheduled for {}, where this one publishes {ours}", at(t))
        }
        Some(dedupe::OtherTime::Now) => {
            format!(", published when it was made, where this one publishes {ours}")
        }
        None => String::new(),
    }
}

/// How publishing ended.
pub enum Ended {
    /// Wait for this post.
    Wait(Record),
    /// The post was made, but a signal came while its create call was out (the answer,
    /// naming the post, came in the grace after SIGINT): reported, not waited for.
    Made(Record, Signal),
    /// Nothing to wait for: stopped (or a dry run), with the step's status and exit code.
    Stop { record: Record, status: Status, code: u8, message: String },
}

fn first_line(content: &str) -> String {
    crate::escape::one_line(content.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim(), 120)
}

/// Publishes the post `p` describes. A signal from `signals` ends it early.
pub async fn publish<E: Events>(
    cfg: &Config,
    p: &Publish,
    client: &Client,
    events: &E,
    clock: &mut Clock,
    signals: &mut Signals,
) -> Ended {
    let mut record = Record {
        dry_run: p.dry_run,
        first_line: first_line(&p.content),
        chars: p.content.chars().count(),
        media_files: p.media.len(),
        scheduled_for: p.schedule_at.as_ref().map(|(_, s)| s.clone()),
        ..Record::default()
    };
    let mut s = Steps::new(cfg, client, events, clock, signals);
    let specs: Vec<String> = p.accounts.iter().map(ToString::to_string).collect();
    s.say(&format!(
        "publishing \"{}\" ({} characters{}) to {}",
        record.first_line,
        record.chars,
        if p.media.is_empty() { String::new() } else { format!(", {} media", p.media.len()) },
        specs.join(", ")
    ));
    // Pre-flight: nothing is created unless every account named can be posted to.
    let connected = match s.call("GET accounts", true, |t| client.accounts(t)).await {
        Ok(a) => a,
        Err(f) => return s.stopped(record, f, "the accounts could not be read"),
    };
    if let Some(ms) = client.clock_offset() {
        s.say(&crate::report::text::clock_off(ms));
    }
    let resolved = match accounts::resolve(&p.accounts, &connected, p.skip_unhealthy) {
        Ok(r) => r,
        Err(problems) => {
            for pr in &problems {
                s.say(&format!("✗ {}", pr.line));
            }
            let input = problems.iter().any(|p| p.input);
            record.problems = problems.iter().map(|p| p.line.clone()).collect();
            let n = problems.len();
            let message = format!(
                "nothing was posted: {} to fix before posting ({}): {}",
                crate::report::text::plural(n, "account problem"),
                if input { "input accounts" } else { "in PostEverywhere" },
                problems[0].line
            );
            let code = if input { code::USAGE } else { code::API };
            return Ended::Stop { record, status: Status::Error, code, message };
        }
    };
    for w in &resolved.warnings {
        events.warn(w);
    }
    for (a, why) in &resolved.skipped {
        s.say(&format!("skipping {} (id {}): {why}", a.label(), a.id));
    }
    record.targets = resolved.targets.clone();
    record.skipped = resolved.skipped.clone();
    let ids: Vec<i64> = resolved.targets.iter().map(|a| a.id).collect();
    if p.dry_run {
        s.say("dry run: this is what would be posted, and nothing was:");
        s.say(&format!("  content ({}): {}", p.content_from, record.first_line));
        for a in &resolved.targets {
            s.say(&format!(
                "  to {} (id {}), health {}",
                a.label(),
                a.id,
                a.health.as_deref().unwrap_or("unknown")
            ));
        }
        for m in &p.media {
            s.say(&format!("  with {} ({}, {} bytes)", m.path.display(), m.content_type, m.size));
        }
        s.say(&format!(
            "  {}",
            record.scheduled_for.as_ref().map_or("now".to_owned(), |t| format!("at {t}"))
        ));
        let message = format!(
            "dry run: would post to {}; nothing was posted",
            crate::report::text::plural(ids.len(), "account")
        );
        return Ended::Stop { record, status: Status::DryRun, code: code::OK, message };
    }
    // A run of this job (or any within the dedupe window) that already posted this.
    let want =
        dedupe::Wanted { content: dedupe::normal(&p.content), due: p.schedule_at.as_ref().map(|(t, _)| *t) };
    let content = &want.content;
    // The pipeline's start is on GitLab's clock: read against the API's, not this machine's.
    let api_now = client.now();
    let window = dedupe::window(p.dedupe, |k| std::env::var(k).ok(), api_now);
    // Since when no post with this content went to these accounts, as the dedupe look found.
    // Only a look that answered says so: one refused says nothing of the window.
    let mut none_since = None;
    if !window.is_zero() {
        let since = api_now - window;
        match s.look(content, &ids, since, DEDUPE_PAGES).await {
            Ok((None, Some(other))) => {
                let line = overlap_line(&other, &resolved.targets, window);
                s.say(&format!("✗ {line}"));
                return Ended::Stop { record, status: Status::Error, code: code::API, message: line };
            }
            Ok((Some(found), _)) => {
                let other = other_time(&want, &found, api_now);
                if !other.is_empty() {
                    events.warn(&format!(
                        "reusing post {} with this content{other}; if a second post is meant (a reminder), set \
                         dedupe: 0",
                        crate::escape::one_line(&found.post_id, 60)
                    ));
                }
                s.say(&format!(
                    "post {} has the same content and accounts (made {}{}): reusing it, not posting again \
                     (it looked back {}; set dedupe: 0 to post again)",
                    found.post_id,
                    found
                        .created_at
                        .map_or("recently".to_owned(), |t| humantime::format_rfc3339_seconds(t).to_string()),
                    other,
                    humantime::format_duration(window)
                ));
                record.reused = true;
                record.post_id = Some(found.post_id);
                return Ended::Wait(record);
            }
            Ok((None, None)) => none_since = Some(since),
            // A job run again may well have posted: never post blind then.
            Err(Failed::Fault(f))
                if dedupe::rerun(|k| std::env::var(k).ok()) || p.schedule_passed.is_some() =>
            {
                let what = "not posting: this job is run again, and the post its first run may have made \
                            could not be looked for (set dedupe: 0 to post anyway)";
                return s.stopped(record, Failed::Fault(f), what);
            }
            Err(Failed::Fault(f)) if matches!(f, crate::api::Fault::Fatal { .. }) => {
                events.warn(&format!(
                    "could not look for an earlier post with this content ({}); posting",
                    f.describe()
                ));
            }
            Err(f @ Failed::Unusable(_)) => {
                return s.stopped(record, f, "an earlier post with this content");
            }
            Err(f) => return s.stopped(record, f, "could not look for an earlier post with this content"),
        }
    }
    // A time since past stood only for its first run's post, which is not there.
    if let Some(why) = &p.schedule_passed {
        s.say(&format!("✗ {why}"));
        return Ended::Stop { record, status: Status::Error, code: code::USAGE, message: why.clone() };
    }
    let mut media_ids = Vec::new();
    for m in &p.media {
        match s.media(m).await {
            Ok(id) => media_ids.push(id),
            Err(f) => {
                record.media_ids = media_ids;
                return s.stopped(record, f, &format!("{} could not be uploaded", m.path.display()));
            }
        }
    }
    record.media_ids.clone_from(&media_ids);
    let mut body = json!({"content": p.content, "account_ids": ids});
    if !media_ids.is_empty() {
        body["media_ids"] = json!(media_ids);
    }
    if let Some(at) = &record.scheduled_for {
        body["scheduled_for"] = json!(at);
    }
    // The looks after a lost create take a post like this one made up to a minute before
    // it for ours: when the dedupe look did not reach that far back (`dedupe` under a
    // minute, 0 to post again, or the look refused), those already there are noted now,
    // and never taken.
    if none_since.is_none() || window < CLOCK_SKEW {
        match s.note_earlier(content, &ids).await {
            Ok((0, _)) => {}
            Ok((n, unknown)) => s.say(&format!(
                "{} with this content to some or all of these accounts{} made in the last minute: posting again (dedupe {})",
                crate::report::text::plural(n, "post"),
                if unknown > 0 { " (or to accounts the post list does not name)" } else { "" },
                humantime::format_duration(p.dedupe)
            )),
            Err(Failed::Fault(f)) => events.warn(&format!(
                "could not list the posts of the last minute ({}); posting: if the create's answer is lost, \
                 a post like this one from that minute may be taken for it",
                f.describe()
            )),
            Err(f) => return s.stopped(record, f, "could not list the posts of the last minute"),
        }
    }
    match s.create(&body, content, &ids, none_since).await {
        Ok(Created { id, calls, signal }) => {
            record.create_calls = calls;
            record.created = true;
            if let Some(signal) = signal {
                s.say(&format!(
                    "created post {id} (its answer came after the signal); not waiting for its destinations"
                ));
                record.post_id = Some(id);
                return Ended::Made(record, signal);
            }
            s.say(&format!("created post {id}; waiting for its destinations"));
            record.post_id = Some(id);
            Ended::Wait(record)
        }
        Err(e) => {
            record.create_calls = e.calls;
            let what = match &e.lost {
                Some(lost) => format!(
                    "the post may have been made (a create call's answer was lost: {lost}) but was not found"
                ),
                None => "the post was not created".to_owned(),
            };
            let mut ended = s.stopped(record, e.failed, &what);
            if let (Some(_), Ended::Stop { message, .. }) = (&e.lost, &mut ended) {
                message.push_str(if p.dedupe.is_zero() {
                    "; look in PostEverywhere before posting again (with dedupe: 0 a re-run posts again)"
                } else {
                    "; look in PostEverywhere before posting again (a re-run within dedupe reuses it)"
                });
            }
            ended
        }
    }
}

//! The normalised results as JSON: the compact `results` array (an output) and the
//! `results-file` document, whose shape is versioned by `schema_version`.

use serde::Serialize;
use serde_json::{Value, json};

use super::Report;
use crate::model::{Destination, State};

pub const SCHEMA_VERSION: u32 = 1;

/// One destination as it appears in `results` (absent values are `null`). Borrowed, so
/// thousands of destinations serialise without a copy of each.
#[derive(Serialize)]
pub struct DestJson<'a> {
    post_id: &'a str,
    id: Option<&'a str>,
    account_id: Option<&'a Value>,
    account_name: Option<&'a str>,
    platform: &'a str,
    status: State,
    raw_status: &'a str,
    url: Option<&'a str>,
    error: Option<&'a str>,
    failure_class: Option<&'static str>,
    attempts: Option<u64>,
    retries: u32,
    note: Option<&'a str>,
    published_at: Option<&'a str>,
    next_retry_at: Option<&'a str>,
}

pub fn destination(d: &Destination) -> DestJson<'_> {
    DestJson {
        post_id: &d.post_id,
        id: d.id.as_deref(),
        account_id: d.account_id.as_ref(),
        account_name: d.account_name.as_deref(),
        platform: &d.platform,
        status: d.status,
        raw_status: &d.raw_status,
        url: d.url.as_deref(),
        error: d.error.as_deref(),
        failure_class: (d.status == State::Failed).then(|| d.failure_class().as_str()),
        attempts: d.attempts,
        retries: d.retries,
        note: d.note.as_deref(),
        published_at: d.published_at.as_deref(),
        next_retry_at: d.next_retry_at.as_deref(),
    }
}

fn counts(t: crate::model::Tally) -> Value {
    json!({"total": t.total, "published": t.published, "failed": t.failed, "pending": t.pending})
}

fn rfc3339(t: std::time::SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    tool: Value,
    status: crate::outcome::Status,
    exit_code: u8,
    fail_on: &'static str,
    message: Option<&'a str>,
    simulated: bool,
    counts: Value,
    retried_count: u32,
    timing: Value,
    posts: Vec<Value>,
    destinations: Vec<DestJson<'a>>,
    publish: Option<Value>,
}

/// What publishing did, for the results file.
fn publish(p: &crate::publish::Record) -> Value {
    json!({
        "dry_run": p.dry_run,
        "created": p.created,
        "reused_post": p.reused,
        "post_id": p.post_id,
        "media_ids": p.media_ids,
        "accounts": p.targets.iter().map(|a| json!({"id": a.id, "label": a.label()})).collect::<Vec<_>>(),
        "skipped": p.skipped.iter().map(|(a, why)| json!({"id": a.id, "label": a.label(), "reason": why})).collect::<Vec<_>>(),
        "create_calls": p.create_calls,
        "first_line": p.first_line,
        "characters": p.chars,
        "media_files": p.media_files,
        "scheduled_for": p.scheduled_for,
        "problems": p.problems,
    })
}

/// The whole document written to `results-file`, pretty-printed.
#[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
pub fn document(r: &Report) -> String {
    #[allow(clippy::cast_possible_truncation)]
    let ms = |d: std::time::Duration| d.as_millis() as u64;
    let doc = Document {
        schema_version: SCHEMA_VERSION,
        tool: json!({"name": env!("CARGO_PKG_NAME"), "version": env!("CARGO_PKG_VERSION")}),
        status: r.status,
        exit_code: r.exit_code,
        fail_on: r.fail_on.as_str(),
        message: r.message.as_deref(),
        simulated: r.simulated,
        counts: counts(r.tally),
        retried_count: r.retried(),
        timing: json!({
            "started_at": rfc3339(r.started_at),
            "finished_at": rfc3339(r.started_at + r.elapsed),
            "elapsed_ms": ms(r.elapsed),
            "timeout_ms": ms(r.timeout),
            "requests": r.requests,
        }),
        posts: r
            .posts
            .iter()
            .map(|p| {
                json!({
                    "post_id": p.post_id,
                    "status": p.status,
                    "exit_code": p.exit_code,
                    "post_status": p.post_status,
                    "scheduled_for": p.scheduled_for,
                    "message": p.message,
                    "retried_count": p.retried,
                    "counts": counts(p.tally),
                })
            })
            .collect(),
        destinations: r.destinations().map(destination).collect(),
        publish: r.publish.as_ref().map(publish),
    };
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use crate::report::fixtures::{dest, report};

    #[test]
    fn document_shape() {
        let r = report(
            Status::Partial,
            vec![dest("x", "@a", State::Published), dest("linkedin", "B", State::Failed)],
        );
        let doc: Value = serde_json::from_str(&document(&r)).unwrap();
        assert_eq!(doc["schema_version"], 1);
        assert_eq!(doc["status"], "partial");
        assert_eq!(doc["counts"]["failed"], 1);
        assert_eq!(doc["timing"]["elapsed_ms"], 12_300);
        assert_eq!(doc["timing"]["started_at"], "2026-07-14T03:33:20.000Z");
        let d = &doc["destinations"][1];
        assert_eq!(d["status"], "failed");
        assert_eq!(d["failure_class"], "reconnect");
        assert_eq!(d["published_at"], Value::Null);
        assert_eq!(doc["destinations"][0]["failure_class"], Value::Null);
    }
}

//! The normalised results as JSON: the compact `results` array (an output) and the
//! `results-file` document, whose shape is versioned by `schema_version`.

use serde_json::{Value, json};

use super::Report;
use crate::failure::classify_failure;
use crate::model::{Destination, State};

pub const SCHEMA_VERSION: u32 = 1;

/// One destination as it appears in `results` (absent values are `null`).
pub fn destination(d: &Destination) -> Value {
    let class = (d.status == State::Failed).then(|| classify_failure(d.error.as_deref()).as_str());
    json!({
        "post_id": d.post_id,
        "id": d.id,
        "account_id": d.account_id,
        "account_name": d.account_name,
        "platform": d.platform,
        "status": d.status,
        "raw_status": d.raw_status,
        "url": d.url,
        "error": d.error,
        "failure_class": class,
        "attempts": d.attempts,
        "published_at": d.published_at,
        "next_retry_at": d.next_retry_at,
    })
}

/// The `results` output: a compact JSON array.
pub fn results_array(dests: &[Destination]) -> Vec<Value> {
    dests.iter().map(destination).collect()
}

fn rfc3339(t: std::time::SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// The whole document written to `results-file`.
pub fn document(r: &Report) -> Value {
    #[allow(clippy::cast_possible_truncation)]
    let ms = |d: std::time::Duration| d.as_millis() as u64;
    json!({
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": env!("CARGO_PKG_NAME"), "version": env!("CARGO_PKG_VERSION")},
        "status": r.status,
        "exit_code": r.exit_code,
        "fail_on": r.fail_on.as_str(),
        "message": r.message,
        "simulated": r.simulated,
        "counts": {
            "total": r.tally.total,
            "published": r.tally.published,
            "failed": r.tally.failed,
            "pending": r.tally.pending,
        },
        "timing": {
            "started_at": rfc3339(r.started_at),
            "finished_at": rfc3339(r.started_at + r.elapsed),
            "elapsed_ms": ms(r.elapsed),
            "timeout_ms": ms(r.timeout),
            "requests": r.requests,
        },
        "posts": [{"post_id": r.post_id, "post_status": r.post_status}],
        "destinations": results_array(&r.destinations),
    })
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
            vec![
                dest("x", "@a", State::Published),
                dest("linkedin", "B", State::Failed),
            ],
        );
        let doc = document(&r);
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

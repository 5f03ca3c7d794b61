//! The built-in simulator: a tiny HTTP/1.1 server on 127.0.0.1 (random port) that plays a
//! named scenario of the results API, advancing each post one step per results request.
//! PostEverywhere has no sandbox; this lets `--demo` and the `simulate` input dry-run a
//! pipeline's handling of every outcome without a key. Not used on the normal path.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The scenarios of the `simulate` input, and what each does.
pub const SCENARIOS: &[(&str, &str)] = &[
    ("published", "every destination publishes (exit 0)"),
    ("partial", "LinkedIn fails with an expired token, the rest publish (exit 1)"),
    ("failed", "every destination fails, each for another reason (exit 1)"),
    ("timeout", "destinations stay in processing until the deadline (exit 3, in 10 s)"),
    ("retry", "LinkedIn fails, is re-queued once and publishes; X needs reconnecting (exit 1)"),
];

/// The scenario a `simulate` value names (`slow` is the old name of `timeout`).
pub fn scenario(name: &str) -> Option<&'static str> {
    let name = if name.eq_ignore_ascii_case("slow") { "timeout" } else { name };
    SCENARIOS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(n, _)| *n)
}

mod publish;

/// The healthy accounts every simulated post goes to (unless it names fewer).
const ACCOUNTS: [(u64, &str, &str); 3] =
    [(2280, "@yourbrand", "instagram"), (2285, "Your Brand Inc.", "linkedin"), (2290, "@yourbrand", "x")];

/// Per post: results requests so far, and the poll at which LinkedIn was re-queued.
type Polls = Mutex<HashMap<String, (u32, Option<u32>)>>;

/// One simulator: its scenario, address, and what it was asked to do.
struct Sim {
    scenario: String,
    /// `http://127.0.0.1:<port>`, for the upload URLs it hands out.
    origin: String,
    polls: Polls,
    made: Mutex<publish::Made>,
}

/// Starts the simulator; returns the API base URL to use.
pub async fn start(scenario: &str) -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr: SocketAddr = listener.local_addr()?;
    let sim = Arc::new(Sim {
        scenario: scenario.to_owned(),
        origin: format!("http://{addr}"),
        polls: Mutex::default(),
        made: Mutex::default(),
    });
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let sim = sim.clone();
            tokio::spawn(async move {
                let _ = serve(stream, &sim).await;
            });
        }
    });
    Ok(format!("http://{addr}/api/v1"))
}

async fn serve(mut stream: TcpStream, sim: &Sim) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await?;
        if n == 0 || buf.len() > 16 * 1024 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0) + 4;
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0)
        .min(64 * 1024);
    let declared: u64 = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase().strip_prefix("content-length:").and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0);
    let mut parts = head.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    // Uploads are counted, not kept: any size, flat memory.
    let keep = !path.starts_with("/storage/");
    let mut body = buf[split..].to_vec();
    let mut received = body.len() as u64;
    while received < declared && (!keep || body.len() < length) {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        received += n as u64;
        if keep {
            body.extend_from_slice(&chunk[..n]);
        }
    }
    let authorized = head.lines().any(|l| l.to_ascii_lowercase().starts_with("authorization:"));
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (status, body) = match path.strip_prefix("/storage/") {
        Some(id) => publish::store(sim, id, authorized, received, declared),
        // No key is ever sent to the simulator: one that was would be a leak, so say so.
        None if authorized => (
            "401 Unauthorized",
            json!({"data": null, "error": {"code": "unauthorized", "message":
                "the simulator takes no API key, and one was sent"}, "meta": {"request_id": "sim_0001"}}),
        ),
        None => route(method, path, &request, sim),
    };
    let reset = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) + 60;
    let body = body.to_string();
    let reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\
         X-RateLimit-Limit: 60\r\nX-RateLimit-Remaining: 59\r\nX-RateLimit-Reset: {reset}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(reply.as_bytes()).await?;
    stream.shutdown().await
}

fn envelope(data: Value) -> Value {
    json!({"data": data, "error": null, "meta": {"request_id": "sim_0001"}})
}

fn route(method: &str, path: &str, request: &Value, sim: &Sim) -> (&'static str, Value) {
    let path = path.split('?').next().unwrap_or("");
    if let Some(answer) = publish::route(method, path, request, sim) {
        return answer;
    }
    let (scenario, polls) = (sim.scenario.as_str(), &sim.polls);
    let rest = path.strip_prefix("/api/v1/posts/").unwrap_or("");
    let (post_id, tail) = rest.split_once('/').unwrap_or((rest, ""));
    match (method, tail) {
        ("GET", "results") if !post_id.is_empty() => {
            let (n, retried_at) = {
                let mut map = polls.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let entry = map.entry(post_id.to_owned()).or_insert((0, None));
                entry.0 += 1;
                (entry.0 - 1, entry.1)
            };
            // A post made here goes to the accounts it named; any other to all three.
            let named = publish::accounts_of(sim, post_id);
            let results: Vec<Value> = ACCOUNTS
                .iter()
                .enumerate()
                .filter(|(_, a)| named.as_ref().is_none_or(|ids| ids.contains(&a.0)))
                .map(|(i, a)| destination(scenario, n, retried_at, i, *a))
                .collect();
            (
                "200 OK",
                envelope(
                    json!({"post_id": post_id, "post_status": post_status(&results), "results": results}),
                ),
            )
        }
        ("POST", "retry") if !post_id.is_empty() => retry(post_id, request, scenario, polls),
        ("GET", "") if !post_id.is_empty() => {
            ("200 OK", envelope(json!({"post_id": post_id, "status": "publishing", "scheduled_for": null})))
        }
        _ => (
            "404 Not Found",
            json!({"data": null, "error": {"code": "not_found", "message": "no such route in the simulator"},
                   "meta": {"request_id": "sim_404"}}),
        ),
    }
}

/// Re-queues LinkedIn (the one transient failure of the `retry` scenario) when asked by
/// account id or destination id; refuses a body that names nothing, as a careful API would.
fn retry(post_id: &str, request: &Value, scenario: &str, polls: &Polls) -> (&'static str, Value) {
    let named = |key: &str, want: &Value| request[key].as_array().is_some_and(|ids| ids.contains(want));
    if !(request["account_ids"].is_array() || request["destinationIds"].is_array()) {
        let error = json!({"code": "validation_error", "message": "name the destinations to retry"});
        return ("400 Bad Request", json!({"data": null, "error": error, "meta": {"request_id": "sim_400"}}));
    }
    let linkedin = named("account_ids", &json!(2285)) || named("destinationIds", &json!("sim-dest-2285"));
    let mut map = polls.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let entry = map.entry(post_id.to_owned()).or_insert((0, None));
    let count = usize::from(scenario == "retry" && linkedin && entry.1.is_none());
    if count == 1 {
        entry.1 = Some(entry.0);
    }
    let data = json!({"post_id": post_id, "retried_count": count, "destinations": [],
                      "next_step": "Poll GET /v1/posts/{id} to watch publish status."});
    ("200 OK", envelope(data))
}

fn post_status(results: &[Value]) -> &'static str {
    let count = |s: &str| results.iter().filter(|r| r["status"] == s).count();
    match (count("published"), count("failed")) {
        (p, 0) if p == results.len() => "published",
        (0, f) if f == results.len() => "failed",
        (p, f) if p + f == results.len() => "partially_failed",
        _ => "publishing",
    }
}

/// The state of account `i` at poll `n` of a scenario (`retried_at`: the poll at which
/// LinkedIn was re-queued, in the `retry` scenario).
fn destination(
    scenario: &str,
    n: u32,
    retried_at: Option<u32>,
    i: usize,
    (account_id, name, platform): (u64, &str, &str),
) -> Value {
    let failure = match (scenario, platform) {
        ("retry", "linkedin") => Some("Upload to LinkedIn timed out (platform returned 503)"),
        ("retry", "x") => Some("Token expired. Please reconnect your X account."),
        ("partial" | "failed", "linkedin") => Some("Token expired. Please reconnect your LinkedIn account."),
        ("failed", "instagram") => Some("Media aspect ratio not supported (must be between 4:5 and 1.91:1)"),
        ("failed", "x") => Some("Text is too long (312 of 280 characters)"),
        _ => None,
    };
    // Each destination needs a different number of polls to settle: 2, 3 and 2.
    let settles_at = [2, 3, 2][i];
    let since_retry = retried_at.filter(|_| platform == "linkedin").map(|r| n.saturating_sub(r));
    let status = if scenario == "timeout" {
        ["processing", "queued", "publishing"][i]
    } else if let Some(k) = since_retry {
        ["queued", "publishing", "published"][(k as usize).min(2)]
    } else if n == 0 {
        "queued"
    } else if n < settles_at {
        "publishing"
    } else if failure.is_some() {
        "failed"
    } else {
        "published"
    };
    let published = status == "published";
    json!({
        "account_id": account_id,
        "account_name": name,
        "platform": platform,
        "status": status,
        "published_at": published.then_some("2026-01-01T00:00:00.000Z"),
        "platform_post_id": published.then(|| format!("sim{account_id}")),
        "platform_post_url": published.then(|| format!("https://{platform}.example/simulated/{account_id}")),
        "error": if status == "failed" { failure } else { None },
        "attempts": match (since_retry, status) {
            (Some(_), _) => 2,
            (None, "failed") => 1,
            _ => u32::from(n > 0),
        },
        "id": format!("sim-dest-{account_id}"),
        "next_retry_at": null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statuses(scenario: &str, n: u32) -> Vec<String> {
        (0..3)
            .map(|i| destination(scenario, n, None, i, ACCOUNTS[i])["status"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn scenarios_settle_as_named() {
        assert_eq!(statuses("published", 0), ["queued", "queued", "queued"]);
        assert_eq!(statuses("published", 3), ["published", "published", "published"]);
        assert_eq!(statuses("partial", 3), ["published", "failed", "published"]);
        assert_eq!(statuses("failed", 3), ["failed", "failed", "failed"]);
        assert_eq!(statuses("timeout", 50), ["processing", "queued", "publishing"]);
        assert_eq!(scenario("slow"), Some("timeout"));
        assert_eq!(scenario("Retry"), Some("retry"));
        assert_eq!(scenario("nope"), None);
        assert_eq!(statuses("retry", 3), ["published", "failed", "failed"]);
        let after = |n| destination("retry", n, Some(3), 1, ACCOUNTS[1])["status"].clone();
        assert_eq!(
            (after(3), after(4), after(9)),
            (json!("queued"), json!("publishing"), json!("published"))
        );
    }

    #[tokio::test]
    async fn a_request_with_a_key_is_refused() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let base: reqwest::Url = start("published").await.unwrap().parse().unwrap();
        let ask = |auth: &'static str| {
            let base = base.clone();
            async move {
                let mut s = tokio::net::TcpStream::connect((base.host_str().unwrap(), base.port().unwrap()))
                    .await
                    .unwrap();
                let req =
                    format!("GET {}/posts/sim-post/results HTTP/1.1\r\nHost: x\r\n{auth}\r\n", base.path());
                s.write_all(req.as_bytes()).await.unwrap();
                let mut out = String::new();
                s.read_to_string(&mut out).await.unwrap();
                out
            }
        };
        assert!(ask("").await.starts_with("HTTP/1.1 200"));
        let refused = ask("Authorization: Bearer pe_live_x\r\n").await;
        assert!(refused.starts_with("HTTP/1.1 401") && refused.contains("takes no API key"), "{refused}");
    }
}

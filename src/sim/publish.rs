//! The simulator's publishing side: connected accounts (one needing reconnection), the
//! three-step media upload to its own "storage" route (which refuses a request carrying an
//! `Authorization` header, as the key must never reach a storage host), creating posts
//! (which then go to the accounts they name), and an empty post list (a fresh simulator
//! knows no earlier posts).

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{ACCOUNTS, Sim, envelope};

/// What the simulator was asked to make.
#[derive(Default)]
pub(super) struct Made {
    next: u32,
    /// Created posts and their account ids.
    posts: HashMap<String, Vec<u64>>,
    /// Media: declared size, bytes received, and polls since marked complete.
    media: HashMap<String, (u64, Option<u64>, Option<u32>)>,
}

/// The account that needs reconnecting.
const UNHEALTHY: (u64, &str, &str) = (2295, "@yourbrand", "tiktok");

fn error(status: &'static str, code: &str, message: &str) -> (&'static str, Value) {
    (
        status,
        json!({"data": null, "error": {"code": code, "message": message}, "meta": {"request_id": "sim_err"}}),
    )
}

fn made(sim: &Sim) -> std::sync::MutexGuard<'_, Made> {
    sim.made.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The accounts a post made here was created for.
pub(super) fn accounts_of(sim: &Sim, post_id: &str) -> Option<Vec<u64>> {
    made(sim).posts.get(post_id).cloned()
}

/// A handle only for names that are one (`@yourbrand`); a company page has a display name.
fn username(name: &str) -> Value {
    name.strip_prefix('@').map_or(Value::Null, |u| json!(u))
}

fn accounts() -> Value {
    let mut list: Vec<Value> = ACCOUNTS
        .iter()
        .map(|(id, name, platform)| {
            json!({"id": id, "platform": platform, "platform_username": username(name),
                   "display_name": name, "is_active": true, "health": {"status": "healthy", "message": null}})
        })
        .collect();
    let (id, name, platform) = UNHEALTHY;
    list.push(json!({"id": id, "platform": platform, "platform_username": username(name), "display_name": name,
                     "is_active": true, "health": {"status": "expired", "message": "Token expired: reconnect TikTok"}}));
    envelope(json!({"accounts": list}))
}

/// The routes of publishing, or `None` for a path that is not one.
pub(super) fn route(method: &str, path: &str, request: &Value, sim: &Sim) -> Option<(&'static str, Value)> {
    let rest = path.strip_prefix("/api/v1/")?;
    Some(match (method, rest) {
        ("GET", "accounts") => ("200 OK", accounts()),
        ("GET", "posts") => (
            "200 OK",
            envelope(json!({"posts": [], "pagination": {"limit": 100, "offset": 0, "has_more": false}})),
        ),
        ("POST", "posts") => create(request, sim),
        ("POST", "media/upload") => {
            let size = request["file_size"].as_u64().unwrap_or(0);
            let mut m = made(sim);
            m.next += 1;
            let id = format!("sim-media-{}", m.next);
            m.media.insert(id.clone(), (size, None, None));
            let url = format!("{}/storage/{id}", sim.origin);
            ("200 OK", envelope(json!({"media_id": id, "upload_url": url, "expires_in": 900})))
        }
        ("POST", r) if r.starts_with("media/") && r.ends_with("/complete") => {
            let id = &r["media/".len()..r.len() - "/complete".len()];
            let mut m = made(sim);
            match m.media.get_mut(id) {
                Some((size, Some(got), polls)) if got == size => {
                    *polls = Some(0);
                    ("200 OK", envelope(json!({"media_id": id, "upload_status": "processing"})))
                }
                Some(_) => error("409 Conflict", "upload_incomplete", "the file was not uploaded in full"),
                None => error("404 Not Found", "not_found", "no such media"),
            }
        }
        ("GET", r) if r.starts_with("media/") => {
            let id = &r["media/".len()..];
            let mut m = made(sim);
            match m.media.get_mut(id) {
                Some((_, _, Some(polls))) => {
                    *polls += 1;
                    let status = if *polls > 1 { "ready" } else { "processing" };
                    ("200 OK", envelope(json!({"media_id": id, "upload_status": status})))
                }
                Some(_) => ("200 OK", envelope(json!({"media_id": id, "upload_status": "pending_upload"}))),
                None => error("404 Not Found", "not_found", "no such media"),
            }
        }
        _ => return None,
    })
}

/// `PUT /storage/{id}`: the bytes of a media file. The key must never come here.
pub(super) fn store(
    sim: &Sim,
    id: &str,
    authorized: bool,
    received: u64,
    declared: u64,
) -> (&'static str, Value) {
    if authorized {
        return error(
            "400 Bad Request",
            "credentials_sent",
            "the storage host must never receive the API key",
        );
    }
    let mut m = made(sim);
    match m.media.get_mut(id) {
        Some((size, got, _)) if *size == received && received == declared => {
            *got = Some(received);
            ("200 OK", json!({}))
        }
        Some(_) => error("400 Bad Request", "size_mismatch", "the body is not the size announced"),
        None => error("404 Not Found", "not_found", "no such upload"),
    }
}

fn create(request: &Value, sim: &Sim) -> (&'static str, Value) {
    let content = request["content"].as_str().unwrap_or("");
    let ids: Vec<u64> = request["account_ids"]
        .as_array()
        .map_or_else(Vec::new, |a| a.iter().filter_map(Value::as_u64).collect());
    if content.trim().is_empty() || ids.is_empty() {
        return error("400 Bad Request", "validation_error", "content and account_ids are required");
    }
    if ids.contains(&UNHEALTHY.0) {
        return error(
            "422 Unprocessable Entity",
            "account_needs_reconnection",
            "Token expired: reconnect TikTok",
        );
    }
    if let Some(bad) = ids.iter().find(|id| !ACCOUNTS.iter().any(|a| a.0 == **id)) {
        return error("400 Bad Request", "validation_error", &format!("unknown account {bad}"));
    }
    let mut m = made(sim);
    for media in request["media_ids"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        if !matches!(m.media.get(media), Some((_, _, Some(_)))) {
            return error("400 Bad Request", "validation_error", &format!("media {media} is not ready"));
        }
    }
    m.next += 1;
    let id = format!("sim-post-{}", m.next);
    m.posts.insert(id.clone(), ids.clone());
    let scheduled = request["scheduled_for"].as_str();
    let status = if scheduled.is_some() { "scheduled" } else { "publishing" };
    (
        "201 Created",
        envelope(
            json!({"post_id": id, "status": status, "scheduled_for": scheduled, "destinations": ids.len(), "message": "Post created"}),
        ),
    )
}

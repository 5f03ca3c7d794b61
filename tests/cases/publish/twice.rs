//! Never twice, as a property test of the real binary: an API that remembers the posts it
//! made answers each create as drawn (made and answered, made with the answer lost, not
//! made, accepted without an id, rate limited), lists a made post only some lists later,
//! with or without its accounts, asks about it fail once (a 503, a 404), and holds another job's post
//! with the same text (from ten minutes or seconds ago, for the same time or an hour
//! later: the same post as far as the list can tell) and one for other accounts, or for
//! one of ours only (as ours, listed in part, would be); the step publishes now or at a
//! set time. Whatever it draws: at most three creates, none after the
//! API took one, at most one post made, and the step reports a post it made or the earlier
//! run's it was allowed to reuse (whatever its time), never another job's, one for other
//! accounts or one for some of ours.

use std::sync::{Arc, Mutex};

use proptest::prelude::*;

use super::*;
use crate::server::Request;

#[derive(Debug, Clone, Copy)]
enum Fate {
    /// Made, and its id answered.
    Made,
    /// Made, and the answer lost (a 502 or a connection reset mid-body).
    MadeLost(bool),
    /// Not made: a 503.
    NotMade,
    /// Made, and accepted without an id (202).
    Accepted,
    /// A 429: nothing made.
    Limited,
}

fn fate() -> impl Strategy<Value = Fate> {
    prop_oneof![
        2 => Just(Fate::Made),
        3 => any::<bool>().prop_map(Fate::MadeLost),
        1 => Just(Fate::NotMade),
        1 => Just(Fate::Accepted),
        1 => Just(Fate::Limited),
    ]
}

#[derive(Debug, Clone)]
struct World {
    fates: Vec<Fate>,
    /// Lists after a post is made before it is listed.
    lag: usize,
    /// The list names no accounts (its posts are asked about).
    bare: bool,
    /// The post's own answer fails once (503, or a 404 as for a post just made) before it
    /// answers.
    ask_fails: Option<u16>,
    /// Another job's post with this text to these accounts, made this many seconds ago.
    twin: Option<u64>,
    /// That post is scheduled an hour after this one (a re-run's schedule-at computed again):
    /// still reused.
    twin_later: bool,
    /// The step publishes at a set time (`schedule-at`), not now.
    scheduled: bool,
    /// Another job's post with this text, made seconds ago, to these accounts: one of ours
    /// and one not, or one of ours only (as a post of ours listed with only some of its
    /// destinations made would be).
    other: Option<&'static [u64]>,
    /// `dedupe: 0` instead of the default 24 hours.
    no_dedupe: bool,
}

impl World {
    /// The fate of create call `n`: as drawn, then made.
    fn fate(&self, n: usize) -> Fate {
        self.fates.get(n).copied().unwrap_or(Fate::Made)
    }
}

fn world() -> impl Strategy<Value = World> {
    (
        prop::collection::vec(fate(), 1..5),
        0usize..5,
        any::<bool>(),
        prop::option::of(prop::sample::select(vec![404u16, 503])),
        prop::option::of(prop::sample::select(vec![5u64, 600])),
        prop::option::of(prop::sample::select(vec![&[2u64, 4][..], &[2][..]])),
        any::<bool>(),
        (any::<bool>(), any::<bool>()),
    )
        .prop_map(|(fates, lag, bare, ask_fails, twin, other, no_dedupe, (twin_later, scheduled))| {
            World { fates, lag, bare, ask_fails, twin, twin_later, scheduled, other, no_dedupe }
        })
}

/// A post the API holds: id, accounts, when it was made, when it is to publish (`None`:
/// at once), and the list call from which on it is listed.
struct Held {
    id: String,
    accounts: Vec<u64>,
    at: SystemTime,
    due: Option<SystemTime>,
    from_list: usize,
}

/// The time the step publishes at, when it is scheduled: whole seconds, as the input has it.
fn due_at(w: &World) -> Option<SystemTime> {
    w.scheduled.then(|| {
        let secs = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs / 60 * 60 + 7200)
    })
}

struct Api {
    /// When the step's post is to publish (`schedule-at`).
    due: Option<SystemTime>,
    held: Vec<Held>,
    lists: usize,
    creates: usize,
    asked: Vec<String>,
}

/// Whether `id` is a post a create of this run made (`p-1`, `p-2`…), not one held before.
fn made_here(id: &str) -> bool {
    id.strip_prefix("p-").is_some_and(|n| n.parse::<u32>().is_ok())
}

fn answer(w: &World, api: &Mutex<Api>, r: &Request) -> Reply {
    let mut a = api.lock().unwrap();
    let id = r.path.strip_prefix("/api/v1/posts").unwrap_or("").trim_start_matches('/');
    match (r.method.as_str(), id.split('/').collect::<Vec<_>>().as_slice()) {
        ("POST", [""]) => {
            let fate = w.fate(a.creates);
            a.creates += 1;
            let id = format!("p-{}", a.creates);
            let from_list = a.lists + w.lag;
            if !matches!(fate, Fate::NotMade | Fate::Limited) {
                let (at, due) = (SystemTime::now(), a.due);
                a.held.push(Held { id: id.clone(), accounts: vec![1, 2], at, due, from_list });
            }
            match fate {
                Fate::Made => created(&id),
                Fate::MadeLost(false) => Reply::status(502, json!({"error": "bad gateway"})),
                Fate::MadeLost(true) => Reply::ResetMidBody,
                Fate::NotMade => Reply::status(503, json!({"error": "unavailable"})),
                Fate::Accepted => Reply::status(202, json!({"data": {"status": "publishing"}})),
                Fate::Limited => {
                    Reply::status(429, json!({"error": {"code": "rate_limited", "retryAfter": 0.02}}))
                }
            }
        }
        ("GET", [""]) => {
            let n = a.lists;
            a.lists += 1;
            let mut listed: Vec<&Held> = a.held.iter().filter(|h| h.from_list <= n).collect();
            listed.sort_by_key(|h| std::cmp::Reverse(h.at));
            let posts: Vec<Value> = listed
                .iter()
                .map(|h| {
                    let mut p =
                        json!({"post_id": h.id, "content": "Launch day!", "created_at": rfc3339(h.at)});
                    if !w.bare {
                        p["account_ids"] = json!(h.accounts);
                    }
                    if let Some(t) = h.due {
                        p["scheduled_for"] = json!(rfc3339(t));
                    }
                    p
                })
                .collect();
            listing(json!(posts))
        }
        ("GET", [id]) => {
            let first = !a.asked.iter().any(|x| x == id);
            a.asked.push((*id).to_owned());
            match a.held.iter().find(|h| h.id == *id) {
                // A 404 only for a post this run made: one just made may not answer yet.
                Some(h) if first && w.ask_fails == Some(404) && made_here(&h.id) => {
                    Reply::status(404, json!({}))
                }
                _ if first && w.ask_fails == Some(503) => Reply::status(503, json!({})),
                Some(h) => Reply::ok(
                    json!({"data": {"post_id": id, "status": "publishing", "account_ids": h.accounts}}),
                ),
                None => Reply::status(404, json!({"error": "not found"})),
            }
        }
        ("GET", [_, "results"]) => published(&[1, 2]),
        _ => Reply::status(404, json!({"error": "unscripted"})),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn never_twice_whatever_the_api_does(w in world()) {
        let due = due_at(&w);
        let api = Arc::new(Mutex::new(Api { due, held: Vec::new(), lists: 0, creates: 0, asked: Vec::new() }));
        {
            let mut a = api.lock().unwrap();
            let ago = |s| SystemTime::now() - Duration::from_secs(s);
            if let Some(s) = w.twin {
                // An hour after this one (after now, when this one publishes now).
                let later = w.twin_later.then(|| due.unwrap_or_else(SystemTime::now) + Duration::from_secs(3600));
                let due = if w.twin_later { later } else { due };
                a.held.push(Held { id: "p-twin".into(), accounts: vec![2, 1], at: ago(s), due, from_list: 0 });
            }
            if let Some(accounts) = w.other {
                a.held.push(Held { id: "p-other".into(), accounts: accounts.to_vec(), at: ago(3), due, from_list: 0 });
            }
        }
        let (world, state) = (w.clone(), api.clone());
        let server = Server::new()
            .route("GET", "/api/v1/accounts", vec![accounts()])
            .handle("POST", POSTS, move |r| answer(&world, &state, r));
        let (world, state) = (w.clone(), api.clone());
        let server = server.handle("GET", POSTS, move |r| answer(&world, &state, r));
        let dedupe = if w.no_dedupe { "0" } else { "24h" };
        let mut cmd = publish(&server).input("dedupe", dedupe).input("poll-interval", "10ms").input("timeout", "15s");
        if let Some(t) = due {
            cmd = cmd.input("schedule-at", &rfc3339(t));
        }
        let run = cmd.run();

        let a = api.lock().unwrap();
        // The create calls as sent; a 429 made nothing and is not one of the three.
        let sent: Vec<Fate> = (0..a.creates).map(|i| w.fate(i)).collect();
        let sent: Vec<Fate> = sent.into_iter().filter(|f| !matches!(f, Fate::Limited)).collect();
        let creates = sent.len();
        let ours: Vec<&str> = a.held.iter().map(|h| h.id.as_str()).filter(|id| made_here(id)).collect();
        let post_id = run.output("post-id");
        let context = format!("exit {}, post-id {post_id:?}, {creates} creates, made {ours:?}\n{}", run.code, run.stdout);
        prop_assert!(creates <= 3, "{}", context);
        prop_assert!(ours.len() <= 1, "made twice: {}", context);
        // No create after one the API took (answered with an id, or accepted without one).
        let took = sent.iter().position(|f| matches!(f, Fate::Made | Fate::Accepted));
        if let Some(i) = took {
            prop_assert_eq!(creates, i + 1, "a create after the API took one: {}", context);
        }
        prop_assert!(post_id != "p-other", "{}", context);
        match (w.twin, w.no_dedupe) {
            // An earlier run's post in the dedupe window is reused, nothing created, whatever
            // its time.
            (Some(_), false) => prop_assert_eq!((post_id, creates), ("p-twin", 0), "{}", context),
            // Another job's, with dedupe off: never taken for ours.
            _ => prop_assert!(post_id != "p-twin", "{}", context),
        }
        if run.code == 0 {
            prop_assert!(post_id == "p-twin" || ours.contains(&post_id), "{}", context);
        } else {
            prop_assert!(ours.is_empty() || post_id.is_empty() || ours.contains(&post_id), "{}", context);
        }
    }
}

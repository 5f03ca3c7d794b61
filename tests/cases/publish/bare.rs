//! Posts listed without their accounts (a shape the API's own types allow): each post with
//! this text is asked for them, and one that stays unknown is never posted beside.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use super::*;

/// A list that leaves a post's accounts out (a shape the API's own types allow) matched
/// nothing: a re-run posted again, and a lost create's looks never found the post it made
/// (three creates). Such a post with this content is now asked for its accounts, once.
#[test]
fn a_listed_post_without_its_accounts_is_asked_for_them() {
    let ten_minutes_ago = rfc3339(SystemTime::now() - Duration::from_secs(600));
    let bare = |id: &str, at: &str| json!({"post_id": id, "content": "Launch day!", "created_at": at});
    let own = |id: &str, ids: Value| {
        Reply::ok(json!({"data": {"post_id": id, "status": "publishing", "account_ids": ids}}))
    };
    let path = |id: &str| format!("{POSTS}/{id}");

    // An earlier run's post: reused.
    let server = api(vec![created("twice!")], vec![listing(json!([bare("p-old", &ten_minutes_ago)]))]).route(
        "GET",
        &path("p-old"),
        vec![own("p-old", json!([2, 1]))],
    );
    let run = publish(&server).run();
    run.expect_code(0);
    assert_eq!(
        (creates(&server).len(), run.output("post-id"), run.output("reused-post")),
        (0, "p-old", "true")
    );
    assert_eq!(server.hits("GET", &path("p-old")), 1);
    let said =
        "post p-old has this content; the post list names no accounts for it, its own answer names 1, 2";
    assert!(run.stdout.contains(said), "{}", run.stdout);

    // For other accounts, or gone since: not taken; for some of these: the step stops.
    for (answer, code, made) in [
        (own("p-o", json!([3])), 0, 1),
        (Reply::status(404, json!({"error": "gone"})), 0, 1),
        (own("p-o", json!([1, 3])), 4, 0),
    ] {
        let server = api(vec![created("p-new")], vec![listing(json!([bare("p-o", &ten_minutes_ago)]))])
            .route("GET", &path("p-o"), vec![answer]);
        let run = publish(&server).run();
        run.expect_code(code);
        assert_eq!((creates(&server).len(), server.hits("GET", &path("p-o"))), (made, 1), "{}", run.stdout);
    }

    // Its accounts not learned either (its own answer names none): before the first create,
    // a refused listing, said, then the post (a job run again would stop: `dedupe.rs`).
    let unnamed = Reply::ok(json!({"data": {"post_id": "p-o", "status": "publishing"}}));
    let server = api(vec![created("p-new")], vec![listing(json!([bare("p-o", &ten_minutes_ago)]))]).route(
        "GET",
        &path("p-o"),
        vec![unnamed],
    );
    let run = publish(&server).run();
    run.expect_code(0);
    assert_eq!(creates(&server).len(), 1);
    let warned = "::warning::could not look for an earlier post with this content (1 listed post with this \
                  content whose accounts neither the post list nor its own answer names); posting";
    assert!(run.stdout.contains(warned), "{}", run.stdout);

    // A lost create's post: found by its own answer, never made again; a post for other
    // accounts listed beside it in every look is asked about once.
    let now = rfc3339(SystemTime::now());
    let looks = listing(json!([bare("p-other", &now), bare("p-new", &now)]));
    let server = api(vec![Reply::status(502, json!({})), created("twice!")], vec![listing(json!([])), looks])
        .route("GET", &path("p-new"), vec![Reply::status(503, json!({})), own("p-new", json!([1, 2]))])
        .route("GET", &path("p-other"), vec![own("p-other", json!([4]))]);
    let run = publish(&server).input("timeout", "3s").run();
    run.expect_code(0);
    assert_eq!((creates(&server).len(), run.output("post-id")), (1, "p-new"));
    assert!(run.stdout.contains("found it, post p-new: not posting again"), "{}", run.stdout);
    assert_eq!((server.hits("GET", &path("p-new")), server.hits("GET", &path("p-other"))), (2, 1));

    // `dedupe: 0`: a post of the last minute listed without accounts is asked about before
    // the first create, and never taken for ours.
    let server = api(vec![created("p-new")], vec![listing(json!([bare("p-twin", &now)]))]).route(
        "GET",
        &path("p-twin"),
        vec![own("p-twin", json!([1, 2]))],
    );
    let run = publish(&server).input("dedupe", "0").run();
    run.expect_code(0);
    assert_eq!((creates(&server).len(), run.output("post-id")), (1, "p-new"));
    assert!(run.stdout.contains(
        "1 post with this content to some or all of these accounts (or to accounts the post list does not name) made in the last minute"
    ));
    assert_eq!(server.hits("GET", &path("p-twin")), 0, "noted without asking");
}

/// `n` other-account posts with this text (10 minutes old, newest first), then, oldest,
/// an earlier run's post for exactly these accounts; the list names no accounts.
fn crowd(n: usize) -> (Server, Arc<Mutex<Vec<String>>>) {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let a = asked.clone();
    let mut posts: Vec<Value> = (0..n)
        .map(|i| {
            json!({"post_id": format!("p-o{i}"), "content": "Launch day!",
                        "created_at": rfc3339(SystemTime::now() - Duration::from_secs(300 + i as u64))})
        })
        .collect();
    posts.push(json!({"post_id": "p-old", "content": "Launch day!",
                      "created_at": rfc3339(SystemTime::now() - Duration::from_secs(3000))}));
    let server =
        api(vec![created("p-new")], vec![listing(json!(posts))]).handle("GET", "/api/v1/posts/", move |r| {
            let id = r.path.trim_start_matches("/api/v1/posts/").to_owned();
            a.lock().unwrap().push(id.clone());
            let ids = if id == "p-old" { json!([1, 2]) } else { json!([3]) };
            Reply::ok(json!({"data": {"post_id": id, "status": "published", "account_ids": ids}}))
        });
    (server, asked)
}

/// A re-run whose first run's post is the 21st post with this text in a list that names no
/// accounts: a scan asks about 20 at most (found in review: it posted again).
#[test]
fn past_the_asks_a_rerun_stops_instead_of_posting() {
    let (server, asked) = crowd(19);
    let run = publish(&server).env("GITHUB_RUN_ATTEMPT", "2").run();
    // control: 19 others + p-old = 20 asks, found and reused
    assert_eq!((creates(&server).len(), run.output("post-id")), (0, "p-old"), "{}", run.stdout);
    drop(asked);

    // 20 others spend the asks: the earlier post's accounts stay unknown, so the re-run
    // cannot tell, and stops rather than post beside it.
    let (server, asked) = crowd(20);
    let run = publish(&server).env("GITHUB_RUN_ATTEMPT", "2").run();
    run.expect_code(4);
    assert_eq!((creates(&server).len(), asked.lock().unwrap().len()), (0, 20), "{}", run.stdout);
    let message = run.output("message");
    assert!(
        message.contains(
            "1 listed post with this content whose accounts neither the post list nor its own answer names"
        ),
        "{message}"
    );
}

/// A stateful API: `others` like-content posts for account 3 (5 minutes old), the list
/// naming no accounts; the first create is made but its answer lost (502), later ones
/// answered. `first_ask` is the first answer to GET /posts/p-N (then its accounts).
fn lossy(others: usize, first_ask: Option<Reply>) -> Server {
    #[derive(Default)]
    struct S {
        made: Vec<String>,
        asked: Vec<String>,
    }
    let s = Arc::new(Mutex::new(S::default()));
    let (s1, s2) = (s.clone(), s.clone());
    let others: Vec<Value> = (0..others)
        .map(|i| {
            json!({"post_id": format!("p-o{i}"), "content": "Launch day!",
                        "created_at": rfc3339(SystemTime::now() - Duration::from_secs(300 + i as u64))})
        })
        .collect();
    Server::new()
        .route("GET", "/api/v1/accounts", vec![accounts()])
        .handle("POST", POSTS, move |_| {
            let mut s = s1.lock().unwrap();
            let id = format!("p-{}", s.made.len() + 1);
            s.made.push(id.clone());
            if s.made.len() == 1 { Reply::status(502, json!({})) } else { created(&id) }
        })
        .handle("GET", POSTS, move |r| {
            let mut s = s2.lock().unwrap();
            let rest = r.path.trim_start_matches(POSTS).trim_start_matches('/').to_owned();
            if rest.is_empty() {
                let mut posts: Vec<Value> = s.made.iter().rev()
                    .map(|id| json!({"post_id": id, "content": "Launch day!", "created_at": rfc3339(SystemTime::now())}))
                    .collect();
                posts.extend(others.iter().cloned());
                return listing(json!(posts));
            }
            if rest.ends_with("/results") {
                return published(&[1, 2]);
            }
            let first = !s.asked.contains(&rest);
            s.asked.push(rest.clone());
            if s.made.contains(&rest) {
                match &first_ask {
                    Some(reply) if first => reply.clone(),
                    _ => Reply::ok(json!({"data": {"post_id": rest, "status": "publishing", "account_ids": [1, 2]}})),
                }
            } else {
                Reply::ok(json!({"data": {"post_id": rest, "status": "published", "account_ids": [3]}}))
            }
        })
}

/// The dedupe look spends its 20 asks on other-account posts with this text; the lost
/// create's looks still ask about its own post (found in review: it was made again).
#[test]
fn the_dedupe_looks_asks_leave_the_lost_creates_own() {
    let server = lossy(20, None);
    let run = publish(&server).input("poll-interval", "10ms").input("timeout", "60s").run();
    assert_eq!(
        (creates(&server).len(), run.output("post-id")),
        (1, "p-1"),
        "the lost create's post was made again:\n{}",
        run.stdout
    );
}

/// The lost create's post is listed, but its own answer is a 404 at first (just made): it
/// is asked again at the next look (found in review: the 404 was kept, and it posted again).
#[test]
fn a_404_for_a_post_just_made_is_asked_again() {
    let server = lossy(0, Some(Reply::status(404, json!({"error": {"code": "not_found", "message": "no"}}))));
    let run = publish(&server).input("poll-interval", "10ms").input("timeout", "60s").run();
    assert_eq!((creates(&server).len(), run.output("post-id")), (1, "p-1"), "made again:\n{}", run.stdout);
}

/// An exact match (accounts listed) beside a post with this text whose own answer is a 403:
/// the match is reused (found in review: the refusal ended the look, and the step posted).
#[test]
fn a_refused_ask_hides_no_exact_match() {
    let ten = rfc3339(SystemTime::now() - Duration::from_secs(600));
    let five = rfc3339(SystemTime::now() - Duration::from_secs(300));
    let list = listing(json!([
        {"post_id": "p-x", "content": "Launch day!", "created_at": five},
        {"post_id": "p-old", "content": "Launch day!", "account_ids": [1, 2], "created_at": ten},
    ]));
    let server = api(vec![created("p-new")], vec![list]).route(
        "GET",
        &format!("{POSTS}/p-x"),
        vec![Reply::status(403, json!({"error": {"code": "forbidden", "message": "not yours"}}))],
    );
    let run = publish(&server).run();
    assert_eq!(
        (creates(&server).len(), run.output("post-id")),
        (0, "p-old"),
        "posted beside an exact match:\n{}",
        run.stdout
    );
}

/// A lost create's looks that list a post with this text whose accounts cannot be learned
/// (its own answer refused, every time): it may be the post, so none is created again.
#[test]
fn a_post_whose_accounts_stay_unknown_is_never_posted_beside() {
    let now = rfc3339(SystemTime::now());
    let looks = listing(json!([{"post_id": "p-new", "content": "Launch day!", "created_at": now}]));
    let refused = Reply::status(403, json!({"error": {"code": "forbidden", "message": "no"}}));
    let server = api(vec![Reply::status(502, json!({})), created("twice!")], vec![listing(json!([])), looks])
        .route("GET", &format!("{POSTS}/p-new"), vec![refused]);
    let run = publish(&server).input("poll-interval", "10ms").input("timeout", "2.5s").run();
    run.expect_code(4);
    assert_eq!(creates(&server).len(), 1, "{}", run.stdout);
    let looks = server.hits("GET", POSTS) - 1;
    assert!(looks >= 15, "{looks} looks");
    assert_eq!(server.hits("GET", &format!("{POSTS}/p-new")), looks, "asked at every look");
    let message = run.output("message");
    assert!(message.contains("the post may have been made"), "{message}");
    assert!(message.contains("1 listed post with this content whose accounts neither"), "{message}");
}

/// Results that name only each destination's platform (the polling example's shape), for a
/// post to both Instagram accounts: the two entries are two destinations, each accounting
/// for one of the accounts posted to. Merged into one, the other account stood pending
/// until the deadline, and a post published everywhere timed out.
#[test]
fn two_accounts_on_one_platform_listed_by_platform_alone() {
    let entry = |n: u32| {
        let url = format!("https://instagram.example/p/{n}");
        json!({"platform": "instagram", "status": "published", "url": url})
    };
    let server = api(vec![created("p-new")], vec![listing(json!([]))]).route(
        "GET",
        "/api/v1/posts/p-new/results",
        vec![Reply::ok(json!({"destinations": [entry(1), entry(2)]}))],
    );
    let run = publish(&server).input("accounts", "3, 4").input("timeout", "3s").run();
    run.expect_code(0);
    assert_eq!(
        (run.output("status"), run.output("total-count"), run.output("published-count")),
        ("published", "2", "2")
    );
    assert_eq!(run.output("published-urls"), "https://instagram.example/p/1\nhttps://instagram.example/p/2");
}

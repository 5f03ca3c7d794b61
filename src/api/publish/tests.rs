use super::*;

#[test]
fn accounts_in_every_shape() {
    let body = json!({"data": {"accounts": [
        {"id": 2280, "platform": "Instagram", "platform_username": "yourbrand", "display_name": "Your Brand", "is_active": true, "health": {"status": "healthy"}},
        {"id": "2285", "platform": "linkedin", "display_name": "Your Brand Inc.", "is_active": true, "health": {"status": "expired", "message": "Token expired"}},
        {"id": 2290, "platform": "x", "is_active": false},
        {"platform": "no id"}]}});
    let a = decode_accounts(&body).unwrap();
    assert_eq!(a.len(), 3);
    assert_eq!((a[0].label(), a[0].unusable()), ("instagram @yourbrand".to_owned(), None));
    assert_eq!(a[1].unusable().unwrap(), "health expired: Token expired");
    assert!(a[2].unusable().unwrap().contains("inactive"));
    assert_eq!(decode_accounts(&json!({"data": [{"id": 1, "platform": "x"}]})).unwrap().len(), 1);
    assert!(decode_accounts(&json!({"data": {"nope": 1}})).is_err());
}

/// A create that could not connect never reached the API (safe to send again); one the
/// server took and dropped may have posted.
#[tokio::test]
async fn a_create_that_never_connected_is_told_from_one_that_was_sent() {
    use crate::secret::Redactor;
    let create = |port: u16| async move {
        let base: url::Url = format!("http://127.0.0.1:{port}/api/v1").parse().unwrap();
        let c = Client::new(&base, None, Redactor::default()).unwrap();
        c.create(&json!({"content": "hi"}), Duration::from_secs(5)).await.err().unwrap()
    };
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let f = create(port).await;
    assert!(f.never_sent(), "{f:?}");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = taken.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = std::io::Read::read(&mut conn, &mut buf);
    });
    let f = create(port).await;
    server.join().unwrap();
    assert!(!f.never_sent() && matches!(f, Fault::Transient { .. }), "{f:?}");
}

#[test]
fn listed_posts_name_their_accounts_either_way() {
    let body = json!({"data": {"posts": [
        {"post_id": "p1", "content": "hi", "account_ids": [1, 2], "created_at": "2026-11-30T10:00:00Z",
         "scheduled_for": "2026-12-01T09:00:00Z", "media_ids": ["m1", "m2"]},
        {"id": "p2", "content": "yo", "destinations": [{"account_id": 3}], "scheduled_at": "2026-12-01T10:00:00+01:00",
         "media": [{"id": "m3"}]},
        {"id": "p3", "scheduled_for": null, "media_ids": null}], "pagination": {"has_more": false}}});
    let (posts, more) = decode_posts(&body).unwrap();
    assert!(!more);
    assert_eq!(posts[0].account_ids, [1, 2]);
    assert_eq!(posts[1].account_ids, [3]);
    assert!(posts[0].created_at.is_some());
    // Times, where the list gives them (or the older `scheduled_at`).
    assert_eq!(posts[0].scheduled_for, posts[1].scheduled_for);
    assert_eq!(posts[0].scheduled_for, crate::time::parse_time("2026-12-01T09:00:00Z"));
    assert_eq!(posts[2].scheduled_for, None);
    // No posts in the window, said as null: a page with none, not an unreadable answer.
    let (posts, more) =
        decode_posts(&json!({"data": {"posts": null, "pagination": {"has_more": false}}})).unwrap();
    assert!(posts.is_empty() && !more);
    assert!(decode_posts(&json!({"data": {"posts": "none"}})).is_err());
}

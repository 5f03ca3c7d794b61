use super::*;

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn ok(pairs: &[(&str, &str)]) -> Config {
    Config::from_vars(vars(pairs)).expect("config should be valid")
}

fn err(pairs: &[(&str, &str)]) -> String {
    Config::from_vars(vars(pairs)).expect_err("config should be rejected").0
}

const KEY: (&str, &str) = ("INPUT_API-KEY", "pe_live_0123456789abcdef0123456789abcdef");

#[test]
fn defaults() {
    let c = ok(&[KEY, ("INPUT_POST-ID", "p1")]);
    assert_eq!(c.post_ids, ["p1"]);
    assert_eq!(c.base_url.as_str(), "https://app.posteverywhere.ai/api/v1");
    assert_eq!(c.timeout, Duration::from_secs(300));
    assert_eq!(c.poll_interval, Duration::from_secs(10));
    assert_eq!(c.fail_on, FailOn::Any);
    assert!(c.summary);
    assert_eq!(c.max_errors, 10);
    assert_eq!((c.retry_failed, c.rate_limit), (0, 50));
    assert_eq!(c.heartbeat, Duration::from_secs(30));
    assert!(c.warnings.is_empty());
    let c = ok(&[KEY, ("INPUT_CONTENT", "hi"), ("INPUT_ACCOUNTS", "x")]);
    let p = c.publish.expect("publishing");
    assert_eq!((p.dedupe, p.dry_run, p.skip_unhealthy), (Duration::from_secs(86_400), false, false));
    assert_eq!(p.schedule_at, None);
}

#[test]
fn all_three_spellings_and_precedence() {
    assert_eq!(ok(&[KEY, ("INPUT_POST_ID", "a")]).post_ids, ["a"]);
    assert_eq!(ok(&[KEY, ("POSTEVERYWHERE_POST_ID", "b")]).post_ids, ["b"]);
    let c = ok(&[KEY, ("POSTEVERYWHERE_POST_ID", "b"), ("INPUT_POST-ID", "a")]);
    assert_eq!(c.post_ids, ["a"]);
    // Empty and whitespace-only values are unset, so the next spelling is used.
    let c = ok(&[KEY, ("INPUT_POST-ID", "  "), ("POSTEVERYWHERE_POST_ID", " b\n")]);
    assert_eq!(c.post_ids, ["b"]);
    let c = ok(&[
        ("POSTEVERYWHERE_API_KEY", "pe_live_0123456789abcdef"),
        ("POSTEVERYWHERE_POST_ID", "b"),
        ("INPUT_TIMEOUT", ""),
    ]);
    assert_eq!(c.timeout, Duration::from_secs(300));
}

#[test]
fn every_error_names_the_input_and_value() {
    let e = err(&[("INPUT_POST-ID", "p")]);
    assert!(e.starts_with("input 'api-key' is required"), "{e}");
    let e = err(&[KEY]);
    assert!(e.starts_with("input 'post-id' or 'content' is required"), "{e}");
    let e = err(&[KEY, ("INPUT_POST-ID", "p"), ("INPUT_TIMEOUT", "5x")]);
    assert!(e.starts_with("input 'timeout' (from INPUT_TIMEOUT) has a bad value \"5x\""), "{e}");
    let e = err(&[KEY, ("INPUT_POST-ID", "p"), ("INPUT_TIMEOUT", "0ms")]);
    assert!(e.contains("'timeout'") && e.contains("more than zero"), "{e}");
    let e = err(&[KEY, ("INPUT_POST-ID", "p"), ("POSTEVERYWHERE_POLL_INTERVAL", "0")]);
    assert!(e.contains("'poll-interval'"), "{e}");
    let e = err(&[KEY, ("INPUT_POST-ID", "p"), ("INPUT_SUMMARY", "yes")]);
    assert!(e.starts_with("input 'summary' (from INPUT_SUMMARY) has a bad value \"yes\""), "{e}");
    let e = err(&[KEY, ("INPUT_POST-ID", "p"), ("INPUT_FAIL_ON", "some")]);
    assert!(e.starts_with("input 'fail-on' (from INPUT_FAIL_ON) has a bad value \"some\""), "{e}");
    let e = err(&[KEY, ("INPUT_POST-ID", "p"), ("INPUT_MAX-ERRORS", "0")]);
    assert!(e.contains("'max-errors'"), "{e}");
    let e = err(&[KEY, ("INPUT_POST-ID", "p"), ("INPUT_SIMULATE", "nope")]);
    assert!(e.contains("'simulate'") && e.contains("published"), "{e}");
}

#[test]
fn base_url_must_keep_the_key_safe() {
    let base = |u: &str| Config::from_vars(vars(&[KEY, ("INPUT_POST-ID", "p"), ("INPUT_BASE-URL", u)]));
    for good in
        ["https://api.example.com/v1", "http://127.0.0.1:8080/api", "http://[::1]:9/", "http://localhost:1/x"]
    {
        assert!(base(good).is_ok(), "{good}");
    }
    for bad in [
        "http://api.example.com/v1",
        "http://10.0.0.1/",
        "ftp://x/",
        "not a url",
        "https://u:p@x/",
        "https://x/?k=v",
    ] {
        let e = base(bad).expect_err(bad).0;
        assert!(e.starts_with("input 'base-url'"), "{e}");
    }
}

#[test]
fn the_key_never_appears_in_errors_or_debug() {
    let key = "pe_live_abc\ndef";
    let e = err(&[("INPUT_API-KEY", key), ("INPUT_POST-ID", "p")]);
    assert!(!e.contains("abc"), "{e}");
    // Not ASCII, with a character across the 7th byte (where 'Bearer ' is looked for).
    for key in ["pe_liv€_0123456789abcdef0123456789abcdef", "日本語のキーです"] {
        let e = err(&[("INPUT_API-KEY", key), ("INPUT_POST-ID", "p")]);
        assert!(e.contains("'api-key'") && e.contains("not ASCII"), "{e}");
        assert!(!e.contains(&key[9..]), "{e}");
    }
    let c = ok(&[KEY, ("INPUT_POST-ID", "p")]);
    assert!(!format!("{c:?}").contains(KEY.1));
}

/// The key in any other input would be printed, written to reports or posted: refused,
/// naming the input, and the value shown masked.
#[test]
fn the_key_in_another_input_is_refused() {
    let key = KEY.1;
    for (input, value) in [
        ("INPUT_POST-ID", key.to_owned()),
        ("INPUT_POST-ID", format!("p1, {key}")),
        ("INPUT_CONTENT", format!("Launch! {key}")),
        ("INPUT_ACCOUNTS", format!("x:{}", key.replacen('_', "%5F", 1))),
        // Base64 of "token:" and the key, as a Basic credential pasted into the post.
        (
            "INPUT_CONTENT",
            "token dG9rZW46cGVfbGl2ZV8wMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZg==".to_owned(),
        ),
    ] {
        let mut pairs = vec![KEY, (input, value.as_str())];
        if input != "INPUT_POST-ID" {
            pairs.extend(
                [("INPUT_CONTENT", "hi"), ("INPUT_ACCOUNTS", "x")].into_iter().filter(|(k, _)| *k != input),
            );
        }
        let e = err(&pairs);
        let name = input.trim_start_matches("INPUT_").to_lowercase();
        assert!(e.starts_with(&format!("input '{name}' (from {input}) has a bad value \"")), "{e}");
        assert!(e.contains("it holds the API key; give the key only as api-key"), "{e}");
        assert!(!e.contains(&key[8..]), "{e}");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("post.txt");
    std::fs::write(&file, format!("Launch!\n{key}\n")).unwrap();
    let file = file.to_str().unwrap();
    let e = err(&[KEY, ("INPUT_CONTENT-FILE", file), ("INPUT_ACCOUNTS", "x")]);
    assert!(e.contains("the file holds the API key; give the key only as api-key"), "{e}");
}

/// With api-key unset nothing knows the key to scrub it: a value that looks like one is
/// refused by its input's name, never echoed (a bad accounts or post-id value would be).
#[test]
fn a_key_in_another_input_with_no_api_key_is_refused_unechoed() {
    let key = KEY.1;
    for (input, value) in [
        ("INPUT_ACCOUNTS", key.to_owned()),
        ("INPUT_POST-ID", format!("{key}/x")),
        ("INPUT_TIMEOUT", key.to_owned()),
    ] {
        let mut pairs = vec![("INPUT_SIMULATE", "published"), (input, value.as_str())];
        if input == "INPUT_ACCOUNTS" {
            pairs.push(("INPUT_CONTENT", "hi"));
        }
        let e = err(&pairs);
        assert!(e.contains("holds what looks like an API key (pe_live_…) while api-key is not set"), "{e}");
        assert!(!e.contains(&key[8..]), "{e}");
    }
    // Text about keys is no key: a post may well say "pe_live_…".
    ok(&[
        ("INPUT_SIMULATE", "published"),
        ("INPUT_CONTENT", "keys look like pe_live_…"),
        ("INPUT_ACCOUNTS", "x"),
    ]);
}

#[test]
fn warnings_for_fast_polling_and_odd_keys() {
    let c = ok(&[
        ("INPUT_API-KEY", "sk_other_0123456789"),
        ("INPUT_POST-ID", "p"),
        ("INPUT_POLL-INTERVAL", "2s"),
    ]);
    assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
    let c = ok(&[
        KEY,
        ("INPUT_POST-ID", "p"),
        ("INPUT_POLL-INTERVAL", "2s"),
        ("INPUT_BASE-URL", "http://127.0.0.1:1/api/v1"),
    ]);
    assert!(c.warnings.is_empty());
}

#[test]
fn simulate_needs_no_key() {
    let c = ok(&[("INPUT_SIMULATE", "partial")]);
    assert!(c.api_key.is_none());
    assert_eq!(c.simulate.as_deref(), Some("partial"));
    assert_eq!(c.poll_interval, Duration::from_millis(500));
    assert_eq!((c.timeout, c.rate_limit, c.retry_failed), (Duration::from_secs(10), 6000, 0));
    assert_eq!(ok(&[("INPUT_SIMULATE", "retry")]).retry_failed, 1);
}

#[test]
fn at_most_1000_posts() {
    let ids: Vec<String> = (0..1001).map(|i| format!("p{i}")).collect();
    assert_eq!(ok(&[KEY, ("INPUT_POST-ID", &ids[..1000].join(","))]).post_ids.len(), 1000);
    let e = err(&[KEY, ("INPUT_POST-ID", &ids.join(","))]);
    assert!(e.starts_with("input 'post-id'") && e.contains("at most 1000"), "{e}");
}

#[test]
fn results_file_folder_must_exist() {
    let e = err(&[KEY, ("INPUT_POST-ID", "p"), ("INPUT_RESULTS-FILE", "/nonexistent-dir/r.json")]);
    assert!(e.starts_with("input 'results-file'"), "{e}");
}

#[test]
fn post_id_lists_are_split_deduplicated_and_ordered() {
    let c = ok(&[KEY, ("INPUT_POST-ID", "b, a\n c,,b\ta\n")]);
    assert_eq!(c.post_ids, ["b", "a", "c"]);
    assert_eq!(c.retry_failed, 0);
    assert_eq!(c.rate_limit, 50);
    let e = err(&[KEY, ("INPUT_POST-ID", "a, ..")]);
    assert!(e.starts_with("input 'post-id' (from INPUT_POST-ID) has a bad value \"..\""), "{e}");
}

#[test]
fn retry_and_rate_limit_bounds() {
    let c = ok(&[KEY, ("INPUT_POST-ID", "p"), ("INPUT_RETRY-FAILED", "2"), ("INPUT_RATE-LIMIT", "30")]);
    assert_eq!((c.retry_failed, c.rate_limit), (2, 30));
    assert!(err(&[KEY, ("INPUT_POST-ID", "p"), ("INPUT_RETRY-FAILED", "11")]).contains("'retry-failed'"));
    assert!(err(&[KEY, ("INPUT_POST-ID", "p"), ("INPUT_RATE-LIMIT", "0")]).contains("'rate-limit'"));
}

/// Values are moved out of the variables as they are, or trimmed where they need it.
#[test]
fn values_are_trimmed_whether_moved_or_copied() {
    let c =
        ok(&[KEY, ("INPUT_POST-ID", " a "), ("INPUT_TIMEOUT", "90s"), ("INPUT_RESULTS-FILE", "\tr.json\n")]);
    assert_eq!(c.post_ids, ["a"]);
    assert_eq!(c.timeout, Duration::from_secs(90));
    assert_eq!(c.results_file.as_deref(), Some(std::path::Path::new("r.json")));
    assert_eq!(trimmed("plain".into()), "plain");
    assert_eq!(trimmed("  two words \n".into()), "two words");
    assert_eq!(trimmed(" \t".into()), "");
}

/// A misspelled variable is warned about on a run that starts; on one its input was
/// missed by, the error itself names it (a warning would never be printed).
#[test]
fn a_refused_input_names_a_misspelled_variable() {
    let e = err(&[KEY, ("POSTEVERYWHERE_POSTID", "p1")]);
    assert!(e.starts_with("input 'post-id' or 'content' is required"), "{e}");
    assert!(
        e.ends_with(
            "; POSTEVERYWHERE_POSTID is not an input, so it is ignored; did you mean POSTEVERYWHERE_POST_ID?"
        ),
        "{e}"
    );
    assert!(!e.contains('\n'), "{e}");
    let c = ok(&[KEY, ("INPUT_POST-ID", "p1"), ("POSTEVERYWHERE_TIMOUT", "5m")]);
    assert!(
        c.warnings.iter().any(|w| w.contains("did you mean POSTEVERYWHERE_TIMEOUT?")),
        "{:?}",
        c.warnings
    );
}

//! The input checks' unit tests: spellings not read or set twice, post ids, typos.

use super::*;

#[test]
fn a_misspelled_input_variable_is_named_with_the_likely_one() {
    let vars: Vec<(String, String)> = [
        "POSTEVERYWHERE_TIMOUT",
        "INPUT_POLL-INTERVALL",
        "INPUT_FAIL_ONN",
        "POSTEVERYWHERE_POST_IDS",
        "POSTEVERYWHERE_RESULTS_PATH",
        "POSTEVERYWHERE_WAIT_DOWNLOAD_URL",
        "POSTEVERYWHERE_TIMEOUT",
        "POSTEVERYWHERE_SOMETHING_ELSE",
        "POSTEVERYWHERE_DOTENV",
        "POSTEVERYWHERE_JUNIT",
        "POSTEVERYWHERE_",
        "",
    ]
    .iter()
    .map(|k| ((*k).to_owned(), "x".to_owned()))
    .collect();
    assert_eq!(
        misspelled(&vars),
        [
            "POSTEVERYWHERE_TIMOUT is not an input, so it is ignored; did you mean POSTEVERYWHERE_TIMEOUT?",
            "INPUT_POLL-INTERVALL is not an input, so it is ignored; did you mean INPUT_POLL-INTERVAL?",
            "INPUT_FAIL_ONN is not an input, so it is ignored; did you mean INPUT_FAIL_ON?",
            "POSTEVERYWHERE_DOTENV is not an input, so it is ignored; did you mean POSTEVERYWHERE_DOTENV_FILE?",
            "POSTEVERYWHERE_JUNIT is not an input, so it is ignored; did you mean POSTEVERYWHERE_JUNIT_FILE?",
        ]
    );
}

#[test]
fn an_input_in_a_spelling_that_is_not_read_is_refused() {
    let one = |k: &str| unread_spelling(&[(k.to_owned(), "true".to_owned())]);
    for read in ["INPUT_DRY-RUN", "INPUT_DRY_RUN", "POSTEVERYWHERE_DRY_RUN", "POSTEVERYWHERE_TIMOUT", "HOME"]
    {
        assert_eq!(one(read), None, "{read}");
    }
    assert_eq!(
        one("POSTEVERYWHERE_DRY-RUN").unwrap(),
        "input 'dry-run' is set as POSTEVERYWHERE_DRY-RUN, a spelling that is not read: name the variable \
         POSTEVERYWHERE_DRY_RUN (upper case)"
    );
    assert!(
        one("POSTEVERYWHERE_dry_run")
            .unwrap()
            .ends_with("name the variable POSTEVERYWHERE_DRY_RUN (upper case)")
    );
    assert!(
        one("INPUT_fail-on")
            .unwrap()
            .ends_with("name the variable INPUT_FAIL-ON or INPUT_FAIL_ON (upper case)")
    );
    assert!(one("INPUT_timeout").unwrap().ends_with("name the variable INPUT_TIMEOUT (upper case)"));
}

#[test]
fn an_input_set_twice_to_different_values_is_refused() {
    let vars = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    };
    let twice = vars(&[("INPUT_DRY-RUN", "false"), ("HOME", "/"), ("INPUT_DRY_RUN", " true ")]);
    assert_eq!(
        set_twice(&twice).unwrap(),
        "input 'dry-run' is set twice to different values, as INPUT_DRY-RUN and INPUT_DRY_RUN: set it once"
    );
    for fine in [
        vars(&[("INPUT_DRY-RUN", "true"), ("INPUT_DRY_RUN", "true ")]),
        vars(&[("INPUT_DRY-RUN", ""), ("INPUT_DRY_RUN", "true")]),
        vars(&[("INPUT_DRY-RUN", "true"), ("INPUT_DRY_RUN", "")]),
        vars(&[("INPUT_DRY-RUN", "true"), ("POSTEVERYWHERE_DRY_RUN", "false")]),
        vars(&[("INPUT_NOT-AN-INPUT", "1"), ("INPUT_NOT_AN_INPUT", "2")]),
    ] {
        assert_eq!(set_twice(&fine), None, "{fine:?}");
    }
}

#[test]
fn post_ids_that_cannot_be_ids_get_a_hint() {
    assert_eq!(parse_post_ids("a, b\nc a").unwrap(), ["a", "b", "c"]);
    assert_eq!(parse_post_ids("3f0c2a1e-58cc-4372-a567-0e02b2c3d479 post_abc123 42").unwrap().len(), 3);
    let (_, why) = parse_post_ids("{\"id\": 123}").unwrap_err();
    assert!(why.contains("looks like JSON"), "{why}");
    let (bad, why) = parse_post_ids("ok a/b").unwrap_err();
    assert_eq!(bad, "a/b");
    assert!(why.contains("'/'"), "{why}");
    assert!(parse_post_ids("..").is_err());
}

#[test]
fn key_mistakes_get_the_hint_that_fits() {
    check_api_key("pe_live_0123456789abcdef0123456789abcdef").unwrap();
    for short in ["x", "pe_live_", "pe_live_0123456"] {
        let e = check_api_key(short).unwrap_err();
        assert!(e.starts_with(&format!("is {} characters long", short.len())), "{e}");
    }
    check_api_key("some_other_format").unwrap();
    assert!(check_api_key("Bearer pe_live_abc").unwrap_err().contains("'Bearer '"));
    assert!(check_api_key("bearer pe_live_abc").unwrap_err().contains("'Bearer '"));
    assert!(check_api_key("pe_live_abc\n").unwrap_err().contains("whitespace"));
    for (key, what) in
        [("ghp_abc123", "GitHub"), ("glpat-x", "GitLab"), ("sk_live_x", "Stripe"), ("AKIAABC", "AWS")]
    {
        let e = check_api_key(key).unwrap_err();
        assert!(e.contains(what) && !e.contains(key), "{e}");
    }
}

#[test]
fn a_base_url_without_its_api_path_is_named() {
    let hint = |u: &str| base_url_hint(&Url::parse(u).unwrap());
    assert!(hint("https://app.posteverywhere.ai").unwrap().contains("/api/v1"));
    assert!(hint("https://app.posteverywhere.ai/api").is_some());
    assert_eq!(hint("https://app.posteverywhere.ai/api/v1/"), None);
    assert_eq!(hint("http://127.0.0.1:9/api/v1"), None);
}

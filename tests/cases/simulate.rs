//! The built-in simulator: every scenario through the `simulate` input, and `--demo`.

use crate::util::Cmd;

#[test]
fn each_scenario_earns_its_outcome() {
    for (scenario, status, code) in [
        ("published", "published", 0),
        ("partial", "partial", 1),
        ("failed", "failed", 1),
        ("timeout", "timeout", 3),
        ("slow", "timeout", 3),
    ] {
        let run = Cmd::github("https://unused.invalid")
            .without("INPUT_API-KEY")
            .without("INPUT_BASE-URL")
            .input("simulate", scenario)
            .input("timeout", "1s")
            .run();
        run.expect_code(code);
        assert_eq!(run.output("status"), status, "{scenario}");
        assert!(run.summary.contains("Simulated results"));
    }
}

#[test]
fn simulate_ignores_base_url_and_key() {
    // The simulator answers 401 to any request that carries a key: exit 0 shows none did.
    let run = Cmd::plain()
        .env("POSTEVERYWHERE_API_KEY", crate::util::KEY)
        .env("POSTEVERYWHERE_SIMULATE", "published")
        .env("POSTEVERYWHERE_BASE_URL", "http://example.com/not-allowed")
        .env("POSTEVERYWHERE_TIMEOUT", "5s")
        .run();
    run.expect_code(0);
}

#[test]
fn demo_writes_files_and_shows_them() {
    let tmp = tempfile::tempdir().unwrap();
    let run = Cmd::plain().env("TMPDIR", tmp.path().to_str().unwrap()).run_args(&["--demo", "--keep"]);
    run.expect_code(1);
    assert!(run.stdout.contains("── The step outputs"), "{}", run.stdout);
    assert!(run.stdout.contains("status: partial"));
    assert!(run.stdout.contains("retried-count: 1"), "the demo shows a retry recovering a destination");
    assert!(run.stdout.contains("## ⚠️ PostEverywhere: 2 of 3 destinations published, 1 failed"));
    let dir = run.stdout.lines().find_map(|l| l.strip_prefix("── The files are kept in ")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(std::path::Path::new(dir).join("results.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(doc["status"], "partial");
}

//! Never the key in any output, whatever the API does: a property test over random server
//! behaviour. The API echoes the key, spelled with any mix of per-character escapes, into
//! any field of a results answer, an error body, a non-JSON body or a header, in any order
//! of answers; the real binary runs in GitHub or GitLab mode with every report file, and
//! the harness (`util::Cmd::collect`) checks every byte it wrote against the key's fixed
//! forms and, undoing every escape (`util::spelled`), against the key itself.

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::server::{Reply, Server};
use crate::util::{Cmd, KEY};

/// The key as the API may write it into a JSON string's raw text: each character as is, in
/// either case of `%XX`, as a JSON escape (which decodes to the character), as a JSON
/// string holding `\u00XX` or `\xXX` as text, or as an HTML character reference.
fn spell(hows: &[u8]) -> String {
    KEY.bytes()
        .zip(hows.iter().cycle())
        .map(|(b, how)| match how % 8 {
            0 => char::from(b).to_string(),
            1 => format!("%{b:02X}"),
            2 => format!("%{b:02x}"),
            3 => format!("\\u{b:04x}"),
            4 => format!("\\\\u{b:04X}"),
            5 => format!("\\\\x{b:02x}"),
            6 => format!("&#{b};"),
            _ => format!("&#x{b:X};"),
        })
        .collect()
}

/// Where in a destination the key goes: one bit a field.
const FIELDS: [&str; 8] =
    ["platform", "status", "error", "platform_post_url", "account_name", "account_id", "id", "note"];

#[derive(Debug, Clone)]
enum Answer {
    /// A results answer: (platform, status word, fields that echo the key) per destination,
    /// and whether `post_status` and an unknown field echo it.
    Results(Vec<(usize, usize, u8)>, bool, bool),
    /// An error answer with the key in its message (and in a header).
    Error(u16),
    /// A body that is not JSON, quoting the key.
    NotJson(u16),
}

fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        3 => (prop::collection::vec((0usize..3, 0usize..5, any::<u8>()), 1..4), any::<bool>(), any::<bool>())
            .prop_map(|(d, s, u)| Answer::Results(d, s, u)),
        1 => prop::sample::select(vec![400u16, 401, 404, 422, 429, 500, 503]).prop_map(Answer::Error),
        1 => prop::sample::select(vec![200u16, 502]).prop_map(Answer::NotJson),
    ]
}

/// The raw body and headers of one answer; `SPOT` marks each place the key goes.
fn reply(a: &Answer, key: &str) -> Reply {
    const SPOT: &str = "@@SPOT@@";
    let raw = |code: u16, body: Value, headers: Vec<(&'static str, String)>| {
        Reply::Raw(code, headers, body.to_string().replace(SPOT, key).into_bytes())
    };
    match a {
        Answer::Results(dests, post_status, unknown) => {
            let dests: Vec<Value> = dests
                .iter()
                .enumerate()
                .map(|(n, &(platform, status, mask))| {
                    let platform = ["x", "linkedin", "Instagram"][platform];
                    let word = ["published", "failed", "publishing", "queued", "rejected"][status];
                    let mut d = json!({
                        "account_id": 100 + n, "platform": platform, "status": word,
                        "error": (status % 2 == 1).then_some("Platform returned 503"), "attempts": 1,
                    });
                    for (bit, field) in FIELDS.iter().enumerate() {
                        if mask & (1 << bit) != 0 {
                            let text = match *field {
                                "platform_post_url" => format!("https://x.example/p/{SPOT}"),
                                _ => format!("a {SPOT} b"),
                            };
                            d[*field] = json!(text);
                        }
                    }
                    if mask & 0x80 != 0 {
                        d["error"] = json!({"code": SPOT, "message": format!("token {SPOT} expired")});
                    }
                    d
                })
                .collect();
            let mut data = json!({"post_id": "post_1", "results": dests});
            if *post_status {
                data["post_status"] = json!(SPOT);
            }
            if *unknown {
                data["echo"] = json!(SPOT);
            }
            raw(200, json!({"data": data, "meta": {"request_id": SPOT}}), vec![])
        }
        Answer::Error(code) => raw(
            *code,
            json!({"error": {"code": format!("code_{SPOT}"), "message": format!("key {SPOT} refused"),
                             "retryAfter": 0.01, "request_id": SPOT}}),
            vec![("X-Request-Id", key.replace('\\', "")), ("Retry-After", "0".into())],
        ),
        Answer::NotJson(code) => {
            Reply::Raw(*code, vec![], format!("<html>bad key {key}</html>").into_bytes())
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_key_never_leaves_whatever_the_api_echoes(
        answers in prop::collection::vec(answer(), 1..4),
        hows in prop::collection::vec(0u8..8, 1..12),
        gitlab in any::<bool>(),
    ) {
        let key = spell(&hows);
        let server = Server::new().results(answers.iter().map(|a| reply(a, &key)).collect());
        let cmd = if gitlab {
            crate::cases::reports::gitlab(&server)
        } else {
            Cmd::github(&server.base_url()).results_file()
        };
        // The harness asserts; the run may end any way but a crash.
        let run = cmd.input("poll-interval", "10ms").input("timeout", "300ms").env("POSTEVERYWHERE_TIMEOUT", "300ms").run();
        prop_assert!([0, 1, 3, 4].contains(&run.code), "exit {}: {}", run.code, run.stderr);
    }
}

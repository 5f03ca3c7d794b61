//! GitLab's reading of our reports (gitlabhq `parse_dotenv_artifact_service.rb`,
//! `ci/variables/collection.rb`, `ci/parsers/test/junit.rb`, `test_suite.rb`,
//! `parse_annotations_artifact_service.rb`) and the runner's variable expansion
//! (Go `os.Expand` with GitLab's mapping), written down as small checkers.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;

/// The gzip size GitLab measures an upload by.
pub fn gzip_len(text: &str) -> usize {
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(text.as_bytes()).unwrap();
    z.finish().unwrap().len()
}

/// A dotenv report as GitLab stores it: every line must match `^(.*?)=(.*)$`, key and value
/// stripped; keys `[A-Za-z0-9_]{1,255}`; at most 20 variables; at most 5120 bytes
/// compressed; a later duplicate wins.
pub fn dotenv(text: &str) -> Result<BTreeMap<String, String>, String> {
    if gzip_len(text) > 5120 {
        return Err("over 5120 bytes compressed".into());
    }
    let mut vars = BTreeMap::new();
    for line in text.split_inclusive('\n') {
        let body = line.strip_suffix('\n').unwrap_or(line);
        let (k, v) = body.split_once('=').ok_or_else(|| format!("Invalid Format: {line:?}"))?;
        let strip = |s: &str| s.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\0').to_owned();
        let key = strip(k);
        if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!("bad key {key:?}"));
        }
        vars.insert(key, strip(v));
    }
    if vars.len() > 20 {
        return Err(format!("{} variables; 20 at most", vars.len()));
    }
    Ok(vars)
}

fn name_at(s: &[u8], i: usize) -> usize {
    let mut j = i;
    if j < s.len() && (s[j].is_ascii_alphabetic() || s[j] == b'_') {
        j += 1;
        while j < s.len() && (s[j].is_ascii_alphanumeric() || s[j] == b'_') {
            j += 1;
        }
    }
    j - i
}

/// Rails' expansion of a stored, expandable value (`Collection#expand_value`, undefined
/// names kept): `$$` and `%%` are left as they are; `$X`, `${X}`, `%X%` of known variables
/// are replaced.
pub fn expand_rails(value: &str, known: &HashMap<&str, &str>) -> String {
    let s = value.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        if rest.starts_with(b"$$") || rest.starts_with(b"%%") {
            out.extend_from_slice(&rest[..2]);
            i += 2;
            continue;
        }
        let (len, name) = match rest[0] {
            b'$' if rest.get(1) == Some(&b'{') => {
                let n = name_at(s, i + 2);
                if s.get(i + 2 + n) == Some(&b'}') { (3 + n, &s[i + 2..i + 2 + n]) } else { (0, &s[..0]) }
            }
            b'$' | b'%' => {
                let n = name_at(s, i + 1);
                let closed = rest[0] == b'$' || s.get(i + 1 + n) == Some(&b'%');
                if n > 0 && closed {
                    (1 + n + usize::from(rest[0] == b'%'), &s[i + 1..i + 1 + n])
                } else {
                    (0, &s[..0])
                }
            }
            _ => (0, &s[..0]),
        };
        if len == 0 {
            out.push(s[i]);
            i += 1;
            continue;
        }
        match known.get(std::str::from_utf8(name).unwrap()) {
            Some(v) => out.extend_from_slice(v.as_bytes()),
            None => out.extend_from_slice(&s[i..i + len]),
        }
        i += len;
    }
    String::from_utf8(out).unwrap()
}

/// The runner's expansion (Go `os.Expand`): `$X`, `${X}` and the shell's special names
/// become the variable's value or nothing; `$$` becomes `$`; a bare `$` stays.
pub fn expand_runner(value: &str, env: &HashMap<&str, &str>) -> String {
    let special = |c: u8| b"*#$@!?-".contains(&c) || c.is_ascii_digit();
    let alnum = |c: u8| c == b'_' || c.is_ascii_alphanumeric();
    let s = value.as_bytes();
    let mut out = Vec::new();
    let mut j = 0;
    while j < s.len() {
        if s[j] != b'$' || j + 1 >= s.len() {
            out.push(s[j]);
            j += 1;
            continue;
        }
        let r = &s[j + 1..];
        let (name, w): (&[u8], usize) = if r[0] == b'{' {
            if r.len() > 2 && special(r[1]) && r[2] == b'}' {
                (&r[1..2], 3)
            } else {
                match r.iter().position(|c| *c == b'}') {
                    Some(1) => (&r[..0], 2),
                    Some(k) => (&r[1..k], k + 1),
                    None => (&r[..0], 1),
                }
            }
        } else if special(r[0]) {
            (&r[..1], 1)
        } else {
            let k = r.iter().take_while(|c| alnum(**c)).count();
            (&r[..k], k)
        };
        if name.is_empty() && w == 0 {
            out.push(b'$');
        } else if !name.is_empty() {
            let name = std::str::from_utf8(name).unwrap();
            let v = if name == "$" { "$" } else { env.get(name).copied().unwrap_or("") };
            out.extend_from_slice(v.as_bytes());
        }
        j += 1 + w;
    }
    String::from_utf8(out).unwrap()
}

/// What a later job's environment holds for a dotenv value.
pub fn downstream(value: &str, known: &HashMap<&str, &str>) -> String {
    expand_runner(&expand_rails(value, known), known)
}

/// The counts GitLab shows for a JUnit file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Junit {
    pub tests: usize,
    pub failed: usize,
    pub errored: usize,
    pub skipped: usize,
}

/// A JUnit report as GitLab reads it: strict XML (libxml2 refuses anything roxmltree
/// refuses), at most 30 MB, one case per suite, class and name (a later one replaces an
/// earlier), status failure then error then skipped by child element, whose text is the
/// reason GitLab shows.
pub fn junit(xml: &str) -> Result<Junit, String> {
    if xml.len() > 30_000_000 {
        return Err(format!("{} bytes; GitLab takes 30 MB per file", xml.len()));
    }
    let doc = roxmltree::Document::parse(xml).map_err(|e| format!("not XML GitLab can read: {e}"))?;
    let mut cases: HashMap<(String, String, String), &'static str> = HashMap::new();
    for suite in doc.descendants().filter(|n| n.has_tag_name("testsuite")) {
        let suite_name = suite.attribute("name").unwrap_or("").to_owned();
        for case in suite.children().filter(|n| n.has_tag_name("testcase")) {
            let key = (
                suite_name.clone(),
                case.attribute("classname").unwrap_or("").to_owned(),
                case.attribute("name").unwrap_or("").to_owned(),
            );
            let status = ["failure", "error", "skipped"]
                .into_iter()
                .find(|s| case.children().any(|c| c.has_tag_name(*s)));
            if let Some(s) = status {
                let el = case.children().find(|c| c.has_tag_name(s)).unwrap();
                if el.text().is_none_or(|t| t.trim().is_empty()) {
                    return Err(format!("a {s} case without its reason as text: {:?}", key.2));
                }
            }
            cases.insert(key, status.unwrap_or("success"));
        }
    }
    let count = |s: &str| cases.values().filter(|v| **v == s).count();
    Ok(Junit {
        tests: cases.len(),
        failed: count("failure"),
        errored: count("error"),
        skipped: count("skipped"),
    })
}

/// An annotations report as GitLab validates it: a JSON object of at most 20 lists, names
/// up to 255 characters, at most 1000 items each, each only an `external_link` with string
/// `label` and `url`; at most 80 KiB compressed. Returns the links.
pub fn annotations(text: &str) -> Result<Vec<(String, String)>, String> {
    if gzip_len(text) > 81_920 {
        return Err(format!("{} bytes compressed; GitLab takes 81920", gzip_len(text)));
    }
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let obj = v.as_object().ok_or("not a JSON object")?;
    if obj.len() > 20 || obj.keys().any(|k| k.chars().count() > 255) {
        return Err("too many lists, or a name too long".into());
    }
    let mut links = Vec::new();
    for list in obj.values() {
        let items = list.as_array().ok_or("a section that is not a list")?;
        if items.len() > 1000 {
            return Err(format!("{} items in a list; 1000 at most", items.len()));
        }
        for item in items {
            let o = item.as_object().filter(|o| o.len() == 1).ok_or("an item that is not one annotation")?;
            let link = o.get("external_link").and_then(|l| l.as_object()).ok_or("not an external_link")?;
            if link.len() != 2 {
                return Err("an external_link with other fields than label and url".into());
            }
            match (link.get("label").and_then(|l| l.as_str()), link.get("url").and_then(|u| u.as_str())) {
                (Some(l), Some(u)) => links.push((l.to_owned(), u.to_owned())),
                _ => return Err("label and url must be strings".into()),
            }
        }
    }
    Ok(links)
}

#[test]
fn the_checkers_reject_what_gitlab_rejects() {
    assert!(dotenv("A=1\n\nB=2\n").is_err(), "blank line");
    assert!(dotenv("# c\n").is_err(), "comment");
    assert!(dotenv("A-B=1\n").is_err(), "bad key");
    assert!(dotenv(&(0..21).map(|i| format!("K{i}=v\n")).collect::<String>()).is_err(), "21 variables");
    assert_eq!(dotenv(" A = x=y \n").unwrap()["A"], "x=y");
    let big: String = (0..20).map(|i| format!("K{i}={}\n", noise(i, 600))).collect();
    assert!(dotenv(&big).is_err(), "over 5120 bytes compressed");

    let known = HashMap::from([("CI_JOB_TOKEN", "tok"), ("HOME", "/root"), ("top", "T")]);
    assert_eq!(downstream("token ${CI_JOB_TOKEN} $HOME $$", &known), "token tok /root $");
    assert_eq!(downstream("a?$top=1 $1 $NOPE", &known), "a?T=1  ");
    assert_eq!(downstream("%HOME% %% %NOPE%", &known), "/root %% %NOPE%");
    assert_eq!(
        downstream("$${CI_JOB_TOKEN} $$HOME $$$$ %%HOME%%", &known),
        "${CI_JOB_TOKEN} $HOME $$ %%HOME%%"
    );

    let case =
        |name: &str, body: &str| format!("<testcase classname=\"c\" name=\"{name}\">{body}</testcase>");
    let doc = |cases: &str| format!("<testsuites><testsuite name=\"s\">{cases}</testsuite></testsuites>");
    assert!(junit(&doc(&case("a", "<skipped message=\"why\"/>"))).is_err(), "a reason only in the attribute");
    let dup = junit(&doc(&(case("a", "<failure>x</failure>") + &case("a", "<failure>y</failure>")))).unwrap();
    assert_eq!(dup.tests, 1, "two cases of one name collapse");
    assert!(junit("<testsuites><testsuite></testsuites>").is_err(), "not XML");
    assert!(junit(&doc(&case("a\u{1}", ""))).is_err(), "a character XML forbids");

    assert!(annotations(r#"{"a": [{"external_link": {"label": "l", "url": 1}}]}"#).is_err());
    assert!(annotations(r#"{"a": [{"external_link": {"label": "l", "url": "u", "x": 1}}]}"#).is_err());
    let many =
        format!("{{\"a\": [{}]}}", vec![r#"{"external_link": {"label": "l", "url": "u"}}"#; 1001].join(","));
    assert!(annotations(&many).is_err(), "1001 items");
    let noisy: Vec<String> = (0..900)
        .map(|i| {
            format!(r#"{{"external_link": {{"label": "l", "url": "https://x.example/{}"}}}}"#, noise(i, 200))
        })
        .collect();
    assert!(annotations(&format!("{{\"a\": [{}]}}", noisy.join(","))).is_err(), "over 80 KiB compressed");
}

/// Letters that do not compress (an xorshift stream).
#[cfg(test)]
fn noise(seed: u64, len: usize) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b'a' + (x % 26) as u8)
        })
        .collect()
}

use super::*;

const KEY: &str = "pe_live_0123456789abcdef0123456789abcdef";

/// Plain standard base64 with padding (an oracle independent of `base64_core`).
fn b64(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                char::from(STANDARD[((n >> (18 - 6 * i)) & 63) as usize])
            } else {
                '='
            });
        }
    }
    out
}

#[test]
fn debug_never_shows_the_key() {
    let key = ApiKey::new(KEY.into());
    assert_eq!(format!("{key:?}"), "ApiKey(redacted)");
    let r = Redactor::new(Some(&key));
    assert!(!format!("{r:?}").contains("pe_live"));
}

#[test]
fn scrub_replaces_every_occurrence() {
    let key = ApiKey::new("pe_live_secret".into());
    let r = Redactor::new(Some(&key));
    assert_eq!(r.scrub("a pe_live_secret b pe_live_secret"), "a *** b ***");
    assert_eq!(Redactor::new(None).scrub("pe_live_secret"), "pe_live_secret");
    assert_eq!(r.scrub_bytes(b"{\"k\": \"pe_live_secret\"}".to_vec()), b"{\"k\": \"***\"}");
    assert_eq!(r.scrub_bytes(b"\xff plain".to_vec()), b"\xff plain", "untouched without the secret");
}

#[test]
fn base64_at_every_offset_and_in_any_surroundings() {
    let r = Redactor::new(Some(&ApiKey::new(KEY.into())));
    for prefix in ["", "a", "ab", "abc", "Bearer ", "user:"] {
        for suffix in ["", "x", "xy", "xyz"] {
            let echo = b64(format!("{prefix}{KEY}{suffix}").as_bytes());
            let out = r.scrub(&format!("token={echo}&"));
            assert!(out.contains(MASK), "{prefix:?}+key+{suffix:?}: {out}");
            assert!(!out.contains(&echo[echo.len() / 2 - 4..echo.len() / 2 + 4]), "{out}");
        }
    }
    assert_eq!(b64(b"Man"), "TWFu");
    assert_eq!(b64(b"Ma"), "TWE=");
    assert_eq!(b64(b"M"), "TQ==");
}

#[test]
fn escaped_and_percent_encoded_forms() {
    let key = "pe_live_a\"b'c&d<e>f/g h";
    let r = Redactor::new(Some(&ApiKey::new(key.into())));
    let upper: String = key.bytes().map(|b| format!("%{b:02X}")).collect();
    let lower: String = key.bytes().map(|b| format!("%{b:02x}")).collect();
    let uri = "pe_live_a%22b%27c%26d%3Ce%3Ef%2Fg%20h";
    let json = "pe_live_a\\\"b'c&d<e>f/g h";
    let xml = "pe_live_a&quot;b&apos;c&amp;d&lt;e&gt;f/g h";
    for echo in [upper.as_str(), lower.as_str(), uri, &uri.to_lowercase(), json, xml, key] {
        assert_eq!(r.scrub(&format!("<{echo}>")), "<***>", "{echo}");
    }
}

/// The forms as first written (a string per character and per byte): an oracle for
/// `each_form`, which must build exactly the same set.
fn reference_forms(key: &str) -> Vec<String> {
    let escape = |pairs: &[(char, &str)]| -> String {
        key.chars()
            .map(|c| {
                pairs
                    .iter()
                    .find(|(from, _)| *from == c)
                    .map_or_else(|| c.to_string(), |(_, to)| (*to).to_owned())
            })
            .collect()
    };
    let json: String = key
        .chars()
        .map(|c| match c {
            '"' => "\\\"".to_owned(),
            '\\' => "\\\\".to_owned(),
            c if c.is_control() => format!("\\u{:04x}", u32::from(c)),
            c => c.to_string(),
        })
        .collect();
    let mut forms = vec![
        key.to_owned(),
        json,
        escape(&[('"', "\\\"")]),
        escape(&[('\'', "''")]),
        escape(&[('&', "&amp;"), ('<', "&lt;"), ('>', "&gt;"), ('"', "&quot;"), ('\'', "&apos;")]),
    ];
    for upper in [true, false] {
        let hex = |b: u8| if upper { format!("%{b:02X}") } else { format!("%{b:02x}") };
        let reserved = |b: u8| !(b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        forms.push(
            key.bytes().map(|b| if reserved(b) { hex(b) } else { char::from(b).to_string() }).collect(),
        );
        forms.push(key.bytes().map(hex).collect());
    }
    for alphabet in [STANDARD, URL_SAFE] {
        for offset in 0..3 {
            forms.push(base64_core_ref(key.as_bytes(), offset, alphabet));
        }
    }
    forms
}

/// `base64_core` as first written, character by character.
fn base64_core_ref(data: &[u8], offset: usize, alphabet: &[u8; 64]) -> String {
    let mut bytes = vec![0u8; offset];
    bytes.extend_from_slice(data);
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(alphabet[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    let lead = [0, 2, 3][offset];
    let trail = usize::from(bytes.len() % 3 != 0);
    out.get(lead..out.len().saturating_sub(trail)).unwrap_or_default().to_owned()
}

#[test]
fn base64_cores_match_the_reference_for_every_length_and_offset() {
    for len in 0..12 {
        let data: Vec<u8> = (0..len).map(|i| (i * 37 + 250) as u8).collect();
        for alphabet in [STANDARD, URL_SAFE] {
            for offset in 0..3 {
                // Over what a longer form left in the buffer: the core replaces it.
                let mut out = b"left over from another form".to_vec();
                base64_core(&data, offset, alphabet, &mut out);
                let got = String::from_utf8(out).unwrap();
                assert_eq!(got, base64_core_ref(&data, offset, alphabet), "{len} bytes at {offset}");
            }
        }
    }
}

/// Distinct forms long enough to search for, sorted.
fn distinct(forms: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut forms: Vec<String> = forms.into_iter().filter(|f| f.len() >= MIN_FORM).collect();
    forms.sort();
    forms.dedup();
    forms
}

#[test]
fn forms_match_the_reference_and_each_is_searched_once() {
    let keys = [
        KEY,
        "pe_live_a\"b'c&d<e>f/g h",
        "k\\ey\u{1}\u{7f}é€😀 +/?",
        "pe_live_ÿÿÿ>>>???~~~",
        "pe_live_\u{85}x",
        "abcdefghijklmnopqrstuvwxyzabcdefghij<",
    ];
    for key in keys {
        let want = distinct(reference_forms(key));
        let mut every = Vec::new();
        each_form(key, |f| every.push(String::from_utf8(f.to_vec()).unwrap()));
        let got = distinct(every);
        assert_eq!(got, want, "{key:?}");
        let r = Redactor::new(Some(&ApiKey::new(key.into())));
        let got = distinct(r.forms().forms.iter().map(|f| String::from_utf8(f.text.to_vec()).unwrap()));
        assert_eq!(got, want, "each distinct form of {key:?} once");
        assert_eq!(r.forms().forms.len(), want.len());
        // Text exactly as long as the shortest form is searched; shorter text cannot hold one.
        for form in &want {
            assert_eq!(r.scrub(form), MASK, "{form:?} alone");
            assert!(r.finds(form.as_bytes()));
            assert!(!r.finds(&form.as_bytes()[1..]) || want.iter().any(|w| form[1..].contains(w.as_str())));
        }
    }
}

#[test]
fn a_form_is_found_where_only_its_head_repeats_and_where_it_overlaps_itself() {
    // Heads (16 bytes) that occur without the rest, right before the key, and a key
    // that overlaps itself: every occurrence is masked, as a whole.
    let key = "aaaaaaaaaaaaaaaaaaaab";
    let r = Redactor::new(Some(&ApiKey::new(key.into())));
    assert_eq!(r.scrub(&format!("aaaaaaaaaaaaaaaaaaaaaaaaaaa{key}x")), "aaaaaaaaaaaaaaaaaaaaaaaaaaa***x");
    let head = &KEY[..HEAD];
    let r = Redactor::new(Some(&ApiKey::new(KEY.into())));
    assert_eq!(r.scrub(&format!("{head}{head}{KEY}{head}")), format!("{head}{head}***{head}"));
    assert_eq!(r.scrub(&format!("{KEY}{KEY}")), "***");
    assert!(!r.finds(format!("{head}{}", &KEY[HEAD..KEY.len() - 1]).as_bytes()));
}

#[test]
fn forms_are_built_once_when_first_needed_and_shared_by_clones() {
    let r = Redactor::new(Some(&ApiKey::new(KEY.into())));
    let clone = r.clone();
    assert!(r.0.built.get().is_none(), "nothing built before the first use");
    assert_eq!(clone.scrub(&format!("a{KEY}b")), "a***b");
    assert!(std::ptr::eq(r.forms(), clone.forms()));
    assert_eq!(Redactor::new(Some(&ApiKey::new("abc".into()))).scrub("abc"), "abc", "too short to search");
    assert_eq!(Redactor::default().scrub(KEY), KEY);
}

#[test]
fn in_place_scrubbing_copies_only_when_needed() {
    let r = Redactor::new(Some(&ApiKey::new(KEY.into())));
    let mut clean = String::from("nothing here");
    let before = clean.as_ptr();
    r.scrub_in_place(&mut clean);
    assert_eq!(clean.as_ptr(), before);
    let mut dirty = format!("x{KEY}y");
    r.scrub_in_place(&mut dirty);
    assert_eq!(dirty, "x***y");
}

/// The ways one byte of the key may be written in a mixed spelling.
fn spell(b: u8, how: u8) -> String {
    match how % 8 {
        0 => char::from(b).to_string(),
        1 => format!("%{b:02X}"),
        2 => format!("%{b:02x}"),
        3 => format!("\\u{b:04X}"),
        4 => format!("\\x{b:02x}"),
        5 => format!("&#{b};"),
        6 => format!("&#x{b:X};"),
        _ => match b {
            b'&' => "&amp;".into(),
            b'<' => "&lt;".into(),
            b'"' => "\\\"".into(),
            b'/' => "\\/".into(),
            b => format!("&#{b:03};"),
        },
    }
}

#[test]
fn the_key_spelled_with_a_mix_of_escapes_is_scrubbed() {
    let r = Redactor::new(Some(&ApiKey::new(KEY.into())));
    for echo in [
        "pe%5Flive_0123456789abcdef0123456789abcdef",
        "pe\\u005flive\\x5F0123456789abcdef0123456789abcdef",
        "pe&#95;live&#x5f;0123456789abcdef0123456789abcde&#102;",
        "pe&#0000095;live&#x000005F;0123456789abcdef0123456789abcdef",
    ] {
        assert_eq!(r.scrub(&format!("key={echo}&x=1")), "key=***&x=1", "{echo}");
        assert!(r.finds(echo.as_bytes()), "{echo}");
        assert_eq!(r.scrub_bytes(format!("\"{echo}\"").into_bytes()), b"\"***\"");
    }
    // Escapes that spell something else, or the key with one byte wrong, are left alone.
    for text in [
        "100% of 5 & 6 \\ 7 &#95; %5F \\u005f",
        "pe%5Flive_0123456789abcdef0123456789abcdeX",
        "pe%5Glive_0123456789abcdef0123456789abcdef",
        "pe&#95live_0123456789abcdef0123456789abcdef",
    ] {
        assert_eq!(r.scrub(text), text);
        assert!(!r.finds(text.as_bytes()), "{text}");
    }
    // Without a key nothing is spelled: escapes stay as they are.
    assert_eq!(Redactor::new(None).scrub("a%20b \\u0041 &amp; %"), "a%20b \\u0041 &amp; %");
}

proptest::proptest! {
    /// Any key, any byte of it written any way, in any surroundings: never left in.
    #[test]
    fn a_mixed_spelling_never_survives(
        key in "[a-zA-Z0-9_./+&<\"-]{4,48}",
        hows in proptest::collection::vec(0u8..8, 48),
        before in "[a-z%&;#\\\\ 0-9]{0,12}",
        after in "[a-z%&;#\\\\ 0-9]{0,12}",
    ) {
        let r = Redactor::new(Some(&ApiKey::new(key.clone())));
        let echo: String = key.bytes().zip(&hows).map(|(b, how)| spell(b, *how)).collect();
        let out = r.scrub(&format!("{before}{echo}{after}"));
        proptest::prop_assert!(!out.contains(&echo), "{echo} in {out}");
        proptest::prop_assert!(out.contains(MASK));
        proptest::prop_assert!(r.finds(echo.as_bytes()));
    }
}

proptest::proptest! {
    /// `holds_key` skips text shorter than the key without building the forms: no form may
    /// be shorter than the key.
    #[test]
    fn no_form_is_shorter_than_the_key(key in "[ -~]{4,64}") {
        let mut shortest = usize::MAX;
        each_form(&key, |f| if f.len() >= MIN_FORM { shortest = shortest.min(f.len()) });
        proptest::prop_assert!(shortest >= key.len(), "{} < {}", shortest, key.len());
        let r = Redactor::new(Some(&ApiKey::new(key.clone())));
        let around = format!("x {key} y");
        proptest::prop_assert!(r.holds_key(around.as_bytes()));
        proptest::prop_assert!(!r.holds_key(&key.as_bytes()[1..]));
    }
}

#[test]
fn a_panic_prints_one_scrubbed_line_without_any_part_of_the_key() {
    let key = ApiKey::new(KEY.into());
    let r = Redactor::new(Some(&key));
    // The key straddles the 2000-character cut: cut first, then scrubbed, a prefix of it
    // would be printed.
    for pad in [1960, 1980, 1995, 2000] {
        let what = format!("{}{KEY}\n::error::forged\r\n{KEY}", "x".repeat(pad));
        let line = panic_line(&r, " at src/x.rs:1", &what);
        assert!(line.starts_with("posteverywhere-wait: internal error"), "{line}");
        assert_eq!(line.matches('\n').count(), 1, "{line:?}");
        assert!(line.ends_with('\n') && !line.contains('\r'), "{line:?}");
        for part in KEY.as_bytes().windows(12) {
            let part = std::str::from_utf8(part).unwrap();
            assert!(!line.contains(part), "{pad}: a part of the key, {part}, in the line");
        }
    }
    let line = panic_line(&r, " at src/x.rs:1", "no key here");
    assert_eq!(
        line,
        "posteverywhere-wait: internal error (a bug; please report it) at src/x.rs:1: no key here\n"
    );
}

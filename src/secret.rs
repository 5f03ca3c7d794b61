//! The API key: a string that never reaches `Debug`, `Display` or any output.
//!
//! `ApiKey` owns the secret; `Redactor` is the last line of defence that scrubs it from
//! every byte we print or write, in case the API (or a library error) echoes it: as it is,
//! and in every form GitHub's masker knows (base64 at each of the three byte offsets, the
//! JSON-, URI- and XML-escaped forms, `\"` and `''` quoting) plus percent-encoding of every
//! byte in upper or lower case, because outputs and files are never masked by the runner.

use std::fmt;
use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

use memchr::memmem::Finder;

/// A PostEverywhere API key. Its `Debug` prints `ApiKey(redacted)`; there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: String) -> Self {
        Self(key)
    }

    /// The raw key, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(redacted)")
    }
}

/// What replaces the key.
pub const MASK: &str = "***";

/// Replaces every form of the secret with `***` in text about to leave the process.
/// The forms and their searchers are built when first needed (after the first request
/// has gone out, unless something is printed before), once: clones share them.
#[derive(Clone, Default)]
pub struct Redactor(Arc<Lazy>);

#[derive(Default)]
struct Lazy {
    key: Option<String>,
    built: OnceLock<Forms>,
}

#[derive(Default)]
struct Forms {
    forms: Box<[Form]>,
    /// The length of the shortest form: shorter text cannot hold any (most decoded fields
    /// and many lines are shorter than a 40-character key), so it is not searched.
    shortest: usize,
}

/// One distinct form of the key, and a searcher for its first `HEAD` bytes: building a
/// searcher costs in proportion to its needle (the percent-encoded forms are 120 bytes),
/// so the head is searched for and the whole form compared where the head is found.
struct Form {
    text: Box<[u8]>,
    head: Finder<'static>,
}

/// Bytes of a form its searcher looks for.
const HEAD: usize = 16;

/// Forms shorter than this would redact ordinary words (the real key has 40 characters).
const MIN_FORM: usize = 4;

impl Form {
    /// Every start of the form in `bytes`, overlapping ones included, in order.
    fn starts<'a>(&'a self, bytes: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
        let mut from = 0;
        std::iter::from_fn(move || {
            while let Some(i) = self.head.find(bytes.get(from..)?) {
                let at = from + i;
                from = at + 1;
                if bytes[at..].starts_with(&self.text) {
                    return Some(at);
                }
            }
            None
        })
    }
}

impl Redactor {
    pub fn new(key: Option<&ApiKey>) -> Self {
        let key = key.map(ApiKey::expose).filter(|k| k.len() >= MIN_FORM).map(str::to_owned);
        Self(Arc::new(Lazy { key, built: OnceLock::new() }))
    }

    fn forms(&self) -> &Forms {
        self.0.built.get_or_init(|| self.0.key.as_deref().map(Forms::of).unwrap_or_default())
    }
}

impl Forms {
    /// The distinct forms of `key` long enough to search for, each with its searcher.
    fn of(key: &str) -> Forms {
        let mut forms = encoded_forms(key);
        forms.retain(|f| f.len() >= MIN_FORM);
        // Longest first; equal forms (most encoders leave a plain key as it is) are kept
        // once, so they must end up next to each other for `dedup`.
        forms.sort_unstable_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        forms.dedup();
        let shortest = forms.iter().map(Vec::len).min().unwrap_or(0);
        let forms = forms
            .into_iter()
            .map(|f| Form { head: Finder::new(&f[..f.len().min(HEAD)]).into_owned(), text: f.into() })
            .collect();
        Forms { forms, shortest }
    }

    /// Where the secret appears in `bytes`, as sorted, merged ranges.
    fn ranges(&self, bytes: &[u8]) -> Vec<(usize, usize)> {
        let mut found: Vec<(usize, usize)> = Vec::new();
        if bytes.len() < self.shortest {
            return found;
        }
        for f in self.forms.iter() {
            let len = f.text.len();
            found.extend(f.starts(bytes).map(|at| (at, at + len)));
        }
        if found.len() > 1 {
            found.sort_unstable();
            let mut merged: Vec<(usize, usize)> = Vec::with_capacity(found.len());
            for (a, b) in found {
                match merged.last_mut() {
                    Some(last) if a <= last.1 => last.1 = last.1.max(b),
                    _ => merged.push((a, b)),
                }
            }
            return merged;
        }
        found
    }

    /// Whether any form of the secret is in `text`.
    fn finds(&self, text: &[u8]) -> bool {
        text.len() >= self.shortest && self.forms.iter().any(|f| f.starts(text).next().is_some())
    }
}

impl Redactor {
    fn replace(bytes: &[u8], ranges: &[(usize, usize)]) -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes.len());
        let mut at = 0;
        for &(a, b) in ranges {
            out.extend_from_slice(&bytes[at..a]);
            out.extend_from_slice(MASK.as_bytes());
            at = b;
        }
        out.extend_from_slice(&bytes[at..]);
        out
    }

    /// Whether any form of the secret is in `text`.
    pub fn finds(&self, text: &[u8]) -> bool {
        self.forms().finds(text)
    }

    /// Scrubs a raw body, leaving it untouched (no copy) when the secret is not in it.
    pub fn scrub_bytes(&self, bytes: Vec<u8>) -> Vec<u8> {
        let ranges = self.forms().ranges(&bytes);
        if ranges.is_empty() { bytes } else { Self::replace(&bytes, &ranges) }
    }

    pub fn scrub(&self, text: &str) -> String {
        let ranges = self.forms().ranges(text.as_bytes());
        if ranges.is_empty() {
            return text.to_owned();
        }
        // Every form is ASCII or whole UTF-8 sequences, so the cuts are on char boundaries.
        String::from_utf8_lossy(&Self::replace(text.as_bytes(), &ranges)).into_owned()
    }

    /// Scrubs a string in place, without a copy when the secret is not in it.
    pub fn scrub_in_place(&self, text: &mut String) {
        if self.finds(text.as_bytes()) {
            *text = self.scrub(text);
        }
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Redactor(redacted)")
    }
}

/// The key as it may appear after an encoder got hold of it, as bytes (each form built
/// by pushing onto one buffer: no string per character or byte).
fn encoded_forms(key: &str) -> Vec<Vec<u8>> {
    let mut forms = Vec::with_capacity(15);
    forms.push(key.as_bytes().to_vec());
    // JSON, `\"` and `''` quoting and XML change only these characters: a key without any
    // is its own form in each (most keys), and needs no copy per encoder.
    if key.chars().any(|c| matches!(c, '"' | '\\' | '\'' | '&' | '<' | '>') || c.is_control()) {
        let escape = |pairs: &[(char, &str)]| -> Vec<u8> {
            let mut out = String::with_capacity(key.len());
            for c in key.chars() {
                match pairs.iter().find(|(from, _)| *from == c) {
                    Some((_, to)) => out.push_str(to),
                    None => out.push(c),
                }
            }
            out.into_bytes()
        };
        let mut json = String::with_capacity(key.len());
        for c in key.chars() {
            match c {
                '"' => json.push_str("\\\""),
                '\\' => json.push_str("\\\\"),
                c if c.is_control() => {
                    let _ = write!(json, "\\u{:04x}", u32::from(c));
                }
                c => json.push(c),
            }
        }
        forms.extend([
            json.into_bytes(),
            escape(&[('"', "\\\"")]),
            escape(&[('\'', "''")]),
            escape(&[('&', "&amp;"), ('<', "&lt;"), ('>', "&gt;"), ('"', "&quot;"), ('\'', "&apos;")]),
        ]);
    }
    for digits in [b"0123456789ABCDEF", b"0123456789abcdef"] {
        let reserved = |b: u8| !(b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        let (mut some, mut all) = (Vec::with_capacity(key.len() * 3), Vec::with_capacity(key.len() * 3));
        for b in key.bytes() {
            let hex = [b'%', digits[usize::from(b >> 4)], digits[usize::from(b & 15)]];
            all.extend_from_slice(&hex);
            if reserved(b) {
                some.extend_from_slice(&hex);
            } else {
                some.push(b);
            }
        }
        forms.push(some);
        forms.push(all);
    }
    for alphabet in [STANDARD, URL_SAFE] {
        for offset in 0..3 {
            forms.push(base64_core(key.as_bytes(), offset, alphabet));
        }
    }
    forms
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The base64 characters that stand for `data` whatever precedes it (`offset` bytes into a
/// 3-byte group) and whatever follows: the characters that mix in a neighbour's bits are cut.
fn base64_core(data: &[u8], offset: usize, alphabet: &[u8; 64]) -> Vec<u8> {
    let mut bytes = vec![0u8; offset];
    bytes.extend_from_slice(data);
    let mut out = Vec::with_capacity(bytes.len() / 3 * 4 + 4);
    let char_at = |n: u32, shift: u32| alphabet[((n >> shift) & 63) as usize];
    let mut groups = bytes.chunks_exact(3);
    for g in &mut groups {
        let n = (u32::from(g[0]) << 16) | (u32::from(g[1]) << 8) | u32::from(g[2]);
        out.extend_from_slice(&[char_at(n, 18), char_at(n, 12), char_at(n, 6), char_at(n, 0)]);
    }
    // A partial group: its bytes' characters (one more than its bytes).
    let rest = groups.remainder();
    if !rest.is_empty() {
        let n = rest.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        out.extend((0..=rest.len()).map(|i| char_at(n, 18 - 6 * i as u32)));
    }
    // Leading characters carry the unknown bytes before; a trailing partial group's last
    // character carries the unknown bytes after.
    let lead = [0, 2, 3][offset];
    let end = out.len().saturating_sub(usize::from(!rest.is_empty()));
    if lead >= end {
        return Vec::new();
    }
    out.truncate(end);
    out.drain(..lead);
    out
}

#[cfg(test)]
mod tests {
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
    /// `encoded_forms`, which must build exactly the same set.
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
                    let got = String::from_utf8(base64_core(&data, offset, alphabet)).unwrap();
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
            let got = distinct(encoded_forms(key).into_iter().map(|f| String::from_utf8(f).unwrap()));
            assert_eq!(got, want, "{key:?}");
            let r = Redactor::new(Some(&ApiKey::new(key.into())));
            let got = distinct(r.forms().forms.iter().map(|f| String::from_utf8(f.text.to_vec()).unwrap()));
            assert_eq!(got, want, "each distinct form of {key:?} once");
            assert_eq!(r.forms().forms.len(), want.len());
            // Text exactly as long as the shortest form is searched; shorter text cannot hold one.
            for form in &want {
                assert_eq!(r.scrub(form), MASK, "{form:?} alone");
                assert!(r.finds(form.as_bytes()));
                assert!(
                    !r.finds(&form.as_bytes()[1..]) || want.iter().any(|w| form[1..].contains(w.as_str()))
                );
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
        assert_eq!(
            Redactor::new(Some(&ApiKey::new("abc".into()))).scrub("abc"),
            "abc",
            "too short to search"
        );
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
}

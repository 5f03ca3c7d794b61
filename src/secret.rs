//! The API key: a string that never reaches `Debug`, `Display` or any output.
//!
//! `ApiKey` owns the secret; `Redactor` is the last line of defence that scrubs it from
//! every byte we print or write, in case the API (or a library error) echoes it: as it is,
//! and in every form GitHub's masker knows (base64 at each of the three byte offsets, the
//! JSON-, URI- and XML-escaped forms, `\"` and `''` quoting) plus percent-encoding of every
//! byte in upper or lower case, because outputs and files are never masked by the runner;
//! and spelled with any mix of per-character escapes (`spelled`), which no list holds.

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
    /// The key itself, looked for spelled with escapes where the text has any.
    key: Box<[u8]>,
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
        // Equal forms (most encoders leave a plain key as it is) are kept once. There are
        // about fifteen, and unequal ones mostly differ in length or first bytes, so looking
        // through those kept is cheaper than sorting them to `dedup`. The percent-encoded and
        // base64 forms are built in one scratch buffer and copied only when new.
        let mut forms: Vec<Vec<u8>> = Vec::with_capacity(15);
        each_form(key, |f| {
            if f.len() >= MIN_FORM && !forms.iter().any(|kept| kept.as_slice() == f) {
                forms.push(f.to_vec());
            }
        });
        let shortest = forms.iter().map(Vec::len).min().unwrap_or(0);
        let forms = forms
            .into_iter()
            // Each form was copied at its exact length, so boxing it does not reallocate.
            .map(|f| Form { head: Finder::new(&f[..f.len().min(HEAD)]).into_owned(), text: f.into() })
            .collect();
        Forms { forms, key: key.as_bytes().into(), shortest }
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
        if spelled::may_hold_escapes(bytes) {
            found.extend(spelled::spellings(&self.key, bytes));
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
        text.len() >= self.shortest
            && (self.forms.iter().any(|f| f.starts(text).next().is_some())
                || spelled::may_hold_escapes(text) && spelled::spellings(&self.key, text).next().is_some())
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

    /// `finds`, for text checked before the first request (inputs): text shorter than the
    /// key, as most inputs are (durations, switches, ids), can hold no form of it, so the
    /// forms (base64 and the rest) are built only for text at least as long.
    pub fn holds_key(&self, text: &[u8]) -> bool {
        self.0.key.as_ref().is_some_and(|key| text.len() >= key.len()) && self.finds(text)
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

/// Has a panic (a bug) print its message and place through `redactor`: the default hook
/// would print a message that quotes the key as it is.
pub fn scrub_panics(redactor: Redactor) {
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let what = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(no message)");
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let line = panic_line(&redactor, &at, what);
        let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
    }));
}

/// The one line a panic prints: scrubbed before it is cut to one line (a cut could leave
/// part of the key), and starting with our name, so no text in it can pass for a workflow
/// command.
fn panic_line(redactor: &Redactor, at: &str, what: &str) -> String {
    let text = redactor.scrub(&format!("{at}: {what}"));
    format!(
        "posteverywhere-wait: internal error (a bug; please report it){}\n",
        crate::escape::one_line(&text, 2000)
    )
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Redactor(redacted)")
    }
}

/// Hands `visit` each form the key may take after an encoder got hold of it, equal ones
/// included: the key itself, its escaped forms (only for a key with characters to escape),
/// then its percent-encoded and base64 forms, built in one reused buffer.
fn each_form(key: &str, mut visit: impl FnMut(&[u8])) {
    visit(key.as_bytes());
    // JSON, `\"` and `''` quoting and XML change only these characters: a key without any
    // is its own form in each (most keys), and needs no copy per encoder.
    if key.chars().any(|c| matches!(c, '"' | '\\' | '\'' | '&' | '<' | '>') || c.is_control()) {
        let escape = |pairs: &[(char, &str)]| -> String {
            let mut out = String::with_capacity(key.len());
            for c in key.chars() {
                match pairs.iter().find(|(from, _)| *from == c) {
                    Some((_, to)) => out.push_str(to),
                    None => out.push(c),
                }
            }
            out
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
        let xml = escape(&[('&', "&amp;"), ('<', "&lt;"), ('>', "&gt;"), ('"', "&quot;"), ('\'', "&apos;")]);
        visit(json.as_bytes());
        visit(escape(&[('"', "\\\"")]).as_bytes());
        visit(escape(&[('\'', "''")]).as_bytes());
        visit(xml.as_bytes());
    }
    // Room for the longest form (every byte percent-encoded); the others reuse it.
    let mut form = Vec::with_capacity(key.len() * 3);
    // Percent-encoding of the reserved bytes only (a key without any, most keys, is its own
    // form) and of every byte, in upper and lower case.
    let reserved = |b: u8| !matches!(b, b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~');
    let any_reserved = key.bytes().any(reserved);
    for digits in [b"0123456789ABCDEF", b"0123456789abcdef"] {
        let hex = |b: u8| [b'%', digits[usize::from(b >> 4)], digits[usize::from(b & 15)]];
        if any_reserved {
            form.clear();
            for b in key.bytes() {
                if reserved(b) {
                    form.extend_from_slice(&hex(b));
                } else {
                    form.push(b);
                }
            }
            visit(&form);
        }
        form.clear();
        form.extend(key.bytes().flat_map(hex));
        visit(&form);
    }
    for alphabet in [STANDARD, URL_SAFE] {
        for offset in 0..3 {
            base64_core(key.as_bytes(), offset, alphabet, &mut form);
            visit(&form);
        }
    }
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Writes to `out` (emptied first) the base64 characters that stand for `data` whatever
/// precedes it (`offset` bytes into a 3-byte group) and whatever follows: the characters
/// that mix in a neighbour's bits are cut. The `offset` bytes before are read as zeros.
fn base64_core(data: &[u8], offset: usize, alphabet: &[u8; 64], out: &mut Vec<u8>) {
    out.clear();
    let byte = |i: usize| if i < offset { 0 } else { u32::from(data[i - offset]) };
    let len = offset + data.len();
    let char_at = |n: u32, shift: u32| alphabet[((n >> shift) & 63) as usize];
    for g in (0..len / 3).map(|g| 3 * g) {
        let n = (byte(g) << 16) | (byte(g + 1) << 8) | byte(g + 2);
        out.extend_from_slice(&[char_at(n, 18), char_at(n, 12), char_at(n, 6), char_at(n, 0)]);
    }
    // A partial group: its bytes' characters (one more than its bytes).
    let (from, rest) = (len / 3 * 3, len % 3);
    if rest > 0 {
        let n = (0..rest).fold(0u32, |acc, i| acc | (byte(from + i) << (16 - 8 * i)));
        out.extend((0..=rest).map(|i| char_at(n, 18 - 6 * i as u32)));
    }
    // Leading characters carry the unknown bytes before; a trailing partial group's last
    // character carries the unknown bytes after.
    let lead = [0, 2, 3][offset];
    let end = out.len().saturating_sub(usize::from(rest > 0));
    if lead >= end {
        out.clear();
        return;
    }
    out.truncate(end);
    out.drain(..lead);
}

mod spelled;

#[cfg(test)]
mod tests;

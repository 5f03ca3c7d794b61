//! The key spelled one character at a time in any mix of escapes: each byte as itself,
//! percent-encoded (`%5F`, `%5f`), JSON- or C-escaped (`\u005F`, `\x5f`, `\"`, `\/`), or
//! as an XML character reference (`&#95;`, `&#x5F;`, `&amp;`). An encoder that escapes
//! more than it must, or an API that echoes a key it decoded only in part (`pe%5Flive…`),
//! makes such mixes; no fixed list of forms holds them all.

/// Whether `bytes` may hold an escape at all. Text without one holds only the literal key,
/// which the exact forms find, so it is not walked.
pub(super) fn may_hold_escapes(bytes: &[u8]) -> bool {
    memchr::memchr3(b'%', b'\\', b'&', bytes).is_some()
}

/// Every `(start, end)` of `key` spelled in `bytes`, in order of start.
pub(super) fn spellings<'a>(key: &'a [u8], bytes: &'a [u8]) -> impl Iterator<Item = (usize, usize)> + 'a {
    // An empty key is spelled nowhere (not everywhere).
    let (first, len) = key.first().map_or((0, 0), |&f| (f, bytes.len()));
    (0..len)
        .filter(move |&at| bytes[at] == first || matches!(bytes[at], b'%' | b'\\' | b'&'))
        .filter_map(move |at| spelled_at(key, bytes, at).map(|end| (at, end)))
}

/// The end of `key` spelled from `at`, if it is spelled there (the longest spelling).
fn spelled_at(key: &[u8], bytes: &[u8], at: usize) -> Option<usize> {
    // Most candidates (every `%`, `\\` and `&`) spell something else from the first byte:
    // they are turned away before anything is allocated.
    let rest = bytes.get(at..)?;
    let first = *key.first()?;
    if literal(rest, first).is_none() && escape(rest, first).is_none() {
        return None;
    }
    // Where the spelling may have reached. A byte that opens an escape may also stand for
    // itself (a key with `&` in it), so there can be several; there is one in most texts.
    let mut ends = vec![at];
    for &k in key {
        let mut next = Vec::with_capacity(ends.len());
        for j in ends {
            let rest = bytes.get(j..)?;
            next.extend([literal(rest, k), escape(rest, k)].into_iter().flatten().map(|len| j + len));
        }
        next.sort_unstable();
        next.dedup();
        if next.is_empty() {
            return None;
        }
        ends = next;
    }
    ends.last().copied()
}

/// 1 where `b` starts with the byte `k` itself.
fn literal(b: &[u8], k: u8) -> Option<usize> {
    (b.first() == Some(&k)).then_some(1)
}

/// The length of an escape at the start of `b` that stands for the byte `k`.
fn escape(b: &[u8], k: u8) -> Option<usize> {
    match *b.first()? {
        b'%' => (hex(b.get(1..3)?)? == k).then_some(3),
        b'\\' => match *b.get(1)? {
            b'u' => (b.get(2..4)? == b"00" && hex(b.get(4..6)?)? == k).then_some(6),
            b'x' => (hex(b.get(2..4)?)? == k).then_some(4),
            c => (c == k && matches!(c, b'"' | b'\\' | b'/' | b'\'')).then_some(2),
        },
        b'&' => entity(&b[1..], k).map(|len| len + 1),
        _ => None,
    }
}

/// The length (through `;`) of an XML reference at the start of `b` that stands for `k`:
/// a name, or a number with any leading zeros (`&#0000095;`).
fn entity(b: &[u8], k: u8) -> Option<usize> {
    let (radix, from) = match b {
        [b'#', b'x' | b'X', ..] => (16, 2),
        [b'#', ..] => (10, 1),
        _ => {
            let end = memchr::memchr(b';', &b[..b.len().min(5)])?;
            let value = match &b[..end] {
                b"amp" => b'&',
                b"lt" => b'<',
                b"gt" => b'>',
                b"quot" => b'"',
                b"apos" => b'\'',
                _ => return None,
            };
            return (value == k).then_some(end + 1);
        }
    };
    let digits = b[from..].iter().take_while(|d| char::from(**d).is_digit(radix)).count();
    let end = from + digits;
    if b.get(end) != Some(&b';') {
        return None;
    }
    let significant = &b[from..end][b[from..end].iter().take_while(|d| **d == b'0').count()..];
    let value = if significant.is_empty() && digits > 0 { Some(0) } else { number(significant, radix) };
    (value? == k).then_some(end + 1)
}

/// Two hex digits as a byte.
fn hex(digits: &[u8]) -> Option<u8> {
    number(digits, 16)
}

/// ASCII digits in `radix` (at least one, no sign) as a byte.
fn number(digits: &[u8], radix: u32) -> Option<u8> {
    if digits.is_empty() || !digits.iter().all(|d| char::from(*d).is_digit(radix)) {
        return None;
    }
    u8::try_from(u32::from_str_radix(std::str::from_utf8(digits).ok()?, radix).ok()?).ok()
}

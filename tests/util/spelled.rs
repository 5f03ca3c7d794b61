//! An oracle for the key's spelled forms, independent of the binary's scrubber: undoes the
//! per-character escapes an encoder may leave (`%5F`, `\u005f`, `\x5f`, `&#95;`, `&#x5f;`,
//! `&amp;`), so a key written any mix of those ways reads as the key.

fn hex(b: u8) -> Option<u32> {
    char::from(b).to_digit(16)
}

/// Digits of `radix` at the start of `b`, at most `max` of them: their value and count.
fn number(b: &[u8], radix: u32, max: usize) -> Option<(u32, usize)> {
    let n = b.iter().take(max).take_while(|c| char::from(**c).is_digit(radix)).count();
    let text = std::str::from_utf8(&b[..n]).ok()?;
    (n > 0).then(|| u32::from_str_radix(text, radix).ok().map(|v| (v, n)))?
}

/// One pass: each escape of an ASCII character becomes the character.
fn once(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let at = &b[i..];
        let fixed = |len: usize, skip: usize| -> Option<(u32, usize)> {
            let digits = at.get(skip..skip + len)?;
            let v = digits.iter().try_fold(0, |v, d| Some(v * 16 + hex(*d)?))?;
            Some((v, skip + len))
        };
        let decoded = match at {
            [b'%', ..] => fixed(2, 1),
            [b'\\', b'u', ..] => fixed(4, 2),
            [b'\\', b'x', ..] => fixed(2, 2),
            [b'&', b'#', b'x' | b'X', rest @ ..] => {
                number(rest, 16, 8).filter(|(_, n)| rest.get(*n) == Some(&b';')).map(|(v, n)| (v, n + 4))
            }
            [b'&', b'#', rest @ ..] => {
                number(rest, 10, 10).filter(|(_, n)| rest.get(*n) == Some(&b';')).map(|(v, n)| (v, n + 3))
            }
            [b'&', b'a', b'm', b'p', b';', ..] => Some((u32::from(b'&'), 5)),
            _ => None,
        };
        match decoded.filter(|(v, _)| *v < 0x80) {
            Some((v, len)) => {
                out.push(v as u8);
                i += len;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `text` with every escape undone, escapes of escapes included (`&amp;#95;`).
pub fn unspelled(text: &str) -> String {
    let mut t = once(text);
    for _ in 0..3 {
        let next = once(&t);
        if next == t {
            break;
        }
        t = next;
    }
    t
}

#[test]
fn every_spelling_reads_as_the_key() {
    let key = "pe_live_0a";
    for spelled in [
        "pe%5Flive%5f0a",
        r"\u0070e_live\x5f0a",
        "pe&#95;live&#x5F;0&#0000097;",
        "pe&amp;#95;live_0a",
        "%70%65%5F%6C%69%76%65%5F%30%61",
    ] {
        assert!(unspelled(&format!("x {spelled} y")).contains(key), "{spelled}");
    }
    assert_eq!(unspelled("100% &amp &#; \\u12 é"), "100% &amp &#; \\u12 é");
}

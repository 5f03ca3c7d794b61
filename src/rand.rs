//! Randomness without a dependency: heredoc delimiters, stop-command tokens and jitter.
//!
//! `RandomState` is seeded from the operating system's generator once per thread and
//! perturbed per instance, which is all we need: unguessable tokens, not cryptography.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A hasher keyed from the operating system's generator, fed a counter and the time.
fn seeded() -> impl Hasher {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()),
    );
    h
}

/// A fresh random 64-bit value.
pub fn u64() -> u64 {
    seeded().finish()
}

/// Appends 32 lowercase hex characters (128 bits): two outputs of one keyed hasher, the
/// second after one more byte, so one seeding and no formatting machinery (a step's outputs
/// take one token each).
pub fn push_token(out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut h = seeded();
    let first = h.finish();
    h.write_u8(1);
    let mut bytes = [0u8; 32];
    for (i, word) in [first, h.finish()].into_iter().enumerate() {
        for (j, b) in bytes[i * 16..(i + 1) * 16].iter_mut().enumerate() {
            *b = HEX[((word >> (60 - 4 * j)) & 0xf) as usize];
        }
    }
    // Checked as one slice rather than pushed a char at a time.
    out.push_str(std::str::from_utf8(&bytes).expect("hex digits are ASCII"));
}

/// 32 lowercase hex characters (128 bits).
pub fn token() -> String {
    let mut s = String::with_capacity(32);
    push_token(&mut s);
    s
}

/// A uniform value in `[0, 1)`.
pub fn unit() -> f64 {
    // 53 random bits make every f64 in [0, 1) reachable with equal spacing.
    #[allow(clippy::cast_precision_loss)]
    let v = (u64() >> 11) as f64;
    v / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_differ_and_are_hex() {
        let a = super::token();
        let b = super::token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn unit_is_in_range() {
        for _ in 0..1000 {
            let u = super::unit();
            assert!((0.0..1.0).contains(&u));
        }
    }
}

//! Randomness without a dependency: heredoc delimiters, stop-command tokens and jitter.
//!
//! `RandomState` is seeded from the operating system's generator once per process and
//! perturbed per instance, which is all we need: unguessable tokens, not cryptography.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh random 64-bit value.
pub fn u64() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

/// 32 lowercase hex characters (128 bits).
pub fn token() -> String {
    format!("{:016x}{:016x}", u64(), u64())
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

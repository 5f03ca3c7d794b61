//! The API key: a string that never reaches `Debug`, `Display` or any output.
//!
//! `ApiKey` owns the secret; `Redactor` is the last line of defence that scrubs it from
//! every byte we print or write, in case the API (or a library error) ever echoes it.

use std::fmt;

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

/// Replaces every occurrence of the secret with `***` in text about to leave the process.
#[derive(Clone, Default)]
pub struct Redactor {
    secret: Option<String>,
}

impl Redactor {
    pub fn new(key: Option<&ApiKey>) -> Self {
        // Very short "keys" would redact ordinary words; the real format is 40 characters.
        let secret = key.map(|k| k.expose().to_owned()).filter(|k| k.len() >= 4);
        Self { secret }
    }

    /// Scrubs a raw body, leaving it untouched (no copy) when the secret is not in it.
    pub fn scrub_bytes(&self, bytes: Vec<u8>) -> Vec<u8> {
        match &self.secret {
            Some(s) if bytes.windows(s.len()).any(|w| w == s.as_bytes()) => {
                self.scrub(&String::from_utf8_lossy(&bytes)).into_bytes()
            }
            _ => bytes,
        }
    }

    pub fn scrub(&self, text: &str) -> String {
        match &self.secret {
            Some(s) if text.contains(s.as_str()) => text.replace(s.as_str(), "***"),
            _ => text.to_owned(),
        }
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Redactor(redacted)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let key = ApiKey::new("pe_live_0123456789abcdef0123456789abcdef".into());
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
}

//! GitLab CI log sections (ci-conventions §8): `ESC[0Ksection_start:<unix>:<name>[collapsed=true]`
//! `CR ESC[0K<header>` and the matching `section_end`, so the polling lines fold away and the
//! final table stays in view.

use std::time::{SystemTime, UNIX_EPOCH};

pub(super) const SECTION: &str = "posteverywhere_wait";

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

pub(super) fn section_start(header: &str) -> String {
    format!("\u{1b}[0Ksection_start:{}:{SECTION}[collapsed=true]\r\u{1b}[0K{header}", now())
}

pub(super) fn section_end() -> String {
    format!("\u{1b}[0Ksection_end:{}:{SECTION}\r\u{1b}[0K", now())
}

#[cfg(test)]
mod tests {
    #[test]
    fn markers() {
        let s = super::section_start("Waiting");
        assert!(s.starts_with("\u{1b}[0Ksection_start:"));
        assert!(s.ends_with(":posteverywhere_wait[collapsed=true]\r\u{1b}[0KWaiting"));
        assert!(super::section_end().ends_with(":posteverywhere_wait\r\u{1b}[0K"));
    }
}

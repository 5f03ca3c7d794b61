//! The terminal view in builds without the `terminal` feature (the default, and every CI
//! build): there is none. `View` has no values, so a terminal gets the same plain progress
//! lines and final table as a pipe, without colours.

use std::time::Duration;

use crate::model::Destination;

/// No live view can exist in this build.
pub(super) enum View {}

impl View {
    pub(super) fn new(_timeout: Duration) -> Option<Self> {
        None
    }

    pub(super) fn update(&mut self, _post: Option<&str>, _dests: &[Destination]) {
        match *self {}
    }

    pub(super) fn println(&self, _line: &str) {
        match *self {}
    }

    pub(super) fn clear(&self) {
        match *self {}
    }
}

/// The terminal's width, as far as a build without the terminal view can tell: `COLUMNS`
/// when the shell exports it, else 80.
pub(super) fn columns() -> usize {
    std::env::var("COLUMNS").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(80).max(20)
}

/// The final table's lines stay as they are.
pub(super) fn paint_line(line: &str) -> String {
    line.to_owned()
}

//! The overall status of a wait and the exit code it earns: the one table users script
//! against (also in the README). Pure and unit-tested.

use serde::Serialize;

use crate::config::FailOn;
use crate::model::Tally;

/// The value of the `status` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every destination published.
    Published,
    /// Some published, some failed.
    Partial,
    /// Every destination failed.
    Failed,
    /// Destinations were still pending at the deadline.
    Timeout,
    /// The wait could not proceed (API refused, unreachable, or unusable answers).
    Error,
    /// Stopped by SIGINT/SIGTERM.
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Published => "published",
            Status::Partial => "partial",
            Status::Failed => "failed",
            Status::Timeout => "timeout",
            Status::Error => "error",
            Status::Cancelled => "cancelled",
        }
    }

    /// The status of a complete post (every destination final).
    pub fn of_complete(t: Tally) -> Status {
        if t.failed == 0 {
            Status::Published
        } else if t.published == 0 {
            Status::Failed
        } else {
            Status::Partial
        }
    }
}

/// Which signal stopped us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Interrupt,
    Terminate,
}

/// Exit codes.
pub mod code {
    /// The outcome passes `fail-on`.
    pub const OK: u8 = 0;
    /// Destinations failed, per `fail-on`.
    pub const FAILED: u8 = 1;
    /// Bad configuration or usage.
    pub const USAGE: u8 = 2;
    /// Timed out with destinations still pending.
    pub const TIMEOUT: u8 = 3;
    /// The API stopped the wait (refused, unreachable, unusable answers).
    pub const API: u8 = 4;
    /// Cancelled by SIGINT (128 + 2).
    pub const SIGINT: u8 = 130;
    /// Cancelled by SIGTERM (128 + 15).
    pub const SIGTERM: u8 = 143;
}

/// The exit code for a final status.
pub fn exit_code(status: Status, tally: Tally, fail_on: FailOn, signal: Option<Signal>) -> u8 {
    match status {
        Status::Published => code::OK,
        Status::Partial | Status::Failed => {
            let fails = match fail_on {
                FailOn::Any => tally.failed > 0,
                FailOn::All => tally.published == 0,
                FailOn::Never => false,
            };
            if fails { code::FAILED } else { code::OK }
        }
        Status::Timeout => code::TIMEOUT,
        Status::Error => code::API,
        Status::Cancelled => match signal {
            Some(Signal::Terminate) => code::SIGTERM,
            _ => code::SIGINT,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(published: usize, failed: usize) -> Tally {
        Tally {
            total: published + failed,
            published,
            failed,
            pending: 0,
        }
    }

    #[test]
    fn complete_status() {
        assert_eq!(Status::of_complete(t(3, 0)), Status::Published);
        assert_eq!(Status::of_complete(t(2, 1)), Status::Partial);
        assert_eq!(Status::of_complete(t(0, 3)), Status::Failed);
    }

    #[test]
    fn fail_on_table() {
        let cases = [
            (Status::Published, t(3, 0), FailOn::Any, 0),
            (Status::Partial, t(2, 1), FailOn::Any, 1),
            (Status::Partial, t(2, 1), FailOn::All, 0),
            (Status::Partial, t(2, 1), FailOn::Never, 0),
            (Status::Failed, t(0, 3), FailOn::Any, 1),
            (Status::Failed, t(0, 3), FailOn::All, 1),
            (Status::Failed, t(0, 3), FailOn::Never, 0),
            (Status::Timeout, t(1, 0), FailOn::Never, 3),
            (Status::Error, t(0, 0), FailOn::Never, 4),
        ];
        for (status, tally, fail_on, want) in cases {
            assert_eq!(
                exit_code(status, tally, fail_on, None),
                want,
                "{status:?} {fail_on:?}"
            );
        }
        assert_eq!(
            exit_code(
                Status::Cancelled,
                t(0, 0),
                FailOn::Any,
                Some(Signal::Interrupt)
            ),
            130
        );
        assert_eq!(
            exit_code(
                Status::Cancelled,
                t(0, 0),
                FailOn::Any,
                Some(Signal::Terminate)
            ),
            143
        );
    }
}

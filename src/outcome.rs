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
    /// Scheduled to publish after the deadline; not waited for.
    Scheduled,
    /// `dry-run`: checked what would be posted, posted nothing.
    #[serde(rename = "dry-run")]
    DryRun,
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
            Status::Scheduled => "scheduled",
            Status::DryRun => "dry-run",
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
    /// An output, the summary or a report file could not be written.
    pub const WRITE: u8 = 5;
    /// Cancelled by SIGINT (128 + 2).
    pub const SIGINT: u8 = 130;
    /// Cancelled by SIGTERM (128 + 15).
    pub const SIGTERM: u8 = 143;
}

/// The step's exit code once its reports are written: a report that could not be written
/// fails the step (later steps must not run on missing outputs), unless a signal ends it.
pub fn after_writing(code: u8, written: bool) -> u8 {
    match code {
        code::SIGINT | code::SIGTERM => code,
        _ if !written => code::WRITE,
        c => c,
    }
}

/// The exit code for a final status.
pub fn exit_code(status: Status, tally: Tally, fail_on: FailOn, signal: Option<Signal>) -> u8 {
    match status {
        Status::Published | Status::DryRun => code::OK,
        // A post scheduled after the deadline may already have failed somewhere (an account
        // that cannot post, one skipped before posting): never green then, per `fail-on`.
        Status::Partial | Status::Failed | Status::Scheduled => {
            let fails = match fail_on {
                FailOn::Any => tally.failed > 0,
                FailOn::All => tally.failed > 0 && tally.failed == tally.total,
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

/// One post's outcome, for the step's aggregate.
#[derive(Debug, Clone, Copy)]
pub struct PostOutcome {
    pub status: Status,
    pub tally: Tally,
    pub exit_code: u8,
}

/// The step's status and exit code over several posts: an error or timeout anywhere wins;
/// otherwise `scheduled` when every post is, else the status of all final destinations
/// together (a scheduled post's failures included, its pending ones aside), and the worst
/// exit code (each post judged by `fail-on` on its own).
pub fn aggregate(posts: &[PostOutcome]) -> (Status, u8) {
    let code = posts.iter().map(|p| p.exit_code).max().unwrap_or(code::OK);
    let any = |s: Status| posts.iter().any(|p| p.status == s);
    let status = if any(Status::Cancelled) {
        Status::Cancelled
    } else if any(Status::Error) {
        Status::Error
    } else if any(Status::Timeout) {
        Status::Timeout
    } else if posts.iter().all(|p| p.status == Status::Scheduled) {
        Status::Scheduled
    } else {
        let mut sum = Tally::default();
        for p in posts {
            let t = p.tally;
            sum += if p.status == Status::Scheduled {
                Tally { total: t.published + t.failed, published: t.published, failed: t.failed, pending: 0 }
            } else {
                t
            };
        }
        Status::of_complete(sum)
    };
    (status, code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(published: usize, failed: usize) -> Tally {
        Tally { total: published + failed, published, failed, pending: 0 }
    }

    #[test]
    fn complete_status() {
        assert_eq!(Status::of_complete(t(3, 0)), Status::Published);
        assert_eq!(Status::of_complete(t(2, 1)), Status::Partial);
        assert_eq!(Status::of_complete(t(0, 3)), Status::Failed);
    }

    #[test]
    fn aggregate_over_posts() {
        let p = |status, published, failed, exit_code| PostOutcome {
            status,
            tally: t(published, failed),
            exit_code,
        };
        let all_ok = [p(Status::Published, 2, 0, 0), p(Status::Published, 3, 0, 0)];
        assert_eq!(aggregate(&all_ok), (Status::Published, 0));
        let mixed =
            [p(Status::Published, 2, 0, 0), p(Status::Failed, 0, 2, 1), p(Status::Scheduled, 0, 0, 0)];
        assert_eq!(aggregate(&mixed), (Status::Partial, 1));
        let timeout = [p(Status::Failed, 0, 2, 1), p(Status::Timeout, 0, 0, 3)];
        assert_eq!(aggregate(&timeout), (Status::Timeout, 3));
        let error = [p(Status::Timeout, 0, 0, 3), p(Status::Error, 0, 0, 4)];
        assert_eq!(aggregate(&error), (Status::Error, 4));
        assert_eq!(aggregate(&[p(Status::Scheduled, 0, 0, 0)]), (Status::Scheduled, 0));
        // A scheduled post's failure counts: never green beside a published post.
        let failed_early = [p(Status::Scheduled, 0, 1, 1), p(Status::Published, 1, 0, 0)];
        assert_eq!(aggregate(&failed_early), (Status::Partial, 1));
        assert_eq!(
            aggregate(&[p(Status::Scheduled, 0, 1, 1), p(Status::Scheduled, 0, 0, 0)]),
            (Status::Scheduled, 1)
        );
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
            (Status::Scheduled, t(0, 0), FailOn::Any, 0),
            (Status::Scheduled, Tally { total: 2, published: 0, failed: 1, pending: 1 }, FailOn::Any, 1),
            (Status::Scheduled, Tally { total: 2, published: 0, failed: 1, pending: 1 }, FailOn::All, 0),
            (Status::Scheduled, t(0, 2), FailOn::All, 1),
            (Status::Scheduled, t(0, 2), FailOn::Never, 0),
        ];
        for (status, tally, fail_on, want) in cases {
            assert_eq!(exit_code(status, tally, fail_on, None), want, "{status:?} {fail_on:?}");
        }
        assert_eq!(exit_code(Status::Cancelled, t(0, 0), FailOn::Any, Some(Signal::Interrupt)), 130);
        assert_eq!(exit_code(Status::Cancelled, t(0, 0), FailOn::Any, Some(Signal::Terminate)), 143);
    }
}

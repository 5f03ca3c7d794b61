//! The table of inputs: names, defaults and help, in the order `--help`, the README and
//! action.yml list them. Parsing and validation live in `config`.

use super::DEFAULT_BASE_URL;

/// One input: its name, default (as shown to users) and what it does.
pub struct InputSpec {
    pub name: &'static str,
    pub default: &'static str,
    pub help: &'static str,
}

/// Every input, in the order `--help`, the README and action.yml list them.
pub const INPUTS: &[InputSpec] = &[
    InputSpec {
        name: "api-key",
        default: "",
        help: "PostEverywhere API key (required unless simulate is set)",
    },
    InputSpec {
        name: "post-id",
        default: "",
        help: "the post(s) to wait for, separated by commas, spaces or newlines (or publish with content)",
    },
    InputSpec {
        name: "content",
        default: "",
        help: "publish a post with this text, then wait for it (instead of post-id)",
    },
    InputSpec {
        name: "content-file",
        default: "",
        help: "publish a post with the text of this UTF-8 file (instead of content)",
    },
    InputSpec {
        name: "accounts",
        default: "",
        help: "with content: where to post: platforms (x, linkedin), platform:@handle, account ids, or all",
    },
    InputSpec {
        name: "media",
        default: "",
        help: "with content: up to 10 files, separated by commas or newlines: images (jpg, png, gif, webp; \
               20 MiB) or videos (mp4, mov, webm, m4v; 1 GiB)",
    },
    InputSpec {
        name: "schedule-at",
        default: "",
        help: "with content: publish at this time (2026-12-01T09:00:00Z or with an offset) instead of now",
    },
    InputSpec {
        name: "skip-unhealthy",
        default: "false",
        help: "with content: post to the healthy accounts and report the others as failed, instead of stopping",
    },
    InputSpec {
        name: "dry-run",
        default: "false",
        help: "with content: check accounts and media and say what would be posted, but post nothing",
    },
    InputSpec {
        name: "dedupe",
        default: "24h",
        help: "with content: reuse a post with the same content and accounts made within this time (0: never)",
    },
    InputSpec {
        name: "base-url",
        default: DEFAULT_BASE_URL,
        help: "API root; https, or http to a loopback host",
    },
    InputSpec {
        name: "timeout",
        default: "300",
        help: "overall deadline: 300 (seconds), 90s, 5m, 1m30s, 5 minutes",
    },
    InputSpec { name: "poll-interval", default: "10", help: "time between polls (same units as timeout)" },
    InputSpec {
        name: "fail-on",
        default: "any",
        help: "any | all | never: when failed destinations fail the step",
    },
    InputSpec { name: "summary", default: "true", help: "write the job summary (true/false)" },
    InputSpec { name: "results-file", default: "", help: "also write the results JSON to this path" },
    InputSpec { name: "max-errors", default: "10", help: "consecutive failed requests before giving up" },
    InputSpec {
        name: "retry-failed",
        default: "0",
        help: "re-queue each retryable failed destination up to N times (0-10)",
    },
    InputSpec {
        name: "rate-limit",
        default: "50",
        help: "requests per minute for the whole step, retries included (the API allows 60 per key)",
    },
    InputSpec {
        name: "summary-file",
        default: "",
        help: "also write the Markdown summary to this path (for a merge or pull request comment)",
    },
    InputSpec {
        name: "dotenv-file",
        default: "",
        help: "write a GitLab dotenv report (POSTEVERYWHERE_STATUS, counts, URLs) to this path",
    },
    InputSpec {
        name: "junit-file",
        default: "",
        help: "write a JUnit XML report, one test case per destination, to this path",
    },
    InputSpec {
        name: "annotations-file",
        default: "",
        help: "write a GitLab annotations report linking each published post to this path",
    },
    InputSpec {
        name: "heartbeat",
        default: "30s",
        help: "the longest the log stays silent while waiting (a line with time and counts)",
    },
    InputSpec {
        name: "simulate",
        default: "",
        help: "run against the built-in simulator, no key needed: published, partial, failed, timeout, retry",
    },
];

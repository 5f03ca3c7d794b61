//! The table of inputs: names, defaults and help, in the order `--help`, the README and
//! action.yml list them, the environment variables each is read from, and the raw strings
//! found (`RawInputs`). Parsing and validation live in `config`.

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
        help: "with content: reuse a post with the same content and accounts made within this time, whatever its time (0: never)",
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

/// Stage one: raw strings as found (trimmed; empty already dropped), one field per input.
/// No `Debug`: it holds the raw key.
#[derive(Default)]
pub struct RawInputs {
    pub api_key: Option<String>,
    pub post_id: Option<String>,
    pub base_url: Option<String>,
    pub timeout: Option<String>,
    pub poll_interval: Option<String>,
    pub fail_on: Option<String>,
    pub summary: Option<String>,
    pub results_file: Option<String>,
    pub summary_file: Option<String>,
    pub dotenv_file: Option<String>,
    pub junit_file: Option<String>,
    pub annotations_file: Option<String>,
    pub max_errors: Option<String>,
    pub retry_failed: Option<String>,
    pub rate_limit: Option<String>,
    pub heartbeat: Option<String>,
    pub simulate: Option<String>,
    pub content: Option<String>,
    pub content_file: Option<String>,
    pub accounts: Option<String>,
    pub media: Option<String>,
    pub schedule_at: Option<String>,
    pub skip_unhealthy: Option<String>,
    pub dry_run: Option<String>,
    pub dedupe: Option<String>,
}

impl RawInputs {
    /// The field input `name` is read into (`None` for a name that is not an input).
    pub fn slot(&mut self, name: &str) -> Option<&mut Option<String>> {
        Some(match name {
            "api-key" => &mut self.api_key,
            "post-id" => &mut self.post_id,
            "base-url" => &mut self.base_url,
            "timeout" => &mut self.timeout,
            "poll-interval" => &mut self.poll_interval,
            "fail-on" => &mut self.fail_on,
            "summary" => &mut self.summary,
            "results-file" => &mut self.results_file,
            "summary-file" => &mut self.summary_file,
            "dotenv-file" => &mut self.dotenv_file,
            "junit-file" => &mut self.junit_file,
            "annotations-file" => &mut self.annotations_file,
            "max-errors" => &mut self.max_errors,
            "retry-failed" => &mut self.retry_failed,
            "rate-limit" => &mut self.rate_limit,
            "heartbeat" => &mut self.heartbeat,
            "simulate" => &mut self.simulate,
            "content" => &mut self.content,
            "content-file" => &mut self.content_file,
            "accounts" => &mut self.accounts,
            "media" => &mut self.media,
            "schedule-at" => &mut self.schedule_at,
            "skip-unhealthy" => &mut self.skip_unhealthy,
            "dry-run" => &mut self.dry_run,
            "dedupe" => &mut self.dedupe,
            _ => return None,
        })
    }
}

/// Environment variable names an input is read from, in order of precedence.
pub fn env_names(input: &str) -> [String; 3] {
    let upper = input.to_ascii_uppercase();
    let snake = upper.replace('-', "_");
    [format!("INPUT_{upper}"), format!("INPUT_{snake}"), format!("POSTEVERYWHERE_{snake}")]
}

/// Whether a variable can hold an input: `lookup` reads no others. A runner's environment
/// holds a hundred more (about 1.4 k instructions each to copy, check and drop, musl,
/// measured),
/// which start-up leaves alone. Its prefixes hold no `=`, so it can be asked about a whole
/// `NAME=value` entry as well.
pub fn is_input_var(name: &[u8]) -> bool {
    name.starts_with(b"INPUT_") || name.starts_with(b"POSTEVERYWHERE_")
}

/// The variables of an environment block as Linux keeps it (`/proc/self/environ`: each
/// `NAME=value` ended by a NUL) whose entries `keep` takes, in order. `keep` sees the whole
/// entry, before it is split (most are not kept). A name that is not UTF-8, or an entry
/// without `=`, is skipped; a value that is not UTF-8 is `NOT_UTF8`.
#[cfg(any(target_os = "linux", test))]
pub fn vars_of_block(block: &[u8], keep: impl Fn(&[u8]) -> bool) -> Vec<(String, String)> {
    // Each entry's end comes from memchr (a byte-at-a-time split cost 6 instructions a byte);
    // only a kept entry is searched for its `=`.
    let mut vars = Vec::new();
    let mut rest = block;
    while !rest.is_empty() {
        let end = memchr::memchr(0, rest).unwrap_or(rest.len());
        let entry = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or_default();
        if keep(entry) {
            vars.extend(split_entry(entry));
        }
    }
    vars
}

/// A kept entry's name and value (`NOT_UTF8` for one that is not), when its name is UTF-8
/// and it has a `=`.
#[cfg(any(target_os = "linux", test))]
fn split_entry(entry: &[u8]) -> Option<(String, String)> {
    // A name is at least one byte: `=` at the start belongs to it (as in std).
    let eq = 1 + memchr::memchr(b'=', entry.get(1..)?)?;
    let (name, value) = (&entry[..eq], &entry[eq + 1..]);
    let value = std::str::from_utf8(value).map_or(NOT_UTF8, |v| v);
    Some((std::str::from_utf8(name).ok()?.to_owned(), value.to_owned()))
}

/// The value of a variable that is not UTF-8 (a file saved in Latin-1, say): no variable
/// can hold a NUL, so it stands for nothing else, and every input refuses it by name.
pub const NOT_UTF8: &str = "\0(not UTF-8)";

/// Whether `rest` (a variable name after its prefix) spells `input` in upper case, with
/// `-` as `_` when `snake`.
pub(super) fn spells(rest: &str, input: &str, snake: bool) -> bool {
    rest.len() == input.len()
        && rest.bytes().zip(input.bytes()).all(|(r, i)| {
            let i = if snake && i == b'-' { b'_' } else { i.to_ascii_uppercase() };
            r == i
        })
}

/// For each input, the variable it is read from and its trimmed value, when set and not
/// empty: the first of `env_names` that is (for each name, its first variable counts).
/// One pass over `vars`, no name built: only `INPUT_…` and `POSTEVERYWHERE_…` variables are
/// compared with the inputs.
pub fn lookup<'v, const N: usize>(
    vars: &'v [(String, String)],
    inputs: [&str; N],
) -> [Option<(&'v str, &'v str)>; N] {
    lookup_at(vars, inputs).map(|at| at.map(|n| (vars[n].0.as_str(), vars[n].1.trim())))
}

/// One form an input's name is read in: which of its three names (`env_names`' order),
/// and whether in snake case.
pub(super) type Form = (usize, bool);

/// The forms in which a variable's name is read as an input's: its prefix, the rest of the
/// name, and each form the rest is read in, as (which of the input's three names, in
/// `env_names`' order; snake case). `INPUT_` takes the input's name as written or with
/// `_` for `-`; `POSTEVERYWHERE_` only with `_`. One table for reading inputs and for
/// naming a spelling that is not read (`config::checks::unread_spelling`).
pub(super) fn read_forms(var: &str) -> Option<(&'static str, &str, &'static [Form])> {
    if let Some(rest) = var.strip_prefix("INPUT_") {
        Some(("INPUT_", rest, &[(0, false), (1, true)]))
    } else {
        var.strip_prefix("POSTEVERYWHERE_").map(|rest| ("POSTEVERYWHERE_", rest, &[(2, true)][..]))
    }
}

/// `lookup`, as the index in `vars` of each input's variable (its value is not empty once
/// trimmed), so a caller that owns `vars` can move the strings out.
pub fn lookup_at<const N: usize>(vars: &[(String, String)], inputs: [&str; N]) -> [Option<usize>; N] {
    // The first variable of each of an input's three names, as an index into `vars`.
    let mut first = [[None::<usize>; 3]; N];
    for (n, (k, _)) in vars.iter().enumerate() {
        let Some((_, rest, names)) = read_forms(k) else { continue };
        for (slots, input) in first.iter_mut().zip(inputs) {
            for &(which, snake) in names {
                if slots[which].is_none() && spells(rest, input, snake) {
                    slots[which] = Some(n);
                }
            }
        }
    }
    first.map(|slots| slots.into_iter().flatten().find(|&n| !vars[n].1.trim().is_empty()))
}

#[cfg(test)]
mod tests;

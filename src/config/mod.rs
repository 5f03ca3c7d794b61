//! Inputs: read from the environment in two stages. `RawInputs` (in `inputs`) holds the
//! inputs as optional strings; `Config` holds validated, typed values and is all the rest
//! of the program sees. Each input `x-y` comes from `INPUT_X-Y` or `INPUT_X_Y` (GitHub)
//! and otherwise from `POSTEVERYWHERE_X_Y` (GitLab, any CI); empty means unset.

mod checks;
mod inputs;
pub mod publish;
mod publish_inputs;
mod values;

use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;

use crate::escape::one_line;
use crate::secret::{ApiKey, Redactor};
pub use checks::{base_url_hint, id_problem, is_loopback};
use checks::{check_api_key, check_base_url, check_output_path, parse_post_ids};
#[cfg(target_os = "linux")]
pub use inputs::vars_of_block;
pub use inputs::{INPUTS, NOT_UTF8, env_names, is_input_var};
use inputs::{RawInputs, lookup, lookup_at};
pub use publish::Publish;
pub use values::FailOn;
use values::{parse_bool, parse_count, parse_fail_on, parse_positive_duration};

pub const DEFAULT_BASE_URL: &str = "https://app.posteverywhere.ai/api/v1";
const PRODUCTION_HOST: &str = "app.posteverywhere.ai";

/// Stage two: everything validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// Sent as `Authorization: Bearer …`; `None` only in simulate mode.
    pub api_key: Option<ApiKey>,
    /// One or more posts, deduplicated, in the order given.
    pub post_ids: Vec<String>,
    pub base_url: Url,
    pub timeout: Duration,
    pub poll_interval: Duration,
    pub fail_on: FailOn,
    pub summary: bool,
    pub results_file: Option<PathBuf>,
    /// The Markdown summary, again, as a file.
    pub summary_file: Option<PathBuf>,
    /// GitLab dotenv report.
    pub dotenv_file: Option<PathBuf>,
    /// JUnit XML report.
    pub junit_file: Option<PathBuf>,
    /// GitLab annotations report.
    pub annotations_file: Option<PathBuf>,
    pub max_errors: u32,
    /// How many times each retryable failed destination may be re-queued (0: never).
    pub retry_failed: u32,
    /// Requests per minute across all posts, retries included.
    pub rate_limit: u32,
    /// The longest the log stays silent while waiting (outside a terminal).
    pub heartbeat: Duration,
    /// Simulator scenario name; the base URL is replaced by the simulator's.
    pub simulate: Option<String>,
    /// Set when the step creates the post itself (then `post_ids` is empty until it has).
    pub publish: Option<Publish>,
    /// Non-fatal remarks to print once the key is masked.
    pub warnings: Vec<String>,
    /// Scrubs every form of `api_key` (empty without a key); built once, shared.
    pub redactor: Redactor,
}

/// A bad input: names the input, where it came from and the bad value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// What to do about an input other than api-key that holds the key.
const KEY_ONLY: &str = "give the key only as api-key (is the secret passed to the wrong input?)";

/// Where each input's value came from, for error messages, and the key to keep out of them.
struct Sources(Vec<(&'static str, String)>, Redactor);

impl Sources {
    fn var(&self, input: &str) -> String {
        self.0
            .iter()
            .find(|(i, _)| *i == input)
            .map_or_else(|| env_names(input)[0].clone(), |(_, v)| v.clone())
    }

    fn bad(&self, input: &str, value: &str, why: &str) -> ConfigError {
        // Scrubbed before it is cut: a cut could leave part of the key.
        ConfigError(format!(
            "input '{input}' (from {}) has a bad value {:?}: {why}",
            self.var(input),
            one_line(&self.1.scrub(value), 100)
        ))
    }
}

/// The API key as given, before anything is validated: the redactor and the runner's
/// masker must know it before the first line is printed, a configuration error included.
pub fn api_key(vars: &[(String, String)]) -> Option<ApiKey> {
    let [found] = lookup(vars, ["api-key"]);
    found.filter(|(_, v)| *v != NOT_UTF8).map(|(_, v)| ApiKey::new(v.to_owned()))
}

/// `value` without surrounding whitespace, moved as it is when it has none (most values).
fn trimmed(value: String) -> String {
    if value.trim().len() == value.len() { value } else { value.trim().to_owned() }
}

impl Config {
    /// Builds the config from any set of variables (tests pass vectors).
    #[cfg(test)]
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        let vars: Vec<(String, String)> = vars.into_iter().collect();
        let redactor = Redactor::new(api_key(&vars).as_ref());
        Self::with_redactor(vars, redactor)
    }

    /// `from_vars` with the redactor already built for `api_key(&vars)`. Each input's
    /// variable name and value are moved out of `vars`, not copied.
    pub fn with_redactor(mut vars: Vec<(String, String)>, redactor: Redactor) -> Result<Self, ConfigError> {
        // Before the values are moved out below.
        if let Some(e) = checks::set_twice(&vars) {
            return Err(ConfigError(e));
        }
        let names: [&str; INPUTS.len()] = std::array::from_fn(|i| INPUTS[i].name);
        let mut raw = RawInputs::default();
        let mut sources = Vec::new();
        for (name, found) in names.into_iter().zip(lookup_at(&vars, names)) {
            if let (Some(n), Some(slot)) = (found, raw.slot(name)) {
                // Each variable spells one input at most (no input's name has a `_`), so none
                // is taken twice.
                let (var, value) = std::mem::take(&mut vars[n]);
                debug_assert!(!var.is_empty(), "{name}: its variable went to another input");
                if value == NOT_UTF8 {
                    return Err(ConfigError(format!(
                        "input '{name}' (from {var}) is not UTF-8 text: give it as UTF-8 (a file saved in \
                         another encoding, such as Latin-1?)"
                    )));
                }
                sources.push((name, var));
                *slot = Some(trimmed(value));
            }
        }
        let src = Sources(sources, redactor);
        // A key that is no key is said as such first: a short one would be found in every
        // other input that happens to hold its text, and blamed on that input.
        let no_key = raw.api_key.as_deref().is_none_or(str::is_empty);
        if let Some(Err(why)) = raw.api_key.as_deref().filter(|k| !k.is_empty()).map(check_api_key) {
            return Err(ConfigError(format!("input 'api-key' (from {}) {why}", src.var("api-key"))));
        }
        // The key anywhere but in api-key would be printed, written to reports, or posted;
        // so would another key (the secret passed to the wrong input, api-key set to
        // something else).
        for name in names.into_iter().filter(|n| *n != "api-key") {
            if let Some(Some(v)) = raw.slot(name).map(|v| &*v) {
                if src.1.holds_key(v.as_bytes()) {
                    return Err(src.bad(name, v, &format!("it holds the API key; {KEY_ONLY}")));
                }
                if checks::stray_key(v) {
                    let why = if no_key { checks::STRAY_KEY } else { checks::OTHER_KEY };
                    return Err(ConfigError(format!("input '{name}' (from {}) {why}", src.var(name))));
                }
            }
        }
        if let Some(e) = checks::unread_spelling(&vars) {
            return Err(ConfigError(e));
        }
        let typos = checks::misspelled(&vars);
        match Self::validate(raw, &src) {
            Ok(c) => Ok(Config { warnings: [c.warnings, typos].concat(), ..c }),
            // A refused run prints no warning: the variable that was likely meant goes
            // with the error, on its line.
            Err(ConfigError(e)) => Err(ConfigError(typos.iter().fold(e, |e, t| format!("{e}; {t}")))),
        }
    }

    fn validate(raw: RawInputs, src: &Sources) -> Result<Self, ConfigError> {
        let mut warnings = Vec::new();
        let simulate = match raw.simulate.as_deref().map(crate::sim::scenario) {
            Some(Some(s)) => Some(s.to_owned()),
            Some(None) => {
                let names = crate::sim::SCENARIOS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
                let given = raw.simulate.unwrap_or_default();
                return Err(src.bad("simulate", &given, &format!("expected one of {names}")));
            }
            None => None,
        };
        let publish = publish_inputs::publish_inputs(&raw, src, &mut warnings)?;
        let api_key = match raw.api_key {
            Some(k) if check_api_key(&k).is_err() => {
                let why = check_api_key(&k).err().unwrap_or_default();
                return Err(ConfigError(format!("input 'api-key' (from {}) {why}", src.var("api-key"))));
            }
            Some(k) => {
                if !k.starts_with("pe_live_") {
                    warnings
                        .push("api-key does not start with pe_live_; is it a PostEverywhere API key?".into());
                }
                Some(ApiKey::new(k))
            }
            None if simulate.is_some() => None,
            None => {
                return Err(missing("api-key", "the PostEverywhere API key, e.g. from a secret"));
            }
        };
        let post_ids = match (&raw.post_id, &publish) {
            (Some(_), Some(_)) => {
                return Err(ConfigError(
                    "inputs 'post-id' and 'content' are exclusive: post-id waits for a post that exists, \
                     content (or content-file) publishes one; give one of them"
                        .into(),
                ));
            }
            (Some(list), None) => {
                parse_post_ids(list).map_err(|(bad, why)| src.bad("post-id", &bad, &why))?
            }
            (None, Some(_)) => Vec::new(),
            (None, None) if simulate.is_some() => vec!["sim-post".to_owned()],
            (None, None) => {
                return Err(ConfigError(
                    "input 'post-id' or 'content' is required: post-id (the id the create call returned) to wait \
                     for a post, or content / content-file (with accounts) to publish one and wait for it"
                        .into(),
                ));
            }
        };
        let base_url = match raw.base_url {
            // The simulator replaces the base URL, so a bad one does not matter there.
            Some(text) if simulate.is_none() => {
                check_base_url(&text).map_err(|why| src.bad("base-url", &text, &why))?
            }
            _ => Url::parse(DEFAULT_BASE_URL).expect("the default URL parses"),
        };
        // Parses an optional input; a bad value names the input and the value as typed.
        fn parsed<T>(
            src: &Sources,
            name: &str,
            v: Option<String>,
            parse: impl Fn(&str) -> Result<T, String>,
        ) -> Result<Option<T>, ConfigError> {
            v.map(|v| parse(&v).map_err(|why| src.bad(name, &v, &why))).transpose()
        }
        if simulate.is_none() {
            warnings.extend(base_url_hint(&base_url));
        }
        // The simulator settles in a few seconds, so its runs (and `timeout`) end in seconds.
        let default_timeout =
            if simulate.is_some() { Duration::from_secs(10) } else { Duration::from_secs(300) };
        let timeout =
            parsed(src, "timeout", raw.timeout, parse_positive_duration)?.unwrap_or(default_timeout);
        let heartbeat = parsed(src, "heartbeat", raw.heartbeat, parse_positive_duration)?
            .unwrap_or(Duration::from_secs(30));
        let default_interval =
            if simulate.is_some() { Duration::from_millis(500) } else { Duration::from_secs(10) };
        let poll_interval = parsed(src, "poll-interval", raw.poll_interval, parse_positive_duration)?
            .unwrap_or(default_interval);
        if poll_interval < Duration::from_secs(10)
            && base_url.host_str() == Some(PRODUCTION_HOST)
            && simulate.is_none()
        {
            warnings.push(format!(
                "poll-interval {} is below 10 s: PostEverywhere asks for at most one poll per 10 s \
                 (60 requests a minute are shared by every job using this key)",
                humantime::format_duration(poll_interval)
            ));
        }
        let fail_on = parsed(src, "fail-on", raw.fail_on, parse_fail_on)?.unwrap_or(FailOn::Any);
        let summary = parsed(src, "summary", raw.summary, parse_bool)?.unwrap_or(true);
        let max_errors =
            parsed(src, "max-errors", raw.max_errors, |v| parse_count(v, 1, 1000))?.unwrap_or(10);
        // The `retry` scenario shows a re-queue without further inputs.
        let default_retries = u32::from(simulate.as_deref() == Some("retry"));
        let retry_failed = parsed(src, "retry-failed", raw.retry_failed, |v| parse_count(v, 0, 10))?
            .unwrap_or(default_retries);
        // The simulator is not the shared API: no need to ration it.
        let default_rate = if simulate.is_some() { 6000 } else { 50 };
        let rate_limit =
            parsed(src, "rate-limit", raw.rate_limit, |v| parse_count(v, 1, 60_000))?.unwrap_or(default_rate);
        let file = |name: &str, v: Option<String>| parsed(src, name, v, check_output_path);
        let results_file = file("results-file", raw.results_file)?;
        let summary_file = file("summary-file", raw.summary_file)?;
        let dotenv_file = file("dotenv-file", raw.dotenv_file)?;
        let junit_file = file("junit-file", raw.junit_file)?;
        let annotations_file = file("annotations-file", raw.annotations_file)?;
        Ok(Config {
            api_key,
            post_ids,
            base_url,
            timeout,
            poll_interval,
            fail_on,
            summary,
            results_file,
            summary_file,
            dotenv_file,
            junit_file,
            annotations_file,
            max_errors,
            retry_failed,
            rate_limit,
            heartbeat,
            simulate,
            publish,
            warnings,
            redactor: src.1.clone(),
        })
    }
}

fn missing(input: &str, what: &str) -> ConfigError {
    let [a, _, c] = env_names(input);
    ConfigError(format!("input '{input}' is required: set it to {what} (with: {input}, or {a} / {c})"))
}

#[cfg(test)]
mod tests;

//! The publishing inputs read together, checked before any request: `content` or
//! `content-file` first (without them the step only waits), then the accounts, media,
//! schedule, switches and `dedupe`.

use std::time::{Duration, SystemTime};

use super::inputs::RawInputs;
use super::values::{self, parse_bool};
use super::{ConfigError, KEY_ONLY, Publish, Sources, missing, publish};
use crate::publish::dedupe;

/// Why a `schedule-at` since past, given to a job run again, stops the step when its first
/// run's post is not there to reuse.
const PASSED: &str = "is in the past, and this job's first run made no post for that time that could be \
                      found to reuse; give a time to come, or leave schedule-at out to publish now";

/// The publish inputs, when the step is to create the post; checked before any request.
pub(super) fn publish_inputs(
    raw: &RawInputs,
    src: &Sources,
    warnings: &mut Vec<String>,
) -> Result<Option<Publish>, ConfigError> {
    use publish::{check_content, read_content};
    let content = match (&raw.content, &raw.content_file) {
        (Some(_), Some(_)) => {
            return Err(ConfigError(
                "inputs 'content' and 'content-file' are exclusive: give one of them".into(),
            ));
        }
        (Some(c), None) => {
            check_content(c).map_err(|why| src.bad("content", c, &why))?;
            Some((c.clone(), "input content".to_owned()))
        }
        (None, Some(f)) => {
            let text = read_content(f).map_err(|why| src.bad("content-file", f, &why))?;
            if src.1.holds_key(text.as_bytes()) {
                return Err(src.bad("content-file", f, &format!("the file holds the API key; {KEY_ONLY}")));
            }
            // Another key than api-key's would be posted (the value checks saw only the path).
            if super::checks::stray_key(&text) {
                let why = "the file holds what looks like an API key (pe_live_…); a key is never posted";
                return Err(src.bad("content-file", f, why));
            }
            Some((text, f.clone()))
        }
        (None, None) => None,
    };
    let Some((content, content_from)) = content else {
        // A switch is stray only when it is on (`false` is its default). A value that is no
        // switch at all is still refused.
        let on = |name: &str, v: &Option<String>| match v {
            Some(v) => parse_bool(v).map_err(|why| src.bad(name, v, &why)),
            None => Ok(false),
        };
        // `dedupe` may come as a default for every step: its value is still checked.
        if let Some(v) = &raw.dedupe {
            values::parse_duration(v).map_err(|why| src.bad("dedupe", v, &why))?;
        }
        let stray = [
            ("accounts", raw.accounts.is_some()),
            ("media", raw.media.is_some()),
            ("schedule-at", raw.schedule_at.as_deref().is_some_and(|v| !v.eq_ignore_ascii_case("now"))),
            ("skip-unhealthy", on("skip-unhealthy", &raw.skip_unhealthy)?),
            ("dry-run", on("dry-run", &raw.dry_run)?),
        ];
        for (name, _) in stray.iter().filter(|(_, set)| *set) {
            // Set for the whole job (`POSTEVERYWHERE_…` in its environment), it is meant for
            // the job's publishing steps as well as this waiting one: said, not refused.
            let var = src.var(name);
            if var.starts_with("POSTEVERYWHERE_") {
                warnings.push(format!(
                    "input '{name}' is set (from {var}), but this step publishes nothing (no content): ignored here"
                ));
                continue;
            }
            return Err(ConfigError(format!(
                "input '{name}' is set, but no content or content-file (an empty content counts as none): \
                 give the text to publish, or leave '{name}' out to wait for a post-id"
            )));
        }
        return Ok(None);
    };
    publish_config(raw, src, content, content_from).map(Some)
}

/// The rest of the publish inputs, given the content: only a publishing run executes it.
#[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
fn publish_config(
    raw: &RawInputs,
    src: &Sources,
    content: String,
    content_from: String,
) -> Result<Publish, ConfigError> {
    use publish::{parse_accounts, parse_media, parse_schedule};
    let accounts = match &raw.accounts {
        Some(a) => parse_accounts(a).map_err(|why| src.bad("accounts", a, &why))?,
        None => {
            return Err(missing(
                "accounts",
                "the accounts to post to: platforms (x, linkedin), platform:@handle, ids, or all",
            ));
        }
    };
    let media = match &raw.media {
        Some(m) => parse_media(m).map_err(|why| src.bad("media", m, &why))?,
        None => Vec::new(),
    };
    let flag = |name: &str, v: &Option<String>| -> Result<bool, ConfigError> {
        v.as_deref()
            .map(|v| parse_bool(v).map_err(|why| src.bad(name, v, &why)))
            .transpose()
            .map(|b| b.unwrap_or(false))
    };
    let dry_run = flag("dry-run", &raw.dry_run)?;
    let dedupe = match &raw.dedupe {
        Some(v) => values::parse_duration(v).map_err(|why| src.bad("dedupe", v, &why))?,
        None => Duration::from_secs(24 * 3600),
    };
    // A time since past stands only where the post made for it may be reused.
    let now = SystemTime::now();
    let may_pass = |at| !dry_run && !dedupe.is_zero() && dedupe::rerun_before(at, |k| std::env::var(k).ok());
    let (schedule_at, schedule_passed) = match &raw.schedule_at {
        // The default, said.
        Some(v) if v.eq_ignore_ascii_case("now") => (None, None),
        Some(v) => {
            let at = parse_schedule(v, now, may_pass).map_err(|why| src.bad("schedule-at", v, &why))?;
            let passed = (at.0 <= now).then(|| src.bad("schedule-at", v, PASSED).0);
            (Some(at), passed)
        }
        None => (None, None),
    };
    Ok(Publish {
        content,
        content_from,
        accounts,
        media,
        schedule_at,
        schedule_passed,
        skip_unhealthy: flag("skip-unhealthy", &raw.skip_unhealthy)?,
        dry_run,
        dedupe,
    })
}

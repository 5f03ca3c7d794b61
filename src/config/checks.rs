//! Checks of single inputs that catch the mistakes people make, each with the hint that
//! fits it: a post id pasted as JSON, a key with its `Bearer ` prefix or from another
//! product, a base URL without its API path, a report path that cannot be written.

use std::path::PathBuf;

use reqwest::Url;

/// Splits on commas, whitespace and newlines; deduplicates keeping the first occurrence.
pub(super) fn parse_post_ids(list: &str) -> Result<Vec<String>, (String, String)> {
    let t = list.trim();
    if t.starts_with(['{', '[']) || t.contains('"') {
        return Err((
            list.to_owned(),
            "looks like JSON; give the post's id alone (the post_id of the create call's answer), \
             e.g. 3f0c2a1e-58cc-4372-a567-0e02b2c3d479"
                .to_owned(),
        ));
    }
    let mut ids: Vec<String> = Vec::new();
    for id in list.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()) {
        check_post_id(id).map_err(|why| (id.to_owned(), why))?;
        if !ids.iter().any(|i| i == id) {
            ids.push(id.to_owned());
        }
    }
    if ids.is_empty() {
        return Err((list.to_owned(), "holds no post id".to_owned()));
    }
    if ids.len() > 1000 {
        return Err((
            format!("{} ids", ids.len()),
            "at most 1000 posts can be waited for in one step".to_owned(),
        ));
    }
    Ok(ids)
}

/// What keeps an id the API gave (a post's, a media file's) from being used as one, by the
/// post-id input's rule: outputs hold one id a line, and a later step may pass `post-id`
/// on as this step's input.
pub fn id_problem(id: &str) -> Option<String> {
    check_post_id(id).err()
}

/// Post ids are UUIDs, `post_abc123` or numbers: letters, digits and `-_.~`.
fn check_post_id(p: &str) -> Result<(), String> {
    if let Some(c) = p.chars().find(|c| !(c.is_ascii_alphanumeric() || "-_.~".contains(*c))) {
        return Err(format!(
            "has a character no post id has ({c:?}); post ids look like 3f0c2a1e-58cc-… or post_abc123, \
             separated by commas, spaces or new lines"
        ));
    }
    if p.chars().all(|c| c == '.') {
        return Err("is not a post id".into());
    }
    if p.len() > 200 {
        return Err("is longer than 200 characters".into());
    }
    Ok(())
}

/// Prefixes of other products' secrets: sending one to PostEverywhere would leak it.
const FOREIGN_KEYS: &[(&str, &str)] = &[
    ("github_pat_", "a GitHub token"),
    ("ghp_", "a GitHub token"),
    ("gho_", "a GitHub token"),
    ("ghu_", "a GitHub token"),
    ("ghs_", "a GitHub token"),
    ("ghr_", "a GitHub token"),
    ("glpat-", "a GitLab token"),
    ("sk_live_", "a Stripe key"),
    ("sk_test_", "a Stripe key"),
    ("rk_live_", "a Stripe key"),
    ("xoxb-", "a Slack token"),
    ("xoxp-", "a Slack token"),
    ("sk-ant-", "an Anthropic key"),
    ("sk-proj-", "an OpenAI key"),
    ("AKIA", "an AWS access key id"),
    ("AIza", "a Google API key"),
    ("npm_", "an npm token"),
];

/// Shorter than any API key: `pe_live_` and 32 more make 40.
const MIN_KEY_LEN: usize = 16;

/// What is wrong with an API key, if anything is. Never quotes the key.
pub(super) fn check_api_key(k: &str) -> Result<(), String> {
    if k.as_bytes().get(..7).is_some_and(|b| b.eq_ignore_ascii_case(b"bearer ")) {
        return Err("starts with 'Bearer ': give the key alone, the 'Bearer ' is added for you".into());
    }
    if k.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(
            "contains whitespace or control characters; copy the key again without line breaks".into()
        );
    }
    if !k.is_ascii() {
        return Err(
            "contains characters that are not ASCII; a PostEverywhere API key is pe_live_ followed by \
                    letters and digits: copy it again from PostEverywhere"
                .into(),
        );
    }
    if let Some((prefix, what)) = FOREIGN_KEYS.iter().find(|(p, _)| k.starts_with(p)) {
        return Err(format!(
            "looks like {what} ({prefix}…), not a PostEverywhere API key (pe_live_…); it is not sent anywhere. \
             Create a key in PostEverywhere under Settings → API keys"
        ));
    }
    // Too short to be a key, and to be told apart from ordinary text when scrubbing.
    if k.len() < MIN_KEY_LEN {
        return Err(format!(
            "is {} characters long: a PostEverywhere API key is pe_live_ followed by 32 letters and digits; \
             copy it again from PostEverywhere",
            k.len()
        ));
    }
    Ok(())
}

/// The hint for a base URL whose path cannot be the API root, if it cannot.
pub fn base_url_hint(url: &Url) -> Option<String> {
    let path = url.path().trim_end_matches('/');
    (!path.ends_with("/v1")).then(|| {
        format!(
            "base-url {url} has no /api/v1 path: the API root is {} (a 404 then means the URL, not the post)",
            super::DEFAULT_BASE_URL
        )
    })
}

/// `https://…`, or `http://` to a loopback host only, so the key never travels in clear.
pub(super) fn check_base_url(s: &str) -> Result<Url, String> {
    // The URL parser drops tabs and line breaks inside; a value that has them is two values.
    if s.contains(|c: char| c.is_whitespace() || c.is_control()) {
        return Err("holds a space or line break; give the URL alone".into());
    }
    let url = Url::parse(s).map_err(|e| format!("not a URL ({e})"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query string or fragment".into());
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => {
            Err("plain http is only allowed to a loopback host (127.0.0.1, ::1, localhost); use https".into())
        }
        other => Err(format!("scheme {other} is not supported; use https")),
    }
}

/// 127.0.0.0/8, `::1` or `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// A file we will write at the end: checked now, not after a 5-minute wait (its folder
/// exists and takes new files; nothing but a regular file, or a link to one, is there).
pub(super) fn check_output_path(p: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(p);
    crate::ci::check_target(&path)?;
    Ok(path)
}

/// Why a value holding what looks like a key is refused when api-key is not set (the
/// value is not echoed: with no key given, nothing could scrub it).
pub(super) const STRAY_KEY: &str = "holds what looks like an API key (pe_live_…) while api-key is not set; \
     give the key as api-key, not here (is the secret passed to the wrong input?)";

/// Why a value holding what looks like a key other than api-key's is refused (not echoed:
/// nothing could scrub it).
pub(super) const OTHER_KEY: &str = "holds what looks like an API key (pe_live_…) other than api-key's; a key is \
     never posted or printed: give it as api-key, not here (are two secrets swapped?)";

/// `pe_live_` followed by at least 16 letters and digits: a key, even when none is given
/// as api-key to recognise it by.
pub(super) fn stray_key(v: &str) -> bool {
    v.match_indices("pe_live_")
        .any(|(i, p)| v[i + p.len()..].bytes().take_while(u8::is_ascii_alphanumeric).count() >= 16)
}

/// Edit distance (insertions, deletions, substitutions) between two short names.
pub(super) fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// A warning for each variable that spells no input but nearly spells one: GitLab and a
/// container hand a misspelled `POSTEVERYWHERE_TIMOUT` over as it is, and it would be
/// ignored without a word. Our own dotenv report's variables, which a later job receives,
/// and the installer's are not inputs and not typos.
/// An input's name in a spelling that is not read (`POSTEVERYWHERE_DRY-RUN`,
/// `POSTEVERYWHERE_dry_run`, `INPUT_fail-on`): meant for that input without a doubt, and
/// ignored it would run without it (`dry-run` ignored posts for real). The first, as the
/// run's error; its value is not quoted (it may be the key).
pub(super) fn unread_spelling(vars: &[(String, String)]) -> Option<String> {
    vars.iter().find_map(|(var, _)| {
        let (prefix, rest, forms) = super::inputs::read_forms(var)?;
        let name = rest.to_ascii_lowercase().replace('_', "-");
        let input = super::INPUTS.iter().find(|i| i.name == name)?;
        if forms.iter().any(|&(_, snake)| super::inputs::spells(rest, input.name, snake)) {
            return None;
        }
        let upper = input.name.to_ascii_uppercase();
        let spelled = |&(_, snake): &(usize, bool)| {
            format!("{prefix}{}", if snake { upper.replace('-', "_") } else { upper.clone() })
        };
        let mut read: Vec<String> = forms.iter().map(spelled).collect();
        read.dedup(); // one spelling when the name has no `-`
        let read = read.join(" or ");
        Some(format!(
            "input '{}' is set as {var}, a spelling that is not read: name the variable {read} (upper case)",
            input.name
        ))
    })
}

/// An input set as both `INPUT_X-Y` (what the runner sets for a container action) and
/// `INPUT_X_Y` (what ours hands the binary), to different values: only the first would be
/// read, without a word, and which one a person meant cannot be told (`dry-run` true in one
/// and false in the other). Same values, or one empty, are fine. Neither value is quoted
/// (one may be the key).
pub(super) fn set_twice(vars: &[(String, String)]) -> Option<String> {
    let set = |k: &str| vars.iter().find(|(v, _)| v == k).map(|(_, x)| x.trim()).filter(|x| !x.is_empty());
    vars.iter().filter(|(k, _)| k.contains('-')).find_map(|(kebab, value)| {
        let rest = kebab.strip_prefix("INPUT_")?;
        let input = super::INPUTS.iter().find(|i| super::inputs::spells(rest, i.name, false))?;
        let snake = kebab.replace('-', "_");
        let (one, other) = (value.trim(), set(&snake)?);
        (!one.is_empty() && one != other).then(|| {
            format!(
                "input '{}' is set twice to different values, as {kebab} and {snake}: set it once",
                input.name
            )
        })
    })
}

pub(super) fn misspelled(vars: &[(String, String)]) -> Vec<String> {
    let ours = |rest: &str| crate::report::dotenv::KEYS.contains(&rest) || rest == "WAIT_DOWNLOAD_URL";
    let mut out = Vec::new();
    for (var, _) in vars {
        let Some((prefix, rest)) =
            ["POSTEVERYWHERE_", "INPUT_"].into_iter().find_map(|p| var.strip_prefix(p).map(|rest| (p, rest)))
        else {
            continue;
        };
        let name = rest.to_ascii_lowercase().replace('_', "-");
        if rest.is_empty() || ours(rest) || super::INPUTS.iter().any(|i| i.name == name) {
            continue;
        }
        // `POSTEVERYWHERE_DOTENV` for `_DOTENV_FILE`: a report input without its `_FILE`.
        let file = super::INPUTS.iter().find(|i| i.name.strip_suffix("-file") == Some(name.as_str()));
        let near = file.map(|i| (0, i.name));
        let near = near.or_else(|| super::INPUTS.iter().map(|i| (distance(&name, i.name), i.name)).min());
        if let Some((_, input)) = near.filter(|(d, _)| *d <= 2) {
            let spelled = if prefix == "INPUT_" && rest.contains('-') {
                input.to_ascii_uppercase()
            } else {
                input.to_ascii_uppercase().replace('-', "_")
            };
            out.push(format!("{var} is not an input, so it is ignored; did you mean {prefix}{spelled}?"));
        }
    }
    out
}

#[cfg(test)]
mod tests;

//! GitLab's dotenv report: `KEY=value` lines a later job receives as variables. GitLab
//! rejects the whole file (and fails the upload) unless: keys are `[A-Za-z0-9_]`, there are
//! no blank lines, comments or multi-line values, at most 20 variables, under 5 KB
//! (ci-conventions §8). `render` builds within those limits, shortening long values with a
//! marker, and `validate` enforces them before anything is written.
//!
//! GitLab stores the values as expandable and expands them twice on the way to the next
//! job (Rails: `$X`, `${X}`, `%X%` for known variables, leaving `$$` and `%%` alone; then
//! the runner: `$X`, `${X}`, `$$` to `$`). So every `$` is written `$$`, which arrives as
//! `$`: exact. `%X%` cannot be escaped exactly (nothing turns `%%` back into `%`): a value
//! (or one item of a list) holding such a sequence has each of its `%` doubled, which no
//! one expands.

use super::Report;

/// GitLab's self-managed default; GitLab.com allows more.
pub const MAX_VARIABLES: usize = 20;
/// Under GitLab's 5120-byte default, with room to spare.
pub const MAX_BYTES: usize = 5000;

const MARKER: &str = " …(cut; full data in results-file)";

/// The report's variables, after `POSTEVERYWHERE_` (a later job receives them: none is an
/// input's name, and none is taken for a misspelled one).
pub const KEYS: [&str; 12] = [
    "STATUS",
    "EXIT_CODE",
    "TOTAL_COUNT",
    "PUBLISHED_COUNT",
    "FAILED_COUNT",
    "PENDING_COUNT",
    "RETRIED_COUNT",
    "PUBLISHED_URLS",
    "FAILED_PLATFORMS",
    "POST_IDS",
    "MESSAGE",
    // Not RESULTS_FILE: a later job gets these variables ahead of its own, and that name is
    // the results-file input's (a second wait there would write to our path).
    "RESULTS_PATH",
];

/// A single line: control characters become spaces, and GitLab strips the ends anyway.
fn clean(v: &str) -> String {
    v.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().to_owned()
}

/// Whether GitLab would read `%NAME%` in `v` as a variable reference.
fn has_percent_reference(v: &str) -> bool {
    let b = v.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        c == b'%'
            && b.get(i + 1).is_some_and(|n| n.is_ascii_alphabetic() || *n == b'_')
            && b[i + 1..]
                .iter()
                .position(|x| !(x.is_ascii_alphanumeric() || *x == b'_'))
                .is_some_and(|n| b[i + 1 + n] == b'%')
    })
}

/// `v` as GitLab must receive it to hand the next job `v` itself: `$` doubled (exact), and
/// `%` doubled when `v` holds a `%NAME%` reference (inert, not exact).
pub fn inert(v: &str) -> String {
    let v = if has_percent_reference(v) { v.replace('%', "%%") } else { v.to_owned() };
    v.replace('$', "$$")
}

/// `v` cut so that, once made `inert`, it takes at most `max` bytes.
fn inert_within(v: &str, max: usize) -> String {
    let out = inert(v);
    if out.len() <= max {
        return out;
    }
    // Doubling at most doubles the length: cut the raw text to half, then mark it.
    inert(&text_within(v, max / 2))
}

/// Keeps whole space-separated items while they fit in `max` bytes, then says how many
/// were left out.
fn items_within(items: &[String], max: usize) -> String {
    if items.iter().map(|i| i.len() + 1).sum::<usize>() <= max + 1 {
        return items.join(" ");
    }
    let budget = max.saturating_sub(60);
    let mut out = String::new();
    for (n, item) in items.iter().enumerate() {
        if out.len() + 1 + item.len() > budget {
            out.push_str(&format!(" …+{} more (full list in results-file)", items.len() - n));
            return out.trim_start().to_owned();
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(item);
    }
    out
}

/// Cuts text to `max` bytes on a character boundary, with the marker.
fn text_within(v: &str, max: usize) -> String {
    if v.len() <= max {
        return v.to_owned();
    }
    let mut end = max.saturating_sub(MARKER.len());
    while !v.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{MARKER}", &v[..end])
}

/// The report's variables, every value one line, each within its budget.
#[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
pub fn render(r: &Report, results_file: Option<&str>, exit_code: u8) -> String {
    let urls: Vec<String> = r.published_urls().filter_map(crate::escape::link_url).map(inert).collect();
    let platforms: Vec<String> = r.failed_platforms().iter().map(|p| p.replace(' ', "_")).collect();
    let posts: Vec<String> = r.posts.iter().map(|p| inert(&clean(&p.post_id).replace(' ', "_"))).collect();
    // In the order of `KEYS`, whose names they go by.
    let values: [String; KEYS.len()] = [
        r.status.as_str().to_owned(),
        exit_code.to_string(),
        r.tally.total.to_string(),
        r.tally.published.to_string(),
        r.tally.failed.to_string(),
        r.tally.pending.to_string(),
        r.retried().to_string(),
        items_within(&urls, 2800),
        inert_within(&platforms.join(","), 300),
        items_within(&posts, 600),
        inert_within(&clean(r.message.as_deref().unwrap_or("")), 600),
        results_file.map(clean).map(|p| inert_within(&p, 300)).unwrap_or_default(),
    ];
    let mut out = String::new();
    for (k, v) in KEYS.iter().zip(values).filter(|(_, v)| !v.is_empty()) {
        out.push_str(&format!("POSTEVERYWHERE_{k}={v}\n"));
    }
    out
}

/// GitLab's rules, checked on the exact bytes we are about to write.
#[inline(never)] // cold in most runs: docs/performance.md#code-only-some-runs-execute
pub fn validate(text: &str) -> Result<(), String> {
    if text.len() >= MAX_BYTES {
        return Err(format!("{} bytes; GitLab accepts under 5 KB", text.len()));
    }
    if !text.is_empty() && !text.ends_with('\n') {
        return Err("the last line has no line break".into());
    }
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() > MAX_VARIABLES {
        return Err(format!("{} variables; GitLab accepts at most {MAX_VARIABLES}", lines.len()));
    }
    for line in lines {
        let (key, value) = line.split_once('=').ok_or_else(|| format!("line without '=': {line:?}"))?;
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!("bad key {key:?}"));
        }
        if value.chars().any(char::is_control) || value.trim().is_empty() {
            return Err(format!("bad value for {key}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::State;
    use crate::outcome::Status;
    use crate::report::fixtures::{dest, report};

    #[test]
    fn a_typical_report() {
        let mut r = report(
            Status::Partial,
            vec![dest("instagram", "@a", State::Published), dest("linkedin", "B", State::Failed)],
        );
        r.exit_code = 1;
        let text = render(&r, Some("out/results.json"), r.exit_code);
        assert_eq!(
            text,
            "POSTEVERYWHERE_STATUS=partial\nPOSTEVERYWHERE_EXIT_CODE=1\nPOSTEVERYWHERE_TOTAL_COUNT=2\n\
             POSTEVERYWHERE_PUBLISHED_COUNT=1\nPOSTEVERYWHERE_FAILED_COUNT=1\nPOSTEVERYWHERE_PENDING_COUNT=0\n\
             POSTEVERYWHERE_RETRIED_COUNT=0\nPOSTEVERYWHERE_PUBLISHED_URLS=https://instagram.example/p/1\n\
             POSTEVERYWHERE_FAILED_PLATFORMS=linkedin\nPOSTEVERYWHERE_POST_IDS=post_1\n\
             POSTEVERYWHERE_RESULTS_PATH=out/results.json\n"
        );
        validate(&text).unwrap();
    }

    /// A later job receives the report as variables, ahead of its own: none may be read as
    /// an input there.
    #[test]
    fn no_variable_is_read_as_an_input() {
        let mut r =
            report(Status::Partial, vec![dest("x", "@a", State::Published), dest("li", "B", State::Failed)]);
        r.message = Some("m".into());
        let text = render(&r, Some("r.json"), 1);
        let keys: Vec<&str> = text.lines().map(|l| l.split_once('=').unwrap().0).collect();
        assert_eq!(keys.len(), 12, "{text}");
        let listed: Vec<String> = KEYS.iter().map(|k| format!("POSTEVERYWHERE_{k}")).collect();
        assert_eq!(keys, listed, "KEYS lists the variables, in order");
        for input in crate::config::INPUTS {
            for name in crate::config::env_names(input.name) {
                assert!(!keys.contains(&name.as_str()), "{name} would be input {}", input.name);
            }
        }
    }

    #[test]
    fn huge_and_hostile_values_still_make_a_valid_file() {
        let mut dests = Vec::new();
        for n in 0..3000 {
            let mut d = dest("x", "@a", State::Published);
            d.url = Some(format!("https://x.example/{n}/{}", "p".repeat(n % 50)));
            dests.push(d);
            let mut f = dest(&format!("plat\nform{n}=x,"), "@b", State::Failed);
            f.error = Some("e".into());
            dests.push(f);
        }
        let mut r = report(Status::Partial, dests);
        r.message = Some("line1\nKEY=evil\r\n# comment\n".repeat(500));
        let text = render(&r, Some(&"dir/".repeat(200)), r.exit_code);
        validate(&text).unwrap();
        assert!(text.contains("more (full list in results-file)"));
        assert!(text.contains("full data in results-file"));
        assert!(!text.contains("\nKEY=evil"));
    }

    #[test]
    fn values_survive_gitlab_expansion() {
        assert_eq!(inert("token ${CI_JOB_TOKEN} $HOME $$"), "token $${CI_JOB_TOKEN} $$HOME $$$$");
        assert_eq!(inert("https://x/?$top=1&a=%41%20"), "https://x/?$$top=1&a=%41%20", "no %NAME% here");
        assert_eq!(inert("a %CI_JOB_TOKEN% b %41"), "a %%CI_JOB_TOKEN%% b %%41");
        assert_eq!(inert("%E2%80%99"), "%%E2%%80%%99", "E2 could be a variable's name");
        assert!(inert_within(&"$".repeat(1000), 300).len() <= 300);
    }

    #[test]
    fn the_validator_catches_what_gitlab_rejects() {
        assert!(validate("A=1\n\nB=2\n").is_err());
        assert!(validate("# c\n").is_err());
        assert!(validate("A-B=1\n").is_err());
        assert!(validate("A=\n").is_err());
        assert!(validate(&"A=1\n".repeat(21)).is_err());
        assert!(validate(&format!("A={}\n", "x".repeat(5000))).is_err());
        assert!(validate("A=1").is_err());
        validate("A=1=2\n").unwrap();
    }
}

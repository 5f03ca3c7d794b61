//! The inputs that make the step publish the post itself (`content` or `content-file`,
//! `accounts`, `media`, `schedule-at`, `skip-unhealthy`, `dry-run`, `dedupe`), checked
//! before any request: content that is there, accounts written as platforms, handles, ids
//! or `all`, media files that exist and are of a type and size a platform takes, and a
//! schedule in the future.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// Platforms PostEverywhere connects (its docs and SDKs), and other names people use.
pub const PLATFORMS: &[&str] = &[
    "instagram",
    "x",
    "linkedin",
    "facebook",
    "youtube",
    "tiktok",
    "threads",
    "pinterest",
    "bluesky",
    "telegram",
    "discord",
    "wordpress",
];

/// How an account is named in `accounts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountSpec {
    /// Every active account.
    All,
    Id(i64),
    Platform(String),
    /// `platform:@handle` (the handle or display name, `@` optional).
    Handle {
        platform: String,
        handle: String,
    },
}

impl std::fmt::Display for AccountSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AccountSpec::All => f.write_str("all"),
            AccountSpec::Id(n) => write!(f, "{n}"),
            AccountSpec::Platform(p) => f.write_str(p),
            AccountSpec::Handle { platform, handle } => write!(f, "{platform}:{handle}"),
        }
    }
}

/// A media file, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFile {
    pub path: PathBuf,
    /// The file name sent to the API.
    pub name: String,
    pub content_type: &'static str,
    pub size: u64,
}

/// What publishing needs; `Config::publish` is `Some` when the step creates the post.
#[derive(Debug, Clone)]
pub struct Publish {
    pub content: String,
    /// Where the content came from, for messages.
    pub content_from: String,
    pub accounts: Vec<AccountSpec>,
    pub media: Vec<MediaFile>,
    /// When to publish (UTC, RFC 3339), or now.
    pub schedule_at: Option<(SystemTime, String)>,
    /// `schedule-at` is already past, which stands only for a job run again: its first
    /// run's post is reused, or the step stops with this input error.
    pub schedule_passed: Option<String>,
    pub skip_unhealthy: bool,
    pub dry_run: bool,
    /// How far back an identical post counts as this one (0: never reuse).
    pub dedupe: Duration,
}

/// At most this many media files a post.
pub const MAX_MEDIA: usize = 10;
const MIB: u64 = 1024 * 1024;

/// The type of a media file from its extension, and the largest size we send.
fn media_type(ext: &str) -> Option<(&'static str, u64)> {
    Some(match ext.to_ascii_lowercase().as_str() {
        "jpg" | "jpeg" => ("image/jpeg", 20 * MIB),
        "png" => ("image/png", 20 * MIB),
        "gif" => ("image/gif", 20 * MIB),
        "webp" => ("image/webp", 20 * MIB),
        "mp4" => ("video/mp4", 1024 * MIB),
        "mov" => ("video/quicktime", 1024 * MIB),
        "webm" => ("video/webm", 1024 * MIB),
        "m4v" => ("video/x-m4v", 1024 * MIB),
        _ => return None,
    })
}

/// Splits a list input on commas and whitespace.
fn items(list: &str) -> impl Iterator<Item = &str> {
    list.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty())
}

/// The nearest known platform name, for "did you mean".
fn nearest(word: &str) -> Option<&'static str> {
    let dist = super::checks::distance;
    PLATFORMS.iter().copied().filter(|p| dist(word, p) <= 2).min_by_key(|p| dist(word, p))
}

fn platform(word: &str) -> Result<String, String> {
    let w = word.to_ascii_lowercase();
    let w = if w == "twitter" { "x".to_owned() } else { w };
    if PLATFORMS.contains(&w.as_str()) {
        return Ok(w);
    }
    let hint = nearest(&w).map(|p| format!(" (did you mean {p}?)")).unwrap_or_default();
    Err(format!("'{word}' is no platform PostEverywhere posts to{hint}; platforms: {}", PLATFORMS.join(", ")))
}

/// `x, linkedin, instagram:@yourbrand, 2280` or `all`.
pub fn parse_accounts(list: &str) -> Result<Vec<AccountSpec>, String> {
    let mut out: Vec<AccountSpec> = Vec::new();
    for item in items(list) {
        let spec = if item.eq_ignore_ascii_case("all") {
            AccountSpec::All
        } else if let Ok(n) = item.parse::<i64>() {
            AccountSpec::Id(n)
        } else if let Some((p, h)) = item.split_once(':') {
            let handle = h.trim_start_matches('@');
            if handle.is_empty() {
                return Err(format!("'{item}' names no account after the ':' (write platform:@handle)"));
            }
            AccountSpec::Handle { platform: platform(p)?, handle: handle.to_owned() }
        } else {
            // After `platform:@handle`, more words are most likely a name with spaces (a
            // LinkedIn page's): the list is split on spaces, so say how to name it.
            let named = matches!(out.last(), Some(AccountSpec::Handle { .. }));
            AccountSpec::Platform(platform(item).map_err(|e| {
                if named {
                    format!("{e} (a name with spaces cannot be given as platform:@name: give the account's id instead)")
                } else {
                    e
                }
            })?)
        };
        if !out.contains(&spec) {
            out.push(spec);
        }
    }
    if out.is_empty() {
        return Err(
            "names no account: give platforms (x, linkedin), platform:@handle, account ids, or all".into()
        );
    }
    if out.len() > 1 && out.contains(&AccountSpec::All) {
        return Err("'all' already names every account; give it alone".into());
    }
    Ok(out)
}

/// Media files, each checked: it exists, is a readable regular file, of a known type and
/// within its size limit.
pub fn parse_media(list: &str) -> Result<Vec<MediaFile>, String> {
    let mut out: Vec<MediaFile> = Vec::new();
    for item in list.split(['\n', ',']).map(str::trim).filter(|s| !s.is_empty()) {
        let path = PathBuf::from(item);
        let meta = std::fs::metadata(&path).map_err(|e| {
            // `a.png b.png`: paths may hold spaces, so files are separated by commas or lines.
            let several = item.split_whitespace().count() > 1
                && item.split_whitespace().all(|p| std::path::Path::new(p).is_file());
            let hint = if several { "; separate files with commas or newlines" } else { "" };
            format!("{item}: cannot read it ({e}){hint}")
        })?;
        if !meta.is_file() {
            return Err(format!("{item}: not a regular file"));
        }
        std::fs::File::open(&path).map_err(|e| format!("{item}: cannot read it ({e})"))?;
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let (content_type, max) = media_type(ext).ok_or_else(|| {
            format!("{item}: a .{ext} file is no image or video PostEverywhere takes (jpg, png, gif, webp, mp4, mov, webm, m4v)")
        })?;
        if meta.len() == 0 {
            return Err(format!("{item}: the file is empty"));
        }
        if meta.len() > max {
            return Err(format!(
                "{item}: {} bytes, over the {} MiB ({max} bytes) a {content_type} file may have",
                meta.len(),
                max / MIB
            ));
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // One file named twice (`a.png, ./a.png`, a link to it) is attached once.
        let canonical = std::fs::canonicalize(&path).ok();
        let same = |m: &MediaFile| {
            m.path == path || canonical.is_some() && std::fs::canonicalize(&m.path).ok() == canonical
        };
        if !out.iter().any(same) {
            out.push(MediaFile { path, name, content_type, size: meta.len() });
        }
    }
    if out.len() > MAX_MEDIA {
        return Err(format!("{} files; a post takes at most {MAX_MEDIA}", out.len()));
    }
    Ok(out)
}

/// The most a `content-file` may hold: far more than any platform's post takes.
const MAX_CONTENT: u64 = MIB;

/// The content from `content` or the file `content-file`: text that is not empty. Only a
/// regular file is read: a named pipe would block the step, a device never end.
pub fn read_content(file: &str) -> Result<String, String> {
    read_text(file, MAX_CONTENT)
}

/// `read_content` with at most `max` bytes.
fn read_text(file: &str, max: u64) -> Result<String, String> {
    use std::io::Read as _;
    let meta = std::fs::metadata(file).map_err(|e| format!("cannot read it ({e})"))?;
    if !meta.is_file() {
        return Err("is not a regular file (a folder, device or named pipe is not read)".into());
    }
    let over = |size: String| format!("{size}, over the {} KiB a post's text may have", max / 1024);
    if meta.len() > max {
        return Err(over(format!("{} bytes", meta.len())));
    }
    // At most one byte over the limit is read: a file's stated size can be 0 (`/proc`).
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .and_then(|f| f.take(max + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read it ({e})"))?;
    if bytes.len() as u64 > max {
        return Err(over(format!("more than {max} bytes")));
    }
    let mut text = String::from_utf8(bytes).map_err(|_| "is not UTF-8 text".to_owned())?;
    // A byte-order mark some editors write first is no part of the post.
    if text.starts_with('\u{FEFF}') {
        text.drain(..'\u{FEFF}'.len_utf8());
    }
    check_content(&text)?;
    Ok(text)
}

pub fn check_content(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("is empty: there is nothing to post".into());
    }
    Ok(())
}

/// `2026-12-01T09:00:00Z` or with an offset (`+02:00`); must be in the future, unless
/// `may_pass` says a time already past may stand (a job run again, whose first run may have
/// made the post for that time). Returns the time and its UTC form for the API.
pub fn parse_schedule(
    v: &str,
    now: SystemTime,
    may_pass: impl FnOnce(SystemTime) -> bool,
) -> Result<(SystemTime, String), String> {
    let bad =
        || "expected a time with its zone, like 2026-12-01T09:00:00Z or 2026-12-01T10:00:00+01:00".to_owned();
    let at = match crate::time::parse(v) {
        Some(read) if read.zoned => read.at,
        // Without a zone the time would be read as UTC, which the user may not have meant.
        _ => return Err(bad()),
    };
    if at <= now && !may_pass(at) {
        return Err("is in the past; leave schedule-at out to publish now".into());
    }
    // RFC 3339 ends at year 9999 (an offset can carry a time past it).
    if at >= SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_800) {
        return Err("is after the year 9999".into());
    }
    Ok((at, humantime::format_rfc3339_seconds(at).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_as_people_write_them() {
        let a = parse_accounts("x, linkedin\ninstagram:@yourbrand 2280 Twitter").unwrap();
        assert_eq!(
            a,
            vec![
                AccountSpec::Platform("x".into()),
                AccountSpec::Platform("linkedin".into()),
                AccountSpec::Handle { platform: "instagram".into(), handle: "yourbrand".into() },
                AccountSpec::Id(2280),
            ]
        );
        assert_eq!(parse_accounts("ALL").unwrap(), vec![AccountSpec::All]);
        assert!(parse_accounts("linkdin").unwrap_err().contains("did you mean linkedin?"));
        assert!(parse_accounts("all, x").is_err());
        assert!(parse_accounts("x:").is_err());
        assert!(parse_accounts(" , ").is_err());
        let spaced = parse_accounts("linkedin:@Your Brand Inc.").unwrap_err();
        assert!(
            spaced.starts_with("'Brand' is no platform") && spaced.contains("give the account's id"),
            "{spaced}"
        );
        assert!(!parse_accounts("x linkdn").unwrap_err().contains("account's id"));
    }

    #[test]
    fn media_files_are_checked_before_anything_is_sent() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("launch.png");
        std::fs::write(&png, b"\x89PNG....").unwrap();
        let m = parse_media(png.to_str().unwrap()).unwrap();
        assert_eq!((m[0].content_type, m[0].size, m[0].name.as_str()), ("image/png", 8, "launch.png"));
        let txt = dir.path().join("notes.txt");
        std::fs::write(&txt, b"x").unwrap();
        assert!(parse_media(txt.to_str().unwrap()).unwrap_err().contains("a .txt file"));
        assert!(parse_media("/no/such/file.png").unwrap_err().contains("cannot read it"));
        let empty = dir.path().join("empty.jpg");
        std::fs::write(&empty, b"").unwrap();
        assert!(parse_media(empty.to_str().unwrap()).unwrap_err().contains("empty"));
        let big = dir.path().join("big.png");
        std::fs::File::create(&big).unwrap().set_len(21 * MIB).unwrap();
        assert!(parse_media(big.to_str().unwrap()).unwrap_err().contains("over the 20 MiB"));
        let video = dir.path().join("launch.mp4");
        std::fs::File::create(&video).unwrap().set_len(1024 * MIB).unwrap();
        assert_eq!(parse_media(video.to_str().unwrap()).unwrap()[0].content_type, "video/mp4");
        std::fs::File::create(&video).unwrap().set_len(1024 * MIB + 1).unwrap();
        assert!(parse_media(video.to_str().unwrap()).unwrap_err().contains("over the 1024 MiB"));
        // At most 10 files; a list written with spaces is told how to separate them.
        let names: Vec<String> = (0..11)
            .map(|i| {
                let p = dir.path().join(format!("{i}.png"));
                std::fs::write(&p, b"x").unwrap();
                p.display().to_string()
            })
            .collect();
        assert_eq!(parse_media(&names[..10].join(",")).unwrap().len(), 10);
        assert!(parse_media(&names.join("\n")).unwrap_err().contains("at most 10"));
        let e = parse_media(&names[..2].join(" ")).unwrap_err();
        assert!(e.ends_with("separate files with commas or newlines"), "{e}");
    }

    #[test]
    fn schedules_are_future_times() {
        let now = humantime::parse_rfc3339("2026-11-30T12:00:00Z").unwrap();
        let parse_schedule = |v, now| parse_schedule(v, now, |_| false);
        assert_eq!(parse_schedule("2026-12-01T09:00:00Z", now).unwrap().1, "2026-12-01T09:00:00Z");
        assert_eq!(parse_schedule("2026-12-01T10:00:00+01:00", now).unwrap().1, "2026-12-01T09:00:00Z");
        assert_eq!(parse_schedule("2026-12-01T04:00:00-05:00", now).unwrap().1, "2026-12-01T09:00:00Z");
        assert!(parse_schedule("2026-11-29T09:00:00Z", now).unwrap_err().contains("in the past"));
        // A job run again may give a time since past.
        let past = super::parse_schedule("2026-11-29T09:00:00Z", now, |_| true).unwrap();
        assert_eq!(past.1, "2026-11-29T09:00:00Z");
        assert!(parse_schedule("tomorrow", now).unwrap_err().contains("expected a time"));
        // Characters of several bytes where an offset could be: an error, never a panic.
        for v in [
            "12月1日 9時",
            "ééééa",
            "2026-12-01T09:00:00+0é",
            "+é:00",
            "x+01:0é",
            "2026-12-01T09:00:00+-1:30",
            "2026-12-01T09:00:00+99:99",
            "2026-12-01T09:00:00+01:60",
            "2026-12-01T09:00:00",
            "2026-12-01 09:00:00",
        ] {
            assert!(parse_schedule(v, now).unwrap_err().contains("expected a time"), "{v}");
        }
        assert_eq!(parse_schedule("9999-12-31T23:30:00-01:00", now).unwrap_err(), "is after the year 9999");
    }

    proptest::proptest! {
        #[test]
        fn any_schedule_text_is_a_time_or_an_error(v in "(\\PC{0,12}|9999-12-31T2[0-9]:[0-5][0-9]:00)([+-][0-9é-]{2}:[0-9é]{2})?") {
            let _ = parse_schedule(&v, std::time::SystemTime::UNIX_EPOCH, |_| true);
        }
    }

    #[cfg(unix)]
    #[test]
    fn content_comes_from_a_regular_file_only() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        for path in [fifo.to_str().unwrap(), "/dev/zero", dir.path().to_str().unwrap()] {
            assert!(read_content(path).unwrap_err().starts_with("is not a regular file"), "{path}");
        }
        let big = dir.path().join("big.md");
        std::fs::File::create(&big).unwrap().set_len(MAX_CONTENT + 1).unwrap();
        assert!(
            read_content(big.to_str().unwrap()).unwrap_err().contains("1048577 bytes, over the 1024 KiB")
        );
        // A file that says it is empty but is not (procfs) is read no further than the limit.
        #[cfg(target_os = "linux")]
        assert!(read_content("/proc/self/pagemap").is_err(), "read to its end (gigabytes)");
        #[cfg(target_os = "linux")]
        assert!(read_text("/proc/self/environ", 4).unwrap_err().starts_with("more than 4 bytes, over"));
    }

    #[test]
    fn content_must_say_something() {
        assert!(check_content("  \n ").is_err());
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.md");
        std::fs::write(&f, b"\xff\xfe").unwrap();
        assert!(read_content(f.to_str().unwrap()).unwrap_err().contains("UTF-8"));
        std::fs::write(&f, "Launch day!\n").unwrap();
        assert_eq!(read_content(f.to_str().unwrap()).unwrap(), "Launch day!\n");
    }
}

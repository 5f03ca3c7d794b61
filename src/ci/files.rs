//! Writing report files: appends in one call (the runner parses files after we exit, so a
//! record is never half there), and whole-file replacement through a temporary file and a
//! rename, so a reader never sees a half-written results file. Nothing that is not a regular
//! file is ever replaced: a link is written through to the regular file it names, and a
//! device, pipe, socket or folder is refused (`check` says so before the wait begins).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

/// Appends `text` in one write, starting on a line of its own: when an earlier writer left the
/// file without a final line break, one goes first, so the runner does not read our first
/// line (an output's `name<<DELIM`, the summary's headline) as the end of theirs.
pub(super) fn append(path: &Path, text: &str) -> io::Result<()> {
    let mut f = OpenOptions::new().create(true).read(true).append(true).open(path)?;
    if !text.is_empty() && ends_mid_line(&mut f)? {
        f.write_all(format!("\n{text}").as_bytes())?;
    } else {
        f.write_all(text.as_bytes())?;
    }
    f.flush()
}

/// Whether the file holds something and its last byte is not a line break.
fn ends_mid_line(f: &mut File) -> io::Result<bool> {
    let len = f.metadata()?.len();
    if len == 0 {
        return Ok(false);
    }
    f.seek(SeekFrom::Start(len - 1))?;
    let mut last = [0u8];
    f.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

/// What kind of thing a path names, in words, when it is not a regular file.
fn kind(t: fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_fifo() {
            return "a named pipe";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() { "a folder" } else { "not a regular file" }
}

/// The regular file a report goes to: `path` itself, or the file a link at `path` names.
/// `Ok(None)` when nothing is there yet.
fn resolve(path: &Path) -> Result<Option<PathBuf>, String> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        // A name too long, a file where a folder should be: no file can go there either.
        Err(e) => return Err(format!("cannot be looked at ({e})")),
    };
    if meta.file_type().is_symlink() {
        let target =
            fs::canonicalize(path).map_err(|_| "is a link to a file that does not exist".to_owned())?;
        let t = fs::metadata(&target).map_err(|e| format!("is a link that cannot be followed ({e})"))?;
        if !t.is_file() {
            return Err(format!(
                "is a link to {} ({}), not a regular file",
                target.display(),
                kind(t.file_type())
            ));
        }
        return Ok(Some(target));
    }
    if !meta.is_file() {
        return Err(format!(
            "is {}, not a regular file; give the path of a file to write",
            kind(meta.file_type())
        ));
    }
    Ok(Some(path.to_owned()))
}

/// Why a report cannot be written at `path` now, as far as a look can tell (no write): the
/// folder of the file it goes to (through a link) is gone, or the link no longer leads to
/// a file. Used at the end, so every report can say the step fails before any is written.
/// `replaced`: the file is replaced (`replace`), else appended to (the open follows a link,
/// so only `path`'s own folder is looked at).
pub(super) fn gone(path: &Path, replaced: bool) -> Option<String> {
    let resolved;
    let target = match replaced.then(|| resolve(path)) {
        Some(Ok(Some(t))) => {
            resolved = t;
            resolved.as_path()
        }
        Some(Err(why)) => return Some(why),
        _ => path,
    };
    no_folder(target)
}

/// The folder a file at `target` goes in (`.` for a bare name).
fn folder(target: &Path) -> &Path {
    target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or_else(|| Path::new("."))
}

/// Why no file can go at `target`: its folder does not exist.
fn no_folder(target: &Path) -> Option<String> {
    let dir = folder(target);
    (!dir.is_dir()).then(|| format!("folder {} does not exist", dir.display()))
}

/// Checks, before the wait, that a report can be written at `path`: nothing but a regular
/// file (or a link to one) is there, its folder exists, and a file can be created in it.
pub fn check(path: &Path) -> Result<(), String> {
    let text = path.as_os_str().to_string_lossy();
    if text.ends_with('/') || (cfg!(windows) && text.ends_with('\\')) {
        return Err("ends with a path separator; give the path of a file, not a folder".into());
    }
    let target = resolve(path)?.unwrap_or_else(|| path.to_owned());
    if let Some(why) = no_folder(&target) {
        return Err(why);
    }
    let dir = folder(&target);
    // Named as `replace_exact`'s temporary file is, so a name too long for it fails here.
    let probe = temporary(&target);
    match fs::File::create(&probe) {
        Ok(_) => {
            let _ = fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(format!("cannot create files in folder {}: {e}", dir.display())),
    }
}

/// The temporary file a report is written to before it replaces the one at `target`.
fn temporary(target: &Path) -> PathBuf {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    target.with_file_name(format!(".{name}.{}.tmp", crate::rand::token()))
}

/// The file `path` stands for, to tell whether two paths name one file: the regular file
/// a link names, in its folder's canonical path. `None` when the folder cannot be resolved.
fn identity(path: &Path) -> Option<PathBuf> {
    let target = resolve(path).ok()?.unwrap_or_else(|| path.to_owned());
    Some(fs::canonicalize(folder(&target)).ok()?.join(target.file_name()?))
}

/// Checks, before the wait, that no two of the files the step writes are one file: each
/// report would replace (or append to) another, and the runner or GitLab would then reject
/// the mix. Names them, and the path.
pub fn clash(t: &super::Targets) -> Result<(), String> {
    let named = [
        ("GITHUB_OUTPUT", &t.output),
        ("GITHUB_STEP_SUMMARY", &t.summary),
        ("input 'results-file'", &t.results),
        ("input 'summary-file'", &t.summary_file),
        ("input 'dotenv-file'", &t.dotenv),
        ("input 'junit-file'", &t.junit),
        ("input 'annotations-file'", &t.annotations),
    ];
    // Without a report of ours, the files are the runner's own, named by the runner: no
    // path is resolved (most GitHub steps).
    if named[2..].iter().all(|(_, p)| p.is_none()) {
        return Ok(());
    }
    let ids: Vec<(&str, &PathBuf, PathBuf)> =
        named.iter().filter_map(|(n, p)| p.as_ref().and_then(|p| Some((*n, p, identity(p)?)))).collect();
    for (i, (a, _, id)) in ids.iter().enumerate() {
        if let Some((b, path, _)) = ids[i + 1..].iter().find(|(_, _, other)| other == id) {
            return Err(format!(
                "{a} and {b} name the same file ({}); give each report a file of its own",
                path.display()
            ));
        }
    }
    Ok(())
}

/// Replaces the file with `text` and a final line break.
pub(super) fn replace(path: &Path, text: &str) -> io::Result<()> {
    if text.ends_with('\n') { replace_exact(path, text) } else { replace_exact(path, &format!("{text}\n")) }
}

/// Replaces the file with exactly `text` (through a link, the file it names).
pub(super) fn replace_exact(path: &Path, text: &str) -> io::Result<()> {
    let path = resolve(path).map_err(io::Error::other)?.unwrap_or_else(|| path.to_owned());
    let tmp = temporary(&path);
    let res = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, &path)
    })();
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.json");
        replace(&p, "{}").unwrap();
        replace(&p, "{\"a\":1}").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "{\"a\":1}\n");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        append(&p, "x").unwrap();
        assert!(fs::read_to_string(&p).unwrap().ends_with("}\nx"));
        check(&p).unwrap();
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "the probe is removed");
    }

    /// An earlier writer's last line without its line break: ours starts on a line of its
    /// own. Nothing is added to an empty file, after a line break, or for an empty text.
    #[test]
    fn an_append_starts_on_a_line_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("output");
        append(&p, "").unwrap();
        append(&p, "a<<D\nx\nD\n").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "a<<D\nx\nD\n");
        fs::write(&p, "theirs=1").unwrap();
        append(&p, "").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "theirs=1");
        append(&p, "a<<D\nx\nD\n").unwrap();
        append(&p, "b<<E\ny\nE\n").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "theirs=1\na<<D\nx\nD\nb<<E\ny\nE\n");
        fs::write(&p, "theirs=1\r").unwrap();
        append(&p, "c=2\n").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "theirs=1\r\nc=2\n");
    }

    #[cfg(unix)]
    #[test]
    fn a_link_is_written_through_and_stays_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        fs::write(&real, "old").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        replace(&link, "new").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "new\n");
    }

    #[cfg(unix)]
    #[test]
    fn devices_pipes_folders_and_dangling_links_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for (p, want) in
            [(PathBuf::from("/dev/null"), "a character device"), (dir.path().to_owned(), "a folder")]
        {
            let e = check(&p).unwrap_err();
            assert!(e.contains(want), "{e}");
            assert!(replace(&p, "x").is_err());
        }
        // A socket (and a named pipe, whose reader would block the step) is no file to write.
        let socket = dir.path().join("sock");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        assert!(check(&socket).unwrap_err().contains("a socket"));
        assert!(replace(&socket, "x").is_err());
        let link = dir.path().join("stdout");
        std::os::unix::fs::symlink("/dev/null", &link).unwrap();
        assert!(check(&link).unwrap_err().contains("not a regular file"));
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("missing"), &dangling).unwrap();
        assert!(check(&dangling).unwrap_err().contains("does not exist"));
        use std::os::unix::fs::FileTypeExt as _;
        assert!(fs::metadata("/dev/null").unwrap().file_type().is_char_device(), "never replaced");
    }
}

//! Writing report files: appends in one call (the runner parses files after we exit, so
//! a record is never half there), and whole-file replacement through a temporary file and
//! a rename, so a reader never sees a half-written results file.

use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::path::Path;

pub(super) fn append(path: &Path, text: &str) -> io::Result<()> {
    let mut f = OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(text.as_bytes())
}

/// Replaces the file with `text` and a final line break.
pub(super) fn replace(path: &Path, text: &str) -> io::Result<()> {
    if text.ends_with('\n') { replace_exact(path, text) } else { replace_exact(path, &format!("{text}\n")) }
}

/// Replaces the file with exactly `text`.
pub(super) fn replace_exact(path: &Path, text: &str) -> io::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", crate::rand::token()));
    let res = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, path)
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
    }
}

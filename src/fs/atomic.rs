//! Replacing a file atomically: write a temp file beside it, fsync it, rename it over
//! the old one. Used for cache files and for the kubeconfigs `setup` rewrites.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::platform;

/// Temp files are `.<TARGET>.tmp-<PID>-<NANOS>-<N>`: named after the file they will
/// replace, so garbage collection can take that file's lock before removing one.
pub const TEMP_MARKER: &str = ".tmp-";
/// The file a temp file was made to replace (`.cache-x.yaml.tmp-1-2-0` → `cache-x.yaml`).
pub fn temp_target(temp_name: &str) -> Option<&str> {
    temp_name
        .strip_prefix('.')?
        .split_once(TEMP_MARKER)
        .map(|(target, _)| target)
}

/// Replaces `path` with `bytes` atomically: readers see the old file or the new one,
/// never a mix. The new file gets `mode` whatever the umask. A symlink at `path` is
/// refused rather than replaced: resolve it first if following it is intended.
pub fn write(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    write_owned(path, bytes, mode, None)
}

/// [`write`], and the new file gets `owner` (uid, gid) too: root rewriting a user's
/// kubeconfig must leave it the user's. An error, and nothing replaced, when the owner
/// cannot be given (only root may give a file away).
pub fn write_owned(path: &Path, bytes: &[u8], mode: u32, owner: Option<(u32, u32)>) -> io::Result<()> {
    if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(io::Error::other(format!(
            "{} is a symlink; not writing through it",
            path.display()
        )));
    }
    let (temp_path, mut temp) = create_temp(path)?;
    let written = temp
        .write_all(bytes)
        .and_then(|()| match owner {
            Some((uid, gid)) => platform::give(&temp, uid, gid),
            None => Ok(()),
        })
        // After the owner: a change of owner may clear set-id bits.
        .and_then(|()| platform::set_mode(&temp, mode))
        .and_then(|()| temp.sync_all())
        .and_then(|()| rename(&temp_path, path));
    if written.is_err() {
        let _ = fs::remove_file(&temp_path);
    }
    written
}

/// `rename`, which on Unix replaces the target whoever has it open.
///
/// On Windows, std renames with POSIX semantics where the system has them (Windows 10
/// and later): a reader that shares delete access, as std's readers do, does not stand
/// in the way. Where it does (older systems, Wine, a reader that does not share delete
/// access: int128/kubelogin#1144 and Azure/kubelogin#71 hit exactly this), a few tries a
/// few milliseconds apart see a short read out; after that the file is rewritten in
/// place. A reader may then see part of it, which does not parse: a miss, never a
/// wrong entry (entries are found by their full key).
#[cfg(not(windows))]
fn rename(from: &Path, to: &Path) -> io::Result<()> {
    fs::rename(from, to)
}

#[cfg(windows)]
fn rename(from: &Path, to: &Path) -> io::Result<()> {
    for _ in 0..10 {
        match fs::rename(from, to) {
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            done => return done,
        }
    }
    log::debug!("{} stays open elsewhere; rewriting it in place", to.display());
    let bytes = fs::read(from)?;
    let mut target = fs::OpenOptions::new().write(true).truncate(true).open(to)?;
    target.write_all(&bytes)?;
    target.sync_all()?;
    fs::remove_file(from)
}

fn create_temp(target: &Path) -> io::Result<(PathBuf, File)> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    let target_name = target.file_name().unwrap_or_default().to_string_lossy();
    for attempt in 0..16u32 {
        let name = format!(".{target_name}{TEMP_MARKER}{}-{nanos:x}-{attempt}", std::process::id());
        let path = target.with_file_name(name);
        // create_new (O_EXCL) never follows or reuses an existing path.
        match platform::create_new_private(&path) {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(
        "could not create a temporary file in the cache directory",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_the_file_private_and_leaves_no_temp() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("cache-x.yaml");
        write(&path, b"one", 0o600).unwrap();
        write(&path, b"two", 0o600).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        #[cfg(unix)]
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&fs::metadata(&path).unwrap().permissions()) & 0o777,
            0o600
        );
        let names: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["cache-x.yaml"]);
    }

    #[test]
    fn temp_files_name_their_target() {
        assert_eq!(temp_target(".cache-x.yaml.tmp-12-ab-0"), Some("cache-x.yaml"));
        assert_eq!(temp_target("cache-x.yaml"), None);
        assert_eq!(temp_target(".gc-stamp"), None);
    }

    #[cfg(unix)]
    #[test]
    fn the_owner_is_the_one_asked_for_or_nothing_is_written() {
        use std::os::unix::fs::MetadataExt;
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("kubeconfig");
        let me = fs::metadata(tmp.path()).unwrap();
        write_owned(&path, b"mine", 0o600, Some((me.uid(), me.gid()))).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"mine");
        let other = (me.uid() + 4242, me.gid() + 4242);
        let given = write_owned(&path, b"theirs", 0o600, Some(other));
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            given.unwrap();
            let meta = fs::metadata(&path).unwrap();
            assert_eq!((meta.uid(), meta.gid()), other);
            assert_eq!(meta.mode() & 0o777, 0o600);
        } else {
            assert!(given.is_err(), "only root gives files away");
            assert_eq!(fs::read(&path).unwrap(), b"mine", "and nothing was replaced");
        }
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1, "no temp file left");
    }

    #[cfg(unix)]
    #[test]
    fn the_mode_is_the_one_asked_for() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("kubeconfig");
        write(&path, b"x", 0o640).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
    }

    #[test]
    fn a_file_open_for_reading_can_be_replaced() {
        // Windows refuses to rename over a file another process has open unless that
        // process shares delete access; std opens files that way, and we retry.
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("cache-x.yaml");
        write(&path, b"one", 0o600).unwrap();
        let reader = File::open(&path).unwrap();
        write(&path, b"two", 0o600).unwrap();
        drop(reader);
        assert_eq!(fs::read(&path).unwrap(), b"two");
    }
}

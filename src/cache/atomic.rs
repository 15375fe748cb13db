//! Replacing a file atomically: write a temp file beside it, fsync it, rename it over
//! the old one. Used for cache files and for the kubeconfigs `setup` rewrites.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

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
            Some((uid, gid)) => give(&temp, uid, gid),
            None => Ok(()),
        })
        // After the owner: a change of owner may clear set-id bits.
        .and_then(|()| temp.set_permissions(fs::Permissions::from_mode(mode)))
        .and_then(|()| temp.sync_all())
        .and_then(|()| fs::rename(&temp_path, path));
    if written.is_err() {
        let _ = fs::remove_file(&temp_path);
    }
    written
}

/// Gives an open file to `uid`:`gid`, unless it is theirs already.
fn give(file: &File, uid: u32, gid: u32) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::MetadataExt;
    let meta = file.metadata()?;
    if (meta.uid(), meta.gid()) == (uid, gid) {
        return Ok(());
    }
    // Through syscall(2), which the binary imports already: a new libc symbol (fchown)
    // would cost every cache hit its binding at start-up (docs/performance.md).
    #[cfg(target_os = "linux")]
    // SAFETY: fchown on a file descriptor we own, with plain integer ids.
    let done = unsafe { libc::syscall(libc::SYS_fchown, file.as_raw_fd(), uid, gid) } == 0;
    #[cfg(not(target_os = "linux"))]
    // SAFETY: fchown on a file descriptor we own, with plain integer ids.
    let done = unsafe { libc::fchown(file.as_raw_fd(), uid, gid) } == 0;
    if done {
        Ok(())
    } else {
        let e = io::Error::last_os_error();
        Err(io::Error::new(
            e.kind(),
            format!("cannot give it to uid {uid}, gid {gid} ({e})"),
        ))
    }
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
        match OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path) {
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
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
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

    #[test]
    fn the_mode_is_the_one_asked_for() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("kubeconfig");
        write(&path, b"x", 0o640).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
    }
}

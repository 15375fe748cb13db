//! How files are created and opened, per platform: the cache directory's, and the
//! kubeconfigs `setup` replaces.
//!
//! Unix: private modes (0700, 0600) whatever the umask, never following a symlink
//! planted at a path (`O_NOFOLLOW`), never blocking on a FIFO (`O_NONBLOCK`), and who
//! may be trusted is told by owner and mode bits (`cache/trust.rs`).
//!
//! Windows: there are no mode bits; privacy comes from the ACL that directories under the
//! user's profile inherit (only the user, SYSTEM and Administrators), so new files get
//! no mode of their own. A reparse point (a symlink, a junction) at a cache path is
//! opened as itself, never followed (`FILE_FLAG_OPEN_REPARSE_POINT`), and refused.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
#[cfg(windows)]
use std::os::windows::fs::OpenOptionsExt;

/// `CreateFileW` flag: open a reparse point itself rather than what it points to.
#[cfg(windows)]
const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x0020_0000;

/// Creates `path` and its missing parents; the directory itself private (0700 on Unix).
pub fn create_private_dir(path: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder.create(path)?;
    // A umask that takes the owner's bits would leave it unusable (unreadable, even): it
    // gets the mode it should have. A link planted at the path since we looked (in
    // `/tmp`, by another user) makes the create succeed too, and what it points to is not
    // ours to change; a directory there is not replaced once seen (a shared parent is
    // sticky), and one of another user's refuses the change.
    #[cfg(unix)]
    {
        if !fs::symlink_metadata(path)?.is_dir() {
            return Err(link_error(path));
        }
        fs::set_permissions(path, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Opens a file for reading without following a link at its path and without blocking.
/// A link there is an error that says so.
pub fn open_read(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    #[cfg(windows)]
    options.custom_flags(FILE_FLAG_OPEN_REPARSE_POINT);
    let file = options.open(path).map_err(|e| refused_link(path, e))?;
    #[cfg(windows)]
    if file.metadata()?.file_type().is_symlink() {
        return Err(link_error(path));
    }
    Ok(file)
}

/// Opens a file for reading without blocking (a FIFO there would hang the run), following
/// a link as the program that owns the file would: an authenticator's configuration.
pub fn open_nonblocking(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    options.custom_flags(libc::O_NONBLOCK);
    options.open(path)
}

/// Opens (creating it if needed, empty and private) a small file of ours for reading
/// and writing, never through a link: lock files and the GC stamp.
pub fn open_private_rw(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    no_follow_private(&mut options);
    let file = options.open(path).map_err(|e| refused_link(path, e))?;
    #[cfg(windows)]
    if file.metadata()?.file_type().is_symlink() {
        return Err(link_error(path));
    }
    Ok(file)
}

/// Creates a new private file, failing if anything exists at `path` (`O_EXCL`, which
/// never follows a link): temp files and refresh markers.
pub fn create_new_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    no_follow_private(&mut options);
    options.open(path)
}

fn no_follow_private(options: &mut OpenOptions) {
    #[cfg(unix)]
    options.mode(0o600).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    #[cfg(windows)]
    options.custom_flags(FILE_FLAG_OPEN_REPARSE_POINT);
}

/// Gives a file of ours its mode (Unix; on Windows it keeps its inherited ACL).
pub fn set_mode(file: &File, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    return file.set_permissions(fs::Permissions::from_mode(mode));
    #[cfg(windows)]
    {
        let _ = (file, mode);
        Ok(())
    }
}

/// Gives an open file to `uid`:`gid`, unless it is theirs already.
#[cfg(unix)]
pub fn give(file: &File, uid: u32, gid: u32) -> io::Result<()> {
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

/// Windows has no uid and gid: `setup` never asks for an owner there.
#[cfg(windows)]
pub fn give(_file: &File, _uid: u32, _gid: u32) -> io::Result<()> {
    Ok(())
}

/// The user we run as, where the platform has uids.
pub fn current_uid() -> Option<u32> {
    #[cfg(unix)]
    // SAFETY: geteuid has no preconditions and cannot fail.
    return Some(unsafe { libc::geteuid() });
    #[cfg(windows)]
    None
}

/// The owner (uid, gid) and the permission bits of a file, where the platform has them.
pub fn owner_and_mode(meta: &fs::Metadata) -> Option<((u32, u32), u32)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some(((meta.uid(), meta.gid()), meta.mode() & 0o7777))
    }
    #[cfg(windows)]
    {
        let _ = meta;
        None
    }
}

/// How many names (hard links) the file has, where the platform says (Unix).
pub fn hard_links(meta: &fs::Metadata) -> u64 {
    #[cfg(unix)]
    return std::os::unix::fs::MetadataExt::nlink(meta);
    #[cfg(windows)]
    {
        let _ = meta;
        1
    }
}

/// Whether a file may be run: on Unix some execute bit; on Windows any file (what runs
/// it is its extension).
pub fn is_executable(meta: &fs::Metadata) -> bool {
    #[cfg(unix)]
    return std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o111 != 0;
    #[cfg(windows)]
    meta.is_file()
}

/// Whether two metadata are of the same file (a lock file still at its path). Windows
/// never replaces a lock file (garbage collection leaves them there): always true.
pub fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        a.ino() == b.ino() && a.dev() == b.dev()
    }
    #[cfg(windows)]
    {
        let _ = (a, b);
        true
    }
}

/// Whether garbage collection may delete lock files: on Unix, yes (while holding them;
/// a taker notices with [`same_file`]); on Windows they stay, a few empty files.
pub const LOCK_FILES_ARE_COLLECTED: bool = cfg!(unix);

fn link_error(path: &Path) -> io::Error {
    io::Error::other(format!("{} is a symlink; not following it", path.display()))
}

/// An open refused because a link is at the path becomes an error that says so.
fn refused_link(path: &Path, error: io::Error) -> io::Error {
    #[cfg(unix)]
    if error.raw_os_error() == Some(libc::ELOOP) {
        return link_error(path);
    }
    let _ = path;
    error
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn a_private_dir_is_0700_and_a_link_planted_at_its_path_changes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let mode = |path: &Path| fs::metadata(path).unwrap().mode() & 0o777;
        let new = tmp.path().join("a/b");
        create_private_dir(&new).unwrap();
        assert_eq!(mode(&new), 0o700);
        create_private_dir(&new).unwrap();
        let theirs = tmp.path().join("theirs");
        fs::create_dir(&theirs).unwrap();
        fs::set_permissions(&theirs, fs::Permissions::from_mode(0o755)).unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&theirs, &link).unwrap();
        assert!(create_private_dir(&link).is_err());
        assert_eq!(mode(&theirs), 0o755, "what the link points to is not ours");
    }
}

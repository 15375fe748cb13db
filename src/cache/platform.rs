//! How files in the cache directory are created and opened, per platform.
//!
//! Unix: private modes (0700, 0600) whatever the umask, never following a symlink
//! planted at a path (`O_NOFOLLOW`), never blocking on a FIFO (`O_NONBLOCK`), and who
//! may be trusted is told by owner and mode bits (`trust.rs`).
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
    // The umask may have loosened it: it is ours, so it gets the mode it should have.
    #[cfg(unix)]
    fs::set_permissions(path, fs::Permissions::from_mode(0o700))?;
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

//! What in the cache directory may be trusted, decided in one place: a directory and
//! files owned by the user running kubecredcache and writable by nobody else, read
//! without following symlinks, without blocking on a FIFO and never more than a cache
//! file can be. Anything else is not served from: a token there could have been planted
//! by someone else, for us to authenticate as them.

use std::fs::{self, File, Metadata};
use std::io;
use std::path::Path;

use crate::fs::platform;

/// A cache file is a few kilobytes; one larger than this is not read (and is replaced
/// on the next store). docs/cache-format.md documents it.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// Why the cache directory cannot be used: one line that says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Untrusted(pub String);

impl std::fmt::Display for Untrusted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `meta` (a directory, by `stat`) may hold a cache we read from and write to.
pub fn check_dir(dir: &Path, meta: &Metadata) -> Result<(), Untrusted> {
    if !meta.is_dir() {
        return Err(Untrusted(format!("{} is not a directory", dir.display())));
    }
    owner::check_dir(dir, meta)
}

/// Whether a directory we do not have yet may be created under `parent`.
pub fn check_parent(parent: &Path, meta: &Metadata) -> Result<(), Untrusted> {
    owner::check_parent(parent, meta)
}

/// Opens a file for reading without following a symlink at its path and without
/// blocking (a FIFO there would hang every run). `Ok(None)` when it is absent.
pub fn open_no_follow(path: &Path) -> io::Result<Option<File>> {
    match platform::open_read(path) {
        Ok(file) => Ok(Some(file)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The contents of a trusted cache file at `path`: a regular file of ours, writable by
/// nobody else, and not larger than a cache file can be. `Ok(None)` when it is absent, or
/// is something we do not read (a FIFO, a device, a huge file, a file others can write):
/// such a file is replaced on the next store.
pub fn read_file(path: &Path) -> io::Result<Option<Vec<u8>>> {
    let Some(file) = open_no_follow(path)? else {
        return Ok(None);
    };
    let bytes = crate::fs::read_small(file, MAX_FILE_BYTES, owner::is_ours_alone)?;
    if bytes.is_none() {
        log::debug!("{} is not a cache file we may read; not using it", path.display());
    }
    Ok(bytes)
}

/// The directory's metadata, following a symlink to it (a symlinked cache directory is
/// common) only if the link may be trusted ([`owner::may_follow`]). What it names must
/// then pass [`check_dir`].
pub fn dir_metadata(dir: &Path) -> io::Result<Metadata> {
    let meta = fs::symlink_metadata(dir)?;
    if !meta.file_type().is_symlink() {
        return Ok(meta);
    }
    owner::may_follow(&meta).map_err(io::Error::other)?;
    fs::metadata(dir)
}

/// Who owns what, on Unix: owner and mode bits.
#[cfg(unix)]
pub mod owner {
    use std::fs::Metadata;
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;

    use super::Untrusted;

    /// The effective user id: who we are.
    pub fn euid() -> u32 {
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() }
    }

    fn who(uid: u32) -> String {
        if uid == 0 { "root".into() } else { format!("uid {uid}") }
    }

    /// Ours, and writable by nobody else.
    pub fn check_dir(dir: &Path, meta: &Metadata) -> Result<(), Untrusted> {
        let me = euid();
        if meta.uid() != me {
            let fix = if meta.uid() == 0 {
                format!(
                    " (a `sudo -E` run?): remove it (sudo rm -r {}) and kubecredcache makes a new one",
                    dir.display()
                )
            } else {
                String::new()
            };
            return Err(Untrusted(format!(
                "{} belongs to {}, not to you ({}){fix}",
                dir.display(),
                who(meta.uid()),
                who(me)
            )));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(Untrusted(format!(
                "{} is writable by others (mode {:04o}); use a directory of your own (chmod go-w, or another KUBECREDCACHE_DIR)",
                dir.display(),
                meta.mode() & 0o7777
            )));
        }
        Ok(())
    }

    /// Only by its owner, or under a directory of root's (`/tmp`, `/run/user`). Root
    /// never creates anything in another user's directory, where that user could not
    /// remove it.
    pub fn check_parent(parent: &Path, meta: &Metadata) -> Result<(), Untrusted> {
        let me = euid();
        let owner = meta.uid();
        if owner == me || (owner == 0 && me != 0) {
            return Ok(());
        }
        Err(Untrusted(format!(
            "{} belongs to {}, not to you ({}): not making a cache directory in it",
            parent.display(),
            who(owner),
            who(me)
        )))
    }

    /// A file of ours that nobody else can write.
    pub fn is_ours_alone(meta: &Metadata) -> bool {
        meta.uid() == euid() && meta.mode() & 0o022 == 0
    }

    /// A symlink is followed only if it is ours or root's: another user's link could
    /// point us at any directory of theirs, or, for root, at any directory at all.
    pub fn may_follow(link: &Metadata) -> Result<(), String> {
        if link.uid() == euid() || link.uid() == 0 {
            return Ok(());
        }
        Err(format!("it is a symlink of {}'s; not following it", who(link.uid())))
    }
}

/// Who owns what, on Windows: the ACL that the user profile's directories inherit
/// keeps the cache private; ownership is not checked here (docs/architecture.md).
#[cfg(windows)]
pub mod owner {
    use std::fs::Metadata;
    use std::path::Path;

    use super::Untrusted;

    pub fn check_dir(dir: &Path, meta: &Metadata) -> Result<(), Untrusted> {
        if meta.file_type().is_symlink() {
            return Err(Untrusted(format!(
                "{} is a reparse point; not following it",
                dir.display()
            )));
        }
        Ok(())
    }

    pub fn check_parent(_parent: &Path, _meta: &Metadata) -> Result<(), Untrusted> {
        Ok(())
    }

    pub fn is_ours_alone(_meta: &Metadata) -> bool {
        true
    }

    pub fn may_follow(_link: &Metadata) -> Result<(), String> {
        Ok(())
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_private_directory_is_trusted_and_one_others_can_write_is_not() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        for (mode, trusted) in [
            (0o700, true),
            (0o755, true),
            (0o775, false),
            (0o777, false),
            (0o1777, false),
        ] {
            fs::set_permissions(dir, fs::Permissions::from_mode(mode)).unwrap();
            let result = check_dir(dir, &fs::metadata(dir).unwrap());
            assert_eq!(result.is_ok(), trusted, "{mode:o}: {result:?}");
        }
        let file = dir.join("f");
        fs::write(&file, "").unwrap();
        assert!(check_dir(&file, &fs::metadata(&file).unwrap()).is_err());
    }

    #[test]
    fn only_small_regular_private_files_are_read() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("cache-x.yaml");
        fs::write(&path, "{}").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_file(&path).unwrap(), Some(b"{}".to_vec()));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o620)).unwrap();
        assert_eq!(read_file(&path).unwrap(), None, "group-writable");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(MAX_FILE_BYTES + 1)
            .unwrap();
        assert_eq!(read_file(&path).unwrap(), None, "too big");
        assert_eq!(read_file(&tmp.path().join("absent")).unwrap(), None);
    }

    #[test]
    fn a_fifo_is_neither_waited_for_nor_read() {
        let tmp = tempfile::tempdir().unwrap();
        let fifo = tmp.path().join("cache-x.yaml");
        crate::fs::mkfifo(&fifo);
        assert_eq!(read_file(&fifo).unwrap(), None);
    }
}

// Windows has no owner and mode bits to check (the profile's ACLs keep others out):
// these hold what it does check, run under Wine by `.ci/run`, so that a mutant of the
// Windows-only code is caught there.
#[cfg(all(test, windows))]
mod windows_tests {
    use super::owner;
    use std::fs;

    #[test]
    fn a_plain_directory_and_its_files_are_trusted() {
        let tmp = tempfile::tempdir().unwrap();
        let meta = fs::symlink_metadata(tmp.path()).unwrap();
        assert!(owner::check_dir(tmp.path(), &meta).is_ok());
        assert!(owner::check_parent(tmp.path(), &meta).is_ok());
        assert!(owner::may_follow(&meta).is_ok());
        let file = tmp.path().join("cache-c1.yaml");
        fs::write(&file, "{}").unwrap();
        assert!(owner::is_ours_alone(&fs::metadata(&file).unwrap()));
        assert_eq!(super::read_file(&file).unwrap().as_deref(), Some(&b"{}"[..]));
    }

    #[test]
    fn a_cache_directory_that_is_a_reparse_point_is_not_used() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("elsewhere");
        fs::create_dir(&target).unwrap();
        let link = tmp.path().join("cache");
        // Creating a symlink needs a privilege a plain Windows user may lack, and Wine 8
        // says it made one that it then cannot find: the check runs where there is one.
        let made = std::os::windows::fs::symlink_dir(&target, &link).and_then(|()| fs::symlink_metadata(&link));
        let meta = match made {
            Ok(meta) if meta.file_type().is_symlink() => meta,
            other => {
                eprintln!("*** SKIPPED: no directory symlink to be had here ({other:?}) ***");
                return;
            }
        };
        let refused = owner::check_dir(&link, &meta).unwrap_err();
        assert!(refused.0.contains("reparse point"), "{}", refused.0);
    }
}

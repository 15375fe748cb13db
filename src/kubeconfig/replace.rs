//! Replacing a kubeconfig file for `setup` and `unsetup` without losing anything: the
//! new file keeps the old one's owner, group and mode (root rewriting a user's file
//! leaves it the user's); a read-only or hard-linked file is refused (a rename would
//! turn the other link into a stale copy); and every version replaced is kept in a
//! backup beside it that is never overwritten: `FILE.kubecredcache.bak` for the first,
//! `FILE.kubecredcache.bak.1`, `.2`, ... for later ones. ACLs and extended attributes
//! are not carried over; docs say so.

use std::fs;
use std::path::{Path, PathBuf};

use crate::fs::{atomic, platform};

const BACKUP: &str = ".kubecredcache.bak";
/// A kubeconfig larger than this is no backup of ours to compare.
const MAX_BACKUP_BYTES: u64 = 16 << 20;

/// The file to replace, resolved, and what the new file must keep of it.
#[derive(Debug, Clone)]
pub struct Target {
    /// Where a symlinked kubeconfig points (a dotfiles repository): that file is edited.
    pub real: PathBuf,
    mode: u32,
    /// uid and gid, where the platform has them (not on Windows).
    owner: Option<(u32, u32)>,
}

/// Checks that `path` may be replaced.
pub fn target(path: &Path) -> Result<Target, String> {
    let real = fs::canonicalize(path).map_err(|e| format!("cannot resolve it ({e})"))?;
    let meta = fs::metadata(&real).map_err(|e| format!("cannot stat it ({e})"))?;
    let (owner, mode) = match platform::owner_and_mode(&meta) {
        Some((owner, mode)) => (Some(owner), mode),
        None => (None, if meta.permissions().readonly() { 0o400 } else { 0o600 }),
    };
    // Root may write anything; a file without its owner's write bit says "leave me be".
    if mode & 0o200 == 0 {
        return Err(format!(
            "it is read-only (mode {mode:04o}); make it writable, or see the change with --dry-run"
        ));
    }
    let links = platform::hard_links(&meta);
    if links > 1 {
        return Err(format!(
            "it has {links} hard links, and replacing it would cut this name off the others; edit it through one name only (cp it, then rm the other links), or see the change with --dry-run"
        ));
    }
    Ok(Target { real, mode, owner })
}

/// Replaces the file with `bytes`, with its owner, group and mode.
pub fn replace(target: &Target, bytes: &[u8]) -> Result<(), String> {
    atomic::write_owned(&target.real, bytes, target.mode, target.owner).map_err(|e| format!("cannot write it ({e})"))
}

/// The backups of `real` there are, oldest first.
pub fn backups(real: &Path) -> Vec<PathBuf> {
    let Some(name) = real.file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    let stem = format!("{name}{BACKUP}");
    let mut numbered: Vec<(u32, PathBuf)> = fs::read_dir(real.parent().unwrap_or(Path::new("/")))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let file = entry.file_name().into_string().ok()?;
            let rest = file.strip_prefix(&stem)?;
            let number = match rest {
                "" => 0,
                _ => rest.strip_prefix('.')?.parse().ok().filter(|n| *n > 0)?,
            };
            Some((number, entry.path()))
        })
        .collect();
    numbered.sort();
    numbered.into_iter().map(|(_, path)| path).collect()
}

/// The contents of a backup of `real` that may be trusted: a regular file of a
/// kubeconfig's size, opened without following a symlink or waiting on a FIFO put in
/// its place, owned by the kubeconfig's owner and writable by nobody who cannot write
/// the kubeconfig. In a directory others may write to, another user's file named like
/// a backup is not one.
pub fn read_backup(real: &Path, path: &Path) -> Option<Vec<u8>> {
    let file = platform::open_read(path).ok()?;
    let kubeconfig = fs::metadata(real).ok();
    // No one may have written it who could not have written the kubeconfig itself.
    let owners_alone = |meta: &fs::Metadata| match (
        platform::owner_and_mode(meta),
        kubeconfig.as_ref().and_then(platform::owner_and_mode),
    ) {
        (Some(((uid, gid), mode)), Some(((owner, group), kubeconfig_mode))) => {
            let others = uid != owner || mode & 0o022 & !kubeconfig_mode != 0 || (mode & 0o020 != 0 && gid != group);
            if others {
                log::debug!("{} is not the kubeconfig owner's alone: not a backup", path.display());
            }
            !others
        }
        _ => true,
    };
    crate::fs::read_small(file, MAX_BACKUP_BYTES, owners_alone).ok()?
}

/// Makes sure `bytes` (the file as it is now) are kept in a backup: an existing backup
/// that holds them, or a new one under the first free name. Returns its path and
/// whether it is new.
pub fn keep(target: &Target, bytes: &[u8]) -> Result<(PathBuf, bool), String> {
    let mut existing = backups(&target.real).into_iter();
    if let Some(same) = existing.find(|b| read_backup(&target.real, b).as_deref() == Some(bytes)) {
        return Ok((same, false));
    }
    let base = format!("{}{BACKUP}", target.real.display());
    let free = (0..10_000u32)
        .map(|n| PathBuf::from(if n == 0 { base.clone() } else { format!("{base}.{n}") }))
        .find(|p| fs::symlink_metadata(p).is_err())
        .ok_or_else(|| format!("no free backup name beside {}", target.real.display()))?;
    // Nobody else may write a backup, even of a file its group may write: a later
    // `chmod 600` of the kubeconfig must not make its own backup untrusted.
    atomic::write_owned(&free, bytes, target.mode & !0o022, target.owner)
        .map_err(|e| format!("cannot write the backup {} ({e})", free.display()))?;
    Ok((free, true))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn every_version_is_kept_once_and_none_is_overwritten() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("config");
        fs::write(&path, "one").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let t = target(&path).unwrap();
        let (first, new) = keep(&t, b"one").unwrap();
        assert!(new);
        assert_eq!(first, tmp.path().join("config.kubecredcache.bak"));
        assert_eq!(keep(&t, b"one").unwrap(), (first.clone(), false), "kept already");
        let (second, new) = keep(&t, b"two").unwrap();
        assert!(new);
        assert_eq!(second, tmp.path().join("config.kubecredcache.bak.1"));
        assert_eq!(fs::read(&first).unwrap(), b"one", "never overwritten");
        assert_eq!(backups(&t.real), [first.clone(), second]);
        assert_eq!(fs::metadata(&first).unwrap().mode() & 0o777, 0o640, "the file's mode");
        replace(&t, b"three").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"three");
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o640);
    }

    #[test]
    fn a_symlink_or_a_fifo_in_place_of_a_backup_is_not_read() {
        let tmp = tempfile::tempdir().unwrap();
        let secret = tmp.path().join("secret");
        fs::write(&secret, "not a backup").unwrap();
        let link = tmp.path().join("config.kubecredcache.bak");
        std::os::unix::fs::symlink(&secret, &link).unwrap();
        assert_eq!(read_backup(&secret, &link), None);
        let fifo = tmp.path().join("config.kubecredcache.bak.1");
        crate::fs::mkfifo(&fifo);
        assert_eq!(read_backup(&secret, &fifo), None, "not waited for");
    }

    #[test]
    fn a_backup_others_could_write_or_another_user_owns_is_not_one() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("config");
        fs::write(&path, "mine").unwrap();
        let backup = tmp.path().join("config.kubecredcache.bak");
        fs::write(&backup, "planted").unwrap();
        fs::set_permissions(&backup, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_backup(&path, &backup).as_deref(), Some(&b"planted"[..]));
        fs::set_permissions(&backup, fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(read_backup(&path, &backup), None, "writable by others");
        // A kubeconfig its group may write (umask 002) could have had such backups.
        fs::set_permissions(&path, fs::Permissions::from_mode(0o664)).unwrap();
        fs::set_permissions(&backup, fs::Permissions::from_mode(0o664)).unwrap();
        assert!(read_backup(&path, &backup).is_some());
        // The backups kept now are writable by the owner alone, so they stay trusted
        // after a `chmod 600` of the kubeconfig.
        fs::remove_file(&backup).unwrap();
        let (kept, _) = keep(&target(&path).unwrap(), b"mine").unwrap();
        assert_eq!(fs::metadata(&kept).unwrap().mode() & 0o777, 0o644);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_backup(&path, &kept).as_deref(), Some(&b"mine"[..]));
        fs::write(&backup, "planted").unwrap();
        fs::set_permissions(&backup, fs::Permissions::from_mode(0o600)).unwrap();
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            std::os::unix::fs::chown(&backup, Some(65534), None).unwrap();
            assert_eq!(read_backup(&path, &backup), None, "another user's");
            let t = target(&path).unwrap();
            let (kept, new) = keep(&t, b"planted").unwrap();
            assert!(new && kept != backup, "theirs does not count as our backup");
        }
    }

    #[test]
    fn hard_linked_and_read_only_files_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("config");
        fs::write(&path, "x").unwrap();
        fs::hard_link(&path, tmp.path().join("other-name")).unwrap();
        assert!(target(&path).unwrap_err().contains("hard links"));
        fs::remove_file(tmp.path().join("other-name")).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
        assert!(target(&path).unwrap_err().contains("read-only"));
    }
}

//! The cache directory's health, for `doctor`: who owns it and its mode, whether it may
//! be used (or, if it does not exist yet, created), how many files in it are
//! kubecredcache's, and the names of those that are not (never touched; named so that
//! a shared `KUBECREDCACHE_DIR` shows). Reads only: more of [`CacheDir`]'s methods.

use std::fs;
use std::io;

use super::names;
use super::trust;
use super::{CacheDir, dir::existing_ancestor};

/// What `doctor` says about the cache directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub exists: bool,
    pub owner_uid: Option<u32>,
    /// Permission bits, `0o700`.
    pub mode: Option<u32>,
    /// Why it cannot be used (or created); `None` when it can.
    pub problem: Option<String>,
    /// Files of kubecredcache's (cache files, locks, markers).
    pub ours: usize,
    /// Names of the other files, sorted.
    pub not_ours: Vec<String>,
}

impl CacheDir {
    /// The directory's health; reads only.
    pub fn health(&self) -> Health {
        let meta = trust::dir_metadata(self.path());
        let exists = meta.is_ok();
        let owned = meta.as_ref().ok().and_then(crate::fs::platform::owner_and_mode);
        let (owner_uid, mode) = owned.map_or((None, None), |((uid, _), mode)| (Some(uid), Some(mode)));
        let problem = match self.check() {
            Ok(true) => None,
            Ok(false) => self.creatable().err(),
            Err(untrusted) => Some(untrusted.0),
        };
        let (ours, not_ours) = self.census().unwrap_or_default();
        Health {
            exists,
            owner_uid,
            mode,
            problem,
            ours,
            not_ours,
        }
    }

    /// Whether a run could create the directory (as [`CacheDir::prepare`] would), without
    /// creating it.
    fn creatable(&self) -> Result<(), String> {
        let parent = existing_ancestor(self.path())
            .ok_or_else(|| format!("{} has no existing parent", self.path().display()))?;
        let meta = fs::metadata(&parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        trust::check_parent(&parent, &meta).map_err(|e| e.0)
    }

    /// How many files are ours, and the names of the others.
    fn census(&self) -> io::Result<(usize, Vec<String>)> {
        let mut ours = 0;
        let mut not_ours = Vec::new();
        for entry in fs::read_dir(self.path())?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if names::classify(&name).is_some() {
                ours += 1;
            } else {
                not_ours.push(name);
            }
        }
        not_ours.sort();
        Ok((ours, not_ours))
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_directory_is_described_and_files_not_ours_are_named() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = CacheDir::new(tmp.path().join("cache"));
        let absent = dir.health();
        assert!(!absent.exists && absent.problem.is_none(), "{absent:?}: can be created");
        fs::create_dir(dir.path()).unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
        fs::write(dir.path().join("cache-c1.yaml"), "{}").unwrap();
        fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        fs::write(dir.path().join(".gc-stamp"), "").unwrap();
        let health = dir.health();
        assert!(health.exists);
        assert_eq!(health.mode, Some(0o700));
        assert_eq!(health.problem, None);
        assert_eq!(
            (health.ours, health.not_ours.as_slice()),
            (2, &["notes.txt".to_string()][..])
        );
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
        assert!(dir.health().problem.unwrap().contains("writable by others"));
    }
}

//! [`CacheDir`]: the one owner of the cache directory. It names every file in it (with
//! `names.rs`), reads, stores and locks them, and decides with `trust.rs` what in that
//! directory may be trusted. Garbage collection (`gc.rs`) and the refresh markers
//! (`marks.rs`) are more of its methods, in files of their own.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::lock::{self, Lock};
use super::names::{self, Kind};
use super::trust::{self, Untrusted};
use super::{CacheEntry, CacheFile, CacheKey};
use crate::fs::atomic;
use crate::fs::platform;

/// The cache directory. Creating the value touches nothing on disk: the hit path only
/// reads through it; [`CacheDir::prepare`] makes it ready for writing.
#[derive(Debug, Clone)]
pub struct CacheDir {
    path: PathBuf,
}

impl CacheDir {
    pub fn new(path: impl Into<PathBuf>) -> CacheDir {
        CacheDir { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the directory may be used: `Ok(false)` when it does not exist yet,
    /// `Ok(true)` when it is ours and nobody else can write to it.
    pub fn check(&self) -> Result<bool, Untrusted> {
        match trust::dir_metadata(&self.path) {
            Ok(meta) => trust::check_dir(&self.path, &meta).map(|()| true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Untrusted(format!("cannot use {} ({e})", self.path.display()))),
        }
    }

    /// Makes the directory ready for writing: creates it private (0700) if it does not
    /// exist, where we may (never inside another user's directory), or checks that an
    /// existing one may be trusted. An existing directory's mode is never changed: it
    /// may be shared (`$XDG_RUNTIME_DIR`, `/tmp`) and is not ours to tighten.
    pub fn prepare(&self) -> Result<(), Untrusted> {
        if self.check()? {
            return Ok(());
        }
        let parent = existing_ancestor(&self.path)
            .ok_or_else(|| Untrusted(format!("{} has no existing parent", self.path.display())))?;
        let parent_meta = fs::metadata(&parent).map_err(|e| Untrusted(format!("{}: {e}", parent.display())))?;
        trust::check_parent(&parent, &parent_meta)?;
        // A directory made by another run a moment ago is no error (a recursive create).
        platform::create_private_dir(&self.path)
            .map_err(|e| Untrusted(format!("cannot create {} ({e})", self.path.display())))?;
        // Created by us or, a moment ago, by someone else: check what is there now.
        self.check().map(|_| ())
    }

    fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// The file that holds `cluster`'s entries.
    pub fn cache_file_path(&self, cluster: &str) -> PathBuf {
        self.join(&names::cache_file(cluster))
    }

    /// The entry stored for `key`, if its cluster's file holds one. The hit path: a
    /// `stat` of the directory, one read, no lock, no write. An error when the
    /// directory may not be trusted: nothing in it is served.
    pub fn entry(&self, key: &CacheKey) -> Result<Option<CacheEntry>, Untrusted> {
        if !self.check()? {
            return Ok(None);
        }
        let path = self.cache_file_path(key.cluster());
        Ok(match read_cache_file(&path) {
            Ok(Some(mut file)) => file.entries.remove(key.as_str()),
            Ok(None) => None,
            Err(e) => {
                log::debug!("cannot read {}: {e}", path.display());
                None
            }
        })
    }

    /// Stores `entry` under `key`: read-modify-write of its cluster's file under the
    /// file's lock (waiting at most `wait`), so that concurrent writers of other keys
    /// keep their entries.
    pub fn store(&self, key: &CacheKey, entry: CacheEntry, now: DateTime<Utc>, wait: Duration) -> io::Result<()> {
        let name = names::cache_file(key.cluster());
        let path = self.join(&name);
        let _held = lock::acquire(&self.join(&names::file_lock(&name)), wait)?
            .ok_or_else(|| io::Error::other("timed out waiting for the cache file lock"))?;
        let mut file = read_cache_file(&path)
            .ok()
            .flatten()
            .unwrap_or_else(|| CacheFile::new(key.cluster()));
        file.insert(key, entry, now);
        atomic::write(&path, file.to_yaml().as_bytes(), 0o600)?;
        log::debug!("stored in {}", path.display());
        Ok(())
    }

    /// Takes the single-flight lock of `key`, waiting at most `wait`; `watch` is called
    /// with how long we have waited after each try that found it held, and ends the
    /// wait by returning false. `Ok(None)` when the wait ended without the lock.
    pub fn lock_flight(
        &self,
        key: &CacheKey,
        wait: Duration,
        watch: &mut dyn FnMut(Duration) -> bool,
    ) -> io::Result<Option<Lock>> {
        let held = lock::acquire_watching(&self.join(&names::flight_lock(&key.digest())), wait, watch)?;
        if let Some(lock) = &held {
            lock.note_holder();
        }
        Ok(held)
    }

    /// The pid in the single-flight lock of `key` when that process is stopped (Ctrl-Z):
    /// call it only while the lock is held, as the pid may be a past holder's (and
    /// that pid another process's now). Never our own.
    pub fn flight_holder_stopped(&self, key: &CacheKey) -> Option<u32> {
        self.flight_holder(key)
            .filter(|&pid| pid != std::process::id() && lock::process_is_stopped(pid))
    }

    /// The pid of the process holding (or that last held) the single-flight lock of `key`.
    pub fn flight_holder(&self, key: &CacheKey) -> Option<u32> {
        let bytes = trust::read_file(&self.join(&names::flight_lock(&key.digest()))).ok()??;
        std::str::from_utf8(&bytes).ok()?.trim().parse().ok()
    }

    /// Every cache file in the directory that reads as one: its file name and contents.
    /// None when the directory does not exist yet.
    pub fn cache_files(&self) -> io::Result<Vec<(String, CacheFile)>> {
        let mut files = Vec::new();
        for name in self.names_of(Kind::CacheFile)? {
            if let Ok(Some(file)) = read_cache_file(&self.join(&name)) {
                files.push((name, file));
            }
        }
        files.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(files)
    }

    /// The names of the files of one kind; none when the directory does not exist.
    pub(super) fn names_of(&self, kind: Kind) -> io::Result<Vec<String>> {
        let entries = match fs::read_dir(&self.path) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        Ok(entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| names::classify(name).as_ref() == Some(&kind))
            .collect())
    }

    /// Removes `cluster`'s cache file under its writers' lock. Returns its path and how
    /// many entries it held, or `None` if there was none.
    pub fn remove_cluster(&self, cluster: &str, wait: Duration) -> io::Result<Option<(PathBuf, usize)>> {
        self.remove_cache_file(&names::cache_file(cluster), wait)
    }

    /// Removes every cache file, as [`CacheDir::remove_cluster`] does one.
    pub fn remove_all(&self, wait: Duration) -> io::Result<Vec<(PathBuf, usize)>> {
        let mut removed = Vec::new();
        for name in self.names_of(Kind::CacheFile)? {
            removed.extend(self.remove_cache_file(&name, wait)?);
        }
        Ok(removed)
    }

    /// Removes a cache file of ours; one named like it that does not read as one is left
    /// alone (a shared directory may hold another program's `cache-index.yaml`).
    fn remove_cache_file(&self, name: &str, wait: Duration) -> io::Result<Option<(PathBuf, usize)>> {
        let path = self.join(name);
        if !matches!(read_cache_file(&path), Ok(Some(_))) {
            // Absent, or not ours: no lock file is made for it either.
            return Ok(None);
        }
        let _held = lock::acquire(&self.join(&names::file_lock(name)), wait)?
            .ok_or_else(|| io::Error::other("another process kept the file locked"))?;
        let Ok(Some(file)) = read_cache_file(&path) else {
            // Replaced, or gone, while we waited for the lock.
            log::debug!("{} is no longer a kubecredcache cache file; left alone", path.display());
            return Ok(None);
        };
        let entries = file.entries.len();
        fs::remove_file(&path)?;
        Ok(Some((path, entries)))
    }
}

/// The nearest ancestor of `path` that exists.
pub(super) fn existing_ancestor(path: &Path) -> Option<PathBuf> {
    path.ancestors().skip(1).find(|a| a.exists()).map(Path::to_path_buf)
}

/// Reads and parses a cache file. `Ok(None)` when it is absent or is not a cache file of
/// this version (nor one we may read: `trust.rs`); an error for a symlink planted at
/// its path or a failed read.
pub(super) fn read_cache_file(path: &Path) -> io::Result<Option<CacheFile>> {
    Ok(trust::read_file(path)?.and_then(|bytes| {
        let file = CacheFile::parse(&bytes);
        if file.is_none() {
            log::debug!("{} is not a cache file of this version; ignoring it", path.display());
        }
        file
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec_credential::ExecCredential;
    use crate::provider::Identity;

    fn key(cluster: &str, profile: &str) -> CacheKey {
        CacheKey::new("p", &Identity::new(cluster).with("profile", Some(profile)))
    }

    fn entry(token: &str) -> CacheEntry {
        let json = format!(
            r#"{{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","status":{{"token":"{token}"}}}}"#
        );
        let credential = ExecCredential::parse(json.as_bytes()).unwrap();
        let now = Utc::now();
        CacheEntry::new("p", &[], &credential, now + chrono::Duration::minutes(15), now)
    }

    #[cfg(unix)]
    #[test]
    fn a_new_dir_is_private_and_an_existing_one_keeps_its_mode() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let tmp = tempfile::tempdir().unwrap();
        let dir = CacheDir::new(tmp.path().join("new/cache"));
        dir.prepare().unwrap();
        assert_eq!(fs::metadata(dir.path()).unwrap().mode() & 0o777, 0o700);
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        dir.prepare().unwrap();
        assert_eq!(fs::metadata(dir.path()).unwrap().mode() & 0o777, 0o755);
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
        assert!(dir.prepare().is_err(), "writable by others: not ours to use");
        assert_eq!(fs::metadata(dir.path()).unwrap().mode() & 0o777, 0o777, "nor to change");
    }

    #[test]
    fn a_file_where_the_dir_should_be_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("f");
        fs::write(&path, "").unwrap();
        assert!(CacheDir::new(&path).prepare().is_err());
    }

    #[test]
    fn entries_are_stored_beside_each_other_and_found_by_key() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = CacheDir::new(tmp.path());
        let wait = Duration::from_secs(1);
        dir.store(&key("c", "a"), entry("tok-a"), Utc::now(), wait).unwrap();
        dir.store(&key("c", "b"), entry("tok-b"), Utc::now(), wait).unwrap();
        let entry = |k: CacheKey| dir.entry(&k).unwrap();
        assert!(entry(key("c", "a")).unwrap().credential.contains("tok-a"));
        assert!(entry(key("c", "b")).unwrap().credential.contains("tok-b"));
        assert!(entry(key("c", "z")).is_none());
        assert!(entry(key("d", "a")).is_none());
        let files = dir.cache_files().unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].0, "cache-c.yaml");
        assert_eq!(files[0].1.entries.len(), 2);
        assert_eq!(
            dir.remove_cluster("c", wait).unwrap(),
            Some((tmp.path().join("cache-c.yaml"), 2))
        );
        assert_eq!(dir.remove_cluster("c", wait).unwrap(), None);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_neither_read_nor_written_through() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("elsewhere");
        fs::write(&target, "secret").unwrap();
        let link = tmp.path().join("cache-x.yaml");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(read_cache_file(&link).is_err());
        assert!(atomic::write(&link, b"new", 0o600).is_err());
        assert_eq!(fs::read(&target).unwrap(), b"secret");
        assert_eq!(read_cache_file(&tmp.path().join("absent")).unwrap(), None);
    }

    #[test]
    fn a_missing_directory_lists_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = CacheDir::new(tmp.path().join("absent"));
        assert!(dir.cache_files().unwrap().is_empty());
        assert!(dir.remove_all(Duration::ZERO).unwrap().is_empty());
    }

    /// Only "not there" means "not there yet": a path under a file is not a directory we
    /// could create, and nothing is listed from it as if it were empty. (Windows calls a
    /// path under a file one that is not found.)
    #[cfg(unix)]
    #[test]
    fn a_path_that_cannot_be_a_directory_is_an_error_not_an_absent_one() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        fs::write(&file, "").unwrap();
        let dir = CacheDir::new(file.join("cache"));
        assert!(dir.check().is_err());
        assert!(dir.cache_files().is_err());
        assert!(CacheDir::new(&file).cache_files().is_err());
    }

    #[test]
    fn remove_all_removes_every_cache_file_and_leaves_what_is_not_one() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = CacheDir::new(tmp.path());
        let wait = Duration::from_secs(1);
        dir.store(&key("c", "a"), entry("tok-a"), Utc::now(), wait).unwrap();
        dir.store(&key("d", "a"), entry("tok-d"), Utc::now(), wait).unwrap();
        let foreign = tmp.path().join("cache-index.yaml");
        fs::write(&foreign, "another program's\n").unwrap();
        let mut removed = dir.remove_all(wait).unwrap();
        removed.sort();
        assert_eq!(
            removed,
            [
                (tmp.path().join("cache-c.yaml"), 1),
                (tmp.path().join("cache-d.yaml"), 1)
            ]
        );
        assert!(!tmp.path().join("cache-c.yaml").exists());
        assert_eq!(fs::read(&foreign).unwrap(), b"another program's\n");
    }

    /// A directory that cannot be made is an error at once, not a success that every
    /// later write trips over.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_directory_that_cannot_be_created_is_an_error() {
        let err = CacheDir::new("/proc/kubecredcache-test-cannot-be-here")
            .prepare()
            .unwrap_err();
        assert!(err.0.starts_with("cannot create"), "{}", err.0);
    }

    /// Two first runs at once both find no directory and both create it: the one that
    /// comes second uses the one made a moment before.
    #[test]
    fn runs_that_create_the_directory_at_once_all_use_it() {
        let tmp = tempfile::tempdir().unwrap();
        for round in 0..20 {
            let path = tmp.path().join(format!("cache{round}"));
            let start = std::sync::Arc::new(std::sync::Barrier::new(4));
            let runs: Vec<_> = (0..4)
                .map(|_| {
                    let (path, start) = (path.clone(), start.clone());
                    std::thread::spawn(move || {
                        start.wait();
                        CacheDir::new(path).prepare()
                    })
                })
                .collect();
            for run in runs {
                run.join().unwrap().unwrap();
            }
        }
    }
}

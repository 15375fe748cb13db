//! [`CacheDir`]: the one owner of the cache directory. It names every file in it (with
//! `names.rs`), reads, stores and locks them, and is the one place that decides what in
//! that directory may be trusted: private directory, no symlinks followed.
//! Garbage collection (`gc.rs`) and the refresh markers (`marks.rs`) are more of its
//! methods, in files of their own.

use std::fs::{self, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::lock::{self, Lock};
use super::names::{self, Kind};
use super::{CacheEntry, CacheFile, CacheKey, atomic};

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

    /// Creates the directory private (0700), or tightens an existing one that is looser.
    /// Refuses a directory that belongs to someone else or is not a directory.
    pub fn prepare(&self) -> io::Result<()> {
        let dir = &self.path;
        match fs::DirBuilder::new().recursive(true).mode(0o700).create(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        let meta = fs::metadata(dir)?;
        if !meta.is_dir() {
            return Err(io::Error::other(format!("{} is not a directory", dir.display())));
        }
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(io::Error::other(format!(
                "{} belongs to uid {}, not to you",
                dir.display(),
                meta.uid()
            )));
        }
        // The umask may have loosened a fresh directory, and an old one may be 0755.
        if meta.mode() & 0o777 != 0o700 {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }

    fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// The file that holds `cluster`'s entries.
    pub fn cache_file_path(&self, cluster: &str) -> PathBuf {
        self.join(&names::cache_file(cluster))
    }

    /// The entry stored for `key`, if its cluster's file holds one. The hit path: one
    /// read, no lock, no write.
    pub fn entry(&self, key: &CacheKey) -> Option<CacheEntry> {
        let path = self.cache_file_path(key.cluster());
        match read_cache_file(&path) {
            Ok(Some(mut file)) => file.entries.remove(key.as_str()),
            Ok(None) => None,
            Err(e) => {
                log::debug!("cannot read {}: {e}", path.display());
                None
            }
        }
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

    /// Takes the single-flight lock of `key`, waiting at most `wait`; `Ok(None)` when
    /// the wait ran out.
    pub fn lock_flight(&self, key: &CacheKey, wait: Duration) -> io::Result<Option<Lock>> {
        lock::acquire(&self.join(&names::flight_lock(&key.short_hash())), wait)
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

    fn remove_cache_file(&self, name: &str, wait: Duration) -> io::Result<Option<(PathBuf, usize)>> {
        let path = self.join(name);
        let _held = lock::acquire(&self.join(&names::file_lock(name)), wait)?
            .ok_or_else(|| io::Error::other("another process kept the file locked"))?;
        let entries = match read_cache_file(&path) {
            Ok(Some(file)) => file.entries.len(),
            Ok(None) if fs::symlink_metadata(&path).is_err() => return Ok(None),
            // Unreadable, a symlink or not a cache file: removing it is what was asked.
            _ => 0,
        };
        fs::remove_file(&path)?;
        Ok(Some((path, entries)))
    }
}

/// Reads and parses a cache file. `Ok(None)` when it is absent or is not a cache file of
/// this version; an error for a symlink planted at its path or a failed read.
pub(super) fn read_cache_file(path: &Path) -> io::Result<Option<CacheFile>> {
    Ok(read_no_follow(path)?.and_then(|bytes| {
        let file = CacheFile::parse(&bytes);
        if file.is_none() {
            log::debug!("{} is not a cache file of this version; ignoring it", path.display());
        }
        file
    }))
}

/// Reads a file without following a symlink at its path. `Ok(None)` when it is absent.
fn read_no_follow(path: &Path) -> io::Result<Option<Vec<u8>>> {
    let mut file = match OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(io::Error::other(format!(
                "{} is a symlink; not following it",
                path.display()
            )));
        }
        Err(e) => return Err(e),
    };
    let mut bytes = Vec::with_capacity(4096);
    file.read_to_end(&mut bytes)?;
    Ok(Some(bytes))
}

/// Opens a small file of ours in the cache directory for reading and writing, creating
/// it empty (0600) if needed, and never through a symlink planted at its path. Lock files
/// and the GC stamp are opened this way.
pub(super) fn open_private(path: &Path) -> io::Result<fs::File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
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

    #[test]
    fn a_new_dir_is_private_and_a_loose_one_is_tightened() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = CacheDir::new(tmp.path().join("new/cache"));
        dir.prepare().unwrap();
        assert_eq!(fs::metadata(dir.path()).unwrap().mode() & 0o777, 0o700);
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        dir.prepare().unwrap();
        assert_eq!(fs::metadata(dir.path()).unwrap().mode() & 0o777, 0o700);
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
        assert!(dir.entry(&key("c", "a")).unwrap().credential.contains("tok-a"));
        assert!(dir.entry(&key("c", "b")).unwrap().credential.contains("tok-b"));
        assert!(dir.entry(&key("c", "z")).is_none());
        assert!(dir.entry(&key("d", "a")).is_none());
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

    #[test]
    fn symlinks_are_neither_read_nor_written_through() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("elsewhere");
        fs::write(&target, "secret").unwrap();
        let link = tmp.path().join("cache-x.yaml");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(read_no_follow(&link).is_err());
        assert!(atomic::write(&link, b"new", 0o600).is_err());
        assert_eq!(fs::read(&target).unwrap(), b"secret");
        assert_eq!(read_no_follow(&tmp.path().join("absent")).unwrap(), None);
    }

    #[test]
    fn a_missing_directory_lists_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = CacheDir::new(tmp.path().join("absent"));
        assert!(dir.cache_files().unwrap().is_empty());
        assert!(dir.remove_all(Duration::ZERO).unwrap().is_empty());
    }
}

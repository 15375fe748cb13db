//! Garbage collection of the cache directory: cache files nobody wrote for a while,
//! lock files nobody holds, temp files a crashed writer left, old refresh markers. It
//! runs off the cache-hit path, at most once per `KUBECREDCACHE_GC_INTERVAL`, can never
//! fail a run or take a file that another process is using, and touches only files whose
//! names are kubecredcache's (`names.rs`).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::names::{self, Kind};
use super::{CacheDir, CacheFile, lock, trust};
use crate::fs::platform;

impl CacheDir {
    /// Collects if the last collection is older than `interval`; errors are only logged.
    pub fn maybe_collect_garbage(&self, interval: Duration, max_age: Duration) {
        let stamp = self.path().join(names::GC_STAMP);
        let last = fs::metadata(&stamp).and_then(|m| m.modified()).ok();
        if last.is_some_and(|t| t.elapsed().is_ok_and(|age| age < interval)) {
            return;
        }
        // Touch the stamp first, so that concurrent processes do not all start collecting.
        if let Err(e) = platform::open_private_rw(&stamp).and_then(|f| f.set_modified(SystemTime::now())) {
            log::debug!("gc: cannot touch {}: {e}", stamp.display());
            return;
        }
        match self.collect_garbage(max_age, Utc::now()) {
            Ok(removed) => log::debug!("gc: removed {} file(s)", removed.len()),
            Err(e) => log::debug!("gc: {e}"),
        }
    }

    /// Removes what is garbage now and returns the paths removed:
    /// - cache files not written for `max_age` whose entries have all expired (a
    ///   long-lived token keeps its file), or that this version does not read (another
    ///   version's, one edited by hand: `is_dead_cache_file`);
    /// - lock files not created for `max_age` that nobody holds;
    /// - refresh-ahead markers older than `max_age`;
    /// - temp files older than `max_age` whose cache file's lock nobody holds (a writer
    ///   holds it from before it creates its temp file until after the rename).
    pub fn collect_garbage(&self, max_age: Duration, now: DateTime<Utc>) -> io::Result<Vec<PathBuf>> {
        let mut removed = Vec::new();
        for entry in fs::read_dir(self.path())? {
            let Ok(entry) = entry else { continue };
            let path = entry.path();
            let Some(kind) = entry.file_name().to_str().and_then(names::classify) else {
                continue;
            };
            if !older_than(&path, max_age) {
                continue;
            }
            let gone = match kind {
                Kind::FileLock | Kind::FlightLock => platform::LOCK_FILES_ARE_COLLECTED && remove_unheld_lock(&path),
                Kind::CacheFile => remove_dead_cache_file(&path, max_age, now),
                // A refresh marker this old is from a refresh that died; a failure this
                // old is past any back-off or cooldown.
                Kind::RefreshRunning | Kind::RefreshFailed | Kind::Failure => fs::remove_file(&path).is_ok(),
                Kind::Temp { target } => remove_abandoned_temp(&path, &self.path().join(target)),
                Kind::GcStamp => false,
            };
            if gone {
                log::debug!("gc: removed {}", path.display());
                removed.push(path);
            }
        }
        Ok(removed)
    }
}

fn older_than(path: &Path, age: Duration) -> bool {
    let modified = fs::symlink_metadata(path).and_then(|m| m.modified());
    modified.is_ok_and(|t| SystemTime::now().duration_since(t).is_ok_and(|a| a > age))
}

fn lock_of(cache_file: &Path) -> PathBuf {
    let name = cache_file.file_name().unwrap_or_default().to_string_lossy();
    cache_file.with_file_name(names::file_lock(&name))
}

fn remove_unheld_lock(path: &Path) -> bool {
    // Deleting while we hold it: a process that opened the old file notices (lock.rs).
    match lock::try_acquire(path) {
        Ok(Some(_held)) => fs::remove_file(path).is_ok(),
        _ => false,
    }
}

fn remove_abandoned_temp(temp: &Path, target: &Path) -> bool {
    let lock_path = lock_of(target);
    let Ok(Some(_held)) = lock::try_acquire(&lock_path) else {
        return false;
    };
    let removed = fs::remove_file(temp).is_ok();
    // Taking the lock may have re-created the lock file of a cache file already collected.
    if !target.exists() {
        let _ = fs::remove_file(&lock_path);
    }
    removed
}

/// Whether `path` is a cache file of ours that may go: one whose every token has
/// expired, or one of ours this version does not read (another format version, an entry
/// edited by hand), whose tokens nobody is served from here.
///
/// A file only named like ours is left alone, even in a directory that `trust.rs`
/// accepts: that check says the directory is the user's and nobody else can write to
/// it, not that everything in it is ours (a `KUBECREDCACHE_DIR` of `~/.cache` holds
/// other programs' files, a `cache-index.yaml` among them). So a file is taken only if
/// it is a regular file of the user's that we may read (`trust.rs`) and reads as a
/// kubecredcache cache file of some version: a mapping with an integer `version`, a
/// `cluster` and `entries`, which every version has (docs/cache-format.md). What is not
/// even that (bytes that are no YAML) cannot be told from another program's file: the
/// next store for its cluster replaces it.
fn is_dead_cache_file(path: &Path, now: DateTime<Utc>) -> bool {
    let Ok(Some(bytes)) = trust::read_file(path) else {
        return false;
    };
    match CacheFile::parse(&bytes) {
        Some(file) => file.latest_expiry().is_none_or(|expires| expires <= now),
        None => is_cache_file_of_any_version(&bytes),
    }
}

/// The shape every version of the cache file has (docs/cache-format.md).
#[derive(Deserialize)]
struct AnyVersion {
    #[allow(dead_code)] // only its presence and type count
    version: u64,
    #[allow(dead_code)]
    cluster: IgnoredAny,
    #[allow(dead_code)]
    entries: IgnoredAny,
}

fn is_cache_file_of_any_version(bytes: &[u8]) -> bool {
    serde_json::from_slice::<AnyVersion>(bytes).is_ok() || serde_norway::from_slice::<AnyVersion>(bytes).is_ok()
}

fn remove_dead_cache_file(path: &Path, max_age: Duration, now: DateTime<Utc>) -> bool {
    if !is_dead_cache_file(path, now) {
        return false;
    }
    // Under the writers' lock, so that a file being rewritten right now is not taken.
    let lock_path = lock_of(path);
    let Ok(Some(_held)) = lock::try_acquire(&lock_path) else {
        return false;
    };
    if !older_than(path, max_age) || !is_dead_cache_file(path, now) || fs::remove_file(path).is_err() {
        return false;
    }
    // Its lock goes with it, still held, so no writer trusts the removed file (lock.rs).
    let _ = fs::remove_file(&lock_path);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;

    fn age(path: &Path, secs: u64) {
        let t = SystemTime::now() - Duration::from_secs(secs);
        File::options().write(true).open(path).unwrap().set_modified(t).unwrap();
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    fn cache_yaml(expires: &str) -> String {
        format!(
            "version: 1\ncluster: c\nentries:\n  k:\n    provider: p\n    expires: {expires}\n    written: 2026-01-01T00:00:00Z\n    api_version: v\n    credential: '{{}}'\n"
        )
    }

    /// A key's digest, which names its own files.
    const DIGEST: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    /// A cache file of a later format version, in YAML's block style.
    const NEWER: &str = "version: 2\ncluster: c\nentries:\n  k:\n    tokens: [t]\n";
    /// A cache file of this version whose entry lost a field to a hand edit.
    const EDITED: &str = r#"{"version": 1, "cluster": "c", "entries": {"k": {"provider": "p"}}}"#;

    #[test]
    fn only_files_that_read_as_a_cache_file_of_some_version_are_ours() {
        assert!(CacheFile::parse(NEWER.as_bytes()).is_none());
        assert!(CacheFile::parse(EDITED.as_bytes()).is_none());
        for ours in [NEWER, EDITED, &cache_yaml("2020-01-01T00:00:00Z")] {
            assert!(is_cache_file_of_any_version(ours.as_bytes()), "{ours}");
        }
        for theirs in [
            "{{{",
            "",
            "index: important\n",
            "version: 2\nentries: {}\n",
            "version: two\ncluster: c\nentries: {}\n",
            "[1, 2]",
            "\u{0}\u{1}binary",
        ] {
            assert!(!is_cache_file_of_any_version(theirs.as_bytes()), "{theirs}");
        }
    }

    #[test]
    fn removes_old_garbage_and_keeps_the_rest() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let now = Utc::now();
        let future = (now + chrono::Duration::hours(1)).to_rfc3339();
        let past = (now - chrono::Duration::hours(1)).to_rfc3339();
        for (name, body, secs) in [
            ("cache-old.yaml", cache_yaml(&past), 3600),
            (&format!("refresh-{DIGEST}.running"), String::new(), 10),
            ("cache-corrupt.yaml", "{{{".to_string(), 3600),
            ("cache-index.yaml", "index: important\n".to_string(), 3600),
            ("cache-newer.yaml", NEWER.to_string(), 3600),
            ("cache-newer-young.yaml", NEWER.to_string(), 10),
            ("cache-edited.yaml", EDITED.to_string(), 3600),
            ("cache-longlived.yaml", cache_yaml(&future), 3600),
            ("cache-new.yaml", cache_yaml(&past), 10),
            ("cache-old.yaml.lock", String::new(), 3600),
            ("flight-0123456789abcdef.lock", String::new(), 3600),
            ("someone-elses.lock", String::new(), 3600),
            ("refresh-0123456789abcdef.failed", String::new(), 3600),
            (&format!("failure-{DIGEST}.json"), String::new(), 3600),
            (&format!("failure-{DIGEST}.json.bak"), String::new(), 3600),
            ("failure-0123456789abcdef.json", String::new(), 3600),
            (".cache-old.yaml.tmp-123-abc-0", String::new(), 3600),
            (".cache-new.yaml.tmp-456-abc-0", String::new(), 5),
            ("unrelated.txt", String::new(), 3600),
        ] {
            fs::write(d.join(name), body).unwrap();
            age(&d.join(name), secs);
        }
        let removed = CacheDir::new(d)
            .collect_garbage(Duration::from_secs(1200), now)
            .unwrap();
        for gone in [
            "cache-old.yaml",
            "cache-newer.yaml",
            "cache-edited.yaml",
            ".cache-old.yaml.tmp-123-abc-0",
            "refresh-0123456789abcdef.failed",
            &format!("failure-{DIGEST}.json"),
            // A per-key file under the short name that an earlier version gave it.
            "failure-0123456789abcdef.json",
        ] {
            assert!(removed.contains(&d.join(gone)), "{gone} in {removed:?}");
        }
        let flight = d.join("flight-0123456789abcdef.lock");
        assert_eq!(removed.contains(&flight), platform::LOCK_FILES_ARE_COLLECTED);
        let (bak, running) = (
            format!("failure-{DIGEST}.json.bak"),
            format!("refresh-{DIGEST}.running"),
        );
        let mut kept = vec![
            ".cache-new.yaml.tmp-456-abc-0",
            "cache-corrupt.yaml",
            "cache-index.yaml",
            "cache-longlived.yaml",
            "cache-new.yaml",
            "cache-newer-young.yaml",
            &bak,
            &running,
            "someone-elses.lock",
            "unrelated.txt",
        ];
        if !platform::LOCK_FILES_ARE_COLLECTED {
            kept.push("flight-0123456789abcdef.lock");
        }
        kept.sort();
        assert_eq!(names(d), kept);
    }

    #[test]
    fn a_held_lock_and_the_file_it_guards_are_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let cache = d.join("cache-x.yaml");
        fs::write(&cache, cache_yaml("2020-01-01T00:00:00Z")).unwrap();
        age(&cache, 3600);
        let lock_path = lock_of(&cache);
        let held = lock::try_acquire(&lock_path).unwrap().unwrap();
        age(&lock_path, 3600);
        assert!(
            CacheDir::new(d)
                .collect_garbage(Duration::from_secs(60), Utc::now())
                .unwrap()
                .is_empty()
        );
        assert!(cache.exists() && lock_path.exists());
        drop(held);
        assert!(
            !CacheDir::new(d)
                .collect_garbage(Duration::from_secs(60), Utc::now())
                .unwrap()
                .is_empty()
        );
        assert!(!cache.exists() && !lock_path.exists());
    }

    #[test]
    fn a_temp_file_whose_writer_holds_the_lock_is_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let temp = d.join(".cache-x.yaml.tmp-1-2-0");
        fs::write(&temp, "half a file").unwrap();
        age(&temp, 3600);
        let writer = lock::try_acquire(&lock_of(&d.join("cache-x.yaml"))).unwrap().unwrap();
        assert!(
            CacheDir::new(d)
                .collect_garbage(Duration::ZERO, Utc::now())
                .unwrap()
                .is_empty()
        );
        assert!(temp.exists());
        drop(writer);
        CacheDir::new(d).collect_garbage(Duration::ZERO, Utc::now()).unwrap();
        assert!(!temp.exists());
    }

    #[test]
    fn the_stamp_throttles_collection() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let old = d.join("cache-x.yaml");
        fs::write(&old, cache_yaml("2020-01-01T00:00:00Z")).unwrap();
        age(&old, 3600);
        fs::write(d.join(names::GC_STAMP), "").unwrap();
        CacheDir::new(d).maybe_collect_garbage(Duration::from_secs(60), Duration::from_secs(60));
        assert!(old.exists(), "a fresh stamp means no collection");
        age(&d.join(names::GC_STAMP), 120);
        CacheDir::new(d).maybe_collect_garbage(Duration::from_secs(60), Duration::from_secs(60));
        assert!(!old.exists());
    }
}

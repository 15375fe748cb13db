//! What a provider's credential sources (files, and directories with the files in them)
//! look like now: their latest change, and how many of them are there. A token fetched
//! before a later change (a new sign-in, new keys), or before one of them went away (a
//! logout that deletes a token cache), is not served.
//! This runs on the cache-hit path: a few `stat` calls, and a directory listing only for
//! directories that exist (the AWS SSO and CLI caches hold a handful of files).

use std::fs;
use std::path::PathBuf;
use std::time::SystemTime;

use chrono::{DateTime, Utc};

/// Files listed per directory at most: a cache directory is small; a huge one is not
/// walked on every kubectl run (its own mtime still counts).
const MAX_ENTRIES: usize = 256;

/// The state of a set of credential sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct State {
    /// The latest modification time among them (for a directory: itself and the files
    /// directly in it, since rewriting a file in place does not change its directory's
    /// mtime). `None` when none of them exists.
    pub latest: Option<DateTime<Utc>>,
    /// How many of them exist.
    pub present: u32,
}

impl State {
    /// Whether the sources changed since they were in `then`'s state (`then_present`:
    /// `None` for entries written before the count was kept).
    pub fn changed_since(&self, then: Option<DateTime<Utc>>, then_present: Option<u32>) -> bool {
        self.latest > then || then_present.is_some_and(|p| self.present < p)
    }
}

/// The state of `sources` now.
pub fn state(sources: &[PathBuf]) -> State {
    let mut latest: Option<SystemTime> = None;
    let mut present = 0;
    let mut note = |t: SystemTime| latest = Some(latest.map_or(t, |l| l.max(t)));
    for source in sources {
        let Ok(meta) = fs::metadata(source) else { continue };
        present += 1;
        if let Ok(t) = meta.modified() {
            note(t);
        }
        if meta.is_dir()
            && let Ok(entries) = fs::read_dir(source)
        {
            for entry in entries.flatten().take(MAX_ENTRIES) {
                if let Ok(t) = entry.metadata().and_then(|m| m.modified()) {
                    note(t);
                }
            }
        }
    }
    State {
        latest: latest.map(DateTime::<Utc>::from),
        present,
    }
}

/// The latest modification time among `sources` (see [`State::latest`]).
pub fn latest_change(sources: &[PathBuf]) -> Option<DateTime<Utc>> {
    state(sources).latest
}

// Setting a directory's mtime needs a directory handle on Windows; the logic is the
// same there.
#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::time::Duration;

    fn set_mtime(path: &std::path::Path, ago: u64) {
        let t = SystemTime::now() - Duration::from_secs(ago);
        fs::File::options()
            .write(true)
            .open(path)
            .or_else(|_| fs::File::open(path))
            .unwrap()
            .set_modified(t)
            .unwrap();
    }

    #[test]
    fn the_latest_of_files_directories_and_their_files() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("credentials");
        let dir = tmp.path().join("cache");
        fs::create_dir(&dir).unwrap();
        fs::write(&file, "x").unwrap();
        fs::write(dir.join("a.json"), "{}").unwrap();
        set_mtime(&file, 300);
        set_mtime(&dir.join("a.json"), 200);
        set_mtime(&dir, 100);
        let sources = vec![file.clone(), dir.clone(), tmp.path().join("missing")];
        let before = latest_change(&sources).unwrap();
        // Rewriting a file in the directory in place moves the latest change on, though
        // the directory's own mtime stays.
        fs::write(dir.join("a.json"), "{\"new\":1}").unwrap();
        set_mtime(&dir, 100);
        assert!(latest_change(&sources).unwrap() > before);
        assert_eq!(latest_change(&[tmp.path().join("missing")]), None);
    }

    #[test]
    fn removing_a_source_is_a_change_and_adding_an_unrelated_file_is_not() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = tmp.path().join("cache");
        let source = cache.join("oidc-login");
        fs::create_dir_all(&source).unwrap();
        fs::write(source.join("token"), "t").unwrap();
        for path in [&source.join("token"), &source, &cache] {
            set_mtime(path, 300);
        }
        let sources = vec![source.clone(), cache.join("never-there")];
        let then = state(&sources);
        assert_eq!(then.present, 1);
        // Something else appears beside it: its directory changes, the sources do not.
        fs::create_dir(cache.join("discovery")).unwrap();
        assert!(!state(&sources).changed_since(then.latest, Some(then.present)));
        // `kubelogin clean`: the whole directory goes.
        fs::remove_dir_all(&source).unwrap();
        let now = state(&sources);
        assert_eq!(now.latest, None);
        assert!(now.changed_since(then.latest, Some(then.present)));
        assert!(!now.changed_since(then.latest, None), "an entry that kept no count");
    }
}

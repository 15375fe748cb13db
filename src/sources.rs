//! The latest change to a provider's credential sources (files, and directories with the
//! files in them), so that a token fetched before a new sign-in or new keys is not served.
//! This runs on the cache-hit path: a few `stat` calls, and a directory listing only for
//! directories that exist (the AWS SSO and CLI caches hold a handful of files).

use std::fs;
use std::path::PathBuf;
use std::time::SystemTime;

use chrono::{DateTime, Utc};

/// Files listed per directory at most: a cache directory is small; a huge one is not
/// walked on every kubectl run (its own mtime still counts).
const MAX_ENTRIES: usize = 256;

/// The latest modification time among `sources` (for a directory: itself and the files
/// directly in it; rewriting a file in place does not change its directory's mtime).
/// `None` when none of them exists.
pub fn latest_change(sources: &[PathBuf]) -> Option<DateTime<Utc>> {
    let mut latest: Option<SystemTime> = None;
    let mut note = |t: SystemTime| latest = Some(latest.map_or(t, |l| l.max(t)));
    for source in sources {
        let Ok(meta) = fs::metadata(source) else { continue };
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
    latest.map(DateTime::<Utc>::from)
}

#[cfg(test)]
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

    // Setting a directory's mtime needs a directory handle on Windows; the logic is the
    // same there.
    #[cfg(unix)]
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
}

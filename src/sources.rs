//! The latest change to a provider's credential sources (files, and directories with the
//! files in them), so that a token fetched before a new sign-in or new keys is not served.
//! A source that is not there counts by its directory's own mtime, so that removing it
//! (a logout that deletes a token cache) is a change too.
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
/// directly in it, since rewriting a file in place does not change its directory's
/// mtime; for a source that is not there: its directory's own mtime, which its removal
/// changed). `None` when none of them, nor their directories, exists.
pub fn latest_change(sources: &[PathBuf]) -> Option<DateTime<Utc>> {
    let mut latest: Option<SystemTime> = None;
    let mut note = |t: SystemTime| latest = Some(latest.map_or(t, |l| l.max(t)));
    for source in sources {
        let Ok(meta) = fs::metadata(source) else {
            if let Some(parent) = source.parent().filter(|p| !p.as_os_str().is_empty())
                && let Ok(t) = fs::metadata(parent).and_then(|m| m.modified())
            {
                note(t);
            }
            continue;
        };
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
        assert_eq!(latest_change(&[tmp.path().join("missing/deeper")]), None);
    }

    #[test]
    fn removing_a_source_is_a_change() {
        let tmp = tempfile::tempdir().unwrap();
        let parent = tmp.path().join("cache");
        let source = parent.join("oidc-login");
        fs::create_dir_all(&source).unwrap();
        fs::write(source.join("token"), "t").unwrap();
        for path in [&source.join("token"), &source, &parent] {
            set_mtime(path, 300);
        }
        let sources = vec![source.clone()];
        let before = latest_change(&sources).unwrap();
        // `kubelogin clean`: the whole directory goes.
        fs::remove_dir_all(&source).unwrap();
        let after = latest_change(&sources).expect("its directory's mtime");
        assert!(after > before, "{after} should be after {before}");
        // A source that is not there counts by its directory alone: nothing newer there,
        // nothing changed.
        set_mtime(&parent, 400);
        assert!(latest_change(&sources).unwrap() < before);
    }
}

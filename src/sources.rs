//! What a provider's credential sources (files, and directories with the entries directly
//! in them) are now, as a [`Snapshot`] that is compared for equality. A token is served
//! only while its sources are exactly as they were when the command that fetched it
//! started: any difference (newer, older, replaced, appeared, gone) is a new sign-in, new
//! keys, a re-pointed link or a logout, and the next run fetches afresh.
//!
//! Equality, not ordering: a switch to a file prepared earlier (`mv`, `cp -p`,
//! `ln -sfn`) has an older mtime than the one it replaces, and `touch -d` can set any
//! mtime; neither can keep the device, inode and change time. A false "changed" costs one
//! fetch; a missed change would serve a token of the previous identity.
//!
//! This runs on the cache-hit path: a `stat` (and a `lstat`) per source, and a listing
//! only of directories that exist (the AWS SSO and CLI caches hold a handful of files).

use std::fs::{self, Metadata};
use std::path::{Path, PathBuf};

/// Entries recorded per directory at most: a cache directory is small; a huge one is not
/// walked on every kubectl run (its own change time still counts for entries that come
/// and go).
const MAX_ENTRIES: usize = 256;

/// What identifies the content of a set of credential sources: for each, its own
/// metadata (of the link itself, and of the file it points to), and for a directory the
/// metadata of each entry directly in it. Kept in cache entries and failure records as
/// text, and compared for equality only.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot(String);

impl Snapshot {
    /// The snapshot of `sources` now. Empty when there are no sources.
    pub fn of(sources: &[PathBuf]) -> Snapshot {
        let mut text = String::new();
        for source in sources {
            if !text.is_empty() {
                text.push(';');
            }
            record_source(&mut text, source);
        }
        Snapshot(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// One source: the path itself (`lstat`); for a symlink, what it points to (`stat`),
/// or `!` when that is missing; for a directory, its entries.
fn record_source(text: &mut String, path: &Path) {
    let own = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) => return record_error(text, &e),
    };
    record(text, &own);
    let target = if own.file_type().is_symlink() {
        text.push('>');
        match fs::metadata(path) {
            Ok(meta) => {
                record(text, &meta);
                meta
            }
            Err(e) => return record_error(text, &e),
        }
    } else {
        own
    };
    if target.is_dir() {
        record_entries(text, path);
    }
}

/// The entries directly in a directory, in an order that does not depend on how the
/// file system lists them (their records, sorted), so an unchanged directory gives the
/// same text.
fn record_entries(text: &mut String, dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        text.push_str("[?]");
        return;
    };
    let mut records = Vec::new();
    let mut more = false;
    for entry in entries {
        if records.len() == MAX_ENTRIES {
            more = true;
            break;
        }
        let Ok(entry) = entry else { continue };
        let mut one = String::new();
        // The entry as it is (a link is not followed by `DirEntry::metadata`), and what a
        // link among them points to: a session cache re-pointed is a new session.
        match entry.metadata() {
            Ok(meta) => {
                record(&mut one, &meta);
                if meta.file_type().is_symlink() {
                    one.push('>');
                    match fs::metadata(entry.path()) {
                        Ok(meta) => record(&mut one, &meta),
                        Err(e) => record_error(&mut one, &e),
                    }
                }
            }
            Err(e) => record_error(&mut one, &e),
        }
        records.push(one);
    }
    records.sort_unstable();
    text.push('[');
    text.push_str(&records.join(","));
    if more {
        text.push_str(",+");
    }
    text.push(']');
}

fn record_error(text: &mut String, error: &std::io::Error) {
    text.push(if error.kind() == std::io::ErrorKind::NotFound {
        '-'
    } else {
        '?'
    });
}

/// What identifies a file's content without reading it: device, inode, type and mode,
/// size, and modification and change times to the nanosecond (a change time cannot be
/// set back, and a replaced file has another inode).
#[cfg(unix)]
fn record(text: &mut String, meta: &Metadata) {
    use std::os::unix::fs::MetadataExt;
    let fields = [
        meta.dev(),
        meta.ino(),
        u64::from(meta.mode()),
        meta.size(),
        meta.mtime() as u64,
        meta.mtime_nsec() as u64,
        meta.ctime() as u64,
        meta.ctime_nsec() as u64,
    ];
    push_fields(text, &fields);
}

/// Windows keeps no change time and no stable file id that the standard library exposes:
/// attributes, size, creation and write times (a file moved into place keeps its write
/// time but has its own creation time only when it was copied; see docs/platforms.md).
#[cfg(windows)]
fn record(text: &mut String, meta: &Metadata) {
    use std::os::windows::fs::MetadataExt;
    let fields = [
        u64::from(meta.file_attributes()),
        meta.file_size(),
        meta.creation_time(),
        meta.last_write_time(),
    ];
    push_fields(text, &fields);
}

/// The fields in hex, separated by dots: written into a buffer and added at once, with
/// no formatting machinery (this is on the hit path).
fn push_fields(text: &mut String, fields: &[u64]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 17 * 8];
    let mut len = 0;
    for (i, field) in fields.iter().take(8).enumerate() {
        if i > 0 {
            buf[len] = b'.';
            len += 1;
        }
        let digits = (64 - field.leading_zeros()).div_ceil(4).max(1);
        for shift in (0..digits).rev() {
            buf[len] = HEX[((field >> (shift * 4)) & 15) as usize];
            len += 1;
        }
    }
    text.push_str(std::str::from_utf8(&buf[..len]).expect("hex digits and dots"));
}

/// When `path` (a credential source) was last modified, for people (`doctor`); the
/// latest of it and the entries directly in it, for a directory.
pub fn last_modified(path: &Path) -> Option<chrono::DateTime<chrono::Utc>> {
    let meta = fs::metadata(path).ok()?;
    let mut latest = meta.modified().ok();
    if meta.is_dir()
        && let Ok(entries) = fs::read_dir(path)
    {
        for entry in entries.flatten().take(MAX_ENTRIES) {
            if let Ok(t) = entry.metadata().and_then(|m| m.modified()) {
                latest = latest.max(Some(t));
            }
        }
    }
    latest.map(chrono::DateTime::<chrono::Utc>::from)
}

// The cases below use symlinks, hard links and `touch`-like mtimes as Unix has them.
#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    fn set_mtime(path: &Path, ago: u64) {
        let t = SystemTime::now() - Duration::from_secs(ago);
        fs::File::options()
            .write(true)
            .open(path)
            .or_else(|_| fs::File::open(path))
            .unwrap()
            .set_modified(t)
            .unwrap();
    }

    struct Case {
        _tmp: tempfile::TempDir,
        root: PathBuf,
        sources: Vec<PathBuf>,
    }

    /// A credentials file, a cache directory with a file in it, and a source not there.
    fn case() -> Case {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let file = root.join("credentials");
        let dir = root.join("cache");
        fs::create_dir(&dir).unwrap();
        fs::write(&file, "key = admin\n").unwrap();
        fs::write(dir.join("a.json"), "{}").unwrap();
        let sources = vec![file, dir, root.join("missing")];
        Case {
            _tmp: tmp,
            root,
            sources,
        }
    }

    impl Case {
        fn now(&self) -> Snapshot {
            Snapshot::of(&self.sources)
        }
    }

    #[test]
    fn nothing_changed_is_equal_and_no_sources_is_empty() {
        let c = case();
        assert_eq!(c.now(), c.now());
        // Reading a file changes nothing that counts.
        fs::read(&c.sources[0]).unwrap();
        assert_eq!(c.now(), c.now());
        assert_eq!(Snapshot::of(&[]).as_str(), "");
        let stored = c.now().into_string();
        assert_eq!(stored, c.now().as_str());
    }

    #[test]
    fn a_rewrite_in_place_of_a_file_in_a_directory_is_a_change() {
        let c = case();
        let before = c.now();
        let dir = &c.sources[1];
        let dir_meta = fs::metadata(dir).unwrap();
        // An entry rewritten in place leaves the directory's own metadata as it was: only
        // the entry's record shows it.
        fs::write(dir.join("a.json"), "{\"new\":1}").unwrap();
        assert_eq!(
            fs::metadata(dir).unwrap().modified().unwrap(),
            dir_meta.modified().unwrap()
        );
        assert_ne!(c.now(), before);
    }

    #[test]
    fn sources_are_recorded_one_after_another_as_cache_format_md_says() {
        let c = case();
        let each: Vec<String> = c
            .sources
            .iter()
            .map(|s| Snapshot::of(std::slice::from_ref(s)).into_string())
            .collect();
        assert_eq!(c.now().as_str(), each.join(";"));
        assert_eq!(each[2], "-", "a source not there");
    }

    #[test]
    fn a_swap_to_an_older_file_is_a_change() {
        let c = case();
        let readonly = c.root.join("credentials.readonly");
        fs::write(&readonly, "key = ro!!\n").unwrap();
        set_mtime(&readonly, 86400);
        let before = c.now();
        // `mv` of a file prepared earlier: older mtime, same size.
        fs::rename(&readonly, &c.sources[0]).unwrap();
        assert_ne!(c.now(), before);
    }

    #[test]
    fn a_symlink_re_pointed_to_an_older_file_is_a_change() {
        let c = case();
        let (admin, readonly) = (c.root.join("admin"), c.root.join("readonly"));
        fs::write(&admin, "a").unwrap();
        fs::write(&readonly, "r").unwrap();
        set_mtime(&readonly, 86400);
        let link = c.root.join("link");
        std::os::unix::fs::symlink(&admin, &link).unwrap();
        let sources = [link.clone()];
        let before = Snapshot::of(&sources);
        // `ln -sfn readonly link`: a new link to an older file.
        let tmp_link = c.root.join("link.new");
        std::os::unix::fs::symlink(&readonly, &tmp_link).unwrap();
        fs::rename(&tmp_link, &link).unwrap();
        assert_ne!(Snapshot::of(&sources), before);
    }

    #[test]
    fn touch_cannot_hide_a_change() {
        let c = case();
        let file = &c.sources[0];
        let mtime = fs::metadata(file).unwrap().modified().unwrap();
        let before = c.now();
        fs::write(file, "key = other\n").unwrap();
        // Same size, and the old mtime put back (`touch -d`): the change time moved.
        fs::File::options()
            .write(true)
            .open(file)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        assert_ne!(c.now(), before);
    }

    #[test]
    fn appearing_and_going_are_changes_and_a_sibling_is_not() {
        let c = case();
        let before = c.now();
        fs::write(c.root.join("unrelated"), "x").unwrap();
        assert_eq!(c.now(), before, "a file beside the sources is none of them");
        fs::write(&c.sources[2], "now here").unwrap();
        let appeared = c.now();
        assert_ne!(appeared, before);
        fs::remove_file(&c.sources[2]).unwrap();
        fs::remove_dir_all(&c.sources[1]).unwrap();
        assert_ne!(c.now(), appeared, "a logout that deletes a cache");
    }

    #[test]
    fn a_dangling_link_and_an_unreadable_source_are_recorded_not_skipped() {
        let c = case();
        let link = c.root.join("dangling");
        std::os::unix::fs::symlink(c.root.join("nowhere"), &link).unwrap();
        let sources = [link.clone()];
        let dangling = Snapshot::of(&sources);
        assert!(dangling.as_str().ends_with(">-"), "{dangling:?}");
        fs::write(c.root.join("nowhere"), "x").unwrap();
        assert_ne!(Snapshot::of(&sources), dangling);
    }

    #[test]
    fn fields_are_written_in_hex() {
        let mut text = String::new();
        push_fields(&mut text, &[0, 1, 0x1a2b_3c4d, u64::MAX]);
        assert_eq!(text, "0.1.1a2b3c4d.ffffffffffffffff");
    }

    #[test]
    fn last_modified_takes_the_files_in_a_directory() {
        let c = case();
        let dir = &c.sources[1];
        set_mtime(&dir.join("a.json"), 10);
        set_mtime(dir, 100);
        let t = last_modified(dir).unwrap();
        // The file's time (10 s ago), not the directory's (100 s ago) nor now.
        let now = chrono::Utc::now();
        assert!(t > now - chrono::Duration::seconds(50), "{t}");
        assert!(t < now - chrono::Duration::seconds(5), "{t}");
        assert_eq!(last_modified(&c.sources[2]), None);
    }
}

// Windows records other fields (`record` above), run under Wine by `.ci/run`.
#[cfg(all(test, windows))]
mod windows_tests {
    use super::*;

    #[test]
    fn a_rewritten_or_removed_file_is_a_change_and_nothing_else_is() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("credentials");
        fs::write(&file, "key = admin\n").unwrap();
        let sources = [file.clone()];
        let before = Snapshot::of(&sources);
        assert_eq!(Snapshot::of(&sources), before);
        fs::write(&file, "key = readonly!\n").unwrap();
        let rewritten = Snapshot::of(&sources);
        assert_ne!(rewritten, before);
        // Gone: a logout.
        fs::remove_file(&file).unwrap();
        assert_ne!(Snapshot::of(&sources), rewritten);
    }
}

//! The cache directory on disk: making it private, naming files in it safely, reading
//! without following planted symlinks. Writing goes through `atomic_file`.

use std::fs::{self, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::cache_key::fnv1a64;

/// Names of the files kubecredcache keeps, so that garbage collection recognises them.
pub const CACHE_PREFIX: &str = "cache-";
pub const CACHE_SUFFIX: &str = ".yaml";
pub const LOCK_SUFFIX: &str = ".lock";
pub const FLIGHT_PREFIX: &str = "flight-";
pub const GC_STAMP: &str = ".gc-stamp";

const MAX_NAME_BYTES: usize = 100;

/// `cache-<CLUSTER>.yaml`, or for a cluster name that is not a plain file name, a
/// sanitised prefix and a hash of the full name. Never contains `/` or starts with `.`.
pub fn cache_file_name(cluster: &str) -> String {
    format!("{CACHE_PREFIX}{}{CACHE_SUFFIX}", safe_stem(cluster))
}

fn safe_stem(cluster: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if !cluster.is_empty() && cluster.len() <= MAX_NAME_BYTES && !cluster.starts_with('.') && cluster.chars().all(plain)
    {
        return cluster.to_string();
    }
    let readable: String = cluster
        .chars()
        .map(|c| if plain(c) { c } else { '_' })
        .take(40)
        .collect();
    let readable = readable.trim_start_matches('.');
    // Two clusters may in theory share a file; that is harmless, because entries are
    // found by their full key, which holds the cluster name as given.
    format!("{readable}~{:016x}", fnv1a64(cluster.as_bytes()))
}

/// The lock guarding read-modify-write of one cache file.
pub fn file_lock_path(cache_file: &Path) -> PathBuf {
    let mut name = cache_file.file_name().expect("cache files have names").to_os_string();
    name.push(LOCK_SUFFIX);
    cache_file.with_file_name(name)
}

/// Creates the directory private (0700), or tightens an existing one that is looser.
/// Refuses a directory that belongs to someone else or is not a directory.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
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

/// Opens a small file of ours in the cache directory for reading and writing, creating
/// it empty (0600) if needed, and never through a symlink planted at its path. Lock files
/// and the GC stamp are opened this way.
pub fn open_private(path: &Path) -> io::Result<fs::File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// Sets a file's modification time to now, creating it empty if needed.
pub fn touch(path: &Path) -> io::Result<()> {
    open_private(path)?.set_modified(std::time::SystemTime::now())
}

/// Whether `name` is one of our cache files (`cache-<CLUSTER>.yaml`).
pub fn is_cache_file_name(name: &str) -> bool {
    name.starts_with(CACHE_PREFIX) && name.ends_with(CACHE_SUFFIX)
}

/// The cache files in `dir`; none when the directory does not exist yet.
pub fn cache_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(entries
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(is_cache_file_name))
        .map(|e| e.path())
        .collect())
}

/// Reads a file without following a symlink at its path. `Ok(None)` when it is absent.
pub fn read_no_follow(path: &Path) -> io::Result<Option<Vec<u8>>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_cluster_names_are_kept() {
        assert_eq!(cache_file_name("prod-eu_1.x"), "cache-prod-eu_1.x.yaml");
    }

    #[test]
    fn unsafe_names_become_safe_and_distinct() {
        let names = [
            "../../x",
            "a/b",
            "a b",
            "*",
            "?",
            "line\nbreak",
            "..",
            ".hidden",
            "",
            &"x".repeat(400),
            "\0\\xff",
        ];
        let mut seen = std::collections::HashSet::new();
        for cluster in names {
            let file = cache_file_name(cluster);
            assert!(!file.contains('/') && !file.contains('\0'), "{file:?}");
            assert!(file.chars().all(|c| c.is_ascii_graphic()), "{file:?}");
            assert!(file.len() <= 7 + MAX_NAME_BYTES + 5, "{file:?}");
            assert!(is_cache_file_name(&file), "{file:?}");
            assert!(seen.insert(file), "{cluster:?} collides");
        }
        assert_ne!(cache_file_name("a/b"), cache_file_name("a_b"));
    }

    #[test]
    fn a_new_dir_is_private_and_a_loose_one_is_tightened() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("new/cache");
        ensure_private_dir(&dir).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        ensure_private_dir(&dir).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
    }

    #[test]
    fn a_file_where_the_dir_should_be_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("f");
        fs::write(&path, "").unwrap();
        assert!(ensure_private_dir(&path).is_err());
    }

    #[test]
    fn touch_creates_and_refreshes() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("stamp");
        touch(&path).unwrap();
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(old)
            .unwrap();
        touch(&path).unwrap();
        assert!(
            fs::metadata(&path)
                .unwrap()
                .modified()
                .unwrap()
                .elapsed()
                .unwrap()
                .as_secs()
                < 60
        );
    }

    #[test]
    fn symlinks_are_neither_read_nor_written_through() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("elsewhere");
        fs::write(&target, "secret").unwrap();
        let link = tmp.path().join("cache-x.yaml");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(read_no_follow(&link).is_err());
        assert!(crate::atomic_file::write(&link, b"new", 0o600).is_err());
        assert_eq!(fs::read(&target).unwrap(), b"secret");
        assert_eq!(read_no_follow(&tmp.path().join("absent")).unwrap(), None);
    }
}

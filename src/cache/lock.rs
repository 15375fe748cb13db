//! Exclusive advisory locks on lock files in the cache directory, with the standard
//! library's `File::try_lock` (flock on Linux and macOS: the kernel drops it when the
//! holder dies, even by kill -9), and a bounded wait. The locking protocol is described
//! in `docs/architecture.md`.

use std::fs::{File, TryLockError};
use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// A held lock; dropping it releases the lock.
#[derive(Debug)]
pub struct Lock {
    file: File,
}

impl Lock {
    /// Writes our pid into the lock file, so that a waiter can say who it waits for.
    /// Always 11 bytes from the start, so it replaces the last holder's pid without a
    /// truncation (`ftruncate` would be one more symbol for every cache hit to bind).
    pub fn note_holder(&self) {
        let mut file = &self.file;
        let _ = file.write_all(format!("{:<10}\n", std::process::id()).as_bytes());
    }
}

/// Takes the lock at `path`, creating the file if needed, waiting at most `wait`.
/// `Ok(None)` when the wait ran out.
pub fn acquire(path: &Path, wait: Duration) -> io::Result<Option<Lock>> {
    acquire_noting(path, wait, &mut || {})
}

/// [`acquire`], calling `slow` once when the wait has lasted [`SLOW`].
pub fn acquire_noting(path: &Path, wait: Duration, slow: &mut dyn FnMut()) -> io::Result<Option<Lock>> {
    let started = Instant::now();
    // A wait too long for the clock is no deadline at all.
    let deadline = started.checked_add(wait);
    let mut pause = Duration::from_millis(2);
    let mut noted = false;
    loop {
        if let Some(lock) = try_acquire(path)? {
            return Ok(Some(lock));
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            return Ok(None);
        }
        if !noted && now - started >= SLOW {
            noted = true;
            slow();
        }
        std::thread::sleep(deadline.map_or(pause, |d| pause.min(d - now)));
        pause = next_pause(pause);
    }
}

/// How long a wait lasts before a waiter says why it waits.
pub const SLOW: Duration = Duration::from_secs(1);

/// The pause between two tries grows, so that a waiter does not spin a core for the
/// whole wait, up to a bound that keeps a waiter quick to notice the lock is free.
fn next_pause(pause: Duration) -> Duration {
    (pause * 2).min(Duration::from_millis(25))
}

/// Takes the lock at `path` if nobody holds it. `Ok(None)` when someone does.
pub fn try_acquire(path: &Path) -> io::Result<Option<Lock>> {
    // A few rounds at most: each retry means garbage collection removed the file
    // between our open and our lock, which it does at most once per file.
    for _ in 0..8 {
        let file = super::dir::open_private(path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(None),
            Err(TryLockError::Error(e)) => return Err(e),
        }
        // Garbage collection deletes a lock file only while holding it. If that happened
        // after we opened it, we hold a lock on a file nobody else will ever open: retry.
        if still_at(&file, path) {
            return Ok(Some(Lock { file }));
        }
    }
    Err(io::Error::other(format!("{} keeps being replaced", path.display())))
}

fn still_at(file: &File, path: &Path) -> bool {
    match (file.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(held), Ok(named)) => super::platform::same_file(&held, &named),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_excludes_others_until_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.lock");
        let held = try_acquire(&path).unwrap().expect("free lock");
        assert!(try_acquire(&path).unwrap().is_none());
        assert!(acquire(&path, Duration::from_millis(30)).unwrap().is_none());
        drop(held);
        assert!(acquire(&path, Duration::from_millis(30)).unwrap().is_some());
    }

    #[cfg(unix)]
    #[test]
    fn a_lock_file_removed_while_held_is_not_trusted_by_the_next_taker() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.lock");
        let held = try_acquire(&path).unwrap().unwrap();
        std::fs::remove_file(&path).unwrap();
        // The next taker creates a fresh file and gets a lock that means something.
        let next = try_acquire(&path).unwrap().expect("fresh file is free");
        assert!(try_acquire(&path).unwrap().is_none());
        drop((held, next));
    }

    #[cfg(unix)]
    #[test]
    fn a_lock_file_replaced_after_it_was_opened_is_noticed() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.lock");
        let opened = super::super::dir::open_private(&path).unwrap();
        assert!(still_at(&opened, &path));
        std::fs::remove_file(&path).unwrap();
        assert!(!still_at(&opened, &path), "removed");
        let _new = super::super::dir::open_private(&path).unwrap();
        assert!(!still_at(&opened, &path), "another file at the same path");
    }

    #[test]
    fn the_pause_between_tries_grows_to_its_bound() {
        let mut pause = Duration::from_millis(2);
        let mut pauses = Vec::new();
        for _ in 0..6 {
            pause = next_pause(pause);
            pauses.push(pause.as_millis());
        }
        assert_eq!(pauses, [4, 8, 16, 25, 25, 25]);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_lock_file_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.lock");
        std::os::unix::fs::symlink(tmp.path().join("target"), &path).unwrap();
        assert!(try_acquire(&path).is_err());
        assert!(!tmp.path().join("target").exists());
    }
}

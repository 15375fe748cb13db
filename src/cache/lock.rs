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
    acquire_watching(path, wait, &mut |_| true)
}

/// [`acquire`], calling `watch` with how long it has waited after each try that found
/// the lock held (so, while someone holds it); it ends the wait (`Ok(None)`) by
/// returning false.
pub fn acquire_watching(
    path: &Path,
    wait: Duration,
    watch: &mut dyn FnMut(Duration) -> bool,
) -> io::Result<Option<Lock>> {
    let started = Instant::now();
    // A wait too long for the clock is no deadline at all.
    let deadline = started.checked_add(wait);
    let mut pause = Duration::from_millis(2);
    loop {
        if let Some(lock) = try_acquire(path)? {
            return Ok(Some(lock));
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) || !watch(now - started) {
            return Ok(None);
        }
        std::thread::sleep(deadline.map_or(pause, |d| pause.min(d - now)));
        pause = next_pause(pause);
    }
}

/// Whether the process `pid` is stopped (Ctrl-Z, SIGSTOP): it holds its locks and
/// does nothing until someone continues it. False when it cannot be told (no such
/// process, or a platform without a way to ask).
#[cfg(target_os = "linux")]
pub fn process_is_stopped(pid: u32) -> bool {
    // The state follows the command name in parentheses, which may itself hold `)`.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| stopped_in_stat(&stat))
}

/// The state field of `/proc/PID/stat` says stopped: `T` (by a signal) or `t` (by a
/// tracer).
#[cfg(any(target_os = "linux", test))]
fn stopped_in_stat(stat: &str) -> bool {
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next())
        .is_some_and(|state| state == 'T' || state == 't')
}

/// macOS: the process's `p_stat`, through `proc_pidinfo` (libc has no `kinfo_proc` for
/// `sysctl` there; this is the same field).
#[cfg(target_os = "macos")]
pub fn process_is_stopped(pid: u32) -> bool {
    let Ok(pid) = libc::c_int::try_from(pid) else {
        return false;
    };
    // SAFETY: an all-zero proc_bsdshortinfo is a valid buffer for proc_pidinfo to fill.
    let mut info: libc::proc_bsdshortinfo = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::proc_bsdshortinfo>() as libc::c_int;
    // SAFETY: proc_pidinfo writes at most `size` bytes into `info`.
    let n = unsafe { libc::proc_pidinfo(pid, libc::PROC_PIDT_SHORTBSDINFO, 0, (&raw mut info).cast(), size) };
    n == size && info.pbsi_status == libc::SSTOP
}

/// Elsewhere (Windows, the BSDs) a stopped holder is not told apart: it is waited for
/// like any other, up to `KUBECREDCACHE_LOCK_WAIT` (docs/platforms.md). Windows has no
/// Ctrl-Z for a console process.
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
pub fn process_is_stopped(_pid: u32) -> bool {
    false
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
        let file = crate::fs::platform::open_private_rw(path)?;
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
        (Ok(held), Ok(named)) => crate::fs::platform::same_file(&held, &named),
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
        let opened = crate::fs::platform::open_private_rw(&path).unwrap();
        assert!(still_at(&opened, &path));
        std::fs::remove_file(&path).unwrap();
        assert!(!still_at(&opened, &path), "removed");
        let _new = crate::fs::platform::open_private_rw(&path).unwrap();
        assert!(!still_at(&opened, &path), "another file at the same path");
    }

    #[test]
    fn a_wait_ends_when_its_watch_says_so_and_only_while_the_lock_is_held() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.lock");
        let mut calls = 0;
        let free = acquire_watching(&path, Duration::from_secs(600), &mut |_| {
            calls += 1;
            false
        });
        assert!(free.unwrap().is_some(), "a free lock is taken");
        assert_eq!(calls, 0, "no watching without a holder");
        let held = free_lock(&path);
        let mut seen = Vec::new();
        let gave_up = acquire_watching(&path, Duration::from_secs(600), &mut |waited| {
            seen.push(waited);
            seen.len() < 3
        });
        assert!(gave_up.unwrap().is_none());
        assert_eq!(seen.len(), 3, "watched after each try, and stopped when told");
        assert!(seen.windows(2).all(|w| w[0] <= w[1]));
        drop(held);
    }

    fn free_lock(path: &Path) -> Lock {
        try_acquire(path).unwrap().expect("free lock")
    }

    #[test]
    fn the_stopped_states_of_proc_stat_are_read_after_the_last_parenthesis() {
        assert!(stopped_in_stat("42 (kubectl) T 1 42 42 0 -1"));
        assert!(stopped_in_stat("42 (kubectl) t 1 42 42 0 -1"));
        assert!(stopped_in_stat("42 (a) S (b) T 1 42"), "a name with `) S (` in it");
        for running in [
            "42 (kubectl) S 1 42",
            "42 (kubectl) R 1",
            "42 (T) S 1",
            "42 (x) Z 1",
            "",
            "42 (x",
        ] {
            assert!(!stopped_in_stat(running), "{running}");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_stopped_process_is_told_from_a_running_one() {
        let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id();
        assert!(!process_is_stopped(pid));
        // SAFETY: plain kill(2) of our own child.
        unsafe { libc::kill(pid as i32, libc::SIGSTOP) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !process_is_stopped(pid) {
            assert!(Instant::now() < deadline, "never seen stopped");
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        assert!(!process_is_stopped(pid), "gone");
        assert!(!process_is_stopped(u32::MAX));
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

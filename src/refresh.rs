//! Refresh ahead: a cache hit whose token is near its end prints the cached token at
//! once, then starts one detached background run of the same command that replaces the
//! entry, so that steady use never waits for the authenticator.
//!
//! Per key, two small files in the cache directory say what is going on:
//! `refresh-<HASH>.running` (created with O_EXCL by the one process that starts the
//! refresh; removed by the refresh when it ends) and `refresh-<HASH>.failed` (the time
//! and exit code of the last failed refresh, never its output; no refresh is started
//! while it is younger than the back-off).

use std::ffi::{OsStr, OsString};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::cache_file::CacheEntry;
use crate::settings::{self, RefreshAhead};

pub const PREFIX: &str = "refresh-";
/// Set in the environment of the background refresh; its value is the key's hash.
pub const CHILD_ENV: &str = "KUBECREDCACHE_INTERNAL_REFRESH";
/// A fetch that took this long while kubectl said a person was there probably asked
/// that person something (an MFA code): such entries are not refreshed in the background.
pub const PROMPT_SECONDS: f64 = 5.0;
/// A `.running` marker older than this belongs to a refresh that died without cleaning up.
const STALE_RUNNING: Duration = Duration::from_secs(5 * 60);

fn running_path(dir: &Path, hash: &str) -> PathBuf {
    dir.join(format!("{PREFIX}{hash}.running"))
}

fn failed_path(dir: &Path, hash: &str) -> PathBuf {
    dir.join(format!("{PREFIX}{hash}.failed"))
}

/// How long before expiry a hit starts a refresh, for this entry.
pub fn window(setting: RefreshAhead, entry: &CacheEntry) -> Option<Duration> {
    match setting {
        RefreshAhead::Off => None,
        RefreshAhead::Within(d) => Some(d),
        RefreshAhead::LastThird => {
            let lifetime = (entry.expires - entry.written).to_std().unwrap_or_default();
            Some((lifetime / 3).max(Duration::from_secs(180)))
        }
    }
}

/// Whether a hit on `entry` at `now` should start a refresh (before the checks of who
/// may be asked and what is already running).
pub fn is_due(setting: RefreshAhead, entry: &CacheEntry, now: DateTime<Utc>) -> bool {
    let left = (entry.expires - now).to_std().unwrap_or_default();
    window(setting, entry).is_some_and(|w| left < w)
}

/// Whether fetching this entry most likely involved a person (see [`PROMPT_SECONDS`]).
pub fn fetched_with_a_person(entry: &CacheEntry) -> bool {
    entry.interactive && entry.fetch_seconds >= PROMPT_SECONDS
}

fn younger_than(path: &Path, age: Duration) -> bool {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t.elapsed().is_ok_and(|e| e < age))
}

/// What `status` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Idle,
    Due,
    Running,
    BackingOff,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Idle => "-",
            State::Due => "due",
            State::Running => "running",
            State::BackingOff => "backing off",
        }
    }
}

pub fn state(dir: &Path, hash: &str, entry: &CacheEntry, now: DateTime<Utc>) -> State {
    if younger_than(&running_path(dir, hash), STALE_RUNNING) {
        State::Running
    } else if younger_than(&failed_path(dir, hash), settings::refresh_backoff()) {
        State::BackingOff
    } else if is_due(settings::refresh_ahead(), entry, now) {
        State::Due
    } else {
        State::Idle
    }
}

/// Starts the background refresh of `program args` for the key `hash`, unless one is
/// running or backing off. Never fails the caller, never prints.
pub fn start(dir: &Path, hash: &str, program: &OsStr, args: &[OsString]) {
    if younger_than(&failed_path(dir, hash), settings::refresh_backoff()) {
        log::debug!("refresh ahead: backing off after a failure");
        return;
    }
    let running = running_path(dir, hash);
    if !claim(&running) {
        log::debug!("refresh ahead: already running");
        return;
    }
    let spawned = std::env::current_exe().and_then(|me| {
        let mut child = Command::new(me);
        child
            .arg("--")
            .arg(program)
            .args(args)
            .env(CHILD_ENV, hash)
            // Nothing of kubectl's: its pipe must see EOF as soon as we exit, and nobody
            // can answer a prompt.
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: setsid is async-signal-safe; it detaches the child from kubectl's
        // session and process group, so their signals and terminal do not reach it.
        unsafe {
            child.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        child.spawn()
    });
    match spawned {
        Ok(child) => log::debug!("refresh ahead: started (pid {})", child.id()),
        Err(e) => {
            log::debug!("refresh ahead: cannot start: {e}");
            let _ = fs::remove_file(&running);
        }
    }
}

/// Creates the `.running` marker; false if a live one exists. A stale one is replaced.
fn claim(running: &Path) -> bool {
    for _ in 0..2 {
        let created = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(running);
        match created {
            Ok(mut file) => {
                let _ = writeln!(file, "{}", std::process::id());
                return true;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && !younger_than(running, STALE_RUNNING) => {
                let _ = fs::remove_file(running);
            }
            Err(_) => return false,
        }
    }
    false
}

/// In the background refresh, when it ends: record a failure (time and exit code) or
/// clear an old one, and remove the `.running` marker.
pub fn finish(dir: &Path, hash: &str, outcome: Result<(), i32>) {
    let failed = failed_path(dir, hash);
    match outcome {
        Ok(()) => {
            let _ = fs::remove_file(&failed);
        }
        Err(code) => {
            let record = serde_json::json!({ "failed_at": Utc::now().to_rfc3339(), "exit_code": code });
            let _ = crate::atomic_file::write(&failed, format!("{record}\n").as_bytes(), 0o600);
        }
    }
    let _ = fs::remove_file(running_path(dir, hash));
}

/// For garbage collection: a refresh state file old enough to go.
pub fn is_state_file(name: &str) -> bool {
    name.starts_with(PREFIX) && (name.ends_with(".running") || name.ends_with(".failed"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec_credential::parse_timestamp;
    use std::time::SystemTime;

    fn entry(written: &str, expires: &str) -> CacheEntry {
        CacheEntry {
            provider: "p".into(),
            identity: Default::default(),
            expires: parse_timestamp(expires).unwrap(),
            written: parse_timestamp(written).unwrap(),
            api_version: "v".into(),
            credential: "{}".into(),
            interactive: false,
            fetch_seconds: 0.5,
            sources_changed: None,
        }
    }

    #[test]
    fn the_default_window_is_the_last_third_and_at_least_three_minutes() {
        let fifteen = entry("2026-01-01T00:00:00Z", "2026-01-01T00:15:00Z");
        assert_eq!(
            window(RefreshAhead::LastThird, &fifteen),
            Some(Duration::from_secs(300))
        );
        let six = entry("2026-01-01T00:00:00Z", "2026-01-01T00:06:00Z");
        assert_eq!(window(RefreshAhead::LastThird, &six), Some(Duration::from_secs(180)));
        assert_eq!(window(RefreshAhead::Off, &fifteen), None);
        assert_eq!(
            window(RefreshAhead::Within(Duration::from_secs(7)), &fifteen),
            Some(Duration::from_secs(7))
        );
    }

    #[test]
    fn due_only_inside_the_window() {
        let e = entry("2026-01-01T00:00:00Z", "2026-01-01T00:15:00Z");
        assert!(!is_due(
            RefreshAhead::LastThird,
            &e,
            parse_timestamp("2026-01-01T00:09:59Z").unwrap()
        ));
        assert!(is_due(
            RefreshAhead::LastThird,
            &e,
            parse_timestamp("2026-01-01T00:10:01Z").unwrap()
        ));
        assert!(!is_due(
            RefreshAhead::Off,
            &e,
            parse_timestamp("2026-01-01T00:14:00Z").unwrap()
        ));
    }

    #[test]
    fn a_slow_interactive_fetch_counts_as_a_person() {
        let mut e = entry("2026-01-01T00:00:00Z", "2026-01-01T00:15:00Z");
        assert!(!fetched_with_a_person(&e));
        e.interactive = true;
        assert!(!fetched_with_a_person(&e), "interactive but quick: nobody was asked");
        e.fetch_seconds = 12.0;
        assert!(fetched_with_a_person(&e));
    }

    #[test]
    fn one_claim_at_a_time_and_a_stale_one_is_taken_over() {
        let tmp = tempfile::tempdir().unwrap();
        let running = tmp.path().join("refresh-x.running");
        assert!(claim(&running));
        assert!(!claim(&running));
        let old = SystemTime::now() - Duration::from_secs(3600);
        fs::File::options()
            .write(true)
            .open(&running)
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert!(claim(&running), "a dead refresh's marker does not block forever");
    }

    #[test]
    fn finish_records_failures_and_clears_them_on_success() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        assert!(claim(&running_path(d, "h")));
        finish(d, "h", Err(3));
        let record: serde_json::Value = serde_json::from_slice(&fs::read(failed_path(d, "h")).unwrap()).unwrap();
        assert_eq!(record["exit_code"], 3);
        assert!(!running_path(d, "h").exists());
        finish(d, "h", Ok(()));
        assert!(!failed_path(d, "h").exists());
    }
}

//! The refresh-ahead markers, per key: `refresh-<HASH>.running`, created with O_EXCL by
//! the one process that starts a background refresh and removed by the refresh when it
//! ends, and `refresh-<HASH>.failed`, the time and exit code of the last failed refresh
//! (never its output). When to refresh is the engine's policy (`engine/refresh.rs`);
//! this file only keeps the markers.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use chrono::Utc;

use super::CacheDir;
use super::names;
use crate::fs::atomic;

/// A `.running` marker older than this belongs to a refresh that died without cleaning up.
pub const STALE_RUNNING: Duration = Duration::from_secs(5 * 60);

impl CacheDir {
    /// Creates the `.running` marker of `hash`; false if a live one exists. A stale one
    /// is replaced.
    pub fn claim_refresh(&self, hash: &str) -> bool {
        let running = self.path().join(names::refresh_running(hash));
        for _ in 0..2 {
            let created = crate::fs::platform::create_new_private(&running);
            match created {
                Ok(mut file) => {
                    let _ = writeln!(file, "{}", std::process::id());
                    return true;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && !younger_than(&running, STALE_RUNNING) => {
                    let _ = fs::remove_file(&running);
                }
                Err(_) => return false,
            }
        }
        false
    }

    /// Gives up a claim that started nothing.
    pub fn release_refresh(&self, hash: &str) {
        let _ = fs::remove_file(self.path().join(names::refresh_running(hash)));
    }

    /// When the background refresh of `hash` ends: record a failure (time and exit code)
    /// or clear an old one, and remove the `.running` marker.
    pub fn finish_refresh(&self, hash: &str, outcome: Result<(), i32>) {
        let failed = self.path().join(names::refresh_failed(hash));
        match outcome {
            Ok(()) => {
                let _ = fs::remove_file(&failed);
            }
            Err(code) => {
                let record = serde_json::json!({ "failed_at": Utc::now().to_rfc3339(), "exit_code": code });
                let _ = atomic::write(&failed, format!("{record}\n").as_bytes(), 0o600);
            }
        }
        self.release_refresh(hash);
    }

    /// Ends the back-off of `hash`: a foreground run just stored a fresh token.
    pub fn forget_refresh_failure(&self, hash: &str) {
        let _ = fs::remove_file(self.path().join(names::refresh_failed(hash)));
    }

    /// Whether a background refresh of `hash` is running (its marker is live).
    pub fn refresh_running(&self, hash: &str) -> bool {
        younger_than(&self.path().join(names::refresh_running(hash)), STALE_RUNNING)
    }

    /// Whether the last background refresh of `hash` failed less than `backoff` ago.
    pub fn refresh_failed_within(&self, hash: &str, backoff: Duration) -> bool {
        younger_than(&self.path().join(names::refresh_failed(hash)), backoff)
    }
}

fn younger_than(path: &Path, age: Duration) -> bool {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t.elapsed().is_ok_and(|e| e < age))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    const HASH: &str = "0123456789abcdef";

    #[test]
    fn one_claim_at_a_time_and_a_stale_one_is_taken_over() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = CacheDir::new(tmp.path());
        assert!(dir.claim_refresh(HASH));
        assert!(!dir.claim_refresh(HASH));
        assert!(dir.refresh_running(HASH));
        let running = tmp.path().join(names::refresh_running(HASH));
        let age = |secs| {
            fs::File::options()
                .write(true)
                .open(&running)
                .unwrap()
                .set_modified(SystemTime::now() - Duration::from_secs(secs))
                .unwrap();
        };
        // A refresh may run for minutes (a slow STS, a longer KUBECREDCACHE_REFRESH_TIMEOUT):
        // two minutes in, it is still running, and nobody starts a second one.
        age(120);
        assert!(dir.refresh_running(HASH));
        assert!(!dir.claim_refresh(HASH));
        age(3600);
        assert!(!dir.refresh_running(HASH));
        assert!(
            dir.claim_refresh(HASH),
            "a dead refresh's marker does not block forever"
        );
    }

    #[test]
    fn finish_records_failures_and_clears_them_on_success() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = CacheDir::new(tmp.path());
        assert!(dir.claim_refresh(HASH));
        dir.finish_refresh(HASH, Err(3));
        let failed = tmp.path().join(names::refresh_failed(HASH));
        let record: serde_json::Value = serde_json::from_slice(&fs::read(&failed).unwrap()).unwrap();
        assert_eq!(record["exit_code"], 3);
        assert!(dir.refresh_failed_within(HASH, Duration::from_secs(60)));
        assert!(!dir.refresh_running(HASH));
        dir.finish_refresh(HASH, Ok(()));
        assert!(!failed.exists());
        assert!(!dir.refresh_failed_within(HASH, Duration::from_secs(60)));
    }
}

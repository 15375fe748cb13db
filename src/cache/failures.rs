//! The failure of the last fetch of a key, `failure-<HASH>.json`: when, the exit code,
//! and what the command wrote on stderr (bounded). Processes that waited for that fetch,
//! and runs during the cooldown after it, replay it instead of running the command
//! again (engine/fetch.rs decides when). It holds no token: a failed command printed
//! none.

use std::fs;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::names;
use super::{CacheDir, atomic, trust};

/// The most of a failed command's stderr that is kept: its end, where the reason is.
pub const MAX_STDERR_BYTES: usize = 16 << 10;

/// A fetch that failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    pub failed_at: DateTime<Utc>,
    pub exit_code: i32,
    /// The end of what the command wrote on stderr (empty when it wrote to a terminal).
    #[serde(default)]
    pub stderr: String,
    /// The latest change to the provider's credential sources when it failed: a later
    /// change (a new sign-in) ends the cooldown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources_changed: Option<DateTime<Utc>>,
}

impl Failure {
    pub fn new(exit_code: i32, stderr: &[u8], sources_changed: Option<DateTime<Utc>>) -> Failure {
        let kept = &stderr[stderr.len().saturating_sub(MAX_STDERR_BYTES)..];
        Failure {
            failed_at: Utc::now(),
            exit_code,
            stderr: String::from_utf8_lossy(kept).into_owned(),
            sources_changed,
        }
    }
}

impl CacheDir {
    /// Records the failure of the last fetch of `hash`. Errors are only logged: a record
    /// that cannot be written means the next run tries again, as without it.
    pub fn record_failure(&self, hash: &str, failure: &Failure) {
        let path = self.path().join(names::failure(hash));
        let text = serde_json::to_string(failure).expect("a failure serializes");
        if let Err(e) = atomic::write(&path, text.as_bytes(), 0o600) {
            log::debug!("cannot record the failure in {}: {e}", path.display());
        }
    }

    /// The last recorded failure of `hash`, if any.
    pub fn failure(&self, hash: &str) -> Option<Failure> {
        let bytes = trust::read_file(&self.path().join(names::failure(hash))).ok()??;
        serde_json::from_slice(&bytes).ok()
    }

    /// Forgets the failure of `hash`: a fetch succeeded.
    pub fn forget_failure(&self, hash: &str) {
        let _ = fs::remove_file(self.path().join(names::failure(hash)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "0123456789abcdef";

    #[test]
    fn a_failure_is_recorded_read_back_and_forgotten() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = CacheDir::new(tmp.path());
        assert_eq!(dir.failure(HASH), None);
        let failure = Failure::new(255, b"run aws sso login\n", None);
        dir.record_failure(HASH, &failure);
        assert_eq!(dir.failure(HASH), Some(failure));
        dir.forget_failure(HASH);
        assert_eq!(dir.failure(HASH), None);
    }

    #[test]
    fn only_the_end_of_a_long_stderr_is_kept() {
        let mut long = vec![b'x'; 3 * MAX_STDERR_BYTES];
        long.extend_from_slice(b"the reason");
        let failure = Failure::new(1, &long, None);
        assert_eq!(failure.stderr.len(), MAX_STDERR_BYTES);
        assert!(failure.stderr.ends_with("the reason"));
    }
}

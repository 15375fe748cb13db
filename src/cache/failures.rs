//! The failure of the last fetch of a key, `failure-<HASH>.json`: facts only, when, the
//! exit code and the snapshot of the credential sources, under a name that is the key's
//! digest (the command's identity: its program's full path and the identity it runs
//! as). Processes that waited for that fetch, and runs during the cooldown after it,
//! replay it instead of running the command again (engine/fetch.rs decides when).
//!
//! Nothing the command wrote is kept, so there is nothing to redact: its stderr went
//! straight to the run that failed, as bare (upstream/), and a failed command prints no
//! credential. A deny-list of secret shapes applied to that text failed open
//! (`password hunter2` passed it); an allow-list of harmless sentences would match only
//! the plugin versions and languages it was written for, and the run that failed has
//! shown the message already, to the same user, seconds before.

use std::fs;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::names;
use super::{CacheDir, trust};
use crate::fs::atomic;

/// A fetch that failed. A record written by an older version may hold a `stderr`
/// field: it is not read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    pub failed_at: DateTime<Utc>,
    pub exit_code: i32,
    /// The snapshot of the provider's credential sources taken before the failed run
    /// started (`sources.rs`): any difference since (a new sign-in) ends the cooldown.
    #[serde(default)]
    pub sources: String,
}

impl Failure {
    pub fn new(exit_code: i32, sources: String) -> Failure {
        Failure {
            failed_at: Utc::now(),
            exit_code,
            sources,
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
        let failure = Failure::new(255, "snapshot".into());
        dir.record_failure(HASH, &failure);
        assert_eq!(dir.failure(HASH), Some(failure));
        dir.forget_failure(HASH);
        assert_eq!(dir.failure(HASH), None);
    }

    #[test]
    fn an_older_record_is_read_and_its_stderr_left_unread() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = CacheDir::new(tmp.path());
        let old = r#"{"failed_at":"2026-11-29T10:00:01Z","exit_code":255,"stderr":"password hunter2\n","sources":"s"}"#;
        atomic::write(&tmp.path().join(names::failure(HASH)), old.as_bytes(), 0o600).unwrap();
        let failure = dir.failure(HASH).expect("still a failure");
        assert_eq!((failure.exit_code, failure.sources.as_str()), (255, "s"));
        dir.record_failure(HASH, &failure);
        let text = fs::read_to_string(tmp.path().join(names::failure(HASH))).unwrap();
        assert!(!text.contains("hunter2"), "{text}");
    }
}

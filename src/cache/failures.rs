//! The failure of the last fetch of a key, `failure-<HASH>.json`: when, the exit code,
//! and what the command wrote on stderr (bounded). Processes that waited for that fetch,
//! and runs during the cooldown after it, replay it instead of running the command
//! again (engine/fetch.rs decides when). It holds no token: a failed command printed
//! none on stdout, and what looks like a secret on its stderr (`aws --debug` prints the
//! session token it signs with) is replaced with `[redacted]` before it is kept.

use std::fs;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::names;
use super::redact::redact_secrets;
use super::{CacheDir, trust};
use crate::fs::atomic;

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
    /// The snapshot of the provider's credential sources taken before the failed run
    /// started (`sources.rs`): any difference since (a new sign-in) ends the cooldown.
    #[serde(default)]
    pub sources: String,
}

impl Failure {
    pub fn new(exit_code: i32, stderr: &[u8], sources: String) -> Failure {
        let kept = &stderr[stderr.len().saturating_sub(MAX_STDERR_BYTES)..];
        Failure {
            failed_at: Utc::now(),
            exit_code,
            stderr: redact_secrets(&String::from_utf8_lossy(kept)),
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
        let failure = Failure::new(255, b"run aws sso login\n", String::new());
        dir.record_failure(HASH, &failure);
        assert_eq!(dir.failure(HASH), Some(failure));
        dir.forget_failure(HASH);
        assert_eq!(dir.failure(HASH), None);
    }

    #[test]
    fn only_the_end_of_a_long_stderr_is_kept() {
        let mut long = vec![b'x'; 3 * MAX_STDERR_BYTES];
        long.extend_from_slice(b"the reason");
        let failure = Failure::new(1, &long, String::new());
        assert_eq!(failure.stderr.len(), MAX_STDERR_BYTES);
        assert!(failure.stderr.ends_with("the reason"));
    }

    #[test]
    fn what_looks_like_a_secret_is_not_kept() {
        let stderr = "2026-11-29 10:00:01,123 - MainThread - botocore.endpoint - DEBUG - Sending http request: <AWSPreparedRequest headers={'X-Amz-Security-Token': b'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDx7', 'Authorization': b'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261129/us-east-1/sts/aws4_request'}>\n\
            secret_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n\
            Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r\n\
            Error when retrieving token from sso: Token has expired and refresh failed\n\
            for access key AKIAIOSFODNN7EXAMPLE\n\
            see /home/me/.aws/sso/cache/3f2a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a.json\n";
        let kept = Failure::new(255, stderr.as_bytes(), String::new()).stderr;
        for secret in [
            "IQoJb3JpZ2luX2VjEJr",
            "wJalrXUtnFEMI",
            "bPxRfiCYEXAMPLEKEY",
            "eyJhbGciOiJSUzI1NiJ9",
            "dBjftJeZ4CVPmB92K27uhbUJU1p1r",
        ] {
            assert!(!kept.contains(secret), "{secret} kept: {kept}");
        }
        for readable in [
            "Error when retrieving token from sso: Token has expired and refresh failed",
            "/home/me/.aws/sso/cache/3f2a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a.json",
            "botocore.endpoint - DEBUG",
            "for access key AKIAIOSFODNN7EXAMPLE",
        ] {
            assert!(kept.contains(readable), "{readable} lost: {kept}");
        }
    }
}

//! No login storms. A failed fetch (an expired SSO session, a refused login) is recorded
//! beside the cache (`cache/failures.rs`): the processes that waited for it replay it
//! instead of each running the command again, and for `KUBECREDCACHE_FAILURE_COOLDOWN`
//! after it, non-interactive runs of the same identity replay it too. A person at a
//! terminal (kubectl says `interactive`) is never held back, by either: they may want to
//! try again at once, and can answer a prompt the run that failed could not. Any change
//! to the provider's credential sources since the failed run started (the user ran `aws
//! sso login`) and a forced refresh end the cooldown.
//!
//! A replay is one line of facts: what failed, when, its exit code, that its message
//! went to the run that failed (the record keeps none of it), and how to retry now.

use chrono::{DateTime, Utc};

use super::{Accept, Request};
use crate::cache::{CacheDir, Failure};
use crate::sources::Snapshot;
use crate::{messages, settings};

const RETRY: &str = "kubecredcache --force-refresh (or KUBECREDCACHE_FORCE_REFRESH=1) tries again now";

impl Request<'_> {
    /// Records the failure of a fetch we ran, for the processes waiting on us and for
    /// the cooldown.
    pub(super) fn record_failure(&self, cache: &CacheDir, code: i32, sources: Snapshot) {
        let failure = Failure::new(code, sources.into_string());
        cache.record_failure(&self.key.digest(), &failure);
    }

    /// During the cooldown after a failure, a normal, non-interactive miss replays it:
    /// its exit code, and one line that says so. `None`: go on and fetch.
    pub(super) fn replay_during_cooldown(&self, cache: &CacheDir, accept: Accept) -> Option<i32> {
        if accept != Accept::AnyFresh || self.exec_info.spec.interactive {
            return None;
        }
        let cooldown = chrono::Duration::from_std(settings::failure_cooldown()).ok()?;
        let failure = cache.failure(&self.key.digest())?;
        let age = Utc::now() - failure.failed_at;
        // A failure "in the future" is a clock stepped back: it holds nothing back.
        if age < chrono::Duration::zero() || age >= cooldown || self.sources_changed_since(&failure) {
            return None;
        }
        let left = (cooldown - age).num_seconds().max(1);
        Some(self.replay(&failure, "", &format!("not trying again for {left}s")))
    }

    /// After waiting for another process's fetch of the same key: if that fetch failed,
    /// replay its failure instead of running the command again. `None`: go on and fetch.
    /// A person at a terminal runs it: the fetch that failed may have been a background
    /// refresh, which could not ask for the MFA code or sign-in the person can give.
    pub(super) fn replay_shared_failure(&self, cache: &CacheDir, accept: Accept, since: DateTime<Utc>) -> Option<i32> {
        if accept != Accept::AnyFresh || self.exec_info.spec.interactive {
            return None;
        }
        let failure = cache.failure(&self.key.digest())?;
        if failure.failed_at < since || self.sources_changed_since(&failure) {
            return None;
        }
        // Not recorded while we waited but "in the future": a clock stepped back since
        // an old failure, which would otherwise be replayed until real time caught up.
        if failure.failed_at > Utc::now() {
            return None;
        }
        Some(self.replay(
            &failure,
            " in the kubecredcache process we waited for",
            "not trying again at once",
        ))
    }

    /// Whether the credential sources are not as they were when the failed run started
    /// (a new sign-in, even one that completed while that run was still going).
    fn sources_changed_since(&self, failure: &Failure) -> bool {
        self.sources_now().as_str() != failure.sources
    }

    /// Says, in one line, what failed, when (and `where`), with which exit code, where
    /// its message went, `then` (what we do now) and how to retry; returns its exit code.
    fn replay(&self, failure: &Failure, r#where: &str, then: &str) -> i32 {
        let ago = (Utc::now() - failure.failed_at).num_seconds().max(0);
        messages::error(&format!(
            "{} failed to get the token for cluster {} {ago}s ago ({}){where} with exit code {}; its message went to the stderr of the run that failed; {then}. {RETRY}",
            self.program.to_string_lossy(),
            self.key.cluster(),
            failure.failed_at.format("%H:%M:%S UTC"),
            failure.exit_code
        ));
        failure.exit_code
    }
}

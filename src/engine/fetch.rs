//! The miss path, in its steps: make the cache directory ready (or go on without it),
//! take the key's single-flight lock, reuse what another process fetched meanwhile, run
//! the command, store what it printed, print it, collect garbage.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::{Accept, Request, output, refresh};
use crate::cache::{CacheDir, CacheEntry, Lock};
use crate::exec_credential::ExecCredential;
use crate::provider::ProcessEnv;
use crate::{settings, sources, upstream};

/// How long a foreground run waits for the single-flight lock when a background refresh
/// holds it. A foreground run misses only once its token is inside the margin, long
/// after the refresh began: by then that refresh is stuck, and nobody can answer a
/// prompt in a detached process, so waiting for it helps no one.
pub const WAIT_BEHIND_REFRESH: Duration = Duration::from_secs(2);

/// A credential the command printed that is worth caching.
struct Fetched {
    credential: ExecCredential,
    /// The earlier of its stated expiry and what the token itself allows.
    expires: DateTime<Utc>,
    issued: Option<DateTime<Utc>>,
    seconds: f64,
}

impl Request<'_> {
    /// Fetches once across processes, stores, prints, collects garbage.
    pub(super) fn fetch(&self, accept: Accept) -> i32 {
        let cache = self.writable_cache();
        // Single flight: whoever holds this lock is fetching this key; the others wait
        // for it and then find its token in the cache. A dead holder's lock is gone.
        let flight = cache.and_then(|c| self.wait_for_flight(c));
        self.fetch_holding(cache, flight, accept, None)
    }

    /// The fetch proper, with the single-flight lock (if any) taken. `limit` bounds how
    /// long the command may run.
    pub(super) fn fetch_holding(
        &self,
        cache: Option<&CacheDir>,
        flight: Option<Lock>,
        accept: Accept,
        limit: Option<Duration>,
    ) -> i32 {
        if flight.is_some()
            && let Some(entry) = self.fetched_meanwhile(accept)
        {
            log::debug!("another process fetched it meanwhile");
            return output::credential(&entry.exec_credential(), self.wanted_api_version());
        }
        let fetched = match self.run_command(limit) {
            Ok(fetched) => fetched,
            Err(code) => return code,
        };
        if let Some(cache) = cache {
            self.store(cache, &fetched);
        }
        drop(flight);
        let code = output::credential(&fetched.credential, self.wanted_api_version());
        if let Some(cache) = cache {
            cache.maybe_collect_garbage(settings::gc_interval(), settings::gc_age());
        }
        code
    }

    /// The cache directory, created private if needed; `None` (after one warning) when
    /// it cannot be used, and the run goes on uncached.
    pub(super) fn writable_cache(&self) -> Option<&CacheDir> {
        match self.cache.prepare() {
            Ok(()) => Some(&self.cache),
            Err(why) => {
                output::warn_uncached(&why.to_string());
                None
            }
        }
    }

    fn wait_for_flight(&self, cache: &CacheDir) -> Option<Lock> {
        let mut wait = settings::lock_wait();
        if cache.refresh_running(&self.key.short_hash()) {
            log::debug!("a background refresh of this key is running; waiting at most {WAIT_BEHIND_REFRESH:?} for it");
            wait = wait.min(WAIT_BEHIND_REFRESH);
        }
        match cache.lock_flight(&self.key, wait) {
            Ok(Some(held)) => Some(held),
            Ok(None) => {
                log::warn!("waited {wait:?} for another process fetching the same token; fetching too");
                None
            }
            Err(e) => {
                log::warn!("cannot take the single-flight lock: {e}; fetching without it");
                None
            }
        }
    }

    /// What another process stored while we waited for the lock, if `accept` takes it.
    fn fetched_meanwhile(&self, accept: Accept) -> Option<CacheEntry> {
        let now = Utc::now();
        let entry = self.lookup(now).ok().flatten()?;
        let accepted = match accept {
            Accept::AnyFresh => true,
            Accept::NotDue => !refresh::is_due(&entry, now),
            Accept::Nothing => false,
        };
        accepted.then_some(entry)
    }

    /// Runs the command. `Err` carries the exit code when there is nothing to cache: the
    /// command failed (its stderr has gone to ours) or passed its time limit, or printed
    /// something that is not a credential with an expiry (passed through as it was).
    fn run_command(&self, limit: Option<Duration>) -> Result<Fetched, i32> {
        log::debug!("miss: running {}", self.program.to_string_lossy());
        let started = Instant::now();
        let finished = upstream::run(self.program, self.raw_args, limit)
            .map_err(|e| upstream::report_spawn_error(self.program, &e))?;
        if finished.timed_out {
            log::debug!("the command passed its time limit of {limit:?}; killed it");
            return Err(upstream::TIMED_OUT);
        }
        if !finished.status.success() {
            return Err(upstream::exit_code(finished.status));
        }
        let Some(credential) = ExecCredential::parse(&finished.stdout) else {
            log::warn!(
                "{} printed something that is not an ExecCredential; passing it through uncached",
                self.provider.name()
            );
            return Err(output::pass_through(&finished.stdout));
        };
        let Some(stated) = credential.expires else {
            log::debug!("credential has no expiry; not caching it");
            return Err(output::pass_through(&finished.stdout));
        };
        let token = credential.token.as_deref();
        Ok(Fetched {
            expires: earlier_end(stated, token.and_then(|t| self.provider.expiry_bound(t))),
            issued: token.and_then(|t| self.provider.issued_at(t)),
            credential,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Stores what was fetched, if the cache would ever serve it; a failure is a warning.
    fn store(&self, cache: &CacheDir, fetched: &Fetched) {
        let now = Utc::now();
        let mut entry = CacheEntry::new(
            self.provider.name(),
            &self.identity.parts,
            &fetched.credential,
            fetched.expires,
            now,
        );
        entry.issued = fetched.issued;
        if !entry.is_fresh(now, self.margin) {
            return;
        }
        entry.interactive = self.exec_info.spec.interactive;
        entry.fetch_seconds = fetched.seconds;
        // Taken after the command ran: it may itself have written to its caches.
        entry.sources_changed = sources::latest_change(&self.provider.credential_sources(self.args, &ProcessEnv));
        match cache.store(&self.key, entry, now, settings::lock_wait()) {
            // A fresh token ends any back-off of a failed background refresh.
            Ok(()) => cache.forget_refresh_failure(&self.key.short_hash()),
            Err(e) => output::warn_uncached(&format!(
                "cannot write {} ({e})",
                cache.cache_file_path(self.key.cluster()).display()
            )),
        }
    }
}

/// When a token stops being served: its stated expiry, or what the token itself allows
/// (an EKS token: 15 minutes after signing) when that comes first.
fn earlier_end(stated: DateTime<Utc>, bound: Option<DateTime<Utc>>) -> DateTime<Utc> {
    match bound {
        Some(bound) if bound < stated => {
            log::debug!("the token's signing time ends it at {bound}, before its stated {stated}");
            bound
        }
        _ => stated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec_credential::parse_timestamp;

    #[test]
    fn the_earlier_of_the_stated_expiry_and_the_tokens_own_bound_stands() {
        let t = |s: &str| parse_timestamp(s).unwrap();
        let stated = t("2026-01-01T00:15:00Z");
        assert_eq!(earlier_end(stated, None), stated);
        assert_eq!(
            earlier_end(stated, Some(t("2026-01-01T00:05:00Z"))),
            t("2026-01-01T00:05:00Z")
        );
        assert_eq!(
            earlier_end(stated, Some(t("2026-01-01T00:30:00Z"))),
            stated,
            "a later bound never extends it"
        );
    }
}

//! The miss path, in its steps: make the cache directory ready (or go on without it),
//! replay a recent failure instead of starting another login (`failures.rs`), take the
//! key's single-flight lock (saying why we wait), reuse what another process fetched
//! meanwhile, run the command, store what it printed (or record its failure), print it,
//! collect garbage.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::{Accept, Request, output, spawn};
use crate::cache::{CacheDir, CacheEntry, Lock, SLOW_WAIT};
use crate::exec_credential::ExecCredential;
use crate::provider::ProcessEnv;
use crate::sources::Snapshot;
use crate::{messages, settings, upstream};

/// How long a foreground run waits for the single-flight lock when a background refresh
/// holds it. A foreground run misses only once its token is inside the margin, long
/// after the refresh began: by then that refresh is stuck, and nobody can answer a
/// prompt in a detached process, so waiting for it helps no one.
pub const WAIT_BEHIND_REFRESH: Duration = Duration::from_secs(2);

/// Watches, while we wait for the single-flight lock, whether its holder is stopped.
#[derive(Default)]
struct StoppedHolder {
    /// When we last looked (as time waited).
    looked_at: Option<Duration>,
    /// The holder seen stopped at the last look, once it was seen so twice.
    pid: Option<u32>,
    /// The holder seen stopped at the last look.
    last: Option<u32>,
}

const LOOK_FOR_A_STOPPED_HOLDER_EVERY: Duration = Duration::from_millis(100);

impl StoppedHolder {
    /// Called while the lock is held, `waited` into the wait: looks, at most every
    /// [`LOOK_FOR_A_STOPPED_HOLDER_EVERY`], with `stopped_holder`; true once the same pid
    /// was seen stopped at two looks in a row. Twice: the pid in the lock file is
    /// written just after the lock is taken, so for an instant it is the last holder's,
    /// and that pid may have gone to another process (stopped, as it happens); a second
    /// look a tenth of a second later sees the real holder's.
    fn seen(&mut self, waited: Duration, stopped_holder: impl FnOnce() -> Option<u32>) -> bool {
        if self
            .looked_at
            .is_some_and(|at| waited < at + LOOK_FOR_A_STOPPED_HOLDER_EVERY)
        {
            return false;
        }
        self.looked_at = Some(waited);
        let now = stopped_holder();
        if now.is_some() && now == self.last {
            self.pid = now;
            return true;
        }
        self.last = now;
        false
    }
}

/// A credential the command printed that is worth caching.
struct Fetched {
    credential: ExecCredential,
    /// The earlier of its stated expiry and what the token itself allows.
    expires: DateTime<Utc>,
    issued: Option<DateTime<Utc>>,
    seconds: f64,
}

/// Why a run of the command gave nothing to cache.
enum NotCached {
    /// The command failed with this exit code (its stderr went to ours as it wrote it).
    Failed(i32),
    /// The run is over with this exit code: output passed through, a command that could
    /// not be started, a background refresh past its time limit.
    Done(i32),
}

/// What waiting for the single-flight lock gave.
enum Wait {
    Held(Lock),
    /// The wait ran out while another process still held it.
    GaveUp,
    /// No lock to be had (no usable cache directory, or the lock file failed).
    NoLock,
}

impl Request<'_> {
    /// Fetches once across processes, stores, prints, collects garbage.
    pub(super) fn fetch(&self, accept: Accept) -> i32 {
        let cache = self.writable_cache();
        if let Some(cache) = cache
            && let Some(code) = self.replay_during_cooldown(cache, accept)
        {
            return code;
        }
        let since = Utc::now();
        // The sources as this run found them: what its command would have read, had it
        // started now, as bare it would have.
        let at_start = self.sources_now();
        // Single flight: whoever holds this lock is fetching this key; the others wait
        // for it and then find its token in the cache. A dead holder's lock is gone.
        let wait = cache.map_or(Wait::NoLock, |c| self.wait_for_flight(c));
        if !matches!(wait, Wait::NoLock)
            && let Some(entry) = self.fetched_meanwhile(accept, &at_start)
        {
            log::debug!("another process fetched it meanwhile");
            return output::credential(&entry.exec_credential(), self.exec_info.api_version.as_deref());
        }
        let flight = match wait {
            Wait::Held(lock) => {
                if let Some(code) = cache.and_then(|c| self.replay_shared_failure(c, accept, since)) {
                    return code;
                }
                Some(lock)
            }
            Wait::GaveUp => {
                messages::error(&format!(
                    "stopped waiting for the other process fetching the token for cluster {}; running {} itself",
                    self.key.cluster(),
                    self.program.to_string_lossy()
                ));
                None
            }
            Wait::NoLock => None,
        };
        self.fetch_holding(cache, flight, false)
    }

    /// The fetch proper, with the single-flight lock (if any) taken. A background run
    /// has a time limit and records no failure for the foreground to replay.
    pub(super) fn fetch_holding(&self, cache: Option<&CacheDir>, flight: Option<Lock>, background: bool) -> i32 {
        // Taken before the command starts: a sign-in, a new role or a re-pointed file while
        // it runs makes the next run fetch again, never serve what the old one signed.
        let sources = self.sources_now();
        let fetched = match self.run_command(background) {
            Ok(fetched) => fetched,
            Err(NotCached::Done(code)) => return code,
            Err(NotCached::Failed(code)) => {
                if let Some(cache) = cache.filter(|_| !background) {
                    self.record_failure(cache, code, sources);
                }
                return code;
            }
        };
        if let Some(cache) = cache {
            self.store(cache, &fetched, sources);
        }
        drop(flight);
        let code = output::credential(&fetched.credential, self.exec_info.api_version.as_deref());
        if let Some(cache) = cache {
            cache.maybe_collect_garbage(settings::gc_interval(), settings::gc_age());
        }
        code
    }

    /// The cache directory, created private if needed; `None` (after one warning) when
    /// it cannot be used, and the run goes on uncached.
    pub(super) fn writable_cache(&self) -> Option<&CacheDir> {
        self.cache
            .prepare()
            .inspect_err(|why| output::warn_uncached(&why.to_string()))
            .ok()?;
        Some(&self.cache)
    }

    /// Waits for the single-flight lock, saying why after a second. A holder that is
    /// stopped (a kubectl suspended with Ctrl-Z mid-fetch) would hold everyone for the
    /// whole wait, where bare runs would not wait at all: then we say so and fetch
    /// without the lock (`NoLock`).
    fn wait_for_flight(&self, cache: &CacheDir) -> Wait {
        let mut wait = settings::lock_wait();
        let behind_refresh = cache.refresh_running(&self.key.digest());
        if behind_refresh {
            log::debug!("a background refresh of this key is running; waiting at most {WAIT_BEHIND_REFRESH:?} for it");
            wait = wait.min(WAIT_BEHIND_REFRESH);
        }
        let mut noted = false;
        let mut stopped = StoppedHolder::default();
        let mut watch = |waited: Duration| {
            if !noted && waited >= SLOW_WAIT {
                noted = true;
                self.say_why_we_wait(cache, behind_refresh, wait);
            }
            !stopped.seen(waited, || cache.flight_holder_stopped(self.key))
        };
        match cache.lock_flight(self.key, wait, &mut watch) {
            Ok(Some(held)) => Wait::Held(held),
            Ok(None) => match stopped.pid {
                Some(pid) => {
                    messages::error(&format!(
                        "the kubecredcache process fetching the token for cluster {} (pid {pid}) is stopped (Ctrl-Z?); running {} now",
                        self.key.cluster(),
                        self.program.to_string_lossy()
                    ));
                    Wait::NoLock
                }
                None => Wait::GaveUp,
            },
            Err(e) => {
                log::warn!("cannot take the single-flight lock: {e}; fetching without it");
                Wait::NoLock
            }
        }
    }

    /// One line, after a second of waiting: a user staring at a silent kubectl learns
    /// that another terminal may be waiting for them (to log in, to type a code).
    fn say_why_we_wait(&self, cache: &CacheDir, behind_refresh: bool, wait: Duration) {
        let who = match cache.flight_holder(self.key) {
            Some(pid) => format!("another kubecredcache process (pid {pid})"),
            None => "another kubecredcache process".into(),
        };
        let what = if behind_refresh {
            "refreshing it in the background"
        } else {
            "fetching it; it may be waiting for a login or a code in another terminal"
        };
        messages::error(&format!(
            "waiting (at most {}s) for the token for cluster {}: {who} is {what}",
            wait.as_secs(),
            self.key.cluster()
        ));
    }

    /// What another process stored while we waited for the lock, if `accept` takes it: a
    /// fresh token fetched with the sources as they are now, or as they were when this run
    /// started (`at_start`), which is what its own command would have given run bare at
    /// once. Without the second, a command that writes its own sources (botocore's role
    /// cache, gcloud's access tokens) would have each waiter run it again, one after the
    /// other. A switch made after this run started is never served: the next run sees it.
    fn fetched_meanwhile(&self, accept: Accept, at_start: &Snapshot) -> Option<CacheEntry> {
        if accept != Accept::AnyFresh {
            return None;
        }
        let entry = self.cache.entry(self.key).ok().flatten()?;
        let taken = entry.is_fresh(Utc::now(), self.margin)
            && (entry.sources == at_start.as_str() || entry.sources == self.sources_now().as_str());
        taken.then_some(entry)
    }

    /// Runs the command (a background refresh within its time limit) and reads what it
    /// printed.
    fn run_command(&self, background: bool) -> Result<Fetched, NotCached> {
        log::debug!("miss: running {}", self.program.to_string_lossy());
        let started = Instant::now();
        let env = spawn::command_env(self.provider.child_env());
        let options = upstream::Options {
            limit: background.then(settings::refresh_timeout),
            env: &env,
        };
        let finished = upstream::run(self.program, self.raw_args, options)
            .map_err(|e| NotCached::Done(self.run_bare_instead(&e, background)))?;
        if finished.timed_out {
            log::debug!("the command passed its time limit of {:?}; killed it", options.limit);
            return Err(NotCached::Done(upstream::TIMED_OUT));
        }
        if !finished.status.success() {
            if !background {
                output::failed_command_stdout(&finished.stdout);
            }
            return Err(NotCached::Failed(upstream::exit_code(finished.status)));
        }
        let Some(credential) = ExecCredential::parse(&finished.stdout) else {
            log::warn!(
                "{} printed something that is not an ExecCredential kubectl takes; passing it through uncached",
                self.provider.name()
            );
            return Err(NotCached::Done(output::pass_through(&finished.stdout)));
        };
        let Some(stated) = credential.expires else {
            log::debug!("credential has no expiry; not caching it");
            return Err(NotCached::Done(output::pass_through(&finished.stdout)));
        };
        let token = credential.token.as_deref();
        Ok(Fetched {
            expires: earlier_end(
                stated,
                token.and_then(|t| self.provider.expiry_bound(t, self.args, &ProcessEnv)),
            ),
            issued: token.and_then(|t| self.provider.issued_at(t)),
            credential,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// The command could not be started our way. When our own machinery failed (a pipe or
    /// a descriptor too many under `ulimit -n`, a fork refused for want of memory or
    /// processes), bare it may well have run: the foreground run becomes the command (exec
    /// needs none of that), and a reason of the command's own (not found, not runnable)
    /// stops the exec too and is reported as bare would meet it.
    fn run_bare_instead(&self, error: &std::io::Error, background: bool) -> i32 {
        if ends_the_run(error, background) {
            return spawn::report_spawn_error(self.program, error);
        }
        log::debug!(
            "cannot run {} with its output captured ({error}); running it as without kubecredcache",
            self.program.to_string_lossy()
        );
        spawn::exec(self.program, self.raw_args, self.provider.child_env())
    }

    /// Stores what was fetched, if the cache would ever serve it; a failure is a warning.
    fn store(&self, cache: &CacheDir, fetched: &Fetched, sources: Snapshot) {
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
        entry.sources = sources.into_string();
        match cache.store(self.key, entry, now, settings::lock_wait()) {
            // A fresh token ends a cooldown, and any back-off of a failed background refresh.
            Ok(()) => {
                cache.forget_failure(&self.key.digest());
                cache.forget_refresh_failure(&self.key.digest());
            }
            Err(e) => output::warn_uncached(&format!(
                "cannot write {} ({e})",
                cache.cache_file_path(self.key.cluster()).display()
            )),
        }
    }
}

/// Whether a failure to run the command our way is reported rather than the command
/// run in our place: in a background refresh (kubectl is served already), or once the
/// command had started (it may have done its work: printed a token, spent a one-time
/// code, opened a browser for a login), as a command runs once a run.
fn ends_the_run(error: &std::io::Error, background: bool) -> bool {
    background || upstream::failed_after_start(error)
}

/// When a token stops being served: its stated expiry, or what the provider says the
/// token allows (an EKS token: 15 minutes after signing; the credentials that signed it:
/// their expiry) when that comes first.
fn earlier_end(stated: DateTime<Utc>, bound: Option<DateTime<Utc>>) -> DateTime<Utc> {
    match bound {
        Some(bound) if bound < stated => {
            log::debug!("the provider bounds this token at {bound}, before its stated {stated}");
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
    fn a_failure_ends_the_run_in_the_background_or_once_the_command_started() {
        use std::io::{Error, ErrorKind};
        for before_start in [Error::from(ErrorKind::NotFound), Error::other("too many open files")] {
            assert!(!ends_the_run(&before_start, false), "{before_start}");
            assert!(ends_the_run(&before_start, true), "{before_start}");
            let after = upstream::after_start(before_start);
            assert!(ends_the_run(&after, false), "{after}");
        }
    }

    #[test]
    fn a_holder_counts_as_stopped_once_seen_stopped_twice_in_a_row() {
        let ms = Duration::from_millis;
        let mut watch = StoppedHolder::default();
        assert!(!watch.seen(ms(0), || Some(7)), "once is not enough");
        assert!(!watch.seen(ms(50), || panic!("looked again too soon")));
        assert!(watch.seen(ms(100), || Some(7)));
        assert_eq!(watch.pid, Some(7));

        let mut watch = StoppedHolder::default();
        let looks = [Some(7), None, Some(8), Some(7), None, Some(9)];
        for (i, look) in looks.into_iter().enumerate() {
            assert!(
                !watch.seen(ms(100 * i as u64), || look),
                "look {i}: never the same twice"
            );
        }
        assert_eq!(watch.pid, None);
    }

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

//! Refresh ahead: a cache hit whose token is near its end prints the cached token at
//! once, then starts one detached background run of the same command that replaces the
//! entry, so that steady use never waits for the authenticator. The policy (when, and
//! when not) lives here; the markers that say what is going on are the cache
//! directory's (`cache/marks.rs`).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::Request;
use crate::cache::{CacheDir, CacheEntry};
use crate::provider::ProcessEnv;
use crate::settings::{self, RefreshAhead};

/// Set in the environment of the background refresh; its value is the key's hash. The
/// command it runs never sees it (`spawn.rs`), or a kubecredcache that command runs
/// would take itself for a refresh.
pub const CHILD_ENV: &str = "KUBECREDCACHE_INTERNAL_REFRESH";
/// A fetch that took this long while kubectl said a person was there probably asked
/// that person something (an MFA code): such entries are not refreshed in the background.
pub const PROMPT_SECONDS: f64 = 5.0;

/// How long before expiry a hit starts a refresh, for this entry: the last third of its
/// lifetime, at least 3 minutes, but never more than half of it, so that a token just
/// fetched is never due at once (a 2-minute token would otherwise be refreshed as soon
/// as it is stored, and every refresh would find its new token due again).
/// `KUBECREDCACHE_REFRESH_AHEAD` sets the window, within the same half.
pub fn window(setting: RefreshAhead, entry: &CacheEntry) -> Option<Duration> {
    let lifetime = (entry.expires - entry.written).to_std().unwrap_or_default();
    let wanted = match setting {
        RefreshAhead::Off => return None,
        RefreshAhead::Within(d) => d,
        RefreshAhead::LastThird => (lifetime / 3).max(Duration::from_secs(180)),
    };
    Some(wanted.min(lifetime / 2))
}

/// Whether `entry` is inside its refresh-ahead window at `now`, under `setting`.
pub fn due_with(setting: RefreshAhead, entry: &CacheEntry, now: DateTime<Utc>) -> bool {
    let left = (entry.expires - now).to_std().unwrap_or_default();
    window(setting, entry).is_some_and(|w| left < w)
}

/// Whether a hit on `entry` at `now` should start a refresh, under
/// `KUBECREDCACHE_REFRESH_AHEAD` (before the checks of who may be asked and what is
/// already running).
pub fn is_due(entry: &CacheEntry, now: DateTime<Utc>) -> bool {
    due_with(settings::refresh_ahead_in(&ProcessEnv), entry, now)
}

/// Whether fetching this entry most likely involved a person (see [`PROMPT_SECONDS`]).
pub fn fetched_with_a_person(entry: &CacheEntry) -> bool {
    entry.interactive && entry.fetch_seconds >= PROMPT_SECONDS
}

/// What `status` shows about an entry's refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshState {
    Idle,
    Due,
    Running,
    BackingOff,
}

impl RefreshState {
    pub fn as_str(self) -> &'static str {
        match self {
            RefreshState::Idle => "-",
            RefreshState::Due => "due",
            RefreshState::Running => "running",
            RefreshState::BackingOff => "backing off",
        }
    }
}

/// The refresh state of the entry whose key hash is `hash`, under the given settings
/// (`doctor` reads them from the environment a kubeconfig gives the command).
pub fn refresh_state_with(
    cache: &CacheDir,
    hash: &str,
    entry: &CacheEntry,
    now: DateTime<Utc>,
    ahead: RefreshAhead,
    backoff: Duration,
) -> RefreshState {
    if cache.refresh_running(hash) {
        RefreshState::Running
    } else if cache.refresh_failed_within(hash, backoff) {
        RefreshState::BackingOff
    } else if due_with(ahead, entry, now) {
        RefreshState::Due
    } else {
        RefreshState::Idle
    }
}

impl Request<'_> {
    /// After a hit: start a background refresh if the token is near its end and nobody
    /// may need to be asked anything. Never fails the run, never prints.
    pub(super) fn maybe_refresh_ahead(&self, entry: &CacheEntry, now: DateTime<Utc>) {
        if !is_due(entry, now) {
            return;
        }
        if self.provider.may_prompt(self.args, &ProcessEnv) {
            log::debug!(
                "refresh ahead: {} may prompt; not in the background",
                self.provider.name()
            );
            return;
        }
        if self.exec_info.spec.interactive && fetched_with_a_person(entry) {
            log::debug!("refresh ahead: this token was fetched with a person's help; not in the background");
            return;
        }
        let hash = self.key.digest();
        let backoff = settings::refresh_backoff_in(&ProcessEnv);
        if self.cache.refresh_failed_within(&hash, backoff) {
            log::debug!("refresh ahead: backing off after a failure");
            return;
        }
        if !self.cache.claim_refresh(&hash) {
            log::debug!("refresh ahead: already running");
            return;
        }
        match spawn(&hash) {
            Ok(child) => log::debug!("refresh ahead: started (pid {})", child.id()),
            Err(e) => {
                log::debug!("refresh ahead: cannot start: {e}");
                self.cache.release_refresh(&hash);
            }
        }
    }

    /// The background refresh itself: fetch even though the entry is still good, under
    /// the single-flight lock like any miss, within `KUBECREDCACHE_REFRESH_TIMEOUT`;
    /// then record how it went. If another process holds the lock, it is fetching: this
    /// refresh has nothing to do.
    pub(super) fn refresh_in_background(&self, hash: &str) -> i32 {
        let Some(cache) = self.writable_cache() else {
            return 0;
        };
        let Ok(Some(flight)) = cache.lock_flight(self.key, Duration::ZERO, &mut |_| true) else {
            log::debug!("refresh ahead: another process is fetching; nothing to do");
            cache.release_refresh(hash);
            return 0;
        };
        let started = Utc::now();
        // Renewed by a foreground fetch since this refresh was started: nothing to do.
        let renewed = |now| self.lookup(now).ok().flatten().is_some_and(|e| !is_due(&e, now));
        if renewed(started) {
            cache.finish_refresh(hash, Ok(()));
            return 0;
        }
        let mut code = self.fetch_holding(Some(cache), Some(flight), true);
        // The command may write its own credential sources (kubelogin's token cache,
        // botocore's session cache): what it stored then no longer matches them, and the
        // next hit would fetch in the foreground. Once more now, while nobody waits, with
        // a snapshot taken after that write.
        if code == 0
            && self
                .stored_since(started)
                .is_some_and(|e| e.sources != self.sources_now().as_str())
            && let Ok(Some(flight)) = cache.lock_flight(self.key, Duration::ZERO, &mut |_| true)
        {
            log::debug!("refresh ahead: the credential sources changed while it ran; once more");
            code = self.fetch_holding(Some(cache), Some(flight), true);
        }
        // Success is a token stored by this refresh, whether or not it is due again already.
        let stored = self.stored_since(started).is_some();
        cache.finish_refresh(hash, if code == 0 && stored { Ok(()) } else { Err(code) });
        code
    }

    fn stored_since(&self, started: DateTime<Utc>) -> Option<CacheEntry> {
        self.cache
            .entry(self.key)
            .ok()
            .flatten()
            .filter(|e| e.written >= started)
    }
}

/// Starts kubecredcache again, detached, with the arguments this process was given
/// (`--generic` and its `--key-env` options included), as the background refresh of `hash`.
fn spawn(hash: &str) -> std::io::Result<Child> {
    let mut child = Command::new(std::env::current_exe()?);
    child
        .args(std::env::args_os().skip(1))
        .env(CHILD_ENV, hash)
        // Nothing of kubectl's: its pipe must see EOF as soon as we exit, and nobody can
        // answer a prompt.
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    detach(&mut child);
    child.spawn()
}

/// Unix: a session of its own (`setsid`), so kubectl's signals and terminal do not reach
/// the refresh.
#[cfg(unix)]
fn detach(child: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setsid is async-signal-safe; it only detaches the new process.
    unsafe {
        child.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
}

/// Windows: no console window, no console at all (so the console's Ctrl+C does not reach
/// it), and a process group of its own.
#[cfg(windows)]
fn detach(child: &mut Command) {
    use std::os::windows::process::CommandExt;
    const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
    const DETACHED_PROCESS: u32 = 0x0000_0008;
    const CREATE_NO_WINDOW: u32 = 0x0800_0000;
    child.creation_flags(CREATE_NEW_PROCESS_GROUP | DETACHED_PROCESS | CREATE_NO_WINDOW);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec_credential::parse_timestamp;

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
            sources: String::new(),
            issued: None,
        }
    }

    #[test]
    fn the_default_window_is_the_last_third_at_least_three_minutes_at_most_half() {
        let secs = |s| Some(Duration::from_secs(s));
        let fifteen = entry("2026-01-01T00:00:00Z", "2026-01-01T00:15:00Z");
        assert_eq!(window(RefreshAhead::LastThird, &fifteen), secs(300));
        let six = entry("2026-01-01T00:00:00Z", "2026-01-01T00:06:00Z");
        assert_eq!(window(RefreshAhead::LastThird, &six), secs(180));
        let four = entry("2026-01-01T00:00:00Z", "2026-01-01T00:04:00Z");
        assert_eq!(
            window(RefreshAhead::LastThird, &four),
            secs(120),
            "OKE: half of 4 minutes"
        );
        let two = entry("2026-01-01T00:00:00Z", "2026-01-01T00:02:00Z");
        assert_eq!(window(RefreshAhead::LastThird, &two), secs(60));
        assert_eq!(window(RefreshAhead::Off, &fifteen), None);
        assert_eq!(window(RefreshAhead::Within(Duration::from_secs(7)), &fifteen), secs(7));
        assert_eq!(
            window(RefreshAhead::Within(Duration::from_secs(1200)), &fifteen),
            secs(450),
            "a setting longer than the token is capped"
        );
    }

    #[test]
    fn a_token_just_fetched_is_never_due() {
        for lifetime in ["00:00:30", "00:02:00", "00:04:00", "00:15:00", "01:00:00"] {
            let e = entry("2026-01-01T00:00:00Z", &format!("2026-01-01T{lifetime}Z"));
            for setting in [
                RefreshAhead::LastThird,
                RefreshAhead::Within(Duration::from_secs(86400)),
            ] {
                assert!(!due_with(setting, &e, e.written), "{lifetime} {setting:?}");
            }
        }
    }

    #[test]
    fn due_only_inside_the_window() {
        let e = entry("2026-01-01T00:00:00Z", "2026-01-01T00:15:00Z");
        assert!(!due_with(
            RefreshAhead::LastThird,
            &e,
            parse_timestamp("2026-01-01T00:09:59Z").unwrap()
        ));
        assert!(due_with(
            RefreshAhead::LastThird,
            &e,
            parse_timestamp("2026-01-01T00:10:01Z").unwrap()
        ));
        assert!(!due_with(
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
}

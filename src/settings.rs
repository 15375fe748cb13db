//! The environment variables that tune kubecredcache, each read where it is needed so
//! that the cache-hit path reads only the ones it uses. A bad value never fails a run:
//! it is reported in one line and the default is used.

use std::path::PathBuf;
use std::time::Duration;

pub const DIR: &str = "KUBECREDCACHE_DIR";
pub const DISABLE: &str = "KUBECREDCACHE_DISABLE";
pub const EXPIRY_MARGIN: &str = "KUBECREDCACHE_EXPIRY_MARGIN";
pub const GC_AGE: &str = "KUBECREDCACHE_GC_AGE";
pub const GC_INTERVAL: &str = "KUBECREDCACHE_GC_INTERVAL";
pub const LOCK_WAIT: &str = "KUBECREDCACHE_LOCK_WAIT";
pub const LOG: &str = "KUBECREDCACHE_LOG";
pub const REFRESH_AHEAD: &str = "KUBECREDCACHE_REFRESH_AHEAD";
pub const FORCE_REFRESH: &str = "KUBECREDCACHE_FORCE_REFRESH";
pub const REFRESH_BACKOFF: &str = "KUBECREDCACHE_REFRESH_BACKOFF";
pub const REFRESH_TIMEOUT: &str = "KUBECREDCACHE_REFRESH_TIMEOUT";
pub const FAILURE_COOLDOWN: &str = "KUBECREDCACHE_FAILURE_COOLDOWN";

/// The cache directory: `KUBECREDCACHE_DIR`, else `~/.kubecredcache`. A leading `~` is
/// the home directory (a kubeconfig's `env:` list has no shell to expand it). An error,
/// in one line, when there is no home directory or the path is relative: a relative
/// cache directory would put token files in whatever directory kubectl runs from.
pub fn cache_dir_path() -> Result<PathBuf, String> {
    let home = || home::home_dir().ok_or_else(|| format!("no home directory and no {DIR} set"));
    let Some(dir) = std::env::var_os(DIR).filter(|d| !d.is_empty()) else {
        return Ok(home()?.join(".kubecredcache"));
    };
    let path = PathBuf::from(&dir);
    let path = match path.strip_prefix("~") {
        Ok(rest) => home()?.join(rest),
        Err(_) => path,
    };
    if path.is_relative() {
        return Err(format!(
            "{DIR}={} is a relative path; set an absolute one (or ~/...)",
            dir.to_string_lossy()
        ));
    }
    Ok(path)
}

/// `KUBECREDCACHE_DISABLE=1` (or `true`/`yes`) bypasses the cache entirely.
pub fn disabled() -> bool {
    switch_var(DISABLE)
}

/// `KUBECREDCACHE_FORCE_REFRESH=1` (or `true`/`yes`): fetch afresh, ignoring the cache.
pub fn force_refresh() -> bool {
    switch_var(FORCE_REFRESH)
}

/// A token is served only while it has more than this left. Default 60 s.
pub fn expiry_margin() -> Duration {
    duration_var(EXPIRY_MARGIN, Duration::from_secs(60))
}

/// Cache files not written for this long are garbage. Default 20 minutes.
pub fn gc_age() -> Duration {
    duration_var(GC_AGE, Duration::from_secs(20 * 60))
}

/// Garbage collection runs at most this often. Default one minute.
pub fn gc_interval() -> Duration {
    duration_var(GC_INTERVAL, Duration::from_secs(60))
}

/// How long a process waits for another one fetching the same token before fetching
/// itself. Default 2 minutes, long enough for an MFA or SSO prompt.
pub fn lock_wait() -> Duration {
    duration_var(LOCK_WAIT, Duration::from_secs(120))
}

/// When a cached token is refreshed in the background before it expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshAhead {
    Off,
    /// In the last third of the token's lifetime, and at least 3 minutes before expiry.
    LastThird,
    /// This long before expiry.
    Within(Duration),
}

/// `KUBECREDCACHE_REFRESH_AHEAD`: unset for the default, `0` for off, or a duration.
pub fn refresh_ahead() -> RefreshAhead {
    match std::env::var(REFRESH_AHEAD) {
        Err(_) => RefreshAhead::LastThird,
        Ok(text) => match parse_duration(&text) {
            Some(Duration::ZERO) => RefreshAhead::Off,
            Some(d) => RefreshAhead::Within(d),
            None => {
                crate::messages::warn(&format!(
                    "{REFRESH_AHEAD}={text:?} is not a duration (write 0 for off, 300, 300s or 5m); using the default"
                ));
                RefreshAhead::LastThird
            }
        },
    }
}

/// After a failed background refresh, none is tried for this long. Default 5 minutes.
pub fn refresh_backoff() -> Duration {
    duration_var(REFRESH_BACKOFF, Duration::from_secs(5 * 60))
}

/// After a fetch failed, non-interactive runs of the same identity replay that failure
/// for this long instead of running the command again (a burst of runs with an expired
/// login must not start a burst of logins). Default 10 s; `0` turns it off.
pub fn failure_cooldown() -> Duration {
    duration_var(FAILURE_COOLDOWN, Duration::from_secs(10))
}

/// A background refresh whose command has not answered after this long is killed (a
/// laptop that slept mid-call, a stalled sign-in). Default one minute.
pub fn refresh_timeout() -> Duration {
    duration_var(REFRESH_TIMEOUT, Duration::from_secs(60))
}

/// A yes/no variable: `1`, `true` or `yes` is on; anything else, or unset, is off.
fn switch_var(name: &str) -> bool {
    matches!(std::env::var(name).as_deref(), Ok("1" | "true" | "yes"))
}

fn duration_var(name: &str, default: Duration) -> Duration {
    match std::env::var(name) {
        Err(_) => default,
        Ok(text) => parse_duration(&text).unwrap_or_else(|| {
            crate::messages::warn(&format!(
                "{name}={text:?} is not a duration (write 90, 90s or 2m); using {}s",
                default.as_secs()
            ));
            default
        }),
    }
}

/// The longest duration any setting takes: longer ones are mistakes (and would overflow
/// the clock arithmetic they feed).
const LONGEST: Duration = Duration::from_secs(366 * 24 * 3600);

/// Seconds as a plain number, or with an `s` or `m` suffix; at most a year.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, unit) = match text.strip_suffix('m') {
        Some(n) => (n, 60),
        None => (text.strip_suffix('s').unwrap_or(text), 1),
    };
    let n: u64 = number.trim().parse().ok()?;
    Some(Duration::from_secs(n.checked_mul(unit)?)).filter(|d| *d <= LONGEST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_seconds_or_an_s_or_m_suffix() {
        assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse_duration("527040m"), Some(LONGEST), "a year is the most");
        for bad in [
            "",
            "m",
            "-1",
            "1h",
            "1.5m",
            "ten",
            "99999999999999999999m",
            "9000000000000",
            "527041m",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}

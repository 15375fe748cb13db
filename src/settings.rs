//! The environment variables that tune kubecredcache, each read where it is needed so
//! that the cache-hit path reads only the ones it uses. A bad value never fails a run:
//! it is reported in one line and the default is used.
//!
//! [`ALL`] is the one list of them, with their defaults and meanings: `--help` prints
//! it, and a test holds the README's table to it. The readers `doctor` needs (`_in`)
//! take the environment to read: a run passes its own (`ProcessEnv`), `doctor` the one
//! a kubeconfig's exec entry gives the command.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::provider::{self, Env, ProcessEnv};

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

/// One setting, as `--help` and the README's table show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub name: &'static str,
    /// As people read it; a duration's parses to what its reader uses (a test says so).
    pub default: &'static str,
    /// What it does, in the README's words (Markdown backticks included).
    pub meaning: &'static str,
}

/// Every variable kubecredcache reads (but `KUBECREDCACHE_INTERNAL_REFRESH`, which is
/// its own business), in the README's order.
pub const ALL: &[Setting] = &[
    Setting {
        name: DIR,
        default: "~/.kubecredcache",
        meaning: "where the cache lives: an absolute path, or `~/...`; a directory of yours that nobody else can write (else the command runs uncached, with a warning)",
    },
    Setting {
        name: EXPIRY_MARGIN,
        default: "60s",
        meaning: "serve a token only while it has more than this left",
    },
    Setting {
        name: GC_AGE,
        default: "20m",
        meaning: "cache files not written for this long (and whose tokens expired, or that this version cannot read) are removed",
    },
    Setting {
        name: GC_INTERVAL,
        default: "60s",
        meaning: "garbage collection runs at most this often",
    },
    Setting {
        name: LOCK_WAIT,
        default: "2m",
        meaning: "how long to wait for another process fetching the same token before fetching too",
    },
    Setting {
        name: REFRESH_AHEAD,
        default: "last third, ≥ 3 min",
        meaning: "refresh in the background a token with less than this left (at most half its lifetime); `0` turns it off",
    },
    Setting {
        name: REFRESH_BACKOFF,
        default: "5m",
        meaning: "after a failed background refresh, none is tried for this long",
    },
    Setting {
        name: REFRESH_TIMEOUT,
        default: "1m",
        meaning: "a background refresh whose command has not answered after this long is killed",
    },
    Setting {
        name: FAILURE_COOLDOWN,
        default: "10s",
        meaning: "after the command failed, runs of the same identity replay that failure for this long instead of running it again (not runs with a person at a terminal); `0` turns it off",
    },
    Setting {
        name: FORCE_REFRESH,
        default: "unset",
        meaning: "`1` fetches afresh, ignoring the cache, and stores the new token (also `kubecredcache --force-refresh COMMAND ...`)",
    },
    Setting {
        name: DISABLE,
        default: "unset",
        meaning: "`1` runs the command directly, no cache at all",
    },
    Setting {
        name: LOG,
        default: "unset",
        meaning: "log filter for stderr (`debug`, `trace`, …); `RUST_LOG` is not read, so that it does not make kubectl runs noisy. Tokens are never logged.",
    },
];

const EXPIRY_MARGIN_DEFAULT: Duration = Duration::from_secs(60);
const GC_AGE_DEFAULT: Duration = Duration::from_secs(20 * 60);
const GC_INTERVAL_DEFAULT: Duration = Duration::from_secs(60);
const LOCK_WAIT_DEFAULT: Duration = Duration::from_secs(120);
const REFRESH_BACKOFF_DEFAULT: Duration = Duration::from_secs(5 * 60);
const REFRESH_TIMEOUT_DEFAULT: Duration = Duration::from_secs(60);
const FAILURE_COOLDOWN_DEFAULT: Duration = Duration::from_secs(10);

/// A variable's value as text; unset and not-UTF-8 alike are `None` (the default).
fn text(vars: &dyn Env, name: &str) -> Option<String> {
    vars.var_os(name)?.into_string().ok()
}

/// The cache directory: `KUBECREDCACHE_DIR`, else `~/.kubecredcache`. A leading `~` is
/// the home directory (a kubeconfig's `env:` list has no shell to expand it). An error,
/// in one line, when there is no home directory or the path is relative: a relative
/// cache directory would put token files in whatever directory kubectl runs from.
pub fn cache_dir_path_in(vars: &dyn Env) -> Result<PathBuf, String> {
    let home = || {
        provider::home_dir(vars)
            .or_else(home::home_dir)
            .ok_or_else(|| format!("no home directory and no {DIR} set"))
    };
    let Some(dir) = vars.var_os(DIR).filter(|d| !d.is_empty()) else {
        return Ok(home()?.join(".kubecredcache"));
    };
    let path = match Path::new(&dir).strip_prefix("~") {
        Ok(rest) => home()?.join(rest),
        Err(_) => PathBuf::from(&dir),
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
pub fn disabled_in(vars: &dyn Env) -> bool {
    switch_var(vars, DISABLE)
}

/// `KUBECREDCACHE_FORCE_REFRESH=1` (or `true`/`yes`): fetch afresh, ignoring the cache.
pub fn force_refresh_in(vars: &dyn Env) -> bool {
    switch_var(vars, FORCE_REFRESH)
}

/// A token is served only while it has more than this left. Default 60 s.
pub fn expiry_margin_in(vars: &dyn Env) -> Duration {
    duration_var(vars, EXPIRY_MARGIN, EXPIRY_MARGIN_DEFAULT)
}

/// Cache files not written for this long are garbage. Default 20 minutes.
pub fn gc_age() -> Duration {
    duration_var(&ProcessEnv, GC_AGE, GC_AGE_DEFAULT)
}

/// Garbage collection runs at most this often. Default one minute.
pub fn gc_interval() -> Duration {
    duration_var(&ProcessEnv, GC_INTERVAL, GC_INTERVAL_DEFAULT)
}

/// How long a process waits for another one fetching the same token before fetching
/// itself. Default 2 minutes, long enough for an MFA or SSO prompt.
pub fn lock_wait() -> Duration {
    duration_var(&ProcessEnv, LOCK_WAIT, LOCK_WAIT_DEFAULT)
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
pub fn refresh_ahead_in(vars: &dyn Env) -> RefreshAhead {
    match text(vars, REFRESH_AHEAD) {
        None => RefreshAhead::LastThird,
        Some(text) => match parse_duration(&text) {
            Some(Duration::ZERO) => RefreshAhead::Off,
            Some(d) => RefreshAhead::Within(d),
            None => {
                crate::messages::warn(&format!(
                    "{REFRESH_AHEAD}={text:?} is not a duration (write 0 for off, 300, 300s, 5m or 1h30m); using the default"
                ));
                RefreshAhead::LastThird
            }
        },
    }
}

/// After a failed background refresh, none is tried for this long. Default 5 minutes.
pub fn refresh_backoff_in(vars: &dyn Env) -> Duration {
    duration_var(vars, REFRESH_BACKOFF, REFRESH_BACKOFF_DEFAULT)
}

/// After a fetch failed, non-interactive runs of the same identity replay that failure
/// for this long instead of running the command again (a burst of runs with an expired
/// login must not start a burst of logins). Default 10 s; `0` turns it off.
pub fn failure_cooldown() -> Duration {
    failure_cooldown_in(&ProcessEnv)
}

pub fn failure_cooldown_in(vars: &dyn Env) -> Duration {
    duration_var(vars, FAILURE_COOLDOWN, FAILURE_COOLDOWN_DEFAULT)
}

/// A background refresh whose command has not answered after this long is killed (a
/// laptop that slept mid-call, a stalled sign-in). Default one minute.
pub fn refresh_timeout() -> Duration {
    duration_var(&ProcessEnv, REFRESH_TIMEOUT, REFRESH_TIMEOUT_DEFAULT)
}

/// A yes/no variable: `1`, `true` or `yes` is on; anything else, or unset, is off.
fn switch_var(vars: &dyn Env, name: &str) -> bool {
    matches!(text(vars, name).as_deref(), Some("1" | "true" | "yes"))
}

fn duration_var(vars: &dyn Env, name: &str, default: Duration) -> Duration {
    match text(vars, name) {
        None => default,
        Some(text) => parse_duration(&text).unwrap_or_else(|| {
            crate::messages::warn(&format!(
                "{name}={text:?} is not a duration (write 90, 90s, 2m or 1h30m, at most a year); using {}",
                format_duration(default)
            ));
            default
        }),
    }
}

/// The longest duration any setting takes: longer ones are mistakes (and would overflow
/// the clock arithmetic they feed).
const LONGEST: Duration = Duration::from_secs(366 * 24 * 3600);

/// Seconds as a plain number (`90`), or numbers with units, largest first, each unit at
/// most once: `90s`, `2m`, `1h`, `1h30m`, `2m30s`; at most a year.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    // Plain seconds; the empty text lands here too, and does not parse.
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(text.parse().ok()?)).filter(|d| *d <= LONGEST);
    }
    let mut rest = text;
    let mut seconds: u64 = 0;
    // Units in the order they may appear; each is used at most once.
    let mut units = [('h', 3600u64), ('m', 60), ('s', 1)].into_iter();
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let number: u64 = rest[..digits].parse().ok()?;
        let unit = rest[digits..].chars().next()?;
        let (_, scale) = units.by_ref().find(|(u, _)| *u == unit)?;
        seconds = seconds.checked_add(number.checked_mul(scale)?)?;
        rest = &rest[digits + unit.len_utf8()..];
    }
    Some(Duration::from_secs(seconds)).filter(|d| *d <= LONGEST)
}

/// `90s`, `2m`, `1h30m`: a duration as [`parse_duration`] reads it.
pub fn format_duration(duration: Duration) -> String {
    let s = duration.as_secs();
    let (h, m, sec) = (s / 3600, s % 3600 / 60, s % 60);
    let mut out = String::new();
    for (n, unit) in [(h, 'h'), (m, 'm'), (sec, 's')] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    if out.is_empty() { "0s".into() } else { out }
}

/// The variables as `--help` lists them: name and default, then the meaning (without
/// Markdown) wrapped to fit 80 columns.
pub fn help_text() -> String {
    let mut out = String::from("Environment (README.md has the details):\n");
    for setting in ALL {
        out.push_str(&format!("  {} [default: {}]\n", setting.name, setting.default));
        let mut line = String::new();
        for word in setting.meaning.replace('`', "").split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > 72 {
                out.push_str(&format!("      {line}\n"));
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push_str(&format!("      {line}\n"));
    }
    out.push_str("\nDurations: seconds (90), or with units: 90s, 2m, 1h, 1h30m.");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_seconds_or_units_largest_first() {
        let secs = |s| Some(Duration::from_secs(s));
        for (text, expected) in [
            ("90", secs(90)),
            ("90s", secs(90)),
            ("2m", secs(120)),
            ("1h", secs(3600)),
            ("1h30m", secs(5400)),
            ("2m30s", secs(150)),
            ("1h0m5s", secs(3605)),
            ("90m", secs(5400)),
            (" 0 ", secs(0)),
            ("0s", secs(0)),
            ("527040m", Some(LONGEST)),
            ("8784h", Some(LONGEST)),
        ] {
            assert_eq!(parse_duration(text), expected, "{text}");
        }
        for bad in [
            "",
            "m",
            "h1",
            "-1",
            "1.5m",
            "ten",
            "1d",
            "1m1h",
            "1m1m",
            "1h 30m",
            "99999999999999999999m",
            "9000000000000",
            "527041m",
            "8785h",
            "1hh",
            "1h30",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_a_duration_of_at_most_a_year_or_none(text in "[0-9hms ]{0,12}|\\PC{0,12}") {
            if let Some(d) = parse_duration(&text) {
                proptest::prop_assert!(d <= LONGEST);
            }
        }

        #[test]
        fn hours_minutes_and_seconds_add_up(h in 0u64..100, m in 0u64..100, s in 0u64..100) {
            let text = format!("{h}h{m}m{s}s");
            proptest::prop_assert_eq!(parse_duration(&text), Some(Duration::from_secs(h * 3600 + m * 60 + s)));
        }
    }

    #[test]
    fn a_formatted_duration_reads_back() {
        for s in [0, 1, 59, 60, 90, 3600, 5400, 3605, 86400] {
            let d = Duration::from_secs(s);
            assert_eq!(parse_duration(&format_duration(d)), Some(d), "{s}");
        }
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
    }

    #[test]
    fn each_listed_default_is_the_one_its_reader_uses() {
        let default_of = |name: &str| ALL.iter().find(|s| s.name == name).unwrap().default;
        for (name, used) in [
            (EXPIRY_MARGIN, EXPIRY_MARGIN_DEFAULT),
            (GC_AGE, GC_AGE_DEFAULT),
            (GC_INTERVAL, GC_INTERVAL_DEFAULT),
            (LOCK_WAIT, LOCK_WAIT_DEFAULT),
            (REFRESH_BACKOFF, REFRESH_BACKOFF_DEFAULT),
            (REFRESH_TIMEOUT, REFRESH_TIMEOUT_DEFAULT),
            (FAILURE_COOLDOWN, FAILURE_COOLDOWN_DEFAULT),
        ] {
            assert_eq!(parse_duration(default_of(name)), Some(used), "{name}");
        }
        let mut names: Vec<&str> = ALL.iter().map(|s| s.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ALL.len(), "each variable once");
    }

    #[test]
    fn settings_can_be_read_from_another_environment() {
        struct Given(&'static [(&'static str, &'static str)]);
        impl Env for Given {
            fn var(&self, name: &str) -> Option<String> {
                self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
            }
        }
        const HOME: (&str, &str) = if cfg!(windows) {
            ("USERPROFILE", r"C:\Users\me")
        } else {
            ("HOME", "/home/me")
        };
        let home = HOME.1;
        let env = Given(&[
            (EXPIRY_MARGIN, "1h"),
            (DIR, "~/elsewhere"),
            HOME,
            (DISABLE, "yes"),
            (REFRESH_AHEAD, "0"),
        ]);
        assert_eq!(expiry_margin_in(&env), Duration::from_secs(3600));
        assert_eq!(cache_dir_path_in(&env), Ok(PathBuf::from(home).join("elsewhere")));
        assert!(disabled_in(&env));
        assert!(!force_refresh_in(&env));
        assert_eq!(refresh_ahead_in(&env), RefreshAhead::Off);
        assert_eq!(failure_cooldown_in(&env), FAILURE_COOLDOWN_DEFAULT);
        assert!(cache_dir_path_in(&Given(&[(DIR, "relative/dir")])).is_err());
    }
}

//! What `doctor` found, as one value: printed as plain sentences, or as JSON with the
//! same content (`null` where there is nothing; README.md documents the shape).

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::super::{Out, status::repeats_cluster};

#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// The kubeconfig files read, in kubectl's order.
    pub kubeconfig: Vec<PathBuf>,
    pub context: Option<String>,
    /// `current-context` or `--context`.
    pub context_from: Option<&'static str>,
    pub cluster: Option<String>,
    pub server: Option<String>,
    pub user: Option<String>,
    pub exec: Option<ExecReport>,
    pub identity: Option<IdentityReport>,
    pub cache_dir: Option<CacheDirReport>,
    pub entry: Option<EntryReport>,
    pub last_failure: Option<FailureReport>,
    /// The provider's credential sources; empty when it has none (or there is no provider).
    pub credential_sources: Vec<SourceReport>,
    /// Things worth knowing that change nothing in the verdict.
    pub notes: Vec<String>,
    /// Why a kubectl run would not be served through the cache, first reason first.
    pub problems: Vec<String>,
    /// Whether a kubectl run for this context would be served through the cache.
    pub served: bool,
    pub verdict: String,
}

#[derive(Debug, Default, Serialize)]
pub struct ExecReport {
    /// As written in the kubeconfig.
    pub command: String,
    /// Where kubectl finds it; `null` when it does not.
    pub command_path: Option<PathBuf>,
    pub api_version: Option<String>,
    /// The variables its `env:` list sets (names only: values may be secrets).
    pub env: Vec<String>,
    pub runs_kubecredcache: bool,
    /// kubecredcache's own options before the command (`--force-refresh`, `--generic`...).
    pub options: Vec<String>,
    /// The program that gets the credential: the one kubecredcache wraps, or the
    /// command itself when the user does not run kubecredcache.
    pub program: Option<String>,
    /// Where kubecredcache finds that program (only for a user that runs kubecredcache).
    pub program_path: Option<PathBuf>,
    /// The provider that keys it (for a user that does not run kubecredcache: the one
    /// `setup` would wrap it with).
    pub provider: Option<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct IdentityReport {
    pub cluster: String,
    /// The parts of the key besides the cluster; secrets only as digests.
    pub parts: BTreeMap<String, String>,
    /// Arguments no declaration knows: keyed, as a digest.
    pub unknown_arguments: usize,
    /// The key's digest, which names its lock, refresh markers and failure record.
    pub key_hash: String,
}

#[derive(Debug, Default, Serialize)]
pub struct CacheDirReport {
    pub path: PathBuf,
    pub exists: bool,
    pub owner_uid: Option<u32>,
    /// Octal, `"0700"`.
    pub mode: Option<String>,
    /// Why it cannot be used; `null` when it can.
    pub problem: Option<String>,
    pub files_of_ours: usize,
    pub files_not_ours: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct EntryReport {
    /// `fresh`, `expiring` (inside the refresh-ahead window), `expired` (within the
    /// margin or past its end), or `stale` (fetched before the credential sources changed).
    pub state: &'static str,
    pub expires: DateTime<Utc>,
    /// Negative once expired.
    pub expires_in_seconds: i64,
    /// How much longer it is served (the expiry margin taken off); 0 when not.
    pub served_for_seconds: i64,
    pub written: DateTime<Utc>,
    /// Refresh ahead: `due`, `running`, `backing off`, or `null`.
    pub refresh: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct FailureReport {
    pub failed_at: DateTime<Utc>,
    pub seconds_ago: i64,
    pub exit_code: i32,
    /// How much longer runs without a terminal replay it; `null` when the cooldown is over.
    pub cooldown_left_seconds: Option<i64>,
    /// The credential sources are not as they were when it started (a new sign-in): the
    /// next run tries again.
    pub sources_changed_since: bool,
}

#[derive(Debug, Serialize)]
pub struct SourceReport {
    pub path: PathBuf,
    pub exists: bool,
    /// Its latest change (a directory: with the files directly in it).
    pub changed: Option<DateTime<Utc>>,
}

/// `12m04s`, `3h05m`, `2d04h`: how long, for people.
pub fn span(seconds: i64) -> String {
    match seconds.max(0) {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s if s < 86400 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        s => format!("{}d{:02}h", s / 86400, s % 86400 / 3600),
    }
}

fn when(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `s` after a count that is not one.
fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

impl Report {
    /// The report as plain sentences, the verdict last.
    pub fn print(&self, out: &mut Out, now: DateTime<Utc>) {
        if let Some(context) = &self.context {
            self.print_context(out, context);
        }
        if let (Some(user), Some(exec)) = (&self.user, &self.exec) {
            print_exec(out, user, exec);
        }
        if let Some(id) = &self.identity {
            print_identity(out, id);
        }
        // A cache directory is looked at only once there is an identity to look up.
        if let Some(dir) = &self.cache_dir {
            print_cache_dir(out, dir);
            if dir.problem.is_none() {
                match &self.entry {
                    Some(entry) => print_entry(out, entry),
                    None => writeln!(out, "Cache entry: none for this identity."),
                }
                match &self.last_failure {
                    Some(failure) => print_failure(out, failure),
                    None => writeln!(out, "No failed fetch is recorded."),
                }
            }
        }
        if !self.credential_sources.is_empty() {
            print_sources(out, &self.credential_sources, now);
        }
        for note in &self.notes {
            writeln!(out, "Note: {note}");
        }
        writeln!(out, "Verdict: {}", self.verdict);
    }

    fn print_context(&self, out: &mut Out, context: &str) {
        let from = match self.context_from {
            Some("--context") => "named with --context",
            _ => "the current context",
        };
        let cluster = match (&self.cluster, &self.server) {
            (Some(c), Some(s)) => format!("cluster {c} ({s})"),
            (Some(c), None) => format!("cluster {c}"),
            _ => "no cluster".into(),
        };
        let user = self.user.as_ref().map_or("no user".into(), |u| format!("user {u}"));
        writeln!(out, "Context {context} ({from}): {cluster}, {user}.");
    }
}

fn print_exec(out: &mut Out, user: &str, exec: &ExecReport) {
    let program = exec.program.as_deref().unwrap_or("?");
    let provider = exec.provider.as_deref();
    let runs = if exec.runs_kubecredcache {
        let options = exec.options.iter().filter(|o| *o != "--");
        let with: String = options.map(|o| format!(" {o}")).collect();
        let keyed = provider.map_or("no provider keys it".into(), |p| {
            format!("the {p} provider keys its tokens")
        });
        format!("kubecredcache{with} in front of {program}; {keyed}")
    } else {
        let wrap = provider.map_or("no provider caches it".into(), |p| {
            format!("`kubecredcache setup --user {user}` would wrap it (provider {p})")
        });
        format!("{program} directly, not through kubecredcache; {wrap}")
    };
    writeln!(out, "User {user} runs {runs}.");
    match &exec.command_path {
        Some(path) => writeln!(out, "kubectl finds {} at {}.", exec.command, path.display()),
        None => writeln!(out, "kubectl does not find {}.", exec.command),
    }
    if exec.runs_kubecredcache && exec.program.is_some() {
        match &exec.program_path {
            Some(path) => writeln!(out, "kubecredcache finds {program} at {}.", path.display()),
            None => writeln!(out, "kubecredcache does not find {program}."),
        }
    }
    if !exec.env.is_empty() {
        let env = exec.env.join(", ");
        writeln!(
            out,
            "Its exec env sets {env} (values not shown; they override kubectl's environment)."
        );
    }
}

fn print_identity(out: &mut Out, id: &IdentityReport) {
    let shown = id.parts.iter().filter(|(k, v)| !repeats_cluster(k, v, &id.cluster));
    let mut parts = vec![format!("cluster {}", id.cluster)];
    parts.extend(shown.map(|(k, v)| format!("{k}={v}")));
    let unknown = id.unknown_arguments;
    if unknown > 0 {
        parts.push(format!(
            "{unknown} argument{} no provider declares (keyed as a digest)",
            plural(unknown)
        ));
    }
    writeln!(out, "Identity (the cache key #{}): {}.", id.key_hash, parts.join(", "));
}

fn print_sources(out: &mut Out, sources: &[SourceReport], now: DateTime<Utc>) {
    let sources: Vec<String> = sources
        .iter()
        .map(|s| {
            let path = s.path.display();
            match s.changed {
                Some(t) => format!("{path} (changed {}, {} ago)", when(t), span((now - t).num_seconds())),
                None => format!("{path} (missing)"),
            }
        })
        .collect();
    writeln!(out, "Credential sources: {}.", sources.join(", "));
}

fn print_cache_dir(out: &mut Out, dir: &CacheDirReport) {
    let path = dir.path.display();
    if !dir.exists {
        let why = match &dir.problem {
            None => "does not exist yet; the first fetch creates it".into(),
            Some(problem) => format!("does not exist, and cannot be made: {problem}"),
        };
        writeln!(out, "Cache directory {path}: {why}.");
        return;
    }
    let owner = match (dir.owner_uid, crate::fs::platform::current_uid()) {
        (Some(uid), Some(me)) if uid == me => format!("yours (uid {uid})"),
        (Some(uid), Some(me)) => format!("owned by uid {uid}, not by you (uid {me})"),
        _ => "owner unknown (kept private by the profile's ACL on Windows)".into(),
    };
    let mode = dir.mode.as_deref().map_or(String::new(), |m| format!(", mode {m}"));
    let others = match dir.files_not_ours.len() {
        0 => "nothing in it that is not kubecredcache's".to_string(),
        n => format!(
            "also {n} that {} not kubecredcache's (left alone): {}",
            if n == 1 { "is" } else { "are" },
            dir.files_not_ours.join(", ")
        ),
    };
    let usable = dir
        .problem
        .as_ref()
        .map_or(String::new(), |p| format!("; not used: {p}"));
    let ours = dir.files_of_ours;
    writeln!(
        out,
        "Cache directory {path}: {owner}{mode}, {ours} file{} of kubecredcache's, {others}{usable}.",
        plural(ours)
    );
}

fn print_entry(out: &mut Out, entry: &EntryReport) {
    let refresh = match entry.refresh {
        Some("due") => "; a refresh ahead is due (the next kubectl run starts it in the background)",
        Some("running") => "; a refresh ahead is running",
        Some("backing off") => "; the last refresh ahead failed, and none is tried for a while",
        _ => "",
    };
    let expires = when(entry.expires);
    let sentence = match entry.state {
        "fresh" | "expiring" => format!(
            "{}, served for {} more (the token expires at {expires}){refresh}",
            entry.state,
            span(entry.served_for_seconds)
        ),
        "stale" => String::from(
            "not served, fetched before the credential sources last changed (a new sign-in?); the next run fetches a new token",
        ),
        _ if entry.expires_in_seconds > 0 => {
            format!("expired (the token is within the expiry margin of its end at {expires}); a run needs a new one")
        }
        _ => format!("expired (the token ended at {expires}); a run needs a new one"),
    };
    writeln!(out, "Cache entry: {sentence}.");
}

fn print_failure(out: &mut Out, failure: &FailureReport) {
    let after = match failure.cooldown_left_seconds {
        _ if failure.sources_changed_since => {
            "; the credential sources changed since (a new sign-in?), so the next run tries again".into()
        }
        Some(left) => format!(
            "; runs without a terminal replay it for {} more instead of trying again",
            span(left)
        ),
        None => String::new(),
    };
    writeln!(
        out,
        "Last failed fetch: {} ago, exit code {} (its message went to the run that failed){after}.",
        span(failure.seconds_ago),
        failure.exit_code
    );
}

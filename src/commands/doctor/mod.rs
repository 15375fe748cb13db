//! `kubecredcache doctor [--kubeconfig PATH] [--context NAME] [--json]`: for one
//! context, what a kubectl run would do with its credential plugin, step by step, and
//! one verdict: exit 0 when the run would be served through the cache, 1 when not.
//!
//! It reads the kubeconfig as kubectl merges it, finds the commands as kubectl and
//! kubecredcache would, reads the identity and the settings from the environment the
//! exec entry gives the command (`ExecEnv`), and looks at the cache entry,
//! the last failure and the credential sources through the same functions a wrapped
//! run uses. It never runs the authenticator and writes nothing. The report itself is
//! `report.rs`.

mod report;

use std::ffi::OsStr;
use std::path::Path;

use chrono::{DateTime, Utc};

use super::{Out, fail};
use crate::cache::{CacheDir, CacheEntry, CacheKey};
use crate::engine::{self, Served};
use crate::invocation::{self, Invocation};
use crate::kubeconfig::{self, Exec, ExecEnv, Merged, Wrapper};
use crate::provider::Env;
use crate::settings::{self, DISABLE};
use crate::sources;
use report::{CacheDirReport, EntryReport, ExecReport, FailureReport, IdentityReport, Report, SourceReport, span};

pub fn run(out: &mut Out, explicit: Option<&Path>, context: Option<&str>, json: bool) -> i32 {
    let merged = match kubeconfig::files(explicit).and_then(|files| kubeconfig::load(&files)) {
        Ok(merged) => merged,
        Err(e) => return fail(&e),
    };
    let now = Utc::now();
    let mut report = Report::default();
    if let Err(problem) = examine(&mut report, &merged, context, now) {
        report.problems.push(problem);
    }
    report.served = report.problems.is_empty();
    report.verdict = verdict(&report);
    if json {
        let json = serde_json::to_string_pretty(&report).expect("a report serializes");
        writeln!(out, "{json}");
    } else {
        report.print(out, now);
    }
    if report.served { 0 } else { 1 }
}

fn verdict(report: &Report) -> String {
    let context = report.context.as_deref().unwrap_or("?");
    let program = report.exec.as_ref().and_then(|e| e.program.as_deref());
    match (report.problems.first(), &report.entry) {
        (Some(problem), _) => format!("not served through the cache: {problem}."),
        (None, Some(entry)) if matches!(entry.state, "fresh" | "expiring") => format!(
            "served from the cache: kubectl runs for context {context} get the cached token for {} more.",
            span(entry.served_for_seconds)
        ),
        (None, _) => format!(
            "served through the cache: the next kubectl run for context {context} runs {} once and caches its token.",
            program.unwrap_or("the command")
        ),
    }
}

/// Fills in the report, step by step; each step that finds a reason the run would not
/// be served adds it to `problems`, and a step that cannot go on returns its reason.
fn examine(report: &mut Report, merged: &Merged, wanted: Option<&str>, now: DateTime<Utc>) -> Result<(), String> {
    report.kubeconfig = merged.files.clone();
    let names: Vec<_> = merged.files.iter().map(|p| p.display().to_string()).collect();
    let files = if names.is_empty() {
        "no kubeconfig file".to_string()
    } else {
        names.join(", ")
    };
    let (name, from) = match (wanted, &merged.current_context) {
        (Some(name), _) => (name.to_string(), "--context"),
        (None, Some((name, _))) => (name.clone(), "current-context"),
        (None, None) if names.is_empty() => {
            return Err(
                "there is no kubeconfig file (KUBECONFIG, or ~/.kube/config); name one with --kubeconfig PATH".into(),
            );
        }
        (None, None) => {
            let sets = if names.len() == 1 { "sets" } else { "set" };
            return Err(format!(
                "{files} {sets} no current context; name one with --context NAME"
            ));
        }
    };
    report.context = Some(name.clone());
    report.context_from = Some(from);
    let context = merged
        .context(&name)
        .ok_or_else(|| format!("there is no context {name} in {files}"))?;
    report.cluster = context.cluster.clone();
    let cluster = context.cluster.as_deref().and_then(|c| merged.cluster(c));
    report.server = cluster.and_then(|c| c.server.clone());
    let Some(user_name) = context.user.clone() else {
        return Err(format!("context {name} names no user"));
    };
    report.user = Some(user_name.clone());
    let user = merged
        .user(&user_name)
        .ok_or_else(|| format!("user {user_name} of context {name} is not defined in {files}"))?;
    let Some(exec) = &user.exec else {
        return Err(format!(
            "user {user_name} authenticates with {}, not an exec plugin: there is nothing for kubecredcache to cache",
            user.other.unwrap_or("no credentials")
        ));
    };
    if let Some(problem) = &exec.problem {
        return Err(format!("kubectl refuses user {user_name}'s exec entry: {problem}"));
    }
    examine_exec(report, &user_name, &user.file, exec, now)
}

/// The exec entry: the commands, the identity, the cache.
fn examine_exec(report: &mut Report, user: &str, file: &Path, exec: &Exec, now: DateTime<Utc>) -> Result<(), String> {
    check_api_version(&mut report.problems, user, exec.api_version.as_deref());
    let command_path = kubeconfig::kubectl_finds(&exec.command, file, std::env::var_os("PATH").as_deref());
    if let Err(missing) = &command_path {
        report
            .problems
            .push(format!("kubectl will not find {} ({missing})", exec.command));
    }
    let wrapper = Wrapper {
        command: kubeconfig::WRAPPER.into(),
        this_binary: std::env::current_exe().and_then(std::fs::canonicalize).ok(),
    };
    let found = report.exec.insert(ExecReport {
        command: exec.command.clone(),
        command_path: command_path.ok(),
        api_version: exec.api_version.clone(),
        env: exec.env.iter().map(|(name, _)| name.clone()).collect(),
        runs_kubecredcache: wrapper.is_wrapper(&exec.command),
        ..ExecReport::default()
    });
    // The command the entry runs: the one kubecredcache wraps, read as kubecredcache
    // reads its arguments, or the entry's own.
    let (program, args, force_refresh, generic) = if !found.runs_kubecredcache {
        (&exec.command, &exec.args[..], false, None)
    } else {
        match invocation::read(&exec.args) {
            Invocation::Wrap {
                command,
                force_refresh,
                generic,
            } => {
                found.options = exec.args[..exec.args.len() - command.len()].to_vec();
                (&command[0], &command[1..], force_refresh, generic)
            }
            Invocation::Ours => {
                return Err(format!(
                    "user {user} runs kubecredcache {}, one of kubecredcache's own commands, which prints no credential",
                    exec.args.first().map_or("with no command", String::as_str)
                ));
            }
            Invocation::Usage(why) => return Err(format!("kubecredcache refuses user {user}'s arguments: {why}")),
        }
    };
    found.program = Some(program.clone());
    let env = ExecEnv::new(&exec.env);
    let plan = engine::plan(OsStr::new(program), args, generic, &env);
    found.provider = plan.as_ref().map(|p| p.keyer.provider().name().to_string());
    report.problems.extend(check_program(found, program, user, exec, file));
    match plan {
        Some(plan) => examine_plan(report, plan, force_refresh, exec, &env, now),
        None => Ok(()),
    }
}

/// The entry's apiVersion, as kubectl takes it.
fn check_api_version(problems: &mut Vec<String>, user: &str, api_version: Option<&str>) {
    match api_version {
        Some(kubeconfig::V1BETA1 | "client.authentication.k8s.io/v1") => {}
        Some(kubeconfig::V1ALPHA1) => problems.push(format!(
            "user {user}'s exec apiVersion is {}, which kubectl rejects; `kubecredcache setup --user {user}` upgrades it",
            kubeconfig::V1ALPHA1
        )),
        Some(other) => problems.push(format!("kubectl does not know the exec apiVersion {other}")),
        None => problems.push(format!("user {user}'s exec entry has no apiVersion, which kubectl requires")),
    }
}

/// Whether the user runs kubecredcache, where kubecredcache finds the program it wraps,
/// and whether that is where kubectl, unwrapped, found it.
fn check_program(found: &mut ExecReport, program: &str, user: &str, exec: &Exec, file: &Path) -> Vec<String> {
    if !found.runs_kubecredcache {
        return vec![match found.provider {
            Some(_) => format!("user {user} does not run kubecredcache; `kubecredcache setup --user {user}` makes it"),
            None => format!(
                "user {user} does not run kubecredcache, and no provider caches {program} (`kubecredcache --generic -- {program} ...` caches any plugin whose credential has an expiry)"
            ),
        }];
    }
    let mut problems = Vec::new();
    let exec_path = ExecEnv::new(&exec.env).var_os("PATH");
    found.program_path = kubeconfig::kubecredcache_finds(program, exec_path.as_deref())
        .inspect_err(|missing| problems.push(format!("kubecredcache will not find {program} ({missing})")))
        .ok();
    // A bare name in an entry whose env sets PATH: unwrapped, kubectl found it on its
    // own PATH; wrapped, kubecredcache looks on the entry's (setup now writes the
    // full path, an older one did not).
    let sets_path = exec.env.iter().any(|(name, _)| name == "PATH");
    if sets_path
        && !program.contains(['/', '\\'])
        && let (Some(ours), Ok(kubectls)) = (
            found.program_path.as_ref(),
            kubeconfig::kubectl_finds(program, file, std::env::var_os("PATH").as_deref()),
        )
        && std::fs::canonicalize(ours).ok() != std::fs::canonicalize(&kubectls).ok()
    {
        problems.push(format!(
            "kubecredcache runs {program} from the PATH the entry's env sets, {}, where kubectl, unwrapped, runs {}: another program, maybe another identity; write the full path of the one you mean in the entry (`kubecredcache unsetup --user {user}` then `setup --user {user}` writes kubectl's)",
            ours.display(),
            kubectls.display()
        ));
    }
    if program.contains('/') && !Path::new(program).is_absolute() {
        problems.push(format!(
            "kubecredcache runs {program} from kubectl's working directory, wherever kubectl runs; write its full path (setup does)"
        ));
    }
    if found.provider.is_none() {
        problems.push(format!(
            "no provider keys `{program}`, so kubecredcache runs it uncached (`kubecredcache list-providers`; --generic caches any plugin)"
        ));
    }
    problems
}

/// What the run decided: the settings that keep it from the cache, its identity and
/// key, its credential sources, then the cache.
fn examine_plan(
    report: &mut Report,
    plan: engine::Plan,
    force_refresh: bool,
    exec: &Exec,
    env: &ExecEnv,
    now: DateTime<Utc>,
) -> Result<(), String> {
    if force_refresh || settings::force_refresh_in(env) {
        report.problems.push(
            "every run fetches afresh (--force-refresh, or KUBECREDCACHE_FORCE_REFRESH): nothing is served from the cache".into(),
        );
    }
    if settings::disabled_in(env) {
        report
            .problems
            .push(format!("{DISABLE} is set: kubecredcache runs the command uncached"));
    }
    let (identity, key) = plan
        .keyed
        .map_err(|why| format!("kubecredcache runs it uncached: {why}"))?;
    report.identity = Some(IdentityReport {
        cluster: identity.cluster.clone(),
        parts: identity.parts.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        unknown_arguments: identity.unknown_args.len(),
        key_hash: key.digest(),
    });
    if matches!(plan.keyer, engine::Keyer::Generic(_)) && exec.provide_cluster_info {
        report.notes.push(
            "with provideClusterInfo, a --generic key holds the cluster kubectl passes to the plugin, which doctor cannot rebuild: the entry shown is the one for no cluster".into(),
        );
    }
    let paths = plan.keyer.provider().credential_sources(&plan.args, env);
    let sources_now = sources::Snapshot::of(&paths);
    report.credential_sources = paths
        .into_iter()
        .map(|path| SourceReport {
            exists: path.exists(),
            changed: sources::last_modified(&path),
            path,
        })
        .collect();
    examine_cache(report, env, &key, sources_now, now)
}

/// The cache directory, the entry for `key`, and the last failure to get a token for it.
fn examine_cache(
    report: &mut Report,
    env: &ExecEnv,
    key: &CacheKey,
    sources_now: sources::Snapshot,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let path =
        settings::cache_dir_path_in(env).map_err(|why| format!("{why}: kubecredcache runs the command uncached"))?;
    let cache = CacheDir::new(&path);
    let health = cache.health();
    let dir = report.cache_dir.insert(CacheDirReport {
        path,
        exists: health.exists,
        owner_uid: health.owner_uid,
        mode: health.mode.map(|m| format!("{m:04o}")),
        problem: health.problem,
        files_of_ours: health.ours,
        files_not_ours: health.not_ours,
    });
    if let Some(problem) = &dir.problem {
        return Err(format!(
            "the cache directory cannot be used ({problem}): kubecredcache runs the command uncached"
        ));
    }
    let hash = key.digest();
    let entry = cache.entry(key).ok().flatten();
    report.entry = entry.map(|e| entry_report(&cache, &hash, &e, env, &sources_now, now));
    let Some(failure) = cache.failure(&hash) else {
        return Ok(());
    };
    // A failure keeps runs from the cache until a fetch succeeds or a new sign-in.
    let age = (now - failure.failed_at).num_seconds();
    let sources_changed_since = sources_now.as_str() != failure.sources;
    let served_now = report
        .entry
        .as_ref()
        .is_some_and(|e| matches!(e.state, "fresh" | "expiring"));
    if !served_now && !sources_changed_since {
        report.problems.push(format!(
            "the last try to get a token for cluster {} failed {} ago (exit code {}) and none has succeeded since; run kubectl at a terminal to see the command's message (it went to the run that failed, and a run at a terminal is not held back), and sign in again as it says",
            key.cluster(),
            span(age),
            failure.exit_code,
        ));
    }
    let cooldown = settings::failure_cooldown_in(env).as_secs() as i64;
    report.last_failure = Some(FailureReport {
        failed_at: failure.failed_at,
        seconds_ago: age,
        exit_code: failure.exit_code,
        cooldown_left_seconds: (age >= 0 && age < cooldown && !sources_changed_since).then_some(cooldown - age),
        sources_changed_since,
    });
    Ok(())
}

/// The entry as the hit judges it, and whether the hit would start a refresh.
fn entry_report(
    cache: &CacheDir,
    hash: &str,
    entry: &CacheEntry,
    env: &ExecEnv,
    sources_now: &sources::Snapshot,
    now: DateTime<Utc>,
) -> EntryReport {
    let margin = settings::expiry_margin_in(env);
    let ahead = settings::refresh_ahead_in(env);
    let judged = engine::judge(entry, now, margin, || sources_now.clone());
    let fresh = judged == Served::Fresh;
    let state = match judged {
        Served::Expired => "expired",
        Served::Stale => "stale",
        Served::Fresh if engine::due_with(ahead, entry, now) => "expiring",
        Served::Fresh => "fresh",
    };
    let margin = chrono::Duration::from_std(margin).unwrap_or(chrono::Duration::MAX);
    let served_for = match entry.expires.checked_sub_signed(margin) {
        Some(until) if fresh => (until - now).num_seconds().max(0),
        _ => 0,
    };
    let refresh = match engine::refresh_state_with(cache, hash, entry, now, ahead, settings::refresh_backoff_in(env)) {
        state if fresh && state != engine::RefreshState::Idle => Some(state.as_str()),
        _ => None,
    };
    EntryReport {
        state,
        expires: entry.expires,
        expires_in_seconds: (entry.expires - now).num_seconds(),
        served_for_seconds: served_for,
        written: entry.written,
        refresh,
    }
}

//! `kubecredcache doctor [--kubeconfig PATH] [--context NAME] [--json]`: for one
//! context, what a kubectl run would do with its credential plugin, step by step, and
//! one verdict: exit 0 when the run would be served through the cache, 1 when not.
//!
//! It reads the kubeconfig as kubectl merges it, finds the commands as kubectl and
//! kubecredcache would, reads the identity and the settings from the environment the
//! exec entry gives the command (`kubeconfig::ExecEnv`), and looks at the cache entry,
//! the last failure and the credential sources through the same functions a wrapped
//! run uses. It never runs the authenticator and writes nothing. The report itself is
//! `report.rs`.

mod report;

use std::ffi::OsStr;
use std::path::Path;

use chrono::{DateTime, Utc};

use super::{Out, fail};
use crate::cache::{CacheDir, CacheEntry, CacheKey};
use crate::cli::{self, Invocation};
use crate::generic::Generic;
use crate::kubeconfig::{self, ExecEnv, Merged, Wrapper};
use crate::provider::{self, Provider};
use crate::{engine, settings, sources};
use report::{CacheDirReport, EntryReport, ExecReport, FailureReport, IdentityReport, Report, SourceReport, span};

pub fn run(out: &mut Out, explicit: Option<&Path>, context: Option<&str>, json: bool) -> i32 {
    let files = match kubeconfig::files(explicit) {
        Ok(files) => files,
        Err(e) => return fail(&e),
    };
    let merged = match kubeconfig::load(&files) {
        Ok(merged) => merged,
        Err(e) => return fail(&e),
    };
    let now = Utc::now();
    let mut report = Report {
        kubeconfig: merged.files.clone(),
        ..Report::default()
    };
    examine(&mut report, &merged, context, now);
    report.served = report.problems.is_empty();
    report.verdict = verdict(&report);
    if json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&report).expect("a report serializes")
        );
    } else {
        report.print(out, now);
    }
    if report.served { 0 } else { 1 }
}

fn verdict(report: &Report) -> String {
    let context = report.context.as_deref().unwrap_or("?");
    if let Some(problem) = report.problems.first() {
        return format!("not served through the cache: {problem}.");
    }
    match &report.entry {
        Some(entry) if matches!(entry.state, "fresh" | "expiring") => format!(
            "served from the cache: kubectl runs for context {context} get the cached token for {} more.",
            span(entry.served_for_seconds)
        ),
        _ => {
            let program = report
                .exec
                .as_ref()
                .and_then(|e| e.program.as_deref())
                .unwrap_or("the command");
            format!(
                "served through the cache: the next kubectl run for context {context} runs {program} once and caches its token."
            )
        }
    }
}

/// Fills in the report, step by step; each step that finds a reason the run would not
/// be served adds it to `problems` (and a step that cannot go on ends the examination).
fn examine(report: &mut Report, merged: &Merged, wanted: Option<&str>, now: DateTime<Utc>) {
    let files = merged
        .files
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let files = if files.is_empty() {
        "no kubeconfig file".to_string()
    } else {
        files
    };
    let name = match (wanted, &merged.current_context) {
        (Some(name), _) => {
            report.context_from = Some("--context");
            name.to_string()
        }
        (None, Some((name, _))) => {
            report.context_from = Some("current-context");
            name.clone()
        }
        (None, None) if merged.files.is_empty() => {
            report.problems.push(
                "there is no kubeconfig file (KUBECONFIG, or ~/.kube/config); name one with --kubeconfig PATH".into(),
            );
            return;
        }
        (None, None) => {
            report.problems.push(format!(
                "{files} set{} no current context; name one with --context NAME",
                if merged.files.len() == 1 { "s" } else { "" }
            ));
            return;
        }
    };
    report.context = Some(name.clone());
    let Some(context) = merged.context(&name) else {
        report.problems.push(format!("there is no context {name} in {files}"));
        return;
    };
    report.cluster = context.cluster.clone();
    report.server = context
        .cluster
        .as_deref()
        .and_then(|c| merged.cluster(c))
        .and_then(|c| c.server.clone());
    let Some(user_name) = context.user.clone() else {
        report.problems.push(format!("context {name} names no user"));
        return;
    };
    report.user = Some(user_name.clone());
    let Some(user) = merged.user(&user_name) else {
        report
            .problems
            .push(format!("user {user_name} of context {name} is not defined in {files}"));
        return;
    };
    let Some(exec) = &user.exec else {
        report.problems.push(format!(
            "user {user_name} authenticates with {}, not an exec plugin: there is nothing for kubecredcache to cache",
            user.other.unwrap_or("no credentials")
        ));
        return;
    };
    if let Some(problem) = &exec.problem {
        report
            .problems
            .push(format!("kubectl refuses user {user_name}'s exec entry: {problem}"));
        return;
    }
    examine_exec(report, &user_name, &user.file, exec, now);
}

/// The exec entry: the commands, the identity, the cache.
fn examine_exec(report: &mut Report, user: &str, file: &Path, exec: &kubeconfig::Exec, now: DateTime<Utc>) {
    let mut found = ExecReport {
        command: exec.command.clone(),
        api_version: exec.api_version.clone(),
        env: exec.env.iter().map(|(name, _)| name.clone()).collect(),
        ..ExecReport::default()
    };
    match exec.api_version.as_deref() {
        Some(kubeconfig::V1BETA1 | "client.authentication.k8s.io/v1") => {}
        Some(kubeconfig::V1ALPHA1) => report.problems.push(format!(
            "user {user}'s exec apiVersion is {}, which kubectl rejects; `kubecredcache setup --user {user}` upgrades it",
            kubeconfig::V1ALPHA1
        )),
        Some(other) => report.problems.push(format!("kubectl does not know the exec apiVersion {other}")),
        None => report.problems.push(format!("user {user}'s exec entry has no apiVersion, which kubectl requires")),
    }
    let path_var = std::env::var_os("PATH");
    match kubeconfig::kubectl_finds(&exec.command, file, path_var.as_deref()) {
        Ok(path) => found.command_path = Some(path),
        Err(missing) => report
            .problems
            .push(format!("kubectl will not find {} ({missing})", exec.command)),
    }
    let this_binary = std::env::current_exe().and_then(std::fs::canonicalize).ok();
    let wrapper = Wrapper {
        command: kubeconfig::WRAPPER.into(),
        this_binary,
    };
    found.runs_kubecredcache = wrapper.is_wrapper(&exec.command);
    let env = ExecEnv::new(&exec.env);
    // What runs, and which provider keys it.
    let (program, args, force_refresh, key_env): (String, Vec<String>, bool, Option<Vec<String>>) = if found
        .runs_kubecredcache
    {
        match cli::read(&exec.args) {
            Invocation::Wrap {
                command,
                force_refresh,
                generic,
            } => {
                found.options = exec.args[..exec.args.len() - command.len()].to_vec();
                (command[0].clone(), command[1..].to_vec(), force_refresh, generic)
            }
            Invocation::Ours => {
                report.problems.push(format!(
                        "user {user} runs kubecredcache {}, one of kubecredcache's own commands, which prints no credential",
                        exec.args.first().map_or("with no command", String::as_str)
                    ));
                report.exec = Some(found);
                return;
            }
            Invocation::Usage(why) => {
                report
                    .problems
                    .push(format!("kubecredcache refuses user {user}'s arguments: {why}"));
                report.exec = Some(found);
                return;
            }
        }
    } else {
        (exec.command.clone(), exec.args.clone(), false, None)
    };
    found.program = Some(program.clone());
    let generic = key_env.map(|key_env| Generic {
        program: program.clone(),
        key_env,
    });
    let recognised = match &generic {
        Some(_) => None,
        None => provider::recognise(OsStr::new(&program), &args),
    };
    let provider: Option<&dyn Provider> = match (&generic, &recognised) {
        (Some(g), _) => Some(g),
        (None, Some(r)) => Some(r.provider),
        (None, None) => None,
    };
    found.provider = provider.map(|p| p.name().to_string());
    if found.runs_kubecredcache {
        let exec_path = settings::Vars::get(&env, "PATH");
        match kubeconfig::kubecredcache_finds(&program, exec_path.as_deref()) {
            Ok(path) => found.program_path = Some(path),
            Err(missing) => report
                .problems
                .push(format!("kubecredcache will not find {program} ({missing})")),
        }
        // A bare name in an entry whose env sets PATH: unwrapped, kubectl found it on its
        // own PATH; wrapped, kubecredcache looks on the entry's (setup now writes the
        // full path, an older one did not).
        let sets_path = exec.env.iter().any(|(name, _)| name == "PATH");
        if sets_path
            && !program.contains(['/', '\\'])
            && let (Some(ours), Ok(kubectls)) = (
                found.program_path.as_ref(),
                kubeconfig::kubectl_finds(&program, file, path_var.as_deref()),
            )
            && std::fs::canonicalize(ours).ok() != std::fs::canonicalize(&kubectls).ok()
        {
            report.problems.push(format!(
                "kubecredcache runs {program} from the PATH the entry's env sets, {}, where kubectl, unwrapped, runs {}: another program, maybe another identity; write the full path of the one you mean in the entry (`kubecredcache unsetup --user {user}` then `setup --user {user}` writes kubectl's)",
                ours.display(),
                kubectls.display()
            ));
        }
        if program.contains('/') && !Path::new(&program).is_absolute() {
            report.problems.push(format!(
                "kubecredcache runs {program} from kubectl's working directory, wherever kubectl runs; write its full path (setup does)"
            ));
        }
        if provider.is_none() {
            report.problems.push(format!(
                "no provider keys `{program}`, so kubecredcache runs it uncached (`kubecredcache list-providers`; --generic caches any plugin)"
            ));
        }
    } else {
        report.problems.push(match provider {
            Some(_) => format!(
                "user {user} does not run kubecredcache; `kubecredcache setup --user {user}` makes it"
            ),
            None => format!(
                "user {user} does not run kubecredcache, and no provider caches {program} (`kubecredcache --generic -- {program} ...` caches any plugin whose credential has an expiry)"
            ),
        });
    }
    report.exec = Some(found);
    let Some(provider) = provider else { return };
    let parsed = match &generic {
        Some(g) => provider::parse(&args, g.inputs()),
        None => {
            recognised
                .expect("a provider that is not --generic was recognised")
                .args
        }
    };
    if force_refresh || settings::force_refresh_in(&env) {
        report.problems.push(
            "every run fetches afresh (--force-refresh, or KUBECREDCACHE_FORCE_REFRESH): nothing is served from the cache".into(),
        );
    }
    if settings::disabled_in(&env) {
        report.problems.push(format!(
            "{} is set: kubecredcache runs the command uncached",
            settings::DISABLE
        ));
    }
    let (identity, key) = match engine::cache_key(provider, OsStr::new(&program), &parsed, &env) {
        Ok(keyed) => keyed,
        Err(why) => {
            report.problems.push(format!("kubecredcache runs it uncached: {why}"));
            return;
        }
    };
    report.identity = Some(IdentityReport {
        cluster: identity.cluster.clone(),
        parts: identity.parts.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        unknown_arguments: identity.unknown_args.len(),
        key_hash: key.digest(),
    });
    if generic.is_some() && exec.provide_cluster_info {
        report.notes.push(
            "with provideClusterInfo, a --generic key holds the cluster kubectl passes to the plugin, which doctor cannot rebuild: the entry shown is the one for no cluster".into(),
        );
    }
    report.credential_sources = provider
        .credential_sources(&parsed, &env)
        .into_iter()
        .map(|path| {
            let changed = sources::last_modified(&path);
            SourceReport {
                exists: path.exists(),
                path,
                changed,
            }
        })
        .collect();
    let sources_now = sources::Snapshot::of(
        &report
            .credential_sources
            .iter()
            .map(|s| s.path.clone())
            .collect::<Vec<_>>(),
    );
    examine_cache(report, &env, &key, sources_now, now);
}

/// The cache directory, the entry for `key`, and its last failure.
fn examine_cache(
    report: &mut Report,
    env: &ExecEnv,
    key: &CacheKey,
    sources_now: sources::Snapshot,
    now: DateTime<Utc>,
) {
    let path = match settings::cache_dir_path_in(env) {
        Ok(path) => path,
        Err(why) => {
            report
                .problems
                .push(format!("{why}: kubecredcache runs the command uncached"));
            return;
        }
    };
    let cache = CacheDir::new(&path);
    let health = cache.health();
    let usable = health.problem.is_none();
    if let Some(problem) = &health.problem {
        report.problems.push(format!(
            "the cache directory cannot be used ({problem}): kubecredcache runs the command uncached"
        ));
    }
    report.cache_dir = Some(CacheDirReport {
        path: path.clone(),
        exists: health.exists,
        owner_uid: health.owner_uid,
        mode: health.mode.map(|m| format!("{m:04o}")),
        problem: health.problem,
        files_of_ours: health.ours,
        files_not_ours: health.not_ours,
    });
    if !usable {
        return;
    }
    let entry = cache.entry(key).ok().flatten();
    let hash = key.digest();
    report.entry = entry
        .as_ref()
        .map(|e| entry_report(&cache, &hash, e, env, &sources_now, now));
    let served_now = report
        .entry
        .as_ref()
        .is_some_and(|e| matches!(e.state, "fresh" | "expiring"));
    let Some(failure) = cache.failure(&hash) else { return };
    let age = (now - failure.failed_at).num_seconds();
    let cooldown = settings::failure_cooldown_in(env).as_secs() as i64;
    let sources_changed_since = sources_now.as_str() != failure.sources;
    let cooldown_left = (age >= 0 && age < cooldown && !sources_changed_since).then_some(cooldown - age);
    if !served_now && !sources_changed_since {
        report.problems.push(format!(
            "the last try to get a token for cluster {} failed {} ago (exit code {}) and none has succeeded since; run kubectl at a terminal to see the command's message (it went to the run that failed, and a run at a terminal is not held back), and sign in again as it says",
            key.cluster(),
            span(age),
            failure.exit_code,
        ));
    }
    report.last_failure = Some(FailureReport {
        failed_at: failure.failed_at,
        seconds_ago: age,
        exit_code: failure.exit_code,
        cooldown_left_seconds: cooldown_left,
        sources_changed_since,
    });
}

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
    let fresh = entry.is_fresh(now, margin);
    // As the hit decides: the sources are not as they were when it was fetched.
    let stale = sources_now.as_str() != entry.sources;
    let state = match (fresh, stale) {
        (false, _) => "expired",
        (true, true) => "stale",
        (true, false) if engine::due_with(ahead, entry, now) => "expiring",
        (true, false) => "fresh",
    };
    let margin = chrono::Duration::from_std(margin).unwrap_or(chrono::Duration::MAX);
    let served_for = entry
        .expires
        .checked_sub_signed(margin)
        .map_or(0, |until| (until - now).num_seconds().max(0));
    let refresh = match engine::refresh_state_with(cache, hash, entry, now, ahead, settings::refresh_backoff_in(env)) {
        engine::RefreshState::Idle => None,
        state => Some(state.as_str()),
    };
    EntryReport {
        state,
        expires: entry.expires,
        expires_in_seconds: (entry.expires - now).num_seconds(),
        served_for_seconds: if fresh && !stale { served_for } else { 0 },
        written: entry.written,
        refresh: refresh.filter(|_| fresh && !stale),
    }
}

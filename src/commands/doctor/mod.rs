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
use crate::cache::{CacheDir, CacheEntry, CacheKey, Failure};
use crate::engine::{self, Served};
use crate::invocation::{self, Invocation};
use crate::kubeconfig::{self, ExecEnv, Merged, Wrapper};
use crate::provider::Env;
use crate::{settings, sources};
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
    let files = files_named(merged);
    let Some(name) = context_name(report, merged, wanted, &files) else {
        return;
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

/// The kubeconfig files, for messages.
fn files_named(merged: &Merged) -> String {
    let files = merged
        .files
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if files.is_empty() {
        "no kubeconfig file".to_string()
    } else {
        files
    }
}

/// The context to examine: `--context`, else the current one.
fn context_name(report: &mut Report, merged: &Merged, wanted: Option<&str>, files: &str) -> Option<String> {
    match (wanted, &merged.current_context) {
        (Some(name), _) => {
            report.context_from = Some("--context");
            Some(name.to_string())
        }
        (None, Some((name, _))) => {
            report.context_from = Some("current-context");
            Some(name.clone())
        }
        (None, None) if merged.files.is_empty() => {
            report.problems.push(
                "there is no kubeconfig file (KUBECONFIG, or ~/.kube/config); name one with --kubeconfig PATH".into(),
            );
            None
        }
        (None, None) => {
            report.problems.push(format!(
                "{files} set{} no current context; name one with --context NAME",
                if merged.files.len() == 1 { "s" } else { "" }
            ));
            None
        }
    }
}

/// What kubectl runs for an exec entry, and what kubecredcache then runs.
struct Runs {
    program: String,
    args: Vec<String>,
    force_refresh: bool,
    /// `--generic`'s `--key-env` variables.
    generic: Option<Vec<String>>,
}

/// The exec entry: the commands, the identity, the cache.
fn examine_exec(report: &mut Report, user: &str, file: &Path, exec: &kubeconfig::Exec, now: DateTime<Utc>) {
    let mut found = ExecReport {
        command: exec.command.clone(),
        api_version: exec.api_version.clone(),
        env: exec.env.iter().map(|(name, _)| name.clone()).collect(),
        ..ExecReport::default()
    };
    check_api_version(report, user, exec.api_version.as_deref());
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
    let Some(runs) = what_runs(report, user, exec, &mut found) else {
        report.exec = Some(found);
        return;
    };
    found.program = Some(runs.program.clone());
    let plan = engine::plan(OsStr::new(&runs.program), &runs.args, runs.generic.clone(), &env);
    found.provider = plan.as_ref().map(|p| p.keyer.provider().name().to_string());
    if found.runs_kubecredcache {
        check_wrapped_program(report, &mut found, &runs.program, exec, file, &env, plan.is_some());
    } else {
        report.problems.push(match plan {
            Some(_) => format!("user {user} does not run kubecredcache; `kubecredcache setup --user {user}` makes it"),
            None => format!(
                "user {user} does not run kubecredcache, and no provider caches {} (`kubecredcache --generic -- {} ...` caches any plugin whose credential has an expiry)",
                runs.program, runs.program
            ),
        });
    }
    report.exec = Some(found);
    if let Some(plan) = plan {
        examine_plan(report, plan, runs.force_refresh, exec, &env, now);
    }
}

/// The entry's apiVersion, as kubectl takes it.
fn check_api_version(report: &mut Report, user: &str, api_version: Option<&str>) {
    match api_version {
        Some(kubeconfig::V1BETA1 | "client.authentication.k8s.io/v1") => {}
        Some(kubeconfig::V1ALPHA1) => report.problems.push(format!(
            "user {user}'s exec apiVersion is {}, which kubectl rejects; `kubecredcache setup --user {user}` upgrades it",
            kubeconfig::V1ALPHA1
        )),
        Some(other) => report.problems.push(format!("kubectl does not know the exec apiVersion {other}")),
        None => report.problems.push(format!("user {user}'s exec entry has no apiVersion, which kubectl requires")),
    }
}

/// The command the entry runs: the one kubecredcache wraps, read as kubecredcache
/// reads its arguments, or the entry's own. `None` when kubecredcache would run no
/// command (the reason is in the report).
fn what_runs(report: &mut Report, user: &str, exec: &kubeconfig::Exec, found: &mut ExecReport) -> Option<Runs> {
    if !found.runs_kubecredcache {
        return Some(Runs {
            program: exec.command.clone(),
            args: exec.args.clone(),
            force_refresh: false,
            generic: None,
        });
    }
    match invocation::read(&exec.args) {
        Invocation::Wrap {
            command,
            force_refresh,
            generic,
        } => {
            found.options = exec.args[..exec.args.len() - command.len()].to_vec();
            Some(Runs {
                program: command[0].clone(),
                args: command[1..].to_vec(),
                force_refresh,
                generic,
            })
        }
        Invocation::Ours => {
            report.problems.push(format!(
                "user {user} runs kubecredcache {}, one of kubecredcache's own commands, which prints no credential",
                exec.args.first().map_or("with no command", String::as_str)
            ));
            None
        }
        Invocation::Usage(why) => {
            report
                .problems
                .push(format!("kubecredcache refuses user {user}'s arguments: {why}"));
            None
        }
    }
}

/// Where kubecredcache finds the program it wraps, and whether that is where kubectl,
/// unwrapped, found it.
fn check_wrapped_program(
    report: &mut Report,
    found: &mut ExecReport,
    program: &str,
    exec: &kubeconfig::Exec,
    file: &Path,
    env: &ExecEnv,
    keyed: bool,
) {
    let exec_path = env.var_os("PATH");
    match kubeconfig::kubecredcache_finds(program, exec_path.as_deref()) {
        Ok(path) => found.program_path = Some(path),
        Err(missing) => report
            .problems
            .push(format!("kubecredcache will not find {program} ({missing})")),
    }
    // A bare name in an entry whose env sets PATH: unwrapped, kubectl found it on its
    // own PATH; wrapped, kubecredcache looks on the entry's (setup now writes the
    // full path, an older one did not).
    let sets_path = exec.env.iter().any(|(name, _)| name == "PATH");
    let path_var = std::env::var_os("PATH");
    if sets_path
        && !program.contains(['/', '\\'])
        && let (Some(ours), Ok(kubectls)) = (
            found.program_path.as_ref(),
            kubeconfig::kubectl_finds(program, file, path_var.as_deref()),
        )
        && std::fs::canonicalize(ours).ok() != std::fs::canonicalize(&kubectls).ok()
    {
        let user = report.user.as_deref().unwrap_or("?");
        report.problems.push(format!(
            "kubecredcache runs {program} from the PATH the entry's env sets, {}, where kubectl, unwrapped, runs {}: another program, maybe another identity; write the full path of the one you mean in the entry (`kubecredcache unsetup --user {user}` then `setup --user {user}` writes kubectl's)",
            ours.display(),
            kubectls.display()
        ));
    }
    if program.contains('/') && !Path::new(program).is_absolute() {
        report.problems.push(format!(
            "kubecredcache runs {program} from kubectl's working directory, wherever kubectl runs; write its full path (setup does)"
        ));
    }
    if !keyed {
        report.problems.push(format!(
            "no provider keys `{program}`, so kubecredcache runs it uncached (`kubecredcache list-providers`; --generic caches any plugin)"
        ));
    }
}

/// What the run decided: the settings that keep it from the cache, its identity and
/// key, its credential sources, then the cache.
fn examine_plan(
    report: &mut Report,
    plan: engine::Plan,
    force_refresh: bool,
    exec: &kubeconfig::Exec,
    env: &ExecEnv,
    now: DateTime<Utc>,
) {
    if force_refresh || settings::force_refresh_in(env) {
        report.problems.push(
            "every run fetches afresh (--force-refresh, or KUBECREDCACHE_FORCE_REFRESH): nothing is served from the cache".into(),
        );
    }
    if settings::disabled_in(env) {
        report.problems.push(format!(
            "{} is set: kubecredcache runs the command uncached",
            settings::DISABLE
        ));
    }
    let (identity, key) = match plan.keyed {
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
    if matches!(plan.keyer, engine::Keyer::Generic(_)) && exec.provide_cluster_info {
        report.notes.push(
            "with provideClusterInfo, a --generic key holds the cluster kubectl passes to the plugin, which doctor cannot rebuild: the entry shown is the one for no cluster".into(),
        );
    }
    report.credential_sources = plan
        .keyer
        .provider()
        .credential_sources(&plan.args, env)
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
    examine_cache(report, env, &key, sources_now, now);
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
    if let Some(failure) = cache.failure(&hash) {
        examine_failure(report, env, key, &failure, &sources_now, now);
    }
}

/// The last failure to get a token for `key`, and whether it keeps runs from the cache.
fn examine_failure(
    report: &mut Report,
    env: &ExecEnv,
    key: &CacheKey,
    failure: &Failure,
    sources_now: &sources::Snapshot,
    now: DateTime<Utc>,
) {
    let served_now = report
        .entry
        .as_ref()
        .is_some_and(|e| matches!(e.state, "fresh" | "expiring"));
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
    // As the hit judges, and then whether the hit would start a refresh.
    let served = engine::judge(entry, now, margin, || sources_now.clone());
    let state = match served {
        Served::Expired => "expired",
        Served::Stale => "stale",
        Served::Fresh if engine::due_with(ahead, entry, now) => "expiring",
        Served::Fresh => "fresh",
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
    let served = served == Served::Fresh;
    EntryReport {
        state,
        expires: entry.expires,
        expires_in_seconds: (entry.expires - now).num_seconds(),
        served_for_seconds: if served { served_for } else { 0 },
        written: entry.written,
        refresh: refresh.filter(|_| served),
    }
}

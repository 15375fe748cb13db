//! `kubecredcache setup` and `unsetup`: rewrite the exec users of kubeconfig files to run
//! through kubecredcache, or back. Idempotent; `--dry-run` prints a unified diff.
//!
//! What it must never do: write a kubeconfig kubectl cannot run (the command it writes
//! is one kubectl finds: `kubecredcache` when that name finds this binary on PATH, else
//! this binary's full path), lose the file it found (every version it replaces is kept
//! in a backup that is never overwritten, and `unsetup` gives the original back byte for
//! byte when nothing else changed), or change who owns the file. Bad input (a missing
//! `--kubeconfig`, a `--user` no file has) is an error before anything is written.

use std::fs;
use std::path::{Path, PathBuf};

use similar::Algorithm::Myers;

use super::{Out, fail};
use crate::kubeconfig::{
    self, Direction, Files, MadeAbsolute, Missing, Outcome, UserOutcome, V1ALPHA1, V1BETA1, WRAPPER, Wrapper, replace,
};

/// One file, read and rewritten in memory.
struct Plan {
    path: PathBuf,
    text: String,
    outcomes: Vec<UserOutcome>,
    /// What would be written, if anything changed, and the backup it comes from when
    /// `unsetup` restores one.
    new: Option<(String, Option<PathBuf>)>,
}

pub fn run(out: &mut Out, explicit: Option<&Path>, users: &[String], dry_run: bool, direction: Direction) -> i32 {
    let files = match kubeconfig::files(explicit) {
        Ok(files) => files,
        Err(e) => return fail(&e),
    };
    let (wrapper, found_as) = match wrapper() {
        Ok(found) => found,
        Err(e) if direction == Direction::Wrap => return fail(&format!("{e}; nothing written")),
        // unsetup writes no new entry, so says nothing of how kubectl finds it; it knows
        // kubecredcache by name (and wraps a backup with that name to compare it).
        Err(_) => (
            Wrapper {
                command: WRAPPER.into(),
                this_binary: None,
            },
            String::new(),
        ),
    };
    // Every file is read and rewritten in memory first: a mistake in the command line
    // must not leave some files written and others not.
    let (mut plans, mut missing, mut failed) = (Vec::new(), Vec::new(), false);
    for path in &files.paths {
        match plan(path, users, direction, &wrapper) {
            Ok(Some(plan)) => plans.push(plan),
            Ok(None) => missing.push(path),
            Err(e) => {
                fail(&format!("{}: {e}; nothing written to it", path.display()));
                failed = true;
            }
        }
    }
    if let Some(code) = check_files(&files, &missing, plans.is_empty() && !failed) {
        return code;
    }
    if let Some(message) = unknown_user(users, &plans, &files.paths) {
        return fail(&format!("{message}; nothing written"));
    }
    for path in &missing {
        writeln!(out, "{}: no such file, skipped (kubectl skips it too)", path.display());
    }
    let mut wrapped_any = false;
    for plan in &plans {
        match write(out, plan, direction, dry_run) {
            Ok(wrapped) => wrapped_any |= wrapped,
            Err(e) => {
                fail(&format!("{}: {e}; nothing written to it", plan.path.display()));
                failed = true;
            }
        }
    }
    if wrapped_any {
        let verb = if dry_run { "would run" } else { "runs" };
        writeln!(out, "kubectl {verb} {found_as}");
    }
    i32::from(failed)
}

/// An error for files that are not there where kubectl needs them: the file named with
/// `--kubeconfig` (kubectl fails too), or no kubeconfig at all.
fn check_files(files: &Files, missing: &[&PathBuf], nothing_read: bool) -> Option<i32> {
    match (files.explicit, missing.first()) {
        (true, Some(path)) => Some(fail(&format!(
            "{}: no such file (kubectl --kubeconfig would fail on it too)",
            path.display()
        ))),
        (_, Some(_)) if nothing_read => Some(fail(&format!(
            "no kubeconfig to edit: {} do{} not exist; name one with --kubeconfig PATH",
            listed(missing),
            if missing.len() == 1 { "es" } else { "" }
        ))),
        _ => None,
    }
}

fn listed(paths: &[impl AsRef<Path>]) -> String {
    let names: Vec<_> = paths.iter().map(|p| p.as_ref().display().to_string()).collect();
    names.join(", ")
}

/// The error for the first `--user` that no file has as an exec user.
fn unknown_user(users: &[String], plans: &[Plan], paths: &[PathBuf]) -> Option<String> {
    let outcomes = || plans.iter().flat_map(|p| &p.outcomes);
    let user = users
        .iter()
        .find(|user| outcomes().all(|o| &o.user != *user || o.outcome == Outcome::NoExec))?;
    let files = listed(paths);
    Some(match outcomes().any(|o| &o.user == user) {
        true => format!(
            "user '{user}' has no exec command in {files} (it uses a token or a certificate): nothing to do for it"
        ),
        false => format!("no user named '{user}' in {files}"),
    })
}

/// Reads and rewrites one file in memory. `None` when it does not exist.
fn plan(path: &Path, only: &[String], direction: Direction, wrapper: &Wrapper) -> Result<Option<Plan>, String> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read it ({e})")),
    };
    let (outcomes, edited) = edit(&text, path, only, direction, wrapper)?;
    let new = edited.map(|edited| {
        let restore = (direction == Direction::Unwrap).then(|| restorable(path, &text, &outcomes, wrapper));
        restore
            .flatten()
            .map_or((edited, None), |(backup, found)| (found, Some(backup)))
    });
    Ok(Some(Plan {
        path: path.to_path_buf(),
        text,
        outcomes,
        new,
    }))
}

/// What happens to each user of the kubeconfig `text`, and the text edited in place
/// when any changes.
fn edit(
    text: &str,
    path: &Path,
    only: &[String],
    direction: Direction,
    wrapper: &Wrapper,
) -> Result<(Vec<UserOutcome>, Option<String>), String> {
    let (mut doc, unsure) = kubeconfig::parse(text)?;
    if let Some(first) = unsure.first() {
        return Err(format!(
            "{first}; write it one way throughout (quoted where it is text; true, false or a number where kubectl reads one), then run this again"
        ));
    }
    let found = doc.clone();
    let outcomes = kubeconfig::rewrite(&mut doc, direction, only, wrapper, path)?;
    let changed = |o: &UserOutcome| matches!(o.outcome, Outcome::Wrapped { .. } | Outcome::Unwrapped { .. });
    let edited = match outcomes.iter().any(changed) {
        true => Some(kubeconfig::splice(text, &found, &doc)?),
        false => None,
    };
    Ok((outcomes, edited))
}

/// The newest backup that `setup`, wrapping the users `unsetup` unwraps (each of them),
/// turns into the file as it is: giving it back undoes `setup` byte for byte, comments
/// and all, and loses nothing written since.
fn restorable(path: &Path, text: &str, outcomes: &[UserOutcome], wrapper: &Wrapper) -> Option<(PathBuf, String)> {
    let unwrapped: Vec<String> = outcomes
        .iter()
        .filter(|o| matches!(o.outcome, Outcome::Unwrapped { .. }))
        .map(|o| o.user.clone())
        .collect();
    let real = fs::canonicalize(path).ok()?;
    replace::backups(&real).into_iter().rev().find_map(|backup| {
        let found = String::from_utf8(replace::read_backup(&real, &backup)?).ok()?;
        let (outcomes, wrapped) = edit(&found, path, &unwrapped, Direction::Wrap, wrapper).ok()?;
        // Each user unwrapped now was one setup wrapped (not one wrapped before it ran).
        let all_wrapped = outcomes.iter().all(|o| matches!(o.outcome, Outcome::Wrapped { .. }));
        (all_wrapped && wrapped.as_deref() == Some(text)).then_some((backup, found))
    })
}

/// Prints what happens to one file and does it (or prints the diff); returns whether
/// any user was wrapped.
fn write(out: &mut Out, plan: &Plan, direction: Direction, dry_run: bool) -> Result<bool, String> {
    print_summary(out, &plan.path, &plan.outcomes);
    let Some((new, restored)) = &plan.new else {
        writeln!(out, "  nothing to change");
        return Ok(false);
    };
    let wrapped = plan
        .outcomes
        .iter()
        .any(|o| matches!(o.outcome, Outcome::Wrapped { .. }));
    if dry_run {
        let verb = if direction == Direction::Wrap {
            "setup"
        } else {
            "unsetup"
        };
        let old = plan.path.display().to_string();
        let after = format!("{old} (after {verb})");
        let diff = similar::udiff::unified_diff(Myers, &plan.text, new, 3, Some((&old, &after)));
        write!(out, "{diff}");
        if let Some(backup) = restored {
            writeln!(out, "  (that is {}, the file as setup found it)", backup.display());
        }
        return Ok(wrapped);
    }
    let target = replace::target(&plan.path)?;
    let (kept, _) = replace::keep(&target, plan.text.as_bytes())?;
    replace::replace(&target, new.as_bytes())?;
    match restored {
        Some(backup) => writeln!(
            out,
            "  restored {}, the file as setup found it, comments and all; the version it replaces is kept in {}",
            backup.display(),
            kept.display()
        ),
        None => writeln!(out, "  written; the version it replaces is kept in {}", kept.display()),
    }
    Ok(wrapped)
}

fn print_summary(out: &mut Out, path: &Path, outcomes: &[UserOutcome]) {
    writeln!(out, "{}:", path.display());
    if outcomes.is_empty() {
        writeln!(out, "  no exec users");
    }
    for UserOutcome { user, outcome } in outcomes {
        match outcome {
            Outcome::Wrapped {
                provider,
                upgraded_from_v1alpha1,
                made_absolute,
            } => {
                let mut notes = String::new();
                if *upgraded_from_v1alpha1 {
                    notes = format!(", apiVersion {V1ALPHA1} -> {V1BETA1} (kubectl rejects v1alpha1)");
                }
                if let Some(MadeAbsolute { from, to, because }) = made_absolute {
                    notes.push_str(&format!(", command {from} -> {to} ({because})"));
                }
                writeln!(out, "  wrapped    {user} ({provider}){notes}");
            }
            Outcome::Unwrapped { dropped } => {
                let options: Vec<&str> = dropped.iter().map(String::as_str).filter(|o| *o != "--").collect();
                match options.join(" ") {
                    none if none.is_empty() => writeln!(out, "  unwrapped  {user}"),
                    options => writeln!(out, "  unwrapped  {user} (kubecredcache's options dropped: {options})"),
                }
            }
            Outcome::AlreadyWrapped => writeln!(out, "  left alone {user}: already runs kubecredcache"),
            Outcome::NotWrapped => writeln!(out, "  left alone {user}: does not run kubecredcache"),
            Outcome::PathUnknown(command) => writeln!(
                out,
                "  left alone {user}: its env sets PATH, and '{command}' is not on this PATH, so which file kubectl runs is unknown here; run setup where kubectl finds it, or write its full path in the entry"
            ),
            Outcome::UnknownCommand(command) => writeln!(
                out,
                "  left alone {user}: no provider caches '{command}' (kubecredcache list-providers)"
            ),
            Outcome::NotUnderstood(why) => writeln!(
                out,
                "  left alone {user}: runs kubecredcache with arguments unsetup cannot take apart ({why}); edit it by hand"
            ),
            Outcome::NoExec => writeln!(out, "  no exec command for {user} here"),
        }
    }
}

/// What `setup` writes as the command: `kubecredcache` if kubectl, looking that name up
/// on PATH as it does, finds this very binary; else this binary's full path. With it,
/// how kubectl will find it, in words.
fn wrapper() -> Result<(Wrapper, String), String> {
    let this = std::env::current_exe()
        .and_then(fs::canonicalize)
        .map_err(|e| format!("cannot tell where this kubecredcache is ({e})"))?;
    let path_var = std::env::var_os("PATH");
    let why_full_path = match kubeconfig::kubectl_finds(WRAPPER, Path::new("/"), path_var.as_deref()) {
        Ok(found) if fs::canonicalize(&found).ok().as_ref() == Some(&this) => {
            let found_as = format!("{WRAPPER}, found on PATH at {}", found.display());
            let wrapper = Wrapper {
                command: WRAPPER.into(),
                this_binary: Some(this),
            };
            return Ok((wrapper, found_as));
        }
        Ok(other) => format!("the kubecredcache on PATH, {}, is another file", other.display()),
        Err(Missing::RelativeToWorkingDir(relative)) => format!(
            "PATH finds {} first, in a relative directory, which kubectl refuses",
            relative.display()
        ),
        Err(_) => "kubecredcache is not on PATH here (keep the file there, or run unsetup before you move it)".into(),
    };
    let Some(command) = this.to_str().map(String::from) else {
        return Err(format!(
            "{} is not UTF-8, which a kubeconfig cannot hold; put kubecredcache on PATH",
            this.display()
        ));
    };
    let found_as = format!("{command} by its full path: {why_full_path}");
    let wrapper = Wrapper {
        command,
        this_binary: Some(this),
    };
    Ok((wrapper, found_as))
}

//! `kubecredcache setup` and `unsetup`: rewrite the exec users of kubeconfig files to run
//! through kubecredcache, or back. Idempotent; `--dry-run` prints a unified diff; a
//! backup `<file>.kubecredcache.bak` is made before a file is replaced, atomically and
//! with its mode kept.

use std::fs;
use std::path::Path;

use serde_norway::Value;

use super::{Out, fail};
use crate::cache::atomic;
use crate::kubeconfig::{self, Direction, Outcome, UserOutcome};

pub fn run(out: &mut Out, explicit: Option<&Path>, users: &[String], dry_run: bool, direction: Direction) -> i32 {
    let files = match kubeconfig::files(explicit) {
        Ok(files) => files,
        Err(e) => return fail(&e),
    };
    let mut failed = false;
    let mut wrapped_any = false;
    for path in &files {
        match edit(out, path, users, dry_run, direction) {
            Ok(wrapped) => wrapped_any |= wrapped,
            Err(e) => {
                fail(&format!("{}: {e}; nothing written to it", path.display()));
                failed = true;
            }
        }
    }
    if wrapped_any && !dry_run && !on_path(kubeconfig::WRAPPER) {
        crate::messages::error(&format!(
            "note: `{}` is not on PATH here; kubectl needs to find it there (cargo install puts it in ~/.cargo/bin)",
            kubeconfig::WRAPPER
        ));
    }
    i32::from(failed)
}

/// Edits one file; returns whether any user was wrapped.
fn edit(out: &mut Out, path: &Path, only: &[String], dry_run: bool, direction: Direction) -> Result<bool, String> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && only.is_empty() => {
            writeln!(out, "{}: no such file, nothing to do", path.display());
            return Ok(false);
        }
        Err(e) => return Err(format!("cannot read it ({e})")),
    };
    let mut doc: Value = serde_norway::from_str(&text).map_err(|e| format!("not YAML ({e})"))?;
    let outcomes = kubeconfig::rewrite(&mut doc, direction, only)?;
    print_summary(out, path, &outcomes);
    let missing: Vec<&String> = only
        .iter()
        .filter(|u| !outcomes.iter().any(|o| &o.user == *u))
        .collect();
    if !missing.is_empty() {
        writeln!(
            out,
            "  no exec user named {}",
            missing.iter().map(|u| format!("'{u}'")).collect::<Vec<_>>().join(", ")
        );
    }
    if !outcomes.iter().any(|o| o.outcome.changed()) {
        writeln!(out, "  nothing to change");
        return Ok(false);
    }
    let new_text = serde_norway::to_string(&doc).map_err(|e| format!("cannot write YAML ({e})"))?;
    if dry_run {
        let diff = similar::TextDiff::from_lines(&text, &new_text);
        let (old_name, new_name) = (
            path.display().to_string(),
            format!("{} (after {})", path.display(), verb(direction)),
        );
        write!(
            out,
            "{}",
            diff.unified_diff().context_radius(3).header(&old_name, &new_name)
        );
        return Ok(false);
    }
    write(out, path, &text, &new_text)?;
    if text.lines().any(|l| l.trim_start().starts_with('#')) {
        writeln!(out, "  note: comments are not kept (they are in the backup)");
    }
    Ok(outcomes.iter().any(|o| matches!(o.outcome, Outcome::Wrapped { .. })))
}

fn write(out: &mut Out, path: &Path, old_text: &str, new_text: &str) -> Result<(), String> {
    // A kubeconfig may be a symlink into a dotfiles repository: edit the file it names.
    let real = fs::canonicalize(path).map_err(|e| format!("cannot resolve it ({e})"))?;
    let meta = fs::metadata(&real).map_err(|e| format!("cannot stat it ({e})"))?;
    let mode = file_mode(&meta);
    // Root may write anything; a file without its owner's write bit says "leave me be".
    if meta.permissions().readonly() || mode & 0o200 == 0 {
        return Err(format!(
            "it is read-only (mode {mode:04o}); make it writable, or see the change with --dry-run"
        ));
    }
    let mut backup = real.clone().into_os_string();
    backup.push(".kubecredcache.bak");
    atomic::write(Path::new(&backup), old_text.as_bytes(), mode)
        .map_err(|e| format!("cannot write the backup {} ({e})", Path::new(&backup).display()))?;
    atomic::write(&real, new_text.as_bytes(), mode).map_err(|e| format!("cannot write it ({e})"))?;
    writeln!(
        out,
        "  written; the previous version is in {}",
        Path::new(&backup).display()
    );
    Ok(())
}

fn verb(direction: Direction) -> &'static str {
    match direction {
        Direction::Wrap => "setup",
        Direction::Unwrap => "unsetup",
    }
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
            } => {
                let upgrade = if *upgraded_from_v1alpha1 {
                    format!(
                        ", apiVersion {} -> {} (kubectl rejects v1alpha1)",
                        kubeconfig::V1ALPHA1,
                        kubeconfig::V1BETA1
                    )
                } else {
                    String::new()
                };
                writeln!(out, "  wrapped    {user} ({provider}){upgrade}");
            }
            Outcome::Unwrapped => writeln!(out, "  unwrapped  {user}"),
            Outcome::AlreadyWrapped => writeln!(out, "  left alone {user}: already runs kubecredcache"),
            Outcome::NotWrapped => writeln!(out, "  left alone {user}: does not run kubecredcache"),
            Outcome::UnknownCommand(command) => {
                writeln!(
                    out,
                    "  left alone {user}: no provider caches '{command}' (kubecredcache list-providers)"
                )
            }
        }
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
}

/// The file's mode bits, to give the rewritten file the same (Unix). On Windows the new
/// file inherits the directory's ACL; read-only is the attribute `readonly()` reads.
fn file_mode(meta: &fs::Metadata) -> u32 {
    #[cfg(unix)]
    return std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777;
    #[cfg(windows)]
    {
        let _ = meta;
        0o600
    }
}

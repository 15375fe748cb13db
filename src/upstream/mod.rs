//! Running the wrapped command the way kubectl would have: stdin is the terminal's (MFA
//! and SSO prompts work), stderr reaches kubectl's stderr as the command writes it, the
//! environment is inherited whole (`KUBERNETES_EXEC_INFO` included); stdout is
//! captured, to cache it.
//!
//! When our stderr is not a terminal (a tool that runs kubectl and reads its stderr),
//! the command's stderr is passed through a pipe on Unix, so that the end of it can be
//! kept for a failure record; on a terminal it is the terminal itself, as without us.
//!
//! The command never outlives us. `unix.rs`: SIGTERM and SIGHUP sent to kubecredcache
//! alone are passed on to it, on Linux it is also told to end when we die however we
//! die, and we then end by the same signal; uncached runs `exec` it. `windows.rs`: there
//! is no `exec` and Ctrl+C reaches the whole console; the command is spawned and waited
//! for, and its exit code passed on.

#[cfg(unix)]
mod unix;
#[cfg(windows)]
mod windows;

#[cfg(unix)]
use unix as os;
#[cfg(windows)]
use windows as os;

use std::ffi::{OsStr, OsString};
use std::io;
use std::process::ExitStatus;
use std::time::Duration;

/// Changes to the command's environment: `(name, Some(value))` sets, `(name, None)`
/// removes (a provider's `child_env`, and what the engine keeps from the command).
pub type EnvChanges<'a> = &'a [(&'a str, Option<&'a str>)];

/// How to run the command.
#[derive(Debug, Default, Clone, Copy)]
pub struct Options<'a> {
    /// Kill the command (and, on Unix, its process group of its own) after this long.
    pub limit: Option<Duration>,
    /// Keep the end of its stderr (when our stderr is not a terminal; Unix).
    pub keep_stderr: bool,
    /// What to change in its environment.
    pub env: EnvChanges<'a>,
}

/// What the command printed and how it ended.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    /// The end of what it wrote on stderr, when kept (see [`Options::keep_stderr`]).
    pub stderr: Vec<u8>,
    /// It ran past its time limit and was killed.
    pub timed_out: bool,
}

/// Exit code for a command killed at its time limit, as timeout(1) reports it.
pub const TIMED_OUT: i32 = 124;

/// Runs the command and captures its stdout (and, if asked, the end of its stderr).
pub fn run(program: &OsStr, args: &[OsString], options: Options) -> io::Result<Finished> {
    os::run(program, args, options)
}

/// Runs the command as if kubectl had run it directly, for runs that are not cached,
/// with `env` changed in its environment: on Unix it becomes the command (exec) and
/// returns only if that failed; on Windows it runs it and exits with its exit code.
/// What it returns is why it could not run (the caller reports it).
pub fn exec(program: &OsStr, args: &[OsString], env: EnvChanges) -> io::Error {
    os::exec(program, args, env)
}

/// Applies `env` to the command's environment.
fn change_env(command: &mut std::process::Command, env: EnvChanges) {
    for (name, value) in env {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
}

/// The shell's exit code for a command that ended this way (128 + signal when killed).
pub fn exit_code(status: ExitStatus) -> i32 {
    os::exit_code(status)
}

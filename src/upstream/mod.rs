//! Running the wrapped command the way kubectl would have: stdin is the terminal's (MFA
//! and SSO prompts work), the environment is inherited whole (`KUBERNETES_EXEC_INFO`
//! included); stdout is captured, to cache it.
//!
//! Its stderr is ours, the very descriptor, as client-go hands the plugin kubectl's own
//! (`cmd.Stderr = os.Stderr`): we never read it. So the run that fails shows the
//! message exactly as bare, and what reading it through a pipe had to handle cannot
//! happen: a process the command leaves holding its stderr, or one that goes on
//! writing, never holds us up; a reader of our stderr slower than the command, or one
//! that reads our stdout first, gets its stderr as the command writes it, in order and
//! whole. The price: a failure record keeps no message (`cache/failures.rs`), and
//! runs that replay it say that the message went to the run that failed.
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
    /// What to change in its environment.
    pub env: EnvChanges<'a>,
}

/// What the command printed and how it ended.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    /// It ran past its time limit and was killed.
    pub timed_out: bool,
}

/// Exit code for a command killed at its time limit, as timeout(1) reports it.
pub const TIMED_OUT: i32 = 124;

/// What went wrong after the command had started: it may have done its work already
/// (printed a token, spent a one-time code, opened a browser for a login), so nothing
/// may run it again for this run.
#[derive(Debug)]
struct AfterStart(io::Error);

impl std::fmt::Display for AfterStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "it started, then {}", self.0)
    }
}

impl std::error::Error for AfterStart {}

/// Marks `error` as met after the command started (see [`failed_after_start`]).
pub fn after_start(error: io::Error) -> io::Error {
    io::Error::new(error.kind(), AfterStart(error))
}

/// Whether [`run`] failed after the command had started, rather than starting it.
pub fn failed_after_start(error: &io::Error) -> bool {
    error.get_ref().is_some_and(|e| e.is::<AfterStart>())
}

/// Runs the command and captures its stdout.
/// An error met after it started says so ([`failed_after_start`]).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_after_the_start_is_told_from_one_before_it() {
        let before = io::Error::from_raw_os_error(24);
        assert!(!failed_after_start(&before));
        let after = after_start(io::Error::from_raw_os_error(10));
        assert!(failed_after_start(&after));
        assert!(after.to_string().starts_with("it started, then "), "{after}");
    }
}

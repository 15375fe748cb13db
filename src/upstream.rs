//! Running the wrapped command the way kubectl would have: stdin and stderr are the
//! terminal's (MFA and SSO prompts work), the environment is inherited whole
//! (`KUBERNETES_EXEC_INFO` included); only stdout is captured, to cache it.

use std::ffi::{OsStr, OsString};
use std::io;
use std::process::{Command, ExitStatus, Stdio};

/// What the command printed on stdout and how it ended.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
}

/// Runs the command and captures its stdout.
pub fn run(program: &OsStr, args: &[OsString]) -> io::Result<Finished> {
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::inherit())
        .stderr(Stdio::inherit())
        .stdout(Stdio::piped())
        .spawn()?;
    let output = child.wait_with_output()?;
    Ok(Finished {
        status: output.status,
        stdout: output.stdout,
    })
}

/// Becomes the command (exec), for runs that are not cached: kubectl then deals with
/// the real plugin directly, signals and all. Returns only if exec failed.
pub fn exec(program: &OsStr, args: &[OsString]) -> i32 {
    use std::os::unix::process::CommandExt;
    let error = Command::new(program).args(args).exec();
    report_spawn_error(program, &error)
}

/// The shell's exit code for a command that ended this way (128 + signal when killed).
pub fn exit_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.code().or_else(|| status.signal().map(|s| 128 + s)).unwrap_or(1)
}

/// One line on stderr and the shell's code: 127 not found, 126 not runnable.
pub fn report_spawn_error(program: &OsStr, error: &io::Error) -> i32 {
    let program = program.to_string_lossy();
    if error.kind() == io::ErrorKind::NotFound {
        eprintln!("kubecredcache: cannot run '{program}': not found (is it installed and on PATH?)");
        127
    } else {
        eprintln!("kubecredcache: cannot run '{program}': {error}");
        126
    }
}

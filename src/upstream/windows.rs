//! Running the command on Windows: there is no `exec`, so uncached runs spawn it, wait,
//! and pass on its exit code; Ctrl+C reaches every process of the console, so there is
//! nothing to forward. A program named without a directory is found on `PATH` with the
//! extensions `PATHEXT` lists (`aws.cmd` from pip, `aws.exe` from the AWS installer), as
//! kubectl finds it, where `Command` alone would look for `.exe` only.

use std::ffi::{OsStr, OsString};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::{EnvChanges, Finished, Options, change_env};

/// Runs the command, stdout captured, within `options.limit` if any. Its stderr is ours.
pub fn run(program: &OsStr, args: &[OsString], options: Options) -> io::Result<Finished> {
    let mut command = Command::new(resolve(program));
    command.args(args);
    change_env(&mut command, options.env);
    let mut child = command
        .stdin(Stdio::inherit())
        .stderr(Stdio::inherit())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        stdout.read_to_end(&mut bytes).map(|_| bytes)
    });
    let deadline = options.limit.and_then(|l| Instant::now().checked_add(l));
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(super::after_start)? {
            break status;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            timed_out = true;
            let _ = child.kill();
            break child.wait().map_err(super::after_start)?;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // A process the command left behind may hold its stdout open: after a time limit,
    // do not wait for it.
    let stdout = if timed_out {
        Vec::new()
    } else {
        reader
            .join()
            .map_err(|_| io::Error::other("the stdout reader panicked"))??
    };
    Ok(Finished {
        status,
        stdout,
        timed_out,
    })
}

/// Runs the command with our stdin, stdout and stderr, and ends with its exit code.
/// Returns only the error if it could not be started.
pub fn exec(program: &OsStr, args: &[OsString], env: EnvChanges) -> io::Error {
    let mut command = Command::new(resolve(program));
    command.args(args);
    change_env(&mut command, env);
    let status = command.status();
    match status {
        Ok(status) => {
            let _ = io::Write::flush(&mut io::stdout());
            std::process::exit(exit_code(status))
        }
        Err(e) => e,
    }
}

/// The command's exit code (a Windows exit code is a 32-bit value).
pub fn exit_code(status: ExitStatus) -> i32 {
    status.code().unwrap_or(1)
}

/// The program as kubectl would run it: a name without a directory is looked up on
/// `PATH`, trying it as given and then with each extension in `PATHEXT`.
pub fn resolve(program: &OsStr) -> PathBuf {
    let path = Path::new(program);
    if path.components().count() != 1 {
        return path.to_path_buf();
    }
    let extensions = std::env::var_os("PATHEXT").unwrap_or_else(|| ".COM;.EXE;.BAT;.CMD".into());
    let extensions: Vec<String> = extensions
        .to_string_lossy()
        .split(';')
        .filter(|e| !e.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let dirs = std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<_>>());
    let has_extension = path.extension().is_some();
    for dir in dirs.unwrap_or_default() {
        if has_extension && dir.join(path).is_file() {
            return dir.join(path);
        }
        for extension in &extensions {
            let mut name = program.to_os_string();
            name.push(extension);
            if dir.join(&name).is_file() {
                return dir.join(name);
            }
        }
    }
    path.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_found_with_the_extensions_of_pathext() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("aws.cmd"), "@echo off\r\n").unwrap();
        // SAFETY: the test changes its own process's environment before reading it.
        unsafe {
            std::env::set_var("PATH", tmp.path());
            std::env::set_var("PATHEXT", ".COM;.EXE;.BAT;.CMD");
        }
        assert_eq!(resolve(OsStr::new("aws")), tmp.path().join("aws.cmd"));
        assert_eq!(resolve(OsStr::new("missing")), PathBuf::from("missing"));
        assert_eq!(resolve(OsStr::new(r"C:\tools\aws")), PathBuf::from(r"C:\tools\aws"));
    }
}

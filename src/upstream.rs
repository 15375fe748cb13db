//! Running the wrapped command the way kubectl would have: stdin and stderr are the
//! terminal's (MFA and SSO prompts work), the environment is inherited whole
//! (`KUBERNETES_EXEC_INFO` included); only stdout is captured, to cache it.
//!
//! The command never outlives us: SIGTERM and SIGHUP sent to kubecredcache alone (a
//! closing terminal, a supervisor stopping a tool) are passed on to it, on Linux it is
//! also told to end when we die however we die (`PR_SET_PDEATHSIG`), and we then end by
//! the same signal, so that our parent sees what it would have seen without us.

use std::ffi::{OsStr, OsString};
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// What the command printed on stdout and how it ended.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    /// It ran past its time limit and was killed.
    pub timed_out: bool,
}

/// Exit code for a command killed at its time limit, as timeout(1) reports it.
pub const TIMED_OUT: i32 = 124;

/// Signals passed on to the command.
const FORWARDED: [libc::c_int; 2] = [libc::SIGTERM, libc::SIGHUP];

/// The running command's pid (0: none), and the first forwarded signal we received.
static CHILD: AtomicI32 = AtomicI32::new(0);
static RECEIVED: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward(signal: libc::c_int) {
    RECEIVED
        .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
        .ok();
    let child = CHILD.load(Ordering::SeqCst);
    if child > 0 {
        // SAFETY: kill is async-signal-safe.
        unsafe { libc::kill(child, signal) };
    }
}

/// Runs the command and captures its stdout. With `limit`, the command runs in a process
/// group of its own, which is killed whole when the limit passes (a background refresh
/// whose authenticator never answers).
pub fn run(program: &OsStr, args: &[OsString], limit: Option<Duration>) -> io::Result<Finished> {
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::inherit())
        .stderr(Stdio::inherit())
        .stdout(Stdio::piped());
    if limit.is_some() {
        command.process_group(0);
    }
    end_with_us(&mut command);
    install_forwarding();
    let mut child = command.spawn()?;
    CHILD.store(child.id() as i32, Ordering::SeqCst);
    // A signal that came before the pid was known is passed on now.
    let early = RECEIVED.load(Ordering::SeqCst);
    if early != 0 {
        // SAFETY: plain kill(2) of our own child.
        unsafe { libc::kill(child.id() as i32, early) };
    }
    let deadline = limit.map(|l| Instant::now() + l);
    let pipe = child.stdout.take().expect("stdout is piped");
    let (stdout, mut timed_out) = read_stdout(&child, pipe, deadline)?;
    // Ended by a forwarded signal: end the same way, without waiting for a process the
    // command may have left holding its stdout.
    end_like_a_forwarded_signal();
    let status = match deadline {
        Some(deadline) if !timed_out => {
            let (status, late) = wait_until(&mut child, deadline)?;
            timed_out = late;
            status
        }
        _ => child.wait()?,
    };
    CHILD.store(0, Ordering::SeqCst);
    Ok(Finished {
        status,
        stdout,
        timed_out,
    })
}

/// Reads the command's stdout to its end, in this thread (a reader thread would cost
/// every cache hit the dynamic loading of the thread functions). Stops early when a
/// forwarded signal arrives, or, past `deadline`, after killing the command's group;
/// the second value says the deadline passed.
fn read_stdout(child: &Child, mut pipe: ChildStdout, deadline: Option<Instant>) -> io::Result<(Vec<u8>, bool)> {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if RECEIVED.load(Ordering::SeqCst) != 0 {
            return Ok((bytes, false));
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            kill_group(child);
            return Ok((bytes, true));
        }
        // Never block long: a signal that lands between the check above and the wait
        // below is seen within this.
        let wait = deadline.map_or(POLL_EVERY, |d| (d - now).min(POLL_EVERY));
        let mut ready = libc::pollfd {
            fd: pipe.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: poll on one valid pollfd that lives across the call.
        let n = unsafe { libc::poll(&mut ready, 1, wait.as_millis().max(1) as libc::c_int) };
        if n <= 0 {
            continue; // timed out, or interrupted by a signal: check again
        }
        match pipe.read(&mut chunk) {
            Ok(0) => return Ok((bytes, false)),
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// How often a blocked read looks again at signals and its deadline.
const POLL_EVERY: Duration = Duration::from_millis(200);

/// Waits for the command's end until `deadline`; past it, kills its group. The second
/// value says the deadline passed.
fn wait_until(child: &mut Child, deadline: Instant) -> io::Result<(ExitStatus, bool)> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok((status, false));
        }
        if Instant::now() >= deadline {
            kill_group(child);
            return Ok((child.wait()?, true));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn kill_group(child: &Child) {
    // SAFETY: the command leads a process group of its own (process_group(0)).
    unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
}

/// On Linux the kernel sends the command SIGTERM when we die, even by SIGKILL.
fn end_with_us(command: &mut Command) {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl is async-signal-safe; it only sets a flag on the new process.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    #[cfg(not(target_os = "linux"))]
    let _ = command;
}

fn install_forwarding() {
    for signal in FORWARDED {
        // SAFETY: `forward` only touches atomics and calls kill, both async-signal-safe.
        unsafe { libc::signal(signal, forward as *const () as libc::sighandler_t) };
    }
}

/// If a signal was forwarded to the command, end by that signal too.
fn end_like_a_forwarded_signal() {
    let signal = RECEIVED.load(Ordering::SeqCst);
    if signal != 0 {
        // SAFETY: restoring the default action and sending the signal to ourselves (kill
        // rather than raise: one imported symbol fewer for every cache hit to load).
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::kill(libc::getpid(), signal);
        }
    }
}

/// Becomes the command (exec), for runs that are not cached: kubectl then deals with
/// the real plugin directly, signals and all. Returns only if exec failed.
pub fn exec(program: &OsStr, args: &[OsString]) -> i32 {
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
        crate::messages::error(&format!(
            "cannot run '{program}': not found (is it installed and on PATH?)"
        ));
        127
    } else {
        crate::messages::error(&format!("cannot run '{program}': {error}"));
        126
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_past_its_limit_is_killed_with_its_children() {
        let script = "sleep 600 & echo $! > \"$1\"; wait";
        let tmp = tempfile::tempdir().unwrap();
        let pid_file = tmp.path().join("pid");
        let args: Vec<OsString> = ["-c", script, "sh", pid_file.to_str().unwrap()]
            .map(OsString::from)
            .to_vec();
        let finished = run(OsStr::new("sh"), &args, Some(Duration::from_millis(300))).unwrap();
        assert!(finished.timed_out);
        let grandchild: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
        // Killed with its group; reaped by init soon after.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::path::Path::new(&format!("/proc/{grandchild}")).exists()
            && !std::fs::read_to_string(format!("/proc/{grandchild}/stat")).is_ok_and(|s| s.contains(") Z"))
        {
            assert!(Instant::now() < deadline, "the sleep survived");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn a_command_within_its_limit_is_not_killed() {
        let args: Vec<OsString> = ["-c", "echo hi"].map(OsString::from).to_vec();
        let finished = run(OsStr::new("sh"), &args, Some(Duration::from_secs(30))).unwrap();
        assert!(!finished.timed_out && finished.status.success());
        assert_eq!(finished.stdout, b"hi\n");
    }
}

//! Running the command on Unix: signals passed on to it (SIGTERM, SIGHUP), told to end
//! with us (`PR_SET_PDEATHSIG` on Linux), its stdout read in this thread with `poll`, a
//! time limit enforced on a process group of its own, and `exec` for uncached runs.

use std::ffi::{OsStr, OsString};
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use super::{EnvChanges, Finished, Options, change_env};

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

/// Runs the command and captures its stdout; its stderr is ours (see `upstream`).
/// With a limit, the command runs in a process group of its own, which is killed whole
/// when the limit passes (a background refresh whose authenticator never answers).
pub fn run(program: &OsStr, args: &[OsString], options: Options) -> io::Result<Finished> {
    let mut command = Command::new(program);
    command.args(args);
    change_env(&mut command, options.env);
    command
        .stdin(Stdio::inherit())
        .stderr(Stdio::inherit())
        .stdout(Stdio::piped());
    if options.limit.is_some() {
        command.process_group(0);
    }
    end_with_us(&mut command);
    install_forwarding();
    reap_our_own_children();
    let mut child = command.spawn()?;
    CHILD.store(child.id() as i32, Ordering::SeqCst);
    // A signal that came before the pid was known is passed on now.
    let early = RECEIVED.load(Ordering::SeqCst);
    if early != 0 {
        // SAFETY: plain kill(2) of our own child.
        unsafe { libc::kill(child.id() as i32, early) };
    }
    let deadline = options.limit.and_then(|l| Instant::now().checked_add(l));
    let stdout = child.stdout.take().expect("stdout is piped");
    let read = read_stdout(stdout, &child, deadline).map_err(super::after_start)?;
    // Ended by a forwarded signal: end the same way, without waiting for a process the
    // command may have left holding its stdout.
    end_like_a_forwarded_signal();
    let mut timed_out = read.timed_out;
    let status = match deadline {
        Some(deadline) if !timed_out => {
            let (status, late) = wait_until(&mut child, deadline).map_err(super::after_start)?;
            timed_out = late;
            status
        }
        _ => child.wait().map_err(super::after_start)?,
    };
    CHILD.store(0, Ordering::SeqCst);
    Ok(Finished {
        status,
        stdout: read.stdout,
        timed_out,
    })
}

/// What [`read_stdout`] got.
struct Captured {
    stdout: Vec<u8>,
    timed_out: bool,
}

/// Reads the command's stdout to its end, in this thread (a reader thread would cost
/// every cache hit the dynamic loading of the thread functions). Stops early when a
/// forwarded signal arrives, or, past `deadline`, after killing the command's group.
fn read_stdout(mut stdout: ChildStdout, child: &Child, deadline: Option<Instant>) -> io::Result<Captured> {
    let mut out = Captured {
        stdout: Vec::new(),
        timed_out: false,
    };
    let mut chunk = [0u8; 8192];
    while let Some(wait) = next_wait(child, deadline, &mut out) {
        if !readable(stdout.as_raw_fd(), wait) {
            continue;
        }
        match stdout.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => out.stdout.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Before each wait for the command's stdout: `None` when a forwarded signal has
/// arrived, or when `deadline` has passed (then the command's group is killed and the
/// run marked timed out); else how long to wait at most. Never long: a signal that
/// lands between this check and the wait is seen within [`POLL_EVERY`].
fn next_wait(child: &Child, deadline: Option<Instant>, out: &mut Captured) -> Option<Duration> {
    if RECEIVED.load(Ordering::SeqCst) != 0 {
        return None;
    }
    let now = Instant::now();
    if deadline.is_some_and(|d| now >= d) {
        kill_group(child);
        out.timed_out = true;
        return None;
    }
    Some(deadline.map_or(POLL_EVERY, |d| (d - now).min(POLL_EVERY)))
}

/// How often a blocked read looks again at signals and its deadline.
const POLL_EVERY: Duration = Duration::from_millis(200);

/// Whether `fd` has input (or is closed or broken: the read says which) within `wait`.
/// Interrupted by a signal: false.
fn readable(fd: std::os::fd::RawFd, wait: Duration) -> bool {
    let mut fds = [libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }];
    // SAFETY: poll on one pollfd that lives across the call.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), 1, wait.as_millis().max(1) as libc::c_int) };
    n == 1 && fds[0].revents != 0
}

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

/// A parent that ignores SIGCHLD hands that on across exec, and the kernel then reaps
/// our children itself: waiting for the command fails (`ECHILD`) after it has run, and
/// its exit status is lost. The default comes back before it starts (and it inherits
/// the default, as it does from kubectl).
fn reap_our_own_children() {
    // SAFETY: restoring a signal's default action has no preconditions.
    unsafe { libc::signal(libc::SIGCHLD, libc::SIG_DFL) };
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
/// the real plugin directly, signals and all, with `env` changed in its environment.
/// Returns only if exec failed.
pub fn exec(program: &OsStr, args: &[OsString], env: EnvChanges) -> io::Error {
    let mut command = Command::new(program);
    command.args(args);
    change_env(&mut command, env);
    command.exec()
}

/// The shell's exit code for a command that ended this way (128 + signal when killed).
pub fn exit_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.code().or_else(|| status.signal().map(|s| 128 + s)).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    #[test]
    fn a_command_past_its_limit_is_killed_with_its_children() {
        let script = "sleep 600 & echo $! > \"$1\"; wait";
        let tmp = tempfile::tempdir().unwrap();
        let pid_file = tmp.path().join("pid");
        let args: Vec<OsString> = ["-c", script, "sh", pid_file.to_str().unwrap()]
            .map(OsString::from)
            .to_vec();
        let options = Options {
            limit: Some(Duration::from_millis(300)),
            ..Options::default()
        };
        let finished = run(OsStr::new("sh"), &args, options).unwrap();
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
    fn the_environment_changes_reach_the_command_alone() {
        let home = std::env::var("HOME").expect("HOME is set for the tests");
        let args: Vec<OsString> = ["-c", "echo \"$KCC_TEST_SET|${HOME-unset}\""]
            .map(OsString::from)
            .to_vec();
        let options = Options {
            env: &[("KCC_TEST_SET", Some("json")), ("HOME", None)],
            ..Options::default()
        };
        let finished = run(OsStr::new("sh"), &args, options).unwrap();
        assert_eq!(finished.stdout, b"json|unset\n");
        assert_eq!(std::env::var("HOME").as_deref(), Ok(home.as_str()), "ours is unchanged");
    }

    #[test]
    fn a_command_within_its_limit_is_not_killed() {
        let args: Vec<OsString> = ["-c", "echo hi; echo the reason >&2"].map(OsString::from).to_vec();
        let options = Options {
            limit: Some(Duration::from_secs(30)),
            ..Options::default()
        };
        let finished = run(OsStr::new("sh"), &args, options).unwrap();
        assert!(!finished.timed_out && finished.status.success());
        assert_eq!(finished.stdout, b"hi\n");
    }
}

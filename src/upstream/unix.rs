//! Running the command on Unix: signals passed on to it (SIGTERM, SIGHUP), told to end
//! with us (`PR_SET_PDEATHSIG` on Linux), its output read in this thread with `poll`, a
//! time limit enforced on a process group of its own, and `exec` for uncached runs.

use std::ffi::{OsStr, OsString};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use super::{EnvChanges, Finished, Options, change_env};
use crate::cache::MAX_STDERR_BYTES;

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

/// Whether our stderr is a terminal (a person reads it as it is written).
pub fn stderr_is_terminal() -> bool {
    is_terminal(libc::STDERR_FILENO)
}

#[cfg(target_os = "linux")]
fn is_terminal(fd: RawFd) -> bool {
    // TCGETS through ioctl, which is linked already, rather than isatty: one imported
    // symbol fewer for every cache hit to bind.
    // SAFETY: an all-zero termios is a valid buffer for TCGETS to fill in.
    let mut termios: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: TCGETS writes one termios into the buffer we pass; fd may be anything.
    unsafe { libc::ioctl(fd, libc::TCGETS, &mut termios) == 0 }
}

#[cfg(not(target_os = "linux"))]
fn is_terminal(fd: RawFd) -> bool {
    // SAFETY: isatty has no preconditions.
    unsafe { libc::isatty(fd) == 1 }
}

/// Runs the command and captures its stdout (and, if asked, the end of its stderr).
/// With a limit, the command runs in a process group of its own, which is killed whole
/// when the limit passes (a background refresh whose authenticator never answers).
pub fn run(program: &OsStr, args: &[OsString], options: Options) -> io::Result<Finished> {
    let keep_stderr = options.keep_stderr && !stderr_is_terminal();
    let mut command = Command::new(program);
    command.args(args);
    change_env(&mut command, options.env);
    command
        .stdin(Stdio::inherit())
        .stderr(if keep_stderr { Stdio::piped() } else { Stdio::inherit() })
        .stdout(Stdio::piped());
    if options.limit.is_some() {
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
    let deadline = options.limit.and_then(|l| Instant::now().checked_add(l));
    let pipes = Pipes {
        stdout: child.stdout.take().expect("stdout is piped"),
        stderr: child.stderr.take(),
    };
    let read = pipes.read(&mut child, deadline)?;
    // Ended by a forwarded signal: end the same way, without waiting for a process the
    // command may have left holding its stdout.
    end_like_a_forwarded_signal();
    let mut timed_out = read.timed_out;
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
        stdout: read.stdout,
        stderr: read.stderr,
        timed_out,
    })
}

/// The command's output pipes.
struct Pipes {
    stdout: ChildStdout,
    /// Piped only when its end is kept; it is copied to our stderr as it comes.
    stderr: Option<ChildStderr>,
}

/// What [`Pipes::read`] got.
struct Captured {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    timed_out: bool,
}

impl Pipes {
    /// Reads the command's output to its end, in this thread (a reader thread would cost
    /// every cache hit the dynamic loading of the thread functions). Stops early when a
    /// forwarded signal arrives, or, past `deadline`, after killing the command's group.
    ///
    /// The command's stderr is read only when our own stderr can take what is read
    /// without blocking, as much as one write takes whole (`PIPE_BUF`): a caller that
    /// reads our stdout to its end before it reads our stderr must get our stdout as it
    /// would get the plugin's, with whatever is not read yet waiting in the plugin's
    /// pipe instead of blocking us.
    fn read(mut self, child: &mut Child, deadline: Option<Instant>) -> io::Result<Captured> {
        let mut out = Captured {
            stdout: Vec::new(),
            stderr: Vec::new(),
            timed_out: false,
        };
        let mut chunk = [0u8; 8192];
        let mut stderr_open = self.stderr.is_some();
        loop {
            if RECEIVED.load(Ordering::SeqCst) != 0 {
                return Ok(out);
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                kill_group(child);
                out.timed_out = true;
                return Ok(out);
            }
            // Never block long: a signal that lands between the check above and the
            // wait below is seen within this.
            let wait = deadline.map_or(POLL_EVERY, |d| (d - now).min(POLL_EVERY));
            let stderr_fd = self.stderr.as_ref().filter(|_| stderr_open).map(|e| e.as_raw_fd());
            let ready = poll(Some(self.stdout.as_raw_fd()), stderr_fd, wait);
            if ready.stderr
                && let Some(stderr) = self.stderr.as_mut()
            {
                match stderr.read(&mut chunk[..libc::PIPE_BUF]) {
                    Ok(0) => stderr_open = false,
                    Ok(n) => keep_end(&mut out.stderr, &chunk[..n]),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => stderr_open = false,
                }
            }
            if ready.stdout {
                match self.stdout.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => out.stdout.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        // stdout is done. What is left of stderr is read while the command runs, and
        // once it has ended, what it wrote is in the pipe already: that is read without
        // waiting. If a process it left behind still holds the pipe then, a relay takes
        // the pipe over (see `hand_over`): kubectl, which hands the plugin its own
        // stderr, never waits for that process, and that process must not lose its
        // stderr either.
        let Some(mut stderr) = self.stderr.take().filter(|_| stderr_open) else {
            return Ok(out);
        };
        // Once the command has ended: how much was read since, and when it ended. A
        // process that writes on and on is handed to the relay after either bound
        // rather than read here for as long as it writes.
        let mut after_end: Option<(usize, Instant)> = None;
        loop {
            if RECEIVED.load(Ordering::SeqCst) != 0 {
                return Ok(out);
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                kill_group(child);
                out.timed_out = true;
                return Ok(out);
            }
            if after_end.is_none() && child.try_wait()?.is_some() {
                CHILD.store(0, Ordering::SeqCst);
                after_end = Some((0, now));
            }
            let wait = match after_end {
                Some((read, ended)) if read >= STDERR_AFTER_END_AT_MOST || now - ended >= STDERR_AFTER_END_FOR => break,
                Some(_) => Duration::ZERO,
                None => deadline.map_or(POLL_EVERY, |d| (d - now).min(POLL_EVERY)),
            };
            let ready = poll(None, Some(stderr.as_raw_fd()), wait);
            if !ready.stderr {
                // Quiet, or our stderr full once the command has ended: the rest is the
                // relay's to pass on.
                if after_end.is_some() {
                    break;
                }
                continue;
            }
            match stderr.read(&mut chunk[..libc::PIPE_BUF]) {
                Ok(0) => return Ok(out),
                Ok(n) => {
                    keep_end(&mut out.stderr, &chunk[..n]);
                    if let Some((read, _)) = after_end.as_mut() {
                        *read += n;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Ok(out),
            }
        }
        hand_over(stderr);
        Ok(out)
    }
}

/// Passes `chunk` of the command's stderr on to ours at once, and keeps the end of it.
fn keep_end(kept: &mut Vec<u8>, chunk: &[u8]) {
    let _ = io::stderr().lock().write_all(chunk);
    kept.extend_from_slice(chunk);
    if kept.len() > MAX_STDERR_BYTES {
        kept.drain(..kept.len() - MAX_STDERR_BYTES);
    }
}

/// What [`poll`] found ready.
struct Ready {
    stdout: bool,
    stderr: bool,
}

/// Waits at most `wait` for input on `stdout` or `stderr` (readable or closed); which
/// are ready. `stderr` counts as ready only while our own stderr takes `PIPE_BUF`
/// bytes without blocking, and while it does not, the wait ends when it does.
/// Interrupted by a signal: neither.
fn poll(stdout: Option<RawFd>, stderr: Option<RawFd>, wait: Duration) -> Ready {
    let ours_full = stderr.is_some() && !writable(libc::STDERR_FILENO);
    let entry = |fd: Option<RawFd>, events| libc::pollfd {
        fd: fd.unwrap_or(-1),
        events,
        revents: 0,
    };
    // A negative fd is skipped by poll(2).
    let mut fds = [
        entry(stdout, libc::POLLIN),
        entry(stderr.filter(|_| !ours_full), libc::POLLIN),
        entry(Some(libc::STDERR_FILENO).filter(|_| ours_full), libc::POLLOUT),
    ];
    // SAFETY: poll on three pollfds that live across the call.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), 3, wait.as_millis().max(1) as libc::c_int) };
    Ready {
        stdout: n > 0 && fds[0].revents != 0,
        stderr: n > 0 && fds[1].revents != 0,
    }
}

/// How often a blocked read looks again at signals and its deadline.
const POLL_EVERY: Duration = Duration::from_millis(200);

/// Read of the command's stderr after it ended, at most, before the relay takes over:
/// more than a pipe holds, so only a process that goes on writing reaches it.
const STDERR_AFTER_END_AT_MOST: usize = 1 << 20;
/// Time spent reading the command's stderr after it ended, at most, before the relay
/// takes over: what the command itself wrote is in the pipe already and is read at
/// once; only a process it left writing on uses this up.
const STDERR_AFTER_END_FOR: Duration = Duration::from_millis(50);

/// Whether a write of up to `PIPE_BUF` bytes to `fd` would not block now (one that
/// fails at once, to a closed or broken descriptor, does not block either).
fn writable(fd: RawFd) -> bool {
    let mut fds = [libc::pollfd {
        fd,
        events: libc::POLLOUT,
        revents: 0,
    }];
    // SAFETY: poll on one valid pollfd that lives across the call, without waiting.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), 1, 0) };
    n == 1 && fds[0].revents & (libc::POLLOUT | libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0
}

/// Hands the rest of the command's stderr, held by a process the command left behind,
/// to a `cat` (`/bin/cat`, else `/usr/bin/cat`) that copies it to our stderr until that process closes it, as it would
/// have written to kubectl's stderr without us (closing our end instead would kill it
/// with SIGPIPE at its next write). Only that rare case pays for the process; if `cat`
/// cannot be started, the pipe is closed.
#[allow(clippy::zombie_processes)] // it outlives us on purpose; init reaps it
fn hand_over(stderr: ChildStderr) {
    use std::os::fd::AsFd;
    let Ok(ours) = io::stderr().as_fd().try_clone_to_owned() else {
        return;
    };
    // By its full path: the plugin's PATH may have no `cat`, or a `.` where another
    // could wait.
    let Some(cat) = ["/bin/cat", "/usr/bin/cat"]
        .into_iter()
        .find(|p| std::path::Path::new(p).is_file())
    else {
        log::debug!("no cat to pass on the stderr of what the command left running");
        return;
    };
    let relay = Command::new(cat)
        .stdin(Stdio::from(stderr))
        .stdout(Stdio::from(ours))
        .stderr(Stdio::null())
        .spawn();
    if let Err(e) = relay {
        log::debug!("cannot start {cat} to pass on the stderr of what the command left running: {e}");
    }
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
            keep_stderr: true,
            ..Options::default()
        };
        let finished = run(OsStr::new("sh"), &args, options).unwrap();
        assert!(!finished.timed_out && finished.status.success());
        assert_eq!(finished.stdout, b"hi\n");
        if !stderr_is_terminal() {
            assert_eq!(finished.stderr, b"the reason\n");
        }
    }
}

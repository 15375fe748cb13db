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
    let pipes = Pipes {
        stdout: child.stdout.take().expect("stdout is piped"),
        stderr: child.stderr.take(),
    };
    let read = pipes.read(&mut child, deadline).map_err(super::after_start)?;
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
            let Some(wait) = next_wait(child, deadline, &mut out) else {
                return Ok(out);
            };
            let stderr_fd = self.stderr.as_ref().filter(|_| stderr_open).map(|e| e.as_raw_fd());
            let ready = poll(Some(self.stdout.as_raw_fd()), stderr_fd, wait);
            if ready.stderr
                && let Some(stderr) = self.stderr.as_mut()
            {
                stderr_open = copy_stderr(stderr, &mut chunk, &mut out.stderr);
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
        // While the command runs, its stderr is copied as our stderr takes it.
        loop {
            let Some(wait) = next_wait(child, deadline, &mut out) else {
                return Ok(out);
            };
            if child.try_wait()?.is_some() {
                CHILD.store(0, Ordering::SeqCst);
                break;
            }
            if !poll(None, Some(stderr.as_raw_fd()), wait).stderr {
                continue;
            }
            if !copy_stderr(&mut stderr, &mut chunk, &mut out.stderr) {
                return Ok(out);
            }
        }
        let rest = after_the_end(&mut stderr, &mut out.stderr);
        if !rest.ended || !rest.pending.is_empty() {
            hand_over((!rest.ended).then_some(stderr), rest.pending);
        }
        Ok(out)
    }
}

/// Before each wait for the command's output: `None` when a forwarded signal has
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

/// What is left of the command's stderr once [`after_the_end`] has done.
struct Rest {
    /// Read, kept, and not passed on: our stderr took nothing for [`STDERR_STALLED`].
    pending: Vec<u8>,
    /// The pipe is closed: nothing holds it any more.
    ended: bool,
}

/// The command has ended: what it wrote is in the pipe. That is read at once, all of it
/// kept for a failure record, and passed on as our stderr takes it, as kubectl's
/// stderr would have taken it from the plugin (which waits for a slow reader): so it
/// comes out whole and before anything kubectl writes next. A process the command left
/// holding the pipe is read for [`STDERR_AFTER_END_FOR`] and
/// [`STDERR_AFTER_END_AT_MOST`] at most, and a reader that takes nothing for
/// [`STDERR_STALLED`] (one that reads our stdout to its end first) is not waited for:
/// what is left goes to the relay.
fn after_the_end(stderr: &mut ChildStderr, kept: &mut Vec<u8>) -> Rest {
    let ended_at = Instant::now();
    let mut chunk = [0u8; 8192];
    let mut rest = Rest {
        pending: Vec::new(),
        ended: false,
    };
    let mut read = 0;
    loop {
        let mut took = false;
        while rest.pending.len() < PENDING_AT_MOST
            && read < STDERR_AFTER_END_AT_MOST
            && ended_at.elapsed() < STDERR_AFTER_END_FOR
            && RECEIVED.load(Ordering::SeqCst) == 0
            && ready(stderr.as_raw_fd(), libc::POLLIN, Duration::ZERO)
        {
            let most = (PENDING_AT_MOST - rest.pending.len()).min(chunk.len());
            match stderr.read(&mut chunk[..most]) {
                Ok(0) | Err(_) => {
                    rest.ended = true;
                    break;
                }
                Ok(n) => {
                    keep(kept, &chunk[..n]);
                    rest.pending.extend_from_slice(&chunk[..n]);
                    read += n;
                    took = true;
                }
            }
        }
        while !rest.pending.is_empty() {
            if RECEIVED.load(Ordering::SeqCst) != 0 || !ready(libc::STDERR_FILENO, libc::POLLOUT, STDERR_STALLED) {
                return rest;
            }
            let n = rest.pending.len().min(libc::PIPE_BUF);
            let _ = io::stderr().lock().write_all(&rest.pending[..n]);
            rest.pending.drain(..n);
        }
        if rest.ended || !took {
            return rest;
        }
    }
}

/// Reads what the command's stderr holds, as much as one write to ours takes whole,
/// passes it on and keeps its end; false once the pipe is closed or broken.
fn copy_stderr(stderr: &mut ChildStderr, chunk: &mut [u8], kept: &mut Vec<u8>) -> bool {
    match stderr.read(&mut chunk[..libc::PIPE_BUF]) {
        Ok(0) => false,
        Ok(n) => {
            keep_end(kept, &chunk[..n]);
            true
        }
        Err(e) => e.kind() == io::ErrorKind::Interrupted,
    }
}

/// Passes `chunk` of the command's stderr on to ours at once, and keeps the end of it.
fn keep_end(kept: &mut Vec<u8>, chunk: &[u8]) {
    let _ = io::stderr().lock().write_all(chunk);
    keep(kept, chunk);
}

/// Keeps the end of the command's stderr, for a failure record.
fn keep(kept: &mut Vec<u8>, chunk: &[u8]) {
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

/// Read of the command's stderr and not yet passed on, at most: what a pipe holds.
const PENDING_AT_MOST: usize = 64 * 1024;

/// How long our stderr may take nothing before what is left goes to the relay: a slow
/// reader takes something well within it, one that reads our stdout first nothing.
const STDERR_STALLED: Duration = Duration::from_millis(100);

/// Whether a write of up to `PIPE_BUF` bytes to `fd` would not block now (one that
/// fails at once, to a closed or broken descriptor, does not block either).
fn writable(fd: RawFd) -> bool {
    ready(fd, libc::POLLOUT, Duration::ZERO)
}

/// Whether `fd` is ready for `events` within `wait` (or will fail at once: closed,
/// broken, not open).
fn ready(fd: RawFd, events: libc::c_short, wait: Duration) -> bool {
    let mut fds = [libc::pollfd { fd, events, revents: 0 }];
    let ms = if wait.is_zero() {
        0
    } else {
        wait.as_millis().max(1) as libc::c_int
    };
    // SAFETY: poll on one pollfd that lives across the call.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), 1, ms) };
    n == 1 && fds[0].revents & (events | libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0
}

/// Hands the rest of the command's stderr to a `cat` (`/bin/cat`, else `/usr/bin/cat`)
/// that copies it to our stderr: `pending`, what was read and our stderr did not take
/// yet, then what a process the command left behind still writes to the pipe, until it
/// closes it, as it would have written to kubectl's stderr without us (closing our end
/// instead would kill it with SIGPIPE at its next write). Only these rare cases pay for
/// the process; if `cat` cannot be started, the rest is dropped and the pipe closed.
#[allow(clippy::zombie_processes)] // it outlives us on purpose; init reaps it
fn hand_over(stderr: Option<ChildStderr>, pending: Vec<u8>) {
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
        log::debug!("no cat to pass on the rest of the command's stderr");
        return;
    };
    let mut relay = match (&stderr, pending.is_empty()) {
        (Some(_), true) => Command::new(cat),
        (None, false) => Command::new(cat),
        // `pending` first, then the pipe (as descriptor 3).
        (Some(_), false) => {
            let mut sh = Command::new("/bin/sh");
            sh.args(["-c", "\"$0\" && exec \"$0\" <&3", cat]);
            sh
        }
        (None, true) => return,
    };
    let mut feed = None;
    if pending.is_empty() {
        relay.stdin(stderr.map_or(Stdio::null(), Stdio::from));
    } else {
        let Ok((reader, writer)) = io::pipe() else { return };
        relay.stdin(Stdio::from(reader));
        if let Some(stderr) = stderr {
            let fd = stderr.as_raw_fd();
            // SAFETY: only dup2/fcntl, async-signal-safe, between fork and exec; `stderr`
            // lives in the closure, so the descriptor stays open until then.
            unsafe {
                relay.pre_exec(move || {
                    let _ = &stderr;
                    let done = if fd == 3 {
                        libc::fcntl(3, libc::F_SETFD, 0)
                    } else {
                        libc::dup2(fd, 3)
                    };
                    if done < 0 {
                        Err(io::Error::last_os_error())
                    } else {
                        Ok(())
                    }
                });
            }
        }
        feed = Some(writer);
    }
    relay.stdout(Stdio::from(ours)).stderr(Stdio::null());
    if let Err(e) = relay.spawn() {
        log::debug!("cannot start {cat} to pass on the rest of the command's stderr: {e}");
        return;
    }
    if let Some(mut writer) = feed {
        // Never blocking: as much of `pending` as the new pipe holds (all of it, where a
        // pipe holds 64 KiB); then the end closes and the relay goes on to the pipe.
        // SAFETY: fcntl on our own pipe's write end.
        unsafe { libc::fcntl(writer.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK) };
        let _ = writer.write_all(&pending);
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

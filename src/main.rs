//! The `kubecredcache` binary: all behaviour lives in the library (see `cli`).
//!
//! On Linux with glibc the binary is `no_main`: we skip the Rust runtime's start-up,
//! which reads and parses `/proc/self/maps` to place the main thread's stack guard, a
//! sixth of what a cache hit cost (docs/performance.md has the figures). That is sound
//! only there: glibc hands the arguments to std's initialiser in `.init_array`, so
//! `std::env::args_os` still works. musl does not (a `no_main` musl binary sees no
//! arguments at all), and elsewhere (macOS, Windows, the BSDs) a normal `main` is the
//! safe choice too; a static musl binary skips the dynamic loader's work instead.
//!
//! What `no_main` gives up: the stack-overflow message, which a short-lived plugin does
//! not need, and two things we do ourselves: SIGPIPE being ignored (a warning written to
//! a stderr whose reader is gone must not kill the run; std gives the commands we run
//! the default back), and closed standard descriptors reopened on `/dev/null` (else the
//! first file we open, a lock file, would become our stderr and the plugin's). stdout
//! is flushed explicitly, as the runtime no longer does.
#![cfg_attr(all(target_os = "linux", target_env = "gnu"), no_main)]

use std::io::Write;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: std::ffi::c_int, _argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    // SAFETY: setting a signal's disposition before anything else runs.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    open_closed_standard_fds();
    let code = kubecredcache::cli::main();
    let _ = std::io::stdout().flush();
    code
}

/// What std's runtime does at start-up: stdin, stdout or stderr closed by whoever
/// started us is opened on `/dev/null`, so that no file we open takes its number. One
/// `poll` when all three are open.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn open_closed_standard_fds() {
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: poll on three valid pollfds that live across the call; no wait.
    if unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) } < 0 {
        return;
    }
    for _closed in fds.iter().filter(|p| p.revents & libc::POLLNVAL != 0) {
        // It takes the lowest free number, the closed one, the lower ones being open
        // already. No /dev/null (a bare chroot): go on as we would have, where std's
        // runtime would abort. open64, not open: std imports it already, and each
        // symbol imported costs every run a lookup.
        // SAFETY: open(2) with a NUL-terminated path.
        if unsafe { libc::open64(c"/dev/null".as_ptr(), libc::O_RDWR) } < 0 {
            return;
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn main() {
    // The runtime ignores SIGPIPE here already (on Unix).
    let code = kubecredcache::cli::main();
    let _ = std::io::stdout().flush();
    std::process::exit(code);
}

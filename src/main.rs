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
//! not need, and SIGPIPE being ignored, which we do ourselves: a warning written to a
//! stderr whose reader is gone must not kill the run (std gives the commands we run the
//! default back). stdout is flushed explicitly, as the runtime no longer does.
#![cfg_attr(all(target_os = "linux", target_env = "gnu"), no_main)]

use std::io::Write;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: std::ffi::c_int, _argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    // SAFETY: setting a signal's disposition before anything else runs.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let code = kubecredcache::cli::main();
    let _ = std::io::stdout().flush();
    code
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn main() {
    // The runtime ignores SIGPIPE here already (on Unix).
    let code = kubecredcache::cli::main();
    let _ = std::io::stdout().flush();
    std::process::exit(code);
}

//! The `kubecredcache` binary: all behaviour lives in the library (see `cli`).
//!
//! `no_main`: we skip the Rust runtime's start-up, which on Linux reads and parses
//! `/proc/self/maps` to place the main thread's stack guard: a sixth of what a cache hit
//! cost (docs/performance.md has the figures). Arguments still reach
//! `std::env::args_os` (glibc and macOS hand them to std without `lang_start`); what we
//! lose is the stack-overflow message, which a short-lived plugin does not need, and
//! SIGPIPE being ignored, which we do ourselves: a warning written to a stderr whose
//! reader is gone must not kill the run (std gives children the default back). stdout is
//! flushed explicitly, as the runtime no longer does.
#![no_main]

use std::ffi::{c_char, c_int};
use std::io::Write;

#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: c_int, _argv: *const *const c_char) -> c_int {
    // SAFETY: setting a signal's disposition before anything else runs.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let code = kubecredcache::cli::main();
    let _ = std::io::stdout().flush();
    code
}

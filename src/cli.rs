//! The command line. The first argument decides: our own subcommands and options go to
//! `commands` (clap), and anything else is the command to wrap, which goes straight to
//! the engine: a kubectl run must not pay for an argument parser on the cache-hit path.
//!
//! That decision is `invocation::read`, a leaf module that `unsetup` and `doctor` use
//! too.

use std::ffi::OsString;

use crate::invocation::{Invocation, read};
use crate::{commands, engine, logging, messages};

/// Runs kubecredcache with the process's arguments; returns the exit code.
pub fn main() -> i32 {
    logging::init();
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match read(&args) {
        Invocation::Ours => commands::run(args),
        Invocation::Usage(message) => {
            messages::error(&message);
            2
        }
        Invocation::Wrap {
            command,
            force_refresh,
            generic,
        } => engine::run(&command[0], &command[1..], force_refresh, generic),
    }
}

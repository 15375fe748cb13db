//! The command line. The first argument decides: our own subcommands and options go to
//! `commands` (clap), and anything else is the command to wrap, which goes straight to
//! the engine: a kubectl run must not pay for an argument parser on the cache-hit path.

use std::ffi::OsString;

use crate::provider::{self, Provider};
use crate::{commands, engine, generic, logging, messages};

/// Runs kubecredcache with the process's arguments; returns the exit code.
pub fn main() -> i32 {
    logging::init();
    let mut args = std::env::args_os().skip(1);
    let Some(first) = args.next() else {
        return commands::run(Vec::new());
    };
    let rest: Vec<OsString> = args.collect();
    match first.to_str() {
        Some("--") => wrapped(&rest, false, "`--`"),
        Some("--force-refresh") => {
            // `--force-refresh [--] COMMAND ARGS...`
            let rest = rest.strip_prefix(&[OsString::from("--")][..]).unwrap_or(&rest);
            wrapped(rest, true, "--force-refresh")
        }
        Some("--generic") => generic_run(&rest),
        Some(ours) if commands::is_ours(ours) => commands::run(std::iter::once(first).chain(rest).collect()),
        _ => engine::run(&first, &rest, false),
    }
}

/// `COMMAND ARGS...` after one of our options (`after`, for the error message).
fn wrapped(command: &[OsString], force_refresh: bool, after: &str) -> i32 {
    match command.split_first() {
        Some((program, args)) => engine::run(program, args, force_refresh),
        None => {
            messages::error(&format!("nothing to run after {after} (try kubecredcache --help)"));
            2
        }
    }
}

/// `--generic [--key-env NAME]... [--] COMMAND ARGS...`: caching a command no provider knows.
fn generic_run(rest: &[OsString]) -> i32 {
    let (key_env, at) = match generic::parse_options(rest) {
        Ok(parsed) => parsed,
        Err(e) => {
            messages::error(&format!("{e} (see kubecredcache --help)"));
            return 2;
        }
    };
    let (program, args) = (&rest[at], &rest[at + 1..]);
    let provider = generic::Generic {
        program: provider::os_to_string(program),
        key_env,
    };
    let converted: Vec<String> = args.iter().map(|a| provider::os_to_string(a)).collect();
    let parsed = provider::parse(&converted, provider.inputs());
    engine::run_with(&provider, &parsed, program, args, false)
}

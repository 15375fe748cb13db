//! The command line. The first argument decides: our own subcommands and options go to
//! `commands` (clap), and anything else is the command to wrap, which goes straight to
//! the engine: a kubectl run must not pay for an argument parser on the cache-hit path.

use crate::{commands, engine, generic, logging};

/// Runs kubecredcache with the process's arguments; returns the exit code.
pub fn main() -> i32 {
    logging::init();
    let mut args = std::env::args_os().skip(1);
    let Some(first) = args.next() else {
        return commands::run(Vec::new());
    };
    let rest: Vec<std::ffi::OsString> = args.collect();
    match first.to_str() {
        Some("--") => match rest.split_first() {
            Some((program, args)) => engine::run(program, args, false),
            None => {
                eprintln!("kubecredcache: nothing to run after `--` (try kubecredcache --help)");
                2
            }
        },
        Some("--generic") => match generic::parse_options(&rest) {
            Ok((key_env, at)) => {
                let (program, args) = (&rest[at], &rest[at + 1..]);
                let provider = generic::Generic {
                    program: program.to_string_lossy().into_owned(),
                    key_env,
                };
                engine::run_with(&provider, program, args, false)
            }
            Err(e) => {
                eprintln!("kubecredcache: {e} (see kubecredcache --help)");
                2
            }
        },
        Some("--force-refresh") => {
            // `--force-refresh [--] COMMAND ARGS...`
            let rest = rest
                .strip_prefix(&[std::ffi::OsString::from("--")][..])
                .unwrap_or(&rest);
            match rest.split_first() {
                Some((program, args)) => engine::run(program, args, true),
                None => {
                    eprintln!("kubecredcache: nothing to run after --force-refresh (try kubecredcache --help)");
                    2
                }
            }
        }
        Some(ours) if commands::is_ours(ours) => commands::run(std::iter::once(first).chain(rest).collect()),
        _ => engine::run(&first, &rest, false),
    }
}

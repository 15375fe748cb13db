//! The command line. The first argument decides: our own options and subcommands are
//! few and fixed, and anything else is the command to wrap. There is deliberately no
//! argument-parser crate here: a kubectl run must not pay for one on the cache-hit path.

use std::ffi::OsString;

use crate::{engine, logging, provider};

const USAGE: &str = "\
kubecredcache: caches the credentials that kubectl exec plugins print

Usage:
  kubecredcache COMMAND [ARGS...]     run COMMAND (e.g. aws eks get-token ...) through the cache
  kubecredcache -- COMMAND [ARGS...]  the same, for a COMMAND named like one of ours
  kubecredcache list-providers        the authenticators whose tokens are cached
  kubecredcache --help | --version

In a kubeconfig, put `command: kubecredcache` and the old command and its arguments
in `args`. Environment: KUBECREDCACHE_DIR, KUBECREDCACHE_EXPIRY_MARGIN,
KUBECREDCACHE_GC_AGE, KUBECREDCACHE_GC_INTERVAL, KUBECREDCACHE_LOCK_WAIT,
KUBECREDCACHE_DISABLE, KUBECREDCACHE_LOG (see README.md).
";

/// Runs kubecredcache with the process's arguments; returns the exit code.
pub fn main() -> i32 {
    logging::init();
    let mut args = std::env::args_os().skip(1);
    let Some(first) = args.next() else {
        eprint!("{USAGE}");
        return 2;
    };
    let rest: Vec<OsString> = args.collect();
    match first.to_str() {
        Some("--help" | "-h" | "help") => {
            print!("{USAGE}");
            0
        }
        Some("--version" | "-V") => {
            println!("kubecredcache {}", env!("CARGO_PKG_VERSION"));
            0
        }
        Some("list-providers") => list_providers(),
        Some("--") => match rest.split_first() {
            Some((program, args)) => engine::run(program, args),
            None => {
                eprintln!("kubecredcache: nothing to run after `--` (try kubecredcache --help)");
                2
            }
        },
        Some(flag) if flag.starts_with('-') => {
            eprintln!("kubecredcache: unknown option '{flag}' (try kubecredcache --help)");
            2
        }
        _ => engine::run(&first, &rest),
    }
}

fn list_providers() -> i32 {
    let providers = provider::registered();
    let name_width = providers.iter().map(|p| p.name().len()).max().unwrap_or(0);
    let command_width = providers.iter().map(|p| p.command().len()).max().unwrap_or(0);
    for p in providers {
        println!(
            "{:name_width$}  {:command_width$}  {}",
            p.name(),
            p.command(),
            p.description()
        );
    }
    0
}

//! The command line. The first argument decides: our own subcommands and options go to
//! `commands` (clap), and anything else is the command to wrap, which goes straight to
//! the engine: a kubectl run must not pay for an argument parser on the cache-hit path.
//!
//! [`read`] is that decision, in one place: `main` acts on it, `unsetup` uses it to
//! find the command a wrapped kubeconfig entry runs, and `doctor` to say what kubectl's
//! run of such an entry will do.

use std::ffi::{OsStr, OsString};

use crate::provider::{self, Provider};
use crate::{commands, engine, generic, logging, messages};

/// What kubecredcache makes of its arguments (those after the program name).
#[derive(Debug, PartialEq, Eq)]
pub enum Invocation<'a, S> {
    /// One of our subcommands or options, for clap (`setup`, `--help`, nothing at all).
    Ours,
    /// Run a command through the cache.
    Wrap {
        /// The command and its arguments; never empty.
        command: &'a [S],
        /// `--force-refresh`.
        force_refresh: bool,
        /// `--generic`, with its `--key-env` variables.
        generic: Option<Vec<String>>,
    },
    /// A usage error, in one line.
    Usage(String),
}

/// Reads kubecredcache's arguments: `[--] COMMAND ARGS...`, `--force-refresh [--]
/// COMMAND ARGS...`, `--generic [--key-env NAME]... [--] COMMAND ARGS...`, or our own.
pub fn read<S: AsRef<OsStr>>(args: &[S]) -> Invocation<'_, S> {
    let Some(first) = args.first() else {
        return Invocation::Ours;
    };
    let rest = &args[1..];
    match first.as_ref().to_str() {
        Some("--") => wrap(rest, false, "`--`"),
        Some("--force-refresh") => {
            let command = match rest.first() {
                Some(dash) if dash.as_ref() == "--" => &rest[1..],
                _ => rest,
            };
            wrap(command, true, "--force-refresh")
        }
        Some("--generic") => match generic::parse_options(rest) {
            Ok((key_env, at)) => Invocation::Wrap {
                command: &rest[at..],
                force_refresh: false,
                generic: Some(key_env),
            },
            Err(e) => Invocation::Usage(format!("{e} (see kubecredcache --help)")),
        },
        Some(ours) if commands::is_ours(ours) => Invocation::Ours,
        _ => Invocation::Wrap {
            command: args,
            force_refresh: false,
            generic: None,
        },
    }
}

/// `COMMAND ARGS...` after one of our options (`after`, for the error message).
fn wrap<'a, S>(command: &'a [S], force_refresh: bool, after: &str) -> Invocation<'a, S> {
    if command.is_empty() {
        Invocation::Usage(format!("nothing to run after {after} (try kubecredcache --help)"))
    } else {
        Invocation::Wrap {
            command,
            force_refresh,
            generic: None,
        }
    }
}

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
            generic: None,
        } => engine::run(&command[0], &command[1..], force_refresh),
        Invocation::Wrap {
            command,
            generic: Some(key_env),
            ..
        } => generic_run(key_env, command),
    }
}

/// `--generic`: caching a command no provider knows.
fn generic_run(key_env: Vec<String>, command: &[OsString]) -> i32 {
    let (program, args) = (&command[0], &command[1..]);
    let provider = generic::Generic {
        program: provider::os_to_string(program),
        key_env,
    };
    let converted: Vec<String> = args.iter().map(|a| provider::os_to_string(a)).collect();
    let parsed = provider::parse(&converted, provider.inputs());
    engine::run_with(&provider, &parsed, program, args, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrapped(args: &[&str]) -> (Vec<String>, bool, Option<Vec<String>>) {
        match read(args) {
            Invocation::Wrap {
                command,
                force_refresh,
                generic,
            } => (command.iter().map(|s| s.to_string()).collect(), force_refresh, generic),
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn our_options_are_read_off_and_the_command_is_what_remains() {
        let aws = ["aws".to_string(), "eks".into()].to_vec();
        assert_eq!(wrapped(&["aws", "eks"]), (aws.clone(), false, None));
        assert_eq!(wrapped(&["--", "aws", "eks"]), (aws.clone(), false, None));
        assert_eq!(wrapped(&["--force-refresh", "aws", "eks"]), (aws.clone(), true, None));
        assert_eq!(
            wrapped(&["--force-refresh", "--", "aws", "eks"]),
            (aws.clone(), true, None)
        );
        assert_eq!(
            wrapped(&["--generic", "--key-env", "A", "--key-env=B", "--", "aws", "eks"]),
            (aws.clone(), false, Some(vec!["A".into(), "B".into()]))
        );
        assert_eq!(wrapped(&["--generic", "aws", "eks"]), (aws, false, Some(vec![])));
        assert_eq!(
            wrapped(&["--", "status"]).0,
            ["status"],
            "`--` reaches a command named like ours"
        );
    }

    #[test]
    fn our_subcommands_and_bad_usage_are_not_commands() {
        for ours in [&[][..], &["status"], &["setup", "--dry-run"], &["--help"], &["-V"]] {
            assert_eq!(read(ours), Invocation::Ours, "{ours:?}");
        }
        for bad in [
            &["--"][..],
            &["--force-refresh"],
            &["--force-refresh", "--"],
            &["--generic"],
            &["--generic", "--key-env"],
        ] {
            assert!(matches!(read(bad), Invocation::Usage(_)), "{bad:?}");
        }
    }
}

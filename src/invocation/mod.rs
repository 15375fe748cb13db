//! What kubecredcache makes of its arguments: [`read`] decides, in one place, whether
//! they are our own subcommands and options (for `commands`, through clap) or a command
//! to wrap with our options before it (for the engine, with no argument parser on the
//! cache-hit path). `cli::main` acts on it, `unsetup` uses it to find the command a
//! wrapped kubeconfig entry runs, and `doctor` to say what kubectl's run of such an entry
//! will do; `suggest.rs` says which subcommand a command that is not found probably
//! meant. A leaf: it knows no other module of ours.

mod suggest;

use std::ffi::OsStr;

pub use suggest::did_you_mean;

/// Our subcommands, as clap knows them (a test in `commands` holds the two together).
pub const SUBCOMMANDS: &[&str] = &[
    "setup",
    "unsetup",
    "status",
    "doctor",
    "clear",
    "gc",
    "list-providers",
    "completion",
    "man",
];

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

/// Reads kubecredcache's arguments: our options (`--force-refresh`, `--generic`,
/// `--key-env NAME` with `--generic`) in any order, then `[--] COMMAND ARGS...`; or a
/// command straight away; or our own subcommands and options.
pub fn read<S: AsRef<OsStr>>(args: &[S]) -> Invocation<'_, S> {
    let Some(first) = args.first() else {
        return Invocation::Ours;
    };
    match first.as_ref().to_str() {
        Some(arg) if is_wrap_option(arg) => {}
        Some(ours) if is_ours(ours) => return Invocation::Ours,
        _ => {
            return Invocation::Wrap {
                command: args,
                force_refresh: false,
                generic: None,
            };
        }
    }
    match wrap_options(args) {
        Ok((options, at)) => Invocation::Wrap {
            command: &args[at..],
            force_refresh: options.force_refresh,
            generic: options.generic,
        },
        Err(e) => Invocation::Usage(format!("{e} (see kubecredcache --help)")),
    }
}

/// Whether `arg` is one of the options that come before a command to wrap.
fn is_wrap_option(arg: &str) -> bool {
    matches!(arg, "--" | "--force-refresh" | "--generic" | "--key-env") || arg.starts_with("--key-env=")
}

/// The options before a command to wrap.
#[derive(Debug, Default)]
struct WrapOptions {
    force_refresh: bool,
    generic: Option<Vec<String>>,
}

/// Reads our options off the front of `args`, in any order, up to `--` or the first
/// argument that is not one; returns them and where the command starts (never at the
/// end: a usage error says what is missing).
fn wrap_options<S: AsRef<OsStr>>(args: &[S]) -> Result<(WrapOptions, usize), String> {
    let mut options = WrapOptions::default();
    let mut generic = false;
    let mut key_env = Vec::new();
    let mut i = 0;
    while let Some(arg) = args.get(i).and_then(|a| a.as_ref().to_str()) {
        i += 1;
        match arg {
            "--" => break,
            "--force-refresh" => options.force_refresh = true,
            "--generic" => generic = true,
            "--key-env" => {
                let name = args.get(i).and_then(|a| a.as_ref().to_str());
                key_env.push(name.ok_or("--key-env needs a variable name")?.to_string());
                i += 1;
            }
            _ if arg.starts_with("--key-env=") => key_env.push(arg["--key-env=".len()..].to_string()),
            _ if arg.starts_with('-') => {
                return Err(format!(
                    "unknown option '{arg}' before the command (kubecredcache takes --force-refresh, --generic, --key-env NAME, then -- COMMAND)"
                ));
            }
            _ => {
                i -= 1;
                break;
            }
        }
    }
    if !key_env.is_empty() && !generic {
        return Err("--key-env goes with --generic: kubecredcache --generic --key-env NAME -- COMMAND".into());
    }
    if i >= args.len() {
        return Err(
            "nothing to run: kubecredcache [--force-refresh] [--generic [--key-env NAME]...] -- COMMAND [ARGS...]"
                .into(),
        );
    }
    options.generic = generic.then_some(key_env);
    Ok((options, i))
}

/// The names that are ours rather than a command to wrap: the subcommands
/// ([`SUBCOMMANDS`]), `help`, and options. A `matches!` rather than a search of the list: this runs on every cache hit.
pub fn is_ours(first: &str) -> bool {
    matches!(
        first,
        "setup" | "unsetup" | "status" | "doctor" | "clear" | "gc" | "list-providers" | "completion" | "man" | "help"
    ) || first.starts_with('-')
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
        assert_eq!(
            wrapped(&["--generic", "aws", "eks"]),
            (aws.clone(), false, Some(vec![]))
        );
        assert_eq!(
            wrapped(&["--", "status"]).0,
            ["status"],
            "`--` reaches a command named like ours"
        );
    }

    #[test]
    fn our_options_work_in_any_order_and_together() {
        let aws = ["aws".to_string(), "eks".into()].to_vec();
        let both = (aws.clone(), true, Some(vec!["A".to_string()]));
        for args in [
            &["--force-refresh", "--generic", "--key-env", "A", "--", "aws", "eks"][..],
            &["--generic", "--force-refresh", "--key-env=A", "aws", "eks"],
            &["--generic", "--key-env", "A", "--force-refresh", "--", "aws", "eks"],
            &["--key-env", "A", "--generic", "--force-refresh", "aws", "eks"],
        ] {
            assert_eq!(wrapped(args), both, "{args:?}");
        }
        assert_eq!(
            wrapped(&["--force-refresh", "--generic", "aws", "eks"]),
            (aws.clone(), true, Some(vec![]))
        );
        assert_eq!(
            wrapped(&["--generic", "--", "--force-refresh", "x"]).0,
            ["--force-refresh", "x"],
            "after `--`, all is the command"
        );
        assert_eq!(
            wrapped(&["--generic", "aws", "--key-env", "A"]),
            (
                ["aws", "--key-env", "A"].map(String::from).to_vec(),
                false,
                Some(vec![])
            ),
            "the command's own arguments are its own"
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
            &["--generic", "--key-env", "A", "--"],
            &["--key-env", "A", "--", "aws"],
            &["--force-refresh", "--bogus", "aws"],
            &["--generic", "--bogus", "aws"],
            &["--force-refresh", "--generic"],
        ] {
            assert!(matches!(read(bad), Invocation::Usage(_)), "{bad:?}");
        }
    }
}

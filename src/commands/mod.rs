//! kubecredcache's own subcommands (`setup`, `status`, `clear`, ...), parsed with clap.
//! A wrapped run (`kubecredcache aws ...`) never comes here: `cli` sends only arguments
//! that start with one of our names or options, so the cache-hit path does not pay for
//! clap. Exit codes: 0 done, 1 failed, 2 usage error. Errors are one line on stderr.

mod clear;
mod completion;
mod doctor;
mod gc;
mod list_providers;
mod man;
mod out;
mod setup;
mod status;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::cache::CacheDir;
pub use crate::invocation::{SUBCOMMANDS, did_you_mean};
use crate::kubeconfig::Direction::{Unwrap, Wrap};
use crate::messages;
use out::Out;

#[derive(Parser)]
#[command(
    name = "kubecredcache",
    version,
    arg_required_else_help = true,
    about = "Caches the credentials that kubectl exec plugins print",
    override_usage = "kubecredcache COMMAND [ARGS...]     run COMMAND (e.g. aws eks get-token ...) through the cache\n       \
                      kubecredcache -- COMMAND [ARGS...]  the same, for a COMMAND named like one of ours\n       \
                      kubecredcache --generic [--key-env NAME]... -- COMMAND [ARGS...]\n       \
                      kubecredcache --force-refresh [--] COMMAND [ARGS...]   fetch afresh, ignoring the cache\n       \
                      kubecredcache <SUBCOMMAND>"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make kubeconfig exec users run through kubecredcache
    Setup(KubeconfigArgs),
    /// Undo `setup`: exec users run their command directly again
    Unsetup(KubeconfigArgs),
    /// Show what is cached (never a token)
    Status {
        /// Print JSON for scripts instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Say whether kubectl's runs for a context are served through the cache, and why not
    Doctor {
        /// The kubeconfig to read [default: each file in KUBECONFIG, else ~/.kube/config]
        #[arg(long, value_name = "PATH")]
        kubeconfig: Option<PathBuf>,
        /// The context to examine [default: the current context]
        #[arg(long, value_name = "NAME")]
        context: Option<String>,
        /// Print JSON for scripts instead of sentences
        #[arg(long)]
        json: bool,
    },
    /// Delete cached credentials
    Clear {
        /// Delete everything cached for this cluster
        #[arg(long, value_name = "NAME", conflicts_with = "all")]
        cluster: Option<String>,
        /// Delete everything cached
        #[arg(long)]
        all: bool,
    },
    /// Run garbage collection now and show what it removed
    Gc,
    /// List the authenticators whose tokens are cached
    ListProviders {
        /// Print JSON for scripts
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script (`source <(kubecredcache completion bash)`)
    Completion {
        #[arg(value_enum)]
        shell: completion::Shell,
    },
    /// Print the manual page as roff (`kubecredcache man | man -l -`)
    Man,
}

#[derive(Args)]
struct KubeconfigArgs {
    /// The kubeconfig to edit [default: each file in KUBECONFIG, else ~/.kube/config]
    #[arg(long, value_name = "PATH")]
    kubeconfig: Option<PathBuf>,
    /// Only this user (repeat for more) [default: every exec user]
    #[arg(long = "user", value_name = "NAME")]
    users: Vec<String>,
    /// Print the change as a unified diff and write nothing
    #[arg(long)]
    dry_run: bool,
}

/// Parses and runs a subcommand; `args` are the process's arguments after the program name.
pub fn run(args: Vec<OsString>) -> i32 {
    let mut out = Out::new();
    let subcommand = args
        .first()
        .and_then(|a| a.to_str())
        .filter(|a| SUBCOMMANDS.contains(a))
        .map(String::from);
    let parsed = Cli::command()
        // How to use it in a kubeconfig, and every variable of `settings::ALL`.
        .after_help(format!(
            "In a kubeconfig, put `command: kubecredcache` and the old command and its arguments in `args`,\n\
             or let `kubecredcache setup` do it.\n\n{}",
            crate::settings::help_text()
        ))
        .try_get_matches_from(std::iter::once(OsString::from("kubecredcache")).chain(args))
        .and_then(|matches| Cli::from_arg_matches(&matches));
    let cli = match parsed {
        Ok(cli) => cli,
        // --help and --version come here too, as "errors" that print to stdout; so does
        // the help shown for no arguments at all, which goes to stderr.
        Err(e) if !e.use_stderr() => {
            write!(out, "{e}");
            return out.finish(0);
        }
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = std::io::Write::write_fmt(&mut std::io::stderr(), format_args!("{e}"));
            return 2;
        }
        Err(e) => return usage_error(&e, subcommand),
    };
    let code = match cli.command {
        Command::Setup(a) => setup::run(&mut out, a.kubeconfig.as_deref(), &a.users, a.dry_run, Wrap),
        Command::Unsetup(a) => setup::run(&mut out, a.kubeconfig.as_deref(), &a.users, a.dry_run, Unwrap),
        Command::Status { json } => status::run(&mut out, json),
        Command::Doctor {
            kubeconfig,
            context,
            json,
        } => doctor::run(&mut out, kubeconfig.as_deref(), context.as_deref(), json),
        Command::Clear {
            cluster: None,
            all: false,
        } => {
            messages::error("clear needs --cluster NAME or --all (see kubecredcache clear --help)");
            2
        }
        Command::Clear { cluster, all } => clear::run(&mut out, cluster.as_deref(), all),
        Command::Gc => gc::run(&mut out),
        Command::ListProviders { json } => list_providers::run(&mut out, json),
        Command::Completion { shell } => completion::run(&mut out, shell, Cli::command()),
        Command::Man => man::run(&mut out, Cli::command()),
    };
    out.finish(code)
}

/// clap's message in one line (its first paragraph), its suggestion if it has one
/// (`--jsn`: did you mean '--json'?), and where to look next.
fn usage_error(e: &clap::Error, subcommand: Option<String>) -> i32 {
    use clap::error::{ContextKind, ContextValue};
    let text = e.to_string();
    let first: Vec<&str> = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let message = first.join(" ");
    let suggested = [
        ContextKind::SuggestedArg,
        ContextKind::SuggestedSubcommand,
        ContextKind::SuggestedValue,
    ]
    .into_iter()
    .find_map(|kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(format!("'{s}'")),
        Some(ContextValue::Strings(v)) if !v.is_empty() => {
            Some(v.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(" or "))
        }
        _ => None,
    });
    // `kubecredcache help stauts`: clap suggests nothing there; we do as for `stauts`.
    let suggested = suggested.or_else(|| match e.get(ContextKind::InvalidSubcommand) {
        Some(ContextValue::String(s)) => did_you_mean(s).map(|sub| format!("'{sub}'")),
        _ => None,
    });
    let suggestion = suggested.map_or(String::new(), |s| format!("; did you mean {s}?"));
    let help = subcommand.map_or("kubecredcache --help".into(), |sub| {
        format!("kubecredcache {sub} --help")
    });
    messages::error(&format!(
        "{}{suggestion} (see {help})",
        message.strip_prefix("error: ").unwrap_or(&message)
    ));
    2
}

/// The cache directory for commands that work on it, or a one-line error: also when it
/// may not be trusted (not ours, or writable by others), since nothing in it is then
/// ours to list or remove.
fn open_cache() -> Result<CacheDir, String> {
    let cache = crate::settings::cache_dir_path_in(&crate::provider::ProcessEnv).map(CacheDir::new)?;
    cache.check().map_err(|why| why.to_string())?;
    Ok(cache)
}

/// Prints a one-line error and returns exit code 1.
fn fail(message: &str) -> i32 {
    messages::error(message);
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subcommand_list_is_claps_and_each_is_ours() {
        let clap: Vec<String> = Cli::command()
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .collect();
        assert_eq!(
            clap, SUBCOMMANDS,
            "invocation/mod.rs: SUBCOMMANDS and the clap enum differ"
        );
        for sub in SUBCOMMANDS {
            assert!(crate::invocation::is_ours(sub), "{sub} would be wrapped, not run");
        }
        assert!(!crate::invocation::is_ours("aws") && !crate::invocation::is_ours("stauts"));
    }
}

//! Launcher `op [GLOBAL FLAGS] plugin run -- COMMAND ARGS...` (1Password CLI shell
//! plugins): runs COMMAND with the credentials of the 1Password item its plugin
//! configuration names for that program.
//!
//! The op CLI is closed source (1Password/shell-plugins holds the plugins, not the
//! CLI): what is declared here comes from its documentation (`op --help`, the shell
//! plugins guide), not from its code. Keyed: the account (`--account`/`OP_ACCOUNT`),
//! the config directory (`--config`/`OP_CONFIG_DIR`), the session token (`--session`,
//! as a digest) and a service account token (`OP_SERVICE_ACCOUNT_TOKEN`, as a digest).
//! Its config directory (`~/.config/op`, with `plugins/`, where `op plugin init` writes
//! which item each plugin uses; or `~/.op`) is the credential source: another item
//! chosen fetches afresh. Unlocking may ask for a password or a fingerprint: never
//! refreshed in the background. The session variables `OP_SESSION_<account>` have
//! names that cannot be declared: a signed-in session changes no item, so they are
//! left out.
//!
//! Which item a plugin uses is chosen per terminal session, else per directory (the
//! working directory or the nearest parent with `.op/plugins/<plugin>.json`), else
//! globally (the shell plugins guide: "Prompt me for each new terminal session", "Use
//! automatically when in this directory or subdirectories", "Use as global default").
//! So the working directory and the terminal session (the Unix session, one per
//! terminal window or tab) are keyed too, and the `.op/plugins` directories of the
//! working directory and its parents are credential sources: `cd` into a project with
//! other credentials, or another terminal, fetches afresh.

use std::path::PathBuf;

use crate::provider::{Env, Expand, Flag, Identity, Inputs, Launcher, ParsedArgs, Syntax, Var, expand_path};

pub struct OnePassword;

inventory::submit! { &OnePassword as &dyn Launcher }

static INPUTS: Inputs = Inputs {
    programs: &["op"],
    syntax: Syntax::Pflag,
    flags: &[
        Flag::value("account", &["--account"]).env(&["OP_ACCOUNT"]).shown(),
        Flag::value("config", &["--config"])
            .env(&["OP_CONFIG_DIR"])
            .path(Expand::AsGiven),
        Flag::value("session", &["--session"]),
        Flag::switch("cache", &["--cache"]),
        Flag::switch("debug", &["--debug"]).cosmetic("logging only"),
        Flag::switch("no-color", &["--no-color"]).cosmetic("how it prints"),
        Flag::value("encoding", &["--encoding"]).cosmetic("how it prints"),
        Flag::value("format", &["--format"]).cosmetic("how it prints"),
        Flag::switch("iso-timestamps", &["--iso-timestamps"]).cosmetic("how it prints"),
    ],
    vars: &[&[
        Var::keyed("service-account-token", &["OP_SERVICE_ACCOUNT_TOKEN"]),
        Var::keyed("connect-token", &["OP_CONNECT_TOKEN"]),
        Var::keyed("connect-host", &["OP_CONNECT_HOST"]).shown(),
    ]],
};

impl Launcher for OnePassword {
    fn name(&self) -> &'static str {
        "op"
    }

    fn command(&self) -> &'static str {
        "op plugin run -- COMMAND ..."
    }

    fn description(&self) -> &'static str {
        "credentials from a 1Password item (op shell plugins) for the command it runs"
    }

    fn inputs(&self) -> &'static Inputs {
        &INPUTS
    }

    fn split(&self, args: &[String]) -> Option<usize> {
        crate::provider::after_double_dash(args)
    }

    fn recognises(&self, own: &ParsedArgs) -> bool {
        own.positionals == ["plugin", "run"]
    }

    /// Its flags and variables, the working directory and the terminal session: each
    /// may choose another item. Without a working directory it cannot be told.
    fn identity(&self, own: &ParsedArgs, env: &dyn Env) -> Result<Identity, String> {
        let cwd = std::env::current_dir().map_err(|e| format!("op plugin run without a working directory: {e}"))?;
        let id = Identity::declared("", own, env)?.with_shown(
            "working-directory",
            Some(crate::provider::os_to_string(cwd.as_os_str())),
        );
        Ok(id.with_shown("terminal-session", terminal_session()))
    }

    /// The config directory: `--config`, else `OP_CONFIG_DIR`, else `~/.config/op` (and
    /// the older `~/.op`); and the directory defaults, `.op/plugins` in the working
    /// directory and each of its parents.
    fn credential_sources(&self, own: &ParsedArgs, env: &dyn Env) -> Vec<PathBuf> {
        let mut sources: Vec<PathBuf> = match own.value("config", env) {
            Some(dir) => expand_path(&dir, Expand::AsGiven, env).ok().into_iter().collect(),
            None => crate::provider::home_dir(env)
                .map(|home| {
                    let config = home.join(".config").join("op");
                    vec![config.join("plugins"), config, home.join(".op")]
                })
                .unwrap_or_default(),
        };
        if let Ok(cwd) = std::env::current_dir() {
            for dir in cwd.ancestors() {
                let plugins = dir.join(".op").join("plugins");
                if !sources.contains(&plugins) {
                    sources.push(plugins);
                }
            }
        }
        sources
    }

    fn may_prompt(&self, _own: &ParsedArgs, _env: &dyn Env) -> bool {
        true
    }
}

/// The Unix session kubecredcache runs in (its id): one per terminal window or tab, whose
/// shell leads it.
fn terminal_session() -> Option<String> {
    // On Linux through syscall(2), already imported: `getsid` as one more imported
    // symbol would cost every run, of any provider, its binding by the dynamic loader.
    #[cfg(target_os = "linux")]
    {
        // SAFETY: getsid has no preconditions; 0 is this process.
        let sid = unsafe { libc::syscall(libc::SYS_getsid, 0) };
        (sid >= 0).then(|| sid.to_string())
    }
    #[cfg(all(unix, not(target_os = "linux")))]
    {
        // SAFETY: getsid has no preconditions; 0 is this process.
        let sid = unsafe { libc::getsid(0) };
        (sid >= 0).then(|| sid.to_string())
    }
    #[cfg(not(unix))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::contract::{self, Invocation};

    #[test]
    fn passes_the_contract() {
        contract::check_launcher(
            &OnePassword,
            &Invocation {
                program: "op",
                words: &["plugin", "run"],
                operands: &[],
                flags: &[("--account", "my.1password.com"), ("--debug", "")],
                env: &[("OP_SERVICE_ACCOUNT_TOKEN", "ops_secret")],
            },
            &["aws", "eks", "get-token", "--cluster-name", "c1"],
            &[("op", &["plugin", "init"]), ("op", &["run"])],
        );
    }
}

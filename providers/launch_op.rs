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

use std::path::PathBuf;

use crate::provider::{Env, Expand, Flag, Inputs, Launcher, ParsedArgs, Syntax, Var, expand_path};

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

    /// The config directory: `--config`, else `OP_CONFIG_DIR`, else `~/.config/op` (and
    /// the older `~/.op`).
    fn credential_sources(&self, own: &ParsedArgs, env: &dyn Env) -> Vec<PathBuf> {
        if let Some(dir) = own.value("config", env) {
            return expand_path(&dir, Expand::AsGiven, env).ok().into_iter().collect();
        }
        let Some(home) = crate::provider::home_dir(env) else {
            return Vec::new();
        };
        let config = home.join(".config").join("op");
        vec![config.join("plugins"), config, home.join(".op")]
    }

    fn may_prompt(&self, _own: &ParsedArgs, _env: &dyn Env) -> bool {
        true
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

//! Launcher `aws-sso [GLOBAL FLAGS] exec [--profile P | --arn A | --account N --role R]
//! [FLAGS] -- COMMAND ARGS...` (synfinatic/aws-sso-cli): runs COMMAND with role
//! credentials from an AWS IAM Identity Center sign-in.
//!
//! What decides them, checked against its source (cmd/aws-sso/main.go,
//! cmd/aws-sso/exec_cmd.go, internal/config, internal/storage): the role (`--profile`,
//! `--arn` or `--account` with `--role`, each but the profile with its `AWS_SSO_*`
//! variable), the SSO instance (`--sso`/`AWS_SSO`), the config file
//! (`--config`/`AWS_SSO_CONFIG`), `--no-region`, `--sts-refresh`. Its parser is kong;
//! the command's arguments pass through, and only the form with `--` is recognised. Its
//! config directory (`~/.aws-sso`, else `$XDG_CONFIG_HOME/aws-sso`, else
//! `~/.config/aws-sso`: config, cache and its file store of credentials) is the
//! credential source. An expired sign-in opens a browser: never refreshed in the
//! background. It hands over credentials with at least a minute left
//! (`RoleCredentials.Expired`): a token is served no longer, which with the default
//! 60-second expiry margin means not at all (runs that start together still share one
//! fetch). Its credentials' real expiry is in its store, which may be the keyring.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::provider::{Env, Expand, Flag, Identity, Inputs, Launcher, ParsedArgs, Syntax, Var, expand_path};

pub struct AwsSso;

inventory::submit! { &AwsSso as &dyn Launcher }

static INPUTS: Inputs = Inputs {
    programs: &["aws-sso"],
    syntax: Syntax::Pflag,
    flags: &[
        Flag::value("arn", &["--arn", "-a"]).env(&["AWS_SSO_ROLE_ARN"]).shown(),
        Flag::value("account", &["--account", "-A"])
            .env(&["AWS_SSO_ACCOUNT_ID"])
            .shown(),
        Flag::value("role", &["--role", "-R"])
            .env(&["AWS_SSO_ROLE_NAME"])
            .shown(),
        Flag::value("profile", &["--profile", "-p"]).shown(),
        Flag::switch("no-region", &["--no-region", "-n"]),
        Flag::switch("sts-refresh", &["--sts-refresh"]),
        Flag::switch("overwrite-env", &["--overwrite-env", "-O"]),
        Flag::value("sso", &["--sso", "-S"]).env(&["AWS_SSO"]).shown(),
        // internal/config: `~` expanded by fileutils.GetHomePath.
        Flag::value("config", &["--config"])
            .env(&["AWS_SSO_CONFIG"])
            .path(Expand::GoTilde),
        Flag::value("browser", &["--browser", "-b"])
            .env(&["AWS_SSO_BROWSER"])
            .cosmetic("where a sign-in page opens"),
        Flag::value("level", &["--level", "-L"]).cosmetic("logging only"),
        Flag::switch("lines", &["--lines"]).cosmetic("logging only"),
    ],
    // internal/config: `$XDG_CONFIG_HOME/aws-sso`, then `~` expanded.
    vars: &[&[Var::keyed("xdg-config-home", &["XDG_CONFIG_HOME"]).path(Expand::GoTilde)]],
};

impl Launcher for AwsSso {
    fn name(&self) -> &'static str {
        "aws-sso"
    }

    fn command(&self) -> &'static str {
        "aws-sso exec --profile P -- COMMAND ..."
    }

    fn description(&self) -> &'static str {
        "AWS credentials from an IAM Identity Center sign-in (aws-sso-cli) for the command it runs"
    }

    fn inputs(&self) -> &'static Inputs {
        &INPUTS
    }

    fn split(&self, args: &[String]) -> Option<usize> {
        crate::provider::after_double_dash(args)
    }

    fn recognises(&self, own: &ParsedArgs) -> bool {
        own.positionals == ["exec"]
    }

    fn identity(&self, own: &ParsedArgs, env: &dyn Env) -> Result<Identity, String> {
        Identity::declared("", own, env)
    }

    /// Its config directory, as internal/config finds it, and the config file given.
    fn credential_sources(&self, own: &ParsedArgs, env: &dyn Env) -> Vec<PathBuf> {
        let home = crate::provider::home_dir(env);
        let old = home.as_ref().map(|h| h.join(".aws-sso"));
        let dir = match (&old, env.var("XDG_CONFIG_HOME")) {
            (Some(old), _) if old.is_dir() => Some(old.clone()),
            (_, Some(xdg)) => expand_path(&format!("{xdg}/aws-sso"), Expand::GoTilde, env).ok(),
            _ => home.map(|h| h.join(".config").join("aws-sso")),
        };
        let mut sources: Vec<PathBuf> = dir.into_iter().collect();
        if let Some(config) = own.value("config", env) {
            sources.extend(expand_path(&config, Expand::GoTilde, env).ok());
        }
        sources
    }

    fn may_prompt(&self, _own: &ParsedArgs, _env: &dyn Env) -> bool {
        true
    }

    fn expiry_bound(&self, _own: &ParsedArgs, _env: &dyn Env) -> Option<DateTime<Utc>> {
        Some(Utc::now() + chrono::Duration::minutes(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::contract::{self, Invocation};

    #[test]
    fn passes_the_contract() {
        contract::check_launcher(
            &AwsSso,
            &Invocation {
                program: "aws-sso",
                words: &["exec"],
                operands: &[],
                flags: &[("--profile", "prod"), ("-S", "corp"), ("--level", "debug")],
                env: &[("AWS_SSO_ROLE_NAME", "admin")],
            },
            &["aws", "eks", "get-token", "--cluster-name", "c1"],
            &[("aws-sso", &["login"]), ("aws-sso", &["console"])],
        );
    }
}

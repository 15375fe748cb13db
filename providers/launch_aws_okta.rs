//! Launcher `aws-okta [GLOBAL FLAGS] exec PROFILE [FLAGS] -- COMMAND ARGS...`
//! (segmentio/aws-okta, archived): runs COMMAND with AWS credentials for PROFILE from an
//! Okta sign-in, kept in its key store, having removed the user's credential and
//! profile variables and set `AWS_OKTA_PROFILE` (cmd/exec.go).
//!
//! What decides them, checked against its source (cmd/root.go, cmd/exec.go,
//! lib/config.go, lib/keyring.go, lib/provider.go): the profile and `~/.aws/config`
//! (or `AWS_CONFIG_FILE`), the exec flags `--session-ttl`, `--assume-role-ttl`,
//! `--assume-role-arn` (each with its variable), the MFA flags and the key store
//! (`--backend`, its file store `~/.aws-okta/`). Its parser is cobra's pflag; only the
//! form with `--` is recognised (aws-okta itself requires it). It may ask for an MFA
//! code or push: never refreshed in the background. It hands over a session with at
//! least 5 minutes left (lib/provider.go's expiry window): a token is served no longer.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::provider::{Env, EnvChange, Expand, Flag, Identity, Inputs, Launcher, ParsedArgs, Syntax, Var, expand_path};

pub struct AwsOkta;

inventory::submit! { &AwsOkta as &dyn Launcher }

static INPUTS: Inputs = Inputs {
    programs: &["aws-okta"],
    syntax: Syntax::Pflag,
    flags: &[
        Flag::value("session-ttl", &["--session-ttl", "-t"])
            .env(&["AWS_SESSION_TTL"])
            .shown(),
        Flag::value("assume-role-ttl", &["--assume-role-ttl", "-a"])
            .env(&["AWS_ASSUME_ROLE_TTL"])
            .shown(),
        Flag::value("assume-role-arn", &["--assume-role-arn", "-r"])
            .env(&["AWS_ASSUME_ROLE_ARN"])
            .shown(),
        Flag::value("mfa-provider", &["--mfa-provider"])
            .env(&["AWS_OKTA_MFA_PROVIDER"])
            .shown(),
        Flag::value("mfa-factor-type", &["--mfa-factor-type"])
            .env(&["AWS_OKTA_MFA_FACTOR_TYPE"])
            .shown(),
        Flag::value("mfa-duo-device", &["--mfa-duo-device"])
            .env(&["AWS_OKTA_MFA_DUO_DEVICE"])
            .shown(),
        Flag::value("backend", &["--backend", "-b"])
            .env(&["AWS_OKTA_BACKEND"])
            .shown(),
        Flag::switch("session-cache-single-item", &["--session-cache-single-item"]),
        Flag::switch("debug", &["--debug", "-d"]).cosmetic("logging only"),
    ],
    vars: &[&[
        // lib/config.go: opened as given.
        Var::keyed("aws-config-file", &["AWS_CONFIG_FILE"]).path(Expand::AsGiven),
        Var::keyed(
            "session-cache-single-item-variable",
            &["AWS_OKTA_SESSION_CACHE_SINGLE_ITEM"],
        )
        .shown(),
    ]],
};

impl Launcher for AwsOkta {
    fn name(&self) -> &'static str {
        "aws-okta"
    }

    fn command(&self) -> &'static str {
        "aws-okta exec PROFILE -- COMMAND ..."
    }

    fn description(&self) -> &'static str {
        "AWS credentials from an Okta sign-in (segmentio/aws-okta) for the command it runs"
    }

    fn inputs(&self) -> &'static Inputs {
        &INPUTS
    }

    fn split(&self, args: &[String]) -> Option<usize> {
        crate::provider::after_double_dash(args)
    }

    fn recognises(&self, own: &ParsedArgs) -> bool {
        matches!(own.positionals.as_slice(), [exec, profile] if exec == "exec" && !profile.is_empty())
    }

    fn identity(&self, own: &ParsedArgs, env: &dyn Env) -> Result<Identity, String> {
        Ok(Identity::declared("", own, env)?.with_shown("profile", own.positionals.get(1).cloned()))
    }

    fn launched_env(&self, own: &ParsedArgs, _env: &dyn Env) -> EnvChange {
        let removed = [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_CREDENTIAL_FILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_PROFILE",
        ];
        let mut changes: Vec<(String, Option<String>)> = removed.iter().map(|n| (n.to_string(), None)).collect();
        changes.push(("AWS_OKTA_PROFILE".into(), own.positionals.get(1).cloned()));
        EnvChange { clear: false, changes }
    }

    /// The AWS config file (its profiles and Okta settings) and the file key store.
    fn credential_sources(&self, _own: &ParsedArgs, env: &dyn Env) -> Vec<PathBuf> {
        let home = crate::provider::home_dir(env);
        let mut sources: Vec<PathBuf> = match env.var("AWS_CONFIG_FILE").filter(|v| !v.is_empty()) {
            Some(file) => expand_path(&file, Expand::AsGiven, env).ok().into_iter().collect(),
            None => home.iter().map(|h| h.join(".aws").join("config")).collect(),
        };
        sources.extend(home.map(|h| h.join(".aws-okta")));
        sources
    }

    fn may_prompt(&self, _own: &ParsedArgs, _env: &dyn Env) -> bool {
        true
    }

    fn expiry_bound(&self, _own: &ParsedArgs, _env: &dyn Env) -> Option<DateTime<Utc>> {
        Some(Utc::now() + chrono::Duration::minutes(5))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::contract::{self, Invocation};

    #[test]
    fn passes_the_contract() {
        contract::check_launcher(
            &AwsOkta,
            &Invocation {
                program: "aws-okta",
                words: &["exec"],
                operands: &["prod"],
                flags: &[("--assume-role-ttl", "1h"), ("--debug", "")],
                env: &[("AWS_OKTA_BACKEND", "file")],
            },
            &["aws", "eks", "get-token", "--cluster-name", "c1"],
            &[("aws-okta", &["login", "prod"])],
        );
    }

    #[test]
    fn only_the_exec_form_with_its_command_after_double_dash_is_recognised() {
        let found = |line: &[&str]| {
            let args: Vec<String> = line.iter().map(|s| s.to_string()).collect();
            crate::provider::recognise(std::ffi::OsStr::new("aws-okta"), &args).map(|r| r.provider.name())
        };
        assert_eq!(
            found(&["exec", "prod", "--", "aws-iam-authenticator", "token", "-i", "c1"]),
            Some("aws-okta")
        );
        assert_eq!(
            found(&["exec", "prod", "aws-iam-authenticator", "token", "-i", "c1"]),
            None
        );
        assert_eq!(
            found(&["login", "prod", "--", "aws-iam-authenticator", "token", "-i", "c1"]),
            None
        );
    }
}

//! Launcher `saml2aws [GLOBAL FLAGS] exec [--exec-profile P] [FLAGS] -- COMMAND ARGS...`
//! (Versent/saml2aws): runs COMMAND with the AWS credentials `saml2aws login` saved in
//! the shared credentials file for the IdP account's profile, or, with
//! `--exec-profile`, credentials of that profile assumed with them
//! (cmd/saml2aws/commands/exec.go).
//!
//! What decides them, checked against its source (cmd/saml2aws/main.go, pkg/cfg,
//! pkg/awsconfig): the IdP account (`--idp-account`/`-a`, its settings in
//! `~/.saml2aws` or `--config`), `--profile`, `--exec-profile`, `--credentials-file`,
//! `--role`, `--region` and the other login flags, each with its `SAML2AWS_*`
//! variable; not `--password` and `--mfa-token`, which prove the sign-in and do not
//! choose whose credentials (a digest of either is undone by guessing). Its parser is
//! kingpin (read as [`Syntax::Click`]): only the form with `--` is recognised. When the
//! saved credentials no longer pass its check it signs in again, which may prompt:
//! never refreshed in the background. It refuses to run once the saved credentials
//! have expired, so a token served until its own expiry is no worse than the bare
//! command then; `saml2aws login` rewrites the credentials file, a credential source,
//! and the next run fetches afresh.

use std::path::PathBuf;

use crate::provider::{Env, Expand, Flag, Inputs, Launcher, ParsedArgs, Syntax, Var, expand_path};

pub struct Saml2aws;

inventory::submit! { &Saml2aws as &dyn Launcher }

/// `~/.saml2aws` and `--config`: mitchellh/go-homedir's `Expand`, a leading `~`.
const CONFIG_PATHS: Expand = Expand::GoTilde;

const PROVES_NOT_CHOOSES: &str = "proves the sign-in; the account and user choose whose credentials";

static INPUTS: Inputs = Inputs {
    programs: &["saml2aws"],
    syntax: Syntax::Click,
    flags: &[
        Flag::value("config", &["--config"])
            .env(&["SAML2AWS_CONFIGFILE"])
            .path(CONFIG_PATHS),
        Flag::value("idp-account", &["--idp-account", "-a"])
            .env(&["SAML2AWS_IDP_ACCOUNT"])
            .shown(),
        Flag::value("idp-provider", &["--idp-provider"])
            .env(&["SAML2AWS_IDP_PROVIDER"])
            .shown(),
        Flag::value("provider", &["--provider", "-i"]).shown(),
        Flag::value("browser-type", &["--browser-type"])
            .env(&["SAML2AWS_BROWSER_TYPE"])
            .shown(),
        Flag::value("browser-executable-path", &["--browser-executable-path"])
            .env(&["SAML2AWS_BROWSER_EXECUTABLE_PATH"])
            .path(Expand::AsGiven),
        Flag::switch("browser-autofill", &["--browser-autofill"]),
        Flag::value("mfa", &["--mfa"]).env(&["SAML2AWS_MFA"]).shown(),
        Flag::switch("skip-verify", &["--skip-verify", "-s"]),
        // Not shown: a URL may carry a user and password.
        Flag::value("url", &["--url"]).env(&["SAML2AWS_URL"]),
        Flag::value("username", &["--username"])
            .env(&["SAML2AWS_USERNAME"])
            .shown(),
        // They prove the sign-in of the user the IdP account and `--username` name: not
        // keyed at all (a digest of a password or a 6-digit code is undone by guessing).
        Flag::value("password", &["--password"])
            .env(&["SAML2AWS_PASSWORD"])
            .cosmetic(PROVES_NOT_CHOOSES),
        Flag::value("mfa-token", &["--mfa-token"])
            .env(&["SAML2AWS_MFA_TOKEN"])
            .cosmetic(PROVES_NOT_CHOOSES),
        Flag::value("role", &["--role"]).env(&["SAML2AWS_ROLE"]).shown(),
        Flag::value("policyfile", &["--policyfile"])
            .env(&["SAML2AWS_POLICY_FILE"])
            .path(Expand::AsGiven),
        Flag::value("policyarns", &["--policyarns"])
            .env(&["SAML2AWS_POLICY_ARNS"])
            .shown(),
        Flag::value("aws-urn", &["--aws-urn"])
            .env(&["SAML2AWS_AWS_URN"])
            .shown(),
        Flag::switch("skip-prompt", &["--skip-prompt"]),
        Flag::value("session-duration", &["--session-duration"])
            .env(&["SAML2AWS_SESSION_DURATION"])
            .shown(),
        Flag::switch("disable-keychain", &["--disable-keychain"]),
        Flag::value("region", &["--region", "-r"])
            .env(&["SAML2AWS_REGION"])
            .shown(),
        Flag::value("prompter", &["--prompter"]).shown(),
        Flag::value("kc-broker", &["--kc-broker"]).shown(),
        Flag::value("profile", &["--profile", "-p"])
            .env(&["SAML2AWS_PROFILE"])
            .shown(),
        Flag::value("exec-profile", &["--exec-profile"])
            .env(&["SAML2AWS_EXEC_PROFILE"])
            .shown(),
        Flag::value("credentials-file", &["--credentials-file"])
            .env(&["SAML2AWS_CREDENTIALS_FILE"])
            .path(Expand::AsGiven),
        Flag::switch("verbose", &["--verbose"]).cosmetic("logging only"),
        Flag::switch("quiet", &["--quiet"]).cosmetic("logging only"),
    ],
    vars: &[&[
        // The switches' variables (kingpin reads them as booleans): keyed as given.
        Var::keyed("browser-autofill-variable", &["SAML2AWS_BROWSER_AUTOFILL"]).shown(),
        Var::keyed("skip-verify-variable", &["SAML2AWS_SKIP_VERIFY"]).shown(),
        Var::keyed("disable-keychain-variable", &["SAML2AWS_DISABLE_KEYCHAIN"]).shown(),
        // pkg/awsconfig: the credentials file when none is given, opened as given.
        Var::keyed("aws-shared-credentials-file", &["AWS_SHARED_CREDENTIALS_FILE"]).path(Expand::AsGiven),
        // `--exec-profile` assumes a role of ~/.aws/config.
        Var::keyed("aws-config-file", &["AWS_CONFIG_FILE"]).path(Expand::AsGiven),
    ]],
};

impl Launcher for Saml2aws {
    fn name(&self) -> &'static str {
        "saml2aws"
    }

    fn command(&self) -> &'static str {
        "saml2aws exec [--exec-profile P] -- COMMAND ..."
    }

    fn description(&self) -> &'static str {
        "AWS credentials from a SAML sign-in (saml2aws) for the command it runs"
    }

    fn inputs(&self) -> &'static Inputs {
        &INPUTS
    }

    fn split(&self, args: &[String]) -> Option<usize> {
        crate::provider::after_double_dash(args)
    }

    fn recognises(&self, own: &ParsedArgs) -> bool {
        own.positionals == ["exec"] && !crate::provider::kingpin_reads_an_arguments_file(own.raw)
    }

    /// Its configuration of IdP accounts, the credentials file `saml2aws login` writes
    /// and, for `--exec-profile`, the AWS config file.
    fn credential_sources(&self, own: &ParsedArgs, env: &dyn Env) -> Vec<PathBuf> {
        let path = |value: &str, how| expand_path(value, how, env).ok().filter(|p| !p.as_os_str().is_empty());
        let home = crate::provider::home_dir(env);
        let mut sources = Vec::new();
        sources.extend(path(
            &own.value("config", env).unwrap_or_else(|| "~/.saml2aws".into()),
            CONFIG_PATHS,
        ));
        let credentials = own
            .value("credentials-file", env)
            .or_else(|| env.var("AWS_SHARED_CREDENTIALS_FILE").filter(|v| !v.is_empty()));
        sources.extend(match credentials {
            Some(file) => path(&file, Expand::AsGiven),
            None => home.as_ref().map(|h| h.join(".aws").join("credentials")),
        });
        sources.extend(match env.var("AWS_CONFIG_FILE").filter(|v| !v.is_empty()) {
            Some(file) => path(&file, Expand::AsGiven),
            None => home.map(|h| h.join(".aws").join("config")),
        });
        sources
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
            &Saml2aws,
            &Invocation {
                program: "saml2aws",
                words: &["exec"],
                operands: &[],
                flags: &[
                    ("--exec-profile", "admin"),
                    ("--idp-account", "corp"),
                    ("--verbose", ""),
                ],
                env: &[("SAML2AWS_ROLE", "arn:aws:iam::1:role/admin")],
            },
            &["aws", "eks", "get-token", "--cluster-name", "c1"],
            &[("saml2aws", &["login"]), ("saml2aws", &["console"])],
        );
    }
}

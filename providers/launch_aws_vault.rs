//! Launcher `aws-vault [GLOBAL FLAGS] exec [FLAGS] PROFILE -- COMMAND ARGS...`
//! (99designs/aws-vault v7): runs COMMAND with the credentials of PROFILE, from its key
//! store, in its environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`, `AWS_CREDENTIAL_EXPIRATION`, `AWS_VAULT`; `AWS_REGION` and
//! `AWS_DEFAULT_REGION` when it knows a region), having removed the user's
//! `AWS_PROFILE`, `AWS_DEFAULT_PROFILE` and credential variables (cli/exec.go).
//!
//! What decides those credentials, checked against its source (cli/global.go,
//! cli/exec.go, vault/config.go, vault/vault.go): the profile and `~/.aws/config` (or
//! `AWS_CONFIG_FILE`), the key store (`--backend`, the keychain, collection, pass and
//! file-store flags, each with its `AWS_VAULT_*` variable), the exec flags
//! (`--duration`, `--no-session`, `--region`; not `--mfa-token`, which proves the
//! sign-in and does not choose whose credentials), and the
//! variables it reads in place of profile settings (`AWS_REGION`, `AWS_MFA_SERIAL`,
//! `AWS_ROLE_ARN`, the TTLs, ...). Its parser is kingpin, whose rules are click's
//! ([`Syntax::Click`]); kingpin's `--no-FLAG` is left unknown (keyed verbatim). Flags
//! go anywhere before `--`; only the form with `--` is recognised: without it, kingpin
//! takes the command's own flags for aws-vault's.
//!
//! It may ask for the file store's passphrase, an MFA code or an SSO sign-in: never
//! refreshed in the background. It hands over a session with at least `AWS_MIN_TTL`
//! (default 5 minutes) left, and a token signed with it may die with it: served no
//! longer than that after it was fetched.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::provider::{
    Env, EnvChange, Expand, Flag, Inputs, Launcher, ParsedArgs, Syntax, Var, expand_path, go_duration,
};

pub struct AwsVault;

inventory::submit! { &AwsVault as &dyn Launcher }

/// The `~` of `--file-dir` and `--pass-dir`: the keyring library's `ExpandTilde`, a
/// leading `~/` only, which Go's rule here matches.
const KEYRING_PATHS: Expand = Expand::GoTilde;

/// An MFA code (or the file store's passphrase, `AWS_VAULT_FILE_PASSPHRASE`, left
/// undeclared for the same reason) proves who signs in; the profile chooses whose
/// credentials. Not keyed at all: a digest of a 6-digit code or of a passphrase is
/// undone by trying them, and `doctor` shows digests.
const PROVES_NOT_CHOOSES: &str = "a one-time code: it proves the sign-in, the profile chooses whose credentials";

static INPUTS: Inputs = Inputs {
    programs: &["aws-vault"],
    syntax: Syntax::Click,
    flags: &[
        Flag::value("duration", &["--duration", "-d"]).shown(),
        Flag::switch("no-session", &["--no-session", "-n"]),
        Flag::value("region", &["--region"]).shown(),
        Flag::value("mfa-token", &["--mfa-token", "-t"]).cosmetic(PROVES_NOT_CHOOSES),
        Flag::switch("json", &["--json", "-j"]),
        Flag::switch("server", &["--server", "-s", "--ecs-server"]),
        Flag::switch("ec2-server", &["--ec2-server"]),
        Flag::switch("lazy", &["--lazy"]),
        Flag::switch("stdout", &["--stdout"]),
        Flag::switch("debug", &["--debug"]).cosmetic("logging only"),
        Flag::value("backend", &["--backend"])
            .env(&["AWS_VAULT_BACKEND"])
            .shown(),
        Flag::value("prompt", &["--prompt"]).env(&["AWS_VAULT_PROMPT"]).shown(),
        Flag::value("keychain", &["--keychain"])
            .env(&["AWS_VAULT_KEYCHAIN_NAME"])
            .shown(),
        Flag::value("secret-service-collection", &["--secret-service-collection"])
            .env(&["AWS_VAULT_SECRET_SERVICE_COLLECTION_NAME"])
            .shown(),
        Flag::value("pass-dir", &["--pass-dir"])
            .env(&["AWS_VAULT_PASS_PASSWORD_STORE_DIR"])
            .path(KEYRING_PATHS),
        Flag::value("pass-cmd", &["--pass-cmd"])
            .env(&["AWS_VAULT_PASS_CMD"])
            .shown(),
        Flag::value("pass-prefix", &["--pass-prefix"])
            .env(&["AWS_VAULT_PASS_PREFIX"])
            .shown(),
        Flag::value("file-dir", &["--file-dir"])
            .env(&["AWS_VAULT_FILE_DIR"])
            .path(KEYRING_PATHS),
    ],
    vars: &[&[
        // vault/config.go: the config file, opened as given.
        Var::keyed("aws-config-file", &["AWS_CONFIG_FILE"]).path(Expand::AsGiven),
        // Set inside an aws-vault subshell, where it refuses to run.
        Var::keyed("subshell", &["AWS_VAULT"]).shown(),
        Var::keyed("region-variable", &["AWS_REGION"]).shown(),
        Var::keyed("default-region", &["AWS_DEFAULT_REGION"]).shown(),
        Var::keyed("sts-regional-endpoints", &["AWS_STS_REGIONAL_ENDPOINTS"]).shown(),
        Var::keyed("mfa-serial", &["AWS_MFA_SERIAL"]).shown(),
        Var::keyed("assume-role-ttl", &["AWS_ASSUME_ROLE_TTL"]).shown(),
        Var::keyed("session-token-ttl", &["AWS_SESSION_TOKEN_TTL"]).shown(),
        Var::keyed("chained-session-token-ttl", &["AWS_CHAINED_SESSION_TOKEN_TTL"]).shown(),
        Var::keyed("federation-token-ttl", &["AWS_FEDERATION_TOKEN_TTL"]).shown(),
        Var::keyed("role-arn", &["AWS_ROLE_ARN"]).shown(),
        Var::keyed("role-session-name", &["AWS_ROLE_SESSION_NAME"]).shown(),
        Var::keyed("session-tags", &["AWS_SESSION_TAGS"]).shown(),
        Var::keyed("transitive-tags", &["AWS_TRANSITIVE_TAGS"]).shown(),
        Var::keyed("source-identity", &["AWS_SOURCE_IDENTITY"]).shown(),
        Var::keyed("min-ttl", &["AWS_MIN_TTL"]).shown(),
    ]],
};

/// What `exec` removes from the command's environment (cli/exec.go), for its identity.
const REMOVED: [&str; 8] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_FILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_PROFILE",
    "AWS_SDK_LOAD_CONFIG",
];

impl Launcher for AwsVault {
    fn name(&self) -> &'static str {
        "aws-vault"
    }

    fn command(&self) -> &'static str {
        "aws-vault exec PROFILE -- COMMAND ..."
    }

    fn description(&self) -> &'static str {
        "AWS credentials from aws-vault's key store for the command it runs"
    }

    fn inputs(&self) -> &'static Inputs {
        &INPUTS
    }

    fn split(&self, args: &[String]) -> Option<usize> {
        crate::provider::after_double_dash(args)
    }

    fn recognises(&self, own: &ParsedArgs) -> bool {
        matches!(own.positionals.as_slice(), [exec, profile] if exec == "exec" && !profile.is_empty())
            && !crate::provider::kingpin_reads_an_arguments_file(own.raw)
    }

    fn identity(&self, own: &ParsedArgs, env: &dyn Env) -> Result<crate::provider::Identity, String> {
        let profile = own.positionals.get(1).cloned();
        Ok(crate::provider::Identity::declared("", own, env)?.with_shown("profile", profile))
    }

    fn launched_env(&self, own: &ParsedArgs, _env: &dyn Env) -> EnvChange {
        let mut changes: Vec<(String, Option<String>)> = REMOVED.iter().map(|n| (n.to_string(), None)).collect();
        changes.push(("AWS_VAULT".into(), own.positionals.get(1).cloned()));
        if let Some(region) = own.last("region") {
            changes.push(("AWS_REGION".into(), Some(region.into())));
            changes.push(("AWS_DEFAULT_REGION".into(), Some(region.into())));
        }
        EnvChange { clear: false, changes }
    }

    /// The AWS config file and the key store's files: the file store's directory (its
    /// sessions too), the pass store, the macOS keychain.
    fn credential_sources(&self, own: &ParsedArgs, env: &dyn Env) -> Vec<PathBuf> {
        let path = |value: &str, how| expand_path(value, how, env).ok().filter(|p| !p.as_os_str().is_empty());
        let mut sources = Vec::new();
        let config = env.var("AWS_CONFIG_FILE").filter(|v| !v.is_empty());
        sources.extend(match config {
            Some(file) => path(&file, Expand::AsGiven),
            None => crate::provider::home_dir(env).map(|h| h.join(".aws").join("config")),
        });
        let file_dir = own.value("file-dir", env).unwrap_or_else(|| "~/.awsvault/keys/".into());
        sources.extend(path(&file_dir, KEYRING_PATHS));
        let pass_dir = own.value("pass-dir", env).or_else(|| env.var("PASSWORD_STORE_DIR"));
        sources.extend(path(pass_dir.as_deref().unwrap_or("~/.password-store"), KEYRING_PATHS));
        if cfg!(target_os = "macos") {
            let keychain = own.value("keychain", env).unwrap_or_else(|| "aws-vault".into());
            sources.extend(path(
                &format!("~/Library/Keychains/{keychain}.keychain-db"),
                KEYRING_PATHS,
            ));
        }
        sources
    }

    fn may_prompt(&self, _own: &ParsedArgs, _env: &dyn Env) -> bool {
        true
    }

    fn expiry_bound(&self, _own: &ParsedArgs, env: &dyn Env) -> Option<DateTime<Utc>> {
        let window = env
            .var("AWS_MIN_TTL")
            .and_then(|ttl| go_duration(&ttl))
            .unwrap_or_else(|| chrono::Duration::minutes(5));
        Some(Utc::now() + window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::contract::{self, Invocation};
    use std::collections::HashMap;

    const EKS: &[&str] = &["aws", "eks", "get-token", "--cluster-name", "c1"];

    #[test]
    fn passes_the_contract() {
        contract::check_launcher(
            &AwsVault,
            &Invocation {
                program: "aws-vault",
                words: &["exec"],
                operands: &["prod"],
                flags: &[("--duration", "1h"), ("--backend", "file"), ("--debug", "")],
                env: &[("AWS_MFA_SERIAL", "arn:aws:iam::1:mfa/me")],
            },
            EKS,
            &[("aws-vault", &["list"]), ("aws-vault", &["login", "prod"])],
        );
    }

    fn identity(line: &[&str], env: &[(&str, &str)]) -> Option<crate::provider::Identity> {
        let args: Vec<String> = line.iter().map(|s| s.to_string()).collect();
        let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let found = crate::provider::recognise(std::ffi::OsStr::new("aws-vault"), &args)?;
        Some(found.provider.identity(&found.args, &env).unwrap())
    }

    #[test]
    fn keyed_by_the_profile_and_the_inner_identity_read_as_aws_vault_leaves_it() {
        let line = |profile: &'static str| [&["exec", profile, "--"][..], EKS].concat();
        let prod = identity(&line("prod"), &[("AWS_PROFILE", "ignored"), ("HOME", "/h")]).unwrap();
        assert_eq!(prod.cluster, "c1");
        assert_eq!(prod.part("aws-vault.profile"), Some("prod"));
        assert_eq!(prod.part("aws-vault.runs"), Some("aws-eks"));
        assert_eq!(prod.part("profile"), None, "aws-vault removes AWS_PROFILE");
        assert_eq!(prod.part("aws-vault"), Some("prod"), "and sets AWS_VAULT");
        assert_ne!(identity(&line("dev"), &[("HOME", "/h")]), Some(prod));
        assert!(
            identity(&["exec", "prod", "aws", "eks", "get-token"], &[]).is_none(),
            "no --"
        );
        assert!(
            identity(&["exec", "--", "aws", "eks", "get-token"], &[]).is_none(),
            "no profile"
        );
        assert!(
            identity(&["exec", "prod", "--", "my-script"], &[]).is_none(),
            "unknown command"
        );
    }

    #[test]
    fn a_fetch_is_served_no_longer_than_the_session_is_sure_to_live() {
        let args: Vec<String> = vec![];
        let own = crate::provider::parse(&args, &INPUTS);
        let env = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<HashMap<_, _>>()
        };
        let bound = |e: &HashMap<String, String>| (AwsVault.expiry_bound(&own, e).unwrap() - Utc::now()).num_seconds();
        assert!((295..=300).contains(&bound(&env(&[]))));
        assert!((3595..=3600).contains(&bound(&env(&[("AWS_MIN_TTL", "1h")]))));
        assert!((295..=300).contains(&bound(&env(&[("AWS_MIN_TTL", "soon")]))));
    }
}

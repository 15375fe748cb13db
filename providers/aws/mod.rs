//! Not a provider: the AWS rules that both AWS authenticators follow (credentials from
//! environment variables; where the AWS CLI and SDKs keep credentials; what an EKS token
//! says about its life, and the credentials that signed it), kept in one place so the
//! two cannot drift apart.

mod token;

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::provider::{Env, Expand, Var, expand_path};

pub use token::{eks_token_expiry_bound, eks_token_signed_at};

/// The region variables, in the order the AWS CLI v2 and the Go SDK read them (the AWS
/// CLI v1 reads `AWS_DEFAULT_REGION` only).
pub const REGION_VARS: &[&str] = &["AWS_REGION", "AWS_DEFAULT_REGION"];

/// The profile variables, in the order the AWS CLI v2 and the Go SDK read them (the AWS
/// CLI v1 reads `AWS_DEFAULT_PROFILE` first).
pub const PROFILE_VARS: &[&str] = &["AWS_PROFILE", "AWS_DEFAULT_PROFILE"];

/// The profile the Go SDK takes from the environment: the first of [`PROFILE_VARS`]
/// that is set and not empty.
pub fn profile_from_env(env: &dyn Env) -> Option<String> {
    crate::provider::first_set(PROFILE_VARS, env)
}

/// The variables that choose whose credentials sign the token: the access key id shown
/// (it names a key, it is not one), the secret key and session token as digests only
/// (they sign the token: new ones mean a new token), and the variables that choose where
/// credentials come from. `config_files` is how the program expands the paths of its
/// config and credentials files: [`CLI_CREDENTIAL_VARS`] and [`SDK_CREDENTIAL_VARS`].
const fn credential_vars(config_files: Expand) -> [Var; 9] {
    [
        Var::keyed("access-key-id", &["AWS_ACCESS_KEY_ID"]).shown(),
        Var::keyed("secret-access-key", &["AWS_SECRET_ACCESS_KEY"]),
        Var::keyed("session-token", &["AWS_SESSION_TOKEN"]),
        Var::keyed("aws-config-file", &["AWS_CONFIG_FILE"]).path(config_files),
        Var::keyed("aws-shared-credentials-file", &["AWS_SHARED_CREDENTIALS_FILE"]).path(config_files),
        // The aws-vault profile name.
        Var::keyed("aws-vault", &["AWS_VAULT"]).shown(),
        Var::keyed("aws-role-arn", &["AWS_ROLE_ARN"]).shown(),
        // Opened as given by botocore (FileWebIdentityTokenLoader) and the Go SDK.
        Var::keyed("aws-web-identity-token-file", &["AWS_WEB_IDENTITY_TOKEN_FILE"]).path(Expand::AsGiven),
        // The session name of a web-identity role: an aws-auth mapping may use it
        // ({{SessionName}}), so two names may be two Kubernetes users.
        Var::keyed("aws-role-session-name", &["AWS_ROLE_SESSION_NAME"]).shown(),
    ]
}

/// The AWS CLI's (botocore's `raw_config_parse`: `os.path.expandvars`, then
/// `expanduser`, on `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE`; v1 and v2).
pub const CLI_CREDENTIAL_VARS: &[Var] = &credential_vars(CLI_FILES);
/// The Go SDK's (aws-iam-authenticator): it opens those paths as given
/// (aws/aws-sdk-go-v2#3330: no `~`, no `$VARS`).
pub const SDK_CREDENTIAL_VARS: &[Var] = &credential_vars(SDK_FILES);

/// How the AWS CLI expands the paths of its config and credentials files.
pub const CLI_FILES: Expand = Expand::VarsThenUser;
/// How the Go SDK does: not at all.
pub const SDK_FILES: Expand = Expand::AsGiven;

/// When the credentials in the environment expire, if they say so: with
/// `AWS_ACCESS_KEY_ID` set, `AWS_CREDENTIAL_EXPIRATION` (RFC 3339), which aws-vault,
/// granted and `aws configure export-credentials --format env` set and the AWS CLI and
/// SDKs read. A token signed with them dies with them.
pub fn environment_credentials_expire(env: &dyn Env) -> Option<DateTime<Utc>> {
    env.var("AWS_ACCESS_KEY_ID").filter(|k| !k.is_empty())?;
    let text = env.var("AWS_CREDENTIAL_EXPIRATION")?;
    let expires = crate::exec_credential::parse_timestamp(text.trim());
    if expires.is_none() {
        log::debug!("AWS_CREDENTIAL_EXPIRATION is not an RFC 3339 time; not bounding the token by it");
    }
    expires
}

/// The latest time an EKS token signed now can be accepted: 15 minutes after its signing
/// time, and no later than the credentials in the environment (see
/// [`environment_credentials_expire`]).
pub fn expiry_bound(token: &str, env: &dyn Env) -> Option<DateTime<Utc>> {
    let signed = eks_token_expiry_bound(token);
    match (signed, environment_credentials_expire(env)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Where the AWS CLI and SDKs read and cache credentials: the shared config and
/// credentials files (their paths expanded as `files` says the program expands them),
/// and the SSO and assumed-role session caches.
pub fn credential_sources(env: &dyn Env, files: Expand) -> Vec<PathBuf> {
    let home = crate::provider::home_dir(env);
    let aws_dir = home.as_ref().map(|h| h.join(".aws"));
    let mut sources = Vec::new();
    sources.extend(config_file(env, files));
    sources.extend(
        file_named_by(env, "AWS_SHARED_CREDENTIALS_FILE", files)
            .unwrap_or_else(|| aws_dir.as_ref().map(|d| d.join("credentials"))),
    );
    if let Some(dir) = aws_dir {
        sources.push(dir.join("sso/cache"));
        sources.push(dir.join("cli/cache"));
    }
    sources
}

/// The file `variable` names, as the program opens it; `Some(None)` when it names one
/// we cannot place (a relative path, and no working directory), `None` when unset.
fn file_named_by(env: &dyn Env, variable: &str, files: Expand) -> Option<Option<PathBuf>> {
    env.var(variable).map(|v| expand_path(&v, files, env).ok())
}

/// The AWS config file: `AWS_CONFIG_FILE` as the program expands it, else `~/.aws/config`.
fn config_file(env: &dyn Env, files: Expand) -> Option<PathBuf> {
    file_named_by(env, "AWS_CONFIG_FILE", files)
        .unwrap_or_else(|| crate::provider::home_dir(env).map(|h| h.join(".aws").join("config")))
}

/// Whether the AWS CLI may ask for an MFA code for this profile: its section of the AWS
/// config file (`AWS_CONFIG_FILE`, else `~/.aws/config`) has an `mfa_serial`.
pub fn profile_may_prompt(profile: Option<&str>, env: &dyn Env, files: Expand) -> bool {
    let Some(text) = config_file(env, files).and_then(|p| crate::provider::read_config_file(&p)) else {
        return false;
    };
    let profile = profile.unwrap_or("default");
    let headers = [format!("[profile {profile}]"), format!("[{profile}]")];
    let mut in_section = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_section = headers.iter().any(|h| h.as_str() == line);
        } else if in_section && line.split('=').next().is_some_and(|k| k.trim() == "mfa_serial") {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{Identity, Inputs, Syntax, parse};
    use std::collections::HashMap;

    static ENV_ONLY: Inputs = Inputs {
        programs: &["x"],
        syntax: Syntax::Pflag,
        flags: &[],
        vars: &[CLI_CREDENTIAL_VARS],
    };

    fn with_credentials(env: &HashMap<String, String>) -> Identity {
        Identity::declared("c", &parse(&[], &ENV_ONLY), env).unwrap()
    }

    #[test]
    fn signing_secrets_separate_identities_as_digests_only() {
        let env = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<HashMap<_, _>>()
        };
        let base = with_credentials(&env(&[
            ("AWS_SESSION_TOKEN", "session-1"),
            ("AWS_SECRET_ACCESS_KEY", "secret-1"),
        ]));
        assert!(!format!("{base:?}").contains("session-1") && !format!("{base:?}").contains("secret-1"));
        assert_ne!(
            with_credentials(&env(&[
                ("AWS_SESSION_TOKEN", "session-2"),
                ("AWS_SECRET_ACCESS_KEY", "secret-1")
            ])),
            base
        );
        assert_ne!(
            with_credentials(&env(&[
                ("AWS_SESSION_TOKEN", "session-1"),
                ("AWS_SECRET_ACCESS_KEY", "secret-2")
            ])),
            base
        );
        for var in [
            "AWS_VAULT",
            "AWS_ROLE_ARN",
            "AWS_ROLE_SESSION_NAME",
            "AWS_ACCESS_KEY_ID",
        ] {
            let with = with_credentials(&env(&[(var, "x")]));
            assert_ne!(with, with_credentials(&env(&[])), "{var}");
            assert!(with.parts.iter().any(|(_, v)| v == "x"), "{var} is shown as it is");
        }
        for var in [
            "AWS_CONFIG_FILE",
            "AWS_SHARED_CREDENTIALS_FILE",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
        ] {
            let with = with_credentials(&env(&[(var, "/x")]));
            assert_ne!(with, with_credentials(&env(&[])), "{var}");
            let path = crate::provider::absolute_text("/x");
            assert!(with.parts.iter().any(|(_, v)| *v == path), "{var} is shown as a path");
        }
    }

    #[test]
    fn environment_credentials_bound_the_token_when_they_say_when_they_expire() {
        let env = |v: &[(&str, &str)]| -> HashMap<String, String> {
            v.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        let at = |s: &str| crate::exec_credential::parse_timestamp(s).unwrap();
        let keys = [
            ("AWS_ACCESS_KEY_ID", "ASIA1"),
            ("AWS_CREDENTIAL_EXPIRATION", "2026-01-01T00:10:00Z"),
        ];
        assert_eq!(
            environment_credentials_expire(&env(&keys)),
            Some(at("2026-01-01T00:10:00Z"))
        );
        let offset = [
            ("AWS_ACCESS_KEY_ID", "ASIA1"),
            ("AWS_CREDENTIAL_EXPIRATION", "2026-01-01T01:10:00+01:00"),
        ];
        assert_eq!(
            environment_credentials_expire(&env(&offset)),
            Some(at("2026-01-01T00:10:00Z"))
        );
        for no in [
            &[("AWS_CREDENTIAL_EXPIRATION", "2026-01-01T00:10:00Z")][..],
            &[
                ("AWS_ACCESS_KEY_ID", ""),
                ("AWS_CREDENTIAL_EXPIRATION", "2026-01-01T00:10:00Z"),
            ],
            &[
                ("AWS_ACCESS_KEY_ID", "ASIA1"),
                ("AWS_CREDENTIAL_EXPIRATION", "next tuesday"),
            ],
            &[("AWS_ACCESS_KEY_ID", "ASIA1")],
        ] {
            assert_eq!(environment_credentials_expire(&env(no)), None, "{no:?}");
        }
        // The earlier of the token's own bound and the credentials'.
        assert_eq!(
            expiry_bound("not-an-eks-token", &env(&keys)),
            Some(at("2026-01-01T00:10:00Z"))
        );
        assert_eq!(expiry_bound("not-an-eks-token", &env(&[])), None);
    }

    #[test]
    fn credential_sources_follow_the_variables() {
        let env = HashMap::from([
            ("HOME".to_string(), "/home/me".to_string()),
            ("AWS_CONFIG_FILE".to_string(), "/etc/aws".to_string()),
        ]);
        let aws = PathBuf::from("/home/me").join(".aws");
        assert_eq!(
            credential_sources(&env, CLI_FILES),
            [
                std::path::absolute("/etc/aws").unwrap(),
                aws.join("credentials"),
                aws.join("sso/cache"),
                aws.join("cli/cache")
            ]
        );
    }

    /// The case: `~/.aws/creds-prod` in a kubeconfig `env:` entry is the file in
    /// the home directory to the AWS CLI, and a directory named `~` to the Go SDK.
    #[cfg(unix)]
    #[test]
    fn credential_sources_are_the_files_each_program_opens() {
        let env = HashMap::from([
            ("HOME".to_string(), "/home/me".to_string()),
            (
                "AWS_SHARED_CREDENTIALS_FILE".to_string(),
                "~/.aws/creds-prod".to_string(),
            ),
            ("AWS_CONFIG_FILE".to_string(), "$HOME/cfg".to_string()),
        ]);
        let cli = credential_sources(&env, CLI_FILES);
        assert_eq!(
            cli[..2],
            [PathBuf::from("/home/me/cfg"), PathBuf::from("/home/me/.aws/creds-prod")]
        );
        let cwd = std::env::current_dir().unwrap();
        let sdk = credential_sources(&env, SDK_FILES);
        assert_eq!(sdk[..2], [cwd.join("$HOME/cfg"), cwd.join("~/.aws/creds-prod")]);
    }

    #[test]
    fn mfa_serial_in_the_profile_means_it_may_prompt() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        std::fs::write(&config, "[default]\nregion = us-east-1\n[profile admin]\nrole_arn = arn:r\nmfa_serial = arn:aws:iam::1:mfa/me\n[profile ci]\nrole_arn = arn:r\n").unwrap();
        let env = HashMap::from([("AWS_CONFIG_FILE".to_string(), config.to_str().unwrap().to_string())]);
        assert!(profile_may_prompt(Some("admin"), &env, CLI_FILES));
        assert!(!profile_may_prompt(Some("ci"), &env, CLI_FILES));
        assert!(!profile_may_prompt(None, &env, CLI_FILES));
        assert!(!profile_may_prompt(Some("missing"), &env, CLI_FILES));
        assert!(!profile_may_prompt(
            Some("admin"),
            &HashMap::from([("AWS_CONFIG_FILE".to_string(), "/nonexistent".to_string())]),
            CLI_FILES
        ));
        // `~/config` is that file to the CLI only.
        let tilde = HashMap::from([
            ("HOME".to_string(), dir.path().to_str().unwrap().to_string()),
            ("AWS_CONFIG_FILE".to_string(), "~/config".to_string()),
        ]);
        assert!(profile_may_prompt(Some("admin"), &tilde, CLI_FILES));
        assert!(!profile_may_prompt(Some("admin"), &tilde, SDK_FILES));
    }
}

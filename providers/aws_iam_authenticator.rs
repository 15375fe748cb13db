//! Provider for `aws-iam-authenticator token -i CLUSTER_ID [-r ROLE_ARN] ...`.

use super::aws;
use crate::provider::{Env, Flag, Identity, Inputs, ParsedArgs, Provider, Syntax, Var};

pub struct AwsIamAuthenticator;

inventory::submit! { &AwsIamAuthenticator as &dyn Provider }

static INPUTS: Inputs = Inputs {
    programs: &["aws-iam-authenticator"],
    syntax: Syntax::Pflag,
    flags: &[
        Flag::value("cluster-id", &["--cluster-id", "-i"]),
        // The authenticator reads DEFAULT_ROLE when -r is not given (viper binding).
        Flag::value("role-arn", &["--role", "-r"]).env(&["DEFAULT_ROLE"]),
        aws::REGION,
        Flag::value("session-name", &["--session-name", "-s"]),
        Flag::switch("forward-session-name", &["--forward-session-name"]),
        Flag::value("external-id", &["--external-id", "-e"]),
        Flag::switch("token-only", &["--token-only", "-t"]),
        Flag::switch("cache", &["--cache"]),
        Flag::value("config", &["--config", "-c"]),
        Flag::value("log-format", &["--log-format", "-l"]),
        Flag::value("sts-regional-endpoints", &["--sts-regional-endpoints"]),
    ],
    vars: &[aws::CREDENTIAL_VARS, &[Var::keyed("profile", aws::PROFILE_VARS)]],
};

impl Provider for AwsIamAuthenticator {
    fn name(&self) -> &'static str {
        "aws-iam-authenticator"
    }

    fn command(&self) -> &'static str {
        "aws-iam-authenticator token"
    }

    fn description(&self) -> &'static str {
        "Amazon EKS tokens from aws-iam-authenticator"
    }

    fn inputs(&self) -> &'static Inputs {
        &INPUTS
    }

    fn recognises(&self, _program: &str, args: &ParsedArgs) -> bool {
        args.positionals == ["token"]
    }

    fn identity(&self, args: &ParsedArgs, env: &dyn Env) -> Result<Identity, String> {
        let cluster = args
            .last("cluster-id")
            .ok_or("aws-iam-authenticator token without -i/--cluster-id")?;
        Ok(Identity::declared(cluster, args, env))
    }

    fn expiry_bound(&self, token: &str) -> Option<chrono::DateTime<chrono::Utc>> {
        aws::eks_token_expiry_bound(token)
    }

    fn issued_at(&self, token: &str) -> Option<chrono::DateTime<chrono::Utc>> {
        aws::eks_token_signed_at(token)
    }

    fn credential_sources(&self, _args: &ParsedArgs, env: &dyn Env) -> Vec<std::path::PathBuf> {
        aws::credential_sources(env)
    }

    fn may_prompt(&self, _args: &ParsedArgs, env: &dyn Env) -> bool {
        aws::profile_may_prompt(aws::profile_from_env(env).as_deref(), env)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::contract::{self, Invocation};
    use crate::provider::parse;
    use std::collections::HashMap;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn recognises(a: &str) -> bool {
        AwsIamAuthenticator.recognises("aws-iam-authenticator", &parse(&args(a), &INPUTS))
    }

    fn id(a: &str, e: &[(&str, &str)]) -> Identity {
        let env: HashMap<String, String> = e.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        AwsIamAuthenticator.identity(&parse(&args(a), &INPUTS), &env).unwrap()
    }

    #[test]
    fn keeps_the_provider_contract() {
        contract::check(
            &AwsIamAuthenticator,
            &Invocation {
                program: "aws-iam-authenticator",
                words: &["token"],
                operands: &[],
                flags: &[
                    ("-i", "c1"),
                    ("--role", "arn:aws:iam::1:role/r"),
                    ("--region", "us-west-2"),
                    ("--session-name", "me"),
                    ("--external-id", "x"),
                ],
                env: &[
                    ("AWS_ACCESS_KEY_ID", "AKIA1"),
                    ("AWS_PROFILE", "dev"),
                    ("DEFAULT_ROLE", "arn:default"),
                ],
            },
            &[
                ("aws-iam-authenticator", &["verify", "-i", "c1"]),
                ("aws-iam-authenticator", &["init", "-i", "c1"]),
            ],
        );
    }

    #[test]
    fn recognises_only_the_token_subcommand() {
        assert!(recognises("token -i c"));
        assert!(recognises("-i c token -r x"));
        assert!(!recognises("verify -i c"));
        assert!(!recognises(""));
    }

    #[test]
    fn every_spelling_of_every_flag_gives_the_same_identity() {
        let long = id(
            "token --cluster-id c --role arn:r --region eu --session-name s --external-id x",
            &[],
        );
        for a in [
            "token -i c -r arn:r --region eu -s s -e x",
            "token -i=c -r=arn:r --region=eu -s=s -e=x",
            "token -ic -rarn:r --region=eu -ss -ex",
            "token -e x -s s --region eu -r arn:r -i c",
            "token --cluster-id=c --role=arn:r --region=eu --session-name=s --external-id=x",
        ] {
            assert_eq!(id(a, &[]), long, "{a}");
        }
        assert_eq!(long.cluster, "c");
        assert_eq!(long.part("role-arn"), Some("arn:r"));
        assert_eq!(long.part("session-name"), Some("s"));
        assert_eq!(long.part("external-id"), Some("x"));
    }

    #[test]
    fn role_defaults_to_default_role_and_the_flag_wins() {
        assert_eq!(
            id("token -i c", &[("DEFAULT_ROLE", "env")]).part("role-arn"),
            Some("env")
        );
        assert_eq!(
            id("token -i c -r flag", &[("DEFAULT_ROLE", "env")]).part("role-arn"),
            Some("flag")
        );
    }

    #[test]
    fn environment_parts_separate_identities() {
        let base = id("token -i c", &[]);
        for var in [
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_ACCESS_KEY_ID",
        ] {
            assert_ne!(id("token -i c", &[(var, "v")]), base, "{var}");
        }
        assert_ne!(id("token -i c --forward-session-name", &[]), base);
    }

    #[test]
    fn without_cluster_id_there_is_no_identity() {
        assert!(
            AwsIamAuthenticator
                .identity(&parse(&args("token -r x"), &INPUTS), &HashMap::new())
                .is_err()
        );
    }
}

//! Provider for `aws-iam-authenticator token -i CLUSTER_ID [-r ROLE_ARN] ...`.

use super::aws_environment as aws;
use crate::args::{self, Flag};
use crate::provider::{Env, Identity, Provider};

pub struct AwsIamAuthenticator;

inventory::submit! { &AwsIamAuthenticator as &dyn Provider }

const FLAGS: &[Flag] = &[
    Flag::value("cluster-id", &["--cluster-id", "-i"]),
    Flag::value("role", &["--role", "-r"]),
    Flag::value("region", &["--region"]),
    Flag::value("session-name", &["--session-name", "-s"]),
    Flag::switch("forward-session-name", &["--forward-session-name"]),
    Flag::value("external-id", &["--external-id", "-e"]),
    Flag::switch("token-only", &["--token-only", "-t"]),
    Flag::switch("cache", &["--cache"]),
    Flag::value("config", &["--config", "-c"]),
    Flag::value("log-format", &["--log-format", "-l"]),
    Flag::value("sts-regional-endpoints", &["--sts-regional-endpoints"]),
];

const KEYED_AS_GIVEN: &[&str] = &[
    "session-name",
    "forward-session-name",
    "external-id",
    "token-only",
    "cache",
    "config",
    "log-format",
    "sts-regional-endpoints",
];

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

    fn recognises(&self, program: &str, args: &[String]) -> bool {
        program == "aws-iam-authenticator" && args::parse(args, FLAGS).positionals == ["token"]
    }

    fn identity(&self, args: &[String], env: &dyn Env) -> Result<Identity, String> {
        let parsed = args::parse(args, FLAGS);
        let cluster = parsed.last("cluster-id").ok_or("aws-iam-authenticator token without -i/--cluster-id")?;
        // The authenticator reads DEFAULT_ROLE when -r is not given (viper binding).
        let role = parsed.last("role").map(String::from).or_else(|| env.var("DEFAULT_ROLE"));
        let id = Identity::new(cluster)
            .with("region", aws::region(parsed.last("region"), env))
            .with("profile", aws::profile(None, env))
            .with("role-arn", role);
        let mut id = aws::with_credentials(id.with_flags(&parsed, KEYED_AS_GIVEN), env);
        id.unknown_args = parsed.unknown;
        Ok(id)
    }

    fn expiry_bound(&self, token: &str) -> Option<chrono::DateTime<chrono::Utc>> {
        aws::eks_token_expiry_bound(token)
    }

    fn credential_sources(&self, _args: &[String], env: &dyn Env) -> Vec<std::path::PathBuf> {
        aws::credential_sources(env)
    }

    fn may_prompt(&self, _args: &[String], env: &dyn Env) -> bool {
        aws::profile_may_prompt(aws::profile(None, env).as_deref(), env)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn id(a: &str, e: &[(&str, &str)]) -> Identity {
        let env: HashMap<String, String> = e.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        AwsIamAuthenticator.identity(&args(a), &env).unwrap()
    }

    #[test]
    fn keeps_the_provider_contract() {
        crate::provider_contract::check(
            &AwsIamAuthenticator,
            &crate::provider_contract::Invocation {
                program: "aws-iam-authenticator",
                positionals: &["token"],
                flags: &[
                    ("--cluster-id", "c1"),
                    ("--role", "arn:aws:iam::1:role/r"),
                    ("--region", "us-west-2"),
                    ("--session-name", "me"),
                    ("--external-id", "x"),
                ],
                env: &[("AWS_ACCESS_KEY_ID", "AKIA1"), ("AWS_PROFILE", "dev")],
            },
            &[("aws-iam-authenticator", &["verify", "-i", "c1"]), ("aws-iam-authenticator", &["init", "-i", "c1"])],
        );
    }

    #[test]
    fn recognises_only_the_token_subcommand() {
        assert!(AwsIamAuthenticator.recognises("aws-iam-authenticator", &args("token -i c")));
        assert!(AwsIamAuthenticator.recognises("aws-iam-authenticator", &args("-i c token -r x")));
        assert!(!AwsIamAuthenticator.recognises("aws-iam-authenticator", &args("verify -i c")));
        assert!(!AwsIamAuthenticator.recognises("aws-iam-authenticator", &args("")));
        assert!(!AwsIamAuthenticator.recognises("aws", &args("token -i c")));
    }

    #[test]
    fn every_spelling_of_every_flag_gives_the_same_identity() {
        let long = id("token --cluster-id c --role arn:r --region eu --session-name s --external-id x", &[]);
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
        assert_eq!(id("token -i c", &[("DEFAULT_ROLE", "env")]).part("role-arn"), Some("env"));
        assert_eq!(id("token -i c -r flag", &[("DEFAULT_ROLE", "env")]).part("role-arn"), Some("flag"));
    }

    #[test]
    fn environment_parts_separate_identities() {
        let base = id("token -i c", &[]);
        for var in ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID"] {
            assert_ne!(id("token -i c", &[(var, "v")]), base, "{var}");
        }
        assert_ne!(id("token -i c --forward-session-name", &[]), base);
    }

    #[test]
    fn without_cluster_id_there_is_no_identity() {
        assert!(AwsIamAuthenticator.identity(&args("token -r x"), &HashMap::new()).is_err());
    }
}

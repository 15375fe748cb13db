//! Provider for the AWS CLI: `aws [GLOBAL FLAGS] eks get-token --cluster-name NAME ...`.

use super::aws;
use crate::provider::{Env, Flag, Identity, Inputs, ParsedArgs, Provider, Syntax};

pub struct AwsEks;

inventory::submit! { &AwsEks as &dyn Provider }

/// The AWS CLI's global flags and `eks get-token`'s own, every one keyed. Knowing which
/// take a value is what lets us find the `eks get-token` positionals among them, and
/// knowing them all is what lets us resolve abbreviations as the CLI does (`--reg`,
/// `--role`).
static INPUTS: Inputs = Inputs {
    programs: &["aws"],
    syntax: Syntax::Argparse,
    flags: &[
        Flag::value("cluster-name", &["--cluster-name"]),
        Flag::value("cluster-id", &["--cluster-id"]),
        Flag::value("role-arn", &["--role-arn"]),
        aws::REGION,
        Flag::value("profile", &["--profile"]).env(aws::PROFILE_VARS),
        Flag::value("endpoint-url", &["--endpoint-url"]),
        Flag::value("output", &["--output"]),
        Flag::value("query", &["--query"]),
        Flag::value("color", &["--color"]),
        Flag::value("ca-bundle", &["--ca-bundle"]),
        Flag::value("cli-read-timeout", &["--cli-read-timeout"]),
        Flag::value("cli-connect-timeout", &["--cli-connect-timeout"]),
        Flag::value("cli-binary-format", &["--cli-binary-format"]),
        Flag::switch("debug", &["--debug"]),
        Flag::switch("no-verify-ssl", &["--no-verify-ssl"]),
        Flag::switch("no-paginate", &["--no-paginate"]),
        Flag::switch("no-sign-request", &["--no-sign-request"]),
        Flag::switch("no-cli-pager", &["--no-cli-pager"]),
        Flag::value("version", &["--version"]),
        Flag::switch("v2-debug", &["--v2-debug"]),
    ],
    vars: &[aws::CREDENTIAL_VARS],
};

impl Provider for AwsEks {
    fn name(&self) -> &'static str {
        "aws-eks"
    }

    fn command(&self) -> &'static str {
        "aws ... eks get-token"
    }

    fn description(&self) -> &'static str {
        "Amazon EKS tokens from the AWS CLI (v1 or v2)"
    }

    fn inputs(&self) -> &'static Inputs {
        &INPUTS
    }

    fn recognises(&self, _program: &str, args: &ParsedArgs) -> bool {
        args.positionals == ["eks", "get-token"]
    }

    fn identity(&self, args: &ParsedArgs, env: &dyn Env) -> Result<Identity, String> {
        let cluster = args
            .last("cluster-name")
            .or_else(|| args.last("cluster-id"))
            .ok_or("aws eks get-token without --cluster-name or --cluster-id")?;
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

    fn may_prompt(&self, args: &ParsedArgs, env: &dyn Env) -> bool {
        aws::profile_may_prompt(args.value("profile", env).as_deref(), env)
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

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn id(a: &str, e: &[(&str, &str)]) -> Identity {
        AwsEks.identity(&parse(&args(a), &INPUTS), &env(e)).unwrap()
    }

    fn recognises(a: &str) -> bool {
        AwsEks.recognises("aws", &parse(&args(a), &INPUTS))
    }

    #[test]
    fn keeps_the_provider_contract() {
        contract::check(
            &AwsEks,
            &Invocation {
                program: "aws",
                words: &["eks", "get-token"],
                operands: &[],
                flags: &[
                    ("--region", "us-west-2"),
                    ("--cluster-name", "c1"),
                    ("--output", "json"),
                    ("--profile", "dev"),
                    ("--role-arn", "arn:aws:iam::1:role/r"),
                    ("--cluster-id", "id-1"),
                ],
                env: &[("AWS_ACCESS_KEY_ID", "AKIA1"), ("AWS_REGION", "eu-west-1")],
            },
            &[
                ("aws", &["eks", "describe-cluster", "--name", "c1"]),
                ("aws", &["sts", "get-caller-identity"]),
            ],
        );
    }

    #[test]
    fn recognises_get_token_wherever_the_global_flags_stand() {
        for a in [
            "eks get-token --cluster-name c",
            "--region us-west-2 eks get-token --cluster-name c",
            "--profile eks --output json eks get-token --cluster-name=c",
            "--debug eks get-token --cluster-id 1234 --role-arn arn:aws:iam::1:role/x",
        ] {
            assert!(recognises(a), "{a}");
        }
        for a in [
            "eks describe-cluster --name c",
            "eks",
            "sts get-caller-identity",
            "eks get-token extra",
        ] {
            assert!(!recognises(a), "{a}");
        }
        assert!(!INPUTS.programs.contains(&"aws-iam-authenticator"));
    }

    #[test]
    fn reads_every_identity_flag_in_both_spellings() {
        let spaced = id(
            "--region r --profile p eks get-token --cluster-name c --role-arn arn:x --cluster-id i",
            &[],
        );
        let equals = id(
            "eks get-token --role-arn=arn:x --cluster-id=i --cluster-name=c --profile=p --region=r",
            &[],
        );
        assert_eq!(spaced.cluster, "c");
        for (part, value) in [
            ("region", "r"),
            ("profile", "p"),
            ("role-arn", "arn:x"),
            ("cluster-id", "i"),
        ] {
            assert_eq!(spaced.part(part), Some(value), "{part}");
            assert_eq!(equals.part(part), Some(value), "{part}");
        }
    }

    #[test]
    fn abbreviations_mean_what_the_aws_cli_takes_them_to_mean() {
        // `aws eks update-kubeconfig --role-arn` itself writes `--role`.
        let written = id(
            "--region us-west-2 eks get-token --cluster-name c --output json --role arn:r",
            &[],
        );
        let full = id(
            "--region us-west-2 eks get-token --cluster-name c --output json --role-arn arn:r",
            &[],
        );
        assert_eq!(written, full);
        assert_eq!(
            id("--reg us-west-2 --prof p eks get-token --cluster-n c", &[]),
            id("--region us-west-2 --profile p eks get-token --cluster-name c", &[])
        );
        // Ambiguous for the CLI too (--cluster-name / --cluster-id): not ours to guess.
        assert!(!recognises("eks get-token --cluster c"));
    }

    #[test]
    fn cluster_id_alone_names_the_cluster_but_stays_distinct_from_a_name() {
        let by_id = id("eks get-token --cluster-id abc", &[]);
        let by_name = id("eks get-token --cluster-name abc", &[]);
        assert_eq!(by_id.cluster, "abc");
        assert_ne!(by_id, by_name);
    }

    #[test]
    fn region_comes_from_flag_then_aws_region_then_aws_default_region() {
        let e = [("AWS_REGION", "env"), ("AWS_DEFAULT_REGION", "default")];
        assert_eq!(
            id("--region flag eks get-token --cluster-name c", &e).part("region"),
            Some("flag")
        );
        assert_eq!(id("eks get-token --cluster-name c", &e).part("region"), Some("env"));
        assert_eq!(
            id("eks get-token --cluster-name c", &e[1..]).part("region"),
            Some("default")
        );
        assert_eq!(id("eks get-token --cluster-name c", &[]).part("region"), None);
    }

    #[test]
    fn profile_comes_from_flag_then_aws_profile_then_aws_default_profile() {
        let e = [("AWS_PROFILE", "env"), ("AWS_DEFAULT_PROFILE", "default")];
        assert_eq!(
            id("--profile flag eks get-token --cluster-name c", &e).part("profile"),
            Some("flag")
        );
        assert_eq!(id("eks get-token --cluster-name c", &e).part("profile"), Some("env"));
        assert_eq!(
            id("eks get-token --cluster-name c", &e[1..]).part("profile"),
            Some("default")
        );
    }

    #[test]
    fn access_key_id_comes_from_the_environment() {
        let a = id("eks get-token --cluster-name c", &[("AWS_ACCESS_KEY_ID", "AKIA1")]);
        let b = id("eks get-token --cluster-name c", &[("AWS_ACCESS_KEY_ID", "AKIA2")]);
        assert_eq!(a.part("access-key-id"), Some("AKIA1"));
        assert_ne!(a, b);
    }

    #[test]
    fn unknown_flags_stay_in_the_identity() {
        let plain = id("eks get-token --cluster-name c", &[]);
        let odd = id("eks get-token --cluster-name c --some-new-flag", &[]);
        assert_eq!(odd.unknown_args, ["--some-new-flag"]);
        assert_ne!(plain, odd);
    }

    #[test]
    fn without_a_cluster_there_is_no_identity() {
        assert!(
            AwsEks
                .identity(&parse(&args("eks get-token --region r"), &INPUTS), &env(&[]))
                .is_err()
        );
    }
}

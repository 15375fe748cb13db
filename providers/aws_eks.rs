//! Provider for the AWS CLI: `aws [GLOBAL FLAGS] eks get-token --cluster-name NAME ...`.

use super::aws;
use crate::provider::{Env, Expand, Flag, Identity, Inputs, ParsedArgs, Provider, Syntax};

/// Values the AWS CLI replaces with the content of a file (`file://`, `fileb://`,
/// relative to the working directory) or, in v1, of a URL: their literal text does not
/// decide the token.
const CONTENT_PREFIXES: [&str; 4] = ["file://", "fileb://", "http://", "https://"];

pub struct AwsEks;

inventory::submit! { &AwsEks as &dyn Provider }

/// The AWS CLI's global flags and `eks get-token`'s own. Knowing which take a value is
/// what lets us find the `eks get-token` positionals among them, and knowing them all is
/// what lets us resolve abbreviations as the CLI does (`--reg`, `--role`). Region and
/// profile: `--region ""` and `--profile ""` are "not given" to the CLI; without them,
/// v1 reads `AWS_DEFAULT_PROFILE` before `AWS_PROFILE` and only `AWS_DEFAULT_REGION`, v2
/// the other way round, and which one is installed is not ours to know.
static INPUTS: Inputs = Inputs {
    programs: &["aws"],
    syntax: Syntax::Argparse,
    flags: &[
        Flag::value("cluster-name", &["--cluster-name"]).shown(),
        Flag::value("cluster-id", &["--cluster-id"]).shown(),
        Flag::value("role-arn", &["--role-arn"]).shown(),
        Flag::value("region", &["--region"])
            .env_any_order(aws::REGION_VARS)
            .unset_when(&[""])
            .shown(),
        Flag::value("profile", &["--profile"])
            .env_any_order(aws::PROFILE_VARS)
            .unset_when(&[""])
            .shown(),
        // Not shown: a URL may carry a user and password (`https://user:pass@proxy`).
        Flag::value("endpoint-url", &["--endpoint-url"]),
        Flag::value("output", &["--output"]).cosmetic("how it is printed; anything but JSON is not cached"),
        Flag::value("query", &["--query"]).shown(),
        Flag::value("color", &["--color"]).shown(),
        // Handed to urllib3 as given (botocore's httpsession): no `~`, no `$VARS`.
        Flag::value("ca-bundle", &["--ca-bundle"]).path(Expand::AsGiven),
        Flag::value("cli-read-timeout", &["--cli-read-timeout"]).shown(),
        Flag::value("cli-connect-timeout", &["--cli-connect-timeout"]).shown(),
        Flag::value("cli-binary-format", &["--cli-binary-format"]).shown(),
        Flag::switch("debug", &["--debug"]),
        Flag::switch("no-verify-ssl", &["--no-verify-ssl"]),
        Flag::switch("no-paginate", &["--no-paginate"]),
        Flag::switch("no-sign-request", &["--no-sign-request"]),
        Flag::switch("no-cli-pager", &["--no-cli-pager"]),
        Flag::switch("cli-auto-prompt", &["--cli-auto-prompt"]),
        Flag::switch("no-cli-auto-prompt", &["--no-cli-auto-prompt"]),
        Flag::value("version", &["--version"]).shown(),
        Flag::switch("v2-debug", &["--v2-debug"]),
    ],
    vars: &[aws::CLI_CREDENTIAL_VARS],
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
        if let Some((flag, _)) = args
            .flags
            .iter()
            .find(|(_, value)| CONTENT_PREFIXES.iter().any(|p| value.starts_with(p)))
        {
            return Err(format!(
                "the value of --{flag} names a file or URL, whose content the AWS CLI reads"
            ));
        }
        Identity::declared(cluster, args, env)
    }

    fn expiry_bound(&self, token: &str, _args: &ParsedArgs, env: &dyn Env) -> Option<chrono::DateTime<chrono::Utc>> {
        aws::expiry_bound(token, env)
    }

    /// JSON whatever the user's `output` setting (aws/aws-cli#7726: `output = text`
    /// breaks kubectl), no pager and no auto-prompt (aws/aws-cli#7862: the exec plugin
    /// hangs). v1 and v2 read these variables before `~/.aws/config`; a flag on the
    /// command line (`--output text`) still wins, as the user wrote it.
    fn child_env(&self) -> &'static [(&'static str, Option<&'static str>)] {
        &[
            ("AWS_DEFAULT_OUTPUT", Some("json")),
            ("AWS_PAGER", Some("")),
            ("AWS_CLI_AUTO_PROMPT", Some("off")),
        ]
    }

    fn issued_at(&self, token: &str) -> Option<chrono::DateTime<chrono::Utc>> {
        aws::eks_token_signed_at(token)
    }

    fn credential_sources(&self, _args: &ParsedArgs, env: &dyn Env) -> Vec<std::path::PathBuf> {
        aws::credential_sources(env, aws::CLI_FILES)
    }

    /// Whether any profile the CLI may use (v1 and v2 may choose differently) asks for an
    /// MFA code.
    fn may_prompt(&self, args: &ParsedArgs, env: &dyn Env) -> bool {
        let profiles = args.candidates("profile", env);
        if profiles.is_empty() {
            return aws::profile_may_prompt(None, env, aws::CLI_FILES);
        }
        profiles
            .iter()
            .any(|p| aws::profile_may_prompt(Some(p), env, aws::CLI_FILES))
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
    fn region_and_profile_variables_that_v1_and_v2_read_apart_both_separate_keys() {
        const C: &str = "eks get-token --cluster-name c";
        for (flag, [first, second]) in
            [("--region", aws::REGION_VARS), ("--profile", aws::PROFILE_VARS)].map(|(f, v)| (f, [v[0], v[1]]))
        {
            let part = &flag[2..];
            let flagged = id(&format!("{flag} a {C}"), &[(first, "x"), (second, "y")]);
            assert_eq!(flagged.part(part), Some("a"), "the flag wins");
            // One variable set means what the flag means.
            assert_eq!(id(C, &[(first, "a")]), id(&format!("{flag} a {C}"), &[]));
            assert_eq!(id(C, &[(second, "a")]), id(&format!("{flag} a {C}"), &[]));
            // Both set and different: v1 takes one, v2 the other; both are keyed.
            let both = id(C, &[(first, "a"), (second, "b")]);
            assert_eq!((both.part(first), both.part(second)), (Some("a"), Some("b")));
            assert_ne!(both, id(C, &[(first, "a"), (second, "c")]));
            assert_ne!(both, id(C, &[(first, "c"), (second, "b")]));
            // `--region ""`: the CLI reads the variables.
            assert_eq!(id(&format!("{flag}= {C}"), &[(second, "b")]), id(C, &[(second, "b")]));
        }
        assert_eq!(id(C, &[]).part("region"), None);
    }

    #[test]
    fn values_the_cli_reads_from_a_file_or_url_are_not_cached() {
        for a in [
            "eks get-token --cluster-name file://name.txt",
            "eks get-token --cluster-name c --role-arn fileb://role",
            "eks get-token --cluster-id https://example.com/id",
            "eks get-token --cluster-name c --role-arn=http://x/role",
        ] {
            assert!(recognises(a), "{a}");
            assert!(AwsEks.identity(&parse(&args(a), &INPUTS), &env(&[])).is_err(), "{a}");
        }
        // Not a prefix the CLI reads: a plain value.
        assert!(
            AwsEks
                .identity(
                    &parse(&args("eks get-token --cluster-name File://c"), &INPUTS),
                    &env(&[])
                )
                .is_ok()
        );
    }

    #[test]
    fn any_profile_the_cli_may_use_with_mfa_means_it_may_prompt() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        std::fs::write(
            &config,
            "[profile mfa]\nmfa_serial = arn:m\n[profile plain]\nregion = r\n",
        )
        .unwrap();
        let config = config.to_str().unwrap();
        let may = |a: &str, e: &[(&str, &str)]| {
            let mut e = env(e);
            e.insert("AWS_CONFIG_FILE".into(), config.into());
            AwsEks.may_prompt(&parse(&args(a), &INPUTS), &e)
        };
        const C: &str = "eks get-token --cluster-name c";
        assert!(may(&format!("--profile mfa {C}"), &[]));
        assert!(!may(&format!("--profile plain {C}"), &[("AWS_PROFILE", "mfa")]));
        assert!(
            may(C, &[("AWS_PROFILE", "plain"), ("AWS_DEFAULT_PROFILE", "mfa")]),
            "v1 reads the second"
        );
        assert!(!may(C, &[("AWS_PROFILE", "plain")]));
    }

    #[test]
    fn the_cli_is_asked_for_json_without_pager_or_prompt() {
        let child = AwsEks.child_env();
        for (name, value) in [
            ("AWS_DEFAULT_OUTPUT", Some("json")),
            ("AWS_PAGER", Some("")),
            ("AWS_CLI_AUTO_PROMPT", Some("off")),
        ] {
            assert!(child.contains(&(name, value)), "{name}");
        }
        assert_eq!(
            id("--output json eks get-token --cluster-name c", &[]),
            id("eks get-token --cluster-name c", &[]),
            "the output format is not part of whose token it is"
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

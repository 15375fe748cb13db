//! Provider for `aws-iam-authenticator token -i CLUSTER_ID [-r ROLE_ARN] ...`.
//!
//! It reads its settings through viper: a flag that was given (even empty), else its
//! variable (an empty one counts as unset), else its config file (`-c FILE`, YAML or JSON
//! by the file's extension, keys in any case), else nothing; the region then falls back
//! to the Go SDK's `AWS_REGION`, else `AWS_DEFAULT_REGION`. The config file is keyed by
//! a digest of its contents (it can name the role, the region, the cluster id, the
//! session name...), and the role it names is shown as the entry's role.

use std::path::{Path, PathBuf};

use super::aws;
use crate::provider::{
    Env, Expand, Flag, Identity, Inputs, ParsedArgs, Provider, Syntax, Var, expand_path, read_config_file,
    secret_digest,
};

pub struct AwsIamAuthenticator;

inventory::submit! { &AwsIamAuthenticator as &dyn Provider }

const LOGGING: &str = "how it logs to stderr";

static INPUTS: Inputs = Inputs {
    programs: &["aws-iam-authenticator"],
    syntax: Syntax::Pflag,
    flags: &[
        Flag::value("cluster-id", &["--cluster-id", "-i"])
            .env(&["KUBERNETES_AWS_AUTHENTICATOR_CLUSTER_ID"])
            .shown(),
        Flag::value("role-arn", &["--role", "-r"])
            .env(&["DEFAULT_ROLE"])
            .read_by_provider("falls back further to the config file's role")
            .shown(),
        Flag::value("region", &["--region"])
            .env(aws::REGION_VARS)
            .unset_when(&[""])
            .read_by_provider("the config file's region comes before the variables")
            .shown(),
        Flag::value("session-name", &["--session-name", "-s"]).shown(),
        Flag::switch("forward-session-name", &["--forward-session-name"]),
        // Not shown: the role's trust policy checks it, a value shared with whoever may
        // assume the role, which the cache file and `status` need not spread.
        Flag::value("external-id", &["--external-id", "-e"]),
        Flag::switch("token-only", &["--token-only"]),
        Flag::switch("cache", &["--cache"]),
        // viper's SetConfigFile: opened as given.
        Flag::value("config", &["--config", "-c"])
            .read_by_provider("keyed with a digest of its contents")
            .path(Expand::AsGiven),
        Flag::value("feature-gates", &["--feature-gates"]).shown(),
        Flag::value("log-format", &["--log-format", "-l"]).cosmetic(LOGGING),
        Flag::value("log-verbosity", &["--log-verbosity", "-v"]).cosmetic(LOGGING),
    ],
    vars: &[
        aws::SDK_CREDENTIAL_VARS,
        &[
            Var::keyed("profile", aws::PROFILE_VARS).shown(),
            // With --cache, its own cache of AWS credentials; opened as given.
            Var::keyed("credentials-cache-file", &["AWS_IAM_AUTHENTICATOR_CACHE_FILE"]).path(Expand::AsGiven),
        ],
    ],
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
        let config_path = config_path(args, env)?;
        let config = match &config_path {
            Some(path) => Some(ConfigFile::read(path)?),
            None => None,
        };
        let settings = config.as_ref().and_then(|c| c.settings.as_ref());
        let setting = |name: &str| settings.and_then(|s| s.get(name));
        let cluster = args
            .value("cluster-id", env)
            .or_else(|| setting("clusterid"))
            .ok_or("aws-iam-authenticator token without a cluster id (-i, its variable or its config file)")?;
        let mut id = Identity::declared(cluster, args, env)?;
        // viper: a flag given wins even when empty; an empty variable is unset.
        let role = args
            .last("role-arn")
            .map(String::from)
            .or_else(|| env.var("DEFAULT_ROLE").filter(|r| !r.is_empty()))
            .or_else(|| setting("role"));
        id = id.with_shown("role-arn", role);
        // An empty --region is given to viper (so the config file's region is not read)
        // and then left to the Go SDK's variables.
        match setting("region").filter(|_| args.last("region").is_none()) {
            Some(region) => id = id.with_shown("region", Some(region)),
            None => id.add_flag(INPUTS.flag("region").expect("declared"), args, env)?,
        }
        if let (Some(config), Some(path)) = (config, config_path) {
            id = id
                .with_shown("config", Some(crate::provider::os_to_string(path.as_os_str())))
                .with_shown("config-contents", config.digest);
        }
        Ok(id)
    }

    fn expiry_bound(&self, token: &str, _args: &ParsedArgs, env: &dyn Env) -> Option<chrono::DateTime<chrono::Utc>> {
        aws::expiry_bound(token, env)
    }

    fn issued_at(&self, token: &str) -> Option<chrono::DateTime<chrono::Utc>> {
        aws::eks_token_signed_at(token)
    }

    /// The AWS files, and its own config file: a new role there fetches afresh, and so
    /// does its removal.
    fn credential_sources(&self, args: &ParsedArgs, env: &dyn Env) -> Vec<PathBuf> {
        let mut sources = aws::credential_sources(env, aws::SDK_FILES);
        sources.extend(config_path(args, env).ok().flatten());
        sources
    }

    fn may_prompt(&self, _args: &ParsedArgs, env: &dyn Env) -> bool {
        aws::profile_may_prompt(aws::profile_from_env(env).as_deref(), env, aws::SDK_FILES)
    }
}

/// Its config file (`-c`), as viper opens it: as given, relative to the working directory.
fn config_path(args: &ParsedArgs, env: &dyn Env) -> Result<Option<PathBuf>, String> {
    args.last("config")
        .map(|path| expand_path(path, Expand::AsGiven, env))
        .transpose()
}

/// aws-iam-authenticator's config file, as far as the key needs it.
struct ConfigFile {
    /// A digest of the whole file (`None`: there is none, and the authenticator refuses
    /// to run).
    digest: Option<String>,
    /// Its top-level settings, keys in lower case, for the ones we show.
    settings: Option<Settings>,
}

impl ConfigFile {
    /// Reads `path` as the authenticator would. An error (the run goes uncached) for a
    /// file we cannot read whole or a format we do not parse.
    fn read(file: &Path) -> Result<ConfigFile, String> {
        let path = file.display();
        if !file.exists() {
            return Ok(ConfigFile {
                digest: None,
                settings: None,
            });
        }
        // viper picks the format by the extension, exactly as spelled.
        let extension = file.extension().and_then(|e| e.to_str()).unwrap_or_default();
        if !matches!(extension, "yaml" | "yml" | "json") {
            return Err(format!(
                "its config file {path} is not YAML or JSON by its name, the formats kubecredcache reads"
            ));
        }
        let text = read_config_file(file).ok_or_else(|| format!("cannot read its config file {path}"))?;
        Ok(ConfigFile {
            digest: Some(secret_digest(text.as_bytes())),
            settings: Settings::parse(&text),
        })
    }
}

/// Top-level scalar settings of a YAML or JSON document, keys in lower case (viper's keys
/// are case-insensitive).
struct Settings(Vec<(String, String)>);

impl Settings {
    fn parse(text: &str) -> Option<Settings> {
        let doc: serde_norway::Value = serde_norway::from_str(text).ok()?;
        let map = doc.as_mapping()?;
        let scalar = |v: &serde_norway::Value| match v {
            serde_norway::Value::String(s) => Some(s.clone()),
            serde_norway::Value::Bool(b) => Some(b.to_string()),
            serde_norway::Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        let settings = map
            .iter()
            .filter_map(|(k, v)| Some((k.as_str()?.to_ascii_lowercase(), scalar(v)?)))
            .collect();
        Some(Settings(settings))
    }

    fn get(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
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

    fn env_of(e: &[(&str, &str)]) -> HashMap<String, String> {
        e.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn id(a: &str, e: &[(&str, &str)]) -> Identity {
        AwsIamAuthenticator
            .identity(&parse(&args(a), &INPUTS), &env_of(e))
            .unwrap()
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
                    ("-v", "debug"),
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
        assert_eq!(
            long.part("external-id"),
            Some(secret_digest(b"x").as_str()),
            "not shown"
        );
    }

    #[test]
    fn an_empty_short_value_is_an_equals_sign_and_an_empty_long_one_is_empty() {
        // pflag: `-i=` is the cluster id "=" (the authenticator prints a token for it);
        // `--cluster-id=` is empty (it refuses). Two different commands, two keys.
        let short = id("token -i=", &[]);
        assert_eq!(short.cluster, "=");
        assert_ne!(short, id("token --cluster-id=", &[]));
        assert_eq!(short, id("token -i =", &[]));
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

    fn config(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    }

    #[test]
    fn the_config_files_role_and_region_apply_when_no_flag_or_variable_gives_them() {
        let dir = tempfile::tempdir().unwrap();
        let yaml = config(
            &dir,
            "a.yaml",
            "Role: arn:aws:iam::1:role/from-file\nregion: eu-west-1\nclusterID: c\n",
        );
        let from_file = id(&format!("token -c {yaml}"), &[("AWS_REGION", "us-east-1")]);
        assert_eq!(from_file.cluster, "c", "the cluster id from the file");
        assert_eq!(from_file.part("role-arn"), Some("arn:aws:iam::1:role/from-file"));
        assert_eq!(from_file.part("region"), Some("eu-west-1"), "before the variables");
        let flagged = id(&format!("token -c {yaml} -i c -r arn:flag --region us-west-2"), &[]);
        assert_eq!(
            (flagged.part("role-arn"), flagged.part("region")),
            (Some("arn:flag"), Some("us-west-2"))
        );
        let env = id(&format!("token -c {yaml}"), &[("DEFAULT_ROLE", "arn:env")]);
        assert_eq!(env.part("role-arn"), Some("arn:env"));
        // viper: an empty variable is unset; an empty flag is given.
        let empty_var = id(&format!("token -c {yaml}"), &[("DEFAULT_ROLE", "")]);
        assert_eq!(empty_var.part("role-arn"), Some("arn:aws:iam::1:role/from-file"));
        assert_eq!(id(&format!("token -c {yaml} --role="), &[]).part("role-arn"), Some(""));
        // `--region=` is given empty: not the file's region, the SDK's variable.
        let region = id(&format!("token -c {yaml} --region="), &[("AWS_REGION", "us-east-1")]);
        assert_eq!(region.part("region"), Some("us-east-1"));
        let json = config(
            &dir,
            "b.json",
            r#"{"role": "arn:aws:iam::1:role/json", "clusterid": "c"}"#,
        );
        assert_eq!(
            id(&format!("token -c {json}"), &[]).part("role-arn"),
            Some("arn:aws:iam::1:role/json")
        );
    }

    #[test]
    fn another_role_in_the_same_config_file_is_another_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = config(&dir, "c.yaml", "role: arn:a\n");
        let a = id(&format!("token -i c -c {path}"), &[]);
        std::fs::write(&path, "role: arn:b\n").unwrap();
        let b = id(&format!("token -i c -c {path}"), &[]);
        assert_ne!(a, b);
        // Any change counts (external id, session name...), not only the role's.
        std::fs::write(&path, "role: arn:b\nexternalID: x\n").unwrap();
        assert_ne!(id(&format!("token -i c -c {path}"), &[]), b);
        assert!(
            !format!("{b:?}").contains("externalID"),
            "the contents are keyed as a digest"
        );
    }

    #[cfg(unix)] // a FIFO among them
    #[test]
    fn config_files_it_cannot_read_leave_the_run_uncached() {
        let dir = tempfile::tempdir().unwrap();
        let toml = config(&dir, "c.toml", "role = \"arn:a\"\n");
        let upper = config(&dir, "c.YAML", "role: arn:a\n");
        let fifo = dir.path().join("fifo.yaml");
        crate::fs::mkfifo(&fifo);
        for path in [toml.as_str(), upper.as_str(), fifo.to_str().unwrap()] {
            let argv = args(&format!("token -i c -c {path}"));
            let parsed = parse(&argv, &INPUTS);
            assert!(
                AwsIamAuthenticator.identity(&parsed, &HashMap::new()).is_err(),
                "{path}"
            );
        }
        // A missing file: the authenticator refuses to run; keyed by its name only.
        let missing = id("token -i c -c /nonexistent/c.yaml", &[]);
        assert_eq!(missing.part("config"), Some("/nonexistent/c.yaml"));
        assert_eq!(missing.part("config-contents"), None);
    }

    #[test]
    fn the_cluster_id_variable_stands_in_for_the_flag() {
        let var = id("token", &[("KUBERNETES_AWS_AUTHENTICATOR_CLUSTER_ID", "c")]);
        assert_eq!(var, id("token -i c", &[]));
        let argv = args("token");
        let parsed = parse(&argv, &INPUTS);
        let empty = env_of(&[("KUBERNETES_AWS_AUTHENTICATOR_CLUSTER_ID", "")]);
        assert!(AwsIamAuthenticator.identity(&parsed, &empty).is_err());
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
            "AWS_ROLE_SESSION_NAME",
            "AWS_IAM_AUTHENTICATOR_CACHE_FILE",
        ] {
            assert_ne!(id("token -i c", &[(var, "v")]), base, "{var}");
        }
        assert_ne!(id("token -i c --forward-session-name", &[]), base);
        assert_eq!(id("token -i c -v debug -l json", &[]), base, "logging");
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

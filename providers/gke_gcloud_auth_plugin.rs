//! Provider for GKE's `gke-gcloud-auth-plugin`. Its token belongs to the gcloud account,
//! not to a cluster (it takes no cluster argument unless `--use_edge_cloud`), so one
//! entry serves every GKE cluster of an account: the identity is the active gcloud
//! configuration and account, and the plugin's own arguments.

use std::path::PathBuf;

use crate::provider::{Env, Flag, Identity, Inputs, ParsedArgs, Provider, Syntax, Var, read_config_file};

pub struct GkeGcloudAuthPlugin;

inventory::submit! { &GkeGcloudAuthPlugin as &dyn Provider }

const LOGGING: &str = "logging only: the same token is printed";

/// The flags `gke-gcloud-auth-plugin --help` lists (pflag: `--f v` or `--f=v`).
static INPUTS: Inputs = Inputs {
    programs: &["gke-gcloud-auth-plugin"],
    syntax: Syntax::Pflag,
    flags: &[
        Flag::value("account", &["--account"])
            .env(&["CLOUDSDK_CORE_ACCOUNT"])
            .read_by_provider("falls back further to the account of the active gcloud configuration"),
        Flag::value("cluster", &["--cluster"]),
        Flag::value("impersonate-service-account", &["--impersonate_service_account"]),
        Flag::value("location", &["--location"]),
        Flag::value("project", &["--project"]),
        Flag::switch(
            "use-application-default-credentials",
            &["--use_application_default_credentials"],
        ),
        Flag::switch("use-edge-cloud", &["--use_edge_cloud"]),
        Flag::switch("add-dir-header", &["--add_dir_header"]).cosmetic(LOGGING),
        Flag::switch("alsologtostderr", &["--alsologtostderr"]).cosmetic(LOGGING),
        Flag::value("log-backtrace-at", &["--log_backtrace_at"]).cosmetic(LOGGING),
        Flag::value("log-dir", &["--log_dir"]).cosmetic(LOGGING),
        Flag::value("log-file", &["--log_file"]).cosmetic(LOGGING),
        Flag::value("log-file-max-size", &["--log_file_max_size"]).cosmetic(LOGGING),
        Flag::switch("logtostderr", &["--logtostderr"]).cosmetic(LOGGING),
        Flag::switch("one-output", &["--one_output"]).cosmetic(LOGGING),
        Flag::switch("skip-headers", &["--skip_headers"]).cosmetic(LOGGING),
        Flag::switch("skip-log-headers", &["--skip_log_headers"]).cosmetic(LOGGING),
        Flag::value("stderrthreshold", &["--stderrthreshold"]).cosmetic(LOGGING),
        Flag::value("v", &["--v", "-v"]).cosmetic(LOGGING),
        Flag::value("vmodule", &["--vmodule"]).cosmetic(LOGGING),
    ],
    vars: &[&[
        Var::keyed("cloudsdk-config", &["CLOUDSDK_CONFIG"]),
        Var::keyed("configuration", &["CLOUDSDK_ACTIVE_CONFIG_NAME"])
            .read_by_provider("falls back to gcloud's active_config file, then `default`"),
        Var::keyed("google-application-credentials", &["GOOGLE_APPLICATION_CREDENTIALS"])
            .read_by_provider("counts only with --use_application_default_credentials"),
    ]],
};

impl Provider for GkeGcloudAuthPlugin {
    fn name(&self) -> &'static str {
        "gke-gcloud-auth-plugin"
    }

    fn command(&self) -> &'static str {
        "gke-gcloud-auth-plugin"
    }

    fn description(&self) -> &'static str {
        "Google Kubernetes Engine tokens for the active gcloud account"
    }

    fn inputs(&self) -> &'static Inputs {
        &INPUTS
    }

    fn recognises(&self, _program: &str, args: &ParsedArgs) -> bool {
        // It has no subcommands; --version and --help print something else and pass through.
        args.positionals.is_empty() && args.unknown.is_empty()
    }

    fn identity(&self, args: &ParsedArgs, env: &dyn Env) -> Result<Identity, String> {
        // Without a configuration directory gcloud has no account either; nothing to read.
        let config_dir = gcloud_config_dir(env);
        let configuration = env
            .var("CLOUDSDK_ACTIVE_CONFIG_NAME")
            .or_else(|| config_dir.as_ref().and_then(|d| read_trimmed(d.join("active_config"))))
            .unwrap_or_else(|| "default".into());
        let account = args
            .value("account", env)
            .or_else(|| config_dir.as_ref().and_then(|d| configured_account(d, &configuration)));
        let adc = is_on(args, "use-application-default-credentials");
        let adc_file = if adc {
            env.var("GOOGLE_APPLICATION_CREDENTIALS")
        } else {
            None
        };
        Ok(Identity::declared(args.last("cluster").unwrap_or("gcloud"), args, env)
            .with("configuration", Some(configuration))
            .with("account", account)
            .with("google-application-credentials", adc_file))
    }
}

fn is_on(args: &ParsedArgs, key: &str) -> bool {
    args.last(key).is_some_and(|v| v != "false")
}

/// gcloud's configuration directory: `CLOUDSDK_CONFIG`, else `~/.config/gcloud`.
fn gcloud_config_dir(env: &dyn Env) -> Option<PathBuf> {
    env.var("CLOUDSDK_CONFIG")
        .map(PathBuf::from)
        .or_else(|| env.var("HOME").map(|h| PathBuf::from(h).join(".config/gcloud")))
}

fn read_trimmed(path: PathBuf) -> Option<String> {
    read_config_file(&path)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// `account = ...` in the `[core]` section of `configurations/config_<NAME>`.
fn configured_account(config_dir: &std::path::Path, configuration: &str) -> Option<String> {
    let text = read_config_file(
        &config_dir
            .join("configurations")
            .join(format!("config_{configuration}")),
    )?;
    let mut in_core = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_core = line == "[core]";
        } else if in_core
            && let Some((key, value)) = line.split_once('=')
            && key.trim() == "account"
        {
            return Some(value.trim().to_string());
        }
    }
    None
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

    fn id(a: &[String], e: &HashMap<String, String>) -> Identity {
        GkeGcloudAuthPlugin.identity(&parse(a, &INPUTS), e).unwrap()
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn keeps_the_provider_contract() {
        contract::check(
            &GkeGcloudAuthPlugin,
            &Invocation {
                program: "gke-gcloud-auth-plugin",
                words: &[],
                operands: &[],
                flags: &[
                    ("--account", "me@example.com"),
                    ("--project", "p1"),
                    ("--impersonate_service_account", "sa@p1.iam.gserviceaccount.com"),
                    ("--cluster", "edge-1"),
                    ("--location", "us-central1"),
                    ("--use_application_default_credentials", ""),
                    ("--v", "4"),
                ],
                env: &[
                    ("CLOUDSDK_CONFIG", "/tmp/nonexistent-gcloud"),
                    ("CLOUDSDK_ACTIVE_CONFIG_NAME", "work"),
                    ("GOOGLE_APPLICATION_CREDENTIALS", "/keys/a.json"),
                ],
            },
            &[
                ("gke-gcloud-auth-plugin", &["--version"]),
                ("gke-gcloud-auth-plugin", &["something"]),
            ],
        );
    }

    #[test]
    fn the_active_configuration_and_its_account_come_from_the_gcloud_directory() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().to_str().unwrap();
        std::fs::create_dir_all(dir.path().join("configurations")).unwrap();
        std::fs::write(dir.path().join("active_config"), "work\n").unwrap();
        std::fs::write(
            dir.path().join("configurations/config_work"),
            "[core]\naccount = me@work.com\nproject = p\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("configurations/config_home"),
            "[compute]\nzone = z\n[core]\naccount=me@home.com\n",
        )
        .unwrap();
        let work = id(&[], &env(&[("CLOUDSDK_CONFIG", config)]));
        assert_eq!(work.part("configuration"), Some("work"));
        assert_eq!(work.part("account"), Some("me@work.com"));
        // `gcloud config configurations activate home` switches the identity.
        std::fs::write(dir.path().join("active_config"), "home").unwrap();
        let home = id(&[], &env(&[("CLOUDSDK_CONFIG", config)]));
        assert_eq!(home.part("account"), Some("me@home.com"));
        // The environment and the flag win over the files.
        let over = env(&[("CLOUDSDK_CONFIG", config), ("CLOUDSDK_CORE_ACCOUNT", "env@x.com")]);
        assert_eq!(id(&[], &over).part("account"), Some("env@x.com"));
        let flag = id(&args("--account flag@x.com"), &over);
        assert_eq!(flag.part("account"), Some("flag@x.com"));
    }

    #[test]
    fn application_default_credentials_key_on_their_file_only_when_used() {
        let e = env(&[
            ("CLOUDSDK_CONFIG", "/nonexistent"),
            ("GOOGLE_APPLICATION_CREDENTIALS", "/keys/a.json"),
        ]);
        let plain = id(&[], &e);
        assert_eq!(plain.part("google-application-credentials"), None);
        let adc = id(&args("--use_application_default_credentials"), &e);
        assert_eq!(adc.part("google-application-credentials"), Some("/keys/a.json"));
        assert_eq!(adc.part("use-application-default-credentials"), Some("true"));
        let mut other = e.clone();
        other.insert("GOOGLE_APPLICATION_CREDENTIALS".into(), "/keys/b.json".into());
        assert_ne!(id(&args("--use_application_default_credentials"), &other), adc);
    }

    #[test]
    fn logging_flags_do_not_split_the_cache() {
        let e = env(&[("CLOUDSDK_CONFIG", "/nonexistent")]);
        let plain = id(&[], &e);
        assert_eq!(id(&args("--v=4 --logtostderr --log_dir /tmp"), &e), plain);
        assert!(GkeGcloudAuthPlugin.recognises("gke-gcloud-auth-plugin", &parse(&args("--v 4"), &INPUTS)));
    }
}

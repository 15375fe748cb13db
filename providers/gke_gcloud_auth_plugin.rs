//! Provider for GKE's `gke-gcloud-auth-plugin`. Its token belongs to the gcloud account,
//! not to a cluster (it takes no cluster argument unless `--use_edge_cloud`), so one
//! entry serves every GKE cluster of an account: the identity is the active gcloud
//! configuration and account, and the plugin's own arguments.

use std::path::PathBuf;

use crate::args::{self, Flag, ParsedArgs};
use crate::provider::{Env, Identity, Provider};

pub struct GkeGcloudAuthPlugin;

inventory::submit! { &GkeGcloudAuthPlugin as &dyn Provider }

/// The flags `gke-gcloud-auth-plugin --help` lists (pflag: `--f v` or `--f=v`).
const FLAGS: &[Flag] = &[
    Flag::value("account", &["--account"]),
    Flag::value("cluster", &["--cluster"]),
    Flag::value("impersonate-service-account", &["--impersonate_service_account"]),
    Flag::value("location", &["--location"]),
    Flag::value("project", &["--project"]),
    Flag::switch("use-application-default-credentials", &["--use_application_default_credentials"]),
    Flag::switch("use-edge-cloud", &["--use_edge_cloud"]),
    // Logging only: they do not change the token, so they stay out of the key.
    Flag::switch("add-dir-header", &["--add_dir_header"]),
    Flag::switch("alsologtostderr", &["--alsologtostderr"]),
    Flag::value("log-backtrace-at", &["--log_backtrace_at"]),
    Flag::value("log-dir", &["--log_dir"]),
    Flag::value("log-file", &["--log_file"]),
    Flag::value("log-file-max-size", &["--log_file_max_size"]),
    Flag::switch("logtostderr", &["--logtostderr"]),
    Flag::switch("one-output", &["--one_output"]),
    Flag::switch("skip-headers", &["--skip_headers"]),
    Flag::switch("skip-log-headers", &["--skip_log_headers"]),
    Flag::value("stderrthreshold", &["--stderrthreshold"]),
    Flag::value("v", &["--v", "-v"]),
    Flag::value("vmodule", &["--vmodule"]),
];

const KEYED_AS_GIVEN: &[&str] = &[
    "cluster",
    "impersonate-service-account",
    "location",
    "project",
    "use-application-default-credentials",
    "use-edge-cloud",
];

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

    fn recognises(&self, program: &str, args: &[String]) -> bool {
        // It has no subcommands; --version and --help print something else and pass through.
        if program != "gke-gcloud-auth-plugin" {
            return false;
        }
        let parsed = args::parse(args, FLAGS);
        parsed.positionals.is_empty() && parsed.unknown.is_empty()
    }

    fn identity(&self, args: &[String], env: &dyn Env) -> Result<Identity, String> {
        let parsed = args::parse(args, FLAGS);
        // Without a configuration directory gcloud has no account either; nothing to read.
        let config_dir = gcloud_config_dir(env);
        let configuration = env
            .var("CLOUDSDK_ACTIVE_CONFIG_NAME")
            .or_else(|| config_dir.as_ref().and_then(|d| read_trimmed(d.join("active_config"))))
            .unwrap_or_else(|| "default".into());
        let account = parsed
            .last("account")
            .map(String::from)
            .or_else(|| env.var("CLOUDSDK_CORE_ACCOUNT"))
            .or_else(|| config_dir.as_ref().and_then(|d| configured_account(d, &configuration)));
        let adc = is_on(&parsed, "use-application-default-credentials");
        let mut id = Identity::new(parsed.last("cluster").unwrap_or("gcloud"))
            .with("cloudsdk-config", env.var("CLOUDSDK_CONFIG"))
            .with("configuration", Some(configuration))
            .with("account", account)
            .with("google-application-credentials", if adc { env.var("GOOGLE_APPLICATION_CREDENTIALS") } else { None });
        id = id.with_flags(&parsed, KEYED_AS_GIVEN);
        id.unknown_args = parsed.unknown;
        Ok(id)
    }
}

fn is_on(parsed: &ParsedArgs, key: &str) -> bool {
    parsed.last(key).is_some_and(|v| v != "false")
}

/// gcloud's configuration directory: `CLOUDSDK_CONFIG`, else `~/.config/gcloud`.
fn gcloud_config_dir(env: &dyn Env) -> Option<PathBuf> {
    env.var("CLOUDSDK_CONFIG")
        .map(PathBuf::from)
        .or_else(|| env.var("HOME").map(|h| PathBuf::from(h).join(".config/gcloud")))
}

fn read_trimmed(path: PathBuf) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// `account = ...` in the `[core]` section of `configurations/config_<NAME>`.
fn configured_account(config_dir: &std::path::Path, configuration: &str) -> Option<String> {
    let text = std::fs::read_to_string(config_dir.join("configurations").join(format!("config_{configuration}"))).ok()?;
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
    use crate::provider_contract::{self, Invocation};
    use std::collections::HashMap;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn keeps_the_provider_contract() {
        provider_contract::check(
            &GkeGcloudAuthPlugin,
            &Invocation {
                program: "gke-gcloud-auth-plugin",
                positionals: &[],
                flags: &[
                    ("--account", "me@example.com"),
                    ("--project", "p1"),
                    ("--impersonate_service_account", "sa@p1.iam.gserviceaccount.com"),
                    ("--cluster", "edge-1"),
                    ("--location", "us-central1"),
                ],
                env: &[("CLOUDSDK_CONFIG", "/tmp/nonexistent-gcloud"), ("CLOUDSDK_ACTIVE_CONFIG_NAME", "work")],
            },
            &[("gke-gcloud-auth-plugin", &["--version"]), ("gke-gcloud-auth-plugin", &["something"]), ("gcloud", &[])],
        );
    }

    #[test]
    fn the_active_configuration_and_its_account_come_from_the_gcloud_directory() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().to_str().unwrap();
        std::fs::create_dir_all(dir.path().join("configurations")).unwrap();
        std::fs::write(dir.path().join("active_config"), "work\n").unwrap();
        std::fs::write(dir.path().join("configurations/config_work"), "[core]\naccount = me@work.com\nproject = p\n").unwrap();
        std::fs::write(dir.path().join("configurations/config_home"), "[compute]\nzone = z\n[core]\naccount=me@home.com\n").unwrap();
        let id = GkeGcloudAuthPlugin.identity(&[], &env(&[("CLOUDSDK_CONFIG", config)])).unwrap();
        assert_eq!(id.part("configuration"), Some("work"));
        assert_eq!(id.part("account"), Some("me@work.com"));
        // `gcloud config configurations activate home` switches the identity.
        std::fs::write(dir.path().join("active_config"), "home").unwrap();
        let home = GkeGcloudAuthPlugin.identity(&[], &env(&[("CLOUDSDK_CONFIG", config)])).unwrap();
        assert_eq!(home.part("account"), Some("me@home.com"));
        // The environment and the flag win over the files.
        let over = env(&[("CLOUDSDK_CONFIG", config), ("CLOUDSDK_CORE_ACCOUNT", "env@x.com")]);
        assert_eq!(GkeGcloudAuthPlugin.identity(&[], &over).unwrap().part("account"), Some("env@x.com"));
        let flag = GkeGcloudAuthPlugin.identity(&args("--account flag@x.com"), &over).unwrap();
        assert_eq!(flag.part("account"), Some("flag@x.com"));
    }

    #[test]
    fn application_default_credentials_key_on_their_file_only_when_used() {
        let e = env(&[("CLOUDSDK_CONFIG", "/nonexistent"), ("GOOGLE_APPLICATION_CREDENTIALS", "/keys/a.json")]);
        let plain = GkeGcloudAuthPlugin.identity(&[], &e).unwrap();
        assert_eq!(plain.part("google-application-credentials"), None);
        let adc = GkeGcloudAuthPlugin.identity(&args("--use_application_default_credentials"), &e).unwrap();
        assert_eq!(adc.part("google-application-credentials"), Some("/keys/a.json"));
        assert_eq!(adc.part("use-application-default-credentials"), Some("true"));
        let mut other = e.clone();
        other.insert("GOOGLE_APPLICATION_CREDENTIALS".into(), "/keys/b.json".into());
        assert_ne!(GkeGcloudAuthPlugin.identity(&args("--use_application_default_credentials"), &other).unwrap(), adc);
    }

    #[test]
    fn logging_flags_do_not_split_the_cache() {
        let e = env(&[("CLOUDSDK_CONFIG", "/nonexistent")]);
        let plain = GkeGcloudAuthPlugin.identity(&[], &e).unwrap();
        assert_eq!(GkeGcloudAuthPlugin.identity(&args("--v=4 --logtostderr --log_dir /tmp"), &e).unwrap(), plain);
        assert!(GkeGcloudAuthPlugin.recognises("gke-gcloud-auth-plugin", &args("--v 4")));
    }
}

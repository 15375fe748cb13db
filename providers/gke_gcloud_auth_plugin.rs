//! Provider for GKE's `gke-gcloud-auth-plugin`. Its token belongs to the gcloud account,
//! not to a cluster (it takes no cluster argument unless `--use_edge_cloud`), so one
//! entry serves every GKE cluster of an account: the identity is the active gcloud
//! configuration, its account and the service account it impersonates, and the plugin's
//! own arguments. gcloud's files are its credential sources: a login, a logout, another
//! active configuration or account fetch afresh (kubernetes/cloud-provider-gcp#1122).

use std::path::{Path, PathBuf};

use crate::provider::{
    Env, Expand, Flag, Identity, Inputs, ParsedArgs, Provider, Syntax, Var, expand_path, read_config_file,
};

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
            .read_by_provider("falls back further to the account of the active gcloud configuration")
            .shown(),
        Flag::value("cluster", &["--cluster"]).shown(),
        Flag::value("impersonate-service-account", &["--impersonate_service_account"])
            .env(&["CLOUDSDK_AUTH_IMPERSONATE_SERVICE_ACCOUNT"])
            .read_by_provider("falls back further to auth/impersonate_service_account of the active configuration")
            .shown(),
        Flag::value("location", &["--location"]).shown(),
        Flag::value("project", &["--project"]).shown(),
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
    // Paths: gcloud (config.py `_GetGlobalConfigDir`) takes CLOUDSDK_CONFIG as given, and
    // so, we take it, its file properties; Go's ADC reads GOOGLE_APPLICATION_CREDENTIALS
    // as given.
    vars: &[&[
        Var::keyed("cloudsdk-config", &["CLOUDSDK_CONFIG"]).path(Expand::AsGiven),
        Var::keyed("configuration", &["CLOUDSDK_ACTIVE_CONFIG_NAME"])
            .read_by_provider("falls back to gcloud's active_config file, then `default`")
            .shown(),
        Var::keyed("google-application-credentials", &["GOOGLE_APPLICATION_CREDENTIALS"])
            .read_by_provider("counts only with --use_application_default_credentials")
            .path(Expand::AsGiven),
        // gcloud properties that replace its credentials.
        Var::keyed("access-token-file", &["CLOUDSDK_AUTH_ACCESS_TOKEN_FILE"]).path(Expand::AsGiven),
        Var::keyed("credential-file-override", &["CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE"]).path(Expand::AsGiven),
        Var::keyed("authorization-token-file", &["CLOUDSDK_AUTH_AUTHORIZATION_TOKEN_FILE"]).path(Expand::AsGiven),
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
        let config_dir = gcloud_config_dir(env)?;
        let configuration = active_configuration(config_dir.as_deref(), env);
        let mut account = args.value("account", env);
        let mut impersonate = args.value("impersonate-service-account", env);
        if (account.is_none() || impersonate.is_none())
            && let Some(dir) = &config_dir
        {
            let configured = Configured::read(dir, &configuration);
            account = account.or(configured.account);
            impersonate = impersonate.or(configured.impersonate_service_account);
        }
        let adc = is_on(args, "use-application-default-credentials");
        let adc_file = if adc { adc_file(env)? } else { None };
        Ok(Identity::declared(args.last("cluster").unwrap_or("gcloud"), args, env)?
            .with_shown("configuration", Some(configuration))
            .with_shown("account", account)
            .with_shown("impersonate-service-account", impersonate)
            .with_shown(
                "google-application-credentials",
                adc_file.map(|f| crate::provider::os_to_string(f.as_os_str())),
            ))
    }

    /// gcloud's active configuration, the configurations, the credential and
    /// access-token databases and the legacy credentials (a login, a logout, `gcloud
    /// config configurations activate`, `gcloud config set account` rewrite them); with
    /// application default credentials, their file.
    fn credential_sources(&self, args: &ParsedArgs, env: &dyn Env) -> Vec<PathBuf> {
        let mut sources = Vec::new();
        let config_dir = gcloud_config_dir(env).ok().flatten();
        if let Some(dir) = &config_dir {
            for name in [
                "active_config",
                "configurations",
                "credentials.db",
                "access_tokens.db",
                "legacy_credentials",
            ] {
                sources.push(dir.join(name));
            }
        }
        if is_on(args, "use-application-default-credentials") {
            sources.extend(
                adc_file(env)
                    .ok()
                    .flatten()
                    .or_else(|| config_dir.map(|d| d.join("application_default_credentials.json"))),
            );
        }
        sources
    }
}

fn is_on(args: &ParsedArgs, key: &str) -> bool {
    args.last(key).is_some_and(|v| v != "false")
}

/// gcloud's configuration directory: `CLOUDSDK_CONFIG` (as given; empty is unset),
/// else on Windows `%APPDATA%\gcloud`, else `~/.config/gcloud`. An error for a relative
/// one when the working directory cannot be read.
fn gcloud_config_dir(env: &dyn Env) -> Result<Option<PathBuf>, String> {
    if let Some(dir) = env.var("CLOUDSDK_CONFIG").filter(|d| !d.is_empty()) {
        return expand_path(&dir, Expand::AsGiven, env).map(Some);
    }
    let appdata = cfg!(windows)
        .then(|| env.var("APPDATA"))
        .flatten()
        .map(|a| PathBuf::from(a).join("gcloud"));
    Ok(appdata.or_else(|| crate::provider::home_dir(env).map(|h| h.join(".config/gcloud"))))
}

/// `GOOGLE_APPLICATION_CREDENTIALS`, as Go's ADC opens it: as given (empty is unset).
fn adc_file(env: &dyn Env) -> Result<Option<PathBuf>, String> {
    env.var("GOOGLE_APPLICATION_CREDENTIALS")
        .filter(|f| !f.is_empty())
        .map(|f| expand_path(&f, Expand::AsGiven, env))
        .transpose()
}

fn read_trimmed(path: PathBuf) -> Option<String> {
    read_config_file(&path)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// `CLOUDSDK_ACTIVE_CONFIG_NAME`, else gcloud's `active_config` file, else `default`.
fn active_configuration(config_dir: Option<&Path>, env: &dyn Env) -> String {
    env.var("CLOUDSDK_ACTIVE_CONFIG_NAME")
        .or_else(|| config_dir.and_then(|d| read_trimmed(d.join("active_config"))))
        .unwrap_or_else(|| "default".into())
}

/// What the configuration file `configurations/config_<NAME>` says about whose token it is.
#[derive(Debug, Default, PartialEq)]
struct Configured {
    /// `[core] account`
    account: Option<String>,
    /// `[auth] impersonate_service_account`
    impersonate_service_account: Option<String>,
}

impl Configured {
    fn read(config_dir: &Path, configuration: &str) -> Configured {
        let path = config_dir
            .join("configurations")
            .join(format!("config_{configuration}"));
        let mut out = Configured::default();
        let Some(text) = read_config_file(&path) else {
            return out;
        };
        let mut section = "";
        for line in text.lines().map(str::trim) {
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name.trim();
            } else if let Some((key, value)) = line.split_once('=') {
                let value = Some(value.trim().to_string()).filter(|v| !v.is_empty());
                match (section, key.trim()) {
                    ("core", "account") => out.account = value,
                    ("auth", "impersonate_service_account") => out.impersonate_service_account = value,
                    _ => {}
                }
            }
        }
        out
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
    fn impersonation_comes_from_the_flag_the_variable_or_the_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().to_str().unwrap();
        std::fs::create_dir_all(dir.path().join("configurations")).unwrap();
        std::fs::write(
            dir.path().join("configurations/config_default"),
            "[core]\naccount = me@x.com\n[auth]\nimpersonate_service_account = sa-1@p.iam.gserviceaccount.com\n",
        )
        .unwrap();
        let e = env(&[("CLOUDSDK_CONFIG", config)]);
        let configured = id(&[], &e);
        assert_eq!(
            configured.part("impersonate-service-account"),
            Some("sa-1@p.iam.gserviceaccount.com")
        );
        assert_eq!(configured.part("account"), Some("me@x.com"));
        // `gcloud config set auth/impersonate_service_account sa-2@...`
        std::fs::write(
            dir.path().join("configurations/config_default"),
            "[auth]\nimpersonate_service_account = sa-2@p.iam.gserviceaccount.com\n[core]\naccount = me@x.com\n",
        )
        .unwrap();
        assert_ne!(id(&[], &e), configured);
        let mut with_var = e.clone();
        with_var.insert("CLOUDSDK_AUTH_IMPERSONATE_SERVICE_ACCOUNT".into(), "sa-3@p".into());
        assert_eq!(id(&[], &with_var).part("impersonate-service-account"), Some("sa-3@p"));
        let flag = id(&args("--impersonate_service_account sa-4@p"), &with_var);
        assert_eq!(flag.part("impersonate-service-account"), Some("sa-4@p"));
        assert_eq!(
            flag.part("account"),
            Some("me@x.com"),
            "the account still comes from the file"
        );
    }

    #[test]
    fn gclouds_files_are_the_credential_sources() {
        let sources = |a: &str, e: &[(&str, &str)]| -> Vec<String> {
            GkeGcloudAuthPlugin
                .credential_sources(&parse(&args(a), &INPUTS), &env(e))
                .iter()
                .map(|p| p.display().to_string().replace('\\', "/"))
                .collect()
        };
        assert_eq!(
            sources("", &[("HOME", "/home/me")]),
            [
                "/home/me/.config/gcloud/active_config",
                "/home/me/.config/gcloud/configurations",
                "/home/me/.config/gcloud/credentials.db",
                "/home/me/.config/gcloud/access_tokens.db",
                "/home/me/.config/gcloud/legacy_credentials"
            ]
        );
        let adc = sources(
            "--use_application_default_credentials",
            &[
                ("CLOUDSDK_CONFIG", "/g"),
                ("GOOGLE_APPLICATION_CREDENTIALS", "/keys/a.json"),
            ],
        );
        let slashed = |p: &str| crate::provider::absolute_text(p).replace('\\', "/");
        assert_eq!(adc.first(), Some(&slashed("/g/active_config")));
        assert_eq!(adc.last(), Some(&slashed("/keys/a.json")));
        let default_adc = sources("--use_application_default_credentials", &[("CLOUDSDK_CONFIG", "/g")]);
        assert_eq!(
            default_adc.last(),
            Some(&slashed("/g/application_default_credentials.json"))
        );
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
        let keys = crate::provider::absolute_text("/keys/a.json");
        assert_eq!(adc.part("google-application-credentials"), Some(keys.as_str()));
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

//! Provider for DigitalOcean Kubernetes: `doctl kubernetes cluster kubeconfig
//! exec-credential --version=v1beta1 [--context C] CLUSTER_ID`, as `doctl kubernetes
//! cluster kubeconfig save` writes it.
//!
//! Read as doctl reads it (commands/doit.go: cobra and viper, whose `AutomaticEnv` with
//! the prefix `DIGITALOCEAN` gives each global flag a variable): keyed by the cluster
//! id, the auth context (`--context`, else `DIGITALOCEAN_CONTEXT`), the access token
//! (`--access-token`/`-t`, else `DIGITALOCEAN_ACCESS_TOKEN`) as a digest only, the API
//! URL (`--api-url`/`-u`, also a digest: a URL may carry a password) and the config
//! file (`--config`/`-c`, else `DIGITALOCEAN_CONFIG`, else `config.yaml` in Go's
//! `os.UserConfigDir()/doctl`), opened as given. That file holds the tokens of every
//! auth context: it is the credential source (`doctl auth init`, `doctl auth switch`
//! rewrite it).

use std::path::PathBuf;

use crate::provider::{Env, Expand, Flag, Identity, Inputs, ParsedArgs, Provider, Syntax, expand_path};

pub struct Doctl;

inventory::submit! { &Doctl as &dyn Provider }

const NOT_THE_TOKEN: &str = "does not change the token exec-credential prints";

const SSO_ISSUER_URL_VAR: &str = "DIGITALOCEAN_KUBECONFIG.EXEC_CREDENTIAL.SSO_ISSUER_URL";
const SSO_CLIENT_ID_VAR: &str = "DIGITALOCEAN_KUBECONFIG.EXEC_CREDENTIAL.SSO_CLIENT_ID";

static INPUTS: Inputs = Inputs {
    programs: &["doctl"],
    syntax: Syntax::Pflag,
    flags: &[
        Flag::value("version", &["--version"]).shown(),
        Flag::value("context", &["--context"])
            .env(&["DIGITALOCEAN_CONTEXT"])
            .shown(),
        Flag::value("access-token", &["--access-token", "-t"]).env(&["DIGITALOCEAN_ACCESS_TOKEN"]),
        Flag::value("api-url", &["--api-url", "-u"]).env(&["DIGITALOCEAN_API_URL"]),
        Flag::value("config", &["--config", "-c"])
            .env(&["DIGITALOCEAN_CONFIG"])
            .path(Expand::AsGiven),
        // exec-credential's SSO sign-in (both set), a browser flow on a local port in
        // place of the access token; viper's variable names keep the dots of its keys.
        Flag::value("sso-issuer-url", &["--sso-issuer-url"]).env(&[SSO_ISSUER_URL_VAR]),
        Flag::value("sso-client-id", &["--sso-client-id"])
            .env(&[SSO_CLIENT_ID_VAR])
            .shown(),
        Flag::value("sso-local-server-port", &["--sso-local-server-port"])
            .env(&["DIGITALOCEAN_KUBECONFIG.EXEC_CREDENTIAL.SSO_LOCAL_SERVER_PORT"])
            .shown(),
        Flag::value("output", &["--output", "-o"]).cosmetic(NOT_THE_TOKEN),
        Flag::switch("trace", &["--trace"]).cosmetic(NOT_THE_TOKEN),
        Flag::switch("verbose", &["--verbose", "-v"]).cosmetic(NOT_THE_TOKEN),
        Flag::switch("interactive", &["--interactive"]).cosmetic(NOT_THE_TOKEN),
        Flag::value("http-retry-max", &["--http-retry-max"]).cosmetic(NOT_THE_TOKEN),
        Flag::value("http-retry-wait-max", &["--http-retry-wait-max"]).cosmetic(NOT_THE_TOKEN),
        Flag::value("http-retry-wait-min", &["--http-retry-wait-min"]).cosmetic(NOT_THE_TOKEN),
    ],
    // Where the default config file is (Go's os.UserConfigDir, which refuses a relative
    // one): keyed as given.
    vars: &[&[crate::provider::Var::keyed("xdg-config-home", &["XDG_CONFIG_HOME"]).shown()]],
};

impl Provider for Doctl {
    fn name(&self) -> &'static str {
        "doctl"
    }

    fn command(&self) -> &'static str {
        "doctl kubernetes cluster kubeconfig exec-credential ID"
    }

    fn description(&self) -> &'static str {
        "DigitalOcean Kubernetes tokens from doctl"
    }

    fn inputs(&self) -> &'static Inputs {
        &INPUTS
    }

    fn recognises(&self, _program: &str, args: &ParsedArgs) -> bool {
        matches!(
            args.positionals.as_slice(),
            [k, c, kc, e, id] if k == "kubernetes" && c == "cluster" && kc == "kubeconfig"
                && e == "exec-credential" && !id.is_empty()
        )
    }

    fn identity(&self, args: &ParsedArgs, env: &dyn Env) -> Result<Identity, String> {
        let cluster = args
            .positionals
            .last()
            .ok_or("doctl exec-credential without a cluster id")?;
        Identity::declared(cluster.clone(), args, env)
    }

    /// The config file: the tokens of every auth context, and which one is current.
    fn credential_sources(&self, args: &ParsedArgs, env: &dyn Env) -> Vec<PathBuf> {
        config_file(args, env).into_iter().collect()
    }

    /// An SSO sign-in (commands/kubernetes.go: the issuer or client id set, as a flag,
    /// its variable or in the config file) opens a browser once doctl's own cached
    /// token has expired.
    fn may_prompt(&self, args: &ParsedArgs, env: &dyn Env) -> bool {
        let set = |name| args.value(name, env).is_some_and(|v| !v.is_empty());
        set("sso-issuer-url")
            || set("sso-client-id")
            || config_file(args, env)
                .and_then(|file| crate::provider::read_config_file(&file))
                .is_some_and(|text| text.contains("sso-issuer-url") || text.contains("sso-client-id"))
    }
}

/// The config file doctl reads: `--config`, else `DIGITALOCEAN_CONFIG`, else
/// `config.yaml` in its config directory.
fn config_file(args: &ParsedArgs, env: &dyn Env) -> Option<PathBuf> {
    match args.value("config", env) {
        Some(file) => expand_path(&file, Expand::AsGiven, env).ok(),
        None => user_config_dir(env).map(|d| d.join("doctl").join("config.yaml")),
    }
}

/// Go's `os.UserConfigDir`: `$XDG_CONFIG_HOME` (if absolute) or `~/.config` on Linux and
/// the BSDs, `~/Library/Application Support` on macOS, `%AppData%` on Windows.
fn user_config_dir(env: &dyn Env) -> Option<PathBuf> {
    if cfg!(windows) {
        return env.var("AppData").filter(|v| !v.is_empty()).map(PathBuf::from);
    }
    if cfg!(target_os = "macos") {
        return crate::provider::home_dir(env).map(|h| h.join("Library/Application Support"));
    }
    match env.var("XDG_CONFIG_HOME").filter(|v| v.starts_with('/')) {
        Some(dir) => Some(PathBuf::from(dir)),
        None => crate::provider::home_dir(env).map(|h| h.join(".config")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::contract::{self, Invocation};
    use crate::provider::parse;
    use std::collections::HashMap;

    #[test]
    fn passes_the_contract() {
        contract::check(
            &Doctl,
            &Invocation {
                program: "doctl",
                words: &["kubernetes", "cluster", "kubeconfig", "exec-credential"],
                operands: &["0c5c1bd9-0bd4-4a09-8e6f-f1e1a0c3a8b4"],
                flags: &[("--version", "v1beta1"), ("--context", "work"), ("-v", "")],
                env: &[("DIGITALOCEAN_ACCESS_TOKEN", "dop_v1_secret")],
            },
            &[
                ("doctl", &["kubernetes", "cluster", "kubeconfig", "save", "c1"]),
                ("doctl", &["kubernetes", "cluster", "kubeconfig", "exec-credential"]),
            ],
        );
    }

    #[test]
    fn an_sso_sign_in_may_prompt_a_token_login_does_not() {
        let prompts = |extra: &[&str], env: &[(&str, &str)]| {
            let mut line: Vec<String> = ["kubernetes", "cluster", "kubeconfig", "exec-credential", "c1"]
                .map(String::from)
                .to_vec();
            line.extend(extra.iter().map(|a| a.to_string()));
            let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            let args = parse(&line, &INPUTS);
            assert!(Doctl.recognises("doctl", &args), "{line:?}");
            Doctl.may_prompt(&args, &env)
        };
        assert!(!prompts(&[], &[]));
        assert!(prompts(
            &["--sso-issuer-url=https://idp.example", "--sso-client-id=c"],
            &[]
        ));
        assert!(prompts(&["--sso-client-id", "c"], &[]));
        assert!(prompts(&[], &[(SSO_ISSUER_URL_VAR, "https://idp.example")]));
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.yaml");
        std::fs::write(
            &config,
            "kubeconfig:\n  exec-credential:\n    sso-issuer-url: https://idp\n",
        )
        .unwrap();
        assert!(prompts(&["--config", config.to_str().unwrap()], &[]));
    }

    #[test]
    fn the_config_file_is_the_source_where_doctl_finds_it() {
        let sources = |args: &[&str], env: &[(&str, &str)]| {
            let mut line: Vec<String> = ["kubernetes", "cluster", "kubeconfig", "exec-credential", "c1"]
                .map(String::from)
                .to_vec();
            line.extend(args.iter().map(|a| a.to_string()));
            let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            Doctl.credential_sources(&parse(&line, &INPUTS), &env)
        };
        assert_eq!(
            sources(&["-c", "/etc/doctl.yaml"], &[]),
            [std::path::absolute("/etc/doctl.yaml").unwrap()]
        );
        assert_eq!(
            sources(&[], &[("DIGITALOCEAN_CONFIG", "/x.yaml")]),
            [std::path::absolute("/x.yaml").unwrap()]
        );
        if cfg!(target_os = "linux") {
            assert_eq!(
                sources(&[], &[("HOME", "/h")]),
                [PathBuf::from("/h/.config/doctl/config.yaml")]
            );
            assert_eq!(
                sources(&[], &[("HOME", "/h"), ("XDG_CONFIG_HOME", "/x")]),
                [PathBuf::from("/x/doctl/config.yaml")]
            );
        }
    }
}

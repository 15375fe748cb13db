//! Provider for Oracle Kubernetes Engine: `oci ce cluster generate-token --cluster-id OCID
//! [--region R] [--profile P] [--auth MODE] ...`, the exec plugin of OKE kubeconfigs.
//!
//! The OCI CLI is a slow Python program (click) that keeps no cache, and its token lives
//! 4 minutes: of all the plugins, this one gains the most. It reads its root options
//! anywhere on the command line, each with an `OCI_CLI_*` variable in its place:
//! `--region`, `--endpoint`, `--cert-bundle`, `--federation-endpoint` when not given or
//! empty, `--config-file` also when it is the default `~/.oci/config`, `--profile` and
//! `--auth` when not given. The profile then falls back to `default_profile` of its rc
//! file (`oci_cli_rc`), a credential source like the config file. With `--auth
//! security_token`, the session token file of the profile is a source too, its expiry
//! bounds the token, and an expired session may prompt for a browser login.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::provider::{
    Env, Expand, Flag, Identity, Inputs, ParsedArgs, Provider, Syntax, Var, expand_path, read_config_file,
};

pub struct OciOke;

inventory::submit! { &OciOke as &dyn Provider }

/// The config file when none is given, as the OCI CLI spells it (`--config-file` with
/// this very value also means "not given").
const DEFAULT_CONFIG: &str = "~/.oci/config";
/// Where the rc file is looked for when the given one (or the default) is not there.
const DEFAULT_RC: &str = "~/.oci/oci_cli_rc";
const FALLBACK_RC: &str = "~/.oci/cli-defaults";
const NOT_THE_TOKEN: &str = "does not change the token generate-token prints";

static INPUTS: Inputs = Inputs {
    programs: &["oci"],
    syntax: Syntax::Click,
    flags: &[
        Flag::value("cluster-id", &["--cluster-id"]).shown(),
        Flag::value("region", &["--region"])
            .env(&["OCI_CLI_REGION"])
            .unset_when(&[""])
            .shown(),
        Flag::value("profile", &["--profile"]).env(&["OCI_CLI_PROFILE"]).shown(),
        Flag::value("auth", &["--auth"]).env(&["OCI_CLI_AUTH"]).shown(),
        Flag::value("auth-purpose", &["--auth-purpose"]).shown(),
        // The SDK's `config.from_file`: `os.path.expanduser`.
        Flag::value("config-file", &["--config-file"])
            .env(&["OCI_CLI_CONFIG_FILE"])
            .unset_when(&["", DEFAULT_CONFIG])
            .path(RC_AND_CONFIG.1),
        // cli_root.py `eager_load_cli_rc_file`: `expandvars(expanduser(...))`.
        Flag::value("cli-rc-file", &["--cli-rc-file", "--defaults-file"]).path(RC_AND_CONFIG.0),
        // Not shown, as URLs: one may carry a user and password.
        Flag::value("endpoint", &["--endpoint"])
            .env(&["OCI_CLI_ENDPOINT"])
            .unset_when(&[""]),
        Flag::value("federation-endpoint", &["--federation-endpoint"])
            .env(&["OCI_CLI_FEDERATION_ENDPOINT"])
            .unset_when(&[""]),
        // cli_util.py: `os.path.expanduser(cert_bundle)`.
        Flag::value("cert-bundle", &["--cert-bundle"])
            .env(&["OCI_CLI_CERT_BUNDLE"])
            .unset_when(&[""])
            .path(Expand::User),
        Flag::switch("realm-specific-endpoint", &["--realm-specific-endpoint"]),
        Flag::switch("enable-dual-stack", &["--enable-dual-stack"]),
        // `http://user:password@host:port`: not shown.
        Flag::value("proxy", &["--proxy"]),
        Flag::value("query", &["--query"]).shown(),
        Flag::switch("raw-output", &["--raw-output"]),
        // JSON input may hold anything: not shown.
        Flag::value("from-json", &["--from-json"]),
        Flag::switch(
            "generate-full-command-json-input",
            &["--generate-full-command-json-input"],
        ),
        Flag::value("generate-param-json-input", &["--generate-param-json-input"]).shown(),
        Flag::value("enable-propagation", &["--enable-propagation"]).shown(),
        Flag::switch("cli-auto-prompt", &["--cli-auto-prompt", "-i"]),
        Flag::switch("debug", &["--debug", "-d"]),
        Flag::switch("help", &["--help", "-h", "-?"]),
        Flag::switch("version", &["--version", "-v"]),
        Flag::switch("release-info", &["--release-info"]),
        Flag::switch("latest-version", &["--latest-version"]),
        Flag::value("output", &["--output"]).cosmetic(NOT_THE_TOKEN),
        Flag::value(
            "request-id",
            &["--opc-request-id", "--opc-client-request-id", "--request-id"],
        )
        .cosmetic(NOT_THE_TOKEN),
        Flag::value("connection-timeout", &["--connection-timeout"]).cosmetic(NOT_THE_TOKEN),
        Flag::value("read-timeout", &["--read-timeout"]).cosmetic(NOT_THE_TOKEN),
        Flag::switch("no-retry", &["--no-retry"]).cosmetic(NOT_THE_TOKEN),
        Flag::value("max-retries", &["--max-retries"]).cosmetic(NOT_THE_TOKEN),
    ],
    vars: &[&[
        // The config file's settings, replaced by variables (cli_constants.OCI_CONFIG_ENV_VARS).
        Var::keyed("user", &["OCI_CLI_USER"]).shown(),
        Var::keyed("tenancy", &["OCI_CLI_TENANCY"]).shown(),
        Var::keyed("fingerprint", &["OCI_CLI_FINGERPRINT"]).shown(),
        // Key, session and delegation files: `os.path.expanduser` (cli_util.py, the SDK's
        // signers).
        Var::keyed("key-file", &["OCI_CLI_KEY_FILE"]).path(Expand::User),
        Var::keyed("key-content", &["OCI_CLI_KEY_CONTENT"]),
        Var::keyed("pass-phrase", &["OCI_CLI_PASSPHRASE"]),
        Var::keyed("security-token-file", &["OCI_CLI_SECURITY_TOKEN_FILE"]).path(Expand::User),
        Var::keyed("delegation-token-file", &["OCI_CLI_DELEGATION_TOKEN_FILE"]).path(Expand::User),
        // Which rc file, and the SDK's config file when ~/.oci/config is not there.
        Var::keyed("cli-rc-file-variable", &["OCI_CLI_RC_FILE"]).path(RC_AND_CONFIG.0),
        Var::keyed("sdk-config-file", &["OCI_CONFIG_FILE"]).path(RC_AND_CONFIG.1),
        Var::keyed("instance-metadata-service", &["OCI_CLI_USE_INSTANCE_METADATA_SERVICE"]).shown(),
        // --auth resource_principal and oke_workload_identity.
        Var::keyed("rp-version", &["OCI_RESOURCE_PRINCIPAL_VERSION"]).shown(),
        Var::keyed("rp-rpst", &["OCI_RESOURCE_PRINCIPAL_RPST"]),
        // A PEM or the path of one: not shown.
        Var::keyed("rp-private-pem", &["OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM"]),
        Var::keyed(
            "rp-private-pem-passphrase",
            &["OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM_PASSPHRASE"],
        ),
        Var::keyed("rp-region", &["OCI_RESOURCE_PRINCIPAL_REGION"]).shown(),
        Var::keyed("rp-rpt-endpoint", &["OCI_RESOURCE_PRINCIPAL_RPT_ENDPOINT"]).shown(),
        Var::keyed("rp-rpst-endpoint", &["OCI_RESOURCE_PRINCIPAL_RPST_ENDPOINT"]).shown(),
        // Opened as given, as far as we know.
        Var::keyed("sa-token-path", &["OCI_KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH"]).path(Expand::AsGiven),
        Var::keyed("sa-token", &["OCI_KUBERNETES_SERVICE_ACCOUNT_TOKEN_STRING"]),
        Var::keyed("sa-cert-path", &["OCI_KUBERNETES_SERVICE_ACCOUNT_CERT_PATH"]).path(Expand::AsGiven),
    ]],
};

/// How the CLI expands its rc file's path, and its config file's (and the session,
/// key and delegation files the config file names).
const RC_AND_CONFIG: (Expand, Expand) = (Expand::UserThenVars, Expand::User);

impl Provider for OciOke {
    fn name(&self) -> &'static str {
        "oci-oke"
    }

    fn command(&self) -> &'static str {
        "oci ce cluster generate-token"
    }

    fn description(&self) -> &'static str {
        "Oracle Kubernetes Engine tokens from the OCI CLI"
    }

    fn inputs(&self) -> &'static Inputs {
        &INPUTS
    }

    fn recognises(&self, _program: &str, args: &ParsedArgs) -> bool {
        args.positionals == ["ce", "cluster", "generate-token"]
    }

    fn identity(&self, args: &ParsedArgs, env: &dyn Env) -> Result<Identity, String> {
        let cluster = args
            .last("cluster-id")
            .ok_or("oci ce cluster generate-token without --cluster-id")?;
        // Relative paths are keyed absolute (the declarations say how each is read):
        // another working directory, another file.
        Identity::declared(cluster, args, env)
    }

    /// The config file, every rc file the CLI may read, and with `--auth
    /// security_token` the session's token and key files (`oci session authenticate`
    /// rewrites them all; `oci session refresh` rewrites the token).
    fn credential_sources(&self, args: &ParsedArgs, env: &dyn Env) -> Vec<PathBuf> {
        let files = Files::new(args, env);
        let mut sources = vec![files.config.clone()];
        for rc in &files.rc_candidates {
            if !sources.contains(rc) {
                sources.push(rc.clone());
            }
        }
        if is_session_auth(args, env)
            && let Some(session) = files.session(args, env)
        {
            sources.extend(session.token_file);
            sources.extend(session.key_file);
        }
        sources
    }

    /// An expired session makes the CLI ask whether to log in again, in a browser.
    fn may_prompt(&self, args: &ParsedArgs, env: &dyn Env) -> bool {
        is_session_auth(args, env) && session_expires(args, env).is_none_or(|end| end <= Utc::now())
    }

    /// A token signed with a session dies with the session.
    fn expiry_bound(&self, _token: &str, args: &ParsedArgs, env: &dyn Env) -> Option<DateTime<Utc>> {
        is_session_auth(args, env).then(|| session_expires(args, env)).flatten()
    }

    /// Its interactive mode (`OCI_CLI_AUTO_PROMPT` set to anything) would take the place
    /// of the token.
    fn child_env(&self) -> &'static [(&'static str, Option<&'static str>)] {
        &[("OCI_CLI_AUTO_PROMPT", None)]
    }
}

fn is_session_auth(args: &ParsedArgs, env: &dyn Env) -> bool {
    args.value("auth", env).as_deref() == Some("security_token")
}

/// When the session token of the profile in use expires (its JWT's `exp`), if it can be
/// read.
fn session_expires(args: &ParsedArgs, env: &dyn Env) -> Option<DateTime<Utc>> {
    let token = Files::new(args, env).session(args, env)?.token_file?;
    let text = read_config_file(&token)?;
    let payload = text.trim().split('.').nth(1)?;
    let claims: serde_json::Value = serde_json::from_slice(&crate::provider::decode_base64url(payload)?).ok()?;
    DateTime::from_timestamp(claims.get("exp")?.as_i64()?, 0)
}

/// The files the OCI CLI reads, found as it finds them.
struct Files {
    /// The config file it reads.
    config: PathBuf,
    /// The rc files it may read, the one it reads among them.
    rc_candidates: Vec<PathBuf>,
}

/// The session files of a profile.
struct Session {
    token_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
}

impl Files {
    fn new(args: &ParsedArgs, env: &dyn Env) -> Files {
        let home = crate::provider::home_dir(env);
        let config_file = |p: &str| expand(p, RC_AND_CONFIG.1, env);
        let rc_file = |p: &str| expand(p, RC_AND_CONFIG.0, env);
        // The CLI: the flag, else OCI_CLI_CONFIG_FILE, else the default. The SDK: for
        // the default when it is not there, OCI_CONFIG_FILE, else ~/.oraclebmc/config.
        let named = args.value("config-file", env).unwrap_or_else(|| DEFAULT_CONFIG.into());
        let mut config = config_file(&named);
        if named == DEFAULT_CONFIG && !config.is_file() {
            if let Some(sdk) = env.var("OCI_CONFIG_FILE").filter(|v| !v.is_empty()) {
                config = config_file(&sdk);
            } else if home.as_ref().is_some_and(|h| h.join(".oraclebmc/config").is_file()) {
                config = config_file("~/.oraclebmc/config");
            }
        }
        let mut rc_candidates = vec![rc_file(args.last("cli-rc-file").unwrap_or(DEFAULT_RC))];
        rc_candidates.extend(env.var("OCI_CLI_RC_FILE").map(|p| rc_file(&p)));
        rc_candidates.push(rc_file(DEFAULT_RC));
        rc_candidates.push(rc_file(FALLBACK_RC));
        Files { config, rc_candidates }
    }

    /// The profile in use: the flag, else OCI_CLI_PROFILE, else the rc file's
    /// `default_profile`, else `DEFAULT`.
    fn profile(&self, args: &ParsedArgs, env: &dyn Env) -> String {
        if let Some(profile) = args
            .last("profile")
            .map(String::from)
            .or_else(|| env.var("OCI_CLI_PROFILE"))
        {
            return profile;
        }
        self.rc_candidates
            .iter()
            .find(|p| p.exists())
            .and_then(|rc| read_config_file(rc))
            .and_then(|text| Ini::parse(&text).get("OCI_CLI_SETTINGS", "default_profile"))
            .unwrap_or_else(|| "DEFAULT".into())
    }

    /// The session files of the profile in use: `security_token_file` (or
    /// OCI_CLI_SECURITY_TOKEN_FILE) and `key_file` (or OCI_CLI_KEY_FILE).
    fn session(&self, args: &ParsedArgs, env: &dyn Env) -> Option<Session> {
        let profile = self.profile(args, env);
        let ini = read_config_file(&self.config).map(|text| Ini::parse(&text));
        let setting = |variable: &str, key: &str| {
            env.var(variable)
                .or_else(|| ini.as_ref().and_then(|i| i.get_with_default(&profile, key)))
                .map(|p| expand(&p, RC_AND_CONFIG.1, env))
        };
        Some(Session {
            token_file: setting("OCI_CLI_SECURITY_TOKEN_FILE", "security_token_file"),
            key_file: setting("OCI_CLI_KEY_FILE", "key_file"),
        })
    }
}

/// The file the CLI opens for `path`; as written when the working directory cannot be
/// read (the key then fails for a relative path already, and the run goes uncached).
fn expand(path: &str, how: Expand, env: &dyn Env) -> PathBuf {
    expand_path(path, how, env).unwrap_or_else(|_| PathBuf::from(path))
}

/// An INI file as Python's configparser reads the OCI config and rc files: sections,
/// `key = value` or `key: value` (keys in lower case), `#` and `;` comments, and the
/// `DEFAULT` section's values for every other section.
struct Ini(Vec<(String, String, String)>);

impl Ini {
    fn parse(text: &str) -> Ini {
        let mut entries = Vec::new();
        let mut section = String::new();
        for line in text.lines() {
            // An indented line continues a value: never one of the settings we read.
            if line.starts_with([' ', '\t']) {
                continue;
            }
            let line = line.trim();
            if line.is_empty() || line.starts_with(['#', ';']) {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name.to_string();
            } else if let Some(at) = line.find(['=', ':']) {
                let key = line[..at].trim().to_lowercase();
                entries.push((section.clone(), key, line[at + 1..].trim().to_string()));
            }
        }
        Ini(entries)
    }

    fn get(&self, section: &str, key: &str) -> Option<String> {
        self.0
            .iter()
            .rev()
            .find(|(s, k, _)| s == section && k == key)
            .map(|(_, _, v)| v.clone())
    }

    /// A profile's setting, else the `DEFAULT` section's.
    fn get_with_default(&self, section: &str, key: &str) -> Option<String> {
        self.get(section, key).or_else(|| self.get("DEFAULT", key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::contract::{self, Invocation};
    use crate::provider::parse;
    use std::collections::HashMap;

    const CLUSTER: &str = "ocid1.cluster.oc1.iad.aaaaaaaexample";

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn id(a: &str, e: &[(&str, &str)]) -> Identity {
        OciOke.identity(&parse(&args(a), &INPUTS), &env(e)).unwrap()
    }

    fn token_command(extra: &str) -> String {
        format!("ce cluster generate-token --cluster-id {CLUSTER} {extra}")
    }

    #[test]
    fn keeps_the_provider_contract() {
        contract::check(
            &OciOke,
            &Invocation {
                program: "oci",
                words: &["ce", "cluster", "generate-token"],
                operands: &[],
                flags: &[
                    ("--cluster-id", CLUSTER),
                    ("--region", "us-ashburn-1"),
                    ("--profile", "oke"),
                    ("--auth", "security_token"),
                    ("--config-file", "/home/me/.oci/config"),
                    ("--connection-timeout", "10"),
                ],
                env: &[
                    ("OCI_CLI_TENANCY", "ocid1.tenancy.oc1..t"),
                    ("OCI_CLI_KEY_CONTENT", "-----BEGIN PRIVATE KEY-----"),
                    ("OCI_CLI_REGION", "eu-frankfurt-1"),
                ],
            },
            &[
                ("oci", &["ce", "cluster", "get", "--cluster-id", CLUSTER]),
                ("oci", &["ce", "cluster", "create-kubeconfig", "--cluster-id", CLUSTER]),
                ("oci", &["session", "authenticate"]),
            ],
        );
    }

    #[test]
    fn a_proxy_with_its_password_is_keyed_by_digest_only() {
        let with = id(&token_command("--proxy http://me:pr0xy-pass@proxy:3128"), &[]);
        assert!(!format!("{with:?}").contains("pr0xy-pass"), "{with:?}");
        assert_ne!(with, id(&token_command("--proxy http://me:other@proxy:3128"), &[]));
    }

    #[test]
    fn global_options_anywhere_and_their_variables() {
        let plain = id(&token_command("--region us-ashburn-1 --profile p"), &[]);
        assert_eq!(plain.cluster, CLUSTER);
        let before = id(
            &format!("--profile p --region=us-ashburn-1 ce cluster generate-token --cluster-id={CLUSTER}"),
            &[],
        );
        assert_eq!(before, plain);
        let from_env = id(
            &token_command(""),
            &[("OCI_CLI_REGION", "us-ashburn-1"), ("OCI_CLI_PROFILE", "p")],
        );
        assert_eq!(from_env, plain);
        // An empty --region, or the default config file spelled out, is "not given".
        let empty_region = id(
            &token_command("--region= --profile p"),
            &[("OCI_CLI_REGION", "us-ashburn-1")],
        );
        assert_eq!(empty_region, plain);
        assert_eq!(
            id(
                &token_command("--config-file ~/.oci/config"),
                &[("OCI_CLI_CONFIG_FILE", "/etc/oci")]
            ),
            id(&token_command("--config-file /etc/oci"), &[])
        );
        assert_ne!(
            id(&token_command("--auth security_token"), &[]),
            id(&token_command(""), &[])
        );
        assert_ne!(
            id(&token_command(""), &[("OCI_CLI_AUTH", "instance_principal")]),
            id(&token_command(""), &[])
        );
        // No abbreviation: --reg is not --region to click.
        assert_ne!(
            id(&token_command("--reg us-ashburn-1"), &[]),
            id(&token_command("--region us-ashburn-1"), &[])
        );
    }

    #[test]
    fn recognises_only_generate_token() {
        let recognises = |a: &str| OciOke.recognises("oci", &parse(&args(a), &INPUTS));
        assert!(recognises(&token_command("")));
        assert!(recognises(&format!(
            "--region r ce cluster generate-token --cluster-id {CLUSTER}"
        )));
        assert!(!recognises(&format!("ce cluster get --cluster-id {CLUSTER}")));
        assert!(!recognises("ce cluster generate-token extra"));
    }

    #[test]
    fn relative_paths_key_as_the_file_in_the_working_directory() {
        let cwd = std::env::current_dir().unwrap();
        let at = |rel: &str| crate::provider::os_to_string(std::path::absolute(cwd.join(rel)).unwrap().as_os_str());
        let home = [("HOME", "/home/me")];
        for (a, e, part, file) in [
            (
                token_command("--config-file oci/config"),
                &home[..],
                "config-file",
                "oci/config",
            ),
            (token_command("--cli-rc-file rc"), &home, "cli-rc-file", "rc"),
            (
                token_command(""),
                &[("OCI_CLI_CONFIG_FILE", "config"), home[0]],
                "config-file",
                "config",
            ),
            (
                token_command(""),
                &[("OCI_CLI_KEY_FILE", "./key.pem"), home[0]],
                "key-file",
                "key.pem",
            ),
        ] {
            assert_eq!(id(&a, e).part(part), Some(at(file).as_str()), "{a} {e:?}");
        }
        // `~` is the home directory to the OCI CLI, spelled either way.
        assert_eq!(
            id(&token_command("--config-file ~/other"), &home),
            id(&token_command("--config-file /home/me/other"), &home)
        );
        assert_eq!(
            id(&token_command("--cli-rc-file $HOME/rc"), &home),
            id(&token_command("--cli-rc-file /home/me/rc"), &home),
            "the rc file's variables are expanded"
        );
    }

    /// A JWT whose payload says it expires at `exp`.
    fn jwt(exp: i64) -> String {
        use base64::Engine;
        let payload = format!(r#"{{"sub":"ocid1.user.oc1..u","exp":{exp}}}"#);
        let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload);
        format!("eyJhbGciOiJSUzI1NiJ9.{encoded}.c2ln")
    }

    struct Home {
        dir: tempfile::TempDir,
    }

    impl Home {
        /// A home with ~/.oci/config holding a DEFAULT and a session profile `oke`.
        fn new(session_exp: i64) -> Home {
            let dir = tempfile::tempdir().unwrap();
            let oci = dir.path().join(".oci");
            std::fs::create_dir_all(oci.join("sessions/oke")).unwrap();
            std::fs::write(
                oci.join("config"),
                "[DEFAULT]\nuser = ocid1.user.oc1..u\nkey_file = ~/.oci/key.pem\n\n[oke]\n\
                 # a session profile\nsecurity_token_file = ~/.oci/sessions/oke/token\n\
                 key_file: ~/.oci/sessions/oke/key.pem\nregion = us-ashburn-1\n",
            )
            .unwrap();
            std::fs::write(oci.join("sessions/oke/token"), jwt(session_exp)).unwrap();
            Home { dir }
        }

        fn env(&self, extra: &[(&str, &str)]) -> HashMap<String, String> {
            let mut e = env(extra);
            e.insert("HOME".into(), self.dir.path().to_str().unwrap().into());
            e
        }

        fn path(&self, rel: &str) -> PathBuf {
            self.dir.path().join(rel)
        }
    }

    #[test]
    fn a_session_profile_has_its_token_and_key_as_sources_and_its_expiry_as_bound() {
        let exp = Utc::now().timestamp() + 600;
        let home = Home::new(exp);
        let argv = args(&token_command("--profile oke --auth security_token"));
        let parsed = parse(&argv, &INPUTS);
        let e = home.env(&[]);
        assert_eq!(
            OciOke.credential_sources(&parsed, &e),
            [
                home.path(".oci/config"),
                home.path(".oci/oci_cli_rc"),
                home.path(".oci/cli-defaults"),
                home.path(".oci/sessions/oke/token"),
                home.path(".oci/sessions/oke/key.pem"),
            ]
        );
        assert_eq!(OciOke.expiry_bound("t", &parsed, &e), DateTime::from_timestamp(exp, 0));
        assert!(!OciOke.may_prompt(&parsed, &e), "a live session needs no one");
        // API-key auth: no session, no bound, and the profile's key is in the config file.
        let api_key = args(&token_command("--profile oke"));
        let api_key = parse(&api_key, &INPUTS);
        assert_eq!(OciOke.credential_sources(&api_key, &e).len(), 3);
        assert_eq!(OciOke.expiry_bound("t", &api_key, &e), None);
        assert!(!OciOke.may_prompt(&api_key, &e));
    }

    #[test]
    fn an_expired_or_missing_session_may_prompt() {
        let home = Home::new(Utc::now().timestamp() - 60);
        let argv = args(&token_command("--auth security_token"));
        let parsed = parse(&argv, &INPUTS);
        // The profile comes from the variable; the DEFAULT section has no session.
        assert!(
            OciOke.may_prompt(&parsed, &home.env(&[("OCI_CLI_PROFILE", "oke")])),
            "expired"
        );
        assert!(
            OciOke.may_prompt(&parsed, &home.env(&[])),
            "DEFAULT has no session token"
        );
        let live = Home::new(Utc::now().timestamp() + 600);
        assert!(!OciOke.may_prompt(&parsed, &live.env(&[("OCI_CLI_AUTH", "x"), ("OCI_CLI_PROFILE", "oke")])));
    }

    #[test]
    fn the_rc_files_default_profile_chooses_the_session() {
        let home = Home::new(Utc::now().timestamp() + 600);
        std::fs::write(
            home.path(".oci/oci_cli_rc"),
            "[OCI_CLI_SETTINGS]\ndefault_profile = oke\n",
        )
        .unwrap();
        let argv = args(&token_command(""));
        let parsed = parse(&argv, &INPUTS);
        let sources = OciOke.credential_sources(&parsed, &home.env(&[("OCI_CLI_AUTH", "security_token")]));
        assert!(sources.contains(&home.path(".oci/sessions/oke/token")), "{sources:?}");
    }

    #[test]
    fn the_sdk_finds_its_config_file_where_the_default_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().to_str().unwrap();
        let argv = args(&token_command(""));
        let parsed = parse(&argv, &INPUTS);
        let sources = OciOke.credential_sources(&parsed, &env(&[("HOME", home), ("OCI_CONFIG_FILE", "/etc/oci")]));
        assert_eq!(sources[0], std::path::absolute("/etc/oci").unwrap());
        std::fs::create_dir_all(dir.path().join(".oraclebmc")).unwrap();
        std::fs::write(dir.path().join(".oraclebmc/config"), "[DEFAULT]\n").unwrap();
        let sources = OciOke.credential_sources(&parsed, &env(&[("HOME", home)]));
        assert_eq!(sources[0], dir.path().join(".oraclebmc/config"));
    }

    #[test]
    fn its_interactive_mode_is_turned_off_for_the_command() {
        assert_eq!(OciOke.child_env(), [("OCI_CLI_AUTO_PROMPT", None)]);
    }
}

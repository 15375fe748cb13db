//! Provider for int128/kubelogin, the OIDC plugin: `kubelogin get-token`,
//! `kubectl-oidc_login get-token` or `kubectl oidc-login get-token`, with
//! `--oidc-issuer-url`. Azure's kubelogin has the same program name; it is told apart by
//! its arguments (`--server-id`, no `--oidc-issuer-url`) and has its own provider.

use std::path::PathBuf;

use crate::provider::{Env, Expand, Flag, Identity, Inputs, ParsedArgs, Provider, Syntax, Var, expand_path};

pub struct KubeloginOidc;

inventory::submit! { &KubeloginOidc as &dyn Provider }

const HOW_THE_LOGIN_LOOKS: &str = "how the login looks, not whose token it is";

static INPUTS: Inputs = Inputs {
    programs: &["kubelogin", "kubectl-oidc_login", "kubectl"],
    syntax: Syntax::Pflag,
    flags: &[
        Flag::value("oidc-issuer-url", &["--oidc-issuer-url"]).shown(),
        Flag::value("oidc-client-id", &["--oidc-client-id"]).shown(),
        Flag::value("oidc-client-secret", &["--oidc-client-secret"]),
        Flag::value("oidc-extra-scope", &["--oidc-extra-scope"])
            .read_by_provider("a set: repeatable and comma-separated, in any order")
            .shown(),
        Flag::switch("oidc-use-access-token", &["--oidc-use-access-token"]),
        Flag::value("oidc-redirect-url", &["--oidc-redirect-url"]).shown(),
        Flag::value("oidc-pkce-method", &["--oidc-pkce-method"]).shown(),
        // pflag maps and arrays: every value counts (an extra `login_hint=` may be another
        // user). Not shown: a header may be `Authorization=Bearer ...`, a parameter a key.
        Flag::value("oidc-auth-request-extra-params", &["--oidc-auth-request-extra-params"]).repeatable(),
        Flag::value("oidc-request-header", &["--oidc-request-header"]).repeatable(),
        Flag::switch("force-refresh", &["--force-refresh"]),
        // Paths: its `expandHomedir` turns a leading `~` into $HOME (pkg/cmd/homedir.go).
        Flag::value("token-cache-dir", &["--token-cache-dir"]).path(Expand::GoTilde),
        Flag::value("token-cache-storage", &["--token-cache-storage"]).shown(),
        Flag::value("grant-type", &["--grant-type"]).shown(),
        Flag::value("username", &["--username"]).shown(),
        Flag::value("password", &["--password"]),
        Flag::value("certificate-authority", &["--certificate-authority"])
            .repeatable()
            .path(Expand::GoTilde),
        // Public, but long: a digest is enough.
        Flag::value("certificate-authority-data", &["--certificate-authority-data"]).repeatable(),
        Flag::switch("insecure-skip-tls-verify", &["--insecure-skip-tls-verify"]),
        Flag::switch("tls-renegotiation-once", &["--tls-renegotiation-once"]),
        Flag::switch("tls-renegotiation-freely", &["--tls-renegotiation-freely"]),
        Flag::value("listen-address", &["--listen-address"]).cosmetic(HOW_THE_LOGIN_LOOKS),
        Flag::value("local-server-cert", &["--local-server-cert"]).cosmetic(HOW_THE_LOGIN_LOOKS),
        Flag::value("local-server-key", &["--local-server-key"]).cosmetic(HOW_THE_LOGIN_LOOKS),
        Flag::value("open-url-after-authentication", &["--open-url-after-authentication"])
            .cosmetic(HOW_THE_LOGIN_LOOKS),
        Flag::switch("skip-open-browser", &["--skip-open-browser"]).cosmetic(HOW_THE_LOGIN_LOOKS),
        Flag::value("browser-command", &["--browser-command"]).cosmetic(HOW_THE_LOGIN_LOOKS),
        Flag::value("authentication-timeout-sec", &["--authentication-timeout-sec"]).cosmetic(HOW_THE_LOGIN_LOOKS),
        Flag::value("v", &["--v", "-v"]).cosmetic("logging only"),
    ],
    // Without --token-cache-dir, the token cache is $KUBECACHEDIR/oidc-login, with its
    // `~` expanded as the flag's.
    vars: &[&[Var::keyed("kubecachedir", &["KUBECACHEDIR"]).path(Expand::GoTilde)]],
};

/// The positionals before the flags, per program name.
fn subcommand(program: &str) -> &'static [&'static str] {
    match program {
        "kubectl" => &["oidc-login", "get-token"],
        _ => &["get-token"],
    }
}

impl Provider for KubeloginOidc {
    fn name(&self) -> &'static str {
        "kubelogin-oidc"
    }

    fn command(&self) -> &'static str {
        "kubelogin get-token --oidc-issuer-url ..."
    }

    fn description(&self) -> &'static str {
        "OIDC tokens from int128/kubelogin (also kubectl oidc-login)"
    }

    fn inputs(&self) -> &'static Inputs {
        &INPUTS
    }

    fn recognises(&self, program: &str, args: &ParsedArgs) -> bool {
        args.positionals == subcommand(program) && args.last("oidc-issuer-url").is_some()
    }

    fn identity(&self, args: &ParsedArgs, env: &dyn Env) -> Result<Identity, String> {
        let issuer = args
            .last("oidc-issuer-url")
            .ok_or("kubelogin get-token without --oidc-issuer-url")?;
        let mut scopes: Vec<&str> = args
            .all("oidc-extra-scope")
            .flat_map(|s| s.split(','))
            .filter(|s| !s.is_empty())
            .collect();
        scopes.sort_unstable();
        scopes.dedup();
        Ok(Identity::declared(issuer, args, env)?
            .with_shown("oidc-extra-scope", (!scopes.is_empty()).then(|| scopes.join(","))))
    }

    /// The default grant opens a browser; only the password and client-credentials
    /// grants never need a person.
    fn may_prompt(&self, args: &ParsedArgs, _env: &dyn Env) -> bool {
        !matches!(args.last("grant-type"), Some("password" | "client-credentials"))
    }

    /// Its token cache directory: a new login writes there, and `kubelogin clean`
    /// removes it. `--token-cache-dir`, else `$KUBECACHEDIR/oidc-login` (even empty),
    /// else `~/.kube/cache/oidc-login`; a leading `~` is then the home directory.
    fn credential_sources(&self, args: &ParsedArgs, env: &dyn Env) -> Vec<PathBuf> {
        let dir = match (args.last("token-cache-dir"), env.var("KUBECACHEDIR")) {
            (Some(dir), _) => dir.to_string(),
            (None, Some(cache)) if cache.is_empty() => "oidc-login".into(),
            (None, Some(cache)) => format!("{cache}/oidc-login"),
            (None, None) => "~/.kube/cache/oidc-login".into(),
        };
        expand_path(&dir, Expand::GoTilde, env).ok().into_iter().collect()
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

    fn id(a: &str) -> Identity {
        KubeloginOidc
            .identity(&parse(&args(a), &INPUTS), &HashMap::new())
            .unwrap()
    }

    fn may_prompt(a: &str) -> bool {
        KubeloginOidc.may_prompt(&parse(&args(a), &INPUTS), &HashMap::new())
    }

    const ISSUER: &str = "get-token --oidc-issuer-url https://issuer.example.com --oidc-client-id kube";

    #[test]
    fn keeps_the_provider_contract() {
        let not_mine: &[(&str, &[&str])] = &[
            ("kubelogin", &["get-token", "--login", "devicecode", "--server-id", "s"]),
            ("kubelogin", &["convert-kubeconfig", "--oidc-issuer-url", "https://i"]),
            ("kubectl", &["get", "pods", "--oidc-issuer-url", "https://i"]),
            ("kubelogin", &["get-token", "--oidc-client-id", "kube"]),
        ];
        for (program, words) in [
            ("kubelogin", &["get-token"][..]),
            ("kubectl-oidc_login", &["get-token"]),
            ("kubectl", &["oidc-login", "get-token"]),
        ] {
            let words: &'static [&'static str] = words;
            contract::check(
                &KubeloginOidc,
                &Invocation {
                    program,
                    words,
                    operands: &[],
                    flags: &[
                        ("--oidc-issuer-url", "https://issuer.example.com"),
                        ("--oidc-client-id", "kube"),
                        ("--oidc-extra-scope", "email"),
                        ("--token-cache-dir", "/home/me/.kube/cache/oidc-login"),
                        ("--oidc-client-secret", "s3cret"),
                        ("--skip-open-browser", ""),
                    ],
                    env: &[],
                },
                not_mine,
            );
        }
    }

    #[test]
    fn only_non_interactive_grants_may_run_unattended() {
        assert!(may_prompt(ISSUER));
        assert!(may_prompt(&format!("{ISSUER} --grant-type authcode-keyboard")));
        assert!(!may_prompt(&format!("{ISSUER} --grant-type password")));
        assert!(!may_prompt(&format!("{ISSUER} --grant-type=client-credentials")));
    }

    #[test]
    fn extra_scopes_are_a_set() {
        let a = id(&format!("{ISSUER} --oidc-extra-scope email --oidc-extra-scope profile"));
        for other in [
            format!("{ISSUER} --oidc-extra-scope profile --oidc-extra-scope email"),
            format!("{ISSUER} --oidc-extra-scope=profile,email"),
            format!("{ISSUER} --oidc-extra-scope email,profile --oidc-extra-scope email"),
        ] {
            assert_eq!(id(&other), a, "{other}");
        }
        assert_ne!(id(&format!("{ISSUER} --oidc-extra-scope email")), a);
        assert_ne!(id(ISSUER), a);
    }

    #[test]
    fn access_token_mode_is_another_identity() {
        assert_ne!(id(&format!("{ISSUER} --oidc-use-access-token")), id(ISSUER));
        assert_eq!(
            id(&format!("{ISSUER} --oidc-use-access-token")).part("oidc-use-access-token"),
            Some("true")
        );
    }

    #[test]
    fn secrets_are_keyed_by_digest_only() {
        let a = id(&format!(
            "{ISSUER} --oidc-client-secret s3cret --password hunter2 --oidc-request-header Authorization=Bearer.gw-key --oidc-auth-request-extra-params api_key=k3y"
        ));
        let text = format!("{a:?}");
        for secret in ["s3cret", "hunter2", "gw-key", "k3y"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert_ne!(
            a,
            id(&format!("{ISSUER} --oidc-client-secret other --password hunter2"))
        );
    }

    #[test]
    fn its_token_cache_directory_is_the_credential_source() {
        let sources = |a: &str, e: &[(&str, &str)]| -> Vec<String> {
            let env: HashMap<String, String> = e.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            KubeloginOidc
                .credential_sources(&parse(&args(a), &INPUTS), &env)
                .iter()
                .map(|p| p.display().to_string().replace('\\', "/"))
                .collect()
        };
        let slashed = |p: &str| crate::provider::absolute_text(p).replace('\\', "/");
        let home = [("HOME", "/home/me")];
        assert_eq!(sources(ISSUER, &home), [slashed("/home/me/.kube/cache/oidc-login")]);
        assert_eq!(
            sources(&format!("{ISSUER} --token-cache-dir ~/tc"), &home),
            [slashed("/home/me/tc")]
        );
        assert_eq!(
            sources(ISSUER, &[("HOME", "/home/me"), ("KUBECACHEDIR", "/k")]),
            [slashed("/k/oidc-login")]
        );
    }

    #[test]
    fn every_extra_parameter_and_header_counts() {
        let one = id(&format!("{ISSUER} --oidc-auth-request-extra-params prompt=login"));
        let two = id(&format!(
            "{ISSUER} --oidc-auth-request-extra-params login_hint=a@x --oidc-auth-request-extra-params prompt=login"
        ));
        assert_ne!(one, two);
        assert_ne!(
            id(&format!("{ISSUER} --oidc-request-header X-A=1")),
            id(&format!(
                "{ISSUER} --oidc-request-header X-A=1 --oidc-request-header X-B=2"
            ))
        );
        let cache = |v: &str| {
            KubeloginOidc
                .identity(
                    &parse(&args(ISSUER), &INPUTS),
                    &HashMap::from([("KUBECACHEDIR".to_string(), v.to_string())]),
                )
                .unwrap()
        };
        assert_ne!(
            cache("/a"),
            cache("/b"),
            "another token cache may hold another user's token"
        );
    }

    #[test]
    fn login_display_flags_do_not_split_the_cache() {
        assert_eq!(
            id(&format!("{ISSUER} --skip-open-browser --listen-address 127.0.0.1:8000")),
            id(ISSUER)
        );
    }
}

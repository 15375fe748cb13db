//! Provider for Azure's kubelogin: `kubelogin get-token --login MODE --server-id ID ...`.
//! int128's OIDC kubelogin has the same program name; this one is told apart by
//! `--server-id` (which it requires) and the absence of `--oidc-issuer-url`.
//!
//! Every variable it reads (`pkg/internal/env/variables.go`, `Options.UpdateFromEnv`) is
//! keyed whatever the login mode, so that none can slip past the key: over-separating
//! costs a fetch, under-separating would serve another identity's token.

use std::path::PathBuf;

use crate::provider::{Env, Expand, Flag, Identity, Inputs, ParsedArgs, Provider, Syntax, Var, expand_path};

pub struct KubeloginAzure;

inventory::submit! { &KubeloginAzure as &dyn Provider }

static INPUTS: Inputs = Inputs {
    programs: &["kubelogin"],
    syntax: Syntax::Pflag,
    flags: &[
        Flag::value("login", &["--login", "-l"]).shown(),
        Flag::value("server-id", &["--server-id"]).shown(),
        Flag::value("client-id", &["--client-id"]).shown(),
        Flag::value("tenant-id", &["--tenant-id", "-t"]).shown(),
        Flag::value("environment", &["--environment", "-e"]).shown(),
        Flag::value("client-secret", &["--client-secret"]),
        Flag::value("client-certificate", &["--client-certificate"]).path(Expand::AsGiven),
        Flag::value("client-certificate-password", &["--client-certificate-password"]),
        Flag::value("username", &["--username"]).shown(),
        Flag::value("password", &["--password"]),
        Flag::switch("pop-enabled", &["--pop-enabled"]),
        Flag::value("pop-claims", &["--pop-claims"]).shown(),
        Flag::value("identity-resource-id", &["--identity-resource-id"]).shown(),
        Flag::value("authority-host", &["--authority-host"]).shown(),
        Flag::value("federated-token-file", &["--federated-token-file"]).path(Expand::AsGiven),
        Flag::value(
            "azure-pipelines-service-connection-id",
            &["--azure-pipelines-service-connection-id"],
        )
        .shown(),
        // Both set one directory (the second is the deprecated name): the last given wins.
        // Opened as given, `~` and all (an empty KUBECACHEDIR is unset).
        Flag::value("cache-dir", &["--cache-dir", "--token-cache-dir"])
            .env(&["KUBECACHEDIR"])
            .path(Expand::AsGiven),
        Flag::value("subscription", &["--subscription", "-s"]).shown(),
        Flag::value("login-hint", &["--login-hint"]).shown(),
        Flag::switch("disable-instance-discovery", &["--disable-instance-discovery"]),
        Flag::switch("legacy", &["--legacy"]),
        Flag::switch("use-azurerm-env-vars", &["--use-azurerm-env-vars"]),
        Flag::switch("disable-environment-override", &["--disable-environment-override"]),
        Flag::value("redirect-url", &["--redirect-url"]).cosmetic("where a browser login returns to, not whose token"),
        Flag::value("timeout", &["--timeout"]).cosmetic("how long a login may take"),
        Flag::value("v", &["--v", "-v"]).cosmetic("logging only"),
    ],
    // kubelogin reads these in place of flags (unless told not to). They override the
    // flags, so they are keyed on their own rather than as the flags' fallbacks.
    vars: &[&[
        Var::keyed("AZURE_CLIENT_ID", &["AZURE_CLIENT_ID"]).shown(),
        Var::keyed("AZURE_TENANT_ID", &["AZURE_TENANT_ID"]).shown(),
        Var::keyed("AAD_SERVICE_PRINCIPAL_CLIENT_ID", &["AAD_SERVICE_PRINCIPAL_CLIENT_ID"]).shown(),
        Var::keyed("AAD_LOGIN_METHOD", &["AAD_LOGIN_METHOD"]).shown(),
        Var::keyed("AAD_USER_PRINCIPAL_NAME", &["AAD_USER_PRINCIPAL_NAME"]).shown(),
        Var::keyed("AZURE_AUTHORITY_HOST", &["AZURE_AUTHORITY_HOST"]).shown(),
        Var::keyed("AZURE_FEDERATED_TOKEN_FILE", &["AZURE_FEDERATED_TOKEN_FILE"]).path(Expand::AsGiven),
        Var::keyed("AZURE_CLIENT_CERTIFICATE_PATH", &["AZURE_CLIENT_CERTIFICATE_PATH"]).path(Expand::AsGiven),
        Var::keyed(
            "AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE",
            &["AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE"],
        )
        .path(Expand::AsGiven),
        Var::keyed("AZURE_CLIENT_SECRET", &["AZURE_CLIENT_SECRET"]),
        Var::keyed(
            "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET",
            &["AAD_SERVICE_PRINCIPAL_CLIENT_SECRET"],
        ),
        Var::keyed("AAD_USER_PRINCIPAL_PASSWORD", &["AAD_USER_PRINCIPAL_PASSWORD"]),
        Var::keyed(
            "AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE_PASSWORD",
            &["AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE_PASSWORD"],
        ),
        Var::keyed(
            "AZURE_CLIENT_CERTIFICATE_PASSWORD",
            &["AZURE_CLIENT_CERTIFICATE_PASSWORD"],
        ),
        Var::keyed("AZURE_USERNAME", &["AZURE_USERNAME"]).shown(),
        Var::keyed("AZURE_PASSWORD", &["AZURE_PASSWORD"]),
        // With --use-azurerm-env-vars: Terraform's names instead.
        Var::keyed("ARM_CLIENT_ID", &["ARM_CLIENT_ID"]).shown(),
        Var::keyed("ARM_CLIENT_SECRET", &["ARM_CLIENT_SECRET"]),
        Var::keyed("ARM_CLIENT_CERTIFICATE_PATH", &["ARM_CLIENT_CERTIFICATE_PATH"]).path(Expand::AsGiven),
        Var::keyed("ARM_CLIENT_CERTIFICATE_PASSWORD", &["ARM_CLIENT_CERTIFICATE_PASSWORD"]),
        Var::keyed("ARM_TENANT_ID", &["ARM_TENANT_ID"]).shown(),
        // --login azurepipelines.
        Var::keyed("AZURESUBSCRIPTION_CLIENT_ID", &["AZURESUBSCRIPTION_CLIENT_ID"]).shown(),
        Var::keyed("AZURESUBSCRIPTION_TENANT_ID", &["AZURESUBSCRIPTION_TENANT_ID"]).shown(),
        Var::keyed(
            "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID",
            &["AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"],
        )
        .shown(),
        Var::keyed("SYSTEM_ACCESSTOKEN", &["SYSTEM_ACCESSTOKEN"]),
        Var::keyed("SYSTEM_OIDCREQUESTURI", &["SYSTEM_OIDCREQUESTURI"]).shown(),
        // --login azurecli: whose Azure CLI login it is. The Azure CLI takes it as given
        // (`get_config_dir`: `os.getenv('AZURE_CONFIG_DIR') or expanduser('~/.azure')`).
        Var::keyed("AZURE_CONFIG_DIR", &["AZURE_CONFIG_DIR"]).path(Expand::AsGiven),
    ]],
};

/// kubelogin's login mode: `AAD_LOGIN_METHOD` overrides `--login` (unless
/// `--disable-environment-override`), and device code is the default.
fn login_mode(args: &ParsedArgs, env: &dyn Env) -> String {
    let from_env = args
        .last("disable-environment-override")
        .is_none_or(|v| v == "false")
        .then(|| env.var("AAD_LOGIN_METHOD"))
        .flatten();
    from_env
        .or_else(|| args.last("login").map(String::from))
        .unwrap_or_else(|| "devicecode".into())
}

impl Provider for KubeloginAzure {
    fn name(&self) -> &'static str {
        "kubelogin-azure"
    }

    fn command(&self) -> &'static str {
        "kubelogin get-token --server-id ..."
    }

    fn description(&self) -> &'static str {
        "Azure AD (Entra ID) tokens for AKS from Azure kubelogin"
    }

    fn inputs(&self) -> &'static Inputs {
        &INPUTS
    }

    fn recognises(&self, _program: &str, args: &ParsedArgs) -> bool {
        args.positionals == ["get-token"] && args.last("server-id").is_some()
            // int128's kubelogin flags are unknown here; its issuer flag marks its invocation.
            && !args.unknown.iter().any(|a| a.starts_with("--oidc-"))
    }

    fn identity(&self, args: &ParsedArgs, env: &dyn Env) -> Result<Identity, String> {
        let server_id = args
            .last("server-id")
            .ok_or("kubelogin get-token without --server-id")?;
        Identity::declared(server_id, args, env)
    }

    /// Device code (the default) and browser logins need a person; the others
    /// (azurecli, spn, msi, workloadidentity, ropc, ...) do not.
    fn may_prompt(&self, args: &ParsedArgs, env: &dyn Env) -> bool {
        matches!(login_mode(args, env).as_str(), "devicecode" | "interactive")
    }

    /// kubelogin's cache directory (`--cache-dir`, else `$KUBECACHEDIR`, else
    /// `~/.kube/cache/kubelogin`: the authentication record of a browser or device-code
    /// login); with `--login azurecli`, the Azure CLI's `azureProfile.json`
    /// (`$AZURE_CONFIG_DIR`, else `~/.azure`), which `az login`, `az logout` and `az
    /// account set` rewrite (Azure/kubelogin#137). Not the whole directory: every `az`
    /// command rewrites files there. Both paths as given: neither program expands them.
    fn credential_sources(&self, args: &ParsedArgs, env: &dyn Env) -> Vec<PathBuf> {
        let home = crate::provider::home_dir(env);
        let as_given = |dir: String| expand_path(&dir, Expand::AsGiven, env).ok();
        let mut sources: Vec<PathBuf> = match args.value("cache-dir", env) {
            Some(dir) => as_given(dir),
            None => home.as_ref().map(|h| h.join(".kube/cache/kubelogin")),
        }
        .into_iter()
        .collect();
        if login_mode(args, env) == "azurecli" {
            let azure = match env.var("AZURE_CONFIG_DIR").filter(|d| !d.is_empty()) {
                Some(dir) => as_given(dir),
                None => home.map(|h| h.join(".azure")),
            };
            sources.extend(azure.map(|dir| dir.join("azureProfile.json")));
        }
        sources
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

    fn may_prompt(a: &str, env: &HashMap<String, String>) -> bool {
        KubeloginAzure.may_prompt(&parse(&args(a), &INPUTS), env)
    }

    fn id(a: &str, env: &HashMap<String, String>) -> Identity {
        KubeloginAzure.identity(&parse(&args(a), &INPUTS), env).unwrap()
    }

    #[test]
    fn keeps_the_provider_contract() {
        contract::check(
            &KubeloginAzure,
            &Invocation {
                program: "kubelogin",
                words: &["get-token"],
                operands: &[],
                flags: &[
                    ("--login", "devicecode"),
                    ("--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"),
                    ("--client-id", "80faf920-1908-4b52-b5ef-a8e7bedfc67a"),
                    ("--tenant-id", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
                    ("--environment", "AzurePublicCloud"),
                    ("--timeout", "60s"),
                ],
                env: &[
                    ("AZURE_CLIENT_ID", "c"),
                    ("AZURE_TENANT_ID", "t"),
                    ("AAD_SERVICE_PRINCIPAL_CLIENT_ID", "sp"),
                ],
            },
            &[
                (
                    "kubelogin",
                    &["get-token", "--oidc-issuer-url", "https://i", "--oidc-client-id", "k"],
                ),
                (
                    "kubelogin",
                    &["get-token", "--oidc-issuer-url", "https://i", "--server-id", "s"],
                ),
                ("kubelogin", &["convert-kubeconfig", "--server-id", "s"]),
                ("kubelogin", &["get-token", "--login", "azurecli"]),
            ],
        );
    }

    #[test]
    fn device_code_and_browser_logins_need_a_person() {
        let none = HashMap::new();
        assert!(may_prompt("get-token --server-id s", &none));
        assert!(may_prompt("get-token -l interactive --server-id s", &none));
        assert!(!may_prompt("get-token -l azurecli --server-id s", &none));
        let env = HashMap::from([("AAD_LOGIN_METHOD".to_string(), "msi".to_string())]);
        assert!(!may_prompt("get-token --server-id s", &env));
        // The variable overrides the flag, unless told not to.
        let devicecode = HashMap::from([("AAD_LOGIN_METHOD".to_string(), "devicecode".to_string())]);
        assert!(may_prompt("get-token -l azurecli --server-id s", &devicecode));
        assert!(!may_prompt(
            "get-token -l azurecli --server-id s --disable-environment-override",
            &devicecode
        ));
    }

    #[test]
    fn every_variable_kubelogin_reads_separates_identities() {
        let base = id("get-token -l spn --server-id s", &HashMap::new());
        for var in [
            "ARM_CLIENT_ID",
            "ARM_CLIENT_SECRET",
            "ARM_TENANT_ID",
            "ARM_CLIENT_CERTIFICATE_PATH",
            "ARM_CLIENT_CERTIFICATE_PASSWORD",
            "AZURE_USERNAME",
            "AZURE_PASSWORD",
            "AZURE_CLIENT_CERTIFICATE_PASSWORD",
            "AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE_PASSWORD",
            "AZURESUBSCRIPTION_CLIENT_ID",
            "AZURESUBSCRIPTION_TENANT_ID",
            "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID",
            "SYSTEM_ACCESSTOKEN",
            "AZURE_CONFIG_DIR",
            "KUBECACHEDIR",
        ] {
            let env = HashMap::from([(var.to_string(), "value-1".to_string())]);
            let with = id("get-token -l spn --server-id s --use-azurerm-env-vars", &env);
            assert_ne!(with, base, "{var}");
            let other = HashMap::from([(var.to_string(), "value-2".to_string())]);
            assert_ne!(
                id("get-token -l spn --server-id s --use-azurerm-env-vars", &other),
                with,
                "{var}"
            );
        }
        for secret in ["ARM_CLIENT_SECRET", "AZURE_PASSWORD", "SYSTEM_ACCESSTOKEN"] {
            let env = HashMap::from([(secret.to_string(), "hunter2".to_string())]);
            assert!(!format!("{:?}", id("get-token --server-id s", &env)).contains("hunter2"));
        }
        // One directory, two names: the last given wins, as in kubelogin.
        assert_eq!(
            id(
                "get-token --server-id s --cache-dir /a --token-cache-dir /b",
                &HashMap::new()
            ),
            id("get-token --server-id s --cache-dir /b", &HashMap::new())
        );
    }

    #[test]
    fn its_cache_and_the_azure_cli_profile_are_credential_sources() {
        let sources = |a: &str, e: &[(&str, &str)]| -> Vec<String> {
            let env: HashMap<String, String> = e.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            KubeloginAzure
                .credential_sources(&parse(&args(a), &INPUTS), &env)
                .iter()
                .map(|p| p.display().to_string().replace('\\', "/"))
                .collect()
        };
        let home = [("HOME", "/home/me")];
        assert_eq!(
            sources("get-token --server-id s", &home),
            ["/home/me/.kube/cache/kubelogin"]
        );
        let cwd = std::env::current_dir().unwrap();
        let cwd = cwd.to_str().unwrap().replace('\\', "/");
        assert_eq!(
            sources("get-token -l azurecli --server-id s --cache-dir ~/kl", &home),
            [format!("{cwd}/~/kl"), "/home/me/.azure/azureProfile.json".into()],
            "kubelogin opens ~/kl as given"
        );
        let moved = sources(
            "get-token --server-id s",
            &[
                ("HOME", "/home/me"),
                ("KUBECACHEDIR", "/c"),
                ("AAD_LOGIN_METHOD", "azurecli"),
                ("AZURE_CONFIG_DIR", "/az"),
            ],
        );
        let slashed = |p: &str| crate::provider::absolute_text(p).replace('\\', "/");
        assert_eq!(moved, [slashed("/c"), slashed("/az/azureProfile.json")]);
    }

    #[test]
    fn short_flags_and_secrets() {
        let env = HashMap::from([("AZURE_CLIENT_SECRET".to_string(), "sp-secret".to_string())]);
        let long = id(
            "get-token --login spn --server-id s --tenant-id t --environment AzurePublicCloud",
            &env,
        );
        let short = id("get-token -l spn --server-id s -t t -e AzurePublicCloud", &env);
        assert_eq!(long, short);
        assert!(!format!("{long:?}").contains("sp-secret"));
        let other = HashMap::from([("AZURE_CLIENT_SECRET".to_string(), "another".to_string())]);
        assert_ne!(
            id("get-token -l spn --server-id s -t t -e AzurePublicCloud", &other),
            long
        );
    }
}

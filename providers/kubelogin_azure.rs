//! Provider for Azure's kubelogin: `kubelogin get-token --login MODE --server-id ID ...`.
//! int128's OIDC kubelogin has the same program name; this one is told apart by
//! `--server-id` (which it requires) and the absence of `--oidc-issuer-url`.

use crate::provider::{Env, Flag, Identity, Inputs, ParsedArgs, Provider, Syntax, Var};

pub struct KubeloginAzure;

inventory::submit! { &KubeloginAzure as &dyn Provider }

static INPUTS: Inputs = Inputs {
    programs: &["kubelogin"],
    syntax: Syntax::Pflag,
    flags: &[
        Flag::value("login", &["--login", "-l"]),
        Flag::value("server-id", &["--server-id"]),
        Flag::value("client-id", &["--client-id"]),
        Flag::value("tenant-id", &["--tenant-id", "-t"]),
        Flag::value("environment", &["--environment", "-e"]),
        Flag::value("client-secret", &["--client-secret"]).secret(),
        Flag::value("client-certificate", &["--client-certificate"]),
        Flag::value("client-certificate-password", &["--client-certificate-password"]).secret(),
        Flag::value("username", &["--username"]),
        Flag::value("password", &["--password"]).secret(),
        Flag::switch("pop-enabled", &["--pop-enabled"]),
        Flag::value("pop-claims", &["--pop-claims"]),
        Flag::value("identity-resource-id", &["--identity-resource-id"]),
        Flag::value("authority-host", &["--authority-host"]),
        Flag::value("federated-token-file", &["--federated-token-file"]),
        Flag::value(
            "azure-pipelines-service-connection-id",
            &["--azure-pipelines-service-connection-id"],
        ),
        Flag::value("cache-dir", &["--cache-dir"]),
        Flag::value("token-cache-dir", &["--token-cache-dir"]),
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
        Var::keyed("AZURE_CLIENT_ID", &["AZURE_CLIENT_ID"]),
        Var::keyed("AZURE_TENANT_ID", &["AZURE_TENANT_ID"]),
        Var::keyed("AAD_SERVICE_PRINCIPAL_CLIENT_ID", &["AAD_SERVICE_PRINCIPAL_CLIENT_ID"]),
        Var::keyed("AAD_LOGIN_METHOD", &["AAD_LOGIN_METHOD"]),
        Var::keyed("AAD_USER_PRINCIPAL_NAME", &["AAD_USER_PRINCIPAL_NAME"]),
        Var::keyed("AZURE_AUTHORITY_HOST", &["AZURE_AUTHORITY_HOST"]),
        Var::keyed("AZURE_FEDERATED_TOKEN_FILE", &["AZURE_FEDERATED_TOKEN_FILE"]),
        Var::keyed("AZURE_CLIENT_CERTIFICATE_PATH", &["AZURE_CLIENT_CERTIFICATE_PATH"]),
        Var::keyed(
            "AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE",
            &["AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE"],
        ),
        Var::keyed("AZURE_CLIENT_SECRET", &["AZURE_CLIENT_SECRET"]).secret(),
        Var::keyed(
            "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET",
            &["AAD_SERVICE_PRINCIPAL_CLIENT_SECRET"],
        )
        .secret(),
        Var::keyed("AAD_USER_PRINCIPAL_PASSWORD", &["AAD_USER_PRINCIPAL_PASSWORD"]).secret(),
    ]],
};

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
        Ok(Identity::declared(server_id, args, env))
    }

    /// Device code (the default) and browser logins need a person; the others
    /// (azurecli, spn, msi, workloadidentity, ropc, ...) do not.
    fn may_prompt(&self, args: &ParsedArgs, env: &dyn Env) -> bool {
        let login = args
            .last("login")
            .map(String::from)
            .or_else(|| env.var("AAD_LOGIN_METHOD"));
        matches!(login.as_deref(), None | Some("devicecode" | "interactive"))
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

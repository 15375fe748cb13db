//! Provider for Azure's kubelogin: `kubelogin get-token --login MODE --server-id ID ...`.
//! int128's OIDC kubelogin has the same program name; this one is told apart by
//! `--server-id` (which it requires) and the absence of `--oidc-issuer-url`.

use crate::args::{self, Flag, ParsedArgs};
use crate::provider::{Env, Identity, Provider};

pub struct KubeloginAzure;

inventory::submit! { &KubeloginAzure as &dyn Provider }

const FLAGS: &[Flag] = &[
    Flag::value("login", &["--login", "-l"]),
    Flag::value("server-id", &["--server-id"]),
    Flag::value("client-id", &["--client-id"]),
    Flag::value("tenant-id", &["--tenant-id", "-t"]),
    Flag::value("environment", &["--environment", "-e"]),
    Flag::value("client-secret", &["--client-secret"]),
    Flag::value("client-certificate", &["--client-certificate"]),
    Flag::value("client-certificate-password", &["--client-certificate-password"]),
    Flag::value("username", &["--username"]),
    Flag::value("password", &["--password"]),
    Flag::switch("pop-enabled", &["--pop-enabled"]),
    Flag::value("pop-claims", &["--pop-claims"]),
    Flag::value("identity-resource-id", &["--identity-resource-id"]),
    Flag::value("authority-host", &["--authority-host"]),
    Flag::value("federated-token-file", &["--federated-token-file"]),
    Flag::value("azure-pipelines-service-connection-id", &["--azure-pipelines-service-connection-id"]),
    Flag::value("cache-dir", &["--cache-dir"]),
    Flag::value("token-cache-dir", &["--token-cache-dir"]),
    Flag::switch("legacy", &["--legacy"]),
    Flag::switch("use-azurerm-env-vars", &["--use-azurerm-env-vars"]),
    Flag::switch("disable-environment-override", &["--disable-environment-override"]),
    Flag::value("redirect-url", &["--redirect-url"]),
    Flag::value("timeout", &["--timeout"]),
    Flag::value("v", &["--v", "-v"]),
];

const KEYED_AS_GIVEN: &[&str] = &[
    "login",
    "server-id",
    "client-id",
    "tenant-id",
    "environment",
    "client-certificate",
    "username",
    "pop-enabled",
    "pop-claims",
    "identity-resource-id",
    "authority-host",
    "federated-token-file",
    "azure-pipelines-service-connection-id",
    "cache-dir",
    "token-cache-dir",
    "legacy",
    "use-azurerm-env-vars",
    "disable-environment-override",
];

/// Environment variables kubelogin reads in place of flags (unless told not to).
const KEYED_ENV: &[&str] = &[
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AAD_SERVICE_PRINCIPAL_CLIENT_ID",
    "AAD_LOGIN_METHOD",
    "AAD_USER_PRINCIPAL_NAME",
    "AZURE_AUTHORITY_HOST",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE",
];
const SECRET_ENV: &[&str] = &["AZURE_CLIENT_SECRET", "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET", "AAD_USER_PRINCIPAL_PASSWORD"];

fn parse(args: &[String]) -> ParsedArgs {
    args::parse(args, FLAGS)
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

    fn recognises(&self, program: &str, args: &[String]) -> bool {
        if program != "kubelogin" {
            return false;
        }
        let parsed = parse(args);
        parsed.positionals == ["get-token"] && parsed.last("server-id").is_some()
            // int128's kubelogin flags are unknown here; its issuer flag marks its invocation.
            && !parsed.unknown.iter().any(|a| a.starts_with("--oidc-"))
    }

    fn identity(&self, args: &[String], env: &dyn Env) -> Result<Identity, String> {
        let parsed = parse(args);
        let server_id = parsed.last("server-id").ok_or("kubelogin get-token without --server-id")?;
        let mut id = Identity::new(server_id)
            .with_secret("client-secret", parsed.last("client-secret"))
            .with_secret("client-certificate-password", parsed.last("client-certificate-password"))
            .with_secret("password", parsed.last("password"));
        id = id.with_flags(&parsed, KEYED_AS_GIVEN);
        for var in KEYED_ENV {
            id = id.with(var, env.var(var));
        }
        for var in SECRET_ENV {
            id = id.with_secret(var, env.var(var));
        }
        id.unknown_args = parsed.unknown;
        Ok(id)
    }

    /// Device code (the default) and browser logins need a person; the others
    /// (azurecli, spn, msi, workloadidentity, ropc, ...) do not.
    fn may_prompt(&self, args: &[String], env: &dyn Env) -> bool {
        let parsed = parse(args);
        let login = parsed.last("login").map(String::from).or_else(|| env.var("AAD_LOGIN_METHOD"));
        matches!(login.as_deref(), None | Some("devicecode" | "interactive"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider_contract::{self, Invocation};
    use std::collections::HashMap;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn keeps_the_provider_contract() {
        provider_contract::check(
            &KubeloginAzure,
            &Invocation {
                program: "kubelogin",
                positionals: &["get-token"],
                flags: &[
                    ("--login", "devicecode"),
                    ("--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"),
                    ("--client-id", "80faf920-1908-4b52-b5ef-a8e7bedfc67a"),
                    ("--tenant-id", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
                    ("--environment", "AzurePublicCloud"),
                ],
                env: &[("AZURE_CLIENT_ID", "c"), ("AZURE_TENANT_ID", "t"), ("AAD_SERVICE_PRINCIPAL_CLIENT_ID", "sp")],
            },
            &[
                ("kubelogin", &["get-token", "--oidc-issuer-url", "https://i", "--oidc-client-id", "k"]),
                ("kubelogin", &["get-token", "--oidc-issuer-url", "https://i", "--server-id", "s"]),
                ("kubelogin", &["convert-kubeconfig", "--server-id", "s"]),
                ("kubelogin", &["get-token", "--login", "azurecli"]),
            ],
        );
    }

    #[test]
    fn device_code_and_browser_logins_need_a_person() {
        let none = HashMap::new();
        assert!(KubeloginAzure.may_prompt(&args("get-token --server-id s"), &none));
        assert!(KubeloginAzure.may_prompt(&args("get-token -l interactive --server-id s"), &none));
        assert!(!KubeloginAzure.may_prompt(&args("get-token -l azurecli --server-id s"), &none));
        let env = HashMap::from([("AAD_LOGIN_METHOD".to_string(), "msi".to_string())]);
        assert!(!KubeloginAzure.may_prompt(&args("get-token --server-id s"), &env));
    }

    #[test]
    fn short_flags_and_secrets() {
        let env = HashMap::from([("AZURE_CLIENT_SECRET".to_string(), "sp-secret".to_string())]);
        let long = KubeloginAzure
            .identity(&args("get-token --login spn --server-id s --tenant-id t --environment AzurePublicCloud"), &env)
            .unwrap();
        let short = KubeloginAzure.identity(&args("get-token -l spn --server-id s -t t -e AzurePublicCloud"), &env).unwrap();
        assert_eq!(long, short);
        assert!(!format!("{long:?}").contains("sp-secret"));
        let other = HashMap::from([("AZURE_CLIENT_SECRET".to_string(), "another".to_string())]);
        assert_ne!(KubeloginAzure.identity(&args("get-token -l spn --server-id s -t t -e AzurePublicCloud"), &other).unwrap(), long);
    }
}

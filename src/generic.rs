//! Opt-in caching of any exec plugin: `kubecredcache --generic [--key-env NAME]... --
//! COMMAND ARGS...`. Not registered as a provider, since it must never claim a command
//! by itself: the user asks for it, and says which environment variables change the
//! token. The key is the program, every argument in order, and those variables.

use crate::provider::{Env, Identity, Inputs, PROGRAM_PART, ParsedArgs, Provider, Syntax, secret_digest};

/// No flags: the command line is keyed whole, in order.
static INPUTS: Inputs = Inputs {
    programs: &[],
    syntax: Syntax::Pflag,
    flags: &[],
    vars: &[],
};

pub struct Generic {
    /// The program as given (name or path).
    pub program: String,
    /// Environment variables that change the token (`--key-env`).
    pub key_env: Vec<String>,
}

impl Provider for Generic {
    fn name(&self) -> &'static str {
        "generic"
    }

    fn command(&self) -> &'static str {
        "--generic -- COMMAND ..."
    }

    fn description(&self) -> &'static str {
        "any exec plugin, keyed by its full command line and --key-env variables"
    }

    fn inputs(&self) -> &'static Inputs {
        &INPUTS
    }

    fn recognises(&self, _program: &str, _args: &ParsedArgs) -> bool {
        true
    }

    fn identity(&self, args: &ParsedArgs, env: &dyn Env) -> Result<Identity, String> {
        let file_name = std::path::Path::new(&self.program)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        let mut id = Identity::new(format!("generic-{}", file_name.unwrap_or_default()))
            .with_shown(PROGRAM_PART, Some(&self.program));
        // With `provideClusterInfo`, kubectl tells the plugin which cluster it is for:
        // two clusters that share one exec user may get two tokens.
        let cluster_info = env.var("KUBERNETES_EXEC_INFO").and_then(|info| {
            let info: serde_json::Value = serde_json::from_str(&info).ok()?;
            let cluster = info.get("spec")?.get("cluster")?;
            (!cluster.is_null()).then(|| secret_digest(cluster.to_string().as_bytes()))
        });
        // A digest already: the server's address is the user's business.
        id = id.with_shown("cluster-info", cluster_info);
        for name in &self.key_env {
            // The value may well be a secret (a Vault token): it enters the key and the
            // cache file only as a digest. `NAME` alone when unset, so that unset and
            // empty stay two identities.
            let value = env
                .var(name)
                .map_or_else(|| name.clone(), |v| format!("{name}={}", secret_digest(v.as_bytes())));
            id.parts.push(("env", value));
        }
        // Order matters to a program we know nothing about: keep it.
        id.unknown_args = args.raw.to_vec();
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::parse;
    use std::collections::HashMap;

    #[test]
    fn the_key_is_the_whole_command_line_and_the_named_variables() {
        let g = Generic {
            program: "/opt/bin/vault-login".into(),
            key_env: vec!["VAULT_ADDR".into()],
        };
        let env = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<HashMap<_, _>>()
        };
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let identity = |a: &[String], e: &HashMap<String, String>| g.identity(&parse(a, g.inputs()), e).unwrap();
        let base = identity(&args(&["--role", "dev"]), &env(&[("VAULT_ADDR", "https://v")]));
        assert_eq!(base.cluster, "generic-vault-login");
        for (a, e) in [
            (args(&["dev", "--role"]), env(&[("VAULT_ADDR", "https://v")])),
            (args(&["--role", "prod"]), env(&[("VAULT_ADDR", "https://v")])),
            (args(&["--role", "dev"]), env(&[("VAULT_ADDR", "https://w")])),
            (args(&["--role", "dev"]), env(&[("VAULT_ADDR", "")])),
            (args(&["--role", "dev"]), env(&[])),
        ] {
            assert_ne!(identity(&a, &e), base, "{a:?} {e:?}");
        }
        assert!(!format!("{base:?}").contains("https://v"), "values only as digests");
        let info = |server: &str| {
            let mut e = env(&[("VAULT_ADDR", "https://v")]);
            e.insert(
                "KUBERNETES_EXEC_INFO".into(),
                format!(r#"{{"apiVersion":"client.authentication.k8s.io/v1","spec":{{"interactive":false,"cluster":{{"server":"{server}"}}}}}}"#),
            );
            identity(&args(&["--role", "dev"]), &e)
        };
        assert_ne!(
            info("https://a"),
            info("https://b"),
            "provideClusterInfo: one token per cluster"
        );
        assert_ne!(info("https://a"), base);
        let other_var = env(&[("VAULT_ADDR", "https://v"), ("UNLISTED", "x")]);
        assert_eq!(
            identity(&args(&["--role", "dev"]), &other_var),
            base,
            "unlisted variables do not count"
        );
    }
}

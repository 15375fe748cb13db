//! Provider for Teleport: `tsh [GLOBAL FLAGS] kube credentials --kube-cluster K
//! --teleport-cluster T [--proxy P] [--user U]`, which `tsh kube login` writes into
//! kubeconfigs. Its credential is a client certificate and key for the Kubernetes
//! cluster, which it reissues (after a new login, if the old one expired) when the
//! one in its profile has expired; tools that run it in parallel start a login in a
//! browser tab each (gravitational/teleport#26102, #22494).
//!
//! Read as tsh reads it (tool/tsh/common/tsh.go, kube.go): kingpin, with the global
//! flags anywhere on the line (`Interspersed(true)`), each with its `TELEPORT_*`
//! variable in its place. Keyed: the two clusters, the proxy, user, login, auth
//! connector, identity file and the other global flags that choose whose certificate
//! is used. The profile directory, `TELEPORT_HOME` or else `~/.tsh`, is a credential
//! source: `tsh login` and `tsh logout` rewrite its `PROXY.yaml` and `current-profile`,
//! and the next run fetches afresh; so is the proxy's key directory below it, where
//! the certificates are. Reissuing may need a login: never refreshed in the background.

use std::path::PathBuf;

use crate::provider::{Env, Expand, Flag, Identity, Inputs, ParsedArgs, Provider, Syntax, Var, expand_path};

pub struct TeleportTsh;

inventory::submit! { &TeleportTsh as &dyn Provider }

const NOT_THE_CERTIFICATE: &str = "does not change the certificate printed";

static INPUTS: Inputs = Inputs {
    programs: &["tsh"],
    syntax: Syntax::Click,
    flags: &[
        Flag::value("kube-cluster", &["--kube-cluster"]).shown(),
        Flag::value("teleport-cluster", &["--teleport-cluster"]).shown(),
        Flag::value("proxy", &["--proxy"]).env(&["TELEPORT_PROXY"]).shown(),
        Flag::value("user", &["--user"]).env(&["TELEPORT_USER"]).shown(),
        Flag::value("login", &["--login", "-l"])
            .env(&["TELEPORT_LOGIN"])
            .shown(),
        Flag::value("auth", &["--auth"]).env(&["TELEPORT_AUTH"]).shown(),
        // utils.InitCLIParser's identity file: opened as given.
        Flag::value("identity", &["--identity", "-i"])
            .env(&["TELEPORT_IDENTITY_FILE"])
            .path(Expand::AsGiven),
        Flag::value("ttl", &["--ttl"]).shown(),
        Flag::value("cert-format", &["--cert-format"]).shown(),
        Flag::switch("insecure", &["--insecure"]),
        Flag::switch("headless", &["--headless"]),
        Flag::value("mfa-mode", &["--mfa-mode"])
            .env(&["TELEPORT_MFA_MODE"])
            .shown(),
        Flag::value("piv-slot", &["--piv-slot"])
            .env(&["TELEPORT_PIV_SLOT"])
            .shown(),
        Flag::value("add-keys-to-agent", &["--add-keys-to-agent", "-k"])
            .env(&["TELEPORT_ADD_KEYS_TO_AGENT"])
            .shown(),
        Flag::value("mlock", &["--mlock"]).env(&["TELEPORT_MLOCK_MODE"]).shown(),
        Flag::value("jumphost", &["--jumphost", "-J"]).shown(),
        Flag::switch("skip-version-check", &["--skip-version-check"]),
        Flag::switch("debug", &["--debug", "-d"]).cosmetic(NOT_THE_CERTIFICATE),
        Flag::value("bind-addr", &["--bind-addr"])
            .env(&["TELEPORT_LOGIN_BIND_ADDR"])
            .cosmetic("where a login's callback listens"),
        Flag::value("callback", &["--callback"]).cosmetic("where a login's callback is shown"),
        Flag::value("browser-login", &["--browser-login"])
            .env(&["TELEPORT_LOGIN_BROWSER"])
            .cosmetic("which browser a login opens"),
    ],
    vars: &[&[
        // The profile directory: `~` expanded by the profile package (FullProfilePath).
        Var::keyed("teleport-home", &["TELEPORT_HOME"]).path(Expand::GoTilde),
        Var::keyed("teleport-cluster-variable", &["TELEPORT_CLUSTER"]).shown(),
        Var::keyed("teleport-site", &["TELEPORT_SITE"]).shown(),
        Var::keyed("kube-cluster-variable", &["TELEPORT_KUBE_CLUSTER"]).shown(),
    ]],
};

impl Provider for TeleportTsh {
    fn name(&self) -> &'static str {
        "teleport-tsh"
    }

    fn command(&self) -> &'static str {
        "tsh kube credentials --kube-cluster ..."
    }

    fn description(&self) -> &'static str {
        "Teleport client certificates for Kubernetes from tsh"
    }

    fn inputs(&self) -> &'static Inputs {
        &INPUTS
    }

    fn recognises(&self, _program: &str, args: &ParsedArgs) -> bool {
        args.positionals == ["kube", "credentials"] && !crate::provider::kingpin_reads_an_arguments_file(args.raw)
    }

    fn identity(&self, args: &ParsedArgs, env: &dyn Env) -> Result<Identity, String> {
        let kube = args
            .last("kube-cluster")
            .ok_or("tsh kube credentials without --kube-cluster")?;
        let teleport = args.last("teleport-cluster").unwrap_or_default();
        Identity::declared(format!("{teleport}-{kube}"), args, env)
    }

    /// The profile directory (its profiles and `current-profile`), its `keys`
    /// directory, and the proxy's directory of keys and certificates when the proxy is
    /// given.
    fn credential_sources(&self, args: &ParsedArgs, env: &dyn Env) -> Vec<PathBuf> {
        let Some(home) = profile_dir(env) else {
            return Vec::new();
        };
        let keys = home.join("keys");
        let mut sources = vec![home, keys.clone()];
        if let Some(proxy) = args.value("proxy", env) {
            // tsh names a profile by the proxy's host (utils.Host).
            let host = proxy.rsplit_once(':').map_or(proxy.as_str(), |(host, _)| host);
            if !host.is_empty() && !host.contains(['/', '\\']) && host != ".." {
                sources.push(keys.join(host));
            }
        }
        sources
    }

    fn may_prompt(&self, _args: &ParsedArgs, _env: &dyn Env) -> bool {
        true
    }
}

/// `TELEPORT_HOME`, else `~/.tsh`.
fn profile_dir(env: &dyn Env) -> Option<PathBuf> {
    match env.var("TELEPORT_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => expand_path(&dir, Expand::GoTilde, env).ok(),
        None => crate::provider::home_dir(env).map(|h| h.join(".tsh")),
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
            &TeleportTsh,
            &Invocation {
                program: "tsh",
                words: &["kube", "credentials"],
                operands: &[],
                flags: &[
                    ("--kube-cluster", "prod"),
                    ("--teleport-cluster", "teleport.example.com"),
                    ("--proxy", "teleport.example.com:443"),
                    ("--debug", ""),
                ],
                env: &[("TELEPORT_USER", "alice")],
            },
            &[("tsh", &["kube", "login", "prod"]), ("tsh", &["login"])],
        );
    }

    fn key(line: &[&str], env: &[(&str, &str)]) -> Identity {
        let args: Vec<String> = line.iter().map(|s| s.to_string()).collect();
        let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        TeleportTsh.identity(&parse(&args, &INPUTS), &env).unwrap()
    }

    #[test]
    fn global_flags_anywhere_and_each_flag_its_variable() {
        let base = ["kube", "credentials", "--kube-cluster=k", "--teleport-cluster=t"];
        let flag = key(&[&["--proxy=p:443"][..], &base].concat(), &[]);
        assert_eq!(key(&[&base[..], &["--proxy", "p:443"]].concat(), &[]), flag);
        assert_eq!(key(&base, &[("TELEPORT_PROXY", "p:443")]), flag);
        assert_eq!(flag.cluster, "t-k");
    }

    #[test]
    fn the_profile_directory_is_a_source() {
        let args: Vec<String> = ["kube", "credentials", "--kube-cluster=k", "--proxy=p.example.com:3080"]
            .map(String::from)
            .to_vec();
        let env: HashMap<String, String> = [("HOME".to_string(), "/h".to_string())].into();
        let sources = TeleportTsh.credential_sources(&parse(&args, &INPUTS), &env);
        let h = std::path::Path::new("/h/.tsh");
        assert_eq!(sources, [h.to_path_buf(), h.join("keys"), h.join("keys/p.example.com")]);
    }
}

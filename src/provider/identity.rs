//! `Identity`: whose token a command prints, as a provider reads it from the command's
//! arguments and environment. Equal identities share a cached token; any difference
//! gives another cache entry.

use super::ParsedArgs;
use super::inputs::first_set;

/// The process environment as a provider sees it.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

/// The real environment. Values that are not UTF-8 are converted without collisions.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var_os(name).map(|v| super::args::os_to_string(&v))
    }
}

impl Env for std::collections::HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// Who a token belongs to. Two invocations with equal identities (and the same provider)
/// share a cached token; any difference gives another cache entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Identity {
    /// Cluster name or id: it names the cache file.
    pub cluster: String,
    /// Every other part that changes the token, such as `("region", "us-west-2")`.
    /// Parts that are not set are left out; order does not matter.
    pub parts: Vec<(&'static str, String)>,
    /// Arguments the provider does not understand, kept verbatim so that they still
    /// separate identities.
    pub unknown_args: Vec<String>,
}

impl Identity {
    pub fn new(cluster: impl Into<String>) -> Identity {
        Identity {
            cluster: cluster.into(),
            ..Identity::default()
        }
    }

    /// The identity that `args` and `env` give under the declarations `args` were parsed
    /// with: every keyed flag (else its fallback variables), every keyed variable,
    /// secrets as digests only, and every argument the table does not know, verbatim.
    /// Flags declared `read_by_provider` are the caller's to add.
    pub fn declared(cluster: impl Into<String>, args: &ParsedArgs, env: &dyn Env) -> Identity {
        let inputs = args.inputs();
        let mut id = Identity::new(cluster);
        for flag in inputs.flags.iter().filter(|f| f.is_keyed()) {
            let value = args
                .last(flag.key)
                .map(String::from)
                .or_else(|| first_set(flag.env, env));
            id = id.with_maybe_secret(flag.key, value, flag.secret);
        }
        for var in inputs.all_vars().filter(|v| v.is_keyed()) {
            id = id.with_maybe_secret(var.key, first_set(var.names, env), var.secret);
        }
        id.unknown_args = args.unknown.clone();
        id
    }

    /// Adds a part if it has a value.
    pub fn with(mut self, name: &'static str, value: Option<impl Into<String>>) -> Identity {
        if let Some(v) = value {
            self.parts.push((name, v.into()));
        }
        self
    }

    /// Adds a part whose value is a secret (a client secret, a session token): only a
    /// short SHA-256 of it enters the key, so it separates identities without being
    /// written anywhere.
    pub fn with_secret(self, name: &'static str, secret: Option<impl AsRef<[u8]>>) -> Identity {
        self.with(name, secret.map(|s| secret_digest(s.as_ref())))
    }

    fn with_maybe_secret(self, name: &'static str, value: Option<String>, secret: bool) -> Identity {
        if secret {
            self.with_secret(name, value)
        } else {
            self.with(name, value)
        }
    }

    /// The value of a part, if set.
    pub fn part(&self, name: &str) -> Option<&str> {
        self.parts.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

/// `sha256:` and the first 16 hex digits of the SHA-256 of `secret`.
pub fn secret_digest(secret: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(secret);
    // On every AWS cache hit: no formatting machinery for 16 hex digits.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(23);
    out.push_str("sha256:");
    for b in digest.iter().take(8) {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::inputs::{Flag, Inputs, Syntax, Var};
    use crate::provider::parse;
    use std::collections::HashMap;

    #[test]
    fn secrets_enter_the_identity_only_as_a_digest() {
        let id = Identity::new("c")
            .with_secret("client-secret", Some("hunter2"))
            .with_secret("none", None::<&str>);
        let value = id.part("client-secret").unwrap();
        assert!(!value.contains("hunter2"));
        // SHA-256("hunter2") = f52fbd32b2b3b86ff88ef6c490628285f482af15ddcb29541f94bcf526a3f6c7
        assert_eq!(value, "sha256:f52fbd32b2b3b86f");
        assert_ne!(secret_digest(b"a"), secret_digest(b"b"));
        assert_eq!(id.part("none"), None);
    }

    #[test]
    fn identity_with_leaves_out_unset_parts() {
        let id = Identity::new("c")
            .with("region", Some("r"))
            .with("profile", None::<String>);
        assert_eq!(id.part("region"), Some("r"));
        assert_eq!(id.part("profile"), None);
        assert_eq!(id.parts.len(), 1);
    }

    static DECLARED: Inputs = Inputs {
        programs: &["p"],
        syntax: Syntax::Pflag,
        flags: &[
            Flag::value("region", &["--region"]).env(&["REGION"]),
            Flag::value("password", &["--password"]).secret(),
            Flag::switch("verbose", &["-v"]).cosmetic("logging"),
            Flag::value("scope", &["--scope"]).read_by_provider("a set"),
        ],
        vars: &[&[
            Var::keyed("key-id", &["KEY_ID"]),
            Var::keyed("token", &["TOKEN"]).secret(),
        ]],
    };

    #[test]
    fn the_declarations_decide_what_is_keyed_and_how() {
        let args: Vec<String> = ["--password", "pw", "-v", "--scope", "s", "--odd", "x"]
            .map(String::from)
            .to_vec();
        let env: HashMap<String, String> = [("REGION", "r"), ("KEY_ID", "k"), ("TOKEN", "t0k")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into();
        let id = Identity::declared("c", &parse(&args, &DECLARED), &env);
        assert_eq!(id.part("region"), Some("r"), "a flag's fallback variable");
        assert_eq!(id.part("key-id"), Some("k"));
        assert_eq!(id.part("password"), Some(secret_digest(b"pw").as_str()));
        assert_eq!(id.part("token"), Some(secret_digest(b"t0k").as_str()));
        assert_eq!(id.part("verbose"), None, "cosmetic");
        assert_eq!(id.part("scope"), None, "the provider's to add");
        assert_eq!(id.unknown_args, ["--odd"]);
    }
}

//! `Identity`: whose token a command prints, as a provider reads it from the command's
//! arguments and environment. Equal identities share a cached token; any difference
//! gives another cache entry.

use super::ParsedArgs;
use super::inputs::{EnvOrder, Flag};

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
            id.add_flag(flag, args, env);
        }
        for var in inputs.all_vars().filter(|v| v.is_keyed()) {
            id.add_variables(var.key, var.names, EnvOrder::FirstSet, var.secret, env);
        }
        id.unknown_args = args.unknown.clone();
        id
    }

    /// Keys `flag` as the program reads it: its value as given (every value, in order,
    /// for a repeatable flag), else its fallback variables.
    pub fn add_flag(&mut self, flag: &Flag, args: &ParsedArgs, env: &dyn Env) {
        if flag.repeatable {
            let values: Vec<&str> = args.all(flag.key).collect();
            if !values.is_empty() {
                let list = serde_json::to_string(&values).expect("strings serialize");
                self.push(flag.key, list, flag.secret);
                return;
            }
        } else if let Some(value) = args.last(flag.key).filter(|v| !flag.is_unset(v)) {
            self.push(flag.key, value.to_string(), flag.secret);
            return;
        }
        self.add_variables(flag.key, flag.env, flag.env_order, flag.secret, env);
    }

    /// Keys the variables `names` under `key`. In order: the first that is set and not
    /// empty, with any empty one before it under its own name (a Go program skips it, a
    /// Python program does not). In any order: the value when those set agree, else each
    /// under its own name.
    fn add_variables(
        &mut self,
        key: &'static str,
        names: &'static [&'static str],
        order: EnvOrder,
        secret: bool,
        env: &dyn Env,
    ) {
        match order {
            EnvOrder::FirstSet => {
                for name in names {
                    match env.var(name) {
                        None => {}
                        Some(empty) if empty.is_empty() => self.push(name, empty, secret),
                        Some(value) => return self.push(key, value, secret),
                    }
                }
            }
            EnvOrder::AnyOrder => {
                let set: Vec<(&'static str, String)> =
                    names.iter().filter_map(|n| env.var(n).map(|v| (*n, v))).collect();
                let Some((_, first)) = set.first() else { return };
                if set.iter().all(|(_, v)| v == first) {
                    let first = first.clone();
                    self.push(key, first, secret);
                } else {
                    for (name, value) in set {
                        self.push(name, value, secret);
                    }
                }
            }
        }
    }

    fn push(&mut self, name: &'static str, value: String, secret: bool) {
        let value = if secret { secret_digest(value.as_bytes()) } else { value };
        self.parts.push((name, value));
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

    static ORDERS: Inputs = Inputs {
        programs: &["p"],
        syntax: Syntax::Pflag,
        flags: &[
            Flag::value("profile", &["--profile"])
                .env_any_order(&["PROFILE", "DEFAULT_PROFILE"])
                .unset_when(&[""]),
            Flag::value("region", &["--region"]).env(&["REGION", "DEFAULT_REGION"]),
            Flag::value("header", &["--header"]).repeatable(),
        ],
        vars: &[],
    };

    fn with(args: &[&str], vars: &[(&str, &str)]) -> Identity {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let env: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Identity::declared("c", &parse(&args, &ORDERS), &env)
    }

    #[test]
    fn variables_read_in_an_unknown_order_key_apart_when_they_differ() {
        let flag = with(&["--profile", "a"], &[]);
        assert_eq!(with(&[], &[("PROFILE", "a")]), flag, "one variable means the flag");
        assert_eq!(with(&[], &[("DEFAULT_PROFILE", "a")]), flag);
        assert_eq!(with(&[], &[("PROFILE", "a"), ("DEFAULT_PROFILE", "a")]), flag);
        let both = with(&[], &[("PROFILE", "a"), ("DEFAULT_PROFILE", "b")]);
        assert_ne!(both, flag);
        assert_ne!(both, with(&["--profile", "b"], &[]));
        assert_ne!(both, with(&[], &[("PROFILE", "b"), ("DEFAULT_PROFILE", "a")]));
        assert_eq!(
            with(&["--profile", "a"], &[("PROFILE", "x"), ("DEFAULT_PROFILE", "y")]),
            flag
        );
        // `--profile ""` is not given: the variables decide.
        assert_eq!(with(&["--profile="], &[("PROFILE", "a")]), flag);
    }

    #[test]
    fn an_empty_variable_does_not_hide_the_next_one() {
        let b = with(&[], &[("REGION", ""), ("DEFAULT_REGION", "b")]);
        let c = with(&[], &[("REGION", ""), ("DEFAULT_REGION", "c")]);
        assert_ne!(b, c, "a Go program reads DEFAULT_REGION past an empty REGION");
        assert_ne!(
            b,
            with(&[], &[("DEFAULT_REGION", "b")]),
            "a Python program reads the empty one"
        );
        assert_eq!(
            with(&[], &[("REGION", "a"), ("DEFAULT_REGION", "b")]),
            with(&["--region", "a"], &[])
        );
    }

    #[test]
    fn every_value_of_a_repeatable_flag_is_keyed_in_order() {
        let one = with(&["--header", "b=2"], &[]);
        let two = with(&["--header", "a=1", "--header", "b=2"], &[]);
        assert_ne!(one, two);
        assert_ne!(two, with(&["--header", "b=2", "--header", "a=1"], &[]));
        assert_eq!(two.part("header"), Some(r#"["a=1","b=2"]"#));
    }
}

//! `Identity`: whose token a command prints, as a provider reads it from the command's
//! arguments and environment. Equal identities share a cached token; any difference
//! gives another cache entry.

use super::ParsedArgs;
use super::inputs::{EnvOrder, Expand, Flag};

/// An environment to read variables from: the process's own (every wrapped run), or the
/// one a kubeconfig entry gives its command (`doctor`). Providers and settings read
/// through it alike.
pub trait Env {
    /// A variable as text; values that are not UTF-8 converted without collisions.
    fn var(&self, name: &str) -> Option<String>;
    /// A variable as the OS gives it, for paths (`KUBECREDCACHE_DIR`, `HOME`).
    fn var_os(&self, name: &str) -> Option<std::ffi::OsString> {
        self.var(name).map(|v| super::args::string_to_os(&v))
    }
}

/// The real environment. Values that are not UTF-8 are converted without collisions.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var_os(name).map(|v| super::args::os_to_string(&v))
    }
    fn var_os(&self, name: &str) -> Option<std::ffi::OsString> {
        std::env::var_os(name)
    }
}

impl Env for std::collections::HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// The identity part that holds the program as given: a path always (the engine adds
/// it, absolute), a bare name for `--generic` (where the name is all we know).
pub const PROGRAM_PART: &str = "program";

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
    /// with: every keyed flag (else its fallback variables), every keyed variable, paths
    /// as the program expands them, values not declared fit to show as digests only, and
    /// every argument the table does not know, verbatim. Flags declared
    /// `read_by_provider` are the caller's to add. An error when a relative path cannot
    /// be made absolute (no working directory): the command then runs uncached.
    pub fn declared(cluster: impl Into<String>, args: &ParsedArgs, env: &dyn Env) -> Result<Identity, String> {
        let inputs = args.inputs;
        let mut id = Identity::new(cluster);
        for flag in inputs.flags.iter().filter(|f| f.is_keyed()) {
            id.add_flag(flag, args, env)?;
        }
        for var in inputs.all_vars().filter(|v| v.is_keyed()) {
            let how = Declared {
                shown: var.shown,
                path: var.path,
            };
            id.add_variables(var.key, var.names, EnvOrder::FirstSet, how, env)?;
        }
        id.unknown_args = args.unknown.clone();
        Ok(id)
    }

    /// Keys `flag` as the program reads it: its value as given (every value, in order,
    /// for a repeatable flag), else its fallback variables; a path expanded as the
    /// program expands it; a digest unless it is declared fit to show.
    pub fn add_flag(&mut self, flag: &Flag, args: &ParsedArgs, env: &dyn Env) -> Result<(), String> {
        let how = Declared {
            shown: flag.shown,
            path: flag.path,
        };
        if flag.repeatable {
            let values: Vec<String> = args
                .all(flag.key)
                .map(|v| how.value(v, env))
                .collect::<Result<_, _>>()?;
            if !values.is_empty() {
                let list = serde_json::to_string(&values).expect("strings serialize");
                self.push(flag.key, list, how.shown);
                return Ok(());
            }
        } else if let Some(value) = args.last(flag.key).filter(|v| !flag.is_unset(v)) {
            let value = how.value(value, env)?;
            self.push(flag.key, value, how.shown);
            return Ok(());
        }
        self.add_variables(flag.key, flag.env, flag.env_order, how, env)
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
        how: Declared,
        env: &dyn Env,
    ) -> Result<(), String> {
        match order {
            EnvOrder::FirstSet => {
                for name in names {
                    match env.var(name) {
                        None => {}
                        Some(empty) if empty.is_empty() => self.push(name, empty, how.shown),
                        Some(value) => {
                            let value = how.value(&value, env)?;
                            self.push(key, value, how.shown);
                            return Ok(());
                        }
                    }
                }
            }
            EnvOrder::AnyOrder => {
                let set: Vec<(&'static str, String)> =
                    names.iter().filter_map(|n| env.var(n).map(|v| (*n, v))).collect();
                let Some((_, first)) = set.first() else { return Ok(()) };
                if set.iter().all(|(_, v)| v == first) {
                    let first = how.value(first, env)?;
                    self.push(key, first, how.shown);
                } else {
                    for (name, value) in set {
                        let value = how.value(&value, env)?;
                        self.push(name, value, how.shown);
                    }
                }
            }
        }
        Ok(())
    }

    fn push(&mut self, name: &'static str, value: String, shown: bool) {
        let value = if shown { value } else { secret_digest(value.as_bytes()) };
        self.parts.push((name, value));
    }

    /// Adds a part if it has a value, as a digest: a value read by hand (from a file, a
    /// flag declared `read_by_provider`) may be a secret, and only a short SHA-256 of
    /// it then enters the key, so it separates identities without being written
    /// anywhere. [`with_shown`](Self::with_shown) for values fit to show.
    pub fn with(mut self, name: &'static str, value: Option<impl AsRef<[u8]>>) -> Identity {
        if let Some(v) = value {
            self.parts.push((name, secret_digest(v.as_ref())));
        }
        self
    }

    /// Adds a part if it has a value, in clear: for values fit to show (an account, a
    /// role ARN, a path, a digest already), which `status` and `doctor` then show.
    pub fn with_shown(mut self, name: &'static str, value: Option<impl Into<String>>) -> Identity {
        if let Some(v) = value {
            self.parts.push((name, v.into()));
        }
        self
    }

    /// The value of a part, if set.
    pub fn part(&self, name: &str) -> Option<&str> {
        self.parts.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

/// How a declared flag or variable enters the key.
#[derive(Clone, Copy)]
struct Declared {
    shown: bool,
    path: Option<Expand>,
}

impl Declared {
    /// The value as the program reads it: a path expanded and made absolute.
    fn value(self, value: &str, env: &dyn Env) -> Result<String, String> {
        match self.path {
            Some(how) => super::keyed_path(value, how, env),
            None => Ok(value.to_string()),
        }
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
    fn parts_added_by_hand_are_digests_unless_shown() {
        let id = Identity::new("c")
            .with("client-secret", Some("hunter2"))
            .with("none", None::<&str>)
            .with_shown("region", Some("r"))
            .with_shown("profile", None::<String>);
        let value = id.part("client-secret").unwrap();
        assert!(!value.contains("hunter2"));
        // SHA-256("hunter2") = f52fbd32b2b3b86ff88ef6c490628285f482af15ddcb29541f94bcf526a3f6c7
        assert_eq!(value, "sha256:f52fbd32b2b3b86f");
        assert_ne!(secret_digest(b"a"), secret_digest(b"b"));
        assert_eq!(id.part("none"), None);
        assert_eq!(id.part("region"), Some("r"));
        assert_eq!(id.part("profile"), None);
        assert_eq!(id.parts.len(), 2);
    }

    static DECLARED: Inputs = Inputs {
        programs: &["p"],
        syntax: Syntax::Pflag,
        flags: &[
            Flag::value("region", &["--region"]).env(&["REGION"]).shown(),
            Flag::value("password", &["--password"]),
            Flag::switch("verbose", &["-v"]).cosmetic("logging"),
            Flag::value("scope", &["--scope"]).read_by_provider("a set"),
            Flag::value("config", &["--config"]).path(Expand::User),
        ],
        vars: &[&[
            Var::keyed("key-id", &["KEY_ID"]).shown(),
            Var::keyed("token", &["TOKEN"]),
            Var::keyed("credentials", &["CREDENTIALS"]).path(Expand::VarsThenUser),
        ]],
    };

    #[test]
    fn the_declarations_decide_what_is_keyed_and_how() {
        let args: Vec<String> = [
            "--password",
            "pw",
            "-v",
            "--scope",
            "s",
            "--odd",
            "x",
            "--config",
            "~/c",
        ]
        .map(String::from)
        .to_vec();
        let env: HashMap<String, String> = [
            ("REGION", "r"),
            ("KEY_ID", "k"),
            ("TOKEN", "t0k"),
            ("HOME", "/home/me"),
            ("CREDENTIALS", "$HOME/creds"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .into();
        let id = Identity::declared("c", &parse(&args, &DECLARED), &env).unwrap();
        assert_eq!(id.part("region"), Some("r"), "a flag's fallback variable");
        assert_eq!(id.part("key-id"), Some("k"));
        assert_eq!(id.part("password"), Some(secret_digest(b"pw").as_str()), "not shown");
        assert_eq!(id.part("token"), Some(secret_digest(b"t0k").as_str()));
        let home = std::path::Path::new("/home/me");
        let shown = |p: std::path::PathBuf| crate::provider::os_to_string(std::path::absolute(p).unwrap().as_os_str());
        assert_eq!(id.part("config"), Some(shown(home.join("c")).as_str()), "expanded");
        assert_eq!(id.part("credentials"), Some(shown(home.join("creds")).as_str()));
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
                .unset_when(&[""])
                .shown(),
            Flag::value("region", &["--region"])
                .env(&["REGION", "DEFAULT_REGION"])
                .shown(),
            Flag::value("header", &["--header"]).repeatable().shown(),
        ],
        vars: &[],
    };

    fn with(args: &[&str], vars: &[(&str, &str)]) -> Identity {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let env: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Identity::declared("c", &parse(&args, &ORDERS), &env).unwrap()
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

//! Provider for `example-auth token --cluster NAME ...`, a made-up authenticator: the
//! template that docs/providers.md walks through. Copy it to `providers/<name>.rs`, and
//! it is compiled in and registered; nothing else needs an edit. (This copy is compiled
//! with the library's tests only, so the walk-through cannot drift from what builds.)

use std::path::PathBuf;

use crate::provider::{Env, Expand, Flag, Identity, Inputs, ParsedArgs, Provider, Syntax, Var, expand_path};

pub struct ExampleAuth;

inventory::submit! { &ExampleAuth as &dyn Provider }

/// Everything the authenticator reads. Every flag is part of the cache key unless it
/// says otherwise: list them all, with every spelling, so that no spelling is taken for
/// a positional and no value is left out. A value is keyed, stored and shown as a digest
/// unless its declaration says it is fit to show (`.shown()`, `.path(...)`).
static INPUTS: Inputs = Inputs {
    programs: &["example-auth"],
    // A Go program (cobra/pflag); `Syntax::Argparse` for Python's argparse,
    // `Syntax::Click` for Python's click.
    syntax: Syntax::Pflag,
    flags: &[
        // Fit to show: in clear in the key, the cache file, `status` and `doctor`.
        Flag::value("cluster", &["--cluster", "-c"]).shown(),
        // Read from EXAMPLE_PROFILE when the flag is not given.
        Flag::value("profile", &["--profile", "-p"])
            .env(&["EXAMPLE_PROFILE"])
            .shown(),
        // No marking: keyed as a digest only, never written anywhere in clear.
        Flag::value("client-secret", &["--client-secret"]),
        // A file, opened as given (a Go program): keyed and watched as the absolute path
        // the program opens. `Expand::User` for Python's `expanduser`, and so on.
        Flag::value("credentials", &["--credentials"]).path(Expand::AsGiven),
        Flag::switch("insecure", &["--insecure"]),
        // Does not change the token: left out of the key, so it does not split the cache.
        Flag::value("verbosity", &["--verbosity", "-v"]).cosmetic("logging only"),
        // Read by the code below into one part, instead of as given.
        Flag::value("scope", &["--scope"])
            .read_by_provider("a set: repeatable, any order")
            .shown(),
    ],
    // Variables that decide the token without a flag.
    vars: &[&[Var::keyed("api-key", &["EXAMPLE_API_KEY"])]],
};

impl Provider for ExampleAuth {
    fn name(&self) -> &'static str {
        "example-auth" // in every cache key: never change it once released
    }

    fn command(&self) -> &'static str {
        "example-auth token"
    }

    fn description(&self) -> &'static str {
        "tokens from the example authenticator (a template, not a real provider)"
    }

    fn inputs(&self) -> &'static Inputs {
        &INPUTS
    }

    /// Exactly the token command: `example-auth token`, not `example-auth login`.
    fn recognises(&self, _program: &str, args: &ParsedArgs) -> bool {
        args.positionals == ["token"] && args.last("cluster").is_some()
    }

    fn identity(&self, args: &ParsedArgs, env: &dyn Env) -> Result<Identity, String> {
        let cluster = args.last("cluster").ok_or("example-auth token without --cluster")?;
        let mut scopes: Vec<&str> = args.all("scope").collect();
        scopes.sort_unstable();
        scopes.dedup();
        // `declared` keys every keyed flag and variable of INPUTS (values not declared
        // fit to show as digests, paths as the program opens them, fallback variables for
        // absent flags) and every argument INPUTS does not know. A part added by hand is
        // a digest with `with`, in clear with `with_shown`.
        Ok(Identity::declared(cluster, args, env)?.with_shown("scope", (!scopes.is_empty()).then(|| scopes.join(","))))
    }

    /// A browser login may ask a person: never refresh such a command in the background.
    fn may_prompt(&self, args: &ParsedArgs, _env: &dyn Env) -> bool {
        args.last("client-secret").is_none()
    }

    /// Where its credentials live: a change there means a new sign-in, so an older
    /// cached token is not served. A path the user gives is expanded as the program
    /// expands it, with the function the key uses: the file watched is the file read.
    fn credential_sources(&self, args: &ParsedArgs, env: &dyn Env) -> Vec<PathBuf> {
        match args.last("credentials") {
            Some(file) => expand_path(file, Expand::AsGiven, env).ok().into_iter().collect(),
            None => crate::provider::home_dir(env)
                .map(|home| vec![home.join(".example/credentials")])
                .unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::contract::{self, Invocation};
    use crate::provider::parse;
    use std::collections::HashMap;

    #[test]
    fn keeps_the_provider_contract() {
        contract::check(
            &ExampleAuth,
            &Invocation {
                program: "example-auth",
                words: &["token"],
                operands: &[],
                flags: &[
                    ("--cluster", "prod"),
                    ("--profile", "dev"),
                    ("-v", "2"),
                    ("--scope", "read"),
                ],
                env: &[("EXAMPLE_API_KEY", "k-123")],
            },
            &[("example-auth", &["login", "--cluster", "prod"])],
        );
    }

    #[test]
    fn scopes_are_a_set() {
        let id = |a: &[&str]| {
            let args: Vec<String> = a.iter().map(|s| s.to_string()).collect();
            ExampleAuth.identity(&parse(&args, &INPUTS), &HashMap::new()).unwrap()
        };
        let ab = id(&["token", "--cluster", "c", "--scope", "a", "--scope", "b"]);
        assert_eq!(id(&["token", "--cluster", "c", "--scope", "b", "--scope", "a"]), ab);
        assert_ne!(id(&["token", "--cluster", "c", "--scope", "a"]), ab);
    }
}

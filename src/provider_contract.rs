//! The contract every provider's tests check, so that no provider can break the cache's
//! promises: recognition is exact and never claims another provider's invocation, the
//! key is stable under reordering and `--flag=value` spellings, and every identity flag
//! and environment variable separates keys. A provider's tests call [`check`] with a
//! typical invocation of its authenticator (see docs/providers.md).

use std::collections::HashMap;

use crate::cache_key::CacheKey;
use crate::provider::{self, Provider};

/// A typical token command of an authenticator, in parts the kit can respell.
pub struct Invocation {
    /// The program's file name.
    pub program: &'static str,
    /// Subcommand words, in order (`["eks", "get-token"]`).
    pub positionals: &'static [&'static str],
    /// Flags with values that belong to the identity, in their long spelling.
    pub flags: &'static [(&'static str, &'static str)],
    /// Environment variables the identity reads, with a value each.
    pub env: &'static [(&'static str, &'static str)],
}

impl Invocation {
    fn args(&self, flags: &[(String, String)], equals: bool, reversed: bool) -> Vec<String> {
        let mut out: Vec<String> = self.positionals.iter().map(|p| p.to_string()).collect();
        let mut flags: Vec<&(String, String)> = flags.iter().collect();
        if reversed {
            flags.reverse();
        }
        for (name, value) in flags {
            if equals {
                out.push(format!("{name}={value}"));
            } else {
                out.extend([name.clone(), value.clone()]);
            }
        }
        out
    }

    fn flags(&self) -> Vec<(String, String)> {
        self.flags.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    fn env(&self) -> HashMap<String, String> {
        self.env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }
}

fn key(provider: &dyn Provider, args: &[String], env: &HashMap<String, String>) -> CacheKey {
    let identity = provider
        .identity(args, env)
        .unwrap_or_else(|e| panic!("{}: identity of {args:?}: {e}", provider.name()));
    CacheKey::new(provider.name(), &identity)
}

/// Checks the contract for `provider` with its typical invocation `inv`. `not_mine` are
/// invocations (program, args) of the same or similar programs that it must not claim.
pub fn check(provider: &dyn Provider, inv: &Invocation, not_mine: &[(&str, &[&str])]) {
    let name = provider.name();
    let env = inv.env();
    let base = inv.args(&inv.flags(), false, false);

    // Recognition is exact.
    assert!(
        provider.recognises(inv.program, &base),
        "{name} does not recognise its own {base:?}"
    );
    for other_program in [format!("{}x", inv.program), format!("x{}", inv.program), String::new()] {
        assert!(
            !provider.recognises(&other_program, &base),
            "{name} claims program {other_program:?}"
        );
    }
    for (program, args) in not_mine {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        assert!(!provider.recognises(program, &args), "{name} claims {program} {args:?}");
    }
    // No other provider claims this one's invocation.
    for other in provider::registered().into_iter().filter(|p| p.name() != name) {
        assert!(
            !other.recognises(inv.program, &base),
            "{} claims {name}'s {} {base:?}",
            other.name(),
            inv.program
        );
    }

    // The key does not depend on order or spelling.
    let reference = key(provider, &base, &env);
    for (equals, reversed) in [(true, false), (false, true), (true, true)] {
        let args = inv.args(&inv.flags(), equals, reversed);
        assert!(
            provider.recognises(inv.program, &args),
            "{name} does not recognise {args:?}"
        );
        assert_eq!(
            key(provider, &args, &env),
            reference,
            "{name}: {args:?} gives another key than {base:?}"
        );
    }

    // Every identity flag and variable separates keys.
    for i in 0..inv.flags.len() {
        let mut flags = inv.flags();
        flags[i].1.push_str("-other");
        let args = inv.args(&flags, false, false);
        assert_ne!(
            key(provider, &args, &env),
            reference,
            "{name}: changing {} does not change the key",
            flags[i].0
        );
    }
    for (var, value) in inv.env {
        let mut changed = env.clone();
        changed.insert(var.to_string(), format!("{value}-other"));
        assert_ne!(
            key(provider, &base, &changed),
            reference,
            "{name}: changing ${var} does not change the key"
        );
        changed.remove(*var);
        assert_ne!(
            key(provider, &base, &changed),
            reference,
            "{name}: unsetting ${var} does not change the key"
        );
    }
}

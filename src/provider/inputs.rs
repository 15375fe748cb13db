//! What an authenticator reads that decides its token, declared once per provider: the
//! programs it is, its flags (every spelling, whether it takes a value, what it is for)
//! and its environment variables.
//!
//! The parser (`args.rs`) reads arguments with this table and [`Identity::declared`]
//! keys them with the same table, so a flag cannot be understood and then forgotten. The
//! safe thing is the default: a flag or variable is part of the cache key unless its
//! declaration says otherwise, and says why; and its value enters the key, the cache
//! file, `status` and `doctor` only as a digest unless its declaration says it is fit
//! to show (`.shown()`, or `.path(...)`: a path is shown, as the program reads it).
//!
//! [`Identity::declared`]: super::Identity::declared

pub use super::paths::Expand;

/// Everything a provider's authenticator reads from its command line and environment.
#[derive(Debug)]
pub struct Inputs {
    /// The program file names this provider may recognise. Checked before any argument
    /// is parsed: every kubectl run asks every provider.
    pub programs: &'static [&'static str],
    /// How the authenticator's own parser reads flags.
    pub syntax: Syntax,
    pub flags: &'static [Flag],
    /// Environment variables that are read without a flag, in groups (so that rules two
    /// providers share, such as the AWS credential variables, are declared once).
    pub vars: &'static [&'static [Var]],
}

/// The flag parser of the program being wrapped: the same arguments mean different
/// things to different parsers, and we must read them as the program does (`args.rs`
/// says how each reads them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// Go's spf13/pflag (cobra): long flags spelled in full; `-i=` is the value `=`,
    /// `--id=` the empty value; switches take `=true`/`=false`; short switches group
    /// (`-tv`).
    Pflag,
    /// Python's argparse (the AWS CLI): a long flag may be shortened to any unambiguous
    /// prefix of its name (`--reg` is `--region`), and a value that looks like a flag
    /// (`--region --debug`) is not taken as one.
    Argparse,
    /// Python's click (the OCI CLI): long flags spelled in full; `-i=x` is the value
    /// `=x`; switches take no value at all. Go's kingpin (tsh, aws-vault, saml2aws)
    /// reads flags by the same rules (its lexer: `-fARG`, so `-f=x` is `=x`; a bool flag
    /// takes no `=value`), with two additions: `--no-SWITCH`, left unknown here and so
    /// keyed verbatim; and `@FILE`, arguments read from a file, which a kingpin
    /// program's `recognises` refuses with [`kingpin_reads_an_arguments_file`].
    ///
    /// [`kingpin_reads_an_arguments_file`]: super::kingpin_reads_an_arguments_file
    Click,
}

/// How a flag's fallback variables are read when the flag is not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvOrder {
    /// The first that is set gives the value (the rest are not read).
    FirstSet,
    /// Which one the program reads first depends on its version (AWS CLI v1 reads
    /// `AWS_DEFAULT_PROFILE` before `AWS_PROFILE`, v2 the other way round): one that is
    /// set means what the flag means; several that differ all enter the key.
    AnyOrder,
}

/// What a flag or variable is to the cache key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Part of the key as given (the default): another value, another token.
    Keyed,
    /// Does not change which token is printed (logging, how a login page opens): left out
    /// of the key, so that it does not split the cache.
    Cosmetic,
    /// Read by the provider's own code into a named identity part (a set of scopes, a
    /// value that also falls back to a file).
    ReadByProvider,
}

/// One flag of the authenticator.
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    /// The identity part it becomes (`"region"`).
    pub key: &'static str,
    /// Every spelling, long (`--cluster-id`) and short (`-i`).
    pub names: &'static [&'static str],
    pub takes_value: bool,
    /// Variables the program reads when the flag is not given.
    pub env: &'static [&'static str],
    pub env_order: EnvOrder,
    /// Values the program takes for "not given", so that its fallback variables apply
    /// (`--region ""` to the AWS CLI).
    pub unset: &'static [&'static str],
    /// Every value counts, in order, not only the last (pflag's slices and maps: each
    /// `--header k=v` adds one).
    pub repeatable: bool,
    pub role: Role,
    /// The value may be written in clear (key, cache file, `status`, `doctor`); else
    /// only its digest is. Switches (`true`/`false`) are shown.
    pub shown: bool,
    /// The value names a file, expanded as the program expands it (see [`Expand`]).
    pub path: Option<Expand>,
}

impl Flag {
    /// A flag that takes a value (`--region us-west-2`, `--region=us-west-2`).
    pub const fn value(key: &'static str, names: &'static [&'static str]) -> Flag {
        Flag {
            key,
            names,
            takes_value: true,
            env: &[],
            env_order: EnvOrder::FirstSet,
            unset: &[],
            repeatable: false,
            role: Role::Keyed,
            shown: false,
            path: None,
        }
    }

    /// A flag that is on or off (`--debug`). Its value, `true` or `false`, is shown.
    pub const fn switch(key: &'static str, names: &'static [&'static str]) -> Flag {
        Flag {
            takes_value: false,
            shown: true,
            ..Flag::value(key, names)
        }
    }

    /// The environment variables the program reads in its place, first one first.
    pub const fn env(self, vars: &'static [&'static str]) -> Flag {
        Flag { env: vars, ..self }
    }

    /// The environment variables the program reads in its place, in an order that
    /// depends on its version ([`EnvOrder::AnyOrder`]).
    pub const fn env_any_order(self, vars: &'static [&'static str]) -> Flag {
        Flag {
            env: vars,
            env_order: EnvOrder::AnyOrder,
            ..self
        }
    }

    /// Values the program takes for "not given": its fallback variables then apply.
    pub const fn unset_when(self, values: &'static [&'static str]) -> Flag {
        Flag { unset: values, ..self }
    }

    /// Every value given counts, in order (not only the last).
    pub const fn repeatable(self) -> Flag {
        Flag {
            repeatable: true,
            ..self
        }
    }

    /// Its value is fit to show (a cluster, a region, a profile, a role ARN, an access
    /// key id): it enters the key, the cache file, `status` and `doctor` in clear.
    /// Without this, only a digest of it does: think before you add it.
    pub const fn shown(self) -> Flag {
        Flag { shown: true, ..self }
    }

    /// Its value names a file that the program (and its fallback variables) expands as
    /// `how`: keyed as the absolute path the program opens, and shown.
    pub const fn path(self, how: Expand) -> Flag {
        Flag {
            path: Some(how),
            shown: true,
            ..self
        }
    }

    /// It does not change the token. `_why` says why, for the next reader of the table
    /// (it is not kept in the binary: every string here costs the cache hit a relocation).
    pub const fn cosmetic(self, _why: &'static str) -> Flag {
        Flag {
            role: Role::Cosmetic,
            ..self
        }
    }

    /// The provider's code reads it into the identity itself; `_why` says how.
    pub const fn read_by_provider(self, _why: &'static str) -> Flag {
        Flag {
            role: Role::ReadByProvider,
            ..self
        }
    }

    pub fn is_keyed(&self) -> bool {
        self.role == Role::Keyed
    }

    /// Whether the program takes `value` for "not given".
    pub fn is_unset(&self, value: &str) -> bool {
        self.unset.contains(&value)
    }
}

/// An environment variable that decides the token without a flag.
#[derive(Debug, Clone, Copy)]
pub struct Var {
    /// The identity part it becomes.
    pub key: &'static str,
    /// The variables, first one first: the first that is set gives the value
    /// (`AWS_PROFILE`, else `AWS_DEFAULT_PROFILE`).
    pub names: &'static [&'static str],
    pub role: Role,
    /// As [`Flag::shown`].
    pub shown: bool,
    /// As [`Flag::path`].
    pub path: Option<Expand>,
}

impl Var {
    /// A variable in the key, as a digest unless declared [`shown`](Self::shown).
    pub const fn keyed(key: &'static str, names: &'static [&'static str]) -> Var {
        Var {
            key,
            names,
            role: Role::Keyed,
            shown: false,
            path: None,
        }
    }

    /// As [`Flag::shown`].
    pub const fn shown(self) -> Var {
        Var { shown: true, ..self }
    }

    /// As [`Flag::path`].
    pub const fn path(self, how: Expand) -> Var {
        Var {
            path: Some(how),
            shown: true,
            ..self
        }
    }

    /// The provider's code reads it into the identity itself; `_why` says how.
    pub const fn read_by_provider(self, _why: &'static str) -> Var {
        Var {
            role: Role::ReadByProvider,
            ..self
        }
    }

    pub fn is_keyed(&self) -> bool {
        self.role == Role::Keyed
    }
}

impl Inputs {
    /// The declaration of the flag spelled `name` exactly.
    pub fn flag_named(&self, name: &str) -> Option<&'static Flag> {
        self.flags.iter().find(|f| f.names.contains(&name))
    }

    /// The declaration of the flag whose identity part is `key`.
    pub fn flag(&self, key: &str) -> Option<&'static Flag> {
        self.flags.iter().find(|f| f.key == key)
    }

    /// Every variable declared apart from flags.
    pub fn all_vars(&self) -> impl Iterator<Item = &'static Var> {
        self.vars.iter().flat_map(|group| group.iter())
    }
}

/// The value of the first of `names` that is set and not empty (Go programs take an
/// empty variable for an unset one; Python programs do not, which is why
/// [`Identity::declared`](super::Identity::declared) keys the empty ones too).
pub fn first_set(names: &[&str], env: &dyn super::Env) -> Option<String> {
    names.iter().find_map(|name| env.var(name).filter(|v| !v.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_is_keyed_unless_it_says_otherwise() {
        assert!(Flag::value("a", &["--a"]).is_keyed());
        assert!(Flag::switch("a", &["--a"]).env(&["A"]).is_keyed());
        assert!(!Flag::switch("v", &["-v"]).cosmetic("log level").is_keyed());
        assert!(!Flag::value("s", &["--s"]).read_by_provider("a set").is_keyed());
        assert!(Var::keyed("p", &["P"]).shown().is_keyed());
        assert!(!Var::keyed("p", &["P"]).read_by_provider("x").is_keyed());
    }

    #[test]
    fn a_value_is_shown_only_when_declared_fit_to_show() {
        assert!(!Flag::value("a", &["--a"]).shown);
        assert!(!Var::keyed("a", &["A"]).shown);
        assert!(Flag::value("a", &["--a"]).shown().shown);
        assert!(Flag::switch("a", &["--a"]).shown, "true or false");
        let path = Flag::value("f", &["--f"]).path(Expand::User);
        assert!(path.shown && path.path == Some(Expand::User));
        assert!(Var::keyed("f", &["F"]).path(Expand::AsGiven).shown);
    }
}

//! The contract every provider's tests check, so that no provider can break the cache's
//! promises. A provider's tests call [`check`] with one real invocation of its
//! authenticator; the kit derives everything else from the provider's declared
//! [`Inputs`](super::Inputs), so it checks every flag and variable in the table, not only
//! those a test happens to list:
//!
//! - recognition is exact, and no other registered provider claims the invocation;
//! - the key does not depend on the order of flags, `--flag=value` or `--flag value`,
//!   flags before or after the subcommand, or which spelling of a flag is used;
//! - every value of every flag that is not declared cosmetic, in each spelling, separates
//!   keys, and so does every variable, each of a flag's fallback variables, and every
//!   positional that names the cluster; an undeclared flag does too;
//! - a cosmetic flag does not change the key; a flag beats its fallback variable, and a
//!   fallback variable means what the flag means; of several fallback variables, the
//!   first set wins, or, where the program's version decides the order, several that
//!   differ all separate keys; a value the program takes for "not given" lets the
//!   variables decide; every value of a repeatable flag counts;
//! - the arguments are read as the program's parser ([`Syntax`](super::Syntax)) reads
//!   them: `-i=` is `=` to pflag, `--id=` is empty to all, a shortened long flag is
//!   that flag to argparse only, a flag-like value is no value to argparse only;
//! - what the provider changes in the command's environment ([`Provider::child_env`])
//!   is nothing the key is made of;
//! - no value of a flag or variable not declared fit to show (`.shown()`) appears in
//!   the key or in the stored cache entry;
//! - a path flag or variable is read as its program expands it ([`Expand`]): `~/x` and
//!   `$VAR/x` key, and give credential sources, like the absolute path they name where
//!   the program expands them, and like a relative path (made absolute) where it does
//!   not; a relative path keys like its absolute form.

use std::collections::HashMap;

use chrono::{TimeZone, Utc};

use super::inputs::EnvOrder;
use super::{Expand, Flag, Provider, Role, Syntax, Var, parse};
use crate::cache::{CacheEntry, CacheFile, CacheKey};
use crate::exec_credential::ExecCredential;

/// A real token command of an authenticator, in parts the kit can respell and vary.
pub struct Invocation {
    /// The program's file name.
    pub program: &'static str,
    /// Subcommand words, in order (`["eks", "get-token"]`).
    pub words: &'static [&'static str],
    /// Positionals that name the cluster (an id after the subcommand), if any.
    pub operands: &'static [&'static str],
    /// Flags as a kubeconfig gives them, each in one of its declared spellings, with
    /// its value (`""` for a switch). Cosmetic flags and flags with their fallback
    /// variables set may be among them.
    pub flags: &'static [(&'static str, &'static str)],
    /// Environment variables, with a value each.
    pub env: &'static [(&'static str, &'static str)],
}

/// Checks the contract for `provider` with its invocation `inv`. `not_mine` are
/// invocations (program, args) of the same or similar programs that it must not claim.
pub fn check(provider: &dyn Provider, inv: &Invocation, not_mine: &[(&str, &[&str])]) {
    let kit = Kit { provider, inv };
    kit.invocation_is_declared();
    kit.recognition_is_exact(not_mine);
    kit.spelling_and_order_do_not_matter();
    for flag in provider.inputs().flags {
        kit.flag_keeps_its_declaration(flag);
    }
    for var in provider.inputs().all_vars() {
        kit.variable_separates_keys(var);
    }
    kit.paths_are_read_as_their_programs_read_them();
    kit.operands_separate_keys();
    kit.undeclared_flags_separate_keys();
    kit.child_environment_is_not_keyed();
}

/// Checks the contract for `launcher`, as [`check`] does for a provider, with its own
/// flags and variables in `inv` and the command it launches, `inner` (a program and
/// its arguments some provider recognises), after them: its declarations key as a
/// provider's do, and the launched command's identity is in every key.
pub fn check_launcher(
    launcher: &'static dyn super::Launcher,
    inv: &Invocation,
    inner: &'static [&'static str],
    not_mine: &[(&str, &[&str])],
) {
    let base_env = inv.env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let adapter = LauncherUnderTest {
        launcher,
        inner,
        base_env,
    };
    check(&adapter, inv, not_mine);
    let alone: Vec<String> = inner[1..].iter().map(|a| a.to_string()).collect();
    let found = super::recognise(std::ffi::OsStr::new(inner[0]), &alone)
        .unwrap_or_else(|| panic!("{}: no provider recognises {inner:?}", launcher.name()));
    let kit = Kit {
        provider: &adapter,
        inv,
    };
    let env = kit.base().env;
    let id = adapter
        .identity(&parse(&kit.argv(&kit.base(), false, false), launcher.inputs()), &env)
        .expect("keyed");
    let inner_id = found.provider.identity(&found.args, &env).expect("keyed alone");
    assert_eq!(
        id.cluster,
        inner_id.cluster,
        "{}: the cluster is the launched command's",
        launcher.name()
    );
}

/// A launcher with a fixed launched command after its own arguments, as a provider the
/// kit can vary.
struct LauncherUnderTest {
    launcher: &'static dyn super::Launcher,
    inner: &'static [&'static str],
    /// The environment the launched command's identity is read in.
    base_env: HashMap<String, String>,
}

impl LauncherUnderTest {
    /// The launched provider for the kit's arguments with the inner command after them
    /// (how a launcher finds where its command starts is each launcher's own test).
    fn launched(&self, own: &super::ParsedArgs) -> Option<super::launcher::Launched> {
        if !self.launcher.recognises(own) {
            return None;
        }
        let inner: Vec<String> = self.inner.iter().map(|a| a.to_string()).collect();
        super::launcher::Launched::new(self.launcher, &inner)
    }
}

impl Provider for LauncherUnderTest {
    fn name(&self) -> &'static str {
        self.launcher.name()
    }
    fn command(&self) -> &'static str {
        self.launcher.command()
    }
    fn description(&self) -> &'static str {
        self.launcher.description()
    }
    fn inputs(&self) -> &'static super::Inputs {
        self.launcher.inputs()
    }
    fn recognises(&self, _program: &str, args: &super::ParsedArgs) -> bool {
        self.launched(args).is_some()
    }
    fn identity(&self, args: &super::ParsedArgs, env: &dyn super::Env) -> Result<super::Identity, String> {
        self.launched(args)
            .ok_or("not recognised")?
            .identity_in(args, env, &self.base_env)
    }
    fn credential_sources(&self, args: &super::ParsedArgs, env: &dyn super::Env) -> Vec<std::path::PathBuf> {
        self.launched(args)
            .map(|p| p.credential_sources_in(args, env, &self.base_env))
            .unwrap_or_default()
    }
    fn child_env(&self) -> &'static [(&'static str, Option<&'static str>)] {
        &[]
    }
}

/// One variant of the invocation.
#[derive(Clone, Debug)]
struct Case {
    /// (spelling, value): `None` for a switch.
    flags: Vec<(String, Option<String>)>,
    operands: Vec<String>,
    env: HashMap<String, String>,
}

struct Kit<'a> {
    provider: &'a dyn Provider,
    inv: &'a Invocation,
}

const SECRET: &str = "kit-secret-value-xyzzy";

impl Kit<'_> {
    fn name(&self) -> &'static str {
        self.provider.name()
    }

    fn base(&self) -> Case {
        Case {
            flags: self
                .inv
                .flags
                .iter()
                .map(|(name, value)| {
                    let takes_value = self.declared(name).takes_value;
                    (name.to_string(), takes_value.then(|| value.to_string()))
                })
                .collect(),
            operands: self.inv.operands.iter().map(|o| o.to_string()).collect(),
            env: self
                .inv
                .env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn declared(&self, name: &str) -> &'static Flag {
        self.provider
            .inputs()
            .flag_named(name)
            .unwrap_or_else(|| panic!("{}: the invocation's {name} is not in its flag table", self.name()))
    }

    fn argv(&self, case: &Case, equals: bool, reversed: bool) -> Vec<String> {
        let mut out: Vec<String> = self.inv.words.iter().map(|w| w.to_string()).collect();
        out.extend(case.operands.iter().cloned());
        out.extend(flag_args(case, equals, reversed));
        out
    }

    /// The flags of `case` before the subcommand words and operands, where programs
    /// with global flags (the AWS CLI, tsh, doctl) take them too.
    fn argv_flags_first(&self, case: &Case) -> Vec<String> {
        let mut out = flag_args(case, false, false);
        out.extend(self.inv.words.iter().map(|w| w.to_string()));
        out.extend(case.operands.iter().cloned());
        out
    }

    /// The key of `case`, or `None` when the provider does not recognise it or cannot
    /// key it (a cluster flag left out, say: the command then runs uncached).
    fn key_of(&self, argv: &[String], env: &HashMap<String, String>) -> Option<CacheKey> {
        let args = parse(argv, self.provider.inputs());
        if !self.provider.recognises(self.inv.program, &args) {
            return None;
        }
        let identity = self.provider.identity(&args, env).ok()?;
        Some(CacheKey::new(self.provider.name(), &identity))
    }

    fn key(&self, case: &Case) -> Option<CacheKey> {
        self.key_of(&self.argv(case, false, false), &case.env)
    }

    /// Asserts that `a` and `b` key alike, and that they are keyed: two cases that both
    /// run uncached (not recognised, or refused a key) prove nothing about the key.
    #[track_caller]
    fn same_key(&self, a: Option<CacheKey>, b: Option<CacheKey>, message: &str) {
        assert!(
            a.is_some() || b.is_some(),
            "{message}: neither is keyed, so the comparison proves nothing"
        );
        assert_eq!(a, b, "{message}");
    }

    fn must_key(&self, case: &Case, what: &str) -> CacheKey {
        self.key(case).unwrap_or_else(|| {
            panic!(
                "{}: does not recognise or cannot key {:?} ({what})",
                self.name(),
                self.argv(case, false, false)
            )
        })
    }

    fn invocation_is_declared(&self) {
        let inputs = self.provider.inputs();
        assert!(
            inputs.programs.contains(&self.inv.program),
            "{}: {} is not among its declared programs",
            self.name(),
            self.inv.program
        );
        for (name, value) in self.inv.flags {
            let flag = self.declared(name);
            assert_eq!(
                flag.takes_value,
                !value.is_empty(),
                "{}: {name} is declared {}",
                self.name(),
                if flag.takes_value {
                    "with a value"
                } else {
                    "as a switch"
                }
            );
        }
        for (var, _) in self.inv.env {
            let declared =
                inputs.flags.iter().any(|f| f.env.contains(var)) || inputs.all_vars().any(|v| v.names.contains(var));
            assert!(declared, "{}: the invocation's ${var} is not declared", self.name());
        }
        let mut spellings: Vec<&str> = inputs.flags.iter().flat_map(|f| f.names.iter().copied()).collect();
        spellings.sort_unstable();
        let before = spellings.len();
        spellings.dedup();
        assert_eq!(before, spellings.len(), "{}: a spelling is declared twice", self.name());
    }

    fn recognition_is_exact(&self, not_mine: &[(&str, &[&str])]) {
        let name = self.name();
        let argv = self.argv(&self.base(), false, false);
        let args = parse(&argv, self.provider.inputs());
        assert!(
            self.provider.recognises(self.inv.program, &args),
            "{name} does not recognise its own {argv:?}"
        );
        for (program, other) in not_mine {
            let other: Vec<String> = other.iter().map(|a| a.to_string()).collect();
            let parsed = parse(&other, self.provider.inputs());
            assert!(
                !self.provider.recognises(program, &parsed),
                "{name} claims {program} {other:?}"
            );
        }
        let registered = super::registered();
        if registered.iter().any(|p| p.name() == name) {
            let program = std::ffi::OsStr::new(self.inv.program);
            let found = super::recognise(program, &argv).map(|r| r.provider.name());
            assert_eq!(found, Some(name), "the registry gives {name}'s {argv:?} to {found:?}");
        }
        for other in registered.into_iter().filter(|p| p.name() != name) {
            let parsed = parse(&argv, other.inputs());
            assert!(
                !(other.inputs().programs.contains(&self.inv.program) && other.recognises(self.inv.program, &parsed)),
                "{} claims {name}'s {} {argv:?}",
                other.name(),
                self.inv.program
            );
        }
    }

    fn spelling_and_order_do_not_matter(&self) {
        let base = self.base();
        let reference = self.must_key(&base, "the invocation");
        for (equals, reversed) in [(true, false), (false, true), (true, true)] {
            let argv = self.argv(&base, equals, reversed);
            assert_eq!(
                self.key_of(&argv, &base.env).as_ref(),
                Some(&reference),
                "{}: {argv:?} gives another key than {:?}",
                self.name(),
                self.argv(&base, false, false)
            );
        }
        let flags_first = self.argv_flags_first(&base);
        assert_eq!(
            self.key_of(&flags_first, &base.env).as_ref(),
            Some(&reference),
            "{}: {flags_first:?} (flags before the subcommand) gives another key",
            self.name()
        );
        for (i, (given, _)) in base.flags.iter().enumerate() {
            for spelling in self.declared(given).names {
                let mut respelled = base.clone();
                respelled.flags[i].0 = spelling.to_string();
                assert_eq!(
                    self.key(&respelled).as_ref(),
                    Some(&reference),
                    "{}: {spelling} gives another key than {given}",
                    self.name()
                );
            }
        }
    }

    fn flag_keeps_its_declaration(&self, flag: &Flag) {
        let without = without_flag(&self.base(), flag);
        if flag.role == Role::Cosmetic {
            let reference = self.key(&without);
            for spelling in flag.names {
                let with = with_flag(&without, flag, spelling, "kit-cosmetic");
                self.same_key(
                    self.key(&with),
                    reference.clone(),
                    &format!(
                        "{}: {spelling} is declared cosmetic but changes the key (or recognition)",
                        self.name()
                    ),
                );
            }
            return;
        }
        for spelling in flag.names {
            let a = self.must_key(&with_flag(&without, flag, spelling, "kit-value-a"), spelling);
            if flag.takes_value {
                let b = self.must_key(&with_flag(&without, flag, spelling, "kit-value-b"), spelling);
                assert_ne!(a, b, "{}: changing {spelling} does not change the key", self.name());
                let first = self.must_key(&with_flag(&without, flag, flag.names[0], "kit-value-a"), spelling);
                assert_eq!(a, first, "{}: {spelling} and {} key apart", self.name(), flag.names[0]);
            }
            if let Some(absent) = self.key(&without) {
                assert_ne!(a, absent, "{}: giving {spelling} does not change the key", self.name());
            }
        }
        if !flag.shown {
            let with = with_flag(&without, flag, flag.names[0], SECRET);
            self.keeps_secret(&with, flag.names[0]);
        }
        for var in flag.env {
            self.fallback_variable_means_the_flag(flag, var);
        }
        self.fallback_variables_keep_their_order(flag);
        for value in flag.unset {
            self.unset_value_lets_the_variables_decide(flag, value);
        }
        if flag.repeatable {
            self.every_value_counts(flag);
        }
        self.flag_is_read_as_its_parser_reads_it(flag);
    }

    /// The invocation without `flag` and without any of its fallback variables.
    fn bare(&self, flag: &Flag) -> Case {
        let mut case = without_flag(&self.base(), flag);
        for v in flag.env {
            case.env.remove(*v);
        }
        case
    }

    fn fallback_variables_keep_their_order(&self, flag: &Flag) {
        let [first, second, ..] = flag.env else { return };
        let name = self.name();
        let bare = self.bare(flag);
        let with_vars = |vars: &[(&str, &str)]| {
            let mut case = bare.clone();
            case.env
                .extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            case
        };
        let Some(a) = self.key(&with_vars(&[(first, "kit-value-a")])) else {
            return; // the flag is needed for recognition
        };
        let b = self.key(&with_vars(&[(second, "kit-value-b")]));
        let both = self.key(&with_vars(&[(first, "kit-value-a"), (second, "kit-value-b")]));
        match flag.env_order {
            EnvOrder::FirstSet => assert_eq!(both, Some(a), "{name}: ${second} beats ${first}"),
            EnvOrder::AnyOrder => {
                assert_ne!(
                    both.as_ref(),
                    Some(&a),
                    "{name}: ${second} is not keyed beside ${first}"
                );
                assert_ne!(both, b, "{name}: ${first} is not keyed beside ${second}");
                let agree = self.key(&with_vars(&[(first, "kit-value-a"), (second, "kit-value-a")]));
                assert_eq!(
                    agree,
                    Some(a),
                    "{name}: ${first} and ${second} that agree key apart from one"
                );
            }
        }
    }

    fn unset_value_lets_the_variables_decide(&self, flag: &Flag, unset: &str) {
        let name = self.name();
        let spelling = flag.names[0];
        let bare = self.bare(flag);
        let given = with_flag(&bare, flag, spelling, unset);
        self.same_key(
            self.key(&given),
            self.key(&bare),
            &format!("{name}: {spelling} {unset:?} means \"not given\" but keys apart from no {spelling}"),
        );
        for var in flag.env {
            let mut with_var = given.clone();
            with_var.env.insert(var.to_string(), "kit-value-a".into());
            let mut var_alone = bare.clone();
            var_alone.env.insert(var.to_string(), "kit-value-a".into());
            self.same_key(
                self.key(&with_var),
                self.key(&var_alone),
                &format!("{name}: ${var} does not decide when {spelling} is {unset:?}"),
            );
        }
    }

    fn every_value_counts(&self, flag: &Flag) {
        let spelling = flag.names[0];
        let once = with_flag(&self.bare(flag), flag, spelling, "kit-value-b");
        let mut twice = once.clone();
        twice
            .flags
            .insert(0, (spelling.to_string(), Some("kit-value-a".into())));
        if let Some(once) = self.key(&once) {
            assert_ne!(
                self.key(&twice),
                Some(once),
                "{}: {spelling} is repeatable but only its last value is keyed",
                self.name()
            );
        }
    }

    /// Spellings whose meaning depends on the parser, each compared with an unambiguous
    /// spelling of what the program reads in it.
    fn flag_is_read_as_its_parser_reads_it(&self, flag: &Flag) {
        if flag.role == Role::Cosmetic {
            return;
        }
        for spelling in flag.names {
            match (flag.takes_value, spelling.starts_with("--")) {
                (false, true) => self.long_switch_is_read_as_its_parser_reads_it(flag, spelling),
                (false, false) => {}
                (true, true) => {
                    self.long_flag_is_read_as_its_parser_reads_it(flag, spelling);
                    self.shortened_flag_is_read_as_its_parser_reads_it(flag, spelling);
                }
                (true, false) => self.short_flag_is_read_as_its_parser_reads_it(flag, spelling),
            }
        }
    }

    /// `--switch=false` is off to pflag.
    fn long_switch_is_read_as_its_parser_reads_it(&self, flag: &Flag, spelling: &str) {
        if self.provider.inputs().syntax != Syntax::Pflag {
            return;
        }
        let bare = self.bare(flag);
        let off = self.key(&joined(&bare, &[&format!("{spelling}=false")]));
        let on = self.key(&with_flag(&bare, flag, spelling, ""));
        assert!(
            off.is_none() || off != on,
            "{}: {spelling}=false keys like {spelling}",
            self.name()
        );
    }

    /// `--flag=` is the empty value to all; `--flag -x` takes `-x` for the value but to
    /// argparse.
    fn long_flag_is_read_as_its_parser_reads_it(&self, flag: &Flag, spelling: &str) {
        let name = self.name();
        let bare = self.bare(flag);
        let empty = self.key(&joined(&bare, &[&format!("{spelling}=")]));
        self.same_key(
            empty,
            self.key(&with_flag(&bare, flag, spelling, "")),
            &format!("{name}: {spelling}= is not the empty value"),
        );
        let dash = self.key(&joined(&bare, &[spelling, "-kit-dash"]));
        let as_value = self.key(&joined(&bare, &[&format!("{spelling}=-kit-dash")]));
        match self.provider.inputs().syntax {
            Syntax::Argparse => assert!(
                as_value.is_none() || dash != as_value,
                "{name}: argparse takes -kit-dash for {spelling}'s value"
            ),
            _ => self.same_key(
                dash,
                as_value,
                &format!("{name}: {spelling} -kit-dash is not its value"),
            ),
        }
    }

    /// A long flag shortened by a letter is that flag to argparse alone, and only where
    /// no other flag starts so.
    fn shortened_flag_is_read_as_its_parser_reads_it(&self, flag: &Flag, spelling: &str) {
        let name = self.name();
        let inputs = self.provider.inputs();
        let shortened = &spelling[..spelling.len() - 1];
        if shortened.len() <= 3 || inputs.flag_named(shortened).is_some() {
            return;
        }
        let bare = self.bare(flag);
        let short_key = self.key(&with_flag(&bare, flag, shortened, "kit-value-a"));
        let full_key = self.key(&with_flag(&bare, flag, spelling, "kit-value-a"));
        let unambiguous = inputs
            .flags
            .iter()
            .filter(|f| f.names.iter().any(|n| n.starts_with(shortened)))
            .all(|f| f.key == flag.key);
        if inputs.syntax == Syntax::Argparse && unambiguous {
            self.same_key(
                short_key,
                full_key,
                &format!("{name}: argparse takes {shortened} for {spelling}"),
            );
        } else {
            assert!(
                short_key.is_none() || short_key != full_key,
                "{name}: {shortened} is read as {spelling}, which its parser does not do"
            );
        }
    }

    /// `-x=...`: pflag reads what follows `=` (and `-x=` as `=`), argparse what follows
    /// `=`, click all after the letter.
    fn short_flag_is_read_as_its_parser_reads_it(&self, flag: &Flag, spelling: &str) {
        let name = self.name();
        let bare = self.bare(flag);
        let with_equals = |value: &str| self.key(&joined(&bare, &[&format!("{spelling}={value}")]));
        let (value_read, empty_read) = match self.provider.inputs().syntax {
            Syntax::Pflag => ("kit-value-a", "="),
            Syntax::Argparse => ("kit-value-a", ""),
            Syntax::Click => ("=kit-value-a", "="),
        };
        self.same_key(
            with_equals("kit-value-a"),
            self.key(&with_flag(&bare, flag, spelling, value_read)),
            &format!("{name}: {spelling}=kit-value-a is not read as {value_read}"),
        );
        self.same_key(
            with_equals(""),
            self.key(&with_flag(&bare, flag, spelling, empty_read)),
            &format!("{name}: {spelling}= is not read as {empty_read:?}"),
        );
    }

    fn fallback_variable_means_the_flag(&self, flag: &Flag, var: &str) {
        let name = self.name();
        let mut without = without_flag(&self.base(), flag);
        for v in flag.env {
            without.env.remove(*v);
        }
        let with_var = |value: &str| {
            let mut case = without.clone();
            case.env.insert(var.to_string(), value.to_string());
            case
        };
        let spelling = flag.names[0];
        // A flag beats its fallback variable.
        let flagged = with_flag(&without, flag, spelling, "kit-value-a");
        let mut flagged_and_var = with_flag(&with_var("kit-value-b"), flag, spelling, "kit-value-a");
        self.same_key(
            self.key(&flagged_and_var),
            self.key(&flagged),
            &format!("{name}: ${var} changes the key although {spelling} is given"),
        );
        flagged_and_var.env.insert(var.to_string(), "kit-value-c".into());
        self.same_key(
            self.key(&flagged_and_var),
            self.key(&flagged),
            &format!("{name}: ${var} beats {spelling}"),
        );
        // Without the flag, the variable is the flag.
        let Some(a) = self.key(&with_var("kit-value-a")) else {
            return; // the flag is needed for recognition: the variable alone is not ours
        };
        assert_eq!(
            Some(&a),
            self.key(&flagged).as_ref(),
            "{name}: ${var}=v and {spelling} v key apart"
        );
        let b = self.must_key(&with_var("kit-value-b"), var);
        assert_ne!(a, b, "{name}: changing ${var} does not change the key");
        if let Some(unset) = self.key(&without) {
            assert_ne!(a, unset, "{name}: setting ${var} does not change the key");
        }
        if !flag.shown {
            self.keeps_secret(&with_var(SECRET), var);
        }
    }

    fn variable_separates_keys(&self, var: &Var) {
        let name = self.name();
        let mut unset = self.base();
        for v in var.names {
            unset.env.remove(*v);
        }
        let with = |names: &[(&str, &str)]| {
            let mut case = unset.clone();
            case.env
                .extend(names.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            case
        };
        let first = var.names[0];
        for n in var.names {
            let a = self.must_key(&with(&[(n, "kit-value-a")]), n);
            let b = self.must_key(&with(&[(n, "kit-value-b")]), n);
            assert_ne!(a, b, "{name}: changing ${n} does not change the key");
            assert_ne!(
                Some(&a),
                self.key(&unset).as_ref(),
                "{name}: setting ${n} does not change the key"
            );
            let as_first = self.must_key(&with(&[(first, "kit-value-a")]), n);
            assert_eq!(a, as_first, "{name}: ${n} and ${first} key apart");
            if *n != first {
                let both = self.must_key(&with(&[(first, "kit-value-a"), (n, "kit-value-b")]), n);
                assert_eq!(both, as_first, "{name}: ${n} beats ${first}");
            }
        }
        if !var.shown {
            self.keeps_secret(&with(&[(first, SECRET)]), first);
        }
    }

    fn operands_separate_keys(&self) {
        let base = self.base();
        let reference = self.must_key(&base, "the invocation");
        for i in 0..base.operands.len() {
            let mut other = base.clone();
            other.operands[i].push_str("-other");
            assert_ne!(
                self.must_key(&other, "another operand"),
                reference,
                "{}: changing the operand {:?} does not change the key",
                self.name(),
                base.operands[i]
            );
        }
    }

    fn undeclared_flags_separate_keys(&self) {
        let base = self.base();
        let reference = self.must_key(&base, "the invocation");
        let mut odd = base.clone();
        odd.flags.push(("--kit-undeclared-flag".into(), None));
        if let Some(key) = self.key(&odd) {
            assert_ne!(
                key,
                reference,
                "{}: an undeclared flag does not change the key",
                self.name()
            );
        }
    }

    /// Every flag and variable declared a path: `~/kit-path`, `$KIT_PATH_DIR/kit-path`
    /// and `kit-path` key and give sources as what the program opens for them.
    fn paths_are_read_as_their_programs_read_them(&self) {
        // The kit's paths are Unix paths.
        if cfg!(windows) {
            return;
        }
        let inputs = self.provider.inputs();
        for flag in inputs.flags.iter().filter(|f| f.role != Role::Cosmetic) {
            if let Some(how) = flag.path {
                let bare = self.bare(flag);
                self.path_is_expanded(flag.names[0], how, &|value| {
                    with_flag(&bare, flag, flag.names[0], value)
                });
            }
        }
        for var in inputs.all_vars() {
            if let Some(how) = var.path {
                let mut bare = self.base();
                for v in var.names {
                    bare.env.remove(*v);
                }
                let first = var.names[0];
                self.path_is_expanded(first, how, &|value| {
                    let mut case = bare.clone();
                    case.env.insert(first.to_string(), value.to_string());
                    case
                });
            }
        }
    }

    fn path_is_expanded(&self, what: &str, how: Expand, given: &dyn Fn(&str) -> Case) {
        let name = self.name();
        let cwd = std::env::current_dir().expect("a working directory");
        let with_home = |value: &str| {
            let mut case = given(value);
            case.env.insert("HOME".into(), "/kit-home".into());
            case.env.insert("USERPROFILE".into(), "/kit-home".into());
            case.env.insert("KIT_PATH_DIR".into(), "/kit-home".into());
            case
        };
        let absolute = |path: std::path::PathBuf| path.to_str().expect("a UTF-8 path").to_string();
        let home_path = absolute(std::path::Path::new("/kit-home").join("kit-path"));
        let expands_home = how != Expand::AsGiven;
        let expands_vars = matches!(how, Expand::VarsThenUser | Expand::UserThenVars);
        let literal = |value: &str| absolute(cwd.join(value));
        // What the program opens for a spelling: the home path where it expands it, else
        // the text itself in the working directory.
        let meaning = |value: &str, expands: bool| if expands { home_path.clone() } else { literal(value) };
        let cases = [
            ("kit-path", literal("kit-path"), true),
            ("~/kit-path", meaning("~/kit-path", expands_home), expands_home),
            (
                "$KIT_PATH_DIR/kit-path",
                meaning("$KIT_PATH_DIR/kit-path", expands_vars),
                expands_vars,
            ),
        ];
        for (value, meaning, expanded) in cases {
            let (written, meant) = (with_home(value), with_home(&meaning));
            self.same_key(
                self.key(&written),
                self.key(&meant),
                &format!("{name}: {what}={value:?} keys apart from {meaning:?}, the file its program ({how:?}) opens"),
            );
            assert_eq!(
                self.sources(&written),
                self.sources(&meant),
                "{name}: {what}={value:?} gives other credential sources than {meaning:?}, the file its program ({how:?}) opens"
            );
            if !expanded {
                let wrongly = with_home(&home_path);
                assert!(
                    self.key(&written).is_none() || self.key(&written) != self.key(&wrongly),
                    "{name}: {what}={value:?} keys like {home_path:?}, but its program ({how:?}) does not expand it"
                );
            }
        }
    }

    /// The credential sources of `case`, if the provider recognises it.
    fn sources(&self, case: &Case) -> Option<Vec<std::path::PathBuf>> {
        let argv = self.argv(case, false, false);
        let args = parse(&argv, self.provider.inputs());
        self.provider
            .recognises(self.inv.program, &args)
            .then(|| self.provider.credential_sources(&args, &case.env))
    }

    fn child_environment_is_not_keyed(&self) {
        let inputs = self.provider.inputs();
        for (var, _) in self.provider.child_env() {
            let keyed =
                inputs.flags.iter().any(|f| f.env.contains(var)) || inputs.all_vars().any(|v| v.names.contains(var));
            assert!(
                !keyed,
                "{}: sets ${var} for the command, which its key reads from the user's environment",
                self.name()
            );
        }
    }

    /// `SECRET`, given in `case`, appears neither in the key nor in the stored entry.
    fn keeps_secret(&self, case: &Case, what: &str) {
        let argv = self.argv(case, false, false);
        let args = parse(&argv, self.provider.inputs());
        let identity = self
            .provider
            .identity(&args, &case.env)
            .unwrap_or_else(|e| panic!("{}: {e}", self.name()));
        let key = CacheKey::new(self.name(), &identity);
        assert!(
            !key.as_str().contains(SECRET),
            "{}: {what}'s value, not declared fit to show, is in the key",
            self.name()
        );
        let json = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"t"}}"#;
        let credential = ExecCredential::parse(json.as_bytes()).expect("a credential");
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let entry = CacheEntry::new(self.name(), &identity.parts, &credential, now, now);
        let mut file = CacheFile::new(&identity.cluster);
        file.insert(&key, entry, now);
        assert!(
            !file.to_yaml().contains(SECRET),
            "{}: {what}'s value, not declared fit to show, is in the cache file",
            self.name()
        );
    }
}

/// The flags of `case` as arguments: `--f=v` or `--f v`, in order or reversed.
fn flag_args(case: &Case, equals: bool, reversed: bool) -> Vec<String> {
    let mut flags: Vec<&(String, Option<String>)> = case.flags.iter().collect();
    if reversed {
        flags.reverse();
    }
    let mut out = Vec::new();
    for (name, value) in flags {
        match value {
            None => out.push(name.clone()),
            Some(v) if equals => out.push(format!("{name}={v}")),
            Some(v) => out.extend([name.clone(), v.clone()]),
        }
    }
    out
}

fn without_flag(case: &Case, flag: &Flag) -> Case {
    let mut out = case.clone();
    out.flags.retain(|(name, _)| !flag.names.contains(&name.as_str()));
    out
}

/// `case` with `args` appended as they are (a spelling the kit builds itself).
fn joined(case: &Case, args: &[&str]) -> Case {
    let mut out = case.clone();
    out.flags.extend(args.iter().map(|a| (a.to_string(), None)));
    out
}

fn with_flag(case: &Case, flag: &Flag, spelling: &str, value: &str) -> Case {
    let mut out = without_flag(case, flag);
    out.flags
        .push((spelling.to_string(), flag.takes_value.then(|| value.to_string())));
    out
}

#[cfg(test)]
mod tests {
    //! Mutations: providers that break the contract in the ways a real one could. The kit
    //! must catch each.

    use super::*;
    use crate::provider::{Env, Identity, Inputs, ParsedArgs, Syntax};

    /// A provider whose table and identity function the test chooses.
    struct Mutant {
        inputs: &'static Inputs,
        identity: fn(&ParsedArgs, &dyn Env) -> Identity,
    }

    impl Provider for Mutant {
        fn name(&self) -> &'static str {
            "mutant"
        }
        fn command(&self) -> &'static str {
            "kit-fake token"
        }
        fn description(&self) -> &'static str {
            "a provider that breaks the contract"
        }
        fn inputs(&self) -> &'static Inputs {
            self.inputs
        }
        fn recognises(&self, _program: &str, args: &ParsedArgs) -> bool {
            args.positionals.first().is_some_and(|word| word == "token")
        }
        fn identity(&self, args: &ParsedArgs, env: &dyn Env) -> Result<Identity, String> {
            Ok((self.identity)(args, env))
        }
    }

    /// A [`Mutant`] whose credential sources or changes to the command's environment are
    /// its own too.
    struct Extended {
        mutant: Mutant,
        sources: fn(&ParsedArgs, &dyn Env) -> Vec<std::path::PathBuf>,
        child_env: &'static [(&'static str, Option<&'static str>)],
    }

    impl Provider for Extended {
        fn name(&self) -> &'static str {
            self.mutant.name()
        }
        fn command(&self) -> &'static str {
            self.mutant.command()
        }
        fn description(&self) -> &'static str {
            self.mutant.description()
        }
        fn inputs(&self) -> &'static Inputs {
            self.mutant.inputs()
        }
        fn recognises(&self, program: &str, args: &ParsedArgs) -> bool {
            self.mutant.recognises(program, args)
        }
        fn identity(&self, args: &ParsedArgs, env: &dyn Env) -> Result<Identity, String> {
            self.mutant.identity(args, env)
        }
        fn credential_sources(&self, args: &ParsedArgs, env: &dyn Env) -> Vec<std::path::PathBuf> {
            (self.sources)(args, env)
        }
        fn child_env(&self) -> &'static [(&'static str, Option<&'static str>)] {
            self.child_env
        }
    }

    static SOUND: Inputs = Inputs {
        programs: &["kit-fake"],
        syntax: Syntax::Pflag,
        flags: &[
            Flag::value("cluster-id", &["--cluster-id", "-i"]).shown(),
            Flag::value("context", &["--context"]).env(&["KIT_CONTEXT"]),
            Flag::value("secret", &["--secret"]),
            Flag::value("partition", &["--partition"]).shown(),
            Flag::value("config", &["--config"]).path(Expand::User),
            Flag::switch("verbose", &["--verbose", "-v"]).cosmetic("logging only"),
        ],
        vars: &[&[
            Var::keyed("profile", &["KIT_PROFILE", "KIT_DEFAULT_PROFILE"]).shown(),
            Var::keyed("credentials", &["KIT_CREDENTIALS"]).path(Expand::VarsThenUser),
            Var::keyed("cache", &["KIT_CACHE"]).path(Expand::AsGiven),
        ]],
    };

    /// The sound table with one change: `flag` in place of the flag of its key, or
    /// added when there is none (a mutation), leaked for the `'static` a provider's
    /// table has.
    fn sound_with(flag: Flag) -> &'static Inputs {
        let mut flags: Vec<Flag> = SOUND.flags.to_vec();
        match flags.iter_mut().find(|f| f.key == flag.key) {
            Some(old) => *old = flag,
            None => flags.push(flag),
        }
        Box::leak(Box::new(Inputs {
            flags: flags.leak(),
            ..SOUND
        }))
    }

    const INVOCATION: Invocation = Invocation {
        program: "kit-fake",
        words: &["token"],
        operands: &[],
        flags: &[("--cluster-id", "c1"), ("--context", "ctx"), ("--verbose", "")],
        env: &[("KIT_CONTEXT", "ignored-since-the-flag-is-given"), ("KIT_PROFILE", "p")],
    };

    fn declared(args: &ParsedArgs, env: &dyn Env) -> Identity {
        Identity::declared(args.last("cluster-id").unwrap_or_default(), args, env).unwrap()
    }

    fn fails(mutant: Mutant) -> String {
        fails_with(mutant, &INVOCATION)
    }

    fn fails_with(mutant: Mutant, invocation: &Invocation) -> String {
        let result = std::panic::catch_unwind(|| check(&mutant, invocation, &[]));
        let payload = result.expect_err("the kit let a broken provider through");
        payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_else(|| "(no message)".into())
    }

    #[test]
    fn a_sound_provider_passes_with_cosmetic_flags_and_fallbacks_in_its_invocation() {
        check(
            &Mutant {
                inputs: &SOUND,
                identity: declared,
            },
            &INVOCATION,
            &[("kit-fake", &["verify"])],
        );
    }

    /// Two cases that both run uncached key "alike" without proving anything: such a
    /// comparison fails, so no check of the kit can pass vacuously.
    #[test]
    #[should_panic(expected = "neither is keyed")]
    fn comparing_two_unkeyed_cases_fails() {
        let provider = Mutant {
            inputs: &SOUND,
            identity: declared,
        };
        let kit = Kit {
            provider: &provider,
            inv: &INVOCATION,
        };
        kit.same_key(None, None, "two cases");
    }

    #[test]
    fn a_provider_that_reads_the_subcommand_by_its_place_fails() {
        // The first argument taken for the subcommand: wrong where global flags come first.
        let message = fails(Mutant {
            inputs: &SOUND,
            identity: |args, env| declared(args, env).with_shown("subcommand", args.raw.first().cloned()),
        });
        assert!(message.contains("flags before the subcommand"), "{message}");
    }

    #[test]
    fn a_flag_declared_and_not_keyed_fails() {
        // The reproduction from the issue: `--partition` is parsed, but the identity is
        // built by hand from an older list of flags.
        let message = fails(Mutant {
            inputs: &SOUND,
            identity: |args, env| {
                let id = declared(args, env);
                Identity {
                    parts: id.parts.into_iter().filter(|(k, _)| *k != "partition").collect(),
                    ..id
                }
            },
        });
        assert!(message.contains("--partition"), "{message}");
    }

    #[test]
    fn a_flag_read_by_the_provider_and_then_forgotten_fails() {
        let message = fails(Mutant {
            inputs: sound_with(Flag::value("scope", &["--scope"]).read_by_provider("a set")),
            identity: declared,
        });
        assert!(message.contains("--scope"), "{message}");
    }

    /// `--context` and its fallback variable, read by the provider rather than keyed by
    /// the table.
    const CONTEXT_BY_HAND: Flag = Flag::value("context", &["--context"])
        .env(&["KIT_CONTEXT"])
        .read_by_provider("read by hand");

    #[test]
    fn a_forgotten_fallback_variable_fails() {
        let message = fails(Mutant {
            inputs: sound_with(CONTEXT_BY_HAND),
            identity: |args, env| declared(args, env).with("context", args.last("context")),
        });
        assert!(message.contains("KIT_CONTEXT"), "{message}");
    }

    #[test]
    fn a_variable_that_beats_its_flag_fails() {
        let message = fails(Mutant {
            inputs: sound_with(CONTEXT_BY_HAND),
            identity: |args, env| {
                let context = env
                    .var("KIT_CONTEXT")
                    .or_else(|| args.last("context").map(String::from));
                declared(args, env).with("context", context)
            },
        });
        assert!(message.contains("context"), "{message}");
    }

    /// The issue's finding: a flag declared without a marking used to be keyed in clear.
    /// Now the default is a digest, and a provider that shows such a value anyway (read
    /// by hand and added in clear) is caught.
    #[test]
    fn a_value_not_declared_fit_to_show_in_clear_fails() {
        let message = fails(Mutant {
            inputs: sound_with(Flag::value("token", &["--token"]).read_by_provider("read by hand")),
            identity: |args, env| declared(args, env).with_shown("token", args.last("token")),
        });
        assert!(message.contains("not declared fit to show, is in the key"), "{message}");
        // Declared and keyed by the table, such a value is a digest: the kit passes.
        const VAULT: &[&[Var]] = &[&[Var::keyed("vault-token", &["KIT_VAULT_TOKEN"])]];
        let digest: &'static Inputs = Box::leak(Box::new(Inputs {
            vars: VAULT,
            ..*sound_with(Flag::value("token", &["--token"]))
        }));
        let invocation = Invocation {
            flags: &[("--cluster-id", "c1"), ("--token", "t0k3n")],
            env: &[("KIT_VAULT_TOKEN", "v4ult")],
            ..INVOCATION
        };
        let sound = Mutant {
            inputs: digest,
            identity: declared,
        };
        check(&sound, &invocation, &[]);
        let argv: Vec<String> = ["token", "--cluster-id", "c1", "--token", "t0k3n"]
            .map(String::from)
            .to_vec();
        let env = HashMap::from([("KIT_VAULT_TOKEN".to_string(), "v4ult".to_string())]);
        let id = declared(&parse(&argv, digest), &env);
        let key = CacheKey::new("mutant", &id);
        for value in ["t0k3n", "v4ult"] {
            assert!(!key.as_str().contains(value), "{}", key.as_str());
        }
        assert!(key.as_str().contains("c1"), "the shown cluster id is in clear");
    }

    // The kit's path checks use Unix paths (`paths_are_read_as_their_programs_read_them`).
    #[cfg(unix)]
    #[test]
    fn a_path_keyed_as_written_where_its_program_expands_it_fails() {
        let message = fails(Mutant {
            inputs: &SOUND,
            identity: |args, env| {
                let id = declared(args, env);
                let parts = id.parts.into_iter().filter(|(k, _)| *k != "credentials").collect();
                Identity { parts, ..id }.with_shown("credentials", env.var("KIT_CREDENTIALS"))
            },
        });
        assert!(message.contains("KIT_CREDENTIALS"), "{message}");
    }

    // The kit's path checks use Unix paths (`paths_are_read_as_their_programs_read_them`).
    #[cfg(unix)]
    #[test]
    fn a_path_expanded_where_its_program_does_not_fails() {
        let message = fails(Mutant {
            inputs: &SOUND,
            identity: |args, env| {
                let id = declared(args, env);
                let parts = id.parts.into_iter().filter(|(k, _)| *k != "cache").collect();
                let expanded = env
                    .var("KIT_CACHE")
                    .map(|v| crate::provider::keyed_path(&v, Expand::User, env).unwrap());
                Identity { parts, ..id }.with_shown("cache", expanded)
            },
        });
        assert!(message.contains("KIT_CACHE"), "{message}");
    }

    /// A provider whose credential sources follow a path variable: watched as written
    /// (the issue's `~/.aws/creds-prod`), they are another file than the program reads.
    // The kit's path checks use Unix paths (`paths_are_read_as_their_programs_read_them`).
    #[cfg(unix)]
    #[test]
    fn credential_sources_that_do_not_expand_a_path_fail() {
        let provider = Extended {
            mutant: Mutant {
                inputs: &SOUND,
                identity: declared,
            },
            sources: |_args, env| {
                env.var("KIT_CREDENTIALS")
                    .map(std::path::PathBuf::from)
                    .into_iter()
                    .collect()
            },
            child_env: &[],
        };
        let result = std::panic::catch_unwind(|| check(&provider, &INVOCATION, &[]));
        let payload = result.expect_err("the kit let a broken provider through");
        let message = payload.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(message.contains("credential sources"), "{message}");
    }

    #[test]
    fn a_cosmetic_flag_that_keys_fails() {
        let message = fails(Mutant {
            inputs: &SOUND,
            identity: |args, env| declared(args, env).with("verbose", args.last("verbose")),
        });
        assert!(message.contains("cosmetic"), "{message}");
    }

    #[test]
    fn dropping_unknown_arguments_fails() {
        let message = fails(Mutant {
            inputs: &SOUND,
            identity: |args, env| Identity {
                unknown_args: Vec::new(),
                ..declared(args, env)
            },
        });
        assert!(message.contains("undeclared flag"), "{message}");
    }

    #[test]
    fn ignoring_an_operand_that_names_the_cluster_fails() {
        let invocation = Invocation {
            operands: &["cluster-7"],
            ..INVOCATION
        };
        let mutant = Mutant {
            inputs: &SOUND,
            identity: declared,
        };
        let message = fails_with(mutant, &invocation);
        assert!(message.contains("operand"), "{message}");
    }

    /// The parser's reading is the program's: a provider that reads a flag from the raw
    /// arguments itself, the way the old parser did (`-i=` empty), is caught.
    #[test]
    fn reading_arguments_unlike_the_programs_parser_fails() {
        let message = fails(Mutant {
            inputs: &SOUND,
            identity: |args, env| {
                let raw = args.raw;
                let cluster = raw.iter().enumerate().find_map(|(i, a)| {
                    if a == "-i" || a == "--cluster-id" {
                        raw.get(i + 1).cloned()
                    } else {
                        a.strip_prefix("-i=")
                            .or_else(|| a.strip_prefix("--cluster-id="))
                            .or_else(|| a.strip_prefix("-i"))
                            .map(String::from)
                    }
                });
                Identity {
                    cluster: cluster.clone().unwrap_or_default(),
                    ..declared(args, env)
                }
                .with("cluster-id", cluster)
            },
        });
        assert!(message.contains("-i="), "{message}");
    }

    #[test]
    fn a_flag_whose_variables_are_read_in_any_order_but_keyed_in_one_fails() {
        let any_order = Flag::value("user", &["--user"])
            .env_any_order(&["KIT_USER", "KIT_DEFAULT_USER"])
            .read_by_provider("by hand");
        let message = fails(Mutant {
            inputs: sound_with(any_order),
            identity: |args, env| declared(args, env).with("user", args.value("user", env)),
        });
        assert!(message.contains("KIT_DEFAULT_USER is not keyed beside"), "{message}");
    }

    #[test]
    fn an_unset_value_that_hides_the_variable_fails() {
        let region = Flag::value("region", &["--region"])
            .env(&["KIT_REGION"])
            .unset_when(&[""])
            .read_by_provider("by hand");
        let message = fails(Mutant {
            inputs: sound_with(region),
            identity: |args, env| {
                let region = args.last("region").map(String::from).or_else(|| env.var("KIT_REGION"));
                declared(args, env).with("region", region)
            },
        });
        assert!(message.contains("not given"), "{message}");
    }

    #[test]
    fn keying_only_the_last_value_of_a_repeatable_flag_fails() {
        let message = fails(Mutant {
            inputs: sound_with(
                Flag::value("header", &["--header"])
                    .repeatable()
                    .read_by_provider("by hand"),
            ),
            identity: |args, env| declared(args, env).with("header", args.last("header")),
        });
        assert!(message.contains("repeatable"), "{message}");
    }

    #[test]
    fn setting_a_keyed_variable_for_the_command_fails() {
        let provider = Extended {
            mutant: Mutant {
                inputs: &SOUND,
                identity: declared,
            },
            sources: |_, _| Vec::new(),
            child_env: &[("KIT_OUTPUT", Some("json")), ("KIT_DEFAULT_PROFILE", None)],
        };
        let result = std::panic::catch_unwind(|| check(&provider, &INVOCATION, &[]));
        let payload = result.expect_err("the kit let a broken provider through");
        let message = payload.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(message.contains("KIT_DEFAULT_PROFILE"), "{message}");
    }
}

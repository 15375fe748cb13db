//! Launchers: programs that run another command with credentials they hand it
//! (`aws-vault exec PROFILE -- aws eks get-token ...`, `env NAME=VALUE ... CMD`). A
//! launcher is not a provider: it declares its own flags and variables (what decides
//! which credentials it hands over) and where the command it launches starts; that
//! command is recognised through the registry as if it stood alone, with the
//! environment the launcher gives it. The two make one [`Launched`] provider for the
//! engine: keyed by both identities (the launcher's parts under its name, then the inner
//! provider's), with both one's credential sources, and never refreshed in the
//! background when either may prompt.
//!
//! A launched command that no provider recognises is not recognised at all: it runs
//! uncached, as it would bare, since what it reads is unknown (`--generic` in front of
//! the launcher caches it on the user's word).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::{Env, Identity, Inputs, ParsedArgs, Provider, parse};

/// A program that runs a command with credentials it supplies. Register an
/// implementation with `inventory::submit! { &MyLauncher as &dyn Launcher }`.
pub trait Launcher: Sync {
    /// Short, stable name: part of every key of a command it launches.
    fn name(&self) -> &'static str;
    /// The invocation it recognises, for `list-providers` (`aws-vault exec P -- CMD`).
    fn command(&self) -> &'static str;
    /// One line for `list-providers`.
    fn description(&self) -> &'static str;
    /// Its programs, and its own flags and variables (everything before the command).
    fn inputs(&self) -> &'static Inputs;
    /// Where the launched command (its program) starts in `args`, if `args` are this
    /// launcher's run-a-command form; the arguments before it are the launcher's own.
    fn split(&self, args: &[String]) -> Option<usize>;
    /// Whether its own arguments, read with `inputs()`, are its run-a-command form.
    fn recognises(&self, own: &ParsedArgs) -> bool;
    /// Everything in its own arguments and environment that decides which credentials
    /// it hands over (the cluster is the launched command's).
    fn identity(&self, own: &ParsedArgs, env: &dyn Env) -> Result<Identity, String> {
        Identity::declared("", own, env)
    }
    /// What it changes in the environment of the command it launches, besides the
    /// credentials it hands over (which no one else sees).
    fn launched_env(&self, _own: &ParsedArgs, _env: &dyn Env) -> EnvChange {
        EnvChange::default()
    }
    /// Where the credentials it hands over come from (its key store, its session cache).
    fn credential_sources(&self, _own: &ParsedArgs, _env: &dyn Env) -> Vec<PathBuf> {
        Vec::new()
    }
    /// Whether it may ask a person for something (a passphrase, an MFA code, a browser
    /// sign-in).
    fn may_prompt(&self, own: &ParsedArgs, env: &dyn Env) -> bool;
    /// The latest time a credential signed with what it handed over just now can still
    /// be accepted, where its own rules say (aws-vault hands over a session with at
    /// least `AWS_MIN_TTL` left).
    fn expiry_bound(&self, _own: &ParsedArgs, _env: &dyn Env) -> Option<DateTime<Utc>> {
        None
    }
}

inventory::collect!(&'static dyn Launcher);

/// Every registered launcher, sorted by name.
pub fn launchers() -> Vec<&'static dyn Launcher> {
    let mut all: Vec<&'static dyn Launcher> = inventory::iter::<&'static dyn Launcher>().copied().collect();
    all.sort_by_key(|l| l.name());
    all
}

/// Changes to an environment: cleared first (`env -i`), then variables set or removed
/// in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvChange {
    pub clear: bool,
    pub changes: Vec<(String, Option<String>)>,
}

/// An environment with a launcher's changes applied.
struct Changed<'a> {
    outer: &'a dyn Env,
    change: &'a EnvChange,
}

impl Env for Changed<'_> {
    fn var(&self, name: &str) -> Option<String> {
        match self.change.changes.iter().rev().find(|(n, _)| n == name) {
            Some((_, value)) => value.clone(),
            None if self.change.clear => None,
            None => self.outer.var(name),
        }
    }
}

/// A launcher with the command it launches: one provider to the engine.
pub struct Launched {
    launcher: &'static dyn Launcher,
    inner: &'static dyn Provider,
    /// The launched program as given, and its arguments.
    program: String,
    args: Vec<String>,
    /// How many of `args` the inner provider reads: all, but for a launcher, which
    /// reads its own arguments only (the rest is its command's).
    inner_len: usize,
}

/// The provider for `program args` if it is a registered launcher running a command
/// some provider (or launcher) recognises, with the launcher's own arguments.
pub(super) fn recognise<'a>(name: &str, args: &'a [String]) -> Option<(&'static dyn Provider, ParsedArgs<'a>)> {
    inventory::iter::<&'static dyn Launcher>()
        .copied()
        .filter(|l| l.inputs().programs.contains(&name))
        .find_map(|launcher| {
            let at = launcher.split(args)?;
            let own = parse(&args[..at], launcher.inputs());
            if !launcher.recognises(&own) {
                return None;
            }
            let launched = Launched::new(launcher, &args[at..])?;
            // One per recognised run, for the life of the process (a kubectl run, a
            // doctor run): the engine and the commands hold providers as `'static`.
            Some((Box::leak(Box::new(launched)) as &'static dyn Provider, own))
        })
}

impl Launched {
    /// `launcher` running `command` (its program, then its arguments), if a provider
    /// recognises that command as it stands.
    pub(super) fn new(launcher: &'static dyn Launcher, command: &[String]) -> Option<Launched> {
        let (program, args) = command.split_first()?;
        let (inner, inner_len) = nested(|| {
            super::recognise(std::ffi::OsStr::new(program), args).map(|found| (found.provider, found.args.raw.len()))
        })?;
        Some(Launched {
            launcher,
            inner,
            program: program.clone(),
            args: args.to_vec(),
            inner_len,
        })
    }

    /// [`Provider::identity`], with the launched command's identity read in `outer`
    /// changed as the launcher changes it (the contract kit holds it still while it
    /// varies the launcher's own variables, which the command may read too).
    pub(super) fn identity_in(&self, own: &ParsedArgs, env: &dyn Env, outer_env: &dyn Env) -> Result<Identity, String> {
        let outer = self.launcher.identity(own, env)?;
        let inner_args = self.inner_args();
        let mut id = self.with_inner_env(own, outer_env, |inner_env| {
            // `env -i`, `env -u HOME`: the command finds its files through a home we
            // cannot see (Python asks the password database, Go gives up), so neither its
            // key nor its credential sources can be told; run it as bare.
            if super::home_dir(inner_env).is_none() && super::home_dir(outer_env).is_some() {
                return Err(format!(
                    "{} leaves the command it runs no home directory",
                    self.launcher.name()
                ));
            }
            self.inner.identity(&inner_args, inner_env)
        })?;
        let name = self.launcher.name();
        // Reading fewer than all its arguments, the launched command is a launcher's. Its
        // parts go one level down: `env /a/env /b/env aws` and `env /b/env /a/env aws` are
        // two keys, and a part of the outer launcher never meets one of the inner
        // launcher's command.
        if self.inner_len < self.args.len() {
            for (part, _) in &mut id.parts {
                *part = interned(format!("{name}>{part}"));
            }
        }
        id.parts.push((prefixed(name, "runs"), self.inner.name().to_string()));
        for (part, value) in outer.parts {
            id.parts.push((prefixed(name, part), value));
        }
        if !outer.unknown_args.is_empty() {
            let exact = serde_json::to_string(&outer.unknown_args).expect("strings serialize");
            id.parts
                .push((prefixed(name, "unknown-args"), super::secret_digest(exact.as_bytes())));
        }
        if let Some(path) = super::program_path_part(std::ffi::OsStr::new(&self.program)) {
            id.parts.push((LAUNCHED_PROGRAM_PART, path));
        }
        Ok(id)
    }

    /// [`Provider::credential_sources`], the launched command's read in `outer_env` as
    /// for [`identity_in`](Self::identity_in).
    pub(super) fn credential_sources_in(&self, own: &ParsedArgs, env: &dyn Env, outer_env: &dyn Env) -> Vec<PathBuf> {
        let mut sources = self.launcher.credential_sources(own, env);
        let inner = self.with_inner_env(own, outer_env, |inner_env| {
            self.inner.credential_sources(&self.inner_args(), inner_env)
        });
        for path in inner {
            if !sources.contains(&path) {
                sources.push(path);
            }
        }
        sources
    }

    fn inner_args(&self) -> ParsedArgs<'_> {
        parse(&self.args[..self.inner_len], self.inner.inputs())
    }

    fn with_inner_env<T>(&self, own: &ParsedArgs, env: &dyn Env, f: impl FnOnce(&dyn Env) -> T) -> T {
        let change = self.launcher.launched_env(own, env);
        f(&Changed {
            outer: env,
            change: &change,
        })
    }
}

/// Launchers nested deeper than this are not recognised (the line runs uncached): a
/// kubeconfig with `env env env ...` thousands deep must not exhaust the stack.
const MAX_NESTING: usize = 8;

/// `recognise` one level deeper, or `None` past [`MAX_NESTING`].
fn nested<T>(recognise: impl FnOnce() -> Option<T>) -> Option<T> {
    thread_local! {
        static DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }
    let depth = DEPTH.get();
    if depth >= MAX_NESTING {
        return None;
    }
    DEPTH.set(depth + 1);
    let found = recognise();
    DEPTH.set(depth);
    found
}

/// The identity part `{launcher}.{part}`, interned: parts are named by `'static`
/// strings, and a launcher's must not meet the launched provider's.
fn prefixed(launcher: &str, part: &str) -> &'static str {
    interned(format!("{launcher}.{part}"))
}

/// `name` as a `'static` string, leaked once per distinct name.
fn interned(name: String) -> &'static str {
    static NAMES: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
    let mut names = NAMES.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(known) = names.get(name.as_str()) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.into_boxed_str());
    names.insert(leaked);
    leaked
}

/// The identity part holding the launched program when it is named by a path (the
/// engine keys the launcher's own path as `program`).
pub const LAUNCHED_PROGRAM_PART: &str = "launched-program";

impl Provider for Launched {
    fn name(&self) -> &'static str {
        self.launcher.name()
    }

    fn command(&self) -> &'static str {
        self.launcher.command()
    }

    fn description(&self) -> &'static str {
        self.launcher.description()
    }

    fn inputs(&self) -> &'static Inputs {
        self.launcher.inputs()
    }

    fn recognises(&self, _program: &str, own: &ParsedArgs) -> bool {
        self.launcher.recognises(own)
    }

    fn identity(&self, own: &ParsedArgs, env: &dyn Env) -> Result<Identity, String> {
        self.identity_in(own, env, env)
    }

    fn may_prompt(&self, own: &ParsedArgs, env: &dyn Env) -> bool {
        self.launcher.may_prompt(own, env)
            || self.with_inner_env(own, env, |inner_env| {
                self.inner.may_prompt(&self.inner_args(), inner_env)
            })
    }

    fn expiry_bound(&self, token: &str, own: &ParsedArgs, env: &dyn Env) -> Option<DateTime<Utc>> {
        let inner = self.with_inner_env(own, env, |inner_env| {
            self.inner.expiry_bound(token, &self.inner_args(), inner_env)
        });
        inner.into_iter().chain(self.launcher.expiry_bound(own, env)).min()
    }

    fn issued_at(&self, token: &str) -> Option<DateTime<Utc>> {
        self.inner.issued_at(token)
    }

    fn credential_sources(&self, own: &ParsedArgs, env: &dyn Env) -> Vec<PathBuf> {
        self.credential_sources_in(own, env, env)
    }

    /// The launched command's: the launcher passes its environment on (but `env -i`,
    /// which clears it, and then the changes do not matter).
    fn child_env(&self) -> &'static [(&'static str, Option<&'static str>)] {
        self.inner.child_env()
    }
}

/// The index after the first `--` in `args`, where a launcher that ends its own
/// arguments with `--` starts the command.
pub fn after_double_dash(args: &[String]) -> Option<usize> {
    args.iter().position(|a| a == "--").map(|at| at + 1)
}

/// Whether Go's kingpin (aws-vault, saml2aws, tsh) reads more arguments from a file
/// here: each argument `@FILE` before `--`, flag values too, stands for the lines of
/// FILE (its lexer, `ExpandArgsFromFile`). We do not read that file, so such a line
/// cannot be keyed: it is not recognised, and runs as bare.
pub fn kingpin_reads_an_arguments_file(args: &[String]) -> bool {
    args.iter().take_while(|a| *a != "--").any(|a| a.starts_with('@'))
}

/// The value of a Go duration as `time.ParseDuration` reads it: an optional sign, then
/// numbers with units (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`), or `0` alone; `None`
/// where Go's is an error. Every form counts: a value Go reads and this did not would
/// leave its program's rule (aws-vault's `AWS_MIN_TTL=0`) unseen.
pub fn go_duration(text: &str) -> Option<chrono::Duration> {
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Some(chrono::Duration::zero());
    }
    if rest.is_empty() {
        return None;
    }
    let mut nanos = 0f64;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        // Rust's float syntax is Go's here: a digit on one side of the point at least,
        // one point at most (`.`, `1..5` are errors to both).
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit] {
            "h" => 3.6e12,
            "m" => 6e10,
            "s" => 1e9,
            "ms" => 1e6,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1e3,
            "ns" => 1.0,
            _ => return None,
        };
        nanos += number * scale;
        rest = &rest[unit..];
    }
    // Go's own limit: about 290 years. `i64::MAX as f64` is 2^63, already past it.
    if nanos >= i64::MAX as f64 {
        return None;
    }
    let value = chrono::Duration::nanoseconds(nanos as i64);
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn a_changed_environment_sets_removes_and_clears() {
        let outer: HashMap<String, String> = [("A", "1"), ("B", "2")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into();
        let change = EnvChange {
            clear: false,
            changes: vec![("A".into(), None), ("C".into(), Some("3".into()))],
        };
        let env = Changed {
            outer: &outer,
            change: &change,
        };
        assert_eq!(
            (env.var("A"), env.var("B"), env.var("C")),
            (None, Some("2".into()), Some("3".into()))
        );
        let cleared = EnvChange { clear: true, ..change };
        let env = Changed {
            outer: &outer,
            change: &cleared,
        };
        assert_eq!((env.var("B"), env.var("C")), (None, Some("3".into())));
    }

    /// `env NAME=VALUE aws ...` is the launched provider in all the engine asks of it:
    /// the environment the command gets, the sources it reads (in the environment `env`
    /// gives it), whether it may prompt, when its token was signed.
    #[test]
    fn a_launched_command_answers_as_its_provider_does() {
        use base64::Engine;
        let line: Vec<String> = ["AWS_PROFILE=dev", "aws", "eks", "get-token", "--cluster-name", "c"]
            .map(String::from)
            .into();
        let found = super::super::recognise(std::ffi::OsStr::new("env"), &line).unwrap();
        let aws = super::super::registered()
            .into_iter()
            .find(|p| p.name() == "aws-eks")
            .unwrap();
        let outer: HashMap<String, String> = [("HOME", "/nonexistent/home")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into();
        let mut inner = outer.clone();
        inner.insert("AWS_PROFILE".into(), "dev".into());
        let aws_args = parse(&line[1..], aws.inputs());
        let (launched, args) = (found.provider, &found.args);

        assert!(!aws.child_env().is_empty());
        assert_eq!(launched.child_env(), aws.child_env());
        let sources = aws.credential_sources(&aws_args, &inner);
        assert!(!sources.is_empty());
        assert_eq!(launched.credential_sources(args, &outer), sources);
        assert!(!launched.may_prompt(args, &outer), "no profile asks for an MFA code");
        let url = "https://sts.amazonaws.com/?Action=GetCallerIdentity&X-Amz-Date=20260101T000000Z";
        let token = format!(
            "k8s-aws-v1.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url)
        );
        assert!(aws.issued_at(&token).is_some());
        assert_eq!(launched.issued_at(&token), aws.issued_at(&token));
    }

    #[test]
    fn go_durations_read_as_go_reads_them() {
        assert_eq!(go_duration("5m"), chrono::Duration::try_minutes(5));
        assert_eq!(go_duration("1h30m"), chrono::Duration::try_minutes(90));
        assert_eq!(go_duration("1.5h"), chrono::Duration::try_minutes(90));
        assert_eq!(go_duration("90s"), chrono::Duration::try_seconds(90));
        assert_eq!(go_duration("0"), Some(chrono::Duration::zero()), "Go's zero");
        assert_eq!(go_duration("+0"), Some(chrono::Duration::zero()));
        assert_eq!(go_duration("-5m"), chrono::Duration::try_minutes(-5));
        assert_eq!(go_duration("1500ms"), chrono::Duration::try_milliseconds(1500));
        assert_eq!(go_duration("2us"), Some(chrono::Duration::microseconds(2)));
        assert_eq!(go_duration("2\u{b5}s"), Some(chrono::Duration::microseconds(2)));
        assert_eq!(go_duration(".5s"), chrono::Duration::try_milliseconds(500));
        assert_eq!(go_duration("7ns"), Some(chrono::Duration::nanoseconds(7)));
        // Go's limit is the largest i64 of nanoseconds: 2^63 is past it.
        let past = ["9223372036854775808ns", "2562048h"];
        for bad in ["", "5", "m", "5x", "-", ".s", "1..5s", "1e3s", "0m0", "9999999999h"]
            .iter()
            .chain(&past)
        {
            assert_eq!(go_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn kingpin_argument_files_are_seen_before_the_double_dash_only() {
        let line = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(kingpin_reads_an_arguments_file(&line(&[
            "exec",
            "@prod.args",
            "--",
            "aws"
        ])));
        assert!(kingpin_reads_an_arguments_file(&line(&["--region", "@r", "exec", "p"])));
        assert!(!kingpin_reads_an_arguments_file(&line(&[
            "exec", "p", "--", "aws", "@x"
        ])));
        assert!(!kingpin_reads_an_arguments_file(&line(&["exec", "--region=@r", "p"])));
    }

    #[test]
    fn prefixed_names_are_interned() {
        let a = prefixed("aws-vault", "profile");
        assert_eq!(a, "aws-vault.profile");
        assert!(std::ptr::eq(a, prefixed("aws-vault", "profile")));
    }
}

//! Launcher `env [-i] [-u NAME]... [NAME=VALUE]... COMMAND ARGS...` (coreutils `env`, and
//! the BSDs' with the same options): runs COMMAND in a changed environment. It hands
//! over no credentials of its own; what it changes is read into the launched command's
//! identity, which is keyed as if the command ran with that environment.
//!
//! Read as coreutils reads it (env.c: `getopt_long` with `+`, so options end at the
//! first operand; `-` alone then means `-i`; then every operand with a `=` is an
//! assignment, applied after `-i` and `-u`). The options that change more than the
//! environment (`-C`/`--chdir`, `-S`/`--split-string`, the signal options) and
//! shortened long options are not read: such a line runs uncached, as bare.

use crate::provider::{Env, EnvChange, Flag, Identity, Inputs, Launcher, ParsedArgs, Syntax, secret_digest};

pub struct EnvLauncher;

inventory::submit! { &EnvLauncher as &dyn Launcher }

static INPUTS: Inputs = Inputs {
    programs: &["env"],
    syntax: Syntax::Pflag,
    flags: &[
        Flag::switch("ignore-environment", &["--ignore-environment", "-i"]),
        Flag::value("unset", &["--unset", "-u"]).repeatable().shown(),
        Flag::switch("debug", &["--debug", "-v"]).cosmetic("prints what it does to stderr"),
    ],
    vars: &[],
};

impl Launcher for EnvLauncher {
    fn name(&self) -> &'static str {
        "env"
    }

    fn command(&self) -> &'static str {
        "env [-i] [-u NAME]... [NAME=VALUE]... COMMAND ..."
    }

    fn description(&self) -> &'static str {
        "runs a command in a changed environment; keyed by that command's identity in it"
    }

    fn inputs(&self) -> &'static Inputs {
        &INPUTS
    }

    fn split(&self, args: &[String]) -> Option<usize> {
        let mut at = options_end(args)?;
        if args.get(at).is_some_and(|a| a == "-") {
            at += 1;
        }
        while args.get(at).is_some_and(|a| a.contains('=')) {
            at += 1;
        }
        (at < args.len()).then_some(at)
    }

    fn recognises(&self, own: &ParsedArgs) -> bool {
        let mut operands = own.positionals.iter().skip_while(|p| *p == "-");
        own.unknown.is_empty() && operands.all(|p| p.contains('='))
    }

    /// Its options, and its assignments as digests (a value may be a secret): the
    /// launched command's identity already holds what it reads of them.
    fn identity(&self, own: &ParsedArgs, env: &dyn Env) -> Result<Identity, String> {
        let mut id = Identity::declared("", own, env)?;
        if own.positionals.first().is_some_and(|p| p == "-") {
            id.parts.push(("ignore-environment", "true".into()));
        }
        let set: Vec<String> = assignments(own)
            .map(|(name, value)| format!("{name}={}", secret_digest(value.as_bytes())))
            .collect();
        if !set.is_empty() {
            id.parts
                .push(("set", serde_json::to_string(&set).expect("strings serialize")));
        }
        Ok(id)
    }

    fn launched_env(&self, own: &ParsedArgs, _env: &dyn Env) -> EnvChange {
        let clear = own.last("ignore-environment") == Some("true") || own.positionals.first().is_some_and(|p| p == "-");
        let mut changes: Vec<(String, Option<String>)> = own.all("unset").map(|n| (n.to_string(), None)).collect();
        changes.extend(assignments(own).map(|(n, v)| (n.to_string(), Some(v.to_string()))));
        EnvChange { clear, changes }
    }

    fn may_prompt(&self, _own: &ParsedArgs, _env: &dyn Env) -> bool {
        false
    }
}

/// The `NAME=VALUE` operands, in order.
fn assignments<'a>(own: &'a ParsedArgs) -> impl Iterator<Item = (&'a str, &'a str)> {
    own.positionals.iter().filter_map(|p| p.split_once('='))
}

/// Where `env`'s options end (getopt stops at the first operand, and after `--`), or
/// `None` for an option this launcher does not read.
fn options_end(args: &[String]) -> Option<usize> {
    let mut at = 0;
    while let Some(arg) = args.get(at) {
        if arg == "--" {
            return Some(at + 1);
        }
        if let Some(long) = arg.strip_prefix("--") {
            match long {
                "ignore-environment" | "debug" => at += 1,
                "unset" => at += 2,
                _ if long.starts_with("unset=") => at += 1,
                _ => return None,
            }
            continue;
        }
        let Some(short) = arg.strip_prefix('-').filter(|s| !s.is_empty()) else {
            return Some(at);
        };
        at += 1;
        for (i, c) in short.char_indices() {
            match c {
                'i' | 'v' => {}
                // `-uNAME`, or `-u NAME`.
                'u' if i + 1 == short.len() => at += 1,
                'u' => break,
                _ => return None,
            }
        }
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::contract::{self, Invocation};

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_command_starts_after_the_options_and_assignments() {
        for (line, at) in [
            (&["A=1", "aws", "eks"][..], Some(1)),
            (&["-i", "A=1", "B=2", "aws"], Some(3)),
            (&["-", "A=1", "aws"], Some(2)),
            (&["-u", "AWS_PROFILE", "aws", "-u", "x"], Some(2)),
            (&["-uAWS_PROFILE", "-iv", "aws"], Some(2)),
            (&["--unset=X", "--", "A=1", "aws"], Some(3)),
            (&["--unset", "X", "aws"], Some(2)),
            (&["A=1"], None),
            (&["-C", "/tmp", "aws"], None),
            (&["-S", "aws eks", "x"], None),
            (&["--chdir=/tmp", "aws"], None),
        ] {
            assert_eq!(EnvLauncher.split(&strings(line)), at, "{line:?}");
        }
    }

    #[test]
    fn passes_the_contract() {
        contract::check_launcher(
            &EnvLauncher,
            &Invocation {
                program: "env",
                words: &[],
                operands: &["AWS_PROFILE=prod"],
                flags: &[("-u", "AWS_REGION"), ("-v", "")],
                env: &[],
            },
            &["aws", "eks", "get-token", "--cluster-name", "c1"],
            &[],
        );
    }

    #[test]
    fn the_launched_identity_is_read_in_the_changed_environment() {
        use std::collections::HashMap;
        let env: HashMap<String, String> = [("AWS_PROFILE", "dev"), ("HOME", "/h")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into();
        let key = |line: &[&str]| {
            let args = strings(line);
            let found = crate::provider::recognise(std::ffi::OsStr::new("env"), &args).expect("recognised");
            let id = found.provider.identity(&found.args, &env).unwrap();
            (found.provider.name(), id)
        };
        let eks = ["aws", "eks", "get-token", "--cluster-name", "c1"];
        let prod = key(&[&["AWS_PROFILE=prod"][..], &eks].concat());
        assert_eq!(prod.0, "env");
        assert_eq!(prod.1.cluster, "c1");
        assert_eq!(prod.1.part("profile"), Some("prod"), "the inner profile, as set");
        assert_eq!(prod.1.part("env.runs"), Some("aws-eks"));
        let unset = key(&[&["-u", "AWS_PROFILE"][..], &eks].concat());
        assert_eq!(unset.1.part("profile"), None);
        let cleared = key(&[&["-i", "HOME=/h"][..], &eks].concat());
        assert_eq!(cleared.1.part("profile"), None);
        // No home for the command: where it reads its credentials is unknown.
        for line in [&["-i"][..], &["-u", "HOME"], &["HOME="]] {
            let args = strings(&[line, &eks].concat());
            let found = crate::provider::recognise(std::ffi::OsStr::new("env"), &args).expect("recognised");
            assert!(found.provider.identity(&found.args, &env).is_err(), "{line:?}");
        }
        assert!(!format!("{:?}", prod.1).contains("=prod\""), "assignments as digests");
        let nested = key(&[&["A=1", "env", "AWS_PROFILE=x"][..], &eks].concat());
        assert_eq!(
            nested.1.part("env>profile"),
            Some("x"),
            "one level down: {:?}",
            nested.1
        );
        assert_eq!(nested.1.part("profile"), None);
        assert!(nested.1.parts.contains(&("env.runs", "env".into())), "both launchers");
        // The inner env reads its own arguments only: the command's `-i` is not its.
        let iam = key(&[
            "A=1",
            "env",
            "AWS_PROFILE=x",
            "aws-iam-authenticator",
            "token",
            "-i",
            "c1",
        ]);
        assert_eq!(iam.1.cluster, "c1");
        assert!(iam.1.part("env>env.set").is_some(), "{:?}", iam.1);
        assert_eq!(iam.1.part("env>env.ignore-environment"), None, "{:?}", iam.1);
        assert_eq!(iam.1.part("env>env.unknown-args"), None, "{:?}", iam.1);
        let deep: Vec<&str> = std::iter::repeat_n("env", 100_000).chain(eks).collect();
        assert!(
            crate::provider::recognise(std::ffi::OsStr::new("env"), &strings(&deep)).is_none(),
            "nested past the limit: uncached, and no stack overflow"
        );
        // Two programs named env, by path, nested in either order: two keys.
        let paths = |a: &'static str, b: &'static str| key(&[&[a, b][..], &eks].concat()).1;
        assert_ne!(paths("/a/env", "/b/env"), paths("/b/env", "/a/env"));
        let eight: Vec<&str> = std::iter::repeat_n("env", 7).chain(eks).collect();
        assert!(crate::provider::recognise(std::ffi::OsStr::new("env"), &strings(&eight)).is_some());
        assert!(
            crate::provider::recognise(std::ffi::OsStr::new("env"), &strings(&["A=1", "unknown-plugin"])).is_none(),
            "an unknown command is not ours"
        );
    }
}

//! Wrapping and unwrapping the exec users of a parsed kubeconfig, for `setup` and
//! `unsetup`: the document, as kubectl reads it, is given each entry's new `command`,
//! `args` and `apiVersion`, which `splice.rs` then writes into the file's text.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value};

use super::exec_path::has_separator;
use super::{V1ALPHA1, V1BETA1, WRAPPER, kubectl_finds, resolve_relative_command};
use crate::invocation::{self, Invocation};
use crate::provider;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `setup`: `command: aws` → `command: kubecredcache`, `args: [aws, ...]`.
    Wrap,
    /// `unsetup`: the inverse.
    Unwrap,
}

/// How a wrapped entry names kubecredcache, and which commands are kubecredcache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wrapper {
    /// What `setup` writes as the command: `kubecredcache`, or this binary's path when
    /// kubectl would not find this binary by that name.
    pub command: String,
    /// This binary, resolved: a command naming it is kubecredcache whatever it is called.
    pub this_binary: Option<PathBuf>,
}

impl Wrapper {
    /// Whether an exec `command` runs kubecredcache: named so, or this very binary.
    pub fn is_wrapper(&self, command: &str) -> bool {
        Path::new(command).file_name() == Some(OsStr::new(WRAPPER))
            || self.this_binary.as_ref().is_some_and(|me| {
                Path::new(command).is_absolute() && std::fs::canonicalize(command).ok().as_ref() == Some(me)
            })
    }
}

/// What happened to one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Wrapped {
        provider: &'static str,
        upgraded_from_v1alpha1: bool,
        /// The command, written as the path kubectl ran, where kubecredcache would have
        /// found another file by its name.
        made_absolute: Option<MadeAbsolute>,
    },
    Unwrapped {
        /// kubecredcache's own options that were dropped (`--force-refresh`, `--generic`...).
        dropped: Vec<String>,
    },
    /// `setup` found it already calling kubecredcache.
    AlreadyWrapped,
    /// `unsetup` found it not calling kubecredcache.
    NotWrapped,
    /// `setup` found a command no provider caches.
    UnknownCommand(String),
    /// `setup` found a command named without a path in an entry whose `env:` sets
    /// `PATH`, and the command is not on the `PATH` setup runs with.
    PathUnknown(String),
    /// `unsetup` found kubecredcache called with arguments it cannot unwrap: why.
    NotUnderstood(String),
    /// A user named with `--user` that has no exec entry (a token, a certificate).
    NoExec,
}

/// A command `setup` wrote as the path kubectl runs, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MadeAbsolute {
    pub from: String,
    pub to: String,
    pub because: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserOutcome {
    pub user: String,
    pub outcome: Outcome,
}

/// Wraps or unwraps the exec users of a parsed kubeconfig in place. `only`, if not
/// empty, limits the work to those user names. Users without an exec entry are reported
/// only when `only` names them. `kubeconfig` is the file as kubectl names it: relative
/// commands are relative to its directory.
pub fn rewrite(
    doc: &mut Value,
    direction: Direction,
    only: &[String],
    wrapper: &Wrapper,
    kubeconfig: &Path,
) -> Result<Vec<UserOutcome>, String> {
    if let Some(why) = misnamed(doc) {
        return Err(format!("kubectl refuses it: {why}; give each its own name"));
    }
    let Value::Mapping(root) = doc else {
        return Err("not a kubeconfig (its top level is not a mapping)".into());
    };
    let users = match root.get_mut("users") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Sequence(users)) => users,
        Some(_) => return Err("not a kubeconfig (`users` is not a list)".into()),
    };
    let mut outcomes = Vec::new();
    for user in users.iter_mut() {
        let name = user.get("name").and_then(Value::as_str).unwrap_or("").to_string();
        if !only.is_empty() && !only.contains(&name) {
            continue;
        }
        let outcome = match (user.get_mut("user").and_then(|u| u.get_mut("exec")), direction) {
            (Some(Value::Mapping(exec)), Direction::Wrap) => wrap(exec, wrapper, kubeconfig),
            (Some(Value::Mapping(exec)), Direction::Unwrap) => unwrap(exec, wrapper),
            _ if only.is_empty() => continue,
            _ => Outcome::NoExec,
        };
        outcomes.push(UserOutcome { user: name, outcome });
    }
    Ok(outcomes)
}

/// What kubectl refuses a whole file for in its lists of named things (clusters,
/// contexts, users, extensions): a name twice (a missing one is ""), or a name that is
/// not a string. A file kubectl refuses is not one to write.
fn misnamed(doc: &Value) -> Option<String> {
    let mut lists = vec![
        ("extensions".to_string(), &doc["extensions"]),
        ("preferences.extensions".to_string(), &doc["preferences"]["extensions"]),
    ];
    for (list, field) in [("clusters", "cluster"), ("contexts", "context"), ("users", "user")] {
        lists.push((list.to_string(), &doc[list]));
        for (i, item) in doc[list].as_sequence().into_iter().flatten().enumerate() {
            lists.push((format!("{list}[{i}].{field}.extensions"), &item[field]["extensions"]));
        }
    }
    lists.into_iter().find_map(|(at, list)| {
        let mut seen = std::collections::HashSet::new();
        list.as_sequence()?.iter().find_map(|item| match &item["name"] {
            Value::Null => (!seen.insert("")).then(|| format!("more than one entry without a name in {at}")),
            Value::String(name) => {
                (!seen.insert(name)).then(|| format!("the name '{}' twice in {at}", name.escape_debug()))
            }
            _ => Some(format!("a name that is not a string in {at}")),
        })
    })
}

/// An exec entry's command and arguments, if they are strings.
pub(super) fn command_and_args(exec: &Mapping) -> Option<(String, Vec<String>)> {
    let command = exec.get("command")?.as_str()?.to_string();
    let args = match exec.get("args") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Sequence(seq)) => seq
            .iter()
            .map(|a| a.as_str().map(String::from))
            .collect::<Option<_>>()?,
        Some(_) => return None,
    };
    Some((command, args))
}

/// Sets `args`; none are an empty list where the entry has `args`, else no `args`
/// (kubectl reads both as none).
fn set_args(exec: &mut Mapping, args: Vec<String>) {
    if !args.is_empty() || exec.contains_key("args") {
        exec.insert("args".into(), args.into());
    }
}

/// The path kubectl runs for `command`, when kubecredcache, given the command to run,
/// could find another file by that name:
/// - `bin/aws`: kubectl runs it from the kubeconfig's directory, kubecredcache would
///   from kubectl's working directory;
/// - `aws` in an entry whose `env:` sets `PATH`: kubectl looks it up on its own `PATH`
///   (the one `setup` runs with), kubecredcache would on the entry's. Not on this
///   `PATH`, it is [`Outcome::PathUnknown`].
fn path_kubectl_runs(exec: &Mapping, command: &str, kubeconfig: &Path) -> Result<Option<MadeAbsolute>, Outcome> {
    let (to, because) = if let Some(absolute) = resolve_relative_command(command, kubeconfig) {
        (
            absolute,
            "kubectl ran it from the kubeconfig's directory; kubecredcache needs the full path",
        )
    } else if !has_separator(command) && env_sets_path(exec) {
        // kubectl's PATH may not be this one (sudo, cron, another shell): which file
        // kubectl runs is unknown here, and wrapped, kubecredcache would look on the entry's.
        let found = kubectl_finds(command, kubeconfig, std::env::var_os("PATH").as_deref())
            .map_err(|_| Outcome::PathUnknown(command.to_string()))?;
        (
            found,
            "found on kubectl's PATH; the entry's env sets another PATH for the command it runs",
        )
    } else {
        return Ok(None);
    };
    Ok(Some(MadeAbsolute {
        from: command.to_string(),
        to: to.to_string_lossy().into_owned(),
        because,
    }))
}

/// Whether the entry's `env:` list sets `PATH` (on Windows, in any case).
fn env_sets_path(exec: &Mapping) -> bool {
    let env = exec.get("env").and_then(Value::as_sequence).into_iter().flatten();
    let mut names = env.filter_map(|e| e.get("name")?.as_str());
    names.any(|name| name == "PATH" || (cfg!(windows) && name.eq_ignore_ascii_case("PATH")))
}

fn wrap(exec: &mut Mapping, wrapper: &Wrapper, kubeconfig: &Path) -> Outcome {
    let Some((command, args)) = command_and_args(exec) else {
        return Outcome::UnknownCommand("(no command)".into());
    };
    if wrapper.is_wrapper(&command) {
        return Outcome::AlreadyWrapped;
    }
    let Some(provider) = provider::recognise(OsStr::new(&command), &args).map(|found| found.provider.name()) else {
        return Outcome::UnknownCommand(command);
    };
    let made_absolute = match path_kubectl_runs(exec, &command, kubeconfig) {
        Ok(made_absolute) => made_absolute,
        Err(unknown) => return unknown,
    };
    let wrapped = made_absolute.as_ref().map_or(command, |m| m.to.clone());
    exec.insert("command".into(), wrapper.command.clone().into());
    set_args(exec, std::iter::once(wrapped).chain(args).collect());
    // Current kubectl rejects v1alpha1; v1beta1 has the same fields for these plugins.
    let upgraded_from_v1alpha1 = exec.get("apiVersion").and_then(Value::as_str) == Some(V1ALPHA1);
    if upgraded_from_v1alpha1 {
        exec.insert("apiVersion".into(), V1BETA1.into());
    }
    Outcome::Wrapped {
        provider,
        upgraded_from_v1alpha1,
        made_absolute,
    }
}

fn unwrap(exec: &mut Mapping, wrapper: &Wrapper) -> Outcome {
    let Some((_, args)) = command_and_args(exec).filter(|(command, _)| wrapper.is_wrapper(command)) else {
        return Outcome::NotWrapped;
    };
    // kubecredcache's own options come off as kubecredcache reads them; anything it
    // would not run as a command is left for a person to look at.
    let (wrapped, dropped) = match invocation::read(&args) {
        Invocation::Wrap { command, .. } => (command, args[..args.len() - command.len()].to_vec()),
        Invocation::Ours => {
            return Outcome::NotUnderstood(match args.first() {
                None => "it runs kubecredcache without a command".into(),
                Some(first) => format!("its arguments start with '{first}', which is kubecredcache's own"),
            });
        }
        Invocation::Usage(why) => return Outcome::NotUnderstood(why),
    };
    let (original, rest) = wrapped.split_first().expect("a wrapped command is never empty");
    exec.insert("command".into(), original.as_str().into());
    set_args(exec, rest.to_vec());
    Outcome::Unwrapped { dropped }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(users: &str) -> Value {
        serde_norway::from_str(&format!("apiVersion: v1\nkind: Config\nusers:\n{users}")).unwrap()
    }

    fn by_name() -> Wrapper {
        Wrapper {
            command: WRAPPER.into(),
            this_binary: None,
        }
    }

    fn run(d: &mut Value, direction: Direction, only: &[String]) -> Vec<UserOutcome> {
        rewrite(d, direction, only, &by_name(), Path::new("/home/me/.kube/config")).unwrap()
    }

    const AWS_USER: &str = "- name: eks\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws\n      args: [--region, us-west-2, eks, get-token, --cluster-name, c1]\n      env: [{name: AWS_PROFILE, value: dev}]\n      interactiveMode: IfAvailable\n";

    fn wrapped(provider: &'static str) -> Outcome {
        Outcome::Wrapped {
            provider,
            upgraded_from_v1alpha1: false,
            made_absolute: None,
        }
    }

    #[test]
    fn wrapping_moves_the_command_into_the_arguments_and_keeps_the_rest() {
        let mut d = doc(AWS_USER);
        let out = run(&mut d, Direction::Wrap, &[]);
        assert_eq!(
            out,
            [UserOutcome {
                user: "eks".into(),
                outcome: wrapped("aws-eks")
            }]
        );
        let exec = &d["users"][0]["user"]["exec"];
        assert_eq!(exec["command"], "kubecredcache");
        assert_eq!(exec["args"][0], "aws");
        assert_eq!(exec["args"][6], "c1");
        assert_eq!(exec["env"][0]["value"], "dev");
        assert_eq!(exec["interactiveMode"], "IfAvailable");
        let keys: Vec<&str> = exec.as_mapping().unwrap().keys().map(|k| k.as_str().unwrap()).collect();
        assert_eq!(
            keys,
            ["apiVersion", "command", "args", "env", "interactiveMode"],
            "order kept"
        );
    }

    #[test]
    fn the_wrapper_is_written_as_given() {
        let mut d = doc(AWS_USER);
        let wrapper = Wrapper {
            command: "/opt/kcc/kubecredcache".into(),
            this_binary: None,
        };
        rewrite(&mut d, Direction::Wrap, &[], &wrapper, Path::new("/k/config")).unwrap();
        assert_eq!(d["users"][0]["user"]["exec"]["command"], "/opt/kcc/kubecredcache");
        let out = rewrite(&mut d, Direction::Wrap, &[], &wrapper, Path::new("/k/config")).unwrap();
        assert_eq!(out[0].outcome, Outcome::AlreadyWrapped);
    }

    #[test]
    fn unwrapping_is_the_inverse() {
        let original = doc(AWS_USER);
        let mut d = original.clone();
        run(&mut d, Direction::Wrap, &[]);
        let out = run(&mut d, Direction::Unwrap, &[]);
        assert_eq!(out[0].outcome, Outcome::Unwrapped { dropped: vec![] });
        assert_eq!(d, original);
    }

    #[cfg(unix)] // the expected path is a Unix one; the rule is the same on Windows
    #[test]
    fn a_relative_command_is_made_absolute_against_the_kubeconfigs_directory() {
        let mut d = doc(&AWS_USER.replace("command: aws", "command: bin/aws"));
        let out = run(&mut d, Direction::Wrap, &[]);
        assert_eq!(
            out[0].outcome,
            Outcome::Wrapped {
                provider: "aws-eks",
                upgraded_from_v1alpha1: false,
                made_absolute: Some(MadeAbsolute {
                    from: "bin/aws".into(),
                    to: "/home/me/.kube/bin/aws".into(),
                    because: "kubectl ran it from the kubeconfig's directory; kubecredcache needs the full path",
                })
            }
        );
        assert_eq!(d["users"][0]["user"]["exec"]["args"][0], "/home/me/.kube/bin/aws");
    }

    #[test]
    fn unwrapping_takes_off_kubecredcaches_own_options() {
        for (args, command, rest, dropped) in [
            ("[--, aws, eks, get-token, --cluster-name, c]", "aws", 4, &["--"][..]),
            (
                "[--force-refresh, --, aws, eks, get-token, --cluster-name, c]",
                "aws",
                4,
                &["--force-refresh", "--"],
            ),
            ("[--force-refresh, aws, eks, get-token]", "aws", 2, &["--force-refresh"]),
            (
                "[--generic, --key-env, VAULT_ADDR, --key-env=VAULT_TOKEN, --, vault-login, --role, dev]",
                "vault-login",
                2,
                &["--generic", "--key-env", "VAULT_ADDR", "--key-env=VAULT_TOKEN", "--"],
            ),
            ("[--generic, vault-login]", "vault-login", 0, &["--generic"]),
        ] {
            let mut d = doc(&format!(
                "- name: u\n  user:\n    exec: {{command: kubecredcache, args: {args}}}\n"
            ));
            let out = run(&mut d, Direction::Unwrap, &[]);
            assert_eq!(
                out[0].outcome,
                Outcome::Unwrapped {
                    dropped: dropped.iter().map(|s| s.to_string()).collect()
                },
                "{args}"
            );
            let exec = &d["users"][0]["user"]["exec"];
            assert_eq!(exec["command"], command, "{args}");
            assert_eq!(
                exec.get("args").and_then(Value::as_sequence).map_or(0, Vec::len),
                rest,
                "{args}"
            );
        }
    }

    #[test]
    fn arguments_kubecredcache_would_not_run_are_left_alone() {
        for args in [
            "[]",
            "[status]",
            "[--help]",
            "[--force-refresh]",
            "[--generic, --key-env]",
            "[--generic, --bogus, x]",
            "[--]",
        ] {
            let original = doc(&format!(
                "- name: u\n  user:\n    exec: {{command: kubecredcache, args: {args}}}\n"
            ));
            let mut d = original.clone();
            let out = run(&mut d, Direction::Unwrap, &[]);
            assert!(matches!(out[0].outcome, Outcome::NotUnderstood(_)), "{args}: {out:?}");
            assert_eq!(d, original, "{args}");
        }
    }

    #[test]
    fn v1alpha1_is_upgraded_when_wrapping() {
        let mut d = doc(&AWS_USER.replace("v1beta1", "v1alpha1"));
        let out = run(&mut d, Direction::Wrap, &[]);
        assert_eq!(
            out[0].outcome,
            Outcome::Wrapped {
                provider: "aws-eks",
                upgraded_from_v1alpha1: true,
                made_absolute: None,
            }
        );
        assert_eq!(d["users"][0]["user"]["exec"]["apiVersion"], V1BETA1);
    }

    #[test]
    fn wrapped_unknown_and_non_exec_users_are_left_alone() {
        let users = "- name: wrapped\n  user:\n    exec: {command: /usr/local/bin/kubecredcache, args: [aws, eks, get-token, --cluster-name, c]}\n\
                     - name: other\n  user:\n    exec: {command: some-plugin, args: [x]}\n\
                     - name: token\n  user:\n    token: abc\n";
        let original = doc(users);
        let mut d = original.clone();
        let out = run(&mut d, Direction::Wrap, &[]);
        assert_eq!(out[0].outcome, Outcome::AlreadyWrapped);
        assert_eq!(out[1].outcome, Outcome::UnknownCommand("some-plugin".into()));
        assert_eq!(out.len(), 2, "the token user has no exec entry");
        assert_eq!(d, original);
        let out = run(&mut d, Direction::Unwrap, &["other".to_string(), "token".to_string()]);
        assert_eq!(
            out,
            [
                UserOutcome {
                    user: "other".into(),
                    outcome: Outcome::NotWrapped
                },
                UserOutcome {
                    user: "token".into(),
                    outcome: Outcome::NoExec
                }
            ]
        );
    }

    #[test]
    fn only_the_named_users_are_touched() {
        let two = format!("{AWS_USER}{}", AWS_USER.replace("name: eks", "name: second"));
        let mut d = doc(&two);
        let out = run(&mut d, Direction::Wrap, &["second".to_string()]);
        assert_eq!(out.len(), 1);
        assert_eq!(d["users"][0]["user"]["exec"]["command"], "aws");
        assert_eq!(d["users"][1]["user"]["exec"]["command"], "kubecredcache");
    }

    #[test]
    fn documents_that_are_not_kubeconfigs_are_refused() {
        for text in ["[1, 2]", "just text", "users: 5"] {
            let mut d: Value = serde_norway::from_str(text).unwrap();
            assert!(
                rewrite(&mut d, Direction::Wrap, &[], &by_name(), Path::new("/k")).is_err(),
                "{text}"
            );
        }
        let mut empty: Value = serde_norway::from_str("apiVersion: v1\nkind: Config\n").unwrap();
        assert_eq!(run(&mut empty, Direction::Wrap, &[]), []);
    }
}

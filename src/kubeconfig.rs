//! Kubeconfig files for `setup` and `unsetup`: which files to edit, which exec users to
//! wrap or unwrap, and how. The document is edited as a YAML value whose mappings keep
//! their order, so everything the parser keeps (other keys, order, unknown fields)
//! survives; comments do not, and the command says so.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value};

use crate::provider;

pub const V1ALPHA1: &str = "client.authentication.k8s.io/v1alpha1";
pub const V1BETA1: &str = "client.authentication.k8s.io/v1beta1";
/// The command a wrapped exec entry runs: found on PATH by kubectl, like any plugin.
pub const WRAPPER: &str = "kubecredcache";

/// The kubeconfig files to edit: `--kubeconfig`, else each file named in `KUBECONFIG`
/// (colon-separated, as kubectl reads it), else `~/.kube/config`.
pub fn files(explicit: Option<&Path>) -> Result<Vec<PathBuf>, String> {
    if let Some(path) = explicit {
        return Ok(vec![path.to_path_buf()]);
    }
    if let Some(list) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        let files: Vec<PathBuf> = std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        if !files.is_empty() {
            return Ok(files);
        }
    }
    home::home_dir()
        .map(|h| vec![h.join(".kube").join("config")])
        .ok_or_else(|| "no home directory: name the file with --kubeconfig PATH".to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `setup`: `command: aws` → `command: kubecredcache`, `args: [aws, ...]`.
    Wrap,
    /// `unsetup`: the inverse.
    Unwrap,
}

/// What happened to one exec user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Wrapped {
        provider: &'static str,
        upgraded_from_v1alpha1: bool,
    },
    Unwrapped,
    /// `setup` found it already calling kubecredcache.
    AlreadyWrapped,
    /// `unsetup` found it not calling kubecredcache.
    NotWrapped,
    /// `setup` found a command no provider caches.
    UnknownCommand(String),
}

impl Outcome {
    pub fn changed(&self) -> bool {
        matches!(self, Outcome::Wrapped { .. } | Outcome::Unwrapped)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserOutcome {
    pub user: String,
    pub outcome: Outcome,
}

/// Wraps or unwraps the exec users of a parsed kubeconfig in place. `only`, if not
/// empty, limits the work to those user names. Users without an exec entry are not
/// reported: there is nothing to do for them.
pub fn rewrite(doc: &mut Value, direction: Direction, only: &[String]) -> Result<Vec<UserOutcome>, String> {
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
        let Some(Value::Mapping(exec)) = user.get_mut("user").and_then(|u| u.get_mut("exec")) else {
            continue;
        };
        let outcome = match direction {
            Direction::Wrap => wrap(exec),
            Direction::Unwrap => unwrap(exec),
        };
        outcomes.push(UserOutcome { user: name, outcome });
    }
    Ok(outcomes)
}

fn command_and_args(exec: &Mapping) -> Option<(String, Vec<String>)> {
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

fn is_wrapper(command: &str) -> bool {
    Path::new(command).file_name() == Some(OsStr::new(WRAPPER))
}

fn set_args(exec: &mut Mapping, args: Vec<String>) {
    if args.is_empty() {
        exec.remove("args");
    } else {
        exec.insert(
            "args".into(),
            Value::Sequence(args.into_iter().map(Value::String).collect()),
        );
    }
}

fn wrap(exec: &mut Mapping) -> Outcome {
    let Some((command, args)) = command_and_args(exec) else {
        return Outcome::UnknownCommand("(no command)".into());
    };
    if is_wrapper(&command) {
        return Outcome::AlreadyWrapped;
    }
    let Some(provider) = provider::recognise(OsStr::new(&command), &args).map(|found| found.provider.name()) else {
        return Outcome::UnknownCommand(command);
    };
    exec.insert("command".into(), WRAPPER.into());
    set_args(exec, std::iter::once(command).chain(args).collect());
    // Current kubectl rejects v1alpha1; v1beta1 has the same fields for these plugins.
    let upgraded_from_v1alpha1 = exec.get("apiVersion").and_then(Value::as_str) == Some(V1ALPHA1);
    if upgraded_from_v1alpha1 {
        exec.insert("apiVersion".into(), V1BETA1.into());
    }
    Outcome::Wrapped {
        provider,
        upgraded_from_v1alpha1,
    }
}

fn unwrap(exec: &mut Mapping) -> Outcome {
    match command_and_args(exec) {
        Some((command, args)) if is_wrapper(&command) && !args.is_empty() => {
            let mut args = args.into_iter();
            let original = args.next().expect("not empty");
            exec.insert("command".into(), original.into());
            set_args(exec, args.collect());
            Outcome::Unwrapped
        }
        _ => Outcome::NotWrapped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(users: &str) -> Value {
        serde_norway::from_str(&format!("apiVersion: v1\nkind: Config\nusers:\n{users}")).unwrap()
    }

    const AWS_USER: &str = "- name: eks\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws\n      args: [--region, us-west-2, eks, get-token, --cluster-name, c1]\n      env: [{name: AWS_PROFILE, value: dev}]\n      interactiveMode: IfAvailable\n";

    #[test]
    fn wrapping_moves_the_command_into_the_arguments_and_keeps_the_rest() {
        let mut d = doc(AWS_USER);
        let out = rewrite(&mut d, Direction::Wrap, &[]).unwrap();
        assert_eq!(
            out,
            [UserOutcome {
                user: "eks".into(),
                outcome: Outcome::Wrapped {
                    provider: "aws-eks",
                    upgraded_from_v1alpha1: false
                }
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
    fn unwrapping_is_the_inverse() {
        let original = doc(AWS_USER);
        let mut d = original.clone();
        rewrite(&mut d, Direction::Wrap, &[]).unwrap();
        let out = rewrite(&mut d, Direction::Unwrap, &[]).unwrap();
        assert_eq!(out[0].outcome, Outcome::Unwrapped);
        assert_eq!(d, original);
    }

    #[test]
    fn v1alpha1_is_upgraded_when_wrapping() {
        let mut d = doc(&AWS_USER.replace("v1beta1", "v1alpha1"));
        let out = rewrite(&mut d, Direction::Wrap, &[]).unwrap();
        assert_eq!(
            out[0].outcome,
            Outcome::Wrapped {
                provider: "aws-eks",
                upgraded_from_v1alpha1: true
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
        let out = rewrite(&mut d, Direction::Wrap, &[]).unwrap();
        assert_eq!(out[0].outcome, Outcome::AlreadyWrapped);
        assert_eq!(out[1].outcome, Outcome::UnknownCommand("some-plugin".into()));
        assert_eq!(out.len(), 2, "the token user has no exec entry");
        assert_eq!(d, original);
        let out = rewrite(&mut d, Direction::Unwrap, &["other".to_string()]).unwrap();
        assert_eq!(
            out,
            [UserOutcome {
                user: "other".into(),
                outcome: Outcome::NotWrapped
            }]
        );
    }

    #[test]
    fn only_the_named_users_are_touched() {
        let two = format!("{AWS_USER}{}", AWS_USER.replace("name: eks", "name: second"));
        let mut d = doc(&two);
        let out = rewrite(&mut d, Direction::Wrap, &["second".to_string()]).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(d["users"][0]["user"]["exec"]["command"], "aws");
        assert_eq!(d["users"][1]["user"]["exec"]["command"], "kubecredcache");
    }

    #[test]
    fn documents_that_are_not_kubeconfigs_are_refused() {
        for text in ["[1, 2]", "just text", "users: 5"] {
            let mut d: Value = serde_norway::from_str(text).unwrap();
            assert!(rewrite(&mut d, Direction::Wrap, &[]).is_err(), "{text}");
        }
        let mut empty: Value = serde_norway::from_str("apiVersion: v1\nkind: Config\n").unwrap();
        assert_eq!(rewrite(&mut empty, Direction::Wrap, &[]).unwrap(), []);
    }
}

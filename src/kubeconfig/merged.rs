//! The kubeconfig kubectl sees, for `doctor`: the contexts, users and clusters of every
//! file, merged by kubectl's rules. The first file that sets `current-context` decides
//! it; the first definition of a context, user or cluster of a given name wins; a file
//! named in `KUBECONFIG` that does not exist is skipped, one named with `--kubeconfig`
//! must exist, and a missing `~/.kube/config` is an empty configuration.

use std::path::{Path, PathBuf};

use serde_norway::Value;

use super::Files;
use super::rewrite::command_and_args;

/// The merged view.
#[derive(Debug, Clone, Default)]
pub struct Merged {
    /// The files read, in order.
    pub files: Vec<PathBuf>,
    /// The current context and the file that set it.
    pub current_context: Option<(String, PathBuf)>,
    /// Every definition, in the files' order: the first of a name is the one kubectl
    /// uses, and the one the lookups below find.
    contexts: Vec<Context>,
    users: Vec<User>,
    clusters: Vec<Cluster>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub name: String,
    pub cluster: Option<String>,
    pub user: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    pub name: String,
    pub server: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    /// The file that defines it: a relative exec command is relative to its directory.
    pub file: PathBuf,
    pub exec: Option<Exec>,
    /// What it authenticates with when not with an exec plugin (`token`, ...).
    pub other: Option<&'static str>,
}

/// A user's `exec` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exec {
    pub command: String,
    pub args: Vec<String>,
    /// `env:` entries in order (kubectl appends them to its own environment: a later
    /// one of the same name wins).
    pub env: Vec<(String, String)>,
    pub api_version: Option<String>,
    pub provide_cluster_info: bool,
    /// Why kubectl would refuse the entry as written, if it would.
    pub problem: Option<String>,
}

impl Merged {
    pub fn context(&self, name: &str) -> Option<&Context> {
        self.contexts.iter().find(|c| c.name == name)
    }

    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }

    pub fn cluster(&self, name: &str) -> Option<&Cluster> {
        self.clusters.iter().find(|c| c.name == name)
    }

    fn add(&mut self, file: &Path, doc: &Value) -> Result<(), String> {
        // An empty file (null) is an empty configuration.
        if !matches!(doc, Value::Mapping(_) | Value::Null) {
            return Err(format!("{} is not a kubeconfig (not a mapping)", file.display()));
        }
        if self.current_context.is_none()
            && let Some(current) = text(doc.get("current-context"))
        {
            self.current_context = Some((current, file.to_path_buf()));
        }
        for (name, item) in named(doc, "contexts") {
            let context = item.get("context");
            self.contexts.push(Context {
                name,
                cluster: text(context.and_then(|c| c.get("cluster"))),
                user: text(context.and_then(|c| c.get("user"))),
            });
        }
        for (name, item) in named(doc, "clusters") {
            let server = text(item.get("cluster").and_then(|c| c.get("server")));
            self.clusters.push(Cluster { name, server });
        }
        for (name, item) in named(doc, "users") {
            self.users.push(read_user(name, item.get("user"), file));
        }
        Ok(())
    }
}

/// Reads and merges `files`. An error, in one line, for a file kubectl could not load
/// either (`--kubeconfig` naming a missing file, a file that is not YAML).
pub fn load(files: &Files) -> Result<Merged, String> {
    let mut merged = Merged::default();
    for path in &files.paths {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !files.explicit => continue,
            Err(e) => return Err(format!("cannot read {} ({e})", path.display())),
        };
        let (doc, _) = super::parse(&text).map_err(|e| format!("{} is {e}", path.display()))?;
        merged.add(path, &doc)?;
        merged.files.push(path.clone());
    }
    Ok(merged)
}

fn text(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// The named entries of the list `key` (`contexts`, `users`, `clusters`).
fn named<'v>(doc: &'v Value, key: &str) -> impl Iterator<Item = (String, &'v Value)> {
    doc.get(key)
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|item| Some((text(item.get("name"))?, item)))
}

fn read_user(name: String, user: Option<&Value>, file: &Path) -> User {
    let exec = user.and_then(|u| u.get("exec")?.as_mapping()).map(|exec| {
        let found = command_and_args(exec);
        let problem = found
            .is_none()
            .then(|| "its command is missing, or its args are not all strings".to_string());
        let (command, args) = found.unwrap_or_else(|| (text(exec.get("command")).unwrap_or_default(), Vec::new()));
        let env = exec.get("env").and_then(Value::as_sequence).into_iter().flatten();
        let pair = |e: &Value| {
            Some((
                e.get("name")?.as_str()?.to_string(),
                e.get("value")?.as_str()?.to_string(),
            ))
        };
        Exec {
            command,
            args,
            env: env.filter_map(pair).collect(),
            api_version: text(exec.get("apiVersion")),
            provide_cluster_info: exec.get("provideClusterInfo").and_then(Value::as_bool) == Some(true),
            problem,
        }
    });
    let other = user.and_then(|u| {
        [
            ("token", "a token"),
            ("tokenFile", "a token file"),
            ("client-certificate", "a client certificate"),
            ("client-certificate-data", "a client certificate"),
            ("auth-provider", "an auth-provider"),
            ("username", "a username and password"),
        ]
        .into_iter()
        .find(|(key, _)| u.get(key).is_some())
        .map(|(_, what)| what)
    });
    User {
        name,
        file: file.to_path_buf(),
        exec,
        other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn the_first_file_to_set_a_value_wins() {
        let tmp = tempfile::tempdir().unwrap();
        let a = write(
            tmp.path(),
            "a",
            "contexts:\n- name: c\n  context: {cluster: k, user: u}\nusers:\n- name: u\n  user: {token: t}\n",
        );
        let b = write(
            tmp.path(),
            "b",
            "current-context: c\ncontexts:\n- name: c\n  context: {cluster: other, user: other}\n- name: d\n  context: {user: u}\n\
             users:\n- name: u\n  user:\n    exec: {command: aws, args: [eks, get-token], env: [{name: A, value: '1'}, {name: A, value: '2'}]}\n\
             clusters:\n- name: k\n  cluster: {server: 'https://k'}\n",
        );
        let c = write(tmp.path(), "c", "current-context: d\n");
        let files = Files {
            paths: vec![a.clone(), tmp.path().join("missing"), b.clone(), c.clone()],
            explicit: false,
        };
        let merged = load(&files).unwrap();
        assert_eq!(merged.files, [a.clone(), b.clone(), c], "the missing one skipped");
        assert_eq!(
            merged.current_context,
            Some(("c".into(), b.clone())),
            "the first to set it"
        );
        let context = merged.context("c").unwrap();
        assert_eq!(
            (context.cluster.as_deref(), context.user.as_deref()),
            (Some("k"), Some("u"))
        );
        let user = merged.user("u").unwrap();
        assert_eq!(user.exec, None, "a's definition wins");
        assert_eq!(user.other, Some("a token"));
        assert_eq!(merged.cluster("k").unwrap().server.as_deref(), Some("https://k"));
        assert!(merged.context("d").is_some());
    }

    #[test]
    fn exec_entries_are_read_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let a = write(
            tmp.path(),
            "a",
            "users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws\n      args: [eks, get-token]\n      env: [{name: A, value: '1'}]\n      provideClusterInfo: true\n\
             - name: bad\n  user:\n    exec: {command: x, args: [1, 2]}\n",
        );
        let merged = load(&Files {
            paths: vec![a],
            explicit: true,
        })
        .unwrap();
        let exec = merged.user("u").unwrap().exec.clone().unwrap();
        assert_eq!(exec.command, "aws");
        assert_eq!(exec.args, ["eks", "get-token"]);
        assert_eq!(exec.env, [("A".to_string(), "1".to_string())]);
        assert!(exec.provide_cluster_info);
        assert_eq!(exec.problem, None);
        assert!(merged.user("bad").unwrap().exec.as_ref().unwrap().problem.is_some());
    }

    #[test]
    fn a_missing_explicit_file_or_one_that_is_not_yaml_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = Files {
            paths: vec![tmp.path().join("missing")],
            explicit: true,
        };
        assert!(load(&missing).is_err());
        let default = Files {
            explicit: false,
            ..missing
        };
        assert!(load(&default).unwrap().files.is_empty(), "no ~/.kube/config: empty");
        let bad = write(tmp.path(), "bad", "{ not: [yaml");
        assert!(
            load(&Files {
                paths: vec![bad],
                explicit: false
            })
            .is_err()
        );
        let empty = write(tmp.path(), "empty", "");
        assert!(
            load(&Files {
                paths: vec![empty],
                explicit: false
            })
            .is_ok()
        );
    }
}

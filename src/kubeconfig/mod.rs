//! Kubeconfig files, read as kubectl reads them:
//!
//! - this file: which files (`--kubeconfig`, each file in `KUBECONFIG`, else
//!   `~/.kube/config`);
//! - `exec_path.rs`: where kubectl finds the command an exec entry names, and where
//!   kubecredcache finds the command it wraps;
//! - `rewrite.rs`: wrapping and unwrapping exec users, for `setup` and `unsetup`;
//! - `replace.rs`: replacing a file without losing it, its owner or its mode (backups);
//! - `yaml_read.rs`: reading a document as kubectl's YAML 1.1 reads it, from
//!   `yaml_events.rs`, libyaml's events; `splice.rs`: writing the values `setup` and
//!   `unsetup` change where they stand in the text, and nothing else;
//! - `exec_env.rs`: the environment kubectl gives an exec plugin;
//! - `merged.rs`: the contexts, users and clusters of all the files merged by kubectl's
//!   rules, for `doctor`.

mod exec_env;
mod exec_path;
mod merged;
pub mod replace;
mod rewrite;
mod splice;
mod yaml_events;
mod yaml_read;

use std::path::{Path, PathBuf};

pub use exec_env::ExecEnv;
pub use exec_path::{Missing, kubecredcache_finds, kubectl_finds, resolve_relative_command};
pub use merged::{Exec, Merged, load};
pub use rewrite::{Direction, MadeAbsolute, Outcome, UserOutcome, Wrapper, rewrite};
pub use splice::splice;
pub use yaml_read::parse;

pub const V1ALPHA1: &str = "client.authentication.k8s.io/v1alpha1";
pub const V1BETA1: &str = "client.authentication.k8s.io/v1beta1";
/// The name a wrapped exec entry runs kubecredcache by, when kubectl finds this binary
/// by that name on PATH.
pub const WRAPPER: &str = "kubecredcache";

/// The kubeconfig files, in kubectl's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Files {
    pub paths: Vec<PathBuf>,
    /// Named with `--kubeconfig PATH`, which must exist. Else a missing file is skipped
    /// (from `KUBECONFIG`) or an empty configuration (`~/.kube/config`): the same.
    pub explicit: bool,
}

/// The kubeconfig files: `--kubeconfig`, else each file named in `KUBECONFIG`
/// (colon-separated, duplicates once, as kubectl reads it), else `~/.kube/config`.
pub fn files(explicit: Option<&Path>) -> Result<Files, String> {
    if let Some(path) = explicit {
        return Ok(Files {
            paths: vec![path.to_path_buf()],
            explicit: true,
        });
    }
    let mut paths: Vec<PathBuf> = Vec::new();
    for path in std::env::split_paths(&std::env::var_os("KUBECONFIG").unwrap_or_default()) {
        if !path.as_os_str().is_empty() && !paths.contains(&path) {
            paths.push(path);
        }
    }
    if !paths.is_empty() {
        return Ok(Files { paths, explicit: false });
    }
    crate::provider::home_dir(&crate::provider::ProcessEnv)
        .or_else(home::home_dir)
        .map(|h| Files {
            paths: vec![h.join(".kube").join("config")],
            explicit: false,
        })
        .ok_or_else(|| "no home directory: name the file with --kubeconfig PATH".to_string())
}

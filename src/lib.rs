//! kubecredcache: caches the ExecCredential that a kubectl exec plugin prints, so that
//! later kubectl runs with the same identity get it from one small file instead of
//! running the plugin again.
//!
//! Where to look:
//! - [`cli`]: the command line (`kubecredcache COMMAND ARGS...`, `list-providers`, ...).
//! - [`engine`]: one wrapped run: look up, single-flight fetch, store, print.
//! - [`provider`]: the `Provider` trait and its `inventory` registry; the
//!   implementations live in `providers/`, one file per authenticator.
//! - [`cache_key`], [`cache_file`], [`cache_dir`], [`gc`]: the generic cache.
//! - [`exec_credential`]: what we parse out of a plugin's output.

pub mod args;
pub mod atomic_file;
pub mod cache_dir;
pub mod cache_file;
pub mod cache_key;
pub mod cli;
pub mod commands;
pub mod engine;
pub mod exec_credential;
pub mod gc;
pub mod generic;
pub mod kubeconfig;
pub mod lock;
pub mod logging;
pub mod provider;
#[cfg(test)]
pub mod provider_contract;
pub mod refresh;
pub mod settings;
pub mod sources;
pub mod upstream;

/// The authenticators: every file in `providers/` (compiled in by build.rs).
pub mod providers {
    include!(concat!(env!("OUT_DIR"), "/providers.rs"));
}

//! kubecredcache: caches the ExecCredential that a kubectl exec plugin prints, so that
//! later kubectl runs with the same identity get it from one small file instead of
//! running the plugin again.
//!
//! Where to look (docs/architecture.md has the map):
//! - [`cli`]: the command line (`kubecredcache COMMAND ARGS...`, `list-providers`, ...);
//! - [`engine`]: one wrapped run: look up, single-flight fetch, store, print;
//! - [`provider`]: the `Provider` trait, its declarations and its `inventory` registry;
//!   the implementations live in the top-level `providers/`, one file per authenticator;
//! - [`cache`]: the generic cache, with [`cache::CacheDir`] the one owner of its directory;
//! - [`commands`]: the operator subcommands (`setup`, `status`, ...).

pub mod cache;
pub mod cli;
pub mod commands;
pub mod engine;
pub mod exec_credential;
pub mod generic;
pub mod kubeconfig;
pub mod logging;
pub mod messages;
pub mod provider;
pub mod settings;
pub mod sources;
pub mod upstream;

/// The authenticators: one module per file in the top-level `providers/`.
#[path = "../providers/mod.rs"]
pub mod providers;

/// The provider template that docs/providers.md walks through: compiled and checked by
/// the library's tests, so the walk-through always builds.
#[cfg(test)]
#[path = "../docs/provider-template.rs"]
mod provider_template;

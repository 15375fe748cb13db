//! kubecredcache caches the ExecCredential that a kubectl exec plugin prints, so that
//! later kubectl runs with the same identity get it from one small file instead of
//! running the plugin again. It is a program: install it with
//! `cargo install kubecredcache` and see its
//! [README](https://github.com/kubecredcache/kubecredcache#readme).
//!
//! This library exists for the `kubecredcache` binary, its tests and its fuzz targets.
//! Its one public entry point is [`cli::main`], which runs the program with the
//! process's arguments. The modules hidden from this documentation are public only so
//! that the project's own behaviour tests and fuzz targets can reach them: they are not
//! part of the API, and any release may change them. Providers for other
//! authenticators are added in the repository (one file in `providers/`,
//! docs/providers.md), not through this library.
//!
//! Where to look in the source (docs/architecture.md has the map): `cli` (the command
//! line), `engine` (one wrapped run), `provider` and `providers/` (the authenticators),
//! `cache` (the cache directory), `commands` (the operator subcommands).

pub mod cli;

// Public for tests/ and fuzz/ only (see above).
#[doc(hidden)]
pub mod cache;
#[doc(hidden)]
pub mod exec_credential;
#[doc(hidden)]
pub mod provider;
/// The authenticators: one module per file in the top-level `providers/`.
#[doc(hidden)]
#[path = "../providers/mod.rs"]
pub mod providers;
#[doc(hidden)]
pub mod settings;

mod commands;
mod engine;
mod fs;
mod generic;
mod invocation;
mod kubeconfig;
mod logging;
mod messages;
mod sources;
mod upstream;

/// The provider template that docs/providers.md walks through: compiled and checked by
/// the library's tests, so the walk-through always builds.
#[cfg(test)]
#[path = "../docs/provider-template.rs"]
mod provider_template;

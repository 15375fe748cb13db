//! The behaviour tests, as one test binary: each file is a module. They drive the built
//! binary with bash fakes, so they run on Unix (Linux and macOS; those that need Linux's
//! namespaces, /proc or setpriv are marked so, or skip). Windows has its own smoke test,
//! `tests/windows/smoke`, run under Wine by `.ci/run`.
#![cfg(unix)]

mod aws_cli_settings;
mod caching;
mod cli;
mod common;
mod completion_and_man;
mod concurrency;
mod credential_sources;
mod defends;
mod doctor;
mod e2e_kubectl;
mod faults;
#[cfg(target_os = "linux")]
mod hostile;
mod key_properties;
mod launchers;
mod login_storms;
mod more_providers;
mod never_worse;
mod newcomer;
mod oke;
mod operator_commands;
mod readme;
mod refresh_ahead;
mod review20;
mod setup;
mod stale_credentials;
mod switches;

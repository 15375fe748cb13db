//! The behaviour tests, as one test binary: each file is a module.

mod caching;
mod cli;
mod common;
mod concurrency;
mod defends;
mod doctor;
mod e2e_kubectl;
mod faults;
mod hostile;
mod key_properties;
mod login_storms;
mod more_providers;
mod newcomer;
mod operator_commands;
mod refresh_ahead;
mod setup;
mod stale_credentials;

//! The authenticators kubecredcache knows, one file each. Every `*.rs` file in this
//! folder (but this one) is a provider and becomes a module here through `build.rs`, so
//! adding an authenticator is adding one file; it registers itself with
//! `inventory::submit!`. Code that several providers share lives in a folder of its own
//! (`aws/`), declared below, and registers nothing.

/// The AWS rules that both AWS authenticators follow.
pub mod aws;

include!(concat!(env!("OUT_DIR"), "/providers.rs"));

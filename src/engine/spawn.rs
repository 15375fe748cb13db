//! The wrapped command, run through `upstream` with what the engine adds: our refresh
//! marker kept from its environment (a kubecredcache it runs would take itself for a
//! background refresh), and a command that cannot run reported as a shell would, with
//! "did you mean" for a mistyped subcommand of ours.

use std::ffi::{OsStr, OsString};
use std::io;

use super::refresh::CHILD_ENV;
use crate::upstream::{self, EnvChanges};

/// A provider's changes to the command's environment, after the removal of our marker.
pub fn command_env(provider: EnvChanges<'static>) -> Vec<(&'static str, Option<&'static str>)> {
    let mut changes = vec![(CHILD_ENV, None)];
    changes.extend_from_slice(provider);
    changes
}

/// Runs the command as if kubectl had run it directly (`upstream::exec`); what is
/// returned is the shell's code for why it could not run.
pub fn exec(program: &OsStr, args: &[OsString], env: EnvChanges<'static>) -> i32 {
    let error = upstream::exec(program, args, &command_env(env));
    report_spawn_error(program, &error)
}

/// One line on stderr and the shell's code: 127 not found, 126 not runnable.
pub fn report_spawn_error(program: &OsStr, error: &io::Error) -> i32 {
    let program = program.to_string_lossy();
    if error.kind() == io::ErrorKind::NotFound {
        let typo = crate::invocation::did_you_mean(&program)
            .map_or(String::new(), |sub| format!("; did you mean `kubecredcache {sub}`?"));
        crate::messages::error(&format!(
            "cannot run '{program}': not found (is it installed and on PATH?){typo}"
        ));
        127
    } else {
        crate::messages::error(&format!("cannot run '{program}': {error}"));
        126
    }
}

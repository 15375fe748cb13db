//! What a wrapped run writes: the credential on stdout for kubectl, or a command's own
//! output passed through; and the one-line warnings on stderr.

use std::io::{self, Write};

use crate::exec_credential::ExecCredential;
use crate::messages;

/// Prints `credential` in the apiVersion kubectl asked for.
pub fn credential(credential: &ExecCredential, wanted_api_version: Option<&str>) -> i32 {
    let mut text = credential.render(wanted_api_version);
    text.push('\n');
    write_stdout(text.as_bytes())
}

/// Prints a command's stdout as it was.
pub fn pass_through(stdout: &[u8]) -> i32 {
    write_stdout(stdout)
}

fn write_stdout(bytes: &[u8]) -> i32 {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(e) => {
            messages::error(&format!("cannot write the credential to stdout: {e}"));
            1
        }
    }
}

/// One warning line on stderr.
pub fn warn(what: &str) {
    messages::warn(what);
}

/// One warning line: the run goes on without the cache.
pub fn warn_uncached(what: &str) {
    warn(&format!("{what}; serving without cache"));
}

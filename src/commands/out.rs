//! What a subcommand prints on stdout. Writing never panics: a full or closed stdout
//! (`kubecredcache status > /dev/full`) ends the command with one error line and exit
//! code 1, where `println!` would abort the process.

use std::fmt;
use std::io::{self, Write};

/// Stdout for a subcommand; `writeln!(out, ...)` works as on any writer.
pub struct Out {
    failed: Option<io::Error>,
}

impl Out {
    pub fn new() -> Out {
        Out { failed: None }
    }

    /// Writes unless an earlier write failed (so that only the first error is reported).
    pub fn write_fmt(&mut self, args: fmt::Arguments<'_>) {
        if self.failed.is_none()
            && let Err(e) = io::stdout().write_fmt(args)
        {
            self.failed = Some(e);
        }
    }

    /// The command's exit code, or 1 (after one line on stderr) if stdout failed.
    pub fn finish(mut self, code: i32) -> i32 {
        if self.failed.is_none()
            && let Err(e) = io::stdout().flush()
        {
            self.failed = Some(e);
        }
        match self.failed {
            None => code,
            Some(e) => {
                crate::messages::error(&format!("cannot write to stdout: {e}"));
                1
            }
        }
    }
}

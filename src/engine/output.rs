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

/// How much of a failed command's stdout [`failed_command_stdout`] passes on, at most.
pub const FAILED_STDOUT_AT_MOST: usize = 4 << 10;

/// What a command that failed printed on stdout, passed on to our stderr. kubectl
/// throws a failing plugin's stdout away, yet some plugins explain themselves there (the
/// OCI CLI prints "This CLI session has expired" on stdout and only `Abort!` on
/// stderr): this way the user learns why. Not on stdout, which kubectl reads as the
/// credential; the start of it only, and what looks like a secret taken out, as a
/// half-printed credential could hold one.
pub fn failed_command_stdout(stdout: &[u8]) {
    if let Some(text) = failed_stdout_text(stdout) {
        let _ = io::stderr().lock().write_all(text.as_bytes());
    }
}

/// The text [`failed_command_stdout`] writes; `None` for nothing worth a line.
fn failed_stdout_text(stdout: &[u8]) -> Option<String> {
    let shown = &stdout[..stdout.len().min(FAILED_STDOUT_AT_MOST)];
    let text = String::from_utf8_lossy(shown);
    if text.trim().is_empty() {
        return None;
    }
    if holds_a_credential(stdout) {
        return Some(
            "kubecredcache: the command printed a credential on its stdout before it failed; kubectl does not use it, and it is not shown\n"
                .into(),
        );
    }
    let mut text = crate::cache::redact_secrets(text.trim_end());
    if stdout.len() > shown.len() {
        text.push_str(&format!(
            "\n[{} more bytes on its stdout not shown]",
            stdout.len() - shown.len()
        ));
    }
    text.push('\n');
    Some(text)
}

/// Whether a command's stdout holds a credential, whole or in part: a plugin that
/// prints its token and then fails (a wrapper whose last step failed). Bare, kubectl
/// throws it away unseen; redaction by shape would keep a token made of words.
fn holds_a_credential(stdout: &[u8]) -> bool {
    const MARKS: [&[u8]; 4] = [b"ExecCredential", b"\"token\"", b"\"clientKeyData\"", b"PRIVATE KEY"];
    MARKS.iter().any(|mark| stdout.windows(mark.len()).any(|w| w == *mark))
}

/// One warning line on stderr.
pub fn warn(what: &str) {
    messages::warn(what);
}

/// One warning line: the run goes on without the cache.
pub fn warn_uncached(what: &str) {
    warn(&format!("{what}; serving without cache"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_commands_stdout_is_shown_bounded_and_without_secrets() {
        assert_eq!(failed_stdout_text(b""), None);
        assert_eq!(failed_stdout_text(b" \n\n"), None);
        assert_eq!(
            failed_stdout_text(b"This CLI session has expired.\n").as_deref(),
            Some("This CLI session has expired.\n")
        );
        let long = vec![b'x'; FAILED_STDOUT_AT_MOST + 10];
        let text = failed_stdout_text(&long).unwrap();
        assert!(text.starts_with(&"x".repeat(FAILED_STDOUT_AT_MOST)));
        assert!(text.ends_with("\n[10 more bytes on its stdout not shown]\n"), "{text}");
        let secret = "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7d";
        let half = format!(r#"{{"kind":"ExecCredential","status":{{"token":"{secret}"}}"#);
        let text = failed_stdout_text(half.as_bytes()).unwrap();
        assert!(!text.contains(secret), "{text}");
    }

    #[test]
    fn a_failed_commands_stdout_that_holds_a_credential_is_not_shown() {
        let words = "correct-horse-battery-staple";
        for printed in [
            format!(r#"{{"kind":"ExecCredential","status":{{"token":"{words}"}}}}"#),
            format!(r#"{{"status": {{"token": "{words}""#),
            format!(r#"{{"clientKeyData":"{words}"}}"#),
            format!("-----BEGIN RSA PRIVATE KEY-----\n{words}\n"),
        ] {
            let text = failed_stdout_text(printed.as_bytes()).unwrap();
            assert!(!text.contains(words), "{text}");
            assert!(text.contains("not shown"), "{text}");
        }
        let reason = "This CLI session has expired: run oci session authenticate\n";
        assert_eq!(failed_stdout_text(reason.as_bytes()).as_deref(), Some(reason));
    }
}

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

/// The longest stdout of a failed command that [`failed_command_stdout`] passes on.
pub const FAILED_STDOUT_AT_MOST: usize = 4 << 10;

/// What a command that failed printed on stdout, passed on to our stderr when it reads
/// as a message. kubectl throws a failing plugin's stdout away, yet some plugins explain
/// themselves there (the OCI CLI prints "This CLI session has expired" on stdout and only
/// `Abort!` on stderr): this way the user learns why. Not on stdout, which kubectl reads
/// as the credential.
///
/// That is more than bare shows, so only words are passed on, and anything else is not,
/// with one line that says so: an allow-list, as a deny-list of secret shapes fails open
/// (`Bearer eyJ...`, an access key, `password hunter2` all passed the names it knew).
/// Every word is letters, within plain punctuation (a token, a key, a number, JSON are
/// not); none is one of the names under which an ExecCredential holds a secret
/// (`token`, `clientKeyData`; a value always follows its name); only plain text (no
/// terminal escapes, no binary), and no longer than a message. A password that is a
/// plain word still passes: the cost of showing why the OCI CLI failed.
pub fn failed_command_stdout(stdout: &[u8]) {
    match failed_stdout_text(stdout) {
        Ok(Some(text)) => {
            let _ = io::stderr().lock().write_all(text.as_bytes());
        }
        Ok(None) => {}
        Err(bytes) => warn(&format!(
            "the command also printed {bytes} bytes on stdout, not shown as they may hold a credential (nor does kubectl show them)"
        )),
    }
}

/// The text [`failed_command_stdout`] writes: `None` for nothing worth a line; `Err`
/// with its size for a stdout that is not shown.
fn failed_stdout_text(stdout: &[u8]) -> Result<Option<String>, usize> {
    let Ok(text) = std::str::from_utf8(stdout) else {
        return Err(stdout.len());
    };
    if text.trim().is_empty() {
        return Ok(None);
    }
    let lower = text.to_ascii_lowercase();
    let plain = text.chars().all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'));
    if stdout.len() > FAILED_STDOUT_AT_MOST
        || !plain
        || !text.split_whitespace().all(a_word)
        || ["token", "clientkeydata", "private key"]
            .iter()
            .any(|s| lower.contains(s))
    {
        return Err(stdout.len());
    }
    Ok(Some(format!("{}\n", text.trim_end())))
}

/// A word of a message, not a secret's shape: letters only, in parts joined by `-` or
/// `'` (`re-run`, `CLI's`, `--profile`), within punctuation, and no longer than words are.
fn a_word(word: &str) -> bool {
    let core = word.trim_matches(|c: char| "\"'`([<.,:;!?)]>".contains(c));
    core.len() <= 24
        && core
            .split(['-', '\''])
            .all(|part| part.chars().all(|c| c.is_ascii_alphabetic()))
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
    fn a_failed_commands_stdout_is_shown_only_when_it_cannot_be_a_credential() {
        assert_eq!(failed_stdout_text(b""), Ok(None));
        assert_eq!(failed_stdout_text(b" \n\n"), Ok(None));
        let message = "ERROR: This CLI session has expired, so it cannot currently be used to run commands\r\n\n";
        assert_eq!(
            failed_stdout_text(message.as_bytes()),
            Ok(Some(format!("{}\n", message.trim_end())))
        );
        let message = "fake: This CLI's session has expired (re-run `oci session authenticate --profile x`)!";
        assert_eq!(failed_stdout_text(message.as_bytes()), Ok(Some(format!("{message}\n"))));
        let fits = format!("{}x", "xx ".repeat(FAILED_STDOUT_AT_MOST / 3));
        assert!(failed_stdout_text(fits.as_bytes()).is_ok());
        let secret = "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7d";
        let not_shown = [
            format!("{fits}x"),
            format!(r#"{{"kind":"ExecCredential","status":{{"token":"{secret}""#),
            format!("kind: ExecCredential\nstatus:\n  token: {secret}\n"),
            format!("status:\n  clientKeyData: |\n    -----BEGIN EC PRIVATE KEY-----\n    {secret}\n"),
            format!("warning: retrying\n{{\"status\":{{\"Token\":\"{secret}\"}}}}"),
            "session expired\u{1b}]0;title\u{7}".to_string(),
            "-----BEGIN RSA PRIVATE KEY-----\ncorrect-horse-battery-staple\n".to_string(),
            "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl".to_string(),
            "AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_string(),
            "login with password hunter2".to_string(),
            "ERROR: the session expired at 12:30".to_string(),
        ];
        for text in not_shown {
            assert_eq!(failed_stdout_text(text.as_bytes()), Err(text.len()), "{text}");
        }
        assert_eq!(failed_stdout_text(b"expired \xff\xfe"), Err(10));
    }
}

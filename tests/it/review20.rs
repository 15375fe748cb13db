//! Issue 20's changes tried as a hostile user and a careless operator would, by fresh
//! eyes: each test drives the built binary and failed on main before its fix.

use crate::common::{AWS, Sandbox, token, wait_for, write_script};
use std::fs;
use std::process::{Child, Stdio};

/// A fake `aws` that writes its own credential source on every run, as botocore writes
/// `~/.aws/cli/cache` when it assumes a role and gcloud its `access_tokens.db` when it
/// refreshes: the first run waits for `$GO` to appear before it answers.
const WRITES_ITS_SOURCES: &str = r#"#!/bin/bash
echo "aws $*" >> "$FAKE_CALLS"
n=$(wc -l < "$FAKE_CALLS")
if [ "$n" = 1 ]; then while [ ! -e "$GO" ]; do sleep 0.02; done; fi
mkdir -p "$HOME/.aws/cli/cache"
echo "{\"call\": $n}" > "$HOME/.aws/cli/cache/role.json.tmp"
mv "$HOME/.aws/cli/cache/role.json.tmp" "$HOME/.aws/cli/cache/role.json"
expires=$(date -u -d "@$(( $(date +%s) + 900 ))" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -r "$(( $(date +%s) + 900 ))" +%Y-%m-%dT%H:%M:%SZ)
printf '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{},"status":{"expirationTimestamp":"%s","token":"fake-token-%s"}}\n' "$expires" "$n"
"#;

fn spawn(s: &Sandbox, stderr: &std::path::Path) -> Child {
    s.command(AWS)
        .stdout(Stdio::piped())
        .stderr(fs::File::create(stderr).unwrap())
        .spawn()
        .unwrap()
}

/// Bare, three kubectl runs at once run three plugins side by side. Through us, the two
/// that wait for the first one's fetch must take its token: each running the plugin
/// again in turn, because the first one's plugin wrote its own sources, made the last
/// one wait for three fetches in a row.
#[test]
fn runs_waiting_for_a_fetch_take_its_token_when_the_plugin_writes_its_own_sources() {
    let mut s = Sandbox::new();
    write_script(&s.bin.join("aws"), WRITES_ITS_SOURCES);
    let go = s.root.path().join("go");
    s.set("GO", go.to_str().unwrap());
    let first = spawn(&s, &s.root.path().join("first.err"));
    wait_for("the first fetch to start", || s.calls() == 1);
    let errs: Vec<_> = (0..2).map(|i| s.root.path().join(format!("waiter{i}.err"))).collect();
    let waiters: Vec<Child> = errs.iter().map(|e| spawn(&s, e)).collect();
    wait_for("both to say they wait for it", || {
        errs.iter()
            .all(|e| fs::read_to_string(e).is_ok_and(|t| t.contains("waiting (at most")))
    });
    fs::write(&go, "").unwrap();
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success());
    assert_eq!(token(&String::from_utf8_lossy(&first.stdout)), "fake-token-1");
    for waiter in waiters {
        let out = waiter.wait_with_output().unwrap();
        assert!(out.status.success());
        assert_eq!(
            token(&String::from_utf8_lossy(&out.stdout)),
            "fake-token-1",
            "a waiter takes the token fetched while it waited"
        );
    }
    assert_eq!(
        s.calls(),
        1,
        "the plugin ran once, and no run waited for more than one fetch"
    );
}

/// A parent that ignores SIGCHLD (some daemons and job runners do, and the setting is
/// inherited across exec) made waiting for the plugin fail after it had run; the exec
/// fallback for our own failures then ran it a second time, a one-time code or a
/// device login spent twice, and nothing was cached. Bare, it runs once.
#[test]
fn a_plugin_runs_once_and_is_cached_when_our_parent_ignores_sigchld() {
    let Some(perl) = crate::common::host_tool("perl") else {
        return;
    };
    let s = Sandbox::new();
    let bin = crate::common::bin();
    let ignoring = |s: &Sandbox| {
        let mut args = vec![
            "-e",
            r#"$SIG{CHLD} = "IGNORE"; exec @ARGV or die"#,
            bin.to_str().unwrap(),
        ];
        args.extend(AWS);
        s.command_for(&perl, &args).output().unwrap()
    };
    let out = ignoring(&s);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let first = token(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(s.calls(), 1, "the plugin ran once, as bare");
    let again = ignoring(&s);
    assert_eq!(
        token(&String::from_utf8_lossy(&again.stdout)),
        first,
        "and its token was cached"
    );
    assert_eq!(s.calls(), 1);
}

/// A plugin that prints its credential and then fails (a wrapper script whose last
/// step failed): kubectl throws that stdout away, so bare the token is never shown. The
/// failing plugin's stdout passed on to stderr (for the OCI CLI's reasons) put it on
/// the terminal and in CI logs, where redaction by shape kept a token made of words.
#[test]
fn a_credential_printed_by_a_failing_plugin_is_not_shown() {
    let s = Sandbox::new();
    let secret = "correct-horse-battery-staple-zebra";
    write_script(
        &s.bin.join("aws"),
        &format!(
            r#"#!/bin/bash
echo "aws $*" >> "$FAKE_CALLS"
printf '{{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{{}},"status":{{"expirationTimestamp":"2030-01-01T00:00:00Z","token":"{secret}","clientKeyData":"key-{secret}"}}}}\n'
echo "fake: could not write its cache" >&2
exit 1
"#
        ),
    );
    let out = s.run(AWS);
    assert_eq!(out.status.code(), Some(1), "its exit code, as bare");
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout, which kubectl reads as the credential"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("could not write its cache"), "its own stderr: {stderr}");
    assert!(!stderr.contains(secret), "the token shown: {stderr}");
    assert!(stderr.contains("credential"), "says what it left out: {stderr}");
}

/// A home directory whose name is not UTF-8 (a Latin-1 `/home/josé` on an old system):
/// every credential source under it was watched under a name that is no file, so a
/// key rotated in `~/.aws/credentials` was never noticed, and the previous key's token
/// was served for its whole life where bare signs with the new key.
#[test]
fn credential_sources_under_a_home_that_is_not_utf8_are_watched() {
    use std::os::unix::ffi::OsStrExt;
    let s = Sandbox::new();
    let home = s.root.path().join(std::ffi::OsStr::from_bytes(b"jos\xe9"));
    fs::create_dir_all(home.join(".aws")).unwrap();
    let credentials = home.join(".aws/credentials");
    fs::write(&credentials, "[default]\naws_access_key_id = AKIAOLDKEY\n").unwrap();
    let run = || {
        let out = s.command(AWS).env("HOME", &home).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        token(&String::from_utf8_lossy(&out.stdout))
    };
    let first = run();
    assert_eq!(run(), first, "cached");
    // `aws configure` with a new key: a new file moved into place.
    let new = home.join(".aws/credentials.new");
    fs::write(&new, "[default]\naws_access_key_id = AKIANEWKEY\n").unwrap();
    fs::rename(&new, &credentials).unwrap();
    assert_ne!(run(), first, "the new key's token, as bare");
    assert_eq!(s.calls(), 2);
}

/// A token kubectl takes but cannot send: a control character (a newline a glitching
/// plugin left in it) is no HTTP header value, and Go's HTTP client refuses every
/// request with it ("invalid header field value for Authorization"). Cached, every
/// kubectl run failed for the token's life; bare, the next run asks the plugin again.
#[test]
fn a_token_that_cannot_be_sent_in_a_header_is_passed_through_and_not_cached() {
    let mut s = Sandbox::new();
    write_script(
        &s.bin.join("aws"),
        r#"#!/bin/bash
echo "aws $*" >> "$FAKE_CALLS"
n=$(wc -l < "$FAKE_CALLS")
token="fake-token-$n"
[ -n "$GLITCH" ] && token="fake-token-$n\\n"
printf '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{},"status":{"expirationTimestamp":"2030-01-01T00:00:00Z","token":"%s"}}\n' "$token"
"#,
    );
    s.set("GLITCH", "1");
    let out = s.run(AWS);
    assert!(out.status.success());
    assert_eq!(
        token(&String::from_utf8_lossy(&out.stdout)),
        "fake-token-1\n",
        "passed on as printed"
    );
    assert!(s.cache_files().is_empty(), "nothing stored");
    s.set("GLITCH", "");
    assert_eq!(token(&s.ok(AWS)), "fake-token-2", "the next run asks the plugin again");
    assert_eq!(s.calls(), 2);
}

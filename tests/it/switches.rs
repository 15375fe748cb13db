//! No token of the previous identity after a switch of credentials: the credential
//! sources are compared as a snapshot taken before the command starts, for equality, so
//! a change while a fetch is under way, or a swap to a file older than the one it
//! replaces, fetches afresh (issue 20, cases 1 and 2).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::common::{self, AWS, Sandbox, token, wait_for};

fn write(path: &Path, body: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, body).unwrap();
}

/// A sandbox with an AWS config whose profile assumes the admin role.
fn with_aws_config() -> (Sandbox, PathBuf) {
    let s = Sandbox::new();
    let config = s.home.join(".aws/config");
    write(
        &config,
        "[default]\nrole_arn = arn:aws:iam::111122223333:role/admin\nsource_profile = base\n",
    );
    (s, config)
}

/// Starts a run whose authenticator is slow, and returns once the authenticator is
/// running (its pid written).
fn start_slow_fetch(s: &mut Sandbox) -> Child {
    let pids = s.root.path().join("pids");
    s.set("FAKE_SLEEP", "2").set("FAKE_PIDS", pids.to_str().unwrap());
    let child = s
        .command(AWS)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the authenticator to start", || {
        fs::read_to_string(&pids).is_ok_and(|p| !p.trim().is_empty())
    });
    s.set("FAKE_SLEEP", "").set("FAKE_PIDS", "");
    child
}

#[test]
fn a_role_switched_while_a_fetch_is_under_way_fetches_afresh() {
    let (mut s, config) = with_aws_config();
    let fetching = start_slow_fetch(&mut s);
    // The user switches the profile's role while the old one is being signed with.
    write(
        &config,
        "[default]\nrole_arn = arn:aws:iam::111122223333:role/readonly\nsource_profile = base\n",
    );
    let out = fetching.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let old_role = token(std::str::from_utf8(&out.stdout).unwrap());
    assert_eq!(s.calls(), 1);
    let next = token(&s.ok(AWS));
    assert_ne!(next, old_role, "the token signed with the old role was served");
    assert_eq!(s.calls(), 2);
    assert_eq!(token(&s.ok(AWS)), next, "then served from the cache");
}

#[test]
fn a_sign_in_that_completes_while_the_failing_run_goes_on_ends_the_cooldown() {
    let (mut s, _) = with_aws_config();
    s.set("FAKE_MODE", "fail");
    let failing = start_slow_fetch(&mut s);
    // `aws sso login` in another terminal completes while the failing run is going.
    write(&s.home.join(".aws/sso/cache/0123abcd.json"), "{\"accessToken\":\"x\"}");
    let out = failing.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    s.set("FAKE_MODE", "ok");
    let out = s.run(AWS);
    assert!(
        out.status.success(),
        "the failure was replayed after the sign-in: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(s.calls(), 2);
}

/// Each way of putting an older credentials file in place, as a user switching from an
/// admin key to a read-only one would: the admin token is not served after it.
#[test]
fn a_swap_to_an_older_credentials_file_fetches_afresh() {
    let s = Sandbox::new();
    let aws = s.home.join(".aws");
    let credentials = aws.join("credentials");
    let day = Duration::from_secs(86400);
    let prepared = |name: &str, key: &str| {
        let path = aws.join(name);
        write(&path, &format!("[default]\naws_access_key_id = {key}\n"));
        common::age_file(&path, day);
        path
    };
    write(&credentials, "[default]\naws_access_key_id = AKIAADMIN000000000001\n");
    let mut last = token(&s.ok(AWS));
    let mut switched = |what: &str, switch: &dyn Fn()| {
        switch();
        let calls = s.calls();
        let now = token(&s.ok(AWS));
        assert_ne!(now, last, "{what}: the previous identity's token was served");
        assert_eq!(s.calls(), calls + 1, "{what}");
        assert_eq!(token(&s.ok(AWS)), now, "{what}: then served from the cache");
        last = now;
    };
    // `mv` of a file prepared earlier: an older mtime, the same size.
    let readonly = prepared("credentials.readonly", "AKIAREAD0NLY00000001");
    switched("mv", &|| fs::rename(&readonly, &credentials).unwrap());
    // `cp -p`: the content replaced in place, with the older file's mtime.
    let admin = prepared("credentials.admin", "AKIAADMIN000000000002");
    switched("cp -p", &|| {
        let status = std::process::Command::new("cp")
            .arg("-p")
            .arg(&admin)
            .arg(&credentials)
            .status()
            .unwrap();
        assert!(status.success());
    });
    // A dotfile manager's link, re-pointed (`ln -sfn`) to an older file.
    let ro = prepared("credentials.ro", "AKIAREAD0NLY00000002");
    let rw = prepared("credentials.rw", "AKIAADMIN000000000003");
    switched("a link to a file", &|| {
        fs::remove_file(&credentials).unwrap();
        std::os::unix::fs::symlink(&rw, &credentials).unwrap();
    });
    switched("ln -sfn", &|| {
        let new = aws.join("credentials.new-link");
        std::os::unix::fs::symlink(&ro, &new).unwrap();
        fs::rename(&new, &credentials).unwrap();
    });
}

#[test]
fn a_source_directory_re_pointed_to_an_older_one_fetches_afresh() {
    let s = Sandbox::new();
    // ~/.aws/sso/cache as a link to one of two session caches prepared earlier.
    let sessions = s.root.path().join("sessions");
    let (work, home) = (sessions.join("work"), sessions.join("home"));
    write(&work.join("a.json"), "{\"accessToken\":\"work\"}");
    write(&home.join("a.json"), "{\"accessToken\":\"home\"}");
    for path in [work.join("a.json"), home.join("a.json")] {
        common::age_file(&path, Duration::from_secs(86400));
    }
    let cache = s.home.join(".aws/sso/cache");
    fs::create_dir_all(cache.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&work, &cache).unwrap();
    let first = token(&s.ok(AWS));
    assert_eq!(token(&s.ok(AWS)), first);
    let new = s.home.join(".aws/sso/cache.new");
    std::os::unix::fs::symlink(&home, &new).unwrap();
    fs::rename(&new, &cache).unwrap();
    assert_ne!(token(&s.ok(AWS)), first, "the other session's token was served");
    assert_eq!(s.calls(), 2);
}

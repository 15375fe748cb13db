//! Never worse than bare: where the plugin alone would have worked (or said why it did
//! not), a run through kubecredcache does too. Each test drives the built binary and
//! failed before its fix.

use crate::common::{AWS, Sandbox, token, wait_for};
use std::process::Stdio;
use std::time::Duration;

/// The fake's arguments after `--generic`'s `--`.
fn generic(options: &[&'static str]) -> Vec<&'static str> {
    options.iter().chain(["--"].iter()).chain(AWS).copied().collect()
}

#[test]
fn a_credential_kubectl_refuses_is_passed_through_as_printed_and_not_cached() {
    for refused in ["emptytoken", "certonly"] {
        let mut s = Sandbox::new();
        s.set("FAKE_MODE", refused);
        let out = s.run(AWS);
        assert!(
            out.status.success(),
            "{refused}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            printed["kind"], "ExecCredential",
            "{refused}: passed on as the plugin printed it"
        );
        assert!(s.cache_files().is_empty(), "{refused}: nothing stored");
        // The glitch is over: the next run asks the plugin again, as bare.
        s.set("FAKE_MODE", "ok");
        assert!(token(&s.ok(AWS)).starts_with("fake-token-2-"), "{refused}");
        assert_eq!(s.calls(), 2, "{refused}");
    }
}

#[test]
fn our_options_work_in_any_order_and_together() {
    let s = Sandbox::new();
    let first = token(&s.ok(&generic(&["--generic"])));
    assert_eq!(token(&s.ok(&generic(&["--generic"]))), first, "cached");
    let forced = token(&s.ok(&generic(&["--force-refresh", "--generic"])));
    assert_ne!(forced, first, "--force-refresh before --generic fetches afresh");
    let again = token(&s.ok(&generic(&["--generic", "--force-refresh"])));
    assert_ne!(again, forced, "and after it");
    assert_eq!(
        token(&s.ok(&generic(&["--generic"]))),
        again,
        "what the forced run stored"
    );
    let keyed = generic(&["--key-env", "AWS_PROFILE", "--force-refresh", "--generic"]);
    s.ok(&keyed);
    assert_eq!(s.calls(), 4);
}

#[test]
fn a_failing_plugins_reason_on_stdout_reaches_our_stderr_not_stdout_nor_the_record() {
    let mut s = Sandbox::new();
    s.set("FAKE_MODE", "failstdout");
    let out = s.run(AWS);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "kubectl reads stdout as the credential");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Abort!"), "{stderr}");
    assert!(stderr.contains("This CLI session has expired"), "{stderr}");
    for name in std::fs::read_dir(&s.cache).unwrap().flatten() {
        let content = std::fs::read(name.path()).unwrap();
        assert!(
            !String::from_utf8_lossy(&content).contains("session has expired"),
            "{:?} keeps the plugin's stdout",
            name.file_name()
        );
    }
}

#[test]
fn a_stopped_lock_holder_holds_nobody_up() {
    let mut s = Sandbox::new();
    let pids = s.root.path().join("pids");
    s.set("FAKE_SLEEP", "30").set("FAKE_PIDS", pids.to_str().unwrap());
    let holder = Stopped(
        s.command(AWS)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let pid = holder.0.id();
    // Its plugin runs: it holds the single-flight lock, its pid noted in the lock file.
    wait_for("the first run's plugin", || {
        std::fs::read(&pids).is_ok_and(|p| !p.is_empty())
    });
    // Ctrl-Z on the kubectl that ran it (SIGSTOP: SIGTSTP would be the same here).
    // SAFETY: plain kill(2) of the process we started.
    unsafe { libc::kill(pid as i32, libc::SIGSTOP) };
    s.set("FAKE_SLEEP", "0").set("KUBECREDCACHE_LOCK_WAIT", "10m");
    let out = s.run_bounded(AWS, Duration::from_secs(60));
    drop(holder);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(token(&String::from_utf8_lossy(&out.stdout)).starts_with("fake-token-2-"));
    assert!(
        stderr.contains(&format!("(pid {pid}) is stopped (Ctrl-Z?); running aws now")),
        "{stderr}"
    );
    assert!(!stderr.contains("login"), "not taken for a login: {stderr}");
}

/// A process stopped by the test: continued and ended when dropped, even by a test
/// that fails.
struct Stopped(std::process::Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        // SAFETY: plain kill(2) of the process the test started.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGCONT) };
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_run_short_of_descriptors_gets_its_token_as_bare() {
    let s = Sandbox::new();
    let script = r#"ulimit -n "$0" && exec "$@""#;
    let bin = crate::common::bin();
    for n in [6, 7, 8, 9, 10, 11, 12, 16] {
        let limit = n.to_string();
        let mut args = vec!["-c", script, &limit, bin.to_str().unwrap()];
        args.extend(AWS);
        // A miss (the cache emptied), then a run with whatever the miss left, a hit when
        // it could store its token.
        let _ = std::fs::remove_dir_all(&s.cache);
        for run in ["miss", "next run"] {
            let out = s
                .command_for(std::path::Path::new("/bin/bash"), &args)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "ulimit -n {n}, {run}: {stderr}");
            assert!(
                token(&String::from_utf8_lossy(&out.stdout)).starts_with("fake-token-"),
                "ulimit -n {n}, {run}"
            );
        }
    }
}

#[test]
fn a_failing_plugins_stdout_that_may_be_a_secret_stays_hidden_as_kubectl_hides_it() {
    let s = Sandbox::new();
    // Shapes a deny-list of credential field names let through: a bearer token, a key
    // pair, a password in plain words; each printed by a plugin that then fails.
    let secrets = [
        "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
        "AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "login with password hunter2",
    ];
    for (i, secret) in secrets.iter().enumerate() {
        let name = format!("leaky-{i}");
        crate::common::write_script(&s.bin.join(&name), &format!("#!/bin/sh\necho '{secret}'\nexit 1\n"));
        let out = s.run(&["--generic", "--", &name]);
        assert_eq!(out.status.code(), Some(1), "{secret}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let shown = secret.rsplit(' ').next().unwrap();
        assert!(!stderr.contains(shown), "{secret}: {stderr}");
        assert!(stderr.contains("not shown"), "{secret}: says why: {stderr}");
    }
}

//! Faults and bad input through the built binary: whatever goes wrong with the cache,
//! the kubectl run gets what the authenticator alone would have given it.

use crate::common::{AWS, Sandbox, token};
use std::fs;
use std::io::Write;
use std::process::Stdio;

#[test]
fn a_failing_upstream_keeps_its_exit_code_and_stderr_and_caches_nothing() {
    let mut s = Sandbox::new();
    s.set("FAKE_MODE", "fail");
    let out = s.run(AWS);
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "fake: the SSO session has expired, run aws sso login\n"
    );
    assert!(s.cache_files().is_empty());
    // (Without the cooldown after a failure: tests/it/login_storms.rs is about that.)
    s.set("FAKE_MODE", "ok").set("KUBECREDCACHE_FAILURE_COOLDOWN", "0");
    s.ok(AWS);
    assert_eq!(s.calls(), 2, "the failure was not cached");
}

#[test]
fn output_that_is_not_a_credential_passes_through_uncached() {
    let mut s = Sandbox::new();
    s.set("FAKE_MODE", "garbage");
    for _ in 0..2 {
        let out = s.run(AWS);
        assert!(out.status.success());
        assert_eq!(out.stdout, b"this is not a credential\nsecond line\n");
    }
    assert_eq!(s.calls(), 2);
    assert!(s.cache_files().is_empty());
}

#[test]
fn commands_no_provider_knows_run_untouched() {
    let s = Sandbox::new();
    let out = s.run(&["sh", "-c", "echo out; echo err >&2; exit 7"]);
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(out.stdout, b"out\n");
    assert_eq!(out.stderr, b"err\n");
    // `aws` with another subcommand: the fake answers, but nothing is cached.
    s.ok(&["aws", "eks", "describe-cluster", "--name", "c1"]);
    s.ok(&["aws", "eks", "describe-cluster", "--name", "c1"]);
    assert_eq!(s.calls(), 2);
    assert!(!s.cache.exists());
}

#[test]
fn broken_cache_files_are_ignored_and_replaced() {
    let s = Sandbox::new();
    let good = s.ok(AWS);
    let path = s.cache.join("cache-c1.yaml");
    let yaml = fs::read_to_string(&path).unwrap();
    let broken: [&[u8]; 6] = [
        b"",
        b"\xff\xfe\x00garbage",
        &yaml.as_bytes()[..yaml.len() / 2],
        b"apiVersion: v1\nkind: Config\nclusters: []\n",
        b"version: 99\ncluster: c1\nentries: {}\n",
        b"{{{{ not: [yaml",
    ];
    let mut tokens = vec![token(&good)];
    for bytes in broken {
        fs::write(&path, bytes).unwrap();
        let fresh = token(&s.ok(AWS));
        assert!(!tokens.contains(&fresh));
        assert_eq!(
            token(&s.ok(AWS)),
            fresh,
            "replaced with a working file after {:?}",
            String::from_utf8_lossy(bytes)
        );
        tokens.push(fresh);
    }
    assert_eq!(s.calls(), 7);
}

#[test]
fn an_unusable_cache_dir_means_serving_from_upstream_with_one_warning() {
    let mut s = Sandbox::new();
    let file = s.root.path().join("a-file");
    fs::write(&file, "").unwrap();
    s.set("KUBECREDCACHE_DIR", file.join("cache").to_str().unwrap());
    for _ in 0..2 {
        let out = s.run(AWS);
        assert!(out.status.success());
        token(std::str::from_utf8(&out.stdout).unwrap());
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("kubecredcache: warning:") && stderr.contains("serving without cache"),
            "{stderr}"
        );
    }
    assert_eq!(s.calls(), 2);
}

#[test]
fn a_planted_symlink_is_not_followed() {
    let s = Sandbox::new();
    s.ok(AWS);
    let path = s.cache.join("cache-c1.yaml");
    let target = s.root.path().join("target");
    fs::write(&target, fs::read(&path).unwrap()).unwrap();
    let before = fs::read(&target).unwrap();
    fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink(&target, &path).unwrap();

    let out = s.run(AWS);
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("symlink"), "{stderr}");
    assert_eq!(s.calls(), 2, "the symlinked file was not served");
    assert_eq!(fs::read(&target).unwrap(), before, "nothing written through the link");
}

#[test]
fn the_upstream_inherits_stdin_stderr_and_the_environment() {
    let mut s = Sandbox::new();
    let seen = s.root.path().join("seen");
    let info =
        r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":true}}"#;
    s.set("FAKE_SEEN", seen.to_str().unwrap())
        .set("FAKE_MARKER", "m-42")
        .set("KUBERNETES_EXEC_INFO", info);
    let mut child = s
        .command(AWS)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"123456 (an MFA code)").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let seen = fs::read_to_string(seen).unwrap();
    assert!(seen.contains(&format!("exec_info={info}")), "{seen}");
    assert!(seen.contains("marker=m-42"), "{seen}");
    assert!(seen.contains("stdin=123456 (an MFA code)"), "{seen}");
}

#[test]
fn kubecredcache_disable_bypasses_the_cache() {
    let mut s = Sandbox::new();
    s.set("KUBECREDCACHE_DISABLE", "1");
    let a = token(&s.ok(AWS));
    let b = token(&s.ok(AWS));
    assert_ne!(a, b);
    assert_eq!(s.calls(), 2);
    assert!(!s.cache.exists());
}

#[test]
fn trace_logs_never_show_the_token() {
    let mut s = Sandbox::new();
    s.set("KUBECREDCACHE_LOG", "trace");
    for _ in 0..2 {
        let out = s.run(AWS);
        let t = token(std::str::from_utf8(&out.stdout).unwrap());
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains("kubecredcache"), "logging is on: {stderr}");
        assert!(!stderr.contains(&t) && !stderr.contains("fake-token"), "{stderr}");
    }
    // A Rust developer's RUST_LOG is not ours: kubectl runs stay quiet.
    s.set("KUBECREDCACHE_LOG", "").set("RUST_LOG", "debug");
    let out = s.run(AWS);
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_missing_authenticator_fails_like_a_shell_would() {
    let s = Sandbox::new();
    fs::remove_file(s.bin.join("aws")).unwrap();
    let mut cmd = s.command(AWS);
    cmd.env("PATH", s.bin.to_str().unwrap());
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(127));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1);
    assert!(stderr.contains("cannot run 'aws': not found"), "{stderr}");
}

#[test]
fn a_bad_setting_is_reported_and_the_default_used() {
    let mut s = Sandbox::new();
    s.set("KUBECREDCACHE_EXPIRY_MARGIN", "soon");
    let out = s.run(AWS);
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("KUBECREDCACHE_EXPIRY_MARGIN") && stderr.contains("using 1m"),
        "{stderr}"
    );
}

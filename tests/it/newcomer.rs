//! A newcomer's first hour, as the README's Quick start tells it, on a kubeconfig that
//! `aws eks update-kubeconfig` wrote: install, `setup --dry-run`, `setup`, kubectl
//! (the real one, against a stand-in TLS API server, with the real AWS CLI behind a
//! shim that counts its runs), `status`, `doctor`, `unsetup`, and kubectl again.

use crate::common::api_server::ApiServer;
use crate::common::{Sandbox, host_tool, write_script};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/aws-update-kubeconfig-v1beta1.yaml"
);
const PROD: &str = "arn:aws:eks:us-west-2:111122223333:cluster/prod";

fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every token in the cache directory's files.
fn cached_tokens(dir: &Path) -> Vec<String> {
    let mut tokens = Vec::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let Some(file) = fs::read(entry.path())
            .ok()
            .and_then(|b| kubecredcache::cache::CacheFile::parse(&b))
        else {
            continue;
        };
        for e in file.entries.values() {
            let v: serde_json::Value = serde_json::from_str(&e.credential).unwrap();
            tokens.push(v["status"]["token"].as_str().unwrap().to_string());
        }
    }
    tokens
}

#[test]
fn a_newcomers_path_from_install_to_unsetup() {
    let Some(kubectl) = host_tool("kubectl") else { return };
    let Some(aws) = host_tool("aws") else { return };
    let mut s = Sandbox::new();
    write_script(
        &s.bin.join("aws"),
        &format!("#!/bin/bash\necho \"aws $*\" >> \"$FAKE_CALLS\"\nexec {aws:?} \"$@\"\n"),
    );
    // Any EKS token the real AWS CLI signed; which one kubectl sent is checked below.
    let server = ApiServer::start(s.root.path(), |token| token.starts_with("k8s-aws-v1."));

    // The kubeconfig `aws eks update-kubeconfig` wrote, pointed at the stand-in server.
    let ca = fs::read(&server.ca_file).unwrap();
    let ca_data = String::from_utf8(
        std::process::Command::new("base64")
            .args(["-w0", server.ca_file.to_str().unwrap()])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(!ca.is_empty() && !ca_data.is_empty());
    let written = fs::read_to_string(FIXTURE).unwrap();
    let original_server = "https://0123456789ABCDEF.gr7.us-west-2.eks.amazonaws.com";
    let original_ca = written
        .lines()
        .find_map(|l| l.trim().strip_prefix("certificate-authority-data: "))
        .unwrap()
        .to_string();
    let kubeconfig_text = written
        .replace(original_server, &server.url())
        .replace(&original_ca, &ca_data);
    let kubeconfig = s.kube_config();
    fs::write(&kubeconfig, &kubeconfig_text).unwrap();
    fs::set_permissions(&kubeconfig, fs::Permissions::from_mode(0o600)).unwrap();

    // Install: the binary in ~/.cargo/bin, which is on PATH.
    let cargo_bin = s.home.join(".cargo/bin");
    fs::create_dir_all(&cargo_bin).unwrap();
    let installed = cargo_bin.join("kubecredcache");
    fs::copy(crate::common::bin(), &installed).unwrap();
    // Another test's child, forked while the copy was open for writing and not yet
    // exec'd, holds that descriptor for a moment: running the copy then fails with
    // ETXTBSY ("Text file busy"). Wait that moment out.
    crate::common::wait_for("the installed copy to be runnable", || {
        std::process::Command::new(&installed)
            .arg("--version")
            .output()
            .map_or_else(|e| e.raw_os_error() != Some(libc::ETXTBSY), |_| true)
    });
    let host_path = std::env::var("PATH").unwrap_or_default();
    s.set(
        "PATH",
        &format!("{}:{}:{host_path}", cargo_bin.display(), s.bin.display()),
    )
    .set("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    .set("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    let run = |args: &[&str]| s.command_for(&installed, args).output().unwrap();
    let kubectl_get = |context: Option<&str>| {
        let mut args = vec!["get", "--raw", "/api"];
        if let Some(context) = context {
            args.extend(["--context", context]);
        }
        s.command_for(&kubectl, &args).output().unwrap()
    };

    let dry = ok(run(&["setup", "--dry-run"]), "setup --dry-run");
    assert!(
        dry.contains("-      command: aws\n+      command: kubecredcache\n"),
        "{dry}"
    );
    assert!(dry.contains("kubectl would run kubecredcache, found on PATH"), "{dry}");
    assert_eq!(
        fs::read_to_string(&kubeconfig).unwrap(),
        kubeconfig_text,
        "--dry-run writes nothing"
    );

    let setup = ok(run(&["setup"]), "setup");
    assert_eq!(setup.matches("wrapped    ").count(), 2, "{setup}");
    assert!(
        setup.contains(&format!(
            "kubectl runs kubecredcache, found on PATH at {}",
            installed.display()
        )),
        "{setup}"
    );

    for _ in 0..3 {
        ok(kubectl_get(None), "kubectl (staging)");
    }
    ok(kubectl_get(Some(PROD)), "kubectl (prod)");
    assert_eq!(s.calls(), 2, "one aws run per cluster, for four kubectl runs");
    let received = server.bearer_tokens();
    let cached = cached_tokens(&s.cache);
    assert_eq!(cached.len(), 2);
    assert!(
        received.len() >= 4 && received.iter().all(|t| cached.contains(t)),
        "kubectl sent the cached tokens, and only them"
    );

    let status = ok(run(&["status"]), "status");
    assert_eq!(status.lines().count(), 3, "{status}");
    assert!(status.contains("staging") && status.contains("prod"), "{status}");

    let doctor = ok(run(&["doctor"]), "doctor");
    assert!(
        doctor.contains("Verdict: served from the cache: kubectl runs for context staging"),
        "{doctor}"
    );
    assert_eq!(s.calls(), 2, "doctor ran no aws");

    let unsetup = ok(run(&["unsetup"]), "unsetup");
    assert!(unsetup.contains("restored"), "{unsetup}");
    assert_eq!(
        fs::read_to_string(&kubeconfig).unwrap(),
        kubeconfig_text,
        "the file update-kubeconfig wrote, byte for byte"
    );
    ok(kubectl_get(None), "kubectl after unsetup");
    assert_eq!(s.calls(), 3, "bare again: aws runs for every kubectl run");
    let doctor = run(&["doctor"]);
    assert_eq!(doctor.status.code(), Some(1), "not served any more");
}

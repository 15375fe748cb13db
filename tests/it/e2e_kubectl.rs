//! End to end: real `kubectl get --raw /api` against a stand-in TLS API server, with
//! kubeconfigs whose exec entry runs kubecredcache in front of the real AWS CLI or the
//! real OCI CLI (through a shim that counts its runs), or a fake aws-iam-authenticator.
//!
//! Without kubectl, aws or oci on PATH these tests say so on stderr and skip, unless
//! `KUBECREDCACHE_TEST_STRICT=1` (set by `.ci/run`), which makes a missing tool a failure.
//! The OCI CLI is looked for at `$KUBECREDCACHE_TEST_OCI_CLI` first (`.ci/run` installs it
//! with pip into `target/oci-cli` and points there), then on PATH.

use crate::common::api_server::ApiServer;
use crate::common::{AWS, Sandbox, host_tool};
use kubecredcache::cache::CacheFile;
use std::path::{Path, PathBuf};

const V1BETA1: &str = "client.authentication.k8s.io/v1beta1";
const V1: &str = "client.authentication.k8s.io/v1";
// The AWS documentation's example key pairs: `aws eks get-token` presigns locally, offline.
const KEY_1: (&str, &str) = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
const KEY_2: (&str, &str) = ("AKIAI44QH8DHBEXAMPLE", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY");

struct E2e {
    sandbox: Sandbox,
    kubectl: PathBuf,
    server: ApiServer,
    kubeconfig: PathBuf,
}

impl E2e {
    /// A sandbox with the real `aws` behind a counting shim, or `None` to skip.
    fn with_real_aws() -> Option<E2e> {
        let aws = host_tool("aws")?;
        let e2e = E2e::new()?;
        crate::common::write_script(
            &e2e.sandbox.bin.join("aws"),
            &format!(
                "#!/bin/bash\necho \"aws $*\" >> \"$FAKE_CALLS\"\nexec {:?} \"$@\"\n",
                aws
            ),
        );
        Some(e2e)
    }

    /// A sandbox with the real `oci` behind a counting shim, or `None` to skip.
    fn with_real_oci() -> Option<E2e> {
        let oci = match std::env::var_os("KUBECREDCACHE_TEST_OCI_CLI") {
            Some(path) => Some(PathBuf::from(path)).filter(|p| p.is_file()).or_else(|| {
                crate::common::skip("KUBECREDCACHE_TEST_OCI_CLI names no file");
                None
            })?,
            None => host_tool("oci")?,
        };
        let openssl = host_tool("openssl")?;
        let e2e = E2e::new()?;
        crate::common::write_script(
            &e2e.sandbox.bin.join("oci"),
            &format!(
                "#!/bin/bash\necho \"oci $*\" >> \"$FAKE_CALLS\"\nexec {:?} \"$@\"\n",
                oci
            ),
        );
        e2e.write_oci_config(&openssl, "ocid1.user.oc1..aaaaaaaafirst");
        Some(e2e)
    }

    /// `~/.oci/config` with a DEFAULT profile for `user`, signing with a new API key made
    /// with openssl: made-up OCIDs, since `generate-token` signs offline.
    fn write_oci_config(&self, openssl: &Path, user: &str) {
        let dir = self.sandbox.home.join(".oci");
        std::fs::create_dir_all(&dir).unwrap();
        let key = dir.join(format!("{}.pem", user.rsplit('.').next().unwrap()));
        let made = std::process::Command::new(openssl)
            .args(["genrsa", "-out"])
            .arg(&key)
            .arg("2048")
            .output()
            .unwrap();
        assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
        let config = dir.join("config");
        std::fs::write(
            &config,
            format!(
                "[DEFAULT]\nuser={user}\nfingerprint=12:34:56:78:9a:bc:de:f0:12:34:56:78:9a:bc:de:f0\nkey_file={}\ntenancy=ocid1.tenancy.oc1..aaaaaaaaexample\nregion=us-ashburn-1\n",
                key.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        for file in [&key, &config] {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }

    /// A sandbox whose aws and aws-iam-authenticator are the fakes of `common`.
    fn new() -> Option<E2e> {
        let kubectl = host_tool("kubectl")?;
        let mut sandbox = Sandbox::new();
        std::os::unix::fs::symlink(crate::common::bin(), sandbox.bin.join("kubecredcache")).unwrap();
        let host_path = std::env::var("PATH").unwrap_or_default();
        sandbox.set("PATH", &format!("{}:{host_path}", sandbox.bin.display()));
        let cache = sandbox.cache.clone();
        let server = ApiServer::start(sandbox.root.path(), move |token| {
            cached_tokens(&cache).iter().any(|t| t == token)
        });
        let kubeconfig = sandbox.root.path().join("kubeconfig");
        sandbox.set("KUBECONFIG", kubeconfig.to_str().unwrap());
        Some(E2e {
            sandbox,
            kubectl,
            server,
            kubeconfig,
        })
    }

    /// Writes the kubeconfig: one cluster (our server), one exec user running kubecredcache.
    fn write_kubeconfig(&self, api_version: &str, args: &[&str]) {
        self.write_kubeconfig_running(api_version, "kubecredcache", args);
    }

    /// Writes the kubeconfig: one cluster (our server), one exec user running `command`.
    fn write_kubeconfig_running(&self, api_version: &str, command: &str, args: &[&str]) {
        let args: Vec<String> = args.iter().map(|a| format!("{a:?}")).collect();
        let yaml = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {}\n    certificate-authority: {}\n\
             users:\n- name: test\n  user:\n    exec:\n      apiVersion: {api_version}\n      command: {command}\n      args: [{}]\n      interactiveMode: Never\n\
             contexts:\n- name: test\n  context:\n    cluster: test\n    user: test\ncurrent-context: test\n",
            self.server.url(),
            self.server.ca_file.display(),
            args.join(", ")
        );
        std::fs::write(&self.kubeconfig, yaml).unwrap();
    }

    fn kubectl(&self) -> std::process::Output {
        self.sandbox
            .command_for(&self.kubectl, &["get", "--raw", "/api"])
            .output()
            .unwrap()
    }

    fn kubectl_ok(&self) {
        let out = self.kubectl();
        assert!(
            out.status.success(),
            "kubectl failed: {}\nstdout: {}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("APIVersions"));
    }
}

/// Every token in the cache directory's files.
fn cached_tokens(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut tokens = Vec::new();
    for entry in entries.flatten() {
        let Ok(bytes) = std::fs::read(entry.path()) else {
            continue;
        };
        let Some(file) = CacheFile::parse(&bytes) else {
            continue;
        };
        for e in file.entries.values() {
            let v: serde_json::Value = serde_json::from_str(&e.credential).unwrap();
            tokens.push(v["status"]["token"].as_str().unwrap().to_string());
        }
    }
    tokens
}

fn real_aws_through_kubectl(api_version: &str) {
    let Some(mut e2e) = E2e::with_real_aws() else {
        return;
    };
    e2e.sandbox
        .set("AWS_ACCESS_KEY_ID", KEY_1.0)
        .set("AWS_SECRET_ACCESS_KEY", KEY_1.1);
    e2e.write_kubeconfig(api_version, AWS);
    for _ in 0..3 {
        e2e.kubectl_ok();
    }
    assert_eq!(e2e.sandbox.calls(), 1, "three kubectl runs, one aws run");
    let cached = cached_tokens(&e2e.sandbox.cache);
    assert_eq!(cached.len(), 1);
    assert!(cached[0].starts_with("k8s-aws-v1."), "a real EKS token");
    let received = e2e.server.bearer_tokens();
    assert!(received.len() >= 3, "{received:?}");
    assert!(
        received.iter().all(|t| *t == cached[0]),
        "the server got the cached token, and only it"
    );
}

const OKE: &[&str] = &[
    "oci",
    "ce",
    "cluster",
    "generate-token",
    "--cluster-id",
    "ocid1.cluster.oc1.iad.aaaaaaaaexample",
    "--region",
    "us-ashburn-1",
];

#[test]
fn kubectl_through_kubecredcache_and_the_real_oci_cli() {
    let Some(mut e2e) = E2e::with_real_oci() else {
        return;
    };
    e2e.sandbox.set("SUPPRESS_LABEL_WARNING", "True");
    e2e.write_kubeconfig(V1BETA1, OKE);
    for _ in 0..3 {
        e2e.kubectl_ok();
    }
    assert_eq!(e2e.sandbox.calls(), 1, "three kubectl runs, one oci run");
    let cached = cached_tokens(&e2e.sandbox.cache);
    assert_eq!(cached.len(), 1);
    let url = String::from_utf8(base64_decode(&cached[0])).unwrap_or_default();
    assert!(
        url.starts_with("https://containerengine.us-ashburn-1.oraclecloud.com/cluster_request/"),
        "a real OKE token: {url}"
    );
    let received = e2e.server.bearer_tokens();
    assert!(
        received.iter().all(|t| *t == cached[0]),
        "the server got the cached token"
    );
    // Another user's key in the config file: a new token at the next run.
    let openssl = host_tool("openssl").unwrap();
    e2e.write_oci_config(&openssl, "ocid1.user.oc1..aaaaaaaasecond");
    e2e.kubectl_ok();
    e2e.kubectl_ok();
    assert_eq!(e2e.sandbox.calls(), 2, "the config file is a credential source");
}

/// Standard base64, as the OCI CLI encodes its token.
fn base64_decode(text: &str) -> Vec<u8> {
    let out = std::process::Command::new("sh")
        .args(["-c", "printf %s \"$1\" | base64 -d", "sh", text])
        .output()
        .unwrap();
    out.stdout
}

#[test]
fn kubectl_v1beta1_through_kubecredcache_and_real_aws() {
    real_aws_through_kubectl(V1BETA1);
}

#[test]
fn kubectl_v1_through_kubecredcache_and_real_aws() {
    real_aws_through_kubectl(V1);
}

#[test]
fn kubectl_gets_a_credential_where_output_text_breaks_the_bare_aws_cli() {
    let Some(mut e2e) = E2e::with_real_aws() else {
        return;
    };
    e2e.sandbox
        .set("AWS_ACCESS_KEY_ID", KEY_1.0)
        .set("AWS_SECRET_ACCESS_KEY", KEY_1.1);
    let aws_dir = e2e.sandbox.home.join(".aws");
    std::fs::create_dir_all(&aws_dir).unwrap();
    std::fs::write(aws_dir.join("config"), "[default]\noutput = text\n").unwrap();
    // Bare: kubectl gets text, not an ExecCredential (aws/aws-cli#7726).
    e2e.write_kubeconfig_running(V1BETA1, "aws", &AWS[1..]);
    let bare = e2e.kubectl();
    assert!(!bare.status.success(), "kubectl with the bare CLI and output = text");
    let bare_calls = e2e.sandbox.calls();
    // Through kubecredcache: JSON, cached.
    e2e.write_kubeconfig(V1BETA1, AWS);
    e2e.kubectl_ok();
    e2e.kubectl_ok();
    assert_eq!(e2e.sandbox.calls(), bare_calls + 1, "one fetch for two kubectl runs");
}

#[test]
fn switching_access_key_or_profile_fetches_a_new_token() {
    let Some(mut e2e) = E2e::with_real_aws() else {
        return;
    };
    e2e.write_kubeconfig(V1BETA1, AWS);
    let aws_dir = e2e.sandbox.home.join(".aws");
    std::fs::create_dir_all(&aws_dir).unwrap();
    std::fs::write(
        aws_dir.join("credentials"),
        format!(
            "[p1]\naws_access_key_id = {}\naws_secret_access_key = {}\n[p2]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            KEY_1.0, KEY_1.1, KEY_2.0, KEY_2.1
        ),
    )
    .unwrap();

    let mut expected_calls = 0;
    let mut step = |e2e: &mut E2e, env: &[(&str, &str)]| {
        for (k, v) in env {
            e2e.sandbox.set(k, v);
        }
        e2e.kubectl_ok();
        e2e.kubectl_ok();
        expected_calls += 1;
        assert_eq!(e2e.sandbox.calls(), expected_calls, "after {env:?}");
    };
    step(
        &mut e2e,
        &[("AWS_ACCESS_KEY_ID", KEY_1.0), ("AWS_SECRET_ACCESS_KEY", KEY_1.1)],
    );
    step(
        &mut e2e,
        &[("AWS_ACCESS_KEY_ID", KEY_2.0), ("AWS_SECRET_ACCESS_KEY", KEY_2.1)],
    );
    step(
        &mut e2e,
        &[
            ("AWS_ACCESS_KEY_ID", ""),
            ("AWS_SECRET_ACCESS_KEY", ""),
            ("AWS_PROFILE", "p1"),
        ],
    );
    step(&mut e2e, &[("AWS_PROFILE", "p2")]);

    let received = e2e.server.bearer_tokens();
    let mut distinct = received.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "one token per identity");
    assert_eq!(cached_tokens(&e2e.sandbox.cache).len(), 4);
}

#[test]
fn kubectl_through_kubecredcache_and_aws_iam_authenticator() {
    let Some(e2e) = E2e::new() else { return };
    e2e.write_kubeconfig(V1BETA1, &["aws-iam-authenticator", "token", "-i", "c1"]);
    for _ in 0..3 {
        e2e.kubectl_ok();
    }
    assert_eq!(e2e.sandbox.calls(), 1);
    let cached = cached_tokens(&e2e.sandbox.cache);
    assert_eq!(cached.len(), 1);
    assert!(e2e.server.bearer_tokens().iter().all(|t| *t == cached[0]));
}

#[test]
fn the_server_rejects_tokens_it_was_not_given() {
    // The guard of the tests above: a kubectl run whose token is not in the cache fails.
    let Some(e2e) = E2e::new() else { return };
    e2e.write_kubeconfig(V1BETA1, &["sh", "-c", r#"echo '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","status":{"token":"forged"}}'"#]);
    let out = e2e.kubectl();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("nauthorized"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(e2e.server.bearer_tokens().contains(&"forged".to_string()));
}

/// How kubectl 1.32 runs an exec plugin, measured (docs/architecture.md, "After a 401"):
/// once per process at start-up; after a 401 on `get --raw`, once more from the same
/// process, whose token it never sends (it does not retry the request); after a 401
/// during `get pods`, not again. The same with interactiveMode Never and, under a
/// terminal, IfAvailable. If kubectl changes this, this test says so.
#[test]
fn what_kubectl_does_with_an_exec_plugin_after_a_401() {
    let Some(kubectl) = host_tool("kubectl") else { return };
    let Some(script) = host_tool("script") else { return };
    for (mode, under_a_terminal) in [("Never", false), ("IfAvailable", true)] {
        for (args, rejected_first, expected_runs) in [
            (&["get", "--raw", "/api"][..], false, 1),
            (&["get", "--raw", "/api"][..], true, 2),
            (&["get", "pods", "-A"][..], true, 1),
        ] {
            let mut s = Sandbox::new();
            let log = s.root.path().join("plugin.log");
            // Token n is "bad-n" for the first (rejected) run, "good-n" after.
            crate::common::write_script(
                &s.bin.join("plugin"),
                &format!(
                    "#!/bin/bash\necho \"ppid=$PPID interactive=$(echo \"$KUBERNETES_EXEC_INFO\" | grep -o '\"interactive\":[a-z]*')\" >> {log}\n\
                     n=$(grep -c ppid= {log})\nif [ \"$n\" -le {bad} ]; then t=bad-$n; else t=good-$n; fi\n\
                     printf '{{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"status\":{{\"token\":\"%s\",\"expirationTimestamp\":\"2099-01-01T00:00:00Z\"}}}}\\n' $t\n",
                    log = log.display(),
                    bad = u8::from(rejected_first)
                ),
            );
            let server = ApiServer::start(s.root.path(), |t| t.starts_with("good"));
            let kubeconfig = s.root.path().join("kubeconfig");
            std::fs::write(
                &kubeconfig,
                format!(
                    "apiVersion: v1\nkind: Config\nclusters:\n- name: t\n  cluster:\n    server: {}\n    certificate-authority: {}\n\
                     users:\n- name: t\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: plugin\n      interactiveMode: {mode}\n\
                     contexts:\n- name: t\n  context: {{cluster: t, user: t}}\ncurrent-context: t\n",
                    server.url(),
                    server.ca_file.display()
                ),
            )
            .unwrap();
            let host_path = std::env::var("PATH").unwrap_or_default();
            s.set("PATH", &format!("{}:{host_path}", s.bin.display()))
                .set("KUBECONFIG", kubeconfig.to_str().unwrap());
            let line = format!("{} {}", kubectl.display(), args.join(" "));
            let out = if under_a_terminal {
                s.command_for(&script, &["-qec", &line, "/dev/null"]).output().unwrap()
            } else {
                s.command_for(&kubectl, args).output().unwrap()
            };
            let runs = std::fs::read_to_string(&log).unwrap();
            let what = format!("{mode} {args:?} rejected_first={rejected_first}: {runs}");
            assert_eq!(runs.lines().count(), expected_runs, "{what}");
            let parents: std::collections::HashSet<&str> =
                runs.lines().map(|l| l.split_whitespace().next().unwrap()).collect();
            assert_eq!(parents.len(), 1, "every run from the same kubectl process: {what}");
            assert!(
                runs.lines()
                    .all(|l| l.ends_with(&format!("\"interactive\":{under_a_terminal}"))),
                "{what}"
            );
            assert_eq!(out.status.success(), !rejected_first, "{what}");
            let sent = server.bearer_tokens();
            assert!(
                !sent.is_empty()
                    && sent
                        .iter()
                        .all(|t| t == if rejected_first { "bad-1" } else { "good-1" }),
                "kubectl never sends the re-fetched token: {sent:?} ({what})"
            );
        }
    }
}

//! The operator commands through the built binary: setup, unsetup, status, clear, gc,
//! list-providers; on kubeconfigs written by the real AWS CLI and on hand-made ones.

use crate::common::{AWS, IAM, Sandbox};
use serde_norway::Value;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// Copies a fixture into the sandbox as `name` (mode 0600) and returns its path.
fn kubeconfig(s: &Sandbox, fixture: &str, name: &str) -> PathBuf {
    let path = s.home.join(".kube").join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::copy(Path::new(FIXTURES).join(fixture), &path).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    path
}

fn yaml(path: &Path) -> Value {
    serde_norway::from_slice(&fs::read(path).unwrap()).unwrap()
}

fn exec<'a>(doc: &'a Value, user: &str) -> &'a Value {
    let users = doc["users"].as_sequence().unwrap();
    &users
        .iter()
        .find(|u| u["name"] == user)
        .unwrap_or_else(|| panic!("no user {user}"))["user"]["exec"]
}

fn args_of(exec: &Value) -> Vec<&str> {
    exec["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect()
}

fn stdout(out: &std::process::Output) -> String {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// `kubectl config view` must accept the file (skips without kubectl, fails in CI).
fn kubectl_accepts(s: &Sandbox, path: &Path) {
    let Some(kubectl) = crate::common::host_tool("kubectl") else {
        return;
    };
    let mut cmd = s.command_for(&kubectl, &["config", "view"]);
    cmd.env("KUBECONFIG", path);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "kubectl config view: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn setup_wraps_what_a_provider_knows_and_leaves_the_rest_alone() {
    let s = Sandbox::new();
    s.install();
    let path = kubeconfig(&s, "mixed.yaml", "config");
    let before = yaml(&path);
    let out = stdout(&s.run(&["setup"]));
    assert!(out.contains("wrapped    eks-prod (aws-eks)"), "{out}");
    assert!(
        out.contains("wrapped    eks-authenticator (aws-iam-authenticator)"),
        "{out}"
    );
    assert!(out.contains("left alone already: already runs kubecredcache"), "{out}");
    assert!(
        out.contains("left alone some-other-plugin: no provider caches 'vault-k8s-login'"),
        "{out}"
    );
    assert!(
        !out.contains("static-token") && !out.contains("client-cert"),
        "non-exec users are not exec users: {out}"
    );

    let after = yaml(&path);
    let prod = exec(&after, "eks-prod");
    assert_eq!(prod["command"], "kubecredcache");
    assert_eq!(
        args_of(prod),
        [
            "aws",
            "--region",
            "us-west-2",
            "eks",
            "get-token",
            "--cluster-name",
            "prod"
        ]
    );
    assert_eq!(prod["env"], exec(&before, "eks-prod")["env"]);
    assert_eq!(prod["interactiveMode"], "IfAvailable");
    assert_eq!(
        args_of(exec(&after, "eks-authenticator"))[0],
        "/usr/local/bin/aws-iam-authenticator"
    );
    for untouched in ["already", "some-other-plugin"] {
        assert_eq!(exec(&after, untouched), exec(&before, untouched));
    }
    for key in [
        "clusters",
        "contexts",
        "preferences",
        "current-context",
        "kind",
        "apiVersion",
    ] {
        assert_eq!(after[key], before[key], "{key}");
    }
    let names = |d: &Value| {
        d["users"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|u| u["name"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&after), names(&before), "order kept");
    assert_eq!(after["users"][5]["user"]["x-unknown-field"], "kept");
    kubectl_accepts(&s, &path);
}

#[test]
fn dry_run_prints_a_unified_diff_and_writes_nothing() {
    let s = Sandbox::new();
    s.install();
    let path = kubeconfig(&s, "aws-update-kubeconfig-v1beta1.yaml", "config");
    let before = fs::read(&path).unwrap();
    let out = stdout(&s.run(&["setup", "--dry-run"]));
    assert!(out.contains(&format!("--- {}", path.display())), "{out}");
    assert!(
        out.contains("-      command: aws\n+      command: kubecredcache\n"),
        "{out}"
    );
    assert!(out.contains("+      - aws\n"), "{out}");
    assert_eq!(fs::read(&path).unwrap(), before);
    assert!(!path.with_extension("kubecredcache.bak").exists());
}

#[test]
fn setup_twice_changes_nothing_the_second_time() {
    let s = Sandbox::new();
    s.install();
    let path = kubeconfig(&s, "aws-update-kubeconfig-v1beta1.yaml", "config");
    let original = fs::read(&path).unwrap();
    let first = stdout(&s.run(&["setup"]));
    assert_eq!(first.matches("wrapped    ").count(), 2, "{first}");
    let backup = PathBuf::from(format!("{}.kubecredcache.bak", path.display()));
    assert_eq!(fs::read(&backup).unwrap(), original, "the backup is the file as it was");
    let once = fs::read(&path).unwrap();
    let second = stdout(&s.run(&["setup"]));
    assert!(second.contains("nothing to change"), "{second}");
    assert_eq!(fs::read(&path).unwrap(), once);
    assert_eq!(fs::read(&backup).unwrap(), original, "the backup was not overwritten");
    kubectl_accepts(&s, &path);
}

#[test]
fn unsetup_gives_back_the_file_setup_was_given() {
    let s = Sandbox::new();
    s.install();
    for fixture in [
        "aws-update-kubeconfig-v1beta1.yaml",
        "aws-update-kubeconfig-role-profile.yaml",
        "mixed.yaml",
    ] {
        let path = kubeconfig(&s, fixture, &format!("config-{fixture}"));
        let original_bytes = fs::read(&path).unwrap();
        let original = yaml(&path);
        stdout(&s.run(&["setup", "--kubeconfig", path.to_str().unwrap()]));
        assert_ne!(yaml(&path), original, "{fixture}");
        let out = stdout(&s.run(&["unsetup", "--kubeconfig", path.to_str().unwrap()]));
        assert!(out.contains("unwrapped"), "{out}");
        if fixture == "mixed.yaml" {
            // `already` was wrapped before setup ran, so unsetup unwraps it too: not the
            // original, which stays in the backup.
            let mut expected = original.clone();
            let users = expected["users"].as_sequence_mut().unwrap();
            let already = &mut users[2]["user"]["exec"];
            already["command"] = "aws".into();
            already["args"].as_sequence_mut().unwrap().remove(0);
            assert_eq!(yaml(&path), expected, "{fixture}");
            let backup = PathBuf::from(format!("{}.kubecredcache.bak", path.display()));
            assert_eq!(
                fs::read(&backup).unwrap(),
                original_bytes,
                "{fixture}: the original is kept"
            );
        } else {
            assert!(out.contains("restored"), "{out}");
            assert_eq!(
                fs::read(&path).unwrap(),
                original_bytes,
                "{fixture}: byte for byte, comments and all"
            );
        }
    }
}

#[test]
fn v1alpha1_is_upgraded_to_v1beta1_and_the_summary_says_so() {
    let s = Sandbox::new();
    s.install();
    let path = kubeconfig(&s, "aws-update-kubeconfig-v1alpha1.yaml", "config");
    let out = stdout(&s.run(&["setup"]));
    assert!(
        out.contains("client.authentication.k8s.io/v1alpha1 -> client.authentication.k8s.io/v1beta1"),
        "{out}"
    );
    assert!(out.contains("kubectl rejects v1alpha1"), "{out}");
    let doc = yaml(&path);
    for user in doc["users"].as_sequence().unwrap() {
        assert_eq!(
            user["user"]["exec"]["apiVersion"],
            "client.authentication.k8s.io/v1beta1"
        );
    }
    kubectl_accepts(&s, &path);
}

#[test]
fn every_file_in_kubeconfig_is_rewritten() {
    let mut s = Sandbox::new();
    s.install();
    let a = kubeconfig(&s, "aws-update-kubeconfig-v1beta1.yaml", "a");
    let b = kubeconfig(&s, "aws-update-kubeconfig-role-profile.yaml", "b");
    s.set("KUBECONFIG", &format!("{}:{}", a.display(), b.display()));
    let out = stdout(&s.run(&["setup"]));
    assert!(
        out.contains(&format!("{}:", a.display())) && out.contains(&format!("{}:", b.display())),
        "{out}"
    );
    assert_eq!(exec(&yaml(&a), "staging-user")["command"], "kubecredcache");
    assert_eq!(
        exec(&yaml(&b), "arn:aws:eks:us-west-2:111122223333:cluster/dev")["command"],
        "kubecredcache"
    );
}

#[test]
fn only_the_users_named_are_wrapped() {
    let s = Sandbox::new();
    s.install();
    let path = kubeconfig(&s, "aws-update-kubeconfig-v1beta1.yaml", "config");
    let out = stdout(&s.run(&["setup", "--user", "staging-user"]));
    assert!(out.contains("wrapped    staging-user (aws-eks)"), "{out}");
    let doc = yaml(&path);
    assert_eq!(exec(&doc, "staging-user")["command"], "kubecredcache");
    assert_eq!(
        exec(&doc, "arn:aws:eks:us-west-2:111122223333:cluster/prod")["command"],
        "aws"
    );
}

#[test]
fn the_mode_is_kept_and_a_symlinked_kubeconfig_edits_its_target() {
    let s = Sandbox::new();
    s.install();
    let real = kubeconfig(&s, "aws-update-kubeconfig-v1beta1.yaml", "real-config");
    fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
    let link = s.home.join(".kube/config");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    stdout(&s.run(&["setup"]));
    assert!(
        fs::symlink_metadata(&link).unwrap().file_type().is_symlink(),
        "the link is still a link"
    );
    assert_eq!(fs::metadata(&real).unwrap().permissions().mode() & 0o777, 0o640);
    assert_eq!(exec(&yaml(&real), "staging-user")["command"], "kubecredcache");
}

#[test]
fn a_read_only_kubeconfig_is_refused_with_one_line_and_left_as_it_was() {
    let s = Sandbox::new();
    let path = kubeconfig(&s, "aws-update-kubeconfig-v1beta1.yaml", "config");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
    let before = fs::read(&path).unwrap();
    let out = s.run(&["setup"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("read-only") && stderr.contains("nothing written"),
        "{stderr}"
    );
    assert_eq!(fs::read(&path).unwrap(), before);
    assert!(!PathBuf::from(format!("{}.kubecredcache.bak", path.display())).exists());
}

#[test]
fn a_kubeconfig_that_is_not_yaml_is_refused_and_left_as_it_was() {
    let s = Sandbox::new();
    let path = s.kube_config();
    for text in ["{ this: is [ not yaml", "- a list\n- not a kubeconfig\n"] {
        fs::write(&path, text).unwrap();
        let out = s.run(&["setup"]);
        assert_eq!(out.status.code(), Some(1), "{text}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("nothing written"), "{stderr}");
        assert_eq!(fs::read_to_string(&path).unwrap(), text);
    }
}

#[test]
fn status_shows_each_entry_and_never_a_token() {
    let mut s = Sandbox::new();
    s.set("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .set("AWS_PROFILE", "dev");
    let token = crate::common::token(&s.ok(AWS));
    s.ok(IAM);
    s.set("COLUMNS", "200");
    let table = stdout(&s.run(&["status"]));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(
        lines[0].starts_with("CLUSTER") && lines[0].contains("EXPIRES"),
        "{table}"
    );
    let aws = lines.iter().find(|l| l.contains("aws-eks")).expect("aws row");
    for field in ["c1", "region=us-west-2", "profile=dev"] {
        assert!(aws.contains(field), "{field} in {aws}");
    }
    let iam = lines
        .iter()
        .find(|l| l.contains("aws-iam-authenticator"))
        .expect("iam row");
    assert!(iam.contains("profile=dev"), "every provider's identity is shown: {iam}");
    assert!(aws.contains("14m") || aws.contains("15m"), "{aws}");
    assert!(!table.contains(&token), "{table}");

    let json: serde_json::Value = serde_json::from_str(&stdout(&s.run(&["status", "--json"]))).unwrap();
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .any(|r| r["provider"] == "aws-iam-authenticator" && r["cluster"] == "c1")
    );
    assert!(rows.iter().all(|r| r["expires_in_seconds"].as_i64().unwrap() > 800));
    assert!(rows.iter().all(|r| r["identity"]["profile"] == "dev"), "{json}");
    assert!(rows.iter().all(|r| r["file"] == "cache-c1.yaml"), "{json}");
    assert!(!json.to_string().contains(&token));
}

#[test]
fn status_fits_80_columns_and_its_json_has_nulls_not_placeholders() {
    let mut s = Sandbox::new();
    s.set("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .set("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        .set("AWS_PROFILE", "production-admin");
    s.ok(AWS);
    s.ok(IAM);
    s.ok(&[
        "aws",
        "eks",
        "get-token",
        "--cluster-name",
        &"long-cluster-name-".repeat(5),
        "--role-arn",
        &"arn:aws:iam::111122223333:role/".repeat(3),
    ]);
    s.set("COLUMNS", "80");
    let table = stdout(&s.run(&["status"]));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    for line in &lines {
        assert!(line.chars().count() <= 80, "{} > 80: {line}", line.chars().count());
    }
    assert!(
        lines[0].starts_with("CLUSTER") && lines[0].contains("EXPIRES"),
        "{table}"
    );
    let iam = lines.iter().find(|l| l.contains("aws-iam-authenticator")).unwrap();
    assert!(
        iam.contains("c1") && (iam.contains("14m") || iam.contains("15m")),
        "{iam}"
    );
    let long = lines.iter().find(|l| l.starts_with("long-")).unwrap();
    assert!(long.contains('…'), "a long cluster name is cut: {table}");
    s.set("COLUMNS", "2000");
    let wide = stdout(&s.run(&["status"]));
    assert!(!wide.contains('…'), "{wide}");

    let json: serde_json::Value = serde_json::from_str(&stdout(&s.run(&["status", "--json"]))).unwrap();
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let text = json.to_string();
    assert!(
        !text.contains('…') && !text.contains("\"-\"") && !text.contains("\"\""),
        "{text}"
    );
    for row in rows {
        for field in [
            "cluster",
            "provider",
            "identity",
            "expires",
            "expires_in_seconds",
            "written",
            "file",
        ] {
            assert!(!row[field].is_null(), "{field}: {row}");
        }
        for absent in ["refresh", "issued"] {
            assert!(
                row.get(absent).is_some_and(|v| v.is_null()),
                "{absent} is null, not missing: {row}"
            );
        }
    }
    let long = rows.iter().find(|r| r["cluster"].as_str().unwrap().len() > 80).unwrap();
    assert_eq!(long["cluster"], "long-cluster-name-".repeat(5), "whole in JSON");
    assert_eq!(long["file"], format!("cache-{}.yaml", "long-cluster-name-".repeat(5)));
}

#[test]
fn clear_removes_one_cluster_or_all_and_says_what() {
    let s = Sandbox::new();
    s.ok(AWS);
    s.ok(&["aws", "eks", "get-token", "--cluster-name", "other"]);
    let out = stdout(&s.run(&["clear", "--cluster", "c1"]));
    assert!(out.contains("cache-c1.yaml (1 entry)"), "{out}");
    assert_eq!(s.cache_files(), ["cache-other.yaml"]);
    assert!(stdout(&s.run(&["clear", "--cluster", "c1"])).contains("nothing cached for cluster c1"));
    let out = stdout(&s.run(&["clear", "--all"]));
    assert!(out.contains("cache-other.yaml"), "{out}");
    assert!(s.cache_files().is_empty());
    s.ok(AWS);
    assert_eq!(s.calls(), 3, "a cleared entry is fetched again");
    assert_eq!(s.run(&["clear"]).status.code(), Some(2));
}

#[test]
fn gc_removes_what_is_garbage_now() {
    let s = Sandbox::new();
    s.ok(&["aws", "eks", "get-token", "--cluster-name", "stale"]);
    let stale = s.make_stale("stale");
    let out = stdout(&s.run(&["gc"]));
    assert!(out.contains("removed") && out.contains("cache-stale.yaml"), "{out}");
    assert!(!stale.exists());
    assert!(stdout(&s.run(&["gc"])).contains("nothing to remove"));
}

#[test]
fn list_providers_json() {
    let s = Sandbox::new();
    let json: serde_json::Value = serde_json::from_str(&stdout(&s.run(&["list-providers", "--json"]))).unwrap();
    let listed: Vec<(&str, &str, &str, &str)> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let field = |k: &str| p[k].as_str().unwrap();
            (field("kind"), field("name"), field("command"), field("description"))
        })
        .collect();
    let mut expected: Vec<(&str, &str, &str, &str)> = kubecredcache::provider::registered()
        .iter()
        .map(|p| ("provider", p.name(), p.command(), p.description()))
        .collect();
    expected.extend(
        kubecredcache::provider::launchers()
            .iter()
            .map(|l| ("launcher", l.name(), l.command(), l.description())),
    );
    assert_eq!(listed, expected, "the built binary lists what the library registers");
    assert!(listed.iter().any(|l| l.0 == "launcher" && l.1 == "aws-vault"));
}

#[test]
fn every_subcommand_has_help() {
    let s = Sandbox::new();
    for sub in ["setup", "unsetup", "status", "clear", "gc", "list-providers"] {
        let out = stdout(&s.run(&[sub, "--help"]));
        assert!(out.contains(&format!("Usage: kubecredcache {sub}")), "{sub}: {out}");
    }
}

#[test]
fn a_wrapped_command_named_like_a_subcommand_is_reachable_with_double_dash() {
    let s = Sandbox::new();
    crate::common::write_script(&s.bin.join("status"), "#!/bin/sh\necho \"the status program: $*\"\n");
    assert_eq!(s.ok(&["--", "status", "x"]), "the status program: x\n");
    assert!(s.ok(&["status"]).contains("nothing cached"));
}

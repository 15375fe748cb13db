//! Behaviour of the cache through the built binary: hits, keys, expiry, apiVersion,
//! files on disk and garbage collection.

use crate::common::{AWS, IAM, Sandbox, api_version, token};
use kubecredcache::cache::CacheFile;
use std::fs;
use std::os::unix::fs::PermissionsExt;

#[test]
fn a_second_run_is_served_from_the_cache() {
    let s = Sandbox::new();
    let first = s.ok(AWS);
    let second = s.ok(AWS);
    assert_eq!(s.calls(), 1);
    assert_eq!(token(&first), token(&second));
    assert_eq!(s.cache_files(), ["cache-c1.yaml"]);
}

#[test]
fn aws_iam_authenticator_is_cached_too() {
    let s = Sandbox::new();
    let first = s.ok(IAM);
    let second = s.ok(&["aws-iam-authenticator", "token", "--cluster-id=c1"]);
    assert_eq!(s.calls(), 1);
    assert_eq!(token(&first), token(&second));
}

#[test]
fn spellings_and_order_of_flags_share_one_entry() {
    let mut s = Sandbox::new();
    s.set("AWS_ACCESS_KEY_ID", "AKIA1");
    let t = token(&s.ok(AWS));
    for args in [
        &["aws", "--region=us-west-2", "eks", "get-token", "--cluster-name=c1"][..],
        &[
            "aws",
            "eks",
            "get-token",
            "--cluster-name",
            "c1",
            "--region",
            "us-west-2",
        ],
        &["aws", "eks", "--region", "us-west-2", "get-token", "--cluster-name=c1"],
    ] {
        assert_eq!(token(&s.ok(args)), t, "{args:?}");
    }
    s.set("AWS_REGION", "us-west-2");
    assert_eq!(
        token(&s.ok(&["aws", "eks", "get-token", "--cluster-name", "c1"])),
        t,
        "region from AWS_REGION"
    );
    assert_eq!(s.calls(), 1);
}

#[test]
fn every_identity_field_gets_its_own_token() {
    let mut s = Sandbox::new();
    let mut tokens = vec![token(&s.ok(AWS))];
    let mut fetch = |s: &Sandbox, args: &[&str]| {
        let t = token(&s.ok(args));
        assert!(!tokens.contains(&t), "{args:?} was served another identity's token");
        tokens.push(t);
    };
    fetch(
        &s,
        &[
            "aws",
            "--region",
            "us-west-2",
            "eks",
            "get-token",
            "--cluster-name",
            "c2",
        ],
    );
    fetch(
        &s,
        &[
            "aws",
            "--region",
            "eu-west-1",
            "eks",
            "get-token",
            "--cluster-name",
            "c1",
        ],
    );
    fetch(
        &s,
        &[
            "aws",
            "--region",
            "us-west-2",
            "--profile",
            "p",
            "eks",
            "get-token",
            "--cluster-name",
            "c1",
        ],
    );
    fetch(
        &s,
        &[
            "aws",
            "--region",
            "us-west-2",
            "eks",
            "get-token",
            "--cluster-name",
            "c1",
            "--role-arn",
            "arn:r",
        ],
    );
    fetch(
        &s,
        &["aws-iam-authenticator", "token", "-i", "c1", "--region", "us-west-2"],
    );
    s.set("AWS_PROFILE", "other");
    fetch(&s, AWS);
    s.set("AWS_ACCESS_KEY_ID", "AKIA2");
    fetch(&s, AWS);
    assert_eq!(s.calls(), 8);
}

#[test]
fn a_token_inside_the_expiry_margin_is_fetched_again() {
    let mut s = Sandbox::new();
    s.set("FAKE_LIFETIME", "45");
    let a = token(&s.ok(AWS));
    let b = token(&s.ok(AWS));
    assert_ne!(a, b, "45 s left is inside the default 60 s margin");
    s.set("KUBECREDCACHE_EXPIRY_MARGIN", "10s");
    let c = token(&s.ok(AWS));
    assert_eq!(token(&s.ok(AWS)), c, "with a 10 s margin it is served");
    s.set("KUBECREDCACHE_EXPIRY_MARGIN", "1m");
    assert_ne!(token(&s.ok(AWS)), c, "1m is 60 s");
    assert_eq!(s.calls(), 4);
}

#[test]
fn an_expired_entry_is_replaced() {
    let mut s = Sandbox::new();
    s.set("FAKE_LIFETIME", "-30");
    s.ok(AWS);
    s.set("FAKE_LIFETIME", "900");
    let fresh = token(&s.ok(AWS));
    assert_eq!(token(&s.ok(AWS)), fresh);
    assert_eq!(s.calls(), 2);
}

#[test]
fn a_credential_without_expiry_is_passed_through_uncached() {
    let mut s = Sandbox::new();
    s.set("FAKE_MODE", "noexpiry");
    let a = s.ok(AWS);
    let b = s.ok(AWS);
    assert_ne!(token(&a), token(&b));
    assert_eq!(s.calls(), 2);
    assert!(s.cache_files().is_empty());
}

#[test]
fn the_api_version_kubectl_asks_for_is_printed() {
    let mut s = Sandbox::new();
    let stored = s.ok(AWS);
    assert_eq!(api_version(&stored), "client.authentication.k8s.io/v1beta1");
    for wanted in [
        "client.authentication.k8s.io/v1",
        "client.authentication.k8s.io/v1beta1",
    ] {
        s.set(
            "KUBERNETES_EXEC_INFO",
            &format!(r#"{{"kind":"ExecCredential","apiVersion":"{wanted}","spec":{{"interactive":false}}}}"#),
        );
        let out = s.ok(AWS);
        assert_eq!(api_version(&out), wanted);
        assert_eq!(token(&out), token(&stored));
    }
    assert_eq!(s.calls(), 1);
}

#[test]
fn the_cache_is_private_whatever_the_umask() {
    let s = Sandbox::new();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("umask 000 && exec \"$@\"")
        .arg("sh")
        .args(s.command(AWS).get_program().to_str())
        .args(AWS)
        .env("HOME", &s.home)
        .env("PATH", format!("{}:/usr/bin:/bin", s.bin.display()))
        .env("FAKE_CALLS", &s.calls)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(fs::metadata(&s.cache).unwrap().permissions().mode() & 0o777, 0o700);
    for entry in fs::read_dir(&s.cache).unwrap() {
        let entry = entry.unwrap();
        assert_eq!(
            entry.metadata().unwrap().permissions().mode() & 0o777,
            0o600,
            "{:?}",
            entry.file_name()
        );
    }
}

#[test]
fn an_existing_cache_dir_keeps_its_mode() {
    // Not ours to change (it may be shared); 0755 lets others list it, not write to it.
    let s = Sandbox::new();
    fs::create_dir_all(&s.cache).unwrap();
    fs::set_permissions(&s.cache, fs::Permissions::from_mode(0o755)).unwrap();
    let t = token(&s.ok(AWS));
    assert_eq!(token(&s.ok(AWS)), t);
    assert_eq!(fs::metadata(&s.cache).unwrap().permissions().mode() & 0o777, 0o755);
}

#[test]
fn hostile_cluster_names_stay_inside_the_cache_dir() {
    let s = Sandbox::new();
    let long = "x".repeat(400);
    let names = [
        "../../x",
        "a/b",
        "with space",
        "*",
        "?",
        "new\nline",
        "..",
        long.as_str(),
    ];
    for name in names {
        let args = ["aws", "eks", "get-token", "--cluster-name", name];
        let t = token(&s.ok(&args));
        assert_eq!(token(&s.ok(&args)), t, "{name:?} is cached");
    }
    assert_eq!(s.calls(), names.len());
    assert_eq!(s.cache_files().len(), names.len());
    let outside: Vec<_> = fs::read_dir(s.root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(outside.len(), 3, "only home, bin and the call log: {outside:?}");
    assert!(!s.home.join("x").exists());
}

#[test]
fn kubecredcache_dir_moves_the_cache() {
    let mut s = Sandbox::new();
    let elsewhere = s.root.path().join("elsewhere");
    s.set("KUBECREDCACHE_DIR", elsewhere.to_str().unwrap());
    s.ok(AWS);
    assert!(elsewhere.join("cache-c1.yaml").exists());
    assert!(!s.cache.exists());
}

#[test]
fn old_cache_files_of_other_clusters_are_collected() {
    let mut s = Sandbox::new();
    s.set("KUBECREDCACHE_GC_INTERVAL", "0");
    s.ok(&["aws", "eks", "get-token", "--cluster-name", "old"]);
    s.make_stale("old");

    s.ok(AWS);
    assert_eq!(s.cache_files(), ["cache-c1.yaml"]);
}

#[test]
fn entries_of_several_identities_share_the_cluster_file() {
    let mut s = Sandbox::new();
    let a = token(&s.ok(AWS));
    s.set("AWS_PROFILE", "p2");
    let b = token(&s.ok(AWS));
    s.set("AWS_PROFILE", "");
    let file = CacheFile::parse(&fs::read(s.cache.join("cache-c1.yaml")).unwrap()).unwrap();
    assert_eq!(file.entries.values().filter(|e| e.provider == "aws-eks").count(), 2);
    assert_ne!(a, b);
    assert_eq!(s.calls(), 2);
}

/// A program named by its path keys that path as a part of its own, beside every other
/// part: each of them still separates identities (a path that took the place of
/// another part would make two identities share one token).
#[test]
fn every_identity_field_separates_keys_for_a_program_named_by_its_path_too() {
    let mut s = Sandbox::new();
    let program = s.bin.join("aws");
    let program = program.to_str().unwrap();
    let with = |args: &[&str]| -> Vec<String> {
        let mut all = vec![program.to_string()];
        all.extend(args.iter().map(|a| a.to_string()));
        all
    };
    let base = ["--region", "us-west-2", "eks", "get-token", "--cluster-name", "c1"];
    let variants: [&[&str]; 4] = [
        &base,
        &["--region", "eu-west-1", "eks", "get-token", "--cluster-name", "c1"],
        &[
            "--region",
            "us-west-2",
            "--profile",
            "p",
            "eks",
            "get-token",
            "--cluster-name",
            "c1",
        ],
        &[
            "--region",
            "us-west-2",
            "eks",
            "get-token",
            "--cluster-name",
            "c1",
            "--role-arn",
            "arn:r",
        ],
    ];
    let mut tokens = Vec::new();
    let mut fetch = |s: &Sandbox, args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let t = token(&s.ok(&args));
        assert!(!tokens.contains(&t), "{args:?} was served another identity's token");
        tokens.push(t);
    };
    for args in variants {
        fetch(&s, with(args));
    }
    s.set("AWS_ACCESS_KEY_ID", "AKIA1");
    fetch(&s, with(&base));
    s.set("AWS_ACCESS_KEY_ID", "AKIA2");
    fetch(&s, with(&base));
    assert_eq!(s.calls(), 6);
}

/// The same for `--generic`, whose identity starts with the program: a `--key-env`
/// variable still separates identities when the program is named by its path.
#[test]
fn a_key_env_variable_separates_keys_for_a_generic_program_named_by_its_path() {
    let mut s = Sandbox::new();
    let program = s.bin.join("aws");
    let mut args = vec!["--generic", "--key-env", "TENANT", "--", program.to_str().unwrap()];
    args.extend(&AWS[1..]);
    s.set("TENANT", "a");
    let a = token(&s.ok(&args));
    s.set("TENANT", "b");
    let b = token(&s.ok(&args));
    assert_ne!(a, b, "tenant b was served tenant a's token");
    assert_eq!(s.calls(), 2);
    assert_eq!(token(&s.ok(&args)), b, "and each is cached");
    assert_eq!(s.calls(), 2);
}

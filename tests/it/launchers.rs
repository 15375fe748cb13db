//! Launchers (`aws-vault exec PROFILE -- CMD`, `env NAME=VALUE CMD`) in front of a known
//! authenticator, through the built binary: cached, keyed by the launcher's profile and
//! the launched command's identity, wrapped by `setup`, shown by `status` and `doctor`.
//! aws-vault cannot be installed here: its stand-in is written from its source.

use crate::common::{Sandbox, token, write_script};
use std::fs;
use std::time::Duration;

/// A stand-in for `aws-vault exec`, from 99designs/aws-vault v7's cli/exec.go: refuses
/// inside an aws-vault subshell; removes the user's AWS credential and profile
/// variables; sets AWS_VAULT, the region variables for `--region`, and credentials of
/// the profile (kingpin's `@FILE` read for the profile alone); then runs the command
/// after `--`. Each run appends a line to `$FAKE_LAUNCHES` (not `$FAKE_CALLS`, which
/// counts the launched authenticator's runs).
const FAKE_AWS_VAULT: &str = r#"#!/bin/bash
echo "aws-vault $*" >> "${FAKE_LAUNCHES:-/dev/null}"
[ -n "$AWS_VAULT" ] && { echo "aws-vault: running in an existing aws-vault subshell" >&2; exit 1; }
profile= region=
while [ $# -gt 0 ]; do
  case "$1" in
    --) shift; break ;;
    exec) ;;
    --region) region=$2; shift ;;
    --region=*) region=${1#--region=} ;;
    --duration|-d|--backend|--mfa-token|-t|--prompt|--file-dir|--keychain) shift ;;
    -*) ;;
    @*) profile=$(head -n 1 "${1#@}") ;;
    *) profile=$1 ;;
  esac
  shift
done
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_CREDENTIAL_FILE AWS_DEFAULT_PROFILE AWS_PROFILE AWS_SDK_LOAD_CONFIG
export AWS_VAULT=$profile AWS_ACCESS_KEY_ID=AKIA-$profile AWS_SECRET_ACCESS_KEY=secret-$profile
[ -n "$region" ] && export AWS_REGION=$region AWS_DEFAULT_REGION=$region
exec "$@"
"#;

const EKS: &[&str] = &["aws", "eks", "get-token", "--cluster-name", "c1"];

fn vault(profile: &str, inner: &[&str]) -> Vec<String> {
    let mut line: Vec<String> = ["aws-vault", "exec", profile, "--"].map(String::from).to_vec();
    line.extend(inner.iter().map(|a| a.to_string()));
    line
}

fn run(s: &Sandbox, line: &[String]) -> String {
    let line: Vec<&str> = line.iter().map(String::as_str).collect();
    token(&s.ok(&line))
}

fn sandbox() -> Sandbox {
    let mut s = Sandbox::new();
    write_script(&s.bin.join("aws-vault"), FAKE_AWS_VAULT);
    let launches = s.root.path().join("launches");
    s.set("FAKE_LAUNCHES", launches.to_str().unwrap());
    s
}

#[test]
fn aws_vault_exec_is_cached_and_keyed_by_its_profile_and_the_launched_identity() {
    let s = sandbox();
    let prod = run(&s, &vault("prod", EKS));
    assert_eq!(run(&s, &vault("prod", EKS)), prod, "served from the cache");
    assert_eq!(s.calls(), 1);
    assert_ne!(run(&s, &vault("dev", EKS)), prod, "another profile, another token");
    let other_cluster = ["aws", "eks", "get-token", "--cluster-name", "c2"];
    assert_ne!(run(&s, &vault("prod", &other_cluster)), prod, "another cluster");
    let mut with_flag = vec!["aws-vault".to_string(), "--backend=file".into()];
    with_flag.extend(vault("prod", EKS).into_iter().skip(1));
    assert_ne!(run(&s, &with_flag), prod, "another key store");
    assert_eq!(s.calls(), 4);
    assert_eq!(run(&s, &vault("prod", EKS)), prod);
    assert_eq!(s.calls(), 4);
    // A command no provider knows, behind a launcher: run each time, as bare.
    write_script(
        &s.bin.join("my-plugin"),
        "#!/bin/sh\necho \"$AWS_VAULT\" >> \"$FAKE_CALLS\"\necho '{}'\n",
    );
    s.ok(&["aws-vault", "exec", "prod", "--", "my-plugin"]);
    s.ok(&["aws-vault", "exec", "prod", "--", "my-plugin"]);
    assert_eq!(s.calls(), 6);
}

#[test]
fn a_new_key_or_session_in_aws_vaults_store_fetches_afresh() {
    let s = sandbox();
    let keys = s.home.join(".awsvault/keys");
    fs::create_dir_all(&keys).unwrap();
    fs::write(keys.join("prod"), "old").unwrap();
    let first = run(&s, &vault("prod", EKS));
    assert_eq!(run(&s, &vault("prod", EKS)), first);
    // `aws-vault add`/`rotate` writes an entry of the file store.
    fs::write(keys.join("prod"), "rotated key").unwrap();
    assert_ne!(run(&s, &vault("prod", EKS)), first);
    assert_eq!(s.calls(), 2);
}

#[test]
fn env_in_front_is_keyed_by_the_environment_it_gives_the_command() {
    let mut s = sandbox();
    s.set("AWS_PROFILE", "from-the-shell");
    let with = |profile: &str| {
        let mut line = vec!["env".to_string(), format!("AWS_PROFILE={profile}")];
        line.extend(EKS.iter().map(|a| a.to_string()));
        line
    };
    let a = run(&s, &with("a"));
    assert_eq!(run(&s, &with("a")), a);
    assert_ne!(run(&s, &with("b")), a, "another profile for the command");
    let unset: Vec<String> = ["env", "-u", "AWS_PROFILE"]
        .iter()
        .chain(EKS)
        .map(|a| a.to_string())
        .collect();
    let bare = run(&s, &unset);
    assert_ne!(bare, a);
    assert_eq!(run(&s, &unset), bare);
    assert_eq!(s.calls(), 3);
    // Nested: env inside aws-vault exec.
    let mut nested = vec!["env".to_string(), "AWS_REGION=eu-west-1".into()];
    nested.extend(EKS.iter().map(|a| a.to_string()));
    let nested: Vec<&str> = nested.iter().map(String::as_str).collect();
    let inside = run(&s, &vault("prod", &nested));
    assert_eq!(run(&s, &vault("prod", &nested)), inside);
    assert_eq!(s.calls(), 4);
}

#[test]
fn setup_wraps_a_launcher_entry_and_status_and_doctor_show_both_identities() {
    let s = sandbox();
    s.install();
    let config = s.kube_config();
    fs::write(
        &config,
        "apiVersion: v1\nkind: Config\ncurrent-context: ctx\nclusters:\n- name: k\n  cluster: {server: 'https://k.example.com'}\n\
         contexts:\n- name: ctx\n  context: {cluster: k, user: u}\n\
         users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws-vault\n      args: [exec, prod, --, aws, eks, get-token, --cluster-name, c1]\n",
    )
    .unwrap();
    let out = s.run(&["setup"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let written = fs::read_to_string(&config).unwrap();
    assert!(written.contains("command: kubecredcache"), "{written}");
    run(&s, &vault("prod", EKS));
    let status: serde_json::Value = serde_json::from_str(&s.ok(&["status", "--json"])).unwrap();
    assert_eq!(status[0]["cluster"], "c1", "{status}");
    assert_eq!(status[0]["identity"]["aws-vault.profile"], "prod", "{status}");
    assert_eq!(
        status[0]["identity"]["aws-vault"], "prod",
        "the launched identity: {status}"
    );
    let doctor: serde_json::Value = serde_json::from_str(&s.ok(&["doctor", "--json"])).unwrap();
    assert_eq!(doctor["exec"]["provider"], "aws-vault", "{doctor}");
    assert_eq!(doctor["identity"]["parts"]["aws-vault.profile"], "prod", "{doctor}");
    assert_eq!(doctor["identity"]["parts"]["aws-vault.runs"], "aws-eks", "{doctor}");
    assert_eq!(doctor["entry"]["state"], "fresh", "{doctor}");
}

#[test]
fn a_launcher_that_may_prompt_is_never_refreshed_in_the_background() {
    let mut s = sandbox();
    s.set("KUBECREDCACHE_REFRESH_AHEAD", "250s").set("FAKE_LIFETIME", "200");
    let first = run(&s, &vault("prod", EKS));
    s.age_entries("c1", Duration::from_secs(300));
    assert_eq!(run(&s, &vault("prod", EKS)), first);
    let running = fs::read_dir(&s.cache)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".running"))
        .count();
    assert_eq!(running, 0, "aws-vault may ask for a passphrase or an MFA code");
    assert_eq!(s.calls(), 1);
}

/// A stand-in for a launcher that runs the command after its `--` (aws-okta's,
/// saml2aws's and aws-sso's `exec`, from their cmd/.../exec.go: credentials in the
/// environment, then the command; `op plugin run`, from its documentation), logging to
/// `$FAKE_LAUNCHES`.
const FAKE_EXEC_LAUNCHER: &str = r#"#!/bin/bash
echo "$(basename "$0") $*" >> "${FAKE_LAUNCHES:-/dev/null}"
while [ $# -gt 0 ] && [ "$1" != -- ]; do shift; done
shift
export AWS_ACCESS_KEY_ID=AKIA-launched AWS_SECRET_ACCESS_KEY=launched
exec "$@"
"#;

#[test]
fn every_launcher_is_cached_keyed_by_its_own_arguments_and_its_command_and_wrapped_by_setup() {
    let mut s = sandbox();
    s.install();
    // aws-sso's credentials are sure to live one minute: served while more than the
    // margin is left of it.
    s.set("KUBECREDCACHE_EXPIRY_MARGIN", "10s");
    for (launcher, a, b) in [
        ("aws-okta", &["exec", "prod"][..], &["exec", "dev"][..]),
        (
            "saml2aws",
            &["exec", "--exec-profile", "admin"],
            &["exec", "-a", "other-idp"],
        ),
        ("aws-sso", &["exec", "--profile", "prod"], &["exec", "-p", "dev"]),
        (
            "op",
            &["plugin", "run"],
            &["--account", "other.1password.com", "plugin", "run"],
        ),
        (
            "env",
            &["AWS_REGION=eu-west-1"],
            &["-u", "AWS_PROFILE", "AWS_REGION=eu-west-1"],
        ),
    ] {
        if launcher != "env" {
            write_script(&s.bin.join(launcher), FAKE_EXEC_LAUNCHER);
        }
        let separator: &[&str] = if launcher == "env" { &[] } else { &["--"] };
        let line_for = |own: &[&str], inner: &[&str]| {
            let mut line = vec![launcher.to_string()];
            line.extend(own.iter().chain(separator).chain(inner).map(|a| a.to_string()));
            line
        };
        let line = |own: &[&str]| line_for(own, EKS);
        let before = s.calls();
        let first = run(&s, &line(a));
        assert_eq!(run(&s, &line(a)), first, "{launcher}: served from the cache");
        assert_ne!(run(&s, &line(b)), first, "{launcher}: its own arguments are keyed");
        let other_cluster = ["aws", "eks", "get-token", "--cluster-name", "c2"];
        assert_ne!(
            run(&s, &line_for(a, &other_cluster)),
            first,
            "{launcher}: the launched command's identity is keyed"
        );
        assert_eq!(s.calls(), before + 3, "{launcher}");

        let config = s.kube_config();
        let args: Vec<String> = line(a)[1..].iter().map(|a| format!("{a:?}")).collect();
        fs::write(
            &config,
            format!(
                "apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: {launcher}\n      args: [{}]\n",
                args.join(", ")
            ),
        )
        .unwrap();
        let out = s.run(&["setup"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let written = fs::read_to_string(&config).unwrap();
        assert!(written.contains("command: kubecredcache"), "{launcher}: {written}");
    }
}

/// aws-vault reads `AWS_MIN_TTL` with Go's `time.ParseDuration`, for which `0` is a
/// duration: it then hands over a cached session with any time left, so a token signed
/// with it may die at once. Not served again.
#[test]
fn aws_vault_with_a_min_ttl_of_zero_has_its_tokens_served_no_longer() {
    let mut s = sandbox();
    s.set("AWS_MIN_TTL", "0");
    let first = run(&s, &vault("prod", EKS));
    assert_ne!(run(&s, &vault("prod", EKS)), first, "fetched afresh, as bare");
    assert_eq!(s.calls(), 2);
}

/// `env -u HOME` (or `env -i`) leaves the command a home we cannot see: the AWS CLI
/// finds `~/.aws` through the password database, so a new `aws configure` there would go
/// unnoticed. The command runs as bare, each time.
#[test]
fn env_that_takes_the_home_away_runs_its_command_as_bare() {
    let s = sandbox();
    let line: Vec<String> = ["env", "-u", "HOME"].iter().chain(EKS).map(|a| a.to_string()).collect();
    let first = run(&s, &line);
    let credentials = s.home.join(".aws/credentials");
    fs::create_dir_all(credentials.parent().unwrap()).unwrap();
    fs::write(&credentials, "[default]\naws_access_key_id = AKIA-NEW\n").unwrap();
    assert_ne!(run(&s, &line), first, "the new credentials are used at once");
    assert_eq!(s.calls(), 2);
}

/// `op plugin run` chooses the item per terminal session, else per directory (the
/// nearest `.op/plugins/<plugin>.json` up from the working directory), else globally:
/// `cd` into a project configured with other credentials, or another terminal, is
/// another identity, and `op plugin init` in a directory fetches afresh.
#[test]
fn op_plugin_run_is_keyed_by_the_working_directory_and_the_terminal_session() {
    let s = sandbox();
    write_script(&s.bin.join("op"), FAKE_EXEC_LAUNCHER);
    let line: Vec<&str> = ["op", "plugin", "run", "--"].iter().chain(EKS).copied().collect();
    let in_dir = |dir: &std::path::Path| {
        let mut cmd = s.command(&line);
        cmd.current_dir(dir);
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        token(std::str::from_utf8(&out.stdout).unwrap())
    };
    let (prod, dev) = (s.root.path().join("prod"), s.root.path().join("dev"));
    fs::create_dir_all(&prod).unwrap();
    fs::create_dir_all(&dev).unwrap();
    let first = in_dir(&prod);
    assert_eq!(in_dir(&prod), first, "served from the cache");
    assert_ne!(in_dir(&dev), first, "another directory may have other credentials");
    // `op plugin init` there, "use automatically in this directory".
    fs::create_dir_all(prod.join(".op/plugins")).unwrap();
    fs::write(prod.join(".op/plugins/aws.json"), "{}").unwrap();
    let configured = in_dir(&prod);
    assert_ne!(configured, first, "a directory default set: fetched afresh");
    // Another terminal (its own session) may have its own session default.
    let mut other_terminal = std::process::Command::new("setsid");
    other_terminal
        .arg(crate::common::bin())
        .args(&line)
        .current_dir(&prod)
        .env_clear()
        .envs(
            s.command(&[])
                .get_envs()
                .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned()))),
        );
    let out = other_terminal.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_ne!(token(std::str::from_utf8(&out.stdout).unwrap()), configured);
    assert_eq!(s.calls(), 4);
}

/// The first 16 hex digits of SHA-256, as kubecredcache's digests show a secret.
fn digest_hex(secret: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(secret.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An MFA code or the file store's passphrase proves who signs in; the profile chooses
/// whose credentials. A digest of a 6-digit code (or of a passphrase) is undone by
/// trying them all: neither is in the key, the cache directory or `doctor`, and another
/// code for the same profile is served the same token.
#[test]
fn aws_vaults_mfa_code_and_passphrase_stay_out_of_the_cache_and_doctor() {
    let mut s = sandbox();
    s.install();
    s.set("AWS_VAULT_FILE_PASSPHRASE", "hunter2");
    let with_code = |code: &str| {
        let mut line: Vec<String> = ["aws-vault", "exec", "--mfa-token", code, "prod", "--"]
            .map(String::from)
            .to_vec();
        line.extend(EKS.iter().map(|a| a.to_string()));
        line
    };
    let first = run(&s, &with_code("918273"));
    assert_eq!(run(&s, &with_code("123456")), first, "the same profile's credentials");
    assert_eq!(s.calls(), 1);
    let args: Vec<String> = with_code("918273").iter().map(|a| format!("{a:?}")).collect();
    fs::write(
        s.kube_config(),
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: ctx\nclusters:\n- name: k\n  cluster: {{server: 'https://k.example.com'}}\n\
             contexts:\n- name: ctx\n  context: {{cluster: k, user: u}}\n\
             users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: kubecredcache\n      args: [{}]\n",
            args.join(", ")
        ),
    )
    .unwrap();
    let mut shown = vec![
        s.ok(&["doctor"]),
        s.ok(&["doctor", "--json"]),
        s.ok(&["status", "--json"]),
    ];
    for entry in fs::read_dir(&s.cache).unwrap() {
        let entry = entry.unwrap();
        shown.push(entry.file_name().to_string_lossy().into_owned());
        if entry.path().is_file() {
            shown.push(String::from_utf8_lossy(&fs::read(entry.path()).unwrap()).into_owned());
        }
    }
    assert!(shown[0].contains("aws-vault.profile=prod"), "{}", shown[0]);
    for text in &shown {
        for secret in ["918273", "123456", "hunter2"] {
            assert!(!text.contains(secret), "{secret} in clear: {text}");
            assert!(!text.contains(&digest_hex(secret)), "a digest of {secret}: {text}");
        }
    }
}

/// kingpin (aws-vault, saml2aws, tsh) reads an argument `@FILE` before `--` as the lines
/// of FILE: `aws-vault exec @profile.args -- ...` names whatever profile the file holds
/// now, which the command line does not show. Such a line runs as bare, each time.
#[test]
fn a_kingpin_arguments_file_is_not_keyed_by_its_name() {
    let s = sandbox();
    let file = s.root.path().join("profile.args");
    fs::write(&file, "prod\n").unwrap();
    let line = vault(&format!("@{}", file.display()), EKS);
    let prod = run(&s, &line);
    fs::write(&file, "dev\n").unwrap();
    assert_ne!(run(&s, &line), prod, "another profile in the file: not prod's token");
    assert_eq!(s.calls(), 2);
}

//! `kubecredcache doctor` through the built binary: the verdict and its exit code, the
//! identity read from the exec entry's environment, the entry, the failure, the cache
//! directory; and that it never runs the authenticator nor writes anything.

use crate::common::{AWS, Sandbox, token};
use serde_json::Value;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

/// A kubeconfig at `~/.kube/config` with one context `ctx` for the user `u`, whose exec
/// entry runs `command args` with `env` (name, value) entries.
fn kubeconfig(s: &Sandbox, command: &str, args: &[&str], env: &[(&str, &str)]) -> PathBuf {
    let path = s.kube_config();
    let args: Vec<String> = args.iter().map(|a| format!("{a:?}")).collect();
    let env: Vec<String> = env
        .iter()
        .map(|(n, v)| format!("{{name: {n}, value: {v:?}}}"))
        .collect();
    fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: ctx\nclusters:\n- name: k\n  cluster: {{server: 'https://k.example.com'}}\n\
             contexts:\n- name: ctx\n  context: {{cluster: k, user: u}}\n\
             users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: {command}\n      args: [{}]\n      env: [{}]\n",
            args.join(", "),
            env.join(", ")
        ),
    )
    .unwrap();
    path
}

fn wrapped_aws() -> Vec<&'static str> {
    AWS.to_vec()
}

fn doctor(s: &Sandbox, extra: &[&str]) -> (Output, String) {
    let mut args = vec!["doctor"];
    args.extend_from_slice(extra);
    let out = s.run(&args);
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    (out, text)
}

fn doctor_json(s: &Sandbox, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    let (out, text) = doctor(s, &args);
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (out.status.code().unwrap(), json)
}

/// Every file under `dir` with its contents and modification time.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>, std::time::SystemTime)> {
    let mut all = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).into_iter().flatten().flatten() {
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                all.push((
                    entry.path(),
                    fs::read(entry.path()).unwrap_or_default(),
                    meta.modified().unwrap(),
                ));
            }
        }
    }
    all.sort();
    all
}

#[test]
fn a_healthy_context_is_served_from_the_cache_with_the_identity_of_the_exec_env() {
    let mut s = Sandbox::new();
    s.install();
    s.set("AWS_PROFILE", "from-the-shell");
    kubeconfig(
        &s,
        "kubecredcache",
        &wrapped_aws(),
        &[("AWS_PROFILE", "from-the-kubeconfig")],
    );
    // kubectl's run: its environment with the entry's env over it.
    let mut run = s.command(AWS);
    run.env("AWS_PROFILE", "from-the-kubeconfig");
    assert!(run.output().unwrap().status.success());
    assert_eq!(s.calls(), 1);

    let before = snapshot(s.root.path());
    let (out, text) = doctor(&s, &[]);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("profile=from-the-kubeconfig") && !text.contains("from-the-shell"),
        "{text}"
    );
    assert!(text.contains("Cache entry: fresh"), "{text}");
    assert!(
        text.lines()
            .last()
            .unwrap()
            .starts_with("Verdict: served from the cache"),
        "{text}"
    );
    assert!(text.contains("Its exec env sets AWS_PROFILE"), "{text}");

    let (code, json) = doctor_json(&s, &[]);
    assert_eq!(code, 0);
    assert_eq!(json["served"], true);
    assert_eq!(json["problems"], serde_json::json!([]));
    assert_eq!(json["entry"]["state"], "fresh");
    assert_eq!(json["exec"]["provider"], "aws-eks");
    assert_eq!(json["exec"]["runs_kubecredcache"], true);
    assert_eq!(json["last_failure"], Value::Null, "a real null");
    // The identity is the one the wrapped run stored: what status shows for it.
    let status: Value = serde_json::from_str(&s.ok(&["status", "--json"])).unwrap();
    assert_eq!(json["identity"]["parts"], status[0]["identity"], "{json}");

    assert_eq!(s.calls(), 1, "doctor never runs the authenticator");
    assert_eq!(snapshot(s.root.path()), before, "doctor writes nothing");
}

#[test]
fn secrets_in_the_exec_env_are_shown_only_as_digests() {
    let s = Sandbox::new();
    s.install();
    kubeconfig(
        &s,
        "kubecredcache",
        &wrapped_aws(),
        &[
            ("AWS_SECRET_ACCESS_KEY", "very-secret-key-123"),
            ("AWS_SESSION_TOKEN", "very-secret-session-456"),
        ],
    );
    let (_, text) = doctor(&s, &[]);
    let (_, json) = doctor_json(&s, &[]);
    for shown in [text, json.to_string()] {
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("sha256:"), "{shown}");
        assert!(shown.contains("AWS_SECRET_ACCESS_KEY"), "the names are shown: {shown}");
    }
}

#[test]
fn an_unwrapped_user_is_not_served_and_doctor_says_setup_would_wrap_it() {
    let s = Sandbox::new();
    s.install();
    kubeconfig(&s, "aws", &AWS[1..], &[]);
    let (out, text) = doctor(&s, &[]);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("runs aws directly, not through kubecredcache; `kubecredcache setup --user u` would wrap it (provider aws-eks)"),
        "{text}"
    );
    assert!(text.contains("Verdict: not served through the cache"), "{text}");
    let (_, json) = doctor_json(&s, &[]);
    assert_eq!(json["served"], false);
    assert_eq!(json["exec"]["runs_kubecredcache"], false);
    assert_eq!(json["exec"]["program_path"], Value::Null);
    assert_eq!(json["entry"], Value::Null);

    s.ok(&["setup"]);
    let (out, text) = doctor(&s, &[]);
    assert_eq!(out.status.code(), Some(0), "after setup: {text}");
    assert!(
        text.contains("Verdict: served through the cache: the next kubectl run"),
        "{text}"
    );
    assert_eq!(s.calls(), 0);
}

#[test]
fn an_expired_login_is_named_by_its_exit_code_until_a_new_sign_in() {
    let mut s = Sandbox::new();
    s.install();
    kubeconfig(&s, "kubecredcache", &wrapped_aws(), &[]);
    s.set("FAKE_MODE", "fail");
    assert_eq!(s.run(AWS).status.code(), Some(3));
    let (out, text) = doctor(&s, &[]);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("exit code 3 (its message went to the run that failed)") && text.contains("replay it for"),
        "{text}"
    );
    // The record keeps none of the authenticator's words, so doctor has none to show.
    assert!(!text.contains("SSO session"), "{text}");
    assert!(
        text.contains("Verdict: not served through the cache: the last try")
            && text.contains("run kubectl at a terminal to see the command's message"),
        "{text}"
    );
    let (_, json) = doctor_json(&s, &[]);
    assert_eq!(json["last_failure"]["exit_code"], 3);
    assert_eq!(json["last_failure"].get("message"), None, "{json}");
    assert!(
        json["last_failure"]["cooldown_left_seconds"].as_i64().unwrap() > 0,
        "{json}"
    );

    // The cooldown over, it still failed last: still not served.
    kubeconfig(
        &s,
        "kubecredcache",
        &wrapped_aws(),
        &[("KUBECREDCACHE_FAILURE_COOLDOWN", "0")],
    );
    let (code, json) = doctor_json(&s, &[]);
    assert_eq!(code, 1);
    assert_eq!(json["last_failure"]["cooldown_left_seconds"], Value::Null);

    // A new sign-in (the AWS config changed): the next run tries again.
    fs::create_dir_all(s.home.join(".aws")).unwrap();
    fs::write(s.home.join(".aws/config"), "[default]\n").unwrap();
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    fs::File::options()
        .write(true)
        .open(s.home.join(".aws/config"))
        .unwrap()
        .set_modified(later)
        .unwrap();
    let (out, text) = doctor(&s, &[]);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("changed since (a new sign-in?)"), "{text}");
    assert_eq!(s.calls(), 1, "doctor ran nothing");
}

#[test]
fn commands_kubectl_or_kubecredcache_cannot_find_are_not_served() {
    let s = Sandbox::new();
    kubeconfig(&s, "/nonexistent/kubecredcache", &wrapped_aws(), &[]);
    let (out, text) = doctor(&s, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text.contains("kubectl will not find /nonexistent/kubecredcache (not found)"),
        "{text}"
    );

    s.install();
    kubeconfig(
        &s,
        "kubecredcache",
        &["aws-iam-authenticator", "token", "-i", "c1"],
        &[("PATH", "/nonexistent")],
    );
    let (out, text) = doctor(&s, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text.contains("kubecredcache will not find aws-iam-authenticator"),
        "{text}"
    );

    kubeconfig(&s, "kubecredcache", &["status"], &[]);
    let (out, text) = doctor(&s, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text.contains("one of kubecredcache's own commands"), "{text}");
}

#[test]
fn kubecredcaches_own_options_in_the_entry_are_read_as_kubecredcache_reads_them() {
    let s = Sandbox::new();
    s.install();
    let mut generic = vec!["--generic", "--key-env", "VAULT_ADDR", "--"];
    generic.extend_from_slice(AWS);
    kubeconfig(&s, "kubecredcache", &generic, &[("VAULT_ADDR", "https://vault")]);
    let (code, json) = doctor_json(&s, &[]);
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["exec"]["provider"], "generic");
    assert_eq!(
        json["exec"]["options"],
        serde_json::json!(["--generic", "--key-env", "VAULT_ADDR", "--"])
    );
    assert!(
        !json.to_string().contains("https://vault"),
        "a --key-env value only as a digest"
    );

    let mut forced = vec!["--force-refresh", "--"];
    forced.extend_from_slice(AWS);
    kubeconfig(&s, "kubecredcache", &forced, &[]);
    let (out, text) = doctor(&s, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text.contains("every run fetches afresh"), "{text}");

    kubeconfig(&s, "kubecredcache", &wrapped_aws(), &[("KUBECREDCACHE_DISABLE", "1")]);
    let (out, text) = doctor(&s, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text.contains("KUBECREDCACHE_DISABLE is set"), "{text}");
}

#[test]
fn the_cache_directory_is_described_and_an_unusable_one_is_not_served() {
    let s = Sandbox::new();
    s.install();
    let shared = s.root.path().join("shared");
    fs::create_dir(&shared).unwrap();
    fs::write(shared.join("notes.txt"), "mine").unwrap();
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o700)).unwrap();
    kubeconfig(
        &s,
        "kubecredcache",
        &wrapped_aws(),
        &[("KUBECREDCACHE_DIR", shared.to_str().unwrap())],
    );
    let (out, text) = doctor(&s, &[]);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!("Cache directory {}: yours", shared.display()))
            && text.contains("mode 0700")
            && text.contains("1 that is not kubecredcache's (left alone): notes.txt"),
        "{text}"
    );
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o777)).unwrap();
    let (out, text) = doctor(&s, &[]);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("writable by others"), "{text}");
    let (_, json) = doctor_json(&s, &[]);
    assert_eq!(json["cache_dir"]["mode"], "0777");
    assert_eq!(json["cache_dir"]["files_not_ours"], serde_json::json!(["notes.txt"]));
}

#[test]
fn refresh_ahead_and_its_back_off_are_reported() {
    let mut s = Sandbox::new();
    s.install();
    // The sandbox turns refresh ahead off; the entry's env turns it on again.
    s.set("KUBECREDCACHE_REFRESH_AHEAD", "0").set("FAKE_LIFETIME", "400");
    kubeconfig(
        &s,
        "kubecredcache",
        &wrapped_aws(),
        &[("KUBECREDCACHE_REFRESH_AHEAD", "7m")],
    );
    s.ok(AWS);
    s.age_entries("c1", std::time::Duration::from_secs(600));
    let (code, json) = doctor_json(&s, &[]);
    assert_eq!(code, 0);
    assert_eq!(json["entry"]["state"], "expiring", "{json}");
    assert_eq!(json["entry"]["refresh"], "due");
    let hash = json["identity"]["key_hash"].as_str().unwrap();
    fs::write(s.cache.join(format!("refresh-{hash}.failed")), "{}").unwrap();
    let (code, json) = doctor_json(&s, &[]);
    assert_eq!(code, 0);
    assert_eq!(json["entry"]["refresh"], "backing off", "{json}");
    let (_, text) = doctor(&s, &[]);
    assert!(text.contains("the last refresh ahead failed"), "{text}");
}

#[test]
fn contexts_and_users_merge_as_kubectl_merges_them() {
    let mut s = Sandbox::new();
    s.install();
    let first = s.root.path().join("first");
    let second = s.root.path().join("second");
    fs::write(
        &first,
        "users:\n- name: u\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: kubecredcache, args: [aws-iam-authenticator, token, -i, c1]}\n",
    )
    .unwrap();
    fs::write(
        &second,
        "current-context: ctx\ncontexts:\n- name: ctx\n  context: {cluster: k, user: u}\n- name: other\n  context: {cluster: k, user: nobody}\n\
         users:\n- name: u\n  user: {token: shadowed}\n",
    )
    .unwrap();
    s.set(
        "KUBECONFIG",
        &format!(
            "{}:{}:{}",
            first.display(),
            s.root.path().join("missing").display(),
            second.display()
        ),
    );
    let (code, json) = doctor_json(&s, &[]);
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["context"], "ctx");
    assert_eq!(
        json["exec"]["provider"], "aws-iam-authenticator",
        "the first file's user wins"
    );
    assert_eq!(json["kubeconfig"], serde_json::json!([first, second]));
    let (code, json) = doctor_json(&s, &["--context", "other"]);
    assert_eq!(code, 1);
    assert!(json["problems"][0].as_str().unwrap().contains("user nobody"), "{json}");
    let (code, json) = doctor_json(&s, &["--context", "nope"]);
    assert_eq!(code, 1);
    assert!(
        json["verdict"].as_str().unwrap().contains("there is no context nope"),
        "{json}"
    );
    assert_eq!(json["exec"], Value::Null);
}

#[test]
fn a_kubeconfig_kubectl_cannot_read_is_a_one_line_error() {
    let s = Sandbox::new();
    let (code, json) = doctor_json(&s, &[]);
    assert_eq!(code, 1, "no kubeconfig at all");
    assert!(
        json["verdict"]
            .as_str()
            .unwrap()
            .contains("there is no kubeconfig file"),
        "{json}"
    );
    for args in [
        &["--kubeconfig", "/nonexistent"][..],
        &["--kubeconfig", "/etc/hostname"],
    ] {
        let (out, _) = doctor(&s, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(out.stdout.is_empty());
    }
}

/// The README's `$ kubecredcache doctor ...` examples, with the output shown under each.
fn readme_doctor_examples() -> Vec<(Vec<String>, Vec<String>)> {
    let readme = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    readme
        .split("```console\n")
        .skip(1)
        .filter_map(|block| {
            let mut lines = block.split("```").next().unwrap().lines();
            let args = lines.next()?.strip_prefix("$ kubecredcache doctor")?;
            let mut argv = vec!["doctor".to_string()];
            argv.extend(args.split_whitespace().map(String::from));
            Some((argv, lines.map(String::from).collect()))
        })
        .collect()
}

/// The README's examples: a healthy context, one whose user does not run kubecredcache,
/// and one whose SSO login expired, in a sandbox whose home is shown as /home/me and
/// whose `bin/` as /usr/local/bin.
#[test]
fn the_readme_shows_what_doctor_prints() {
    let s = Sandbox::new();
    s.install();
    // The AWS CLI, as it answers after `aws sso login` expired for the dev profile.
    crate::common::write_script(
        &s.bin.join("aws"),
        "#!/bin/bash\nif [ \"$AWS_PROFILE\" = dev ] && [ -e \"$HOME/sso-expired\" ]; then\n  echo >&2\n  echo 'Error when retrieving token from sso: Token has expired and refresh failed' >&2\n  exit 255\nfi\n\
         expires=$(date -u -d \"@$(( $(date +%s) + 900 ))\" +%Y-%m-%dT%H:%M:%SZ)\n\
         printf '{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"spec\":{},\"status\":{\"expirationTimestamp\":\"%s\",\"token\":\"k8s-aws-v1.x\"}}\\n' \"$expires\"\n",
    );
    let path = s.kube_config();
    let user = |name: &str, command: &str, args: &str, profile: &str| {
        format!(
            "- name: {name}\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: {command}\n      args: [{args}]\n      env: [{{name: AWS_PROFILE, value: {profile}}}]\n"
        )
    };
    let eks = |cluster: &str| format!("--region, us-west-2, eks, get-token, --cluster-name, {cluster}, --output, json");
    let mut config = String::from("apiVersion: v1\nkind: Config\ncurrent-context: prod\nclusters:\n");
    for (cluster, id) in [("prod", "A1B2"), ("staging", "C3D4"), ("dev", "E5F6")] {
        config.push_str(&format!(
            "- name: {cluster}\n  cluster: {{server: 'https://{id}.gr7.us-west-2.eks.amazonaws.com'}}\n"
        ));
    }
    config.push_str("contexts:\n");
    for cluster in ["prod", "staging", "dev"] {
        config.push_str(&format!(
            "- name: {cluster}\n  context: {{cluster: {cluster}, user: eks-{cluster}}}\n"
        ));
    }
    config.push_str("users:\n");
    config.push_str(&user(
        "eks-prod",
        "kubecredcache",
        &format!("aws, {}", eks("prod")),
        "prod",
    ));
    config.push_str(&user("eks-staging", "aws", &eks("staging"), "staging"));
    config.push_str(&user(
        "eks-dev",
        "kubecredcache",
        &format!("aws, {}", eks("dev")),
        "dev",
    ));
    fs::write(&path, config).unwrap();
    // The AWS CLI's files: its config written a month ago, the SSO login nine hours ago.
    let sso = s.home.join(".aws/sso/cache");
    fs::create_dir_all(&sso).unwrap();
    fs::write(s.home.join(".aws/config"), "[profile prod]\nsso_session = corp\n").unwrap();
    fs::write(sso.join("0123abcd.json"), "{}").unwrap();
    let ago = |hours: u64| std::time::SystemTime::now() - std::time::Duration::from_secs(hours * 3600);
    for (file, when) in [
        (s.home.join(".aws/config"), ago(30 * 24)),
        (sso.join("0123abcd.json"), ago(9)),
        (sso.clone(), ago(9)),
    ] {
        fs::File::open(&file).unwrap().set_modified(when).unwrap();
    }

    // kubectl's runs: prod fetched a moment ago; dev fetched, expired, and its login too.
    let kubectl_run = |profile: &str, cluster: &str| {
        let args = [
            "aws",
            "--region",
            "us-west-2",
            "eks",
            "get-token",
            "--cluster-name",
            cluster,
            "--output",
            "json",
        ];
        let mut cmd = s.command(&args);
        cmd.env("AWS_PROFILE", profile);
        cmd.output().unwrap()
    };
    assert!(kubectl_run("prod", "prod").status.success());
    assert!(kubectl_run("dev", "dev").status.success());
    s.make_stale("dev");
    fs::write(s.home.join("sso-expired"), "").unwrap();
    assert_eq!(kubectl_run("dev", "dev").status.code(), Some(255));

    let root = s.root.path().display().to_string();
    let shown = |text: &str| {
        text.replace(&format!("{root}/home"), "/home/me")
            .replace(&format!("{root}/bin"), "/usr/local/bin")
    };
    // Numbers (times, durations, ids) differ from run to run: compared as `N`.
    let numbers = |line: &str| {
        let mut out = String::new();
        let mut in_number = false;
        for c in line.chars() {
            if c.is_ascii_digit() {
                if !in_number {
                    out.push('N');
                }
                in_number = true;
            } else {
                out.push(c);
                in_number = false;
            }
        }
        out
    };
    let examples = readme_doctor_examples();
    assert_eq!(examples.len(), 3, "the README shows doctor for three contexts");
    for (argv, expected) in examples {
        let args: Vec<&str> = argv.iter().map(String::as_str).collect();
        let out = s.run(&args);
        let printed = shown(&String::from_utf8(out.stdout).unwrap());
        let matches = printed.lines().count() == expected.len()
            && printed.lines().zip(&expected).all(|(p, e)| numbers(p) == numbers(e));
        assert!(
            matches,
            "README.md shows for `kubecredcache {}`:\n{}\nthe binary prints:\n{printed}",
            argv.join(" "),
            expected.join("\n")
        );
    }
}

#[test]
fn a_credential_source_removed_since_the_fetch_makes_the_entry_stale_as_the_run_sees_it() {
    let s = Sandbox::new();
    s.install();
    kubeconfig(&s, "kubecredcache", &wrapped_aws(), &[]);
    fs::create_dir_all(s.home.join(".aws")).unwrap();
    fs::write(s.home.join(".aws/credentials"), "[default]\n").unwrap();
    token(&s.ok(AWS));
    assert_eq!(doctor_json(&s, &[]).1["entry"]["state"], "fresh");
    // A logout that deletes what the token came from.
    fs::remove_file(s.home.join(".aws/credentials")).unwrap();
    let (_, json) = doctor_json(&s, &[]);
    assert_eq!(json["entry"]["state"], "stale", "{json}");
    assert_eq!(json["entry"]["served_for_seconds"], 0);
    // The run agrees: it fetches again.
    token(&s.ok(AWS));
    assert_eq!(s.calls(), 2);
}

#[test]
fn a_wrapped_bare_name_that_the_entrys_path_finds_elsewhere_is_a_problem() {
    let s = Sandbox::new();
    s.install();
    let other = s.root.path().join("other-bin");
    fs::create_dir_all(&other).unwrap();
    crate::common::write_script(&other.join("aws"), "#!/bin/sh\nexit 1\n");
    let entry_path = format!("{}:/usr/bin:/bin", other.display());
    // As an older setup wrapped it: the bare name, under an env that sets PATH.
    kubeconfig(&s, "kubecredcache", &wrapped_aws(), &[("PATH", &entry_path)]);
    let (code, json) = doctor_json(&s, &[]);
    assert_eq!(code, 1, "{json}");
    let problems = json["problems"].to_string();
    assert!(
        problems.contains("kubecredcache runs aws from the PATH the entry's env sets")
            && problems.contains(other.join("aws").to_str().unwrap())
            && problems.contains(s.bin.join("aws").to_str().unwrap()),
        "{problems}"
    );
    // Written with the full path kubectl runs, it is fine.
    let mut full = wrapped_aws();
    let fake = s.bin.join("aws");
    full[0] = fake.to_str().unwrap();
    kubeconfig(&s, "kubecredcache", &full, &[("PATH", &entry_path)]);
    let (_, json) = doctor_json(&s, &[]);
    assert!(
        !json["problems"]
            .to_string()
            .contains("from the PATH the entry's env sets"),
        "{json}"
    );
}

/// Issue 20 ("also found"): a flag declared without a marking was keyed in clear, so
/// stored in the cache file and shown by `status` and `doctor`, where the same flag
/// undeclared was a digest. A value is now in clear only where its declaration says it
/// is fit to show: aws-iam-authenticator's `--external-id`, which the role's trust
/// policy checks, is not.
#[test]
fn a_declared_value_not_fit_to_show_is_a_digest_in_the_cache_status_and_doctor() {
    let s = Sandbox::new();
    s.install();
    let wrapped = [
        "aws-iam-authenticator",
        "token",
        "-i",
        "c1",
        "--external-id",
        "ext-id-kit-4711",
        "--region",
        "us-west-2",
    ];
    kubeconfig(&s, "kubecredcache", &wrapped, &[]);
    s.ok(&wrapped);
    s.ok(&wrapped);
    assert_eq!(s.calls(), 1, "cached");
    let status = s.ok(&["status"]);
    let status_json = s.ok(&["status", "--json"]);
    let (_, doctor_text) = doctor(&s, &[]);
    let (_, doctor_json) = doctor_json(&s, &[]);
    let stored: String = s
        .cache_files()
        .iter()
        .map(|name| fs::read_to_string(s.cache.join(name)).unwrap())
        .collect();
    assert!(stored.contains("external-id"), "the cache entry: {stored}");
    for (what, shown) in [
        ("the cache file", stored),
        ("status", status.clone()),
        ("status --json", status_json.clone()),
        ("doctor", doctor_text),
        ("doctor --json", doctor_json.to_string()),
    ] {
        assert!(!shown.contains("ext-id-kit-4711"), "{what}: {shown}");
    }
    let json: Value = serde_json::from_str(&status_json).unwrap();
    let external_id = json[0]["identity"]["external-id"].as_str().unwrap_or_default();
    assert!(external_id.starts_with("sha256:"), "{status_json}");
    assert_eq!(json[0]["identity"]["region"], "us-west-2", "fit to show: {status_json}");
    assert!(status.contains("region=us-west-2"), "{status}");
}

//! `setup` and `unsetup` must never leave a kubeconfig kubectl cannot run, never lose the
//! file they found, and never change who owns it: through the built binary, with real
//! kubectl where it matters.

use crate::common::api_server::ApiServer;
use crate::common::{Sandbox, as_nobody, host_tool};
use serde_norway::Value;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn copy_fixture(s: &Sandbox, fixture: &str) -> PathBuf {
    let path = s.kube_config();
    fs::copy(Path::new(FIXTURES).join(fixture), &path).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    path
}

fn exec_of(path: &Path, user: &str) -> Value {
    let doc: Value = serde_norway::from_slice(&fs::read(path).unwrap()).unwrap();
    doc["users"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|u| u["name"] == user)
        .unwrap_or_else(|| panic!("no user {user}"))["user"]["exec"]
        .clone()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// A one-line error with exit code 1.
fn one_line_error(out: &Output) -> String {
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr
}

fn this_binary() -> PathBuf {
    fs::canonicalize(crate::common::bin()).unwrap()
}

/// A kubeconfig with one context for `server`, whose user runs `command args` (a fake
/// authenticator from the sandbox), written to `path`.
fn kubeconfig_for(server: &ApiServer, path: &Path, command: &str, args: &[&str]) {
    let args: Vec<String> = args.iter().map(|a| format!("{a:?}")).collect();
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(
        path,
        format!(
            "# my cluster\napiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {}\n    certificate-authority: {}\n\
             users:\n- name: test\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: {command}\n      args: [{}]\n      interactiveMode: Never\n\
             contexts:\n- name: test\n  context: {{cluster: test, user: test}}\ncurrent-context: test\n",
            server.url(),
            server.ca_file.display(),
            args.join(", ")
        ),
    )
    .unwrap();
}

/// `kubectl get --raw /api` with `kubeconfig`, from `cwd`.
fn kubectl_get(s: &Sandbox, kubectl: &Path, kubeconfig: &Path, cwd: &Path) -> Output {
    let mut cmd = s.command_for(kubectl, &["get", "--raw", "/api"]);
    cmd.env("KUBECONFIG", kubeconfig).current_dir(cwd);
    cmd.output().unwrap()
}

#[test]
fn setup_from_outside_path_writes_a_command_kubectl_finds() {
    let Some(kubectl) = host_tool("kubectl") else { return };
    let s = Sandbox::new();
    let server = ApiServer::start(s.root.path(), |t| t.starts_with("fake-token-"));
    let path = s.home.join(".kube/config");
    kubeconfig_for(&server, &path, "aws", &["eks", "get-token", "--cluster-name", "c1"]);

    let dry = ok(&s.run(&["setup", "--dry-run"]));
    let full_path = this_binary();
    assert!(
        dry.contains(&format!("+      command: {}", full_path.display())),
        "the diff shows the command that will be written: {dry}"
    );
    assert!(dry.contains("by its full path: kubecredcache is not on PATH"), "{dry}");
    let out = ok(&s.run(&["setup"]));
    assert!(out.contains("by its full path: kubecredcache is not on PATH"), "{out}");
    assert_eq!(exec_of(&path, "test")["command"], full_path.to_str().unwrap());

    let run = kubectl_get(&s, &kubectl, &path, s.root.path());
    assert!(
        run.status.success(),
        "kubectl: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(s.calls(), 1);
    assert!(kubectl_get(&s, &kubectl, &path, s.root.path()).status.success());
    assert_eq!(s.calls(), 1, "the second run is served from the cache");
}

#[test]
fn a_kubecredcache_on_path_that_is_another_file_or_in_a_relative_directory_is_not_named() {
    let mut s = Sandbox::new();
    let path = copy_fixture(&s, "aws-update-kubeconfig-v1beta1.yaml");
    crate::common::write_script(&s.bin.join("kubecredcache"), "#!/bin/sh\nexit 1\n");
    let out = ok(&s.run(&["setup", "--dry-run"]));
    assert!(out.contains("is another file"), "{out}");
    assert!(out.contains(&format!("command: {}", this_binary().display())), "{out}");

    // `PATH=.:...` run from the binary's directory: Go's exec.LookPath (kubectl) refuses
    // a match in a relative directory.
    fs::remove_file(s.bin.join("kubecredcache")).unwrap();
    let here = s.root.path().join("download");
    fs::create_dir_all(&here).unwrap();
    std::os::unix::fs::symlink(crate::common::bin(), here.join("kubecredcache")).unwrap();
    s.set("PATH", &format!(".:{}:/usr/bin:/bin", s.bin.display()));
    let mut cmd = s.command(&["setup"]);
    cmd.current_dir(&here);
    let out = ok(&cmd.output().unwrap());
    assert!(out.contains("in a relative directory, which kubectl refuses"), "{out}");
    assert_eq!(
        exec_of(&path, "staging-user")["command"],
        this_binary().to_str().unwrap()
    );
}

#[test]
fn installed_on_path_it_is_written_by_name() {
    let s = Sandbox::new();
    let on_path = s.install();
    let path = copy_fixture(&s, "aws-update-kubeconfig-v1beta1.yaml");
    let out = ok(&s.run(&["setup"]));
    assert!(
        out.contains(&format!(
            "kubectl runs kubecredcache, found on PATH at {}",
            on_path.display()
        )),
        "{out}"
    );
    assert_eq!(exec_of(&path, "staging-user")["command"], "kubecredcache");
}

#[test]
fn unsetup_gives_back_an_entry_with_empty_args_or_env_byte_for_byte() {
    let s = Sandbox::new();
    s.install();
    crate::common::write_script(&s.bin.join("gke-gcloud-auth-plugin"), "#!/bin/sh\nexit 1\n");
    let path = s.kube_config();
    // `args: []` is no arguments to kubectl, as no `args` is; unwrapping writes none.
    let text = "apiVersion: v1\nkind: Config\nusers:\n- name: gke\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: gke-gcloud-auth-plugin\n      args: []  # none\n      env: []\n";
    fs::write(&path, text).unwrap();
    assert!(ok(&s.run(&["setup"])).contains("wrapped"));
    let out = ok(&s.run(&["unsetup"]));
    assert!(out.contains("restored"), "{out}");
    assert_eq!(fs::read_to_string(&path).unwrap(), text);
}

#[test]
fn unsetup_gives_back_the_original_byte_for_byte_and_never_overwrites_a_backup() {
    let s = Sandbox::new();
    s.install();
    let path = copy_fixture(&s, "aws-update-kubeconfig-v1beta1.yaml");
    let original = fs::read(&path).unwrap();
    assert!(
        String::from_utf8_lossy(&original).starts_with("# Written by"),
        "a file with comments"
    );
    let backup = PathBuf::from(format!("{}.kubecredcache.bak", path.display()));
    for round in 0..2 {
        ok(&s.run(&["setup"]));
        assert_eq!(fs::read(&backup).unwrap(), original, "round {round}");
        let out = ok(&s.run(&["unsetup"]));
        assert!(out.contains("restored") && out.contains("comments and all"), "{out}");
        assert_eq!(fs::read(&path).unwrap(), original, "round {round}: byte for byte");
        assert_eq!(
            fs::read(&backup).unwrap(),
            original,
            "round {round}: the backup is intact"
        );
    }

    // Something else changed after setup: unsetup cannot give the original back, and
    // says so; the original and the edited file are both kept.
    ok(&s.run(&["setup"]));
    let edited = fs::read_to_string(&path).unwrap().replace(
        "current-context: staging",
        "current-context: arn:aws:eks:us-west-2:111122223333:cluster/prod",
    );
    fs::write(&path, &edited).unwrap();
    let out = ok(&s.run(&["unsetup"]));
    assert!(!out.contains("restored"), "{out}");
    assert_eq!(exec_of(&path, "staging-user")["command"], "aws");
    assert_eq!(fs::read(&backup).unwrap(), original, "the original is never lost");
    let kept: Vec<Vec<u8>> = (1..10)
        .filter_map(|n| fs::read(format!("{}.{n}", backup.display())).ok())
        .collect();
    assert!(kept.contains(&edited.into_bytes()), "the edited file is kept too");
}

#[test]
fn a_missing_kubeconfig_or_user_is_an_error_and_nothing_is_written() {
    let mut s = Sandbox::new();
    s.install();
    let err = one_line_error(&s.run(&["setup", "--kubeconfig", "/nonexistent"]));
    assert!(err.contains("/nonexistent") && err.contains("no such file"), "{err}");
    let err = one_line_error(&s.run(&["setup"]));
    assert!(
        err.contains(".kube/config") && err.contains("does not exist"),
        "no ~/.kube/config: {err}"
    );

    let path = copy_fixture(&s, "mixed.yaml");
    let before = fs::read(&path).unwrap();
    for (users, says) in [
        (&["--user", "nobody"][..], "no user named 'nobody'"),
        (&["--user", "eks-prod", "--user", "nobody"], "no user named 'nobody'"),
        (&["--user", "static-token"], "user 'static-token' has no exec command"),
    ] {
        for command in ["setup", "unsetup"] {
            let mut args = vec![command];
            args.extend_from_slice(users);
            let err = one_line_error(&s.run(&args));
            assert!(err.contains(says) && err.contains("nothing written"), "{args:?}: {err}");
            assert_eq!(fs::read(&path).unwrap(), before, "{args:?}");
        }
    }
    assert!(!PathBuf::from(format!("{}.kubecredcache.bak", path.display())).exists());

    let missing = s.root.path().join("missing");
    s.set("KUBECONFIG", &format!("{}:{}", missing.display(), path.display()));
    let out = ok(&s.run(&["setup"]));
    assert!(
        out.contains(&format!("{}: no such file, skipped", missing.display())),
        "{out}"
    );
    assert!(out.contains("wrapped    eks-prod"), "{out}");
    s.set("KUBECONFIG", missing.to_str().unwrap());
    let err = one_line_error(&s.run(&["setup"]));
    assert!(err.contains("no kubeconfig to edit"), "{err}");
}

#[test]
fn root_keeps_the_owner_group_and_mode_of_a_users_kubeconfig() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        crate::common::skip("needs root to give a file to another user");
        return;
    }
    let s = Sandbox::new();
    s.install();
    let path = copy_fixture(&s, "aws-update-kubeconfig-v1beta1.yaml");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
    ok(&s.run(&["setup"]));
    let backup = PathBuf::from(format!("{}.kubecredcache.bak", path.display()));
    for file in [&path, &backup] {
        let meta = fs::metadata(file).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (65534, 65534), "{}", file.display());
        assert_eq!(meta.mode() & 0o777, 0o640, "{}", file.display());
    }
    assert_eq!(exec_of(&path, "staging-user")["command"], "kubecredcache");
    // The user can still read it.
    if let Some(mut cat) = as_nobody(&s.command_for(Path::new("/bin/cat"), &[path.to_str().unwrap()])) {
        let out = cat.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn a_file_whose_owner_cannot_be_kept_or_with_hard_links_is_refused() {
    let s = Sandbox::new();
    s.install();
    let path = copy_fixture(&s, "aws-update-kubeconfig-v1beta1.yaml");
    let before = fs::read(&path).unwrap();
    let link = s.root.path().join("other-name");
    fs::hard_link(&path, &link).unwrap();
    let err = one_line_error(&s.run(&["setup"]));
    assert!(err.contains("hard links"), "{err}");
    assert_eq!(fs::read(&path).unwrap(), before);
    fs::remove_file(&link).unwrap();

    // A user who may write a file of root's (mode 0666, in a directory of theirs) would
    // make it theirs by replacing it: refused.
    let dir = s.root.path().join("shared");
    fs::create_dir(&dir).unwrap();
    let theirs = dir.join("config");
    fs::copy(&path, &theirs).unwrap();
    fs::set_permissions(&theirs, fs::Permissions::from_mode(0o666)).unwrap();
    std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
    fs::set_permissions(s.root.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let Some(mut cmd) = as_nobody(&s.command(&["setup", "--kubeconfig", theirs.to_str().unwrap()])) else {
        return;
    };
    let err = one_line_error(&cmd.output().unwrap());
    assert!(err.contains("cannot give it to uid 0"), "{err}");
    assert_eq!(fs::read(&theirs).unwrap(), before);
    assert_eq!(fs::metadata(&theirs).unwrap().uid(), 0);
}

#[test]
fn unsetup_takes_off_kubecredcaches_own_options_and_leaves_what_it_cannot_read() {
    let s = Sandbox::new();
    let path = s.kube_config();
    fs::write(
        &path,
        "apiVersion: v1\nkind: Config\nusers:\n\
         - name: generic\n  user:\n    exec: {command: kubecredcache, args: [--generic, --key-env, VAULT_ADDR, --key-env=VAULT_TOKEN, --, vault-login, --role, dev]}\n\
         - name: forced\n  user:\n    exec: {command: /usr/local/bin/kubecredcache, args: [--force-refresh, --, aws, eks, get-token, --cluster-name, c]}\n\
         - name: dashed\n  user:\n    exec: {command: kubecredcache, args: [--, aws, eks, get-token, --cluster-name, c]}\n\
         - name: odd\n  user:\n    exec: {command: kubecredcache, args: [status]}\n",
    )
    .unwrap();
    let out = ok(&s.run(&["unsetup"]));
    assert!(
        out.contains(
            "unwrapped  generic (kubecredcache's options dropped: --generic --key-env VAULT_ADDR --key-env=VAULT_TOKEN)"
        ),
        "{out}"
    );
    assert!(
        out.contains("unwrapped  forced (kubecredcache's options dropped: --force-refresh)"),
        "{out}"
    );
    assert!(out.contains("unwrapped  dashed\n"), "{out}");
    assert!(
        out.contains("left alone odd: runs kubecredcache with arguments unsetup cannot take apart"),
        "{out}"
    );
    let generic = exec_of(&path, "generic");
    assert_eq!(generic["command"], "vault-login");
    assert_eq!(
        generic["args"],
        serde_norway::from_str::<Value>("[--role, dev]").unwrap()
    );
    for user in ["forced", "dashed"] {
        assert_eq!(exec_of(&path, user)["command"], "aws", "{user}");
        assert_eq!(exec_of(&path, user)["args"][0], "eks", "{user}");
    }
    assert_eq!(exec_of(&path, "odd")["command"], "kubecredcache");
}

#[test]
fn a_relative_command_is_made_absolute_and_kubectl_still_runs_it() {
    let Some(kubectl) = host_tool("kubectl") else { return };
    let s = Sandbox::new();
    s.install();
    let server = ApiServer::start(s.root.path(), |t| t.starts_with("fake-token-"));
    // kubectl runs `tools/aws-iam-authenticator` from the kubeconfig's directory.
    let dir = s.root.path().join("project");
    let path = dir.join("kubeconfig");
    fs::create_dir_all(dir.join("tools")).unwrap();
    fs::rename(
        s.bin.join("aws-iam-authenticator"),
        dir.join("tools/aws-iam-authenticator"),
    )
    .unwrap();
    kubeconfig_for(&server, &path, "tools/aws-iam-authenticator", &["token", "-i", "c1"]);
    let elsewhere = s.root.path().join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    assert!(
        kubectl_get(&s, &kubectl, &path, &elsewhere).status.success(),
        "bare, it runs"
    );

    let out = ok(&s.run(&["setup", "--kubeconfig", path.to_str().unwrap()]));
    let absolute = dir.join("tools/aws-iam-authenticator");
    assert!(
        out.contains(&format!(
            "command tools/aws-iam-authenticator -> {}",
            absolute.display()
        )),
        "{out}"
    );
    assert_eq!(exec_of(&path, "test")["args"][0], absolute.to_str().unwrap());
    let run = kubectl_get(&s, &kubectl, &path, &elsewhere);
    assert!(
        run.status.success(),
        "wrapped, it runs: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(kubectl_get(&s, &kubectl, &path, &elsewhere).status.success());
    assert_eq!(s.calls(), 2, "the bare run, then one fetch for two wrapped runs");
}

#[test]
fn strings_yaml_1_1_reads_as_booleans_or_numbers_stay_strings_for_kubectl() {
    let Some(kubectl) = host_tool("kubectl") else { return };
    let s = Sandbox::new();
    let server = ApiServer::start(s.root.path(), |t| t.starts_with("fake-token-"));
    let path = s.home.join(".kube/config");
    kubeconfig_for(
        &server,
        &path,
        "aws",
        &["eks", "get-token", "--cluster-name", "on", "--role-arn", "1_000"],
    );
    let text = fs::read_to_string(&path).unwrap().replace(
        "      interactiveMode: Never\n",
        "      interactiveMode: Never\n      env: [{name: FAKE_MARKER, value: 'off'}, {name: OTHER, value: \"yes\"}]\n",
    );
    fs::write(&path, text).unwrap();
    assert!(
        kubectl_get(&s, &kubectl, &path, s.root.path()).status.success(),
        "kubectl reads the original"
    );

    ok(&s.run(&["setup"]));
    let exec = exec_of(&path, "test");
    assert_eq!(exec["env"][0]["value"], "off");
    let run = kubectl_get(&s, &kubectl, &path, s.root.path());
    assert!(
        run.status.success(),
        "kubectl cannot read what setup wrote: {}\n{}",
        String::from_utf8_lossy(&run.stderr),
        fs::read_to_string(&path).unwrap()
    );
}

#[test]
fn a_command_named_in_an_entry_that_sets_path_is_the_one_kubectl_ran() {
    let Some(kubectl) = host_tool("kubectl") else { return };
    let s = Sandbox::new();
    let server = ApiServer::start(s.root.path(), |t| t.starts_with("fake-token-"));
    // The entry's PATH is for what the plugin runs; kubectl itself finds `aws` on its
    // own PATH (the sandbox's fake). Another `aws` on the entry's PATH answers wrongly.
    let other = s.root.path().join("other-bin");
    fs::create_dir_all(&other).unwrap();
    crate::common::write_script(
        &other.join("aws"),
        "#!/bin/sh\necho '{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"status\":{\"token\":\"wrong-identity\"}}'\n",
    );
    let path = s.home.join(".kube/config");
    kubeconfig_for(&server, &path, "aws", &["eks", "get-token", "--cluster-name", "c1"]);
    let text = fs::read_to_string(&path).unwrap().replace(
        "      interactiveMode: Never\n",
        &format!(
            "      interactiveMode: Never\n      env: [{{name: PATH, value: '{}:/usr/bin:/bin'}}]\n",
            other.display()
        ),
    );
    fs::write(&path, text).unwrap();
    assert!(
        kubectl_get(&s, &kubectl, &path, s.root.path()).status.success(),
        "bare, kubectl runs the sandbox's aws"
    );

    // Run where `aws` is not on PATH (sudo's secure_path, cron): which file kubectl runs
    // is unknown, so the entry is left alone rather than wrapped to run the other one.
    let text = fs::read_to_string(&path).unwrap();
    let empty = s.root.path().join("empty");
    fs::create_dir_all(&empty).unwrap();
    let mut elsewhere = s.command(&["setup"]);
    elsewhere.env("PATH", &empty);
    let out = ok(&elsewhere.output().unwrap());
    assert!(
        out.contains("left alone test: its env sets PATH, and 'aws' is not on this PATH"),
        "{out}"
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), text, "nothing written");

    let out = ok(&s.run(&["setup"]));
    let fake = s.bin.join("aws");
    assert!(out.contains(&format!("command aws -> {}", fake.display())), "{out}");
    assert_eq!(exec_of(&path, "test")["args"][0], fake.to_str().unwrap());
    let run = kubectl_get(&s, &kubectl, &path, s.root.path());
    assert!(
        run.status.success(),
        "kubectl: {}",
        String::from_utf8_lossy(&run.stderr)
    );

    // unsetup gives back the file as it was: to kubectl, `aws` and its full path are
    // the same command here.
    let original = fs::read_to_string(path.with_file_name("config.kubecredcache.bak")).unwrap();
    ok(&s.run(&["unsetup"]));
    assert_eq!(fs::read_to_string(&path).unwrap(), original);
}

#[test]
fn yaml_1_1_booleans_and_merge_keys_mean_to_kubectl_after_setup_what_they_meant_before() {
    let Some(kubectl) = host_tool("kubectl") else { return };
    let s = Sandbox::new();
    let server = ApiServer::start(s.root.path(), |t| t.starts_with("fake-token-"));
    let path = s.kube_config();
    // Written by hand, as kubectl reads it: `yes`/`on` are booleans, `<<` merges.
    fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\npreferences: {{colors: off}}\nclusters:\n- name: test\n  cluster:\n    server: {}\n    certificate-authority: {}\n    disable-compression: yes\n\
             x-defaults: {{marker: &marker {{name: FAKE_MARKER, value: 'yes'}}}}\n\
             users:\n- name: test\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws\n      args: [eks, get-token, --cluster-name, c1]\n      provideClusterInfo: on\n      interactiveMode: Never\n      env: [{{<<: *marker, value: 'no'}}]\n\
             contexts:\n- name: test\n  context: {{cluster: test, user: test}}\ncurrent-context: test\n",
            server.url(),
            server.ca_file.display(),
        ),
    )
    .unwrap();
    let view = |s: &Sandbox| {
        let out = kubectl_view(s, &kubectl, &path);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let before = view(&s);
    assert_eq!(before["clusters"][0]["cluster"]["disable-compression"], true);
    assert!(kubectl_get(&s, &kubectl, &path, s.root.path()).status.success());
    let bare = s.calls();

    ok(&s.run(&["setup"]));
    let after = view(&s);
    assert_eq!(after["clusters"], before["clusters"]);
    assert_eq!(after["preferences"], before["preferences"]);
    let exec = &after["users"][0]["user"]["exec"];
    assert_eq!(exec["provideClusterInfo"], true);
    assert_eq!(exec["args"][0], "aws", "the command, wrapped: {exec}");
    assert_eq!(exec["env"], before["users"][0]["user"]["exec"]["env"]);
    assert_eq!(exec["env"][0]["value"], "no");
    let run = kubectl_get(&s, &kubectl, &path, s.root.path());
    assert!(
        run.status.success(),
        "kubectl: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(s.calls(), bare + 1);
    assert!(kubectl_get(&s, &kubectl, &path, s.root.path()).status.success());
    assert_eq!(s.calls(), bare + 1, "served from the cache");
}

#[test]
fn a_value_whose_reading_kubecredcache_cannot_be_sure_of_is_refused_and_nothing_is_written() {
    let s = Sandbox::new();
    let path = copy_fixture(&s, "aws-update-kubeconfig-v1beta1.yaml");
    let text = fs::read_to_string(&path).unwrap().replacen(
        "clusters:\n",
        "extensions:\n- name: team\n  extension: {managed: !team yes, label: 'yes'}\nclusters:\n",
        1,
    );
    fs::write(&path, &text).unwrap();
    let err = one_line_error(&s.run(&["setup"]));
    assert!(err.contains("'yes'") && err.contains("!team"), "{err}");
    assert_eq!(fs::read_to_string(&path).unwrap(), text);
}

/// `kubectl config view --raw -o json` of `path`, as it ran.
fn kubectl_view(s: &Sandbox, kubectl: &Path, path: &Path) -> std::process::Output {
    let mut cmd = s.command_for(kubectl, &["config", "view", "--raw", "-o", "json"]);
    cmd.env("KUBECONFIG", path);
    cmd.output().unwrap()
}

/// `kubectl config view --raw -o json` of `path`, with every exec entry that runs
/// kubecredcache given back its own command and arguments: what kubectl makes of the
/// file, but for the wrapping.
fn kubectls_reading(s: &Sandbox, kubectl: &Path, path: &Path) -> serde_json::Value {
    let out = kubectl_view(s, kubectl, path);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut view: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for user in view["users"].as_array_mut().into_iter().flatten() {
        let exec = &mut user["user"]["exec"];
        if exec["command"].as_str().is_some_and(|c| c.ends_with("kubecredcache")) {
            let mut args = exec["args"].as_array().unwrap().clone();
            exec["command"] = args.remove(0);
            exec["args"] = if args.is_empty() {
                serde_json::Value::Null
            } else {
                args.into()
            };
        }
    }
    view
}

#[test]
fn kubectl_reads_every_field_after_setup_as_before_merges_and_yaml_1_1_words_included() {
    let Some(kubectl) = host_tool("kubectl") else { return };
    let s = Sandbox::new();
    let path = s.kube_config();
    // Merges within merges, a merge after explicit keys (it overwrites them) and before
    // them, a list of merges, YAML 1.1 booleans unquoted in boolean fields and quoted in
    // string fields and extensions, JSON-style quoting.
    let text = "apiVersion: v1\nkind: Config\n\
        x-defaults:\n  base: &base {apiVersion: client.authentication.k8s.io/v1beta1, command: aws, args: [eks, get-token, --cluster-name, base]}\n  \
        mid: &mid {<<: *base, args: [eks, get-token, --cluster-name, mid]}\n  dev: &dev {args: [eks, get-token, --cluster-name, dev], env: [{name: AWS_PROFILE, value: dev}]}\n  \
        tls: &tls {server: 'https://base.example.com', insecure-skip-tls-verify: yes}\n\
        preferences: {colors: off}\n\
        clusters:\n- name: c1\n  cluster: {server: 'https://prod.example.com', <<: *tls}\n- name: c2\n  cluster:\n    <<: [*tls, {server: 'https://second.example.com', disable-compression: on}]\n    \
        extensions:\n    - name: team\n      extension: {\"audience\": \"ON\", \"count\": \"1_000\"}\n\
        users:\n- name: nested\n  user: {exec: {<<: *mid, env: [{name: AWS_PROFILE, value: p}]}}\n\
        - name: before\n  user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: aws, args: [eks, get-token, --cluster-name, prod], env: [{name: AWS_PROFILE, value: prod}], <<: *dev}}\n\
        - name: after\n  user: {exec: {<<: *base, env: [{name: FLAG, value: 'no'}]}}\n\
        - name: plain\n  user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: aws, args: [eks, get-token, --cluster-name, plain], env: [{<<: *dev, name: AWS_PROFILE}]}}\n\
        contexts:\n- name: c\n  context: {cluster: c1, user: nested}\ncurrent-context: c\n";
    fs::write(&path, text).unwrap();
    let before = kubectls_reading(&s, &kubectl, &path);
    assert_eq!(
        before["users"][1]["user"]["exec"]["args"][3], "dev",
        "kubectl's own reading of the merge"
    );

    // An entry whose command or args come from a merge cannot be edited where it is
    // written: the file is refused, in one line naming the place, and left alone.
    let err = one_line_error(&s.run(&["setup"]));
    assert!(
        err.contains("user 'nested'") && err.contains("a merge key (<<) in users[0].user.exec"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), text);
    // The entry written out in full is wrapped, and kubectl reads the rest as before.
    let out = ok(&s.run(&["setup", "--user", "plain"]));
    assert_eq!(out.matches("wrapped    ").count(), 1, "{out}");
    let after = kubectls_reading(&s, &kubectl, &path);
    assert_eq!(after, before, "{}", fs::read_to_string(&path).unwrap());
}

#[test]
fn kubectl_reads_tagged_block_and_escaped_scalars_and_a_str_merge_key_after_setup_as_before() {
    let Some(kubectl) = host_tool("kubectl") else { return };
    let s = Sandbox::new();
    let path = s.kube_config();
    // What the text alone cannot tell: `!!str on` and a block `on` are strings, plain `on`
    // elsewhere is a boolean; a `!!str <<` key merges nothing (kubectl sees no env);
    // `017` and `1_000.5` in an extension are go-yaml v2's numbers.
    let text = "apiVersion: v1\nkind: Config\npreferences: {colors: on}\n\
        x: {profile: &profile {env: [{name: AWS_PROFILE, value: prod}]}}\n\
        clusters:\n- name: c1\n  cluster:\n    server: https://prod.example.com\n    extensions:\n    - name: team\n      extension: {a: 017, b: 1_000.5, c: \"y\\x65s\", d: '017'}\n\
        users:\n- name: tagged\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws\n      args: [eks, get-token, --cluster-name, prod]\n      env:\n      - {name: A, value: !!str on}\n      - name: B\n        value: >-\n          on\n      - name: C\n        value: |-\n          yes\n\
        - name: strmerge\n  user:\n    exec: {!!str <<: *profile, apiVersion: client.authentication.k8s.io/v1beta1, command: aws, args: [eks, get-token, --cluster-name, c]}\n\
        contexts:\n- name: c\n  context: {cluster: c1, user: tagged}\ncurrent-context: c\n";
    fs::write(&path, text).unwrap();
    let before = kubectls_reading(&s, &kubectl, &path);
    // kubectl lists users by name: strmerge, then tagged.
    assert_eq!(
        before["users"][1]["user"]["exec"]["env"][0]["value"], "on",
        "kubectl's own reading"
    );
    assert!(
        before["users"][0]["user"]["exec"]["env"].is_null(),
        "kubectl merges nothing: {before}"
    );

    let out = ok(&s.run(&["setup"]));
    assert_eq!(out.matches("wrapped    ").count(), 2, "{out}");
    let after = kubectls_reading(&s, &kubectl, &path);
    assert_eq!(after, before, "{}", fs::read_to_string(&path).unwrap());
}

#[test]
fn a_file_kubectl_refuses_is_refused_by_setup_and_left_as_it_is() {
    let Some(kubectl) = host_tool("kubectl") else { return };
    let s = Sandbox::new();
    let path = s.kube_config();
    let user = "users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws\n      args: [eks, get-token, --cluster-name, c]\n";
    // Each is a file libyaml reads and go-yaml v2 does not; the first, read, would have
    // given the entry an AWS_PROFILE.
    let cases = [
        format!("x-envs: &envs [{{env: [{{name: AWS_PROFILE, value: prod}}]}}]\n{user}      <<: *envs\n"),
        format!("%YAML 1.2\n---\n{user}"),
        user.replace("cluster-name, c]", "cluster-name, c?d]"),
        format!("preferences: {{extensions: [{{name: a, extension: {{b: \"x\\/y\"}}}}]}}\n{user}"),
        format!(
            "x: &a [{}]\ny: [{}]\n{user}",
            ["x"; 1000].join(", "),
            ["*a"; 200].join(", ")
        ),
    ];
    for text in cases {
        fs::write(&path, &text).unwrap();
        assert!(
            !kubectl_view(&s, &kubectl, &path).status.success(),
            "kubectl refuses:\n{text}"
        );
        let err = one_line_error(&s.run(&["setup"]));
        assert!(err.contains("not a kubeconfig kubecredcache reads"), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), text);
    }
}

#[test]
fn a_file_kubectl_refuses_for_a_written_boolean_word_is_not_made_to_skip_tls_verification() {
    let Some(kubectl) = host_tool("kubectl") else { return };
    let s = Sandbox::new();
    let path = copy_fixture(&s, "aws-update-kubeconfig-v1beta1.yaml");
    for value in ["!!str yes", "\"y\\x65s\"", "|-\n      yes"] {
        let text = fs::read_to_string(Path::new(FIXTURES).join("aws-update-kubeconfig-v1beta1.yaml"))
            .unwrap()
            .replacen(
                "    server:",
                &format!("    insecure-skip-tls-verify: {value}\n    server:"),
                1,
            );
        // A plain `yes` elsewhere, so the text has the word written both ways.
        let text = text.replacen("preferences: {}", "preferences: {colors: yes}", 1);
        fs::write(&path, &text).unwrap();
        assert!(
            !kubectl_view(&s, &kubectl, &path).status.success(),
            "{value}: kubectl refuses the file before setup"
        );
        let _ = s.run(&["setup"]);
        let after = kubectl_view(&s, &kubectl, &path);
        let read: serde_json::Value = serde_json::from_slice(&after.stdout).unwrap_or_default();
        assert!(
            !after.status.success() && read.is_null(),
            "{value}: setup made kubectl read {read}\n{}",
            fs::read_to_string(&path).unwrap()
        );
        let _ = fs::remove_file(&path);
        for backup in fs::read_dir(path.parent().unwrap()).unwrap().flatten() {
            let _ = fs::remove_file(backup.path());
        }
    }
}

#[test]
fn a_file_kubectl_refuses_for_a_name_twice_in_a_list_is_refused_and_left_as_it_is() {
    let s = Sandbox::new();
    s.install();
    let path = s.kube_config();
    let user = |name: &str| {
        format!(
            "- name: {name}\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: gke-gcloud-auth-plugin\n"
        )
    };
    // kubectl: `duplicate name "u" in list` (a missing name is ""), or a name that is
    // not a string, refuses the whole file.
    let cases = [
        format!("users:\n{}{}", user("u"), user("'u'")),
        format!("users:\n{}", user("v").replace("- name: v\n ", "-").repeat(2)),
        format!("users:\n{}{}", user("u"), user("1")),
        format!(
            "clusters:\n- {{name: c, cluster: {{server: 'https://a'}}}}\n- {{name: c, cluster: {{server: 'https://b'}}}}\nusers:\n{}",
            user("u")
        ),
        format!(
            "users:\n{}contexts: [{{name: x, context: {{user: u}}}}, {{name: x, context: {{}}}}]\n",
            user("u")
        ),
        format!(
            "users:\n{}extensions: [{{name: e, extension: {{}}}}, {{name: e, extension: {{}}}}]\n",
            user("u")
        ),
        format!(
            "preferences: {{extensions: [{{name: e, extension: {{}}}}, {{name: e, extension: {{}}}}]}}\nusers:\n{}",
            user("u")
        ),
        format!("users:\n{}", user("u")).replace(
            "    exec:",
            "    extensions: [{name: e, extension: {}}, {name: e, extension: {}}]\n    exec:",
        ),
    ];
    let kubectl = host_tool("kubectl");
    for text in cases {
        fs::write(&path, &text).unwrap();
        if let Some(kubectl) = &kubectl {
            assert!(
                !kubectl_view(&s, kubectl, &path).status.success(),
                "kubectl refuses {text}"
            );
        }
        let out = s.run(&["setup"]);
        assert_eq!(out.status.code(), Some(1), "{text}");
        let err = one_line_error(&out);
        assert!(
            err.contains("kubectl refuses it") && err.contains("nothing written"),
            "{err}"
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), text, "left as it was");
        assert!(replace_backups(&path).is_empty(), "{text}");
    }
}

#[test]
fn a_kubeconfig_written_as_json_stays_json_through_setup_and_unsetup() {
    let s = Sandbox::new();
    s.install();
    let path = s.kube_config();
    let exec = |command: &str, args: &str| {
        format!(r#"{{"apiVersion":"client.authentication.k8s.io/v1beta1","command":"{command}"{args}}}"#)
    };
    let user = |name: &str, exec: String| format!(r#"{{"name":"{name}","user":{{"exec":{exec}}}}}"#);
    let original = format!(
        r#"{{"apiVersion":"v1","kind":"Config","users":[{},{}]}}"#,
        user(
            "eks",
            exec("aws", r#","args":["eks","get-token","--cluster-name","prod"]"#)
        ),
        user("gke", exec("gke-gcloud-auth-plugin", "")),
    );
    fs::write(&path, &original).unwrap();
    ok(&s.run(&["setup"]));
    let wrapped = fs::read_to_string(&path).unwrap();
    let read: serde_json::Value =
        serde_json::from_str(&wrapped).unwrap_or_else(|e| panic!("not JSON after setup ({e}):\n{wrapped}"));
    assert_eq!(read["users"][0]["user"]["exec"]["args"][0], "aws", "{wrapped}");
    assert_eq!(
        read["users"][1]["user"]["exec"]["args"][0], "gke-gcloud-auth-plugin",
        "{wrapped}"
    );
    // Without the backup, unsetup edits in place: JSON still.
    for backup in replace_backups(&path) {
        fs::remove_file(backup).unwrap();
    }
    ok(&s.run(&["unsetup"]));
    let unwrapped = fs::read_to_string(&path).unwrap();
    let read: serde_json::Value =
        serde_json::from_str(&unwrapped).unwrap_or_else(|e| panic!("not JSON after unsetup ({e}):\n{unwrapped}"));
    assert_eq!(read["users"][0]["user"]["exec"]["command"], "aws", "{unwrapped}");
}

#[test]
fn lines_ended_by_a_lone_carriage_return_or_a_unicode_separator_are_lines_to_setup_too() {
    let s = Sandbox::new();
    s.install();
    let path = s.kube_config();
    // YAML ends a line at `\r` alone (old Mac files), NEL, U+2028 and U+2029, as at `\n`:
    // a new `args` line goes after the command's line, at its key's column.
    let exec = "users:\n- name: u\n  user:\n    exec: # gke\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: gke-gcloud-auth-plugin # the plugin\n      interactiveMode: Never\n";
    for newline in ["\r", "\u{85}", "\u{2028}", "\u{2029}"] {
        let original = exec.replace('\n', newline);
        fs::write(&path, &original).unwrap();
        ok(&s.run(&["setup"]));
        let wrapped = original.replace(
            &format!("command: gke-gcloud-auth-plugin # the plugin{newline}"),
            &format!("command: kubecredcache # the plugin{newline}      args: [gke-gcloud-auth-plugin]{newline}"),
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), wrapped, "{newline:?}");
        for backup in replace_backups(&path) {
            fs::remove_file(backup).unwrap();
        }
        // A block scalar's value ends before the line breaks after it, whichever they are.
        let block = |command: &str| {
            exec.replace(
                "command: gke-gcloud-auth-plugin # the plugin\n",
                &format!("command: {command}\n      # the plugin\n"),
            )
            .replace('\n', newline)
        };
        fs::write(&path, block("|-\n        gke-gcloud-auth-plugin")).unwrap();
        ok(&s.run(&["setup"]));
        let wrapped = block("kubecredcache\n      args: [gke-gcloud-auth-plugin]");
        assert_eq!(fs::read_to_string(&path).unwrap(), wrapped, "{newline:?}");
        for backup in replace_backups(&path) {
            fs::remove_file(backup).unwrap();
        }
    }
}

#[test]
fn setup_changes_only_the_wrapped_values_and_every_other_byte_stays() {
    let s = Sandbox::new();
    s.install();
    crate::common::write_script(&s.bin.join("gke-gcloud-auth-plugin"), "#!/bin/sh\nexit 1\n");
    let path = s.kube_config();
    // Comments before, inside and after the exec entries; every quoting style; a block
    // list, a flow mapping and an entry that is not ours; YAML 1.1 words; a BOM.
    let original = "\u{feff}# Clusters of the team  \n\
        apiVersion: v1\nkind: Config\n\
        clusters:\n- name: 'prod'   # production\n  cluster: {server: \"https://prod.example.com\", insecure-skip-tls-verify: yes}\n\
        users:\n\
        # the EKS user\n\
        - name: \"eks\"\n  user:\n    exec:\n      # refreshed hourly\n      apiVersion: client.authentication.k8s.io/v1alpha1   # old\n      command: aws  # the CLI\n      args:\n      - eks\n      - get-token\n      - --cluster-name\n      - 'prod'  # quoted\n      env:\n      - {name: AWS_PROFILE, value: \"on\"}  # a word\n      interactiveMode: Never\n\
        - name: gke\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: 'gke-gcloud-auth-plugin', provideClusterInfo: on}  # flow\n\
        - name: other\n  user:\n    exec:\n      command: some-plugin   # not ours\n\
        contexts:\n- {name: prod, context: {cluster: prod, user: eks}}\ncurrent-context: prod\n\
        # the end\n";
    let wrapped = original
        .replace("v1alpha1   # old", "v1beta1   # old")
        .replace(
            "command: aws  # the CLI\n      args:\n      - eks\n      - get-token\n      - --cluster-name\n      - 'prod'",
            "command: kubecredcache  # the CLI\n      args:\n      - aws\n      - eks\n      - get-token\n      - --cluster-name\n      - 'prod'",
        )
        .replace(
            "command: 'gke-gcloud-auth-plugin',",
            "command: kubecredcache, args: [gke-gcloud-auth-plugin],",
        );
    for newline in ["\n", "\r\n"] {
        let (original, wrapped) = (original.replace('\n', newline), wrapped.replace('\n', newline));
        fs::write(&path, &original).unwrap();
        let out = ok(&s.run(&["setup"]));
        assert_eq!(out.matches("wrapped    ").count(), 2, "{out}");
        assert_eq!(fs::read_to_string(&path).unwrap(), wrapped, "{newline:?}");
        assert!(ok(&s.run(&["unsetup"])).contains("comments and all"));
        assert_eq!(fs::read_to_string(&path).unwrap(), original, "{newline:?}");
        // Edited since setup: unsetup takes the entries apart in place, and the edit
        // and everything else stay as they are.
        ok(&s.run(&["setup"]));
        let edited = format!("{wrapped}# added later{newline}");
        fs::write(&path, &edited).unwrap();
        let out = ok(&s.run(&["unsetup"]));
        assert_eq!(out.matches("unwrapped  ").count(), 2, "{out}");
        assert!(!out.contains("restored"), "{out}");
        let unwrapped = edited
            .replace("command: kubecredcache  # the CLI", "command: aws  # the CLI")
            .replace("      - aws\n", "")
            .replace("      - aws\r\n", "")
            .replace(
                "command: kubecredcache, args: [gke-gcloud-auth-plugin],",
                "command: gke-gcloud-auth-plugin, args: [],",
            );
        assert_eq!(fs::read_to_string(&path).unwrap(), unwrapped, "{newline:?}");
        for backup in replace_backups(&path) {
            fs::remove_file(backup).unwrap();
        }
    }
}

#[test]
fn comments_among_the_args_stay_through_setup_and_unsetup_in_place() {
    let s = Sandbox::new();
    s.install();
    let path = s.kube_config();
    let original = "users:\n- name: eks\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws\n      args:\n      # what aws runs\n      - eks  # the service\n      - get-token\n      # which cluster\n      - --cluster-name\n      - \"prod\"  # quoted\n";
    fs::write(&path, original).unwrap();
    ok(&s.run(&["setup"]));
    let wrapped = original
        .replace("command: aws", "command: kubecredcache")
        .replace("# what aws runs\n", "# what aws runs\n      - aws\n");
    assert_eq!(fs::read_to_string(&path).unwrap(), wrapped);
    // Without the backup, unsetup takes the entry apart in place: the same comments.
    for backup in replace_backups(&path) {
        fs::remove_file(backup).unwrap();
    }
    ok(&s.run(&["unsetup"]));
    assert_eq!(fs::read_to_string(&path).unwrap(), original);
}

/// The backups beside `path`.
fn replace_backups(path: &Path) -> Vec<PathBuf> {
    fs::read_dir(path.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains(".kubecredcache.bak"))
        .collect()
}

#[test]
fn an_exec_entry_reached_through_an_anchor_an_alias_or_a_tag_is_refused_and_nothing_is_written() {
    let s = Sandbox::new();
    s.install();
    let path = s.kube_config();
    let exec = "{command: aws, args: [eks, get-token, --cluster-name, c]}";
    // Edited in place, the first would wrap user b too; the others are edits of a
    // node written elsewhere, or one whose tag decides what it is.
    let cases = [
        (
            format!("- name: a\n  user:\n    exec: &aws {exec}\n- name: b\n  user:\n    exec: *aws\n"),
            "user 'a': its exec entry is reached through an anchor at users[0].user.exec",
        ),
        (
            format!("- name: a\n  user: !!map\n    exec: {exec}\n"),
            "user 'a': its exec entry is reached through a tag at users[0].user",
        ),
        (
            "- name: a\n  user:\n    exec: {command: aws, args: &args [eks, get-token, --cluster-name, c]}\nx: *args\n"
                .into(),
            "user 'a': its exec entry is reached through an anchor at users[0].user.exec.args,",
        ),
    ];
    for (users, says) in cases {
        let text = format!("apiVersion: v1\nkind: Config\nusers:\n{users}");
        fs::write(&path, &text).unwrap();
        let err = one_line_error(&s.run(&["setup"]));
        assert!(err.contains(says), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), text);
        assert!(replace_backups(&path).is_empty(), "nothing written");
    }
}

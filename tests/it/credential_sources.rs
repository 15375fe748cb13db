//! A new sign-in fetches afresh, for every provider: the files each one's authenticator
//! keeps its credentials in, rewritten (or removed) as a login, a logout, a session
//! refresh or a switch of account would, through the built binary with fake
//! authenticators. Files that are not sources change nothing.

use crate::common::{AWS, IAM, Sandbox, token};
use std::fs;
use std::path::Path;

fn write(path: &Path, body: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, body).unwrap();
}

/// Runs `args` twice: the first fetches a new token (one more call), the second hits.
/// Returns the token.
fn fetches_afresh(s: &Sandbox, args: &[&str], previous: Option<&str>, what: &str) -> String {
    let calls = s.calls();
    let t = token(&s.ok(args));
    assert_eq!(s.calls(), calls + 1, "{what}: fetched afresh");
    if let Some(previous) = previous {
        assert_ne!(t, previous, "{what}");
    }
    assert_eq!(token(&s.ok(args)), t, "{what}: then served from the cache");
    assert_eq!(s.calls(), calls + 1, "{what}: one fetch");
    t
}

fn served(s: &Sandbox, args: &[&str], previous: &str, what: &str) {
    let calls = s.calls();
    assert_eq!(token(&s.ok(args)), previous, "{what} changes nothing");
    assert_eq!(s.calls(), calls, "{what} changes nothing");
}

const GKE: &[&str] = &["gke-gcloud-auth-plugin"];

#[test]
fn gke_a_login_a_logout_or_another_account_fetches_afresh() {
    let s = Sandbox::new();
    s.fake("gke-gcloud-auth-plugin");
    let gcloud = s.home.join(".config/gcloud");
    write(
        &gcloud.join("configurations/config_default"),
        "[core]\naccount = a@example.com\n",
    );
    write(&gcloud.join("active_config"), "default");
    write(&gcloud.join("credentials.db"), "a@example.com");
    write(&gcloud.join("access_tokens.db"), "token-1");
    write(&gcloud.join("legacy_credentials/a@example.com/adc.json"), "{}");
    let mut t = fetches_afresh(&s, GKE, None, "the first run");
    write(&gcloud.join("logs/2026.01.01/10.00.00.log"), "gcloud ran");
    write(&s.home.join(".config/other-tool/state"), "x");
    served(&s, GKE, &t, "a log file");
    // `gcloud auth login`: the credential database, a legacy credential directory.
    write(&gcloud.join("credentials.db"), "a@example.com b@example.com");
    t = fetches_afresh(&s, GKE, Some(&t), "credentials.db rewritten");
    write(&gcloud.join("legacy_credentials/b@example.com/adc.json"), "{}");
    t = fetches_afresh(&s, GKE, Some(&t), "a new legacy credential");
    // A token refreshed by another gcloud command.
    write(&gcloud.join("access_tokens.db"), "token-2");
    t = fetches_afresh(&s, GKE, Some(&t), "access_tokens.db rewritten");
    // `gcloud auth revoke` deletes the access-token database.
    fs::remove_file(gcloud.join("access_tokens.db")).unwrap();
    t = fetches_afresh(&s, GKE, Some(&t), "access_tokens.db removed");
    // `gcloud config set auth/impersonate_service_account`: the configuration file.
    write(
        &gcloud.join("configurations/config_default"),
        "[core]\naccount = a@example.com\n[auth]\nimpersonate_service_account = sa@p.iam.gserviceaccount.com\n",
    );
    t = fetches_afresh(&s, GKE, Some(&t), "impersonation configured");
    let status = s.ok(&["status"]);
    assert!(
        status.contains("impersonate-service-account=sa@p.iam.gserviceaccount.com"),
        "{status}"
    );
    // `gcloud config configurations activate other`.
    write(
        &gcloud.join("configurations/config_other"),
        "[core]\naccount = b@example.com\n",
    );
    write(&gcloud.join("active_config"), "other");
    fetches_afresh(&s, GKE, Some(&t), "another configuration");
}

#[test]
fn gke_follows_cloudsdk_config() {
    let mut s = Sandbox::new();
    s.fake("gke-gcloud-auth-plugin");
    let elsewhere = s.root.path().join("gcloud-elsewhere");
    write(&elsewhere.join("credentials.db"), "a");
    s.set("CLOUDSDK_CONFIG", elsewhere.to_str().unwrap());
    let t = fetches_afresh(&s, GKE, None, "the first run");
    write(&s.home.join(".config/gcloud/credentials.db"), "not the one in use");
    served(&s, GKE, &t, "the default directory, not in use");
    write(&elsewhere.join("credentials.db"), "b");
    fetches_afresh(&s, GKE, Some(&t), "the directory in use");
}

const AZURE_CLI: &[&str] = &[
    "kubelogin",
    "get-token",
    "--login",
    "azurecli",
    "--server-id",
    "6dae42f8-4368-4678-94ff-3960e28e3630",
];

#[test]
fn azure_kubelogin_az_login_logout_and_its_own_cache() {
    let mut s = Sandbox::new();
    s.fake("kubelogin");
    let azure = s.home.join(".azure");
    write(
        &azure.join("azureProfile.json"),
        r#"{"subscriptions":[{"user":{"name":"a@x"}}]}"#,
    );
    let mut t = fetches_afresh(&s, AZURE_CLI, None, "the first run");
    write(&azure.join("az.sess"), "{}");
    write(&azure.join("commandIndex.json"), "{}");
    served(&s, AZURE_CLI, &t, "files every az command rewrites");
    // `az logout`, then `az login` as someone else.
    write(&azure.join("azureProfile.json"), r#"{"subscriptions":[]}"#);
    t = fetches_afresh(&s, AZURE_CLI, Some(&t), "az logout");
    write(
        &azure.join("azureProfile.json"),
        r#"{"subscriptions":[{"user":{"name":"b@x"}}]}"#,
    );
    t = fetches_afresh(&s, AZURE_CLI, Some(&t), "az login");
    // AZURE_CONFIG_DIR: another Azure CLI login altogether, and its profile the source.
    let other = s.root.path().join("azure-other");
    write(&other.join("azureProfile.json"), "{}");
    s.set("AZURE_CONFIG_DIR", other.to_str().unwrap());
    t = fetches_afresh(&s, AZURE_CLI, Some(&t), "AZURE_CONFIG_DIR");
    write(&azure.join("azureProfile.json"), "{}");
    served(&s, AZURE_CLI, &t, "the profile not in use");

    // Device-code login: kubelogin's own cache holds the authentication record, and
    // `kubelogin remove-cache-dir` deletes it.
    let device = [
        "kubelogin",
        "get-token",
        "--server-id",
        "6dae42f8-4368-4678-94ff-3960e28e3630",
    ];
    let cache = s.home.join(".kube/cache/kubelogin");
    write(&cache.join("auth.json"), r#"{"username":"a@x"}"#);
    let d = fetches_afresh(&s, &device, None, "device code");
    write(&cache.join("auth.json"), r#"{"username":"b@x"}"#);
    let d = fetches_afresh(&s, &device, Some(&d), "another account's record");
    fs::remove_dir_all(&cache).unwrap();
    fetches_afresh(&s, &device, Some(&d), "remove-cache-dir");
}

const OIDC: &[&str] = &[
    "kubelogin",
    "get-token",
    "--oidc-issuer-url=https://issuer.example.com",
    "--oidc-client-id=kube",
];

#[test]
fn oidc_kubelogin_a_new_login_or_clean_fetches_afresh() {
    let mut s = Sandbox::new();
    s.fake("kubelogin");
    let cache = s.home.join(".kube/cache/oidc-login");
    write(&cache.join("0123abcd"), r#"{"id_token":"a"}"#);
    let mut t = fetches_afresh(&s, OIDC, None, "the first run");
    write(&s.home.join(".kube/cache/discovery/example/serverresources.json"), "{}");
    served(&s, OIDC, &t, "kubectl's discovery cache");
    write(&cache.join("0123abcd"), r#"{"id_token":"b"}"#);
    t = fetches_afresh(&s, OIDC, Some(&t), "a new login");
    // `kubelogin clean`: the directory goes.
    fs::remove_dir_all(&cache).unwrap();
    t = fetches_afresh(&s, OIDC, Some(&t), "kubelogin clean");
    // --token-cache-dir and KUBECACHEDIR: another cache, another key, its own source.
    let kubecache = s.root.path().join("kubecache");
    write(&kubecache.join("oidc-login/0123abcd"), "{}");
    s.set("KUBECACHEDIR", kubecache.to_str().unwrap());
    t = fetches_afresh(&s, OIDC, Some(&t), "KUBECACHEDIR");
    write(&kubecache.join("oidc-login/0123abcd"), r#"{"id_token":"c"}"#);
    fetches_afresh(&s, OIDC, Some(&t), "a login into KUBECACHEDIR's cache");
}

#[test]
fn aws_iam_authenticator_another_role_in_its_config_file_fetches_afresh_and_status_shows_it() {
    let s = Sandbox::new();
    let config = s.root.path().join("authenticator.yaml");
    write(&config, "clusterID: c1\nrole: arn:aws:iam::111122223333:role/first\n");
    let args = [
        "aws-iam-authenticator",
        "token",
        "-i",
        "c1",
        "-c",
        config.to_str().unwrap(),
    ];
    let t = fetches_afresh(&s, &args, None, "the first run");
    let status = s.ok(&["status"]);
    assert!(
        status.contains("role-arn=arn:aws:iam::111122223333:role/first"),
        "{status}"
    );
    write(&config, "clusterID: c1\nrole: arn:aws:iam::111122223333:role/second\n");
    fetches_afresh(&s, &args, Some(&t), "another role");
    let status: serde_json::Value = serde_json::from_str(&s.ok(&["status", "--json"])).unwrap();
    let roles: Vec<&str> = status
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|row| row["identity"]["role-arn"].as_str())
        .collect();
    assert!(roles.contains(&"arn:aws:iam::111122223333:role/second"), "{status}");
    // A role from DEFAULT_ROLE beats the file's, as in the authenticator.
    let mut s = s;
    s.set("DEFAULT_ROLE", "arn:aws:iam::111122223333:role/env");
    s.ok(&args);
    assert!(
        s.ok(&["status"])
            .contains("role-arn=arn:aws:iam::111122223333:role/env")
    );
}

#[test]
fn aws_iam_authenticator_reads_short_and_long_empty_values_as_pflag_does() {
    let s = Sandbox::new();
    // pflag: `-i=` is the cluster id "=", `--cluster-id=` is empty: two commands (the
    // real authenticator prints a token for the first and refuses the second).
    let eq = token(&s.ok(&["aws-iam-authenticator", "token", "-i="]));
    let empty = token(&s.ok(&["aws-iam-authenticator", "token", "--cluster-id="]));
    assert_ne!(eq, empty, "the first one's token is not served to the second");
    assert_eq!(token(&s.ok(&["aws-iam-authenticator", "token", "-i", "="])), eq);
    assert_eq!(s.calls(), 2);
}

/// Issue 20, item 3: `AWS_SHARED_CREDENTIALS_FILE='~/.aws/creds-prod'` in a kubeconfig
/// `env:` entry reaches the plugin as written (kubectl expands nothing), and the AWS CLI
/// (botocore) expands the `~` itself: a key rotated in `$HOME/.aws/creds-prod` is
/// fetched afresh, as bare. The Go SDK of aws-iam-authenticator opens the text as given
/// (a directory named `~`): that file is not its source.
#[test]
fn aws_a_key_rotated_in_a_credentials_file_named_with_a_tilde_fetches_afresh() {
    let mut s = Sandbox::new();
    s.set("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/creds-prod");
    s.set("AWS_CONFIG_FILE", "$HOME/.aws/config-prod");
    let creds = s.home.join(".aws/creds-prod");
    write(
        &creds,
        "[default]\naws_access_key_id = AKIAOLD\naws_secret_access_key = old\n",
    );
    let t = fetches_afresh(&s, AWS, None, "the first run");
    served(&s, AWS, &t, "a run without change");
    write(
        &creds,
        "[default]\naws_access_key_id = AKIAROTATED\naws_secret_access_key = a-new-longer-secret\n",
    );
    let t = fetches_afresh(&s, AWS, Some(&t), "the key rotated in ~/.aws/creds-prod");
    // `$HOME` in AWS_CONFIG_FILE: botocore's expandvars.
    write(&s.home.join(".aws/config-prod"), "[default]\nregion = us-west-2\n");
    fetches_afresh(&s, AWS, Some(&t), "$HOME/.aws/config-prod written");

    let i = fetches_afresh(&s, IAM, None, "aws-iam-authenticator's first run");
    write(&creds, "[default]\naws_access_key_id = AKIAGO\n");
    served(&s, IAM, &i, "a file the Go SDK does not open");
}

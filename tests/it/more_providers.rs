//! The providers beyond EKS, and opt-in generic caching, through the built binary with
//! fake authenticators on PATH.

use crate::common::{Sandbox, certificate, token};
use std::fs;

const OIDC: &[&str] = &[
    "kubelogin",
    "get-token",
    "--oidc-issuer-url=https://issuer.example.com",
    "--oidc-client-id=kube",
];
const AZURE: &[&str] = &[
    "kubelogin",
    "get-token",
    "--login",
    "azurecli",
    "--server-id",
    "6dae42f8-4368-4678-94ff-3960e28e3630",
];

#[test]
fn gke_tokens_follow_the_active_gcloud_account() {
    let mut s = Sandbox::new();
    s.fake("gke-gcloud-auth-plugin");
    let gcloud = s.root.path().join("gcloud");
    fs::create_dir_all(gcloud.join("configurations")).unwrap();
    fs::write(
        gcloud.join("configurations/config_default"),
        "[core]\naccount = a@example.com\n",
    )
    .unwrap();
    fs::write(
        gcloud.join("configurations/config_other"),
        "[core]\naccount = b@example.com\n",
    )
    .unwrap();
    fs::write(gcloud.join("active_config"), "default").unwrap();
    s.set("CLOUDSDK_CONFIG", gcloud.to_str().unwrap());

    let first = token(&s.ok(&["gke-gcloud-auth-plugin"]));
    assert_eq!(token(&s.ok(&["gke-gcloud-auth-plugin"])), first);
    assert_eq!(s.calls(), 1);
    fs::write(gcloud.join("active_config"), "other").unwrap();
    assert_ne!(
        token(&s.ok(&["gke-gcloud-auth-plugin"])),
        first,
        "another account, another token"
    );
    s.set("GOOGLE_APPLICATION_CREDENTIALS", "/keys/a.json");
    let adc = token(&s.ok(&["gke-gcloud-auth-plugin", "--use_application_default_credentials"]));
    s.set("GOOGLE_APPLICATION_CREDENTIALS", "/keys/b.json");
    assert_ne!(
        token(&s.ok(&["gke-gcloud-auth-plugin", "--use_application_default_credentials"])),
        adc
    );
    assert_eq!(s.calls(), 4);
}

#[test]
fn kubelogin_oidc_under_each_of_its_names_is_cached() {
    let s = Sandbox::new();
    for name in ["kubelogin", "kubectl-oidc_login", "kubectl"] {
        s.fake(name);
    }
    let t = token(&s.ok(OIDC));
    let mut scopes = OIDC.to_vec();
    scopes.extend(["--oidc-extra-scope", "email", "--oidc-extra-scope", "profile"]);
    let with_scopes = token(&s.ok(&scopes));
    assert_ne!(with_scopes, t);
    let mut reordered = OIDC.to_vec();
    reordered.extend(["--oidc-extra-scope=profile,email"]);
    assert_eq!(token(&s.ok(&reordered)), with_scopes, "scopes are a set");
    assert_eq!(token(&s.ok(OIDC)), t);
    assert_eq!(s.calls(), 2);

    let as_plugin = [
        "kubectl",
        "oidc-login",
        "get-token",
        "--oidc-issuer-url=https://issuer.example.com",
        "--oidc-client-id=kube",
    ];
    // kubectl oidc-login runs kubectl-oidc_login, which is kubelogin: one identity, one token.
    assert_eq!(token(&s.ok(&as_plugin)), t);
    let binary = [
        "kubectl-oidc_login",
        "get-token",
        "--oidc-client-id=kube",
        "--oidc-issuer-url=https://issuer.example.com",
    ];
    assert_eq!(token(&s.ok(&binary)), t);
    assert_eq!(s.calls(), 2);
}

#[test]
fn azure_kubelogin_is_cached_and_told_apart_from_oidc_kubelogin() {
    let mut s = Sandbox::new();
    s.fake("kubelogin");
    let azure = token(&s.ok(AZURE));
    let oidc = token(&s.ok(OIDC));
    assert_ne!(azure, oidc);
    assert_eq!(token(&s.ok(AZURE)), azure);
    assert_eq!(token(&s.ok(OIDC)), oidc);
    assert_eq!(s.calls(), 2);
    s.set("AZURE_TENANT_ID", "another-tenant");
    assert_ne!(token(&s.ok(AZURE)), azure);
    let files = s.cache_files();
    assert!(files.iter().any(|f| f.contains("6dae42f8")), "{files:?}");
}

#[test]
fn generic_caching_is_opt_in_and_keyed_by_command_line_and_named_variables() {
    let mut s = Sandbox::new();
    s.fake("vault-k8s-login");
    let plain = ["vault-k8s-login", "--role", "dev"];
    s.ok(&plain);
    s.ok(&plain);
    assert_eq!(s.calls(), 2, "without --generic, unknown commands stay uncached");

    s.set("VAULT_ADDR", "https://vault-a");
    let generic = [
        "--generic",
        "--key-env",
        "VAULT_ADDR",
        "--",
        "vault-k8s-login",
        "--role",
        "dev",
    ];
    let a = token(&s.ok(&generic));
    assert_eq!(token(&s.ok(&generic)), a);
    assert_eq!(s.calls(), 3);
    s.set("VAULT_ADDR", "https://vault-b");
    assert_ne!(token(&s.ok(&generic)), a, "a --key-env variable separates identities");
    s.set("UNLISTED", "x");
    s.ok(&generic);
    assert_eq!(s.calls(), 4, "a variable not named does not");
    let other_role = ["--generic", "--key-env=VAULT_ADDR", "vault-k8s-login", "--role", "prod"];
    s.ok(&other_role);
    assert_eq!(s.calls(), 5);
    assert!(
        s.cache_files()
            .contains(&"cache-generic-vault-k8s-login.yaml".to_string())
    );

    let out = s.run(&["--generic", "--key-env"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
}

#[test]
fn setup_wraps_the_new_providers_too() {
    let s = Sandbox::new();
    let path = s.kube_config();
    fs::write(
        &path,
        "apiVersion: v1\nkind: Config\nusers:\n\
         - name: gke\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: gke-gcloud-auth-plugin\n      installHint: Install gke-gcloud-auth-plugin\n      provideClusterInfo: true\n\
         - name: oidc\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: kubectl\n      args: [oidc-login, get-token, --oidc-issuer-url=https://i.example.com, --oidc-client-id=k]\n\
         - name: aks\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: kubelogin\n      args: [get-token, --login, azurecli, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630]\n",
    )
    .unwrap();
    let out = s.ok(&["setup"]);
    for line in [
        "wrapped    gke (gke-gcloud-auth-plugin)",
        "wrapped    oidc (kubelogin-oidc)",
        "wrapped    aks (kubelogin-azure)",
    ] {
        assert!(out.contains(line), "{line} in {out}");
    }
    let doc: serde_norway::Value = serde_norway::from_slice(&fs::read(&path).unwrap()).unwrap();
    assert_eq!(doc["users"][0]["user"]["exec"]["args"][0], "gke-gcloud-auth-plugin");
    assert_eq!(
        doc["users"][0]["user"]["exec"]["installHint"],
        "Install gke-gcloud-auth-plugin"
    );
}

/// Teleport's `tsh kube credentials`, as `tsh kube login` writes it; its stand-in prints
/// a client certificate and key (no token), as tsh does.
const TSH: &[&str] = &[
    "tsh",
    "kube",
    "credentials",
    "--kube-cluster",
    "k1",
    "--teleport-cluster",
    "t1",
    "--proxy",
    "teleport.example.com:443",
];

#[test]
fn tsh_certificates_are_cached_per_identity_and_a_login_fetches_afresh() {
    let mut s = Sandbox::new();
    s.fake("tsh");
    s.set("FAKE_MODE", "cert");
    let profiles = s.home.join(".tsh");
    fs::create_dir_all(&profiles).unwrap();
    fs::write(profiles.join("teleport.example.com.yaml"), "user: alice\n").unwrap();
    let first = certificate(&s.ok(TSH));
    assert_eq!(certificate(&s.ok(TSH)), first, "served from the cache");
    assert_eq!(s.calls(), 1);
    // The proxy as its variable, and global flags before the subcommand: one identity.
    let without_proxy = &TSH[..TSH.len() - 2];
    s.set("TELEPORT_PROXY", "teleport.example.com:443");
    assert_eq!(certificate(&s.ok(without_proxy)), first);
    let mut globals_first = vec!["tsh", "--proxy=teleport.example.com:443"];
    globals_first.extend(&without_proxy[1..]);
    assert_eq!(certificate(&s.ok(&globals_first)), first);
    assert_eq!(s.calls(), 1);
    let mut bob = TSH.to_vec();
    bob.extend(["--user", "bob"]);
    assert_ne!(certificate(&s.ok(&bob)), first, "another Teleport user");
    // `tsh login` rewrites the profile.
    fs::write(
        profiles.join("teleport.example.com.yaml"),
        "user: alice\nvalid: again\n",
    )
    .unwrap();
    let after_login = certificate(&s.ok(TSH));
    assert_ne!(after_login, first);
    assert_eq!(certificate(&s.ok(TSH)), after_login);
    assert_eq!(s.calls(), 3);
}

const DOCTL: &[&str] = &[
    "doctl",
    "kubernetes",
    "cluster",
    "kubeconfig",
    "exec-credential",
    "--version=v1beta1",
    "0c5c1bd9-0bd4-4a09-8e6f-f1e1a0c3a8b4",
];

#[test]
fn doctl_is_keyed_by_its_access_token_which_is_never_written_in_clear() {
    let mut s = Sandbox::new();
    s.fake("doctl");
    s.install();
    let secret = "dop_v1_0123456789abcdefsecret";
    s.set("DIGITALOCEAN_ACCESS_TOKEN", secret);
    let first = token(&s.ok(DOCTL));
    assert_eq!(token(&s.ok(DOCTL)), first);
    let mut other_context = DOCTL.to_vec();
    other_context.extend(["--context", "work"]);
    assert_ne!(token(&s.ok(&other_context)), first, "another auth context");
    s.set("DIGITALOCEAN_ACCESS_TOKEN", "dop_v1_another");
    assert_ne!(token(&s.ok(DOCTL)), first, "another access token");
    assert_eq!(s.calls(), 3);
    // `doctl auth init` or `auth switch` rewrite the config file.
    s.set("DIGITALOCEAN_ACCESS_TOKEN", secret);
    let config = s.home.join(".config/doctl/config.yaml");
    fs::create_dir_all(config.parent().unwrap()).unwrap();
    fs::write(&config, "context: default\n").unwrap();
    let with_config = token(&s.ok(DOCTL));
    assert_ne!(with_config, first);
    fs::write(&config, "context: work\n").unwrap();
    assert_ne!(
        token(&s.ok(DOCTL)),
        with_config,
        "the config file is a credential source"
    );
    assert_eq!(s.calls(), 5);

    let path = s.kube_config();
    let args: Vec<String> = DOCTL.iter().map(|a| format!("{a:?}")).collect();
    fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: ctx\nclusters:\n- name: k\n  cluster: {{server: 'https://k.example.com'}}\n\
             contexts:\n- name: ctx\n  context: {{cluster: k, user: u}}\n\
             users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: kubecredcache\n      args: [{}]\n      env: [{{name: DIGITALOCEAN_ACCESS_TOKEN, value: {secret}}}]\n",
            args.join(", ")
        ),
    )
    .unwrap();
    let doctor = s.ok(&["doctor"]);
    let doctor_json = s.ok(&["doctor", "--json"]);
    assert!(doctor.contains("access-token=sha256:"), "{doctor}");
    for shown in [s.ok(&["status"]), s.ok(&["status", "--json"]), doctor, doctor_json] {
        assert!(!shown.contains(secret), "{shown}");
    }
    for entry in fs::read_dir(&s.cache).unwrap() {
        let entry = entry.unwrap();
        assert!(!entry.file_name().to_string_lossy().contains(secret));
        if entry.path().is_file() {
            let bytes = fs::read(entry.path()).unwrap();
            assert!(!String::from_utf8_lossy(&bytes).contains(secret), "{:?}", entry.path());
        }
    }
}

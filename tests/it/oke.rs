//! Oracle Kubernetes Engine through the built binary, with a fake `oci` on PATH: cached
//! per identity, afresh after a new session or config, bounded by the session's expiry,
//! and without the CLI's interactive mode.

use crate::common::{Sandbox, token};
use std::fs;

const CLUSTER: &str = "ocid1.cluster.oc1.iad.aaaaaaaaexample";

fn oke(extra: &[&'static str]) -> Vec<&'static str> {
    let mut args = vec!["oci", "ce", "cluster", "generate-token", "--cluster-id", CLUSTER];
    args.extend_from_slice(extra);
    args
}

/// A JWT whose payload expires `in_seconds` from now, as `oci session authenticate`
/// writes to the profile's security_token_file.
fn session_token(in_seconds: i64) -> String {
    let exp = chrono::Utc::now().timestamp() + in_seconds;
    let payload = format!(r#"{{"sub":"ocid1.user.oc1..me","exp":{exp}}}"#);
    let out = std::process::Command::new("sh")
        .args([
            "-c",
            "printf %s \"$1\" | base64 -w0 | tr '+/' '-_' | tr -d '='",
            "sh",
            &payload,
        ])
        .output()
        .unwrap();
    format!(
        "eyJhbGciOiJSUzI1NiJ9.{}.c2lnbmF0dXJl",
        String::from_utf8(out.stdout).unwrap()
    )
}

/// A sandbox with a fake oci and ~/.oci/config holding an API-key DEFAULT profile and a
/// session profile `oke` whose session expires `session_seconds` from now.
fn sandbox(session_seconds: i64) -> Sandbox {
    let mut s = Sandbox::new();
    s.fake("oci");
    let oci = s.home.join(".oci");
    fs::create_dir_all(oci.join("sessions/oke")).unwrap();
    fs::write(
        oci.join("config"),
        "[DEFAULT]\nuser = ocid1.user.oc1..me\nfingerprint = 11:22\nkey_file = ~/.oci/key.pem\ntenancy = ocid1.tenancy.oc1..t\nregion = us-ashburn-1\n\n\
         [oke]\nsecurity_token_file = ~/.oci/sessions/oke/token\nkey_file = ~/.oci/sessions/oke/key.pem\nregion = us-ashburn-1\n",
    )
    .unwrap();
    fs::write(oci.join("sessions/oke/token"), session_token(session_seconds)).unwrap();
    fs::write(oci.join("sessions/oke/key.pem"), "key").unwrap();
    s.set("FAKE_LIFETIME", "240");
    s
}

#[test]
fn oke_tokens_are_cached_per_identity() {
    let mut s = sandbox(3600);
    let plain = oke(&["--region", "us-ashburn-1"]);
    let t = token(&s.ok(&plain));
    assert_eq!(token(&s.ok(&plain)), t);
    // Root options stand anywhere; OCI_CLI_REGION means --region.
    let mut before = vec!["oci", "--region=us-ashburn-1", "ce", "cluster", "generate-token"];
    before.extend(["--cluster-id", CLUSTER]);
    assert_eq!(token(&s.ok(&before)), t);
    assert_eq!(s.calls(), 1);
    assert_ne!(token(&s.ok(&oke(&["--region", "eu-frankfurt-1"]))), t);
    assert_ne!(token(&s.ok(&oke(&["--region", "us-ashburn-1", "--profile", "oke"]))), t);
    s.set("OCI_CLI_AUTH", "instance_principal");
    assert_ne!(token(&s.ok(&plain)), t, "another auth mode");
    assert_eq!(s.calls(), 4);
    let files = s.cache_files();
    assert!(files.iter().any(|f| f.contains("ocid1.cluster.oc1.iad")), "{files:?}");
}

#[test]
fn a_new_session_or_config_fetches_afresh() {
    let s = sandbox(3600);
    let session = oke(&["--profile", "oke", "--auth", "security_token"]);
    let t = token(&s.ok(&session));
    assert_eq!(token(&s.ok(&session)), t);
    // `oci session refresh` rewrites the token file.
    fs::write(s.home.join(".oci/sessions/oke/token"), session_token(3600)).unwrap();
    let refreshed = token(&s.ok(&session));
    assert_ne!(refreshed, t);
    assert_eq!(token(&s.ok(&session)), refreshed);
    // A new key in the config file (`oci setup config`).
    let config = fs::read_to_string(s.home.join(".oci/config")).unwrap();
    fs::write(s.home.join(".oci/config"), config.replace("11:22", "33:44")).unwrap();
    assert_ne!(token(&s.ok(&session)), refreshed);
    // The rc file's default_profile chooses the profile when none is given.
    let plain = oke(&[]);
    let default = token(&s.ok(&plain));
    fs::write(
        s.home.join(".oci/oci_cli_rc"),
        "[OCI_CLI_SETTINGS]\ndefault_profile = oke\n",
    )
    .unwrap();
    assert_ne!(token(&s.ok(&plain)), default, "another profile, chosen in the rc file");
    assert_eq!(s.calls(), 5);
}

#[test]
fn a_session_token_bounds_the_cached_token_and_an_expired_one_is_not_served() {
    let s = sandbox(150);
    let session = oke(&["--profile", "oke", "--auth", "security_token"]);
    let t = token(&s.ok(&session));
    let status: serde_json::Value = serde_json::from_str(&s.ok(&["status", "--json"])).unwrap();
    let left = status[0]["expires_in_seconds"].as_i64().unwrap();
    assert!(
        (100..=150).contains(&left),
        "the session's 150 s, not the token's 240 ({left})"
    );
    assert_eq!(token(&s.ok(&session)), t);
    // A session that ends within the expiry margin: nothing worth caching.
    fs::write(s.home.join(".oci/sessions/oke/token"), session_token(30)).unwrap();
    let a = token(&s.ok(&session));
    assert_ne!(token(&s.ok(&session)), a);
    assert_eq!(s.calls(), 3);
}

#[test]
fn the_clis_interactive_mode_is_off_for_the_command_alone() {
    let mut s = sandbox(3600);
    let seen = s.root.path().join("seen");
    // A fake oci that says whether it saw OCI_CLI_AUTO_PROMPT, then prints a token.
    crate::common::write_script(&s.bin.join("oci-real"), &fs::read_to_string(s.bin.join("oci")).unwrap());
    crate::common::write_script(
        &s.bin.join("oci"),
        &format!(
            "#!/bin/sh\necho \"auto_prompt=${{OCI_CLI_AUTO_PROMPT-unset}}\" > {}\nexec oci-real \"$@\"\n",
            seen.display()
        ),
    );
    s.set("OCI_CLI_AUTO_PROMPT", "1");
    let t = token(&s.ok(&oke(&[])));
    assert_eq!(fs::read_to_string(&seen).unwrap(), "auto_prompt=unset\n");
    s.set("OCI_CLI_AUTO_PROMPT", "2");
    assert_eq!(token(&s.ok(&oke(&[]))), t, "not part of the key");
    // Caching turned off: the command runs exactly as without kubecredcache.
    s.set("KUBECREDCACHE_DISABLE", "1");
    s.ok(&oke(&[]));
    assert_eq!(fs::read_to_string(&seen).unwrap(), "auto_prompt=2\n");
}

#[test]
fn status_at_80_columns_tells_apart_clusters_whose_ocids_share_a_long_beginning() {
    let mut s = sandbox(3600);
    // Real OCIDs of one tenancy and region differ only in the last part of their
    // unique id; an end cut off made every row the same `ocid1.cluster.oc1.iad.aaaa…`.
    let shared = "ocid1.cluster.oc1.iad.aaaaaaaaae3tmnbvgq2dinrtgzsdqzjwmy4tgnzzgy3dmmzqgcrdgnru";
    let clusters = [format!("{shared}x7q2f"), format!("{shared}k9m3d")];
    for cluster in &clusters {
        s.ok(&["oci", "ce", "cluster", "generate-token", "--cluster-id", cluster]);
    }
    s.set("COLUMNS", "80");
    let out = s.run(&["status"]);
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = table.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{table}");
    for row in &rows {
        assert!(row.chars().count() <= 80, "{row}");
        assert!(
            row.starts_with("ocid1.cluster.") && row.contains('…'),
            "cut, and still an OCID: {table}"
        );
    }
    let shown: Vec<&str> = rows.iter().map(|r| r.split_whitespace().next().unwrap()).collect();
    assert_ne!(shown[0], shown[1], "two clusters look alike: {table}");
    for (cluster, end) in clusters.iter().zip(["x7q2f", "k9m3d"]) {
        assert!(
            shown.iter().any(|c| c.ends_with(end)),
            "{cluster} not told apart: {table}"
        );
    }
}

//! The AWS CLI that kubecredcache runs gets JSON output, no pager and no auto-prompt,
//! whatever the user's settings (aws/aws-cli#7726, #7862), for that child alone and
//! without another cache key. With the real CLI on this machine: a config that says
//! `output = text` breaks the bare command and not the wrapped one.

use crate::common::{AWS, Sandbox, host_tool, token, write_script};
use std::fs;

/// Puts a wrapper named `aws` first on PATH that writes the settings it was given to
/// `seen` and then runs `next` (a fake, or the real CLI through a counting shim).
fn record_settings(s: &Sandbox, next: &str) -> std::path::PathBuf {
    let seen = s.root.path().join("seen");
    write_script(
        &s.bin.join("aws"),
        &format!(
            "#!/bin/sh\necho \"output=${{AWS_DEFAULT_OUTPUT-unset}} pager=${{AWS_PAGER-unset}} prompt=${{AWS_CLI_AUTO_PROMPT-unset}}\" > {}\nexec {next} \"$@\"\n",
            seen.display()
        ),
    );
    seen
}

#[test]
fn the_cli_gets_json_without_pager_or_prompt_and_the_key_does_not_change() {
    let mut s = Sandbox::new();
    s.fake("aws-fake");
    let seen = record_settings(&s, "aws-fake");
    s.set("AWS_DEFAULT_OUTPUT", "text")
        .set("AWS_PAGER", "less")
        .set("AWS_CLI_AUTO_PROMPT", "on");
    let t = token(&s.ok(AWS));
    assert_eq!(fs::read_to_string(&seen).unwrap(), "output=json pager= prompt=off\n");
    s.set("AWS_DEFAULT_OUTPUT", "yaml");
    assert_eq!(token(&s.ok(AWS)), t, "the user's output setting is not part of the key");
    assert_eq!(s.calls(), 1);
    // Caching turned off: the command runs exactly as without kubecredcache.
    s.set("KUBECREDCACHE_DISABLE", "1");
    s.ok(AWS);
    assert_eq!(fs::read_to_string(&seen).unwrap(), "output=yaml pager=less prompt=on\n");
}

#[test]
fn the_real_cli_with_output_text_prints_text_bare_and_a_credential_through_kubecredcache() {
    let Some(aws) = host_tool("aws") else { return };
    let mut s = Sandbox::new();
    let shim = s.root.path().join("aws-counted");
    write_script(
        &shim,
        &format!("#!/bin/bash\necho \"aws $*\" >> \"$FAKE_CALLS\"\nexec {aws:?} \"$@\"\n"),
    );
    let seen = record_settings(&s, shim.to_str().unwrap());
    fs::create_dir_all(s.home.join(".aws")).unwrap();
    fs::write(
        s.home.join(".aws/config"),
        "[default]\noutput = text\nregion = us-west-2\n",
    )
    .unwrap();
    // The AWS documentation's example keys: `eks get-token` presigns offline.
    s.set("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .set("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");

    let bare = s.command_for(&aws, &AWS[1..]).output().unwrap();
    assert!(bare.status.success(), "{}", String::from_utf8_lossy(&bare.stderr));
    assert!(
        serde_json::from_slice::<serde_json::Value>(&bare.stdout).is_err(),
        "bare, `output = text` prints no JSON: {}",
        String::from_utf8_lossy(&bare.stdout)
    );

    let wrapped = token(&s.ok(AWS));
    assert!(wrapped.starts_with("k8s-aws-v1."), "a real EKS token: {wrapped}");
    assert!(fs::read_to_string(&seen).unwrap().starts_with("output=json"));
    assert_eq!(token(&s.ok(AWS)), wrapped, "and it is cached");
    assert_eq!(s.calls(), 1);
}

//! Refresh ahead through the built binary: a hit near the token's end prints the cached
//! token and starts one background refresh; failures back off; prompts are never risked.
//! Lifetimes are seconds, set through the fake's FAKE_LIFETIME and our environment.

use crate::common::{AWS, Sandbox, token, wait_for};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

fn refresh_files(cache: &Path, suffix: &str) -> usize {
    std::fs::read_dir(cache)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(suffix))
                .count()
        })
        .unwrap_or(0)
}

/// A sandbox whose first token (200 s left, fetched 300 s ago) is inside a 250 s
/// refresh window.
fn near_the_end() -> (Sandbox, String) {
    let mut s = Sandbox::new();
    s.set("KUBECREDCACHE_REFRESH_AHEAD", "250s").set("FAKE_LIFETIME", "200");
    let first = token(&s.ok(AWS));
    s.age_entries("c1", Duration::from_secs(300));
    // What the background refresh will get: a token outside the window.
    s.set("FAKE_LIFETIME", "900");
    (s, first)
}

#[test]
fn a_hit_in_the_window_prints_the_old_token_and_the_next_hit_gets_a_new_one() {
    let (s, first) = near_the_end();
    assert_eq!(token(&s.ok(AWS)), first, "the hit is served at once, from the cache");
    wait_for("the background refresh", || {
        s.calls() == 2 && refresh_files(&s.cache, ".running") == 0
    });
    let second = token(&s.ok(AWS));
    assert_ne!(second, first);
    assert_eq!(token(&s.ok(AWS)), second);
    assert_eq!(
        s.calls(),
        2,
        "one extra upstream call, and none after it (the new token is not due)"
    );
}

#[test]
fn twenty_hits_in_the_window_start_one_refresh() {
    let (mut s, first) = near_the_end();
    s.set("FAKE_SLEEP", "1");
    let children: Vec<_> = (0..20)
        .map(|_| s.command(AWS).stdout(Stdio::piped()).spawn().unwrap())
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        assert_eq!(token(std::str::from_utf8(&out.stdout).unwrap()), first);
    }
    wait_for("the background refresh", || refresh_files(&s.cache, ".running") == 0);
    assert_eq!(s.calls(), 2);
}

#[test]
fn a_failed_refresh_backs_off_and_the_old_token_is_served_until_the_margin() {
    let (mut s, first) = near_the_end();
    s.set("FAKE_MODE", "fail");
    assert_eq!(token(&s.ok(AWS)), first);
    wait_for("the failure to be recorded", || {
        refresh_files(&s.cache, ".failed") == 1 && refresh_files(&s.cache, ".running") == 0
    });
    let record: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            std::fs::read_dir(&s.cache)
                .unwrap()
                .flatten()
                .find(|e| e.file_name().to_string_lossy().ends_with(".failed"))
                .unwrap()
                .path(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(record["exit_code"], 3);
    assert!(
        !record.to_string().contains("sso login"),
        "the output is never recorded"
    );

    for _ in 0..5 {
        assert_eq!(token(&s.ok(AWS)), first, "still served while it is outside the margin");
    }
    assert_eq!(refresh_files(&s.cache, ".running"), 0, "backing off: no new refresh");
    assert_eq!(s.calls(), 2);
    let status = s.ok(&["status", "--json"]);
    assert!(status.contains("\"refresh\": \"backing off\""), "{status}");

    // When the token really nears its end, the foreground fetches, as without refresh ahead.
    s.set("FAKE_MODE", "ok").set("KUBECREDCACHE_EXPIRY_MARGIN", "300");
    assert_ne!(token(&s.ok(AWS)), first);
    assert_eq!(s.calls(), 3);
}

#[test]
fn a_refresh_that_gets_a_credential_kubectl_refuses_stores_nothing_and_backs_off() {
    let (mut s, first) = near_the_end();
    s.set("FAKE_MODE", "emptytoken");
    assert_eq!(token(&s.ok(AWS)), first);
    wait_for("the refresh to count as failed", || {
        refresh_files(&s.cache, ".failed") == 1 && refresh_files(&s.cache, ".running") == 0
    });
    assert_eq!(token(&s.ok(AWS)), first, "the good token is still served");
    assert_eq!(s.calls(), 2, "backing off");
}

#[test]
fn a_hit_outside_the_window_starts_nothing() {
    let mut s = Sandbox::new();
    s.set("KUBECREDCACHE_REFRESH_AHEAD", "100s");
    s.ok(AWS); // 900 s lifetime
    s.ok(AWS);
    // The foreground claims the refresh before it exits, so no marker now means none started.
    assert_eq!(refresh_files(&s.cache, ".running"), 0);
    assert_eq!(s.calls(), 1);
    // And with the default window (the last third, at least 3 minutes) neither.
    let mut cmd = s.command(AWS);
    cmd.env_remove("KUBECREDCACHE_REFRESH_AHEAD");
    assert!(cmd.output().unwrap().status.success());
    assert_eq!(refresh_files(&s.cache, ".running"), 0);
}

#[test]
fn the_foreground_does_not_wait_for_the_refresh() {
    let (mut s, first) = near_the_end();
    s.set("FAKE_SLEEP", "3");
    let out = s.run(AWS);
    // Had the foreground waited (or shared its stdout with the refresh), the refresh
    // would be over by now.
    assert_eq!(refresh_files(&s.cache, ".running"), 1, "the refresh is still running");
    assert!(out.status.success());
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(token(std::str::from_utf8(&out.stdout).unwrap()), first);
    wait_for("the background refresh", || refresh_files(&s.cache, ".running") == 0);
}

#[test]
fn commands_that_may_prompt_are_never_refreshed_in_the_background() {
    let (mut s, _) = near_the_end();
    let config = s.root.path().join("aws-config");
    std::fs::write(
        &config,
        "[profile admin]\nrole_arn = arn:aws:iam::1:role/a\nmfa_serial = arn:aws:iam::1:mfa/me\n",
    )
    .unwrap();
    s.set("AWS_CONFIG_FILE", config.to_str().unwrap())
        .set("AWS_PROFILE", "admin")
        .set("FAKE_LIFETIME", "200");
    s.ok(AWS);
    s.ok(AWS);
    assert_eq!(
        refresh_files(&s.cache, ".running"),
        0,
        "an MFA profile is not refreshed unattended"
    );
    assert_eq!(s.calls(), 2, "one fetch for the new profile, no refresh");
}

#[test]
fn a_token_fetched_with_a_persons_help_is_not_refreshed_while_a_person_is_there() {
    let mut s = Sandbox::new();
    let interactive =
        r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":true}}"#;
    s.set("KUBECREDCACHE_REFRESH_AHEAD", "250s").set("FAKE_LIFETIME", "200");
    s.set("KUBERNETES_EXEC_INFO", interactive).set("FAKE_SLEEP", "5.2");
    s.ok(AWS); // interactive and slow: as if someone typed an MFA code
    s.age_entries("c1", Duration::from_secs(300));
    s.set("FAKE_SLEEP", "");
    s.ok(AWS);
    assert_eq!(refresh_files(&s.cache, ".running"), 0);
    // A non-interactive caller (a script) may refresh it: a prompt would simply fail.
    s.set("KUBERNETES_EXEC_INFO", &interactive.replace("true", "false"));
    s.ok(AWS);
    wait_for("the background refresh", || {
        s.calls() == 2 && refresh_files(&s.cache, ".running") == 0
    });
}

/// An authenticator that writes its own credential source as it refreshes (kubelogin's
/// token cache, botocore's session cache): the refresh fetches once more, so that the
/// next hit is served instead of fetching in the foreground.
#[test]
fn a_refresh_whose_command_writes_its_own_sources_leaves_a_token_the_next_hit_serves() {
    let mut s = Sandbox::new();
    let session = s.home.join(".aws/cli/cache/session.json");
    std::fs::create_dir_all(session.parent().unwrap()).unwrap();
    s.set("KUBECREDCACHE_REFRESH_AHEAD", "250s").set("FAKE_LIFETIME", "200");
    let first = token(&s.ok(AWS));
    s.age_entries("c1", Duration::from_secs(300));
    s.set("FAKE_LIFETIME", "900");
    let trigger = s.root.path().join("write-session-once");
    std::fs::write(&trigger, "").unwrap();
    // The real fake, behind a script that rewrites the session cache on its first run.
    std::fs::rename(s.bin.join("aws"), s.bin.join("aws-fake")).unwrap();
    crate::common::write_script(
        &s.bin.join("aws"),
        &format!(
            "#!/bin/sh\nif [ -e '{t}' ]; then rm '{t}'; echo '{{\"new\":1}}' > '{f}'; fi\nexec \"$(dirname \"$0\")/aws-fake\" \"$@\"\n",
            t = trigger.display(),
            f = session.display()
        ),
    );
    assert_eq!(token(&s.ok(AWS)), first);
    wait_for("the background refresh", || {
        !trigger.exists() && s.calls() >= 2 && refresh_files(&s.cache, ".running") == 0
    });
    let calls = s.calls();
    let refreshed = token(&s.ok(AWS));
    assert_ne!(refreshed, first);
    assert_eq!(s.calls(), calls, "the hit after the refresh fetched in the foreground");
}

/// The session of a process, from `/proc/PID/stat` (the field after the process group).
#[cfg(target_os = "linux")]
fn session_of(pid: &str) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')').next()?.split_whitespace().nth(3).map(String::from)
}

/// The refresh runs in a session of its own: kubectl's Ctrl-C, or the terminal closing,
/// does not reach it or the command it runs.
#[cfg(target_os = "linux")]
#[test]
fn the_background_refresh_runs_in_a_session_of_its_own() {
    let (mut s, first) = near_the_end();
    let pids = s.root.path().join("refresh-pids");
    s.set("FAKE_PIDS", pids.to_str().unwrap()).set("FAKE_SLEEP", "3");
    assert_eq!(token(&s.ok(AWS)), first);
    wait_for("the refresh's authenticator to start", || {
        std::fs::read_to_string(&pids).is_ok_and(|p| !p.trim().is_empty())
    });
    let pid = std::fs::read_to_string(&pids).unwrap().trim().to_string();
    let theirs = session_of(&pid).expect("the authenticator is running");
    let ours = session_of(&std::process::id().to_string()).unwrap();
    assert_ne!(
        theirs, ours,
        "the refresh stayed in the session of the run that started it"
    );
    wait_for("the background refresh", || refresh_files(&s.cache, ".running") == 0);
}

/// doctl's SSO sign-in (`--sso-issuer-url` and `--sso-client-id`, as DigitalOcean's
/// kubeconfig for an SSO cluster has them) opens a browser on a local port once doctl's
/// own token has expired: never started in the background.
#[test]
fn doctl_with_an_sso_sign_in_is_never_refreshed_in_the_background() {
    let mut s = Sandbox::new();
    s.fake("doctl");
    let line = [
        "doctl",
        "kubernetes",
        "cluster",
        "kubeconfig",
        "exec-credential",
        "--version=v1beta1",
        "--sso-issuer-url=https://idp.example.com",
        "--sso-client-id=k8s",
        "c0ffee",
    ];
    s.set("KUBECREDCACHE_REFRESH_AHEAD", "250s").set("FAKE_LIFETIME", "200");
    let first = token(&s.ok(&line));
    s.age_entries("c0ffee", Duration::from_secs(300));
    // A refresh, had one started, would still be running when we look.
    s.set("FAKE_LIFETIME", "900").set("FAKE_SLEEP", "3");
    assert_eq!(token(&s.ok(&line)), first, "served from the cache");
    assert_eq!(
        refresh_files(&s.cache, ".running"),
        0,
        "an SSO sign-in is not refreshed unattended"
    );
}

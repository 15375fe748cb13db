//! Never serving a token its credentials no longer back: the signing time bounds an EKS
//! token's life, the signing secrets are part of the key, and a change to the AWS
//! credential files or caches makes the next run fetch afresh. Plus the escape hatch.

use crate::common::{AWS, Sandbox, token};
use std::fs;
use std::path::Path;

fn touch_later(path: &Path, body: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, body).unwrap();
}

#[test]
fn a_token_signed_16_minutes_ago_is_never_served_from_the_cache() {
    let mut s = Sandbox::new();
    // Its stated expiry is 15 minutes ahead; its signature died a minute ago.
    s.set("FAKE_SIGNED_AGO", "960").set("FAKE_LIFETIME", "900");
    let a = token(&s.ok(AWS));
    let b = token(&s.ok(AWS));
    assert!(a.starts_with("k8s-aws-v1."));
    assert_ne!(a, b);
    assert_eq!(s.calls(), 2);
}

#[test]
fn the_signing_time_shortens_the_cached_life() {
    let mut s = Sandbox::new();
    s.set("FAKE_SIGNED_AGO", "600").set("FAKE_LIFETIME", "900");
    let a = token(&s.ok(AWS));
    assert_eq!(token(&s.ok(AWS)), a, "still 5 minutes to go: served");
    let status: serde_json::Value = serde_json::from_str(&s.ok(&["status", "--json"])).unwrap();
    let left = status[0]["expires_in_seconds"].as_i64().unwrap();
    assert!(
        (240..=300).contains(&left),
        "signed 10 min ago: about 5 min left, not 15 ({left})"
    );
}

#[test]
fn a_new_sso_session_or_rewritten_credentials_fetch_afresh_and_nothing_else_does() {
    let s = Sandbox::new();
    let aws = s.home.join(".aws");
    touch_later(&aws.join("credentials"), "[default]\naws_access_key_id = AKIAOLD\n");
    let first = token(&s.ok(AWS));
    assert_eq!(token(&s.ok(AWS)), first);

    // Things that are not credential sources change nothing.
    touch_later(&s.home.join("notes.txt"), "x");
    touch_later(&aws.join("unrelated-tool.json"), "{}");
    assert_eq!(token(&s.ok(AWS)), first);
    assert_eq!(s.calls(), 1);

    // `aws sso login` writes a new file in the SSO cache.
    touch_later(&aws.join("sso/cache/0123abcd.json"), "{\"accessToken\": \"...\"}");
    let second = token(&s.ok(AWS));
    assert_ne!(second, first);
    assert_eq!(token(&s.ok(AWS)), second);

    // `aws configure` rewrites the credentials file.
    touch_later(&aws.join("credentials"), "[default]\naws_access_key_id = AKIANEW\n");
    let third = token(&s.ok(AWS));
    assert_ne!(third, second);

    // Re-login rewrites the SSO cache file in place: the directory's mtime stays, ours does not.
    touch_later(&aws.join("sso/cache/0123abcd.json"), "{\"accessToken\": \"renewed\"}");
    let fourth = token(&s.ok(AWS));
    assert_ne!(fourth, third);
    assert_eq!(token(&s.ok(AWS)), fourth);
    assert_eq!(s.calls(), 4);
}

#[test]
fn another_session_token_fetches_afresh_and_no_secret_is_written() {
    let mut s = Sandbox::new();
    s.set("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE")
        .set("AWS_SECRET_ACCESS_KEY", "the-secret-key");
    s.set("AWS_SESSION_TOKEN", "session-token-number-one");
    let a = token(&s.ok(AWS));
    assert_eq!(token(&s.ok(AWS)), a);
    s.set("AWS_SESSION_TOKEN", "session-token-number-two");
    assert_ne!(token(&s.ok(AWS)), a);
    assert_eq!(s.calls(), 2);
    let file = fs::read_to_string(s.cache.join("cache-c1.yaml")).unwrap();
    for secret in ["the-secret-key", "session-token-number-one", "session-token-number-two"] {
        assert!(!file.contains(secret), "{secret} written in clear");
    }
    assert!(file.contains("sha256:"), "as digests");
}

#[test]
fn force_refresh_fetches_and_the_next_run_hits_the_new_entry() {
    let mut s = Sandbox::new();
    let first = token(&s.ok(AWS));
    s.set("KUBECREDCACHE_FORCE_REFRESH", "1");
    let forced = token(&s.ok(AWS));
    assert_ne!(forced, first);
    s.set("KUBECREDCACHE_FORCE_REFRESH", "0");
    assert_eq!(token(&s.ok(AWS)), forced);

    let mut flag = vec!["--force-refresh"];
    flag.extend_from_slice(AWS);
    let again = token(&s.ok(&flag));
    assert_ne!(again, forced);
    flag.insert(1, "--");
    assert_ne!(token(&s.ok(&flag)), again);
    assert_eq!(s.calls(), 4);
    assert_eq!(s.run(&["--force-refresh"]).status.code(), Some(2));
}

#[test]
fn temporary_credentials_in_the_environment_bound_the_cached_token() {
    for args in [AWS, crate::common::IAM] {
        let mut s = Sandbox::new();
        let in_5_minutes = (chrono::Utc::now() + chrono::Duration::seconds(300)).to_rfc3339();
        s.set("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE")
            .set("AWS_SECRET_ACCESS_KEY", "the-secret-key")
            .set("AWS_SESSION_TOKEN", "the-session-token")
            .set("AWS_CREDENTIAL_EXPIRATION", &in_5_minutes)
            .set("FAKE_LIFETIME", "900");
        let a = token(&s.ok(args));
        assert_eq!(token(&s.ok(args)), a, "{args:?}");
        let status: serde_json::Value = serde_json::from_str(&s.ok(&["status", "--json"])).unwrap();
        let left = status[0]["expires_in_seconds"].as_i64().unwrap();
        assert!(
            (240..=300).contains(&left),
            "{args:?}: the credentials' 5 minutes, not the token's 15 ({left})"
        );
        // New credentials that end within the expiry margin: nothing worth caching.
        let soon = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc3339();
        s.set("AWS_CREDENTIAL_EXPIRATION", &soon)
            .set("AWS_SESSION_TOKEN", "the-next-session-token");
        let b = token(&s.ok(args));
        assert_ne!(token(&s.ok(args)), b, "{args:?}");
        assert_eq!(s.calls(), 3, "{args:?}");
        // Without an expiry the token's own 15 minutes stand.
        s.set("AWS_CREDENTIAL_EXPIRATION", "not a time")
            .set("AWS_SESSION_TOKEN", "a-third-session-token");
        let c = token(&s.ok(args));
        assert_eq!(token(&s.ok(args)), c, "{args:?}");
    }
}

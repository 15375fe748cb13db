//! Not a provider: the AWS environment rules that both AWS authenticators follow
//! (region, profile and credentials from flags, then environment variables), kept in one
//! place so the two cannot drift apart.

use std::path::PathBuf;

use crate::provider::{Env, Identity};

/// Region: the flag, else `AWS_REGION`, else `AWS_DEFAULT_REGION`.
pub fn region(flag: Option<&str>, env: &dyn Env) -> Option<String> {
    flag.map(String::from).or_else(|| env.var("AWS_REGION")).or_else(|| env.var("AWS_DEFAULT_REGION"))
}

/// Profile: the flag, else `AWS_PROFILE`, else `AWS_DEFAULT_PROFILE`.
pub fn profile(flag: Option<&str>, env: &dyn Env) -> Option<String> {
    flag.map(String::from).or_else(|| env.var("AWS_PROFILE")).or_else(|| env.var("AWS_DEFAULT_PROFILE"))
}

/// Adds the parts of the identity that come from the AWS credential environment: the
/// access key id as it is, the secret key and session token as digests only (they sign
/// the token: new ones mean a new token), and the variables that choose where
/// credentials come from.
pub fn with_credentials(id: Identity, env: &dyn Env) -> Identity {
    id.with("access-key-id", env.var("AWS_ACCESS_KEY_ID"))
        .with_secret("secret-access-key", env.var("AWS_SECRET_ACCESS_KEY"))
        .with_secret("session-token", env.var("AWS_SESSION_TOKEN"))
        .with("aws-config-file", env.var("AWS_CONFIG_FILE"))
        .with("aws-shared-credentials-file", env.var("AWS_SHARED_CREDENTIALS_FILE"))
        .with("aws-vault", env.var("AWS_VAULT"))
        .with("aws-role-arn", env.var("AWS_ROLE_ARN"))
        .with("aws-web-identity-token-file", env.var("AWS_WEB_IDENTITY_TOKEN_FILE"))
}

/// Where the AWS CLI and SDKs read and cache credentials: the shared config and
/// credentials files, and the SSO and assumed-role session caches.
pub fn credential_sources(env: &dyn Env) -> Vec<PathBuf> {
    let home = env.var("HOME").map(PathBuf::from);
    let aws_dir = home.as_ref().map(|h| h.join(".aws"));
    let mut sources = Vec::new();
    sources.extend(env.var("AWS_CONFIG_FILE").map(PathBuf::from).or_else(|| aws_dir.as_ref().map(|d| d.join("config"))));
    sources.extend(
        env.var("AWS_SHARED_CREDENTIALS_FILE").map(PathBuf::from).or_else(|| aws_dir.as_ref().map(|d| d.join("credentials"))),
    );
    if let Some(dir) = aws_dir {
        sources.push(dir.join("sso").join("cache"));
        sources.push(dir.join("cli").join("cache"));
    }
    sources
}

/// EKS accepts a token (a presigned STS URL) for 15 minutes after it was signed.
const SIGNED_URL_LIFETIME_SECONDS: i64 = 15 * 60;

/// For a `k8s-aws-v1.` token: its signing time (`X-Amz-Date` in the presigned URL it
/// encodes) plus 15 minutes. `None` for anything that does not decode.
pub fn eks_token_expiry_bound(token: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let url = decode_base64url(token.strip_prefix("k8s-aws-v1.")?)?;
    let url = String::from_utf8(url).ok()?;
    let query = url.split_once('?')?.1;
    let date = query.split('&').find_map(|kv| kv.strip_prefix("X-Amz-Date="))?;
    let signed = chrono::NaiveDateTime::parse_from_str(date, "%Y%m%dT%H%M%SZ").ok()?.and_utc();
    Some(signed + chrono::Duration::seconds(SIGNED_URL_LIFETIME_SECONDS))
}

/// Base64url without padding (RFC 4648 §5), as the EKS token uses; `=` is tolerated.
fn decode_base64url(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    };
    let text = text.trim_end_matches('=').as_bytes();
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= u32::from(value(*c)?) << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

/// Whether the AWS CLI may ask for an MFA code for this profile: its section of the AWS
/// config file (`AWS_CONFIG_FILE`, else `~/.aws/config`) has an `mfa_serial`.
pub fn profile_may_prompt(profile: Option<&str>, env: &dyn Env) -> bool {
    let path = env
        .var("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .or_else(|| env.var("HOME").map(|h| PathBuf::from(h).join(".aws").join("config")));
    let Some(text) = path.and_then(|p| std::fs::read_to_string(p).ok()) else { return false };
    let profile = profile.unwrap_or("default");
    let headers = [format!("[profile {profile}]"), format!("[{profile}]")];
    let mut in_section = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_section = headers.iter().any(|h| h.as_str() == line);
        } else if in_section && line.split('=').next().is_some_and(|k| k.trim() == "mfa_serial") {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn encode(url: &str) -> String {
        // Test-only encoder, to build tokens the way aws-iam-authenticator and the CLI do.
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in url.as_bytes().chunks(3) {
            let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        format!("k8s-aws-v1.{out}")
    }

    const URL: &str = "https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261128%2Fus-west-2%2Fsts%2Faws4_request&X-Amz-Date=20261128T234151Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=abc";

    #[test]
    fn the_signing_time_of_an_eks_token_bounds_its_life() {
        let bound = eks_token_expiry_bound(&encode(URL)).unwrap();
        assert_eq!(bound.to_rfc3339(), "2026-11-28T23:56:51+00:00");
        for cut in 1..4 {
            // Every length of the last base64 group decodes.
            let url = &URL[..URL.len() - cut];
            assert_eq!(eks_token_expiry_bound(&encode(url)), Some(bound), "{cut}");
        }
    }

    #[test]
    fn tokens_that_do_not_decode_have_no_bound() {
        let good = encode(URL);
        let truncated = &good[..good.len() / 2];
        for token in [
            truncated,
            "k8s-aws-v1.!!!not base64!!!",
            "k8s-aws-v1.",
            "not-an-eks-token",
            &encode("https://sts.amazonaws.com/?Action=GetCallerIdentity&X-Amz-Expires=60"),
            &encode("https://sts.amazonaws.com/?X-Amz-Date=yesterday"),
            &encode("no query at all"),
        ] {
            assert_eq!(eks_token_expiry_bound(token), None, "{token}");
        }
    }

    #[test]
    fn a_signing_date_in_the_future_is_still_a_bound() {
        let token = encode(&URL.replace("20261128T234151Z", "20990101T000000Z"));
        assert_eq!(eks_token_expiry_bound(&token).unwrap().to_rfc3339(), "2099-01-01T00:15:00+00:00");
    }

    #[test]
    fn signing_secrets_separate_identities_as_digests_only() {
        let env = |v: &[(&str, &str)]| v.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<HashMap<_, _>>();
        let base = with_credentials(Identity::new("c"), &env(&[("AWS_SESSION_TOKEN", "session-1"), ("AWS_SECRET_ACCESS_KEY", "secret-1")]));
        assert!(!format!("{base:?}").contains("session-1") && !format!("{base:?}").contains("secret-1"));
        assert_ne!(with_credentials(Identity::new("c"), &env(&[("AWS_SESSION_TOKEN", "session-2"), ("AWS_SECRET_ACCESS_KEY", "secret-1")])), base);
        assert_ne!(with_credentials(Identity::new("c"), &env(&[("AWS_SESSION_TOKEN", "session-1"), ("AWS_SECRET_ACCESS_KEY", "secret-2")])), base);
        for var in ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_VAULT", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"] {
            let with = with_credentials(Identity::new("c"), &env(&[(var, "x")]));
            assert_ne!(with, with_credentials(Identity::new("c"), &env(&[])), "{var}");
            assert!(with.parts.iter().any(|(_, v)| v == "x"), "{var} is kept as it is");
        }
    }

    #[test]
    fn credential_sources_follow_the_variables() {
        let env = HashMap::from([("HOME".to_string(), "/home/me".to_string()), ("AWS_CONFIG_FILE".to_string(), "/etc/aws".to_string())]);
        let sources: Vec<String> = credential_sources(&env).iter().map(|p| p.display().to_string()).collect();
        assert_eq!(sources, ["/etc/aws", "/home/me/.aws/credentials", "/home/me/.aws/sso/cache", "/home/me/.aws/cli/cache"]);
    }

    #[test]
    fn mfa_serial_in_the_profile_means_it_may_prompt() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        std::fs::write(&config, "[default]\nregion = us-east-1\n[profile admin]\nrole_arn = arn:r\nmfa_serial = arn:aws:iam::1:mfa/me\n[profile ci]\nrole_arn = arn:r\n").unwrap();
        let env = HashMap::from([("AWS_CONFIG_FILE".to_string(), config.to_str().unwrap().to_string())]);
        assert!(profile_may_prompt(Some("admin"), &env));
        assert!(!profile_may_prompt(Some("ci"), &env));
        assert!(!profile_may_prompt(None, &env));
        assert!(!profile_may_prompt(Some("missing"), &env));
        assert!(!profile_may_prompt(Some("admin"), &HashMap::from([("AWS_CONFIG_FILE".to_string(), "/nonexistent".to_string())])));
    }
}

//! Not a provider: the AWS environment rules that both AWS authenticators follow
//! (region, profile and credentials from flags, then environment variables), kept in one
//! place so the two cannot drift apart.

use std::path::PathBuf;

use crate::args::ParsedArgs;
use crate::provider::{Env, Identity};

/// Region: the flag, else `AWS_REGION`, else `AWS_DEFAULT_REGION`.
pub fn region(flag: Option<&str>, env: &dyn Env) -> Option<String> {
    flag.map(String::from).or_else(|| env.var("AWS_REGION")).or_else(|| env.var("AWS_DEFAULT_REGION"))
}

/// Profile: the flag, else `AWS_PROFILE`, else `AWS_DEFAULT_PROFILE`.
pub fn profile(flag: Option<&str>, env: &dyn Env) -> Option<String> {
    flag.map(String::from).or_else(|| env.var("AWS_PROFILE")).or_else(|| env.var("AWS_DEFAULT_PROFILE"))
}

/// Adds the parts of the identity that come from the AWS credential environment.
pub fn with_credentials(id: Identity, env: &dyn Env) -> Identity {
    id.with("access-key-id", env.var("AWS_ACCESS_KEY_ID"))
}

/// Every flag of `parsed` whose key is in `keys`, as identity parts (last value wins).
pub fn with_flags(mut id: Identity, parsed: &ParsedArgs, keys: &[&'static str]) -> Identity {
    for key in keys {
        id = id.with(key, parsed.last(key));
    }
    id
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

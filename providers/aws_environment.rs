//! Not a provider: the AWS environment rules that both AWS authenticators follow
//! (region, profile and credentials from flags, then environment variables), kept in one
//! place so the two cannot drift apart.

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

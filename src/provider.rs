//! The provider registry: one trait that every authenticator implements (in its own file
//! under `providers/`) and one `inventory::collect!` that gathers them. The cache engine
//! sees only this trait and the [`Identity`] it returns.

use std::ffi::OsStr;

/// An authenticator whose token command kubecredcache knows how to key.
///
/// Register an implementation with
/// `inventory::submit! { &MyProvider as &dyn kubecredcache::provider::Provider }`.
/// `docs/providers.md` walks through writing one.
pub trait Provider: Sync {
    /// Short, stable name; part of every cache key, so never change it once released.
    fn name(&self) -> &'static str;
    /// The invocation it recognises, for `list-providers` (e.g. `aws ... eks get-token`).
    fn command(&self) -> &'static str;
    /// One line for `list-providers`.
    fn description(&self) -> &'static str;
    /// Whether running `program` (the file name of the wrapped command, without its
    /// directory) with `args` is this authenticator's token command. Must be exact: a
    /// provider never claims another's invocation.
    fn recognises(&self, program: &str, args: &[String]) -> bool;
    /// Everything that decides which token the command prints: from the arguments and
    /// from the environment (read through `env`, never `std::env`, so tests can set it).
    /// An error means "cannot key this safely": the command then runs uncached.
    fn identity(&self, args: &[String], env: &dyn Env) -> Result<Identity, String>;
    /// Whether this invocation may need a person (a browser login, a device code, an
    /// MFA prompt). Such commands are never refreshed in the background, where nobody
    /// could answer. Most token commands do not prompt; the default says so.
    fn may_prompt(&self, _args: &[String], _env: &dyn Env) -> bool {
        false
    }
    /// The latest time `token` can still be accepted, if the token itself says (an EKS
    /// token is a presigned URL that dies 15 minutes after it was signed, whatever its
    /// `expirationTimestamp` claims). The engine serves a token until the earlier of
    /// this and the stated expiry. `None`: the stated expiry stands.
    fn expiry_bound(&self, _token: &str) -> Option<chrono::DateTime<chrono::Utc>> {
        None
    }
    /// Files and directories the authenticator's credentials come from (for a directory,
    /// the files in it count too). A cached token is not served once any of them changed
    /// after it was fetched: a new sign-in or new keys take effect at the next run.
    fn credential_sources(&self, _args: &[String], _env: &dyn Env) -> Vec<std::path::PathBuf> {
        Vec::new()
    }
}

inventory::collect!(&'static dyn Provider);

/// The process environment as a provider sees it.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

/// The real environment. Values that are not UTF-8 are converted without collisions.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var_os(name).map(|v| crate::args::os_to_string(&v))
    }
}

impl Env for std::collections::HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// Who a token belongs to. Two invocations with equal identities (and the same provider)
/// share a cached token; any difference gives another cache entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Identity {
    /// Cluster name or id: it names the cache file.
    pub cluster: String,
    /// Every other part that changes the token, such as `("region", "us-west-2")`.
    /// Parts that are not set are left out; order does not matter.
    pub parts: Vec<(&'static str, String)>,
    /// Arguments the provider does not understand, kept verbatim so that they still
    /// separate identities.
    pub unknown_args: Vec<String>,
}

impl Identity {
    pub fn new(cluster: impl Into<String>) -> Identity {
        Identity {
            cluster: cluster.into(),
            ..Identity::default()
        }
    }

    /// Adds a part if it has a value.
    pub fn with(mut self, name: &'static str, value: Option<impl Into<String>>) -> Identity {
        if let Some(v) = value {
            self.parts.push((name, v.into()));
        }
        self
    }

    /// Adds a part whose value is a secret (a client secret, a session token): only a
    /// short SHA-256 of it enters the key, so it separates identities without being
    /// written anywhere.
    pub fn with_secret(self, name: &'static str, secret: Option<impl AsRef<[u8]>>) -> Identity {
        self.with(name, secret.map(|s| secret_digest(s.as_ref())))
    }

    /// Adds the flags of `parsed` whose keys are in `keys`, as given (the last value wins,
    /// as in the programs these parse for).
    pub fn with_flags(mut self, parsed: &crate::args::ParsedArgs, keys: &[&'static str]) -> Identity {
        for key in keys {
            self = self.with(key, parsed.last(key));
        }
        self
    }

    /// The value of a part, if set.
    pub fn part(&self, name: &str) -> Option<&str> {
        self.parts.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

/// `sha256:` and the first 16 hex digits of the SHA-256 of `secret`.
pub fn secret_digest(secret: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(secret);
    // On every AWS cache hit: no formatting machinery for 16 hex digits.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(23);
    out.push_str("sha256:");
    for b in digest.iter().take(8) {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    out
}

/// Every registered provider, sorted by name so that listings and matching are stable.
pub fn registered() -> Vec<&'static dyn Provider> {
    let mut all: Vec<&'static dyn Provider> = inventory::iter::<&'static dyn Provider>().copied().collect();
    all.sort_by_key(|p| p.name());
    all
}

/// The provider whose token command this is, if any. `program` is the command as given
/// (a name or a path); only its file name counts.
pub fn recognise(program: &OsStr, args: &[String]) -> Option<&'static dyn Provider> {
    let name = std::path::Path::new(program).file_name()?.to_str()?;
    // No sorting here (this runs on every kubectl run): order does not matter, since the
    // contract kit checks that no two providers claim one invocation.
    inventory::iter::<&'static dyn Provider>()
        .copied()
        .find(|p| p.recognises(name, args))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_aws_providers_are_registered_and_names_are_unique() {
        let names: Vec<_> = registered().iter().map(|p| p.name()).collect();
        assert!(names.contains(&"aws-eks"), "{names:?}");
        assert!(names.contains(&"aws-iam-authenticator"), "{names:?}");
        let mut dedup = names.clone();
        dedup.dedup();
        assert_eq!(dedup, names);
    }

    #[test]
    fn recognition_uses_the_file_name_of_the_program() {
        let args: Vec<String> = ["eks", "get-token", "--cluster-name", "c"].map(String::from).to_vec();
        assert_eq!(
            recognise(OsStr::new("/usr/local/bin/aws"), &args).map(|p| p.name()),
            Some("aws-eks")
        );
        assert!(recognise(OsStr::new("/usr/bin/awsx"), &args).is_none());
        assert!(recognise(OsStr::new("kubectl"), &args).is_none());
    }

    #[test]
    fn secrets_enter_the_identity_only_as_a_digest() {
        let id = Identity::new("c")
            .with_secret("client-secret", Some("hunter2"))
            .with_secret("none", None::<&str>);
        let value = id.part("client-secret").unwrap();
        assert!(!value.contains("hunter2"));
        // SHA-256("hunter2") = f52fbd32b2b3b86ff88ef6c490628285f482af15ddcb29541f94bcf526a3f6c7
        assert_eq!(value, "sha256:f52fbd32b2b3b86f");
        assert_ne!(secret_digest(b"a"), secret_digest(b"b"));
        assert_eq!(id.part("none"), None);
    }

    #[test]
    fn identity_with_leaves_out_unset_parts() {
        let id = Identity::new("c")
            .with("region", Some("r"))
            .with("profile", None::<String>);
        assert_eq!(id.part("region"), Some("r"));
        assert_eq!(id.part("profile"), None);
        assert_eq!(id.parts.len(), 1);
    }
}

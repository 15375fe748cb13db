//! `CacheKey`: the one string that says whose token an entry holds. Built from the
//! provider's name and the [`Identity`] it parsed, so equal identities share an entry
//! and any difference gives another.

use crate::provider::{Identity, secret_digest};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    /// Canonical text: a JSON array of provider, cluster, sorted parts and a digest of
    /// the unknown arguments. JSON's escaping makes the encoding injective: no two
    /// identities collide. The unknown arguments enter only as a digest because this
    /// text is stored in the cache file, and an argument nobody declared may be a
    /// secret (`--clientsecret=...`, a `--generic` command's `--token=...`).
    canonical: String,
    cluster: String,
}

impl CacheKey {
    pub fn new(provider: &str, identity: &Identity) -> CacheKey {
        let mut parts: Vec<(&str, &str)> = identity.parts.iter().map(|(k, v)| (*k, v.as_str())).collect();
        parts.sort();
        let unknown: Vec<String> = if identity.unknown_args.is_empty() {
            Vec::new()
        } else {
            let exact = serde_json::to_string(&identity.unknown_args).expect("strings always serialize");
            vec![secret_digest(exact.as_bytes())]
        };
        let canonical =
            serde_json::to_string(&(provider, &identity.cluster, parts, unknown)).expect("strings always serialize");
        CacheKey {
            canonical,
            cluster: identity.cluster.clone(),
        }
    }

    /// The text stored in the cache file to find this entry again.
    pub fn as_str(&self) -> &str {
        &self.canonical
    }

    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// What names this key's own files (its single-flight lock, refresh markers and
    /// failure record): the SHA-256 of the canonical text, 64 hex digits. The whole
    /// digest, because two keys sharing a name would share a failure record: one
    /// identity's failure replayed to another, and its refresh markers holding the other
    /// back. (A 64-bit FNV hash named them before; collisions for it can be computed.)
    pub fn digest(&self) -> String {
        digest_of(&self.canonical)
    }
}

/// [`CacheKey::digest`] of a key's canonical text, as stored in a cache file.
pub fn digest_of(canonical: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(canonical.as_bytes());
    let mut hex = String::with_capacity(2 * digest.len());
    for byte in digest {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    hex
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// FNV-1a, 64 bit: stable across Rust versions and platforms (unlike `DefaultHasher`),
/// which file names that outlive one build need. Not for secrets, nor where a collision
/// matters: it tells apart cluster names that share a cache file (`names.rs`), whose
/// entries are found by their full key.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(parts: &[(&'static str, &str)]) -> Identity {
        let mut id = Identity::new("c");
        for (k, v) in parts {
            id.parts.push((k, v.to_string()));
        }
        id
    }

    #[test]
    fn order_of_parts_does_not_matter() {
        let a = identity(&[("region", "r"), ("profile", "p")]);
        let b = identity(&[("profile", "p"), ("region", "r")]);
        assert_eq!(CacheKey::new("x", &a), CacheKey::new("x", &b));
    }

    #[test]
    fn every_field_separates_keys() {
        let base = CacheKey::new("x", &identity(&[("region", "r")]));
        assert_ne!(base, CacheKey::new("y", &identity(&[("region", "r")])));
        assert_ne!(base, CacheKey::new("x", &identity(&[("region", "s")])));
        assert_ne!(
            base,
            CacheKey::new("x", &identity(&[("region", "r"), ("profile", "p")]))
        );
        let mut other_cluster = identity(&[("region", "r")]);
        other_cluster.cluster = "d".into();
        assert_ne!(base, CacheKey::new("x", &other_cluster));
        let mut unknown = identity(&[("region", "r")]);
        unknown.unknown_args.push("--x".into());
        assert_ne!(base, CacheKey::new("x", &unknown));
    }

    #[test]
    fn unknown_arguments_separate_keys_as_a_digest_only() {
        let with = |args: &[&str]| {
            let mut id = identity(&[("region", "r")]);
            id.unknown_args = args.iter().map(|a| a.to_string()).collect();
            CacheKey::new("x", &id)
        };
        let secret = with(&["--clientsecret=hunter2"]);
        assert!(!secret.as_str().contains("hunter2"), "{}", secret.as_str());
        assert_ne!(secret, with(&["--clientsecret=other"]));
        assert_ne!(with(&["a", "b"]), with(&["b", "a"]), "order counts");
        assert_ne!(with(&["a,b"]), with(&["a", "b"]));
        assert_ne!(with(&[]), with(&[""]));
    }

    #[test]
    fn separators_inside_values_cannot_forge_another_key() {
        let a = identity(&[("region", "r\",\"profile\",\"p")]);
        let b = identity(&[("region", "r"), ("profile", "p")]);
        assert_ne!(CacheKey::new("x", &a), CacheKey::new("x", &b));
    }

    #[test]
    fn fnv_matches_the_published_test_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn the_digest_is_the_sha256_of_the_canonical_text() {
        let key = CacheKey::new("x", &identity(&[]));
        assert_eq!(key.as_str(), r#"["x","c",[],[]]"#);
        // sha256sum of the text above.
        assert_eq!(
            key.digest(),
            "09025be90d42731b7b9334e21a8f971aa1fa607a1a186a6e24198efc5c7732e5"
        );
        assert_eq!(digest_of(key.as_str()), key.digest());
    }
}

//! The names of the files in the cache directory: how each is built, and what a name in
//! the directory is. Only [`CacheDir`](super::CacheDir) builds paths from these; garbage
//! collection and `status` recognise files by [`classify`], so nothing that is not named
//! here is ever treated as ours.

use super::key::fnv1a64;
use crate::fs::atomic;

const CACHE_PREFIX: &str = "cache-";
const CACHE_SUFFIX: &str = ".yaml";
const LOCK_SUFFIX: &str = ".lock";
const FLIGHT_PREFIX: &str = "flight-";
const REFRESH_PREFIX: &str = "refresh-";
const RUNNING_SUFFIX: &str = ".running";
const FAILED_SUFFIX: &str = ".failed";
const FAILURE_PREFIX: &str = "failure-";
const JSON_SUFFIX: &str = ".json";
pub const GC_STAMP: &str = ".gc-stamp";

const MAX_NAME_BYTES: usize = 100;
/// The hex digits of a key's digest, which names the key's own files.
const DIGEST_DIGITS: usize = 64;
/// The hex digits of the short hash that named them before.
const OLD_HASH_DIGITS: usize = 16;

/// What a file in the cache directory is, by its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `cache-<CLUSTER>.yaml`: the entries of one cluster.
    CacheFile,
    /// `cache-<CLUSTER>.yaml.lock`: the writers' lock of a cache file.
    FileLock,
    /// `flight-<HASH>.lock`: the single-flight lock of one key.
    FlightLock,
    /// `refresh-<HASH>.running`: a background refresh of that key is under way.
    RefreshRunning,
    /// `refresh-<HASH>.failed`: the last background refresh of that key failed.
    RefreshFailed,
    /// `failure-<HASH>.json`: the last fetch of that key failed; what it printed.
    Failure,
    /// `.<TARGET>.tmp-...`: a cache file being written.
    Temp { target: String },
    /// `.gc-stamp`: when garbage collection last ran.
    GcStamp,
}

/// What `name` is, or `None` for a file that is not kubecredcache's.
pub fn classify(name: &str) -> Option<Kind> {
    if name == GC_STAMP {
        return Some(Kind::GcStamp);
    }
    if let Some(target) = atomic::temp_target(name) {
        return is_cache_file(target).then(|| Kind::Temp {
            target: target.to_string(),
        });
    }
    if let Some(cache_file) = name.strip_suffix(LOCK_SUFFIX) {
        if is_cache_file(cache_file) {
            return Some(Kind::FileLock);
        }
        return name
            .strip_prefix(FLIGHT_PREFIX)
            .and_then(|h| h.strip_suffix(LOCK_SUFFIX))
            .filter(|h| is_hash(h))
            .map(|_| Kind::FlightLock);
    }
    if let Some(rest) = name.strip_prefix(FAILURE_PREFIX) {
        return rest
            .strip_suffix(JSON_SUFFIX)
            .filter(|h| is_hash(h))
            .map(|_| Kind::Failure);
    }
    if let Some(rest) = name.strip_prefix(REFRESH_PREFIX) {
        if rest.strip_suffix(RUNNING_SUFFIX).is_some_and(is_hash) {
            return Some(Kind::RefreshRunning);
        }
        if rest.strip_suffix(FAILED_SUFFIX).is_some_and(is_hash) {
            return Some(Kind::RefreshFailed);
        }
        return None;
    }
    is_cache_file(name).then_some(Kind::CacheFile)
}

fn is_cache_file(name: &str) -> bool {
    name.strip_prefix(CACHE_PREFIX)
        .and_then(|n| n.strip_suffix(CACHE_SUFFIX))
        .is_some_and(|stem| !stem.is_empty() && !stem.contains('/'))
}

/// A key's digest (`CacheKey::digest`, 64 hex digits), or the 16-digit FNV hash that
/// named the same files before: files an earlier version left are still ours, for
/// garbage collection to take. Nothing reads them any more.
fn is_hash(text: &str) -> bool {
    matches!(text.len(), DIGEST_DIGITS | OLD_HASH_DIGITS) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `cache-<CLUSTER>.yaml`, or for a cluster name that is not a plain file name, a
/// sanitised prefix and a hash of the full name. Never contains `/` or starts with `.`.
pub fn cache_file(cluster: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let stem = if !cluster.is_empty()
        && cluster.len() <= MAX_NAME_BYTES
        && !cluster.starts_with('.')
        && cluster.chars().all(plain)
    {
        std::borrow::Cow::Borrowed(cluster)
    } else {
        std::borrow::Cow::Owned(hashed_stem(cluster))
    };
    // On every cache hit: no formatting machinery to join three strings.
    [CACHE_PREFIX, &stem, CACHE_SUFFIX].concat()
}

fn hashed_stem(cluster: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let readable: String = cluster
        .chars()
        .map(|c| if plain(c) { c } else { '_' })
        .take(40)
        .collect();
    let readable = readable.trim_start_matches('.');
    // Two clusters may in theory share a file; that is harmless, because entries are
    // found by their full key, which holds the cluster name as given.
    format!("{readable}~{:016x}", fnv1a64(cluster.as_bytes()))
}

/// The lock guarding read-modify-write of the cache file named `cache_file`.
pub fn file_lock(cache_file: &str) -> String {
    format!("{cache_file}{LOCK_SUFFIX}")
}

/// The single-flight lock of the key whose digest is `hash`.
pub fn flight_lock(hash: &str) -> String {
    format!("{FLIGHT_PREFIX}{hash}{LOCK_SUFFIX}")
}

pub fn refresh_running(hash: &str) -> String {
    format!("{REFRESH_PREFIX}{hash}{RUNNING_SUFFIX}")
}

pub fn refresh_failed(hash: &str) -> String {
    format!("{REFRESH_PREFIX}{hash}{FAILED_SUFFIX}")
}

pub fn failure(hash: &str) -> String {
    format!("{FAILURE_PREFIX}{hash}{JSON_SUFFIX}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_cluster_names_are_kept() {
        assert_eq!(cache_file("prod-eu_1.x"), "cache-prod-eu_1.x.yaml");
    }

    #[test]
    fn unsafe_names_become_safe_and_distinct() {
        let names = [
            "../../x",
            "a/b",
            "a b",
            "*",
            "?",
            "line\nbreak",
            "..",
            ".hidden",
            "",
            &"x".repeat(400),
            "\0\\xff",
        ];
        let mut seen = std::collections::HashSet::new();
        for cluster in names {
            let file = cache_file(cluster);
            assert!(!file.contains('/') && !file.contains('\0'), "{file:?}");
            assert!(file.chars().all(|c| c.is_ascii_graphic()), "{file:?}");
            assert!(file.len() <= 7 + MAX_NAME_BYTES + 5, "{file:?}");
            assert_eq!(classify(&file), Some(Kind::CacheFile), "{file:?}");
            assert!(seen.insert(file), "{cluster:?} collides");
        }
        assert_ne!(cache_file("a/b"), cache_file("a_b"));
        // A person looking at the directory still sees which cluster a file is for.
        assert!(
            cache_file("arn:aws:eks:us-west-2:1:cluster/prod")
                .starts_with("cache-arn_aws_eks_us-west-2_1_cluster_prod~")
        );
    }

    #[test]
    fn every_name_we_build_is_recognised_and_nothing_else() {
        let hash = "0123456789abcdef".repeat(4);
        let hash = hash.as_str();
        let cache = cache_file("c1");
        for (name, kind) in [
            (cache.clone(), Kind::CacheFile),
            (file_lock(&cache), Kind::FileLock),
            (flight_lock(hash), Kind::FlightLock),
            (refresh_running(hash), Kind::RefreshRunning),
            (refresh_failed(hash), Kind::RefreshFailed),
            (failure(hash), Kind::Failure),
            (GC_STAMP.to_string(), Kind::GcStamp),
            (format!(".{cache}.tmp-1-2-0"), Kind::Temp { target: cache.clone() }),
        ] {
            assert_eq!(classify(&name), Some(kind), "{name}");
        }
        for foreign in [
            "cache-.yaml",
            "cache-x.yml",
            "other.lock",
            "flight-xyz.lock",
            "flight-0123456789abcdef0.lock",
            "refresh-0123456789abcdef.log",
            "failure-0123456789abcdef.yaml",
            "failure-x.json",
            &format!("failure-{hash}0.json"),
            &format!("failure-{}.json", &hash[1..]),
            &format!("flight-{}g.lock", &hash[1..]),
            ".bashrc.tmp-1-2-0",
            "notes.txt",
            ".gc-stamp2",
            "cache-x.yaml.bak",
        ] {
            assert_eq!(classify(foreign), None, "{foreign}");
        }
    }

    #[test]
    fn per_key_files_are_named_by_the_whole_digest_of_the_key() {
        use crate::cache::CacheKey;
        use crate::provider::Identity;
        let key = CacheKey::new("p", &Identity::new("c1"));
        let digest = key.digest();
        assert_eq!(digest.len(), DIGEST_DIGITS);
        assert_eq!(failure(&digest), format!("failure-{digest}.json"));
        assert_eq!(flight_lock(&digest), format!("flight-{digest}.lock"));
        let other = CacheKey::new("p", &Identity::new("c2")).digest();
        assert_ne!(failure(&digest), failure(&other));
    }

    #[test]
    fn the_short_hash_names_an_earlier_version_left_are_still_ours() {
        let old = "b7a62040523ad962";
        for (name, kind) in [
            (format!("flight-{old}.lock"), Kind::FlightLock),
            (format!("refresh-{old}.running"), Kind::RefreshRunning),
            (format!("refresh-{old}.failed"), Kind::RefreshFailed),
            (format!("failure-{old}.json"), Kind::Failure),
        ] {
            assert_eq!(classify(&name), Some(kind), "{name}");
        }
    }
}

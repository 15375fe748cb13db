//! `CacheFile`: the YAML document kept for one cluster, `cache-<CLUSTER>.yaml`, mapping
//! each cache key to the ExecCredential it got. The format is described, with its
//! version field, in `docs/cache-format.md`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::CacheKey;
use crate::exec_credential::ExecCredential;

/// The format version this build reads and writes. A file with another version is
/// treated as foreign: ignored, and replaced on the next write.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheFile {
    pub version: u32,
    /// The cluster as given in the arguments (the file name may be a sanitised form).
    pub cluster: String,
    pub entries: BTreeMap<String, CacheEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheEntry {
    pub provider: String,
    /// The identity parts besides the cluster, for people reading the file.
    #[serde(default)]
    pub identity: BTreeMap<String, String>,
    /// When the token stops being served (before the safety margin is taken off).
    pub expires: DateTime<Utc>,
    pub written: DateTime<Utc>,
    pub api_version: String,
    /// The plugin's ExecCredential JSON, exactly as it printed it.
    pub credential: String,
    /// Whether kubectl said the session was interactive when this was fetched.
    #[serde(default)]
    pub interactive: bool,
    /// How long the plugin took to print it, in seconds.
    #[serde(default)]
    pub fetch_seconds: f64,
    /// The snapshot of the provider's credential sources taken before the plugin ran
    /// (`sources.rs`); the entry is served only while they are exactly so. Empty when the
    /// provider has none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sources: String,
    /// When the token was issued, if the token says (an EKS token: its signing time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued: Option<DateTime<Utc>>,
}

/// How far in the future an entry's write or its token's issue may lie and still be
/// served: clocks of a host differ by seconds, not by this. Beyond it the clock was
/// stepped back since (NTP, a VM resumed), and the token may be dead already.
pub const CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

impl CacheEntry {
    pub fn new(
        provider: &str,
        parts: &[(&'static str, String)],
        credential: &ExecCredential,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> CacheEntry {
        CacheEntry {
            provider: provider.to_string(),
            identity: parts.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            expires,
            written: now,
            api_version: credential.api_version.clone(),
            credential: credential.json.clone(),
            interactive: false,
            fetch_seconds: 0.0,
            sources: String::new(),
            issued: None,
        }
    }

    /// Whether the token still has more than `margin` to live at `now`, and was neither
    /// written nor issued in the future (beyond [`CLOCK_SKEW`]).
    pub fn is_fresh(&self, now: DateTime<Utc>, margin: std::time::Duration) -> bool {
        let from_the_future = |t: DateTime<Utc>| t > now + CLOCK_SKEW;
        let served_until = chrono::Duration::from_std(margin)
            .ok()
            .and_then(|m| self.expires.checked_sub_signed(m));
        served_until.is_some_and(|until| until > now)
            && !from_the_future(self.written)
            && !self.issued.is_some_and(from_the_future)
    }

    pub fn exec_credential(&self) -> ExecCredential {
        ExecCredential {
            json: self.credential.clone(),
            api_version: self.api_version.clone(),
            expires: Some(self.expires),
            token: None,
        }
    }
}

impl CacheFile {
    pub fn new(cluster: &str) -> CacheFile {
        CacheFile {
            version: FORMAT_VERSION,
            cluster: cluster.to_string(),
            entries: BTreeMap::new(),
        }
    }

    /// Reads a cache file. `None` for anything that is not a cache file of this version:
    /// empty, truncated, corrupt or foreign files are simply not used.
    ///
    /// We write YAML's JSON-compatible flow style, so the JSON parser reads our own files
    /// (far cheaper than libyaml, on the cache-hit path: docs/performance.md); any other
    /// YAML spelling of the same document, such as a hand-edited file, is read by the
    /// YAML parser.
    pub fn parse(bytes: &[u8]) -> Option<CacheFile> {
        let file: CacheFile = serde_json::from_slice(bytes)
            .ok()
            .or_else(|| serde_norway::from_slice(bytes).ok())?;
        (file.version == FORMAT_VERSION).then_some(file)
    }

    /// The file's text: YAML in its JSON-compatible flow style (every JSON document is
    /// YAML 1.2), indented for people.
    pub fn to_yaml(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a cache file always serializes");
        text.push('\n');
        text
    }

    pub fn get(&self, key: &CacheKey) -> Option<&CacheEntry> {
        self.entries.get(key.as_str())
    }

    /// Stores `entry` under `key` and drops the entries of other keys that have expired.
    pub fn insert(&mut self, key: &CacheKey, entry: CacheEntry, now: DateTime<Utc>) {
        self.entries.retain(|_, e| e.expires > now);
        self.entries.insert(key.as_str().to_string(), entry);
    }

    /// The latest expiry of any entry, if there are entries.
    pub fn latest_expiry(&self) -> Option<DateTime<Utc>> {
        self.entries.values().map(|e| e.expires).max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Identity;
    use std::time::Duration;

    fn t(s: &str) -> DateTime<Utc> {
        crate::exec_credential::parse_timestamp(s).unwrap()
    }

    fn credential(token: &str, expires: &str) -> ExecCredential {
        let json = format!(
            r#"{{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{{}},"status":{{"expirationTimestamp":"{expires}","token":"{token}"}}}}"#
        );
        ExecCredential::parse(json.as_bytes()).unwrap()
    }

    fn key(region: &str) -> CacheKey {
        CacheKey::new("aws-eks", &Identity::new("c").with("region", Some(region)))
    }

    fn entry(token: &str, expires: &str, now: &str) -> CacheEntry {
        let c = credential(token, expires);
        CacheEntry::new("aws-eks", &[("region", "r".into())], &c, c.expires.unwrap(), t(now))
    }

    #[test]
    fn round_trips_through_yaml() {
        let mut file = CacheFile::new("c");
        file.insert(
            &key("a"),
            entry("tok-a", "2026-01-01T00:15:00Z", "2026-01-01T00:00:00Z"),
            t("2026-01-01T00:00:00Z"),
        );
        let again = CacheFile::parse(file.to_yaml().as_bytes()).unwrap();
        assert_eq!(again, file);
        assert_eq!(
            again.get(&key("a")).unwrap().exec_credential().json,
            credential("tok-a", "2026-01-01T00:15:00Z").json
        );
        assert!(again.get(&key("b")).is_none());
    }

    #[test]
    fn block_style_yaml_of_the_same_document_is_read_too() {
        let mut file = CacheFile::new("c");
        file.insert(
            &key("a"),
            entry("tok-a", "2026-01-01T00:15:00Z", "2026-01-01T00:00:00Z"),
            t("2026-01-01T00:00:00Z"),
        );
        let block = serde_norway::to_string(&file).unwrap();
        assert!(block.contains("\nentries:\n"), "block style: {block}");
        assert_eq!(CacheFile::parse(block.as_bytes()), Some(file.clone()));
        let ours = file.to_yaml();
        assert_eq!(
            serde_norway::from_str::<CacheFile>(&ours).unwrap(),
            file,
            "what we write is YAML"
        );
    }

    #[test]
    fn corrupt_truncated_empty_and_foreign_files_are_not_used() {
        let mut file = CacheFile::new("c");
        file.insert(
            &key("a"),
            entry("tok", "2026-01-01T00:15:00Z", "2026-01-01T00:00:00Z"),
            t("2026-01-01T00:00:00Z"),
        );
        let yaml = file.to_yaml();
        let truncated = &yaml[..yaml.len() / 2];
        let future = yaml.replace("\"version\": 1", "\"version\": 2");
        assert_ne!(future, yaml);
        for bytes in [
            &b""[..],
            b"\xff\xfe",
            b"[1, 2",
            b"kind: Config\n",
            truncated.as_bytes(),
            future.as_bytes(),
        ] {
            assert_eq!(CacheFile::parse(bytes), None, "{:?}", String::from_utf8_lossy(bytes));
        }
    }

    #[test]
    fn an_entry_from_the_future_is_not_fresh() {
        let mut e = entry("tok", "2026-01-01T02:15:00Z", "2026-01-01T01:00:00Z");
        let now = t("2026-01-01T00:00:00Z");
        assert!(!e.is_fresh(now, Duration::ZERO), "written an hour ahead");
        e.written = t("2026-01-01T00:00:30Z");
        assert!(e.is_fresh(now, Duration::ZERO), "30 s ahead is skew");
        e.written = now + CLOCK_SKEW;
        assert!(e.is_fresh(now, Duration::ZERO), "as far ahead as skew goes");
        e.written = now + CLOCK_SKEW + chrono::TimeDelta::nanoseconds(1);
        assert!(!e.is_fresh(now, Duration::ZERO), "beyond it");
        e.written = now;
        e.issued = Some(t("2026-01-01T01:00:00Z"));
        assert!(!e.is_fresh(now, Duration::ZERO), "issued an hour ahead");
    }

    #[test]
    fn an_expiry_at_the_end_of_time_or_a_huge_margin_is_just_not_fresh() {
        let mut e = entry("tok", "2026-01-01T00:15:00Z", "2026-01-01T00:00:00Z");
        let now = t("2026-01-01T00:00:00Z");
        assert!(!e.is_fresh(now, Duration::from_secs(u64::MAX / 4)));
        e.expires = DateTime::<Utc>::MIN_UTC;
        assert!(!e.is_fresh(now, Duration::from_secs(60)));
    }

    #[test]
    fn freshness_takes_the_margin_off() {
        let e = entry("tok", "2026-01-01T00:15:00Z", "2026-01-01T00:00:00Z");
        let margin = Duration::from_secs(60);
        assert!(e.is_fresh(t("2026-01-01T00:13:59Z"), margin));
        assert!(!e.is_fresh(t("2026-01-01T00:14:00Z"), margin));
        assert!(!e.is_fresh(t("2026-01-01T00:16:00Z"), Duration::ZERO));
    }

    #[test]
    fn inserting_drops_other_expired_entries_and_keeps_live_ones() {
        let now = t("2026-01-01T00:20:00Z");
        let mut file = CacheFile::new("c");
        file.insert(
            &key("old"),
            entry("1", "2026-01-01T00:15:00Z", "2026-01-01T00:00:00Z"),
            t("2026-01-01T00:00:00Z"),
        );
        file.insert(
            &key("live"),
            entry("2", "2026-01-01T00:30:00Z", "2026-01-01T00:15:00Z"),
            t("2026-01-01T00:15:00Z"),
        );
        file.insert(
            &key("new"),
            entry("3", "2026-01-01T00:35:00Z", "2026-01-01T00:20:00Z"),
            now,
        );
        assert!(file.get(&key("old")).is_none());
        assert!(file.get(&key("live")).is_some());
        assert!(file.get(&key("new")).is_some());
        assert_eq!(file.latest_expiry(), Some(t("2026-01-01T00:35:00Z")));
        // An entry whose expiry is the moment of an insert has expired.
        file.insert(
            &key("later"),
            entry("4", "2026-01-01T00:45:00Z", "2026-01-01T00:30:00Z"),
            t("2026-01-01T00:30:00Z"),
        );
        assert!(file.get(&key("live")).is_none());
        assert!(file.get(&key("new")).is_some());
    }
}

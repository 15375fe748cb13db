//! `kubecredcache status`: one row per cached entry, as a table fitted to the terminal
//! or as JSON. Each provider's identity is shown the same way, as the parts of its key
//! (secrets there are digests already). Never prints a token.
//!
//! The table fits the terminal (`SHRINKABLE`, `truncate`); the JSON has the whole of
//! every value, and `null` where there is none (README.md documents its shape).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Out, fail, open_cache};
use crate::cache::{CacheDir, digest_of};
use crate::engine::{RefreshState, refresh_state_with};
use crate::provider::ProcessEnv;
use crate::settings;

/// One entry, as `status --json` prints it.
#[derive(Serialize)]
struct Row {
    cluster: String,
    provider: String,
    /// The parts of the cache key besides the cluster.
    identity: BTreeMap<String, String>,
    expires: DateTime<Utc>,
    /// Negative once expired.
    expires_in_seconds: i64,
    written: DateTime<Utc>,
    /// When the token was issued, if it says (an EKS token's signing time).
    issued: Option<DateTime<Utc>>,
    /// Refresh ahead: `due`, `running`, `backing off`, or `null`.
    refresh: Option<&'static str>,
    /// The cache file, in the cache directory.
    file: String,
}

pub fn run(out: &mut Out, json: bool) -> i32 {
    let cache = match open_cache() {
        Ok(cache) => cache,
        Err(e) => return fail(&e),
    };
    let rows = match rows(&cache, Utc::now()) {
        Ok(rows) => rows,
        Err(e) => return fail(&format!("cannot read {}: {e}", cache.path().display())),
    };
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&rows).expect("rows serialize"));
    } else if rows.is_empty() {
        writeln!(out, "nothing cached in {}", cache.path().display());
    } else {
        print_table(out, &rows, terminal_width());
    }
    0
}

fn rows(cache: &CacheDir, now: DateTime<Utc>) -> std::io::Result<Vec<Row>> {
    let mut rows = Vec::new();
    let ahead = settings::refresh_ahead_in(&ProcessEnv);
    let backoff = settings::refresh_backoff_in(&ProcessEnv);
    for (name, file) in cache.cache_files()? {
        for (key, e) in &file.entries {
            let state = refresh_state_with(cache, &digest_of(key), e, now, ahead, backoff);
            let refresh = (state != RefreshState::Idle).then(|| state.as_str());
            rows.push(Row {
                cluster: file.cluster.clone(),
                provider: e.provider.clone(),
                identity: e.identity.clone(),
                expires: e.expires,
                expires_in_seconds: (e.expires - now).num_seconds(),
                written: e.written,
                issued: e.issued,
                refresh,
                file: name.clone(),
            });
        }
    }
    rows.sort_by(|a, b| (&a.cluster, &a.provider, a.expires).cmp(&(&b.cluster, &b.provider, b.expires)));
    Ok(rows)
}

/// `region=us-west-2 profile=dev`: the identity parts, leaving out the one that only
/// repeats the cluster.
fn identity_text(row: &Row) -> String {
    row.identity
        .iter()
        .filter(|(part, value)| !repeats_cluster(part, value, &row.cluster))
        .map(|(part, value)| format!("{part}={value}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether an identity part is the cluster itself (`cluster-name=prod`), which a row
/// shows already. A profile that happens to be named like the cluster is not.
pub(super) fn repeats_cluster(part: &str, value: &str, cluster: &str) -> bool {
    value == cluster && part.contains("cluster")
}

/// `12m04s`, `1h02m`, or `expired`.
pub fn expires_in(seconds: i64) -> String {
    match seconds {
        s if s <= 0 => "expired".into(),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

const COLUMNS: usize = 5;
const HEADER: [&str; COLUMNS] = ["CLUSTER", "PROVIDER", "EXPIRES", "REFRESH", "IDENTITY"];
/// The columns that give way when the terminal is narrow, in this order, and the
/// narrowest each may get: the identity (last in the row) first, then the cluster.
const SHRINKABLE: [(usize, usize); 2] = [(4, 20), (0, 12)];

fn print_table(out: &mut Out, rows: &[Row], width: Option<usize>) {
    let cells: Vec<[String; COLUMNS]> = rows
        .iter()
        .map(|r| {
            [
                r.cluster.clone(),
                r.provider.clone(),
                expires_in(r.expires_in_seconds),
                r.refresh.unwrap_or("-").replace("backing off", "backoff"),
                identity_text(r),
            ]
        })
        .map(|row| row.map(|c| if c.is_empty() { "-".into() } else { c }))
        .collect();
    let mut widths: Vec<usize> = (0..COLUMNS)
        .map(|i| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .chain([HEADER[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    if let Some(width) = width {
        let total = |w: &[usize]| w.iter().sum::<usize>() + 2 * (w.len() - 1);
        for (column, narrowest) in SHRINKABLE {
            let over = total(&widths).saturating_sub(width);
            widths[column] -= over.min(widths[column].saturating_sub(narrowest));
        }
    }
    for row in [HEADER.map(String::from)].iter().chain(&cells) {
        let fitted: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{:w$}", truncate(c, *w)))
            .collect();
        writeln!(out, "{}", fitted.join("  ").trim_end());
    }
}

/// `text` cut to `width` by taking out its middle, marked with `…`. Its end stays:
/// names of one kind share long beginnings (`ocid1.cluster.oc1.iad.aaaaaaaa…`, an ARN's
/// account and path) and differ at the end, so a cut end makes rows look alike.
fn truncate(text: &str, width: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= width {
        return text.to_string();
    }
    let tail = width.saturating_sub(1) / 2;
    let head: String = chars[..width.saturating_sub(1) - tail].iter().collect();
    format!("{head}…{}", chars[chars.len() - tail..].iter().collect::<String>())
}

/// Columns of the terminal on stdout, if it is one (else `COLUMNS`, else no limit).
fn terminal_width() -> Option<usize> {
    #[cfg(unix)]
    {
        // SAFETY: winsize is plain integers, so all zeroes is one; TIOCGWINSZ writes one
        // winsize into the struct we pass; fd 1 may be anything.
        let mut size: libc::winsize = unsafe { std::mem::zeroed() };
        let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
        if ok && size.ws_col > 0 {
            return Some(size.ws_col.into());
        }
    }
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_reads_like_a_duration() {
        assert_eq!(expires_in(724), "12m04s");
        assert_eq!(expires_in(59), "0m59s");
        assert_eq!(expires_in(3720), "1h02m");
        assert_eq!(expires_in(0), "expired");
        assert_eq!(expires_in(-5), "expired");
    }

    #[test]
    fn the_identity_shows_every_part_but_the_cluster_again() {
        let row = Row {
            cluster: "c1".into(),
            provider: "p".into(),
            identity: [("cluster-name", "c1"), ("region", "r"), ("profile", "c1")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into(),
            expires: Utc::now(),
            expires_in_seconds: 0,
            written: Utc::now(),
            issued: None,
            refresh: None,
            file: "cache-c1.yaml".into(),
        };
        assert_eq!(
            identity_text(&row),
            "profile=c1 region=r",
            "a profile named like the cluster is shown"
        );
    }

    #[test]
    fn truncation_marks_the_cut_and_keeps_both_ends() {
        assert_eq!(truncate("abcdef", 4), "ab…f");
        assert_eq!(truncate("abcdefgh", 6), "abc…gh");
        assert_eq!(truncate("abc", 4), "abc");
        assert_eq!(truncate("abcd", 4), "abcd");
        assert_eq!(truncate("aé…ü", 3), "a…ü", "counted in characters");
        assert_eq!(truncate("abc", 1), "…");
        assert_eq!(truncate("abc", 0), "…");
    }

    #[test]
    fn ocids_that_share_a_long_beginning_stay_apart() {
        let a = "ocid1.cluster.oc1.iad.aaaaaaaaexampleclusteronex7q2f";
        let b = "ocid1.cluster.oc1.iad.aaaaaaaaexampleclustertwok9m3d";
        let (ta, tb) = (truncate(a, 30), truncate(b, 30));
        assert_eq!(ta.chars().count(), 30);
        assert!(ta.starts_with("ocid1.cluster.") && ta.ends_with("x7q2f"), "{ta}");
        assert_ne!(ta, tb);
    }
}

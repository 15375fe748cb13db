//! `kubecredcache status`: one row per cached entry, as a table fitted to the terminal
//! or as JSON. Each provider's identity is shown the same way, as the parts of its key
//! (secrets there are digests already). Never prints a token.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Out, fail, open_cache};
use crate::cache::{CacheDir, short_hash_of};
use crate::engine::refresh_state;

#[derive(Serialize)]
struct Row {
    cluster: String,
    provider: String,
    /// The parts of the cache key besides the cluster.
    identity: BTreeMap<String, String>,
    expires: DateTime<Utc>,
    expires_in_seconds: i64,
    /// Refresh ahead: `-`, `due`, `running` or `backing off`.
    refresh: &'static str,
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
    for (name, file) in cache.cache_files()? {
        for (key, e) in &file.entries {
            rows.push(Row {
                cluster: file.cluster.clone(),
                provider: e.provider.clone(),
                identity: e.identity.clone(),
                expires: e.expires,
                expires_in_seconds: (e.expires - now).num_seconds(),
                refresh: refresh_state(cache, &short_hash_of(key), e, now).as_str(),
                file: name.clone(),
            });
        }
    }
    rows.sort_by(|a, b| (&a.cluster, &a.provider, a.expires).cmp(&(&b.cluster, &b.provider, b.expires)));
    Ok(rows)
}

/// `region=us-west-2 profile=dev`: the identity parts, leaving out those that only
/// repeat the cluster.
fn identity_text(row: &Row) -> String {
    row.identity
        .iter()
        .filter(|(_, value)| **value != row.cluster)
        .map(|(part, value)| format!("{part}={value}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `12m04s`, `1h02m`, or `expired`.
pub fn expires_in(seconds: i64) -> String {
    match seconds {
        s if s <= 0 => "expired".into(),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

const COLUMNS: usize = 6;
/// The columns that give way when the terminal is narrow, widest first: identity,
/// file, cluster.
const SHRINKABLE: [usize; 3] = [2, 5, 0];

fn print_table(out: &mut Out, rows: &[Row], width: Option<usize>) {
    let header = ["CLUSTER", "PROVIDER", "IDENTITY", "EXPIRES IN", "REFRESH", "FILE"];
    let mut cells: Vec<[String; COLUMNS]> = rows
        .iter()
        .map(|r| {
            [
                r.cluster.clone(),
                r.provider.clone(),
                identity_text(r),
                expires_in(r.expires_in_seconds),
                r.refresh.to_string(),
                r.file.clone(),
            ]
        })
        .collect();
    for row in &mut cells {
        for cell in row.iter_mut().filter(|c| c.is_empty()) {
            *cell = "-".into();
        }
    }
    let mut widths: Vec<usize> = (0..COLUMNS)
        .map(|i| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    if let Some(width) = width {
        let total = |w: &[usize]| w.iter().sum::<usize>() + 2 * (w.len() - 1);
        while total(&widths) > width {
            let widest = SHRINKABLE.into_iter().max_by_key(|i| widths[*i]).expect("columns");
            if widths[widest] <= 12 {
                break;
            }
            widths[widest] -= 1;
        }
    }
    let mut line = |cells: &[String]| {
        let fitted: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{:w$}", truncate(c, *w)))
            .collect();
        writeln!(out, "{}", fitted.join("  ").trim_end());
    };
    line(&header.map(String::from));
    for row in &cells {
        line(row);
    }
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Columns of the terminal on stdout, if it is one (else `COLUMNS`, else no limit).
fn terminal_width() -> Option<usize> {
    terminal_columns().or_else(|| std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()))
}

#[cfg(windows)]
fn terminal_columns() -> Option<usize> {
    None
}

#[cfg(unix)]
fn terminal_columns() -> Option<usize> {
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize into the struct we pass; fd 1 may be anything.
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    (ok && size.ws_col > 0).then(|| size.ws_col.into())
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
            identity: [("cluster-name", "c1"), ("region", "r"), ("profile", "dev")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into(),
            expires: Utc::now(),
            expires_in_seconds: 0,
            refresh: "-",
            file: "cache-c1.yaml".into(),
        };
        assert_eq!(identity_text(&row), "profile=dev region=r");
    }

    #[test]
    fn truncation_marks_the_cut() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}

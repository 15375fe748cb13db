//! `kubecredcache status`: one row per cached entry, as a table fitted to the terminal
//! or as JSON. Never prints a token; access key ids are shortened.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{cache_dir, fail};

use crate::cache_file::CacheFile;
use crate::cache_key::short_hash_of;
use crate::refresh;

#[derive(Serialize)]
struct Row {
    cluster: String,
    provider: String,
    region: String,
    role: String,
    profile: String,
    access_key_id: String,
    expires: DateTime<Utc>,
    expires_in_seconds: i64,
    /// Refresh ahead: `-`, `due`, `running` or `backing off`.
    refresh: &'static str,
    file: String,
}

pub fn run(json: bool) -> i32 {
    let dir = match cache_dir() {
        Ok(dir) => dir,
        Err(e) => return fail(&e),
    };
    let rows = match rows(&dir, Utc::now()) {
        Ok(rows) => rows,
        Err(e) => return fail(&format!("cannot read {}: {e}", dir.display())),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&rows).expect("rows serialize"));
    } else if rows.is_empty() {
        println!("nothing cached in {}", dir.display());
    } else {
        print_table(&rows, terminal_width());
    }
    0
}

fn rows(dir: &std::path::Path, now: DateTime<Utc>) -> std::io::Result<Vec<Row>> {
    let mut rows = Vec::new();
    for path in crate::cache_dir::cache_files(dir)? {
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let Ok(Some(bytes)) = crate::cache_dir::read_no_follow(&path) else {
            continue;
        };
        let Some(file) = CacheFile::parse(&bytes) else { continue };
        for (key, e) in &file.entries {
            let part = |k: &str| e.identity.get(k).cloned().unwrap_or_default();
            rows.push(Row {
                cluster: file.cluster.clone(),
                provider: e.provider.clone(),
                region: part("region"),
                role: part("role-arn"),
                profile: part("profile"),
                access_key_id: shorten_key_id(&part("access-key-id")),
                expires: e.expires,
                expires_in_seconds: (e.expires - now).num_seconds(),
                refresh: refresh::state(dir, &short_hash_of(key), e, now).as_str(),
                file: name.clone(),
            });
        }
    }
    rows.sort_by(|a, b| (&a.cluster, &a.provider, a.expires).cmp(&(&b.cluster, &b.provider, b.expires)));
    Ok(rows)
}

/// `AKIAIOSFODNN7EXAMPLE` → `AKIA…MPLE`: enough to tell keys apart, not to copy one.
fn shorten_key_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 8 {
        return id.to_string();
    }
    format!(
        "{}…{}",
        chars[..4].iter().collect::<String>(),
        chars[chars.len() - 4..].iter().collect::<String>()
    )
}

/// `12m04s`, `1h02m`, or `expired`.
pub fn expires_in(seconds: i64) -> String {
    match seconds {
        s if s <= 0 => "expired".into(),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

fn print_table(rows: &[Row], width: Option<usize>) {
    let header = [
        "CLUSTER",
        "PROVIDER",
        "REGION",
        "ROLE",
        "PROFILE",
        "ACCESS KEY",
        "EXPIRES IN",
        "REFRESH",
        "FILE",
    ];
    let mut cells: Vec<[String; 9]> = rows
        .iter()
        .map(|r| {
            [
                r.cluster.clone(),
                r.provider.clone(),
                r.region.clone(),
                r.role.clone(),
                r.profile.clone(),
                r.access_key_id.clone(),
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
    let mut widths: Vec<usize> = (0..9)
        .map(|i| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    // Fit the terminal: shrink the widest of the long columns (file, role, cluster) first.
    if let Some(width) = width {
        let total = |w: &[usize]| w.iter().sum::<usize>() + 2 * (w.len() - 1);
        while total(&widths) > width {
            let widest = [8, 3, 0].into_iter().max_by_key(|i| widths[*i]).expect("three columns");
            if widths[widest] <= 12 {
                break;
            }
            widths[widest] -= 1;
        }
    }
    let line = |cells: &[String]| {
        let fitted: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{:w$}", truncate(c, *w)))
            .collect();
        println!("{}", fitted.join("  ").trim_end());
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
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize into the struct we pass; fd 1 may be anything.
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    if ok && size.ws_col > 0 {
        return Some(size.ws_col.into());
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
    fn key_ids_are_shortened() {
        assert_eq!(shorten_key_id("AKIAIOSFODNN7EXAMPLE"), "AKIA…MPLE");
        assert_eq!(shorten_key_id("SHORT"), "SHORT");
        assert_eq!(shorten_key_id(""), "");
    }

    #[test]
    fn truncation_marks_the_cut() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}

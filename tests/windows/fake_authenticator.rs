//! A fake authenticator for the Windows smoke test (`tests/windows/smoke`), built on
//! its own with `rustc --target x86_64-pc-windows-gnu`: it appends a line to the file
//! `$FAKE_CALLS` names, then prints an ExecCredential with a token unique to the call,
//! expiring in 15 minutes.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    let calls = std::env::var("FAKE_CALLS").expect("FAKE_CALLS names the call log");
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(calls)
        .unwrap();
    writeln!(log, "call").unwrap();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let expires = rfc3339(now.as_secs() + 900);
    println!(
        r#"{{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{{}},"status":{{"expirationTimestamp":"{expires}","token":"fake-{}-{}"}}}}"#,
        now.as_nanos(),
        std::process::id()
    );
}

/// `2026-11-29T10:15:00Z` for seconds since the epoch (days to civil date: Howard
/// Hinnant's algorithm).
fn rfc3339(secs: u64) -> String {
    let (days, rest) = ((secs / 86400) as i64, secs % 86400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

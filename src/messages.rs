//! The one-line messages kubecredcache writes to stderr. Writing them never fails a run:
//! a full or closed stderr (`2>/dev/full`) is ignored, where `eprintln!` would panic.

use std::io::Write;

/// `kubecredcache: MESSAGE`.
pub fn error(message: &str) {
    line(&format!("kubecredcache: {message}\n"));
}

/// `kubecredcache: warning: MESSAGE`.
pub fn warn(message: &str) {
    line(&format!("kubecredcache: warning: {message}\n"));
}

fn line(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

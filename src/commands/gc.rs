//! `kubecredcache gc`: garbage collection now, whatever the interval, and what it removed.

use super::{Out, fail, open_cache};
use crate::settings;

pub fn run(out: &mut Out) -> i32 {
    let cache = match open_cache() {
        Ok(cache) => cache,
        Err(e) => return fail(&e),
    };
    let removed = match cache.collect_garbage(settings::gc_age(), chrono::Utc::now()) {
        Ok(removed) => removed,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return fail(&format!("cannot collect in {}: {e}", cache.path().display())),
    };
    if removed.is_empty() {
        writeln!(out, "nothing to remove");
    }
    for path in removed {
        writeln!(out, "removed {}", path.display());
    }
    0
}

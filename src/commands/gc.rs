//! `kubecredcache gc`: garbage collection now, whatever the interval, and what it removed.

use super::{fail, open_cache};
use crate::settings;

pub fn run() -> i32 {
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
        println!("nothing to remove");
    }
    for path in removed {
        println!("removed {}", path.display());
    }
    0
}

//! `kubecredcache gc`: garbage collection now, whatever the interval, and what it removed.

use super::{cache_dir, fail};
use crate::settings;

pub fn run() -> i32 {
    let dir = match cache_dir() {
        Ok(dir) => dir,
        Err(e) => return fail(&e),
    };
    let removed = match crate::gc::collect(&dir, settings::gc_age(), chrono::Utc::now()) {
        Ok(removed) => removed,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return fail(&format!("cannot collect in {}: {e}", dir.display())),
    };
    if removed.is_empty() {
        println!("nothing to remove");
    }
    for path in removed {
        println!("removed {}", path.display());
    }
    0
}

//! `kubecredcache clear`: delete the cached credentials of one cluster, or all, under
//! the same file locks that writers take, and say what was removed.

use super::{Out, fail, open_cache};
use crate::settings;

pub fn run(out: &mut Out, cluster: Option<&str>, all: bool) -> i32 {
    let cache = match open_cache() {
        Ok(cache) => cache,
        Err(e) => return fail(&e),
    };
    let wait = settings::lock_wait();
    let removed = match (cluster, all) {
        (_, true) => cache.remove_all(wait),
        (Some(cluster), false) => cache.remove_cluster(cluster, wait).map(Vec::from_iter),
        (None, false) => unreachable!("commands::run requires --cluster without --all"),
    };
    let removed = match removed {
        Ok(removed) => removed,
        Err(e) => return fail(&format!("cannot clear {}: {e}", cache.path().display())),
    };
    for (path, entries) in &removed {
        writeln!(
            out,
            "removed {} ({entries} entr{})",
            path.display(),
            if *entries == 1 { "y" } else { "ies" }
        );
    }
    if removed.is_empty() {
        match cluster {
            Some(c) => writeln!(out, "nothing cached for cluster {c}"),
            None => writeln!(out, "nothing cached"),
        }
    }
    0
}

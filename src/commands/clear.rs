//! `kubecredcache clear`: delete the cached credentials of one cluster, or all, under
//! the same file locks that writers take, and say what was removed.

use std::path::Path;

use super::{cache_dir, fail};
use crate::cache_dir as dir;
use crate::cache_file::CacheFile;
use crate::{lock, settings};

pub fn run(cluster: Option<&str>, all: bool) -> i32 {
    let dir = match cache_dir() {
        Ok(dir) => dir,
        Err(e) => return fail(&e),
    };
    let files: Vec<std::path::PathBuf> = if all {
        match dir::cache_files(&dir) {
            Ok(files) => files,
            Err(e) => return fail(&format!("cannot read {}: {e}", dir.display())),
        }
    } else {
        vec![dir.join(dir::cache_file_name(
            cluster.expect("commands::run requires --cluster without --all"),
        ))]
    };
    let mut removed = 0;
    for path in files {
        match remove(&path) {
            Ok(Some(entries)) => {
                removed += 1;
                println!(
                    "removed {} ({entries} entr{})",
                    path.display(),
                    if entries == 1 { "y" } else { "ies" }
                );
            }
            Ok(None) => {}
            Err(e) => return fail(&format!("cannot remove {}: {e}", path.display())),
        }
    }
    if removed == 0 {
        match cluster {
            Some(c) => println!("nothing cached for cluster {c}"),
            None => println!("nothing cached"),
        }
    }
    0
}

/// Removes one cache file under its writers' lock; the number of entries it held, or
/// `None` if there was no file.
fn remove(path: &Path) -> Result<Option<usize>, String> {
    let _held = lock::acquire(&dir::file_lock_path(path), settings::lock_wait())
        .map_err(|e| e.to_string())?
        .ok_or("another process kept the file locked")?;
    let entries = match dir::read_no_follow(path) {
        Ok(None) => return Ok(None),
        Ok(Some(bytes)) => CacheFile::parse(&bytes).map_or(0, |f| f.entries.len()),
        Err(_) => 0, // a symlink or unreadable file: removing it is what the user asked
    };
    std::fs::remove_file(path).map_err(|e| e.to_string())?;
    Ok(Some(entries))
}

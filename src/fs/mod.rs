//! Files as kubecredcache handles them, below everything that keeps files: replacing one
//! atomically (`atomic.rs`), creating and opening them per platform (`platform.rs`), and
//! reading a small one without blocking or reading too much ([`read_small`]). The cache
//! directory and the kubeconfigs `setup` replaces both use it; it knows no other module.

pub mod atomic;
pub mod platform;

use std::fs::{File, Metadata};
use std::io::{self, Read};

/// Makes a FIFO at `path`, for the tests that make sure one is never waited for.
#[cfg(all(test, unix))]
pub fn mkfifo(path: &std::path::Path) {
    use std::os::unix::ffi::OsStrExt;
    let name = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(
        unsafe { libc::mkfifo(name.as_ptr(), 0o600) },
        0,
        "mkfifo {}",
        path.display()
    );
}

/// The contents of `file` (opened not to block: [`platform::open_read`] or
/// [`platform::open_nonblocking`]) when it is a regular file of at most `max` bytes that
/// `accept` takes by its metadata; `Ok(None)` for anything else (a FIFO, a device, a
/// huge file, a file of the wrong owner), which is not read at all.
pub fn read_small(file: File, max: u64, accept: impl FnOnce(&Metadata) -> bool) -> io::Result<Option<Vec<u8>>> {
    let meta = file.metadata()?;
    if !meta.is_file() || meta.len() > max || !accept(&meta) {
        return Ok(None);
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
    file.take(max).read_to_end(&mut bytes)?;
    Ok(Some(bytes))
}

//! The generic cache: everything about keeping credentials on disk, and nothing about
//! any provider.
//!
//! - `key.rs`: [`CacheKey`], the canonical text of a provider's identity;
//! - `file.rs`: [`CacheFile`] and [`CacheEntry`], the document kept per cluster;
//! - `dir.rs`: [`CacheDir`], the one owner of the cache directory: names (`names.rs`),
//!   reads, stores, locks (`lock.rs`), atomic writes (`fs::atomic`), garbage collection
//!   (`gc.rs`), the refresh-ahead markers (`marks.rs`), the failures of fetches
//!   (`failures.rs`: facts only, no text of the command's), its health for `doctor`
//!   (`health.rs`), what may be trusted there (`trust.rs`); its files are created and
//!   opened through `fs::platform`.

mod dir;
mod failures;
mod file;
mod gc;
mod health;
mod key;
mod lock;
mod marks;
mod names;
mod trust;

pub use dir::CacheDir;
pub use failures::Failure;
pub use file::{CacheEntry, CacheFile, FORMAT_VERSION};
pub use health::Health;
pub use key::{CacheKey, digest_of};
pub use lock::{Lock, SLOW as SLOW_WAIT};
pub use names::{Kind as FileKind, classify as classify_file_name};
pub use trust::{MAX_FILE_BYTES, Untrusted};

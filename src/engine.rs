//! One wrapped run, `kubecredcache COMMAND ARGS...`: serve a fresh cached credential if
//! there is one (the hit path: parse args, read one file, print), else fetch it with the
//! command, once across concurrent processes, store it and print it.
//!
//! Nothing here may make a kubectl run fail that would have succeeded without us: every
//! cache problem ends in running the command uncached.

use std::ffi::{OsStr, OsString};
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::args::os_to_string;
use crate::cache_dir::{self, FLIGHT_PREFIX, LOCK_SUFFIX};
use crate::cache_file::{CacheEntry, CacheFile};
use crate::cache_key::CacheKey;
use crate::exec_credential::{ExecCredential, ExecInfo};
use crate::provider::{self, Identity, ProcessEnv, Provider};
use crate::{atomic_file, gc, lock, refresh, settings, sources, upstream};

/// Runs the wrapped command through the cache and returns the exit code.
pub fn run(program: &OsStr, raw_args: &[OsString], force_refresh: bool) -> i32 {
    let args: Vec<String> = raw_args.iter().map(|a| os_to_string(a)).collect();
    let Some(provider) = provider::recognise(program, &args) else {
        log::debug!(
            "no provider recognises {}; running it uncached",
            program.to_string_lossy()
        );
        return upstream::exec(program, raw_args);
    };
    run_converted(provider, program, raw_args, args, force_refresh)
}

/// Runs the wrapped command through the cache with a provider chosen already (the
/// registry's, or `--generic`'s).
/// `force_refresh` (or `KUBECREDCACHE_FORCE_REFRESH=1`) skips the cache read.
pub fn run_with(provider: &dyn Provider, program: &OsStr, raw_args: &[OsString], force_refresh: bool) -> i32 {
    let args: Vec<String> = raw_args.iter().map(|a| os_to_string(a)).collect();
    run_converted(provider, program, raw_args, args, force_refresh)
}

fn run_converted(
    provider: &dyn Provider,
    program: &OsStr,
    raw_args: &[OsString],
    args: Vec<String>,
    force_refresh: bool,
) -> i32 {
    if settings::disabled() {
        log::debug!("cache disabled by {}", settings::DISABLE);
        return upstream::exec(program, raw_args);
    }
    let identity = match provider.identity(&args, &ProcessEnv) {
        Ok(identity) => identity,
        Err(why) => {
            log::debug!("{}: {why}; running it uncached", provider.name());
            return upstream::exec(program, raw_args);
        }
    };
    let Some(dir) = settings::cache_dir() else {
        eprintln!(
            "kubecredcache: warning: no home directory and no {} set; running without cache",
            settings::DIR
        );
        return upstream::exec(program, raw_args);
    };
    let exec_info = ExecInfo::parse(std::env::var("KUBERNETES_EXEC_INFO").ok().as_deref());
    let request = Request {
        program,
        raw_args,
        args,
        provider,
        key: CacheKey::new(provider.name(), &identity),
        path: dir.join(cache_dir::cache_file_name(&identity.cluster)),
        identity,
        dir,
        exec_info,
        margin: settings::expiry_margin(),
    };
    log::debug!(
        "{}: cluster {:?}, key #{}",
        provider.name(),
        request.key.cluster(),
        request.key.short_hash()
    );

    // The background refresh (refresh.rs) fetches even though the entry is still good.
    if let Some(hash) = std::env::var_os(refresh::CHILD_ENV) {
        let code = request.fetch(Freshness::NotDue);
        let refreshed = request
            .lookup(Utc::now())
            .is_some_and(|e| !refresh::is_due(settings::refresh_ahead(), &e, Utc::now()));
        refresh::finish(
            &request.dir,
            &hash.to_string_lossy(),
            if refreshed { Ok(()) } else { Err(code) },
        );
        return code;
    }
    if force_refresh || settings::force_refresh() {
        log::debug!("force refresh: not reading the cache");
        return request.fetch(Freshness::Never);
    }
    let now = Utc::now();
    if let Some(entry) = request.lookup(now) {
        log::debug!("hit: expires {}", entry.expires);
        let code = print(&entry.exec_credential(), request.exec_info.api_version.as_deref());
        request.maybe_refresh_ahead(&entry, now);
        return code;
    }
    request.fetch(Freshness::Fresh)
}

/// What a process that took the single-flight lock accepts from the cache instead of
/// fetching: what another process fetched meanwhile.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Freshness {
    /// Any token that is fresh (a normal miss).
    Fresh,
    /// Only a token that is not due for refresh (the background refresh).
    NotDue,
    /// Nothing: fetch whatever is cached (a forced refresh).
    Never,
}

struct Request<'a> {
    program: &'a OsStr,
    raw_args: &'a [OsString],
    args: Vec<String>,
    provider: &'a dyn Provider,
    identity: Identity,
    key: CacheKey,
    dir: PathBuf,
    path: PathBuf,
    exec_info: ExecInfo,
    margin: Duration,
}

impl Request<'_> {
    /// The hit path: one read, no lock, no write.
    fn lookup(&self, now: DateTime<Utc>) -> Option<CacheEntry> {
        let bytes = match cache_dir::read_no_follow(&self.path) {
            Ok(bytes) => bytes?,
            Err(e) => {
                log::debug!("cannot read {}: {e}", self.path.display());
                return None;
            }
        };
        let Some(mut file) = CacheFile::parse(&bytes) else {
            log::debug!(
                "{} is not a cache file of this version; ignoring it",
                self.path.display()
            );
            return None;
        };
        let entry = file.entries.remove(self.key.as_str())?;
        if !entry.is_fresh(now, self.margin) {
            return None;
        }
        let sources = self.provider.credential_sources(&self.args, &ProcessEnv);
        if !sources.is_empty() && sources::latest_change(&sources) > entry.sources_changed {
            log::debug!("the credential sources changed after this token was fetched; not serving it");
            return None;
        }
        Some(entry)
    }

    /// After a hit: start a background refresh if the token is near its end and nobody
    /// may need to be asked anything (refresh.rs).
    fn maybe_refresh_ahead(&self, entry: &CacheEntry, now: DateTime<Utc>) {
        if !refresh::is_due(settings::refresh_ahead(), entry, now) {
            return;
        }
        if self.provider.may_prompt(&self.args, &ProcessEnv) {
            log::debug!(
                "refresh ahead: {} may prompt; not in the background",
                self.provider.name()
            );
            return;
        }
        if self.exec_info.spec.interactive && refresh::fetched_with_a_person(entry) {
            log::debug!("refresh ahead: this token was fetched with a person's help; not in the background");
            return;
        }
        refresh::start(&self.dir, &self.key.short_hash(), self.program, self.raw_args);
    }

    /// The miss path: fetch once across processes, store, print, collect garbage.
    fn fetch(&self, accept: Freshness) -> i32 {
        let usable_dir = match cache_dir::ensure_private_dir(&self.dir) {
            Ok(()) => true,
            Err(e) => {
                warn_uncached(&format!("cache directory {} is not usable ({e})", self.dir.display()));
                false
            }
        };
        // Single flight: whoever holds this lock is fetching this key; the others wait
        // for it and then find its token in the cache. A dead holder's lock is gone.
        let _flight = usable_dir.then(|| self.take_flight_lock()).flatten();
        if _flight.is_some()
            && let Some(entry) = self.lookup(Utc::now())
            && match accept {
                Freshness::Fresh => true,
                Freshness::NotDue => !refresh::is_due(settings::refresh_ahead(), &entry, Utc::now()),
                Freshness::Never => false,
            }
        {
            log::debug!("another process fetched it meanwhile");
            return print(&entry.exec_credential(), self.exec_info.api_version.as_deref());
        }

        log::debug!("miss: running {}", self.program.to_string_lossy());
        let started = std::time::Instant::now();
        let finished = match upstream::run(self.program, self.raw_args) {
            Ok(finished) => finished,
            Err(e) => return upstream::report_spawn_error(self.program, &e),
        };
        if !finished.status.success() {
            // Its stderr has already gone to ours; its stdout is dropped, nothing cached.
            return upstream::exit_code(finished.status);
        }
        let Some(credential) = ExecCredential::parse(&finished.stdout) else {
            log::warn!(
                "{} printed something that is not an ExecCredential; passing it through uncached",
                self.provider.name()
            );
            return pass_through(&finished.stdout);
        };
        let now = Utc::now();
        let Some(stated) = credential.expires else {
            log::debug!("credential has no expiry; not caching it");
            return pass_through(&finished.stdout);
        };
        // The token itself may die earlier than it says (an EKS token: 15 minutes after signing).
        let expires = match credential.token.as_deref().and_then(|t| self.provider.expiry_bound(t)) {
            Some(bound) if bound < stated => {
                log::debug!("the token's signing time ends it at {bound}, before its stated {stated}");
                bound
            }
            _ => stated,
        };
        let mut entry = CacheEntry::new(self.provider.name(), &self.identity.parts, &credential, expires, now);
        // A token that would not be served from the cache is not worth storing.
        if usable_dir && entry.is_fresh(now, self.margin) {
            entry.interactive = self.exec_info.spec.interactive;
            entry.fetch_seconds = started.elapsed().as_secs_f64();
            // Taken after the plugin ran: it may itself have written to its caches.
            entry.sources_changed = sources::latest_change(&self.provider.credential_sources(&self.args, &ProcessEnv));
            if let Err(e) = self.store(entry, now) {
                warn_uncached(&format!("cannot write {} ({e})", self.path.display()));
            }
        }
        drop(_flight);
        let code = print(&credential, self.exec_info.api_version.as_deref());
        if usable_dir {
            gc::maybe_collect(&self.dir, settings::gc_interval(), settings::gc_age());
        }
        code
    }

    fn take_flight_lock(&self) -> Option<lock::Lock> {
        let path = self
            .dir
            .join(format!("{FLIGHT_PREFIX}{}{LOCK_SUFFIX}", self.key.short_hash()));
        match lock::acquire(&path, settings::lock_wait()) {
            Ok(Some(held)) => Some(held),
            Ok(None) => {
                log::warn!(
                    "waited {:?} for another process fetching the same token; fetching too",
                    settings::lock_wait()
                );
                None
            }
            Err(e) => {
                log::warn!("cannot lock {}: {e}; fetching without single flight", path.display());
                None
            }
        }
    }

    /// Read-modify-write of the cache file under its lock, so that concurrent writers
    /// of other keys keep their entries.
    fn store(&self, entry: CacheEntry, now: DateTime<Utc>) -> io::Result<()> {
        let lock_path = cache_dir::file_lock_path(&self.path);
        let _held = lock::acquire(&lock_path, settings::lock_wait())?
            .ok_or_else(|| io::Error::other("timed out waiting for the cache file lock"))?;
        let mut file = cache_dir::read_no_follow(&self.path)?
            .and_then(|bytes| CacheFile::parse(&bytes))
            .unwrap_or_else(|| CacheFile::new(self.key.cluster()));
        file.insert(&self.key, entry, now);
        atomic_file::write(&self.path, file.to_yaml().as_bytes(), 0o600)?;
        log::debug!("stored in {}", self.path.display());
        Ok(())
    }
}

fn print(credential: &ExecCredential, wanted_api_version: Option<&str>) -> i32 {
    let mut text = credential.render(wanted_api_version);
    text.push('\n');
    write_stdout(text.as_bytes())
}

fn pass_through(stdout: &[u8]) -> i32 {
    write_stdout(stdout)
}

fn write_stdout(bytes: &[u8]) -> i32 {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("kubecredcache: cannot write the credential to stdout: {e}");
            1
        }
    }
}

fn warn_uncached(what: &str) {
    eprintln!("kubecredcache: warning: {what}; serving without cache");
}

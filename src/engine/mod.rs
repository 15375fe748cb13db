//! One wrapped run, `kubecredcache COMMAND ARGS...`: cached and fresh? Print it (and
//! maybe start a refresh ahead). Else fetch it under the single-flight lock, store it,
//! print it. This file is the policy in a screen; the steps live beside it:
//!
//! - `fetch.rs`: the miss path (reuse what another process fetched meanwhile; run the
//!   command; store);
//! - `failures.rs`: no login storms (a failure is shared, and cools down);
//! - `refresh.rs`: refresh ahead (when a hit starts one, and the detached run itself);
//! - `output.rs`: what reaches kubectl's stdout, and warnings.
//!
//! Nothing here may make a kubectl run fail that would have succeeded without us: every
//! cache problem ends in running the command uncached.

mod failures;
mod fetch;
mod output;
mod refresh;

use std::ffi::{OsStr, OsString};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::cache::{CacheDir, CacheEntry, CacheKey, Untrusted};
use crate::exec_credential::ExecInfo;
use crate::provider::{self, Env, Identity, ParsedArgs, ProcessEnv, Provider};
use crate::sources::Snapshot;
use crate::{settings, upstream};

pub use refresh::{CHILD_ENV, RefreshState, due_with, refresh_state, refresh_state_with};

/// Runs the wrapped command through the cache and returns the exit code.
pub fn run(program: &OsStr, raw_args: &[OsString], force_refresh: bool) -> i32 {
    let args: Vec<String> = raw_args.iter().map(|a| provider::os_to_string(a)).collect();
    let Some(found) = provider::recognise(program, &args) else {
        log::debug!(
            "no provider recognises {}; running it uncached",
            program.to_string_lossy()
        );
        return upstream::exec(program, raw_args, &[]);
    };
    run_with(found.provider, &found.args, program, raw_args, force_refresh)
}

/// Runs the wrapped command through the cache with a provider chosen already (the
/// registry's, or `--generic`'s) and the arguments as it read them. `force_refresh` (or
/// `KUBECREDCACHE_FORCE_REFRESH=1`) skips the cache read.
pub fn run_with(
    provider: &dyn Provider,
    args: &ParsedArgs,
    program: &OsStr,
    raw_args: &[OsString],
    force_refresh: bool,
) -> i32 {
    let Some(request) = Request::new(provider, args, program, raw_args) else {
        // Uncached, but still with the provider's changes to the command's environment,
        // unless caching is off: then the command runs exactly as without us.
        let env = if settings::disabled() {
            &[][..]
        } else {
            provider.child_env()
        };
        return upstream::exec(program, raw_args, env);
    };
    if let Some(hash) = refresh::started_as_refresh() {
        return request.refresh_in_background(&hash);
    }
    if force_refresh || settings::force_refresh() {
        log::debug!("force refresh: not reading the cache");
        return request.fetch(Accept::Nothing);
    }
    let now = Utc::now();
    match request.lookup(now) {
        Ok(Some(entry)) => request.serve_hit(&entry, now),
        Ok(None) => request.fetch(Accept::AnyFresh),
        Err(untrusted) => {
            output::warn_uncached(&untrusted.to_string());
            upstream::exec(program, raw_args, provider.child_env())
        }
    }
}

/// The identity part that holds the program as given: a path always, a bare name for
/// `--generic` (where the name is all we know).
pub const PROGRAM_PART: &str = "program";

/// The identity a provider reads from `args` and `env`, and the cache key a run with
/// them uses; an error (why) when it cannot be keyed safely and runs uncached. `doctor`
/// asks the same with the environment a kubeconfig gives the command.
pub fn cache_key(
    provider: &dyn Provider,
    program: &OsStr,
    args: &ParsedArgs,
    env: &dyn Env,
) -> Result<(Identity, CacheKey), String> {
    let mut identity = provider.identity(args, env)?;
    // Two programs named by path (`/opt/prod/aws` and `/opt/dev/aws`, wrapper scripts
    // that sign in differently) are two identities, and `bin/aws` is another program in
    // each working directory: a path is keyed absolute. A bare name stays out (but for
    // `--generic`, which keys it as given): the key must not change with PATH.
    if let Some(path) = provider::program_path_part(program) {
        match identity.parts.iter_mut().find(|(name, _)| *name == PROGRAM_PART) {
            Some((_, given)) => *given = path,
            None => identity.parts.push((PROGRAM_PART, path)),
        }
    }
    let key = CacheKey::new(provider.name(), &identity);
    Ok((identity, key))
}

/// What a process that took the single-flight lock accepts from the cache instead of
/// fetching: what another process fetched meanwhile.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Accept {
    /// Any token that is fresh (a normal miss).
    AnyFresh,
    /// Nothing: fetch whatever is cached (a forced refresh).
    Nothing,
}

/// One wrapped run whose command a provider keyed.
struct Request<'a> {
    program: &'a OsStr,
    raw_args: &'a [OsString],
    args: &'a ParsedArgs<'a>,
    provider: &'a dyn Provider,
    identity: Identity,
    key: CacheKey,
    cache: CacheDir,
    exec_info: ExecInfo,
    margin: Duration,
}

impl<'a> Request<'a> {
    /// `None` when the run must not use the cache: caching disabled, an identity that
    /// cannot be keyed safely, or nowhere to keep a cache (the reason is logged or warned).
    fn new(
        provider: &'a dyn Provider,
        args: &'a ParsedArgs<'a>,
        program: &'a OsStr,
        raw_args: &'a [OsString],
    ) -> Option<Request<'a>> {
        if settings::disabled() {
            log::debug!("cache disabled by {}", settings::DISABLE);
            return None;
        }
        let (identity, key) = cache_key(provider, program, args, &ProcessEnv)
            .inspect_err(|why| log::debug!("{}: {why}; running it uncached", provider.name()))
            .ok()?;
        let path = settings::cache_dir_path()
            .inspect_err(|why| output::warn(&format!("{why}; running without cache")))
            .ok()?;
        log::debug!(
            "{}: cluster {:?}, key #{}",
            provider.name(),
            key.cluster(),
            key.digest()
        );
        Some(Request {
            program,
            raw_args,
            args,
            provider,
            identity,
            key,
            cache: CacheDir::new(path),
            exec_info: ExecInfo::parse(std::env::var("KUBERNETES_EXEC_INFO").ok().as_deref()),
            margin: settings::expiry_margin(),
        })
    }

    /// The entry to serve at `now`: stored for this key, fresh, and fetched while the
    /// provider's credential sources were exactly as they are now. An error when the
    /// cache directory may not be trusted.
    fn lookup(&self, now: DateTime<Utc>) -> Result<Option<CacheEntry>, Untrusted> {
        let Some(entry) = self.cache.entry(&self.key)? else {
            return Ok(None);
        };
        if !entry.is_fresh(now, self.margin) {
            return Ok(None);
        }
        if self.sources_now().as_str() != entry.sources {
            log::debug!("the credential sources are not as they were when this token was fetched; not serving it");
            return Ok(None);
        }
        Ok(Some(entry))
    }

    /// The hit: print the cached credential, then maybe start a refresh ahead.
    fn serve_hit(&self, entry: &CacheEntry, now: DateTime<Utc>) -> i32 {
        log::debug!("hit: expires {}", entry.expires);
        let code = output::credential(&entry.exec_credential(), self.wanted_api_version());
        self.maybe_refresh_ahead(entry, now);
        code
    }

    /// The provider's credential sources as they are now.
    fn sources_now(&self) -> Snapshot {
        Snapshot::of(&self.provider.credential_sources(self.args, &ProcessEnv))
    }

    /// The apiVersion kubectl asked for in `KUBERNETES_EXEC_INFO`, if any.
    fn wanted_api_version(&self) -> Option<&str> {
        self.exec_info.api_version.as_deref()
    }
}

//! One wrapped run, `kubecredcache COMMAND ARGS...`: cached and fresh? Print it (and
//! maybe start a refresh ahead). Else fetch it under the single-flight lock, store it,
//! print it. This file is the policy in a screen; the steps live beside it:
//!
//! - `fetch.rs`: the miss path (reuse what another process fetched meanwhile; run the
//!   command; store);
//! - `failures.rs`: no login storms (a failure is shared, and cools down);
//! - `refresh.rs`: refresh ahead (when a hit starts one, and the detached run itself);
//! - `output.rs`: what reaches kubectl's stdout, and warnings;
//! - `spawn.rs`: the command run as kubectl would, without our refresh marker.
//!
//! Nothing here may make a kubectl run fail that would have succeeded without us: every
//! cache problem ends in running the command uncached.

mod failures;
mod fetch;
mod output;
mod refresh;
mod spawn;

use std::ffi::{OsStr, OsString};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::cache::{CacheDir, CacheEntry, CacheKey, Untrusted};
use crate::exec_credential::ExecInfo;
use crate::generic::Generic;
use crate::provider::{self, Env, Identity, PROGRAM_PART, ParsedArgs, ProcessEnv, Provider};
use crate::settings;
use crate::sources::Snapshot;

pub use refresh::{RefreshState, due_with, refresh_state_with};

/// Runs the wrapped command through the cache and returns the exit code. `generic`:
/// `--generic` with its `--key-env` variables. `force_refresh` (or
/// `KUBECREDCACHE_FORCE_REFRESH=1`) skips the cache read.
pub fn run(program: &OsStr, raw_args: &[OsString], force_refresh: bool, generic: Option<Vec<String>>) -> i32 {
    if settings::disabled_in(&ProcessEnv) {
        // The command runs exactly as without us.
        log::debug!("cache disabled by {}", settings::DISABLE);
        return spawn::exec(program, raw_args, &[]);
    }
    let args: Vec<String> = raw_args.iter().map(|a| provider::os_to_string(a)).collect();
    let Some(plan) = plan(program, &args, generic, &ProcessEnv) else {
        log::debug!(
            "no provider recognises {}; running it uncached",
            program.to_string_lossy()
        );
        return spawn::exec(program, raw_args, &[]);
    };
    let Some(request) = Request::new(&plan, program, raw_args) else {
        // Uncached, but still with the provider's changes to the command's environment.
        return spawn::exec(program, raw_args, plan.keyer.provider().child_env());
    };
    if let Ok(hash) = std::env::var(refresh::CHILD_ENV) {
        return request.refresh_in_background(&hash);
    }
    if force_refresh || settings::force_refresh_in(&ProcessEnv) {
        log::debug!("force refresh: not reading the cache");
        return request.fetch(Accept::Nothing);
    }
    let now = Utc::now();
    match request.lookup(now) {
        Ok(Some(entry)) => request.serve_hit(&entry, now),
        Ok(None) => request.fetch(Accept::AnyFresh),
        Err(untrusted) => {
            output::warn_uncached(&untrusted.to_string());
            spawn::exec(program, raw_args, request.provider.child_env())
        }
    }
}

/// The provider that keys a wrapped command: one the registry holds, or `--generic`.
pub enum Keyer {
    Registered(&'static dyn Provider),
    Generic(Generic),
}

impl Keyer {
    pub fn provider(&self) -> &dyn Provider {
        match self {
            Keyer::Registered(provider) => *provider,
            Keyer::Generic(generic) => generic,
        }
    }
}

/// What a run of a command does: which provider keys it, the arguments as that provider
/// reads them, and the identity and cache key (or why it cannot be keyed and runs
/// uncached).
pub struct Plan<'a> {
    pub keyer: Keyer,
    pub args: ParsedArgs<'a>,
    pub keyed: Result<(Identity, CacheKey), String>,
}

/// Decides what a run of `program args` does, with the environment `env`: `--generic`'s
/// keying when `generic` (its `--key-env` variables) asks for it, else the registered
/// provider that recognises the command; `None` when none does (it runs uncached). A
/// wrapped run asks with its own environment, `doctor` with the one a kubeconfig entry
/// gives the command, so that doctor cannot drift from a run.
pub fn plan<'a>(program: &OsStr, args: &'a [String], generic: Option<Vec<String>>, env: &dyn Env) -> Option<Plan<'a>> {
    let (keyer, args) = match generic {
        Some(key_env) => {
            let generic = Generic {
                program: provider::os_to_string(program),
                key_env,
            };
            let args = provider::parse(args, generic.inputs());
            (Keyer::Generic(generic), args)
        }
        None => {
            let found = provider::recognise(program, args)?;
            (Keyer::Registered(found.provider), found.args)
        }
    };
    let keyed = keyer.provider().identity(&args, env).map(|mut identity| {
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
        let key = CacheKey::new(keyer.provider().name(), &identity);
        (identity, key)
    });
    Some(Plan { keyer, args, keyed })
}

/// Whether a cache entry may be served.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Served {
    /// Past its end, less the expiry margin (or written in the future).
    Expired,
    /// Fresh, but the credential sources are not as they were when it was fetched.
    Stale,
    Fresh,
}

/// Whether `entry` may be served at `now`: fresh by `margin`, and fetched while the
/// provider's credential sources were as `sources_now` says they are (asked of a fresh
/// entry only, so that an expired one costs no look at the sources). The hit and
/// `doctor` both judge with this.
pub fn judge(
    entry: &CacheEntry,
    now: DateTime<Utc>,
    margin: Duration,
    sources_now: impl FnOnce() -> Snapshot,
) -> Served {
    if !entry.is_fresh(now, margin) {
        Served::Expired
    } else if sources_now().as_str() != entry.sources {
        Served::Stale
    } else {
        Served::Fresh
    }
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
    identity: &'a Identity,
    key: &'a CacheKey,
    cache: CacheDir,
    exec_info: ExecInfo,
    margin: Duration,
}

impl<'a> Request<'a> {
    /// `None` when the run must not use the cache: an identity that cannot be keyed
    /// safely, or nowhere to keep a cache (the reason is logged or warned).
    fn new(plan: &'a Plan<'a>, program: &'a OsStr, raw_args: &'a [OsString]) -> Option<Request<'a>> {
        let provider = plan.keyer.provider();
        let (identity, key) = plan
            .keyed
            .as_ref()
            .inspect_err(|why| log::debug!("{}: {why}; running it uncached", provider.name()))
            .ok()?;
        let path = settings::cache_dir_path_in(&ProcessEnv)
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
            args: &plan.args,
            provider,
            identity,
            key,
            cache: CacheDir::new(path),
            exec_info: ExecInfo::parse(std::env::var("KUBERNETES_EXEC_INFO").ok().as_deref()),
            margin: settings::expiry_margin_in(&ProcessEnv),
        })
    }

    /// The entry to serve at `now`: stored for this key, fresh, and fetched while the
    /// provider's credential sources were exactly as they are now. An error when the
    /// cache directory may not be trusted.
    fn lookup(&self, now: DateTime<Utc>) -> Result<Option<CacheEntry>, Untrusted> {
        let Some(entry) = self.cache.entry(self.key)? else {
            return Ok(None);
        };
        match judge(&entry, now, self.margin, || self.sources_now()) {
            Served::Fresh => Ok(Some(entry)),
            Served::Expired => Ok(None),
            Served::Stale => {
                log::debug!("the credential sources are not as they were when this token was fetched; not serving it");
                Ok(None)
            }
        }
    }

    /// The hit: print the cached credential, then maybe start a refresh ahead.
    fn serve_hit(&self, entry: &CacheEntry, now: DateTime<Utc>) -> i32 {
        log::debug!("hit: expires {}", entry.expires);
        let code = output::credential(&entry.exec_credential(), self.exec_info.api_version.as_deref());
        self.maybe_refresh_ahead(entry, now);
        code
    }

    fn sources_now(&self) -> Snapshot {
        Snapshot::of(&self.provider.credential_sources(self.args, &ProcessEnv))
    }
}

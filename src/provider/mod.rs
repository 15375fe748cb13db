//! The provider registry: one trait that every authenticator implements (in its own file
//! under the top-level `providers/`) and one `inventory::collect!` that gathers them. The
//! cache engine sees only this trait and the [`Identity`] it returns.
//!
//! - `inputs.rs`: what a provider declares it reads (flags, variables, and their part in
//!   the cache key);
//! - `args.rs`: reading arguments with those declarations;
//! - `identity.rs`: the [`Identity`] they give;
//! - `paths.rs`: path values expanded as each program expands them;
//! - `launcher.rs`: launchers (`aws-vault exec`, `env`), which run a command another
//!   provider recognises;
//! - `contract.rs` (tests only): the kit every provider's tests run.

mod args;
#[cfg(test)]
pub mod contract;
mod identity;
mod inputs;
pub(crate) mod launcher;
mod paths;

use std::ffi::OsStr;
use std::path::PathBuf;

pub use args::{ParsedArgs, os_to_string, parse, string_to_os};
pub use identity::{Env, Identity, PROGRAM_PART, ProcessEnv, secret_digest};
pub use inputs::{EnvOrder, Flag, Inputs, Role, Syntax, Var, first_set};
pub use launcher::{
    EnvChange, LAUNCHED_PROGRAM_PART, Launcher, after_double_dash, go_duration, kingpin_reads_an_arguments_file,
    launchers,
};
pub use paths::{Expand, expand_path, keyed_path};

/// An authenticator whose token command kubecredcache knows how to key.
///
/// Register an implementation with
/// `inventory::submit! { &MyProvider as &dyn kubecredcache::provider::Provider }`.
/// `docs/providers.md` walks through writing one.
pub trait Provider: Sync {
    /// Short, stable name; part of every cache key, so never change it once released.
    fn name(&self) -> &'static str;
    /// The invocation it recognises, for `list-providers` (e.g. `aws ... eks get-token`).
    fn command(&self) -> &'static str;
    /// One line for `list-providers`.
    fn description(&self) -> &'static str;
    /// The programs it is, and every flag and variable that decides the token.
    fn inputs(&self) -> &'static Inputs;
    /// Whether running `program` (one of `inputs().programs`) with `args` (read with
    /// `inputs()`) is this authenticator's token command. Must be exact: a provider never
    /// claims another's invocation.
    fn recognises(&self, program: &str, args: &ParsedArgs) -> bool;
    /// Everything that decides which token the command prints: usually
    /// [`Identity::declared`], which keys what `inputs()` declares, with a cluster.
    /// Read the environment through `env`, never `std::env`, so tests can set it. An error
    /// means "cannot key this safely": the command then runs uncached.
    fn identity(&self, args: &ParsedArgs, env: &dyn Env) -> Result<Identity, String>;
    /// Whether this invocation may need a person (a browser login, a device code, an
    /// MFA prompt). Such commands are never refreshed in the background, where nobody
    /// could answer. Most token commands do not prompt; the default says so.
    fn may_prompt(&self, _args: &ParsedArgs, _env: &dyn Env) -> bool {
        false
    }
    /// The latest time `token` can still be accepted, if the token or what signed it
    /// says (an EKS token is a presigned URL that dies 15 minutes after it was signed,
    /// whatever its `expirationTimestamp` claims; a token signed with credentials that
    /// expire dies with them). Asked right after the command printed `token`, with its
    /// arguments and environment. The engine serves a token until the earlier of this
    /// and the stated expiry. `None`: the stated expiry stands.
    fn expiry_bound(&self, _token: &str, _args: &ParsedArgs, _env: &dyn Env) -> Option<chrono::DateTime<chrono::Utc>> {
        None
    }
    /// When `token` was issued, if the token itself says (an EKS token's signing time).
    /// A token issued in the future is never served: the clock was stepped back since.
    fn issued_at(&self, _token: &str) -> Option<chrono::DateTime<chrono::Utc>> {
        None
    }
    /// Files and directories the authenticator's credentials come from (for a directory,
    /// the files in it count too). A cached token is not served once any of them changed
    /// after it was fetched: a new sign-in or new keys take effect at the next run.
    fn credential_sources(&self, _args: &ParsedArgs, _env: &dyn Env) -> Vec<PathBuf> {
        Vec::new()
    }
    /// Changes to the command's environment when kubecredcache runs it, for that child
    /// alone: `(name, Some(value))` sets a variable, `(name, None)` removes it. For user
    /// settings that make the command print something that is not a credential, or wait
    /// for a person (a default output format, a pager, an auto-prompt). They must not
    /// change whose token it prints: the contract kit checks that none of them is among
    /// the variables the key is made of.
    fn child_env(&self) -> &'static [(&'static str, Option<&'static str>)] {
        &[]
    }
}

inventory::collect!(&'static dyn Provider);

/// The home directory in `env`, the one home lookup of kubecredcache: `HOME` on Unix;
/// on Windows `USERPROFILE` (where Python's `expanduser` and Go's `os.UserHomeDir`
/// look), else `HOME`; set and not empty. The authenticators' files are found with it
/// as they find them; the cache directory and the default kubeconfig fall back to the
/// system's record of the user when it is `None`.
pub fn home_dir(env: &dyn Env) -> Option<PathBuf> {
    let var = |name| env.var_os(name).filter(|v| !v.is_empty());
    let home = if cfg!(windows) {
        var("USERPROFILE").or_else(|| var("HOME"))
    } else {
        var("HOME")
    };
    home.map(PathBuf::from)
}

/// Reads a small file the authenticator itself reads (its configuration), carefully:
/// without blocking on a FIFO, and only a regular file of at most 1 MiB. `None` for
/// anything else, as for a file that is not there.
pub fn read_config_file(path: &std::path::Path) -> Option<String> {
    let file = crate::fs::platform::open_nonblocking(path).ok()?;
    let bytes = crate::fs::read_small(file, 1 << 20, |_| true).ok()??;
    String::from_utf8(bytes).ok()
}

/// The name a provider knows a program by: its file name, and on Windows without the
/// extension that made it runnable (`aws.exe`, `aws.cmd` are `aws`), in any case.
pub fn program_name(program: &OsStr) -> Option<std::borrow::Cow<'_, str>> {
    let path = std::path::Path::new(program);
    let name = path.file_name()?.to_str()?;
    if cfg!(windows) {
        let runnable = ["exe", "cmd", "bat", "com"];
        let stem = match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if runnable.contains(&ext.to_ascii_lowercase().as_str()) => path.file_stem()?.to_str()?,
            _ => name,
        };
        return Some(std::borrow::Cow::Owned(stem.to_ascii_lowercase()));
    }
    Some(std::borrow::Cow::Borrowed(name))
}

/// Base64url without padding (RFC 4648 §5), as EKS tokens and JWTs use; `=` is tolerated.
/// `None` for anything else.
pub fn decode_base64url(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    };
    let text = text.trim_end_matches('=').as_bytes();
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= u32::from(value(*c)?) << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

/// A provider that recognised a command, with the command's arguments as it read them.
pub struct Recognised<'a> {
    pub provider: &'static dyn Provider,
    pub args: ParsedArgs<'a>,
}

/// Every registered provider, sorted by name so that listings are stable.
pub fn registered() -> Vec<&'static dyn Provider> {
    let mut all: Vec<&'static dyn Provider> = inventory::iter::<&'static dyn Provider>().copied().collect();
    all.sort_by_key(|p| p.name());
    all
}

/// The provider whose token command this is, if any: a registered provider's, or a
/// launcher's running a command that one recognises. `program` is the command as given
/// (a name or a path); only its file name counts.
pub fn recognise<'a>(program: &OsStr, args: &'a [String]) -> Option<Recognised<'a>> {
    let name = program_name(program)?;
    let name = name.as_ref();
    // No sorting here (this runs on every kubectl run): order does not matter, since the
    // contract kit checks that no two providers claim one invocation. Arguments are
    // parsed only for providers of this program.
    inventory::iter::<&'static dyn Provider>()
        .copied()
        .filter(|p| p.inputs().programs.contains(&name))
        .find_map(|provider| {
            let args = parse(args, provider.inputs());
            provider
                .recognises(name, &args)
                .then_some(Recognised { provider, args })
        })
        .or_else(|| launcher::recognise(name, args).map(|(provider, args)| Recognised { provider, args }))
}

/// A program named by a path, as it is keyed: absolute (`bin/aws` is another program in
/// each working directory), a digest when it is not UTF-8. `None` for a bare name,
/// which is keyed by the provider's name alone: the key must not change with PATH.
pub fn program_path_part(program: &OsStr) -> Option<String> {
    let bytes = program.as_encoded_bytes();
    if !(bytes.contains(&b'/') || (cfg!(windows) && bytes.contains(&b'\\'))) {
        return None;
    }
    let absolute = std::path::absolute(program).unwrap_or_else(|_| program.into());
    Some(
        absolute
            .to_str()
            .map_or_else(|| secret_digest(absolute.as_os_str().as_encoded_bytes()), String::from),
    )
}

/// For tests: `path` made absolute as this platform does (`/etc/aws` is `Z:\\etc\\aws`
/// on Windows), as text, the way a path value is keyed.
#[cfg(test)]
pub fn absolute_text(path: &str) -> String {
    os_to_string(std::path::absolute(path).expect("an absolute path").as_os_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_provider_says_what_it_is() {
        let all = registered();
        assert!(!all.is_empty());
        let mut names: Vec<_> = all.iter().map(|p| p.name()).collect();
        names.dedup();
        assert_eq!(names.len(), all.len(), "two providers share a name: {names:?}");
        for p in all {
            assert!(!p.command().is_empty() && !p.description().is_empty(), "{}", p.name());
            assert!(!p.inputs().programs.is_empty(), "{} names no program", p.name());
        }
    }

    /// A file in `providers/` without its line in `providers/mod.rs` would compile to
    /// nothing and register nothing, silently.
    #[test]
    fn every_provider_file_has_its_line() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("providers");
        let listed = std::fs::read_to_string(dir.join("mod.rs")).unwrap();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let stem = path.file_stem().unwrap().to_str().unwrap();
            if path.extension().is_some_and(|e| e == "rs") && stem != "mod" {
                let line = format!("pub mod {stem};");
                assert!(listed.lines().any(|l| l == line), "providers/mod.rs lacks `{line}`");
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn config_files_are_read_only_when_small_and_regular() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("config");
        std::fs::write(&path, "[default]\n").unwrap();
        assert_eq!(read_config_file(&path).as_deref(), Some("[default]\n"));
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(2 << 20)
            .unwrap();
        assert_eq!(read_config_file(&path), None, "too big");
        let fifo = tmp.path().join("fifo");
        crate::fs::mkfifo(&fifo);
        assert_eq!(read_config_file(&fifo), None, "a FIFO is not waited for");
        assert_eq!(read_config_file(&tmp.path().join("absent")), None);
    }

    #[test]
    fn recognition_uses_the_file_name_of_the_program() {
        let args: Vec<String> = ["eks", "get-token", "--cluster-name", "c"].map(String::from).to_vec();
        assert_eq!(
            recognise(OsStr::new("/usr/local/bin/aws"), &args).map(|r| r.provider.name()),
            Some("aws-eks")
        );
        assert!(recognise(OsStr::new("/usr/bin/awsx"), &args).is_none());
        assert!(recognise(OsStr::new("kubectl"), &args).is_none());
    }
}

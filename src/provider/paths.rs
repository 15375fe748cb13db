//! Paths as the authenticators read them. kubectl hands an exec plugin its arguments and
//! `env:` values untouched (no shell: `~` and `$HOME` stay as written), and each program
//! then does its own expansion, or none: botocore expands `$VARS` and then `~` in
//! `AWS_CONFIG_FILE`, a Go program opens the text as it is, relative to its working
//! directory. A provider declares which ([`Expand`], on its `Flag` or `Var`), and this
//! one function turns the value into the file the program opens, for the cache key and
//! for the credential sources alike: `~/x` and `/home/me/x` are one identity where the
//! program expands `~`, and `x` in two working directories are two.

use std::path::PathBuf;

use super::Env;

/// How a program turns a path it is given into the file it opens. Every rule ends the
/// same way: a relative result is relative to the program's working directory (which
/// is ours: kubectl runs the plugin where kubectl runs, and we run it in the same
/// place), and is made absolute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expand {
    /// Opened as given (Go programs, most of all): `~/x` is a directory named `~`.
    AsGiven,
    /// Python's `os.path.expanduser`: a leading `~` is `$HOME` (else the user's home in
    /// the password database), a leading `~name` that user's home.
    User,
    /// Python's `os.path.expandvars`, then `expanduser` (botocore's config files):
    /// `$VAR` and `${VAR}` that are set are replaced (unset ones stay as written), and
    /// a `~` they bring is expanded too.
    VarsThenUser,
    /// `expanduser`, then `expandvars` (the OCI CLI's rc file).
    UserThenVars,
    /// A leading `~`, whatever follows it, is `$HOME`, joined and cleaned as Go's
    /// `filepath.Join` does (int128/kubelogin's `expandHomedir`).
    GoTilde,
}

/// The file a program that expands as `how` opens for `value`. An empty value stays
/// empty (no program opens it). An error when the file it names cannot be known: the
/// value is relative and our working directory cannot be read, or it starts with
/// `~name` for a user `/etc/passwd` does not list.
pub fn expand_path(value: &str, how: Expand, env: &dyn Env) -> Result<PathBuf, String> {
    let expanded = match how {
        Expand::AsGiven => value.to_string(),
        Expand::User => expand_user(value, env)?,
        Expand::VarsThenUser => expand_user(&expand_vars(value, env), env)?,
        Expand::UserThenVars => expand_vars(&expand_user(value, env)?, env),
        Expand::GoTilde => go_tilde(value, env),
    };
    if expanded.is_empty() {
        return Ok(PathBuf::new());
    }
    // A value that is not UTF-8 came in converted (`os_to_string`): back to its bytes.
    std::path::absolute(super::string_to_os(&expanded))
        .map_err(|e| format!("the path {expanded:?} is relative, and the working directory cannot be read: {e}"))
}

/// [`expand_path`] as a cache-key value: the absolute path, text that is not UTF-8
/// converted without collisions.
pub fn keyed_path(value: &str, how: Expand, env: &dyn Env) -> Result<String, String> {
    expand_path(value, how, env).map(|p| super::os_to_string(p.as_os_str()))
}

/// Python's `posixpath.expanduser`. On Windows only a leading `~` alone is expanded,
/// to the home directory (`ntpath`'s `~user` guesses from the home's parent: not ours
/// to guess).
fn expand_user(path: &str, env: &dyn Env) -> Result<String, String> {
    let Some(rest) = path.strip_prefix('~') else {
        return Ok(path.to_string());
    };
    let end = rest
        .find(|c| c == '/' || (cfg!(windows) && c == '\\'))
        .unwrap_or(rest.len());
    let (name, tail) = rest.split_at(end);
    let home = if name.is_empty() {
        own_home(env)
    } else {
        users_home(name)?
    };
    let Some(home) = home else {
        return Ok(path.to_string());
    };
    let joined = format!("{}{tail}", home.trim_end_matches('/'));
    Ok(if joined.is_empty() { "/".into() } else { joined })
}

/// The home directory of the user `name`, from `/etc/passwd`. Python asks the name
/// service, which may know users the file does not (LDAP, sssd); asking it here would
/// import `getpwnam_r`, which costs every cache hit its binding, for a path hardly anyone
/// writes. A user the file does not list is an error: the file the program opens is then
/// unknown, and the run goes uncached.
#[cfg(unix)]
fn users_home(name: &str) -> Result<Option<String>, String> {
    let passwd = super::read_config_file(std::path::Path::new("/etc/passwd")).unwrap_or_default();
    passwd
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields.len() >= 7 && fields[0] == name)
        .map(|fields| Some(fields[5].to_string()))
        .ok_or_else(|| format!("~{name}: no such user in /etc/passwd, so which file is meant is unknown"))
}

/// `~name` stays as written on Windows.
#[cfg(windows)]
fn users_home(_name: &str) -> Result<Option<String>, String> {
    Ok(None)
}

/// Python's `posixpath.expandvars`: `$NAME` (ASCII letters, digits, `_`) and `${ANY}`
/// are replaced by the variable's value when it is set, even empty; otherwise left as
/// written. A value brought in is not expanded again.
fn expand_vars(path: &str, env: &dyn Env) -> String {
    if !path.contains('$') {
        return path.to_string();
    }
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, len) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(close) => (&braced[..close], close + 2),
                None => ("", 0),
            }
        } else {
            let len = after.find(|c: char| !word(c)).unwrap_or(after.len());
            (&after[..len], len)
        };
        match (len, env.var(name)) {
            (1.., Some(value)) => out.push_str(&value),
            _ => out.push_str(&rest[at..at + 1 + len]),
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// int128/kubelogin's `filepath.Join(homedir.HomeDir(), strings.TrimPrefix(s, "~"))`.
fn go_tilde(path: &str, env: &dyn Env) -> String {
    let Some(rest) = path.strip_prefix('~') else {
        return path.to_string();
    };
    let home = if cfg!(windows) {
        super::home_dir(env).map(|h| super::os_to_string(h.as_os_str()))
    } else {
        env.var("HOME")
    };
    let home = home.unwrap_or_default();
    match (home.is_empty(), rest.is_empty()) {
        (true, true) => String::new(),
        (true, false) => go_clean(rest),
        (false, true) => go_clean(&home),
        (false, false) => go_clean(&format!("{home}/{rest}")),
    }
}

/// Go's `path.Clean` (`filepath.Clean` on Unix): one `/` between names, no `.`, a `..`
/// removes the name before it, and none above the root.
fn go_clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut names: Vec<&str> = Vec::new();
    for name in path.split('/') {
        match name {
            "" | "." => {}
            ".." if names.last().is_some_and(|n| *n != "..") => {
                names.pop();
            }
            ".." if rooted => {}
            name => names.push(name),
        }
    }
    let joined = names.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// The home a leading `~` stands for: `$HOME`, else our entry in the password database.
#[cfg(unix)]
fn own_home(env: &dyn Env) -> Option<String> {
    env.var("HOME").or_else(passwd_home)
}

#[cfg(windows)]
fn own_home(env: &dyn Env) -> Option<String> {
    super::home_dir(env).map(|h| super::os_to_string(h.as_os_str()))
}

/// Our home directory in the password database, as Python's `pwd` module reads it
/// (`getpwuid_r`, which the standard library imports already).
#[cfg(unix)]
fn passwd_home() -> Option<String> {
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    let mut buffer = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: the reentrant lookup writes into `entry` and `buffer`, both live and of
    // the sizes given; `found` is set to `&entry` or to null.
    unsafe {
        libc::getpwuid_r(
            libc::getuid(),
            &mut entry,
            buffer.as_mut_ptr(),
            buffer.len(),
            &mut found,
        )
    };
    // Null on an error and for a uid with no entry (a container's arbitrary uid), as
    // POSIX has it: the status returned says nothing more.
    if found.is_null() {
        return None;
    }
    // SAFETY: pw_dir points into `buffer`, NUL-terminated, while `buffer` lives.
    let dir = unsafe { std::ffi::CStr::from_ptr(entry.pw_dir) };
    let dir = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(dir.to_bytes());
    Some(super::os_to_string(dir))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn expanded(value: &str, how: Expand, e: &[(&str, &str)]) -> String {
        keyed_path(value, how, &env(e)).unwrap()
    }

    fn cwd() -> String {
        std::env::current_dir().unwrap().to_str().unwrap().to_string()
    }

    const HOME: [(&str, &str); 1] = [("HOME", "/home/me")];

    /// A home as the name service says (`getpwnam`/`getpwuid`), to check our own
    /// lookups against.
    fn home_of(entry: *const libc::passwd) -> String {
        assert!(!entry.is_null(), "a passwd entry");
        // SAFETY: a non-null entry from the lookup just made, read at once, before any
        // other lookup in this thread could reuse its static storage.
        unsafe { std::ffi::CStr::from_ptr((*entry).pw_dir).to_str().unwrap().to_string() }
    }

    fn root_home() -> String {
        // SAFETY: a NUL-terminated name.
        home_of(unsafe { libc::getpwnam(c"root".as_ptr()) })
    }

    #[test]
    fn as_given_is_only_made_absolute() {
        assert_eq!(expanded("/etc/x", Expand::AsGiven, &HOME), "/etc/x");
        assert_eq!(expanded("~/x", Expand::AsGiven, &HOME), format!("{}/~/x", cwd()));
        assert_eq!(
            expanded("$HOME/x", Expand::AsGiven, &HOME),
            format!("{}/$HOME/x", cwd())
        );
        assert_eq!(expanded("./a//b", Expand::AsGiven, &HOME), format!("{}/a/b", cwd()));
        assert_eq!(expanded("", Expand::AsGiven, &HOME), "", "no path at all");
    }

    #[test]
    fn expanduser_takes_a_leading_tilde_only() {
        assert_eq!(expanded("~/x", Expand::User, &HOME), "/home/me/x");
        assert_eq!(expanded("~", Expand::User, &HOME), "/home/me");
        assert_eq!(expanded("a/~/x", Expand::User, &HOME), format!("{}/a/~/x", cwd()));
        assert_eq!(expanded("$HOME/x", Expand::User, &HOME), format!("{}/$HOME/x", cwd()));
        // A trailing slash of $HOME goes; an empty $HOME leaves the rest (Python's rule).
        assert_eq!(expanded("~/x", Expand::User, &[("HOME", "/home/me/")]), "/home/me/x");
        assert_eq!(expanded("~/x", Expand::User, &[("HOME", "")]), "/x");
        // ~root is root's home (as the name service says); a user /etc/passwd does not
        // list cannot be keyed.
        let root = root_home();
        assert_eq!(expanded("~root/x", Expand::User, &HOME), format!("{root}/x"));
        // A backslash is part of the name on Unix: no user `root\x`.
        assert!(expand_path("~root\\x", Expand::User, &env(&HOME)).is_err());
        let unknown = "~no-such-user-kit/x";
        assert!(expand_path(unknown, Expand::User, &env(&HOME)).is_err());
        // Without $HOME, the password database's home of our uid.
        // SAFETY: no arguments to get wrong.
        let ours = home_of(unsafe { libc::getpwuid(libc::getuid()) });
        assert_eq!(
            expanded("~/x", Expand::User, &[]),
            format!("{}/x", ours.trim_end_matches('/'))
        );
    }

    #[test]
    fn expandvars_replaces_set_variables_and_leaves_the_rest() {
        let e = [("HOME", "/home/me"), ("D", "/d"), ("EMPTY", ""), ("T", "~/t")];
        let how = Expand::VarsThenUser;
        assert_eq!(expanded("$D/x", how, &e), "/d/x");
        assert_eq!(expanded("${D}x", how, &e), "/dx");
        assert_eq!(expanded("/a$EMPTY/x", how, &e), "/a/x", "set but empty");
        assert_eq!(expanded("/a/$UNSET/x", how, &e), "/a/$UNSET/x");
        assert_eq!(expanded("/a/${UNSET}", how, &e), "/a/${UNSET}");
        assert_eq!(expanded("/a/${D", how, &e), "/a/${D", "no closing brace");
        assert_eq!(expanded("/a/$", how, &e), "/a/$");
        assert_eq!(expanded("/a/$D.x", how, &e), "/a/d.x");
        assert_eq!(expanded("$HOME/x", how, &e), "/home/me/x");
        // Then expanduser: a variable may bring the `~`; the other order does not.
        assert_eq!(expanded("$T", how, &e), "/home/me/t");
        assert_eq!(
            expanded("$T", Expand::UserThenVars, &e),
            format!("{}/~/t", cwd()),
            "expanduser ran before the variable brought the ~"
        );
        assert_eq!(expanded("~/$D", Expand::UserThenVars, &e), "/home/me/d");
    }

    #[test]
    fn a_value_brought_by_a_variable_is_not_expanded_again() {
        let e = [("A", "$B"), ("B", "/b")];
        assert_eq!(expand_vars("$A/x", &env(&e)), "$B/x");
    }

    #[test]
    fn go_tilde_joins_whatever_follows_with_home_and_cleans() {
        let how = Expand::GoTilde;
        assert_eq!(expanded("~/x", how, &HOME), "/home/me/x");
        assert_eq!(expanded("~x", how, &HOME), "/home/me/x", "not a user name to Go");
        assert_eq!(expanded("~/a/../b/./c", how, &HOME), "/home/me/b/c");
        assert_eq!(expanded("~", how, &HOME), "/home/me");
        assert_eq!(expanded("~/x", how, &[]), "/x", "no $HOME: Join drops the empty part");
        assert_eq!(expanded("$HOME/x", how, &HOME), format!("{}/$HOME/x", cwd()));
        assert_eq!(go_clean("a/../../b"), "../b");
        assert_eq!(go_clean("/../a/"), "/a");
        assert_eq!(go_clean(""), ".");
    }
}

// What differs on Windows, run under Wine by `.ci/run`.
#[cfg(all(test, windows))]
mod windows_tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn a_backslash_ends_the_tilde_and_a_user_name_is_not_guessed() {
        let env: HashMap<String, String> = [("USERPROFILE", r"C:\Users\me")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let user = |value: &str| expand_user(value, &env).unwrap();
        assert_eq!(user(r"~\x"), r"C:\Users\me\x");
        assert_eq!(user("~/x"), r"C:\Users\me/x");
        assert_eq!(user(r"~other\x"), r"~other\x", "ntpath's guess is not ours to make");
    }
}

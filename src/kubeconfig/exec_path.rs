//! Where the command of an exec entry is found, by the two programs that look for it:
//!
//! - kubectl (client-go): a command with a `/` in it is a path relative to the
//!   directory of the kubeconfig file that defines the user (`ResolveLocalPaths`),
//!   cleaned as Go's `filepath.Join` cleans it; one without is looked up on kubectl's
//!   `PATH` by Go's `exec.LookPath`, which refuses a match in a relative directory
//!   (`.` or an empty entry: `ErrDot`) instead of trying the next one;
//! - kubecredcache, for the command it wraps: `execvp` rules, on the `PATH` of the
//!   environment kubectl gives it; a relative path is relative to the working directory.
//!
//! On Windows a path separator is `\` as well as `/`, and a name without an extension
//! is tried with each extension of `PATHEXT`, as Go's `LookPath` and kubecredcache do.

use std::ffi::{OsStr, OsString};
use std::path::{Component, Path, PathBuf};

use crate::fs::platform;

/// Why a command will not be found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// Nothing of that name on `PATH`, or no file at that path.
    NotFound,
    /// There is a file, but it is a directory or has no execute bit.
    NotExecutable(PathBuf),
    /// kubectl's first match is in a relative `PATH` directory, which Go refuses.
    RelativeToWorkingDir(PathBuf),
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Missing::NotFound => f.write_str("not found"),
            Missing::NotExecutable(path) => write!(f, "{} is not an executable file", path.display()),
            Missing::RelativeToWorkingDir(path) => write!(
                f,
                "the first match on PATH, {}, is in a relative directory, which kubectl refuses",
                path.display()
            ),
        }
    }
}

/// Whether `path` is a file that may be run: not a directory, some execute bit set
/// (on Windows, any file).
fn executable(path: &Path) -> Result<(), Missing> {
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_dir() && platform::is_executable(&meta) => Ok(()),
        Ok(_) => Err(Missing::NotExecutable(path.to_path_buf())),
        Err(_) => Err(Missing::NotFound),
    }
}

/// Whether a command names a path rather than a name to look up on `PATH`.
pub(super) fn has_separator(command: &str) -> bool {
    command.contains('/') || (cfg!(windows) && command.contains('\\'))
}

/// The file names a command may have in a `PATH` directory: itself, and on Windows,
/// when it has no extension, itself with each extension of `PATHEXT`.
fn names_for(command: &str) -> Vec<OsString> {
    if !cfg!(windows) || Path::new(command).extension().is_some() {
        return vec![command.into()];
    }
    let extensions = std::env::var("PATHEXT").unwrap_or_else(|_| ".COM;.EXE;.BAT;.CMD".into());
    extensions
        .split(';')
        .filter(|e| !e.is_empty())
        .map(|e| format!("{command}{}", e.to_ascii_lowercase()).into())
        .collect()
}

/// `path` made absolute (against the working directory) and cleaned lexically, as Go's
/// `filepath.Abs` does: `.` dropped, `..` taking off the component before it.
pub fn absolute_clean(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut clean = PathBuf::new();
    for component in absolute.components() {
        match component {
            // The root (and on Windows the drive) stay: `..` never climbs above them.
            Component::Prefix(_) | Component::RootDir => clean.push(component.as_os_str()),
            Component::ParentDir => {
                clean.pop();
            }
            Component::Normal(name) => clean.push(name),
            Component::CurDir => {}
        }
    }
    if clean.as_os_str().is_empty() {
        clean.push("/");
    }
    clean
}

/// The path kubectl runs for an exec `command` with a `/` in it that is relative: the
/// kubeconfig file's directory (as the file was named, not where a symlink points)
/// joined with it. `None` for a command kubectl looks up on `PATH`, or an absolute one.
pub fn resolve_relative_command(command: &str, kubeconfig: &Path) -> Option<PathBuf> {
    if !has_separator(command) || Path::new(command).is_absolute() {
        return None;
    }
    let dir = absolute_clean(kubeconfig).parent().map(Path::to_path_buf)?;
    Some(absolute_clean(&dir.join(command)))
}

/// Where kubectl finds the exec `command` of a user defined in `kubeconfig`, with
/// kubectl's `PATH` (`path_var`).
pub fn kubectl_finds(command: &str, kubeconfig: &Path, path_var: Option<&OsStr>) -> Result<PathBuf, Missing> {
    if has_separator(command) {
        let path = resolve_relative_command(command, kubeconfig).unwrap_or_else(|| PathBuf::from(command));
        return executable(&path).map(|()| path);
    }
    for dir in std::env::split_paths(path_var.unwrap_or_default()) {
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        for name in names_for(command) {
            let candidate = dir.join(name);
            match executable(&candidate) {
                Ok(()) if candidate.is_absolute() => return Ok(candidate),
                Ok(()) => return Err(Missing::RelativeToWorkingDir(candidate)),
                Err(_) => {}
            }
        }
    }
    Err(Missing::NotFound)
}

/// Where kubecredcache finds the command it wraps, `program`, with the `PATH` of the
/// environment kubectl gives it (`path_var`); a relative path is taken from the
/// working directory, as kubectl's child sees it.
pub fn kubecredcache_finds(program: &str, path_var: Option<&OsStr>) -> Result<PathBuf, Missing> {
    if has_separator(program) {
        let path = absolute_clean(Path::new(program));
        return executable(&path).map(|()| path);
    }
    // execvp's default when PATH is unset.
    let path_var = path_var.unwrap_or(OsStr::new("/bin:/usr/bin"));
    let mut first_problem = Missing::NotFound;
    for dir in std::env::split_paths(path_var) {
        for name in names_for(program) {
            let candidate = absolute_clean(&dir.join(name));
            match executable(&candidate) {
                Ok(()) => return Ok(candidate),
                Err(problem) if first_problem == Missing::NotFound => first_problem = problem,
                Err(_) => {}
            }
        }
    }
    Err(first_problem)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    fn script(path: &Path) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, "#!/bin/sh\n").unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn a_relative_command_is_relative_to_the_kubeconfig_as_named() {
        let kubeconfig = Path::new("/home/me/.kube/config");
        assert_eq!(
            resolve_relative_command("bin/aws", kubeconfig),
            Some(PathBuf::from("/home/me/.kube/bin/aws"))
        );
        assert_eq!(
            resolve_relative_command("../tools/./aws", kubeconfig),
            Some(PathBuf::from("/home/me/tools/aws"))
        );
        assert_eq!(resolve_relative_command("aws", kubeconfig), None, "on PATH");
        assert_eq!(resolve_relative_command("/usr/bin/aws", kubeconfig), None);
    }

    #[test]
    fn kubectl_looks_on_path_and_refuses_a_match_in_a_relative_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        script(&b.join("tool"));
        fs::create_dir_all(&a).unwrap();
        fs::write(a.join("tool"), "not executable").unwrap();
        let path = std::env::join_paths([&a, &b]).unwrap();
        assert_eq!(
            kubectl_finds("tool", Path::new("/x/config"), Some(&path)),
            Ok(b.join("tool"))
        );
        assert_eq!(
            kubectl_finds("other", Path::new("/x/config"), Some(&path)),
            Err(Missing::NotFound)
        );
        // The same directory named relative to the working directory, first on PATH.
        let cwd = std::env::current_dir().unwrap();
        let up: PathBuf = cwd.components().skip(1).map(|_| "..").collect();
        let relative_b = up.join(b.strip_prefix("/").unwrap());
        let with_relative = std::env::join_paths([&relative_b, &b]).unwrap();
        assert_eq!(
            kubectl_finds("tool", Path::new("/x/config"), Some(&with_relative)),
            Err(Missing::RelativeToWorkingDir(relative_b.join("tool"))),
            "Go's ErrDot: the absolute entry after it does not help"
        );
        let kubeconfig = tmp.path().join("config");
        assert_eq!(
            kubectl_finds("b/tool", &kubeconfig, None),
            Ok(b.join("tool")),
            "relative to the kubeconfig"
        );
        assert_eq!(
            kubectl_finds("a/tool", &kubeconfig, None),
            Err(Missing::NotExecutable(a.join("tool")))
        );
    }

    #[test]
    fn kubecredcache_looks_on_the_path_it_is_given() {
        let tmp = tempfile::tempdir().unwrap();
        script(&tmp.path().join("bin/aws"));
        let path = tmp.path().join("bin").into_os_string();
        assert_eq!(kubecredcache_finds("aws", Some(&path)), Ok(tmp.path().join("bin/aws")));
        assert_eq!(
            kubecredcache_finds("aws", Some(OsStr::new("/nonexistent"))),
            Err(Missing::NotFound)
        );
        let absolute = tmp.path().join("bin/aws");
        assert_eq!(
            kubecredcache_finds(absolute.to_str().unwrap(), None),
            Ok(absolute.clone())
        );
    }
}

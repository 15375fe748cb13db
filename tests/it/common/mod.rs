//! Test kit for the behaviour tests: a sandbox with its own HOME, cache directory and a
//! `bin/` first on PATH holding fake authenticators that count their calls.

pub mod api_server;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A fake `aws` / `aws-iam-authenticator`. Each run appends its name and arguments to
/// `$FAKE_CALLS`, then per `$FAKE_MODE` prints an ExecCredential with a token unique to
/// the call that expires in `$FAKE_LIFETIME` seconds (`ok`), one without an expiry
/// (`noexpiry`), one kubectl refuses (`emptytoken`: `"token": ""`; `certonly`: a
/// client certificate without its key), a client certificate and its key (`cert`, as
/// tsh prints: `certificate()` reads it), text that is no credential (`garbage`), or
/// fails with exit code 3 (`fail`) or with exit code 1 and its reason on stdout
/// (`failstdout`, as the OCI CLI does). `$FAKE_SLEEP` delays it; `$FAKE_PIDS` receives
/// its pid first; `$FAKE_SEEN` receives what it inherited;
/// `$FAKE_SIGNED_AGO` makes the token an EKS-style presigned URL signed that many seconds ago.
/// It runs on Linux and macOS alike: `date -d @N` is GNU's, `date -r N` the BSDs'.
const FAKE_AUTHENTICATOR: &str = r#"#!/bin/bash
utc() { date -u -d "@$1" "$2" 2>/dev/null || date -u -r "$1" "$2"; }
args="$*"
echo "$(basename "$0") ${args//$'\n'/\\n}" >> "$FAKE_CALLS"
n=$(wc -l < "$FAKE_CALLS")
if [ -n "$FAKE_SEEN" ]; then
  { echo "exec_info=$KUBERNETES_EXEC_INFO"; echo "marker=$FAKE_MARKER"; } > "$FAKE_SEEN"
  if [ ! -t 0 ]; then echo "stdin=$(head -c 100)" >> "$FAKE_SEEN"; fi
fi
[ -n "$FAKE_PIDS" ] && echo $$ >> "$FAKE_PIDS"
[ -n "$FAKE_SLEEP" ] && sleep "$FAKE_SLEEP"
case "${FAKE_MODE:-ok}" in
  fail) echo "fake: the SSO session has expired, run aws sso login" >&2; exit 3 ;;
  failstdout) echo "fake: This CLI session has expired, run oci session authenticate"; echo "Abort!" >&2; exit 1 ;;
  garbage) printf 'this is not a credential\nsecond line\n'; exit 0 ;;
esac
token="fake-token-$n-$$"
if [ -n "$FAKE_SIGNED_AGO" ]; then
  # An EKS-style token: a presigned URL signed FAKE_SIGNED_AGO seconds ago, base64url.
  signed=$(utc "$(( $(date +%s) - FAKE_SIGNED_AGO ))" +%Y%m%dT%H%M%SZ)
  url="https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Date=$signed&X-Amz-Expires=60&call=$n-$$"
  token="k8s-aws-v1.$(printf %s "$url" | base64 | tr -d '\n' | tr '+/' '-_' | tr -d '=')"
fi
expires=$(utc "$(( $(date +%s) + ${FAKE_LIFETIME:-900} ))" +%Y-%m-%dT%H:%M:%SZ)
api="${FAKE_API_VERSION:-client.authentication.k8s.io/v1beta1}"
if [ "$FAKE_MODE" = emptytoken ]; then
  printf '{"kind":"ExecCredential","apiVersion":"%s","spec":{},"status":{"expirationTimestamp":"%s","token":""}}\n' "$api" "$expires"
elif [ "$FAKE_MODE" = certonly ]; then
  printf '{"kind":"ExecCredential","apiVersion":"%s","spec":{},"status":{"expirationTimestamp":"%s","clientCertificateData":"CERT-%s"}}\n' "$api" "$expires" "$n"
elif [ "$FAKE_MODE" = cert ]; then
  printf '{"kind":"ExecCredential","apiVersion":"%s","spec":{},"status":{"expirationTimestamp":"%s","clientCertificateData":"-----BEGIN CERTIFICATE-----\\nCERT-%s\\n-----END CERTIFICATE-----\\n","clientKeyData":"-----BEGIN RSA PRIVATE KEY-----\\nKEY-%s\\n-----END RSA PRIVATE KEY-----\\n"}}\n' "$api" "$expires" "$n-$$" "$n-$$"
elif [ "$FAKE_MODE" = noexpiry ]; then
  printf '{"kind":"ExecCredential","apiVersion":"%s","spec":{},"status":{"token":"%s"}}\n' "$api" "$token"
else
  printf '{"kind":"ExecCredential","apiVersion":"%s","spec":{},"status":{"expirationTimestamp":"%s","token":"%s"}}\n' "$api" "$expires" "$token"
fi
"#;

pub const AWS: &[&str] = &[
    "aws",
    "--region",
    "us-west-2",
    "eks",
    "get-token",
    "--cluster-name",
    "c1",
];
pub const IAM: &[&str] = &["aws-iam-authenticator", "token", "-i", "c1"];

pub struct Sandbox {
    pub root: tempfile::TempDir,
    pub home: PathBuf,
    pub bin: PathBuf,
    pub cache: PathBuf,
    pub calls: PathBuf,
    env: Vec<(String, String)>,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let root = tempfile::tempdir().unwrap();
        let home = root.path().join("home");
        let bin = root.path().join("bin");
        fs::create_dir_all(&home).unwrap();
        fs::create_dir_all(&bin).unwrap();
        for name in ["aws", "aws-iam-authenticator"] {
            write_script(&bin.join(name), FAKE_AUTHENTICATOR);
        }
        let cache = home.join(".kubecredcache");
        let calls = root.path().join("calls");
        Sandbox {
            root,
            home,
            bin,
            cache,
            calls,
            // Refresh ahead starts background runs that would race with call counts; the
            // tests about it turn it on.
            env: vec![("KUBECREDCACHE_REFRESH_AHEAD".to_string(), "0".to_string())],
        }
    }

    /// Puts a fake authenticator (see FAKE_AUTHENTICATOR) named `name` first on PATH.
    pub fn fake(&self, name: &str) {
        write_script(&self.bin.join(name), FAKE_AUTHENTICATOR);
    }

    /// `~/.kube/config` in the sandbox, its directory made.
    pub fn kube_config(&self) -> PathBuf {
        let path = self.home.join(".kube/config");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        path
    }

    /// Puts the built kubecredcache on the sandbox's PATH (a symlink in `bin/`), as an
    /// installed one would be; returns its path there.
    pub fn install(&self) -> PathBuf {
        let on_path = self.bin.join("kubecredcache");
        std::os::unix::fs::symlink(bin(), &on_path).unwrap();
        on_path
    }

    /// Sets an environment variable for every later run.
    pub fn set(&mut self, name: &str, value: &str) -> &mut Sandbox {
        self.env.retain(|(n, _)| n != name);
        self.env.push((name.into(), value.into()));
        self
    }

    /// The kubecredcache binary with only the sandbox's environment (nothing of the
    /// host's AWS setup leaks in).
    pub fn command(&self, args: &[&str]) -> Command {
        self.command_for(&bin(), args)
    }

    /// Any program, with the sandbox's environment.
    pub fn command_for(&self, program: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env_clear()
            .env("PATH", format!("{}:/usr/local/bin:/usr/bin:/bin", self.bin.display()))
            .env("HOME", &self.home)
            .env("FAKE_CALLS", &self.calls)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs, failing the test if the run has not ended after `bound` (a guard against a
    /// hang, not a measure of speed): the process is killed first.
    pub fn run_bounded(&self, args: &[&str], bound: std::time::Duration) -> Output {
        output_within(self.command(args), bound)
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// How many times the fake authenticators ran.
    pub fn calls(&self) -> usize {
        // Bytes, not text: arguments that are not UTF-8 end up in the log too.
        fs::read(&self.calls)
            .map(|b| b.iter().filter(|c| **c == b'\n').count())
            .unwrap_or(0)
    }

    /// Makes `cluster`'s cache file look abandoned: every token in it expired an hour ago,
    /// and nobody wrote the file for an hour. Returns its path.
    pub fn make_stale(&self, cluster: &str) -> PathBuf {
        let path = self.cache.join(format!("cache-{cluster}.yaml"));
        let mut file = kubecredcache::cache::CacheFile::parse(&fs::read(&path).unwrap()).unwrap();
        for entry in file.entries.values_mut() {
            entry.expires = chrono::Utc::now() - chrono::Duration::hours(1);
        }
        fs::write(&path, file.to_yaml()).unwrap();
        age_file(&path, std::time::Duration::from_secs(3600));
        path
    }

    /// Makes every entry of `cluster`'s file look fetched `by` earlier than it was (its
    /// expiry stays): a token that has lived longer, as if time had passed.
    pub fn age_entries(&self, cluster: &str, by: std::time::Duration) {
        let path = self.cache.join(format!("cache-{cluster}.yaml"));
        let mut file = kubecredcache::cache::CacheFile::parse(&fs::read(&path).unwrap()).unwrap();
        for entry in file.entries.values_mut() {
            entry.written -= chrono::Duration::from_std(by).unwrap();
        }
        fs::write(&path, file.to_yaml()).unwrap();
    }

    pub fn cache_files(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&self.cache)
            .map(|rd| {
                rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.retain(|n| n.starts_with("cache-") && n.ends_with(".yaml"));
        names.sort();
        names
    }
}

/// Runs `cmd` with stdout and stderr captured, failing the test if it has not ended
/// after `bound` (it is killed first, so no process outlives the test).
pub fn output_within(mut cmd: Command, bound: std::time::Duration) -> Output {
    let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let pid = child.id();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    match finished.recv_timeout(bound) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            // SAFETY: plain kill(2) of the process we started.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("{cmd:?} was still running after {bound:?}: it hangs");
        }
    }
}

/// Runs `cmd` to its end and returns its output and its peak memory (RSS, in KiB), from
/// the kernel's accounting of the child (wait4).
#[cfg(target_os = "linux")]
#[allow(clippy::zombie_processes)] // waited for with wait4, which std does not see
pub fn output_and_peak_memory(mut cmd: Command) -> (Output, i64) {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let stdout = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut v).map(|_| v)
    });
    let stderr = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut v).map(|_| v)
    });
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child, with valid pointers; std never waits for it after.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32, "wait4 failed");
    let output = Output {
        status: std::os::unix::process::ExitStatusExt::from_raw(status),
        stdout: stdout.join().unwrap().unwrap(),
        stderr: stderr.join().unwrap().unwrap(),
    };
    (output, usage.ru_maxrss)
}

/// Whether a process with this pid still exists (and is not a zombie).
pub fn alive(pid: i32) -> bool {
    if cfg!(target_os = "linux") {
        return std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            stat.rsplit(')')
                .next()
                .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
        });
    }
    let state = Command::new("ps")
        .args(["-o", "state=", "-p", &pid.to_string()])
        .output();
    state.is_ok_and(|out| out.status.success() && !String::from_utf8_lossy(&out.stdout).trim().starts_with('Z'))
}

/// Waits for `done`, at most 20 s (a bound for a stuck test, not a timing assertion).
pub fn wait_for(what: &str, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Runs `cmd` as the user `nobody` (65534) when we are root, with `setpriv`; `None`
/// (after a loud skip) when that is not possible here.
pub fn as_nobody(cmd: &Command) -> Option<Command> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 || !Path::new("/usr/bin/setpriv").exists() {
        skip("needs root and setpriv to run a command as another user");
        return None;
    }
    let mut wrapped = Command::new("/usr/bin/setpriv");
    wrapped.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
    wrapped.arg(cmd.get_program()).args(cmd.get_args()).env_clear();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            wrapped.env(k, v);
        }
    }
    wrapped.stdin(Stdio::null());
    Some(wrapped)
}

/// The kubecredcache binary under test: the one cargo built with these tests, or the
/// one `KUBECREDCACHE_TEST_BIN` names (`.ci/run` runs the tests against the static musl
/// build this way).
pub fn bin() -> PathBuf {
    std::env::var_os("KUBECREDCACHE_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_kubecredcache")))
}

/// Makes a FIFO at `path` (with mkfifo(1)).
pub fn mkfifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}

/// Sets the modification time of the file at `path` to `ago` before now.
pub fn age_file(path: &Path, ago: std::time::Duration) {
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - ago)
        .unwrap();
}

pub fn write_script(path: &Path, body: &str) {
    fs::write(path, body).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// The token in an ExecCredential printed on stdout.
pub fn token(stdout: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout:?}"));
    v["status"]["token"].as_str().unwrap().to_string()
}

/// The client certificate in an ExecCredential printed on stdout (a certificate
/// credential, as tsh prints, has no token).
pub fn certificate(stdout: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(stdout).unwrap();
    assert!(
        v["status"]["clientKeyData"].as_str().is_some_and(|k| !k.is_empty()),
        "a certificate without its key: {stdout}"
    );
    v["status"]["clientCertificateData"].as_str().unwrap().to_string()
}

pub fn api_version(stdout: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(stdout).unwrap();
    v["apiVersion"].as_str().unwrap().to_string()
}

/// Finds a tool on the host's PATH. Without it the calling test should return early:
/// this says so on the terminal, or panics under `KUBECREDCACHE_TEST_STRICT=1` (CI).
pub fn host_tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .and_then(|path| std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file()));
    if found.is_none() {
        skip(&format!("needs `{name}` on PATH, and it is not there"));
    }
    found
}

/// Reports a skipped test loudly, or fails it under `KUBECREDCACHE_TEST_STRICT=1`.
pub fn skip(why: &str) {
    if std::env::var("KUBECREDCACHE_TEST_STRICT").as_deref() == Ok("1") {
        panic!("{why}, and KUBECREDCACHE_TEST_STRICT=1 says every test must run");
    }
    // Straight to fd 2: libtest captures eprintln! of passing tests, which would hide the skip.
    let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("\n*** SKIPPED: {why} ***\n").as_bytes());
}

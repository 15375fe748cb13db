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
/// (`noexpiry`), text that is no credential (`garbage`), or fails with exit code 3
/// (`fail`). `$FAKE_SLEEP` delays it; `$FAKE_SEEN` receives what it inherited;
/// `$FAKE_SIGNED_AGO` makes the token an EKS-style presigned URL signed that many seconds ago.
const FAKE_AUTHENTICATOR: &str = r#"#!/bin/bash
args="$*"
echo "$(basename "$0") ${args//$'\n'/\\n}" >> "$FAKE_CALLS"
n=$(wc -l < "$FAKE_CALLS")
if [ -n "$FAKE_SEEN" ]; then
  { echo "exec_info=$KUBERNETES_EXEC_INFO"; echo "marker=$FAKE_MARKER"; } > "$FAKE_SEEN"
  if [ ! -t 0 ]; then echo "stdin=$(head -c 100)" >> "$FAKE_SEEN"; fi
fi
[ -n "$FAKE_SLEEP" ] && sleep "$FAKE_SLEEP"
case "${FAKE_MODE:-ok}" in
  fail) echo "fake: the SSO session has expired, run aws sso login" >&2; exit 3 ;;
  garbage) printf 'this is not a credential\nsecond line\n'; exit 0 ;;
esac
token="fake-token-$n-$$"
if [ -n "$FAKE_SIGNED_AGO" ]; then
  # An EKS-style token: a presigned URL signed FAKE_SIGNED_AGO seconds ago, base64url.
  signed=$(date -u -d "@$(( $(date +%s) - FAKE_SIGNED_AGO ))" +%Y%m%dT%H%M%SZ)
  url="https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Date=$signed&X-Amz-Expires=60&call=$n-$$"
  token="k8s-aws-v1.$(printf %s "$url" | base64 -w0 | tr '+/' '-_' | tr -d '=')"
fi
expires=$(date -u -d "@$(( $(date +%s) + ${FAKE_LIFETIME:-900} ))" +%Y-%m-%dT%H:%M:%SZ)
api="${FAKE_API_VERSION:-client.authentication.k8s.io/v1beta1}"
if [ "$FAKE_MODE" = noexpiry ]; then
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

    /// Sets an environment variable for every later run.
    pub fn set(&mut self, name: &str, value: &str) -> &mut Sandbox {
        self.env.retain(|(n, _)| n != name);
        self.env.push((name.into(), value.into()));
        self
    }

    /// The kubecredcache binary with only the sandbox's environment (nothing of the
    /// host's AWS setup leaks in).
    pub fn command(&self, args: &[&str]) -> Command {
        self.command_for(Path::new(env!("CARGO_BIN_EXE_kubecredcache")), args)
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
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(hour_ago)
            .unwrap();
        path
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

pub fn write_script(path: &Path, body: &str) {
    fs::write(path, body).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// The token in an ExecCredential printed on stdout.
pub fn token(stdout: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout:?}"));
    v["status"]["token"].as_str().unwrap().to_string()
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

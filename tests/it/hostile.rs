//! Hostile input and environment: names that are not UTF-8, a read-only filesystem, a
//! full disk. The filesystem cases run in a private mount namespace (`unshare -m`, as
//! root) on a small tmpfs; without that they skip loudly (fail in CI).

use crate::common::{AWS, Sandbox, token};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Output;

#[test]
fn cluster_names_that_are_not_utf8_are_cached_apart() {
    let s = Sandbox::new();
    let run = |name: &[u8]| {
        let out = s
            .command(&["aws", "eks", "get-token", "--cluster-name"])
            .arg(OsStr::from_bytes(name))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        token(std::str::from_utf8(&out.stdout).unwrap())
    };
    let a = run(b"bad\xffname");
    let b = run(b"bad\xfename");
    assert_ne!(a, b, "two names, two identities");
    assert_eq!(run(b"bad\xffname"), a);
    assert_eq!(run(b"bad\xfename"), b);
    assert_eq!(s.calls(), 2);
    for file in s.cache_files() {
        assert!(file.is_ascii() && !file.contains('/'), "{file:?}");
    }
}

/// Runs `script` (sh) as root in a private mount namespace with `$1` a fresh 1 MiB tmpfs
/// mounted at `mnt`, then kubecredcache with `args` and `KUBECREDCACHE_DIR=$1/cache`.
/// `None` (after a loud skip) where mount namespaces are not available.
fn in_tmpfs(s: &mut Sandbox, mnt: &Path, script: &str, args: &[&str]) -> Option<Output> {
    let probe = std::process::Command::new("unshare").args(["-m", "true"]).output();
    if !probe.is_ok_and(|o| o.status.success()) {
        crate::common::skip("needs `unshare -m` (root, mount namespaces)");
        return None;
    }
    std::fs::create_dir_all(mnt).unwrap();
    s.set("KUBECREDCACHE_DIR", mnt.join("cache").to_str().unwrap());
    let full_script =
        format!("mount -t tmpfs -o size=1m,mode=0755 none \"$1\" || exit 99\n{script}\nshift\nexec \"$@\"");
    let bin = crate::common::bin();
    let mut argv = vec![
        "-m",
        "sh",
        "-c",
        &full_script,
        "sh",
        mnt.to_str().unwrap(),
        bin.to_str().unwrap(),
    ];
    argv.extend_from_slice(args);
    let out = s.command_for(Path::new("unshare"), &argv).output().unwrap();
    assert_ne!(
        out.status.code(),
        Some(99),
        "mount failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out)
}

fn served_with_one_warning(out: &Output) {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    token(std::str::from_utf8(&out.stdout).unwrap());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("kubecredcache: warning:") && stderr.contains("serving without cache"),
        "{stderr}"
    );
}

#[test]
fn a_read_only_filesystem_without_a_cache_dir_means_serving_from_upstream() {
    let mut s = Sandbox::new();
    let mnt = s.root.path().join("mnt");
    let Some(out) = in_tmpfs(&mut s, &mnt, "mount -o remount,ro \"$1\" || exit 99", AWS) else {
        return;
    };
    served_with_one_warning(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("Read-only"), "says why");
    assert_eq!(s.calls(), 1);
}

#[test]
fn a_read_only_filesystem_with_a_stale_cache_means_serving_from_upstream() {
    let mut s = Sandbox::new();
    let mnt = s.root.path().join("mnt");
    // A first run fills the cache with a token that is already inside the margin.
    let script = "FAKE_LIFETIME=30 \"$2\" aws --region us-west-2 eks get-token --cluster-name c1 >/dev/null || exit 98\n\
                  mount -o remount,ro \"$1\" || exit 99";
    let Some(out) = in_tmpfs(&mut s, &mnt, script, AWS) else {
        return;
    };
    served_with_one_warning(&out);
    assert_eq!(s.calls(), 2);
}

#[test]
fn a_hit_needs_no_write_access() {
    let mut s = Sandbox::new();
    let mnt = s.root.path().join("mnt");
    let script = "\"$2\" aws --region us-west-2 eks get-token --cluster-name c1 >/dev/null || exit 98\n\
                  mount -o remount,ro \"$1\" || exit 99";
    let Some(out) = in_tmpfs(&mut s, &mnt, script, AWS) else {
        return;
    };
    assert!(out.status.success());
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    token(std::str::from_utf8(&out.stdout).unwrap());
    assert_eq!(s.calls(), 1, "served from the cache on a read-only filesystem");
}

#[test]
fn a_full_disk_means_serving_from_upstream_and_leaving_no_temp_file() {
    let mut s = Sandbox::new();
    let mnt = s.root.path().join("mnt");
    // Fill the disk, run once, then list the cache dir on stderr (nothing can be written there).
    let script = "mkdir -m 0700 \"$1/cache\" && (dd if=/dev/zero of=\"$1/fill\" bs=4k 2>/dev/null; true)\n\
                  m=\"$1\"; k=\"$2\"; shift 2\n\
                  \"$k\" \"$@\" >/dev/null; code=$?\n\
                  echo '--listing--' >&2; ls -A \"$m/cache\" >&2; exit $code";
    let Some(out) = in_tmpfs(&mut s, &mnt, script, AWS) else {
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("serving without cache") && stderr.contains("No space left"),
        "{stderr}"
    );
    let listing = stderr.split("--listing--").nth(1).expect("the listing ran");
    assert!(!listing.contains(".tmp-"), "a temp file was left behind: {listing}");
    assert!(
        !listing.contains("cache-c1.yaml\n"),
        "no cache file was written: {listing}"
    );
    assert_eq!(s.calls(), 1);
}

//! What kubecredcache defends against (docs/architecture.md has the list): a hostile
//! user on the same host, a careless operator, a clock that jumps, a signal mid-fetch.
//! Each test drives the built binary and failed before its fix.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

#[cfg(target_os = "linux")]
use crate::common::output_and_peak_memory;
use crate::common::{self, AWS, Sandbox, alive, as_nobody, output_within, token, wait_for};
use kubecredcache::cache::CacheFile;

const BOUND: Duration = Duration::from_secs(30);

fn one_warning(stderr: &[u8]) -> String {
    let stderr = String::from_utf8_lossy(stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "one warning line: {stderr}");
    assert!(stderr.starts_with("kubecredcache: warning:"), "{stderr}");
    stderr
}

fn pids(path: &Path) -> Vec<i32> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// Edits every entry of `cluster`'s cache file.
fn edit_entries(s: &Sandbox, cluster: &str, edit: impl Fn(&mut kubecredcache::cache::CacheEntry)) {
    let path = s.cache.join(format!("cache-{cluster}.yaml"));
    let mut file = CacheFile::parse(&fs::read(&path).unwrap()).unwrap();
    file.entries.values_mut().for_each(edit);
    fs::write(&path, file.to_yaml()).unwrap();
}

// 1. A hung background refresh stalls the foreground.
#[test]
fn a_hung_background_refresh_is_killed_and_does_not_hold_up_the_foreground() {
    let mut s = Sandbox::new();
    let pid_file = s.root.path().join("pids");
    s.set("KUBECREDCACHE_REFRESH_AHEAD", "250s").set("FAKE_LIFETIME", "200");
    let first = token(&s.ok(AWS));
    s.age_entries("c1", Duration::from_secs(300));
    // The refresh this hit starts never answers (a laptop asleep mid-call).
    s.set("FAKE_SLEEP", "600").set("FAKE_PIDS", pid_file.to_str().unwrap());
    s.set("KUBECREDCACHE_REFRESH_TIMEOUT", "3s");
    assert_eq!(token(&s.ok(AWS)), first);
    wait_for("the refresh's authenticator to start", || !pids(&pid_file).is_empty());
    let hung = pids(&pid_file)[0];

    // The token is now inside the margin: the foreground must fetch, and must not sit
    // out the whole lock wait behind a refresh nobody can answer for.
    s.set("FAKE_SLEEP", "").set("KUBECREDCACHE_EXPIRY_MARGIN", "300");
    s.set("KUBECREDCACHE_LOCK_WAIT", "25s").set("KUBECREDCACHE_LOG", "warn");
    let out = s.run_bounded(AWS, BOUND);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_ne!(token(std::str::from_utf8(&out.stdout).unwrap()), first);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("waited 25s"),
        "the foreground sat out the lock wait: {stderr}"
    );

    // The refresh's time limit kills its authenticator and records a failure.
    wait_for("the hung authenticator to be killed", || !alive(hung));
    wait_for("the refresh to record its failure", || {
        fs::read_dir(&s.cache)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with(".failed"))
    });
}

// 2. The hit path trusts a directory or file that is not the user's.
#[test]
fn a_token_planted_in_a_directory_others_can_write_is_not_served() {
    let mut s = Sandbox::new();
    let shared = s.root.path().join("shared");
    s.set("KUBECREDCACHE_DIR", shared.to_str().unwrap());
    let planted = token(&s.ok(AWS));
    // Someone else could have written this file: the directory is writable by all.
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o777)).unwrap();
    let out = s.run(AWS);
    assert!(out.status.success());
    assert_ne!(token(std::str::from_utf8(&out.stdout).unwrap()), planted);
    let warning = one_warning(&out.stderr);
    assert!(
        warning.contains("writable") && warning.contains("without cache"),
        "{warning}"
    );
    // A group-writable cache file in a private directory is not served either.
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o700)).unwrap();
    let file = shared.join("cache-c1.yaml");
    fs::set_permissions(&file, fs::Permissions::from_mode(0o620)).unwrap();
    let out = s.run(AWS);
    assert_ne!(token(std::str::from_utf8(&out.stdout).unwrap()), planted);
    assert_eq!(s.calls(), 3);
}

#[test]
fn a_directory_owned_by_another_user_is_not_served_from() {
    let mut s = Sandbox::new();
    let theirs = s.root.path().join("theirs");
    s.set("KUBECREDCACHE_DIR", theirs.to_str().unwrap());
    let planted = token(&s.ok(AWS));
    // As root, make the directory and its files someone else's, as a user who created a
    // shared KUBECREDCACHE_DIR first would have them.
    if unsafe { libc::geteuid() } != 0 {
        common::skip("needs root to give a directory to another user");
        return;
    }
    for path in [theirs.clone(), theirs.join("cache-c1.yaml")] {
        std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
    }
    let out = s.run(AWS);
    assert!(out.status.success());
    assert_ne!(token(std::str::from_utf8(&out.stdout).unwrap()), planted);
    let warning = one_warning(&out.stderr);
    assert!(warning.contains("65534") && warning.contains("not to you"), "{warning}");
}

// 3. A special or huge file at the cache path.
#[test]
fn a_fifo_at_the_cache_path_hangs_nothing_and_is_replaced() {
    let s = Sandbox::new();
    s.ok(AWS);
    let path = s.cache.join("cache-c1.yaml");
    fs::remove_file(&path).unwrap();
    common::mkfifo(&path);
    for args in [&["status"][..], &["status", "--json"]] {
        let out = s.run_bounded(args, BOUND);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = s.run_bounded(AWS, BOUND);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        fs::metadata(&path).unwrap().is_file(),
        "the next store replaced the FIFO"
    );
    let t = token(&s.ok(AWS));
    assert_eq!(token(&s.ok(AWS)), t, "and it serves hits again");
    assert_eq!(s.calls(), 2);
    // clear does not hang on one either.
    fs::remove_file(&path).unwrap();
    common::mkfifo(&path);
    let out = s.run_bounded(&["clear", "--all"], BOUND);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        path.exists(),
        "not a cache file of ours: left for the next store to replace"
    );
}

// Linux: the peak memory from wait4 is in KiB there, `ulimit -v` and the device numbers
// are Linux's.
#[cfg(target_os = "linux")]
#[test]
fn a_huge_file_or_a_device_at_the_cache_path_is_not_read_whole_and_is_replaced() {
    let s = Sandbox::new();
    s.ok(AWS);
    let path = s.cache.join("cache-c1.yaml");
    // 2 GiB that take no disk: a sparse file.
    let file = fs::File::create(&path).unwrap();
    file.set_len(2 << 30).unwrap();
    drop(file);
    // The peak counts what the test process had when it started the run (the kernel
    // charges a vfork'ed child its parent's pages): far below the file, all the same.
    let (out, peak_kib) = output_and_peak_memory(s.command(AWS));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(peak_kib < 512 << 10, "read the file whole: {peak_kib} KiB");
    assert!(fs::metadata(&path).unwrap().len() < 1 << 20, "replaced by a cache file");
    let status = s.run_bounded(&["status", "--json"], BOUND);
    assert!(status.status.success());

    // A device that never ends (/dev/zero's numbers), as root can make one.
    if unsafe { libc::geteuid() } != 0 {
        common::skip("needs root to make a device file");
        return;
    }
    fs::remove_file(&path).unwrap();
    let made = std::process::Command::new("mknod")
        .arg(&path)
        .args(["c", "1", "5"])
        .status()
        .unwrap();
    assert!(made.success());
    // Under 4 GiB of address space, so that reading it whole stops instead of filling memory.
    let mut capped = s.command_for(Path::new("sh"), &["-c", "ulimit -v 4194304 && exec \"$@\"", "sh"]);
    capped.arg(common::bin()).args(AWS);
    let (out, peak_kib) = output_and_peak_memory(capped);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(peak_kib < 512 << 10, "read the device: {peak_kib} KiB");
    assert!(fs::metadata(&path).unwrap().is_file(), "replaced by a cache file");
}

// 4. `--generic` loses itself in the background.
#[test]
fn a_generic_entry_is_refreshed_in_the_background_as_generic() {
    let mut s = Sandbox::new();
    s.fake("vault-login");
    let generic = [
        "--generic",
        "--key-env",
        "VAULT_ADDR",
        "--",
        "vault-login",
        "--role",
        "dev",
    ];
    s.set("KUBECREDCACHE_REFRESH_AHEAD", "250s").set("FAKE_LIFETIME", "200");
    s.set("VAULT_ADDR", "https://vault");
    let first = token(&s.ok(&generic));
    s.age_entries("generic-vault-login", Duration::from_secs(300));
    s.set("FAKE_LIFETIME", "900");
    assert_eq!(token(&s.ok(&generic)), first, "the hit starts the refresh");
    wait_for("the background refresh", || {
        s.calls() == 2
            && !fs::read_dir(&s.cache)
                .unwrap()
                .flatten()
                .any(|e| e.file_name().to_string_lossy().ends_with(".running"))
    });
    let refreshed = token(&s.ok(&generic));
    assert_ne!(refreshed, first, "the refresh renewed the generic entry");
    assert_eq!(s.calls(), 2);
    let failed = fs::read_dir(&s.cache)
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().ends_with(".failed"));
    assert!(!failed, "the refresh succeeded");
}

// 5. `--key-env` values are stored in clear.
#[test]
fn key_env_values_are_stored_as_digests_only() {
    let mut s = Sandbox::new();
    s.fake("vault-login");
    s.set("VAULT_TOKEN", "hvs.the-vault-token-value");
    let generic = ["--generic", "--key-env", "VAULT_TOKEN", "--", "vault-login"];
    let t = token(&s.ok(&generic));
    assert_eq!(token(&s.ok(&generic)), t);
    for entry in fs::read_dir(&s.cache).unwrap().flatten() {
        let text = fs::read_to_string(entry.path()).unwrap_or_default();
        assert!(
            !text.contains("the-vault-token-value"),
            "{:?} holds the value in clear",
            entry.file_name()
        );
    }
    s.set("VAULT_TOKEN", "hvs.another");
    assert_ne!(token(&s.ok(&generic)), t, "the value still separates identities");
}

// 6. A shared directory given as KUBECREDCACHE_DIR is damaged.
#[test]
fn a_shared_directory_keeps_its_mode_and_its_files() {
    let mut s = Sandbox::new();
    let tmp = s.root.path().join("tmp");
    fs::create_dir(&tmp).unwrap();
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o1777)).unwrap();
    let theirs = tmp.join("someone-elses.lock");
    fs::write(&theirs, "").unwrap();
    common::age_file(&theirs, Duration::from_secs(3600));
    s.set("KUBECREDCACHE_DIR", tmp.to_str().unwrap())
        .set("KUBECREDCACHE_GC_INTERVAL", "0")
        .set("KUBECREDCACHE_GC_AGE", "0");
    let out = s.run(AWS);
    assert!(out.status.success());
    one_warning(&out.stderr);
    assert_eq!(
        fs::metadata(&tmp).unwrap().mode() & 0o7777,
        0o1777,
        "the sticky bit and others' access stay"
    );
    assert!(theirs.exists(), "a lock file that is not ours is not collected");
    assert_eq!(fs::read_dir(&tmp).unwrap().count(), 1, "nothing of ours was left in it");
}

#[test]
fn garbage_collection_leaves_files_that_are_not_ours() {
    let mut s = Sandbox::new();
    s.set("KUBECREDCACHE_GC_INTERVAL", "0").set("KUBECREDCACHE_GC_AGE", "0");
    s.ok(AWS);
    for name in [
        "notes.lock",
        "flight-nothex.lock",
        "refresh-mine.failed",
        "cache-x.yaml.bak",
    ] {
        fs::write(s.cache.join(name), "").unwrap();
        common::age_file(&s.cache.join(name), Duration::from_secs(3600));
    }
    s.ok(&["aws", "eks", "get-token", "--cluster-name", "other"]);
    for name in [
        "notes.lock",
        "flight-nothex.lock",
        "refresh-mine.failed",
        "cache-x.yaml.bak",
    ] {
        assert!(s.cache.join(name).exists(), "{name} was collected");
    }
}

#[test]
fn garbage_collection_takes_an_old_cache_file_this_version_cannot_read() {
    let mut s = Sandbox::new();
    s.set("KUBECREDCACHE_GC_AGE", "10m");
    s.ok(AWS);
    // Left by a later version (a downgrade since), holding a token this one cannot
    // serve, and one whose entry a hand edit broke: neither would ever go.
    let newer = "version: 2\ncluster: old\nentries:\n  k:\n    tokens: [k8s-aws-v1.secret]\n";
    let edited = r#"{"version": 1, "cluster": "edited", "entries": {"k": {"provider": "aws-eks"}}}"#;
    for (name, body, old) in [
        ("cache-old.yaml", newer, true),
        ("cache-edited.yaml", edited, true),
        ("cache-young.yaml", newer, false),
        ("cache-notes.yaml", "- not a cache file\n", true),
        // Per-key files as earlier versions named them, by a 16-digit hash of the key.
        ("failure-0123456789abcdef.json", "{}", true),
        ("refresh-0123456789abcdef.failed", "{}", true),
    ] {
        let path = s.cache.join(name);
        fs::write(&path, body).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        if old {
            common::age_file(&path, Duration::from_secs(3600));
        }
    }
    let out = s.ok(&["gc"]);
    for gone in [
        "cache-old.yaml",
        "cache-edited.yaml",
        "failure-0123456789abcdef.json",
        "refresh-0123456789abcdef.failed",
    ] {
        assert!(!s.cache.join(gone).exists(), "{gone} was kept: {out}");
    }
    for kept in ["cache-young.yaml", "cache-notes.yaml", "cache-c1.yaml"] {
        assert!(s.cache.join(kept).exists(), "{kept} was collected: {out}");
    }
}

// 7. `~` in KUBECREDCACHE_DIR.
#[test]
fn a_tilde_in_kubecredcache_dir_means_home_and_a_relative_path_is_refused() {
    let mut s = Sandbox::new();
    let work = s.root.path().join("checkout");
    fs::create_dir(&work).unwrap();
    s.set("KUBECREDCACHE_DIR", "~/.cache/kcc");
    let mut cmd = s.command(AWS);
    cmd.current_dir(&work);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(s.home.join(".cache/kcc/cache-c1.yaml").exists());
    assert_eq!(
        fs::read_dir(&work).unwrap().count(),
        0,
        "nothing in the working directory"
    );

    s.set("KUBECREDCACHE_DIR", "relative/cache");
    let mut cmd = s.command(AWS);
    cmd.current_dir(&work);
    let out = cmd.output().unwrap();
    assert!(out.status.success());
    let warning = one_warning(&out.stderr);
    assert!(warning.contains("relative"), "{warning}");
    assert_eq!(
        fs::read_dir(&work).unwrap().count(),
        0,
        "nothing in the working directory"
    );
}

// 8. A clock stepped back.
#[test]
fn an_entry_written_in_the_future_is_not_served() {
    let s = Sandbox::new();
    let first = token(&s.ok(AWS));
    // Written while the clock ran an hour ahead, now corrected.
    edit_entries(&s, "c1", |e| {
        e.written = chrono::Utc::now() + chrono::Duration::hours(1);
        e.expires = chrono::Utc::now() + chrono::Duration::minutes(75);
    });
    assert_ne!(token(&s.ok(AWS)), first);
    assert_eq!(s.calls(), 2);
}

#[test]
fn a_token_signed_in_the_future_is_not_served_from_the_cache() {
    let mut s = Sandbox::new();
    // Signed an hour ahead of the corrected clock: STS refuses it.
    s.set("FAKE_SIGNED_AGO", "-3600");
    let first = token(&s.ok(AWS));
    assert_ne!(token(&s.ok(AWS)), first);
    assert_eq!(s.calls(), 2);
}

// 9. One root run kills the user's cache.
#[test]
fn root_leaves_nothing_of_its_own_in_a_users_home() {
    let s = Sandbox::new();
    if unsafe { libc::geteuid() } != 0 {
        common::skip("needs root");
        return;
    }
    // The user's home, as `sudo -E` keeps it: owned by the user, HOME pointing at it.
    std::os::unix::fs::chown(&s.home, Some(65534), Some(65534)).unwrap();
    let out = s.run(AWS);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    token(std::str::from_utf8(&out.stdout).unwrap());
    assert!(
        !s.cache.exists(),
        "root created {} in the user's home",
        s.cache.display()
    );
}

#[test]
fn a_user_whose_cache_root_took_over_is_told_how_to_fix_it() {
    let s = Sandbox::new();
    fs::set_permissions(s.root.path(), fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::chown(&s.home, Some(65534), Some(65534)).unwrap();
    // What one `sudo -E kubectl` left: a root-owned cache directory in the user's home.
    fs::create_dir(&s.cache).unwrap();
    fs::set_permissions(&s.cache, fs::Permissions::from_mode(0o700)).unwrap();
    let Some(mut cmd) = as_nobody(&s.command(AWS)) else {
        return;
    };
    let calls = s.root.path().join("calls-nobody");
    fs::write(&calls, "").unwrap();
    std::os::unix::fs::chown(&calls, Some(65534), Some(65534)).unwrap();
    cmd.env("FAKE_CALLS", &calls);
    let out = output_within(cmd, BOUND);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    token(std::str::from_utf8(&out.stdout).unwrap());
    let warning = one_warning(&out.stderr);
    assert!(
        warning.contains("root") && warning.contains("rm -r"),
        "says how to fix it: {warning}"
    );
}

/// A umask that takes the owner's read bit (`umask 0477`) leaves a new cache directory
/// at `d-wx------`: it gets 0700 all the same, and the second run is a hit.
#[test]
fn a_umask_that_takes_the_owners_bits_still_gives_a_usable_cache_directory() {
    let s = Sandbox::new();
    fs::set_permissions(s.root.path(), fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::chown(&s.home, Some(65534), Some(65534)).unwrap();
    let calls = s.root.path().join("calls-nobody");
    fs::write(&calls, "").unwrap();
    std::os::unix::fs::chown(&calls, Some(65534), Some(65534)).unwrap();
    let run = || {
        let inner = s.command(AWS);
        let mut sh = std::process::Command::new("/bin/sh");
        sh.args(["-c", r#"umask 0477 && exec "$0" "$@""#])
            .arg(inner.get_program())
            .args(inner.get_args());
        for (k, v) in inner.get_envs() {
            if let Some(v) = v {
                sh.env(k, v);
            }
        }
        let mut cmd = as_nobody(&sh)?;
        cmd.env("FAKE_CALLS", &calls);
        let out = output_within(cmd, BOUND);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
        Some(token(std::str::from_utf8(&out.stdout).unwrap()))
    };
    let Some(first) = run() else {
        return;
    };
    assert_eq!(run(), Some(first), "served from the cache");
    assert_eq!(fs::read_to_string(&calls).unwrap().lines().count(), 1);
    assert_eq!(fs::metadata(&s.cache).unwrap().mode() & 0o777, 0o700);
}

// 10. A signal to kubecredcache orphans the authenticator.
#[test]
fn a_signal_to_kubecredcache_ends_the_authenticator_too() {
    for signal in [libc::SIGTERM, libc::SIGHUP] {
        let mut s = Sandbox::new();
        let pid_file = s.root.path().join("pids");
        s.set("FAKE_SLEEP", "60").set("FAKE_PIDS", pid_file.to_str().unwrap());
        let mut child = s
            .command(AWS)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for("the authenticator to start", || !pids(&pid_file).is_empty());
        // To kubecredcache alone, as a supervisor or a closing terminal would.
        unsafe { libc::kill(child.id() as i32, signal) };
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(signal), "the exit status reflects the signal");
        let authenticator = pids(&pid_file)[0];
        wait_for("the authenticator to end", || !alive(authenticator));
    }
}

// Found under the soak: refresh ahead and short tokens.
#[test]
fn a_fresh_short_token_is_not_refreshed_at_once() {
    for (lifetime, window) in [("120", None), ("900", Some("20m"))] {
        let mut s = Sandbox::new();
        s.set("FAKE_LIFETIME", lifetime);
        match window {
            Some(w) => s.set("KUBECREDCACHE_REFRESH_AHEAD", w),
            None => s.set("KUBECREDCACHE_REFRESH_AHEAD", ""),
        };
        let mut cmd = s.command(AWS);
        if window.is_none() {
            cmd.env_remove("KUBECREDCACHE_REFRESH_AHEAD");
        }
        let t = token(std::str::from_utf8(&cmd.output().unwrap().stdout).unwrap());
        let mut cmd = s.command(AWS);
        if window.is_none() {
            cmd.env_remove("KUBECREDCACHE_REFRESH_AHEAD");
        }
        assert_eq!(token(std::str::from_utf8(&cmd.output().unwrap().stdout).unwrap()), t);
        let running = fs::read_dir(&s.cache)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with(".running"));
        assert!(
            !running,
            "a token fetched a moment ago ({lifetime} s, window {window:?}) is not due"
        );
    }
}

#[test]
fn a_successful_foreground_fetch_ends_a_back_off() {
    let mut s = Sandbox::new();
    s.set("KUBECREDCACHE_REFRESH_AHEAD", "250s").set("FAKE_LIFETIME", "200");
    s.ok(AWS);
    s.age_entries("c1", Duration::from_secs(300));
    s.set("FAKE_MODE", "fail");
    s.ok(AWS);
    wait_for("the failure to be recorded", || {
        fs::read_dir(&s.cache)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with(".failed"))
    });
    assert!(s.ok(&["status", "--json"]).contains("backing off"));
    s.set("FAKE_MODE", "ok").set("FAKE_LIFETIME", "900");
    let mut forced = vec!["--force-refresh"];
    forced.extend_from_slice(AWS);
    s.ok(&forced);
    let status = s.ok(&["status", "--json"]);
    assert!(!status.contains("backing off"), "{status}");
}

#[test]
fn writing_to_a_full_stdout_is_one_line_and_exit_1() {
    let s = Sandbox::new();
    s.ok(AWS);
    let full = || fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    for args in [
        &["list-providers"][..],
        &["list-providers", "--json"],
        &["status"],
        &["status", "--json"],
        &["gc"],
        &["clear", "--cluster", "nothing-here"],
        &["--help"],
        &["--version"],
        AWS,
    ] {
        let out = s.command(args).stdout(full()).stderr(Stdio::piped()).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

// Found by a second hostile review.

#[test]
fn a_warning_to_a_stderr_nobody_reads_does_not_kill_the_run() {
    let mut s = Sandbox::new();
    // A relative KUBECREDCACHE_DIR means one warning line.
    s.set("KUBECREDCACHE_DIR", "relative");
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both ends were just made by pipe(2); the read end is closed at once.
    let (read, write) = unsafe {
        use std::os::fd::FromRawFd;
        (
            std::os::fd::OwnedFd::from_raw_fd(fds[0]),
            std::os::fd::OwnedFd::from_raw_fd(fds[1]),
        )
    };
    drop(read);
    let out = s.command(AWS).stderr(Stdio::from(write)).output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    token(std::str::from_utf8(&out.stdout).unwrap());
}

#[test]
fn settings_too_large_for_the_clock_are_reported_not_fatal() {
    let mut s = Sandbox::new();
    s.set("KUBECREDCACHE_EXPIRY_MARGIN", "9000000000000")
        .set("KUBECREDCACHE_LOCK_WAIT", "18446744073709551615")
        .set("KUBECREDCACHE_REFRESH_TIMEOUT", "18446744073709551615");
    for _ in 0..2 {
        let out = s.run(AWS);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        token(std::str::from_utf8(&out.stdout).unwrap());
        assert!(String::from_utf8_lossy(&out.stderr).contains("is not a duration"));
    }
}

#[test]
fn files_named_like_ours_that_are_not_ours_are_left_alone() {
    let mut s = Sandbox::new();
    let shared = s.home.join(".cache");
    fs::create_dir_all(&shared).unwrap();
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o700)).unwrap();
    let theirs = shared.join("cache-index.yaml");
    fs::write(&theirs, "index: important\n").unwrap();
    common::age_file(&theirs, Duration::from_secs(3600));
    s.set("KUBECREDCACHE_DIR", shared.to_str().unwrap())
        .set("KUBECREDCACHE_GC_INTERVAL", "0")
        .set("KUBECREDCACHE_GC_AGE", "0");
    s.ok(AWS);
    s.ok(&["gc"]);
    s.ok(&["clear", "--all"]);
    s.ok(&["clear", "--cluster", "index"]);
    assert_eq!(fs::read_to_string(&theirs).unwrap(), "index: important\n");
    assert!(
        !shared.join("cache-index.yaml.lock").exists(),
        "no lock file made for it either"
    );
}

#[test]
fn arguments_no_provider_declares_reach_the_cache_file_only_as_a_digest() {
    let s = Sandbox::new();
    s.fake("kubelogin");
    s.fake("vault-login");
    s.ok(&[
        "kubelogin",
        "get-token",
        "--login",
        "spn",
        "--server-id",
        "s",
        "--clientsecret=typo-secret-1",
    ]);
    s.ok(&[
        "--generic",
        "--",
        "vault-login",
        "--vault-token=hvs.long-lived-secret-2",
    ]);
    for entry in fs::read_dir(&s.cache).unwrap().flatten() {
        let text = fs::read_to_string(entry.path()).unwrap_or_default();
        for secret in ["typo-secret-1", "long-lived-secret-2"] {
            assert!(!text.contains(secret), "{secret} in {:?}", entry.file_name());
        }
    }
}

#[test]
fn the_refresh_marker_does_not_reach_the_command() {
    let mut s = Sandbox::new();
    let seen = s.root.path().join("seen-env");
    s.fake("env-dumper");
    common::write_script(
        &s.bin.join("env-dumper"),
        &format!("#!/bin/sh\nenv > {}\nexec aws \"$@\"\n", seen.display()),
    );
    s.set("KUBECREDCACHE_REFRESH_AHEAD", "250s").set("FAKE_LIFETIME", "200");
    let args = ["--generic", "--", "env-dumper", "eks", "get-token"];
    s.ok(&args);
    s.age_entries("generic-env-dumper", Duration::from_secs(300));
    s.set("FAKE_LIFETIME", "900");
    s.ok(&args); // starts the background refresh, which runs env-dumper
    wait_for("the background refresh", || s.calls() == 2);
    wait_for("the dump", || {
        fs::read_to_string(&seen).is_ok_and(|t| t.contains("PATH="))
    });
    let env = fs::read_to_string(&seen).unwrap();
    assert!(!env.contains("KUBECREDCACHE_INTERNAL_REFRESH"), "{env}");
}

#[test]
fn a_symlinked_cache_directory_of_another_user_is_not_followed() {
    let mut s = Sandbox::new();
    if unsafe { libc::geteuid() } != 0 {
        common::skip("needs root to make another user's symlink");
        return;
    }
    let target = s.root.path().join("roots-own");
    fs::create_dir(&target).unwrap();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o700)).unwrap();
    let link = s.root.path().join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    // SAFETY: lchown of a path we just made.
    let name = std::ffi::CString::new(link.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::lchown(name.as_ptr(), 65534, 65534) }, 0);
    s.set("KUBECREDCACHE_DIR", link.to_str().unwrap());
    let out = s.run(AWS);
    assert!(out.status.success());
    let warning = one_warning(&out.stderr);
    assert!(warning.contains("symlink"), "{warning}");
    assert_eq!(
        fs::read_dir(&target).unwrap().count(),
        0,
        "nothing written where it pointed"
    );
}

/// The unprivileged user the next tests run as (`as_nobody`), and another one, whose
/// directories and symlinks that user must not use. Both throw-away uids.
const ME: u32 = 65534;
const OTHER: u32 = 65533;

/// Opens the sandbox to `ME` and runs `args` as `ME`, its calls counted in a file of its
/// own; `None` (after a loud skip) where we cannot switch users.
fn run_as_me(s: &Sandbox, args: &[&str]) -> Option<std::process::Output> {
    fs::set_permissions(s.root.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let calls = s.root.path().join("calls-me");
    if !calls.exists() {
        fs::write(&calls, "").unwrap();
        std::os::unix::fs::chown(&calls, Some(ME), Some(ME)).unwrap();
    }
    let mut cmd = as_nobody(&s.command(args))?;
    cmd.env("FAKE_CALLS", &calls);
    Some(output_within(cmd, BOUND))
}

/// A directory at `path` with `mode`, owned by `uid`.
fn dir_of(path: &Path, uid: u32, mode: u32) {
    fs::create_dir(path).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    std::os::unix::fs::chown(path, Some(uid), Some(uid)).unwrap();
}

#[test]
fn a_user_makes_a_cache_directory_in_a_directory_of_roots_but_never_in_another_users() {
    let mut s = Sandbox::new();
    if unsafe { libc::geteuid() } != 0 {
        common::skip("needs root to play two other users");
        return;
    }
    // Another user's directory that anyone may write to (a shared project directory),
    // and one of root's that anyone may write to, as /tmp.
    let theirs = s.root.path().join("theirs");
    dir_of(&theirs, OTHER, 0o777);
    let roots = s.root.path().join("roots");
    dir_of(&roots, 0, 0o1777);

    s.set("KUBECREDCACHE_DIR", theirs.join("cache").to_str().unwrap());
    let Some(out) = run_as_me(&s, AWS) else { return };
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    token(std::str::from_utf8(&out.stdout).unwrap());
    let warning = one_warning(&out.stderr);
    assert!(warning.contains(&format!("uid {OTHER}")), "{warning}");
    assert!(
        !theirs.join("cache").exists(),
        "a cache directory made in another user's directory"
    );

    let cache = roots.join("cache");
    s.set("KUBECREDCACHE_DIR", cache.to_str().unwrap());
    let out = run_as_me(&s, AWS).unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = token(std::str::from_utf8(&out.stdout).unwrap());
    let meta = fs::metadata(&cache).unwrap();
    assert_eq!((meta.uid(), meta.mode() & 0o777), (ME, 0o700));
    let out = run_as_me(&s, AWS).unwrap();
    assert_eq!(
        token(std::str::from_utf8(&out.stdout).unwrap()),
        first,
        "served from it"
    );
}

#[test]
fn a_user_follows_its_own_and_roots_symlink_to_its_cache_but_not_another_users() {
    let mut s = Sandbox::new();
    if unsafe { libc::geteuid() } != 0 {
        common::skip("needs root to play two other users");
        return;
    }
    for (owner, followed) in [(ME, true), (0, true), (OTHER, false)] {
        // The user's own private directory, through a link someone made.
        let target = s.root.path().join(format!("mine-{owner}"));
        dir_of(&target, ME, 0o700);
        let link = s.root.path().join(format!("link-{owner}"));
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let name = std::ffi::CString::new(link.to_str().unwrap()).unwrap();
        // SAFETY: lchown of a path we just made.
        assert_eq!(unsafe { libc::lchown(name.as_ptr(), owner, owner) }, 0);
        s.set("KUBECREDCACHE_DIR", link.to_str().unwrap());
        let Some(out) = run_as_me(&s, AWS) else { return };
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        token(std::str::from_utf8(&out.stdout).unwrap());
        let used = target.join("cache-c1.yaml").exists();
        if followed {
            assert!(
                used && out.stderr.is_empty(),
                "a link of uid {owner}'s was not followed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        } else {
            // Its owner could point it anywhere of theirs at any moment.
            assert!(!used, "a link of uid {owner}'s was followed");
            assert!(one_warning(&out.stderr).contains("symlink"));
        }
    }
}

// Review 2.
#[test]
fn a_process_the_authenticator_leaves_holding_stderr_neither_holds_up_the_run_nor_loses_its_stderr() {
    // The plugin's stderr is ours, as kubectl hands it its own: we never read it, so
    // nothing holding it can hold us up. (This ran twice while a relay read it through a
    // pipe, once with a PATH without `cat`; the relay is gone.)
    let s = Sandbox::new();
    let pid_file = s.root.path().join("leftover");
    let marker = s.root.path().join("helper-went-on");
    // A helper the plugin starts (a credential agent, an SSO browser helper) keeps
    // the plugin's stderr and writes to it later. Bare, kubectl does not wait for
    // it, and its writes reach kubectl's stderr.
    common::write_script(
        &s.bin.join("agent-login"),
        &format!(
            "#!/bin/sh\nPATH=\"$PATH:/usr/bin:/bin\"\n( sleep 1; echo 'helper: still here' >&2; touch {marker}; exec sleep 600 ) </dev/null >/dev/null &\necho $! > {pids}\nexec aws \"$@\"\n",
            pids = pid_file.display(),
            marker = marker.display()
        ),
    );
    let args = ["--generic", "--", "agent-login", "eks", "get-token"];
    // stderr not a terminal, where kubecredcache read the plugin's stderr through a pipe.
    let stderr_file = s.root.path().join("stderr");
    let mut child = s
        .command(&args)
        .stdout(Stdio::piped())
        .stderr(fs::File::create(&stderr_file).unwrap())
        .spawn()
        .unwrap();
    let mut stdout = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
    let status = {
        let deadline = std::time::Instant::now() + BOUND;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "kubecredcache waits for the helper"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    assert!(status.success(), "{}", fs::read_to_string(&stderr_file).unwrap());
    token(&stdout);
    wait_for("the helper's later write", || marker.exists());
    wait_for("its line to reach our stderr", || {
        fs::read_to_string(&stderr_file).is_ok_and(|t| t.contains("helper: still here"))
    });
    let leftover: i32 = fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
    // SAFETY: plain kill(2) of the helper the script started.
    unsafe { libc::kill(leftover, libc::SIGKILL) };
}

// Review 5.
#[test]
fn a_process_the_authenticator_leaves_writing_holds_up_neither_the_run_nor_a_caller_that_reads_stderr_last() {
    // Bare, the plugin's end is the end of the run, whoever reads its stderr and
    // whenever. Two rounds:
    // - helpers left behind write a little and often, never quiet for a millisecond,
    //   forever, and our stderr is a file: reading them must end soon after the plugin;
    // - a helper writes more than a pipe holds from the start, and the caller reads our
    //   stdout to its end before it reads our stderr (which nobody reads meanwhile):
    //   that full pipe must not block the token's way out.
    // Both were cases of reading the plugin's stderr ourselves; now it is ours, never read
    // by us, and these show the bare behaviour.
    let steady = "for i in 1 2 3 4; do\n  perl -e '$|=1; while (1) { print STDERR \"..\"; select(undef, undef, undef, 0.0002) }' </dev/null >/dev/null &\n  echo $! >> PIDS\ndone\n";
    let burst =
        "( head -c 400000 /dev/zero | tr '\\0' x >&2; exec sleep 600 ) </dev/null >/dev/null &\necho $! >> PIDS\n";
    for (writers, stderr_read_last) in [(steady, false), (burst, true)] {
        let s = Sandbox::new();
        let pid_file = s.root.path().join("writers");
        common::write_script(
            &s.bin.join("chatty-login"),
            &format!(
                "#!/bin/sh\n{}sleep 0.2\nexec aws \"$@\"\n",
                writers.replace("PIDS", pid_file.to_str().unwrap())
            ),
        );
        let args = ["--generic", "--", "chatty-login", "eks", "get-token"];
        let mut cmd = s.command(&args);
        cmd.stdout(Stdio::piped());
        if stderr_read_last {
            cmd.stderr(Stdio::piped());
        } else {
            cmd.stderr(fs::File::create(s.root.path().join("stderr")).unwrap());
        }
        let mut child = cmd.spawn().unwrap();
        let mut stdout_pipe = child.stdout.take().unwrap();
        let (sent, got) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut stdout = String::new();
            let _ = std::io::Read::read_to_string(&mut stdout_pipe, &mut stdout);
            let _ = sent.send(stdout);
        });
        let stdout = got.recv_timeout(BOUND);
        for writer in fs::read_to_string(&pid_file).unwrap().lines() {
            // SAFETY: plain kill(2) of a writer the script started.
            unsafe { libc::kill(writer.trim().parse().unwrap(), libc::SIGKILL) };
        }
        let stdout = stdout.unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("stderr read last: {stderr_read_last}: the token waits for what the helper writes")
        });
        assert!(child.wait().unwrap().success());
        token(&stdout);
    }
}

// Review 6.
#[test]
fn a_slow_reader_of_stderr_gets_the_plugins_stderr_whole_and_in_order() {
    let s = Sandbox::new();
    // More stderr than a pipe holds, then the line that says why, then a failure.
    common::write_script(
        &s.bin.join("verbose-login"),
        "#!/bin/sh\nhead -c 200000 /dev/zero | tr '\\0' e >&2\necho >&2\necho 'FATAL: the SSO session has expired' >&2\nexit 3\n",
    );
    // What kubectl writes once the plugin has ended comes after all the plugin wrote, as
    // bare: the plugin cannot end before its stderr is taken.
    let script = format!(
        "{} --generic -- verbose-login; echo KUBECTL-SAYS >&2",
        common::bin().display()
    );
    let mut child = s
        .command_for(Path::new("/bin/sh"), &["-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        // A reader that takes 4 KiB at a time, with pauses.
        let n = std::io::Read::read(&mut stderr, &mut chunk).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&chunk[..n]);
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait().unwrap();
    let got = String::from_utf8_lossy(&got);
    assert_eq!(
        got.matches('e').count(),
        200_000 + "the SSO session has expired".matches('e').count(),
        "whole"
    );
    assert!(
        got.ends_with("\nFATAL: the SSO session has expired\nKUBECTL-SAYS\n"),
        "in order: ...{}",
        &got[got.len().saturating_sub(80)..]
    );
    // The next run, in the cooldown, replays the failure as facts: the message went to
    // the run above. (While the record kept the end of stderr, this checked that the
    // slow reader did not cost it the line that says why.)
    let replay = String::from_utf8_lossy(&s.run(&["--generic", "--", "verbose-login"]).stderr).into_owned();
    assert!(
        replay.contains("with exit code 3; its message went to the stderr of the run that failed")
            && !replay.contains("FATAL"),
        "{}",
        &replay[replay.len().saturating_sub(300)..]
    );
}

#[test]
fn nothing_the_failing_plugin_wrote_is_kept_in_the_failure_record_or_replayed() {
    let s = Sandbox::new();
    // What a deny-list of secret shapes let through: a password in plain words.
    common::write_script(
        &s.bin.join("debug-login"),
        "#!/bin/sh\necho 'DEBUG login with password hunter2' >&2\necho 'the session has expired' >&2\nexit 255\n",
    );
    let args = ["--generic", "--", "debug-login"];
    let first = s.run(&args);
    assert_eq!(first.status.code(), Some(255));
    assert_eq!(
        String::from_utf8_lossy(&first.stderr),
        "DEBUG login with password hunter2\nthe session has expired\n",
        "passed on live and alone, as bare"
    );
    let mut records = 0;
    for entry in fs::read_dir(&s.cache).unwrap().flatten() {
        records += usize::from(entry.file_name().to_string_lossy().starts_with("failure-"));
        let text = fs::read_to_string(entry.path()).unwrap_or_default();
        assert!(
            !text.contains("hunter2") && !text.contains("session"),
            "in {:?}: {text}",
            entry.file_name()
        );
    }
    assert_eq!(records, 1, "the failure is recorded");
    // The replay during the cooldown says what failed, and where its message went.
    let replay = String::from_utf8_lossy(&s.run(&args).stderr).into_owned();
    assert!(
        replay.contains("debug-login failed") && replay.contains("exit code 255") && !replay.contains("hunter2"),
        "{replay}"
    );
    assert!(!replay.contains("session has expired"), "{replay}");
}

#[test]
fn a_credential_a_failing_plugin_printed_is_not_shown_on_stderr() {
    let mut s = Sandbox::new();
    s.set("KUBECREDCACHE_FAILURE_COOLDOWN", "0");
    // A credential printed whole, then a failing step after it (a cleanup, a cache
    // write): kubectl throws a failing plugin's stdout away. A static token of words,
    // which no secret shape names, and the same cut short.
    let credential = r#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"hunter2-correct-horse"}}"#;
    for printed in [credential, &credential[..100]] {
        common::write_script(
            &s.bin.join("leaky-login"),
            &format!("#!/bin/sh\nprintf '%s\\n' '{printed}'\nexit 1\n"),
        );
        let out = s.run(&["--generic", "--", "leaky-login"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty(), "kubectl reads stdout as the credential");
        let err = one_warning(&out.stderr);
        assert!(!err.contains("hunter2"), "{err}");
        assert!(
            err.contains(&format!("printed {} bytes on stdout, not shown", printed.len() + 1)),
            "{err}"
        );
    }
}

#[test]
fn two_programs_of_one_name_at_different_paths_are_two_identities() {
    let s = Sandbox::new();
    // Wrapper scripts that sign in differently: each is another identity, though the
    // arguments are the same.
    for env in ["prod", "dev"] {
        let dir = s.root.path().join(env);
        fs::create_dir_all(&dir).unwrap();
        common::write_script(
            &dir.join("aws"),
            &format!(
                "#!/bin/sh\nAWS_PROFILE={env} exec {} \"$@\"\n",
                s.bin.join("aws").display()
            ),
        );
    }
    let run = |env: &str| {
        let program = s.root.path().join(env).join("aws");
        let mut args = vec![program.to_str().unwrap().to_string()];
        args.extend(AWS[1..].iter().map(|a| a.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        token(&s.ok(&args))
    };
    let prod = run("prod");
    let dev = run("dev");
    assert_ne!(prod, dev, "dev was served prod's token");
    assert_eq!(s.calls(), 2);
    assert_eq!(run("prod"), prod, "and each is cached");
    assert_eq!(s.calls(), 2);
}

#[test]
fn a_closed_stderr_does_not_make_a_cache_file_the_plugins_stderr() {
    use std::os::unix::process::CommandExt;
    let mut s = Sandbox::new();
    s.set("FAKE_MODE", "fail");
    for closed in [libc::STDERR_FILENO, libc::STDIN_FILENO] {
        let mut cmd = s.command(AWS);
        cmd.stdout(Stdio::null());
        // SAFETY: close(2) between fork and exec, of a descriptor the child has.
        unsafe {
            cmd.pre_exec(move || {
                libc::close(closed);
                Ok(())
            })
        };
        let status = cmd.status().unwrap();
        assert_eq!(status.code(), Some(3));
        // The failure record keeps the message by design; nothing else may hold it.
        for entry in fs::read_dir(&s.cache).into_iter().flatten().flatten() {
            if entry.file_name().to_string_lossy().starts_with("failure-") {
                continue;
            }
            let text = fs::read(entry.path()).unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&text).contains("fake: the SSO session"),
                "the plugin's stderr went into {:?}",
                entry.file_name()
            );
        }
        s.set("KUBECREDCACHE_FAILURE_COOLDOWN", "0");
    }
}

#[test]
fn a_relative_program_path_is_another_program_in_each_working_directory() {
    let s = Sandbox::new();
    for env in ["prod", "dev"] {
        let dir = s.root.path().join(env).join("bin");
        fs::create_dir_all(&dir).unwrap();
        common::write_script(
            &dir.join("aws"),
            &format!(
                "#!/bin/sh\nAWS_PROFILE={env} exec {} \"$@\"\n",
                s.bin.join("aws").display()
            ),
        );
        common::write_script(
            &dir.join("vault-login"),
            &format!("#!/bin/sh\nexec {} \"$@\"\n", s.bin.join("aws").display()),
        );
    }
    for args in [
        vec!["bin/aws", "eks", "get-token", "--cluster-name", "c1"],
        vec!["--generic", "--", "bin/vault-login", "eks", "get-token"],
    ] {
        let run = |env: &str| {
            let mut cmd = s.command(&args);
            cmd.current_dir(s.root.path().join(env));
            let out = cmd.output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            token(std::str::from_utf8(&out.stdout).unwrap())
        };
        let before = s.calls();
        assert_ne!(run("prod"), run("dev"), "{args:?}: dev was served prod's token");
        assert_eq!(s.calls(), before + 2);
    }
}

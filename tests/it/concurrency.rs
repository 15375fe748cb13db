//! Many kubectl processes at once: single flight, no lost updates, no torn reads, no
//! lock left behind by a killed process, garbage collection that hurts nobody.

use crate::common::{AWS, Sandbox, token};
use kubecredcache::cache::CacheFile;
use std::process::{Child, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn spawn(s: &Sandbox, args: &[&str]) -> Child {
    s.command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(children: Vec<Child>) -> Vec<Output> {
    children.into_iter().map(|c| c.wait_with_output().unwrap()).collect()
}

fn entries(s: &Sandbox, cluster: &str) -> usize {
    let bytes = std::fs::read(s.cache.join(format!("cache-{cluster}.yaml"))).unwrap();
    CacheFile::parse(&bytes).expect("a whole cache file").entries.len()
}

#[test]
fn sixteen_cold_processes_cost_one_upstream_call_and_print_one_token() {
    let mut s = Sandbox::new();
    s.set("FAKE_SLEEP", "1");
    let outputs = finish((0..16).map(|_| spawn(&s, AWS)).collect());
    let tokens: Vec<String> = outputs
        .iter()
        .map(|o| {
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            token(std::str::from_utf8(&o.stdout).unwrap())
        })
        .collect();
    assert_eq!(s.calls(), 1, "one upstream call for sixteen processes");
    assert!(tokens.iter().all(|t| *t == tokens[0]), "{tokens:?}");
}

#[test]
fn parallel_writers_of_one_cluster_keep_every_entry() {
    let s = Sandbox::new();
    let children: Vec<Child> = (0..12)
        .map(|i| {
            let mut cmd = s.command(AWS);
            cmd.env("AWS_PROFILE", format!("profile-{i}"))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    for o in finish(children) {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert_eq!(s.calls(), 12);
    assert_eq!(entries(&s, "c1"), 12, "no writer lost another's entry");
}

#[test]
fn a_reader_never_sees_a_torn_file_while_writers_rewrite_it() {
    let s = Sandbox::new();
    s.ok(AWS);
    let path = s.cache.join("cache-c1.yaml");
    let stop = AtomicBool::new(false);
    let reads = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !stop.load(Ordering::SeqCst) {
                let bytes = std::fs::read(&path).expect("the file is always there: rename replaces it");
                assert!(
                    CacheFile::parse(&bytes).is_some(),
                    "torn read: {}",
                    String::from_utf8_lossy(&bytes)
                );
                reads.fetch_add(1, Ordering::SeqCst);
            }
        });
        for round in 0..4 {
            let children: Vec<Child> = (0..8)
                .map(|i| {
                    let mut cmd = s.command(AWS);
                    cmd.env("AWS_PROFILE", format!("r{round}-{i}")).stdout(Stdio::null());
                    cmd.spawn().unwrap()
                })
                .collect();
            for mut c in children {
                assert!(c.wait().unwrap().success());
            }
        }
        stop.store(true, Ordering::SeqCst);
    });
    assert!(
        reads.load(Ordering::SeqCst) > 10,
        "the reader ran alongside the writers"
    );
    assert_eq!(entries(&s, "c1"), 33);
}

#[test]
fn a_process_killed_while_fetching_does_not_block_the_next() {
    let mut s = Sandbox::new();
    s.set("FAKE_SLEEP", "30");
    let mut stuck = s.command(AWS);
    std::os::unix::process::CommandExt::process_group(&mut stuck, 0);
    let mut stuck = stuck.stdout(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while s.calls() == 0 {
        assert!(Instant::now() < deadline, "the upstream never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    // As kubectl's timeout would: kill -9 the plugin, which holds the single-flight lock.
    stuck.kill().unwrap();
    stuck.wait().unwrap();

    // No waiting allowed: a lock still held would make this run report that it waited.
    s.set("FAKE_SLEEP", "")
        .set("KUBECREDCACHE_LOCK_WAIT", "0")
        .set("KUBECREDCACHE_LOG", "warn");
    let out = s.run(AWS);
    // The orphaned upstream (sleep 30) goes too.
    unsafe { libc::kill(-(stuck.id() as i32), libc::SIGKILL) };
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("waited"),
        "the killed process's lock blocked the next run: {stderr}"
    );
    assert_eq!(s.calls(), 2);
}

#[test]
fn garbage_collection_in_every_process_hurts_no_concurrent_run() {
    let mut s = Sandbox::new();
    // Collect on every run, and treat every file as old enough: the harshest setting.
    s.set("KUBECREDCACHE_GC_INTERVAL", "0").set("KUBECREDCACHE_GC_AGE", "0");
    for round in 0..3 {
        let children: Vec<Child> = (0..10)
            .map(|i| {
                let mut cmd = s.command(AWS);
                // Half share a key (single flight + hits), half write their own entries.
                if i % 2 == 0 {
                    cmd.env("AWS_PROFILE", format!("gc-{round}-{i}"));
                }
                cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
                cmd.spawn().unwrap()
            })
            .collect();
        for o in finish(children) {
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            assert!(o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));
            token(std::str::from_utf8(&o.stdout).unwrap());
        }
    }
    // Entries are still valid tokens, so collection kept the file and all of them.
    assert_eq!(entries(&s, "c1"), 1 + 3 * 5);
    assert_eq!(
        s.calls(),
        1 + 3 * 5,
        "single flight held while lock files were being collected"
    );
}

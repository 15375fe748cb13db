//! No login storms: when the authenticator fails (an expired SSO session), the runs that
//! waited for it share its failure, and runs right after it replay it, instead of each
//! starting another login. A waiting run says why it waits. The failure record keeps no
//! text of the authenticator's: its message goes to the run that failed, and a replay
//! says so.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Output, Stdio};

use crate::common::{AWS, Sandbox, token, wait_for};

const MESSAGE: &str = "run aws sso login";

fn spawn(s: &Sandbox, args: &[&str]) -> Child {
    s.command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn failure_record(s: &Sandbox) -> PathBuf {
    fs::read_dir(&s.cache)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("failure-"))
        .expect("a failure record")
}

/// A sandbox whose first run failed a moment ago; the authenticator works again now.
fn after_a_failure() -> Sandbox {
    let mut s = Sandbox::new();
    s.set("FAKE_MODE", "fail");
    let out = s.run(AWS);
    assert_eq!(out.status.code(), Some(3));
    s.set("FAKE_MODE", "ok");
    s
}

#[test]
fn sixteen_parallel_runs_against_a_failing_authenticator_cost_at_most_two_runs() {
    let mut s = Sandbox::new();
    s.set("FAKE_SLEEP", "0.5").set("FAKE_MODE", "fail");
    let children: Vec<Child> = (0..16).map(|_| spawn(&s, AWS)).collect();
    let mut shown = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(3), "each exits with the authenticator's code");
        // A run that ran the authenticator shows its message, as bare; the others say
        // that it went to that run, and its exit code.
        let err = stderr(&out);
        if err.contains(MESSAGE) {
            shown += 1;
        } else {
            assert!(
                err.contains("its message went to the stderr of the run that failed") && err.contains("exit code 3"),
                "{err}"
            );
        }
    }
    assert!(s.calls() <= 2, "{} authenticator runs for 16 kubectl runs", s.calls());
    assert_eq!(
        shown,
        s.calls(),
        "each run of the authenticator, and no other, shows its message"
    );
    let record = fs::read_to_string(failure_record(&s)).unwrap();
    assert!(
        !record.contains("SSO session") && !record.contains("fake-token"),
        "{record}"
    );
}

#[test]
fn a_run_during_the_cooldown_replays_the_failure_as_facts_and_says_how_to_retry() {
    let s = after_a_failure();
    let out = s.run(AWS);
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    // One line: what failed, when, its exit code, where its message went, how to retry;
    // none of the authenticator's words, which the record does not keep.
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("kubecredcache: aws failed to get the token for cluster c1 "),
        "{err}"
    );
    for fact in [
        "s ago (",
        " UTC) with exit code 3;",
        "its message went to the stderr of the run that failed",
        "not trying again for",
        "--force-refresh",
    ] {
        assert!(err.contains(fact), "{fact}: {err}");
    }
    assert!(!err.contains("SSO session"), "{err}");
    assert_eq!(s.calls(), 1, "the authenticator did not run again");
}

#[test]
fn the_cooldown_ends_by_itself() {
    let s = after_a_failure();
    // As if the failure were 20 s old (the default cooldown is 10 s).
    let path = failure_record(&s);
    let mut record: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    record["failed_at"] = (chrono::Utc::now() - chrono::Duration::seconds(20)).to_rfc3339().into();
    fs::write(&path, record.to_string()).unwrap();
    token(&s.ok(AWS));
    assert_eq!(s.calls(), 2);
    assert!(!path.exists(), "a fetch that worked forgets the failure");
}

#[test]
fn a_failure_recorded_in_the_future_holds_nothing_back() {
    let s = after_a_failure();
    // The clock was stepped back an hour since the failure (NTP, a VM resumed): its time
    // lies an hour ahead. Replaying it until real time catches up would lock this
    // identity out for that hour.
    let path = failure_record(&s);
    let mut record: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    record["failed_at"] = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339().into();
    fs::write(&path, record.to_string()).unwrap();
    token(&s.ok(AWS));
    assert_eq!(s.calls(), 2, "the authenticator ran");
}

/// The region values of two AWS identities whose cache keys,
/// `["aws-eks","c1",[["cluster-name","c1"],["region","…"]],[]]`, have the same 64-bit
/// FNV-1a hash (814a9b8846101ef5), which named per-key files before: found by a
/// collision search of about 2^32 hashes, a few minutes of one core.
const COLLIDING_REGIONS: [&str; 2] = ["Orr1c4wgaDO", "DciA37CqVzN"];

fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[test]
fn one_identitys_failure_is_not_replayed_to_another_whose_key_hash_collides() {
    let mut s = Sandbox::new();
    // Long enough that the cooldown of the first identity is certain to hold below.
    s.set("KUBECREDCACHE_FAILURE_COOLDOWN", "1h");
    let run =
        |s: &Sandbox, region: &str| s.run(&["aws", "--region", region, "eks", "get-token", "--cluster-name", "c1"]);
    s.set("FAKE_MODE", "fail");
    assert_eq!(run(&s, COLLIDING_REGIONS[0]).status.code(), Some(3));
    s.set("FAKE_MODE", "ok");
    let out = run(&s, COLLIDING_REGIONS[1]);
    assert!(
        out.status.success(),
        "the other identity got the first one's failure: {}",
        stderr(&out)
    );
    token(std::str::from_utf8(&out.stdout).unwrap());
    assert_eq!(s.calls(), 2);
    // The premise: the key the failing identity would have is stored now for the other
    // one, and the two hash alike.
    let file = kubecredcache::cache::CacheFile::parse(&fs::read(s.cache.join("cache-c1.yaml")).unwrap()).unwrap();
    let stored: Vec<&String> = file.entries.keys().collect();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].contains(COLLIDING_REGIONS[1]), "{stored:?}");
    let failing = stored[0].replace(COLLIDING_REGIONS[1], COLLIDING_REGIONS[0]);
    assert_eq!(fnv1a64(failing.as_bytes()), fnv1a64(stored[0].as_bytes()), "{failing}");
    // And the failing identity still has its own failure to replay.
    assert_eq!(run(&s, COLLIDING_REGIONS[0]).status.code(), Some(3));
    assert_eq!(s.calls(), 2, "replayed, not run");
}

#[test]
fn a_new_sign_in_ends_the_cooldown() {
    let s = after_a_failure();
    // `aws sso login` writes the SSO cache.
    let sso = s.home.join(".aws/sso/cache");
    fs::create_dir_all(&sso).unwrap();
    fs::write(sso.join("token.json"), "{}").unwrap();
    token(&s.ok(AWS));
    assert_eq!(s.calls(), 2);
}

#[test]
fn a_forced_refresh_ends_the_cooldown() {
    let s = after_a_failure();
    let mut forced = vec!["--force-refresh"];
    forced.extend_from_slice(AWS);
    let t = token(&s.ok(&forced));
    assert_eq!(token(&s.ok(AWS)), t, "and the next run is a hit");
    assert_eq!(s.calls(), 2);
}

#[test]
fn another_identity_is_not_held_back() {
    let s = after_a_failure();
    let mut cmd = s.command(AWS);
    cmd.env("AWS_PROFILE", "other");
    assert!(cmd.output().unwrap().status.success());
    assert_eq!(s.calls(), 2);
}

#[test]
fn a_person_at_a_terminal_may_try_again_at_once() {
    let mut s = after_a_failure();
    s.set(
        "KUBERNETES_EXEC_INFO",
        r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":true}}"#,
    );
    token(&s.ok(AWS));
    assert_eq!(s.calls(), 2);
}

#[test]
fn a_cooldown_of_zero_turns_it_off() {
    let mut s = after_a_failure();
    s.set("KUBECREDCACHE_FAILURE_COOLDOWN", "0");
    token(&s.ok(AWS));
    assert_eq!(s.calls(), 2);
}

#[test]
fn a_waiting_run_says_why_it_waits() {
    let mut s = Sandbox::new();
    s.set("FAKE_SLEEP", "3");
    let leader = spawn(&s, AWS);
    wait_for("the leader to run the authenticator", || s.calls() == 1);
    let waiter = spawn(&s, AWS).wait_with_output().unwrap();
    let leader = leader.wait_with_output().unwrap();
    assert!(waiter.status.success() && leader.status.success());
    let err = stderr(&waiter);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("waiting") && err.contains("cluster c1") && err.contains("pid "),
        "{err}"
    );
    assert!(err.contains("another terminal"), "says where to look: {err}");
    assert_eq!(s.calls(), 1, "and it got the leader's token");
    assert!(
        stderr(&leader).is_empty(),
        "the leader did not wait: {}",
        stderr(&leader)
    );
}

#[test]
fn a_run_that_stops_waiting_reads_the_cache_again_and_says_so() {
    let mut s = Sandbox::new();
    s.set("FAKE_SLEEP", "4");
    let leader = spawn(&s, AWS);
    wait_for("the leader to run the authenticator", || s.calls() == 1);
    let mut waiter = s.command(AWS);
    waiter.env("KUBECREDCACHE_LOCK_WAIT", "1s").env("FAKE_SLEEP", "");
    let waiter = waiter.output().unwrap();
    assert!(waiter.status.success(), "{}", stderr(&waiter));
    let err = stderr(&waiter);
    assert!(
        err.contains("stopped waiting") && err.contains("running aws itself"),
        "{err}"
    );
    assert_eq!(s.calls(), 2);
    assert!(leader.wait_with_output().unwrap().status.success());
}

#[test]
fn a_run_that_stops_waiting_serves_what_was_stored_meanwhile() {
    use std::io::BufRead;
    let s = Sandbox::new();
    let first = token(&s.ok(AWS));
    let file = s.cache.join("cache-c1.yaml");
    let stored = fs::read(&file).unwrap();
    fs::remove_file(&file).unwrap();
    // Another process holds the key's single-flight lock.
    let lock_path = fs::read_dir(&s.cache)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("flight-"))
        .unwrap();
    let held = fs::File::open(&lock_path).unwrap();
    held.lock().unwrap();
    let mut waiter = s.command(AWS);
    waiter.env("KUBECREDCACHE_LOCK_WAIT", "2s");
    let mut waiter = waiter.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut said = String::new();
    std::io::BufReader::new(waiter.stderr.take().unwrap())
        .read_line(&mut said)
        .unwrap();
    assert!(said.contains("waiting"), "{said}");
    // ... and stores the token while the waiter waits; then the waiter gives up.
    fs::write(&file, stored).unwrap();
    let out = waiter.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        token(std::str::from_utf8(&out.stdout).unwrap()),
        first,
        "read the cache again"
    );
    assert_eq!(s.calls(), 1, "and did not run the authenticator");
    drop(held);
}

#[test]
fn a_person_at_a_terminal_waiting_behind_a_failing_run_runs_the_command_itself() {
    let mut s = Sandbox::new();
    // The run that fails could not prompt (a background refresh, a script); the person
    // behind it can.
    s.set("FAKE_SLEEP", "2").set("FAKE_MODE", "fail");
    let leader = spawn(&s, AWS);
    wait_for("the failing run to start the authenticator", || s.calls() == 1);
    let mut person = s.command(AWS);
    person.env("FAKE_MODE", "ok").env("FAKE_SLEEP", "").env(
        "KUBERNETES_EXEC_INFO",
        r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":true}}"#,
    );
    let out = person.output().unwrap();
    assert_eq!(leader.wait_with_output().unwrap().status.code(), Some(3));
    assert!(out.status.success(), "{}", stderr(&out));
    token(std::str::from_utf8(&out.stdout).unwrap());
    assert_eq!(s.calls(), 2);
}

//! Whole-process benchmark of kubecredcache against the floor (`cat` of the cache file)
//! and the command it replaces. Run with `cargo bench`; `BENCH_RUNS=N` scales the number
//! of runs. Scenarios that need `aws` or `kubectl` are left out, with a note, without them.
//!
//! Runs of the scenarios that are compared are interleaved (hit, cat, hit, cat, ...), so
//! that the machine's noise hits both alike and the ratios are measured in the same run.

#[path = "../tests/it/common/api_server.rs"]
#[allow(dead_code)]
mod api_server;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const KCC: &str = env!("CARGO_BIN_EXE_kubecredcache");
const EKS: &[&str] = &[
    "aws",
    "--region",
    "us-west-2",
    "eks",
    "get-token",
    "--cluster-name",
    "c1",
];

struct Bench {
    root: tempfile::TempDir,
    cache: PathBuf,
    path: String,
}

#[derive(Clone, Copy)]
struct Stats {
    median: Duration,
    p10: Duration,
    p90: Duration,
    runs: usize,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Stats {
        median: at(0.5),
        p10: at(0.1),
        p90: at(0.9),
        runs: samples.len(),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn runs(default: usize) -> usize {
    let scale: f64 = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    ((default as f64 * scale) as usize).max(3)
}

fn find(tool: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

impl Bench {
    fn new() -> Bench {
        let root = tempfile::tempdir().unwrap();
        let cache = root.path().join("cache");
        Bench {
            cache,
            path: std::env::var("PATH").unwrap(),
            root,
        }
    }

    fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env_clear()
            .env("PATH", &self.path)
            .env("HOME", self.root.path())
            .env("KUBECREDCACHE_DIR", &self.cache)
            .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    }
}

type Case<'a> = (&'a str, Box<dyn Fn() -> Command + 'a>);

/// Runs the named commands interleaved, `n` times each; `before` runs untimed before each.
/// Appends a row per case to `rows` and returns the cases' statistics.
fn interleaved(rows: &mut Vec<(String, Stats)>, n: usize, cases: Vec<Case<'_>>, before: &dyn Fn()) -> Vec<Stats> {
    let mut samples = vec![Vec::new(); cases.len()];
    for _ in 0..n {
        for (i, (_, make)) in cases.iter().enumerate() {
            before();
            samples[i].push(time(&mut make()));
        }
    }
    let out: Vec<Stats> = samples.into_iter().map(stats).collect();
    for ((name, _), s) in cases.iter().zip(&out) {
        eprintln!("  {name}: median {}", ms(s.median));
    }
    rows.extend(cases.iter().map(|(n, _)| n.to_string()).zip(out.iter().copied()));
    out
}

impl Bench {
    fn cache_file(&self) -> PathBuf {
        self.cache.join("cache-c1.yaml")
    }

    fn warm(&self, upstream: &[&str]) {
        let status = self.command(KCC, upstream).status().unwrap();
        assert!(status.success());
        assert!(self.cache_file().exists(), "warm-up did not fill the cache");
    }

    /// Fills the cache directory with `n` other clusters' files (copies of ours).
    fn add_other_clusters(&self, n: usize) {
        let body = fs::read(self.cache_file()).unwrap();
        for i in 0..n {
            let path = self.cache.join(format!("cache-other-{i}.yaml"));
            if !path.exists() {
                fs::write(path, &body).unwrap();
            }
        }
    }
}

fn time(cmd: &mut Command) -> Duration {
    let start = Instant::now();
    let status = cmd.status().unwrap();
    let elapsed = start.elapsed();
    assert!(status.success(), "{cmd:?} failed");
    elapsed
}

/// A fake authenticator for machines without aws: the hit path does not care who filled the cache.
fn fake_aws(dir: &Path) {
    let script = "#!/bin/sh\nexp=$(date -u -d @$(( $(date +%s) + 900 )) +%Y-%m-%dT%H:%M:%SZ)\n\
        printf '{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"spec\":{},\"status\":{\"expirationTimestamp\":\"%s\",\"token\":\"k8s-aws-v1.fake\"}}\\n' \"$exp\"\n";
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join("aws"), script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir.join("aws"), fs::Permissions::from_mode(0o755)).unwrap();
}

/// A kubecredcache run in a steady-use directory (fake authenticator in `dir/bin`).
fn steady_command(dir: &Path, path: &str, refresh_ahead: &str) -> Command {
    let mut cmd = Command::new(KCC);
    cmd.args(EKS)
        .env_clear()
        .env("PATH", path)
        .env("HOME", dir)
        .env("KUBECREDCACHE_DIR", dir.join("cache"))
        .env("KUBECREDCACHE_EXPIRY_MARGIN", "1")
        .env("KUBECREDCACHE_REFRESH_AHEAD", refresh_ahead)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// Steady use, scaled 60×: an hour of one kubectl-equivalent call every 30 s becomes
/// 120 calls every 0.5 s, with a 15-minute token as a 15 s one (margin 1 s, refresh
/// window 5 s) and an authenticator that takes 0.3 s. Returns how many foreground calls
/// paid the cold path (took longer than 0.15 s; a hit takes about a millisecond).
fn steady_use(root: &Path, refresh_ahead: bool) -> (usize, usize) {
    let dir = root.join(if refresh_ahead { "steady-on" } else { "steady-off" });
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).unwrap();
    let script = "#!/bin/sh\nsleep 0.3\nexp=$(date -u -d @$(( $(date +%s) + 15 )) +%Y-%m-%dT%H:%M:%SZ)\n\
        printf '{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"spec\":{},\"status\":{\"expirationTimestamp\":\"%s\",\"token\":\"t-%s\"}}\\n' \"$exp\" \"$$\"\n";
    fs::write(bin.join("aws"), script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(bin.join("aws"), fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let mut cold = 0;
    let calls = 120;
    let start = Instant::now();
    for i in 0..calls {
        let due = start + Duration::from_millis(500 * i as u64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let mut cmd = steady_command(&dir, &path, if refresh_ahead { "5s" } else { "0" });
        if time(&mut cmd) > Duration::from_millis(150) {
            cold += 1;
        }
    }
    (cold, calls)
}

/// Hits that each start a background refresh (every token is due; the marker of the
/// last refresh is cleared before each run) against an authenticator taking 0.3 s: the
/// foreground's time shows whether it waits for the refresh.
fn hits_starting_a_refresh(root: &Path, runs: usize) -> Stats {
    let dir = root.join("steady-on");
    let bin = dir.join("bin");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let run = || steady_command(&dir, &path, "3600s");
    assert!(run().status().unwrap().success(), "warm-up");
    let mut samples = Vec::new();
    for _ in 0..runs {
        // Let the previous refresh finish, then clear its traces so this hit starts one.
        std::thread::sleep(Duration::from_millis(400));
        for e in fs::read_dir(dir.join("cache")).unwrap().flatten() {
            if e.file_name().to_string_lossy().starts_with("refresh-") {
                let _ = fs::remove_file(e.path());
            }
        }
        samples.push(time(&mut run()));
    }
    stats(samples)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for a listing; nothing to list.
    }
    let mut b = Bench::new();
    let mut rows = Vec::new();
    let real_aws = find("aws").is_some();
    if !real_aws {
        eprintln!("note: no `aws` on PATH: the hit scenarios use a fake, the cold and direct ones are left out");
        let fake = b.root.path().join("fakebin");
        fake_aws(&fake);
        b.path = format!("{}:{}", fake.display(), b.path);
    }
    let cat = find("cat").expect("cat").to_string_lossy().into_owned();

    eprintln!("1-2. cache hit vs cat of the cache file");
    b.warm(EKS);
    let file = b.cache_file().to_string_lossy().into_owned();
    let base = interleaved(
        &mut rows,
        runs(300),
        vec![
            ("hit", Box::new(|| b.command(KCC, EKS))),
            ("cat of the cache file", Box::new(|| b.command(&cat, &[&file]))),
        ],
        &|| {},
    );
    let (hit, floor) = (base[0], base[1]);

    let mut cold = None;
    let mut direct = None;
    if real_aws {
        eprintln!("3-4. cold path vs the aws command it replaces");
        let path = b.cache_file();
        let s = interleaved(
            &mut rows,
            runs(10),
            vec![
                ("cold (empty cache, real aws)", Box::new(|| b.command(KCC, EKS))),
                ("aws eks get-token directly", Box::new(|| b.command("aws", &EKS[1..]))),
            ],
            &|| {
                let _ = fs::remove_file(&path);
            },
        );
        (cold, direct) = (Some(s[0]), Some(s[1]));
        b.warm(EKS);
    }

    eprintln!("5. hit with other clusters' files in the directory");
    let mut crowded = Vec::new();
    for n in [1_000, 10_000] {
        b.add_other_clusters(n);
        let label = format!("hit, {n} other cache files");
        let floor_label = format!("cat, {n} other cache files");
        let s = interleaved(
            &mut rows,
            runs(200),
            vec![
                (label.as_str(), Box::new(|| b.command(KCC, EKS))),
                (floor_label.as_str(), Box::new(|| b.command(&cat, &[&file]))),
            ],
            &|| {},
        );
        crowded.push((n, s[0], s[1]));
    }

    let mut e2e = None;
    if let (Some(kubectl), true) = (find("kubectl"), real_aws) {
        eprintln!("6. kubectl get --raw /api: through kubecredcache (hit) vs calling aws directly");
        let server = api_server::ApiServer::start(b.root.path(), |_| true);
        let kubeconfig = |name: &str, command: &str, args: &[&str]| {
            let path = b.root.path().join(name);
            let args: Vec<String> = args.iter().map(|a| format!("{a:?}")).collect();
            fs::write(&path, format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: t\n  cluster:\n    server: {}\n    certificate-authority: {}\n\
                 users:\n- name: t\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: {command}\n      args: [{}]\n      interactiveMode: Never\n\
                 contexts:\n- name: t\n  context: {{cluster: t, user: t}}\ncurrent-context: t\n",
                server.url(), server.ca_file.display(), args.join(", "))).unwrap();
            path
        };
        let cached = kubeconfig("cached", KCC, EKS);
        let direct_cfg = kubeconfig("direct", "aws", &EKS[1..]);
        let kubectl = kubectl.to_string_lossy().into_owned();
        let run = |cfg: &Path| {
            let mut c = b.command(&kubectl, &["get", "--raw", "/api"]);
            c.env("KUBECONFIG", cfg);
            c
        };
        let s = interleaved(
            &mut rows,
            runs(10),
            vec![
                ("kubectl through kubecredcache (hit)", Box::new(|| run(&cached))),
                ("kubectl calling aws directly", Box::new(|| run(&direct_cfg))),
            ],
            &|| {},
        );
        e2e = Some((s[0], s[1]));
    }

    let steady = if std::env::var("BENCH_STEADY").as_deref() == Ok("0") {
        None
    } else {
        eprintln!("7. steady use (2 × 60 s): foreground calls that paid the cold path");
        let off = steady_use(b.root.path(), false);
        let on = steady_use(b.root.path(), true);
        eprintln!(
            "  without refresh ahead: {} of {}; with: {} of {}",
            off.0, off.1, on.0, on.1
        );
        let starting = hits_starting_a_refresh(b.root.path(), runs(30));
        eprintln!("  a hit that starts a refresh: median {}", ms(starting.median));
        rows.push((
            "hit that starts a background refresh (authenticator: 0.3 s)".into(),
            starting,
        ));
        Some((off, on))
    };

    println!("\n| scenario | median | p10 – p90 | runs |\n|---|---|---|---|");
    for (name, s) in &rows {
        println!(
            "| {name} | {} | {} – {} | {} |",
            ms(s.median),
            ms(s.p10),
            ms(s.p90),
            s.runs
        );
    }
    let ratio = |a: Stats, b: Stats| a.median.as_secs_f64() / b.median.as_secs_f64();
    println!("\n| ratio (medians, same run) | value | target |\n|---|---|---|");
    println!("| hit / cat | {:.2} | ≤ 1.5 |", ratio(hit, floor));
    for (n, h, c) in &crowded {
        println!(
            "| hit / cat, {n} other cache files in the directory | {:.2} | ≤ 2 |",
            ratio(*h, *c)
        );
    }
    if let (Some(c), Some(d)) = (cold, direct) {
        println!("| aws direct / hit | {:.0}× | |", ratio(d, hit));
        println!("| cold / aws direct | {:.2} | |", ratio(c, d));
    }
    if let Some((cached, direct)) = e2e {
        println!("| kubectl direct / kubectl cached | {:.2}× | |", ratio(direct, cached));
    }
    if let Some(((off, calls), (on, _))) = steady {
        println!(
            "\n| steady use: an hour of a call every 30 s (scaled 60×) | foreground calls that waited for the authenticator | target |\n|---|---|---|"
        );
        println!("| without refresh ahead | {off} of {calls} | |");
        println!("| with refresh ahead | {on} of {calls} | 1 (the first) |");
    }
}

//! Logging setup: off unless `KUBECREDCACHE_LOG` (else `RUST_LOG`) asks for it, so a
//! normal run pays nothing. Nothing anywhere logs a token or a plugin's output.

pub fn init() {
    let set = |name| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let Some(filter) = set(crate::settings::LOG).or_else(|| set("RUST_LOG")) {
        let _ = env_logger::Builder::new().parse_filters(&filter).try_init();
    }
}

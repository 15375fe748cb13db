//! Logging setup: off unless `KUBECREDCACHE_LOG` (else `RUST_LOG`) asks for it, so a
//! normal run pays nothing. Nothing anywhere logs a token or a plugin's output.

pub fn init() {
    let filter = std::env::var(crate::settings::LOG).or_else(|_| std::env::var("RUST_LOG"));
    if let Ok(filter) = filter {
        let _ = env_logger::Builder::new().parse_filters(&filter).try_init();
    }
}

//! Logging setup: off unless `KUBECREDCACHE_LOG` asks for it, so a normal run pays
//! nothing. Not `RUST_LOG`: a Rust developer's `RUST_LOG=debug` must not make every
//! kubectl run print debug lines. Nothing anywhere logs a token or a plugin's output.

pub fn init() {
    if let Some(filter) = std::env::var(crate::settings::LOG).ok().filter(|v| !v.is_empty()) {
        let _ = env_logger::Builder::new().parse_filters(&filter).try_init();
    }
}

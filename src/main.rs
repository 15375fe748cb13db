//! The `kubecredcache` binary: all behaviour lives in the library (see `cli`).

fn main() {
    std::process::exit(kubecredcache::cli::main());
}

//! Loading a cache file or a plugin's output must never panic, and what we can load we
//! can write and load again unchanged.
#![no_main]

use kubecredcache::cache::CacheFile;
use kubecredcache::exec_credential::{self, ExecCredential};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(file) = CacheFile::parse(data) {
        let again = CacheFile::parse(file.to_yaml().as_bytes()).expect("our own output parses");
        assert_eq!(again, file);
        for entry in file.entries.values() {
            let _ = entry.exec_credential().render(Some("client.authentication.k8s.io/v1"));
        }
    }
    if let Some(credential) = ExecCredential::parse(data) {
        let _ = credential.render(Some("client.authentication.k8s.io/v1"));
        let _ = credential.render(None);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = exec_credential::ExecInfo::parse(Some(text));
        let _ = kubecredcache::settings::parse_duration(text);
    }
});

//! Provider argument parsing must never panic: any program name, any arguments, any
//! environment values, through recognition, identity and key building.
#![no_main]

use std::collections::HashMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use kubecredcache::cache::{CacheDir, CacheKey};
use kubecredcache::provider::{self, os_to_string};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // NUL separates arguments (argv cannot contain it); the first is the program, the
    // last becomes the value of every environment variable a provider may read.
    let mut parts: Vec<&[u8]> = data.split(|b| *b == 0).collect();
    let env_value = parts
        .pop()
        .map(|v| os_to_string(OsStr::from_bytes(v)))
        .unwrap_or_default();
    let program = parts.first().copied().unwrap_or_default();
    let args: Vec<String> = parts
        .iter()
        .skip(1)
        .map(|a| os_to_string(OsStr::from_bytes(a)))
        .collect();
    let env: HashMap<String, String> = [
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "DEFAULT_ROLE",
        "KUBERNETES_AWS_AUTHENTICATOR_CLUSTER_ID",
        "KUBECACHEDIR",
        "OCI_CLI_CONFIG_FILE",
        "OCI_CLI_REGION",
    ]
    .into_iter()
    .map(|k| (k.to_string(), env_value.clone()))
    .collect();

    // Launchers too (`env A=B aws ...`, `aws-vault exec p -- ...`): only the registry
    // finds them, and their identity reads the command they launch.
    let dir = CacheDir::new("/nonexistent");
    if let Some(found) = provider::recognise(OsStr::from_bytes(program), &args)
        && let Ok(identity) = found.provider.identity(&found.args, &env)
    {
        let _ = CacheKey::new(found.provider.name(), &identity).digest();
        let _ = found.provider.credential_sources(&found.args, &env);
    }
    for p in provider::registered() {
        let name = String::from_utf8_lossy(program);
        let parsed = provider::parse(&args, p.inputs());
        let _ = p.recognises(&name, &parsed);
        if let Ok(identity) = p.identity(&parsed, &env) {
            let key = CacheKey::new(p.name(), &identity);
            let _ = key.digest();
            let _ = dir.cache_file_path(&identity.cluster);
        }
    }
});

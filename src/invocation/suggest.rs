//! "Did you mean `kubecredcache status`?": a mistyped subcommand (`stauts`) is not one of
//! ours, so kubecredcache takes it for a command to wrap; when no such command exists,
//! the not-found error says which subcommand was probably meant. Only that error path
//! runs this: a cache hit never does.

use super::SUBCOMMANDS;
// Optimal string alignment: a swap of two neighbours is one edit (`stauts`).
use strsim::osa_distance;

/// The subcommand `name` is probably a typo of, if any: at most one edit away for
/// short names, two for longer ones (a swap of two letters counts as one edit).
pub fn did_you_mean(name: &str) -> Option<&'static str> {
    if name.contains('/') {
        return None;
    }
    let allowed = if name.chars().count() <= 4 { 1 } else { 2 };
    SUBCOMMANDS
        .iter()
        .map(|sub| (osa_distance(name, sub), *sub))
        .filter(|(d, _)| *d <= allowed)
        .min_by_key(|(d, _)| *d)
        .map(|(_, sub)| sub)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_of_our_subcommands_are_recognised_and_real_commands_are_not() {
        for (typo, meant) in [
            ("stauts", "status"),
            ("statsu", "status"),
            ("setpu", "setup"),
            ("unstup", "unsetup"),
            ("list-provider", "list-providers"),
            ("lsit-providers", "list-providers"),
            ("claer", "clear"),
            ("gcc", "gc"),
            ("doctr", "doctor"),
        ] {
            assert_eq!(did_you_mean(typo), Some(meant), "{typo}");
        }
        for command in [
            "aws",
            "aws-iam-authenticator",
            "kubelogin",
            "gke-gcloud-auth-plugin",
            "ls",
            "oci",
            "/usr/bin/stauts",
            "vault",
        ] {
            assert_eq!(did_you_mean(command), None, "{command}");
        }
    }
}

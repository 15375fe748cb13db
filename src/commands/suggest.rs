//! "Did you mean `kubecredcache status`?": a mistyped subcommand (`stauts`) is not one of
//! ours, so kubecredcache takes it for a command to wrap; when no such command exists,
//! the not-found error says which subcommand was probably meant. Only that error path
//! runs this: a cache hit never does.

use super::SUBCOMMANDS;

/// The subcommand `name` is probably a typo of, if any: at most one edit away for
/// short names, two for longer ones (a swap of two letters counts as one edit).
pub fn did_you_mean(name: &str) -> Option<&'static str> {
    if name.contains('/') {
        return None;
    }
    let allowed = if name.chars().count() <= 4 { 1 } else { 2 };
    SUBCOMMANDS
        .iter()
        .map(|sub| (distance(name, sub), *sub))
        .filter(|(d, _)| *d <= allowed)
        .min_by_key(|(d, _)| *d)
        .map(|(_, sub)| sub)
}

/// Edit distance with adjacent swaps (optimal string alignment): insertions,
/// deletions, substitutions and transpositions of neighbours, one each.
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // rows[i][j]: the distance between a[..i] and b[..j].
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_count_swaps_as_one_edit() {
        assert_eq!(distance("stauts", "status"), 1);
        assert_eq!(distance("status", "status"), 0);
        assert_eq!(distance("", "gc"), 2);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("ca", "abc"), 3, "OSA, not Damerau: no edit of a swapped pair");
    }

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

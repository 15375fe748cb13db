//! The README is also the crate's page on crates.io, where a relative link leads
//! nowhere: its links must be absolute, and those into this repository must name files
//! (and headings) that exist.

use std::path::Path;

const REPOSITORY: &str = "https://github.com/kubecredcache/kubecredcache";

/// The targets of the Markdown links `[text](target)` in `text`.
fn link_targets(text: &str) -> Vec<&str> {
    text.split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .collect()
}

/// GitHub's anchor for a Markdown heading: lower case, spaces to `-`, most punctuation gone.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

#[test]
fn readme_links_are_absolute_and_lead_to_files_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert_eq!(env!("CARGO_PKG_REPOSITORY"), REPOSITORY);
    let targets = link_targets(&readme);
    assert!(targets.len() >= 5, "{targets:?}");
    let mut checked = 0;
    for target in targets {
        assert!(
            target.starts_with("https://") || target.starts_with('#'),
            "README links to {target:?}: relative links are broken on crates.io"
        );
        let Some(path) = target.strip_prefix(&format!("{REPOSITORY}/blob/main/")) else {
            continue;
        };
        let (file, heading) = path.split_once('#').unwrap_or((path, ""));
        let text = std::fs::read_to_string(root.join(file))
            .unwrap_or_else(|e| panic!("README links to {file}, which cannot be read: {e}"));
        if !heading.is_empty() {
            assert!(
                text.lines()
                    .filter_map(|l| l.strip_prefix('#'))
                    .any(|h| anchor(h.trim_start_matches('#')) == heading),
                "README links to {file}#{heading}, a heading {file} does not have"
            );
        }
        checked += 1;
    }
    assert!(checked >= 4, "links into the repository: {checked}");
}

#[test]
fn github_anchors_are_made_as_github_makes_them() {
    assert_eq!(anchor(" After a 401"), "after-a-401");
    assert_eq!(
        anchor("What kubecredcache defends against"),
        "what-kubecredcache-defends-against"
    );
    assert_eq!(anchor("The `--generic` flag"), "the---generic-flag");
}

/// The README's `list-providers` example is what the binary prints, and docs/providers.md
/// has a row for every provider and launcher: a new provider file makes this test say
/// what to paste where.
#[test]
fn the_readme_and_the_providers_doc_list_what_is_registered() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let s = crate::common::Sandbox::new();
    let listed = s.ok(&["list-providers"]);
    let example = readme
        .split("$ kubecredcache list-providers\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the README shows list-providers");
    assert_eq!(
        example, listed,
        "README.md's list-providers example: paste what `kubecredcache list-providers` prints"
    );
    let doc = std::fs::read_to_string(root.join("docs/providers.md")).unwrap();
    let names = kubecredcache::provider::registered()
        .iter()
        .map(|p| p.name())
        .chain(kubecredcache::provider::launchers().iter().map(|l| l.name()))
        .collect::<Vec<_>>();
    for name in names {
        assert!(
            doc.lines().any(|l| l.starts_with(&format!("| `{name}` |"))),
            "docs/providers.md has no table row for `{name}`: add one (key, sources, expiry bound)"
        );
    }
}

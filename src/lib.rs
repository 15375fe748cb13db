//! kubecredcache caches the ExecCredential that a kubectl exec plugin prints, so that
//! later kubectl runs with the same identity get it from one small file instead of
//! running the plugin again. It is a program: install it with
//! `cargo install kubecredcache` and see its
//! [README](https://github.com/kubecredcache/kubecredcache#readme).
//!
//! This library exists for the `kubecredcache` binary, its tests and its fuzz targets.
//! Its one public entry point is [`cli::main`], which runs the program with the
//! process's arguments. The modules hidden from this documentation are public only so
//! that the project's own behaviour tests and fuzz targets can reach them: they are not
//! part of the API, and any release may change them. Providers for other
//! authenticators are added in the repository (one file in `providers/`,
//! docs/providers.md), not through this library.
//!
//! Where to look in the source (docs/architecture.md has the map): `cli` (the command
//! line), `engine` (one wrapped run), `provider` and `providers/` (the authenticators),
//! `cache` (the cache directory), `commands` (the operator subcommands).

pub mod cli;

// Public for tests/ and fuzz/ only (see above).
#[doc(hidden)]
pub mod cache;
#[doc(hidden)]
pub mod exec_credential;
#[doc(hidden)]
pub mod provider;
/// The authenticators: one module per file in the top-level `providers/`.
#[doc(hidden)]
#[path = "../providers/mod.rs"]
pub mod providers;
#[doc(hidden)]
pub mod settings;

mod commands;
mod engine;
mod fs;
mod generic;
mod invocation;
mod kubeconfig;
mod logging;
mod messages;
mod sources;
mod upstream;

/// The provider template that docs/providers.md walks through: compiled and checked by
/// the library's tests, so the walk-through always builds.
#[cfg(test)]
#[path = "../docs/provider-template.rs"]
mod provider_template;

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::Path;

    /// The rows of docs/architecture.md's drawing of the layers, top first: module
    /// names (`engine/`, `cli.rs`) and, after two spaces or more, a description.
    fn layers() -> HashMap<String, usize> {
        let doc = include_str!("../docs/architecture.md");
        let (_, section) = doc.split_once("## Layers\n").expect("architecture.md draws the layers");
        let drawing = section.split("```").nth(1).expect("the drawing");
        let rows: Vec<&str> = drawing.lines().filter(|l| !l.trim().is_empty()).collect();
        let mut layer = HashMap::new();
        for (i, row) in rows.iter().enumerate() {
            let names = row.split("   ").next().unwrap_or_default();
            for name in names.split_whitespace() {
                let name = name.trim_end_matches('/').trim_end_matches(".rs");
                layer.insert(name.to_string(), rows.len() - i);
            }
        }
        layer
    }

    /// The top-level modules `text` names through `crate::` (`crate::a::b`, `crate::{a, b}`),
    /// outside its `#[cfg(test)]` modules.
    fn imports(text: &str) -> Vec<String> {
        let mut production = String::new();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if line == "#[cfg(test)]" {
                let next = lines.next().unwrap_or_default();
                if next.trim_start_matches("pub ").starts_with("mod ") && next.ends_with('{') {
                    lines.by_ref().find(|l| *l == "}");
                }
                continue;
            }
            production.push_str(line);
            production.push('\n');
        }
        let word = |s: &str| {
            s.trim()
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("")
                .to_string()
        };
        let mut out = Vec::new();
        for (at, _) in production.match_indices("crate::") {
            let after = &production[at + "crate::".len()..];
            match after.strip_prefix('{') {
                Some(group) => out.extend(group.split('}').next().unwrap_or("").split(',').map(word)),
                None => out.push(word(after)),
            }
        }
        out.retain(|m| !m.is_empty() && m != "self");
        out
    }

    fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn modules_import_only_from_the_rows_below() {
        let layer = layers();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        sources(&root.join("src"), &mut files);
        sources(&root.join("providers"), &mut files);
        let mut checked = 0;
        for file in files {
            let relative = file.strip_prefix(root).unwrap();
            let mut parts = relative.iter().map(|p| p.to_str().unwrap());
            let module = match (parts.next(), parts.next()) {
                (Some("providers"), _) => "providers".to_string(),
                (_, Some("lib.rs" | "main.rs")) => continue,
                // The contract kit is compiled for the tests alone.
                _ if relative.ends_with("provider/contract.rs") => continue,
                (_, Some(top)) => top.trim_end_matches(".rs").to_string(),
                _ => unreachable!(),
            };
            let own = *layer
                .get(&module)
                .unwrap_or_else(|| panic!("{module} is not in architecture.md's drawing of the layers"));
            for imported in imports(&std::fs::read_to_string(&file).unwrap()) {
                if imported == module {
                    continue;
                }
                let theirs = *layer
                    .get(&imported)
                    .unwrap_or_else(|| panic!("{imported} is not in architecture.md's drawing of the layers"));
                assert!(
                    theirs < own,
                    "{} imports {imported}, which is not below {module} in architecture.md's layers",
                    relative.display()
                );
                checked += 1;
            }
        }
        assert!(checked > 50, "only {checked} imports found: the reading is broken");
    }
}

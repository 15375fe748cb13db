//! The command line itself: help, version, list-providers, `--`, usage errors.

use crate::common::{AWS, Sandbox, token};

#[test]
fn list_providers_names_every_registered_provider_with_its_command() {
    let s = Sandbox::new();
    let out = s.ok(&["list-providers"]);
    let (providers, launchers) = out
        .split_once("launchers, in front of any command above:\n")
        .expect("launchers listed as such");
    let lines: Vec<&str> = providers.lines().chain(launchers.lines()).collect();
    // The library's registries, sorted by name: a provider the linker dropped from the
    // binary, or one listed twice, shows up here.
    let registered = kubecredcache::provider::registered();
    let launching = kubecredcache::provider::launchers();
    assert_eq!(providers.lines().count(), registered.len(), "{out}");
    assert_eq!(launchers.lines().count(), launching.len(), "{out}");
    let listed = registered
        .iter()
        .map(|p| (p.name(), p.command(), p.description()))
        .chain(launching.iter().map(|l| (l.name(), l.command(), l.description())));
    for (line, (name, command, description)) in lines.iter().zip(listed) {
        assert!(line.starts_with(&format!("{name} ")), "{line}");
        assert!(line.contains(command) && line.ends_with(description), "{line}");
    }
    // Columns line up: every command starts where the first one does.
    let at = lines[0].find(registered[0].command()).unwrap();
    assert!(
        lines
            .iter()
            .all(|l| l[..at].ends_with("  ") && !l[at..].starts_with(' ')),
        "{out}"
    );
}

/// The README's `$ kubecredcache ...` examples whose output it shows: each line shown
/// must be a line the built binary prints (up to the width of its columns), so the
/// README cannot go stale. It may show fewer lines than the binary prints: a new
/// provider needs no README edit to pass.
#[test]
fn the_readme_shows_what_the_binary_prints() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let s = Sandbox::new();
    let mut checked = 0;
    for block in readme.split("```console\n").skip(1) {
        let block = block.split("```").next().unwrap();
        let mut lines = block.lines();
        let Some(command) = lines.next().and_then(|l| l.strip_prefix("$ kubecredcache ")) else {
            continue;
        };
        if command.starts_with("doctor") {
            // Its examples need a kubeconfig and a cache: tests/it/doctor.rs checks them.
            continue;
        }
        let args: Vec<&str> = command.split_whitespace().collect();
        let out = s.ok(&args);
        let words = |line: &str| line.split_whitespace().collect::<Vec<_>>().join(" ");
        let printed: Vec<String> = out.lines().map(words).collect();
        for line in lines {
            assert!(
                printed.contains(&words(line)),
                "README shows {line:?} for `{command}`; the binary prints:\n{out}"
            );
        }
        checked += 1;
    }
    assert!(checked > 0, "no console example found in the README");
}

#[test]
fn help_and_version() {
    let s = Sandbox::new();
    assert!(s.ok(&["--help"]).contains("kubecredcache COMMAND [ARGS...]"));
    assert!(s.ok(&["-h"]).contains("list-providers"));
    assert_eq!(
        s.ok(&["--version"]),
        format!("kubecredcache {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let s = Sandbox::new();
    let none = s.run(&[]);
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("Usage:"));
    for args in [&["--bogus"][..], &["--"]] {
        let out = s.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("--help"), "says what to do next: {stderr}");
    }
}

#[test]
fn double_dash_reaches_the_same_cache_and_a_path_to_the_program_its_own() {
    let s = Sandbox::new();
    let t = token(&s.ok(AWS));
    let mut with_dash = vec!["--"];
    with_dash.extend_from_slice(AWS);
    assert_eq!(token(&s.ok(&with_dash)), t);
    assert_eq!(s.calls(), 1);
    // A program named by its path is keyed by that path (another path may be another
    // wrapper script, another identity); the bare name is not, so PATH is not read.
    let full_path = s.bin.join("aws");
    let mut by_path = vec![full_path.to_str().unwrap()];
    by_path.extend_from_slice(&AWS[1..]);
    let by_path_token = token(&s.ok(&by_path));
    assert_ne!(by_path_token, t);
    assert_eq!(token(&s.ok(&by_path)), by_path_token);
    assert_eq!(s.calls(), 2);
}

/// The README's table of environment variables, as (name, default, meaning) with the
/// backticks of the first two columns taken off.
fn readme_environment_table() -> Vec<(String, String, String)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("## Environment variables\n")
        .nth(1)
        .expect("the README has an environment section");
    section
        .lines()
        .skip_while(|l| !l.starts_with("| `KUBECREDCACHE_"))
        .take_while(|l| l.starts_with('|'))
        .map(|row| {
            let cells: Vec<&str> = row.trim_matches('|').split(" | ").map(str::trim).collect();
            assert_eq!(cells.len(), 3, "{row}");
            (
                cells[0].replace('`', ""),
                cells[1].replace('`', ""),
                cells[2].to_string(),
            )
        })
        .collect()
}

#[test]
fn the_readme_environment_table_is_the_list_in_the_code() {
    let table = readme_environment_table();
    let listed: Vec<(String, String, String)> = kubecredcache::settings::ALL
        .iter()
        .map(|s| (s.name.to_string(), s.default.to_string(), s.meaning.to_string()))
        .collect();
    assert_eq!(table, listed, "README.md's table and settings::ALL differ");
}

#[test]
fn help_lists_every_environment_variable_the_readme_documents() {
    let s = Sandbox::new();
    let help = s.ok(&["--help"]);
    let words = |text: &str| text.replace('`', "").split_whitespace().collect::<Vec<_>>().join(" ");
    let flat = words(&help);
    let table = readme_environment_table();
    assert!(table.len() >= 12, "{table:?}");
    for (name, default, meaning) in table {
        assert!(
            flat.contains(&format!("{name} [default: {default}]")),
            "{name} is not in --help:\n{help}"
        );
        assert!(
            flat.contains(&words(&meaning)),
            "{name}'s meaning is not in --help:\n{help}"
        );
    }
}

#[test]
fn durations_with_units_are_read_wherever_a_duration_is() {
    // A margin of an hour: a 15-minute token is never served from the cache.
    let mut s = Sandbox::new();
    s.set("KUBECREDCACHE_EXPIRY_MARGIN", "1h");
    for _ in 0..2 {
        let out = s.run(AWS);
        assert!(out.status.success());
        assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(s.calls(), 2, "1h is an hour, not a bad value");
    s.set("KUBECREDCACHE_EXPIRY_MARGIN", "1h30m")
        .set("KUBECREDCACHE_DIR", "~/other");
    s.ok(AWS);
    s.ok(AWS);
    assert_eq!(s.calls(), 4, "1h30m is read too");
    // A bad value: one warning line, and the default (60 s) is used.
    s.set("KUBECREDCACHE_EXPIRY_MARGIN", "1x")
        .set("KUBECREDCACHE_DIR", "~/third");
    s.ok(AWS);
    let out = s.run(AWS);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("KUBECREDCACHE_EXPIRY_MARGIN") && stderr.contains("1h30m"),
        "{stderr}"
    );
    assert_eq!(s.calls(), 5, "with the default margin the second run is a hit");
}

#[test]
fn a_mistyped_subcommand_ends_in_a_suggestion() {
    let s = Sandbox::new();
    for (typo, meant) in [
        ("stauts", "status"),
        ("list-provider", "list-providers"),
        ("setpu", "setup"),
    ] {
        let out = s.run(&[typo, "--json"]);
        assert_eq!(out.status.code(), Some(127), "{typo}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(&format!("cannot run '{typo}': not found"))
                && stderr.contains(&format!("did you mean `kubecredcache {meant}`?")),
            "{stderr}"
        );
    }
    let out = s.run(&["no-such-plugin"]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("not found") && !stderr.contains("did you mean"),
        "{stderr}"
    );
    // A program of that name that exists is run, and nothing is suggested.
    crate::common::write_script(&s.bin.join("stauts"), "#!/bin/sh\necho the stauts program\n");
    let out = s.run(&["stauts"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "the stauts program\n");
    assert!(out.stderr.is_empty());
}

#[test]
fn clap_suggestions_for_mistyped_options_are_kept_in_the_one_line() {
    let s = Sandbox::new();
    for (args, meant, help) in [
        (&["status", "--jsn"][..], "'--json'", "kubecredcache status --help"),
        (&["setup", "--dry"], "'--dry-run'", "kubecredcache setup --help"),
        (&["help", "stauts"], "'status'", "kubecredcache --help"),
    ] {
        let out = s.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(&format!("did you mean {meant}?")) && stderr.contains(help),
            "{args:?}: {stderr}"
        );
    }
}

//! The command line itself: help, version, list-providers, `--`, usage errors.

mod common;

use common::{AWS, Sandbox, token};

#[test]
fn list_providers_names_each_provider_with_its_command() {
    let s = Sandbox::new();
    let out = s.ok(&["list-providers"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert!(
        lines[0].starts_with("aws-eks ") && lines[0].contains("aws ... eks get-token"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("aws-iam-authenticator ") && lines[1].contains("aws-iam-authenticator token"),
        "{out}"
    );
    // Columns line up: every command starts where the first one does.
    let at = lines[0].find("aws ...").unwrap();
    assert!(
        lines
            .iter()
            .all(|l| l[..at].ends_with("  ") && !l[at..].starts_with(' ')),
        "{out}"
    );
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
fn double_dash_and_a_path_to_the_program_reach_the_same_cache() {
    let s = Sandbox::new();
    let t = token(&s.ok(AWS));
    let mut with_dash = vec!["--"];
    with_dash.extend_from_slice(AWS);
    assert_eq!(token(&s.ok(&with_dash)), t);
    let full_path = s.bin.join("aws");
    let mut by_path = vec![full_path.to_str().unwrap()];
    by_path.extend_from_slice(&AWS[1..]);
    assert_eq!(token(&s.ok(&by_path)), t);
    assert_eq!(s.calls(), 1);
}

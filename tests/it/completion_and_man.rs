//! `completion SHELL` and `man`: the shell completion scripts and the manual page that
//! the release archives and the package managers install.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{Sandbox, host_tool};

/// The subcommands `--help` lists: every script and the page must know each of them.
fn subcommands(s: &Sandbox) -> Vec<String> {
    let help = s.ok(&["--help"]);
    let names: Vec<String> = help
        .split("Commands:\n")
        .nth(1)
        .expect("--help has a Commands: section")
        .lines()
        .take_while(|l| l.starts_with("  "))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    assert!(names.len() >= 8 && names.contains(&"man".to_string()), "{help}");
    names
}

/// What bash completes for `words` (the last one being completed), with the function
/// the script registers for `kubecredcache`.
fn complete_in_bash(bash: &Path, script: &Path, words: &[&str]) -> Vec<String> {
    let out = Command::new(bash)
        .arg("-c")
        .arg(
            r#"source "$1" || exit 9
            shift
            f=$(complete -p kubecredcache | sed -n 's/.* -F \([^ ]*\) .*/\1/p')
            [ -n "$f" ] || exit 8
            COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
            COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
            "$f" kubecredcache "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
            printf '%s\n' "${COMPREPLY[@]}""#,
        )
        .arg("bash")
        .arg(script)
        .args(words)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{words:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completion_completes_every_subcommand_and_their_options() {
    let s = Sandbox::new();
    let Some(bash) = host_tool("bash") else { return };
    let script = s.root.path().join("kubecredcache.bash");
    std::fs::write(&script, s.ok(&["completion", "bash"])).unwrap();
    let syntax = Command::new(&bash).arg("-n").arg(&script).output().unwrap();
    assert!(syntax.status.success(), "{}", String::from_utf8_lossy(&syntax.stderr));

    for name in subcommands(&s) {
        let prefix = &name[..name.len() - 1];
        let offered = complete_in_bash(&bash, &script, &["kubecredcache", prefix]);
        assert!(
            offered.contains(&name),
            "`kubecredcache {prefix}<TAB>` offers {offered:?}"
        );
    }
    assert_eq!(
        complete_in_bash(&bash, &script, &["kubecredcache", "setup", "--ku"]),
        ["--kubeconfig"]
    );
    let shells = complete_in_bash(&bash, &script, &["kubecredcache", "completion", ""]);
    for shell in ["bash", "zsh", "fish", "powershell"] {
        assert!(shells.contains(&shell.to_string()), "{shells:?}");
    }
}

#[test]
fn every_shell_gets_a_script_that_knows_every_subcommand() {
    let s = Sandbox::new();
    let names = subcommands(&s);
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = s.ok(&["completion", shell]);
        for name in &names {
            assert!(script.contains(name.as_str()), "the {shell} script misses {name}");
        }
    }
}

#[test]
fn completion_for_an_unknown_shell_is_a_usage_error() {
    let s = Sandbox::new();
    for args in [&["completion", "tcsh"][..], &["completion"]] {
        let out = s.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn man_prints_one_page_with_every_subcommand_and_variable() {
    let s = Sandbox::new();
    let page = s.ok(&["man"]);
    // roff's preamble (`.ie`/`.el`, the apostrophe) may come first; the page starts at .TH.
    let first = page
        .lines()
        .find(|l| !l.starts_with(".ie ") && !l.starts_with(".el "))
        .unwrap();
    assert!(
        first.starts_with(".TH KUBECREDCACHE 1 ") && first.contains(env!("CARGO_PKG_VERSION")),
        "{first}"
    );
    assert_eq!(page.matches(".TH ").count(), 1, "one page");
    for section in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "SUBCOMMANDS",
        "ENVIRONMENT",
        "EXIT STATUS",
    ] {
        assert!(
            page.lines()
                .any(|l| l.trim_end_matches('"').ends_with(section) && l.starts_with(".SH")),
            "no {section} section"
        );
    }
    let text = page.replace("\\-", "-");
    for name in subcommands(&s) {
        assert!(
            text.contains(&format!("\\fBkubecredcache {name}\\fR")),
            "{name} is not on the page"
        );
    }
    for variable in [
        "KUBECREDCACHE_DIR",
        "KUBECREDCACHE_LOCK_WAIT",
        "KUBECREDCACHE_FAILURE_COOLDOWN",
    ] {
        assert!(
            text.contains(&format!("\\fB{variable}\\fR")),
            "{variable} is not on the page"
        );
    }
}

/// The page as `man` shows it: rendered without a warning from groff.
#[test]
fn the_man_page_renders_cleanly() {
    let s = Sandbox::new();
    let Some(man) = host_tool("man") else { return };
    let page = s.ok(&["man"]);
    let mut child = Command::new(man)
        .args(["--warnings", "-l", "-"])
        .env("MANWIDTH", "100")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(page.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "groff warns");
    assert!(shown.starts_with("KUBECREDCACHE(1)"), "{shown}");
    assert!(shown.contains("kubecredcache list-providers [OPTIONS]"), "{shown}");
    assert!(shown.contains("--key-env NAME"), "{shown}");
}

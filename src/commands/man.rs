//! `kubecredcache man`: the manual page, as roff on stdout (`kubecredcache man | man -l -`;
//! the release archives carry it as `kubecredcache.1`). One page for the whole program:
//! the subcommands and their options come from the clap definition that parses them, and
//! the environment variables from `settings::ALL` (which a test holds the README's table
//! to), so the page cannot drift from either. Written with `roff` (clap_mangen's own layer underneath): clap_mangen makes a
//! page per subcommand and repeats its preamble in every section it renders alone.

use roff::{Inline, Roff, bold, italic, roman};

use super::Out;
use crate::settings;

pub fn run(out: &mut Out, mut cli: clap::Command) -> i32 {
    cli.build();
    write!(out, "{}", page(&cli).render());
    0
}

fn page(cli: &clap::Command) -> Roff {
    let mut page = Roff::new();
    // The date field holds the version: a build date would make builds differ, and the
    // `roff` crate writes an empty field as nothing, which shifts the fields after it.
    let version = cli.get_version().unwrap_or("unknown");
    page.control("TH", ["KUBECREDCACHE", "1", version, "kubecredcache", "User Commands"]);

    name_and_synopsis(&mut page);
    description(&mut page);
    options(&mut page, cli);
    subcommands(&mut page, cli);
    environment(&mut page);
    exit_status_files_see_also(&mut page);
    page
}

fn name_and_synopsis(page: &mut Roff) {
    page.control("SH", ["NAME"]);
    page.text([roman(
        "kubecredcache - cache the credentials that kubectl exec plugins print",
    )]);

    page.control("SH", ["SYNOPSIS"]);
    let synopsis = [
        "*kubecredcache* _COMMAND_ [_ARGS_...]",
        "*kubecredcache* [*--force-refresh*] [*--*] _COMMAND_ [_ARGS_...]",
        "*kubecredcache --generic* [*--key-env* _NAME_]... *--* _COMMAND_ [_ARGS_...]",
        "*kubecredcache* _SUBCOMMAND_ [_OPTIONS_]",
    ];
    for (i, line) in synopsis.into_iter().enumerate() {
        if i > 0 {
            page.control("br", []);
        }
        page.text(marked(line));
    }
}

/// DESCRIPTION: what it is for, and the exec entry it goes in.
fn description(page: &mut Roff) {
    page.control("SH", ["DESCRIPTION"]);
    page.text([roman(
        "kubectl runs a kubeconfig user's exec plugin (aws eks get-token, aws-iam-authenticator token, \
         gke-gcloud-auth-plugin, kubelogin) on every command. kubecredcache runs that command once, caches \
         the ExecCredential it prints, and hands it to every later kubectl run with the same identity until \
         it nears expiry.",
    )]);
    page.control("PP", []);
    page.text(marked(
        "Put kubecredcache in front of the command in the kubeconfig's exec entry, moving the old command into \
         _args_, or let *kubecredcache setup* do it:",
    ));
    page.control("PP", []);
    page.control("nf", []);
    page.control("RS", ["4"]);
    page.text([roman("command: kubecredcache")]);
    page.text([roman(
        "args: [aws, --region, us-west-2, eks, get-token, --cluster-name, mycluster]",
    )]);
    page.control("RE", []);
    page.control("fi", []);
    page.control("PP", []);
    page.text(marked(
        "A command no provider knows (see *kubecredcache list-providers*) runs as it is, uncached, unless \
         *--generic* is given. Whatever goes wrong with the cache, kubectl gets what the command alone would have \
         given it.",
    ));
}

/// OPTIONS: ours before a command to wrap, then clap's.
fn options(page: &mut Roff, cli: &clap::Command) {
    page.control("SH", ["OPTIONS"]);
    for (header, help) in [
        (
            "*--force-refresh*",
            "Fetch afresh, ignoring the cache, and store the new token.",
        ),
        (
            "*--generic*",
            "Cache any plugin that prints an ExecCredential with an expiry, keyed by its whole command line.",
        ),
        (
            "*--key-env* _NAME_",
            "With --generic: the environment variable NAME is part of the key too (as a digest). May be repeated.",
        ),
        (
            "*--*",
            "The next argument is the command to run, even if it is named like one of our subcommands.",
        ),
    ] {
        option(page, marked(header), help);
    }
    for arg in cli.get_arguments().filter(|a| !a.is_hide_set()) {
        option(page, arg_header(arg), &arg_help(arg));
    }
}

fn subcommands(page: &mut Roff, cli: &clap::Command) {
    page.control("SH", ["SUBCOMMANDS"]);
    for sub in cli.get_subcommands().filter(|s| !s.is_hide_set()) {
        let args: Vec<&clap::Arg> = sub
            .get_arguments()
            .filter(|a| !a.is_hide_set() && a.get_id() != "help")
            .collect();
        let mut header = vec![bold(format!("kubecredcache {}", sub.get_name()))];
        for positional in args.iter().filter(|a| a.is_positional()) {
            header.push(roman(" "));
            header.extend(arg_header(positional));
        }
        if args.iter().any(|a| !a.is_positional()) {
            header.extend(marked(" [_OPTIONS_]"));
        }
        page.control("TP", []);
        page.text(header);
        let about = sub.get_about().map(|a| plain(&a.to_string()));
        page.text([roman(about.unwrap_or_default())]);
        if !args.is_empty() {
            page.control("RS", []);
            for arg in args {
                option(page, arg_header(arg), &arg_help(arg));
            }
            page.control("RE", []);
        }
    }
}

fn environment(page: &mut Roff) {
    page.control("SH", ["ENVIRONMENT"]);
    for setting in settings::ALL {
        option(
            page,
            vec![
                bold(setting.name),
                roman(format!(" (default: {})", plain(setting.default))),
            ],
            &plain(setting.meaning),
        );
    }
    page.control("PP", []);
    page.text([roman("The command itself sees the whole environment.")]);
}

fn exit_status_files_see_also(page: &mut Roff) {
    page.control("SH", ["EXIT STATUS"]);
    page.text([roman(
        "A wrapped command's own exit status (127 when it cannot be found, 126 when it cannot be run). \
         For subcommands: 0 done, 1 failed, 2 usage error. Errors are one line on standard error.",
    )]);

    page.control("SH", ["FILES"]);
    option(
        page,
        marked("_~/.kubecredcache/cache-CLUSTER.yaml_"),
        "The cached credentials of one cluster (the directory 0700, files 0600). Elsewhere with KUBECREDCACHE_DIR.",
    );
    option(
        page,
        marked("_~/.kube/config_"),
        "The kubeconfig that setup and unsetup edit when KUBECONFIG names no files. Each edited file is \
         first copied to FILE.kubecredcache.bak.",
    );

    page.control("SH", ["SEE ALSO"]);
    page.text(marked(concat!(
        "*kubectl*(1); the README and docs/ at ",
        env!("CARGO_PKG_REPOSITORY")
    )));
}

/// Text with `*bold*` and `_italic_` spans as roff inlines (the rest roman), so that
/// the page's fixed text reads as it renders.
fn marked(text: &str) -> Vec<Inline> {
    let mut inlines = Vec::new();
    for (i, part) in text.split('*').enumerate() {
        for (j, piece) in part.split('_').enumerate().filter(|(_, p)| !p.is_empty()) {
            inlines.push(match (i % 2, j % 2) {
                (1, _) => bold(piece),
                (_, 1) => italic(piece),
                _ => roman(piece),
            });
        }
    }
    inlines
}

/// One `.TP` entry: a bold or italic header, then its text.
fn option(page: &mut Roff, header: Vec<Inline>, help: &str) {
    page.control("TP", []);
    page.text(header);
    page.text([roman(help)]);
}

/// `-s, --long VALUE`, or a positional's `VALUE`.
fn arg_header(arg: &clap::Arg) -> Vec<Inline> {
    let value = arg
        .get_value_names()
        .and_then(|names| names.first())
        .map(|n| n.to_string())
        .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
    if arg.is_positional() {
        return vec![italic(value)];
    }
    let mut header = Vec::new();
    if let Some(short) = arg.get_short() {
        header.push(bold(format!("-{short}")));
    }
    if let Some(long) = arg.get_long() {
        if !header.is_empty() {
            header.push(roman(", "));
        }
        header.push(bold(format!("--{long}")));
    }
    if arg.get_num_args().is_some_and(|n| n.takes_values()) {
        header.extend([roman(" "), italic(value)]);
    }
    header
}

/// The argument's help, with its possible values when clap knows them.
fn arg_help(arg: &clap::Arg) -> String {
    let values: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_string())
        .collect();
    let values = (!values.is_empty()).then(|| format!("One of: {}.", values.join(", ")));
    let help = arg.get_help().map(|h| h.to_string()).filter(|h| !h.is_empty());
    help.into_iter().chain(values).collect::<Vec<_>>().join(" ")
}

/// A setting's text as plain ASCII: no Markdown backticks, and the two non-ASCII signs it
/// uses spelt out (groff without a preprocessor rejects UTF-8 input).
fn plain(cell: &str) -> String {
    cell.replace('`', "")
        .replace('\u{2026}', "...")
        .replace('\u{2265}', ">=")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered() -> String {
        let mut cli = clap::Command::new("kubecredcache").version("1.2.3");
        cli.build();
        page(&cli).render()
    }

    /// Every setting is on the page, in its section, with its default.
    #[test]
    fn the_environment_section_lists_every_setting() {
        let text = rendered();
        let (_, section) = text.split_once(".SH ENVIRONMENT\n").expect("an ENVIRONMENT section");
        let section = section.split(".SH ").next().unwrap();
        for setting in settings::ALL {
            let entry = format!("\\fB{}\\fR (default: {})", setting.name, plain(setting.default));
            assert!(section.contains(&entry), "{entry} not in:\n{section}");
        }
    }

    #[test]
    fn the_page_is_ascii() {
        let text = rendered();
        let odd: Vec<char> = text.chars().filter(|c| !c.is_ascii()).collect();
        assert!(odd.is_empty(), "spell these out in plain(): {odd:?}");
        assert!(
            text.contains(".TH KUBECREDCACHE 1 1.2.3 kubecredcache \"User Commands\"\n"),
            "{text}"
        );
    }
}

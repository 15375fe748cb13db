//! `kubecredcache man`: the manual page, as roff on stdout (`kubecredcache man | man -l -`;
//! the release archives carry it as `kubecredcache.1`). One page for the whole program:
//! the subcommands and their options come from the clap definition that parses them, and
//! the environment variables from the README's table, so the page cannot drift from
//! either. Written with `roff` (clap_mangen's own layer underneath): clap_mangen makes a
//! page per subcommand and repeats its preamble in every section it renders alone.

use roff::{Inline, Roff, bold, italic, roman};

use super::Out;

/// The README, whose "Environment variables" table is the one list of our variables.
const README: &str = include_str!("../../README.md");

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

    page.control("SH", ["NAME"]);
    page.text([roman(
        "kubecredcache - cache the credentials that kubectl exec plugins print",
    )]);

    page.control("SH", ["SYNOPSIS"]);
    let synopsis: [&[Inline]; 4] = [
        &[
            bold("kubecredcache"),
            roman(" "),
            italic("COMMAND"),
            roman(" ["),
            italic("ARGS"),
            roman("...]"),
        ],
        &[
            bold("kubecredcache"),
            roman(" ["),
            bold("--force-refresh"),
            roman("] ["),
            bold("--"),
            roman("] "),
            italic("COMMAND"),
            roman(" ["),
            italic("ARGS"),
            roman("...]"),
        ],
        &[
            bold("kubecredcache --generic"),
            roman(" ["),
            bold("--key-env"),
            roman(" "),
            italic("NAME"),
            roman("]... "),
            bold("--"),
            roman(" "),
            italic("COMMAND"),
            roman(" ["),
            italic("ARGS"),
            roman("...]"),
        ],
        &[
            bold("kubecredcache"),
            roman(" "),
            italic("SUBCOMMAND"),
            roman(" ["),
            italic("OPTIONS"),
            roman("]"),
        ],
    ];
    for (i, line) in synopsis.into_iter().enumerate() {
        if i > 0 {
            page.control("br", []);
        }
        page.text(line.to_vec());
    }

    page.control("SH", ["DESCRIPTION"]);
    page.text([roman(
        "kubectl runs a kubeconfig user's exec plugin (aws eks get-token, aws-iam-authenticator token, \
         gke-gcloud-auth-plugin, kubelogin) on every command. kubecredcache runs that command once, caches \
         the ExecCredential it prints, and hands it to every later kubectl run with the same identity until \
         it nears expiry.",
    )]);
    page.control("PP", []);
    page.text([
        roman("Put kubecredcache in front of the command in the kubeconfig's exec entry, moving the old command into "),
        italic("args"),
        roman(", or let "),
        bold("kubecredcache setup"),
        roman(" do it:"),
    ]);
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
    page.text([
        roman("A command no provider knows (see "),
        bold("kubecredcache list-providers"),
        roman(") runs as it is, uncached, unless "),
        bold("--generic"),
        roman(
            " is given. Whatever goes wrong with the cache, kubectl gets what the command alone would have given it.",
        ),
    ]);

    page.control("SH", ["OPTIONS"]);
    option(
        &mut page,
        vec![bold("--force-refresh")],
        "Fetch afresh, ignoring the cache, and store the new token.",
    );
    option(
        &mut page,
        vec![bold("--generic")],
        "Cache any plugin that prints an ExecCredential with an expiry, keyed by its whole command line.",
    );
    option(
        &mut page,
        vec![bold("--key-env"), roman(" "), italic("NAME")],
        "With --generic: the environment variable NAME is part of the key too (as a digest). May be repeated.",
    );
    option(
        &mut page,
        vec![bold("--")],
        "The next argument is the command to run, even if it is named like one of our subcommands.",
    );
    for arg in cli.get_arguments().filter(|a| !a.is_hide_set()) {
        option(&mut page, arg_header(arg), &arg_help(arg));
    }

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
            header.push(roman(" ["));
            header.push(italic("OPTIONS"));
            header.push(roman("]"));
        }
        page.control("TP", []);
        page.text(header);
        page.text([roman(
            sub.get_about()
                .map(|a| a.to_string().replace('`', ""))
                .unwrap_or_default(),
        )]);
        if !args.is_empty() {
            page.control("RS", []);
            for arg in args {
                option(&mut page, arg_header(arg), &arg_help(arg));
            }
            page.control("RE", []);
        }
    }

    page.control("SH", ["ENVIRONMENT"]);
    for (name, default, meaning) in environment() {
        option(
            &mut page,
            vec![bold(name), roman(format!(" (default: {default})"))],
            &meaning,
        );
    }
    page.control("PP", []);
    page.text([roman("The command itself sees the whole environment.")]);

    page.control("SH", ["EXIT STATUS"]);
    page.text([roman(
        "A wrapped command's own exit status (127 when it cannot be found, 126 when it cannot be run). \
         For subcommands: 0 done, 1 failed, 2 usage error. Errors are one line on standard error.",
    )]);

    page.control("SH", ["FILES"]);
    option(
        &mut page,
        vec![italic("~/.kubecredcache/cache-CLUSTER.yaml")],
        "The cached credentials of one cluster (the directory 0700, files 0600). Elsewhere with KUBECREDCACHE_DIR.",
    );
    option(
        &mut page,
        vec![italic("~/.kube/config")],
        "The kubeconfig that setup and unsetup edit when KUBECONFIG names no files. Each edited file is \
         first copied to FILE.kubecredcache.bak.",
    );

    page.control("SH", ["SEE ALSO"]);
    page.text([
        bold("kubectl"),
        roman("(1); the README and docs/ at "),
        roman(env!("CARGO_PKG_REPOSITORY")),
    ]);
    page
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
        header.push(roman(" "));
        header.push(italic(value));
    }
    header
}

/// The argument's help, with its possible values when clap knows them.
fn arg_help(arg: &clap::Arg) -> String {
    let mut help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
    let values: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_string())
        .collect();
    if !values.is_empty() {
        if !help.is_empty() {
            help.push(' ');
        }
        help.push_str(&format!("One of: {}.", values.join(", ")));
    }
    help
}

/// The README's "Environment variables" table: (name, default, meaning), without the
/// Markdown backticks.
fn environment() -> Vec<(String, String, String)> {
    let Some((_, section)) = README.split_once("## Environment variables") else {
        return Vec::new();
    };
    section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2) // the header row and its |---| line
        .filter_map(|row| {
            let cells: Vec<String> = row
                .trim()
                .trim_matches('|')
                .split('|')
                .map(|c| plain(c.trim()))
                .collect();
            match <[String; 3]>::try_from(cells) {
                Ok([name, default, meaning]) => Some((name, default, meaning)),
                Err(_) => None,
            }
        })
        .collect()
}

/// A README cell as plain ASCII: no Markdown backticks, and the two non-ASCII signs it
/// uses spelt out (groff without a preprocessor rejects UTF-8 input).
fn plain(cell: &str) -> String {
    cell.replace('`', "")
        .replace('\u{2026}', "...")
        .replace('\u{2265}', ">=")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variable `settings` reads is in the README's table (and so on the page),
    /// and the table names nothing else: a new setting without a line there fails here.
    #[test]
    fn the_environment_section_lists_exactly_the_settings() {
        let settings = include_str!("../settings.rs");
        let mut declared: Vec<&str> = settings
            .lines()
            .filter_map(|l| l.strip_prefix("pub const "))
            .filter_map(|l| l.split('"').nth(1))
            .filter(|name| name.starts_with("KUBECREDCACHE_"))
            .collect();
        declared.sort_unstable();
        let mut listed: Vec<String> = environment().into_iter().map(|(name, _, _)| name).collect();
        listed.sort_unstable();
        assert!(declared.len() >= 10, "settings.rs read wrongly: {declared:?}");
        assert_eq!(
            listed, declared,
            "the README's environment table (left), settings.rs (right)"
        );
    }

    #[test]
    fn the_page_is_ascii() {
        let mut cli = clap::Command::new("kubecredcache").version("1.2.3");
        cli.build();
        let text = page(&cli).render();
        let odd: Vec<char> = text.chars().filter(|c| !c.is_ascii()).collect();
        assert!(odd.is_empty(), "spell these out in plain(): {odd:?}");
        assert!(
            text.contains(".TH KUBECREDCACHE 1 1.2.3 kubecredcache \"User Commands\"\n"),
            "{text}"
        );
    }

    #[test]
    fn the_environment_rows_have_a_default_and_a_meaning() {
        for (name, default, meaning) in environment() {
            assert!(
                !default.is_empty() && meaning.len() > 10,
                "{name}: {default:?} {meaning:?}"
            );
            assert!(!meaning.contains('`'), "{meaning}");
        }
    }
}

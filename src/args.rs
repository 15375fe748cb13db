//! The command-line flag parser that every provider uses to read its authenticator's
//! arguments: `--flag value`, `--flag=value`, `-f value`, `-f=value` and `-fvalue`
//! all mean the same, in any order, so that every spelling gives the same cache key.

use std::ffi::OsStr;

/// One flag an authenticator accepts: the names it is spelled with and whether it takes a value.
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    /// The name the parsed value is stored under (e.g. `"cluster"`).
    pub key: &'static str,
    /// Every spelling, long (`--cluster-id`) and short (`-i`).
    pub names: &'static [&'static str],
    pub takes_value: bool,
}

impl Flag {
    pub const fn value(key: &'static str, names: &'static [&'static str]) -> Flag {
        Flag {
            key,
            names,
            takes_value: true,
        }
    }
    pub const fn switch(key: &'static str, names: &'static [&'static str]) -> Flag {
        Flag {
            key,
            names,
            takes_value: false,
        }
    }
}

/// Arguments sorted into known flags, positionals and everything we do not know.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ParsedArgs {
    /// Known flags in the order given: `(key, value)`; switches get `"true"` unless spelled `--x=v`.
    pub flags: Vec<(&'static str, String)>,
    pub positionals: Vec<String>,
    /// Flags nobody declared, verbatim. Providers put these into the cache key, because
    /// an argument we do not understand may change the token.
    pub unknown: Vec<String>,
}

impl ParsedArgs {
    /// The last value given for `key` (later flags override earlier ones, as in the AWS CLI and cobra).
    pub fn last(&self, key: &str) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value given for `key`, in order.
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.flags
            .iter()
            .filter(move |(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Whether a long flag may be shortened to any unambiguous prefix of its name, as
/// Python's argparse allows (the AWS CLI: `--reg` is `--region`, and its own
/// `update-kubeconfig` writes `--role` for `--role-arn`). cobra/pflag does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongPrefixes {
    Exact,
    Unambiguous,
}

/// Sorts `args` by the flag table `flags`. Never fails: anything odd lands in `unknown`.
pub fn parse(args: &[String], flags: &[Flag]) -> ParsedArgs {
    parse_with(args, flags, LongPrefixes::Exact)
}

/// [`parse`], with long flags abbreviated as `prefixes` allows. An ambiguous prefix is
/// unknown (the program itself rejects it).
pub fn parse_with(args: &[String], flags: &[Flag], prefixes: LongPrefixes) -> ParsedArgs {
    let find = |name: &str| -> Option<&Flag> {
        if let Some(flag) = flags.iter().find(|f| f.names.contains(&name)) {
            return Some(flag);
        }
        if prefixes == LongPrefixes::Exact || !name.starts_with("--") || name.len() < 3 {
            return None;
        }
        let mut matches = flags
            .iter()
            .filter(|f| f.names.iter().any(|n| n.starts_with("--") && n.starts_with(name)));
        let first = matches.next()?;
        matches.all(|f| f.key == first.key).then_some(first)
    };
    let mut out = ParsedArgs::default();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            out.positionals.extend(rest.by_ref().cloned());
            break;
        }
        let (name, inline) = if arg.starts_with("--") {
            match arg.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (arg.as_str(), None),
            }
        } else if arg.starts_with('-') && arg.len() > 1 && arg.is_char_boundary(2) {
            // -i, -i=v or -iv: the short name is the first two characters.
            // `-i=` is an empty value, as in cobra; only a bare `-i` takes the next argument.
            let (n, tail) = arg.split_at(2);
            let inline = match tail.strip_prefix('=') {
                Some(value) => Some(value.to_string()),
                None => (!tail.is_empty()).then(|| tail.to_string()),
            };
            (n, inline)
        } else {
            out.positionals.push(arg.clone());
            continue;
        };
        match find(name) {
            Some(flag) if flag.takes_value => match inline.or_else(|| rest.next().cloned()) {
                Some(value) => out.flags.push((flag.key, value)),
                None => out.unknown.push(arg.clone()),
            },
            Some(flag) => out.flags.push((flag.key, inline.unwrap_or_else(|| "true".into()))),
            None => out.unknown.push(arg.clone()),
        }
    }
    out
}

/// Converts an OS string into a `String` without ever mapping two different inputs to
/// the same output (which a lossy conversion would, and which would merge identities).
///
/// Valid UTF-8 passes through unchanged. Anything else becomes a NUL, which no real
/// argument or environment value can contain, followed by the bytes with invalid ones
/// as `\xNN` and `\` as `\\`.
pub fn os_to_string(s: &OsStr) -> String {
    if let Some(s) = s.to_str() {
        return s.to_string();
    }
    let mut out = String::from("\0");
    for chunk in s.as_encoded_bytes().utf8_chunks() {
        out.push_str(&chunk.valid().replace('\\', "\\\\"));
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAGS: &[Flag] = &[
        Flag::value("cluster", &["--cluster-id", "-i"]),
        Flag::value("region", &["--region"]),
        Flag::switch("debug", &["--debug"]),
    ];

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_spelling_of_a_value_flag_parses_alike() {
        for spelling in [
            &["--cluster-id", "c1"][..],
            &["--cluster-id=c1"],
            &["-i", "c1"],
            &["-i=c1"],
            &["-ic1"],
        ] {
            let p = parse(&strings(spelling), FLAGS);
            assert_eq!(p.last("cluster"), Some("c1"), "{spelling:?}");
            assert!(p.unknown.is_empty() && p.positionals.is_empty(), "{spelling:?}");
        }
    }

    #[test]
    fn an_explicitly_empty_value_does_not_take_the_next_argument() {
        for spelling in [&["-i=", "token"][..], &["--cluster-id=", "token"]] {
            let p = parse(&strings(spelling), FLAGS);
            assert_eq!(p.last("cluster"), Some(""), "{spelling:?}");
            assert_eq!(p.positionals, ["token"], "{spelling:?}");
        }
    }

    #[test]
    fn unambiguous_long_prefixes_are_accepted_only_when_asked_for() {
        let args = strings(&["--reg", "eu", "--cluster-i=c", "--deb"]);
        let p = parse_with(&args, FLAGS, LongPrefixes::Unambiguous);
        assert_eq!(
            (p.last("region"), p.last("cluster"), p.last("debug")),
            (Some("eu"), Some("c"), Some("true"))
        );
        assert!(p.unknown.is_empty());
        let exact = parse(&args, FLAGS);
        assert_eq!(exact.unknown, strings(&["--reg", "--cluster-i=c", "--deb"]));
    }

    #[test]
    fn an_ambiguous_prefix_is_unknown() {
        const TWO: &[Flag] = &[
            Flag::value("name", &["--cluster-name"]),
            Flag::value("id", &["--cluster-id"]),
        ];
        let p = parse_with(&strings(&["--cluster", "c"]), TWO, LongPrefixes::Unambiguous);
        assert_eq!(p.unknown, strings(&["--cluster"]));
        assert_eq!(p.positionals, strings(&["c"]));
        let p = parse_with(&strings(&["--cluster-n", "c"]), TWO, LongPrefixes::Unambiguous);
        assert_eq!(p.last("name"), Some("c"));
    }

    #[test]
    fn positionals_switches_and_unknown_flags_are_told_apart() {
        let p = parse(
            &strings(&["token", "--debug", "--weird", "x", "--region=eu-west-1"]),
            FLAGS,
        );
        assert_eq!(p.positionals, strings(&["token", "x"]));
        assert_eq!(p.unknown, strings(&["--weird"]));
        assert_eq!(p.last("debug"), Some("true"));
        assert_eq!(p.last("region"), Some("eu-west-1"));
    }

    #[test]
    fn the_last_value_wins_and_all_values_are_kept() {
        let p = parse(&strings(&["--region", "a", "--region", "b"]), FLAGS);
        assert_eq!(p.last("region"), Some("b"));
        assert_eq!(p.all("region").collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn a_value_flag_at_the_end_without_value_is_unknown() {
        let p = parse(&strings(&["--region"]), FLAGS);
        assert_eq!(p.last("region"), None);
        assert_eq!(p.unknown, strings(&["--region"]));
    }

    #[test]
    fn double_dash_ends_flags() {
        let p = parse(&strings(&["--", "--region", "x"]), FLAGS);
        assert_eq!(p.positionals, strings(&["--region", "x"]));
        assert!(p.flags.is_empty());
    }

    #[test]
    fn values_may_look_like_anything() {
        let p = parse(&strings(&["--cluster-id", "-weird name", "-i", "é"]), FLAGS);
        assert_eq!(p.all("cluster").collect::<Vec<_>>(), ["-weird name", "é"]);
    }

    #[cfg(unix)]
    #[test]
    fn os_strings_convert_without_collisions() {
        use std::os::unix::ffi::OsStrExt;
        let invalid = OsStr::from_bytes(b"a\xffb");
        let lookalike = OsStr::new("a\\xffb");
        assert_eq!(os_to_string(OsStr::new("plain")), "plain");
        assert_ne!(os_to_string(invalid), os_to_string(lookalike));
        assert_ne!(os_to_string(invalid), os_to_string(OsStr::from_bytes(b"a\xfeb")));
        assert_ne!(
            os_to_string(OsStr::from_bytes(b"\\\xff")),
            os_to_string(OsStr::from_bytes(b"\\\\xff\xff"))
        );
    }
}

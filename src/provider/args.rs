//! Reading an authenticator's arguments with its declared [`Inputs`]: `--flag value`,
//! `--flag=value`, `-f value`, `-f=value` and `-fvalue` all mean the same, in any order,
//! so that every spelling gives the same cache key. Also the lossless conversion of
//! arguments that are not UTF-8.

use std::ffi::OsStr;

use super::Env;
use super::inputs::{Inputs, Syntax, first_set};

/// Arguments sorted into known flags, positionals and everything the table does not
/// declare, together with the table they were read with.
#[derive(Debug, Clone)]
pub struct ParsedArgs<'a> {
    inputs: &'static Inputs,
    raw: &'a [String],
    /// Known flags in the order given: `(key, value)`; switches get `"true"` unless spelled `--x=v`.
    pub flags: Vec<(&'static str, String)>,
    pub positionals: Vec<String>,
    /// Flags nobody declared, verbatim. They go into the cache key, because an argument
    /// we do not understand may change the token.
    pub unknown: Vec<String>,
}

impl<'a> ParsedArgs<'a> {
    /// The declarations these arguments were read with.
    pub fn inputs(&self) -> &'static Inputs {
        self.inputs
    }

    /// The arguments as given.
    pub fn raw(&self) -> &'a [String] {
        self.raw
    }

    /// The last value given for the flag `key` (later flags override earlier ones, as in
    /// the AWS CLI and cobra).
    pub fn last(&self, key: &str) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value given for `key`, in order.
    pub fn all<'s>(&'s self, key: &'s str) -> impl Iterator<Item = &'s str> + 's {
        self.flags
            .iter()
            .filter(move |(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// What the program takes for the flag `key`: its last value, else the first of its
    /// declared fallback variables that is set.
    pub fn value(&self, key: &str, env: &dyn Env) -> Option<String> {
        self.last(key).map(String::from).or_else(|| {
            let fallback = self.inputs.flag(key).map_or(&[][..], |f| f.env);
            first_set(fallback, env)
        })
    }
}

/// Sorts `args` by the flag table of `inputs`. Never fails: anything odd lands in `unknown`.
pub fn parse<'a>(args: &'a [String], inputs: &'static Inputs) -> ParsedArgs<'a> {
    let mut out = ParsedArgs {
        inputs,
        raw: args,
        flags: Vec::new(),
        positionals: Vec::new(),
        unknown: Vec::new(),
    };
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            out.positionals.extend(rest.by_ref().cloned());
            break;
        }
        let Some((name, inline)) = split_flag(arg) else {
            out.positionals.push(arg.clone());
            continue;
        };
        match find_flag(inputs, name) {
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

/// A flag's name and its value given in the same argument: `--f=v`, `-f=v`, `-fv`.
/// `None` for a positional.
fn split_flag(arg: &str) -> Option<(&str, Option<String>)> {
    if arg.starts_with("--") {
        return Some(match arg.split_once('=') {
            Some((name, value)) => (name, Some(value.to_string())),
            None => (arg, None),
        });
    }
    if !(arg.starts_with('-') && arg.len() > 1 && arg.is_char_boundary(2)) {
        return None;
    }
    // -i, -i=v or -iv: the short name is the first two characters.
    // `-i=` is an empty value; only a bare `-i` takes the next argument.
    let (name, tail) = arg.split_at(2);
    let inline = match tail.strip_prefix('=') {
        Some(value) => Some(value.to_string()),
        None => (!tail.is_empty()).then(|| tail.to_string()),
    };
    Some((name, inline))
}

/// The declared flag spelled `name`; for argparse, also any unambiguous prefix of a long
/// flag. An ambiguous prefix is no flag (the program itself rejects it).
fn find_flag(inputs: &'static Inputs, name: &str) -> Option<&'static super::Flag> {
    if let Some(flag) = inputs.flag_named(name) {
        return Some(flag);
    }
    if inputs.syntax != Syntax::Argparse || !name.starts_with("--") || name.len() < 3 {
        return None;
    }
    let mut matches = inputs
        .flags
        .iter()
        .filter(|f| f.names.iter().any(|n| n.starts_with("--") && n.starts_with(name)));
    let first = matches.next()?;
    matches.all(|f| f.key == first.key).then_some(first)
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
    use crate::provider::Flag;
    use std::collections::HashMap;

    const FLAGS: &[Flag] = &[
        Flag::value("cluster", &["--cluster-id", "-i"]),
        Flag::value("region", &["--region"]).env(&["REGION", "DEFAULT_REGION"]),
        Flag::switch("debug", &["--debug"]),
    ];
    static PFLAG: Inputs = Inputs {
        programs: &["p"],
        syntax: Syntax::Pflag,
        flags: FLAGS,
        vars: &[],
    };
    static ARGPARSE: Inputs = Inputs {
        syntax: Syntax::Argparse,
        ..PFLAG
    };

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// Parsed arguments that live as long as the test.
    fn parsed(v: &[&str], inputs: &'static Inputs) -> ParsedArgs<'static> {
        parse(Box::leak(strings(v).into_boxed_slice()), inputs)
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
            let p = parsed(spelling, &PFLAG);
            assert_eq!(p.last("cluster"), Some("c1"), "{spelling:?}");
            assert!(p.unknown.is_empty() && p.positionals.is_empty(), "{spelling:?}");
        }
    }

    #[test]
    fn an_explicitly_empty_value_does_not_take_the_next_argument() {
        for spelling in [&["-i=", "token"][..], &["--cluster-id=", "token"]] {
            let p = parsed(spelling, &PFLAG);
            assert_eq!(p.last("cluster"), Some(""), "{spelling:?}");
            assert_eq!(p.positionals, ["token"], "{spelling:?}");
        }
    }

    #[test]
    fn unambiguous_long_prefixes_are_accepted_only_by_argparse() {
        let args = strings(&["--reg", "eu", "--cluster-i=c", "--deb"]);
        let p = parse(&args, &ARGPARSE);
        assert_eq!(
            (p.last("region"), p.last("cluster"), p.last("debug")),
            (Some("eu"), Some("c"), Some("true"))
        );
        assert!(p.unknown.is_empty());
        let exact = parse(&args, &PFLAG);
        assert_eq!(exact.unknown, strings(&["--reg", "--cluster-i=c", "--deb"]));
    }

    #[test]
    fn an_ambiguous_prefix_is_unknown() {
        static TWO: Inputs = Inputs {
            programs: &[],
            syntax: Syntax::Argparse,
            flags: &[
                Flag::value("name", &["--cluster-name"]),
                Flag::value("id", &["--cluster-id"]),
            ],
            vars: &[],
        };
        let p = parsed(&["--cluster", "c"], &TWO);
        assert_eq!(p.unknown, strings(&["--cluster"]));
        assert_eq!(p.positionals, strings(&["c"]));
        let p = parsed(&["--cluster-n", "c"], &TWO);
        assert_eq!(p.last("name"), Some("c"));
    }

    #[test]
    fn positionals_switches_and_unknown_flags_are_told_apart() {
        let p = parsed(&["token", "--debug", "--weird", "x", "--region=eu-west-1"], &PFLAG);
        assert_eq!(p.positionals, strings(&["token", "x"]));
        assert_eq!(p.unknown, strings(&["--weird"]));
        assert_eq!(p.last("debug"), Some("true"));
        assert_eq!(p.last("region"), Some("eu-west-1"));
    }

    #[test]
    fn a_three_letter_prefix_is_a_prefix_too() {
        // `--r` is the shortest prefix argparse resolves; `--` alone is not a flag.
        let p = parsed(&["--r", "eu", "--d"], &ARGPARSE);
        assert_eq!((p.last("region"), p.last("debug")), (Some("eu"), Some("true")));
        let p = parsed(&["--", "x"], &ARGPARSE);
        assert_eq!(p.positionals, strings(&["x"]));
    }

    #[test]
    fn a_value_falls_back_to_its_variables_in_order_and_the_flag_wins() {
        let env = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        let none = strings(&[]);
        let both = env(&[("REGION", "a"), ("DEFAULT_REGION", "b")]);
        assert_eq!(parse(&none, &PFLAG).value("region", &both).as_deref(), Some("a"));
        let second = env(&[("DEFAULT_REGION", "b")]);
        assert_eq!(parse(&none, &PFLAG).value("region", &second).as_deref(), Some("b"));
        let flag = strings(&["--region", "f"]);
        assert_eq!(parse(&flag, &PFLAG).value("region", &both).as_deref(), Some("f"));
        assert_eq!(parse(&none, &PFLAG).value("region", &env(&[])), None);
    }

    #[test]
    fn the_last_value_wins_and_all_values_are_kept() {
        let p = parsed(&["--region", "a", "--region", "b"], &PFLAG);
        assert_eq!(p.last("region"), Some("b"));
        assert_eq!(p.all("region").collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn a_value_flag_at_the_end_without_value_is_unknown() {
        let p = parsed(&["--region"], &PFLAG);
        assert_eq!(p.last("region"), None);
        assert_eq!(p.unknown, strings(&["--region"]));
    }

    #[test]
    fn double_dash_ends_flags() {
        let p = parsed(&["--", "--region", "x"], &PFLAG);
        assert_eq!(p.positionals, strings(&["--region", "x"]));
        assert!(p.flags.is_empty());
    }

    #[test]
    fn values_may_look_like_anything() {
        let p = parsed(&["--cluster-id", "-weird name", "-i", "é"], &PFLAG);
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

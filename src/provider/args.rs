//! Reading an authenticator's arguments with its declared [`Inputs`], the way its own
//! parser reads them ([`Syntax`]): `--flag value`, `--flag=value`, `-f value` and `-fvalue`
//! mean the same, in any order, so that every spelling gives the same cache key; where
//! the parsers differ (`-i=` is `=` to pflag, `--reg` is `--region` to argparse), each
//! provider's arguments are read as its program reads them. Also the lossless
//! conversion of arguments that are not UTF-8.

use std::ffi::OsStr;

use super::Env;
use super::inputs::{Flag, Inputs, Syntax, first_set};

/// Arguments sorted into known flags, positionals and everything the table does not
/// declare, together with the table they were read with.
#[derive(Debug, Clone)]
pub struct ParsedArgs<'a> {
    /// The declarations these arguments were read with.
    pub inputs: &'static Inputs,
    /// The arguments as given.
    pub raw: &'a [String],
    /// Known flags in the order given: `(key, value)`; switches get `"true"` or, where the
    /// parser takes a value for them (`--x=false` to pflag), `"true"`/`"false"`.
    pub flags: Vec<(&'static str, String)>,
    pub positionals: Vec<String>,
    /// Flags nobody declared, and flags the program itself would reject (a value flag
    /// without its value), verbatim. They go into the cache key, because an argument we
    /// do not understand may change the token.
    pub unknown: Vec<String>,
}

/// Sorts `args` by the flag table of `inputs`, reading them as the program's parser
/// does. Never fails: anything odd lands in `unknown`.
pub fn parse<'a>(args: &'a [String], inputs: &'static Inputs) -> ParsedArgs<'a> {
    let mut out = ParsedArgs {
        inputs,
        raw: args,
        flags: Vec::new(),
        positionals: Vec::new(),
        unknown: Vec::new(),
    };
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        i += 1;
        if arg == "--" {
            out.positionals.extend(args[i..].iter().cloned());
            break;
        }
        // `-` alone and the empty string are operands to every parser.
        if arg.len() < 2 || !arg.starts_with('-') {
            out.positionals.push(arg.clone());
            continue;
        }
        let next = args.get(i).map(String::as_str);
        let took_next = if arg.starts_with("--") {
            out.long(arg, next)
        } else {
            out.short(arg, next)
        };
        if took_next {
            i += 1;
        }
    }
    out
}

impl<'a> ParsedArgs<'a> {
    /// The last value given for the flag `key` (later flags override earlier ones, as in
    /// every program we wrap).
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

    /// The last value of `key`, unless the program takes it for "not given".
    pub fn given(&self, key: &str) -> Option<&str> {
        let flag = self.inputs.flag(key);
        self.last(key).filter(|v| !flag.is_some_and(|f| f.is_unset(v)))
    }

    /// What the program most likely takes for the flag `key`: its value as given, else
    /// the first of its declared fallback variables that is set and not empty. For
    /// variables read in an order that depends on the program's version, see
    /// [`candidates`](Self::candidates).
    pub fn value(&self, key: &str, env: &dyn Env) -> Option<String> {
        self.given(key)
            .map(String::from)
            .or_else(|| first_set(self.fallback(key), env))
    }

    /// Every value the program may take for the flag `key`: its value as given, else each
    /// of its fallback variables that is set and not empty, without repeats.
    pub fn candidates(&self, key: &str, env: &dyn Env) -> Vec<String> {
        if let Some(v) = self.given(key) {
            return vec![v.to_string()];
        }
        let mut out: Vec<String> = Vec::new();
        for value in self.fallback(key).iter().filter_map(|n| env.var(n)) {
            if !value.is_empty() && !out.contains(&value) {
                out.push(value);
            }
        }
        out
    }

    fn fallback(&self, key: &str) -> &'static [&'static str] {
        self.inputs.flag(key).map_or(&[][..], |f| f.env)
    }

    /// `--name`, `--name=value`, `--name value`. Returns whether it took `next`.
    fn long(&mut self, arg: &str, next: Option<&str>) -> bool {
        let syntax = self.inputs.syntax;
        let (name, inline) = arg
            .split_once('=')
            .map_or((arg, None), |(name, value)| (name, Some(value)));
        // `--=x` and `---x` are no flag to pflag (a syntax error), nor to the others.
        let flag = (name.len() > 2 && !name[2..].starts_with('-'))
            .then(|| find_flag(self.inputs, name))
            .flatten();
        let Some(flag) = flag else {
            self.unknown.push(arg.to_string());
            return false;
        };
        if flag.takes_value {
            if let Some(value) = inline {
                self.flags.push((flag.key, value.to_string()));
                return false;
            }
            return self.value_from_next(flag, arg, next);
        }
        match inline {
            None => self.flags.push((flag.key, "true".into())),
            // pflag's bool flags take `=false`; argparse and click reject a value.
            Some(value) if syntax == Syntax::Pflag => self.switch_value(flag, arg, value),
            Some(_) => self.unknown.push(arg.to_string()),
        }
        false
    }

    /// `-x`, a group of short switches `-tv`, and a short flag's value: `-xvalue`,
    /// `-x value`, and `-x=value` (pflag reads `value` when there is one, so `-x=` is
    /// the value `=`; argparse reads `value`, so `-x=` is empty; click reads `=value`).
    fn short(&mut self, arg: &str, next: Option<&str>) -> bool {
        let syntax = self.inputs.syntax;
        let mut rest = &arg[1..];
        while let Some(c) = rest.chars().next() {
            let Some(flag) = short_flag(self.inputs, c) else {
                // The program stops here with an error: keep the whole argument.
                self.unknown.push(arg.to_string());
                return false;
            };
            let after = &rest[c.len_utf8()..];
            let equals = match syntax {
                Syntax::Pflag => after.len() > 1 && after.starts_with('='),
                Syntax::Argparse => after.starts_with('='),
                Syntax::Click => false,
            };
            if flag.takes_value {
                if equals {
                    self.flags.push((flag.key, after[1..].to_string()));
                } else if !after.is_empty() {
                    self.flags.push((flag.key, after.to_string()));
                } else {
                    return self.value_from_next(flag, arg, next);
                }
                return false;
            }
            if equals {
                match syntax {
                    Syntax::Pflag => self.switch_value(flag, arg, &after[1..]),
                    _ => self.unknown.push(arg.to_string()),
                }
                return false;
            }
            self.flags.push((flag.key, "true".into()));
            rest = after;
        }
        false
    }

    /// A value flag given without its value in the same argument takes the next one:
    /// always to pflag and click, and to argparse unless it looks like a flag itself.
    fn value_from_next(&mut self, flag: &'static Flag, arg: &str, next: Option<&str>) -> bool {
        match next {
            Some(value) if !(self.inputs.syntax == Syntax::Argparse && argparse_option_like(value, self.inputs)) => {
                self.flags.push((flag.key, value.to_string()));
                true
            }
            // The program rejects a value flag without a value.
            _ => {
                self.unknown.push(arg.to_string());
                false
            }
        }
    }

    /// pflag's `--switch=VALUE`, read as Go's strconv.ParseBool does.
    fn switch_value(&mut self, flag: &'static Flag, arg: &str, value: &str) {
        match value {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => self.flags.push((flag.key, "true".into())),
            "0" | "f" | "F" | "FALSE" | "false" | "False" => self.flags.push((flag.key, "false".into())),
            _ => self.unknown.push(arg.to_string()),
        }
    }
}

/// The declared flag spelled `name`; for argparse, also any unambiguous prefix of a long
/// flag. An ambiguous prefix is no flag (the program itself rejects it).
fn find_flag(inputs: &'static Inputs, name: &str) -> Option<&'static Flag> {
    if let Some(flag) = inputs.flag_named(name) {
        return Some(flag);
    }
    if inputs.syntax != Syntax::Argparse || !name.starts_with("--") || name.len() < 3 {
        return None;
    }
    let mut matches = prefixed(inputs, name);
    let first = matches.next()?;
    matches.all(|f| f.key == first.key).then_some(first)
}

fn prefixed<'p>(inputs: &'static Inputs, prefix: &'p str) -> impl Iterator<Item = &'static Flag> + 'p {
    inputs
        .flags
        .iter()
        .filter(move |f| f.names.iter().any(|n| n.starts_with("--") && n.starts_with(prefix)))
}

fn short_flag(inputs: &'static Inputs, c: char) -> Option<&'static Flag> {
    inputs.flags.iter().find(|f| {
        f.names
            .iter()
            .any(|n| n.len() == 2 && n.starts_with('-') && n[1..].starts_with(c))
    })
}

/// Whether argparse takes `arg` for a flag rather than a value (its `_parse_optional`):
/// a flag it knows (or a prefix of one), and anything else starting with `-` but a
/// negative number or a string with a space in it.
fn argparse_option_like(arg: &str, inputs: &'static Inputs) -> bool {
    if !arg.starts_with('-') || arg.len() < 2 {
        return false;
    }
    let name = arg.split_once('=').map_or(arg, |(name, _)| name);
    if inputs.flag_named(arg).is_some() || inputs.flag_named(name).is_some() {
        return true;
    }
    if name.starts_with("--") && prefixed(inputs, name).next().is_some() {
        return true;
    }
    !(is_negative_number(arg) || arg.contains(' '))
}

/// argparse's `^-\d+$|^-\d*\.\d+$`.
fn is_negative_number(arg: &str) -> bool {
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let Some(n) = arg.strip_prefix('-') else {
        return false;
    };
    // Without a dot, all of it is the part that must not be empty.
    let (whole, fraction) = n.split_once('.').unwrap_or(("", n));
    digits(whole) && !fraction.is_empty() && digits(fraction)
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

/// The OS string that [`os_to_string`] made `s` from (its inverse), for text that names
/// a file: a home directory or a path that is not UTF-8 (a Latin-1 `/home/josé`) must
/// name the same file again, or the credential sources under it are never watched.
/// Text expanded around such a value (`$HOME/x`) keeps what comes before the marker as
/// it is. On Windows text that was not valid Unicode stays as converted.
pub fn string_to_os(s: &str) -> std::ffi::OsString {
    #[cfg(unix)]
    if let Some((before, escaped)) = s.split_once('\0') {
        let mut bytes = before.as_bytes().to_vec();
        unescape_into(escaped, &mut bytes);
        return std::os::unix::ffi::OsStringExt::from_vec(bytes);
    }
    std::ffi::OsString::from(s)
}

/// `\\` and `\xNN` as [`os_to_string`] wrote them, back to bytes.
#[cfg(unix)]
fn unescape_into(escaped: &str, out: &mut Vec<u8>) {
    let b = escaped.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let byte = match (b[i], b.get(i + 1)) {
            (b'\\', Some(b'\\')) => Some((b'\\', 2)),
            (b'\\', Some(b'x')) => escaped
                .get(i + 2..i + 4)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .map(|v| (v, 4)),
            _ => None,
        };
        let (value, len) = byte.unwrap_or((b[i], 1));
        out.push(value);
        i += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Flag;
    use std::collections::HashMap;

    const FLAGS: &[Flag] = &[
        Flag::value("cluster", &["--cluster-id", "-i"]),
        Flag::value("region", &["--region"])
            .env(&["REGION", "DEFAULT_REGION"])
            .unset_when(&[""]),
        Flag::switch("debug", &["--debug"]),
        Flag::switch("token-only", &["-t"]),
        Flag::switch("quiet", &["-q"]),
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
    static CLICK: Inputs = Inputs {
        syntax: Syntax::Click,
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
    fn pflag_reads_short_and_long_empty_values_apart() {
        // What spf13/pflag does (parseSingleShortArg / parseLongArg): `-i=` has no value
        // after its `=`, so the `=` is the value; `--cluster-id=` is the empty value.
        // aws-iam-authenticator prints a token for the first and refuses the second.
        let short = parsed(&["-i=", "token"], &PFLAG);
        assert_eq!(short.last("cluster"), Some("="));
        let long = parsed(&["--cluster-id=", "token"], &PFLAG);
        assert_eq!(long.last("cluster"), Some(""));
        for p in [short, long] {
            assert_eq!(p.positionals, ["token"], "neither takes the next argument");
        }
        assert_eq!(parsed(&["-i==x"], &PFLAG).last("cluster"), Some("=x"));
    }

    #[test]
    fn argparse_and_click_read_short_values_their_own_way() {
        // argparse splits `-i=v` at the `=`; click keeps everything after the letter.
        assert_eq!(parsed(&["-i="], &ARGPARSE).last("cluster"), Some(""));
        assert_eq!(parsed(&["-i=v"], &ARGPARSE).last("cluster"), Some("v"));
        assert_eq!(parsed(&["-i=v"], &CLICK).last("cluster"), Some("=v"));
        assert_eq!(parsed(&["-iv"], &CLICK).last("cluster"), Some("v"));
        assert_eq!(parsed(&["--cluster-id=", "x"], &CLICK).last("cluster"), Some(""));
    }

    #[test]
    fn pflag_short_switches_group_and_a_value_ends_the_group() {
        let p = parsed(&["-tq", "-tqic1", "-qi", "c2"], &PFLAG);
        assert_eq!(p.all("token-only").collect::<Vec<_>>(), ["true", "true"]);
        assert_eq!(p.all("quiet").count(), 3);
        assert_eq!(p.all("cluster").collect::<Vec<_>>(), ["c1", "c2"]);
        assert!(p.unknown.is_empty() && p.positionals.is_empty(), "{p:?}");
        // An unknown letter anywhere makes pflag fail: the argument is kept whole.
        let p = parsed(&["-tx"], &PFLAG);
        assert_eq!(p.unknown, ["-tx"]);
    }

    #[test]
    fn pflag_switches_take_go_booleans_and_the_others_take_none() {
        for (given, value) in [
            ("--debug=false", "false"),
            ("--debug=1", "true"),
            ("--debug=F", "false"),
        ] {
            assert_eq!(parsed(&[given], &PFLAG).last("debug"), Some(value), "{given}");
        }
        assert_eq!(parsed(&["-t=false"], &PFLAG).last("token-only"), Some("false"));
        for (args, inputs) in [
            (&["--debug=maybe"][..], &PFLAG),
            (&["--debug=true"], &ARGPARSE),
            (&["--debug=true"], &CLICK),
            (&["-t=1"], &CLICK),
        ] {
            let p = parsed(args, inputs);
            assert_eq!(p.last("debug"), None, "{args:?}");
            assert_eq!(p.unknown, args, "{args:?} is an error to the program");
        }
        // `-t=` to pflag: t is on, then `=` is an unknown shorthand.
        assert_eq!(parsed(&["-t="], &PFLAG).unknown, ["-t="]);
    }

    #[test]
    fn a_value_that_looks_like_a_flag_is_a_value_except_to_argparse() {
        for inputs in [&PFLAG, &CLICK] {
            let p = parsed(&["--region", "--debug", "-i", "-t"], inputs);
            assert_eq!((p.last("region"), p.last("cluster")), (Some("--debug"), Some("-t")));
        }
        let p = parsed(&["--region", "--debug"], &ARGPARSE);
        assert_eq!(p.last("region"), None);
        assert_eq!(p.last("debug"), Some("true"));
        assert_eq!(p.unknown, ["--region"], "argparse: expected one argument");
        // argparse takes negative numbers, `-` and strings with a space as values.
        for value in ["-1", "-.5", "-2.5", "-", "-weird name", "plain"] {
            assert_eq!(
                parsed(&["--region", value], &ARGPARSE).last("region"),
                Some(value),
                "{value}"
            );
        }
        for value in ["-x", "--unknown", "--reg", "--", "-1a"] {
            assert_eq!(parsed(&["--region", value], &ARGPARSE).last("region"), None, "{value}");
        }
    }

    #[test]
    fn malformed_long_flags_are_unknown() {
        for arg in ["--=x", "---region", "---"] {
            let p = parsed(&[arg], &PFLAG);
            assert_eq!(p.unknown, [arg]);
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
        // `--region ""` is "not given" to this program; an empty variable is unset.
        let empty = strings(&["--region="]);
        assert_eq!(parse(&empty, &PFLAG).value("region", &both).as_deref(), Some("a"));
        let empty_first = env(&[("REGION", ""), ("DEFAULT_REGION", "b")]);
        assert_eq!(parse(&none, &PFLAG).value("region", &empty_first).as_deref(), Some("b"));
        assert_eq!(parse(&none, &PFLAG).candidates("region", &both), ["a", "b"]);
        assert_eq!(parse(&flag, &PFLAG).candidates("region", &both), ["f"]);
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

    #[cfg(unix)]
    #[test]
    fn string_to_os_gives_back_what_os_to_string_was_given() {
        use std::os::unix::ffi::OsStrExt;
        for bytes in [
            &b"/home/jos\xe9/.aws"[..],
            b"plain",
            b"a\\b\\x41\xff\\",
            b"\xff\xfe",
            b"",
            b"caf\xc3\xa9",
        ] {
            let os = OsStr::from_bytes(bytes);
            assert_eq!(string_to_os(&os_to_string(os)), os, "{bytes:?}");
        }
        // A value expanded into text before it (`/a/$HOME` with such a HOME).
        let home = os_to_string(OsStr::from_bytes(b"/h\xe9"));
        assert_eq!(string_to_os(&format!("/a{home}/x")), OsStr::from_bytes(b"/a/h\xe9/x"));
    }
}

//! Writing a kubeconfig that kubectl reads as we meant it: block style as kubectl
//! writes it, and every string that is not plainly a string in both YAML versions in
//! double quotes. serde_norway writes YAML 1.2, which leaves `off`, `yes` or `1_000`
//! plain because they are strings there; kubectl reads YAML 1.1, where they are not
//! (a kubeconfig whose `env` value was `"off"` came back as `off`, and kubectl refused
//! it). Characters outside YAML's printable set are escaped, and a key go-yaml could
//! not read back is refused.

use serde_norway::{Mapping, Value};
use std::fmt::Write;

use super::yaml_read::{Plain, plain_reading};

/// The document as YAML text both YAML 1.1 and 1.2 read back to the same value.
pub fn to_yaml(doc: &Value) -> Result<String, String> {
    let mut out = String::new();
    node(&mut out, doc, 0, false)?;
    Ok(out)
}

/// Writes `value` as a block at `indent`. `inline`: the cursor already stands at column
/// `indent` (after a `- `), so the first line needs no indent of its own.
fn node(out: &mut String, value: &Value, indent: usize, inline: bool) -> Result<(), String> {
    match value {
        Value::Mapping(map) if !map.is_empty() => mapping(out, map, indent, inline),
        Value::Sequence(items) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 || !inline {
                    pad(out, indent);
                }
                out.push_str("- ");
                match item {
                    Value::Mapping(m) if !m.is_empty() => node(out, item, indent + 2, true)?,
                    Value::Sequence(s) if !s.is_empty() => node(out, item, indent + 2, true)?,
                    _ => {
                        scalar(out, item)?;
                        out.push('\n');
                    }
                }
            }
            Ok(())
        }
        _ => {
            scalar(out, value)?;
            out.push('\n');
            Ok(())
        }
    }
}

fn mapping(out: &mut String, map: &Mapping, indent: usize, inline: bool) -> Result<(), String> {
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 || !inline {
            pad(out, indent);
        }
        match key {
            Value::Mapping(_) | Value::Sequence(_) => {
                return Err("a mapping key that is not a scalar".into());
            }
            _ => {
                let mut written = String::new();
                scalar(&mut written, key)?;
                // go-yaml reads an implicit key of at most 1024 characters, as written.
                if written.chars().count() > 1000 {
                    return Err("a mapping key longer than 1,000 characters once written".into());
                }
                out.push_str(&written);
            }
        }
        out.push(':');
        match value {
            Value::Mapping(m) if !m.is_empty() => {
                out.push('\n');
                mapping(out, m, indent + 2, false)?;
            }
            // kubectl's own layout: a list in a mapping is not indented further.
            Value::Sequence(s) if !s.is_empty() => {
                out.push('\n');
                node(out, value, indent, false)?;
            }
            _ => {
                out.push(' ');
                scalar(out, value)?;
                out.push('\n');
            }
        }
    }
    Ok(())
}

fn scalar(out: &mut String, value: &Value) -> Result<(), String> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) if plain_in_both_versions(s) => out.push_str(s),
        Value::String(s) => double_quoted(out, s),
        Value::Mapping(_) => out.push_str("{}"),
        Value::Sequence(_) => out.push_str("[]"),
        Value::Tagged(tagged) => return Err(format!("a YAML tag ({}) kubectl would not read", tagged.tag)),
    }
    Ok(())
}

/// The words both YAML versions read as booleans or null.
const YAML_WORDS: &str = "true True TRUE false False FALSE null Null NULL";

/// Whether `s` may be written plain: a letter, `_` or `/` first, after a flag's dashes
/// (no number, sign, `.inf` or timestamp starts so), then only characters that are
/// never YAML syntax where they stand, and not a word either YAML version reads as a
/// boolean or null. Anything else is quoted,
/// which is never wrong, only longer.
fn plain_in_both_versions(s: &str) -> bool {
    // Flags (`--cluster-name`, `-v`) stay plain, as kubectl writes them: a dash then a
    // letter is neither a list item nor a number.
    let word = s.trim_start_matches('-');
    if s.len() - word.len() > 2 || (word.len() < s.len() && !word.starts_with(|c: char| c.is_ascii_alphabetic())) {
        return false;
    }
    let mut chars = word.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_' || first == '/')
        && chars.all(|c| c.is_ascii_alphanumeric() || "_./+=@-".contains(c) || c == ':')
        && !s.ends_with(':')
        && !YAML_WORDS.split(' ').any(|w| w == s)
        && plain_reading(s) == Plain::Str
}

fn double_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            // A line break too, folded to a space if written as it is.
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Anything outside YAML's printable set, and what YAML 1.1 takes for line
            // breaks or a byte-order mark.
            c if !yaml_printable(c) || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// YAML's `c-printable`: tab, line feed, carriage return and the rest below, minus
/// surrogates (which a `char` never is) and U+FFFE, U+FFFF.
fn yaml_printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{a0}'..='\u{fffd}' | '\u{10000}'..)
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRICKY: &[&str] = &[
        "off",
        "yes",
        "y",
        "N",
        "On",
        "NULL",
        "~",
        "1_000",
        "017",
        "0x1F",
        "1:20",
        "+12",
        ".inf",
        "=",
        "<<",
        "2001-12-14",
        "1e3",
        "-",
        "",
        " lead",
        "trail ",
        "a: b",
        "#x",
        "x #y",
        "line\nbreak",
        "tab\there",
        "q\"uote",
        "back\\slash",
        "bell\u{7}",
        "\u{2028}",
        "ünï",
        "key:",
        "- item",
        "[x]",
        "{x}",
        "*alias",
        "&anchor",
        "!tag",
        "%dir",
        "@at",
        "`tick",
        "|",
        ">",
        "'",
        "?",
    ];

    fn document() -> Value {
        let mut env = Vec::new();
        for (i, s) in TRICKY.iter().enumerate() {
            let mut entry = Mapping::new();
            entry.insert("name".into(), format!("V{i}").into());
            entry.insert("value".into(), (*s).into());
            env.push(Value::Mapping(entry));
        }
        let text = "apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    exec:\n      command: /usr/bin/aws\n      args: [eks, get-token]\n      provideClusterInfo: true\n      env: []\n      installHint: null\n  other: {}\npreferences: {}\nnested:\n- - a\n  - b\n- []\nnumbers: [1, -2, 3.5]\n";
        let mut doc: Value = serde_norway::from_str(text).unwrap();
        doc["users"][0]["user"]["exec"]["env"] = Value::Sequence(env);
        let keys: Mapping = TRICKY.iter().map(|s| (Value::from(*s), Value::from(*s))).collect();
        doc["tricky-keys"] = Value::Mapping(keys);
        doc
    }

    #[test]
    fn what_is_written_reads_back_the_same() {
        let doc = document();
        let text = to_yaml(&doc).unwrap();
        let back: Value = serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{e}:\n{text}"));
        assert_eq!(back, doc, "{text}");
    }

    #[test]
    fn strings_yaml_1_1_reads_otherwise_are_quoted() {
        let text = to_yaml(&document()).unwrap();
        for word in ["off", "yes", "y", "N", "On", "NULL", "1_000", "017", "1:20", "=", "<<"] {
            assert!(
                text.contains(&format!("value: \"{word}\"\n")),
                "{word} not quoted:\n{text}"
            );
        }
    }

    #[test]
    fn kubectls_layout_is_kept() {
        let text = to_yaml(&document()).unwrap();
        assert!(text.starts_with("apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    exec:\n      command: /usr/bin/aws\n      args:\n      - eks\n      - get-token\n      provideClusterInfo: true\n"), "{text}");
        assert!(
            text.contains("  other: {}\npreferences: {}\nnested:\n- - a\n  - b\n- []\nnumbers:\n- 1\n- -2\n- 3.5\n"),
            "{text}"
        );
    }

    #[test]
    fn plain_words_stay_plain() {
        for s in [
            "client.authentication.k8s.io/v1beta1",
            "https://example.com:443/x",
            "LS0tLS1CRUdJTi+/==",
            "arn:aws:eks:us-west-2:1:cluster/c1",
            "/usr/local/bin/aws",
            "my_user@corp",
        ] {
            assert!(plain_in_both_versions(s), "{s}");
        }
    }

    proptest::proptest! {
        // Few letters and many YAML indicators: the strings where quoting matters.
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn any_string_reads_back_as_itself(key in "\\PC{0,6}", value in "[ay0 :#_./+=@\\n\"'~!&*?|>%{}\\[\\],-]{0,8}") {
            let doc: Value = Value::Mapping([(Value::from(key), Value::from(value))].into_iter().collect());
            let text = to_yaml(&doc).unwrap();
            let back: Value = serde_norway::from_str(&text).unwrap();
            proptest::prop_assert_eq!(back, doc, "{}", text);
        }
    }

    #[test]
    fn what_go_yaml_cannot_read_back_is_escaped_or_refused() {
        let doc: Value = serde_norway::from_str("a: x\n").unwrap();
        let mut doc = doc;
        doc["a"] = Value::from("x\u{fffe}y\u{85}z");
        let text = to_yaml(&doc).unwrap();
        assert_eq!(text, "a: \"x\\ufffey\\u0085z\"\n");
        // Every character read back as it was: line breaks and controls too.
        let all: String = (0..=0x3000u32).filter_map(char::from_u32).collect();
        doc["a"] = Value::from(all.as_str());
        let (back, _) = super::super::yaml_read::parse(&to_yaml(&doc).unwrap()).unwrap();
        let back = back["a"].as_str().unwrap_or_default();
        let first = all.chars().zip(back.chars()).find(|(a, b)| a != b);
        assert!(back == all, "first difference (written, read back): {first:?}");
        doc["a"] = Value::Null;
        doc[&*"k".repeat(1001)] = Value::from(1);
        assert!(to_yaml(&doc).unwrap_err().contains("longer than"));
        doc = serde_norway::from_str("a: x\n").unwrap();
        doc[&*"\"".repeat(600)] = Value::from(1);
        assert!(to_yaml(&doc).unwrap_err().contains("longer than"));
    }

    #[test]
    fn a_tag_is_refused_not_dropped() {
        let doc: Value = serde_norway::from_str("a: !custom x\n").unwrap();
        assert!(to_yaml(&doc).unwrap_err().contains("tag"));
    }
}

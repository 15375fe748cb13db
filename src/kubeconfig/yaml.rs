//! Kubeconfig YAML as kubectl reads it.
//!
//! kubectl reads YAML 1.1 (go-yaml v2, through sigs.k8s.io/yaml), where the plain
//! scalars `off`, `yes`, `y`, `n`, `on` are booleans, `1_000` is a number and `<<` merges
//! a mapping in. serde_norway reads YAML 1.2, where all of those are strings, and it
//! does not say whether a scalar was quoted. So:
//!
//! - [`parse`] reads a document and then makes it what kubectl read: merge keys applied,
//!   and those words in kubectl's boolean fields (`insecure-skip-tls-verify: yes`) made
//!   booleans. What cannot be known without the quoting (such a word as a mapping key,
//!   or inside an opaque `extensions` value) is returned as a list of places, and
//!   `setup` refuses to rewrite such a file rather than guess;
//! - [`to_yaml`] writes a document in block style as kubectl writes it, every string
//!   that is not plainly a string in both YAML versions in double quotes: a kubeconfig
//!   whose `env` value was `"off"` once came back as `off`, and kubectl refused it.

use serde_norway::{Mapping, Value};
use std::fmt::Write;

/// kubectl's boolean fields, by key: `clusters[].cluster`'s two, `users[].user.exec`'s
/// `provideClusterInfo`, and `preferences.colors`. (Word lists here are one string
/// each: every `&str` in a static table costs every run, hits included, a load-time
/// relocation.)
const BOOLEAN_FIELDS: &str = "insecure-skip-tls-verify disable-compression provideClusterInfo colors";

/// The plain words YAML 1.1 reads as booleans and YAML 1.2 as strings.
const YAML11_TRUE: &str = "y Y yes Yes YES on On ON";
const YAML11_FALSE: &str = "n N no No NO off Off OFF";

/// What YAML 1.1 reads the plain word `s` as, if it is one of its own booleans.
fn yaml11_boolean(s: &str) -> Option<bool> {
    if YAML11_TRUE.split(' ').any(|w| w == s) {
        Some(true)
    } else if YAML11_FALSE.split(' ').any(|w| w == s) {
        Some(false)
    } else {
        None
    }
}

/// A document as kubectl reads it, and the places whose reading depends on quoting
/// serde_norway does not report (empty for every kubeconfig kubectl itself writes).
pub fn parse(text: &str) -> Result<(Value, Vec<String>), String> {
    let mut doc: Value = serde_norway::from_str(text).map_err(|e| format!("not YAML ({e})"))?;
    doc.apply_merge()
        .map_err(|e| format!("not a document kubectl reads (a merge key: {e})"))?;
    let mut unsure = Vec::new();
    as_kubectl_reads(&mut doc, "", false, &mut unsure);
    Ok((doc, unsure))
}

/// Whether kubectl, reading `s` as a plain scalar, gets something else than the string.
fn yaml11_reads_otherwise(s: &str) -> bool {
    if yaml11_boolean(s).is_some() {
        return true;
    }
    // go-yaml v2 drops `_` from numbers: `1_000` is 1000.
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s).replace('_', "");
    s.contains('_') && !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

fn as_kubectl_reads(value: &mut Value, at: &str, opaque: bool, unsure: &mut Vec<String>) {
    match value {
        Value::Mapping(map) => {
            for (key, value) in map.iter_mut() {
                let name = key.as_str().unwrap_or_default();
                if yaml11_reads_otherwise(name) {
                    unsure.push(format!("the key '{name}' at {}", place(at)));
                }
                let here = format!("{at}.{name}");
                if BOOLEAN_FIELDS.split(' ').any(|field| field == name)
                    && let Some(b) = value.as_str().and_then(yaml11_boolean)
                {
                    *value = Value::Bool(b);
                    continue;
                }
                as_kubectl_reads(value, &here, opaque || name.starts_with("extension"), unsure);
            }
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                as_kubectl_reads(item, &format!("{at}[{i}]"), opaque, unsure);
            }
        }
        Value::String(s) if opaque && yaml11_reads_otherwise(s) => {
            unsure.push(format!("the value '{s}' at {}", place(at)));
        }
        Value::Tagged(tagged) => as_kubectl_reads(&mut tagged.value, at, opaque, unsure),
        _ => {}
    }
}

fn place(at: &str) -> &str {
    if at.is_empty() {
        "the top"
    } else {
        at.trim_start_matches('.')
    }
}

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
            // go-yaml reads an implicit key of at most 1024 characters.
            Value::String(s) if s.len() > 1000 => return Err("a mapping key longer than 1,000 characters".into()),
            _ => scalar(out, key)?,
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
        && !yaml11_reads_otherwise(s)
}

fn double_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
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
    fn it_reads_as_kubectl_reads_booleans_and_merge_keys() {
        let text = "clusters:\n- name: c\n  cluster: &c {server: 'https://k', insecure-skip-tls-verify: yes, disable-compression: Off}\n- name: d\n  cluster:\n    <<: *c\n    server: 'https://d'\npreferences: {colors: on}\nusers:\n- name: u\n  user:\n    exec: {command: aws, provideClusterInfo: y, env: [{name: A, value: 'yes'}]}\n";
        let (doc, unsure) = parse(text).unwrap();
        assert!(unsure.is_empty(), "{unsure:?}");
        assert_eq!(doc["clusters"][0]["cluster"]["insecure-skip-tls-verify"], true);
        assert_eq!(doc["clusters"][0]["cluster"]["disable-compression"], false);
        assert_eq!(
            doc["clusters"][1]["cluster"]["server"], "https://d",
            "the explicit key wins"
        );
        assert_eq!(
            doc["clusters"][1]["cluster"]["insecure-skip-tls-verify"], true,
            "merged in"
        );
        assert!(doc["clusters"][1]["cluster"].get("<<").is_none());
        assert_eq!(doc["preferences"]["colors"], true);
        assert_eq!(doc["users"][0]["user"]["exec"]["provideClusterInfo"], true);
        assert_eq!(
            doc["users"][0]["user"]["exec"]["env"][0]["value"], "yes",
            "a string field stays a string"
        );
    }

    #[test]
    fn what_only_quoting_could_tell_is_reported() {
        let text = "clusters:\n- name: c\n  cluster:\n    server: 'https://k'\n    extensions:\n    - name: x\n      extension: {enabled: on, count: 1_000, name: plain}\nusers:\n- name: u\n  user:\n    auth-provider: {name: p, config: {no: x}}\n";
        let (_, unsure) = parse(text).unwrap();
        assert_eq!(unsure.len(), 3, "{unsure:?}");
        assert!(
            unsure
                .iter()
                .any(|u| u.contains("'on'") && u.contains("extension.enabled")),
            "{unsure:?}"
        );
        assert!(unsure.iter().any(|u| u.contains("'1_000'")), "{unsure:?}");
        assert!(unsure.iter().any(|u| u.contains("the key 'no'")), "{unsure:?}");
    }

    #[test]
    fn what_go_yaml_cannot_read_back_is_escaped_or_refused() {
        let doc: Value = serde_norway::from_str("a: x\n").unwrap();
        let mut doc = doc;
        doc["a"] = Value::from("x\u{fffe}y\u{85}z");
        let text = to_yaml(&doc).unwrap();
        assert_eq!(text, "a: \"x\\ufffey\\u0085z\"\n");
        doc["a"] = Value::Null;
        doc[&*"k".repeat(1001)] = Value::from(1);
        assert!(to_yaml(&doc).unwrap_err().contains("longer than"));
    }

    #[test]
    fn a_tag_is_refused_not_dropped() {
        let doc: Value = serde_norway::from_str("a: !custom x\n").unwrap();
        assert!(to_yaml(&doc).unwrap_err().contains("tag"));
    }
}

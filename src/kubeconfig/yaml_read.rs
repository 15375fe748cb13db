//! Reading a kubeconfig as kubectl reads it.
//!
//! kubectl reads YAML 1.1 (go-yaml v2, through sigs.k8s.io/yaml), where the plain
//! scalars `off`, `yes`, `y`, `n`, `on` are booleans, `1_000` is a number and `<<`
//! merges mappings in; serde_norway reads YAML 1.2, where all of those are strings, and
//! it neither applies merges as go-yaml does nor says whether a scalar was quoted. So
//! [`parse`] makes the document what kubectl read:
//!
//! - merge keys resolved by go-yaml v2's rules: in order, a merge overwriting the keys
//!   before it and the keys after it overwriting the merge, merges within merged
//!   mappings resolved too, and of a list of mappings the first winning;
//! - a string that YAML 1.1 reads otherwise, written without quotes in the file, made
//!   what kubectl made of it (`insecure-skip-tls-verify: yes` is `true`; a key `on:` is
//!   `"true"`, as sigs.k8s.io/yaml turns it into JSON). serde_norway does not report
//!   quoting, so the file's text is looked at: a word that appears only quoted is a
//!   string, one that appears only unquoted is what YAML 1.1 makes of it. One that
//!   appears both ways is a string in kubectl's string fields (unquoted, kubectl would
//!   have refused the file), but in a boolean field, a key or an opaque `extensions`
//!   value it is a place [`parse`] cannot be sure of; `setup` refuses such a file
//!   rather than guess. A `"<<"` key (a merge key only unquoted) is one too.

use serde_norway::{Mapping, Number, Value};

/// kubectl's boolean fields, by key: `clusters[].cluster`'s two, `users[].user.exec`'s
/// `provideClusterInfo`, and `preferences.colors`.
const BOOLEAN_FIELDS: &str = "insecure-skip-tls-verify disable-compression provideClusterInfo colors";

/// The plain words YAML 1.1 reads as booleans and YAML 1.2 as strings. (Word lists are
/// one string each: every `&str` in a static table costs every run, hits included, a
/// load-time relocation.)
const YAML11_TRUE: &str = "y Y yes Yes YES on On ON";
const YAML11_FALSE: &str = "n N no No NO off Off OFF";

/// What kubectl's YAML 1.1 makes of `s` written plain, where YAML 1.2 reads a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Yaml11 {
    Bool(bool),
    /// `1_000`: go-yaml v2 drops the underscores.
    Int(i64),
}

pub fn yaml11_reading(s: &str) -> Option<Yaml11> {
    if YAML11_TRUE.split(' ').any(|w| w == s) {
        return Some(Yaml11::Bool(true));
    }
    if YAML11_FALSE.split(' ').any(|w| w == s) {
        return Some(Yaml11::Bool(false));
    }
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    if s.contains('_') && unsigned.starts_with(|c: char| c.is_ascii_digit()) {
        let digits: String = s.chars().filter(|c| *c != '_').collect();
        if let Ok(n) = digits.parse::<i64>() {
            return Some(Yaml11::Int(n));
        }
    }
    None
}

/// A document as kubectl reads it, and the places whose reading depends on quoting the
/// text does not settle.
pub fn parse(text: &str) -> Result<(Value, Vec<String>), String> {
    // A byte-order mark (Notepad's UTF-8) is no content, to kubectl either.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let raw: Value = serde_norway::from_str(text).map_err(|e| format!("not YAML ({e})"))?;
    let mut unsure = Vec::new();
    let written = Written::new(text);
    if written.has("<<").1 {
        unsure.push("a quoted '<<' key, which is a merge key to kubectl only unquoted".to_string());
    }
    let mut doc = resolve_merges(raw)?;
    as_kubectl_reads(&mut doc, "", false, &written, &mut unsure);
    Ok((doc, unsure))
}

/// Merge keys resolved as go-yaml v2 resolves them (see the file's comment).
fn resolve_merges(value: Value) -> Result<Value, String> {
    let merged_in = |out: &mut Mapping, merged: Value| match merged {
        Value::Mapping(map) => {
            for (k, v) in map {
                out.insert(k, v);
            }
            Ok(())
        }
        _ => Err("not a document kubectl reads (a merge key whose value is not a mapping)".to_string()),
    };
    match value {
        Value::Mapping(map) => {
            let mut out = Mapping::new();
            for (key, value) in map {
                if key.as_str() != Some("<<") {
                    out.insert(key, resolve_merges(value)?);
                    continue;
                }
                match resolve_merges(value)? {
                    // Applied last to first: the first of the list wins.
                    Value::Sequence(list) => {
                        for item in list.into_iter().rev() {
                            merged_in(&mut out, item)?;
                        }
                    }
                    other => merged_in(&mut out, other)?,
                }
            }
            Ok(Value::Mapping(out))
        }
        Value::Sequence(items) => items
            .into_iter()
            .map(resolve_merges)
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Sequence),
        Value::Tagged(mut tagged) => {
            tagged.value = resolve_merges(tagged.value)?;
            Ok(Value::Tagged(tagged))
        }
        scalar => Ok(scalar),
    }
}

/// Where a string stands, for a word written both quoted and unquoted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    /// A kubectl string field, or one it ignores: a string.
    Text,
    /// A key, a boolean field, an `extensions` value: only the quoting could tell.
    Either,
}

fn as_kubectl_reads(value: &mut Value, at: &str, opaque: bool, written: &Written, unsure: &mut Vec<String>) {
    match value {
        Value::Mapping(map) => {
            let old = std::mem::take(map);
            for (mut key, mut value) in old {
                let name = key.as_str().unwrap_or_default().to_string();
                let here = format!("{at}.{name}");
                let what = format!("the key '{name}' at {}", place(at));
                if let Some(read) = kubectls(&name, Field::Either, written, &what, unsure) {
                    // sigs.k8s.io/yaml makes a non-string key its text in JSON.
                    key = Value::String(match read {
                        Yaml11::Bool(b) => b.to_string(),
                        Yaml11::Int(n) => n.to_string(),
                    });
                }
                let opaque = opaque || name.starts_with("extension");
                if let Value::String(s) = &value
                    && !opaque
                    && BOOLEAN_FIELDS.split(' ').any(|field| field == name)
                {
                    let what = format!("the value '{s}' at {}", place(&here));
                    if let Some(Yaml11::Bool(b)) = kubectls(s, Field::Either, written, &what, unsure) {
                        value = Value::Bool(b);
                    }
                } else {
                    as_kubectl_reads(&mut value, &here, opaque, written, unsure);
                }
                map.insert(key, value);
            }
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                as_kubectl_reads(item, &format!("{at}[{i}]"), opaque, written, unsure);
            }
        }
        Value::String(s) => {
            let what = format!("the value '{s}' at {}", place(at));
            let field = if opaque { Field::Either } else { Field::Text };
            match kubectls(s, field, written, &what, unsure) {
                Some(Yaml11::Bool(b)) => *value = Value::Bool(b),
                Some(Yaml11::Int(n)) => *value = Value::Number(Number::from(n)),
                None => {}
            }
        }
        Value::Tagged(tagged) => as_kubectl_reads(&mut tagged.value, at, opaque, written, unsure),
        _ => {}
    }
}

/// What kubectl read where serde_norway read the string `s`: `None` when a string too.
fn kubectls(s: &str, field: Field, written: &Written, what: &str, unsure: &mut Vec<String>) -> Option<Yaml11> {
    let read = yaml11_reading(s)?;
    match written.has(s) {
        (true, false) => Some(read),
        (true, true) if field == Field::Either => {
            unsure.push(format!(
                "{what}: the file writes '{s}' both quoted and unquoted, and only the quoting says whether kubectl reads a string"
            ));
            None
        }
        // Only quoted (or escaped), or both ways in a string field: a string.
        _ => None,
    }
}

fn place(at: &str) -> &str {
    if at.is_empty() {
        "the top"
    } else {
        at.trim_start_matches('.')
    }
}

/// The file's text, comments taken out, to see how a word is written in it.
struct Written {
    text: String,
}

impl Written {
    fn new(text: &str) -> Written {
        Written {
            text: text.lines().map(without_comment).collect::<Vec<_>>().join("\n"),
        }
    }

    /// Whether `word` appears unquoted, and whether quoted, as a whole token.
    fn has(&self, word: &str) -> (bool, bool) {
        let is_word_char = |c: char| c.is_alphanumeric() || "_-.+<".contains(c);
        let (mut plain, mut quoted) = (false, false);
        for (at, _) in self.text.match_indices(word) {
            let before = self.text[..at].chars().next_back();
            let after = self.text[at + word.len()..].chars().next();
            if before.is_some_and(is_word_char) || after.is_some_and(is_word_char) {
                continue;
            }
            match (before, after) {
                (Some(b @ ('"' | '\'')), Some(a)) if a == b => quoted = true,
                _ => plain = true,
            }
        }
        (plain, quoted)
    }
}

/// A line without its comment: from a `#` at the start or after a space, outside
/// quotes on that line.
fn without_comment(line: &str) -> &str {
    let mut quote = None;
    let mut previous = ' ';
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if previous == ' ' || previous == '\t' => return &line[..i],
            _ => {}
        }
        previous = c;
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquoted_yaml_1_1_words_are_what_kubectl_reads_and_quoted_ones_strings() {
        let text = "clusters:\n- name: c\n  cluster: {server: 'https://k', insecure-skip-tls-verify: yes, disable-compression: Off}  # on\npreferences: {colors: on}\nusers:\n- name: u\n  user:\n    exec: {command: aws, provideClusterInfo: y, env: [{name: A, value: 'no'}, {name: B, value: \"1_000\"}]}\n    auth-provider: {name: p, config: {n: x}}\n";
        let (doc, unsure) = parse(text).unwrap();
        assert!(unsure.is_empty(), "{unsure:?}");
        assert_eq!(doc["clusters"][0]["cluster"]["insecure-skip-tls-verify"], true);
        assert_eq!(doc["clusters"][0]["cluster"]["disable-compression"], false);
        assert_eq!(doc["preferences"]["colors"], true);
        assert_eq!(doc["users"][0]["user"]["exec"]["provideClusterInfo"], true);
        assert_eq!(
            doc["users"][0]["user"]["exec"]["env"][0]["value"], "no",
            "quoted: a string"
        );
        assert_eq!(doc["users"][0]["user"]["exec"]["env"][1]["value"], "1_000");
        assert_eq!(
            doc["users"][0]["user"]["auth-provider"]["config"]["false"], "x",
            "a key as JSON has it"
        );
    }

    #[test]
    fn a_quoted_boolean_word_in_a_boolean_field_stays_a_string() {
        // kubectl refuses this file; setup must not make it turn TLS verification off.
        let (doc, _) = parse("clusters:\n- cluster: {insecure-skip-tls-verify: \"yes\"}\n").unwrap();
        assert_eq!(doc["clusters"][0]["cluster"]["insecure-skip-tls-verify"], "yes");
    }

    #[test]
    fn a_word_written_both_ways_or_a_quoted_merge_key_is_unsure() {
        let text = "clusters:\n- cluster: {insecure-skip-tls-verify: yes, extensions: [{extension: {a: 'yes'}}]}\nusers:\n- user: {exec: {env: [{name: A, value: 'yes'}]}}\n";
        let (doc, unsure) = parse(text).unwrap();
        assert_eq!(unsure.len(), 2, "the boolean field and the extension: {unsure:?}");
        assert!(unsure[0].contains("both quoted and unquoted"), "{unsure:?}");
        assert_eq!(
            doc["users"][0]["user"]["exec"]["env"][0]["value"], "yes",
            "a string field: a string"
        );
        let (_, unsure) = parse("a: &a {x: 1}\nb: {'<<': *a}\n").unwrap();
        assert!(unsure[0].contains("'<<'"), "{unsure:?}");
        // A JSON kubeconfig quotes everything: nothing to be unsure of.
        let (doc, unsure) =
            parse("{\"extensions\": [{\"name\": \"x\", \"extension\": {\"audience\": \"on\"}}]}").unwrap();
        assert!(unsure.is_empty(), "{unsure:?}");
        assert_eq!(doc["extensions"][0]["extension"]["audience"], "on");
    }

    #[test]
    fn merges_resolve_as_go_yaml_resolves_them() {
        let text = "x:\n  base: &base {command: aws, args: [base]}\n  mid: &mid {<<: *base, args: [mid], env: [m]}\n\
            nested: {<<: *mid, env: [e]}\n\
            before: {command: prod, <<: *base}\n\
            after: {<<: *base, command: dev}\n\
            list: {<<: [{a: first}, {a: second, b: second}]}\n";
        let (doc, unsure) = parse(text).unwrap();
        assert!(unsure.is_empty(), "{unsure:?}");
        assert_eq!(doc["nested"]["command"], "aws", "a merge within a merge");
        assert_eq!(doc["nested"]["args"][0], "mid");
        assert_eq!(doc["nested"]["env"][0], "e");
        assert_eq!(doc["before"]["command"], "aws", "a merge overwrites the keys before it");
        assert_eq!(
            doc["after"]["command"], "dev",
            "and the keys after it overwrite the merge"
        );
        assert_eq!(doc["list"]["a"], "first", "of a list, the first wins");
        assert_eq!(doc["list"]["b"], "second");
        assert!(!serde_norway::to_string(&doc).unwrap().contains("<<"));
        assert!(parse("a: {<<: 1}\n").unwrap_err().contains("merge key"));
    }

    #[test]
    fn a_byte_order_mark_is_no_content() {
        let (doc, _) = parse("\u{feff}apiVersion: v1\n").unwrap();
        assert_eq!(doc["apiVersion"], "v1");
    }

    #[test]
    fn comments_do_not_count_as_writing() {
        assert_eq!(without_comment("a: 'x # y' # on"), "a: 'x # y' ");
        assert_eq!(without_comment("# on"), "");
        assert_eq!(without_comment("url: http://h/#frag"), "url: http://h/#frag");
    }
}

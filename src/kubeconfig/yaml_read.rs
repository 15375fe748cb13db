//! Reading a kubeconfig as kubectl reads it.
//!
//! kubectl reads YAML 1.1 (go-yaml v2, through sigs.k8s.io/yaml), where the plain
//! scalars `off`, `yes`, `y`, `n`, `on` are booleans, `1_000`, `017` and `0b101` are
//! numbers and `<<` merges mappings in; serde_norway reads YAML 1.2, where all of those
//! are strings, and it neither applies merges as go-yaml does nor says how a scalar was
//! written. So [`parse`] builds the document from libyaml's events
//! (`yaml_events.rs`), which say each scalar's style and tag, with go-yaml v2's rules:
//!
//! - a scalar written plain and untagged is resolved as go-yaml v2's `resolve` does
//!   (booleans, null, integers in any base with `_` dropped, floats); a quoted, block
//!   (`|`, `>`) or `!!str` scalar is a string;
//! - a key is made a string as sigs.k8s.io/yaml makes it for JSON (`on:` is `"true"`);
//! - merge keys (`<<` plain, or tagged `!!merge`) resolved in order, a merge overwriting
//!   the keys before it and the keys after it overwriting the merge, merges within
//!   merged mappings resolved too, and of a list of mappings the first winning; a quoted
//!   or `!!str` `<<` is an ordinary key, as to go-yaml.
//!
//! What it cannot say for sure kubectl reads the same (another tag, a float or null
//! key, a float that is not finite) is listed as unsure: `setup` refuses such a file
//! rather than guess. A document it will not read at all (two documents, a key twice,
//! an alias to nothing, nesting past [`MAX_DEPTH`]) is an error.

use std::collections::{HashMap, HashSet};

use serde_norway::{Mapping, Number, Value};

use super::yaml_events::{Event, Style, events};

const STR_TAG: &str = "tag:yaml.org,2002:str";
const MERGE_TAG: &str = "tag:yaml.org,2002:merge";
const SEQ_TAG: &str = "tag:yaml.org,2002:seq";
const MAP_TAG: &str = "tag:yaml.org,2002:map";

/// Deeper than any kubeconfig nests; the builder recurses once per level.
pub(super) const MAX_DEPTH: usize = 128;
/// Nodes a document may hold once aliases are expanded ("billion laughs"); below that,
/// go-yaml v2's own limit on the share of nodes that come from aliases applies too.
const MAX_NODES: usize = 1_000_000;

/// go-yaml v2's resolution table, as one string per reading. (Word lists are one string
/// each: every `&str` in a static table costs every run, hits included, a load-time
/// relocation.)
const YAML11_TRUE: &str = "y Y yes Yes YES true True TRUE on On ON";
const YAML11_FALSE: &str = "n N no No NO false False FALSE off Off OFF";
const YAML11_NULL: &str = "~ null Null NULL";
const YAML11_SPECIAL_FLOATS: &str = ".nan .NaN .NAN .inf .Inf .INF +.inf +.Inf +.INF -.inf -.Inf -.INF";

/// What go-yaml v2 makes of a scalar written plain and untagged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Plain {
    Str,
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    /// A float; `.nan` and `.inf` too (kubectl cannot turn those into JSON).
    Float(f64),
}

/// go-yaml v2's `resolve` for an untagged plain scalar.
pub fn plain_reading(s: &str) -> Plain {
    let in_list = |list: &str| list.split(' ').any(|w| w == s);
    if s.is_empty() || in_list(YAML11_NULL) {
        return Plain::Null;
    }
    if in_list(YAML11_TRUE) {
        return Plain::Bool(true);
    }
    if in_list(YAML11_FALSE) {
        return Plain::Bool(false);
    }
    if in_list(YAML11_SPECIAL_FLOATS) {
        return Plain::Float(if s.contains(['n', 'N']) && s.contains(['a', 'A']) {
            f64::NAN
        } else if s.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    match s.as_bytes()[0] {
        // Go's ParseFloat, which takes `_` between digits.
        b'.' if underscores_between_digits(s) => {
            let plain: String = s.chars().filter(|c| *c != '_').collect();
            if go_float(&plain) {
                return plain.parse().map_or(Plain::Str, Plain::Float);
            }
        }
        b'0'..=b'9' | b'+' | b'-' => {
            let plain: String = s.chars().filter(|c| *c != '_').collect();
            if let Some(n) = go_parse_int(&plain) {
                return n;
            }
            if go_float(&plain) {
                return plain.parse().map_or(Plain::Str, Plain::Float);
            }
        }
        _ => {}
    }
    Plain::Str
}

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint`: a sign, then `0x`, `0o`, `0b`
/// (either case) or a leading `0` for octal.
fn go_parse_int(s: &str) -> Option<Plain> {
    let (negative, unsigned) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = unsigned.get(..2).map(str::to_ascii_lowercase);
    let (radix, digits) = match lower.as_deref() {
        Some("0x") => (16, &unsigned[2..]),
        Some("0o") => (8, &unsigned[2..]),
        Some("0b") => (2, &unsigned[2..]),
        _ if unsigned.len() > 1 && unsigned.starts_with('0') => (8, &unsigned[1..]),
        _ => (10, unsigned),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if negative {
        return (magnitude <= i64::MIN.unsigned_abs()).then(|| Plain::Int((magnitude as i64).wrapping_neg()));
    }
    if s.starts_with('+') && magnitude > i64::MAX as u64 {
        // ParseUint takes no sign.
        return None;
    }
    Some(i64::try_from(magnitude).map_or(Plain::Uint(magnitude), Plain::Int))
}

/// Go's `underscoreOK` for a number without a base prefix: each `_` between digits.
fn underscores_between_digits(s: &str) -> bool {
    let b = s.as_bytes();
    (0..b.len())
        .all(|i| b[i] != b'_' || (i > 0 && i + 1 < b.len() && b[i - 1].is_ascii_digit() && b[i + 1].is_ascii_digit()))
}

/// go-yaml v2's float pattern `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn go_float(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    mantissa_ok && exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)))
}

/// A document as kubectl reads it, and the places [`parse`] cannot be sure of.
pub fn parse(text: &str) -> Result<(Value, Vec<String>), String> {
    // A byte-order mark (Notepad's UTF-8) is no content, to kubectl either.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Ok(all) = events(text) else {
        // serde_norway parses with the same libyaml, and says where and why.
        return Err(match serde_norway::from_str::<Value>(text) {
            Err(e) => format!("not YAML ({e})"),
            Ok(_) => "not YAML".to_string(),
        });
    };
    if let Some(why) = all.iter().find_map(|e| match e {
        Event::Scalar { go_yaml_refuses, .. } => *go_yaml_refuses,
        _ => None,
    }) {
        return Err(unreadable(why));
    }
    let mut builder = Builder {
        events: all.into_iter(),
        anchors: HashMap::new(),
        nodes: 0,
        aliased: 0,
        unsure: Vec::new(),
    };
    let doc = builder.document()?;
    Ok((doc, builder.unsure))
}

struct Builder {
    events: std::vec::IntoIter<Event>,
    /// Each anchor's node, and what decoding it costs go-yaml v2: its nodes, an alias
    /// within it counted as the alias and the node it repeats, as go-yaml decodes them.
    anchors: HashMap<String, (Value, usize)>,
    /// Nodes decoded, as go-yaml v2 counts them for its aliasing limit.
    nodes: usize,
    /// Of `nodes`, those an alias repeated.
    aliased: usize,
    unsure: Vec<String>,
}

fn unreadable(what: &str) -> String {
    format!("not a kubeconfig kubecredcache reads ({what})")
}

impl Builder {
    fn document(&mut self) -> Result<Value, String> {
        let doc = match self.events.next() {
            Some(Event::DocumentStart(version)) => {
                if version.is_some_and(|v| v != (1, 1)) {
                    // go-yaml v2: "found incompatible YAML document".
                    return Err(unreadable("a %YAML directive other than 1.1, which kubectl refuses"));
                }
                let doc = self.node("", 0)?;
                match self.events.next() {
                    Some(Event::DocumentEnd) => doc,
                    _ => return Err(unreadable("a document that does not end")),
                }
            }
            // An empty file: an empty configuration.
            Some(Event::StreamEnd) => return Ok(Value::Null),
            _ => return Err(unreadable("no document")),
        };
        match self.events.next() {
            Some(Event::StreamEnd) => Ok(doc),
            _ => Err(unreadable("more than one document")),
        }
    }

    fn node(&mut self, at: &str, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err(unreadable(&format!("nested more than {MAX_DEPTH} deep")));
        }
        let start = self.nodes;
        self.count(1)?;
        let (anchor, value) = match self.events.next() {
            Some(Event::Scalar {
                anchor,
                tag,
                value,
                style,
                ..
            }) => (anchor, self.scalar(tag, value, style, at)),
            Some(Event::Alias(name)) => {
                let (value, cost) = self
                    .anchors
                    .get(&name)
                    .cloned()
                    .ok_or_else(|| unreadable(&format!("the alias *{name} at {}, before its anchor", place(at))))?;
                self.count_aliased(cost)?;
                return Ok(value);
            }
            Some(Event::SequenceStart { anchor, tag }) => {
                self.collection_tag(tag, SEQ_TAG, at);
                let mut items = Vec::new();
                loop {
                    if self.events.as_slice().first() == Some(&Event::SequenceEnd) {
                        self.events.next();
                        break;
                    }
                    let here = format!("{at}[{}]", items.len());
                    items.push(self.node(&here, depth + 1)?);
                }
                (anchor, Value::Sequence(items))
            }
            Some(Event::MappingStart { anchor, tag }) => {
                self.collection_tag(tag, MAP_TAG, at);
                (anchor, Value::Mapping(self.mapping(at, depth)?))
            }
            _ => return Err(unreadable(&format!("an unexpected event at {}", place(at)))),
        };
        if let Some(name) = anchor {
            self.anchors.insert(name, (value.clone(), self.nodes - start));
        }
        Ok(value)
    }

    fn mapping(&mut self, at: &str, depth: usize) -> Result<Mapping, String> {
        let mut out = Mapping::new();
        let mut written = HashSet::new();
        loop {
            let key = match self.events.next() {
                Some(Event::MappingEnd) => return Ok(out),
                Some(Event::Scalar { value, tag, style, .. })
                    if value == "<<" && is_merge_tag(tag.as_deref(), style) =>
                {
                    // go-yaml merges an alias only to a mapping, never to a list of them.
                    let alias = matches!(self.events.as_slice().first(), Some(Event::Alias(_)));
                    let merged = self.node(&format!("{at}.<<"), depth + 1)?;
                    if alias && !merged.is_mapping() {
                        return Err(not_a_mapping(at));
                    }
                    merge(&mut out, merged, at)?;
                    continue;
                }
                Some(Event::Scalar {
                    anchor,
                    tag,
                    value,
                    style,
                    ..
                }) => {
                    self.count(1)?;
                    let key = self.scalar(tag, value, style, at);
                    if let Some(name) = anchor {
                        self.anchors.insert(name, (key.clone(), 1));
                    }
                    key
                }
                Some(Event::Alias(name)) => match self.anchors.get(&name) {
                    Some((key @ (Value::String(_) | Value::Bool(_) | Value::Number(_) | Value::Null), _)) => {
                        let key = key.clone();
                        self.count(1)?;
                        self.count_aliased(1)?;
                        key
                    }
                    Some(_) => return Err(unreadable(&format!("a key that is not a scalar at {}", place(at)))),
                    None => {
                        return Err(unreadable(&format!(
                            "the alias *{name} at {}, before its anchor",
                            place(at)
                        )));
                    }
                },
                _ => return Err(unreadable(&format!("a key that is not a scalar at {}", place(at)))),
            };
            let name = self.key_text(key, at);
            if !written.insert(name.clone()) {
                return Err(unreadable(&format!("the key '{name}' twice at {}", place(at))));
            }
            let value = self.node(&format!("{at}.{name}"), depth + 1)?;
            out.insert(Value::String(name), value);
        }
    }

    /// What kubectl reads a scalar as: resolved by go-yaml v2 when plain and untagged.
    fn scalar(&mut self, tag: Option<String>, value: String, style: Style, at: &str) -> Value {
        match (tag.as_deref(), style) {
            (None, Style::Plain) => match plain_reading(&value) {
                Plain::Str => Value::String(value),
                Plain::Null => Value::Null,
                Plain::Bool(b) => Value::Bool(b),
                Plain::Int(n) => Value::Number(Number::from(n)),
                Plain::Uint(n) => Value::Number(Number::from(n)),
                Plain::Float(f) if f.is_finite() => Value::Number(Number::from(f)),
                Plain::Float(_) => {
                    self.unsure.push(format!(
                        "the value '{value}' at {}: a float JSON cannot hold",
                        place(at)
                    ));
                    Value::String(value)
                }
            },
            (None, Style::Written) => Value::String(value),
            (Some(STR_TAG), _) => Value::String(value),
            (Some(tag), _) => {
                self.unsure.push(format!(
                    "the value '{value}' at {}: the tag {tag}, which kubecredcache does not read as kubectl might",
                    place(at)
                ));
                Value::String(value)
            }
        }
    }

    /// A key as sigs.k8s.io/yaml makes it for JSON.
    fn key_text(&mut self, key: Value, at: &str) -> String {
        match key {
            Value::String(s) => s,
            Value::Bool(b) => b.to_string(),
            Value::Number(n) if n.is_i64() => n.to_string(),
            other => {
                let text = serde_norway::to_string(&other)
                    .unwrap_or_default()
                    .trim_end()
                    .to_string();
                self.unsure.push(format!(
                    "the key '{text}' at {}: kubectl makes no string of it as kubecredcache would",
                    place(at)
                ));
                text
            }
        }
    }

    fn collection_tag(&mut self, tag: Option<String>, own: &str, at: &str) {
        if let Some(tag) = tag.filter(|t| t != own) {
            self.unsure.push(format!(
                "the tag {tag} at {}, which kubecredcache does not read as kubectl might",
                place(at)
            ));
        }
    }

    fn count_aliased(&mut self, nodes: usize) -> Result<(), String> {
        self.aliased += nodes;
        self.count(nodes)
    }

    fn count(&mut self, nodes: usize) -> Result<(), String> {
        self.nodes += nodes;
        if self.aliased > 100
            && self.nodes > 1000
            && self.aliased as f64 / self.nodes as f64 > allowed_alias_ratio(self.nodes)
        {
            // As go-yaml v2 refuses it: kubectl does not read this document.
            return Err(unreadable("more of it repeated by aliases than go-yaml v2 allows"));
        }
        if self.nodes > MAX_NODES {
            return Err(unreadable(&format!(
                "more than {MAX_NODES} nodes once its aliases are expanded"
            )));
        }
        Ok(())
    }
}

/// go-yaml v2's `isMerge`: `<<` plain and untagged, or tagged `!!merge`.
pub(super) fn is_merge_tag(tag: Option<&str>, style: Style) -> bool {
    match tag {
        None => style == Style::Plain,
        Some(tag) => tag == MERGE_TAG,
    }
}

/// go-yaml v2's `allowedAliasRatio`: the share of a document's nodes that may come from
/// aliases, 99% up to 400,000 nodes, falling to 10% at 4,000,000.
fn allowed_alias_ratio(nodes: usize) -> f64 {
    const LOW: usize = 400_000;
    const HIGH: usize = 4_000_000;
    match nodes {
        ..=LOW => 0.99,
        HIGH.. => 0.10,
        n => 0.99 - 0.89 * ((n - LOW) as f64 / (HIGH - LOW) as f64),
    }
}

fn not_a_mapping(at: &str) -> String {
    unreadable(&format!("a merge key at {} whose value is not a mapping", place(at)))
}

/// A merge applied as go-yaml v2 applies it (see the file's comment).
fn merge(out: &mut Mapping, merged: Value, at: &str) -> Result<(), String> {
    let not_a_mapping = || not_a_mapping(at);
    let mappings = match merged {
        Value::Mapping(map) => vec![map],
        // Applied last to first: the first of the list wins.
        Value::Sequence(list) => list
            .into_iter()
            .rev()
            .map(|item| match item {
                Value::Mapping(map) => Ok(map),
                _ => Err(not_a_mapping()),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(not_a_mapping()),
    };
    for map in mappings {
        for (k, v) in map {
            out.insert(k, v);
        }
    }
    Ok(())
}

fn place(at: &str) -> &str {
    if at.is_empty() {
        "the top"
    } else {
        at.trim_start_matches('.')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_yaml_1_1_words_are_what_kubectl_reads_and_written_ones_strings() {
        let text = "clusters:\n- name: c\n  cluster: {server: 'https://k', insecure-skip-tls-verify: yes, disable-compression: Off}  # on\npreferences: {colors: on}\nusers:\n- name: u\n  user:\n    exec:\n      command: aws\n      provideClusterInfo: y\n      env:\n      - {name: A, value: 'no'}\n      - {name: B, value: \"1_000\"}\n      - {name: C, value: !!str on}\n      - name: D\n        value: >-\n          on\n      - {name: E, value: on}\n    auth-provider: {name: p, config: {n: x}}\n";
        let (doc, unsure) = parse(text).unwrap();
        assert!(unsure.is_empty(), "{unsure:?}");
        assert_eq!(doc["clusters"][0]["cluster"]["insecure-skip-tls-verify"], true);
        assert_eq!(doc["clusters"][0]["cluster"]["disable-compression"], false);
        assert_eq!(doc["preferences"]["colors"], true);
        let exec = &doc["users"][0]["user"]["exec"];
        assert_eq!(exec["provideClusterInfo"], true);
        assert_eq!(exec["env"][0]["value"], "no", "quoted: a string");
        assert_eq!(exec["env"][1]["value"], "1_000");
        assert_eq!(exec["env"][2]["value"], "on", "tagged !!str: a string");
        assert_eq!(exec["env"][3]["value"], "on", "a block scalar: a string");
        assert_eq!(
            exec["env"][4]["value"], true,
            "plain in a string field: what kubectl refuses"
        );
        assert_eq!(
            doc["users"][0]["user"]["auth-provider"]["config"]["false"], "x",
            "a key as JSON has it"
        );
    }

    #[test]
    fn a_written_boolean_word_in_a_boolean_field_stays_a_string() {
        // kubectl refuses these files; setup must not make them turn TLS verification off.
        for value in ["\"yes\"", "'yes'", "!!str yes", "\"y\\x65s\"", "|-\n      yes"] {
            let text =
                format!("preferences: {{colors: yes}}\nclusters:\n- cluster:\n    insecure-skip-tls-verify: {value}\n");
            let (doc, unsure) = parse(&text).unwrap();
            assert!(unsure.is_empty(), "{value}: {unsure:?}");
            assert_eq!(
                doc["clusters"][0]["cluster"]["insecure-skip-tls-verify"], "yes",
                "{value}"
            );
        }
    }

    #[test]
    fn numbers_are_go_yaml_v2_s() {
        let cases: &[(&str, Plain)] = &[
            ("1_000", Plain::Int(1000)),
            ("017", Plain::Int(15)),
            ("0o17", Plain::Int(15)),
            ("0O17", Plain::Int(15)),
            ("0x_1F", Plain::Int(31)),
            ("-0b101", Plain::Int(-5)),
            ("0B101", Plain::Int(5)),
            ("+7", Plain::Int(7)),
            ("08", Plain::Float(8.0)),
            ("1_0.5", Plain::Float(10.5)),
            ("1.", Plain::Float(1.0)),
            ("-.5e3", Plain::Float(-500.0)),
            (".5", Plain::Float(0.5)),
            ("18446744073709551615", Plain::Uint(u64::MAX)),
            ("-9223372036854775808", Plain::Int(i64::MIN)),
            ("+18446744073709551615", Plain::Float(18446744073709551615.0)),
            ("2024-05-01", Plain::Str),
            ("1.2.3", Plain::Str),
            ("0x", Plain::Str),
            ("-", Plain::Str),
            ("+inf", Plain::Str),
            ("e5", Plain::Str),
            ("", Plain::Null),
            ("~", Plain::Null),
            ("True", Plain::Bool(true)),
            ("nO", Plain::Str),
        ];
        for (text, want) in cases {
            assert_eq!(plain_reading(text), *want, "{text}");
        }
        assert!(matches!(plain_reading(".NaN"), Plain::Float(f) if f.is_nan()));
        assert_eq!(plain_reading("-.inf"), Plain::Float(f64::NEG_INFINITY));
        let (doc, _) = parse("extensions: [{extension: {a: 017, b: 1_000.5, c: '017'}}]\n").unwrap();
        assert_eq!(doc["extensions"][0]["extension"]["a"], 15);
        assert_eq!(doc["extensions"][0]["extension"]["b"], 1000.5);
        assert_eq!(doc["extensions"][0]["extension"]["c"], "017");
    }

    #[test]
    fn what_cannot_be_read_for_sure_is_unsure() {
        let (_, unsure) = parse("a: !custom x\nb: .inf\nc: {1.5: x}\n").unwrap();
        assert_eq!(unsure.len(), 3, "{unsure:?}");
        assert!(unsure[0].contains("!custom"), "{unsure:?}");
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
            list: {<<: [{a: first}, {a: second, b: second}]}\n\
            tagged: {!!merge '<<': *base}\n";
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
        assert_eq!(doc["tagged"]["command"], "aws", "!!merge merges whatever the quoting");
        assert!(!serde_norway::to_string(&doc).unwrap().contains("<<"));
        assert!(parse("a: {<<: 1}\n").unwrap_err().contains("merge key"));
    }

    #[test]
    fn a_quoted_or_str_tagged_merge_key_is_an_ordinary_key() {
        for key in ["'<<'", "\"<<\"", "!!str <<"] {
            let text = format!("a: &a {{env: [x]}}\nb: {{{key}: *a, command: aws}}\n");
            let (doc, _) = parse(&text).unwrap();
            assert_eq!(doc["b"]["<<"]["env"][0], "x", "{key}");
            assert!(doc["b"].get("env").is_none(), "{key}: merged");
        }
    }

    #[test]
    fn documents_kubecredcache_will_not_read() {
        assert!(
            parse("a: 1\n---\nb: 2\n")
                .unwrap_err()
                .contains("more than one document")
        );
        assert!(parse("a: 1\na: 2\n").unwrap_err().contains("'a' twice"));
        assert!(parse("on: 1\ntrue: 2\n").unwrap_err().contains("'true' twice"));
        assert!(parse("a: *nothing\n").unwrap_err().contains("before its anchor"));
        assert!(parse("a: [1\n").unwrap_err().starts_with("not YAML ("));
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(parse(&deep).unwrap_err().contains("deep"));
        let mut laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n".to_string();
        for i in 0..7 {
            laughs += &format!(
                "{}: &{} [*{}, *{}, *{}, *{}, *{}, *{}, *{}, *{}, *{}, *{}]\n",
                (b'b' + i) as char,
                (b'b' + i) as char,
                (b'a' + i) as char,
                (b'a' + i) as char,
                (b'a' + i) as char,
                (b'a' + i) as char,
                (b'a' + i) as char,
                (b'a' + i) as char,
                (b'a' + i) as char,
                (b'a' + i) as char,
                (b'a' + i) as char,
                (b'a' + i) as char
            );
        }
        assert!(parse(&laughs).unwrap_err().contains("aliases"));
        assert_eq!(parse("").unwrap().0, Value::Null);
    }

    #[test]
    fn documents_kubectl_refuses_are_not_read_either() {
        // Each of these, kubectl 1.32 refuses ("map merge requires map or sequence of
        // maps", "found incompatible YAML document", "found unknown escape character",
        // "excessive aliasing"); read, setup would write a file kubectl reads otherwise.
        let refused = [
            "x: &x [{env: [1]}]\nu: {<<: *x, command: aws}\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: \"x\\/y\"\n",
            &format!("a: &a [{}]\nb: [{}]\n", ["x"; 1000].join(", "), ["*a"; 200].join(", ")),
        ];
        for text in refused {
            assert!(parse(text).is_err(), "{}", &text[..text.len().min(60)]);
        }
        assert!(parse("%YAML 1.1\n---\na: 1\n").is_ok());
        // go-yaml counts an alias within an anchor each time the anchor is repeated:
        // kubectl refuses the first, and reads the second (its keys count too).
        let nested = format!(
            "a: &a [x]\nb: &b [{}]\nc: [{}]\n",
            ["*a"; 40].join(", "),
            ["*b"; 500].join(", ")
        );
        assert!(parse(&nested).unwrap_err().contains("aliases"));
        let keys = |prefix: &str, n: usize| (0..n).map(|i| format!("{prefix}{i}: v")).collect::<Vec<_>>().join(", ");
        let near = format!(
            "a: &a {{{}}}\np: {{{}}}\nc: [{}]\n",
            keys("k", 99),
            keys("p", 1500),
            ["*a"; 1900].join(", ")
        );
        assert!(parse(&near).is_ok());
        assert!(
            parse("x: {<<: [{a: 1}], b: 2}\n").is_ok(),
            "a list written in place merges"
        );
        // A key that is an alias to a large list: refused, not copied into a message.
        let mut bomb =
            "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc:\n".to_string();
        for _ in 0..2000 {
            bomb += "- {*b: 1}\n";
        }
        assert!(parse(&bomb).unwrap_err().contains("not a scalar"));
        assert_eq!(
            plain_reading(".5_0"),
            Plain::Float(0.5),
            "Go's ParseFloat takes _ between digits"
        );
        assert_eq!(plain_reading(".5__0"), Plain::Str);
        assert_eq!(plain_reading("._5"), Plain::Str);
    }

    #[test]
    fn a_byte_order_mark_is_no_content() {
        let (doc, _) = parse("\u{feff}apiVersion: v1\n").unwrap();
        assert_eq!(doc["apiVersion"], "v1");
    }
}

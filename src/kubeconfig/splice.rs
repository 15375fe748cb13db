//! `setup`'s and `unsetup`'s edit of a kubeconfig: the new `command`, `args` and
//! `apiVersion` of each exec entry they change are written where the old ones stand,
//! and every other byte is left as it was (comments, order, quoting, line ends, a
//! byte-order mark). libyaml's events say where each value stands.
//!
//! An entry reached through an anchor, an alias, a merge key or a tag is refused: an
//! edit there would change other places too, or not the one kubectl reads. The edited
//! text is read back as kubectl reads it (`yaml_read`) and must be exactly the document
//! meant, or nothing is written.

use std::fmt::Write;
use std::ops::Range;

use serde_norway::Value;

use super::yaml_events::{Event, Spanned, spanned_events};
use super::yaml_read::{MAX_DEPTH, Plain, is_merge_tag, parse, plain_reading};

/// A node of the document as written: where it stands and what it holds.
struct Node {
    span: Range<usize>,
    /// Why an edit of it would not stay in this one place: an anchor, a tag, an alias.
    shared: Option<&'static str>,
    kind: Kind,
}

enum Kind {
    /// A scalar or an alias: nothing within to edit.
    Leaf,
    Sequence(Vec<Node>),
    /// Its keys' names, keys and values, and whether a merge key is among them.
    Mapping(Vec<(String, Node, Node)>, bool),
}

/// One replacement of a byte range of the text.
type Edit = (Range<usize>, String);

/// `text` with the exec entries that differ between `before` (the document `text` is)
/// and `after` given `after`'s `command`, `args` and `apiVersion`, in place.
pub fn splice(text: &str, before: &Value, after: &Value) -> Result<String, String> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let bom = &text[..text.len() - body.len()];
    let root = tree(body)?;
    let mut edits = Vec::new();
    let users = |doc: &Value| doc["users"].as_sequence().cloned().unwrap_or_default();
    for (index, (old, new)) in users(before).iter().zip(users(after)).enumerate() {
        let (old, new) = (&old["user"]["exec"], &new["user"]["exec"]);
        if old != new {
            let name = after["users"][index]["name"].as_str().unwrap_or_default();
            let found = edit_exec(body, &root, index, old, new);
            edits.extend(found.map_err(|why| format!("user '{}': {why}", name.escape_debug()))?);
        }
    }
    // The last first: each range stays where it was found.
    edits.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
    let mut new = body.to_string();
    for (range, with) in edits {
        new.replace_range(range, &with);
    }
    new.insert_str(0, bom);
    match parse(&new) {
        Ok((doc, unsure)) if unsure.is_empty() && doc == *after => Ok(new),
        _ => Err(
            "the edited file would not read as meant (a kubecredcache bug: please report it with the file's layout)"
                .into(),
        ),
    }
}

/// The document as written, from libyaml's events. `parse` has read the text already,
/// as one document: libyaml reads it too, and its first event starts that document.
fn tree(text: &str) -> Result<Node, String> {
    let mut events = spanned_events(text).unwrap_or_default().into_iter().peekable();
    events.next();
    node(&mut events, 0)
}

type Events = std::iter::Peekable<std::vec::IntoIter<Spanned>>;

fn node(events: &mut Events, depth: usize) -> Result<Node, String> {
    let unexpected = || "an unexpected YAML event".to_string();
    let Some(Spanned { event, span }) = events.next().filter(|_| depth <= MAX_DEPTH) else {
        return Err(unexpected());
    };
    let shared = |anchor: Option<String>, tag: Option<String>| (anchor.map(|_| "an anchor")).or(tag.map(|_| "a tag"));
    let (shared, kind) = match event {
        Event::Scalar { anchor, tag, .. } => (shared(anchor, tag), Kind::Leaf),
        Event::Alias(_) => (Some("an alias"), Kind::Leaf),
        Event::SequenceStart { anchor, tag } => {
            let mut items = Vec::new();
            while !matches!(events.peek().map(|s| &s.event), Some(Event::SequenceEnd) | None) {
                items.push(node(events, depth + 1)?);
            }
            (shared(anchor, tag), Kind::Sequence(items))
        }
        Event::MappingStart { anchor, tag } => {
            let (mut pairs, mut merges) = (Vec::new(), false);
            loop {
                let name = match events.peek().map(|s| &s.event) {
                    Some(Event::MappingEnd) | None => break,
                    Some(Event::Scalar { value, tag, style, .. }) => {
                        merges |= value == "<<" && is_merge_tag(tag.as_deref(), *style);
                        value.clone()
                    }
                    // An alias as a key: no name setup looks for.
                    Some(_) => String::new(),
                };
                let key = node(events, depth + 1)?;
                pairs.push((name, key, node(events, depth + 1)?));
            }
            (shared(anchor, tag), Kind::Mapping(pairs, merges))
        }
        _ => return Err(unexpected()),
    };
    let end = match kind {
        Kind::Leaf => span.end,
        _ => events.next().ok_or_else(unexpected)?.span.end,
    };
    let span = span.start..end;
    Ok(Node { span, shared, kind })
}

/// The key and value of `name` in the mapping `map` at `place`, if it is written there,
/// or what stands in the way of an edit of it in place.
fn pair<'n>(map: &'n Node, name: &str, place: &str) -> Result<Option<(&'n Node, &'n Node)>, String> {
    let within = if place.is_empty() { "the top level" } else { place };
    let place = format!("{place}.{name}");
    let place = place.trim_start_matches('.');
    match &map.kind {
        Kind::Mapping(_, true) => Err(through(&format!("a merge key (<<) in {within}"))),
        Kind::Mapping(pairs, false) => match pairs.iter().find(|(n, _, _)| n == name) {
            Some((_, key, value)) => {
                check(key, place).and(check(value, place))?;
                Ok(Some((key, value)))
            }
            None => Ok(None),
        },
        _ => Err(format!("{place} is not in a mapping; edit it by hand")),
    }
}

fn check(node: &Node, place: &str) -> Result<(), String> {
    node.shared
        .map_or(Ok(()), |what| Err(through(&format!("{what} at {place}"))))
}

fn through(why: &str) -> String {
    format!(
        "its exec entry is reached through {why}, and an edit there would change another place too, or not the one kubectl reads; write the entry out in full without it, or edit it by hand"
    )
}

/// The exec mapping of the `index`th user and its place, if written where kubectl reads
/// it, with nothing shared on the way.
fn exec_of(root: &Node, index: usize) -> Result<(&Node, String), String> {
    let missing = || "its exec entry is not written where kubectl reads it; edit it by hand".to_string();
    let users = pair(root, "users", "")?.ok_or_else(missing)?.1;
    let Kind::Sequence(items) = &users.kind else {
        return Err(missing());
    };
    let place = format!("users[{index}]");
    let item = items.get(index).ok_or_else(missing)?;
    check(item, &place)?;
    let user = pair(item, "user", &place)?.ok_or_else(missing)?.1;
    let exec = pair(user, "exec", &format!("{place}.user"))?.ok_or_else(missing)?.1;
    Ok((exec, format!("{place}.user.exec")))
}

/// The edits that give the exec mapping of the `index`th user (written in `text`, now
/// `old`) `new`'s command, args and apiVersion.
fn edit_exec(text: &str, root: &Node, index: usize, old: &Value, new: &Value) -> Result<Vec<Edit>, String> {
    let (exec, place) = exec_of(root, index)?;
    // An entry written as JSON (a kubeconfig a tool wrote as JSON) stays JSON.
    let json = text[exec.span.start..].starts_with('{')
        && matches!(&exec.kind, Kind::Mapping(pairs, _) if pairs.first().is_some_and(|(_, key, _)| text[key.span.start..].starts_with('"')));
    let written = |s: &str| if json { quoted(s) } else { written(s) };
    let mut edits = Vec::new();
    for key in ["command", "apiVersion"] {
        let found = pair(exec, key, &place)?;
        if old.get(key) != new.get(key) {
            let (Some((_, value)), Some(new)) = (found, new.get(key).and_then(Value::as_str)) else {
                return Err(format!("its {key} is not a string written in place; edit it by hand"));
            };
            edits.push((value.span.start..scalar_end(text, value), written(new)));
        }
    }
    if old.get("args") != new.get("args") {
        let args = new.get("args").and_then(Value::as_sequence).into_iter().flatten();
        let args: Vec<String> = args.filter_map(Value::as_str).map(written).collect();
        let args_key = if json { "\"args\"" } else { "args" };
        let flow = format!("[{}]", args.join(", "));
        edits.push(match pair(exec, "args", &place)? {
            Some((key, value)) => args_edit(text, key, value, &args, flow, &place, same_last(old, new))?,
            None => {
                let (key, command) = pair(exec, "command", &place)?.ok_or("it has no command; edit it by hand")?;
                args_added(text, exec, key, command, &format!("{args_key}: {flow}"))
            }
        });
    }
    Ok(edits)
}

/// How many of the last args `old` and `new` have in common: a block list keeps those
/// as written, and the comments among them.
fn same_last(old: &Value, new: &Value) -> usize {
    let args = |exec: &Value| {
        exec.get("args")
            .and_then(Value::as_sequence)
            .cloned()
            .unwrap_or_default()
    };
    let (old, new) = (args(old), args(new));
    old.iter()
        .rev()
        .zip(new.iter().rev())
        .take_while(|(a, b)| a == b)
        .count()
}

/// The edit that makes `args` (written) the value of the args key `key`, now `value`:
/// a block list stays one, its last `kept` items as they are written and the new ones
/// where the first stood; else a flow list.
fn args_edit(
    text: &str,
    key: &Node,
    value: &Node,
    args: &[String],
    flow: String,
    place: &str,
    kept: usize,
) -> Result<Edit, String> {
    let colon = key.span.end + text[key.span.end..].find(':').map_or(0, |i| i + 1);
    let Kind::Sequence(items) = &value.kind else {
        // `args:` with nothing after it, `~` or `null`.
        return Ok(match value.span.is_empty() {
            true => (colon..colon, format!(" {flow}")),
            false => (value.span.clone(), flow),
        });
    };
    for (i, item) in items.iter().enumerate() {
        check(item, &format!("{place}.args[{i}]"))?;
    }
    if text[value.span.start..].starts_with('[') {
        return Ok((value.span.clone(), flow));
    }
    let end = items.last().map_or(value.span.end, |last| scalar_end(text, last));
    if args.is_empty() {
        // After the colon: a flow list may not stand at the key's own column, where a
        // block list's `- ` may.
        return Ok((colon..end, " []".into()));
    }
    let start = value.span.start;
    let between = format!("{}{}- ", line_end(text, start).1, " ".repeat(column(text, start)));
    // Up to the `- ` of the first item kept, if nothing but space stands between them.
    let first_kept = items.len().checked_sub(kept).and_then(|i| items.get(i));
    if let Some(dash) = first_kept.and_then(|item| dash_of(text, item)) {
        let new = &args[..args.len() - kept];
        return Ok((
            start..dash,
            new.iter()
                .map(|arg| format!("- {arg}{}", &between[..between.len() - 2]))
                .collect(),
        ));
    }
    Ok((start..end, format!("- {}", args.join(&between))))
}

/// Where the `-` of the block list item `item` stands.
fn dash_of(text: &str, item: &Node) -> Option<usize> {
    let before = text[..item.span.start].trim_end_matches(|c| c == ' ' || c == '\t' || BREAKS.contains(&c));
    before.ends_with('-').then(|| before.len() - 1)
}

/// YAML 1.1's line breaks, go-yaml's as libyaml's: a lone `\r` (old Mac files), NEL,
/// and the Unicode line and paragraph separators end a line as `\n` does.
const BREAKS: [char; 5] = ['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}'];

/// Where the line `at` stands on ends, and the line break that ends it (`\r\n` one
/// break; at the end of the file, its first break, or `\n`).
fn line_end(text: &str, at: usize) -> (usize, &str) {
    let break_at = |i: usize| {
        let rest = &text[i..];
        let len = if rest.starts_with("\r\n") {
            2
        } else {
            rest.chars().next().map_or(0, char::len_utf8)
        };
        &rest[..len]
    };
    match text[at..].find(BREAKS) {
        Some(i) => (at + i, break_at(at + i)),
        None => (text.len(), text.find(BREAKS).map_or("\n", break_at)),
    }
}

/// The edit that adds `args` (`args: [...]`) after the command (`key: value`) of `exec`:
/// a new line at the command key's column, or `, args: [...]` in a `{...}` mapping.
fn args_added(text: &str, exec: &Node, key: &Node, value: &Node, args: &str) -> Edit {
    let end = scalar_end(text, value);
    if text[exec.span.start..].starts_with('{') {
        return (end..end, format!(", {args}"));
    }
    // After what else stands on the command's line (a comment stays with it).
    let (at, newline) = line_end(text, end);
    let indent = " ".repeat(column(text, key.span.start));
    (at..at, format!("{newline}{indent}{args}"))
}

/// Where a scalar's own text ends: a block scalar's (`|`, `>`) span takes in the line
/// breaks after it, which stay.
fn scalar_end(text: &str, node: &Node) -> usize {
    let Range { start, end } = node.span;
    if !text[start..].starts_with(['|', '>']) {
        return end;
    }
    let own = text[start + 1..end].trim_end_matches(|c| c == ' ' || c == '\t' || BREAKS.contains(&c));
    start + 1 + own.len()
}

/// The column of `at`, in characters, as libyaml counts it.
fn column(text: &str, at: usize) -> usize {
    let line = text[..at]
        .rfind(BREAKS)
        .map_or(0, |i| i + text[i..].chars().next().map_or(0, char::len_utf8));
    text[line..at].chars().count()
}

/// `s` as a scalar kubectl's YAML 1.1 reads as that string, in block and in flow
/// context: plain when it is a word no YAML version reads otherwise (a command, a path,
/// a flag), as kubectl writes them; else double-quoted.
fn written(s: &str) -> String {
    if plain_everywhere(s) {
        return s.to_string();
    }
    quoted(s)
}

/// `s` double-quoted, which YAML 1.1 and JSON both read as that string.
fn quoted(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            // A line break too, read as a space if written as it is.
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // YAML's printable characters but those YAML 1.1 takes for line breaks
            // (U+0085, U+2028, U+2029) and the byte-order mark; the rest escaped.
            ' '..='~' | '\u{a0}'..='\u{2027}' | '\u{202a}'..='\u{fefe}' | '\u{ff00}'..='\u{fffd}' | '\u{10000}'.. => {
                out.push(c)
            }
            c => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// A letter, `_` or `/` first, after at most two dashes of a flag (no number, sign,
/// `.inf`, indicator or timestamp starts so), then only characters that are YAML
/// syntax nowhere (no `:`, `?`, `#`, `,`, space), and not a YAML 1.1 word.
fn plain_everywhere(s: &str) -> bool {
    let word = s.trim_start_matches('-');
    let mut chars = word.chars();
    s.len() - word.len() <= 2
        && chars
            .next()
            .is_some_and(|first| first.is_ascii_alphabetic() || (word.len() == s.len() && "_/".contains(first)))
        && chars.all(|c| c.is_ascii_alphanumeric() || "_./+=@-".contains(c))
        && plain_reading(s) == Plain::Str
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubeconfig::{Direction, Wrapper, rewrite};
    use std::path::Path;

    fn wrapped(text: &str, direction: Direction) -> Result<String, String> {
        let (before, _) = parse(text).unwrap();
        let mut after = before.clone();
        let wrapper = Wrapper {
            command: "kubecredcache".into(),
            this_binary: None,
        };
        rewrite(&mut after, direction, &[], &wrapper, Path::new("/k/config")).unwrap();
        splice(text, &before, &after)
    }

    fn user(exec: &str) -> String {
        format!("# mine\nusers:\n- name: u  # me\n  user:\n{exec}# end\ncurrent-context: 'on'\n")
    }

    #[test]
    fn only_the_three_values_change_whatever_their_shape() {
        let aws = "[aws, eks, get-token, --cluster-name, c]";
        let gke = "[gke-gcloud-auth-plugin]";
        let cases = [
            (
                "    exec:\n      command: aws\n      args:\n      - eks\n      - get-token\n      - --cluster-name\n      - c  # c\n      # after\n      env: []\n",
                "    exec:\n      command: kubecredcache\n      args:\n      - aws\n      - eks\n      - get-token\n      - --cluster-name\n      - c  # c\n      # after\n      env: []\n".into(),
            ),
            (
                "    exec:\n      command: aws\n      args: # the args\n        - eks\n        - \"get-token\"\n        - --cluster-name\n        - |-\n          c\n",
                "    exec:\n      command: kubecredcache\n      args: # the args\n        - aws\n        - eks\n        - \"get-token\"\n        - --cluster-name\n        - |-\n          c\n".into(),
            ),
            (
                "    exec:\n      command: aws\n      args:\n      # the sub-command\n      - eks # of aws\n      - get-token\n",
                "    exec:\n      command: kubecredcache\n      args:\n      # the sub-command\n      - aws\n      - eks # of aws\n      - get-token\n".into(),
            ),
            (
                "    exec:\n      command: |-\n        aws\n      args: [eks, \"get-token\",\n        --cluster-name, 'c']\n",
                format!("    exec:\n      command: kubecredcache\n      args: {aws}\n"),
            ),
            (
                "    exec:\n      command: gke-gcloud-auth-plugin # the cli\n      env: []\n",
                format!("    exec:\n      command: kubecredcache # the cli\n      args: {gke}\n      env: []\n"),
            ),
            (
                "    exec: {command: gke-gcloud-auth-plugin, env: []}\n",
                format!("    exec: {{command: kubecredcache, args: {gke}, env: []}}\n"),
            ),
            (
                "    exec:\n      command: \"gke-gcloud-auth-plugin\"\n      args:\n      apiVersion: \"client.authentication.k8s.io/v1alpha1\"\n",
                format!(
                    "    exec:\n      command: kubecredcache\n      args: {gke}\n      apiVersion: client.authentication.k8s.io/v1beta1\n"
                ),
            ),
            (
                "    exec:\n      command: 'gke-gcloud-auth-plugin'\n      args: ~\n",
                format!("    exec:\n      command: kubecredcache\n      args: {gke}\n"),
            ),
        ];
        for (exec, want) in cases {
            for newline in ["\n", "\r\n"] {
                for bom in ["", "\u{feff}"] {
                    let crlf = |s: &str| format!("{bom}{}", s.replace('\n', newline));
                    let got = wrapped(&crlf(&user(exec)), Direction::Wrap);
                    assert_eq!(got, Ok(crlf(&user(&want))), "{exec}");
                }
            }
        }
    }

    #[test]
    fn unwrapping_gives_the_entry_back_and_no_args_as_an_empty_list() {
        let exec = |command: &str, args: &str| {
            user(&format!(
                "    exec:\n      command: {command}\n      args:{args}\n      interactiveMode: Never\n"
            ))
        };
        let cases = [
            (
                exec(
                    "kubecredcache",
                    "\n      - --force-refresh\n      - aws\n      - eks\n      - get-token",
                ),
                exec("aws", "\n      - eks\n      - get-token"),
            ),
            (
                exec(
                    "kubecredcache",
                    "\n      - --force-refresh\n      - gke-gcloud-auth-plugin",
                ),
                exec("gke-gcloud-auth-plugin", " []"),
            ),
            (
                exec(
                    "kubecredcache",
                    "\n      # its sub-command\n      - aws\n      - eks # of aws\n      - get-token",
                ),
                exec(
                    "aws",
                    "\n      # its sub-command\n      - eks # of aws\n      - get-token",
                ),
            ),
            (
                exec("kubecredcache", " # why\n      - gke-gcloud-auth-plugin"),
                exec("gke-gcloud-auth-plugin", " []"),
            ),
            (
                exec("kubecredcache", " [aws, eks, get-token, --cluster-name, \"x\\ny\"]"),
                exec("aws", " [eks, get-token, --cluster-name, \"x\\ny\"]"),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(wrapped(&text, Direction::Unwrap), Ok(want));
        }
    }

    #[test]
    fn an_entry_reached_through_an_anchor_alias_merge_or_tag_is_refused() {
        let plain = "    exec:\n      command: aws\n      args: [eks, get-token]\n";
        let cases = [
            (
                "    exec: &e\n      command: aws\n      args: [eks, get-token]\n",
                "an anchor at users[0].user.exec",
            ),
            (
                "    exec:\n      <<: {env: []}\n      command: aws\n      args: [eks, get-token]\n",
                "a merge key (<<) in users[0].user.exec",
            ),
            (
                "    exec: !!map\n      command: aws\n      args: [eks, get-token]\n",
                "a tag at users[0].user.exec",
            ),
            (
                "    exec:\n      command: !!str aws\n      args: [eks, get-token]\n",
                "a tag at users[0].user.exec.command",
            ),
            (
                "    exec:\n      command: aws\n      args: [eks, &g get-token]\n",
                "an anchor at users[0].user.exec.args[1]",
            ),
            (
                "    exec:\n      command: aws\n      args: &a [eks, get-token]\n",
                "an anchor at users[0].user.exec.args",
            ),
            ("  user: &u\n", "an anchor at users[0].user"),
        ];
        for (exec, says) in cases {
            let text = if exec.starts_with("  user") {
                format!("users:\n- name: u\n{exec}{}- name: v\n  user: *u\n", plain)
            } else {
                user(exec)
            };
            let err = wrapped(&text, Direction::Wrap).unwrap_err();
            assert!(
                err.contains(says) && err.starts_with("user 'u'") && !err.contains('\n'),
                "{err}"
            );
        }
        let aliased = format!(
            "x: &e {{command: aws, args: [eks, get-token]}}\n{}",
            user("    exec: *e\n")
        );
        assert!(
            wrapped(&aliased, Direction::Wrap)
                .unwrap_err()
                .contains("an alias at users[0].user.exec")
        );
        // Shared nodes elsewhere in the entry are not in the way.
        let env = user(&format!("{plain}      env: &env []\n      !!str <<: *env\n"));
        assert!(wrapped(&env, Direction::Wrap).is_ok());
        // The error stays one line whatever the user's name holds.
        let named = user("    exec: &e\n      command: aws\n      args: [eks, get-token]\n")
            .replace("name: u ", "name: \"a\\rb\\nc\" ");
        let err = wrapped(&named, Direction::Wrap).unwrap_err();
        assert!(
            err.starts_with("user 'a\\rb\\nc'") && !err.contains(['\r', '\n']),
            "{err}"
        );
    }

    #[test]
    fn every_string_is_written_so_kubectls_yaml_reads_it_back() {
        let all: String = (0..=0x3000u32)
            .chain([0xfeff, 0xfffe, 0x1f600])
            .filter_map(char::from_u32)
            .collect();
        let mut strings: Vec<String> = all.chars().map(String::from).collect();
        strings.extend(
            [
                "off",
                "y",
                "N",
                "On",
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
                "--",
                "---x",
                "-1",
                "",
                " lead",
                "trail ",
                "a: b",
                "#x",
                "x #y",
                "a,b",
                "c?d",
                "[x]",
                "{x}",
                "*a",
                "&a",
                "!t",
                "%d",
                "@a",
                "`t",
                "|",
                ">",
                "'",
                "\"",
                "true",
                "null",
                "a\r\nb",
                "/usr/bin/aws",
                "--cluster-name",
                "_x",
                "/_",
            ]
            .map(String::from),
        );
        strings.push(all);
        for s in &strings {
            let w = written(s);
            let text = format!("a: {w}\nb: [{w}, {w}]\nc: {{d: {w}}}\n");
            let (doc, unsure) = parse(&text).unwrap_or_else(|e| panic!("{s:?}: {e}\n{text}"));
            assert!(unsure.is_empty(), "{s:?}");
            for v in [&doc["a"], &doc["b"][0], &doc["b"][1], &doc["c"]["d"]] {
                assert_eq!(v.as_str(), Some(s.as_str()), "{text}");
            }
        }
        assert_eq!(written("/usr/local/bin/kubecredcache"), "/usr/local/bin/kubecredcache");
        assert_eq!(written("--cluster-name"), "--cluster-name");
        assert_eq!(written("yes"), "\"yes\"");
        assert_eq!(written("a\rb\u{85}"), "\"a\\rb\\u0085\"");
    }
}

//! Taking what looks like a secret out of a failed plugin's stderr before a failure
//! record keeps it: `aws --debug` prints the session token it signs with, a proxy error
//! its URL with the password. The record is the user's alone (0600, in their own
//! directory), like the tokens in cache files, so this is a second line, tuned to keep
//! what a person needs to act on the error (roles, ARNs, cluster names, paths,
//! timestamps) readable.
//!
//! Three rules, each replacing the secret with `[redacted]`:
//! - a value after a name that holds a word that names a secret (`password`, or
//!   `PGPASSWORD` and `adminPassword` with it at the end), then `:` or `=` (JSON's
//!   `"name": "value"` too, escaped as `\"name\":\"value\"` or as Python's `b'value'`;
//!   a `--flag` also takes its value after a space): after `password`, any value; after
//!   `token`, `secret`, `session` or an API key's name, and after `Bearer`, `Basic` or
//!   `token`, a value that looks like a token, not a word (`could not get a token:
//!   authentication error` stays), a path (`--token-cache-dir=/home/me/...` stays), an
//!   ARN nor a time. A name with a word about the secret after it (`secret_name`,
//!   `token-file`, `tokenExpiresAt`, `--password-file`) needs such a value too, and keeps
//!   file names (`--role-session-name=jane-2024`); an ARN's field
//!   (`arn:aws:secretsmanager:us-east-1`) is no name. Word sequences
//!   (`secret: prod-db-credentials-2024`) and error codes (`token: AccessDenied:`) are
//!   no token; after `secret` at the end of a longer name (`client_secret`,
//!   `clientSecret`), any value of 8 or more is a secret, and an API key's header takes
//!   its value after a space too (`x-api-key 0123...`);
//! - the password in a URL (`https://user:password@host`), and in `user:password@host:port`
//!   without a scheme (a proxy's);
//! - by shape: a run of token characters (base64, base64url, JWT) with a piece, between
//!   `/`, `_`, `-` or `.`, of 12 or more that mixes upper and lower case as randomly as
//!   a key does (the character class changes at 2 in 5 places or more, and it is not
//!   mostly words: `AWSReservedSSO_AdministratorAccess_0a1b2c3d`, `ProdCluster2023` and
//!   `myTeamK8sCluster2Blue` are words); a 40-character run of base64 that mixes cases
//!   and digits (an AWS secret access key, however its `/` cut it); a known token prefix
//!   (`xoxb-`, `ghp_`, ...) before a long run; after a name and `:` or `=`, 32 or more
//!   of hex (`Signature: 0f3a...`, but not after an id's, a commit's or a digest's name:
//!   `RequestId`, `commit`, `sha256`), and of lower case and digits after a key's
//!   (`pat: y2kq5n7...`). A cluster's name with a random-looking end stays after
//!   `cluster:`, `--cluster-name` or an ARN's `cluster/`.
//!
//! Each rule reads the text in one pass (a failure record keeps 16 KiB, and the rules ran
//! in time quadratic in it before: 1.7 s for `token-` repeated).

/// Words that name a secret whose value is one whatever it looks like. (Word lists are
/// one string each, not `&[&str]`: every `&str` in a static table costs every run of
/// the binary, hits included, a load-time relocation.)
const PASSWORD_WORDS: &str = "password passwd";
/// Words that name a secret whose value is one when it looks like a token. (`secret` at
/// the end of a longer name, `client_secret`, takes any value of `SECRET_MIN_LEN` or more.)
const TOKEN_WORDS: &str = "token secret session apikey api_key api-key";
/// Words after which, past spaces, comes a token (HTTP authorization schemes; GitHub's
/// is `token`).
const SCHEMES: &str = "bearer basic token";
/// Words that, after a secret's word in a name, make the name one about the secret
/// (`secret_name`, `token-file`, `tokenExpiresAt`): its value is a token only if it
/// looks like one and is no word sequence nor file name.
const ABOUT_WORDS: &str = "name file path dir directory expiry expiration expires expire expired ttl id arn url uri endpoint type kind length age duration lifetime region timeout cache stdin";
/// The longest word of `ABOUT_WORDS`.
const ABOUT_MAX_LEN: usize = 10;
/// The first letters of the words of `PASSWORD_WORDS`, `TOKEN_WORDS` and `SCHEMES`.
const FIRST_LETTERS: &str = "pstab";
/// Prefixes of tokens whose rest may be in one case (Slack's, GitHub's, GitLab's, API
/// keys').
const TOKEN_PREFIXES: &str = "xoxb- xoxa- xoxp- xoxr- xoxs- ghp_ gho_ ghu_ ghs_ ghr_ github_pat_ glpat- sk-";
/// Last words of names whose long hex value is something people compare, not a secret:
/// request ids, commits, digests.
const HEX_KEPT_AFTER: &str =
    "id requestid commit sha sha1 sha256 sha512 md5 digest hash checksum etag rev revision fingerprint";
/// Last words of names whose long run of lower-case letters and digits is a key (an Azure
/// DevOps PAT is 52 of base32).
const KEY_NAMES: &str = "pat key";

/// The shortest piece of a run that may be a secret by its shape alone.
const SHAPE_MIN_PIECE: usize = 12;
/// The length of an AWS secret access key.
const AWS_SECRET_KEY_LEN: usize = 40;
/// The shortest long piece after a token prefix.
const PREFIXED_MIN_PIECE: usize = 16;
/// The shortest value after `client_secret` and the like that is one whatever it is.
const SECRET_MIN_LEN: usize = 8;
/// The shortest run of hex (a signature, an HMAC) or of lower case and digits (a PAT)
/// that is a secret after a name and `:`.
const LONG_RUN: usize = 32;
/// How far `by_shape` looks back for the name before a run: a bound, so that looking
/// back costs each run a constant.
const NAME_LOOKBACK: usize = 64;
/// The longest a cluster's name may be (EKS's).
const CLUSTER_NAME_MAX: usize = 100;

const REDACTED: &str = "[redacted]";

// Every rule reads the text once from left to right: what a place needs that lies
// further on (where its name ends, the next `@`) is found once and kept while it is
// still ahead, and what lies behind is looked at for a bounded length. In tests, each
// scan counts what it looks at, and a test holds the count to a constant times the text.

#[cfg(test)]
thread_local! {
    static STEPS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counts `n` characters looked at (tests only).
#[inline(always)]
fn steps(n: usize) {
    #[cfg(test)]
    STEPS.with(|steps| steps.set(steps.get() + n));
    #[cfg(not(test))]
    let _ = n;
}

/// Where the first character of `s` for which `pred` holds is, else its length; counted.
fn find_or_end(s: &str, pred: impl FnMut(char) -> bool) -> usize {
    let at = s.find(pred).unwrap_or(s.len());
    steps(at + 1);
    at
}

/// The first place at or after `from` where `pred` holds (else the text's length), for
/// places that only grow: the answer is kept while it is still ahead, so each part of
/// the text is looked at once.
fn next_from(text: &str, kept: &mut Option<usize>, from: usize, pred: impl FnMut(char) -> bool) -> usize {
    match *kept {
        Some(at) if at >= from => at,
        _ => {
            let at = from + find_or_end(&text[from..], pred);
            *kept = Some(at);
            at
        }
    }
}

pub fn redact_secrets(text: &str) -> String {
    by_shape(&schemeless_passwords(&url_passwords(&named_values(text))))
}

fn is_name_char(c: char) -> bool {
    u8::try_from(c).is_ok_and(is_name_byte)
}

fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// Calls `f` with the start and the text of each word of a name: words end at `-`, `_`
/// and before a capital after a small letter (`token`, `Expires`, `At`).
fn for_each_word<'a>(name: &'a str, mut f: impl FnMut(usize, &'a str)) {
    steps(name.len());
    let b = name.as_bytes();
    let mut start = 0;
    for (at, &c) in b.iter().enumerate() {
        if word_breaks_at(b, at) {
            f(start, &name[start..at]);
            start = at + usize::from(!c.is_ascii_uppercase());
        }
    }
    f(start, &name[start..]);
}

/// Whether a word of a name ends before byte `at` of it: at `-`, `_`, or a capital
/// after a small letter.
fn word_breaks_at(b: &[u8], at: usize) -> bool {
    matches!(b[at], b'-' | b'_') || (b[at].is_ascii_uppercase() && at > 0 && b[at - 1].is_ascii_lowercase())
}

fn in_list(list: &'static str, word: &str) -> bool {
    !word.is_empty() && list.split(' ').any(|w| w.eq_ignore_ascii_case(word))
}

/// An ISO 8601 date, with or without its time: `2024-05-01T10:00:00Z`.
fn is_time(value: &str) -> bool {
    steps(value.len());
    let b = value.as_bytes();
    b.len() >= 10
        && b[..10].iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
        && value[10..].chars().all(|c| c.is_ascii_digit() || "T:.Z+-".contains(c))
}

/// Lower-case words and short numbers between `-`, `_` or `.`, a word among them
/// (`jane-laptop-2024`, `prod-db-credentials`).
fn word_sequence(value: &str) -> bool {
    steps(value.len());
    let mut word = false;
    value.split(['-', '_', '.']).all(|p| {
        word |= !p.is_empty() && p.bytes().all(|c| c.is_ascii_lowercase());
        !p.is_empty()
            && (p.bytes().all(|c| c.is_ascii_lowercase()) || (p.len() <= 8 && p.bytes().all(|c| c.is_ascii_digit())))
    }) && word
}

/// A file name (`kubeconfig-token.json`).
fn file_name(value: &str) -> bool {
    steps(value.len());
    value.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty()
            && (1..=5).contains(&ext.len())
            && ext.starts_with(|c: char| c.is_ascii_lowercase())
            && ext.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    })
}

/// Letters alone, in one case after the first or mostly words (`GetSecretValue`), and
/// an error code with its colon (`AccessDenied:`, `InvalidClientTokenId:`).
fn is_word(value: &str) -> bool {
    steps(value.len());
    let value = value.strip_suffix(':').unwrap_or(value);
    !value.is_empty()
        && value.chars().all(|c| c.is_ascii_alphabetic())
        && (!value.chars().skip(1).any(|c| c.is_ascii_uppercase()) || in_words(value) * 5 >= value.len() * 3)
}

/// A value that is a token rather than a word, an error code, a path, an ARN, a time or
/// a word sequence: 8 characters or more, not letters alone (but for a mix of cases
/// inside that is not mostly words: `GetSecretValue` is words), not starting like a path.
/// After a name about the secret (`about`), not file names either.
fn looks_like_a_token(value: &str, about: bool) -> bool {
    value.len() >= 8
        && !is_word(value)
        && !value.starts_with(['/', '~', '.', '$', '%'])
        && !value.starts_with("arn:")
        && !value.contains("://")
        && !is_time(value)
        && !word_sequence(value)
        && !(about && file_name(value))
}

/// Where the value that starts `rest` ends: at the quote that closes `quote` (past
/// backslash escapes), else at the first space, quote or separator.
fn value_end(rest: &str, quote: Option<&str>) -> usize {
    match quote {
        Some(q) if q.len() > 1 => {
            let end = rest.find(q).unwrap_or(rest.len());
            steps(end + q.len());
            end
        }
        Some(q) => {
            let mut escaped = false;
            for (at, c) in rest.char_indices() {
                if !escaped && q.starts_with(c) {
                    steps(at + 1);
                    return at;
                }
                escaped = !escaped && c == '\\';
            }
            steps(rest.len());
            rest.len()
        }
        None => find_or_end(rest, |c: char| c.is_whitespace() || "\"'`,;&)]}>".contains(c)),
    }
}

/// Where a value starts (in the text), and the quote that opened it.
#[derive(Clone, Copy)]
struct Value {
    at: usize,
    quote: Option<&'static str>,
}

/// The value that starts `after` (a part of `text`): past Python's `b'...'` or `r"..."`
/// prefix, inside a quote.
fn value_in(text: &str, after: &str) -> Value {
    let prefix = after.bytes().take(3).position(|c| !b"bru".contains(&c));
    let after = match prefix {
        Some(p) if after[p..].starts_with(['"', '\'']) => &after[p..],
        _ => after,
    };
    // (A match, not a table of `&str`.)
    let quote = match after.as_bytes() {
        [b'\\', b'"', ..] => Some("\\\""),
        [b'"', ..] => Some("\""),
        [b'\'', ..] => Some("'"),
        [b'`', ..] => Some("`"),
        _ => None,
    };
    Value {
        at: text.len() - after.len() + quote.map_or(0, str::len),
        quote,
    }
}

/// A name (a run of name characters) with a secret's word in it, read once however many
/// words it holds: where it ends, the start of its last word about the secret, and what
/// follows it.
struct Name {
    end: usize,
    last_about: Option<usize>,
    /// The value after `:` or `=` (JSON's `"name": "value"` too, escaped or not).
    value: Option<Value>,
    /// The value after spaces, which a `--flag` and an API key's header take.
    spaced: Option<Value>,
    flag: bool,
}

impl Name {
    fn read(text: &str, start: usize, from: usize) -> Name {
        let end = from + find_or_end(&text[from..], |c| !is_name_char(c));
        let mut last_about = None;
        for_each_word(&text[start..end], |at, word| {
            if word.len() <= ABOUT_MAX_LEN && in_list(ABOUT_WORDS, word) {
                last_about = Some(start + at);
            }
        });
        let after_name = &text[end..];
        // A field of an ARN (`arn:aws:secretsmanager:us-east-1:...`) is no name.
        let in_arn = text[..start].ends_with(':')
            && after_name.starts_with(':')
            && after_name[1..].starts_with(|c: char| !c.is_whitespace());
        let after = &after_name[find_or_end(after_name, |c| !matches!(c, '"' | '\'' | '\\'))..];
        let after = &after[find_or_end(after, |c| !c.is_whitespace())..];
        let (value, spaced) = match after.strip_prefix([':', '=']) {
            _ if in_arn => (None, None),
            Some(after) => (
                Some(value_in(text, &after[find_or_end(after, |c| !c.is_whitespace())..])),
                None,
            ),
            None if after_name.starts_with(' ') && !after.starts_with('-') => (None, Some(value_in(text, after))),
            None => (None, None),
        };
        Name {
            end,
            last_about,
            value,
            spaced,
            flag: text[start..].starts_with("--"),
        }
    }

    /// Whether the rest of the name after a secret's word that ends at `at` (`_name`,
    /// `ExpiresAt`, `-cache-dir`, `FILE` in `PGPASSWORDFILE`) has a word about the secret:
    /// its first word, cut where the secret's word ends, or a later word of the name.
    fn about_after(&self, text: &str, at: usize) -> bool {
        let b = text.as_bytes();
        let first_end = (at + 1..self.end.min(at + ABOUT_MAX_LEN + 2))
            .find(|&j| word_breaks_at(b, j))
            .unwrap_or(self.end);
        steps(ABOUT_MAX_LEN);
        let first = at < self.end && !matches!(b[at], b'-' | b'_') && first_end - at <= ABOUT_MAX_LEN;
        (first && in_list(ABOUT_WORDS, &text[at..first_end])) || self.last_about.is_some_and(|start| start > at)
    }
}

/// How a named value counts as a secret.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// Any value (after `password`).
    Any,
    /// Any value of `SECRET_MIN_LEN` or more but an error code (after `client_secret`).
    AnyLong,
    /// A value that looks like a token; after a name about the secret, no file name.
    Token { about: bool },
}

/// If a secret's name has its word at `i` (of `text`, in a name from `name_start`, read
/// into `name` at its first word): where its value starts and how to read it.
fn named_at(text: &str, i: usize, name_start: usize, name: &mut Option<Name>) -> Option<(Value, Kind)> {
    steps(1);
    let b = text.as_bytes();
    let at_word = |w: &str| {
        b.get(i..i + w.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(w.as_bytes()))
    };
    let words = |list: &'static str| list.split(' ').find(|w| at_word(w));
    if let Some(word) = words(PASSWORD_WORDS).or_else(|| words(TOKEN_WORDS)) {
        let name = name.get_or_insert_with(|| Name::read(text, name_start, i));
        let word_end = i + word.len();
        let about = name.about_after(text, word_end);
        let at_end = word_end == name.end;
        let kind = if about {
            Kind::Token { about }
        } else if in_list(PASSWORD_WORDS, word) {
            Kind::Any
        } else if word == "secret" && i > name_start && at_end {
            Kind::AnyLong
        } else {
            Kind::Token { about }
        };
        let api_key = word.starts_with("api") && at_end;
        let value = name.value.or(name.spaced.filter(|_| name.flag || api_key));
        if let Some(value) = value {
            return Some((value, kind));
        }
    }
    let starts_word = i == 0 || !b[i - 1].is_ascii_alphanumeric();
    if !starts_word {
        return None;
    }
    let scheme = SCHEMES.split(' ').find(|w| at_word(w))?;
    let after = &text[i + scheme.len()..];
    let spaces = find_or_end(after, |c| c != ' ');
    // (`aws eks get-token --cluster-name x`: a flag, no token.)
    (spaces > 0 && !after[spaces..].starts_with("--")).then_some((
        Value {
            at: i + scheme.len() + spaces,
            quote: None,
        },
        Kind::Token { about: false },
    ))
}

fn named_values(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    let mut name_start = 0;
    let mut name = None;
    // Byte by byte: a word starts with an ASCII letter, at a character's start.
    while i < b.len() {
        steps(1);
        if i == 0 || !is_name_byte(b[i - 1]) {
            name_start = i;
            name = None;
        }
        if !FIRST_LETTERS.contains(b[i].to_ascii_lowercase() as char) {
            i += 1;
            continue;
        }
        if let Some((Value { at, quote }, kind)) = named_at(text, i, name_start, &mut name) {
            let end = at + value_end(&text[at..], quote);
            let value = &text[at..end];
            out.push_str(&text[copied..at]);
            let secret = match kind {
                Kind::Any => !value.is_empty(),
                Kind::AnyLong => value.len() >= SECRET_MIN_LEN && !(value.ends_with(':') && is_word(value)),
                Kind::Token { about } => looks_like_a_token(value, about),
            };
            out.push_str(if secret { REDACTED } else { value });
            // The value ends at the text's end or before a character no name has.
            copied = end;
            i = end;
            name_start = i;
            name = None;
            continue;
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    out
}

/// A URL's password that is a port and a path (`host:8443/users/me@corp`).
fn port_and_path(password: &str) -> bool {
    let digits = find_or_end(password, |c: char| !c.is_ascii_digit());
    digits > 0 && (digits == password.len() || password[digits..].starts_with('/'))
}

/// `scheme://user:password@host` → `scheme://user:[redacted]@host`, the password with
/// a `/` in it (`https://bob:pa/ss@host/`) too.
fn url_passwords(text: &str) -> String {
    let is_url_end = |c: char| c.is_whitespace() || "\"'`<>".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    let (mut next_at, mut next_url_end) = (None, None);
    while let Some(found) = text[from..].find("://") {
        steps(found + 3);
        // The authority ends at the first `/` (a later `://` has one) or the URL's end:
        // each authority is read once.
        let start = from + found + 3;
        from = start;
        let rest = &text[start..];
        let authority = &rest[..find_or_end(rest, |c| c == '/' || is_url_end(c))];
        let user_end = find_or_end(authority, |c| c == ':' || c == '@');
        if !authority[user_end..].starts_with(':') {
            continue;
        }
        let in_authority = authority.rfind('@');
        steps(authority.len());
        let password_end = in_authority.map(|at| start + at).or_else(|| {
            // The first `@` of the URL, past its first `/`.
            let at = next_from(text, &mut next_at, start + user_end + 1, |c| c == '@');
            let url_end = next_from(text, &mut next_url_end, start, is_url_end);
            (at < url_end && !port_and_path(&text[start + user_end + 1..at])).then_some(at)
        });
        if let Some(password_end) = password_end.filter(|&end| end > start + user_end) {
            out.push_str(&text[copied..start + user_end + 1]);
            out.push_str(REDACTED);
            copied = password_end;
            from = password_end;
        }
    }
    steps(text.len() - from);
    out.push_str(&text[copied..]);
    out
}

/// `user:password@host:port` without a scheme (a proxy's) → `user:[redacted]@host:port`.
/// (What it reads about each `@` lies between it and the `@`s before and after it.)
fn schemeless_passwords(text: &str) -> String {
    let is_user_char = |c: char| c.is_ascii_alphanumeric() || "._~%+-".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    steps(text.len());
    for (at, _) in text.match_indices('@') {
        if at < done {
            continue;
        }
        // After the `@`, a host and a port.
        let host = &text[at + 1..];
        let host_len = find_or_end(host, |c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'));
        let port = host[host_len..].strip_prefix(':').unwrap_or("");
        let port_len = find_or_end(port, |c: char| !c.is_ascii_digit());
        if host_len == 0 || port_len == 0 || port[port_len..].starts_with(|c: char| c.is_ascii_alphanumeric()) {
            continue;
        }
        // Before it, `user:password`, the user after a space, a quote or the start.
        let before = &text[done..at];
        let password = &before[before
            .trim_end_matches(|c: char| !(c.is_whitespace() || "@:\"'`".contains(c)))
            .len()..];
        steps(password.len() + 1);
        let Some(user_part) = before[..before.len() - password.len()].strip_suffix(':') else {
            continue;
        };
        let user = &user_part[user_part.trim_end_matches(is_user_char).len()..];
        steps(user.len() + 1);
        let user_start = user_part.len() - user.len();
        let after_space = user_part[..user_start]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || "\"'`(=<[,".contains(c));
        if password.is_empty() || password == REDACTED || user.is_empty() || !after_space || port_and_path(password) {
            continue;
        }
        out.push_str(&text[done..at - password.len()]);
        out.push_str(REDACTED);
        done = at;
    }
    out.push_str(&text[done..]);
    out
}

/// How much of `piece` is in words: runs of three lower-case letters or more, with the
/// capital before them (`Team`, `Cluster`, `my` not).
fn in_words(piece: &str) -> usize {
    steps(piece.len());
    let b = piece.as_bytes();
    let mut count = 0;
    let mut i = 0;
    while i < b.len() {
        let run = b[i..].iter().take_while(|c| c.is_ascii_lowercase()).count();
        if run >= 3 {
            count += run + usize::from(i > 0 && b[i - 1].is_ascii_uppercase());
        }
        i += run.max(1);
    }
    count
}

/// Whether `piece` looks like a piece of a key: long, both cases, the class of
/// character (upper, lower, digit, other) changing as often as at random, and less than
/// 3 in 5 of it in words.
fn random_looking(piece: &str) -> bool {
    steps(piece.len());
    let class = |c: u8| match c {
        b'A'..=b'Z' => 0u8,
        b'a'..=b'z' => 1,
        b'0'..=b'9' => 2,
        _ => 3,
    };
    let b = piece.as_bytes();
    let changes = b.windows(2).filter(|w| class(w[0]) != class(w[1])).count();
    b.len() >= SHAPE_MIN_PIECE
        && piece.contains(|c: char| c.is_ascii_uppercase())
        && piece.contains(|c: char| c.is_ascii_lowercase())
        && changes * 5 >= (b.len() - 1) * 2
        && in_words(piece) * 5 < piece.len() * 3
}

/// An AWS secret access key: 40 of base64, upper and lower case and a digit, not a path
/// nor mostly words.
fn aws_secret_key(piece: &str) -> bool {
    steps(1);
    piece.len() == AWS_SECRET_KEY_LEN
        && piece.chars().all(|c| c.is_ascii_alphanumeric() || c == '/' || c == '+')
        && !piece.starts_with('/')
        && piece.contains(|c: char| c.is_ascii_uppercase())
        && piece.contains(|c: char| c.is_ascii_lowercase())
        && piece.contains(|c: char| c.is_ascii_digit())
        && in_words(piece) * 5 < piece.len() * 3
}

/// Whether a token prefix (`xoxb-`, `ghp_`) starts `run` or one of its pieces after `=`,
/// with a rest that has a digit and a long piece (`sk-cluster-prod-2024` is a name).
fn prefixed_token(run: &str) -> bool {
    steps(run.len());
    run.split('=').any(|piece| {
        TOKEN_PREFIXES.split(' ').any(|prefix| {
            piece.strip_prefix(prefix).is_some_and(|rest| {
                steps(rest.len());
                rest.contains(|c: char| c.is_ascii_digit())
                    && rest.split(['-', '_']).any(|p| p.len() >= PREFIXED_MIN_PIECE)
            })
        })
    })
}

/// The name before a run that starts at `at`: past a quote, then `:` or `=` (`sep`) or
/// spaces, then a quote; its last `NAME_LOOKBACK` bytes at most.
fn name_before(text: &str, at: usize) -> Option<(&str, bool)> {
    steps(NAME_LOOKBACK);
    let b = text.as_bytes();
    let back = |j: &mut usize, max: usize, pred: fn(u8) -> bool| {
        let stop = j.saturating_sub(max);
        while *j > stop && pred(b[*j - 1]) {
            *j -= 1;
        }
    };
    let quote = |c: u8| matches!(c, b'"' | b'\'' | b'\\');
    let mut j = at;
    back(&mut j, 2, quote);
    let spaces_end = j;
    back(&mut j, 16, |c| c.is_ascii_whitespace());
    let spaced = j < spaces_end;
    let sep = j > 0 && matches!(b[j - 1], b':' | b'=');
    if sep {
        j -= 1;
        back(&mut j, 2, quote);
    } else if !spaced {
        return None;
    }
    let end = j;
    back(&mut j, NAME_LOOKBACK, is_name_byte);
    (j < end).then(|| (&text[j..end], sep))
}

/// The last word of a name (`Signature` in `X-Amz-Signature`, `Id` in `RequestId`).
fn last_word(name: &str) -> &str {
    let mut last = name;
    for_each_word(name, |_, word| last = word);
    last
}

/// A run of `LONG_RUN` or more of hex, or of lower-case letters and digits, after a name
/// and `:` or `=` that says it is a secret: hex after a name that is no id nor digest's
/// (`Signature: 0f3a...`, `Unauthorized: 3f2a...`), letters and digits after a key's
/// (`pat: y2kq5n7...`).
fn long_run_after_name(text: &str, at: usize, run: &str) -> bool {
    steps(run.len());
    let hex = run.bytes().all(|c| c.is_ascii_hexdigit());
    let lower = run.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if run.len() < LONG_RUN
        || !(hex || lower)
        || !run.contains(|c: char| c.is_ascii_digit())
        || !run.contains(|c: char| c.is_ascii_alphabetic())
    {
        return false;
    }
    let Some((name, true)) = name_before(text, at) else {
        return false;
    };
    let word = last_word(name);
    (hex && !in_list(HEX_KEPT_AFTER, word)) || (lower && in_list(KEY_NAMES, word))
}

/// A cluster's name with a random-looking part (`my-cluster-xYz9AbC3dEf7GhIj`) after
/// `cluster:`, `--cluster-name ` or an ARN's `cluster/`: letters, digits, `-` and `_`
/// (no JWT, no base64 with `+/=`), starting with a piece that does not look random.
fn cluster_name(text: &str, at: usize, run: &str) -> bool {
    let run = match run.get(..8) {
        Some(head) if head.eq_ignore_ascii_case("cluster/") => &run[8..],
        _ => {
            let Some((name, _)) = name_before(text, at) else {
                return false;
            };
            let name = name.to_ascii_lowercase();
            let name = name.strip_suffix("name").unwrap_or(&name);
            if !name.trim_end_matches(['-', '_']).ends_with("cluster") {
                return false;
            }
            run
        }
    };
    steps(run.len());
    run.len() <= CLUSTER_NAME_MAX
        && run.bytes().all(is_name_byte)
        && run.split(['-', '_']).next().is_some_and(|first| !random_looking(first))
}

fn by_shape(text: &str) -> String {
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || "+/=_-.~%".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let start = find_or_end(rest, is_token_char);
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        if rest.is_empty() {
            break;
        }
        let at = text.len() - rest.len();
        let end = find_or_end(rest, |c| !is_token_char(c));
        let run = &rest[..end];
        let secret = (run.split(['/', '_', '-', '.']).any(random_looking) && !cluster_name(text, at, run))
            || run.split(['_', '-', '.', '~', '%', '=']).any(aws_secret_key)
            || prefixed_token(run)
            || long_run_after_name(text, at, run);
        out.push_str(if secret { REDACTED } else { run });
        rest = &rest[end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_go() {
        let mut kept_secrets = Vec::new();
        for (text, secret) in [
            (
                "headers={'X-Amz-Security-Token': b'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDx7'}",
                "IQoJb3JpZ2luX2VjEJr",
            ),
            (
                "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "bPxRfiCYEXAMPLEKEY",
            ),
            (
                "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVPmB92K27uhbU",
                "eyJhbGci",
            ),
            ("Authorization: Basic dXNlcjpodW50ZXIy", "dXNlcjpodW50ZXIy"),
            ("using token=dop_v1_0123456789abcdef0123456789abcdef", "dop_v1_"),
            ("client_secret: abc8Q~xyz.Secret-Value", "abc8Q~xyz"),
            ("password=hunter2!@#", "hunter2"),
            ("proxy http://me:pr0xy-pass@proxy:3128 refused", "pr0xy-pass"),
            (
                "GCP access token ya29.a0AfH6SMBx3Jk9ZQ4lL2nJ7Kxk1xYz0aB",
                "ya29.a0AfH6SMBx3Jk9",
            ),
            (
                "\"SessionToken\": \"FwoGZXIvYXdzEBYaDH7example2Long/Token+Value==\"",
                "FwoGZXIvYXdzEBYaDH7",
            ),
            (
                "{\"SecretAccessKey\": \"wJalrXUtnFEMIab/K7MDENGcd12/bPxRfiCYxA1\"}",
                "K7MDENGcd12",
            ),
            ("\"password\": \"correcthorse\"", "correcthorse"),
            ("password: hunter2", "hunter2"),
            ("password=\"p@ss word\" rejected", "ss wo"),
            ("split wJalrXUtnFEMIab/K7MDENGcd12/bPxRfiCYxA1 key", "wJalrXUtnFEMIab"),
            // Escaped JSON inside a string, and Python's bytes.
            (r#"body="{\"password\":\"Summer2024!\"}""#, "Summer2024"),
            ("{'password': b'Spring2025?'}", "Spring2025"),
            // The name's word at the end of a longer name.
            ("PGPASSWORD=hunter2xyz psql failed", "hunter2xyz"),
            ("\"adminPassword\": \"S3cret!x\"", "S3cret!x"),
            (
                "{\"accessToken\": \"0123456789abcdef0123456789abcdef01234567\"}",
                "0123456789abcdef",
            ),
            ("\"refreshToken\": \"9f8e7d6c5b4a39281706f5e4d3c2b1a0\"", "9f8e7d6c5b4a"),
            // GitHub's `token` scheme; flags with their value after a space.
            (
                "Authorization: token 0123abcd0123abcd0123abcd0123abcd0123abcd",
                "0123abcd0123",
            ),
            ("exec: vault login --password Hunter2 --method=userpass", "Hunter2"),
            ("exec: login --password=hunter2", "hunter2"),
            ("password=ab\\cd\\ef rejected", "cd"),
            ("error:password=hunter2", "hunter2"),
            (
                "exec: login --token 9f8e7d6c5b4a39281706f5e4d3c2b1a0 failed",
                "9f8e7d6c5b4a",
            ),
            // A proxy without its scheme, and a URL password with a `/`.
            (
                "proxyconnect tcp: dial user:pa55word@proxy.corp:3128: refused",
                "pa55word",
            ),
            ("Get \"https://bob:pa/ss@example.com/\": refused", "pa/ss"),
            // A quoted value with an escaped quote: to the real closing quote.
            (r#"password: "a\"b rest" was rejected"#, "rest"),
            // Known token prefixes, however the rest is cased.
            (
                "slack: invalid_auth for xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx",
                "abcdefghijklmnop",
            ),
            ("git: ghp_0123456789abcdefghijklmnopqrstuvwxyz rejected", "ghp_0123"),
            ("glpat-abcdefghij0123456789 expired", "abcdefghij0123"),
            // An AWS secret access key whose `/` cut it into short pieces.
            ("key wJalrXUt/K7MDENGb/PxRfiCYE/XAMPLEK3Y/AbC expired", "XAMPLEK3Y"),
        ] {
            let kept = redact_secrets(text);
            if kept.contains(secret) || !kept.contains(REDACTED) {
                kept_secrets.push(format!("{secret} kept: {kept}"));
            }
        }
        assert!(kept_secrets.is_empty(), "{kept_secrets:#?}");
    }

    #[test]
    fn what_a_person_needs_stays() {
        let mut changed = Vec::new();
        for text in [
            "An error occurred (AccessDenied) when calling the AssumeRole operation: User: arn:aws:sts::123456789012:assumed-role/AdminRole2/me@corp.com is not authorized to perform: eks:DescribeCluster on resource: arn:aws:eks:us-west-2:123456789012:cluster/Prod-Cluster1",
            "Error when retrieving token from sso: Token has expired and refresh failed",
            "token: expired",
            "see /home/me/.aws/sso/cache/3f2a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a.json",
            "/usr/local/lib/python3.11/dist-packages/botocore/credentials.py line 2057",
            "for access key AKIAIOSFODNN7EXAMPLE in profile Prod2023Admin",
            "https://oidc.example.com/.well-known/openid-configuration returned 404",
            "Session has expired; run az login",
            "User: arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_AdministratorAccess_0a1b2c3d4e5f6a7b/jane@corp.com is not authorized",
            "on resource arn:aws:iam::123456789012:role/EKS-Admin-Role-2023-ProdCluster and cluster/ProdCluster2023EastPrimary",
            "error: could not get a token: authentication error",
            "AWS_WEB_IDENTITY_TOKEN_FILE=/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
            "--token-cache-dir=/home/me/.kube/cache/oidc-login PWD=/home/me/src/Project2023Main",
            "basic auth is not supported",
            "the operation AssumeRoleWithWebIdentity failed: getCallerIdentity",
            // A timestamp is never a secret; names about a secret and word or file values.
            "{\"tokenExpiresAt\": \"2024-05-01T10:00:00Z\"}",
            "aws sts assume-role --role-session-name=jane-laptop-2024 failed",
            "session_name: eks-admin-session",
            "secret_name=prod-db-credentials not found",
            "token-file=kubeconfig-token.json is missing",
            "--password-file /run/secrets/db.txt: no such file",
            "arn:aws:eks:us-west-2:123456789012:cluster/myTeamK8sCluster2Blue",
            // `host:port/path` and an ARN with `@` are no URL password.
            "GET https://api.example.com:8443/users/jane@corp.com failed",
            "dial tcp proxy.corp:3128/path@x: refused",
            "arn:aws:iam::123456789012:role/x@y is not authorized",
            "error: jane@corp.com is not authorized",
            // A path that happens to be 40 long stays.
            "/home/Jane/src/Project2023Main/build/out",
            // ARNs and IAM actions with a secret's word in them; a name with a prefix.
            "User: arn:aws:sts::123456789012:assumed-role/Dev/jane is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf",
            "\"SecretArn\": \"arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf\"",
            "An error occurred (ExpiredToken) when calling the GetSessionToken operation: ExpiredToken: The security token included in the request is expired",
            "context sk-cluster-prod-2024 not found",
        ] {
            let out = redact_secrets(text);
            if out != text {
                changed.push(out);
            }
        }
        assert!(changed.is_empty(), "{changed:#?}");
    }

    #[test]
    fn first_letters_are_the_words_first_letters() {
        for word in [PASSWORD_WORDS, TOKEN_WORDS, SCHEMES]
            .iter()
            .flat_map(|list| list.split(' '))
        {
            assert!(FIRST_LETTERS.contains(&word[..1]), "{word}");
        }
    }

    #[test]
    fn error_codes_and_names_after_a_secret_s_name_stay() {
        let mut changed = Vec::new();
        for text in [
            "could not get token: AccessDenied: User: arn:aws:iam::111122223333:user/x is not authorized",
            "could not get token: ExpiredToken: The security token included in the request is expired",
            "session: InvalidClientTokenId: The security token included in the request is invalid",
            "failed to get token: RequestError: send request failed",
            "failed to get token: DefaultAzureCredential: failed to acquire a token.",
            "secret: prod-db-credentials-2024 not found",
            "session: eks-admin-session-01",
            "cluster: my-cluster-xYz9AbC3dEf7GhIj",
            "aws eks get-token --cluster-name my-cluster-xYz9AbC3dEf7GhIj failed",
            "arn:aws:eks:us-west-2:123456789012:cluster/my-cluster-xYz9AbC3dEf7GhIj",
            // Request ids, commits and digests people compare; a header name with no value.
            "Request ID: 1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
            "RequestId: 0123456789abcdef0123456789abcdef",
            "x-amz-request-id: 0123456789abcdef0123456789abcdef",
            "commit: 3f2a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a",
            "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "missing x-api-key header",
            "client_secret: too short",
        ] {
            let out = redact_secrets(text);
            if out != text {
                changed.push(out);
            }
        }
        assert!(changed.is_empty(), "{changed:#?}");
    }

    #[test]
    fn secrets_after_a_key_s_name_go() {
        let mut kept_secrets = Vec::new();
        for (text, secret) in [
            ("client_secret=correcthorsebatterystaple", "correcthorse"),
            ("\"clientSecret\": \"correct-horse-battery-staple\"", "correct-horse"),
            ("AZURE_CLIENT_SECRET=abcdefghijkl", "abcdefghijkl"),
            (
                "2024-05-01 10:00:00,123 - botocore.auth - DEBUG - Signature:\n0f3a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a",
                "0f3a9b8c",
            ),
            (
                "GET /?X-Amz-Signature=0f3a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a&X-Amz-Date=x",
                "0f3a9b8c",
            ),
            ("Unauthorized: 3f2a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a", "3f2a9b8c"),
            (
                "header x-api-key 0123456789abcdef0123456789abcdef rejected",
                "0123456789ab",
            ),
            ("pat: y2kq5n7abcdefghijklmnopqrstuvwxyz234567abcdefghijklm", "y2kq5n7"),
            (
                "\"subscription-key\": \"0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q\"",
                "0a1b2c3d",
            ),
        ] {
            let kept = redact_secrets(text);
            if kept.contains(secret) || !kept.contains(REDACTED) {
                kept_secrets.push(format!("{secret} kept: {kept}"));
            }
        }
        assert!(kept_secrets.is_empty(), "{kept_secrets:#?}");
    }

    /// Inputs that rescanning made quadratic (a name's rest read again at each secret's
    /// word in it, a URL read again at each `://`), and others that could be.
    const ADVERSARIAL: [&str; 24] = [
        "token-",
        "x-token_",
        "tokenA",
        "://",
        "password=",
        "Bearer ",
        "aB3+",
        "a:b@",
        "token",
        "--password ",
        "tokentoken ",
        "://a:",
        "a@",
        "Unauthorized: ",
        "x-api-key ",
        "secret",
        "passwordfile",
        "token \"",
        "b:1@",
        "3f",
        "cluster: ",
        "sk-",
        ":",
        "tokenExpires",
    ];

    #[test]
    fn work_is_linear_in_the_text() {
        let mut quadratic = Vec::new();
        for unit in ADVERSARIAL.iter().chain(&["a", " ", "0123456789abcdef", "Ab3-"]) {
            for len in [16 * 1024, 64 * 1024] {
                let text = unit.repeat(len / unit.len());
                STEPS.with(|steps| steps.set(0));
                redact_secrets(&text);
                let steps = STEPS.with(std::cell::Cell::get);
                // Each pass looks at each character a few times (each word list's first
                // letters, each prefix), and a pass's text is at most ten times its
                // input (a one-character value becomes `[redacted]`).
                if steps > 32 * text.len() {
                    quadratic.push(format!("{unit:?} x {}: {steps} steps", text.len() / unit.len()));
                }
            }
        }
        assert!(quadratic.is_empty(), "{quadratic:#?}");
    }

    /// Release timings of the adversarial inputs (`cargo test --release --lib redact_timings
    /// -- --ignored --nocapture`); timing decides no test, this only prints.
    #[test]
    #[ignore]
    fn redact_timings() {
        for unit in ADVERSARIAL {
            let text = unit.repeat(16 * 1024 / unit.len());
            let start = std::time::Instant::now();
            let out = redact_secrets(&text);
            println!(
                "{unit:?} x {}: {:?} ({} bytes out)",
                text.len() / unit.len(),
                start.elapsed(),
                out.len()
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_comes_through_whole_but_for_what_is_redacted(text in "(\\PC|token=|://a:b@|Bearer |token |--password |Password\\\\\":\\\\\"|: b'|a:b@h:1|\\s){0,40}") {
            let out = redact_secrets(&text);
            if !out.contains(REDACTED) {
                proptest::prop_assert_eq!(out, text);
            }
        }
    }
}

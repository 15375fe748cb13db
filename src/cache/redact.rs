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
//!   word and file names (`--role-session-name=jane-2024`); an ARN's field
//!   (`arn:aws:secretsmanager:us-east-1`) is no name;
//! - the password in a URL (`https://user:password@host`), and in `user:password@host:port`
//!   without a scheme (a proxy's);
//! - by shape: a run of token characters (base64, base64url, JWT) with a piece, between
//!   `/`, `_`, `-` or `.`, of 12 or more that mixes upper and lower case as randomly as
//!   a key does (the character class changes at 2 in 5 places or more, and it is not
//!   mostly words: `AWSReservedSSO_AdministratorAccess_0a1b2c3d`, `ProdCluster2023` and
//!   `myTeamK8sCluster2Blue` are words); a 40-character run of base64 that mixes cases
//!   and digits (an AWS secret access key, however its `/` cut it); a known token prefix
//!   (`xoxb-`, `ghp_`, ...) before a long run.

/// Words that name a secret whose value is one whatever it looks like. (Word lists are
/// one string each, not `&[&str]`: every `&str` in a static table costs every run of
/// the binary, hits included, a load-time relocation.)
const PASSWORD_WORDS: &str = "password passwd";
/// Words that name a secret whose value is one when it looks like a token.
const TOKEN_WORDS: &str = "token secret session apikey api_key api-key";
/// Words after which, past spaces, comes a token (HTTP authorization schemes; GitHub's
/// is `token`).
const SCHEMES: &str = "bearer basic token";
/// Words that, after a secret's word in a name, make the name one about the secret
/// (`secret_name`, `token-file`, `tokenExpiresAt`): its value is a token only if it
/// looks like one and is no word sequence nor file name.
const ABOUT_WORDS: &str = "name file path dir directory expiry expiration expires expire expired ttl id arn url uri endpoint type kind length age duration lifetime region timeout cache stdin";
/// Prefixes of tokens whose rest may be in one case (Slack's, GitHub's, GitLab's, API
/// keys').
const TOKEN_PREFIXES: &str = "xoxb- xoxa- xoxp- xoxr- xoxs- ghp_ gho_ ghu_ ghs_ ghr_ github_pat_ glpat- sk-";

/// The shortest piece of a run that may be a secret by its shape alone.
const SHAPE_MIN_PIECE: usize = 12;
/// The length of an AWS secret access key.
const AWS_SECRET_KEY_LEN: usize = 40;
/// The shortest long piece after a token prefix.
const PREFIXED_MIN_PIECE: usize = 16;

const REDACTED: &str = "[redacted]";

pub fn redact_secrets(text: &str) -> String {
    by_shape(&schemeless_passwords(&url_passwords(&named_values(text))))
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// An ISO 8601 date, with or without its time: `2024-05-01T10:00:00Z`.
fn is_time(value: &str) -> bool {
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

/// Lower-case words and short numbers between `-`, `_` or `.` (`jane-laptop-2024`,
/// `prod-db-credentials`), or a file name (`kubeconfig-token.json`).
fn words_or_file_name(value: &str) -> bool {
    let words = value.split(['-', '_', '.']).all(|p| {
        !p.is_empty()
            && (p.bytes().all(|c| c.is_ascii_lowercase()) || (p.len() <= 8 && p.bytes().all(|c| c.is_ascii_digit())))
    });
    let file = value.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty()
            && (1..=5).contains(&ext.len())
            && ext.starts_with(|c: char| c.is_ascii_lowercase())
            && ext.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    });
    words || file
}

/// A value that is a token rather than a word, a path, an ARN or a time: 8 characters or
/// more, not letters alone (but for a mix of cases inside that is not mostly words:
/// `GetSecretValue` is words), not starting like a path. After a name about the secret
/// (`about`), not word sequences nor file names either.
fn looks_like_a_token(value: &str, about: bool) -> bool {
    let word = value.chars().all(|c| c.is_ascii_alphabetic())
        && (!value.chars().skip(1).any(|c| c.is_ascii_uppercase()) || in_words(value) * 5 >= value.len() * 3);
    value.len() >= 8
        && !word
        && !value.starts_with(['/', '~', '.', '$', '%'])
        && !value.starts_with("arn:")
        && !value.contains("://")
        && !is_time(value)
        && !(about && words_or_file_name(value))
}

/// Where the value that starts `rest` ends: at the quote that closes `quote` (past
/// backslash escapes), else at the first space, quote or separator.
fn value_end(rest: &str, quote: Option<&str>) -> usize {
    match quote {
        Some(q) if q.len() > 1 => rest.find(q).unwrap_or(rest.len()),
        Some(q) => {
            let mut escaped = false;
            for (at, c) in rest.char_indices() {
                if !escaped && q.starts_with(c) {
                    return at;
                }
                escaped = !escaped && c == '\\';
            }
            rest.len()
        }
        None => rest
            .find(|c: char| c.is_whitespace() || "\"'`,;&)]}>".contains(c))
            .unwrap_or(rest.len()),
    }
}

/// Whether the rest of a name after its secret's word (`_name`, `ExpiresAt`,
/// `-cache-dir`) has a word about the secret.
fn about_the_secret(rest_of_name: &str) -> bool {
    let mut words = Vec::new();
    let mut start = 0;
    let mut previous = ' ';
    for (at, c) in rest_of_name.char_indices() {
        if c == '-' || c == '_' || (c.is_ascii_uppercase() && previous.is_ascii_lowercase()) {
            words.push(&rest_of_name[start..at]);
            start = at + usize::from(!c.is_ascii_uppercase());
        }
        previous = c;
    }
    words.push(&rest_of_name[start..]);
    words
        .iter()
        .any(|w| !w.is_empty() && ABOUT_WORDS.split(' ').any(|a| a.eq_ignore_ascii_case(w)))
}

/// A value named at some place: where it starts, the quote that opened it, whether any
/// value counts, and whether the name is one about the secret.
struct Named {
    value_at: usize,
    quote: Option<&'static str>,
    any_value: bool,
    about: bool,
}

/// If a secret's name has its word at `i` (of `text`, in a name from `name_start`;
/// `lower` is the text in lower case): where its value starts and how to read it.
fn named_at(text: &str, lower: &str, i: usize, name_start: usize) -> Option<Named> {
    let rest = &lower[i..];
    let words = |list: &'static str| list.split(' ').find(|w| rest.starts_with(w));
    if let Some(word) = words(PASSWORD_WORDS).or_else(|| words(TOKEN_WORDS)) {
        // The rest of the name (`secret_access_key`), a closing quote, then `:` or `=`,
        // or after a `--flag`, spaces.
        let after = &rest[word.len()..];
        let name_len = word.len() + after.find(|c: char| !is_name_char(c)).unwrap_or(after.len());
        let about = about_the_secret(&text[i + word.len()..i + name_len]);
        let any_value = !about && PASSWORD_WORDS.split(' ').any(|w| w == word);
        let after_name = &rest[name_len..];
        // A field of an ARN (`arn:aws:secretsmanager:us-east-1:...`) is no name.
        let in_arn = text[..name_start].ends_with(':')
            && after_name.starts_with(':')
            && after_name[1..].starts_with(|c: char| !c.is_whitespace());
        let after = after_name.trim_start_matches(['"', '\'', '\\']).trim_start();
        let after = match after.strip_prefix([':', '=']) {
            _ if in_arn => None,
            Some(after) => Some(after.trim_start()),
            None if text[name_start..].starts_with("--") && after_name.starts_with(' ') => {
                Some(after).filter(|a| !a.starts_with('-'))
            }
            None => None,
        };
        if let Some(after) = after {
            // Python's `b'...'` or `r"..."`: past the prefix to the quote.
            let prefix = after.find(|c: char| !"bru".contains(c)).unwrap_or(0);
            let after = match &after[prefix..] {
                quoted if prefix <= 2 && quoted.starts_with(['"', '\'']) => quoted,
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
            let value_at = lower.len() - after.len() + quote.map_or(0, str::len);
            return Some(Named {
                value_at,
                quote,
                any_value,
                about,
            });
        }
    }
    let starts_word = text[..i].chars().next_back().is_none_or(|c| !c.is_ascii_alphanumeric());
    if !starts_word {
        return None;
    }
    let scheme = SCHEMES.split(' ').find(|w| rest.starts_with(w))?;
    let after = &rest[scheme.len()..];
    let value = after.trim_start_matches(' ');
    (value.len() < after.len()).then_some(Named {
        value_at: lower.len() - value.len(),
        quote: None,
        any_value: false,
        about: false,
    })
}

fn named_values(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut name_start = 0;
    while i < text.len() {
        if text[..i].chars().next_back().is_some_and(|c| !is_name_char(c)) {
            name_start = i;
        }
        if let Some(Named {
            value_at,
            quote,
            any_value,
            about,
        }) = named_at(text, &lower, i, name_start)
        {
            let end = value_at + value_end(&text[value_at..], quote);
            let value = &text[value_at..end];
            out.push_str(&text[i..value_at]);
            let secret = if any_value {
                !value.is_empty()
            } else {
                looks_like_a_token(value, about)
            };
            out.push_str(if secret { REDACTED } else { value });
            i = end;
            name_start = text[..i].trim_end_matches(is_name_char).len();
            continue;
        }
        let c = text[i..].chars().next().expect("i is a char boundary");
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// A URL's password that is a port and a path (`host:8443/users/me@corp`).
fn port_and_path(password: &str) -> bool {
    let digits = password.len() - password.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    digits > 0 && (digits == password.len() || password[digits..].starts_with('/'))
}

/// `scheme://user:password@host` → `scheme://user:[redacted]@host`, the password with
/// a `/` in it (`https://bob:pa/ss@host/`) too.
fn url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        out.push_str(&rest[..at + 3]);
        rest = &rest[at + 3..];
        let url = &rest[..rest
            .find(|c: char| c.is_whitespace() || "\"'`<>".contains(c))
            .unwrap_or(rest.len())];
        let authority = &url[..url.find('/').unwrap_or(url.len())];
        let user_end = url.find([':', '/', '@']).unwrap_or(url.len());
        if !url[user_end..].starts_with(':') {
            continue;
        }
        let password_end = authority.rfind('@').or_else(|| {
            let at = url.find('@')?;
            (at > user_end && !port_and_path(&url[user_end + 1..at])).then_some(at)
        });
        if let Some(password_end) = password_end.filter(|&end| end > user_end) {
            out.push_str(&rest[..user_end + 1]);
            out.push_str(REDACTED);
            rest = &rest[password_end..];
        }
    }
    out.push_str(rest);
    out
}

/// `user:password@host:port` without a scheme (a proxy's) → `user:[redacted]@host:port`.
fn schemeless_passwords(text: &str) -> String {
    let is_user_char = |c: char| c.is_ascii_alphanumeric() || "._~%+-".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for (at, _) in text.match_indices('@') {
        if at < done {
            continue;
        }
        // After the `@`, a host and a port.
        let host = &text[at + 1..];
        let host_len = host
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
            .unwrap_or(host.len());
        let port = host[host_len..].strip_prefix(':').unwrap_or("");
        let port_len = port.find(|c: char| !c.is_ascii_digit()).unwrap_or(port.len());
        if host_len == 0 || port_len == 0 || port[port_len..].starts_with(|c: char| c.is_ascii_alphanumeric()) {
            continue;
        }
        // Before it, `user:password`, the user after a space, a quote or the start.
        let before = &text[done..at];
        let password = &before[before
            .trim_end_matches(|c: char| !(c.is_whitespace() || "@:\"'`".contains(c)))
            .len()..];
        let Some(user_part) = before[..before.len() - password.len()].strip_suffix(':') else {
            continue;
        };
        let user = &user_part[user_part.trim_end_matches(is_user_char).len()..];
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
    let class = |c: char| match c {
        'A'..='Z' => 0u8,
        'a'..='z' => 1,
        '0'..='9' => 2,
        _ => 3,
    };
    let classes: Vec<u8> = piece.chars().map(class).collect();
    let changes = classes.windows(2).filter(|w| w[0] != w[1]).count();
    classes.len() >= SHAPE_MIN_PIECE
        && classes.contains(&0)
        && classes.contains(&1)
        && changes * 5 >= (classes.len() - 1) * 2
        && in_words(piece) * 5 < piece.len() * 3
}

/// An AWS secret access key: 40 of base64, upper and lower case and a digit, not a path
/// nor mostly words.
fn aws_secret_key(piece: &str) -> bool {
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
    run.split('=').any(|piece| {
        TOKEN_PREFIXES.split(' ').any(|prefix| {
            piece.strip_prefix(prefix).is_some_and(|rest| {
                rest.contains(|c: char| c.is_ascii_digit())
                    && rest.split(['-', '_']).any(|p| p.len() >= PREFIXED_MIN_PIECE)
            })
        })
    })
}

fn by_shape(text: &str) -> String {
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || "+/=_-.~%".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(is_token_char) {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(|c: char| !is_token_char(c)).unwrap_or(rest.len());
        let run = &rest[..end];
        let secret = run.split(['/', '_', '-', '.']).any(random_looking)
            || run.split(['_', '-', '.', '~', '%', '=']).any(aws_secret_key)
            || prefixed_token(run);
        out.push_str(if secret { REDACTED } else { run });
        rest = &rest[end..];
    }
    out.push_str(rest);
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

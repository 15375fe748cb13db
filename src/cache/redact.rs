//! Taking what looks like a secret out of a failed plugin's stderr before a failure
//! record keeps it: `aws --debug` prints the session token it signs with, a proxy error
//! its URL with the password. The record is the user's alone (0600, in their own
//! directory), like the tokens in cache files, so this is a second line, tuned to keep
//! what a person needs to act on the error (roles, ARNs, cluster names, paths) readable.
//!
//! Three rules, each replacing the secret with `[redacted]`:
//! - a value after a word that names a secret, then `:` or `=` (JSON's `"name": "value"`
//!   too): after `password`, any value; after `token`, `secret`, `session` or an API
//!   key's name, and after `Bearer` or `Basic`, a value that looks like a token, not a
//!   word (`could not get a token: authentication error` stays) nor a path
//!   (`--token-cache-dir=/home/me/...` stays);
//! - the password in a URL (`https://user:password@host`);
//! - by shape: a run of token characters (base64, base64url, JWT) with a piece, between
//!   `/`, `_`, `-` or `.`, of 12 or more that mixes upper and lower case as randomly as
//!   a key does (the character class changes at 2 in 5 places or more):
//!   `AWSReservedSSO_AdministratorAccess_0a1b2c3d` and `ProdCluster2023` are words.

/// Words that name a secret whose value is one whatever it looks like. (Word lists are
/// one string each, not `&[&str]`: every `&str` in a static table costs every run of
/// the binary, hits included, a load-time relocation.)
const PASSWORD_WORDS: &str = "password passwd";
/// Words that name a secret whose value is one when it looks like a token.
const TOKEN_WORDS: &str = "token secret session apikey api_key api-key";
/// Words after which, past spaces, comes a token (HTTP authorization schemes).
const SCHEMES: &str = "bearer basic";

/// The shortest piece of a run that may be a secret by its shape alone.
const SHAPE_MIN_PIECE: usize = 12;

const REDACTED: &str = "[redacted]";

pub fn redact_secrets(text: &str) -> String {
    by_shape(&url_passwords(&named_values(text)))
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// A value that is a token rather than a word or a path: 8 characters or more, not
/// letters alone (but for a mix of cases inside), not starting like a path.
fn looks_like_a_token(value: &str) -> bool {
    let word = value.chars().all(|c| c.is_ascii_alphabetic()) && !value.chars().skip(1).any(|c| c.is_ascii_uppercase());
    value.len() >= 8 && !word && !value.starts_with(['/', '~', '.', '$', '%']) && !value.contains("://")
}

/// Where the value that starts `rest` ends: at its closing quote when `quote` opened
/// it, else at the first space, quote or separator.
fn value_end(rest: &str, quote: Option<char>) -> usize {
    match quote {
        Some(q) => rest.find(q).unwrap_or(rest.len()),
        None => rest
            .find(|c: char| c.is_whitespace() || "\"'`,;&)]}>".contains(c))
            .unwrap_or(rest.len()),
    }
}

/// If a secret's name starts at `i` (of `lower`, the text in lower case): where its
/// value starts, the quote that opened it, and whether any value counts.
fn named_at(lower: &str, i: usize) -> Option<(usize, Option<char>, bool)> {
    let rest = &lower[i..];
    let words = |list: &'static str| list.split(' ').find(|w| rest.starts_with(w));
    if let Some(word) = words(PASSWORD_WORDS).or_else(|| words(TOKEN_WORDS)) {
        let any_value = PASSWORD_WORDS.split(' ').any(|w| w == word);
        // The rest of the name (`secret_access_key`), a closing quote, then `:` or `=`.
        let after = &rest[word.len()..];
        let name_len = word.len() + after.find(|c: char| !is_name_char(c)).unwrap_or(after.len());
        let after = rest[name_len..].trim_start_matches(['"', '\'']).trim_start();
        let after = after.strip_prefix([':', '='])?.trim_start();
        let quote = after.chars().next().filter(|c| matches!(c, '"' | '\'' | '`'));
        let value_at = lower.len() - after.len() + quote.map_or(0, char::len_utf8);
        return Some((value_at, quote, any_value));
    }
    let scheme = SCHEMES.split(' ').find(|w| rest.starts_with(w))?;
    let after = &rest[scheme.len()..];
    let value = after.trim_start_matches(' ');
    (value.len() < after.len()).then_some((lower.len() - value.len(), None, false))
}

fn named_values(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let starts_word = text[..i].chars().next_back().is_none_or(|c| !c.is_ascii_alphanumeric());
        if starts_word && let Some((value_at, quote, any_value)) = named_at(&lower, i) {
            let end = value_at + value_end(&text[value_at..], quote);
            let value = &text[value_at..end];
            out.push_str(&text[i..value_at]);
            let secret = if any_value {
                !value.is_empty()
            } else {
                looks_like_a_token(value)
            };
            out.push_str(if secret { REDACTED } else { value });
            i = end;
            continue;
        }
        let c = text[i..].chars().next().expect("i is a char boundary");
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// `scheme://user:password@host` → `scheme://user:[redacted]@host`.
fn url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        out.push_str(&rest[..at + 3]);
        rest = &rest[at + 3..];
        let authority = &rest[..rest.find(|c: char| c == '/' || c.is_whitespace()).unwrap_or(rest.len())];
        if let Some(userinfo_end) = authority.rfind('@')
            && let Some(colon) = authority[..userinfo_end].find(':')
        {
            out.push_str(&rest[..colon + 1]);
            out.push_str(REDACTED);
            rest = &rest[userinfo_end..];
        }
    }
    out.push_str(rest);
    out
}

/// Whether `piece` looks like a piece of a key: long, both cases, and the class of
/// character (upper, lower, digit, other) changing as often as at random.
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
        let secret = run.split(['/', '_', '-', '.']).any(random_looking);
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
        ] {
            let kept = redact_secrets(text);
            assert!(!kept.contains(secret), "{secret} kept: {kept}");
            assert!(kept.contains(REDACTED), "{kept}");
        }
    }

    #[test]
    fn what_a_person_needs_stays() {
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
        ] {
            assert_eq!(redact_secrets(text), text);
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_comes_through_whole_but_for_what_is_redacted(text in "(\\PC|token=|://a:b@|Bearer |\\s){0,40}") {
            let out = redact_secrets(&text);
            if !out.contains(REDACTED) {
                proptest::prop_assert_eq!(out, text);
            }
        }
    }
}

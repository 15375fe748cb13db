//! Taking what looks like a secret out of a failed plugin's stderr before a failure
//! record keeps it: `aws --debug` prints the session token it signs with, a proxy error
//! its URL with the password. The record is the user's alone (0600, in their own
//! directory), like the tokens in cache files, so this is a second line, tuned to keep
//! what a person needs to act on the error (roles, ARNs, cluster names, paths) readable.
//!
//! Three rules, each replacing the secret with `[redacted]`:
//! - a value after a word that names a secret: `token=`, `password: `, `SecretAccessKey=`,
//!   `X-Amz-Security-Token: `, `Authorization: Bearer `;
//! - the password in a URL (`https://user:password@host`);
//! - by shape: a run of token characters (base64, base64url, JWT, `~`, `%`) of 20 or
//!   more that mixes upper case, lower case and digits, where `/` does not cut it into
//!   short pieces as in a path or an ARN (`assumed-role/AdminRole2/me`).

/// Words that name a secret; the value after `:` or `=` is one. (Word lists here are
/// one string each, not `&[&str]`: every `&str` in a static table costs every run of
/// the binary, hits included, a load-time relocation.)
const SECRET_WORDS: &str = "token secret password passwd pwd apikey api_key api-key session";
/// Words after which, past spaces, comes a secret (HTTP authorization schemes).
const SCHEMES: &str = "bearer basic";

/// The shortest value after a secret's name that is taken for a secret (not `expired`).
const NAMED_MIN_LEN: usize = 8;
/// The shortest run that may be a secret by its shape alone, and its shortest piece
/// between two `/`.
const SHAPE_MIN_LEN: usize = 20;
const SHAPE_MIN_PIECE: usize = 16;

const REDACTED: &str = "[redacted]";

pub fn redact_secrets(text: &str) -> String {
    by_shape(&url_passwords(&named_values(text)))
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Where a value that ends at the first space, quote or separator ends.
fn value_end(s: &str) -> usize {
    s.find(|c: char| c.is_whitespace() || "\"'`,;&)]}>".contains(c))
        .unwrap_or(s.len())
}

fn named_values(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let starts_word = text[..i].chars().next_back().is_none_or(|c| !c.is_ascii_alphanumeric());
        let named = starts_word
            .then(|| {
                let rest = &lower[i..];
                if let Some(word) = SECRET_WORDS.split(' ').find(|w| rest.starts_with(w)) {
                    // The rest of the name (`secret_access_key`), then `:` or `=`.
                    let after = &rest[word.len()..];
                    let name_end = word.len() + after.find(|c: char| !is_word_char(c)).unwrap_or(after.len());
                    let sep = &lower[i + name_end..];
                    let trimmed = sep.trim_start();
                    let sep_len = sep.len() - trimmed.len();
                    trimmed.starts_with([':', '=']).then(|| {
                        let after_sep = &trimmed[1..];
                        let value_at = after_sep.len() - after_sep.trim_start_matches([' ', '"', '\'', '`']).len();
                        i + name_end + sep_len + 1 + value_at
                    })
                } else {
                    SCHEMES.split(' ').find(|w| rest.starts_with(w)).and_then(|w| {
                        let after = &rest[w.len()..];
                        let value_at = after.len() - after.trim_start_matches(' ').len();
                        (value_at > 0).then_some(i + w.len() + value_at)
                    })
                }
            })
            .flatten();
        if let Some(value_at) = named {
            let end = value_at + value_end(&text[value_at..]);
            out.push_str(&text[i..value_at]);
            let value = &text[value_at..end];
            out.push_str(if value.len() >= NAMED_MIN_LEN { REDACTED } else { value });
            i = end.max(i + 1);
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

fn by_shape(text: &str) -> String {
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || "+/=_-.~%".contains(c);
    let mixed = |s: &str| {
        s.chars().any(|c| c.is_ascii_uppercase())
            && s.chars().any(|c| c.is_ascii_lowercase())
            && s.chars().any(|c| c.is_ascii_digit())
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(is_token_char) {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(|c: char| !is_token_char(c)).unwrap_or(rest.len());
        let run = &rest[..end];
        let secret = run.len() >= SHAPE_MIN_LEN
            && mixed(run)
            && (!run.contains('/')
                || run
                    .split('/')
                    .any(|piece| piece.len() >= SHAPE_MIN_PIECE && mixed(piece)));
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

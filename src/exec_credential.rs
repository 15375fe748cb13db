//! `ExecCredential`: what an exec plugin prints. We read only what caching needs (is it
//! one, its apiVersion, its expiry) and keep the plugin's JSON text as it was.

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// A plugin's output that is an ExecCredential.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecCredential {
    /// The JSON exactly as the plugin printed it.
    pub json: String,
    pub api_version: String,
    /// `status.expirationTimestamp`; `None` means the plugin promises nothing, and we do not cache.
    pub expires: Option<DateTime<Utc>>,
    /// `status.token`, for providers that can read a tighter expiry out of it. Never logged.
    pub token: Option<String>,
}

#[derive(Deserialize)]
struct Shape {
    kind: String,
    #[serde(rename = "apiVersion")]
    api_version: String,
    status: Status,
}

#[derive(Deserialize)]
struct Status {
    #[serde(rename = "expirationTimestamp")]
    expiration_timestamp: Option<String>,
    token: Option<String>,
    #[serde(rename = "clientCertificateData")]
    client_certificate_data: Option<String>,
    #[serde(rename = "clientKeyData")]
    client_key_data: Option<String>,
}

impl Status {
    /// Whether kubectl takes this status (client-go's exec authenticator,
    /// `refreshCredsLocked`): a token, or a client certificate and its key, or both; a
    /// certificate without its key (or a key without its certificate) is refused even
    /// beside a token. An empty string is no value, as in Go. A credential kubectl
    /// refuses must never be cached: every run would fail until it expired, where the
    /// plugin alone would have been asked again.
    fn kubectl_accepts(&self) -> bool {
        let given = |field: &Option<String>| field.as_deref().is_some_and(|v| !v.is_empty());
        let (token, cert, key) = (
            given(&self.token),
            given(&self.client_certificate_data),
            given(&self.client_key_data),
        );
        (token || cert) && cert == key && self.token.as_deref().is_none_or(can_be_sent)
    }
}

/// Whether kubectl can send `token` in its `Authorization` header: Go's HTTP client
/// refuses every request whose header value holds a control character other than a tab
/// (`httpguts.ValidHeaderFieldValue`), a newline a glitching plugin left in the token
/// among them. kubectl takes such a credential, then fails each request with it.
fn can_be_sent(token: &str) -> bool {
    !token.bytes().any(|b| (b < b' ' && b != b'\t') || b == 0x7f)
}

impl ExecCredential {
    /// Reads a plugin's stdout. `None` when it is not an ExecCredential kubectl would take
    /// (see [`Status::kubectl_accepts`]). A timestamp that does not parse counts as no
    /// expiry.
    pub fn parse(stdout: &[u8]) -> Option<ExecCredential> {
        let text = std::str::from_utf8(stdout).ok()?;
        let shape: Shape = serde_json::from_str(text).ok()?;
        if shape.kind != "ExecCredential" || !shape.status.kubectl_accepts() {
            return None;
        }
        let expires = shape.status.expiration_timestamp.as_deref().and_then(parse_timestamp);
        Some(ExecCredential {
            json: text.trim_end().to_string(),
            api_version: shape.api_version,
            expires,
            token: shape.status.token,
        })
    }

    /// The text to print for a kubectl that asked for `wanted` (from `KUBERNETES_EXEC_INFO`):
    /// the stored JSON untouched when it already matches or nothing was asked, else the
    /// same JSON with `apiVersion` replaced.
    pub fn render(&self, wanted: Option<&str>) -> String {
        match wanted {
            Some(w) if w != self.api_version => with_api_version(&self.json, w).unwrap_or_else(|| self.json.clone()),
            _ => self.json.clone(),
        }
    }
}

fn with_api_version(json: &str, api_version: &str) -> Option<String> {
    let mut value: serde_json::Value = serde_json::from_str(json).ok()?;
    value.as_object_mut()?.insert("apiVersion".into(), api_version.into());
    serde_json::to_string(&value).ok()
}

pub fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// What kubectl tells its plugin in `KUBERNETES_EXEC_INFO`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
pub struct ExecInfo {
    #[serde(rename = "apiVersion")]
    pub api_version: Option<String>,
    #[serde(default)]
    pub spec: ExecInfoSpec,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
pub struct ExecInfoSpec {
    /// Whether kubectl gave the plugin a terminal a person can answer on.
    #[serde(default)]
    pub interactive: bool,
}

impl ExecInfo {
    /// Parses `KUBERNETES_EXEC_INFO`; absent or unreadable means nothing was said.
    pub fn parse(exec_info: Option<&str>) -> ExecInfo {
        exec_info
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1BETA1: &str = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{},"status":{"expirationTimestamp":"2026-11-28T10:15:00Z","token":"k8s-aws-v1.abc"}}"#;

    #[test]
    fn parses_token_api_version_and_expiry() {
        let c = ExecCredential::parse(format!("{V1BETA1}\n").as_bytes()).unwrap();
        assert_eq!(c.api_version, "client.authentication.k8s.io/v1beta1");
        assert_eq!(c.expires.unwrap().to_rfc3339(), "2026-11-28T10:15:00+00:00");
        assert_eq!(c.json, V1BETA1, "trailing newline trimmed, text otherwise kept");
    }

    #[test]
    fn offsets_in_the_timestamp_are_honoured() {
        let json = V1BETA1.replace("2026-11-28T10:15:00Z", "2026-11-28T12:15:00+02:00");
        let c = ExecCredential::parse(json.as_bytes()).unwrap();
        assert_eq!(c.expires, parse_timestamp("2026-11-28T10:15:00Z"));
    }

    #[test]
    fn no_or_bad_expiry_means_none() {
        let none = V1BETA1.replace(r#""expirationTimestamp":"2026-11-28T10:15:00Z","#, "");
        assert_eq!(ExecCredential::parse(none.as_bytes()).unwrap().expires, None);
        let bad = V1BETA1.replace("2026-11-28T10:15:00Z", "tomorrow");
        assert_eq!(ExecCredential::parse(bad.as_bytes()).unwrap().expires, None);
    }

    #[test]
    fn things_that_are_not_exec_credentials_are_refused() {
        for text in [
            "",
            "not json",
            "[1,2]",
            r#"{"kind":"Pod","apiVersion":"v1","status":{"token":"x"}}"#,
            r#"{"kind":"ExecCredential","apiVersion":"v","status":{}}"#,
            r#"{"kind":"ExecCredential","status":{"token":"x"}}"#,
        ] {
            assert_eq!(ExecCredential::parse(text.as_bytes()), None, "{text}");
        }
        assert_eq!(ExecCredential::parse(b"\xff\xfe"), None);
    }

    /// What client-go's exec authenticator refuses ("didn't return a status field",
    /// "didn't return a token or cert/key pair", "returned only certificate or key, not
    /// both") is no credential to us either, and what it takes is one.
    #[test]
    fn what_kubectl_refuses_is_not_a_credential_and_what_it_takes_is() {
        let with = |status: &str| {
            format!(r#"{{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{status}}}"#)
        };
        for refused in [
            r#"{"token":""}"#,
            r#"{"token":"","expirationTimestamp":"2026-11-28T10:15:00Z"}"#,
            r#"{"token":null}"#,
            r#"{"clientCertificateData":"CERT"}"#,
            r#"{"clientKeyData":"KEY"}"#,
            r#"{"clientCertificateData":"CERT","clientKeyData":""}"#,
            r#"{"token":"t","clientCertificateData":"CERT"}"#,
            r#"{"token":"t","clientKeyData":"KEY"}"#,
            r#"{"token":"","clientCertificateData":"","clientKeyData":""}"#,
            r#"{"token":"t\n"}"#,
            r#"{"token":"a\r\nb"}"#,
            r#"{"token":"t\u0000"}"#,
            r#"{"token":"t\u007f"}"#,
            "null",
        ] {
            assert_eq!(ExecCredential::parse(with(refused).as_bytes()), None, "{refused}");
        }
        let no_status = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1"}"#;
        assert_eq!(ExecCredential::parse(no_status.as_bytes()), None);
        for taken in [
            r#"{"token":"t"}"#,
            r#"{"clientCertificateData":"CERT","clientKeyData":"KEY"}"#,
            r#"{"token":"t","clientCertificateData":"CERT","clientKeyData":"KEY"}"#,
            r#"{"token":"t","clientCertificateData":"","clientKeyData":""}"#,
            r#"{"token":"a b\tc é"}"#,
        ] {
            assert!(ExecCredential::parse(with(taken).as_bytes()).is_some(), "{taken}");
        }
    }

    #[test]
    fn render_rewrites_only_a_different_api_version() {
        let c = ExecCredential::parse(V1BETA1.as_bytes()).unwrap();
        assert_eq!(c.render(None), V1BETA1);
        assert_eq!(c.render(Some("client.authentication.k8s.io/v1beta1")), V1BETA1);
        let v1 = c.render(Some("client.authentication.k8s.io/v1"));
        let value: serde_json::Value = serde_json::from_str(&v1).unwrap();
        assert_eq!(value["apiVersion"], "client.authentication.k8s.io/v1");
        assert_eq!(value["status"]["token"], "k8s-aws-v1.abc");
        assert_eq!(value["status"]["expirationTimestamp"], "2026-11-28T10:15:00Z");
    }

    #[test]
    fn exec_info_says_which_api_version_and_whether_someone_is_there() {
        let info =
            r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":true}}"#;
        let parsed = ExecInfo::parse(Some(info));
        assert_eq!(parsed.api_version.as_deref(), Some("client.authentication.k8s.io/v1"));
        assert!(parsed.spec.interactive);
        assert!(!ExecInfo::parse(Some(r#"{"apiVersion":"v"}"#)).spec.interactive);
        assert_eq!(ExecInfo::parse(Some("garbage")), ExecInfo::default());
        assert_eq!(ExecInfo::parse(None), ExecInfo::default());
    }
}

//! Headers of outbound requests: how a secret is attached, which headers the
//! host owns, and response headers read as plain pairs.

use base64::Engine as _;
use serde::Deserialize;

/// How the host attaches a secret to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthScheme {
    /// `Authorization: Bearer <secret>`.
    Bearer,
    /// `Authorization: Basic base64(<secret>)`, the secret being `user:password`.
    Basic,
    /// `<name>: <secret>`.
    Header(String),
}

impl<'de> Deserialize<'de> for AuthScheme {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "bearer" => Ok(AuthScheme::Bearer),
            "basic" => Ok(AuthScheme::Basic),
            other => match other.strip_prefix("header:") {
                Some(name) if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') => {
                    Ok(AuthScheme::Header(name.to_string()))
                }
                _ => Err(serde::de::Error::custom(format!("unknown auth scheme {other:?}: use \"bearer\", \"basic\" or \"header:Name\""))),
            },
        }
    }
}

/// The header that carries `secret` under `scheme`, as (lower-case name, value).
pub fn auth_header(scheme: &AuthScheme, secret: &str) -> (String, String) {
    match scheme {
        AuthScheme::Bearer => ("authorization".into(), format!("Bearer {secret}")),
        AuthScheme::Basic => {
            ("authorization".into(), format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(secret.as_bytes())))
        }
        AuthScheme::Header(name) => (name.to_ascii_lowercase(), secret.to_string()),
    }
}

/// Headers a plugin may not set: the host owns them.
pub const FORBIDDEN_HEADERS: &[&str] =
    &["host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer", "proxy-authorization"];

/// The first header a plugin may not set (see [`FORBIDDEN_HEADERS`]), if any.
pub fn forbidden_header(headers: &[(String, String)]) -> Option<&str> {
    headers.iter().map(|(name, _)| name.as_str()).find(|name| FORBIDDEN_HEADERS.contains(&name.to_ascii_lowercase().as_str()))
}

/// Header name / value pairs (values that are not visible ASCII are left out).
pub fn header_pairs(map: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    map.iter().filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_attached_by_scheme() {
        assert_eq!(auth_header(&AuthScheme::Bearer, "t"), ("authorization".into(), "Bearer t".into()));
        assert_eq!(auth_header(&AuthScheme::Basic, "u:p"), ("authorization".into(), "Basic dTpw".into()));
        assert_eq!(auth_header(&AuthScheme::Header("X-Api-Key".into()), "k"), ("x-api-key".into(), "k".into()));
    }

    #[test]
    fn host_owned_headers_are_found_in_any_case() {
        let h = |n: &str| vec![("accept".to_string(), "x".to_string()), (n.to_string(), "y".to_string())];
        assert_eq!(forbidden_header(&h("Content-Length")), Some("Content-Length"));
        assert_eq!(forbidden_header(&h("x-custom")), None);
    }
}

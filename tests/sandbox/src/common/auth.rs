//! Parsing of the `Authorization` header.

use axum::http::HeaderMap;
use base64::Engine;

/// What a request presented as credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented {
    /// No `Authorization` header.
    Missing,
    /// `Basic` with decoded user and password.
    Basic(String, String),
    /// `Bearer` token.
    Bearer(String),
    /// Anything else (unknown scheme, bad base64).
    Malformed,
}

/// Reads the `Authorization` header.
pub fn presented(headers: &HeaderMap) -> Presented {
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return Presented::Missing;
    };
    let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
        return Presented::Bearer(rest.to_owned());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD.decode(rest).ok().and_then(|b| String::from_utf8(b).ok());
        if let Some((user, pass)) = decoded.as_deref().and_then(|d| d.split_once(':')) {
            return Presented::Basic(user.to_owned(), pass.to_owned());
        }
    }
    Presented::Malformed
}

/// Builds a `Basic` header value, for tests and clients.
pub fn basic(user: &str, pass: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}")))
}

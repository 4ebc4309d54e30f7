//! Token-endpoint error answers: RFC 6749 §5.2 `{error, error_description}`,
//! 400 (401 with `invalid_client`), plus HubSpot's legacy fields where the
//! vendor profile asks for them.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{ClientAuth, Vendor};
use crate::common::util::now_millis;

/// A refused token (or authorize) request.
#[derive(Debug, Clone)]
pub struct OAuthError {
    /// HTTP status.
    pub status: StatusCode,
    /// RFC 6749 error code.
    pub error: String,
    /// Human-readable detail.
    pub description: String,
    /// HubSpot's legacy `status` code for the same failure.
    pub legacy: &'static str,
}

impl OAuthError {
    /// An error; `invalid_client` is a 401, everything else a 400.
    pub fn new(error: &str, description: impl Into<String>) -> Self {
        let status = if error == "invalid_client" { StatusCode::UNAUTHORIZED } else { StatusCode::BAD_REQUEST };
        // [U] oauth.md §1 HubSpot: the legacy `status` values are not in the reference; these are the
        // codes HubSpot's v1 endpoint is known to send (BAD_CLIENT_ID, BAD_AUTH_CODE, BAD_REFRESH_TOKEN, ...).
        let legacy = match error {
            "invalid_client" => "BAD_CLIENT_ID",
            "invalid_grant" => "BAD_AUTH_CODE",
            "unsupported_grant_type" => "BAD_GRANT_TYPE",
            _ => "BAD_REQUEST",
        };
        Self { status, error: error.to_owned(), description: description.into(), legacy }
    }

    /// Overrides the legacy HubSpot `status`.
    pub fn legacy(mut self, status: &'static str) -> Self {
        self.legacy = status;
        self
    }

    /// The answer in `vendor`'s dialect.
    pub fn response(self, vendor: &Vendor) -> Response {
        let mut body = json!({ "error": self.error, "error_description": self.description });
        if vendor.legacy_errors {
            body["status"] = json!(self.legacy);
            body["message"] = json!(self.description);
            body["correlationId"] = json!(format!("sbx-{:x}", now_millis()));
        }
        let mut r = (self.status, Json(body)).into_response();
        r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.status == StatusCode::UNAUTHORIZED && vendor.client_auth == ClientAuth::Basic {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"oauth\""));
        }
        r
    }
}

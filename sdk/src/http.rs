//! Outbound HTTP with JSON helpers. The host attaches the named credential,
//! enforces the allow-list and rate limits, and journals answers.
//!
//! ```ignore
//! let resp = http::post(&url).credential("api").json(&body)?.send()?;
//! let created: Ticket = resp.error_for_status()?.json()?;
//! ```

use crate::bindings::switchboard::plugin::http::{self as wit, Method};
use crate::bindings::switchboard::plugin::types::{PluginError, RateLimit};
use crate::error::CapabilityError;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A request being built.
pub struct RequestBuilder {
    req: wit::Request,
}

fn builder(method: Method, url: &str) -> RequestBuilder {
    RequestBuilder { req: wit::Request { method, url: url.to_string(), headers: Vec::new(), body: None, credential: None, timeout_ms: None } }
}

/// GET
pub fn get(url: &str) -> RequestBuilder {
    builder(Method::Get, url)
}
/// POST
pub fn post(url: &str) -> RequestBuilder {
    builder(Method::Post, url)
}
/// PUT
pub fn put(url: &str) -> RequestBuilder {
    builder(Method::Put, url)
}
/// PATCH
pub fn patch(url: &str) -> RequestBuilder {
    builder(Method::Patch, url)
}
/// DELETE
pub fn delete(url: &str) -> RequestBuilder {
    builder(Method::Delete, url)
}

impl RequestBuilder {
    /// Add a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.req.headers.push((name.to_string(), value.to_string()));
        self
    }
    /// Have the host attach the integration's secret `name`.
    pub fn credential(mut self, name: &str) -> Self {
        self.req.credential = Some(name.to_string());
        self
    }
    /// Per-request timeout.
    pub fn timeout_ms(mut self, ms: u32) -> Self {
        self.req.timeout_ms = Some(ms);
        self
    }
    /// A raw body.
    pub fn body(mut self, body: Vec<u8>) -> Self {
        self.req.body = Some(body);
        self
    }
    /// A JSON body (sets `content-type`).
    pub fn json<T: Serialize + ?Sized>(self, body: &T) -> Result<Self, PluginError> {
        let bytes = serde_json::to_vec(body).map_err(|e| PluginError::Permanent(format!("serialising request: {e}")))?;
        Ok(self.header("content-type", "application/json").body(bytes))
    }
    /// Send; transport failures and refusals are errors, statuses are not.
    pub fn send(self) -> Result<Response, CapabilityError> {
        wit::send(&self.req).map(|inner| Response { inner })
    }
}

/// An answer.
pub struct Response {
    inner: wit::Response,
}

impl Response {
    /// Status code.
    pub fn status(&self) -> u16 {
        self.inner.status
    }
    /// A header (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.inner.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.inner.body
    }
    /// The body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        serde_json::from_slice(&self.inner.body).map_err(|e| {
            PluginError::Retryable(format!("unexpected response body (status {}): {e}", self.inner.status))
        })
    }
    /// Turn error statuses into plugin errors: 429 rate-limited (honouring
    /// `Retry-After`), 401/403 unauthorised, 408/5xx retryable, other 4xx permanent.
    pub fn error_for_status(self) -> Result<Response, PluginError> {
        let status = self.inner.status;
        let text = || String::from_utf8_lossy(&self.inner.body).chars().take(300).collect::<String>();
        match status {
            200..=399 => Ok(self),
            429 => {
                let ms = self.header("retry-after").and_then(|v| v.trim().parse::<f64>().ok()).map(|s| (s * 1000.0) as u64).unwrap_or(5_000);
                Err(PluginError::RateLimited(RateLimit { retry_after_ms: ms, reason: format!("429: {}", text()) }))
            }
            401 | 403 => Err(PluginError::Unauthorized(format!("{status}: {}", text()))),
            408 | 500..=599 => Err(PluginError::Retryable(format!("{status}: {}", text()))),
            _ => Err(PluginError::Permanent(format!("{status}: {}", text()))),
        }
    }
}

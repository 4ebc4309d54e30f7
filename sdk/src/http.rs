//! Outbound HTTP with JSON helpers. The host attaches the named credential,
//! enforces the allow-list and rate limits, and journals answers.
//!
//! ```no_run
//! # use switchboard_sdk::{PluginError, http};
//! # #[derive(serde::Deserialize)] struct Ticket { id: u64 }
//! # fn f(url: &str, body: &serde_json::Value) -> Result<u64, PluginError> {
//! let resp = http::post(url).credential("api").json(body)?.send()?;
//! let created: Ticket = resp.error_for_status()?.json()?;
//! // A HEAD answers with the status and headers only: does the file exist, how big is it?
//! let size = http::head(url).send()?.header("content-length").and_then(|l| l.parse::<u64>().ok());
//! # Ok(created.id + size.unwrap_or(0))
//! # }
//! ```

use crate::bindings::switchboard::plugin::http::{self as wit, Method};
use crate::bindings::switchboard::plugin::types::{PluginError, RateLimit};
use crate::error::CapabilityError;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Times [`RequestBuilder::send_repeatable`] asks again after an ambiguous answer.
const REPEATS: usize = 3;

/// A request being built.
pub struct RequestBuilder {
    req: wit::Request,
}

fn builder(method: Method, url: &str) -> RequestBuilder {
    RequestBuilder {
        req: wit::Request { method, url: url.to_string(), headers: Vec::new(), body: None, credential: None, timeout_ms: None },
    }
}

/// Starts a `GET` of `url` (on a host the manifest allows); nothing is sent
/// before [`RequestBuilder::send`].
pub fn get(url: &str) -> RequestBuilder {
    builder(Method::Get, url)
}
/// Starts a `POST` of `url`; see [`get`].
pub fn post(url: &str) -> RequestBuilder {
    builder(Method::Post, url)
}
/// Starts a `PUT` of `url`; see [`get`].
pub fn put(url: &str) -> RequestBuilder {
    builder(Method::Put, url)
}
/// Starts a `PATCH` of `url`; see [`get`].
pub fn patch(url: &str) -> RequestBuilder {
    builder(Method::Patch, url)
}
/// Starts a `DELETE` of `url`; see [`get`].
pub fn delete(url: &str) -> RequestBuilder {
    builder(Method::Delete, url)
}
/// HEAD: the status and headers of a GET without its body (whether a file
/// exists, its size or type before downloading it).
pub fn head(url: &str) -> RequestBuilder {
    builder(Method::Head, url)
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

    /// Sends a request that is safe to repeat: it changes nothing although its
    /// method is POST (a search), or it sets the same end state however often
    /// it is made (a PUT of a whole record, a JSON Patch `replace`). When the
    /// host says an earlier attempt sent it and its answer was lost
    /// (ambiguous), it is simply sent again, so the job need not stop there.
    /// Use [`send`](Self::send) (and [`crate::once::write_once`]) for writes
    /// that add something.
    pub fn send_repeatable(self) -> Result<Response, CapabilityError> {
        for _ in 0..REPEATS {
            match (RequestBuilder { req: self.req.clone() }).send() {
                Err(CapabilityError::Ambiguous(_)) => continue,
                other => return other,
            }
        }
        self.send()
    }
}

/// The vendor's answer as the host hands it over: status, headers and body,
/// replayed from the journal when a retried job made the same request.
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
    /// The body's bytes as received; empty for a HEAD.
    pub fn body(&self) -> &[u8] {
        &self.inner.body
    }
    /// The body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        serde_json::from_slice(&self.inner.body)
            .map_err(|e| PluginError::Retryable(format!("unexpected response body (status {}): {e}", self.inner.status)))
    }
    /// How long a rate-limited answer asks the client to wait, in milliseconds:
    /// `Retry-After` (seconds), `X-RateLimit-Retry-After` (seconds; Help Scout),
    /// or `X-RateLimit-Reset` (a UNIX time, plus a second for clock skew, or
    /// seconds from now; Intercom, Aircall). At most 15 minutes.
    pub fn retry_after_ms(&self) -> Option<u64> {
        const MAX_MS: u64 = 15 * 60 * 1000;
        let seconds = |name: &str| {
            self.header(name)
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(|s| (s.min(1e7) * 1000.0) as u64)
        };
        let reset = || {
            let n: i64 = self.header("x-ratelimit-reset")?.trim().parse().ok()?;
            if n > 1_000_000_000 {
                let wait = n.saturating_mul(1000).saturating_sub(crate::now_ms());
                Some(u64::try_from(wait).unwrap_or(0).saturating_add(1_000))
            } else {
                u64::try_from(n).ok().map(|s| s.saturating_mul(1000))
            }
        };
        seconds("retry-after").or_else(|| seconds("x-ratelimit-retry-after")).or_else(reset).map(|ms| ms.min(MAX_MS))
    }

    /// The typed error for an answer that is not a success: 429 rate-limited
    /// (waiting [`Response::retry_after_ms`], else 10 s), 401/403 unauthorised,
    /// 408/5xx retryable, other statuses permanent. `api` names the service and
    /// `detail` says what it answered.
    pub fn status_error(&self, api: &str, detail: &str) -> PluginError {
        let status = self.inner.status;
        let message = if api.is_empty() { format!("{status}: {detail}") } else { format!("{api} {status}: {detail}") };
        match status {
            429 => PluginError::RateLimited(RateLimit { retry_after_ms: self.retry_after_ms().unwrap_or(10_000), reason: message }),
            401 | 403 => PluginError::Unauthorized(message),
            408 | 500..=599 => PluginError::Retryable(message),
            _ => PluginError::Permanent(message),
        }
    }

    /// Passes 2xx/3xx answers; others become [`Response::status_error`] with
    /// the start of the body as the detail.
    pub fn error_for_status(self) -> Result<Response, PluginError> {
        if (200..400).contains(&self.inner.status) {
            return Ok(self);
        }
        let text: String = String::from_utf8_lossy(&self.inner.body).chars().take(300).collect();
        Err(self.status_error("", &text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, headers: &[(&str, &str)]) -> Response {
        let headers = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Response { inner: wit::Response { status, headers, body: b"slow down".to_vec() } }
    }

    #[test]
    fn each_builder_sends_its_method() {
        let methods = [get("u"), post("u"), put("u"), patch("u"), delete("u"), head("u")].map(|b| b.req.method);
        assert!(matches!(methods, [Method::Get, Method::Post, Method::Put, Method::Patch, Method::Delete, Method::Head]));
        assert_eq!(head("https://files.example/a.mp3").req.url, "https://files.example/a.mp3");
    }

    #[test]
    fn each_service_s_wait_header_is_read() {
        assert_eq!(answer(429, &[("Retry-After", "2")]).retry_after_ms(), Some(2_000));
        assert_eq!(answer(429, &[("X-RateLimit-Retry-After", "7")]).retry_after_ms(), Some(7_000), "Help Scout");
        assert_eq!(answer(429, &[("X-RateLimit-Reset", "30")]).retry_after_ms(), Some(30_000), "seconds from now");
        assert_eq!(answer(429, &[("Retry-After", "99999")]).retry_after_ms(), Some(15 * 60 * 1000), "capped");
        assert_eq!(answer(429, &[("Retry-After", "soon")]).retry_after_ms(), None);
    }

    #[test]
    fn statuses_become_typed_errors() {
        match answer(429, &[("X-RateLimit-Retry-After", "3")]).status_error("Help Scout", "slow down") {
            PluginError::RateLimited(r) => {
                assert_eq!(r.retry_after_ms, 3_000);
                assert_eq!(r.reason, "Help Scout 429: slow down");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(answer(429, &[]).status_error("", ""), PluginError::RateLimited(RateLimit { retry_after_ms: 10_000, .. })));
        assert!(matches!(answer(401, &[]).status_error("X", ""), PluginError::Unauthorized(_)));
        assert!(matches!(answer(503, &[]).status_error("X", ""), PluginError::Retryable(_)));
        assert!(matches!(answer(422, &[]).status_error("X", ""), PluginError::Permanent(_)));
        assert!(answer(302, &[]).error_for_status().is_ok());
    }
}

//! The Help Scout Mailbox API 2.0, as this connector uses it (reference:
//! `shared/reference/intercom-helpscout-api.md` §2). Requests and JSON types
//! live here; the integration's rules live in the other modules.
//!
//! Every answer is treated as hostile: bodies are parsed into lenient types
//! (unknown fields ignored, missing fields defaulted) and ids are checked.

pub mod conversations;
pub mod customers;
pub mod users;

use switchboard_sdk::http::{self, RequestBuilder, Response};
use switchboard_sdk::{CapabilityError, PluginError};

/// The name of the secret the host attaches (`plugin.toml`, scheme bearer).
const CREDENTIAL: &str = "token";

/// What went wrong with one request.
#[derive(Debug)]
pub enum ApiError {
    /// An earlier attempt sent this write and its answer was lost: check before redoing it.
    Ambiguous,
    /// The record does not exist (deleted, merged).
    NotFound,
    /// A conversation is full: at most 100 threads (§2.1, 412).
    Full,
    /// Anything else, as the job's outcome.
    Fail(PluginError),
}

impl From<ApiError> for PluginError {
    fn from(e: ApiError) -> PluginError {
        match e {
            ApiError::Ambiguous => PluginError::Permanent("a Help Scout write of an earlier attempt may have happened".into()),
            ApiError::NotFound => PluginError::Permanent("Help Scout answered 404".into()),
            ApiError::Full => PluginError::Permanent("the conversation holds 100 threads".into()),
            ApiError::Fail(p) => p,
        }
    }
}

impl From<PluginError> for ApiError {
    fn from(e: PluginError) -> ApiError {
        ApiError::Fail(e)
    }
}

/// A result of the API layer.
pub type ApiResult<T> = Result<T, ApiError>;

/// The start of an error body, for messages (validation errors name the field).
fn excerpt(resp: &Response) -> String {
    String::from_utf8_lossy(resp.body()).chars().take(300).collect()
}

/// The Help Scout API at a base URL.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
}

impl Client {
    /// A client for `base` (e.g. `https://api.helpscout.net`, no trailing slash).
    pub fn new(base: &str) -> Client {
        Client { base: base.trim_end_matches('/').to_string() }
    }

    /// `base + path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Send with the credential and sort the answer: 2xx/3xx pass; 404 and 412 are
    /// typed; 429 waits for `X-RateLimit-Retry-After`; 401/403 pause the
    /// integration; 408/5xx retry; other 4xx are permanent.
    pub fn send(&self, req: RequestBuilder) -> ApiResult<Response> {
        Self::sort(req.credential(CREDENTIAL).timeout_ms(8_000).send())
    }

    /// [`Client::send`] for a write that ends in the same state however often
    /// it is made (a whole tag set PUT, a JSON Patch `replace`): when an
    /// earlier attempt's answer was lost it is simply made again.
    pub fn send_idempotent(&self, req: RequestBuilder) -> ApiResult<Response> {
        Self::sort(req.credential(CREDENTIAL).timeout_ms(8_000).send_repeatable())
    }

    fn sort(sent: Result<Response, CapabilityError>) -> ApiResult<Response> {
        let resp = match sent {
            Ok(r) => r,
            Err(CapabilityError::Ambiguous(_)) => return Err(ApiError::Ambiguous),
            Err(e) => return Err(ApiError::Fail(e.into())),
        };
        let status = resp.status();
        match status {
            200..=399 => Ok(resp),
            404 => Err(ApiError::NotFound),
            412 => Err(ApiError::Full),
            _ => Err(ApiError::Fail(resp.status_error("Help Scout", &excerpt(&resp)))),
        }
    }

    /// GET a JSON document.
    pub fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> ApiResult<T> {
        let resp = self.send(http::get(&self.url(path)))?;
        Ok(resp.json()?)
    }

    /// POST a JSON body to a create endpoint and return the new id from
    /// `Resource-ID` (201, no body; §2.1).
    pub fn create<B: serde::Serialize>(&self, path: &str, body: &B) -> ApiResult<u64> {
        let resp = self.send(http::post(&self.url(path)).json(body)?)?;
        resource_id(&resp)
    }

    /// A write answered with 204 (PATCH, PUT).
    pub fn write(&self, req: RequestBuilder) -> ApiResult<()> {
        self.send(req).map(|_| ())
    }
}

/// The id a create answered with: `Resource-ID`, else the last segment of `Location`.
fn resource_id(resp: &Response) -> ApiResult<u64> {
    let from_header = resp.header("resource-id").and_then(|v| v.trim().parse::<u64>().ok());
    let from_location =
        || resp.header("location").and_then(|l| l.trim_end_matches('/').rsplit('/').next()).and_then(|s| s.parse::<u64>().ok());
    from_header.or_else(from_location).filter(|id| *id > 0).ok_or_else(|| {
        ApiError::Fail(PluginError::Retryable(format!("Help Scout create answered {} without a Resource-ID", resp.status())))
    })
}

/// Percent-encode a query value (RFC 3986 unreserved characters pass).
pub use switchboard_sdk::query::encode;

/// A HAL link (`{"href": "…"}`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct Link {
    /// The URL it points to (for `_links.web`, the conversation's page in the
    /// web app).
    pub href: String,
}

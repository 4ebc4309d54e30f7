//! Transport: every request carries `Intercom-Version` and the integration's
//! token; statuses become plugin errors the host acts on (intercom-helpscout-api.md §1.1–§1.4).

use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_sdk::http::{self, RequestBuilder, Response};
use switchboard_sdk::{CapabilityError, PluginError};

/// The API version every request asks for (§1.1: pin it so a change of the
/// app's default version does not change behaviour).
pub const VERSION: &str = "2.16";

/// The secret (declared in `plugin.toml`) the host attaches as a bearer token.
const CREDENTIAL: &str = "token";

/// Why a request did not give the answer asked for.
#[derive(Debug)]
pub enum ApiError {
    /// 404: the record does not exist (or no longer).
    NotFound(String),
    /// 409 / 410: the record clashes with another one or was merged away.
    Conflict(String),
    /// An earlier attempt sent this write and its answer was lost: it may
    /// have happened. The caller looks before writing again.
    Ambiguous(String),
    /// Anything else: the job stops with this.
    Fatal(PluginError),
}

impl From<PluginError> for ApiError {
    fn from(e: PluginError) -> Self {
        ApiError::Fatal(e)
    }
}

impl From<CapabilityError> for ApiError {
    fn from(e: CapabilityError) -> Self {
        match e {
            CapabilityError::Ambiguous(m) => ApiError::Ambiguous(m),
            e => ApiError::Fatal(e.into()),
        }
    }
}

impl From<ApiError> for PluginError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::NotFound(m) => PluginError::Permanent(format!("Intercom: not found: {m}")),
            ApiError::Conflict(m) => PluginError::Permanent(format!("Intercom: conflict: {m}")),
            ApiError::Ambiguous(m) => PluginError::Permanent(format!("ambiguous: {m}")),
            ApiError::Fatal(e) => e,
        }
    }
}

/// A client for one integration's Intercom workspace.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
}

impl Client {
    /// A client for the API root `base` (no trailing slash).
    pub fn new(base: &str) -> Client {
        Client { base: base.trim_end_matches('/').to_string() }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn prepare(&self, builder: RequestBuilder) -> RequestBuilder {
        builder.credential(CREDENTIAL).header("Intercom-Version", VERSION).header("Accept", "application/json")
    }

    /// `GET path`, the answer as JSON.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        let resp = self.prepare(http::get(&self.url(path))).send()?;
        decode(resp)
    }

    /// `POST path` with a JSON body.
    pub fn post<B: Serialize + ?Sized, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, ApiError> {
        let resp = self.prepare(http::post(&self.url(path))).json(body)?.send()?;
        decode(resp)
    }

    /// A `POST path` that is safe to repeat — a search, or one that ends in
    /// the same state however often it is made (a tag created or found by
    /// name, a tag put on a conversation) — so an answer an earlier attempt
    /// lost is asked for again ([`RequestBuilder::send_repeatable`]).
    pub fn post_repeatable<B: Serialize + ?Sized, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, ApiError> {
        let resp = self.prepare(http::post(&self.url(path))).json(body)?.send_repeatable()?;
        decode(resp)
    }

    /// `DELETE path` with a JSON body (Intercom's untag wants `admin_id` in the body, §1.9).
    pub fn delete<B: Serialize + ?Sized, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, ApiError> {
        let resp = self.prepare(http::delete(&self.url(path))).json(body)?.send()?;
        decode(resp)
    }
}

impl Client {
    /// `DELETE path` without a body.
    pub fn delete_without_body<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        let resp = self.prepare(http::delete(&self.url(path))).send()?;
        decode(resp)
    }
}

/// The first error message of an `error.list` body (or the Switch `{error_key, message}` body).
fn error_text(resp: &Response) -> String {
    let raw = String::from_utf8_lossy(resp.body());
    let parsed: Option<serde_json::Value> = serde_json::from_str(&raw).ok();
    let from_list = parsed.as_ref().and_then(|v| {
        let e = v.get("errors")?.get(0)?;
        let code = e.get("code").and_then(|c| c.as_str()).unwrap_or("error");
        let msg = e.get("message").and_then(|m| m.as_str()).unwrap_or("");
        Some(format!("{code}: {msg}"))
    });
    let from_key = parsed.as_ref().and_then(|v| {
        let key = v.get("error_key")?.as_str()?;
        let msg = v.get("message").and_then(|m| m.as_str()).unwrap_or("");
        Some(format!("{key}: {msg}"))
    });
    let text = from_list.or(from_key).unwrap_or_else(|| raw.chars().take(200).collect());
    format!("{} {text}", resp.status())
}

fn decode<T: DeserializeOwned>(resp: Response) -> Result<T, ApiError> {
    match resp.status() {
        200..=299 => resp.json().map_err(ApiError::Fatal),
        404 => Err(ApiError::NotFound(error_text(&resp))),
        409 | 410 => Err(ApiError::Conflict(error_text(&resp))),
        _ => Err(ApiError::Fatal(resp.status_error("Intercom", &error_text(&resp)))),
    }
}

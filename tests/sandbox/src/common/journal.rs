//! The request journal: every API request an emulator served, with its answer.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::util::{lock, now_millis, query_pairs};

/// Request headers worth keeping in the journal.
const HEADERS_OF_INTEREST: &[&str] = &["authorization", "content-type", "accept", "intercom-version", "user-agent", "idempotency-key"];

/// One request and the emulator's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestRecord {
    /// HTTP method, upper case.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// Selected request headers (lower-case names).
    pub headers: BTreeMap<String, String>,
    /// Request body: JSON if it parsed, else a string, `null` when empty.
    pub body: Value,
    /// Status code sent (or that would have been sent, for dropped connections).
    pub status: u16,
    /// Response body, same conventions as `body`.
    pub response_body: Value,
    /// When the request arrived, UNIX milliseconds.
    pub timestamp_ms: i64,
    /// Whether the answer came from an injected fault (`fail_next`).
    pub injected: bool,
    /// Whether the connection was dropped after the write (`drop_after_commit_next`).
    pub dropped: bool,
}

impl RequestRecord {
    pub(crate) fn begin(parts: &Parts, body: &[u8]) -> Self {
        let headers = HEADERS_OF_INTEREST
            .iter()
            .filter_map(|h| parts.headers.get(*h).and_then(|v| v.to_str().ok()).map(|v| ((*h).to_owned(), v.to_owned())))
            .collect();
        Self {
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().map(str::to_owned),
            headers,
            body: body_value(body),
            status: 0,
            response_body: Value::Null,
            timestamp_ms: now_millis(),
            injected: false,
            dropped: false,
        }
    }

    /// The first value of a query parameter, decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        query_pairs(self.query.as_deref()).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// Interprets bytes as JSON, falling back to text.
pub fn body_value(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// Append-only list of records, shared between the server and test handles.
#[derive(Debug, Clone, Default)]
pub struct Journal(Arc<Mutex<Vec<RequestRecord>>>);

impl Journal {
    pub(crate) fn push(&self, record: RequestRecord) {
        lock(&self.0).push(record);
    }

    /// A copy of every record so far, oldest first.
    pub fn records(&self) -> Vec<RequestRecord> {
        lock(&self.0).clone()
    }

    /// Forgets every record.
    pub fn clear(&self) {
        lock(&self.0).clear();
    }
}

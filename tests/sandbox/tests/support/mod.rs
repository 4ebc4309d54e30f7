//! Helpers shared by the emulator tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod openapi;

use serde_json::Value;
use switchboard_sandbox::{Sandbox, SandboxOptions};

pub async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxOptions::default()).await.unwrap()
}

pub fn client() -> reqwest::Client {
    switchboard_sandbox::http_client().unwrap()
}

/// Sends a request and returns (status, headers, JSON body or Null).
pub async fn send(rb: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap, Value) {
    let resp = rb.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    (status, headers, body)
}

//! `/integrations/{id}/…`: what HubSpot (and an operator) may ask.
//!
//! | method and path | what |
//! | --- | --- |
//! | `GET /action-definition` | the definition to register (unsigned: it holds no secret) |
//! | `POST /options/from-number` | the "from" dropdown (signed) |
//! | `POST /options/sender-user` | the "sender" dropdown (signed) |
//! | `POST /actions/send-sms` | an execution (signed) |
//!
//! A request whose signature is missing, wrong or stale gets 401 before
//! anything else is read.

use crate::definition::{self, path};
use crate::execution;
use crate::options;
use crate::settings::Settings;
use crate::signature::Signed;
use serde_json::{Value, json};
use switchboard_sdk::{Context, Request, Response, log, now_ms};

fn json_response(status: u16, retry_after: Option<u64>, body: &Value) -> Response {
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    if let Some(s) = retry_after {
        headers.push(("retry-after".to_string(), s.to_string()));
    }
    Response { status, headers, body: body.to_string().into_bytes() }
}

/// Answer one request.
pub fn handle(ctx: &Context, req: Request) -> Response {
    let settings = match Settings::from_context(ctx) {
        Ok(s) => s,
        Err(why) => return json_response(500, None, &serde_json::json!({ "error": why })),
    };
    let route = (req.method.to_ascii_uppercase(), req.path.trim_end_matches('/').to_string());
    match (route.0.as_str(), route.1.as_str()) {
        ("GET", path::DEFINITION) => {
            let base = definition::base_from(&req.url, &req.path);
            json_response(200, None, &definition::definition(&settings, &base))
        }
        ("POST", p @ (path::EXECUTE | path::FROM_OPTIONS | path::SENDER_OPTIONS)) => {
            let signed = Signed { method: &req.method, uri: &req.url, body: &req.body, headers: &req.headers };
            if let Err(why) = signed.verify(&settings.client_secret, now_ms(), settings.signature_max_age_ms) {
                log::with(log::Level::Warn, "request refused", &[("path", p), ("reason", &why.to_string())]);
                return json_response(401, None, &json!({ "error": format!("invalid HubSpot signature: {why}") }));
            }
            match p {
                path::EXECUTE => {
                    let (status, retry_after, body) = execution::handle(ctx, &settings, &req.body);
                    json_response(status, retry_after, &body)
                }
                path::FROM_OPTIONS => json_response(200, None, &options::from_numbers(&settings)),
                _ => {
                    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
                    json_response(200, None, &options::senders(&settings, &body))
                }
            }
        }
        (_, path::DEFINITION | path::EXECUTE | path::FROM_OPTIONS | path::SENDER_OPTIONS) => {
            json_response(405, None, &json!({ "error": "method not allowed" }))
        }
        _ => json_response(404, None, &json!({ "error": "not found" })),
    }
}

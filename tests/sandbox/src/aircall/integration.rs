//! The OAuth app as installed on the sandbox company: `GET /v1/integrations/me`,
//! and its uninstall (`POST /_sandbox/uninstall`, [`Aircall::uninstall`]): its
//! tokens stop working and every webhook it created receives
//! `integration.deleted` (aircall-api.md §1.2, §3.8) with its own token.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Aircall, AircallError};
use crate::common::util::now_secs;

/// The integration record of the sandbox's OAuth app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Integration {
    /// Integration id.
    pub id: u64,
    /// App name.
    pub name: String,
    /// The company it is installed on.
    pub company_id: u64,
    /// Set by an uninstall: the static bearer tokens of `AircallCredentials` are refused
    /// (until reset); tokens from a new code flow work again.
    pub static_tokens_revoked: bool,
}

impl Default for Integration {
    fn default() -> Self {
        // [U] aircall-api.md §1.2: ids and name are the sandbox's own.
        Self { id: 4242, name: "Sandbox OAuth app".into(), company_id: 101, static_tokens_revoked: false }
    }
}

/// One `integration.deleted` delivery attempt.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    /// The webhook it was for.
    pub webhook_id: String,
    /// Where it was posted.
    pub url: String,
    /// The payload posted.
    pub payload: Value,
    /// The listener's status, if it answered.
    pub status: Option<u16>,
    /// Transport error, if it did not.
    pub error: Option<String>,
}

/// What an uninstall did.
#[derive(Debug, Clone, Serialize)]
pub struct Uninstall {
    /// The integration removed.
    pub integration_id: u64,
    /// The Aircall company it was installed on, also sent in each
    /// `integration.deleted` payload.
    pub company_id: u64,
    /// One entry per webhook of the integration.
    pub deliveries: Vec<Delivery>,
}

/// `GET /v1/integrations/me` with an OAuth token.
pub(super) async fn me(State(a): State<Aircall>, headers: HeaderMap) -> Result<Json<Value>, AircallError> {
    if a.integration_of(&headers).is_none() {
        // [U] §1.2 calls this route OAuth-only; the answer to an API key is not documented.
        return Err(AircallError::new(StatusCode::FORBIDDEN, ""));
    }
    let i = a.state().integration;
    // [U] §1.2: only `company_id` is named; `id`, `name` and `active` complete the record.
    Ok(Json(json!({ "integration": { "id": i.id, "name": i.name, "company_id": i.company_id, "active": true } })))
}

/// `POST /_sandbox/uninstall`: what [`Aircall::uninstall`] returns.
pub(super) async fn uninstall_route(State(a): State<Aircall>) -> Json<Uninstall> {
    Json(a.uninstall().await)
}

impl Aircall {
    /// The admin uninstalls the app: every OAuth token of the integration (issued
    /// ones and the static bearer tokens) is revoked, each of its webhooks gets
    /// an `integration.deleted` POST carrying that webhook's token, and the
    /// webhooks are removed. One attempt per webhook, 5 s timeout (§2.4).
    pub async fn uninstall(&self) -> Uninstall {
        self.oauth().revoke_all();
        let (integration, hooks) = self.update(|s| {
            s.integration.static_tokens_revoked = true;
            let id = Some(s.integration.id);
            // [U] §3.8: whether Aircall deletes the integration's webhooks is not documented.
            let (mine, rest) = s.webhooks.drain(..).partition(|w| w.integration_id == id);
            s.webhooks = rest;
            (s.integration.clone(), mine)
        });
        let data = json!({ "integration_id": integration.id, "company_id": integration.company_id });
        let mut deliveries = Vec::new();
        for hook in hooks.into_iter().filter(|w| w.active) {
            // [U] §3.8: sent whatever events the webhook subscribed to.
            let payload = json!({
                "resource": "integration", "event": "integration.deleted", "timestamp": now_secs(),
                "token": hook.token, "data": data,
            });
            deliveries.push(super::delivery::post(&hook, payload).await);
        }
        Uninstall { integration_id: integration.id, company_id: integration.company_id, deliveries }
    }
}

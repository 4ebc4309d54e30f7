//! Emulator of the HubSpot APIs the connector uses (CRM v3 contacts, owners,
//! users, communications; automation v4 callbacks), per
//! `shared/reference/gorgias-hubspot-api.md` §2, plus a client that calls a
//! workflow action's URL the way HubSpot does (signed requests).

mod actions;
mod communications;
mod contacts;
pub mod model;
mod owners;
pub mod signature;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use crate::common::Control;
use crate::common::auth::{Presented, presented};
use crate::common::state::{EmulatorState, StateCell, StateControl};
use crate::common::util::now_millis;
pub use actions::{ActionOutcome, Execution};
pub use model::{HubSpotSeed, HubSpotState};

/// Credentials the HubSpot emulator accepts.
#[derive(Debug, Clone)]
pub struct HubSpotCredentials {
    /// Bearer tokens (private-app static tokens or OAuth access tokens).
    pub tokens: Vec<String>,
    /// The app's client secret, used to sign workflow-action requests.
    pub client_secret: String,
}

impl Default for HubSpotCredentials {
    fn default() -> Self {
        Self { tokens: vec!["sandbox-hubspot-token".into()], client_secret: "sandbox-hubspot-client-secret".into() }
    }
}

/// Handle on the HubSpot emulator.
#[derive(Clone)]
pub struct HubSpot {
    inner: Arc<Inner>,
}

struct Inner {
    state: StateCell<HubSpotState>,
    credentials: HubSpotCredentials,
    base: String,
}

impl HubSpot {
    /// Builds the emulator and its router.
    pub fn new(base: &str, credentials: HubSpotCredentials) -> (Self, Router) {
        let initial = HubSpotState::demo();
        let api = Self { inner: Arc::new(Inner { state: StateCell::new(initial), credentials, base: base.to_owned() }) };
        let router = Router::new()
            .route("/crm/v3/objects/contacts", get(contacts::list).post(contacts::create))
            .route("/crm/v3/objects/contacts/search", post(contacts::search))
            .route("/crm/v3/objects/contacts/{id}", get(contacts::get).patch(contacts::update))
            .route("/crm/v3/owners", get(owners::list))
            .route("/crm/v3/owners/{id}", get(owners::get))
            .route("/settings/v3/users", get(owners::users))
            .route("/settings/v3/users/{id}", get(owners::user))
            .route("/crm/v3/objects/communications", post(communications::create))
            .route("/crm/v3/objects/communications/{id}", get(communications::get))
            .route("/automation/v4/actions/callbacks/complete", post(actions::complete_batch))
            .route("/automation/v4/actions/callbacks/{id}/complete", post(actions::complete))
            .fallback(|| async { HsErr::new(StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND", "Resource not found") })
            .with_state(api.clone());
        (api, router)
    }

    /// A copy of the current state.
    pub fn state(&self) -> HubSpotState {
        self.inner.state.get()
    }

    /// Runs `f` on the state.
    pub fn update<R>(&self, f: impl FnOnce(&mut HubSpotState) -> R) -> R {
        self.inner.state.update(f)
    }

    /// Adds contacts, owners, properties, association targets, callbacks.
    pub fn seed(&self, seed: HubSpotSeed) {
        self.inner.state.seed(seed);
    }

    /// The credentials accepted.
    pub fn credentials(&self) -> &HubSpotCredentials {
        &self.inner.credentials
    }

    pub(crate) fn base(&self) -> &str {
        &self.inner.base
    }
}

impl Control for HubSpot {
    fn state(&self) -> &dyn StateControl {
        &self.inner.state
    }

    fn error(&self, status: StatusCode, message: &str) -> Response {
        if status == StatusCode::TOO_MANY_REQUESTS {
            // §2.2: rate-limit body.
            let body = json!({ "status": "error", "message": "You have reached your ten_secondly_rolling limit.", "errorType": "RATE_LIMIT",
                "correlationId": correlation_id(), "policyName": "TEN_SECONDLY_ROLLING", "requestId": correlation_id() });
            return (status, Json(body)).into_response();
        }
        HsErr::new(status, "INTERNAL_ERROR", message).into_response()
    }

    #[allow(clippy::result_large_err)]
    fn gate(&self, parts: &Parts) -> Result<(), Response> {
        match presented(&parts.headers) {
            Presented::Bearer(t) if self.inner.credentials.tokens.contains(&t) => Ok(()),
            Presented::Missing => Err(HsErr::new(
                StatusCode::UNAUTHORIZED,
                "INVALID_AUTHENTICATION",
                "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
            )
            .into_response()),
            _ => Err(HsErr::new(
                StatusCode::UNAUTHORIZED,
                "INVALID_AUTHENTICATION",
                "The OAuth token used to make this call expired or is invalid.",
            )
            .into_response()),
        }
    }
}

fn correlation_id() -> String {
    let n = now_millis() as u64;
    format!("{:08x}-0000-4000-8000-{:012x}", n >> 16, n & 0xffff_ffff_ffff)
}

/// A HubSpot error (spec `Error`: `category`, `correlationId`, `message` required).
#[derive(Debug)]
pub struct HsErr {
    status: StatusCode,
    category: &'static str,
    message: String,
    errors: Vec<Value>,
}

impl HsErr {
    fn new(status: StatusCode, category: &'static str, message: impl Into<String>) -> Self {
        Self { status, category, message: message.into(), errors: Vec::new() }
    }

    fn validation(message: impl Into<String>, detail: Value) -> Self {
        Self { status: StatusCode::BAD_REQUEST, category: "VALIDATION_ERROR", message: message.into(), errors: vec![detail] }
    }

    fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND", format!("{what} not found"))
    }
}

impl IntoResponse for HsErr {
    fn into_response(self) -> Response {
        let mut body = json!({ "status": "error", "message": self.message, "correlationId": correlation_id(), "category": self.category });
        if !self.errors.is_empty() {
            body["errors"] = Value::Array(self.errors);
        }
        (self.status, Json(body)).into_response()
    }
}

fn body(bytes: &[u8]) -> Result<Map<String, Value>, HsErr> {
    crate::common::util::json_object(bytes).map_err(|m| HsErr::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", m))
}

/// `limit` and `after` paging (§2.3): `paging.next.{after, link}` while more remain.
fn paging(base: &str, path: &str, items: Vec<Value>, limit: usize, after: usize) -> Value {
    let total = items.len();
    let results: Vec<Value> = items.into_iter().skip(after).take(limit).collect();
    let end = after + results.len();
    let mut v = json!({ "results": results });
    if end < total {
        v["paging"] = json!({ "next": { "after": end.to_string(), "link": format!("{base}{path}?after={end}&limit={limit}") } });
    }
    v
}

impl EmulatorState for HubSpotState {
    type Seed = HubSpotSeed;
    fn add(&mut self, seed: HubSpotSeed) {
        self.apply(seed);
    }
}

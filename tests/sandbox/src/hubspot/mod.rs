//! Emulator of the HubSpot APIs the connector uses (CRM v3 contacts, owners,
//! users, communications; automation v4 callbacks), per
//! `shared/reference/gorgias-hubspot-api.md` §2, plus a client that calls a
//! workflow action's URL the way HubSpot does (signed requests), and the OAuth
//! server of the app.

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
use crate::common::oauth::{ClientAuth, OAuthOptions, OAuthServer, Redirect, RefreshRule, ScopeRule, Vendor};
use crate::common::state::{EmulatorState, StateCell, StateControl};
use crate::common::util::now_millis;
pub use actions::{ActionOutcome, Execution};
pub use model::{HubSpotSeed, HubSpotState};

/// HubSpot's OAuth (oauth.md §1 HubSpot; gorgias-hubspot-api.md §2.1): authorize at
/// `app.hubspot.com/oauth/authorize?client_id&scope&redirect_uri[&state]`; token at
/// `api.hubapi.com/oauth/v1/token` (deprecated 2027-02-16) and its replacements
/// `/oauth/v3/token` and `/oauth/2026-03/token`, form body with the client credentials,
/// optional PKCE `code_verifier`. Access tokens live 30 minutes; errors carry RFC 6749
/// `error`/`error_description` plus the legacy `status`/`message`.
pub const OAUTH: Vendor = Vendor {
    name: "hubspot",
    authorize_path: "/oauth/authorize",
    token_paths: &["/oauth/v1/token", "/oauth/v3/token", "/oauth/2026-03/token"],
    client_auth: ClientAuth::Body,
    redirect: Redirect::Required,
    response_type_required: false,
    scope: ScopeRule::NonEmpty,
    refresh: RefreshRule::Always,
    client_credentials: false,
    default_expires_in: Some(1800),
    // [U] oauth.md §1 HubSpot: refresh tokens have "no stated expiry"; rotation is not described,
    // so a refresh hands the same refresh token back (set rotate_refresh to test rotation).
    default_rotate: false,
    // [U] code lifetime not documented.
    code_lifetime_secs: 600,
    token_type: "bearer",
    token_alias: false,
    legacy_errors: true,
};

/// Credentials the HubSpot emulator accepts.
#[derive(Debug, Clone)]
pub struct HubSpotCredentials {
    /// Bearer tokens (private-app static tokens or OAuth access tokens).
    pub tokens: Vec<String>,
    /// The app's client secret, used to sign workflow-action requests.
    pub client_secret: String,
    /// The OAuth app (`sandbox-hubspot-client-id`, and by default the same secret as
    /// `client_secret`: HubSpot signs with the app secret) and its settings.
    pub oauth: OAuthOptions,
}

impl Default for HubSpotCredentials {
    fn default() -> Self {
        let oauth = OAUTH.default_options();
        Self { tokens: vec!["sandbox-hubspot-token".into()], client_secret: oauth.client_secret.clone(), oauth }
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
    oauth: OAuthServer,
    base: String,
}

impl HubSpot {
    /// Builds the emulator and its router.
    pub fn new(base: &str, credentials: HubSpotCredentials) -> (Self, Router) {
        let initial = HubSpotState::demo();
        let oauth = OAuthServer::new(&OAUTH, credentials.oauth.clone());
        let api = Self { inner: Arc::new(Inner { state: StateCell::new(initial), credentials, oauth, base: base.to_owned() }) };
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

    /// The OAuth authorization server (options, revocation, token-request log).
    pub fn oauth(&self) -> &OAuthServer {
        &self.inner.oauth
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

    fn oauth(&self) -> Option<&OAuthServer> {
        Some(&self.inner.oauth)
    }

    #[allow(clippy::result_large_err)]
    fn gate(&self, parts: &Parts) -> Result<(), Response> {
        match presented(&parts.headers) {
            Presented::Bearer(t) if self.inner.credentials.tokens.contains(&t) || self.inner.oauth.accepts(&t) => Ok(()),
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

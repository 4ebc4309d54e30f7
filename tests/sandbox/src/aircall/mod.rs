//! Emulator of the Aircall public API (`/v1/...`), per `shared/reference/aircall-api.md`,
//! with the partner OAuth flow (authorize, token), the integration record,
//! webhook management and the uninstall that sends `integration.deleted`.

mod calls;
mod contacts;
pub mod delivery;
mod directory;
pub mod integration;
mod messages;
pub mod model;
mod paging;
pub mod webhooks;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Value, json};

use crate::common::Control;
use crate::common::auth::{Presented, presented};
use crate::common::oauth::{ClientAuth, OAuthOptions, OAuthServer, Redirect, RefreshRule, ScopeRule, Vendor};
use crate::common::state::{EmulatorState, StateCell, StateControl};
pub use integration::{Delivery, Integration, Uninstall};
pub use model::{AircallSeed, AircallState};

/// Aircall's partner OAuth (oauth.md §1 Aircall; aircall-api.md §1.2): authorize at
/// `dashboard.aircall.io/oauth/authorize` with `client_id, redirect_uri, response_type=code,
/// scope=public_api[, state]`; token at `api.aircall.io/v1/oauth/token`, JSON body
/// `{grant_type, code, redirect_uri, client_id, client_secret}`. Tokens are permanent:
/// no `expires_in`, no refresh token.
pub const OAUTH: Vendor = Vendor {
    name: "aircall",
    authorize_path: "/oauth/authorize",
    token_paths: &["/v1/oauth/token"],
    client_auth: ClientAuth::Body,
    redirect: Redirect::Required,
    response_type_required: true,
    scope: ScopeRule::Contains("public_api"),
    refresh: RefreshRule::Never,
    client_credentials: false,
    default_expires_in: None,
    default_rotate: false,
    // [U] aircall-api.md §9.8: code lifetime not documented.
    code_lifetime_secs: 600,
    // [U] §9.8: "the exact token response fields" are not confirmed; `access_token`,
    // `token_type` and `scope` are sent.
    token_type: "Bearer",
    token_alias: false,
    legacy_errors: false,
};

/// Credentials the Aircall emulator accepts.
#[derive(Debug, Clone)]
pub struct AircallCredentials {
    /// Basic-auth user (`api_id`).
    pub api_id: String,
    /// Basic-auth password (`api_token`).
    pub api_token: String,
    /// OAuth bearer tokens accepted (they belong to the sandbox's integration).
    pub bearer_tokens: Vec<String>,
    /// The OAuth app (`sandbox-aircall-client-id` / `-secret`) and its settings.
    pub oauth: OAuthOptions,
}

impl Default for AircallCredentials {
    fn default() -> Self {
        Self {
            api_id: "sandbox-api-id".into(),
            api_token: "sandbox-api-token".into(),
            bearer_tokens: vec!["sandbox-aircall-oauth-token".into()],
            oauth: OAUTH.default_options(),
        }
    }
}

/// Handle on the Aircall emulator (cheap to clone).
#[derive(Clone)]
pub struct Aircall {
    inner: Arc<Inner>,
}

struct Inner {
    state: StateCell<AircallState>,
    credentials: AircallCredentials,
    oauth: OAuthServer,
    base: String,
}

impl Aircall {
    /// Builds the emulator and its router for a base URL.
    pub fn new(base: &str, credentials: AircallCredentials) -> (Self, Router) {
        let initial = AircallState::demo();
        let oauth = OAuthServer::new(&OAUTH, credentials.oauth.clone());
        let api = Self { inner: Arc::new(Inner { state: StateCell::new(initial), credentials, oauth, base: base.to_owned() }) };
        let router = Router::new()
            .route("/v1/ping", get(directory::ping))
            .route("/v1/company", get(directory::company))
            .route("/v1/users", get(directory::list_users))
            .route("/v1/users/availabilities", get(directory::availabilities))
            .route("/v1/users/{id}", get(directory::get_user))
            .route("/v1/users/{id}/availability", get(directory::user_availability))
            .route("/v1/users/{id}/calls", post(calls::start_call))
            .route("/v1/users/{id}/dial", post(calls::dial))
            .route("/v1/numbers", get(directory::list_numbers))
            .route("/v1/numbers/{id}", get(directory::get_number))
            .route("/v1/numbers/{id}/messages/native/send", post(messages::send_native))
            .route("/v1/messages/send/whatsapp/native", post(messages::send_whatsapp_native))
            .route("/v1/teams", get(directory::list_teams))
            .route("/v1/teams/{id}", get(directory::get_team))
            .route("/v1/teams/{id}/users/{user_id}", post(directory::add_team_user).delete(directory::remove_team_user))
            .route("/v1/calls", get(calls::list_calls))
            .route("/v1/calls/{id}", get(calls::get_call))
            .route("/v1/calls/{id}/insight_cards", post(calls::insight_card))
            .route("/v1/contacts", get(contacts::list).post(contacts::create))
            .route("/v1/contacts/search", get(contacts::search))
            .route("/v1/contacts/{id}", get(contacts::get).post(contacts::update).delete(contacts::delete))
            .route("/v1/contacts/{id}/phone_details", post(contacts::add_phone))
            .route("/v1/contacts/{id}/phone_details/{detail_id}", put(contacts::update_phone).delete(contacts::delete_phone))
            .route("/v1/contacts/{id}/email_details", post(contacts::add_email))
            .route("/v1/contacts/{id}/email_details/{detail_id}", put(contacts::update_email).delete(contacts::delete_email))
            .route("/v1/integrations/me", get(integration::me))
            .route("/v1/webhooks", get(webhooks::list).post(webhooks::create))
            .route("/v1/webhooks/{id}", get(webhooks::get).put(webhooks::update).delete(webhooks::delete))
            .fallback(|| async { AircallError::not_found("Resource not found") })
            .with_state(api.clone());
        (api, router)
    }

    /// A copy of the current state.
    pub fn state(&self) -> AircallState {
        self.inner.state.get()
    }

    /// Runs `f` on the state (e.g. to add records from a test).
    pub fn update<R>(&self, f: impl FnOnce(&mut AircallState) -> R) -> R {
        self.inner.state.update(f)
    }

    /// Adds users, numbers, teams and contacts.
    pub fn seed(&self, seed: AircallSeed) {
        self.inner.state.seed(seed);
    }

    /// The credentials accepted.
    pub fn credentials(&self) -> &AircallCredentials {
        &self.inner.credentials
    }

    /// The OAuth authorization server (options, revocation, token-request log).
    pub fn oauth(&self) -> &OAuthServer {
        &self.inner.oauth
    }

    /// The integration a request acts for: its id for a bearer (OAuth) token, `None`
    /// for the company's API key. Only meaningful once the gate has let it in.
    pub(crate) fn integration_of(&self, headers: &HeaderMap) -> Option<u64> {
        matches!(presented(headers), Presented::Bearer(_)).then(|| self.inner.state.lock().integration.id)
    }

    pub(crate) fn base(&self) -> &str {
        &self.inner.base
    }
}

impl Control for Aircall {
    fn state(&self) -> &dyn StateControl {
        &self.inner.state
    }

    /// Seeds are checked first: a call in the webhook shape is refused whole.
    fn seed(&self, body: Value) -> std::result::Result<(), String> {
        let seed: AircallSeed = serde_json::from_value(body).map_err(|e| e.to_string())?;
        for (i, call) in seed.calls.iter().enumerate() {
            model::check_call(call).map_err(|e| format!("calls[{i}]: {e}"))?;
        }
        self.seed(seed);
        Ok(())
    }

    fn control_routes(&self) -> Router {
        Router::new()
            .route("/_sandbox/calls", post(calls::upsert_call))
            .route("/_sandbox/uninstall", post(integration::uninstall_route))
            .route("/_sandbox/deliver", post(delivery::deliver_route))
            .route("/_sandbox/deliveries", post(delivery::set_options))
            .with_state(self.clone())
    }

    fn oauth(&self) -> Option<&OAuthServer> {
        Some(&self.inner.oauth)
    }

    fn error(&self, status: StatusCode, message: &str) -> Response {
        AircallError::new(status, message).into_response()
    }

    #[allow(clippy::result_large_err)]
    fn gate(&self, parts: &Parts) -> Result<(), Response> {
        let c = &self.inner.credentials;
        match presented(&parts.headers) {
            Presented::Missing => Err(AircallError::new(StatusCode::UNAUTHORIZED, "").into_response()),
            Presented::Basic(id, token) if id == c.api_id && token == c.api_token => Ok(()),
            Presented::Bearer(t) if self.inner.oauth.accepts(&t) => Ok(()),
            Presented::Bearer(t) if c.bearer_tokens.contains(&t) && !self.inner.state.lock().integration.static_tokens_revoked => Ok(()),
            // aircall-api.md §1.2: a wrong, expired or revoked token is a 403, not a 401.
            _ => Err(AircallError::new(StatusCode::FORBIDDEN, "").into_response()),
        }
    }
}

/// An Aircall error response.
#[derive(Debug)]
pub struct AircallError {
    status: StatusCode,
    message: String,
}

impl AircallError {
    fn new(status: StatusCode, message: &str) -> Self {
        Self { status, message: message.to_owned() }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, message: message.into() }
    }

    fn not_found(message: impl Into<String>) -> Self {
        Self { status: StatusCode::NOT_FOUND, message: message.into() }
    }
}

impl IntoResponse for AircallError {
    fn into_response(self) -> Response {
        let body = match self.status {
            // aircall-api.md §1.2: confirmed bodies for credential errors.
            StatusCode::UNAUTHORIZED => json!({ "message": "Unauthorized" }),
            StatusCode::FORBIDDEN => json!({ "message": "Forbidden" }),
            // [U] aircall-api.md §1.5: only `{"message"}` is confirmed (for 401/403); other errors use
            // the older documented `{"error", "troubleshoot"}` shape, plus `message` for lenient parsers.
            s => json!({
                "error": s.canonical_reason().unwrap_or("Error"),
                "troubleshoot": self.message,
                "message": self.message,
            }),
        };
        (self.status, Json(body)).into_response()
    }
}

/// Parses an id path segment; an unparsable id is an unknown id.
fn parse_id(raw: &str, what: &str) -> Result<u64, AircallError> {
    raw.parse().map_err(|_| AircallError::not_found(format!("{what} not found")))
}

/// Parses a JSON object body, mapping failures to 400.
fn body(bytes: &[u8]) -> Result<serde_json::Map<String, Value>, AircallError> {
    crate::common::util::json_object(bytes).map_err(AircallError::bad_request)
}

impl EmulatorState for AircallState {
    type Seed = AircallSeed;
    fn add(&mut self, seed: AircallSeed) {
        self.apply(seed);
    }
}

//! Emulator of the Intercom REST API (2.16), per `shared/reference/intercom-helpscout-api.md` §1
//! and the official OpenAPI description, with its OAuth server.

mod admins;
mod contacts;
mod conversations;
pub mod model;
mod search;
mod tags;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::{Map, Value, json};

use crate::common::Control;
use crate::common::auth::{Presented, presented};
use crate::common::oauth::{ClientAuth, OAuthOptions, OAuthServer, Redirect, RefreshRule, ScopeRule, Vendor};
use crate::common::state::{EmulatorState, StateCell, StateControl};
pub use model::{IntercomSeed, IntercomState};

/// `Intercom-Version` values accepted: the enum of the 2.16 description
/// (`components.schemas.intercom_version`).
// [U] intercom-helpscout-api.md §1.1: newer versions (2.17, `Preview`) exist on the docs site but are
// rejected here like any value outside the 2.16 enum.
pub const VERSIONS: &[&str] = &[
    "1.0", "1.1", "1.2", "1.3", "1.4", "2.0", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.8", "2.9", "2.10", "2.11", "2.12",
    "2.13", "2.14", "2.15", "2.16",
];

/// Intercom's OAuth (oauth.md §1 Intercom; intercom-helpscout-api.md §1.2): authorize at
/// `app.intercom.com/oauth?client_id&state[&redirect_uri]` (scopes are fixed per app, the
/// redirect defaults to the first registered one), token at `api.intercom.io/auth/eagle/token`
/// with `code, client_id, client_secret`. Tokens do not expire; no refresh token.
pub const OAUTH: Vendor = Vendor {
    name: "intercom",
    authorize_path: "/oauth",
    token_paths: &["/auth/eagle/token"],
    client_auth: ClientAuth::Body,
    redirect: Redirect::Optional,
    response_type_required: false,
    scope: ScopeRule::Any,
    refresh: RefreshRule::Never,
    client_credentials: false,
    default_expires_in: None,
    default_rotate: false,
    // intercom-helpscout-api.md §1.2 step 3: "The code lives about 5 minutes."
    code_lifetime_secs: 300,
    // [U] §1.2: clients read `access_token` or `token`; both are sent, with `token_type`.
    token_type: "Bearer",
    token_alias: true,
    legacy_errors: false,
};

/// Credentials the Intercom emulator accepts.
#[derive(Debug, Clone)]
pub struct IntercomCredentials {
    /// Bearer access tokens accepted.
    pub tokens: Vec<String>,
    /// The OAuth app (`sandbox-intercom-client-id` / `-secret`) and its settings.
    pub oauth: OAuthOptions,
}

impl Default for IntercomCredentials {
    fn default() -> Self {
        Self { tokens: vec!["sandbox-intercom-token".into()], oauth: OAUTH.default_options() }
    }
}

/// Handle on the Intercom emulator.
#[derive(Clone)]
pub struct Intercom {
    inner: Arc<Inner>,
}

struct Inner {
    state: StateCell<IntercomState>,
    credentials: IntercomCredentials,
    oauth: OAuthServer,
}

impl Intercom {
    /// Builds the emulator and its router.
    pub fn new(_base: &str, credentials: IntercomCredentials) -> (Self, Router) {
        let initial = IntercomState::demo();
        let oauth = OAuthServer::new(&OAUTH, credentials.oauth.clone());
        let api = Self { inner: Arc::new(Inner { state: StateCell::new(initial), credentials, oauth }) };
        let router = Router::new()
            .route("/me", get(admins::me))
            .route("/admins", get(admins::list))
            .route("/admins/{id}", get(admins::get))
            .route("/contacts", get(contacts::list).post(contacts::create))
            .route("/contacts/search", post(contacts::search))
            .route("/contacts/{id}", get(contacts::get).put(contacts::update).delete(contacts::delete))
            .route("/conversations", get(conversations::list).post(conversations::create))
            .route("/conversations/search", post(conversations::search))
            .route("/conversations/{id}", get(conversations::get))
            .route("/conversations/{id}/reply", post(conversations::reply))
            .route("/conversations/{id}/parts", post(conversations::manage))
            .route("/conversations/{id}/tags", post(tags::tag_conversation))
            .route("/conversations/{id}/tags/{tag_id}", delete(tags::untag_conversation))
            .route("/tags", get(tags::list).post(tags::create))
            .route("/phone_call_redirects", post(admins::phone_call_redirect))
            .fallback(|| async { IntercomError::new(StatusCode::NOT_FOUND, "not_found", "Resource Not Found") })
            .with_state(api.clone());
        (api, router)
    }

    /// A copy of the current state.
    pub fn state(&self) -> IntercomState {
        self.inner.state.get()
    }

    /// Runs `f` on the state.
    pub fn update<R>(&self, f: impl FnOnce(&mut IntercomState) -> R) -> R {
        self.inner.state.update(f)
    }

    /// Adds admins, teams, contacts and tags.
    pub fn seed(&self, seed: IntercomSeed) {
        self.inner.state.seed(seed);
    }

    /// The credentials accepted.
    pub fn credentials(&self) -> &IntercomCredentials {
        &self.inner.credentials
    }

    /// The OAuth authorization server (options, revocation, token-request log).
    pub fn oauth(&self) -> &OAuthServer {
        &self.inner.oauth
    }
}

impl Control for Intercom {
    fn state(&self) -> &dyn StateControl {
        &self.inner.state
    }

    fn error(&self, status: StatusCode, message: &str) -> Response {
        let code = match status.as_u16() {
            429 => "rate_limit_exceeded",
            404 => "not_found",
            401 => "unauthorized",
            403 => "forbidden",
            400 => "parameter_invalid",
            _ => "server_error",
        };
        IntercomError::new(status, code, message).into_response()
    }

    /// intercom-helpscout-api.md §1.3: a 429 says when the window refills in
    /// `X-RateLimit-Reset` (UNIX seconds); `Retry-After` is not documented for
    /// Intercom, so an injected fault's `retry_after` becomes the reset time.
    fn decorate(&self, _parts: &Parts, response: &mut Response) {
        if response.status() != StatusCode::TOO_MANY_REQUESTS {
            return;
        }
        let headers = response.headers_mut();
        let wait = headers.remove("retry-after").and_then(|v| v.to_str().ok().and_then(|s| s.parse::<i64>().ok())).unwrap_or(10);
        let reset = crate::common::util::now_secs() + wait;
        headers.insert("x-ratelimit-limit", HeaderValue::from(10_000));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(0));
        headers.insert("x-ratelimit-reset", HeaderValue::from(reset));
    }

    fn oauth(&self) -> Option<&OAuthServer> {
        Some(&self.inner.oauth)
    }

    #[allow(clippy::result_large_err)]
    fn gate(&self, parts: &Parts) -> Result<(), Response> {
        match presented(&parts.headers) {
            Presented::Bearer(t) if self.inner.credentials.tokens.contains(&t) || self.inner.oauth.accepts(&t) => {}
            _ => {
                return Err(IntercomError::new(StatusCode::UNAUTHORIZED, "unauthorized", "Access Token Invalid").into_response());
            }
        }
        // intercom-helpscout-api.md §1.1: absent header = the app's default version; an unknown value
        // is rejected with `intercom_version_invalid`. [U] status 400 and the message wording.
        if let Some(v) = parts.headers.get("intercom-version") {
            let v = v.to_str().unwrap_or("");
            if !VERSIONS.contains(&v) {
                return Err(IntercomError::new(
                    StatusCode::BAD_REQUEST,
                    "intercom_version_invalid",
                    "The requested version could not be found",
                )
                .into_response());
            }
        }
        Ok(())
    }
}

/// An Intercom `error.list` response.
#[derive(Debug)]
pub struct IntercomError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<String>,
}

impl IntercomError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), field: None }
    }

    fn bad(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    fn field(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }
}

impl IntoResponse for IntercomError {
    fn into_response(self) -> Response {
        let mut err = json!({ "code": self.code, "message": self.message });
        if let Some(f) = self.field {
            err["field"] = json!(f);
        }
        let request_id = format!("sbx-{:016x}", crate::common::util::now_millis());
        (self.status, Json(json!({ "type": "error.list", "request_id": request_id, "errors": [err] }))).into_response()
    }
}

/// Parses a JSON object body.
fn body(bytes: &[u8]) -> Result<Map<String, Value>, IntercomError> {
    crate::common::util::json_object(bytes).map_err(|m| IntercomError::bad("parameter_invalid", m))
}

/// An id sent as a string (the spec's type) or, leniently, as a number.
fn id_string(map: &Map<String, Value>, key: &str) -> Option<String> {
    match map.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl EmulatorState for IntercomState {
    type Seed = IntercomSeed;
    fn add(&mut self, seed: IntercomSeed) {
        self.apply(seed);
    }
}

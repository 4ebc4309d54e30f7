//! Emulator of the Gorgias REST API (`/api/...`), per `shared/reference/gorgias-hubspot-api.md` §1,
//! with its account rate limiter and its OAuth server.

mod customers;
pub mod limiter;
mod messages;
pub mod model;
mod tickets;

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde_json::{Map, Value, json};

use crate::common::auth::{Presented, presented};
use crate::common::oauth::{ClientAuth, OAuthOptions, OAuthServer, Redirect, RefreshRule, ScopeRule, Vendor};
use crate::common::state::{EmulatorState, StateCell, StateControl};
use crate::common::util::lock;
use crate::common::{Control, Fault};
use limiter::Bucket;
pub use limiter::GorgiasRate;
pub use model::{GorgiasSeed, GorgiasState};

/// Gorgias's OAuth (oauth.md §1 Gorgias; gorgias-hubspot-api.md §1.1): authorize at
/// `{account}.gorgias.com/oauth/authorize` with `response_type=code, client_id, redirect_uri,
/// scope, state`; token at `{account}.gorgias.com/oauth/token`, form body, client
/// authentication by HTTP Basic (Nango `token_request_auth_method: basic`). Access tokens
/// last 24 h; only the `offline` scope yields a refresh token, which does not expire.
pub const OAUTH: Vendor = Vendor {
    name: "gorgias",
    authorize_path: "/oauth/authorize",
    token_paths: &["/oauth/token"],
    // [U] gorgias-hubspot-api.md §1.1 says some integrators send the client credentials in the
    // body instead; the emulator insists on Basic, as Nango's provider entry does.
    client_auth: ClientAuth::Basic,
    redirect: Redirect::Required,
    response_type_required: true,
    // [U] oauth.md §1 Gorgias lists `scope` among the parameters; an empty one is tolerated here.
    scope: ScopeRule::Any,
    refresh: RefreshRule::WithScope("offline"),
    client_credentials: false,
    default_expires_in: Some(86_400),
    // [U] oauth.md §1 Gorgias: the refresh token "does not have expiration time"; whether a
    // refresh returns a new one is not documented, so it is kept (set rotate_refresh to test rotation).
    default_rotate: false,
    // [U] code lifetime not documented.
    code_lifetime_secs: 600,
    token_type: "Bearer",
    token_alias: false,
    legacy_errors: false,
};

/// Credentials the Gorgias emulator accepts.
#[derive(Debug, Clone)]
pub struct GorgiasCredentials {
    /// Basic-auth user (an agent's e-mail).
    pub email: String,
    /// Basic-auth password (REST API key).
    pub api_key: String,
    /// OAuth bearer tokens.
    pub bearer_tokens: Vec<String>,
    /// The OAuth app (`sandbox-gorgias-client-id` / `-secret`) and its settings.
    pub oauth: OAuthOptions,
}

impl Default for GorgiasCredentials {
    fn default() -> Self {
        Self {
            email: "operator@sandbox.test".into(),
            api_key: "sandbox-gorgias-key".into(),
            bearer_tokens: vec!["sandbox-gorgias-oauth-token".into()],
            oauth: OAUTH.default_options(),
        }
    }
}

/// Handle on the Gorgias emulator.
#[derive(Clone)]
pub struct Gorgias {
    inner: Arc<Inner>,
}

struct Inner {
    state: StateCell<GorgiasState>,
    credentials: GorgiasCredentials,
    rate: GorgiasRate,
    bucket: Mutex<Bucket>,
    oauth: OAuthServer,
    base: String,
}

impl Gorgias {
    /// Builds the emulator and its router.
    pub fn new(base: &str, credentials: GorgiasCredentials, rate: GorgiasRate) -> (Self, Router) {
        let initial = GorgiasState::demo();
        let oauth = OAuthServer::new(&OAUTH, credentials.oauth.clone());
        let api = Self {
            inner: Arc::new(Inner {
                state: StateCell::new(initial),
                credentials,
                rate,
                bucket: Mutex::new(Bucket::new(rate)),
                oauth,
                base: base.to_owned(),
            }),
        };
        let router = Router::new()
            .route("/api/account", get(customers::account))
            .route("/api/users", get(customers::list_users))
            .route("/api/users/{id}", get(customers::get_user))
            .route("/api/customers", get(customers::list).post(customers::create))
            .route("/api/customers/{id}", get(customers::get))
            .route("/api/search", post(customers::search))
            .route("/api/tickets", get(tickets::list).post(tickets::create))
            .route("/api/tickets/{id}", get(tickets::get).put(tickets::update))
            .route(
                "/api/tickets/{id}/tags",
                get(tickets::ticket_tags).post(tickets::add_tags).put(tickets::set_tags).delete(tickets::remove_tags),
            )
            .route("/api/tickets/{id}/messages", get(messages::list).post(messages::create))
            .route("/api/tags", get(tickets::list_tags).post(tickets::create_tag))
            .route("/api/tags/{id}", axum::routing::delete(tickets::delete_tag))
            .route("/api/upload", post(messages::upload))
            .route("/_files/{name}", get(messages::download))
            .route("/_media/{name}", get(crate::common::media::media).head(crate::common::media::media_head))
            .fallback(|| async { GorgiasError::new(StatusCode::NOT_FOUND, "Not found") })
            .with_state(api.clone());
        (api, router)
    }

    /// A copy of the current state.
    pub fn state(&self) -> GorgiasState {
        self.inner.state.get()
    }

    /// Runs `f` on the state.
    pub fn update<R>(&self, f: impl FnOnce(&mut GorgiasState) -> R) -> R {
        self.inner.state.update(f)
    }

    /// Adds users and customers.
    pub fn seed(&self, seed: GorgiasSeed) {
        self.inner.state.seed(seed);
    }

    /// The credentials accepted.
    pub fn credentials(&self) -> &GorgiasCredentials {
        &self.inner.credentials
    }

    /// The rate limit in force.
    pub fn rate(&self) -> GorgiasRate {
        self.inner.rate
    }

    /// The OAuth authorization server (options, revocation, token-request log).
    pub fn oauth(&self) -> &OAuthServer {
        &self.inner.oauth
    }

    pub(crate) fn base(&self) -> &str {
        &self.inner.base
    }
}

impl Control for Gorgias {
    fn state(&self) -> &dyn StateControl {
        &self.inner.state
    }

    fn reset(&self) {
        self.inner.state.reset();
        *lock(&self.inner.bucket) = Bucket::new(self.inner.rate);
    }

    fn error(&self, status: StatusCode, message: &str) -> Response {
        GorgiasError::new(status, message).into_response()
    }

    fn oauth(&self) -> Option<&OAuthServer> {
        Some(&self.inner.oauth)
    }

    fn configure(&self, fault: &Fault) {
        if let Some(n) = fault.foreign_usage_per_window {
            lock(&self.inner.bucket).set_foreign(n);
        }
    }

    #[allow(clippy::result_large_err)]
    fn gate(&self, parts: &Parts) -> Result<(), Response> {
        if parts.uri.path().starts_with("/_files/") || parts.uri.path().starts_with("/_media/") {
            return Ok(());
        }
        // §1.2: every request counts against the account's bucket.
        if let Err(wait) = lock(&self.inner.bucket).admit() {
            // [U] §1.4: the 429 body is undocumented. `data.retry_after` repeats the header
            // so tests can read the wait from the request journal (which keeps no headers).
            let mut r = GorgiasError {
                status: StatusCode::TOO_MANY_REQUESTS,
                message: "Too many requests".into(),
                data: Some(json!({ "retry_after": wait })),
            }
            .into_response();
            r.headers_mut().insert("retry-after", HeaderValue::from(wait));
            return Err(r);
        }
        let c = &self.inner.credentials;
        match presented(&parts.headers) {
            Presented::Basic(email, key) if email.eq_ignore_ascii_case(&c.email) && key == c.api_key => Ok(()),
            Presented::Bearer(t) if c.bearer_tokens.contains(&t) || self.inner.oauth.accepts(&t) => Ok(()),
            _ => Err(GorgiasError::new(StatusCode::UNAUTHORIZED, "API token invalid, expired or missing").into_response()),
        }
    }

    fn decorate(&self, parts: &Parts, response: &mut Response) {
        if parts.uri.path().starts_with("/_files/") || parts.uri.path().starts_with("/_media/") {
            return;
        }
        // §1.2: `X-Gorgias-Account-Api-Call-Limit: used/limit` on every response.
        // [U] §1.2 says `Retry-after` is on every response too; it is sent only with 429 here.
        let header = lock(&self.inner.bucket).header();
        if let Ok(v) = HeaderValue::from_str(&header) {
            response.headers_mut().insert("x-gorgias-account-api-call-limit", v);
        }
    }
}

/// A Gorgias error response.
// [U] gorgias-hubspot-api.md §1.4/§3.3: the layout inside `error` is undocumented;
// `{"error": {"msg": ..., "data": {field: [messages]}}}` is used.
#[derive(Debug)]
pub struct GorgiasError {
    status: StatusCode,
    message: String,
    data: Option<Value>,
}

impl GorgiasError {
    fn new(status: StatusCode, message: &str) -> Self {
        Self { status, message: message.to_owned(), data: None }
    }

    fn invalid(field: &str, message: &str) -> Self {
        Self { status: StatusCode::BAD_REQUEST, message: "Validation error".into(), data: Some(json!({ field: [message] })) }
    }

    fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, &format!("{what} not found"))
    }
}

impl IntoResponse for GorgiasError {
    fn into_response(self) -> Response {
        let mut err = json!({ "msg": self.message });
        if let Some(d) = self.data {
            err["data"] = d;
        }
        (self.status, Json(json!({ "error": err }))).into_response()
    }
}

/// Parses a JSON object body.
fn body(bytes: &[u8]) -> Result<Map<String, Value>, GorgiasError> {
    crate::common::util::json_object(bytes).map_err(|m| GorgiasError::invalid("_schema", &m))
}

fn parse_id(raw: &str, what: &str) -> Result<u64, GorgiasError> {
    raw.trim_end_matches('/').parse().map_err(|_| GorgiasError::not_found(what))
}

/// Cursor pagination (§1.3): `cursor`, `limit` (default 30, max 100) →
/// `{data, object: "list", uri, meta: {prev_cursor, next_cursor}}`.
fn page(items: Vec<Value>, uri: &str, cursor: Option<&str>, limit: Option<&str>, max: usize) -> Result<Value, GorgiasError> {
    let limit = match limit {
        None => 30,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=max).contains(l))
            .ok_or_else(|| GorgiasError::invalid("limit", &format!("Must be between 1 and {max}.")))?,
    };
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let start = match cursor {
        None => 0,
        Some(c) => engine
            .decode(c)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.strip_prefix("o:").and_then(|n| n.parse::<usize>().ok()))
            .ok_or_else(|| GorgiasError::invalid("cursor", "Invalid cursor."))?,
    };
    let total = items.len();
    let data: Vec<Value> = items.into_iter().skip(start).take(limit).collect();
    let end = start + data.len();
    let next = (end < total).then(|| engine.encode(format!("o:{end}")));
    let prev = (start > 0).then(|| engine.encode(format!("o:{}", start.saturating_sub(limit))));
    Ok(json!({ "data": data, "object": "list", "uri": uri, "meta": { "prev_cursor": prev, "next_cursor": next } }))
}

impl EmulatorState for GorgiasState {
    type Seed = GorgiasSeed;
    fn add(&mut self, seed: GorgiasSeed) {
        self.apply(seed);
    }
}

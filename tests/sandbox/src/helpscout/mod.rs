//! Emulator of the Help Scout Mailbox API 2.0 (`/v2/...`, customer search on
//! `/v3/...`), per `shared/reference/intercom-helpscout-api.md` §2, with its
//! OAuth server (authorization code, refresh, client credentials).

mod conversations;
mod customers;
mod directory;
pub mod model;
mod query;
mod threads;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use crate::common::auth::{Presented, presented};
use crate::common::oauth::{ClientAuth, OAuthOptions, OAuthServer, Redirect, RefreshRule, ScopeRule, Vendor};
use crate::common::state::{EmulatorState, StateCell, StateControl};
use crate::common::util::{now_millis, url_encode};
use crate::common::{Control, Fault};
pub use model::{HelpScoutSeed, HelpScoutState};

/// Help Scout's OAuth (oauth.md §1 Help Scout; intercom-helpscout-api.md §2.2): authorize at
/// `secure.helpscout.net/authentication/authorizeClientApplication?client_id&state` with no
/// `redirect_uri` (the one registered in My Apps is used) and no scope; token endpoint
/// `api.helpscout.net/v2/oauth2/token` with the three grants, credentials in the body.
pub const OAUTH: Vendor = Vendor {
    name: "helpscout",
    authorize_path: "/authentication/authorizeClientApplication",
    token_paths: &["/v2/oauth2/token"],
    client_auth: ClientAuth::Body,
    redirect: Redirect::Registered,
    response_type_required: false,
    scope: ScopeRule::Any,
    refresh: RefreshRule::Always,
    client_credentials: true,
    // [U] intercom-helpscout-api.md §2.2: token lifetime reports disagree (48 h vs 2 h); 2 h here.
    default_expires_in: Some(7200),
    // §2.2 step 5: "store the new refresh token from the response (SDK replaces both)".
    default_rotate: true,
    // [U] §2.10: the code's lifetime is not confirmed.
    code_lifetime_secs: 600,
    token_type: "bearer",
    token_alias: false,
    legacy_errors: false,
};

/// Credentials the Help Scout emulator accepts.
#[derive(Debug, Clone)]
pub struct HelpScoutCredentials {
    /// Static bearer tokens valid until expired by a fault.
    pub tokens: Vec<String>,
    /// The OAuth app (`sandbox-helpscout-app` / `sandbox-helpscout-secret`) and its settings.
    pub oauth: OAuthOptions,
}

impl Default for HelpScoutCredentials {
    fn default() -> Self {
        Self {
            tokens: vec!["sandbox-helpscout-token".into()],
            oauth: OAuthOptions {
                client_id: "sandbox-helpscout-app".into(),
                client_secret: "sandbox-helpscout-secret".into(),
                ..OAUTH.default_options()
            },
        }
    }
}

/// Handle on the Help Scout emulator.
#[derive(Clone)]
pub struct HelpScout {
    inner: Arc<Inner>,
}

struct Inner {
    state: StateCell<HelpScoutState>,
    credentials: HelpScoutCredentials,
    oauth: OAuthServer,
    base: String,
}

impl HelpScout {
    /// Builds the emulator and its router.
    pub fn new(base: &str, credentials: HelpScoutCredentials) -> (Self, Router) {
        let initial = HelpScoutState::demo();
        let oauth = OAuthServer::new(&OAUTH, credentials.oauth.clone());
        let api = Self { inner: Arc::new(Inner { state: StateCell::new(initial), credentials, oauth, base: base.to_owned() }) };
        let router = Router::new()
            .route("/v2/users/me", get(directory::me))
            .route("/v2/users", get(directory::users))
            .route("/v2/users/{id}", get(directory::user))
            .route("/v2/mailboxes", get(directory::mailboxes))
            .route("/v2/mailboxes/{id}", get(directory::mailbox))
            .route("/v2/tags", get(directory::tags))
            .route("/v3/customers/search", get(customers::search_v3))
            .route("/v2/customers", get(customers::list_v2).post(customers::create))
            .route("/v2/customers/{id}", get(customers::get).delete(customers::delete))
            .route("/v2/conversations", get(conversations::list).post(conversations::create))
            .route("/v2/conversations/{id}", get(conversations::get).patch(conversations::patch))
            .route("/v2/conversations/{id}/tags", axum::routing::put(conversations::replace_tags))
            .route("/v2/conversations/{id}/threads", get(threads::list))
            .route("/v2/conversations/{id}/{kind}", post(threads::create))
            .fallback(|| async { HsError::not_found() })
            .with_state(api.clone());
        (api, router)
    }

    /// A copy of the current state.
    pub fn state(&self) -> HelpScoutState {
        self.inner.state.get()
    }

    /// Runs `f` on the state.
    pub fn update<R>(&self, f: impl FnOnce(&mut HelpScoutState) -> R) -> R {
        self.inner.state.update(f)
    }

    /// Adds mailboxes, users, customers.
    pub fn seed(&self, seed: HelpScoutSeed) {
        self.inner.state.seed(seed);
    }

    /// Makes every access token issued so far (and the static ones) invalid: the
    /// next request with one gets 401 until the client fetches or refreshes a token.
    pub fn expire_tokens(&self) {
        let statics = self.inner.credentials.tokens.clone();
        self.inner.oauth.expire_access_tokens();
        self.update(|s| s.expired_tokens.extend(statics));
    }

    /// The OAuth authorization server (options, revocation, token-request log).
    pub fn oauth(&self) -> &OAuthServer {
        &self.inner.oauth
    }

    /// The credentials accepted.
    pub fn credentials(&self) -> &HelpScoutCredentials {
        &self.inner.credentials
    }

    pub(crate) fn base(&self) -> &str {
        &self.inner.base
    }
}

impl Control for HelpScout {
    fn state(&self) -> &dyn StateControl {
        &self.inner.state
    }

    fn error(&self, status: StatusCode, message: &str) -> Response {
        if status == StatusCode::TOO_MANY_REQUESTS {
            // §2.3: 429 body seen in the SDK fixtures.
            return (status, Json(json!({ "message": "API rate limit exceeded" }))).into_response();
        }
        HsError::new(status, message).into_response()
    }

    /// Help Scout announces the wait after a 429 in `X-RateLimit-Retry-After`
    /// (seconds), not `Retry-After` (intercom-helpscout-api.md §2.3), so an
    /// injected 429's `retry_after` is sent under that name.
    fn decorate(&self, _parts: &Parts, response: &mut Response) {
        if response.status() == StatusCode::TOO_MANY_REQUESTS
            && let Some(v) = response.headers_mut().remove(header::RETRY_AFTER)
        {
            response.headers_mut().insert("x-ratelimit-retry-after", v);
        }
    }

    fn configure(&self, fault: &Fault) {
        if fault.expire_tokens {
            self.expire_tokens();
        }
    }

    fn oauth(&self) -> Option<&OAuthServer> {
        Some(&self.inner.oauth)
    }

    #[allow(clippy::result_large_err)]
    fn gate(&self, parts: &Parts) -> Result<(), Response> {
        let token = match presented(&parts.headers) {
            Presented::Bearer(t) => t,
            _ => {
                return Err(HsError::new(StatusCode::UNAUTHORIZED, "Authentication required").into_response());
            }
        };
        let s = self.inner.state.lock();
        let valid =
            !s.expired_tokens.contains(&token) && (self.inner.credentials.tokens.contains(&token) || self.inner.oauth.accepts(&token));
        if valid {
            Ok(())
        } else {
            // [U] §2.2/§2.4: the 401 body of an expired token is not documented; a vnd.error message is used.
            Err(HsError::new(StatusCode::UNAUTHORIZED, "Invalid or expired access token").into_response())
        }
    }
}

/// A Help Scout error: `application/vnd.error+json` with `logRef`, `message`
/// and, for validation errors, `_embedded.errors[{path, message, source}]`.
#[derive(Debug)]
pub struct HsError {
    status: StatusCode,
    message: String,
    errors: Vec<(String, String, Value)>,
}

impl HsError {
    fn new(status: StatusCode, message: &str) -> Self {
        Self { status, message: message.to_owned(), errors: Vec::new() }
    }

    fn not_found() -> Self {
        // [U] §2.4: the 404 body is not documented; a vnd.error without details is used.
        Self::new(StatusCode::NOT_FOUND, "Resource not found")
    }

    /// A 400 validation error for one field.
    fn invalid(path: &str, message: &str, rejected: Value) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: "Bad request".into(),
            errors: vec![(path.to_owned(), message.to_owned(), rejected)],
        }
    }
}

impl IntoResponse for HsError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "logRef": format!("sbx-{:x}#1", now_millis()),
            "message": self.message,
            "_links": { "about": { "href": "http://developer.helpscout.net/mailbox-api/overview/errors" } },
        });
        if !self.errors.is_empty() {
            let errors: Vec<Value> = self
                .errors
                .into_iter()
                .map(|(path, message, rejected)| json!({ "path": path, "message": message, "rejectedValue": rejected, "source": "JSON" }))
                .collect();
            body["_embedded"] = json!({ "errors": errors });
        }
        let mut r = (self.status, Json(body)).into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/vnd.error+json"));
        r
    }
}

/// 201 with `Resource-ID` (and `Location`) and no body (§2.1).
fn created(location: String, id: u64) -> Response {
    let mut r = StatusCode::CREATED.into_response();
    r.headers_mut().insert("resource-id", HeaderValue::from(id));
    if let Ok(v) = HeaderValue::from_str(&location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// A HAL JSON response.
fn hal(body: Value) -> Response {
    let mut r = Json(body).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/hal+json"));
    r
}

/// One page of a HAL collection (§2.4): `_embedded.{key}`, `page`, `_links`.
fn hal_page(base: &str, path: &str, query: &[(String, String)], key: &str, items: Vec<Value>, page: usize, size: usize) -> Value {
    let total = items.len();
    let total_pages = total.div_ceil(size).max(1);
    let page = page.max(1);
    let slice: Vec<Value> = items.into_iter().skip((page - 1) * size).take(size).collect();
    let link = |n: usize| {
        let mut q: Vec<String> =
            query.iter().filter(|(k, _)| k != "page").map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v))).collect();
        q.push(format!("page={n}"));
        json!({ "href": format!("{base}{path}?{}", q.join("&")) })
    };
    let mut links = Map::new();
    links.insert("self".into(), link(page));
    links.insert("first".into(), link(1));
    links.insert("last".into(), link(total_pages));
    links.insert("page".into(), json!({ "href": format!("{base}{path}{{?page}}"), "templated": true }));
    if page < total_pages {
        links.insert("next".into(), link(page + 1));
    }
    if page > 1 {
        links.insert("previous".into(), link(page - 1));
    }
    json!({
        "_embedded": { key: slice },
        "page": { "size": size, "totalElements": total, "totalPages": total_pages, "number": page },
        "_links": links,
    })
}

/// Parses a JSON object body.
fn body(bytes: &[u8]) -> Result<Map<String, Value>, HsError> {
    crate::common::util::json_object(bytes).map_err(|m| HsError::invalid("", &m, Value::Null))
}

fn parse_id(raw: &str) -> Result<u64, HsError> {
    raw.parse().map_err(|_| HsError::not_found())
}

impl EmulatorState for HelpScoutState {
    type Seed = HelpScoutSeed;
    fn add(&mut self, seed: HelpScoutSeed) {
        self.apply(seed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_429_names_its_wait_the_help_scout_way() {
        let (hs, _router) = HelpScout::new("http://127.0.0.1:1", HelpScoutCredentials::default());
        let mut r = hs.error(StatusCode::TOO_MANY_REQUESTS, "slow down");
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(3));
        let (parts, _) = axum::http::Request::new(()).into_parts();
        hs.decorate(&parts, &mut r);
        assert_eq!(r.headers().get("x-ratelimit-retry-after").and_then(|v| v.to_str().ok()), Some("3"));
        assert!(r.headers().get(header::RETRY_AFTER).is_none());
    }
}

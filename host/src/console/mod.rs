//! The admin console: server-rendered pages on a listener of their own
//! (`[console] listen`, default `127.0.0.1:8081`), answering "what is running,
//! what happened to this call, what failed" and offering the operator's
//! actions (replay, pause / resume, backfill) without a terminal, and makes
//! and sets up integrations ([`pages::setup`]; kept in the store, applied
//! without a restart, see [`crate::integrations`]).
//!
//! Every page needs a session ([`auth`]); a request without one gets the login
//! page. Every POST carries the session's CSRF token ([`csrf`], 403 without
//! it) and ends in a redirect, so the pages work without JavaScript (there is
//! none). Every answer carries `Content-Security-Policy: default-src 'self'`,
//! `X-Frame-Options: DENY` and `Cache-Control: no-store`. No secret is ever
//! rendered: event bodies and journal entries pass through [`mask`].

pub mod auth;
pub mod csrf;
mod pages;

use crate::server::AppState;
use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// What the console's handlers share.
#[derive(Clone)]
pub struct ConsoleState {
    /// The host's state (store, registry, connections, configuration).
    pub app: AppState,
    /// Signed-in browsers, kept in memory for `[console] session_hours`: a
    /// restart signs everyone out.
    pub sessions: Arc<auth::Sessions>,
    /// Failed logins per address.
    pub limiter: Arc<auth::Limiter>,
    /// The numbers Aircall listed per account, briefly kept (the accounts page).
    numbers: Arc<pages::accounts::NumbersCache>,
}

impl ConsoleState {
    /// State for `app`'s console.
    pub fn new(app: AppState) -> ConsoleState {
        let hours = app.config.console.as_ref().map_or(12, |c| c.session_hours);
        let lifetime_ms = i64::try_from(hours).unwrap_or(12) * 3_600_000;
        ConsoleState { app, sessions: Arc::new(auth::Sessions::new(lifetime_ms)), limiter: Arc::default(), numbers: Arc::default() }
    }
}

/// The console's router.
pub fn router(state: ConsoleState) -> Router {
    Router::new()
        .route("/assets/console.css", get(stylesheet))
        .route("/login", get(login_page).post(login))
        .route("/sign-in", get(sign_in))
        .route("/logout", post(logout))
        .route("/", get(pages::overview::page))
        .route("/activity", get(pages::activity::page))
        .route("/dead-letters", get(pages::dead_letters::page))
        .route("/dead-letters/replay", post(pages::dead_letters::replay))
        .route("/dead-letters/skip", post(pages::dead_letters::skip))
        .route("/integrations", get(pages::integrations::page))
        .route("/integrations/{id}/pause", post(pages::integrations::pause))
        .route("/integrations/{id}/resume", post(pages::integrations::resume))
        .route("/integrations/{id}/backfill", post(pages::integrations::backfill))
        .route("/integrations/new", get(pages::setup::new::page).post(pages::setup::new::create))
        .route("/integrations/{id}/setup", get(pages::setup::page).post(pages::setup::save))
        .route("/integrations/{id}/connection", post(pages::setup::connect::save))
        .route("/integrations/{id}/connect", post(pages::setup::connect::start))
        .route("/integrations/{id}/enable", post(pages::setup::lifecycle::enable))
        .route("/integrations/{id}/disable", post(pages::setup::lifecycle::disable))
        .route("/integrations/{id}/delete", post(pages::setup::lifecycle::delete))
        .route("/accounts", get(pages::accounts::page))
        .route("/accounts/new", get(pages::new_account::page).post(pages::new_account::create))
        .route("/accounts/{id}/rotate-webhook", post(pages::accounts::rotate_webhook))
        .route("/accounts/{id}/delete", post(pages::new_account::delete))
        .route("/connections/{id}/connect", post(pages::accounts::connect))
        .route("/plugins", get(pages::plugins::page))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// Serve the console on `listener` until `shutdown` resolves.
pub async fn serve(
    app: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let router = router(ConsoleState::new(app));
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown).await?;
    Ok(())
}

async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("../../assets/console.css")).into_response()
}

async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'self'"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A signed-in admin: handlers that take it only run with a session; without
/// one the browser is sent to the login page.
pub struct Admin {
    /// The session's CSRF token, for the forms of the page.
    pub csrf: String,
}

impl FromRequestParts<ConsoleState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &ConsoleState) -> Result<Admin, Response> {
        let now = crate::clock::now_ms();
        auth::cookie(&parts.headers, auth::SESSION_COOKIE)
            .and_then(|id| state.sessions.get(&id, now))
            .map(|s| Admin { csrf: s.csrf })
            .ok_or_else(|| Redirect::to("/login").into_response())
    }
}

impl Admin {
    /// `None` when the form carries this session's CSRF token; else the 403 to send.
    pub fn refuse(&self, form: &HashMap<String, String>) -> Option<Response> {
        if csrf::matches(&self.csrf, form.get(csrf::FIELD).map(String::as_str)) { None } else { Some(forbidden()) }
    }
}

fn forbidden() -> Response {
    (StatusCode::FORBIDDEN, "403 Forbidden: the form's CSRF token is missing or wrong; reload the page and try again").into_response()
}

/// Render a template as the answer with `status` (a form refused: 422).
pub fn render_as(status: StatusCode, page: impl Template) -> Response {
    let mut response = render(page);
    if response.status().is_success() {
        *response.status_mut() = status;
    }
    response
}

/// Render a template as the answer.
pub fn render(page: impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "console: template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered").into_response()
        }
    }
}

/// A store or other failure shown as a 500 with its reason (never a secret:
/// store errors name tables and columns, not values).
pub fn failure(what: &str, e: impl std::fmt::Display) -> Response {
    tracing::warn!(error = %e, "console: {what} failed");
    (StatusCode::INTERNAL_SERVER_ERROR, format!("{what} failed: {e}")).into_response()
}

/// How every console action saves: `change` is made to the stored document
/// of console integrations and accounts (compare-and-swap, retried), then
/// the running host applies it. A failure is the 500 page naming `what` (or
/// "applying").
pub async fn save_and_apply(
    state: &ConsoleState,
    what: &str,
    change: impl FnMut(&mut crate::integrations::stored::Document) -> Result<(), String>,
) -> Result<(), Response> {
    crate::integrations::stored::update(&state.app.store, change).await.map_err(|e| failure(what, e))?;
    crate::integrations::Applier::of(&state.app).apply().await.map_err(|e| failure("applying", e))?;
    Ok(())
}

/// `2026-11-29 12:38:10` (UTC) for ms since the epoch.
pub fn when(ms: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// `text` with every secret the configuration holds (webhook tokens, API
/// tokens, integration secrets; pass the effective configuration,
/// `AppState::live`, so console-made integrations' secrets are included) and
/// every credential-looking value replaced by
/// `••••`: `Bearer …` / `Basic …`, and JSON string values of keys that name a
/// token, secret, password, key or authorization.
pub fn mask(text: &str, config: &crate::config::Config) -> String {
    const HIDDEN: &str = "••••";
    let mut out = text.to_string();
    let mut secrets: Vec<&str> = Vec::new();
    for a in &config.accounts {
        secrets.extend([a.webhook_token.as_str(), a.api_token.as_deref().unwrap_or(""), a.api_id.as_deref().unwrap_or("")]);
    }
    for i in &config.integrations {
        secrets.extend(i.secrets.values().map(String::as_str));
    }
    for app in config.oauth.values() {
        secrets.push(&app.client_secret);
    }
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for s in secrets.into_iter().filter(|s| s.len() >= 4) {
        out = out.replace(s, HIDDEN);
    }
    for scheme in ["Bearer ", "Basic ", "bearer ", "basic "] {
        let mut from = 0;
        while let Some(at) = out[from..].find(scheme) {
            let start = from + at + scheme.len();
            let end = out[start..].find(|c: char| c.is_whitespace() || c == '"' || c == '\'').map_or(out.len(), |n| start + n);
            out.replace_range(start..end, HIDDEN);
            from = start + HIDDEN.len();
        }
    }
    mask_json_secrets(&out)
}

/// JSON string values whose key names a credential, hidden.
fn mask_json_secrets(text: &str) -> String {
    let sensitive = ["token", "secret", "password", "authorization", "api_key", "apikey", "key"];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    // Look for `"name": "value"` pairs.
    while let Some(q) = rest.find('"') {
        out.push_str(&rest[..=q]);
        rest = &rest[q + 1..];
        let Some(end) = rest.find('"') else { break };
        let name = &rest[..end];
        out.push_str(&rest[..=end]);
        rest = &rest[end + 1..];
        let trimmed = rest.trim_start();
        let lower = name.to_ascii_lowercase();
        if trimmed.starts_with(':') && sensitive.iter().any(|s| lower.ends_with(s)) {
            let after_colon = trimmed[1..].trim_start();
            if let Some(value) = after_colon.strip_prefix('"')
                && let Some(close) = value.find('"')
            {
                let skipped = rest.len() - after_colon.len();
                out.push_str(&rest[..skipped]);
                out.push_str("\"••••\"");
                rest = &value[close + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    csrf: String,
    error: Option<String>,
    password_enabled: bool,
}

/// `GET /login`: the form, with a CSRF token bound to a cookie of its own.
async fn login_page(State(state): State<ConsoleState>) -> Response {
    login_form(&state, None, StatusCode::OK)
}

fn login_form(state: &ConsoleState, error: Option<String>, status: StatusCode) -> Response {
    let token = csrf::token();
    let password_enabled = state.app.config.console.as_ref().is_some_and(|c| c.admin_password_hash.is_some());
    let mut response = render(LoginPage { csrf: token.clone(), error, password_enabled });
    *response.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(&auth::set_cookie(auth::LOGIN_COOKIE, &token, 600)) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// `POST /login`: password against the argon2 hash; failures limited per address.
async fn login(
    State(state): State<ConsoleState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    let expected = auth::cookie(&headers, auth::LOGIN_COOKIE).unwrap_or_default();
    if !csrf::matches(&expected, form.get(csrf::FIELD).map(String::as_str)) {
        return forbidden();
    }
    let now = crate::clock::now_ms();
    let ip = peer.ip();
    if let Err(wait) = state.limiter.check(ip, now) {
        let mut r = login_form(&state, Some(format!("Too many failed attempts: try again in {wait} s.")), StatusCode::TOO_MANY_REQUESTS);
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    let hash = state.app.config.console.as_ref().and_then(|c| c.admin_password_hash.clone());
    let password = form.get("password").cloned().unwrap_or_default();
    let ok = match hash {
        Some(hash) => tokio::task::spawn_blocking(move || auth::verify_password(&hash, &password)).await.unwrap_or(false),
        None => false,
    };
    if !ok {
        state.limiter.failed(ip, now);
        tracing::warn!(%ip, "console: failed login");
        return login_form(&state, Some("Wrong password.".into()), StatusCode::UNAUTHORIZED);
    }
    state.limiter.succeeded(ip);
    tracing::info!(%ip, "console: signed in with the password");
    signed_in(&state, now)
}

/// A new session and a redirect to the overview.
fn signed_in(state: &ConsoleState, now: i64) -> Response {
    let id = state.sessions.open(now);
    let max_age = state.app.config.console.as_ref().map_or(12, |c| c.session_hours) * 3600;
    let mut r = Redirect::to("/").into_response();
    for cookie in
        [auth::set_cookie(auth::SESSION_COOKIE, &id, i64::try_from(max_age).unwrap_or(43_200)), auth::set_cookie(auth::LOGIN_COOKIE, "", 0)]
    {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

/// `GET /sign-in?token=…`: a one-time link from `switchboard console-link`.
async fn sign_in(State(state): State<ConsoleState>, Query(q): Query<HashMap<String, String>>) -> Response {
    let now = crate::clock::now_ms();
    let token = q.get("token").map(String::as_str).unwrap_or_default();
    match auth::redeem_link(&state.app.store, token, now).await {
        Ok(true) => {
            tracing::info!("console: signed in with a one-time link");
            signed_in(&state, now)
        }
        Ok(false) => login_form(
            &state,
            Some("This sign-in link is unknown, used or expired: run `switchboard console-link` again.".into()),
            StatusCode::UNAUTHORIZED,
        ),
        Err(e) => failure("signing in", e),
    }
}

/// `POST /logout`
async fn logout(
    State(state): State<ConsoleState>,
    admin: Admin,
    headers: axum::http::HeaderMap,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = admin.refuse(&form) {
        return r;
    }
    if let Some(id) = auth::cookie(&headers, auth::SESSION_COOKIE) {
        state.sessions.close(&id);
    }
    let mut r = Redirect::to("/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&auth::set_cookie(auth::SESSION_COOKIE, "", 0)) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    fn config() -> crate::config::Config {
        crate::config::Config::from_toml(
            r#"
[[accounts]]
id = "main"
webhook_token = "hook-token-123"
api_id = "apiid"
api_token = "api-token-456"
[[integrations]]
id = "crm"
account = "main"
plugin = "example"
secrets = { api = "crm-secret-789" }
"#,
            std::path::Path::new("t.toml"),
            std::path::Path::new("/"),
            &|_| None,
        )
        .unwrap()
    }

    #[test]
    fn mask_hides_configured_secrets_and_credentials() {
        let c = config();
        let text = r#"{"token":"hook-token-123","data":{"id":1},"auth":"Bearer abc.def","x":"crm-secret-789 and api-token-456","api_key" : "zzz","n":"ok"}"#;
        let masked = super::mask(text, &c);
        for secret in ["hook-token-123", "abc.def", "crm-secret-789", "api-token-456", "zzz"] {
            assert!(!masked.contains(secret), "{secret} in {masked}");
        }
        assert!(masked.contains(r#""data":{"id":1}"#) && masked.contains(r#""n":"ok""#), "{masked}");
    }

    #[test]
    fn times_are_shown_in_utc() {
        assert_eq!(super::when(0), "1970-01-01 00:00:00");
        assert_eq!(super::when(1_764_419_890_000), "2025-11-29 12:38:10");
    }
}

//! The browser side of connecting: `GET /connect/{ticket}` (the link
//! `switchboard connect` prints; single use, 10 minutes), `GET /aircall/install`
//! (the install URL registered with Aircall) and `GET /oauth/callback` (where
//! vendors send the admin back). The start routes only redirect to the vendor;
//! they set a session cookie that the callback must present with the `state`,
//! so a state forged, replayed or carried to another browser stores nothing.

use super::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use std::collections::HashMap;

/// The cookie binding an authorization to the browser that started it.
const SESSION_COOKIE: &str = "sb_oauth_session";

/// `GET /connect/{ticket}`
pub async fn start(State(state): State<AppState>, Path(ticket): Path<String>) -> Response {
    let connection = match crate::connections::flow::redeem_ticket(&state.store, &ticket, crate::clock::now_ms()).await {
        Ok(c) => c,
        Err(e) => return page(StatusCode::BAD_REQUEST, "This link does not work", &e),
    };
    redirect_to_vendor(&state, &connection).await
}

/// `GET /aircall/install[?account=ID]`: Aircall opens it when an admin clicks
/// Install; it forwards to Aircall's authorize page.
pub async fn aircall_install(State(state): State<AppState>, Query(q): Query<HashMap<String, String>>) -> Response {
    let config = state.live.load();
    let oauth: Vec<&str> = config.accounts.iter().filter(|a| a.oauth).map(|a| a.id.as_str()).collect();
    let account = match (q.get("account"), oauth.as_slice()) {
        (Some(a), _) if oauth.contains(&a.as_str()) => a.clone(),
        (Some(a), _) => {
            return page(StatusCode::NOT_FOUND, "Unknown account", &format!("no account {a:?} is installed by OAuth on this host"));
        }
        (None, [one]) => one.to_string(),
        (None, []) => return page(StatusCode::NOT_FOUND, "Nothing to install", "no account on this host is set up with oauth = true"),
        (None, _) => return page(StatusCode::BAD_REQUEST, "Which account?", "several accounts use OAuth here: add ?account=ID"),
    };
    redirect_to_vendor(&state, &format!("account:{account}")).await
}

async fn redirect_to_vendor(state: &AppState, connection: &str) -> Response {
    let session = crate::connections::flow::random_token();
    match state.connections.authorize_url(connection, &session).await {
        Ok(url) => {
            let secure = if state.config.server.public_url.as_deref().is_some_and(|u| u.starts_with("https://")) { "; Secure" } else { "" };
            let cookie = format!("{SESSION_COOKIE}={session}; HttpOnly; SameSite=Lax; Path=/oauth; Max-Age=600{secure}");
            (StatusCode::FOUND, [(header::LOCATION, url), (header::SET_COOKIE, cookie)]).into_response()
        }
        Err(e) => page(StatusCode::BAD_REQUEST, "Cannot connect", &e),
    }
}

/// `GET /oauth/callback?code=…&state=…` (or `error=…`).
pub async fn callback(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    if let Some(error) = q.get("error") {
        let said = q.get("error_description").map(|d| format!("{error}: {d}")).unwrap_or_else(|| error.clone());
        return page(StatusCode::BAD_REQUEST, "Not connected", &format!("the vendor said: {said}"));
    }
    let (Some(code), Some(st)) = (q.get("code"), q.get("state")) else {
        return page(StatusCode::BAD_REQUEST, "Not connected", "the callback carries no code or no state");
    };
    let session = cookie(&headers, SESSION_COOKIE);
    match state.connections.complete(st, session.as_deref(), code).await {
        Ok(record) => {
            let id = crate::connections::record::short_id(&record.id);
            page(StatusCode::OK, "Connected", &format!("{id} is connected to {}. You can close this window.", record.provider))
        }
        Err(e) => {
            tracing::warn!(error = %e, "OAuth callback refused");
            page(StatusCode::BAD_REQUEST, "Not connected", &e)
        }
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

/// A small HTML page; `message` is escaped.
fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let body =
        format!("<!doctype html><meta charset=utf-8><title>{t}</title><h1>{t}</h1><p>{m}</p>", t = escape(title), m = escape(message));
    (status, Html(body)).into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

//! `GET /accounts`: each Aircall account — how it is connected (a static API
//! key in the configuration, or this host's app installed by OAuth, with the
//! connection's state), its webhook (the newest event the store has from it,
//! and what the last webhook check found), and its numbers as Aircall lists
//! them, with the integrations that log each. The numbers are asked with the
//! account's own client (its request budget), at most every
//! [`NUMBERS_TTL_MS`] and for at most [`NUMBERS_TIMEOUT`]; a failure is a line
//! on the page, not a failed page.
//!
//! Accounts declared in the configuration file are read-only; accounts added
//! in the console ([`super::new_account`]: `GET /accounts/new`) can be
//! deleted when no integration uses them.
//!
//! Actions: `POST /connections/{id}/connect` starts connecting (or
//! reconnecting) an OAuth connection — the Aircall account's install or a
//! CRM's — the way `switchboard connect` does, by sending the browser to the
//! single-use link on the main server (`[server] public_url`); and
//! `POST /accounts/{id}/rotate-webhook` gives an installed account a new
//! webhook token (a webhook token from the configuration file is changed in
//! the file).

use crate::config::Origin;
use crate::connections::record::State as ConnState;
use crate::console::pages::overview::{Badge, age};
use crate::console::{Admin, ConsoleState, mask, render_as, when};
use crate::store::EventSearch;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// How long the numbers Aircall listed are shown without asking again.
pub const NUMBERS_TTL_MS: i64 = 60_000;
/// How long the page waits for Aircall's answer.
pub const NUMBERS_TIMEOUT: Duration = Duration::from_secs(3);

/// A number as the page shows it.
#[derive(Clone)]
pub struct NumberRow {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) digits: String,
    country: String,
    logged_by: String,
}

/// What Aircall answered when the numbers were listed, and when (ms).
type Listed = (i64, Result<Vec<NumberRow>, String>);

/// The numbers last listed per account.
#[derive(Default)]
pub struct NumbersCache(pub(crate) Mutex<HashMap<String, Listed>>);

struct AccountRow {
    id: String,
    /// Added in the console (a Delete button), or declared in the file.
    console_made: bool,
    kind: String,
    badge: Badge,
    /// `Connect` / `Reconnect` for an account installed by OAuth (empty: no button).
    connect: String,
    /// Whether the webhook token can be rotated from here (installed by OAuth and connected).
    rotate: bool,
    /// Where the webhook token lives, when it cannot be rotated from here.
    token_note: String,
    last_event: String,
    check: String,
    check_detail: String,
    numbers: Vec<NumberRow>,
    numbers_note: String,
    numbers_error: String,
}

/// A CRM connection (an integration whose token comes from OAuth).
struct ConnectionRow {
    id: String,
    provider: String,
    integrations: String,
    badge: Badge,
    expiry: String,
    connect: String,
}

#[derive(Template)]
#[template(path = "console/accounts.html")]
struct AccountsPage {
    nav: &'static str,
    csrf: String,
    notice: String,
    error: String,
    accounts: Vec<AccountRow>,
    connections: Vec<ConnectionRow>,
}

/// The badge of a connection's record.
fn record_badge(r: &crate::connections::record::Record, config: &crate::config::Config) -> Badge {
    let (word, class) = match r.state {
        ConnState::Connected => ("connected", "ok"),
        ConnState::Refreshing => ("refreshing", "ok"),
        ConnState::NeedsReauth => ("needs re-auth", "bad"),
        ConnState::Revoked => ("revoked", "bad"),
        ConnState::NotConnected => ("not connected", "bad"),
    };
    let green = class == "ok";
    Badge {
        word: word.into(),
        class,
        reason: if green { String::new() } else { mask(&r.reason, config) },
        since: if r.since_ms > 0 && !green { when(r.since_ms) } else { String::new() },
        fix: if green { String::new() } else { format!("{} on this page, or {}", connect_word(r.state), r.fix.trim_end_matches('.')) },
    }
}

/// The button's word for a connection in `state`.
fn connect_word(state: ConnState) -> &'static str {
    match state {
        ConnState::NotConnected => "Connect",
        _ => "Reconnect",
    }
}

/// The account's numbers from Aircall (cached), or why they could not be
/// listed. An answer from before the account was last connected is not used.
pub(crate) async fn numbers(
    state: &ConsoleState,
    account: &crate::config::AccountConfig,
    now: i64,
) -> (Result<Vec<NumberRow>, String>, i64) {
    let connected_at = if account.oauth {
        let id = format!("account:{}", account.id);
        state.app.connections.list().await.unwrap_or_default().into_iter().find(|r| r.id == id).map_or(0, |r| r.refreshed_at_ms)
    } else {
        0
    };
    if let Some((at, answer)) = state.numbers.0.lock().ok().and_then(|c| c.get(&account.id).cloned())
        && now - at < NUMBERS_TTL_MS
        && at >= connected_at
    {
        return (answer, at);
    }
    let app = &state.app;
    let filtered = app.filtered();
    let answer = match app.registry.aircall(&account.id) {
        None => Err("no Aircall client for this account".to_string()),
        Some(client) => match tokio::time::timeout(NUMBERS_TIMEOUT, client.numbers()).await {
            Err(_) => Err(format!(
                "Aircall did not answer within {} s (or the account's request budget is used up for now)",
                NUMBERS_TIMEOUT.as_secs()
            )),
            Ok(Err(e)) => Err(mask(&e.to_string(), &app.live.load())),
            Ok(Ok(list)) => Ok(list
                .into_iter()
                .map(|n| {
                    let key = crate::aircall::model::NumberKey { id: Some(n.id), digits: n.digits.as_deref() };
                    let users: Vec<&str> = filtered
                        .config
                        .integrations
                        .iter()
                        .zip(filtered.filters.iter())
                        .filter(|(i, f)| i.enabled && i.account == account.id && f.matches(Some(key)))
                        .map(|(i, _)| i.id.as_str())
                        .collect();
                    NumberRow {
                        id: n.id,
                        name: n.name.unwrap_or_default(),
                        digits: n.digits.or(n.e164_digits).unwrap_or_default(),
                        country: n.country.unwrap_or_default(),
                        logged_by: if users.is_empty() { "none".into() } else { users.join(", ") },
                    }
                })
                .collect()),
        },
    };
    if let Ok(mut cache) = state.numbers.0.lock() {
        cache.insert(account.id.clone(), (now, answer.clone()));
    }
    (answer, now)
}

/// `GET /accounts`
pub async fn page(admin: Admin, State(state): State<ConsoleState>, Query(q): Query<HashMap<String, String>>) -> Response {
    let notice = q.get("notice").cloned().unwrap_or_default();
    let error = q.get("error").cloned().unwrap_or_default();
    render_page(admin, &state, notice, error, StatusCode::OK).await
}

/// The accounts page with `notice` and `error` at the top, answered with `status`.
pub async fn render_page(admin: Admin, state: &ConsoleState, notice: String, error: String, status: StatusCode) -> Response {
    let app = &state.app;
    let now = crate::clock::now_ms();
    let records = app.connections.list().await.unwrap_or_default();
    let mut accounts = Vec::new();
    let effective = app.live.load();
    for a in &effective.accounts {
        let console_made = a.origin == Origin::Console;
        let (kind, badge) = if a.oauth {
            let record = records.iter().find(|r| r.id == format!("account:{}", a.id));
            let company = a.company_id.map(|c| format!(", company {c} only")).unwrap_or_default();
            let badge = match record {
                Some(r) if r.state != ConnState::NotConnected || r.reason != "never connected" => record_badge(r, &app.live.load()),
                _ => Badge {
                    word: "not connected".into(),
                    class: "bad",
                    reason: "the app was never installed for this account".into(),
                    since: String::new(),
                    fix: format!("Connect on this page, or run `switchboard connect {}` and open the link it prints", a.id),
                },
            };
            (format!("this host's Aircall app, installed by OAuth{company}"), badge)
        } else {
            let kind = match (&a.api_id, &a.api_token, console_made) {
                (Some(_), Some(_), true) => "static API key (api_id, and api_token sealed in the store)",
                (Some(_), Some(_), false) => "static API key (api_id and api_token in the configuration)",
                (None, Some(_), _) => "static bearer token (api_token in the configuration)",
                _ => "webhook token only: no API key, so no insight cards, reconciliation or numbers",
            };
            let badge = Badge { word: "configured".into(), class: "ok", reason: String::new(), since: String::new(), fix: String::new() };
            (kind.to_string(), badge)
        };
        let last_event = match app.store.find_events(EventSearch { account: Some(a.id.clone()), limit: 1, ..Default::default() }).await {
            Ok(found) => match found.first() {
                Some(e) => format!(
                    "{} ({}) at {} UTC, {} ago",
                    e.event_name,
                    e.origin.as_str(),
                    when(e.received_at_ms),
                    age(now - e.received_at_ms)
                ),
                None => "none received yet".into(),
            },
            Err(e) => format!("unreadable: {e}"),
        };
        let (check, check_detail) = match app.metrics.webhook_check(&a.id) {
            Some(c) => {
                let mut line = format!("{} (checked {} UTC)", c.state, when(c.at_ms));
                if let Some(id) = &c.webhook_id {
                    line.push_str(&format!(", webhook {id}"));
                }
                if let Some(url) = &c.url {
                    line.push_str(&format!(" → {url}"));
                }
                (line, mask(&c.detail, &app.live.load()))
            }
            None if !app.config.reconcile.enabled || !app.config.reconcile.check_webhook => {
                ("not checked by this host ([reconcile] is off)".into(), "`switchboard accounts check` checks it now".into())
            }
            None => ("not checked yet".into(), format!("reconciliation checks it every {} s", app.config.reconcile.every_seconds)),
        };
        let has_api = a.oauth || a.api_token.is_some();
        let (numbers, numbers_note, numbers_error) = if has_api {
            match numbers(state, a, now).await {
                (Ok(list), at) => {
                    let note = format!("as Aircall listed them at {} UTC", when(at));
                    (list, note, String::new())
                }
                (Err(e), _) => (Vec::new(), String::new(), format!("Aircall's numbers could not be listed: {e}")),
            }
        } else {
            (Vec::new(), "no API key: the host cannot ask Aircall for the numbers".into(), String::new())
        };
        let record = records.iter().find(|r| r.id == format!("account:{}", a.id));
        let (connect, rotate, token_note) = if a.oauth {
            let state = record.map_or(ConnState::NotConnected, |r| r.state);
            let connected = matches!(state, ConnState::Connected | ConnState::Refreshing | ConnState::NeedsReauth);
            let note = if connected { String::new() } else { "the webhook and its token come with the install".to_string() };
            (connect_word(state).to_string(), connected, note)
        } else {
            (String::new(), false, static_token_note(console_made).into())
        };
        accounts.push(AccountRow {
            id: a.id.clone(),
            console_made,
            kind,
            badge,
            connect,
            rotate,
            token_note,
            last_event,
            check,
            check_detail,
            numbers,
            numbers_note,
            numbers_error,
        });
    }
    let connections = app
        .connections
        .specs()
        .filter(|s| s.id.starts_with("integration:"))
        .map(|s| {
            let r = records.iter().find(|r| r.id == s.id);
            let state = r.map_or(ConnState::NotConnected, |r| r.state);
            let badge = match r {
                Some(r) => record_badge(r, &app.live.load()),
                None => record_badge(&crate::connections::record::Record::empty(&s.id, &s.provider, 0), &app.live.load()),
            };
            let expiry = match r.and_then(|r| r.expires_at_ms) {
                Some(at) if at > now => format!("token expires in {}", age(at - now)),
                Some(_) => "token expired (refreshed at its next use)".into(),
                None => String::new(),
            };
            ConnectionRow {
                id: s.id.clone(),
                provider: s.provider.clone(),
                integrations: s.integrations.join(", "),
                badge,
                expiry,
                connect: connect_word(state).to_string(),
            }
        })
        .collect();
    render_as(status, AccountsPage { nav: "accounts", csrf: admin.csrf, notice, error, accounts, connections })
}

/// Where the webhook token of an account with a static key lives.
fn static_token_note(console_made: bool) -> &'static str {
    if console_made {
        "sealed in the store, never shown (entered, or taken from Aircall, when the account was added): to change it, delete the account and add it again"
    } else {
        "the webhook token is managed in the configuration file (webhook_token): change it there and in Aircall's Dashboard, then restart"
    }
}

/// Back to the accounts page with a notice (or an error) shown at the top.
pub fn back(key: &str, text: &str) -> Response {
    let text: String = url::form_urlencoded::byte_serialize(text.as_bytes()).collect();
    Redirect::to(&format!("/accounts?{key}={text}")).into_response()
}

/// `POST /connections/{id}/connect` (`account:main`, `integration:crm`):
/// sends the browser to a fresh single-use start link on the main server —
/// the vendor's consent page follows, then the host's callback. A
/// client-credentials provider connects at once, without a browser.
pub async fn connect(
    admin: Admin,
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = admin.refuse(&form) {
        return r;
    }
    let connections = &state.app.connections;
    let spec = match connections.spec(&id) {
        Ok(s) if s.id == id => s.clone(),
        Ok(_) | Err(_) => return (StatusCode::NOT_FOUND, format!("no connection {id:?}")).into_response(),
    };
    let client_credentials =
        crate::providers::Providers::builtin().get(&spec.provider).is_some_and(|p| p.grant == crate::providers::Grant::ClientCredentials);
    if client_credentials {
        return match connections.connect_client_credentials(&spec.id).await {
            Ok(r) => {
                tracing::info!(connection = %r.id, "console: connected (client credentials)");
                back("notice", &format!("{} is connected to {}", r.id, r.provider))
            }
            Err(e) => back("error", &format!("{} could not connect: {}", spec.id, mask(&e, &state.app.live.load()))),
        };
    }
    match connections.start_link(&spec.id).await {
        Ok(link) => {
            tracing::info!(connection = %spec.id, "console: connect started; the browser goes to the vendor");
            Redirect::to(&link).into_response()
        }
        Err(e) => back("error", &format!("{} cannot be connected from here: {e}", spec.id)),
    }
}

/// `POST /accounts/{id}/rotate-webhook`
pub async fn rotate_webhook(
    admin: Admin,
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = admin.refuse(&form) {
        return r;
    }
    let effective = state.app.live.load();
    let Some(account) = effective.accounts.iter().find(|a| a.id == id) else {
        return (StatusCode::NOT_FOUND, format!("no account {id:?}")).into_response();
    };
    if !account.oauth {
        let why = if account.origin == Origin::Console {
            format!("the webhook token of {id} was set when it was added in the console: delete the account and add it again to change it")
        } else {
            format!(
                "the webhook token of {id} is managed in the configuration file (webhook_token): change it there and in Aircall's Dashboard, then restart"
            )
        };
        return back("error", &why);
    }
    match state.app.connections.aircall_rotate_webhook(&id).await {
        Ok(webhook) => {
            tracing::info!(account = %id, %webhook, "console: webhook token rotated");
            back("notice", &format!("{id} has a new webhook token (webhook {webhook}); the old token is refused from now on"))
        }
        Err(e) => back("error", &format!("the webhook token of {id} was not rotated: {}", mask(&e, &state.app.live.load()))),
    }
}

//! `GET /accounts`: each Aircall account — how it is connected (a static API
//! key in the configuration, or this host's app installed by OAuth, with the
//! connection's state), its webhook (the newest event the store has from it,
//! and what the last webhook check found), and its numbers as Aircall lists
//! them, with the integrations that log each. The numbers are asked with the
//! account's own client (its request budget), at most every
//! [`NUMBERS_TTL_MS`] and for at most [`NUMBERS_TIMEOUT`]; a failure is a line
//! on the page, not a failed page.

use crate::connections::record::State as ConnState;
use crate::console::pages::overview::{Badge, age};
use crate::console::{Admin, ConsoleState, mask, render, when};
use crate::store::EventSearch;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
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
    id: u64,
    name: String,
    digits: String,
    country: String,
    logged_by: String,
}

/// What Aircall answered when the numbers were listed, and when (ms).
type Listed = (i64, Result<Vec<NumberRow>, String>);

/// The numbers last listed per account.
#[derive(Default)]
pub struct NumbersCache(Mutex<HashMap<String, Listed>>);

struct AccountRow {
    id: String,
    kind: String,
    badge: Badge,
    last_event: String,
    check: String,
    check_detail: String,
    numbers: Vec<NumberRow>,
    numbers_note: String,
    numbers_error: String,
}

#[derive(Template)]
#[template(path = "console/accounts.html")]
struct AccountsPage {
    nav: &'static str,
    csrf: String,
    accounts: Vec<AccountRow>,
}

/// The account's numbers from Aircall (cached), or why they could not be listed.
async fn numbers(state: &ConsoleState, account: &crate::config::AccountConfig, now: i64) -> (Result<Vec<NumberRow>, String>, i64) {
    if let Some((at, answer)) = state.numbers.0.lock().ok().and_then(|c| c.get(&account.id).cloned())
        && now - at < NUMBERS_TTL_MS
    {
        return (answer, at);
    }
    let app = &state.app;
    let answer = match app.registry.aircall(&account.id) {
        None => Err("no Aircall client for this account".to_string()),
        Some(client) => match tokio::time::timeout(NUMBERS_TIMEOUT, client.numbers()).await {
            Err(_) => Err(format!(
                "Aircall did not answer within {} s (or the account's request budget is used up for now)",
                NUMBERS_TIMEOUT.as_secs()
            )),
            Ok(Err(e)) => Err(mask(&e.to_string(), &app.config)),
            Ok(Ok(list)) => Ok(list
                .into_iter()
                .map(|n| {
                    let key = crate::aircall::model::NumberKey { id: Some(n.id), digits: n.digits.as_deref() };
                    let users: Vec<&str> = app
                        .config
                        .integrations
                        .iter()
                        .zip(app.filters.iter())
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
pub async fn page(admin: Admin, State(state): State<ConsoleState>) -> Response {
    let app = &state.app;
    let now = crate::clock::now_ms();
    let records = app.connections.list().await.unwrap_or_default();
    let mut accounts = Vec::new();
    for a in &app.config.accounts {
        let (kind, badge) = if a.oauth {
            let record = records.iter().find(|r| r.id == format!("account:{}", a.id));
            let company = a.company_id.map(|c| format!(", company {c} only")).unwrap_or_default();
            let badge = match record {
                Some(r) => {
                    let (word, class) = match r.state {
                        ConnState::Connected => ("connected", "ok"),
                        ConnState::Refreshing => ("refreshing", "ok"),
                        ConnState::NeedsReauth => ("needs re-auth", "bad"),
                        ConnState::Revoked => ("revoked", "bad"),
                        ConnState::NotConnected => ("not connected", "bad"),
                    };
                    Badge {
                        word: word.into(),
                        class,
                        reason: mask(&r.reason, &app.config),
                        since: if r.since_ms > 0 { when(r.since_ms) } else { String::new() },
                        fix: r.fix.clone(),
                    }
                }
                None => Badge {
                    word: "not connected".into(),
                    class: "bad",
                    reason: "the app was never installed for this account".into(),
                    since: String::new(),
                    fix: format!("run `switchboard connect {}` and open the link it prints", a.id),
                },
            };
            (format!("this host's Aircall app, installed by OAuth{company}"), badge)
        } else {
            let kind = match (&a.api_id, &a.api_token) {
                (Some(_), Some(_)) => "static API key (api_id and api_token in the configuration)",
                (None, Some(_)) => "static bearer token (api_token in the configuration)",
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
                (line, mask(&c.detail, &app.config))
            }
            None if !app.config.reconcile.enabled || !app.config.reconcile.check_webhook => {
                ("not checked by this host ([reconcile] is off)".into(), "`switchboard accounts check` checks it now".into())
            }
            None => ("not checked yet".into(), format!("reconciliation checks it every {} s", app.config.reconcile.every_seconds)),
        };
        let has_api = a.oauth || a.api_token.is_some();
        let (numbers, numbers_note, numbers_error) = if has_api {
            match numbers(&state, a, now).await {
                (Ok(list), at) => {
                    let note = format!("as Aircall listed them at {} UTC", when(at));
                    (list, note, String::new())
                }
                (Err(e), _) => (Vec::new(), String::new(), format!("Aircall's numbers could not be listed: {e}")),
            }
        } else {
            (Vec::new(), "no API key: the host cannot ask Aircall for the numbers".into(), String::new())
        };
        accounts.push(AccountRow { id: a.id.clone(), kind, badge, last_event, check, check_detail, numbers, numbers_note, numbers_error });
    }
    render(AccountsPage { nav: "accounts", csrf: admin.csrf, accounts })
}

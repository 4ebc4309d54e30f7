//! `GET /accounts/new` and `POST /accounts/new`: add an Aircall account in
//! the console; `POST /accounts/{id}/delete`: delete one.
//!
//! An account is an id and one of:
//! - **this host's Aircall app** (OAuth, needs `[oauth.aircall]`): saved, then
//!   the browser goes through the Connect flow, whose install creates exactly
//!   one webhook at Aircall and keeps its token;
//! - **an API key** (`api_id` + `api_token`, the token typed in a password
//!   field, sealed, never shown again) and the account's webhook token:
//!   entered, or — left empty — taken from the webhook that points at this
//!   host, which is created at Aircall with the key when there is none (as
//!   the rotate action does for installed accounts).
//!
//! What is sent is checked as `switchboard check` checks the file's accounts
//! ([`crate::config::live::merge_accounts`]: ids unique across the file and the
//! console, the API root, the Aircall app); a refusal is answered 422 with the
//! error beside its field, and nothing is saved (nor created at Aircall). The
//! account is in effect when the redirect arrives. The file's accounts are
//! read-only; a console account is deleted only when no integration uses it
//! (409 otherwise).

use super::setup::{Errors, first_values};
use crate::aircall::client::AircallClient;
use crate::config::AccountConfig;
use crate::config::live::{console_account_key, merge_accounts};
use crate::console::{Admin, ConsoleState, failure, mask, render_as, save_and_apply};
use crate::integrations::accounts::{self as stored_accounts, API_TOKEN, DEFAULT_REQUESTS_PER_MINUTE, StoredAccount, WEBHOOK_TOKEN};
use crate::integrations::stored;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

/// The form's `method` for an account connected by installing the app.
pub const OAUTH: &str = "oauth";
/// The form's `method` for an account with a static API key.
pub const API_KEY: &str = "api_key";
/// Aircall's API root, what the form starts with.
const AIRCALL_API: &str = "https://api.aircall.io";

/// What the form shows again after a refusal (never a token).
#[derive(Default)]
struct Draft {
    id: String,
    method: String,
    api_id: String,
    api_base: String,
    company_id: String,
}

#[derive(Template)]
#[template(path = "console/new_account.html")]
struct NewAccountPage {
    nav: &'static str,
    csrf: String,
    draft: Draft,
    /// `[oauth.aircall]` is configured: the OAuth choice works.
    aircall_app: bool,
    /// Where a created webhook points (empty: no `public_url`, the token must be entered).
    webhook_url: String,
    errors: Errors,
}

impl NewAccountPage {
    /// The error beside `field`, or "".
    fn error(&self, field: &str) -> &str {
        self.errors.get(field).map_or("", String::as_str)
    }
}

fn form_page(state: &ConsoleState, csrf: String, draft: Draft, errors: Errors) -> Response {
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = NewAccountPage {
        nav: "accounts",
        csrf,
        draft,
        aircall_app: state.app.config.oauth.contains_key("aircall"),
        webhook_url: state.app.connections.webhook_url().unwrap_or_default(),
        errors,
    };
    render_as(status, page)
}

/// `GET /accounts/new`
pub async fn page(admin: Admin, State(state): State<ConsoleState>) -> Response {
    let draft = Draft { method: API_KEY.into(), api_base: AIRCALL_API.into(), ..Draft::default() };
    form_page(&state, admin.csrf, draft, Errors::new())
}

/// The form field an error of the account checks is about: `message` reads
/// `console account "x".api_base: …`.
fn field_of(message: &str, id: &str) -> String {
    let rest = message.strip_prefix(&format!("{}.", console_account_key(id))).unwrap_or(message);
    match rest.split(':').next().unwrap_or("") {
        "oauth" => "method".into(),
        "api_requests_per_minute" => "form".into(),
        field @ ("id" | "webhook_token" | "api_id" | "api_token" | "api_base" | "company_id") => field.into(),
        _ => "form".into(),
    }
}

/// `POST /accounts/new`: `id`, `method` (`oauth` or `api_key`), `api_base`,
/// with OAuth `company_id` (optional), with a key `api_id`, `api_token` and
/// `webhook_token` (optional).
pub async fn create(admin: Admin, State(state): State<ConsoleState>, axum::Form(pairs): axum::Form<Vec<(String, String)>>) -> Response {
    let form = first_values(&pairs);
    if let Some(r) = admin.refuse(&form) {
        return r;
    }
    let get = |k: &str| form.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let draft =
        Draft { id: get("id"), method: get("method"), api_id: get("api_id"), api_base: get("api_base"), company_id: get("company_id") };
    let (api_token, webhook_token) = (get("api_token"), get("webhook_token"));
    let mut errors = Errors::new();
    let oauth = match draft.method.as_str() {
        OAUTH => true,
        API_KEY => false,
        other => {
            errors.insert("method".into(), format!("method: {other:?} is neither {OAUTH:?} (this host's Aircall app) nor {API_KEY:?}"));
            false
        }
    };
    let company_id = match draft.company_id.as_str() {
        "" => None,
        text => match text.parse::<u64>() {
            Ok(c) if oauth => Some(c),
            Ok(_) => {
                errors.insert("company_id".into(), "company_id: only an account installed by OAuth is bound to a company".into());
                None
            }
            Err(_) => {
                errors.insert("company_id".into(), format!("company_id: {text:?} is not an Aircall company id (a whole number)"));
                None
            }
        },
    };
    if !oauth {
        if draft.api_id.is_empty() {
            errors.insert("api_id".into(), "api_id: required with an API key (Aircall Dashboard → Integrations → API Keys)".into());
        }
        if api_token.is_empty() {
            errors.insert("api_token".into(), "api_token: required with an API key".into());
        }
    }
    let keys = match state.app.connections.keys() {
        Ok(k) => Some(k.clone()),
        Err(e) => {
            errors.insert("form".into(), format!("the account's tokens cannot be kept sealed: {e}"));
            None
        }
    };
    let doc = match stored::read(&state.app.store).await {
        Ok(doc) => doc,
        Err(e) => return failure("reading the console's accounts", e),
    };
    let mut candidate = AccountConfig {
        id: draft.id.clone(),
        webhook_token: webhook_token.clone(),
        oauth,
        company_id,
        api_id: (!oauth || !draft.api_id.is_empty()).then(|| draft.api_id.clone()),
        api_token: (!oauth || !api_token.is_empty()).then(|| api_token.clone()),
        api_base: draft.api_base.clone(),
        api_requests_per_minute: DEFAULT_REQUESTS_PER_MINUTE,
        origin: crate::config::Origin::Console,
    };
    // A webhook token left empty comes from Aircall: the rest is checked
    // before Aircall is asked (with a stand-in token), the token once known.
    let from_aircall = !oauth && webhook_token.is_empty();
    if errors.is_empty() {
        let mut probe = candidate.clone();
        if from_aircall {
            probe.webhook_token = format!("from-aircall-for-{}", draft.id);
        }
        check(&state, &doc, probe, keys.as_deref(), &mut errors);
    }
    if from_aircall && errors.is_empty() {
        match webhook_of(&state, &candidate).await {
            Ok(token) => {
                candidate.webhook_token = token;
                check(&state, &doc, candidate.clone(), keys.as_deref(), &mut errors);
            }
            Err((field, e)) => {
                errors.insert(field.into(), mask(&e, &state.app.live.load()));
            }
        }
    }
    let Some(keys) = keys.filter(|_| errors.is_empty()) else {
        tracing::info!(account = %draft.id, errors = errors.len(), "console: account refused");
        return form_page(&state, admin.csrf, draft, errors);
    };
    let seal = |name: &str, value: &str| -> Result<Option<_>, String> {
        if value.is_empty() { Ok(None) } else { stored_accounts::seal(&keys, &candidate.id, name, value).map(Some) }
    };
    let new = match (seal(API_TOKEN, &api_token), seal(WEBHOOK_TOKEN, &candidate.webhook_token)) {
        (Ok(api_token), Ok(webhook_token)) => StoredAccount {
            id: candidate.id.clone(),
            oauth,
            company_id,
            api_id: candidate.api_id.clone(),
            api_token,
            webhook_token,
            api_base: candidate.api_base.clone(),
            created_at_ms: crate::clock::now_ms(),
        },
        (Err(e), _) | (_, Err(e)) => return failure("sealing a token", e),
    };
    let id = new.id.clone();
    let saved = save_and_apply(&state, "saving", |doc| {
        if doc.account(&id).is_some() {
            return Err(format!("{id:?} was added meanwhile"));
        }
        doc.accounts.push(new.clone());
        Ok(())
    })
    .await;
    if let Err(r) = saved {
        return r;
    }
    forget_numbers(&state, &id);
    tracing::info!(account = %id, oauth, "console: account added");
    if !oauth {
        return super::accounts::back("notice", &format!("{id} added: its webhooks are accepted from now on"));
    }
    // The Connect flow: the install creates the account's webhook.
    match state.app.connections.start_link(&format!("account:{id}")).await {
        Ok(link) => Redirect::to(&link).into_response(),
        Err(e) => super::accounts::back("error", &format!("{id} added, but it cannot be connected from here: {e}")),
    }
}

/// Drops the numbers listed for an account of this id before (deleted, and
/// maybe added again with another key).
fn forget_numbers(state: &ConsoleState, id: &str) {
    if let Ok(mut cache) = state.numbers.0.lock() {
        cache.remove(id);
    }
}

/// The checks `switchboard check` applies to `candidate` beside the file's
/// accounts and the console's in `doc`; each problem beside its field.
fn check(
    state: &ConsoleState,
    doc: &stored::Document,
    candidate: AccountConfig,
    keys: Option<&crate::connections::seal::Keyring>,
    errors: &mut Errors,
) {
    let id = candidate.id.clone();
    let mut all: Vec<AccountConfig> = doc.accounts.iter().filter_map(|a| a.to_config(keys).ok()).collect();
    all.push(candidate);
    let (_, excluded) = merge_accounts(state.app.live.file(), all);
    // The candidate is last: an exclusion under its id is about it.
    if let Some(e) = excluded.iter().rev().find(|e| e.id == id) {
        let rest = e.reason.strip_prefix(&format!("{}.", console_account_key(&id))).unwrap_or(&e.reason).to_string();
        errors.entry(field_of(&e.reason, &id)).or_insert(rest);
    }
}

/// The token of the account's webhook pointing at this host, asked of Aircall
/// with the account's API key: the one there, or one created. An error is
/// the field it is about and why.
async fn webhook_of(state: &ConsoleState, account: &AccountConfig) -> Result<String, (&'static str, String)> {
    let url = state.app.connections.webhook_url().ok_or((
        "webhook_token",
        "webhook_token: enter the token of the account's webhook; this host has no [server] public_url for Aircall to post to".to_string(),
    ))?;
    let client = AircallClient::new(account).map_err(|e| ("form", e.to_string()))?;
    let refused = |e: crate::aircall::client::AircallError| ("api_token", format!("api_token: Aircall refused the API key: {e}"));
    let existing = client.webhooks().await.map_err(refused)?;
    if let Some(hook) = existing.into_iter().find(|h| h.url == url && !h.token.is_empty()) {
        tracing::info!(account = %account.id, webhook = %hook.webhook_id, "console: the account's webhook exists; its token is used");
        return Ok(hook.token);
    }
    let hook = client.create_webhook(&url).await.map_err(refused)?;
    if hook.token.is_empty() {
        return Err(("webhook_token", "webhook_token: Aircall created a webhook without a token; enter it".into()));
    }
    tracing::info!(account = %account.id, webhook = %hook.webhook_id, "console: webhook created at Aircall");
    Ok(hook.token)
}

/// `POST /accounts/{id}/delete`: a console account no integration uses.
pub async fn delete(
    admin: Admin,
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let form = first_values(&pairs);
    if let Some(r) = admin.refuse(&form) {
        return r;
    }
    let doc = match stored::read(&state.app.store).await {
        Ok(doc) => doc,
        Err(e) => return failure("reading the console's accounts", e),
    };
    if doc.account(&id).is_none() {
        if state.app.live.file().accounts.iter().any(|a| a.id == id) {
            return (StatusCode::FORBIDDEN, format!("{id} is declared in the configuration file: change it there")).into_response();
        }
        return (StatusCode::NOT_FOUND, format!("no account {id:?}")).into_response();
    }
    let users: Vec<&str> = doc.integrations.iter().filter(|i| i.account == id).map(|i| i.id.as_str()).collect();
    if !users.is_empty() {
        let why = format!("{id} is used by the integration(s) {}: delete them first", users.join(", "));
        return super::accounts::render_page(admin, &state, String::new(), why, StatusCode::CONFLICT).await;
    }
    let removed = save_and_apply(&state, "deleting", |doc| {
        if doc.integrations.iter().any(|i| i.account == id) {
            return Err(format!("an integration on {id} was made meanwhile"));
        }
        doc.accounts.retain(|a| a.id != id);
        Ok(())
    })
    .await;
    if let Err(r) = removed {
        return r;
    }
    forget_numbers(&state, &id);
    tracing::info!(account = %id, "console: account deleted");
    super::accounts::back(
        "notice",
        &format!("{id} deleted: its webhooks are refused from now on (delete its webhook in Aircall's Dashboard)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_errors_are_put_beside_their_field() {
        assert_eq!(field_of("console account \"two\".api_base: not a URL: \"x\"", "two"), "api_base");
        assert_eq!(field_of("console account \"two\".oauth: needs the host's Aircall app", "two"), "method");
        assert_eq!(field_of("console account \"two\".id: the configuration file declares an account", "two"), "id");
        assert_eq!(field_of("console account \"two\".webhook_token: must be at least 8 characters", "two"), "webhook_token");
        assert_eq!(field_of("something else", "two"), "form");
    }
}

//! `GET /integrations/new` and `POST /integrations/new`: make an integration
//! from a loaded plugin for one of the accounts (the file's or the console's). It starts disabled and
//! not set up; the answer is the redirect to its set-up page.

use super::{Errors, first_values};
use crate::config::live::{console_key, merge};
use crate::console::{Admin, ConsoleState, failure, render_as, save_and_apply};
use crate::integrations::stored::{self, StoredIntegration};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

#[derive(Template)]
#[template(path = "console/new_integration.html")]
struct NewPage {
    nav: &'static str,
    csrf: String,
    plugins: Vec<(String, String)>,
    accounts: Vec<String>,
    id: String,
    plugin: String,
    account: String,
    errors: Errors,
}

impl NewPage {
    fn error(&self, field: &str) -> &str {
        self.errors.get(field).map_or("", String::as_str)
    }
}

fn form_page(state: &ConsoleState, csrf: String, id: String, plugin: String, account: String, errors: Errors) -> Response {
    let plugins = state.app.registry.list().iter().map(|p| (p.manifest.name.clone(), p.manifest.description.clone())).collect();
    let accounts = state.app.live.load().accounts.iter().map(|a| a.id.clone()).collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render_as(status, NewPage { nav: "integrations", csrf, plugins, accounts, id, plugin, account, errors })
}

/// `GET /integrations/new`
pub async fn page(admin: Admin, State(state): State<ConsoleState>) -> Response {
    form_page(&state, admin.csrf, String::new(), String::new(), String::new(), Errors::new())
}

/// `POST /integrations/new`: `id`, `plugin`, `account`.
pub async fn create(admin: Admin, State(state): State<ConsoleState>, axum::Form(pairs): axum::Form<Vec<(String, String)>>) -> Response {
    let form = first_values(&pairs);
    if let Some(r) = admin.refuse(&form) {
        return r;
    }
    let get = |k: &str| form.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let (id, plugin, account) = (get("id"), get("plugin"), get("account"));
    let mut errors = Errors::new();
    if state.app.registry.get(&plugin).is_none() {
        errors.insert("plugin".into(), format!("plugin: {plugin:?} is not a loaded plugin"));
    }
    let existing = match stored::read(&state.app.store).await {
        Ok(doc) => doc,
        Err(e) => return failure("reading the console's integrations", e),
    };
    let now = crate::clock::now_ms();
    let new = StoredIntegration::new(&id, &account, &plugin, now);
    // The file's checks (id, account) and ids taken by the file or the console.
    let mut all: Vec<_> = existing.integrations.iter().filter_map(|s| s.to_config(None).ok()).collect();
    if existing.get(&id).is_some() {
        errors.insert("id".into(), format!("id: {id:?} is taken by another console integration"));
    }
    all.retain(|c| c.id != id);
    if let Ok(c) = new.to_config(None) {
        all.push(c);
    }
    let (_, excluded) = merge(&state.app.live.base(), all);
    if let Some(e) = excluded.iter().find(|e| e.id == id) {
        let rest = e.reason.strip_prefix(&format!("{}.", console_key(&id))).unwrap_or(&e.reason).to_string();
        let field = rest.split(':').next().unwrap_or("id").to_string();
        let field = if ["id", "account", "plugin"].contains(&field.as_str()) { field } else { "id".into() };
        errors.entry(field).or_insert(rest);
    }
    if !errors.is_empty() {
        return form_page(&state, admin.csrf, id, plugin, account, errors);
    }
    let saved = save_and_apply(&state, "saving", |doc| {
        if doc.get(&id).is_some() {
            return Err(format!("{id:?} was made meanwhile"));
        }
        doc.integrations.push(new.clone());
        Ok(())
    })
    .await;
    if let Err(r) = saved {
        return r;
    }
    tracing::info!(integration = %id, %plugin, %account, "console: integration made");
    Redirect::to(&format!("/integrations/{id}/setup?notice=Made%3A+set+it+up%2C+then+Enable")).into_response()
}

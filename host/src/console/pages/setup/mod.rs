//! `GET /integrations/{id}/setup` and `POST /integrations/{id}/setup`: an
//! integration's set-up — its CRM's API root and connection ([`connect`]), the number picker
//! (the account's numbers as Aircall lists them, checkboxes `number`; with the
//! plugin's `[setup.per_number]`, one select `per_number.NUMBER` each whose
//! choices come from the CRM, [`options`]) and the settings form generated
//! from its `plugin.toml` ([`form`]). Saving checks everything exactly as
//! `switchboard check` does ([`crate::integrations::check`]); a refusal is
//! answered 422 with the error beside its field, and nothing is saved. A
//! saved change is in effect when the redirect arrives.
//!
//! The file's integrations are shown read-only. [`new`] makes integrations,
//! [`lifecycle`] enables, disables and deletes them.

pub mod connect;
pub mod form;
pub mod lifecycle;
pub mod new;
pub mod options;

use crate::config::IntegrationConfig;
use crate::console::{Admin, ConsoleState, failure, mask, render, save_and_apply};
use crate::integrations::stored::{self, StoredIntegration};
use crate::registry::manifest::Manifest;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::{BTreeMap, HashMap};

/// Form field → error, shown beside the field.
pub type Errors = BTreeMap<String, String>;

/// One number of the picker.
pub struct Pick {
    id: u64,
    name: String,
    digits: String,
    checked: bool,
    /// The per-number choice (its select is `per_number.{id}`).
    selected: String,
    /// What is wrong with that choice.
    error: String,
}

/// The connection part of the page.
pub struct Connection {
    provider: String,
    state: String,
    reason: String,
    /// Template values (`connection.subdomain`…): name, value, choices (a select when not empty).
    params: Vec<(String, String, Vec<String>)>,
    browser: bool,
}

#[derive(Template)]
#[template(path = "console/setup.html")]
struct SetupPage {
    nav: &'static str,
    csrf: String,
    id: String,
    plugin: String,
    account: String,
    read_only: bool,
    enabled: bool,
    status: String,
    notice: String,
    errors: Errors,
    connection: Option<Connection>,
    picks: Vec<Pick>,
    numbers_note: String,
    per_number_label: String,
    choices: Vec<options::Choice>,
    choices_error: String,
    base_url: String,
    default_region: String,
    fields: Vec<form::Field>,
}

impl SetupPage {
    /// The error beside `field`, or "".
    fn error(&self, field: &str) -> &str {
        self.errors.get(field).map_or("", String::as_str)
    }
}

/// The console integration `id` from the store's document.
pub async fn stored_one(state: &ConsoleState, id: &str) -> Result<Option<StoredIntegration>, Response> {
    let doc = stored::read(&state.app.store).await.map_err(|e| failure("reading the console's integrations", e))?;
    Ok(doc.get(id).cloned())
}

/// The start of every set-up action: the form's CSRF token checked (403
/// otherwise), then the console-made integration `id` (404 when there is none).
pub async fn acting_on(admin: &Admin, state: &ConsoleState, id: &str, pairs: &[(String, String)]) -> Result<StoredIntegration, Response> {
    if let Some(r) = admin.refuse(&first_values(pairs)) {
        return Err(r);
    }
    stored_one(state, id).await?.ok_or_else(|| not_found(id))
}

/// `stored` as the configuration has it, with its secrets opened.
pub fn as_config(state: &ConsoleState, stored: &StoredIntegration) -> Result<IntegrationConfig, String> {
    stored.to_config(state.app.connections.keys().ok().map(|k| k.as_ref()))
}

/// The manifest of the serving version of `plugin`.
fn manifest(state: &ConsoleState, plugin: &str) -> Option<Manifest> {
    state.app.registry.get(plugin).map(|p| p.manifest.clone())
}

/// The per-number setting of `manifest`, if it has one.
fn per_number(manifest: Option<&Manifest>) -> Option<String> {
    manifest.and_then(|m| m.setup.per_number.as_ref()).map(|p| p.setting.clone())
}

/// The redirect after a change.
pub fn back_to(id: &str, notice: &str) -> Response {
    let notice: String = url::form_urlencoded::byte_serialize(notice.as_bytes()).collect();
    Redirect::to(&format!("/integrations/{id}/setup?notice={notice}")).into_response()
}

/// `GET /integrations/{id}/setup`
pub async fn page(
    admin: Admin,
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let notice = q.get("notice").cloned().unwrap_or_default();
    if let Some(file) = state.app.live.file().integrations.iter().find(|i| i.id == id) {
        return read_only(&state, admin, file.clone(), notice).await;
    }
    match stored_one(&state, &id).await {
        Err(r) => r,
        Ok(None) => not_found(&id),
        Ok(Some(s)) => show(&state, admin, &s, Errors::new(), notice, StatusCode::OK).await,
    }
}

/// The 404 of an unknown integration.
pub fn not_found(id: &str) -> Response {
    (StatusCode::NOT_FOUND, format!("no integration {id:?}")).into_response()
}

/// The page of a file integration: what it is, no forms.
async fn read_only(state: &ConsoleState, admin: Admin, file: IntegrationConfig, notice: String) -> Response {
    let manifest = manifest(state, &file.plugin);
    let secrets: Vec<String> = file.secrets.keys().cloned().collect();
    let mut fields = manifest.as_ref().map(|m| form::fields(m, &file.settings, &secrets, None)).unwrap_or_default();
    for f in &mut fields {
        f.value = mask(&f.value, &state.app.live.load());
    }
    let numbers = file
        .numbers
        .iter()
        .map(|n| match n {
            crate::config::NumberRef::Id(id) => id.to_string(),
            crate::config::NumberRef::Digits(d) => d.clone(),
        })
        .collect::<Vec<_>>();
    render(SetupPage {
        nav: "integrations",
        csrf: admin.csrf,
        status: "declared in the configuration file: change it there and restart".into(),
        id: file.id.clone(),
        plugin: file.plugin.clone(),
        account: file.account.clone(),
        read_only: true,
        enabled: file.enabled,
        notice,
        errors: Errors::new(),
        connection: None,
        picks: Vec::new(),
        numbers_note: if numbers.is_empty() { "every number".into() } else { numbers.join(", ") },
        per_number_label: String::new(),
        choices: Vec::new(),
        choices_error: String::new(),
        base_url: file.base_url.clone().unwrap_or_default(),
        default_region: file.default_region.clone().unwrap_or_default(),
        fields,
    })
}

/// Renders the set-up page of `stored` (as saved, or as just sent with `errors`).
pub async fn show(
    state: &ConsoleState,
    admin: Admin,
    stored: &StoredIntegration,
    errors: Errors,
    notice: String,
    status: StatusCode,
) -> Response {
    let app = &state.app;
    let manifest = manifest(state, &stored.plugin);
    let per = per_number(manifest.as_ref());
    let config = as_config(state, stored);
    let status_line = match (&config, &manifest) {
        (_, None) => format!("plugin {:?} is not loaded: nothing can be checked", stored.plugin),
        (Err(e), _) => e.clone(),
        (Ok(c), Some(_)) => match crate::integrations::check::check(&app.live.base(), &app.registry, c) {
            Ok(()) if stored.enabled => "enabled: receiving events".into(),
            Ok(()) => "set up, not enabled: press Enable to receive events".into(),
            Err(e) => format!("not set up yet: {}", mask(&e, &app.live.load())),
        },
    };
    let secrets: Vec<String> = stored.secrets.keys().cloned().collect();
    let mut fields = manifest.as_ref().map(|m| form::fields(m, &stored.settings, &secrets, per.as_deref())).unwrap_or_default();
    for f in &mut fields {
        if let Some(e) = errors.get(&f.name) {
            f.error = e.clone();
        }
    }
    let connection = connect::view(state, stored, manifest.as_ref()).await;
    // The account's numbers as Aircall lists them (cached a minute, 3 s at most).
    let effective = app.live.load();
    let account = effective.accounts.iter().find(|a| a.id == stored.account);
    let (listed, numbers_note) = match account {
        None => (Vec::new(), format!("no account {:?} in the configuration or the console", stored.account)),
        Some(a) => match crate::console::pages::accounts::numbers(state, a, crate::clock::now_ms()).await {
            (Ok(list), _) => (list, String::new()),
            (Err(e), _) => (Vec::new(), format!("Aircall's numbers could not be listed: {e}")),
        },
    };
    let chosen = per.as_ref().and_then(|p| stored.settings.get(p)).and_then(|v| v.as_table().cloned()).unwrap_or_default();
    let mut picks: Vec<Pick> = listed
        .iter()
        .map(|n| Pick {
            id: n.id,
            name: n.name.clone(),
            digits: n.digits.clone(),
            checked: stored.numbers.contains(&n.id),
            selected: chosen.get(&n.id.to_string()).map(|v| v.to_string().trim_matches('"').to_string()).unwrap_or_default(),
            error: errors.get(&format!("per_number.{}", n.id)).cloned().unwrap_or_default(),
        })
        .collect();
    // Picked numbers Aircall did not list (deleted, or the list failed) stay visible.
    for n in stored.numbers.iter().filter(|n| !listed.iter().any(|l| l.id == **n)) {
        let selected = chosen.get(&n.to_string()).map(|v| v.to_string().trim_matches('"').to_string()).unwrap_or_default();
        let error = errors.get(&format!("per_number.{n}")).cloned().unwrap_or_default();
        picks.push(Pick { id: *n, name: "(not listed by Aircall now)".into(), digits: String::new(), checked: true, selected, error });
    }
    let (choices, choices_error) = match (&manifest, &config) {
        (Some(m), Ok(c)) if m.setup.per_number.is_some() => match options::fetch(m, c, &app.connections, &app.config.network).await {
            Ok(list) => (list, String::new()),
            Err(e) => (Vec::new(), format!("the choices could not be listed: {}", mask(&e, &app.live.load()))),
        },
        _ => (Vec::new(), String::new()),
    };
    let per_number_label = manifest
        .as_ref()
        .and_then(|m| m.setup.per_number.as_ref())
        .map(|p| if p.label.is_empty() { p.setting.clone() } else { p.label.clone() })
        .unwrap_or_default();
    let mut response = render(SetupPage {
        nav: "integrations",
        csrf: admin.csrf,
        id: stored.id.clone(),
        plugin: stored.plugin.clone(),
        account: stored.account.clone(),
        read_only: false,
        enabled: stored.enabled,
        status: status_line,
        notice,
        errors,
        connection,
        picks,
        numbers_note,
        per_number_label,
        choices,
        choices_error,
        base_url: stored.base_url.clone().unwrap_or_default(),
        default_region: stored.default_region.clone().unwrap_or_default(),
        fields,
    });
    *response.status_mut() = status;
    response
}

/// The form's pairs as a map for the CSRF check (the first of each name).
pub fn first_values(pairs: &[(String, String)]) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for (k, v) in pairs {
        map.entry(k.clone()).or_insert_with(|| v.clone());
    }
    map
}

/// `POST /integrations/{id}/setup`: numbers, per-number choices, base URL,
/// region, settings and secrets, checked as `switchboard check` checks, saved
/// and applied; or 422 with the errors beside their fields.
pub async fn save(
    admin: Admin,
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = admin.refuse(&first_values(&pairs)) {
        return r;
    }
    let current = match stored_one(&state, &id).await {
        Err(r) => return r,
        Ok(None) if state.app.live.file().integrations.iter().any(|i| i.id == id) => {
            return (StatusCode::FORBIDDEN, format!("{id} is declared in the configuration file: change it there")).into_response();
        }
        Ok(None) => return not_found(&id),
        Ok(Some(s)) => s,
    };
    let Some(manifest) = manifest(&state, &current.plugin) else {
        let mut errors = Errors::new();
        errors.insert("form".into(), format!("plugin {:?} is not loaded: nothing can be checked or saved", current.plugin));
        return show(&state, admin, &current, errors, String::new(), StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let (draft, typed, mut errors) = read_form(&current, &manifest, &pairs);
    let keys = state.app.connections.keys().ok().cloned();
    if !typed.is_empty() && keys.is_none() {
        for name in typed.keys() {
            errors.insert(
                format!("{}{name}", form::SECRET),
                format!("{name}: this host has no master key to keep it sealed ([connections] key_file)"),
            );
        }
    }
    if errors.is_empty() {
        check_picks(&state, &draft, &manifest, &typed, &mut errors).await;
    }
    if errors.is_empty() {
        match as_config(&state, &draft) {
            Err(e) => {
                errors.insert("form".into(), e);
            }
            Ok(mut candidate) => {
                candidate.secrets.extend(typed.clone());
                if let Err(e) = crate::integrations::check::check(&state.app.live.base(), &state.app.registry, &candidate) {
                    let field = form::field_of(&e, &id, per_number(Some(&manifest)).as_deref());
                    errors.insert(field, mask(&e, &state.app.live.load()));
                }
            }
        }
    }
    if !errors.is_empty() {
        tracing::info!(integration = %id, errors = errors.len(), "console: set-up refused");
        return show(&state, admin, &draft, errors, String::new(), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let mut sealed = BTreeMap::new();
    if let Some(keys) = &keys {
        for (name, value) in &typed {
            match stored::seal_secret(keys, &id, name, value) {
                Ok(s) => {
                    sealed.insert(name.clone(), s);
                }
                Err(e) => return failure("sealing a secret", e),
            }
        }
    }
    let now = crate::clock::now_ms();
    let saved = save_and_apply(&state, "saving", |doc| {
        let Some(s) = doc.integrations.iter_mut().find(|s| s.id == id) else {
            return Err(format!("{id} was deleted meanwhile"));
        };
        let enabled = s.enabled;
        let secrets = s.secrets.clone();
        *s = StoredIntegration { enabled, secrets, updated_at_ms: now, ..draft.clone() };
        s.secrets.extend(sealed.clone());
        Ok(())
    })
    .await;
    if let Err(r) = saved {
        return r;
    }
    tracing::info!(integration = %id, "console: set-up saved and applied");
    back_to(&id, "Saved: in effect now")
}

/// The picked numbers must be the account's (when Aircall's list can be
/// had) and each per-number choice one the CRM lists (when it can be asked):
/// a value typed into a crafted form is refused beside its field.
async fn check_picks(
    state: &ConsoleState,
    draft: &StoredIntegration,
    manifest: &Manifest,
    typed: &BTreeMap<String, String>,
    errors: &mut Errors,
) {
    let config = state.app.live.load();
    if let Some(account) = config.accounts.iter().find(|a| a.id == draft.account)
        && let (Ok(listed), _) = crate::console::pages::accounts::numbers(state, account, crate::clock::now_ms()).await
    {
        let unknown: Vec<String> = draft.numbers.iter().filter(|n| !listed.iter().any(|l| l.id == **n)).map(u64::to_string).collect();
        if !unknown.is_empty() {
            errors.insert("numbers".into(), format!("numbers: {} not among account {}'s numbers", unknown.join(", "), draft.account));
        }
    }
    let Some(per) = &manifest.setup.per_number else { return };
    let Some(chosen) = draft.settings.get(&per.setting).and_then(toml::Value::as_table) else { return };
    let Ok(mut config) = as_config(state, draft) else { return };
    config.secrets.extend(typed.clone());
    let Ok(choices) = options::fetch(manifest, &config, &state.app.connections, &state.app.config.network).await else { return };
    for (number, value) in chosen {
        let value = value.to_string().trim_matches('"').to_string();
        if !choices.iter().any(|c| c.value == value) {
            let what = if per.label.is_empty() { per.setting.to_lowercase() } else { per.label.to_lowercase() };
            errors.insert(format!("per_number.{number}"), format!("number {number}: {value} is not a {what} the CRM lists"));
        }
    }
}

/// `current` with what the form sent (secrets apart: typed ones are
/// returned in clear, to be checked then sealed), and what could not be read.
fn read_form(
    current: &StoredIntegration,
    manifest: &Manifest,
    pairs: &[(String, String)],
) -> (StoredIntegration, BTreeMap<String, String>, Errors) {
    let mut errors = Errors::new();
    let per = per_number(Some(manifest));
    let mut numbers = Vec::new();
    for (_, v) in pairs.iter().filter(|(k, _)| k == "number") {
        match v.trim().parse::<u64>() {
            Ok(n) if n > 0 => {
                if !numbers.contains(&n) {
                    numbers.push(n);
                }
            }
            _ => {
                errors.insert("numbers".into(), format!("numbers: {v:?} is not an Aircall number id"));
            }
        }
    }
    let sent = form::read(manifest, pairs, per.as_deref());
    errors.extend(sent.errors.clone());
    let mut settings = sent.settings.clone();
    if let Some(p) = &per {
        let mut map = toml::Table::new();
        for n in &numbers {
            let field = format!("per_number.{n}");
            let choice = pairs.iter().find(|(k, _)| *k == field).map(|(_, v)| v.trim()).unwrap_or("");
            match choice.parse::<i64>() {
                Ok(v) if v > 0 => {
                    map.insert(n.to_string(), toml::Value::Integer(v));
                }
                _ if choice.is_empty() => {
                    errors.insert(field, format!("number {n}: choose one"));
                }
                _ => {
                    errors.insert(field, format!("number {n}: {choice:?} is not one of the choices"));
                }
            }
        }
        if !map.is_empty() {
            settings.insert(p.clone(), toml::Value::Table(map));
        }
    }
    let text = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).filter(|v| !v.is_empty());
    let draft =
        StoredIntegration { numbers, settings, default_region: text("default_region").map(|r| r.to_ascii_uppercase()), ..current.clone() };
    (draft, sent.secrets, errors)
}

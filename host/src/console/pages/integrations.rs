//! `GET /integrations`: each integration's state with pause / resume and a
//! "Backfill 7 days" button, and the progress of its backfill; where each is
//! declared (the file, or the console) with a link to its set-up page, and
//! the link to make a new one ([`super::setup`]).

use crate::console::pages::overview::{IntegrationRow, integration_rows};
use crate::console::{Admin, ConsoleState, failure, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;

/// How far back the backfill button reaches.
const BACKFILL_DAYS: i64 = 7;

struct Row {
    base: IntegrationRow,
    /// "file" or "console".
    origin: &'static str,
    paused: bool,
    backfill: String,
}

#[derive(Template)]
#[template(path = "console/integrations.html")]
struct IntegrationsPage {
    nav: &'static str,
    csrf: String,
    notice: String,
    rows: Vec<Row>,
}

/// `GET /integrations`
pub async fn page(admin: Admin, State(state): State<ConsoleState>, Query(q): Query<HashMap<String, String>>) -> Response {
    let base = match integration_rows(&state).await {
        Ok(rows) => rows,
        Err(r) => return r,
    };
    let paused = match state.app.store.paused().await {
        Ok(p) => p,
        Err(e) => return failure("reading paused integrations", e),
    };
    let current = state.app.live.load();
    let mut rows = Vec::new();
    for b in base {
        let origin = match current.integrations.iter().find(|i| i.id == b.id).map(|i| i.origin) {
            Some(crate::config::Origin::Console) => "console",
            _ => "file",
        };
        let backfill = match crate::reconcile::backfill::read(&state.app.store, &b.id).await {
            Ok(Some(p)) => p.line(),
            Ok(None) => String::new(),
            Err(e) => e,
        };
        rows.push(Row { paused: paused.iter().any(|(id, _)| *id == b.id), origin, base: b, backfill });
    }
    render(IntegrationsPage { nav: "integrations", csrf: admin.csrf, notice: q.get("notice").cloned().unwrap_or_default(), rows })
}

/// The 404 to send when `id` is not a configured integration.
fn unknown(state: &ConsoleState, id: &str) -> Option<Response> {
    if state.app.live.load().integrations.iter().any(|i| i.id == id) {
        None
    } else {
        Some((StatusCode::NOT_FOUND, format!("no integration {id:?}")).into_response())
    }
}

fn back(notice: &str) -> Response {
    let notice: String = url::form_urlencoded::byte_serialize(notice.as_bytes()).collect();
    Redirect::to(&format!("/integrations?notice={notice}")).into_response()
}

/// `POST /integrations/{id}/pause`
pub async fn pause(
    admin: Admin,
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = admin.refuse(&form).or_else(|| unknown(&state, &id)) {
        return r;
    }
    let reason = form.get("reason").map(|r| r.trim()).filter(|r| !r.is_empty()).unwrap_or("paused from the console");
    if let Err(e) = state.app.store.set_paused(&id, Some(reason)).await {
        return failure("pausing", e);
    }
    tracing::info!(integration = %id, %reason, "console: paused");
    back(&format!("{id} paused: its events are held"))
}

/// `POST /integrations/{id}/resume`
pub async fn resume(
    admin: Admin,
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = admin.refuse(&form).or_else(|| unknown(&state, &id)) {
        return r;
    }
    if let Err(e) = state.app.store.set_paused(&id, None).await {
        return failure("resuming", e);
    }
    tracing::info!(integration = %id, "console: resumed");
    back(&format!("{id} resumed: held events are delivered in order"))
}

/// `POST /integrations/{id}/backfill`: the last 7 days, through the running host.
pub async fn backfill(
    admin: Admin,
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = admin.refuse(&form).or_else(|| unknown(&state, &id)) {
        return r;
    }
    let until = crate::clock::now_ms() / 1000;
    let since = until - BACKFILL_DAYS * 86_400;
    match crate::reconcile::backfill::request(&state.app.store, &id, since, until).await {
        Ok(p) => {
            tracing::info!(integration = %id, "console: backfill requested");
            back(&format!("backfill of {id} requested: {}", p.line()))
        }
        Err(e) => back(&e),
    }
}

//! `GET /dead-letters`: jobs that failed permanently, filtered by integration;
//! `POST /dead-letters/replay` queues one or all (of the filter) again — the
//! running host picks revived jobs up within a second.

use crate::console::{Admin, ConsoleState, failure, mask, render, when};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;

struct Row {
    job_id: i64,
    event_id: i64,
    event_name: String,
    integration: String,
    attempts: u32,
    reason: String,
    failed: String,
}

#[derive(Template)]
#[template(path = "console/dead_letters.html")]
struct DeadLettersPage {
    nav: &'static str,
    csrf: String,
    integrations: Vec<String>,
    filter: String,
    notice: String,
    rows: Vec<Row>,
}

/// `GET /dead-letters?integration=…&replayed=N`
pub async fn page(admin: Admin, State(state): State<ConsoleState>, Query(q): Query<HashMap<String, String>>) -> Response {
    let filter = q.get("integration").cloned().unwrap_or_default();
    let letters = match state.app.store.dead_letters(1000).await {
        Ok(l) => l,
        Err(e) => return failure("reading dead letters", e),
    };
    let rows = letters
        .into_iter()
        .filter(|d| filter.is_empty() || d.integration == filter)
        .map(|d| Row {
            job_id: d.job_id,
            event_id: d.event_id,
            event_name: d.event_name,
            integration: d.integration,
            attempts: d.attempts,
            reason: mask(&d.reason, &state.app.config),
            failed: when(d.failed_at_ms),
        })
        .collect();
    let notice = match q.get("replayed") {
        Some(n) => format!("{n} job(s) queued again; the host picks them up within a second."),
        None => String::new(),
    };
    render(DeadLettersPage {
        nav: "dead-letters",
        csrf: admin.csrf,
        integrations: state.app.config.integrations.iter().map(|i| i.id.clone()).collect(),
        filter,
        notice,
        rows,
    })
}

/// `POST /dead-letters/replay` with `job=ID`, or `all=1` (and the page's
/// `integration` filter, if any).
pub async fn replay(admin: Admin, State(state): State<ConsoleState>, axum::Form(form): axum::Form<HashMap<String, String>>) -> Response {
    if let Some(r) = admin.refuse(&form) {
        return r;
    }
    let store = &state.app.store;
    let filter = form.get("integration").cloned().unwrap_or_default();
    let mut revived = 0;
    if let Some(job) = form.get("job").and_then(|j| j.parse::<i64>().ok()) {
        match store.replay_dead(Some(job)).await {
            Ok(jobs) => revived += jobs.len(),
            Err(e) => return failure("replaying", e),
        }
    } else if form.contains_key("all") {
        if filter.is_empty() {
            match store.replay_dead(None).await {
                Ok(jobs) => revived += jobs.len(),
                Err(e) => return failure("replaying", e),
            }
        } else {
            let letters = match store.dead_letters(u32::MAX).await {
                Ok(l) => l,
                Err(e) => return failure("reading dead letters", e),
            };
            for d in letters.iter().filter(|d| d.integration == filter) {
                match store.replay_dead(Some(d.job_id)).await {
                    Ok(jobs) => revived += jobs.len(),
                    Err(e) => return failure("replaying", e),
                }
            }
        }
    } else {
        return (axum::http::StatusCode::BAD_REQUEST, "name a job or ask for all").into_response();
    }
    tracing::info!(jobs = revived, "console: dead letters replayed");
    let mut to = format!("/dead-letters?replayed={revived}");
    if !filter.is_empty() {
        to.push_str("&integration=");
        to.push_str(&url::form_urlencoded::byte_serialize(filter.as_bytes()).collect::<String>());
    }
    Redirect::to(&to).into_response()
}

//! `GET /dead-letters`: jobs that failed permanently, filtered by integration;
//! `POST /dead-letters/replay` queues one or all (of the filter) again — the
//! running host picks revived jobs up within a second.
//!
//! Below them, the **blocked lanes**: a lane (an integration and a customer)
//! runs one job at a time, so a head job that keeps failing (waiting for its
//! next retry) or that is held (its integration paused) keeps the customer's
//! later jobs waiting. `POST /dead-letters/skip` dead-letters such a head so
//! the lane moves on; the skipped job can be replayed like any dead letter.

use crate::console::pages::overview::age;
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

/// How many blocked lanes the page lists.
const LANES_SHOWN: u32 = 100;

struct LaneRow {
    job_id: i64,
    integration: String,
    lane: String,
    event: String,
    why: String,
    behind: u64,
}

#[derive(Template)]
#[template(path = "console/dead_letters.html")]
struct DeadLettersPage {
    nav: &'static str,
    csrf: String,
    integrations: Vec<String>,
    filter: String,
    notice: String,
    error: String,
    rows: Vec<Row>,
    lanes: Vec<LaneRow>,
}

/// The blocked lanes of `filter` (all when empty), explained.
async fn lane_rows(state: &ConsoleState, filter: &str) -> Result<Vec<LaneRow>, Response> {
    let app = &state.app;
    let only = Some(filter).filter(|f| !f.is_empty());
    let heads = app.store.blocked_lanes(only, LANES_SHOWN).await.map_err(|e| failure("reading blocked lanes", e))?;
    let paused = app.store.paused().await.map_err(|e| failure("reading paused integrations", e))?;
    let now = crate::clock::now_ms();
    Ok(heads
        .into_iter()
        .map(|h| {
            let why = match paused.iter().find(|(i, _)| *i == h.integration) {
                Some((_, reason)) => format!("held: {} is paused ({})", h.integration, mask(reason, &app.live.load())),
                None => {
                    let next = if h.next_run_at_ms > now {
                        format!("next attempt in {}", age(h.next_run_at_ms - now))
                    } else {
                        "next attempt now".into()
                    };
                    let error = h.last_error.as_deref().map(|e| mask(e, &app.live.load())).unwrap_or_default();
                    format!("failed {} time(s), {next}: {error}", h.attempts)
                }
            };
            LaneRow {
                job_id: h.job_id,
                integration: h.integration,
                lane: h.ordering_key,
                event: format!("{} ({})", h.event_name, h.event_id),
                why,
                behind: h.behind,
            }
        })
        .collect())
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
            reason: mask(&d.reason, &state.app.live.load()),
            failed: when(d.failed_at_ms),
        })
        .collect();
    let notice = match (q.get("replayed"), q.get("skipped")) {
        (Some(n), _) => format!("{n} job(s) queued again; the host picks them up within a second."),
        (None, Some(job)) => {
            format!("Job {job} was skipped: it is a dead letter now (replay it when its cause is fixed) and its lane moves on.")
        }
        (None, None) => String::new(),
    };
    let lanes = match lane_rows(&state, &filter).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    render(DeadLettersPage {
        nav: "dead-letters",
        csrf: admin.csrf,
        integrations: state.app.live.load().integrations.iter().map(|i| i.id.clone()).collect(),
        filter,
        notice,
        error: q.get("error").cloned().unwrap_or_default(),
        rows,
        lanes,
    })
}

/// `POST /dead-letters/skip` with `job=ID`: dead-letters the head of a
/// blocked lane (only while it is the head; not while a host runs it).
pub async fn skip(admin: Admin, State(state): State<ConsoleState>, axum::Form(form): axum::Form<HashMap<String, String>>) -> Response {
    if let Some(r) = admin.refuse(&form) {
        return r;
    }
    let back = |key: &str, text: &str| {
        let text: String = url::form_urlencoded::byte_serialize(text.as_bytes()).collect();
        Redirect::to(&format!("/dead-letters?{key}={text}")).into_response()
    };
    let Some(job) = form.get("job").map(|j| j.trim()).filter(|j| !j.is_empty()) else {
        return (axum::http::StatusCode::BAD_REQUEST, "name the job to skip (job=ID)").into_response();
    };
    let Ok(job) = job.parse::<i64>() else {
        return (axum::http::StatusCode::BAD_REQUEST, format!("job must be a job id (a number), not {job:?}")).into_response();
    };
    let store = &state.app.store;
    let heads = match store.blocked_lanes(None, u32::MAX).await {
        Ok(h) => h,
        Err(e) => return failure("reading blocked lanes", e),
    };
    let Some(head) = heads.into_iter().find(|h| h.job_id == job) else {
        return back(
            "error",
            &format!("job {job} does not block a lane (it finished, moved on, or is not the head of its lane): nothing was skipped"),
        );
    };
    let reason = format!(
        "skipped from the console while it blocked its lane ({} attempt(s); last error: {})",
        head.attempts,
        head.last_error.as_deref().unwrap_or("none")
    );
    let running = || {
        back("error", &format!("job {job} is running right now or no longer heads its lane: nothing was skipped; look again in a moment"))
    };
    // The scheduler lets go of it first (not while an attempt runs), then the
    // store dead-letters it; a job the store refuses goes back to its lane.
    let dropped = match state.app.dispatcher.skip(&head.integration, &head.ordering_key, job).await {
        crate::queue::Skip::Running => return running(),
        crate::queue::Skip::Dropped(j) => Some(j),
        crate::queue::Skip::NotHere => None,
    };
    let skipped = store.skip_lane_head(job, &reason).await;
    if !matches!(skipped, Ok(true))
        && let Some(j) = dropped
    {
        state.app.dispatcher.enqueue(vec![j]);
    }
    match skipped {
        Ok(true) => {
            tracing::info!(job, integration = %head.integration, lane = %head.ordering_key, "console: lane head skipped (dead-lettered)");
            Redirect::to(&format!("/dead-letters?skipped={job}")).into_response()
        }
        Ok(false) => running(),
        Err(e) => failure("skipping", e),
    }
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

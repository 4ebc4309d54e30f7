//! Backfill: log an integration's past calls into its CRM, oldest first,
//! through the normal pipeline (its rules, its lane per customer, the journal),
//! so a call is never logged twice — not when live traffic overlaps, not when
//! the backfill runs twice, not when the host is killed halfway.
//!
//! `switchboard backfill` (or the console) writes a [`Progress`] record with
//! status `requested` into the store; a running host picks it up within a
//! second (one host only: a lease), lists the account's calls created since
//! then (`GET /v1/calls`, one-day slices, 50 per page, within `[reconcile]
//! budget_share` of Aircall's budget) and admits each ended call of the
//! integration's numbers as a `backfill` event for that integration only. It
//! waits for each call's job before the next, so calls land in order and the
//! CRM's own rate limits pace it. The record keeps the position and the
//! counts, so a restarted host resumes where it was, and the CLI shows done /
//! total, rate and ETA.

use super::{Background, lease};
use crate::aircall::ParsedEvent;
use crate::server::AppState;
use crate::store::{IngestOutcome, JobState, KvWrite, Origin, Store};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Calls per listing slice: one day, far below Aircall's 10,000-item paging ceiling.
const SLICE_SECONDS: i64 = 86_400;
/// The lease a running backfill holds and renews.
const LEASE_MS: i64 = 10_000;

/// Where a backfill stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Asked for; no host has started it yet.
    Requested,
    /// A host is logging calls.
    Running,
    /// Every call of the range was examined.
    Done,
    /// Stopped on an error (see `error`); asking again resumes it.
    Failed,
}

/// A backfill's record, kept in the store under `backfill:INTEGRATION`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Progress {
    /// The id of the integration the calls are logged for (the `INTEGRATION`
    /// of the store key).
    pub integration: String,
    /// Calls created from this moment (UNIX seconds)...
    pub since: i64,
    /// ...up to this one.
    pub until: i64,
    /// Where it stands.
    pub status: Status,
    /// Creation time of the last call examined: a resumed run lists from here.
    pub position: i64,
    /// Calls Aircall lists in the range (all numbers of the account), once known.
    pub total: Option<u64>,
    /// Calls examined so far.
    pub examined: u64,
    /// Calls logged by this backfill.
    pub logged: u64,
    /// Calls the integration already had (live, reconciled or an earlier backfill).
    pub already: u64,
    /// Calls not for this integration (other numbers) or not ended.
    pub skipped: u64,
    /// Calls whose job was dead-lettered (see `switchboard dead-letters`).
    pub dead: u64,
    /// When it was asked for (ms).
    pub requested_at_ms: i64,
    /// When the current run started (ms), for the rate.
    pub started_at_ms: i64,
    /// Calls examined when the current run started, for the rate.
    pub examined_at_start: u64,
    /// Last update (ms).
    pub updated_at_ms: i64,
    /// Why it failed.
    pub error: Option<String>,
}

impl Progress {
    /// A new request for `integration` covering `[since, until]`.
    pub fn requested(integration: &str, since: i64, until: i64) -> Progress {
        let now = crate::clock::now_ms();
        Progress {
            integration: integration.to_string(),
            since,
            until,
            status: Status::Requested,
            position: since,
            total: None,
            examined: 0,
            logged: 0,
            already: 0,
            skipped: 0,
            dead: 0,
            requested_at_ms: now,
            started_at_ms: 0,
            examined_at_start: 0,
            updated_at_ms: now,
            error: None,
        }
    }

    /// Calls examined per second in the current run.
    pub fn rate(&self) -> Option<f64> {
        let secs = (self.updated_at_ms - self.started_at_ms) as f64 / 1000.0;
        (self.started_at_ms > 0 && secs > 0.5).then(|| (self.examined - self.examined_at_start) as f64 / secs)
    }

    /// Seconds left at the current rate.
    pub fn eta_seconds(&self) -> Option<u64> {
        let left = self.total?.saturating_sub(self.examined);
        let rate = self.rate().filter(|r| *r > 0.0)?;
        Some((left as f64 / rate).ceil() as u64)
    }

    /// One line for a terminal: `120/300 calls examined, 80 logged, ...`.
    pub fn line(&self) -> String {
        let total = self.total.map_or("?".to_string(), |t| t.to_string());
        let mut line = format!(
            "{}: {}/{total} calls examined, {} logged, {} already there, {} other numbers or not ended, {} dead-lettered",
            status_word(self.status),
            self.examined,
            self.logged,
            self.already,
            self.skipped,
            self.dead
        );
        if let Some(rate) = self.rate() {
            line.push_str(&format!(", {rate:.1} calls/s"));
        }
        if self.status == Status::Running
            && let Some(eta) = self.eta_seconds()
        {
            line.push_str(&format!(", about {eta} s left"));
        }
        if let Some(e) = &self.error {
            line.push_str(&format!(" — {e}"));
        }
        line
    }
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Requested => "waiting for a host",
        Status::Running => "running",
        Status::Done => "done",
        Status::Failed => "failed",
    }
}

fn key(integration: &str) -> String {
    format!("backfill:{integration}")
}

/// The backfill record of `integration`, if any.
pub async fn read(store: &Arc<dyn Store>, integration: &str) -> Result<Option<Progress>, String> {
    let bytes = store.kv_get(lease::NAMESPACE, &key(integration), crate::clock::now_ms()).await.map_err(|e| e.to_string())?;
    bytes.map(|b| serde_json::from_slice(&b).map_err(|e| format!("backfill record of {integration} is unreadable: {e}"))).transpose()
}

async fn write(store: &Arc<dyn Store>, progress: &Progress) -> Result<(), String> {
    let value = serde_json::to_vec(progress).map_err(|e| e.to_string())?;
    store
        .kv_write(lease::NAMESPACE, KvWrite::Set { key: key(&progress.integration), value, expires_at_ms: None })
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Ask for a backfill. One that is running is left alone (an error says so);
/// a failed one with the same range resumes from its position.
pub async fn request(store: &Arc<dyn Store>, integration: &str, since: i64, until: i64) -> Result<Progress, String> {
    let existing = read(store, integration).await?;
    if let Some(p) = &existing
        && matches!(p.status, Status::Running | Status::Requested)
        && crate::clock::now_ms() - p.updated_at_ms < 2 * LEASE_MS
    {
        return Err(format!("a backfill of {integration} is already {}: {}", status_word(p.status), p.line()));
    }
    let progress = match existing {
        Some(mut p) if p.status == Status::Failed && p.since == since => {
            p.status = Status::Requested;
            p.error = None;
            p.until = until;
            p
        }
        _ => Progress::requested(integration, since, until),
    };
    write(store, &progress).await?;
    Ok(progress)
}

/// Every second, pick up requested backfills and ones a dead host left running.
pub fn spawn_resumer(state: AppState) {
    tokio::spawn(async move {
        let mut running: HashMap<String, tokio::task::JoinHandle<()>> = HashMap::new();
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            running.retain(|_, h| !h.is_finished());
            let current = state.live.load();
            for integration in current.integrations.iter().filter(|i| i.enabled) {
                if running.contains_key(&integration.id) {
                    continue;
                }
                let Ok(Some(p)) = read(&state.store, &integration.id).await else { continue };
                if !matches!(p.status, Status::Requested | Status::Running) {
                    continue;
                }
                let Some(client) = state.registry.aircall(&integration.account) else { continue };
                let lease_key = format!("lease:backfill:{}", integration.id);
                if !lease::take(&state.store, &lease_key, LEASE_MS).await.unwrap_or(false) {
                    continue;
                }
                let background = Background::in_host(&state, client, "backfill");
                running.insert(integration.id.clone(), tokio::spawn(run(state.clone(), background, p, lease_key)));
            }
        }
    });
}

async fn run(state: AppState, background: Background, mut progress: Progress, lease_key: String) {
    let store = state.store.clone();
    let integration = progress.integration.clone();
    tracing::info!(%integration, since = progress.since, position = progress.position, "backfill starting");
    progress.status = Status::Running;
    progress.started_at_ms = crate::clock::now_ms();
    progress.examined_at_start = progress.examined;
    match run_range(&state, &background, &mut progress, &lease_key).await {
        Ok(()) => {
            progress.status = Status::Done;
            tracing::info!(%integration, logged = progress.logged, already = progress.already, "backfill done");
        }
        Err(e) => {
            progress.status = Status::Failed;
            tracing::warn!(%integration, error = %e, "backfill stopped; ask again to resume");
            progress.error = Some(e);
        }
    }
    progress.updated_at_ms = crate::clock::now_ms();
    if let Err(e) = write(&store, &progress).await {
        tracing::warn!(%integration, error = %e, "backfill record not written");
    }
    lease::release(&store, &lease_key).await;
}

async fn run_range(state: &AppState, background: &Background, progress: &mut Progress, lease_key: &str) -> Result<(), String> {
    let store = state.store.clone();
    if progress.total.is_none() {
        progress.total = Some(count(background, progress.since, progress.until).await?);
    }
    write(&store, progress).await?;
    let mut slice_from = progress.position;
    while slice_from <= progress.until {
        let slice_to = (slice_from + SLICE_SECONDS - 1).min(progress.until);
        let mut page = 1;
        loop {
            let list = background
                .request("list_calls", |c| async move { c.list_calls(slice_from, slice_to, page).await })
                .await
                .map_err(|e| format!("GET /v1/calls: {e}"))?;
            for raw in &list.calls {
                let started = raw.get("started_at").and_then(serde_json::Value::as_i64).unwrap_or(slice_from);
                if started < progress.position {
                    // Examined by the run before a restart.
                    continue;
                }
                one(state, background, progress, raw, lease_key).await?;
                progress.examined += 1;
                progress.position = started;
                progress.updated_at_ms = crate::clock::now_ms();
                write(&store, progress).await?;
                if !lease::take(&store, lease_key, LEASE_MS).await? {
                    return Err("another host took over this backfill".into());
                }
            }
            if list.calls.is_empty() || list.meta.next_page_link.is_none() {
                break;
            }
            page += 1;
        }
        slice_from = slice_to + 1;
    }
    Ok(())
}

/// Calls in the range, from the first page of each slice's `meta.total`.
async fn count(background: &Background, since: i64, until: i64) -> Result<u64, String> {
    let mut total = 0;
    let mut from = since;
    while from <= until {
        let to = (from + SLICE_SECONDS - 1).min(until);
        let page = background
            .request("list_calls", |c| async move { c.list_calls(from, to, 1).await })
            .await
            .map_err(|e| format!("GET /v1/calls: {e}"))?;
        total += page.meta.total.unwrap_or(page.calls.len() as u64);
        from = to + 1;
    }
    Ok(total)
}

/// Log one listed call into the integration and wait for its job.
async fn one(
    state: &AppState,
    background: &Background,
    progress: &mut Progress,
    raw: &serde_json::Value,
    lease_key: &str,
) -> Result<(), String> {
    let integration = progress.integration.clone();
    let parsed = match ParsedEvent::parse("call.ended", raw) {
        Ok(Some(p)) => p,
        Ok(None) => return Ok(()),
        Err(e) => {
            tracing::warn!(%integration, error = %e, "backfill: Aircall listed a call the host cannot read; skipped");
            progress.skipped += 1;
            return Ok(());
        }
    };
    let ParsedEvent::Call(_, call) = &parsed else { return Ok(()) };
    let concerned = state.fan_out(background.account(), &parsed).iter().any(|j| j.integration == integration);
    if call.ended_at.is_none() || !concerned {
        progress.skipped += 1;
        return Ok(());
    }
    let occurrence = format!("call.ended:{}", call.id);
    if state.store.logged(vec![(integration.clone(), occurrence)]).await.map_err(|e| e.to_string())? == [true] {
        progress.already += 1;
        return Ok(());
    }
    let job = match super::admit_ended(state, background.account(), raw.clone(), Origin::Backfill, Some(&integration)).await? {
        IngestOutcome::Accepted { jobs, .. } => jobs.into_iter().next(),
        IngestOutcome::Duplicate { .. } => None,
    };
    let Some(job) = job else {
        progress.already += 1;
        return Ok(());
    };
    let mut waited = 0u32;
    loop {
        match state.store.job_state(job.id).await.map_err(|e| e.to_string())? {
            Some(JobState::Queued) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                waited += 1;
                if waited.is_multiple_of(100) && !lease::take(&state.store, lease_key, LEASE_MS).await? {
                    return Err("another host took over this backfill".into());
                }
            }
            Some(JobState::Dead) => {
                progress.dead += 1;
                return Ok(());
            }
            Some(JobState::Done) | None => {
                progress.logged += 1;
                return Ok(());
            }
        }
    }
}

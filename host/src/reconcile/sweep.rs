//! One reconciliation pass over an account, and the loop that repeats it.
//!
//! A pass lists the calls created since the cursor (a few minutes before it,
//! for calls Aircall lists late; the first pass ever looks `window_minutes`
//! back, none further than `max_lookback_hours`), in slices of one window so
//! that no listing reaches Aircall's 10,000-item paging ceiling. For each call
//! that has ended (and not in the last `settle_seconds`, its webhook may still
//! come) it asks the store which of the integrations concerned have logged
//! it; only a call some integration lacks costs another request (`GET
//! /v1/calls/:id` with the timeline). With nothing missing a pass costs one
//! request per page of calls. The cursor then moves to the oldest call not yet
//! decided (still running, or ended too recently), so the next pass sees it.

use super::{Background, lease};
use crate::aircall::ParsedEvent;
use crate::server::AppState;
use crate::store::{IngestOutcome, KvWrite, Origin};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

/// Listing slack: a call may show up in Aircall's list a little after it was
/// created, so a pass starts this far before the cursor.
const SLACK_SECONDS: i64 = 300;

/// What a pass did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Pass {
    /// `[from, to]` listed (UNIX seconds).
    pub from: i64,
    /// End of the listed range.
    pub to: i64,
    /// Pages of `GET /v1/calls` read.
    pub pages: u32,
    /// Calls listed.
    pub listed: usize,
    /// Ended calls some integration had not logged: fetched and admitted.
    pub reconciled: usize,
    /// Calls Aircall listed in a shape the host cannot read (logged, skipped).
    pub unreadable: usize,
}

#[derive(Serialize, Deserialize)]
struct Cursor {
    from: i64,
}

fn cursor_key(account: &str) -> String {
    format!("cursor:{account}")
}

/// Reconcile `background`'s account every `[reconcile] every_seconds`, the
/// first time soon after start (at most 5 s: a restart is when calls were missed). Another host holding the account's lease
/// does it instead.
pub async fn run_forever(state: AppState, background: Background) {
    let config = state.config.reconcile.clone();
    let every = Duration::from_secs(config.every_seconds);
    let account = background.account().to_string();
    tokio::time::sleep(every.min(Duration::from_secs(5))).await;
    loop {
        let key = format!("lease:{account}");
        let current = state.live.load();
        if !current.integrations.iter().any(|i| i.enabled && i.account == account) {
            // Nothing would be logged; the effective configuration may gain one.
            tokio::time::sleep(every.min(Duration::from_secs(30))).await;
            continue;
        }
        match lease::take(&state.store, &key, (config.every_seconds * 3000) as i64).await {
            Ok(true) => {
                if config.check_webhook {
                    super::health::check(&background, true).await;
                }
                match run_once(&state, &background).await {
                    Ok(p) if p.reconciled > 0 => tracing::warn!(
                        %account, reconciled = p.reconciled, listed = p.listed, pages = p.pages,
                        "reconciliation logged calls whose webhook never came"
                    ),
                    Ok(p) => tracing::debug!(%account, listed = p.listed, pages = p.pages, "reconciliation: nothing missing"),
                    Err(e) => tracing::warn!(%account, error = %e, "reconciliation pass failed; the next one covers its window"),
                }
            }
            Ok(false) => tracing::debug!(%account, "another host reconciles this account"),
            Err(e) => tracing::warn!(%account, error = %e, "reconciliation lease not readable"),
        }
        tokio::time::sleep(every).await;
    }
}

/// One pass over the account (see the module's documentation).
pub async fn run_once(state: &AppState, background: &Background) -> Result<Pass, String> {
    let config = &state.config.reconcile;
    let account = background.account().to_string();
    let now = crate::clock::now_ms() / 1000;
    let window = (config.window_minutes * 60) as i64;
    let stored = state.store.kv_get(lease::NAMESPACE, &cursor_key(&account), crate::clock::now_ms()).await.map_err(|e| e.to_string())?;
    let cursor = stored.as_deref().and_then(|b| serde_json::from_slice::<Cursor>(b).ok()).map(|c| c.from);
    let floor = now - (config.max_lookback_hours * 3600) as i64;
    let from = cursor.map_or(now - window, |c| c - SLACK_SECONDS).max(floor);
    if cursor.is_some_and(|c| c < floor) {
        tracing::warn!(%account, "the host was away longer than [reconcile] max_lookback_hours: older calls need `switchboard backfill`");
    }
    let mut pass = Pass { from, to: now, ..Pass::default() };
    let settled_before = now - config.settle_seconds as i64;
    let mut undecided: Option<i64> = None;
    let mut slice_from = from;
    while slice_from <= now {
        let slice_to = (slice_from + window - 1).min(now);
        let mut page = 1;
        loop {
            let list = background.request("list_calls", |c| async move { c.list_calls(slice_from, slice_to, page).await }).await;
            let list = list.map_err(|e| format!("GET /v1/calls (page {page}): {e}"))?;
            pass.pages += 1;
            pass.listed += list.calls.len();
            for raw in &list.calls {
                match consider(state, background, raw, settled_before).await {
                    Ok(Verdict::Done) => {}
                    Ok(Verdict::Reconciled) => pass.reconciled += 1,
                    Ok(Verdict::Later(started)) => undecided = Some(undecided.map_or(started, |u| u.min(started))),
                    Err(Skip::Unreadable(e)) => {
                        pass.unreadable += 1;
                        tracing::warn!(%account, error = %e, "reconciliation: Aircall listed a call the host cannot read; skipped");
                    }
                    Err(Skip::Failed(e)) => return Err(e),
                }
            }
            if list.calls.is_empty() || list.meta.next_page_link.is_none() {
                break;
            }
            page += 1;
        }
        slice_from = slice_to + 1;
    }
    let next = undecided.unwrap_or(now).min(now);
    let bytes = serde_json::to_vec(&Cursor { from: next }).map_err(|e| e.to_string())?;
    let write = KvWrite::Set { key: cursor_key(&account), value: bytes, expires_at_ms: None };
    state.store.kv_write(lease::NAMESPACE, write).await.map_err(|e| e.to_string())?;
    Ok(pass)
}

enum Verdict {
    /// Logged by every integration it concerns, or none concerns it.
    Done,
    /// Some integration lacked it: admitted now.
    Reconciled,
    /// Running, or ended too recently: look again next pass (its creation time).
    Later(i64),
}

enum Skip {
    Unreadable(String),
    Failed(String),
}

async fn consider(state: &AppState, background: &Background, raw: &Value, settled_before: i64) -> Result<Verdict, Skip> {
    let parsed = match ParsedEvent::parse("call.ended", raw) {
        Ok(Some(p)) => p,
        Ok(None) => return Ok(Verdict::Done),
        Err(e) => return Err(Skip::Unreadable(e.to_string())),
    };
    let ParsedEvent::Call(_, call) = &parsed else { return Ok(Verdict::Done) };
    let started = call.started_at.unwrap_or(0);
    match call.ended_at {
        Some(ended) if ended <= settled_before => {}
        _ => return Ok(Verdict::Later(started)),
    }
    let occurrence = format!("call.ended:{}", call.id);
    let pairs: Vec<(String, String)> =
        state.fan_out(background.account(), &parsed).into_iter().map(|j| (j.integration, occurrence.clone())).collect();
    if pairs.is_empty() {
        return Ok(Verdict::Done);
    }
    let logged = state.store.logged(pairs).await.map_err(|e| Skip::Failed(e.to_string()))?;
    if logged.iter().all(|l| *l) {
        return Ok(Verdict::Done);
    }
    let id = call.id;
    let full = background
        .request("get_call", |c| async move { c.get_call_raw(id).await })
        .await
        .map_err(|e| Skip::Failed(format!("GET /v1/calls/{id}: {e}")))?;
    match super::admit_ended(state, background.account(), full, Origin::Reconciled, None).await {
        Ok(IngestOutcome::Accepted { jobs, .. }) if !jobs.is_empty() => {
            tracing::info!(account = background.account(), call = id, jobs = jobs.len(), "reconciled: call.ended never arrived");
            Ok(Verdict::Reconciled)
        }
        // A webhook came in between: nothing to do.
        Ok(_) => Ok(Verdict::Done),
        Err(e) => Err(Skip::Unreadable(format!("call {id}: {e}"))),
    }
}

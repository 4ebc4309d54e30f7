//! Never miss a call: what the host does when webhooks are not enough.
//!
//! - [`sweep`]: every `[reconcile] every_seconds`, per account, list the calls
//!   Aircall has (`GET /v1/calls`, by creation time) and compare each ended
//!   call with what the host has logged; a call whose `call.ended` never came
//!   is fetched with its timeline and admitted as a `reconciled` event.
//! - [`health`]: on the same schedule, the account's webhook is checked and
//!   re-activated or re-created.
//! - [`backfill`]: `switchboard backfill INTEGRATION --since 7d` logs past
//!   calls into one integration, oldest first, resumable.
//!
//! All three speak to Aircall through [`Background`], which keeps them within
//! `[reconcile] budget_share` of the account's Aircall budget and counts every
//! request in `switchboard_background_aircall_requests_total`. None can log a
//! call twice: an event they make carries the occurrence `call.ended:ID`, and
//! each integration gets one job per occurrence, however many webhooks,
//! reconciliations and backfills carry it ([`crate::store::NewEvent::occurrence`]).

pub mod backfill;
pub mod health;
pub mod lease;
pub mod sweep;

use crate::aircall::ParsedEvent;
use crate::aircall::client::{AircallClient, AircallError};
use crate::config::Config;
use crate::connections::Connections;
use crate::metrics::Metrics;
use crate::server::AppState;
use crate::server::admit::Admission;
use crate::store::{IngestOutcome, Origin};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Requests a background task retries after Aircall (or the shared budget)
/// said "later", before it gives up for this run.
const RATE_LIMIT_RETRIES: u32 = 20;

/// One account's Aircall client as background work uses it.
#[derive(Clone)]
pub struct Background {
    /// The account's client.
    pub client: Arc<AircallClient>,
    /// `reconcile` or `backfill`: the metric label and the budget slice.
    pub purpose: &'static str,
    /// The configuration (`[reconcile]`, accounts, `public_url`).
    pub config: Arc<Config>,
    /// Where requests are counted.
    pub metrics: Arc<Metrics>,
    /// The OAuth connections (the installed webhook, re-creating it).
    pub connections: Arc<Connections>,
}

impl Background {
    /// Background work of `purpose` for `client`'s account in the running
    /// host, with the effective configuration of now (the console's accounts too).
    pub fn in_host(state: &AppState, client: Arc<AircallClient>, purpose: &'static str) -> Background {
        Background { client, purpose, config: state.live.load(), metrics: state.metrics.clone(), connections: state.connections.clone() }
    }

    /// The configured id of the account the client speaks for.
    pub fn account(&self) -> &str {
        self.client.account()
    }

    /// Send one request (`request` names it in the metrics) within this
    /// purpose's share of the account's budget; Aircall's "later" is waited
    /// out and retried.
    pub async fn request<T, F, Fut>(&self, request: &str, send: F) -> Result<T, AircallError>
    where
        F: Fn(Arc<AircallClient>) -> Fut,
        Fut: Future<Output = Result<T, AircallError>>,
    {
        let share = self.config.reconcile.budget_share;
        let mut tries = 0;
        loop {
            if let Err(wait) = self.client.take_share(self.purpose, share, Duration::from_secs(3600)).await {
                tokio::time::sleep(wait).await;
                continue;
            }
            self.metrics.background_request(self.account(), self.purpose, request);
            match send(self.client.clone()).await {
                Err(AircallError::RateLimited(ms)) if tries < RATE_LIMIT_RETRIES => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(ms.clamp(100, 60_000))).await;
                }
                other => return other,
            }
        }
    }
}

/// Admit `call` (REST shape) of `account` as a `call.ended` of `origin`, for
/// every integration it concerns or `only` one. The envelope is the webhook's,
/// without a token (the host made it).
pub async fn admit_ended(
    state: &AppState,
    account: &str,
    call: Value,
    origin: Origin,
    only: Option<&str>,
) -> Result<IngestOutcome, String> {
    let parsed = ParsedEvent::parse("call.ended", &call).map_err(|e| e.to_string())?;
    let ended_at = call.get("ended_at").cloned().unwrap_or(Value::Null);
    let body = json!({ "resource": "call", "event": "call.ended", "timestamp": ended_at, "data": call }).to_string();
    let admission = Admission { account, event_name: "call.ended", body, parsed: parsed.as_ref(), origin, only };
    let outcome = state.admit(admission).await.map_err(|e| e.to_string())?;
    if matches!(&outcome, IngestOutcome::Accepted { jobs, .. } if !jobs.is_empty()) {
        state.metrics.host_event(account, origin.as_str());
    }
    Ok(outcome)
}

/// How often the accounts are compared with the effective configuration's.
const FOLLOW_ACCOUNTS_EVERY: Duration = Duration::from_secs(2);

/// Start reconciliation (and the webhook check) for every account that has an
/// enabled integration, unless `[reconcile] enabled = false`, and the backfill
/// runner. Accounts the console adds get theirs within
/// [`FOLLOW_ACCOUNTS_EVERY`]; a deleted account's (or one whose client was
/// rebuilt) is stopped.
pub fn spawn(state: &AppState) {
    backfill::spawn_resumer(state.clone());
    if !state.config.reconcile.enabled {
        tracing::info!("reconciliation is off ([reconcile] enabled = false): calls whose webhook is lost are not logged");
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        // Every account: one whose integrations are all disabled (or made later in
        // the console) skips its passes until one is enabled (`sweep::run_forever`).
        let mut running: HashMap<String, (Arc<AircallClient>, tokio::task::JoinHandle<()>)> = HashMap::new();
        loop {
            let clients = state.registry.accounts().all();
            running.retain(|id, (client, task)| {
                let current = clients.get(id).is_some_and(|c| Arc::ptr_eq(c, client));
                if !current {
                    task.abort();
                }
                current
            });
            for account in &state.live.load().accounts {
                let Some(client) = clients.get(&account.id) else { continue };
                if running.contains_key(&account.id) {
                    continue;
                }
                let background = Background::in_host(&state, client.clone(), "reconcile");
                let task = tokio::spawn(sweep::run_forever(state.clone(), background));
                running.insert(account.id.clone(), (client.clone(), task));
            }
            tokio::time::sleep(FOLLOW_ACCOUNTS_EVERY).await;
        }
    });
}

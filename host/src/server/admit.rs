//! Admitting an event: the jobs it makes (one per integration whose numbers it
//! concerns, in its customer's lane), storing it durably with them, and handing
//! the jobs to the dispatcher. The webhook route and the host's own events
//! (reconciliation, backfill) go through here, so they share the redelivery
//! window and the one-job-per-occurrence rule.

use super::AppState;
use crate::aircall::ParsedEvent;
use crate::store::{IngestOutcome, NewEvent, Origin, StoreResult};
use sha2::{Digest, Sha256};

/// An event to admit.
pub struct Admission<'a> {
    /// The Aircall account it belongs to.
    pub account: &'a str,
    /// Its name (`call.ended`).
    pub event_name: &'a str,
    /// The whole envelope as stored and given to plugins.
    pub body: String,
    /// Its parsed data; `None` for an event the host does not know (stored, not dispatched).
    pub parsed: Option<&'a ParsedEvent>,
    /// Who produced it.
    pub origin: Origin,
    /// Make a job for this integration only (backfill); `None`: every integration it concerns.
    pub only: Option<&'a str>,
}

impl AppState {
    /// Store `admission` with its jobs, durably, then queue the jobs.
    pub async fn admit(&self, admission: Admission<'_>) -> StoreResult<IngestOutcome> {
        let Admission { account, event_name, body, parsed, origin, only } = admission;
        let (jobs, not_dispatched, occurrence) = match parsed {
            Some(parsed) => {
                let mut jobs = self.fan_out(account, parsed);
                if let Some(only) = only {
                    jobs.retain(|j| j.integration == only);
                }
                (jobs, None, crate::aircall::occurrence(event_name, parsed))
            }
            None => (Vec::new(), Some(format!("unknown event {event_name:?}")), None),
        };
        let event = NewEvent {
            account: account.to_string(),
            event_name: event_name.to_string(),
            body_hash: Sha256::digest(body.as_bytes()).into(),
            body,
            received_at_ms: crate::clock::now_ms(),
            not_dispatched,
            origin,
            occurrence,
        };
        let window = i64::from(self.config.store.dedupe_days) * 86_400_000;
        let outcome = self.store.ingest(event, jobs, window).await?;
        if let IngestOutcome::Accepted { jobs, already_logged, .. } = &outcome {
            self.dispatcher.enqueue(jobs.clone());
            if !already_logged.is_empty() {
                tracing::info!(event = event_name, origin = origin.as_str(), integrations = ?already_logged, "already logged: no job");
            }
        }
        Ok(outcome)
    }
}

//! Running one job: load its event, find its plugin version, run it in the
//! sandbox, and make the outcome durable.

use super::backoff;
use crate::aircall::{Envelope, ParsedEvent};
use crate::capabilities::journal::Journal;
use crate::capabilities::{JobCaps, JobLabel, Shared};
use crate::config::Config;
use crate::contract::bindings::{EventContext, PluginError};
use crate::contract::convert;
use crate::metrics::Metrics;
use crate::registry::Registry;
use crate::runtime::{JobFailure, Runtime};
use crate::store::{JobRecord, Store};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What became of a job attempt: decided by the attempt, made durable by
/// [`JobRunner::run`], acted on by the scheduler.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The plugin handled the event.
    Done,
    /// Dead-lettered: retrying cannot help (a permanent error, a trap, a
    /// timeout, a memory bomb, an event or integration that is gone).
    Dead(String),
    /// To be tried again.
    Retry {
        /// Attempts made so far, this one included.
        attempts: u32,
        /// Not before this time (ms since the epoch): back-off with jitter,
        /// at least what a rate limit asked for.
        next_run_at_ms: i64,
        /// Why, for the log and the job's last error.
        reason: String,
    },
    /// The integration's credentials were refused: it is paused and its
    /// events wait for the resume.
    Paused {
        /// The id of the integration to pause: the job's own.
        integration: String,
        /// Why, as the operator reads it.
        reason: String,
    },
}

/// Everything a job needs.
pub struct JobRunner {
    /// The configuration: integrations, retry and time limits.
    pub config: Arc<Config>,
    /// Where events, jobs, their journals and outcomes are kept.
    pub store: Arc<dyn Store>,
    /// The loaded plugins and their integrations' policies.
    pub registry: Arc<Registry>,
    /// Runs a plugin in a fresh instance per job.
    pub runtime: Arc<Runtime>,
    /// What every job's capabilities share (outbound client, limiters, store, metrics).
    pub shared: Arc<Shared>,
}

impl JobRunner {
    /// Job and outbound counters, exported on `/metrics`.
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// Run a job and record its outcome.
    pub async fn run(&self, job: JobRecord) -> Outcome {
        let started = Instant::now();
        let attempt = job.attempts + 1;
        let (plugin, outcome) = self.attempt(&job, attempt).await;
        let elapsed = started.elapsed();
        let (label, result) = match &outcome {
            Outcome::Done => ("ok", self.store.job_done(job.id).await),
            Outcome::Dead(reason) => {
                tracing::warn!(job = job.id, integration = %job.integration, %reason, "job dead-lettered");
                ("dead", self.store.job_dead(job.id, attempt, reason).await)
            }
            Outcome::Paused { integration, reason } => {
                tracing::warn!(%integration, %reason, "integration paused: credentials refused; its events are held until it is resumed");
                ("paused", self.store.set_paused(integration, Some(reason)).await)
            }
            Outcome::Retry { attempts, next_run_at_ms, reason } => {
                let wait = Duration::from_millis((next_run_at_ms - crate::clock::now_ms()).max(0) as u64);
                tracing::info!(job = job.id, integration = %job.integration, attempt, ?wait, %reason, "job will be retried");
                ("retry", self.store.job_retry(job.id, *attempts, *next_run_at_ms, reason).await)
            }
        };
        self.shared.metrics.job(&plugin, label, elapsed);
        self.shared.metrics.attempt(&job.integration, attempt_of(&outcome));
        match result {
            Ok(()) => outcome,
            Err(e) => {
                // The outcome is not durable: run the job again shortly (its journal
                // keeps a second run from repeating what the first one did).
                tracing::error!(job = job.id, error = %e, "could not record job outcome; retrying");
                Outcome::Retry {
                    attempts: attempt,
                    next_run_at_ms: crate::clock::now_ms() + 1000,
                    reason: format!("could not record the outcome: {e}"),
                }
            }
        }
    }

    /// A retry of the `attempt`-th attempt: capped exponential back-off with
    /// full jitter, at least `at_least` (a rate limit's announced wait).
    fn retry(&self, attempt: u32, reason: String, at_least: Option<Duration>) -> Outcome {
        let limits = &self.config.limits;
        let wait =
            backoff::delay(attempt, Duration::from_millis(limits.retry_base_ms), Duration::from_secs(limits.retry_cap_seconds), at_least);
        Outcome::Retry { attempts: attempt, next_run_at_ms: crate::clock::now_ms() + wait.as_millis() as i64, reason }
    }

    /// Runs the plugin on the job's event and decides what became of it.
    async fn attempt(&self, job: &JobRecord, attempt: u32) -> (String, Outcome) {
        // The effective configuration: the file's integrations and the console's.
        let config = self.registry.config();
        let Some(integration) = config.integrations.iter().find(|i| i.id == job.integration) else {
            return ("-".into(), Outcome::Dead(format!("integration {:?} is no longer configured", job.integration)));
        };
        let plugin_name = integration.plugin.clone();
        let event = match self.store.event(job.event_id).await {
            Ok(Some(e)) => e,
            Ok(None) => {
                return (plugin_name, Outcome::Dead(format!("event {} is missing from the store", job.event_id)));
            }
            Err(e) => return (plugin_name, self.retry(attempt, e.to_string(), None)),
        };
        let envelope: Envelope = match serde_json::from_str(&event.body) {
            Ok(e) => e,
            Err(e) => {
                return (plugin_name, Outcome::Dead(format!("stored event is not a webhook envelope: {e}")));
            }
        };
        let parsed = match ParsedEvent::parse(&envelope.event, &envelope.data) {
            Ok(Some(p)) => p,
            Ok(None) => {
                return (plugin_name, Outcome::Dead(format!("event {:?} is not dispatched by this host", envelope.event)));
            }
            Err(e) => return (plugin_name, Outcome::Dead(e.to_string())),
        };
        let Some(plugin) = self.registry.get(&plugin_name) else {
            return (
                plugin_name.clone(),
                self.retry(attempt, format!("plugin {plugin_name:?} is not loaded"), Some(Duration::from_secs(5))),
            );
        };
        let Some(ictx) = plugin.integrations.load().get(&job.integration).cloned() else {
            return (plugin_name, Outcome::Dead(format!("integration {:?} is not valid for the loaded plugin", job.integration)));
        };
        let journal = match self.store.journal(job.id).await {
            Ok(entries) => Journal::new(self.store.clone(), job.id, entries),
            Err(e) => return (plugin_name, self.retry(attempt, e.to_string(), None)),
        };
        let refusals = journal.refusals();
        let ctx = EventContext {
            integration_id: job.integration.clone(),
            event_id: event.id.to_string(),
            event_name: envelope.event.clone(),
            event_timestamp: envelope.timestamp.unwrap_or(event.received_at_ms / 1000),
            attempt,
            settings: ictx.settings.clone(),
            default_region: ictx.default_region.clone(),
            base_url: ictx.base_url.clone(),
            raw_data: envelope.data.to_string(),
        };
        let wit_event = convert::event(&parsed);
        let timeout = self.runtime.options().timeout;
        let caps = JobCaps::new(self.shared.clone(), ictx, journal, JobLabel { event_id: ctx.event_id.clone(), job_id: job.id }, timeout);
        let result = self.runtime.handle_event(&plugin.component, caps, &ctx, &wit_event).await;
        let outcome = match result {
            Ok(()) => Outcome::Done,
            Err(JobFailure::Plugin(PluginError::Retryable(m))) => self.retry(attempt, m, None),
            Err(JobFailure::Plugin(PluginError::RateLimited(r))) => {
                let max = Duration::from_secs(self.config.limits.max_retry_after_seconds);
                self.retry(attempt, format!("rate limited: {}", r.reason), Some(Duration::from_millis(r.retry_after_ms).min(max)))
            }
            Err(JobFailure::Plugin(PluginError::Permanent(m))) => {
                // The refusal that made it permanent (a 4xx) is not kept: a replay,
                // after the operator fixed its cause, asks again. What succeeded
                // before it stays recorded, so nothing is done twice.
                let refused_at = *refusals.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(seq) = refused_at
                    && let Err(e) = self.store.journal_truncate(job.id, seq).await
                {
                    tracing::warn!(job = job.id, error = %e, "could not drop the refused request from the journal");
                }
                Outcome::Dead(format!("permanent: {m}"))
            }
            Err(JobFailure::Plugin(PluginError::Unauthorized(m))) => {
                Outcome::Paused { integration: job.integration.clone(), reason: format!("unauthorized: {m}") }
            }
            Err(JobFailure::Internal(m)) => self.retry(attempt, format!("host: {m}"), None),
            Err(f @ JobFailure::Timeout(_)) => {
                // A deadline missed on a loaded machine is not the plugin's fault:
                // try again (the journal keeps what this attempt did), but not
                // forever for a plugin that loops every time.
                let allowed = self.config.limits.timeout_attempts;
                if attempt < allowed {
                    self.retry(attempt, format!("{f} (attempt {attempt} of {allowed})"), None)
                } else {
                    Outcome::Dead(format!("{f} on {attempt} attempts ([limits] timeout_attempts = {allowed})"))
                }
            }
            Err(f @ (JobFailure::Trap(_) | JobFailure::OutOfMemory(_))) => Outcome::Dead(f.to_string()),
        };
        (plugin_name, outcome)
    }
}

/// An outcome as the console's "failing" and "rate-limited" states count it.
fn attempt_of(outcome: &Outcome) -> crate::metrics::Attempt {
    use crate::metrics::{Attempt, AttemptKind};
    let at_ms = crate::clock::now_ms();
    match outcome {
        Outcome::Done => Attempt { at_ms, kind: AttemptKind::Ok, until_ms: None, error: String::new() },
        Outcome::Retry { next_run_at_ms, reason, .. } => Attempt {
            at_ms,
            kind: if reason.starts_with("rate limited") { AttemptKind::RateLimited } else { AttemptKind::Failed },
            until_ms: Some(*next_run_at_ms),
            error: reason.clone(),
        },
        Outcome::Dead(reason) | Outcome::Paused { reason, .. } => {
            Attempt { at_ms, kind: AttemptKind::Failed, until_ms: None, error: reason.clone() }
        }
    }
}

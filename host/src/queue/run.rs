//! Running one job: load its event, find its plugin version, run it in the
//! sandbox, and make the outcome durable.

use super::backoff;
use crate::aircall::{Envelope, ParsedEvent};
use crate::capabilities::journal::Journal;
use crate::capabilities::{JobCaps, JobLabel, Shared};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::registry::Registry;
use crate::contract::bindings::{EventContext, PluginError};
use crate::contract::convert;
use crate::runtime::{JobFailure, Runtime};
use crate::store::{JobRecord, Store};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What became of a job.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Finished.
    Done,
    /// Dead-lettered.
    Dead,
    /// To be tried again.
    Retry {
        /// Attempts made.
        attempts: u32,
        /// Not before (ms).
        next_run_at_ms: i64,
    },
    /// Its integration was paused; the job waits for the resume.
    Paused(String),
}

/// Everything a job needs.
pub struct JobRunner {
    /// Config.
    pub config: Arc<Config>,
    /// Store.
    pub store: Arc<dyn Store>,
    /// Plugins.
    pub registry: Arc<Registry>,
    /// Sandbox.
    pub runtime: Arc<Runtime>,
    /// Capabilities' shared part.
    pub shared: Arc<Shared>,
}

enum Verdict {
    Done,
    Retry(String, Option<Duration>),
    Dead(String),
    Pause(String),
}

impl JobRunner {
    /// Metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// Run a job and record its outcome.
    pub async fn run(&self, job: JobRecord) -> Outcome {
        let started = Instant::now();
        let attempt = job.attempts + 1;
        let (plugin, verdict) = self.attempt(&job, attempt).await;
        let elapsed = started.elapsed();
        let limits = &self.config.limits;
        let (label, outcome, result) = match verdict {
            Verdict::Done => ("ok", Outcome::Done, self.store.job_done(job.id).await),
            Verdict::Dead(reason) => {
                tracing::warn!(job = job.id, integration = %job.integration, %reason, "job dead-lettered");
                ("dead", Outcome::Dead, self.store.job_dead(job.id, attempt, &reason).await)
            }
            Verdict::Pause(reason) => {
                tracing::warn!(integration = %job.integration, %reason, "integration paused: credentials refused; its events are held until it is resumed");
                ("paused", Outcome::Paused(job.integration.clone()), self.store.set_paused(&job.integration, Some(&reason)).await)
            }
            Verdict::Retry(reason, at_least) => {
                let wait = backoff::delay(
                    attempt,
                    Duration::from_millis(limits.retry_base_ms),
                    Duration::from_secs(limits.retry_cap_seconds),
                    at_least,
                );
                let next = crate::clock::now_ms() + wait.as_millis() as i64;
                tracing::info!(job = job.id, integration = %job.integration, attempt, ?wait, %reason, "job will be retried");
                (
                    "retry",
                    Outcome::Retry { attempts: attempt, next_run_at_ms: next },
                    self.store.job_retry(job.id, attempt, next, &reason).await,
                )
            }
        };
        self.shared.metrics.job(&plugin, label, elapsed);
        match result {
            Ok(()) => outcome,
            Err(e) => {
                // The outcome is not durable: run the job again shortly (its journal
                // keeps a second run from repeating what the first one did).
                tracing::error!(job = job.id, error = %e, "could not record job outcome; retrying");
                Outcome::Retry { attempts: attempt, next_run_at_ms: crate::clock::now_ms() + 1000 }
            }
        }
    }

    async fn attempt(&self, job: &JobRecord, attempt: u32) -> (String, Verdict) {
        let Some(integration) = self.config.integrations.iter().find(|i| i.id == job.integration) else {
            return ("-".into(), Verdict::Dead(format!("integration {:?} is no longer configured", job.integration)));
        };
        let plugin_name = integration.plugin.clone();
        let event = match self.store.event(job.event_id).await {
            Ok(Some(e)) => e,
            Ok(None) => return (plugin_name, Verdict::Dead(format!("event {} is missing from the store", job.event_id))),
            Err(e) => return (plugin_name, Verdict::Retry(e.to_string(), None)),
        };
        let envelope: Envelope = match serde_json::from_str(&event.body) {
            Ok(e) => e,
            Err(e) => return (plugin_name, Verdict::Dead(format!("stored event is not a webhook envelope: {e}"))),
        };
        let parsed = match ParsedEvent::parse(&envelope.event, &envelope.data) {
            Ok(Some(p)) => p,
            Ok(None) => return (plugin_name, Verdict::Dead(format!("event {:?} is not dispatched by this host", envelope.event))),
            Err(e) => return (plugin_name, Verdict::Dead(e.to_string())),
        };
        let Some(plugin) = self.registry.get(&plugin_name) else {
            return (plugin_name.clone(), Verdict::Retry(format!("plugin {plugin_name:?} is not loaded"), Some(Duration::from_secs(5))));
        };
        let Some(ictx) = plugin.integrations.get(&job.integration).cloned() else {
            return (plugin_name, Verdict::Dead(format!("integration {:?} is not valid for the loaded plugin", job.integration)));
        };
        let journal = match self.store.journal(job.id).await {
            Ok(entries) => Journal::new(self.store.clone(), job.id, entries),
            Err(e) => return (plugin_name, Verdict::Retry(e.to_string(), None)),
        };
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
        let verdict = match result {
            Ok(()) => Verdict::Done,
            Err(JobFailure::Plugin(PluginError::Retryable(m))) => Verdict::Retry(m, None),
            Err(JobFailure::Plugin(PluginError::RateLimited(r))) => {
                let max = Duration::from_secs(self.config.limits.max_retry_after_seconds);
                Verdict::Retry(format!("rate limited: {}", r.reason), Some(Duration::from_millis(r.retry_after_ms).min(max)))
            }
            Err(JobFailure::Plugin(PluginError::Permanent(m))) => Verdict::Dead(format!("permanent: {m}")),
            Err(JobFailure::Plugin(PluginError::Unauthorized(m))) => Verdict::Pause(format!("unauthorized: {m}")),
            Err(JobFailure::Internal(m)) => Verdict::Retry(format!("host: {m}"), None),
            Err(f @ (JobFailure::Trap(_) | JobFailure::Timeout(_) | JobFailure::OutOfMemory(_))) => Verdict::Dead(f.to_string()),
        };
        (plugin_name, verdict)
    }
}

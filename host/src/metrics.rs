//! Prometheus metrics: webhooks by outcome, jobs by plugin and outcome, job
//! duration per plugin, queue depth, outbound requests by host and status,
//! insight cards dropped.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::time::Duration;

type Labels = Vec<(&'static str, String)>;

fn duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// All metrics of the host.
pub struct Metrics {
    registry: Registry,
    webhooks: Family<Labels, Counter>,
    jobs: Family<Labels, Counter>,
    job_duration: Family<Labels, Histogram, fn() -> Histogram>,
    queue_depth: Gauge,
    outbound: Family<Labels, Counter>,
    outbound_latency: Family<Labels, Histogram, fn() -> Histogram>,
    ack_latency: Histogram,
    cards_dropped: Family<Labels, Counter>,
    host_events: Family<Labels, Counter>,
    background_requests: Family<Labels, Counter>,
    webhook_state: Family<Labels, Gauge>,
    /// The last webhook check of each account, in words (for the console).
    webhook_checks: std::sync::Mutex<std::collections::HashMap<String, WebhookCheck>>,
    /// Each integration's job attempts of the last [`ATTEMPTS_KEPT_MS`] (for
    /// the console's "failing" and "rate-limited" states).
    attempts: std::sync::Mutex<std::collections::HashMap<String, std::collections::VecDeque<Attempt>>>,
}

/// How long job attempts are remembered per integration.
pub const ATTEMPTS_KEPT_MS: i64 = 15 * 60 * 1000;
/// At most this many attempts are remembered per integration.
const ATTEMPTS_KEPT: usize = 10_000;

/// What became of one job attempt, as the console's states read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptKind {
    /// The plugin handled the event: the job is done.
    Ok,
    /// Failed: retried, dead-lettered, or refused credentials.
    Failed,
    /// The CRM said "too many requests": retried after its wait.
    RateLimited,
}

/// One job attempt of an integration.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// When it ended (ms since the epoch).
    pub at_ms: i64,
    /// What became of it.
    pub kind: AttemptKind,
    /// Not before this time is the job tried again (retries).
    pub until_ms: Option<i64>,
    /// Why it failed (empty when it did not).
    pub error: String,
}

/// What the last check of an account's Aircall webhook found.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookCheck {
    /// The state (a label value of `aircall_webhook_state`).
    pub state: String,
    /// What it means and what to do.
    pub detail: String,
    /// The webhook's id at Aircall, when found.
    pub webhook_id: Option<String>,
    /// Where it points, when found.
    pub url: Option<String>,
    /// When (ms since the epoch).
    pub at_ms: i64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Register every metric.
    pub fn new() -> Metrics {
        Metrics::for_host(None)
    }

    /// Register every metric; with `host_id`, every series carries it as a
    /// `host_id` label (hosts sharing one database are told apart).
    pub fn for_host(host_id: Option<String>) -> Metrics {
        let mut registry = match host_id {
            Some(id) => Registry::with_prefix_and_labels("switchboard", std::iter::once(("host_id".into(), id.into()))),
            None => Registry::with_prefix("switchboard"),
        };
        let webhooks = Family::<Labels, Counter>::default();
        let jobs = Family::<Labels, Counter>::default();
        let job_duration = Family::<Labels, Histogram, fn() -> Histogram>::new_with_constructor(duration_histogram as fn() -> Histogram);
        let queue_depth = Gauge::default();
        let outbound = Family::<Labels, Counter>::default();
        let outbound_latency =
            Family::<Labels, Histogram, fn() -> Histogram>::new_with_constructor(duration_histogram as fn() -> Histogram);
        let ack_latency = duration_histogram();
        let cards_dropped = Family::<Labels, Counter>::default();
        let host_events = Family::<Labels, Counter>::default();
        let background_requests = Family::<Labels, Counter>::default();
        let webhook_state = Family::<Labels, Gauge>::default();
        registry.register("webhooks", "Webhooks received, by outcome", webhooks.clone());
        registry.register("jobs", "Jobs finished, by plugin and outcome", jobs.clone());
        registry.register("job_duration_seconds", "Plugin job duration", job_duration.clone());
        registry.register("queue_depth", "Jobs waiting or running", queue_depth.clone());
        registry.register("outbound_requests", "Outbound requests by host and status", outbound.clone());
        registry.register("outbound_duration_seconds", "Outbound request duration by host", outbound_latency.clone());
        registry.register("webhook_ack_seconds", "Time from receipt to acknowledgement", ack_latency.clone());
        registry.register(
            "insight_cards_dropped",
            "Insight cards not shown: Aircall's budget had no room while the phone rang",
            cards_dropped.clone(),
        );
        registry.register(
            "host_events",
            "Events the host made from Aircall's REST API because no webhook brought them, by account and origin (reconciled, backfill)",
            host_events.clone(),
        );
        registry.register(
            "background_aircall_requests",
            "Requests to Aircall by reconciliation, webhook checks and backfill, by account, purpose and request",
            background_requests.clone(),
        );
        registry.register(
            "aircall_webhook_state",
            "1 for the account's webhook state as last checked (ok, reactivated, recreated, deactivated, missing, stale_url, unknown)",
            webhook_state.clone(),
        );
        Metrics {
            registry,
            webhooks,
            jobs,
            job_duration,
            queue_depth,
            outbound,
            outbound_latency,
            ack_latency,
            cards_dropped,
            host_events,
            background_requests,
            webhook_state,
            webhook_checks: Default::default(),
            attempts: Default::default(),
        }
    }

    /// Keep what the last check of `account`'s webhook found.
    pub fn webhook_checked(&self, account: &str, check: WebhookCheck) {
        if let Ok(mut checks) = self.webhook_checks.lock() {
            checks.insert(account.to_string(), check);
        }
    }

    /// What the last check of `account`'s webhook found, if one ran in this process.
    pub fn webhook_check(&self, account: &str) -> Option<WebhookCheck> {
        self.webhook_checks.lock().ok().and_then(|c| c.get(account).cloned())
    }

    /// A job attempt of `integration` ended.
    pub fn attempt(&self, integration: &str, attempt: Attempt) {
        let Ok(mut all) = self.attempts.lock() else { return };
        let list = all.entry(integration.to_string()).or_default();
        let cutoff = attempt.at_ms - ATTEMPTS_KEPT_MS;
        while list.front().is_some_and(|a| a.at_ms < cutoff) || list.len() >= ATTEMPTS_KEPT {
            list.pop_front();
        }
        list.push_back(attempt);
    }

    /// The attempts of `integration` that ended at or after `since_ms`, oldest first.
    pub fn attempts_since(&self, integration: &str, since_ms: i64) -> Vec<Attempt> {
        let Ok(all) = self.attempts.lock() else { return Vec::new() };
        all.get(integration).map(|l| l.iter().filter(|a| a.at_ms >= since_ms).cloned().collect()).unwrap_or_default()
    }

    /// The host admitted an event of `origin` it made itself.
    pub fn host_event(&self, account: &str, origin: &str) {
        self.host_events.get_or_create(&vec![("account", account.to_string()), ("origin", origin.to_string())]).inc();
    }

    /// Reconciliation, a webhook check or backfill sent `request` to Aircall.
    pub fn background_request(&self, account: &str, purpose: &str, request: &str) {
        let labels = vec![("account", account.to_string()), ("purpose", purpose.to_string()), ("request", request.to_string())];
        self.background_requests.get_or_create(&labels).inc();
    }

    /// The account's webhook was found in `state`; the other `states` go to 0.
    pub fn webhook_state(&self, account: &str, state: &str, states: &[&str]) {
        for s in states {
            let value = i64::from(*s == state);
            self.webhook_state.get_or_create(&vec![("account", account.to_string()), ("state", (*s).to_string())]).set(value);
        }
    }

    /// A webhook was answered.
    pub fn webhook(&self, outcome: &str) {
        self.webhooks.get_or_create(&vec![("outcome", outcome.to_string())]).inc();
    }

    /// Time to acknowledge a webhook.
    pub fn ack_latency(&self, d: Duration) {
        self.ack_latency.observe(d.as_secs_f64());
    }

    /// A job finished.
    pub fn job(&self, plugin: &str, outcome: &str, duration: Duration) {
        self.jobs.get_or_create(&vec![("plugin", plugin.to_string()), ("outcome", outcome.to_string())]).inc();
        self.job_duration.get_or_create(&vec![("plugin", plugin.to_string())]).observe(duration.as_secs_f64());
    }

    /// Jobs waiting or running.
    pub fn set_queue_depth(&self, n: usize) {
        self.queue_depth.set(n as i64);
    }

    /// An outbound request finished (`status` may be `denied`, `error`, `throttled`).
    pub fn outbound(&self, host: &str, status: &str) {
        self.outbound.get_or_create(&vec![("host", host.to_string()), ("status", status.to_string())]).inc();
    }

    /// Records how long one request to `host` took, in the
    /// `outbound_duration_seconds` histogram.
    pub fn outbound_latency(&self, host: &str, d: Duration) {
        self.outbound_latency.get_or_create(&vec![("host", host.to_string())]).observe(d.as_secs_f64());
    }

    /// An insight card was dropped instead of waiting for Aircall's budget.
    pub fn card_dropped(&self, integration: &str) {
        self.cards_dropped.get_or_create(&vec![("integration", integration.to_string())]).inc();
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.push_str("# encoding failed\n");
        }
        out
    }
}

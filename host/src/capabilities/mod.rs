//! The only ways out of the sandbox. Each job gets a [`JobCaps`]: the shared
//! clients and limiters, its integration's policy (allowed hosts, credentials,
//! budgets) and its effect journal.

mod crypto;
mod http;
pub mod journal;
pub mod phone;
pub mod ratelimit;
pub mod ssrf;
mod storage;
mod telephony;

use crate::aircall::client::AircallClient;
use crate::config::{IntegrationConfig, LimitsConfig, NetworkConfig};
use crate::metrics::Metrics;
use crate::registry::manifest::{AuthScheme, Manifest};
use crate::runtime::bindings::SettingValue;
use crate::runtime::bindings::switchboard::plugin::log::Level;
use crate::store::Store;
use journal::Journal;
use ratelimit::{Budget, RateLimiters};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What every job shares: clients, limiters, the store, metrics.
pub struct Shared {
    /// Outbound HTTP client (checked resolver, no redirects).
    pub http: reqwest::Client,
    /// Network policy.
    pub network: NetworkConfig,
    /// Limits.
    pub limits: LimitsConfig,
    /// Durable state.
    pub store: Arc<dyn Store>,
    /// Outbound budgets.
    pub limiters: RateLimiters,
    /// Metrics.
    pub metrics: Arc<Metrics>,
}

impl Shared {
    /// Build the shared part.
    pub fn new(network: NetworkConfig, limits: LimitsConfig, store: Arc<dyn Store>, metrics: Arc<Metrics>) -> anyhow::Result<Shared> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(ssrf::CheckedResolver { allow_private: network.allow_private, fixed: network.resolve.iter().map(|(name, ip)| (name.to_ascii_lowercase(), *ip)).collect() }))
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Shared { http, network, limits, store, limiters: RateLimiters::default(), metrics })
    }
}

/// A secret and how to attach it.
#[derive(Clone)]
pub struct Credential {
    value: String,
    scheme: AuthScheme,
}

/// An integration's policy for one plugin version.
pub struct IntegrationCtx {
    /// Integration id.
    pub id: String,
    /// Plugin name.
    pub plugin: String,
    /// Plugin version.
    pub version: String,
    /// Account id.
    pub account: String,
    /// Settings (manifest defaults overlaid by the configuration).
    pub settings: Vec<(String, SettingValue)>,
    /// Region hint.
    pub default_region: Option<String>,
    /// The vendor API's base URL (`base_url` of the configuration), without a trailing `/`.
    pub base_url: Option<String>,
    allowed_hosts: Vec<String>,
    base: Option<(String, Option<u16>)>,
    credentials: HashMap<String, Credential>,
    budgets: Vec<(String, Budget)>,
    /// The account's Aircall client.
    pub aircall: Arc<AircallClient>,
}

impl IntegrationCtx {
    /// Check an integration's configuration against a manifest and build its policy.
    /// Errors name the key at fault (`integration "id".settings.…`).
    pub fn build(config: &IntegrationConfig, manifest: &Manifest, aircall: Arc<AircallClient>) -> Result<IntegrationCtx, String> {
        Self::build_at(&format!("integration {:?}", config.id), config, manifest, aircall)
    }

    /// [`IntegrationCtx::build`] with the integration's key for errors, e.g. `integrations[0]`.
    pub fn build_at(key: &str, config: &IntegrationConfig, manifest: &Manifest, aircall: Arc<AircallClient>) -> Result<IntegrationCtx, String> {
        // Types, required-ness, allowed values, formats; the base URL joins the settings.
        let checked = manifest.check_integration(key, config)?;
        let settings = checked.settings.iter().map(|(name, value)| (name.clone(), setting_value(value))).collect();
        let credentials: HashMap<String, Credential> = manifest
            .secrets
            .iter()
            .filter_map(|(name, decl)| {
                let value = config.secrets.get(name).filter(|v| !v.trim().is_empty())?;
                Some((name.clone(), Credential { value: value.clone(), scheme: decl.scheme.clone() }))
            })
            .collect();
        let base = match &checked.base_url {
            Some(u) => {
                let url = url::Url::parse(u).map_err(|e| format!("{key}.base_url: {e}"))?;
                let host = url.host_str().ok_or_else(|| format!("{key}.base_url has no host"))?.to_ascii_lowercase();
                Some((host, url.port_or_known_default()))
            }
            None => None,
        };
        Ok(IntegrationCtx {
            id: config.id.clone(),
            plugin: manifest.name.clone(),
            version: manifest.version.clone(),
            account: config.account.clone(),
            settings,
            default_region: config.default_region.clone(),
            base_url: checked.base_url.as_deref().map(|u| u.trim_end_matches('/').to_string()),
            allowed_hosts: manifest.http.allowed_hosts.clone(),
            base,
            credentials,
            budgets: manifest
                .http
                .rate_limits
                .iter()
                .map(|(h, l)| (h.clone(), Budget { requests: l.requests, per: Duration::from_secs_f64(l.per_seconds) }))
                .collect(),
            aircall,
        })
    }

    /// Whether the plugin may call `host:port`.
    pub fn host_allowed(&self, host: &str, port: Option<u16>) -> bool {
        if let Some((h, p)) = &self.base {
            if h == host && (p.is_none() || *p == port) {
                return true;
            }
        }
        self.allowed_hosts.iter().any(|pat| crate::registry::manifest::host_matches(pat, host, port))
    }

    fn budget_for(&self, host: &str, port: Option<u16>) -> Option<Budget> {
        self.budgets
            .iter()
            .find(|(pat, _)| crate::registry::manifest::host_matches(pat, host, port))
            .map(|(_, b)| *b)
            .or_else(|| {
                // The base URL override stands in for the vendor host: give it the
                // first declared budget so the sandbox is paced like the real API.
                self.base.as_ref().filter(|(h, _)| h == host).and(self.budgets.first().map(|(_, b)| *b))
            })
    }
}

/// Header name / value pairs (values that are not visible ASCII are left out).
pub fn header_pairs(map: &axum::http::HeaderMap) -> Vec<(String, String)> {
    map.iter().filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string()))).collect()
}

fn setting_value(v: &toml::Value) -> SettingValue {
    match v {
        toml::Value::String(s) => SettingValue::Text(s.clone()),
        toml::Value::Integer(i) => SettingValue::Integer(*i),
        toml::Value::Boolean(b) => SettingValue::Boolean(*b),
        other => SettingValue::Json(serde_json::to_string(other).unwrap_or_else(|_| "null".into())),
    }
}

/// Identifies log lines and metrics of one job.
#[derive(Debug, Clone)]
pub struct JobLabel {
    /// Event id (or request id).
    pub event_id: String,
    /// Job id (0 for requests).
    pub job_id: i64,
}

/// One job's capabilities.
pub struct JobCaps {
    shared: Arc<Shared>,
    integration: Arc<IntegrationCtx>,
    journal: Journal,
    label: JobLabel,
    deadline: Instant,
}

impl JobCaps {
    /// Capabilities for one job.
    pub fn new(shared: Arc<Shared>, integration: Arc<IntegrationCtx>, journal: Journal, label: JobLabel, timeout: Duration) -> JobCaps {
        JobCaps { shared, integration, journal, label, deadline: Instant::now() + timeout }
    }

    /// Effects replayed from the journal in this attempt.
    pub fn replayed(&self) -> u32 {
        self.journal.replayed
    }

    /// Time left before the job's deadline.
    fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Write a plugin log line, tagged with plugin, version, integration and event.
    pub fn log(&self, level: Level, message: String, fields: Vec<(String, String)>) {
        let i = &self.integration;
        let fields = fields.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ");
        macro_rules! emit {
            ($lvl:expr) => {
                tracing::event!(target: "plugin", $lvl, plugin = %i.plugin, version = %i.version, integration = %i.id,
                    event = %self.label.event_id, job = self.label.job_id, fields = %fields, "{message}")
            };
        }
        match level {
            Level::Trace => emit!(tracing::Level::TRACE),
            Level::Debug => emit!(tracing::Level::DEBUG),
            Level::Info => emit!(tracing::Level::INFO),
            Level::Warn => emit!(tracing::Level::WARN),
            Level::Error => emit!(tracing::Level::ERROR),
        }
    }

    /// Wall clock, replayed on retries.
    pub async fn clock_now(&mut self) -> i64 {
        let fp = journal::fingerprint("clock", &());
        match self.journal.lookup::<i64>(&fp).await {
            journal::Lookup::Replay(t) => t,
            journal::Lookup::Ambiguous => crate::clock::now_ms(),
            journal::Lookup::Live => {
                let now = crate::clock::now_ms();
                self.journal.record(&fp, &now, false).await;
                now
            }
        }
    }
}

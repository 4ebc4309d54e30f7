//! The only ways out of the sandbox. Each job gets a [`JobCaps`]: the shared
//! clients and limiters, its integration's policy (allowed hosts, credentials,
//! budgets) and its effect journal.

mod crypto;
mod http;
pub mod journal;
pub mod phone;
mod storage;
mod telephony;

use crate::aircall::client::AircallClient;
use crate::config::{LimitsConfig, NetworkConfig};
use crate::contract::bindings::CapabilityError;
use crate::contract::bindings::SettingValue;
use crate::contract::bindings::switchboard::plugin::log::Level;
use crate::metrics::Metrics;
use crate::outbound::headers::AuthScheme;
use crate::outbound::ratelimit::{Budget, RateLimiters};
use crate::outbound::ssrf::CheckedResolver;
use crate::store::Store;
use journal::Journal;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What every job shares: clients, limiters, the store, metrics.
pub struct Shared {
    /// Outbound HTTP client (checked resolver, no redirects).
    pub http: reqwest::Client,
    /// `[network]`: whether plain http and private addresses are allowed.
    pub network: NetworkConfig,
    /// `[limits]`: request timeout, response size cap, longest `Retry-After` honoured.
    pub limits: LimitsConfig,
    /// Integrations' key-value storage and the effect journals.
    pub store: Arc<dyn Store>,
    /// Outbound budgets per (integration, host), tightened by what responses
    /// say; kept in the store when several hosts share it.
    pub limiters: RateLimiters,
    /// Outbound requests by host and status, exported on `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The host's OAuth connections, whose tokens credentials may name (set
    /// once they are opened, after the plugins are loaded).
    pub connections: std::sync::OnceLock<Arc<crate::connections::Connections>>,
}

impl Shared {
    /// The shared part of every job: one outbound client whose resolver
    /// enforces `network`'s address policy, and fresh rate limiters, whose
    /// budgets are the store's when several hosts share it.
    pub fn new(network: NetworkConfig, limits: LimitsConfig, store: Arc<dyn Store>, metrics: Arc<Metrics>) -> anyhow::Result<Shared> {
        let http = crate::outbound::client(CheckedResolver::from_config(&network), None)?;
        let limiters = RateLimiters::default();
        if let Some(budgets) = store.shared_budgets() {
            limiters.share_through(budgets, "integration");
        }
        Ok(Shared { http, network, limits, store, limiters, metrics, connections: Default::default() })
    }
}

/// A secret and how to attach it.
#[derive(Clone)]
pub struct Credential {
    source: CredentialSource,
    scheme: AuthScheme,
}

/// Where a credential's value comes from.
#[derive(Clone)]
enum CredentialSource {
    /// A value from the configuration.
    Static(String),
    /// The access token of a host-kept connection, by id.
    Connection(String),
}

impl Credential {
    /// `value` attached under `scheme`.
    pub fn new(value: String, scheme: AuthScheme) -> Credential {
        Credential { source: CredentialSource::Static(value), scheme }
    }

    /// The token of connection `id` (`integration:crm`), attached under `scheme`.
    pub fn connection(id: String, scheme: AuthScheme) -> Credential {
        Credential { source: CredentialSource::Connection(id), scheme }
    }

    /// The static value; `None` for a connection's token, which only the
    /// host attaches (it cannot sign).
    pub fn static_value(&self) -> Option<&str> {
        match &self.source {
            CredentialSource::Static(v) => Some(v),
            CredentialSource::Connection(_) => None,
        }
    }

    /// The value to attach now: a connection's token is refreshed first when
    /// due. An unusable connection is `unauthorized` (the integration pauses
    /// and its events wait); an unavailable token endpoint, `unavailable`.
    pub async fn value(&self, shared: &Shared) -> Result<String, CapabilityError> {
        match &self.source {
            CredentialSource::Static(v) => Ok(v.clone()),
            CredentialSource::Connection(id) => {
                let connections = shared
                    .connections
                    .get()
                    .ok_or_else(|| CapabilityError::Unavailable(format!("connection {id}: connections are not started")))?;
                connections.access_token(id).await.map_err(|e| match e {
                    crate::connections::ConnError::Unusable(m) => CapabilityError::Unauthorized(m),
                    crate::connections::ConnError::Unavailable(m) => CapabilityError::Unavailable(m),
                })
            }
        }
    }
}

/// What an [`IntegrationCtx`] is made of, checked by the registry against
/// the plugin's manifest before it gets here.
pub struct IntegrationParts {
    /// The integration's id in the configuration.
    pub id: String,
    /// The plugin's name (`plugin.toml`).
    pub plugin: String,
    /// The plugin's version (`plugin.toml`).
    pub version: String,
    /// The Aircall account whose events the integration gets.
    pub account: String,
    /// Settings (manifest defaults overlaid by the configuration).
    pub settings: Vec<(String, SettingValue)>,
    /// Region for numbers without a country prefix.
    pub default_region: Option<String>,
    /// The vendor API's root (configured or the manifest's default); its host is allowed.
    pub base_url: Option<String>,
    /// Host patterns of the manifest's `http.allowed_hosts`.
    pub allowed_hosts: Vec<String>,
    /// Configured secrets, by name.
    pub credentials: HashMap<String, Credential>,
    /// Outbound budgets by host pattern, the first also applying to the base URL's host.
    pub budgets: Vec<(String, Budget)>,
    /// The account's Aircall client.
    pub aircall: Arc<AircallClient>,
}

/// An integration's policy for one plugin version.
pub struct IntegrationCtx {
    /// The integration's id in the configuration (labels logs and metrics).
    pub id: String,
    /// The plugin's name (`plugin.toml`).
    pub plugin: String,
    /// The plugin's version (`plugin.toml`).
    pub version: String,
    /// The Aircall account whose events the integration gets.
    pub account: String,
    /// Settings (manifest defaults overlaid by the configuration).
    pub settings: Vec<(String, SettingValue)>,
    /// Region for numbers written without a country prefix.
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
    /// The policy of one integration, from what [`crate::registry`] checked
    /// against the plugin's manifest.
    pub fn new(parts: IntegrationParts) -> IntegrationCtx {
        let IntegrationParts {
            id,
            plugin,
            version,
            account,
            settings,
            default_region,
            base_url,
            allowed_hosts,
            credentials,
            budgets,
            aircall,
        } = parts;
        let base = base_url.as_deref().and_then(|u| {
            let url = url::Url::parse(u).ok()?;
            Some((url.host_str()?.to_ascii_lowercase(), url.port_or_known_default()))
        });
        IntegrationCtx {
            id,
            plugin,
            version,
            account,
            settings,
            default_region,
            base_url: base_url.map(|u| u.trim_end_matches('/').to_string()),
            allowed_hosts,
            base,
            credentials,
            budgets,
            aircall,
        }
    }

    /// Whether the plugin may call `host:port`.
    pub fn host_allowed(&self, host: &str, port: Option<u16>) -> bool {
        if let Some((h, p)) = &self.base
            && h == host
            && (p.is_none() || *p == port)
        {
            return true;
        }
        self.allowed_hosts.iter().any(|pat| crate::outbound::host_matches(pat, host, port))
    }

    fn budget_for(&self, host: &str, port: Option<u16>) -> Option<Budget> {
        self.budgets.iter().find(|(pat, _)| crate::outbound::host_matches(pat, host, port)).map(|(_, b)| *b).or_else(|| {
            // The base URL override stands in for the vendor host: give it the
            // first declared budget so the sandbox is paced like the real API.
            self.base.as_ref().filter(|(h, _)| h == host).and(self.budgets.first().map(|(_, b)| *b))
        })
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
        let now = async { journal::Done::<i64, i64>::Final(crate::clock::now_ms()) };
        match self.journal.effect(&fp, false, now).await {
            journal::Effect::Final(t) | journal::Effect::NotFinal(t) => t,
            // A read leaves no intent, so these cannot happen; the clock still answers.
            journal::Effect::Ambiguous | journal::Effect::IntentFailed(_) => crate::clock::now_ms(),
        }
    }
}

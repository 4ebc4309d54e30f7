//! The configuration's shape. Every section has defaults, so a minimal file names
//! only accounts and integrations.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The HTTP server.
    #[serde(default)]
    pub server: ServerConfig,
    /// Where events, jobs, the journal and plugin data are kept.
    #[serde(default)]
    pub store: StoreConfig,
    /// The plugin directory.
    #[serde(default)]
    pub plugins: PluginsConfig,
    /// Runtime and queue limits.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// Outbound network policy.
    #[serde(default)]
    pub network: NetworkConfig,
    /// Aircall accounts whose webhooks are accepted.
    #[serde(default)]
    pub accounts: Vec<AccountConfig>,
    /// Configured plugin instances.
    #[serde(default)]
    pub integrations: Vec<IntegrationConfig>,
    /// Connections the host owns: the master key and refresh policy.
    #[serde(default)]
    pub connections: ConnectionsConfig,
    /// Reconciliation with Aircall's call list and the webhook's health.
    #[serde(default)]
    pub reconcile: ReconcileConfig,
    /// OAuth apps, by provider (`[oauth.hubspot]`): the client this host
    /// presents to the vendor when an admin connects an account.
    #[serde(default)]
    pub oauth: BTreeMap<String, OAuthAppConfig>,
    /// The admin console (`[console]`); absent: no console.
    #[serde(default)]
    pub console: Option<ConsoleConfig>,
    /// The values taken from the environment, to keep them out of messages
    /// (see [`Config::redact`]).
    #[serde(skip)]
    pub redactor: super::Redactor,
}

/// `[server]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Largest accepted webhook body; larger ones get 413.
    pub max_body_bytes: usize,
    /// Public base URL of this host (shown in logs and plugin contexts).
    pub public_url: Option<String>,
    /// Time for a request's headers to arrive, counted from the connection
    /// opening or the previous response, in milliseconds; a connection that
    /// is later (a slow-loris, an idle keep-alive) is closed.
    pub header_read_timeout_ms: std::num::NonZeroU64,
    /// Time for a request's body to arrive once its headers have, in
    /// milliseconds; later bodies get 408 and the connection is closed.
    pub body_read_timeout_ms: std::num::NonZeroU64,
    /// Connections open at once; further ones wait in the accept backlog.
    pub max_connections: std::num::NonZeroUsize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 1024 * 1024,
            public_url: None,
            header_read_timeout_ms: std::num::NonZeroU64::new(10_000).unwrap_or(std::num::NonZeroU64::MIN),
            body_read_timeout_ms: std::num::NonZeroU64::new(30_000).unwrap_or(std::num::NonZeroU64::MIN),
            max_connections: std::num::NonZeroUsize::new(1024).unwrap_or(std::num::NonZeroUsize::MIN),
        }
    }
}

/// `[store]`: the embedded SQLite file (`path`, the default) or a PostgreSQL
/// database (`url`); naming both is an error.
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "StoreFile")]
pub struct StoreConfig {
    /// SQLite database file.
    pub path: PathBuf,
    /// PostgreSQL URL (`postgres://user:password@host:5432/database`); when set,
    /// the store is PostgreSQL and `path` is not used.
    pub url: Option<String>,
    /// PostgreSQL connections kept by this host (at least 2: one is the writer's).
    pub pool_size: usize,
    /// How long a webhook body is remembered to drop redeliveries, in days.
    pub dedupe_days: u32,
    /// How long the host remembers which calls each integration was given
    /// (`call.ended` per call), so that reconciliation, backfill and late
    /// webhooks never log a call twice. Backfill reaches no further back.
    pub logged_days: u32,
    /// How long to wait for more writes before a group commit, in microseconds.
    pub group_commit_wait_us: u64,
    /// Sync every commit to disk before acknowledging (the default). `false`
    /// exists only to measure what durability costs: acknowledged events can
    /// then be lost to a power cut.
    pub fsync: bool,
    /// This host's name among the hosts sharing a PostgreSQL database: the
    /// owner of the job leases it holds, and the `host_id` label of its metrics.
    /// Default: the machine's host name and the process id.
    pub host_id: Option<String>,
    /// PostgreSQL: how long a claimed job stays this host's without a renewal
    /// (renewed every third of it while the job runs). A host that dies has its
    /// jobs taken over by the others this long after its last renewal.
    pub lease_seconds: u64,
    /// `path` was written in the file (validation refuses it beside `url`).
    pub path_given: bool,
}

/// `[store]` as written: `path` optional, so naming it beside `url` can be refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreFile {
    path: Option<PathBuf>,
    url: Option<String>,
    pool_size: Option<usize>,
    dedupe_days: Option<u32>,
    logged_days: Option<u32>,
    group_commit_wait_us: Option<u64>,
    fsync: Option<bool>,
    host_id: Option<String>,
    lease_seconds: Option<u64>,
}

impl From<StoreFile> for StoreConfig {
    fn from(f: StoreFile) -> Self {
        let d = StoreConfig::default();
        StoreConfig {
            path_given: f.path.is_some(),
            path: f.path.unwrap_or(d.path),
            url: f.url,
            pool_size: f.pool_size.unwrap_or(d.pool_size),
            dedupe_days: f.dedupe_days.unwrap_or(d.dedupe_days),
            logged_days: f.logged_days.unwrap_or(d.logged_days),
            group_commit_wait_us: f.group_commit_wait_us.unwrap_or(d.group_commit_wait_us),
            fsync: f.fsync.unwrap_or(d.fsync),
            host_id: f.host_id,
            lease_seconds: f.lease_seconds.unwrap_or(d.lease_seconds),
        }
    }
}

impl StoreConfig {
    /// `host_id`, or the machine's host name and this process's id.
    pub fn host_id(&self) -> String {
        if let Some(id) = &self.host_id {
            return id.clone();
        }
        let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "host".to_string());
        format!("{name}-{}", std::process::id())
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            path: PathBuf::from("switchboard.db"),
            url: None,
            pool_size: 8,
            dedupe_days: 7,
            logged_days: 35,
            group_commit_wait_us: 0,
            fsync: true,
            host_id: None,
            lease_seconds: 30,
            path_given: false,
        }
    }
}

/// `[reconcile]`: every `every_seconds`, per account, the calls Aircall lists
/// are compared with the `call.ended` events received; a call whose webhook
/// never came is fetched and logged, marked `reconciled`. The webhook itself is
/// checked on the same schedule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReconcileConfig {
    /// Off switch.
    pub enabled: bool,
    /// Time between two runs per account.
    pub every_seconds: u64,
    /// How far back the first pass looks (later passes start a few minutes
    /// before the oldest call the previous one left undecided), and the size
    /// of one listing slice.
    pub window_minutes: u64,
    /// A call that ended this recently is left for its webhook (Aircall sends
    /// `call.ended` up to a minute after hang-up); the next run takes it.
    pub settle_seconds: u64,
    /// The longest gap a run covers after downtime (older calls: `switchboard backfill`).
    pub max_lookback_hours: u64,
    /// Share of each account's Aircall budget reconciliation and backfill may
    /// use (0 < share ≤ 0.5); the rest stays for insight cards and contact sync.
    pub budget_share: f64,
    /// Check the account's webhook on every run: re-activate it when Aircall
    /// deactivated it, recreate it when it is gone (accounts installed by OAuth).
    pub check_webhook: bool,
}

impl Default for ReconcileConfig {
    fn default() -> Self {
        ReconcileConfig {
            enabled: true,
            every_seconds: 600,
            window_minutes: 60,
            settle_seconds: 120,
            max_lookback_hours: 24,
            budget_share: 0.10,
            check_webhook: true,
        }
    }
}

/// `[plugins]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginsConfig {
    /// Folder with one sub-folder per plugin (`plugin.toml` + component).
    pub dir: PathBuf,
    /// Where compiled components are cached; defaults to `plugin-cache/` next to
    /// the store file (set once the configuration is loaded).
    pub cache_dir: Option<PathBuf>,
    /// Watch the folder and swap changed plugins in.
    pub watch: bool,
}

impl Default for PluginsConfig {
    fn default() -> Self {
        PluginsConfig { dir: PathBuf::from("plugins"), cache_dir: None, watch: true }
    }
}

/// `[limits]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Wall-clock deadline of one plugin call, in milliseconds.
    pub job_timeout_ms: u64,
    /// Attempts a job gets when each one runs out of its deadline: a timeout
    /// on a loaded machine is retried (the journal keeps what the cut-off
    /// attempt did), a plugin that loops every time is dead-lettered after
    /// this many.
    pub timeout_attempts: u32,
    /// Linear-memory cap of one plugin instance, in MiB.
    pub memory_mib: u64,
    /// Jobs running at once.
    pub concurrency: usize,
    /// Longest back-off between retries, in seconds.
    pub retry_cap_seconds: u64,
    /// First back-off, in milliseconds.
    pub retry_base_ms: u64,
    /// Longest `Retry-After` honoured, in seconds (longer ones are clamped and logged).
    pub max_retry_after_seconds: u64,
    /// Timeout of one outbound HTTP request, in milliseconds.
    pub http_timeout_ms: u64,
    /// Largest outbound response body read, in bytes.
    pub http_max_response_bytes: usize,
    /// Threads plugin code runs on, apart from the server's (default: one per CPU).
    pub plugin_threads: Option<usize>,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            job_timeout_ms: 10_000,
            timeout_attempts: 3,
            memory_mib: 64,
            concurrency: 64,
            retry_cap_seconds: 600,
            retry_base_ms: 500,
            max_retry_after_seconds: 3600,
            http_timeout_ms: 8_000,
            http_max_response_bytes: 8 * 1024 * 1024,
            plugin_threads: None,
        }
    }
}

/// `[network]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkConfig {
    /// Allow outbound requests to loopback and private addresses (sandbox, tests).
    pub allow_private: bool,
    /// Allow plain `http://` URLs (sandbox, tests).
    pub allow_http: bool,
    /// Names resolved to a fixed address instead of through DNS, like curl's
    /// `--resolve` (the URL's port is kept); the address policy still applies.
    /// For the sandbox: e.g. `{ "aircall-sandbox.s3.amazonaws.com" = "127.0.0.1" }`
    /// lets plugins that declare `*.amazonaws.com` fetch the emulators' media.
    pub resolve: std::collections::BTreeMap<String, std::net::IpAddr>,
}

/// `[[accounts]]`: an Aircall account.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// Short id used by integrations.
    pub id: String,
    /// The token Aircall puts in every webhook body. Not needed with `oauth`:
    /// installing the app creates the webhook and keeps its token.
    #[serde(default)]
    pub webhook_token: String,
    /// The account is connected by installing this host's Aircall app
    /// (`switchboard connect ACCOUNT`): its API token and webhook come from
    /// the connection, not from `api_id` / `api_token`.
    #[serde(default)]
    pub oauth: bool,
    /// With `oauth`: the Aircall company allowed to install the app for this
    /// account. Without it, the first install binds the account and later
    /// installs must come from the same company.
    #[serde(default)]
    pub company_id: Option<u64>,
    /// API id for Basic auth (with `api_token`), if the host calls Aircall's API.
    #[serde(default)]
    pub api_id: Option<String>,
    /// API token for Basic auth, or an OAuth access token when `api_id` is absent.
    #[serde(default)]
    pub api_token: Option<String>,
    /// Aircall API root; override for the sandbox.
    #[serde(default = "default_aircall_base")]
    pub api_base: String,
    /// Aircall's per-company API budget, requests per minute.
    #[serde(default = "default_aircall_rpm")]
    pub api_requests_per_minute: u32,
    /// Where it is declared: the file (read-only in the console) or the
    /// console (kept in the store, see [`super::live::merge_accounts`]).
    #[serde(skip)]
    pub origin: Origin,
}

impl std::fmt::Debug for AccountConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountConfig")
            .field("id", &self.id)
            .field("webhook_token", &"<redacted>")
            .field("api_base", &self.api_base)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

fn default_aircall_base() -> String {
    "https://api.aircall.io".into()
}
fn default_aircall_rpm() -> u32 {
    60
}

/// A number filter entry: an Aircall number id or its digits.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum NumberRef {
    /// Aircall number id.
    Id(u64),
    /// Digits in any format; compared after normalisation.
    Digits(String),
}

/// `[[integrations]]`: one configured plugin instance.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationConfig {
    /// Unique id; appears in URLs (`/integrations/{id}/…`), logs and metrics.
    pub id: String,
    /// The account whose events it receives.
    pub account: String,
    /// The plugin's name (its folder's manifest `name`).
    pub plugin: String,
    /// Whether it receives events.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Only events on these Aircall numbers; empty = all.
    #[serde(default)]
    pub numbers: Vec<NumberRef>,
    /// Region for phone numbers when an event carries none (ISO 3166 alpha-2).
    #[serde(default)]
    pub default_region: Option<String>,
    /// The CRM's API root (EU/AU regions, account domains, a proxy, the sandbox);
    /// defaults to the manifest's `http.default_base_url`. Its host is allowed in
    /// addition to the manifest's hosts, and the plugin reads it as the setting
    /// `base_url` (which the configuration itself may not set).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Settings, checked against the manifest's declarations.
    #[serde(default)]
    pub settings: BTreeMap<String, toml::Value>,
    /// Secrets by the names the manifest declares. A secret the manifest
    /// ties to an OAuth provider and left out here comes from the integration's
    /// connection (`switchboard connect ID`).
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    /// Values for the provider's URL templates when connecting
    /// (`{ subdomain = "acme" }` for Gorgias, `{ region = "eu" }` for Intercom).
    #[serde(default)]
    pub connection: BTreeMap<String, String>,
    /// This account's own API budget where it differs from the one the plugin
    /// declares (a HubSpot portal on a higher tier than the lowest, which the
    /// plugin assumes): `{ "api.hubapi.com" = { requests = 190, per_seconds = 10 } }`.
    /// Each host must be one the plugin declares a limit for.
    #[serde(default)]
    pub rate_limits: BTreeMap<String, RateLimitConfig>,
    /// Where it is declared: the file (read-only in the console) or the
    /// console (kept in the store, see [`super::live`]).
    #[serde(skip)]
    pub origin: Origin,
}

/// Where an integration or an account is declared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Origin {
    /// `[[integrations]]` / `[[accounts]]` in the configuration file:
    /// authoritative, read-only in the console.
    #[default]
    File,
    /// Made in the console and kept in the store (`host:integrations`, which
    /// holds the console's accounts too).
    Console,
}

/// A budget of an integration's API: `requests` per `per_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Requests per window (at least 1).
    pub requests: u32,
    /// Window length in seconds (more than 0).
    pub per_seconds: f64,
}

impl std::fmt::Debug for IntegrationConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntegrationConfig")
            .field("id", &self.id)
            .field("account", &self.account)
            .field("plugin", &self.plugin)
            .field("enabled", &self.enabled)
            .field("origin", &self.origin)
            .field("numbers", &self.numbers)
            .field("rate_limits", &self.rate_limits)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn yes() -> bool {
    true
}

/// `[connections]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConnectionsConfig {
    /// File of master keys (`switchboard keys generate`); needed for key
    /// rotation. Without it the key comes from `SWITCHBOARD_MASTER_KEY`.
    pub key_file: Option<PathBuf>,
    /// Refused refreshes in a row (network errors, 5xx) before a connection
    /// needs re-authorisation; `invalid_grant` needs it at once.
    pub max_refresh_failures: u32,
    /// First wait after a failed refresh, in seconds (doubles each time).
    pub refresh_backoff_seconds: u64,
    /// A connection not refreshed for this long is refreshed by the sweep
    /// (vendors revoke idle tokens), in hours.
    pub idle_refresh_hours: u64,
}

impl Default for ConnectionsConfig {
    fn default() -> Self {
        ConnectionsConfig { key_file: None, max_refresh_failures: 5, refresh_backoff_seconds: 30, idle_refresh_hours: 24 }
    }
}

/// `[oauth.PROVIDER]`: this host's OAuth app at one vendor.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthAppConfig {
    /// The app's client id.
    pub client_id: String,
    /// The app's client secret (use `${VAR}`).
    pub client_secret: String,
    /// Replaces the provider's authorize URL template (the sandbox, a proxy).
    #[serde(default)]
    pub authorize_url: Option<String>,
    /// Replaces the provider's token URL template.
    #[serde(default)]
    pub token_url: Option<String>,
    /// Replaces the provider's scopes.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
}

impl std::fmt::Debug for OAuthAppConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthAppConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("authorize_url", &self.authorize_url)
            .field("token_url", &self.token_url)
            .finish_non_exhaustive()
    }
}

/// `[console]`: the admin web console on its own listener. Present (and
/// `enabled`, the default) → served; absent → not served.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// Off switch.
    pub enabled: bool,
    /// Address of the console's listener (keep it on loopback or behind a TLS proxy).
    pub listen: SocketAddr,
    /// The admin password as an argon2 PHC string (`switchboard console-password`
    /// prints one); without it only `switchboard console-link` signs in.
    pub admin_password_hash: Option<String>,
    /// How long a console session lasts, in hours.
    pub session_hours: u64,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig { enabled: true, listen: SocketAddr::from(([127, 0, 0, 1], 8081)), admin_password_hash: None, session_hours: 12 }
    }
}

impl Config {
    /// The console's settings when it is to be served.
    pub fn console_enabled(&self) -> Option<&ConsoleConfig> {
        self.console.as_ref().filter(|c| c.enabled)
    }
}

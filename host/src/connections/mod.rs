//! Connections: the host owns every OAuth credential's life — connecting,
//! storing (sealed), refreshing ahead of expiry, and holding events when a
//! vendor refuses. A connection is one authorised link to a vendor account:
//! an Aircall account (`account:ID`, `[[accounts]] oauth = true`) or the CRM of
//! an integration (`integration:ID`, when its plugin's `plugin.toml` ties a
//! secret to a provider and the configuration gives no static value).
//! Plugins never see tokens: the host attaches them as it attaches secrets.
//!
//! - [`crate::providers`]: the vendors as data; [`token`]: the token endpoint;
//! - [`seal`]: encryption at rest and key rotation; [`record`]: the stored state;
//! - [`flow`]: `state`, PKCE and start tickets; [`refresh`]: refresh-ahead,
//!   single flight, back-off; [`aircall`]: the install's webhook and uninstall.

pub mod aircall;
pub mod flow;
pub mod record;
pub mod refresh;
pub mod seal;
pub mod token;

use crate::config::{Config, OAuthAppConfig};
use crate::providers::{Grant, Provider, Providers};
use crate::store::Store;
use record::{Record, State};
use seal::Keyring;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// A plugin secret an OAuth provider can supply (from its `plugin.toml`).
#[derive(Debug, Clone)]
pub struct OAuthSecret {
    /// The plugin's name.
    pub plugin: String,
    /// The secret's name.
    pub secret: String,
    /// The OAuth provider that supplies it: the secret's `provider` in
    /// `plugin.toml`, a name in `providers.toml`.
    pub provider: String,
    /// Scopes the plugin asks for, instead of the provider's.
    pub scopes: Option<Vec<String>>,
}

/// What one configured connection is.
#[derive(Debug, Clone)]
pub struct Spec {
    /// `integration:ID` or `account:ID`.
    pub id: String,
    /// Its provider's name in `providers.toml`.
    pub provider: String,
    /// Values for the provider's URL templates.
    pub params: BTreeMap<String, String>,
    /// Scopes the plugin asks for instead of the provider's.
    pub scopes: Option<Vec<String>>,
    /// Integrations whose events wait while it is unusable.
    pub integrations: Vec<String>,
}

/// Why a token cannot be had.
#[derive(Debug, Clone)]
pub enum ConnError {
    /// An admin must act (connect, reconnect): the integration is paused and
    /// its events held.
    Unusable(String),
    /// Try again later (the token endpoint is down and the token expired).
    Unavailable(String),
}

impl std::fmt::Display for ConnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnError::Unusable(m) | ConnError::Unavailable(m) => f.write_str(m),
        }
    }
}

/// The host's connections.
pub struct Connections {
    store: Arc<dyn Store>,
    keyring: Option<Arc<Keyring>>,
    providers: Providers,
    apps: BTreeMap<String, OAuthAppConfig>,
    /// The connections the current configuration implies ([`Connections::set_specs`]).
    specs: arc_swap::ArcSwap<BTreeMap<String, Spec>>,
    public_url: Option<String>,
    http: reqwest::Client,
    policy: crate::config::ConnectionsConfig,
    /// The Aircall accounts of the effective configuration: API root, and
    /// the one company allowed to install (updated by [`Connections::set_specs`]).
    aircall_accounts: arc_swap::ArcSwap<BTreeMap<String, AircallAccount>>,
    /// Per connection: the single-flight lock and the last token opened.
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<refresh::Cached>>>>>,
    /// Webhook token digests of OAuth accounts, re-read on a miss, with when
    /// they were read (ms).
    webhook_tokens: Mutex<(i64, Vec<AccountToken>)>,
}

/// What the install steps need of an Aircall account.
#[derive(Debug, Clone)]
pub(crate) struct AircallAccount {
    /// Aircall's API root, without a trailing `/`.
    pub(crate) base: String,
    /// The only company allowed to install, when set.
    pub(crate) company: Option<u64>,
}

/// The Aircall accounts of `config`, by id.
fn aircall_accounts(config: &Config) -> BTreeMap<String, AircallAccount> {
    config
        .accounts
        .iter()
        .map(|a| (a.id.clone(), AircallAccount { base: a.api_base.trim_end_matches('/').to_string(), company: a.company_id }))
        .collect()
}

/// An installed account's id and the SHA-256 of its webhook token.
type AccountToken = (String, [u8; 32]);

impl Connections {
    /// The connections `config` implies, given the manifests of its plugins.
    /// Without any, no master key is needed; with some, a missing or wrong key
    /// is an error here, at start-up.
    pub async fn open(config: &Config, secrets: &[OAuthSecret], store: Arc<dyn Store>) -> Result<Arc<Connections>, String> {
        let specs = specs(config, secrets)?;
        let keyring = if specs.is_empty() {
            // Not needed yet; when a key is there, the console's integrations
            // can still connect and seal their secrets with it.
            Keyring::load(config.connections.key_file.as_deref()).ok().map(Arc::new)
        } else {
            let ids: Vec<&str> = specs.keys().map(String::as_str).collect();
            let why = format!(
                "{} use OAuth connections (accounts with oauth = true; integrations whose plugin secret naming a provider is not set)",
                ids.join(", ")
            );
            Some(Arc::new(Keyring::load(config.connections.key_file.as_deref()).map_err(|e| format!("{e}; {why}"))?))
        };
        let http = crate::outbound::client(crate::outbound::ssrf::CheckedResolver::operator_chosen(), None).map_err(|e| e.to_string())?;
        let connections = Connections {
            store,
            keyring,
            providers: Providers::builtin(),
            apps: config.oauth.clone(),
            specs: arc_swap::ArcSwap::from_pointee(specs),
            public_url: config.server.public_url.as_ref().map(|u| u.trim_end_matches('/').to_string()),
            http,
            policy: config.connections.clone(),
            aircall_accounts: arc_swap::ArcSwap::from_pointee(aircall_accounts(config)),
            slots: Mutex::new(HashMap::new()),
            webhook_tokens: Mutex::new((i64::MIN, Vec::new())),
        };
        connections.check_key().await?;
        Ok(Arc::new(connections))
    }

    /// Every stored token must open under the master key: a wrong key is a
    /// start-up error, not a surprise at the first call.
    async fn check_key(&self) -> Result<(), String> {
        for record in self.list().await? {
            if let Some(sealed) = &record.access {
                self.keyring()?.open(&aad(&record.id, "access"), sealed).map_err(|e| format!("connection {}: {e}", record.id))?;
            }
        }
        Ok(())
    }

    /// The configured connections (as they are now: the console may add some).
    pub fn specs(&self) -> impl Iterator<Item = Spec> {
        self.specs.load().values().cloned().collect::<Vec<_>>().into_iter()
    }

    /// Replaces the connections with those `config` implies (the effective
    /// configuration changed: an account or an integration was made or
    /// removed in the console). Records of connections that are gone stay in
    /// the store.
    pub fn set_specs(&self, config: &Config, secrets: &[OAuthSecret]) -> Result<(), String> {
        let specs = specs(config, secrets)?;
        self.aircall_accounts.store(Arc::new(aircall_accounts(config)));
        self.specs.store(Arc::new(specs));
        *self.webhook_tokens.lock().unwrap_or_else(|p| p.into_inner()) = (i64::MIN, Vec::new());
        Ok(())
    }

    /// The Aircall account `id` of the effective configuration.
    pub(crate) fn aircall_account(&self, id: &str) -> Result<AircallAccount, String> {
        self.aircall_accounts.load().get(id).cloned().ok_or_else(|| format!("no account {id}"))
    }

    /// The master keys, when the host has them (`[connections] key_file` or
    /// `SWITCHBOARD_MASTER_KEY`): what seals tokens and the console's secrets.
    pub fn keys(&self) -> Result<&Arc<Keyring>, String> {
        self.keyring.as_ref().ok_or_else(|| {
            format!(
                "no master key: set [connections] key_file or {}; `switchboard keys generate --file master.keys` makes one",
                seal::MASTER_KEY_ENV
            )
        })
    }

    /// One connection's spec, by full or short id (`crm`, `integration:crm`).
    pub fn spec(&self, id: &str) -> Result<Spec, String> {
        let specs = self.specs.load();
        if let Some(s) = specs.get(id) {
            return Ok(s.clone());
        }
        let matches: Vec<&Spec> = specs.values().filter(|s| record::short_id(&s.id) == id).collect();
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(format!(
                "no connection named {id:?} (configured: {})",
                specs.keys().cloned().collect::<Vec<_>>().join(", ").if_empty("none")
            )),
            _ => Err(format!("{id:?} names an account and an integration: say account:{id} or integration:{id}")),
        }
    }

    /// Every connection's record, in id order.
    pub async fn list(&self) -> Result<Vec<Record>, String> {
        let now = crate::clock::now_ms();
        let mut out = Vec::new();
        let specs = self.specs.load_full();
        for spec in specs.values() {
            out.push(record::read(&self.store, &spec.id, &spec.provider, now).await?.record);
        }
        Ok(out)
    }

    fn keyring(&self) -> Result<&Arc<Keyring>, String> {
        self.keyring.as_ref().ok_or_else(|| "no connections are configured".to_string())
    }

    fn provider(&self, spec: &Spec) -> Result<&Provider, String> {
        self.providers.get(&spec.provider).ok_or_else(|| format!("unknown provider {:?}", spec.provider))
    }

    /// The OAuth app for a provider, and its authorize / token URLs for `spec`.
    fn app(&self, spec: &Spec) -> Result<(&Provider, &OAuthAppConfig, String, String), String> {
        let provider = self.provider(spec)?;
        let app_name = provider.app_name(&spec.provider);
        let app = self.apps.get(app_name).ok_or_else(|| {
            format!("connection {} needs the host's {app_name} app: add [oauth.{app_name}] with client_id and client_secret", spec.id)
        })?;
        let (authorize, token) = provider
            .urls(&spec.params, app.authorize_url.as_deref(), app.token_url.as_deref())
            .map_err(|e| format!("connection {}: {e}", spec.id))?;
        Ok((provider, app, authorize, token))
    }

    /// Where vendors send the admin back.
    pub fn redirect_uri(&self) -> Result<String, String> {
        let base = self.public_url.as_ref().ok_or("set [server] public_url: vendors send the admin back to it")?;
        Ok(format!("{base}/oauth/callback"))
    }

    /// A single-use link that starts connecting `id` in a browser (what
    /// `switchboard connect` prints).
    pub async fn start_link(&self, id: &str) -> Result<String, String> {
        let spec = self.spec(id)?;
        self.app(&spec)?;
        let base = self.public_url.as_ref().ok_or("set [server] public_url: the link and the vendor's callback go to this host")?;
        let ticket = flow::issue_ticket(&self.store, &spec.id, crate::clock::now_ms()).await?;
        Ok(format!("{base}/connect/{ticket}"))
    }

    /// Starts an authorization for `id` in the browser session `session`: the
    /// vendor's authorize URL to send the browser to.
    pub async fn authorize_url(&self, id: &str, session: &str) -> Result<String, String> {
        let spec = self.spec(id)?.clone();
        let (provider, app, authorize, _) = self.app(&spec)?;
        if provider.grant == Grant::ClientCredentials {
            return Err(format!("connection {} uses client credentials: run switchboard connect {}", spec.id, record::short_id(&spec.id)));
        }
        let redirect_uri = self.redirect_uri()?;
        let state = flow::random_token();
        let verifier = provider.pkce.then(flow::random_token);
        let mut url = url::Url::parse(&authorize).map_err(|e| format!("authorize URL {authorize:?}: {e}"))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("client_id", &app.client_id);
            q.append_pair("response_type", "code");
            q.append_pair("state", &state);
            if provider.redirect_param {
                q.append_pair("redirect_uri", &redirect_uri);
            }
            let scopes = spec.scopes.clone().or_else(|| app.scopes.clone()).unwrap_or_else(|| provider.scopes.clone());
            if !scopes.is_empty() {
                q.append_pair("scope", &scopes.join(" "));
            }
            if let Some(v) = &verifier {
                q.append_pair("code_challenge", &flow::challenge(v));
                q.append_pair("code_challenge_method", "S256");
            }
        }
        let pending = flow::Pending { connection: spec.id.clone(), session: flow::digest(session), verifier, redirect_uri };
        flow::remember(&self.store, &state, &pending, crate::clock::now_ms()).await?;
        Ok(url.into())
    }

    /// Completes an authorization: checks `state` against the browser session,
    /// exchanges the code, stores the tokens sealed, and for Aircall installs
    /// the webhook. Nothing is stored when any step fails.
    pub async fn complete(&self, state: &str, session: Option<&str>, code: &str) -> Result<Record, String> {
        let now = crate::clock::now_ms();
        let pending = flow::take(&self.store, state, session, now).await?;
        let spec = self.spec(&pending.connection)?.clone();
        let (provider, app, _, token_url) = self.app(&spec)?;
        let grant = token::Grant::Code { code, redirect_uri: &pending.redirect_uri, verifier: pending.verifier.as_deref() };
        let tokens = token::request(&self.http, provider, &token_url, &app.client_id, &app.client_secret, grant)
            .await
            .map_err(|e| format!("connection {}: {e}", spec.id))?;
        self.store_tokens(&spec, tokens).await
    }

    /// Connects a client-credentials provider (no browser).
    pub async fn connect_client_credentials(&self, id: &str) -> Result<Record, String> {
        let spec = self.spec(id)?.clone();
        let (provider, app, _, token_url) = self.app(&spec)?;
        if provider.grant != Grant::ClientCredentials {
            return Err(format!("connection {} is connected in a browser", spec.id));
        }
        let tokens = token::request(&self.http, provider, &token_url, &app.client_id, &app.client_secret, token::Grant::ClientCredentials)
            .await
            .map_err(|e| format!("connection {}: {e}", spec.id))?;
        self.store_tokens(&spec, tokens).await
    }

    /// Seals and stores fresh tokens (after Aircall's install steps, which may
    /// refuse), marks the connection connected and resumes what it held.
    async fn store_tokens(&self, spec: &Spec, tokens: token::Tokens) -> Result<Record, String> {
        let provider = self.provider(spec)?;
        let install = if spec.provider == "aircall" { Some(self.aircall_install(spec, &tokens.access).await?) } else { None };
        let now = crate::clock::now_ms();
        let keyring = self.keyring()?.clone();
        let lifetime_s = tokens.expires_in.or(provider.default_lifetime_seconds);
        let access = keyring.seal(&aad(&spec.id, "access"), tokens.access.as_bytes())?;
        let refresh = match &tokens.refresh {
            Some(r) => Some(keyring.seal(&aad(&spec.id, "refresh"), r.as_bytes())?),
            None => None,
        };
        let webhook_token = match &install {
            Some(i) => Some(keyring.seal(&aad(&spec.id, "webhook"), i.webhook_token.as_bytes())?),
            None => None,
        };
        let record = record::update(&self.store, &spec.id, &spec.provider, now, |r| {
            r.access = Some(access.clone());
            r.refresh = refresh.clone();
            r.lifetime_ms = lifetime_s.map(|s| s as i64 * 1000);
            r.expires_at_ms = lifetime_s.map(|s| now + s as i64 * 1000);
            r.refreshed_at_ms = now;
            r.failures = 0;
            r.retry_at_ms = 0;
            r.lease_until_ms = 0;
            if let Some(i) = &install {
                r.webhook_id = Some(i.webhook_id.clone());
                r.webhook_token = webhook_token.clone();
                r.account = i.account.clone();
            }
            r.set_state(State::Connected, "connected", "", now);
            Some(())
        })
        .await?;
        self.forget_cached(&spec.id);
        self.resume_held(spec).await;
        tracing::info!(connection = %spec.id, provider = %spec.provider, "connection connected");
        Ok(record)
    }

    /// Marks a connection revoked (uninstalled, or by an operator) and pauses
    /// the integrations it serves, so their events wait instead of failing.
    pub async fn revoke(&self, id: &str, reason: &str) -> Result<Record, String> {
        let spec = self.spec(id)?.clone();
        let now = crate::clock::now_ms();
        let fix = format!("connect it again: switchboard connect {}", record::short_id(&spec.id));
        let record = record::update(&self.store, &spec.id, &spec.provider, now, |r| {
            r.access = None;
            r.refresh = None;
            r.set_state(State::Revoked, reason, fix.clone(), now);
            Some(())
        })
        .await?;
        self.forget_cached(&spec.id);
        self.hold(&spec, &format!("connection {} revoked: {reason}", spec.id)).await;
        Ok(record)
    }

    /// Pauses the integrations `spec` serves with `reason`.
    async fn hold(&self, spec: &Spec, reason: &str) {
        for integration in &spec.integrations {
            if let Err(e) = self.store.set_paused(integration, Some(reason)).await {
                tracing::warn!(%integration, error = %e, "could not pause");
            }
        }
    }

    /// Resumes integrations paused because of this connection (or for refused
    /// credentials, which a new connection answers).
    async fn resume_held(&self, spec: &Spec) {
        let Ok(paused) = self.store.paused().await else { return };
        for (integration, _) in paused.iter().filter(|(i, _)| spec.integrations.contains(i)) {
            match self.store.set_paused(integration, None).await {
                Ok(()) => tracing::info!(%integration, connection = %spec.id, "resumed: its connection works again"),
                Err(e) => tracing::warn!(%integration, error = %e, "could not resume"),
            }
        }
    }

    fn slot(&self, id: &str) -> Arc<tokio::sync::Mutex<Option<refresh::Cached>>> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.entry(id.to_string()).or_default().clone()
    }

    fn forget_cached(&self, id: &str) {
        let slot = self.slot(id);
        if let Ok(mut cached) = slot.try_lock() {
            *cached = None;
        }
    }

    /// The account whose OAuth-installed webhook uses `token`, reading the
    /// store again (at most once a second) when no known token matches, and
    /// every 30 s in any case.
    pub async fn webhook_account(&self, token: &str) -> Option<String> {
        if !self.specs.load_full().values().any(|s| s.provider == "aircall") {
            return None;
        }
        let digest: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(token.as_bytes()).into();
        let find = |list: &[(String, [u8; 32])]| {
            list.iter().find(|(_, d)| subtle::ConstantTimeEq::ct_eq(&d[..], &digest[..]).into()).map(|(a, _)| a.clone())
        };
        {
            // A hit is trusted for 30 s (a token replaced by another process,
            // `accounts check --repair`, stops working within that); a miss is
            // looked up again at most once a second.
            let cache = self.webhook_tokens.lock().unwrap_or_else(|p| p.into_inner());
            let age = crate::clock::now_ms().saturating_sub(cache.0);
            if age < 30_000
                && let Some(a) = find(&cache.1)
            {
                return Some(a);
            }
            if age < 1000 {
                return None;
            }
        }
        let fresh = self.read_webhook_tokens().await;
        let found = find(&fresh);
        *self.webhook_tokens.lock().unwrap_or_else(|p| p.into_inner()) = (crate::clock::now_ms(), fresh);
        found
    }

    async fn read_webhook_tokens(&self) -> Vec<(String, [u8; 32])> {
        let mut out = Vec::new();
        let Ok(keyring) = self.keyring() else { return out };
        let now = crate::clock::now_ms();
        for spec in self.specs.load_full().values().filter(|s| s.provider == "aircall") {
            let Ok(v) = record::read(&self.store, &spec.id, &spec.provider, now).await else { continue };
            // The webhook token authenticates Aircall whatever the API token's
            // state (events of an account that needs re-authorisation are held,
            // not refused); an uninstalled or never-installed account has none.
            if matches!(v.record.state, State::Revoked | State::NotConnected) {
                continue;
            }
            if let Some(sealed) = &v.record.webhook_token
                && let Ok(token) = keyring.open(&aad(&spec.id, "webhook"), sealed)
            {
                out.push((record::short_id(&spec.id).to_string(), <sha2::Sha256 as sha2::Digest>::digest(&token).into()));
            }
        }
        out
    }

    /// Re-seals every stored value under the keyring's current key (after
    /// `keys rotate` appended one). Returns how many records changed.
    pub async fn reseal_all(&self) -> Result<usize, String> {
        let keyring = self.keyring()?.clone();
        keyring.reload()?;
        let current = keyring.current_id();
        let mut changed = 0;
        for spec in self.specs.load_full().values() {
            let now = crate::clock::now_ms();
            let mut failed = None;
            let record = record::update(&self.store, &spec.id, &spec.provider, now, |r| {
                let mut touched = false;
                for (field, value) in [("access", &mut r.access), ("refresh", &mut r.refresh), ("webhook", &mut r.webhook_token)] {
                    let Some(sealed) = value.as_ref() else { continue };
                    if sealed.kid == current {
                        continue;
                    }
                    match keyring.open(&aad(&spec.id, field), sealed).and_then(|plain| keyring.seal(&aad(&spec.id, field), &plain)) {
                        Ok(resealed) => {
                            *value = Some(resealed);
                            touched = true;
                        }
                        Err(e) => {
                            failed = Some(e);
                            return None;
                        }
                    }
                }
                touched.then_some(())
            })
            .await?;
            if let Some(e) = failed {
                return Err(format!("connection {}: {e}", record.id));
            }
            if [&record.access, &record.refresh, &record.webhook_token].iter().any(|s| s.as_ref().is_some_and(|s| s.kid == current)) {
                changed += 1;
            }
        }
        Ok(changed)
    }
}

/// Associated data binding a sealed value to its connection and field.
pub fn aad(id: &str, field: &str) -> String {
    format!("{id}/{field}")
}

trait IfEmpty {
    fn if_empty(self, other: &str) -> String;
}

impl IfEmpty for String {
    fn if_empty(self, other: &str) -> String {
        if self.is_empty() { other.to_string() } else { self }
    }
}

/// The connections a configuration implies: every `[[accounts]] oauth = true`,
/// and every integration whose plugin ties a secret to a provider that the
/// integration does not set statically.
pub fn specs(config: &Config, secrets: &[OAuthSecret]) -> Result<BTreeMap<String, Spec>, String> {
    let providers = Providers::builtin();
    let mut out = BTreeMap::new();
    for account in config.accounts.iter().filter(|a| a.oauth) {
        let id = format!("account:{}", account.id);
        let integrations = config.integrations.iter().filter(|i| i.account == account.id).map(|i| i.id.clone()).collect();
        out.insert(id.clone(), Spec { id, provider: "aircall".into(), params: BTreeMap::new(), scopes: None, integrations });
    }
    for integration in &config.integrations {
        for s in secrets.iter().filter(|s| s.plugin == integration.plugin) {
            if integration.secrets.get(&s.secret).is_some_and(|v| !v.trim().is_empty()) {
                continue;
            }
            // `connection = { provider = "helpscout-internal" }` picks another flow of the vendor.
            let mut params = integration.connection.clone();
            let provider = params.remove("provider").unwrap_or_else(|| s.provider.clone());
            if providers.get(&provider).is_none() {
                return Err(format!(
                    "integration {}: unknown provider {provider:?} (known: {})",
                    integration.id,
                    providers.names().join(", ")
                ));
            }
            let id = format!("integration:{}", integration.id);
            out.insert(id.clone(), Spec { id, provider, params, scopes: s.scopes.clone(), integrations: vec![integration.id.clone()] });
        }
    }
    Ok(out)
}

//! Making the console's accounts and integrations effective: read the store's
//! document, open its secrets, merge it with the file
//! ([`crate::integrations::stored::Document::merged`]), give the accounts
//! their Aircall clients and webhook tokens
//! ([`crate::aircall::accounts::Accounts::update`]), each plugin the new
//! integrations' policies ([`crate::registry::Registry::rebind`]) and the
//! connections their new specs, then swap the effective configuration in
//! (under the registry's reload lock, so a plugin reload binds from the new
//! one). The clients and policies come first, so the first webhook of a new
//! account, or that fans out to a new integration, finds them.
//!
//! Several hosts on one database: the host where the admin saved applies at
//! once; every other host reads the document's version every
//! [`FOLLOW_EVERY`] (one key-value read) and applies when it changed.

use crate::config::LiveConfig;
use crate::config::live::Excluded;
use crate::connections::Connections;
use crate::registry::Registry;
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;

/// How often a host looks for changes other hosts made.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(2);

/// What applying the console's integrations touches.
#[derive(Clone)]
pub struct Applier {
    /// Where the document is.
    pub store: Arc<dyn Store>,
    /// The effective configuration.
    pub live: Arc<LiveConfig>,
    /// The plugins whose integrations are rebound.
    pub registry: Arc<Registry>,
    /// The connections (specs, and the master key that opens secrets).
    pub connections: Arc<Connections>,
}

/// The outcome of one apply.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// The document's version now in effect.
    pub version: u64,
    /// Console accounts and integrations left out of the effective configuration, and why.
    pub excluded: Vec<Excluded>,
    /// Console integrations in it that their plugin does not accept (yet):
    /// they run no jobs. `(id, reason)`.
    pub not_set_up: Vec<(String, String)>,
}

impl Applier {
    /// The applier of a running host.
    pub fn of(state: &crate::server::AppState) -> Applier {
        Applier {
            store: state.store.clone(),
            live: state.live.clone(),
            registry: state.registry.clone(),
            connections: state.connections.clone(),
        }
    }

    /// Reads the store's document and makes it effective.
    pub async fn apply(&self) -> Result<Applied, String> {
        let _one_at_a_time = self.live.lock().await;
        let doc = super::stored::read(&self.store).await?;
        let keys = self.connections.keys().ok().cloned();
        let result = doc.merged(self.live.file(), keys.as_deref());
        result.warn();
        let merged = result.config;
        let mut excluded = result.accounts_left_out;
        excluded.extend(result.integrations_left_out);
        self.registry.accounts().update(&merged).map_err(|e| format!("Aircall clients: {e}"))?;
        let secrets: Vec<_> = self.registry.list().iter().flat_map(|p| p.manifest.oauth_secrets()).collect();
        if let Err(e) = self.connections.set_specs(&merged, &secrets) {
            tracing::error!(error = %e, "connections not updated");
        }
        let merged = std::sync::Arc::new(merged);
        let not_set_up = self.registry.rebind(&merged, || self.live.swap(merged.clone(), doc.version)).await;
        tracing::info!(
            version = doc.version,
            accounts = doc.accounts.len(),
            integrations = doc.integrations.len(),
            "console accounts and integrations applied"
        );
        Ok(Applied { version: doc.version, excluded, not_set_up })
    }

    /// Applies the document whenever its version differs from the one in
    /// effect (another host saved), checking every [`FOLLOW_EVERY`].
    pub fn spawn_follower(self) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(FOLLOW_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Ok(doc) = super::stored::read(&self.store).await else { continue };
                if doc.version != self.live.stored_version()
                    && let Err(e) = self.apply().await
                {
                    tracing::warn!(error = %e, "console accounts and integrations not applied");
                }
            }
        });
    }
}

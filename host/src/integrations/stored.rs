//! The console's integrations and accounts as the store keeps them: one JSON document in
//! the key-value table (namespace [`NAMESPACE`], key [`KEY`]) with a version
//! that every change raises. Changes are compare-and-swap on the whole
//! document, so two admins (or two hosts) saving at once never lose one
//! another's integration: the later one reads again and re-applies its change.
//! Works alike on SQLite and PostgreSQL (the `kv` table both have).
//!
//! Secrets are sealed under the connections' master key
//! ([`crate::connections::seal`]), bound to the integration and the secret's
//! name; the document never holds one in clear.

pub use super::accounts::StoredAccount;
use crate::config::live::{Excluded, merge, merge_accounts};
use crate::config::{Config, IntegrationConfig, NumberRef, Origin};
use crate::connections::seal::{Keyring, Sealed};
use crate::store::{KvWrite, Store};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Namespace of the document in the store's key-value table.
pub const NAMESPACE: &str = "host:integrations";
/// Its key.
pub const KEY: &str = "console";

/// One integration made in the console.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredIntegration {
    /// Its id (not one of the file's).
    pub id: String,
    /// The Aircall account (one of the file's).
    pub account: String,
    /// The plugin.
    pub plugin: String,
    /// Whether it receives events. Made disabled; enabled once it passes its
    /// plugin's checks.
    #[serde(default)]
    pub enabled: bool,
    /// Aircall number ids it logs (empty: none picked yet).
    #[serde(default)]
    pub numbers: Vec<u64>,
    /// Region for numbers without a country code.
    #[serde(default)]
    pub default_region: Option<String>,
    /// The CRM's API root, when not the plugin's default.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Settings by name, as the file would write them.
    #[serde(default)]
    pub settings: BTreeMap<String, toml::Value>,
    /// Secrets by name, sealed.
    #[serde(default)]
    pub secrets: BTreeMap<String, Sealed>,
    /// Values for the OAuth provider's URL templates (`subdomain`, `region`).
    #[serde(default)]
    pub connection: BTreeMap<String, String>,
    /// When it was made (ms since the epoch).
    #[serde(default)]
    pub created_at_ms: i64,
    /// When it was last changed.
    #[serde(default)]
    pub updated_at_ms: i64,
}

/// The whole document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Raised by every change; hosts compare it to notice others' changes.
    pub version: u64,
    /// The integrations, in the order they were made.
    pub integrations: Vec<StoredIntegration>,
    /// The Aircall accounts, in the order they were made.
    #[serde(default)]
    pub accounts: Vec<StoredAccount>,
}

/// The effective configuration a document makes with the file, and what it
/// leaves out.
#[derive(Debug, Clone)]
pub struct Merged {
    /// The file's accounts and integrations, then the console's.
    pub config: Config,
    /// Console accounts left out, and why (`console account "x".…`).
    pub accounts_left_out: Vec<Excluded>,
    /// Console integrations left out, and why (`console integration "x".…`).
    pub integrations_left_out: Vec<Excluded>,
}

impl Merged {
    /// Logs what was left out.
    pub fn warn(&self) {
        for e in &self.accounts_left_out {
            tracing::warn!(account = %e.id, reason = %e.reason, "console account left out");
        }
        for e in &self.integrations_left_out {
            tracing::warn!(integration = %e.id, reason = %e.reason, "console integration left out");
        }
    }
}

impl Document {
    /// The integration `id`.
    pub fn get(&self, id: &str) -> Option<&StoredIntegration> {
        self.integrations.iter().find(|i| i.id == id)
    }

    /// The account `id`.
    pub fn account(&self, id: &str) -> Option<&StoredAccount> {
        self.accounts.iter().find(|a| a.id == id)
    }

    /// `file` with this document's accounts ([`merge_accounts`]) and then its
    /// integrations ([`merge`]), secrets opened with `keys`.
    pub fn merged(&self, file: &Config, keys: Option<&Keyring>) -> Merged {
        let mut accounts = Vec::new();
        let mut accounts_left_out = Vec::new();
        for a in &self.accounts {
            match a.to_config(keys) {
                Ok(c) => accounts.push(c),
                Err(reason) => accounts_left_out.push(Excluded { id: a.id.clone(), reason }),
            }
        }
        let (base, more) = merge_accounts(file, accounts);
        accounts_left_out.extend(more);
        let (opened, mut integrations_left_out) = self.open_all(keys);
        let (config, more) = merge(&base, opened);
        integrations_left_out.extend(more);
        Merged { config, accounts_left_out, integrations_left_out }
    }
}

/// Associated data of a sealed secret: the integration and the secret's name.
fn aad(id: &str, secret: &str) -> String {
    crate::connections::aad(&format!("integration:{id}"), &format!("secret:{secret}"))
}

/// Seals `value` as secret `name` of integration `id`.
pub fn seal_secret(keys: &Keyring, id: &str, name: &str, value: &str) -> Result<Sealed, String> {
    keys.seal(&aad(id, name), value.as_bytes())
}

/// Reads the document (empty when the console never made one) and its bytes as stored.
pub async fn read_raw(store: &Arc<dyn Store>) -> Result<(Document, Option<Vec<u8>>), String> {
    let raw = store.kv_get(NAMESPACE, KEY, crate::clock::now_ms()).await.map_err(|e| format!("reading {NAMESPACE}: {e}"))?;
    let doc = match &raw {
        Some(bytes) => serde_json::from_slice(bytes).map_err(|e| format!("{NAMESPACE}/{KEY} is not readable: {e}"))?,
        None => Document::default(),
    };
    Ok((doc, raw))
}

/// Reads the document.
pub async fn read(store: &Arc<dyn Store>) -> Result<Document, String> {
    read_raw(store).await.map(|(doc, _)| doc)
}

/// Applies `change` to the current document and stores it with the next
/// version, unless another writer changed it meanwhile: then it is read again
/// and `change` applied to that (up to a few times). `change` refusing (an
/// id taken, jobs queued…) stores nothing.
pub async fn update(store: &Arc<dyn Store>, mut change: impl FnMut(&mut Document) -> Result<(), String>) -> Result<Document, String> {
    for _ in 0..8 {
        let (mut doc, raw) = read_raw(store).await?;
        change(&mut doc)?;
        doc.version += 1;
        let new = serde_json::to_vec(&doc).map_err(|e| e.to_string())?;
        let swapped = store
            .kv_write(NAMESPACE, KvWrite::Cas { key: KEY.into(), expected: raw, new: Some(new), expires_at_ms: None })
            .await
            .map_err(|e| format!("writing {NAMESPACE}: {e}"))?;
        if swapped == Some(true) {
            return Ok(doc);
        }
    }
    Err("the console's integrations kept changing under this save; try again".into())
}

impl Document {
    /// Every integration as the configuration has it, secrets opened with
    /// `keys`; one whose secrets cannot be opened is returned with the reason.
    pub fn open_all(&self, keys: Option<&Keyring>) -> (Vec<IntegrationConfig>, Vec<Excluded>) {
        let mut opened = Vec::new();
        let mut failed = Vec::new();
        for s in &self.integrations {
            match s.to_config(keys) {
                Ok(c) => opened.push(c),
                Err(reason) => failed.push(Excluded { id: s.id.clone(), reason }),
            }
        }
        (opened, failed)
    }
}

/// The effective configuration as a command sees it without a running host:
/// `file` with the console's accounts and integrations in `store` (secrets
/// opened with the master key of `file`'s `[connections]`, when there is
/// one). Those left out are logged.
pub async fn effective(file: &Config, store: &Arc<dyn Store>) -> Result<Config, String> {
    let doc = read(store).await?;
    let keys = Keyring::load(file.connections.key_file.as_deref()).ok();
    let merged = doc.merged(file, keys.as_ref());
    merged.warn();
    Ok(merged.config)
}

impl StoredIntegration {
    /// A new, disabled integration with nothing set up.
    pub fn new(id: &str, account: &str, plugin: &str, now_ms: i64) -> StoredIntegration {
        StoredIntegration {
            id: id.into(),
            account: account.into(),
            plugin: plugin.into(),
            enabled: false,
            numbers: Vec::new(),
            default_region: None,
            base_url: None,
            settings: BTreeMap::new(),
            secrets: BTreeMap::new(),
            connection: BTreeMap::new(),
            created_at_ms: now_ms,
            updated_at_ms: now_ms,
        }
    }

    /// As the configuration has it, secrets opened with `keys` (needed only
    /// when it has secrets).
    pub fn to_config(&self, keys: Option<&Keyring>) -> Result<IntegrationConfig, String> {
        let mut secrets = BTreeMap::new();
        for (name, sealed) in &self.secrets {
            let keys = keys.ok_or_else(|| {
                format!("{}.secrets.{name}: sealed, and this host has no master key to open it", crate::config::live::console_key(&self.id))
            })?;
            let plain = keys
                .open(&aad(&self.id, name), sealed)
                .map_err(|e| format!("{}.secrets.{name}: {e}", crate::config::live::console_key(&self.id)))?;
            secrets.insert(name.clone(), String::from_utf8(plain).map_err(|_| format!("secret {name} is not text"))?);
        }
        Ok(IntegrationConfig {
            id: self.id.clone(),
            account: self.account.clone(),
            plugin: self.plugin.clone(),
            enabled: self.enabled,
            numbers: self.numbers.iter().map(|n| NumberRef::Id(*n)).collect(),
            default_region: self.default_region.clone(),
            base_url: self.base_url.clone(),
            settings: self.settings.clone(),
            secrets,
            connection: self.connection.clone(),
            rate_limits: BTreeMap::new(),
            origin: Origin::Console,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn changes_raise_the_version_and_secrets_are_sealed_not_stored_in_clear() {
        let dir = tempfile::tempdir().unwrap();
        let config = crate::config::StoreConfig { path: dir.path().join("t.db"), ..Default::default() };
        let store = crate::store::open(&config).await.unwrap();
        let keys = Keyring::with_key("k1", [7; 32]);
        assert_eq!(read(&store).await.unwrap(), Document::default());
        let sealed = seal_secret(&keys, "hs", "token", "very-secret-value").unwrap();
        let doc = update(&store, |d| {
            let mut i = StoredIntegration::new("hs", "main", "helpscout", 1);
            i.settings.insert("mailboxes".into(), toml::Value::Table(toml::toml! { "2001" = 30411 }));
            i.secrets.insert("token".into(), sealed.clone());
            d.integrations.push(i);
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(doc.version, 1);
        let raw = store.kv_get(NAMESPACE, KEY, 0).await.unwrap().unwrap();
        assert!(!String::from_utf8_lossy(&raw).contains("very-secret-value"), "a secret is stored in clear");
        let back = read(&store).await.unwrap();
        let config = back.get("hs").unwrap().to_config(Some(&keys)).unwrap();
        assert_eq!(config.secrets["token"], "very-secret-value");
        assert_eq!(config.settings["mailboxes"], toml::Value::Table(toml::toml! { "2001" = 30411 }));
        assert!(back.get("hs").unwrap().to_config(None).unwrap_err().contains("no master key"));
        // A refused change stores nothing.
        assert!(update(&store, |_| Err("no".into())).await.is_err());
        assert_eq!(read(&store).await.unwrap().version, 1);
    }
}

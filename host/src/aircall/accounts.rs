//! The Aircall accounts of the effective configuration as the running host
//! uses them: one [`AircallClient`] per account (with the account's request
//! budget) and the digests of the accounts' webhook tokens. Rebuilt by
//! [`Accounts::update`] whenever the effective configuration changes (an
//! account added or deleted in the console); an account whose configuration
//! did not change keeps its client, so its budget and call cache carry on.

use super::client::AircallClient;
use crate::config::{AccountConfig, Config};
use crate::connections::Connections;
use crate::outbound::ratelimit::SharedBudgets;
use arc_swap::ArcSwap;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// One account's client and the configuration it was built from.
#[derive(Clone)]
struct Entry {
    /// What the client was built from: a changed one gets a new client.
    built_from: Fingerprint,
    client: Arc<AircallClient>,
}

/// The parts of an account that its client depends on.
#[derive(Clone, PartialEq)]
struct Fingerprint {
    oauth: bool,
    api_id: Option<String>,
    api_token: Option<String>,
    api_base: String,
    requests_per_minute: u32,
}

impl Fingerprint {
    fn of(a: &AccountConfig) -> Fingerprint {
        Fingerprint {
            oauth: a.oauth,
            api_id: a.api_id.clone(),
            api_token: a.api_token.clone(),
            api_base: a.api_base.clone(),
            requests_per_minute: a.api_requests_per_minute,
        }
    }
}

/// `(account id, sha256(webhook token))` of the accounts whose webhook token
/// is configured (the file's, or entered or created in the console).
pub type TokenDigests = Vec<(String, [u8; 32])>;

/// The live accounts.
pub struct Accounts {
    clients: ArcSwap<HashMap<String, Entry>>,
    tokens: ArcSwap<TokenDigests>,
    /// The store's budgets when several hosts share it.
    budgets: Option<Arc<dyn SharedBudgets>>,
    /// The host's connections, once open (OAuth accounts' tokens).
    connections: OnceLock<Arc<Connections>>,
}

impl Accounts {
    /// The accounts of `config`, their budgets kept in `budgets` when given.
    pub fn new(config: &Config, budgets: Option<Arc<dyn SharedBudgets>>) -> anyhow::Result<Accounts> {
        let accounts = Accounts {
            clients: ArcSwap::from_pointee(HashMap::new()),
            tokens: ArcSwap::from_pointee(Vec::new()),
            budgets,
            connections: OnceLock::new(),
        };
        accounts.update(config)?;
        Ok(accounts)
    }

    /// Gives the OAuth accounts' clients (now and later ones) the host's connections.
    pub fn use_connections(&self, connections: &Arc<Connections>) {
        let _ = self.connections.set(connections.clone());
        for e in self.clients.load().values() {
            e.client.use_connections(connections);
        }
    }

    /// Makes `config`'s accounts the live ones: new and changed accounts get
    /// a client, removed ones lose theirs (jobs holding it finish with it).
    pub fn update(&self, config: &Config) -> anyhow::Result<()> {
        let current = self.clients.load();
        let mut next = HashMap::new();
        for a in &config.accounts {
            let built_from = Fingerprint::of(a);
            let entry = match current.get(&a.id) {
                Some(e) if e.built_from == built_from => e.clone(),
                _ => Entry { built_from, client: Arc::new(self.client(a)?) },
            };
            next.insert(a.id.clone(), entry);
        }
        let tokens = config
            .accounts
            .iter()
            .filter(|a| !a.webhook_token.is_empty())
            .map(|a| (a.id.clone(), <[u8; 32]>::from(Sha256::digest(a.webhook_token.as_bytes()))))
            .collect();
        self.clients.store(Arc::new(next));
        self.tokens.store(Arc::new(tokens));
        Ok(())
    }

    fn client(&self, account: &AccountConfig) -> anyhow::Result<AircallClient> {
        let client = AircallClient::new(account)?;
        if let Some(b) = &self.budgets {
            client.share_budgets(b.clone());
        }
        if let Some(c) = self.connections.get() {
            client.use_connections(c);
        }
        Ok(client)
    }

    /// The client of `account`.
    pub fn get(&self, account: &str) -> Option<Arc<AircallClient>> {
        self.clients.load().get(account).map(|e| e.client.clone())
    }

    /// Every account's client, by account id.
    pub fn all(&self) -> HashMap<String, Arc<AircallClient>> {
        self.clients.load().iter().map(|(id, e)| (id.clone(), e.client.clone())).collect()
    }

    /// The digests of the configured webhook tokens.
    pub fn tokens(&self) -> Arc<TokenDigests> {
        self.tokens.load_full()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::path::Path;

    fn config(extra: &str) -> Config {
        let text = format!("[[accounts]]\nid = \"main\"\nwebhook_token = \"tok-123456\"\napi_token = \"t\"\n{extra}");
        Config::from_toml(&text, Path::new("t.toml"), Path::new("/"), &|_| None).unwrap()
    }

    #[test]
    fn an_unchanged_account_keeps_its_client_and_new_ones_get_one_with_their_token() {
        let accounts = Accounts::new(&config(""), None).unwrap();
        let main = accounts.get("main").unwrap();
        let two = "[[accounts]]\nid = \"two\"\nwebhook_token = \"tok-abcdef\"\n";
        accounts.update(&config(two)).unwrap();
        assert!(Arc::ptr_eq(&main, &accounts.get("main").unwrap()), "main's client (its budget) is kept");
        assert!(accounts.get("two").is_some());
        let ids: Vec<String> = accounts.tokens().iter().map(|(id, _)| id.clone()).collect();
        assert_eq!(ids, ["main", "two"]);
        accounts.update(&config("")).unwrap();
        assert!(accounts.get("two").is_none() && accounts.tokens().len() == 1, "a removed account is gone");
    }
}

//! Aircall accounts made in the console, as the store's document keeps them
//! ([`super::stored::Document::accounts`]): an id and either the host's
//! Aircall app (OAuth: the API token and the webhook come from the install)
//! or a static API key (`api_id` + `api_token`) with the token of the
//! account's webhook. The API token and the webhook token are sealed under
//! the connections' master key, bound to the account and the secret's name;
//! the document never holds one in clear.

use crate::config::live::console_account_key;
use crate::config::{AccountConfig, Origin};
use crate::connections::seal::{Keyring, Sealed};
use serde::{Deserialize, Serialize};

/// The sealed secret names of an account.
pub const API_TOKEN: &str = "api_token";
/// See [`API_TOKEN`].
pub const WEBHOOK_TOKEN: &str = "webhook_token";

/// One Aircall account made in the console.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAccount {
    /// Its id (not one of the file's).
    pub id: String,
    /// Connected by installing this host's Aircall app (`[oauth.aircall]`).
    #[serde(default)]
    pub oauth: bool,
    /// With `oauth`: the only Aircall company allowed to install it.
    #[serde(default)]
    pub company_id: Option<u64>,
    /// Static key: the API id.
    #[serde(default)]
    pub api_id: Option<String>,
    /// Static key: the API token, sealed.
    #[serde(default)]
    pub api_token: Option<Sealed>,
    /// Static key: the token Aircall puts in the account's webhooks, sealed.
    #[serde(default)]
    pub webhook_token: Option<Sealed>,
    /// Aircall's API root.
    pub api_base: String,
    /// When it was made (ms since the epoch).
    #[serde(default)]
    pub created_at_ms: i64,
}

/// Associated data of a sealed account secret: the account and the secret's name.
fn aad(id: &str, secret: &str) -> String {
    crate::connections::aad(&format!("console-account:{id}"), &format!("secret:{secret}"))
}

/// Seals `value` as secret `name` ([`API_TOKEN`], [`WEBHOOK_TOKEN`]) of account `id`.
pub fn seal(keys: &Keyring, id: &str, name: &str, value: &str) -> Result<Sealed, String> {
    keys.seal(&aad(id, name), value.as_bytes())
}

impl StoredAccount {
    /// As the configuration has it, secrets opened with `keys` (needed only
    /// when it has some).
    pub fn to_config(&self, keys: Option<&Keyring>) -> Result<AccountConfig, String> {
        let open = |name: &str, sealed: &Option<Sealed>| -> Result<Option<String>, String> {
            let Some(sealed) = sealed else { return Ok(None) };
            let key = console_account_key(&self.id);
            let keys = keys.ok_or_else(|| format!("{key}.{name}: sealed, and this host has no master key to open it"))?;
            let plain = keys.open(&aad(&self.id, name), sealed).map_err(|e| format!("{key}.{name}: {e}"))?;
            String::from_utf8(plain).map(Some).map_err(|_| format!("{key}.{name}: not text"))
        };
        Ok(AccountConfig {
            id: self.id.clone(),
            webhook_token: open(WEBHOOK_TOKEN, &self.webhook_token)?.unwrap_or_default(),
            oauth: self.oauth,
            company_id: self.company_id,
            api_id: self.api_id.clone(),
            api_token: open(API_TOKEN, &self.api_token)?,
            api_base: self.api_base.clone(),
            api_requests_per_minute: DEFAULT_REQUESTS_PER_MINUTE,
            origin: Origin::Console,
        })
    }
}

/// Aircall's per-company budget for a console account (what the file's
/// `api_requests_per_minute` defaults to).
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 60;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn secrets_open_only_with_the_key_and_only_for_their_account() {
        let keys = Keyring::with_key("k1", [9; 32]);
        let account = StoredAccount {
            id: "second".into(),
            oauth: false,
            company_id: None,
            api_id: Some("id-1".into()),
            api_token: Some(seal(&keys, "second", API_TOKEN, "api-secret").unwrap()),
            webhook_token: Some(seal(&keys, "second", WEBHOOK_TOKEN, "hook-token-123").unwrap()),
            api_base: "https://api.aircall.io".into(),
            created_at_ms: 1,
        };
        let c = account.to_config(Some(&keys)).unwrap();
        assert_eq!((c.api_token.as_deref(), c.webhook_token.as_str(), c.origin), (Some("api-secret"), "hook-token-123", Origin::Console));
        assert!(!serde_json::to_string(&account).unwrap().contains("api-secret"), "stored in clear");
        let err = account.to_config(None).unwrap_err();
        assert!(err.starts_with("console account \"second\".webhook_token: sealed"), "{err}");
        // A sealed value moved to another account does not open.
        let moved = StoredAccount { id: "third".into(), ..account };
        assert!(moved.to_config(Some(&keys)).unwrap_err().starts_with("console account \"third\"."));
    }
}

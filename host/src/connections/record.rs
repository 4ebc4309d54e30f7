//! A connection as stored: its state with a reason, a since-time and the fix in
//! words, its tokens sealed ([`super::seal`]), expiry and refresh bookkeeping.
//! Records live in the store's key-value table (namespace [`NAMESPACE`], which
//! no plugin can name) and change only by compare-and-swap, so hosts sharing a
//! database never overwrite each other's refresh.

use super::seal::Sealed;
use crate::store::{KvWrite, Store};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The key-value namespace of connection records (plugin namespaces are
/// integration ids, which cannot contain ':').
pub const NAMESPACE: &str = "host:connections";

/// Where a connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Never authorised (or the record is gone).
    NotConnected,
    /// Tokens work.
    Connected,
    /// A host is refreshing the token (until its lease ends).
    Refreshing,
    /// The vendor refused the refresh, or refreshing failed too often: an admin
    /// must connect again. Events are held, never dropped.
    NeedsReauth,
    /// Uninstalled or revoked: events are held until it is connected again.
    Revoked,
}

impl State {
    /// The name shown to admins.
    pub fn name(self) -> &'static str {
        match self {
            State::NotConnected => "not_connected",
            State::Connected => "connected",
            State::Refreshing => "refreshing",
            State::NeedsReauth => "needs_reauth",
            State::Revoked => "revoked",
        }
    }
}

/// One connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// `integration:ID` or `account:ID`.
    pub id: String,
    /// Provider name (`providers.toml`).
    pub provider: String,
    /// Where it stands.
    pub state: State,
    /// Why, in words (the vendor's `error_description` when it refused).
    pub reason: String,
    /// What fixes it, in words.
    pub fix: String,
    /// Since when (ms since epoch).
    pub since_ms: i64,
    /// The access token, sealed under the master key (bound to this connection's
    /// id); `None` until connected.
    pub access: Option<Sealed>,
    /// The refresh token, sealed the same way; `None` when the vendor issues none.
    pub refresh: Option<Sealed>,
    /// When the access token expires (ms since epoch); `None`: never.
    pub expires_at_ms: Option<i64>,
    /// Lifetime of the current access token in ms (for the refresh margin).
    pub lifetime_ms: Option<i64>,
    /// When tokens were last obtained.
    pub refreshed_at_ms: i64,
    /// Failed refreshes in a row.
    pub failures: u32,
    /// No refresh before this time (back-off after a failure).
    pub retry_at_ms: i64,
    /// A refresh holds the connection until then.
    pub lease_until_ms: i64,
    /// The Aircall webhook this connection created, and its token.
    pub webhook_id: Option<String>,
    /// Token Aircall puts in that webhook's events.
    pub webhook_token: Option<Sealed>,
    /// What the vendor said the account is (Aircall `company_id`, …).
    pub account: BTreeMap<String, String>,
}

impl Record {
    /// A record with no tokens.
    pub fn empty(id: &str, provider: &str, now_ms: i64) -> Record {
        Record {
            id: id.to_string(),
            provider: provider.to_string(),
            state: State::NotConnected,
            reason: "never connected".into(),
            fix: format!("connect it: switchboard connect {}", short_id(id)),
            since_ms: now_ms,
            access: None,
            refresh: None,
            expires_at_ms: None,
            lifetime_ms: None,
            refreshed_at_ms: 0,
            failures: 0,
            retry_at_ms: 0,
            lease_until_ms: 0,
            webhook_id: None,
            webhook_token: None,
            account: BTreeMap::new(),
        }
    }

    /// Move to `state` for `reason`, with `fix`.
    pub fn set_state(&mut self, state: State, reason: impl Into<String>, fix: impl Into<String>, now_ms: i64) {
        if self.state != state {
            self.since_ms = now_ms;
        }
        self.state = state;
        self.reason = reason.into();
        self.fix = fix.into();
    }
}

/// The id without its `integration:` / `account:` prefix, as typed on the CLI.
pub fn short_id(id: &str) -> &str {
    id.split_once(':').map_or(id, |(_, rest)| rest)
}

/// A record and the bytes it was read from (the compare-and-swap witness).
pub struct Versioned {
    /// The record as read (a not-connected record when the store held none).
    pub record: Record,
    /// What the store held (`None`: absent).
    pub raw: Option<Vec<u8>>,
}

/// Reads a record; absent is a not-connected record.
pub async fn read(store: &Arc<dyn Store>, id: &str, provider: &str, now_ms: i64) -> Result<Versioned, String> {
    let raw = store.kv_get(NAMESPACE, id, now_ms).await.map_err(|e| format!("reading connection {id}: {e}"))?;
    let record = match &raw {
        Some(bytes) => serde_json::from_slice(bytes).map_err(|e| format!("connection {id}: unreadable record: {e}"))?,
        None => Record::empty(id, provider, now_ms),
    };
    Ok(Versioned { record, raw })
}

/// Writes `record` if the store still holds `expected`. `Ok(false)`: someone
/// else wrote first; read again.
pub async fn write(store: &Arc<dyn Store>, expected: Option<Vec<u8>>, record: &Record) -> Result<bool, String> {
    let new = serde_json::to_vec(record).map_err(|e| e.to_string())?;
    let verdict = store
        .kv_write(NAMESPACE, KvWrite::Cas { key: record.id.clone(), expected, new: Some(new), expires_at_ms: None })
        .await
        .map_err(|e| format!("writing connection {}: {e}", record.id))?;
    Ok(verdict.unwrap_or(false))
}

/// Read-modify-write until it sticks: `change` sees the current record and
/// returns what to keep (or `None` to leave it).
pub async fn update(
    store: &Arc<dyn Store>,
    id: &str,
    provider: &str,
    now_ms: i64,
    mut change: impl FnMut(&mut Record) -> Option<()>,
) -> Result<Record, String> {
    for _ in 0..50 {
        let Versioned { mut record, raw } = read(store, id, provider, now_ms).await?;
        if change(&mut record).is_none() {
            return Ok(record);
        }
        if write(store, raw, &record).await? {
            return Ok(record);
        }
    }
    Err(format!("connection {id}: too many concurrent writers"))
}

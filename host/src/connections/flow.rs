//! The authorization-code flow's bookkeeping: single-use `state` values bound to
//! the admin's browser session, PKCE verifiers, and the start tickets the CLI
//! prints. All live in the store with a 10-minute expiry, so any host sharing
//! the store can take the callback, and nothing survives a replay: each is
//! consumed by compare-and-swap, exactly once.

use crate::store::{KvWrite, Store};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// How long a state or ticket stays valid.
pub const LIFETIME_MS: i64 = 10 * 60 * 1000;
/// Namespace of pending authorizations, keyed by the state's hash.
const STATES: &str = "host:oauth-states";
/// Namespace of start tickets, keyed by the ticket's hash.
const TICKETS: &str = "host:oauth-tickets";

/// A random URL-safe value with 256 bits of entropy.
pub fn random_token() -> String {
    B64URL.encode(rand::random::<[u8; 32]>())
}

/// Hex SHA-256: what is stored instead of the value itself.
pub fn digest(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// PKCE S256 challenge of a verifier.
pub fn challenge(verifier: &str) -> String {
    B64URL.encode(Sha256::digest(verifier.as_bytes()))
}

/// What a pending authorization remembers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    /// The connection being authorised.
    pub connection: String,
    /// Hash of the browser session that started it.
    pub session: String,
    /// PKCE verifier (random, single use; useless without the code).
    pub verifier: Option<String>,
    /// The redirect URI sent to authorize.
    pub redirect_uri: String,
}

/// Remembers a pending authorization under `state` (stored hashed).
pub async fn remember(store: &Arc<dyn Store>, state: &str, pending: &Pending, now_ms: i64) -> Result<(), String> {
    let value = serde_json::to_vec(pending).map_err(|e| e.to_string())?;
    store
        .kv_write(STATES, KvWrite::Set { key: digest(state), value, expires_at_ms: Some(now_ms + LIFETIME_MS) })
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Takes the pending authorization of `state` if it exists, has not expired
/// and was started by `session`; it is gone afterwards whatever the outcome,
/// so a state is never accepted twice.
pub async fn take(store: &Arc<dyn Store>, state: &str, session: Option<&str>, now_ms: i64) -> Result<Pending, String> {
    let key = digest(state);
    let raw = consume(store, STATES, &key, now_ms).await?.ok_or("unknown, used or expired state: start again")?;
    let pending: Pending = serde_json::from_slice(&raw).map_err(|_| "unreadable pending authorization".to_string())?;
    let same_session = session.is_some_and(|s| subtle::ConstantTimeEq::ct_eq(digest(s).as_bytes(), pending.session.as_bytes()).into());
    if !same_session {
        return Err("this authorization was started in another browser session: start again from the same browser".into());
    }
    Ok(pending)
}

/// Issues a start ticket for `connection` (what `switchboard connect` prints).
pub async fn issue_ticket(store: &Arc<dyn Store>, connection: &str, now_ms: i64) -> Result<String, String> {
    let ticket = random_token();
    store
        .kv_write(
            TICKETS,
            KvWrite::Set { key: digest(&ticket), value: connection.as_bytes().to_vec(), expires_at_ms: Some(now_ms + LIFETIME_MS) },
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(ticket)
}

/// Redeems a ticket once: the connection it was issued for.
pub async fn redeem_ticket(store: &Arc<dyn Store>, ticket: &str, now_ms: i64) -> Result<String, String> {
    let raw =
        consume(store, TICKETS, &digest(ticket), now_ms).await?.ok_or("unknown, used or expired link: run switchboard connect again")?;
    String::from_utf8(raw).map_err(|_| "unreadable ticket".to_string())
}

/// Removes `key` if present, returning what it held; two racing takers
/// cannot both get it (compare-and-swap on the value read).
async fn consume(store: &Arc<dyn Store>, namespace: &str, key: &str, now_ms: i64) -> Result<Option<Vec<u8>>, String> {
    let Some(raw) = store.kv_get(namespace, key, now_ms).await.map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let removed = store
        .kv_write(namespace, KvWrite::Cas { key: key.to_string(), expected: Some(raw.clone()), new: None, expires_at_ms: None })
        .await
        .map_err(|e| e.to_string())?;
    Ok(if removed == Some(true) { Some(raw) } else { None })
}

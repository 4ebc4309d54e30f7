//! A lease in the store's key-value space, so that of several hosts sharing
//! one database only one reconciles an account or runs a backfill at a time.
//! Taken and renewed by compare-and-swap; a host that dies lets it expire.

use crate::store::{KvWrite, Store};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The key-value namespace of the host's background work.
pub const NAMESPACE: &str = "host:reconcile";

#[derive(Serialize, Deserialize)]
struct Holder {
    owner: String,
    until_ms: i64,
}

/// This process's name in leases (random per start).
pub fn me() -> &'static str {
    static ME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ME.get_or_init(|| format!("{}-{:08x}", std::process::id(), rand::random::<u32>()))
}

/// Take or renew `key` for `ttl_ms`; `false` when another live host holds it.
pub async fn take(store: &Arc<dyn Store>, key: &str, ttl_ms: i64) -> Result<bool, String> {
    let now = crate::clock::now_ms();
    let current = store.kv_get(NAMESPACE, key, now).await.map_err(|e| e.to_string())?;
    if let Some(bytes) = &current {
        match serde_json::from_slice::<Holder>(bytes) {
            Ok(h) if h.owner != me() && h.until_ms > now => return Ok(false),
            Ok(_) => {}
            Err(e) => tracing::warn!(key, error = %e, "unreadable lease record: taking it over"),
        }
    }
    let new = serde_json::to_vec(&Holder { owner: me().to_string(), until_ms: now + ttl_ms }).map_err(|e| e.to_string())?;
    let write = KvWrite::Cas { key: key.to_string(), expected: current, new: Some(new), expires_at_ms: Some(now + ttl_ms) };
    Ok(store.kv_write(NAMESPACE, write).await.map_err(|e| e.to_string())? == Some(true))
}

/// Let `key` go if this process holds it.
pub async fn release(store: &Arc<dyn Store>, key: &str) {
    let now = crate::clock::now_ms();
    let Ok(Some(bytes)) = store.kv_get(NAMESPACE, key, now).await else { return };
    if serde_json::from_slice::<Holder>(&bytes).is_ok_and(|h| h.owner == me()) {
        let _ =
            store.kv_write(NAMESPACE, KvWrite::Cas { key: key.to_string(), expected: Some(bytes), new: None, expires_at_ms: None }).await;
    }
}

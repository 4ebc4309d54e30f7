//! The connector's storage, written behind: values with a lifetime are kept in
//! the instance (read-your-writes) and stored when the job ends.
//!
//! Why: the host journals each storage write with a fingerprint that includes
//! the absolute expiry (`now + ttl`, `host/src/capabilities/storage.rs`), so a
//! retried job never matches a write it made with a lifetime, and every effect
//! after that write runs again live — a conversation created before the
//! failure would be created twice. Deferring those writes until after the
//! job's Intercom writes keeps the journal replayable up to the failure point.
//! Writes without a lifetime (compare-and-swap claims, deletes) are
//! deterministic and go straight through.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::cell::RefCell;
use switchboard_sdk::{PluginError, storage};

/// A write waiting for the end of the job: key, JSON bytes, lifetime.
type Pending = (String, Vec<u8>, Option<u32>);

thread_local! {
    static PENDING: RefCell<Vec<Pending>> = const { RefCell::new(Vec::new()) };
}

fn encode<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<Vec<u8>, PluginError> {
    serde_json::to_vec(value).map_err(|e| PluginError::Permanent(format!("serialising {key}: {e}")))
}

/// Forgets writes a previous job left behind (a fresh instance has none; this is a safeguard).
pub fn begin() {
    PENDING.with(|p| p.borrow_mut().clear());
}

/// Reads a JSON value: this job's pending write first, then the store.
pub fn get<T: DeserializeOwned>(key: &str) -> Result<Option<T>, PluginError> {
    let pending = PENDING.with(|p| {
        p.borrow()
            .iter()
            .rev()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, _)| v.clone())
    });
    match pending {
        Some(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
        None => storage::get(key),
    }
}

/// Writes a JSON value with a lifetime, when the job ends.
pub fn set<T: Serialize + ?Sized>(
    key: &str,
    value: &T,
    ttl_seconds: Option<u32>,
) -> Result<(), PluginError> {
    let bytes = encode(key, value)?;
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        p.retain(|(k, _, _)| k != key);
        p.push((key.to_string(), bytes, ttl_seconds));
    });
    Ok(())
}

/// Removes a value now (and any pending write of it).
pub fn delete(key: &str) -> Result<(), PluginError> {
    PENDING.with(|p| p.borrow_mut().retain(|(k, _, _)| k != key));
    storage::delete(key)
}

/// Stores `value` now, without a lifetime, only if `key` is absent; answers whether it did.
/// The lifetime follows with the job's other writes when `ttl_seconds` is given.
pub fn claim<T: Serialize + ?Sized>(
    key: &str,
    value: &T,
    ttl_seconds: Option<u32>,
) -> Result<bool, PluginError> {
    let bytes = encode(key, value)?;
    let won = storage::compare_and_swap(key, None, Some(&bytes), None)?;
    if won && ttl_seconds.is_some() {
        set(key, value, ttl_seconds)?;
    }
    Ok(won)
}

/// A cached value: read it, or compute it and store it for `ttl_seconds`.
pub fn cached<T, F>(key: &str, ttl_seconds: u32, compute: F) -> Result<T, PluginError>
where
    T: Serialize + DeserializeOwned,
    F: FnOnce() -> Result<T, PluginError>,
{
    if let Some(v) = get::<T>(key)? {
        return Ok(v);
    }
    let v = compute()?;
    set(key, &v, Some(ttl_seconds))?;
    Ok(v)
}

/// Stores the pending writes (called once the job's Intercom writes are done,
/// whether they succeeded or not: what was learnt stays learnt).
pub fn flush() -> Result<(), PluginError> {
    let pending = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
    for (key, bytes, ttl) in pending {
        switchboard_sdk::bindings::switchboard::plugin::storage::set(&key, &bytes, ttl)?;
    }
    Ok(())
}

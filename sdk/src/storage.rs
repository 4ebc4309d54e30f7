//! Typed key-value storage, namespaced per integration, journaled with the job.

use crate::bindings::switchboard::plugin::storage as wit;
use crate::bindings::switchboard::plugin::types::PluginError;
use crate::error::CapabilityError;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Read a JSON value.
pub fn get<T: DeserializeOwned>(key: &str) -> Result<Option<T>, PluginError> {
    match wit::get(key)? {
        Some(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
        None => Ok(None),
    }
}

/// Write a JSON value, expiring after `ttl_seconds` when given.
pub fn set<T: Serialize + ?Sized>(key: &str, value: &T, ttl_seconds: Option<u32>) -> Result<(), PluginError> {
    let bytes = serde_json::to_vec(value).map_err(|e| PluginError::Permanent(format!("serialising {key}: {e}")))?;
    wit::set(key, &bytes, ttl_seconds).map_err(Into::into)
}

/// Remove a value.
pub fn delete(key: &str) -> Result<(), PluginError> {
    wit::delete(key).map_err(Into::into)
}

/// Raw bytes (for counters and flags).
pub fn get_raw(key: &str) -> Result<Option<Vec<u8>>, CapabilityError> {
    wit::get(key)
}

/// Compare-and-swap on raw bytes.
pub fn compare_and_swap(key: &str, expected: Option<&[u8]>, new: Option<&[u8]>, ttl_seconds: Option<u32>) -> Result<bool, CapabilityError> {
    wit::compare_and_swap(key, expected, new, ttl_seconds)
}

/// Stores a JSON value only if `key` is absent (compare-and-swap), expiring
/// after `ttl_seconds` when given; answers whether this call stored it. Two
/// jobs racing to create the same record use it to elect one.
pub fn claim<T: Serialize + ?Sized>(key: &str, value: &T, ttl_seconds: Option<u32>) -> Result<bool, PluginError> {
    let bytes = serde_json::to_vec(value).map_err(|e| PluginError::Permanent(format!("serialising {key}: {e}")))?;
    wit::compare_and_swap(key, None, Some(&bytes), ttl_seconds).map_err(Into::into)
}

/// A cached value: read it, or compute and store it for `ttl_seconds`.
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

//! Typed key-value storage, namespaced per integration, journaled with the job.
//!
//! A record that is there but does not decode as the type asked for is an
//! error ([`get`] answers `PluginError::Permanent` naming the key), never
//! "absent": for a plugin, absent usually means "not done yet" (an Intercom
//! call not yet logged), and acting on that would repeat a CRM write.

use crate::bindings::switchboard::plugin::storage as wit;
use crate::bindings::switchboard::plugin::types::PluginError;
use crate::error::CapabilityError;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Read a JSON value: `Ok(None)` when `key` is absent, an error when it holds
/// something that is not a `T` (see [`decode`]).
pub fn get<T: DeserializeOwned>(key: &str) -> Result<Option<T>, PluginError> {
    match wit::get(key)? {
        Some(bytes) => decode(key, &bytes).map(Some),
        None => Ok(None),
    }
}

/// Decode a stored record. A corrupt one is `PluginError::Permanent` naming
/// the key and the decoder's complaint: retrying would read the same bytes, and
/// the job's dead letter tells the operator which record to look at.
pub fn decode<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, PluginError> {
    serde_json::from_slice(bytes).map_err(|e| {
        PluginError::Permanent(format!(
            "storage record {key:?} is corrupt ({} bytes, not a {}): {e}",
            bytes.len(),
            std::any::type_name::<T>()
        ))
    })
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

/// A cached value: read it, or compute and store it for `ttl_seconds`. A
/// corrupt cached value is an error like in [`get`]; it is not recomputed
/// silently.
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Record {
        conversation_id: String,
    }

    #[test]
    fn a_record_decodes() {
        let r: Record = decode("call:1", br#"{"conversation_id":"c1"}"#).unwrap();
        assert_eq!(r, Record { conversation_id: "c1".into() });
    }

    #[test]
    fn a_corrupt_record_is_a_permanent_error_naming_the_key_not_absence() {
        for bytes in [&b"{\"conversation_id\":"[..], b"\"just a string\"", b"\xff\xfe"] {
            match decode::<Record>("call:1", bytes) {
                Err(PluginError::Permanent(m)) => {
                    assert!(m.contains("\"call:1\"") && m.contains("corrupt"), "{m}");
                }
                other => panic!("expected a permanent error, got {other:?}"),
            }
        }
    }
}

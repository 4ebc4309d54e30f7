//! `storage`: a key-value store namespaced per integration, journaled with the job.

use super::JobCaps;
use super::journal::{self, Done, Effect};
use crate::contract::bindings::CapabilityError;
use crate::store::KvWrite;

/// Longest key accepted.
const MAX_KEY: usize = 512;
/// Largest value accepted.
const MAX_VALUE: usize = 1024 * 1024;

fn check(key: &str, value: Option<&[u8]>) -> Result<(), CapabilityError> {
    if key.is_empty() || key.len() > MAX_KEY {
        return Err(CapabilityError::Invalid(format!("storage keys must be 1-{MAX_KEY} bytes")));
    }
    if value.is_some_and(|v| v.len() > MAX_VALUE) {
        return Err(CapabilityError::Invalid(format!("storage values are at most {MAX_VALUE} bytes")));
    }
    Ok(())
}

fn expiry(ttl: Option<u32>) -> Option<i64> {
    ttl.map(|s| crate::clock::now_ms() + i64::from(s) * 1000)
}

impl JobCaps {
    fn ambiguous_storage() -> CapabilityError {
        // Storage writes are atomic with their journal entry, so this cannot happen;
        // say so plainly if it ever does.
        CapabilityError::Unavailable("storage journal entry without outcome".into())
    }

    /// `storage.get`
    pub async fn storage_get(&mut self, key: String) -> Result<Option<Vec<u8>>, CapabilityError> {
        check(&key, None)?;
        let fp = journal::fingerprint("kv.get", &key);
        let read = self.shared.store.kv_get(&self.integration.id, &key, crate::clock::now_ms());
        let perform = async move {
            match read.await {
                Ok(value) => Done::Final(value),
                Err(e) => Done::NotDone(CapabilityError::Unavailable(e.to_string())),
            }
        };
        match self.journal.effect(&fp, false, perform).await {
            Effect::Final(value) => Ok(value),
            Effect::NotFinal(e) => Err(e),
            Effect::Ambiguous | Effect::IntentFailed(_) => Err(Self::ambiguous_storage()),
        }
    }

    /// Performs (or replays) a write. The fingerprint names the write as the
    /// plugin asked for it, with its lifetime `ttl` rather than the expiry
    /// that works out to now: otherwise a retried job's identical write
    /// would never match the journal, and everything after it would run live
    /// again (a second ticket after a 500).
    async fn storage_write(&mut self, kind: &str, kv: KvWrite, ttl: Option<u32>) -> Result<Option<bool>, CapabilityError> {
        let named = match &kv {
            KvWrite::Set { key, value, .. } => format!("{key:?} {value:?} ttl={ttl:?}"),
            KvWrite::Delete { key } => format!("{key:?}"),
            KvWrite::Cas { key, expected, new, .. } => format!("{key:?} {expected:?} {new:?} ttl={ttl:?}"),
        };
        let fp = journal::fingerprint(kind, &named);
        match self.journal.kv_effect(&fp, &self.shared.store, &self.integration.id, kv).await {
            Effect::Final(verdict) => Ok(verdict),
            Effect::NotFinal(e) | Effect::IntentFailed(e) => Err(CapabilityError::Unavailable(e)),
            Effect::Ambiguous => Err(Self::ambiguous_storage()),
        }
    }

    /// `storage.set`
    pub async fn storage_set(&mut self, key: String, value: Vec<u8>, ttl: Option<u32>) -> Result<(), CapabilityError> {
        check(&key, Some(&value))?;
        self.storage_write("kv.set", KvWrite::Set { key, value, expires_at_ms: expiry(ttl) }, ttl).await.map(|_| ())
    }

    /// `storage.delete`
    pub async fn storage_delete(&mut self, key: String) -> Result<(), CapabilityError> {
        check(&key, None)?;
        self.storage_write("kv.delete", KvWrite::Delete { key }, None).await.map(|_| ())
    }

    /// `storage.compare-and-swap`
    pub async fn storage_cas(
        &mut self,
        key: String,
        expected: Option<Vec<u8>>,
        new: Option<Vec<u8>>,
        ttl: Option<u32>,
    ) -> Result<bool, CapabilityError> {
        check(&key, new.as_deref())?;
        let verdict = self.storage_write("kv.cas", KvWrite::Cas { key, expected, new, expires_at_ms: expiry(ttl) }, ttl).await?;
        Ok(verdict.unwrap_or(false))
    }
}

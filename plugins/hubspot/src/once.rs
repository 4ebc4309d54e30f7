//! One execution per `callbackId`: HubSpot may deliver an execution again (a
//! retry after a timeout, or a replayed v2-signed request); the first claims
//! the callback id, later ones get the recorded answer instead of a second SMS.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchboard_sdk::{CapabilityError, storage};

/// How long an answer is kept ([U] reference §3.12: HubSpot is believed to retry for up to 3 days).
const KEEP_SECONDS: u32 = 7 * 86_400;
/// A claim older than this belongs to an attempt that died midway (requests run at most seconds).
const ABANDONED_AFTER_MS: i64 = 60_000;

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
enum Entry {
    Pending { at_ms: i64 },
    Done { output: Value },
}

/// What the claim found.
#[derive(Debug)]
pub enum Claim {
    /// This request runs the execution; `token` releases or completes it.
    Mine(Token),
    /// Already answered: send this again.
    Done(Value),
    /// Another attempt is running right now.
    Busy,
    /// An earlier attempt stopped midway; the SMS may have gone out.
    Abandoned,
}

/// The claim of one callback id.
#[derive(Debug)]
pub struct Token {
    key: String,
    pending: Vec<u8>,
}

fn key(callback_id: &str) -> String {
    format!("exec:{callback_id}")
}

/// A callback id usable as a storage key.
pub fn valid_callback_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 200 && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
}

/// Claim `callback_id` at `now_ms`.
pub fn claim(callback_id: &str, now_ms: i64) -> Result<Claim, CapabilityError> {
    let key = key(callback_id);
    let pending = serde_json::to_vec(&Entry::Pending { at_ms: now_ms }).unwrap_or_default();
    if storage::compare_and_swap(&key, None, Some(&pending), Some(KEEP_SECONDS))? {
        return Ok(Claim::Mine(Token { key, pending }));
    }
    let existing = storage::get_raw(&key)?.and_then(|b| serde_json::from_slice::<Entry>(&b).ok());
    Ok(match existing {
        Some(Entry::Done { output }) => Claim::Done(output),
        Some(Entry::Pending { at_ms }) if now_ms - at_ms < ABANDONED_AFTER_MS => Claim::Busy,
        // An unreadable entry is treated like a dead attempt: never risk a second SMS.
        Some(Entry::Pending { .. }) | None => Claim::Abandoned,
    })
}

impl Token {
    /// Record the answer.
    pub fn complete(self, output: &Value) -> Result<(), CapabilityError> {
        let done = serde_json::to_vec(&Entry::Done { output: output.clone() }).unwrap_or_default();
        storage::compare_and_swap(&self.key, Some(&self.pending), Some(&done), Some(KEEP_SECONDS)).map(|_| ())
    }

    /// Give the claim up (nothing was sent): a retry may run the execution.
    pub fn release(self) -> Result<(), CapabilityError> {
        storage::compare_and_swap(&self.key, Some(&self.pending), None, None).map(|_| ())
    }
}

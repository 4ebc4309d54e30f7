//! What the connector keeps in plugin storage (per integration): what it wrote
//! for each call, so late notes and tags find the ticket, and the callback
//! requests still waiting for the call back. Customer and user caches are
//! kept by [`crate::party`] and [`crate::directory`].

use serde::{Deserialize, Serialize};
use switchboard_sdk::{PluginError, storage};

/// How long what we wrote for a call is remembered (seconds): late notes and tags still find the ticket.
const LOG_TTL: u32 = 30 * 24 * 3600;
/// How long a callback request waits for the call back (seconds).
const CALLBACK_TTL: u32 = 14 * 24 * 3600;

/// What the connector wrote for one call.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CallRecord {
    /// The Gorgias ticket.
    pub ticket: u64,
    /// The Gorgias customer id the ticket was written for.
    pub customer: u64,
    /// Tags applied so far.
    pub tags: Vec<String>,
    /// Aircall comment ids already written.
    pub comments: Vec<u64>,
    /// The "ended" note was written.
    pub ended: bool,
    /// The voicemail was noted.
    pub voicemail: bool,
    /// The recording / voicemail was attached or linked on a comment note.
    pub media_written: bool,
    /// The customer asked for a callback on this call.
    pub callback_request: bool,
    /// This call was the callback.
    pub called_back: bool,
}

fn call_key(call_id: u64) -> String {
    format!("call:{call_id}")
}

fn callback_key(e164: &str) -> String {
    format!("callback:{e164}")
}

/// The record of a call, when it was logged.
pub fn load(call_id: u64) -> Result<Option<CallRecord>, PluginError> {
    storage::get::<CallRecord>(&call_key(call_id))
}

/// Store a call's record.
pub fn save(call_id: u64, record: &CallRecord) -> Result<(), PluginError> {
    storage::set(&call_key(call_id), record, Some(LOG_TTL))
}

/// The ticket of a callback request from this number still waiting for the call back.
pub fn pending_callback(e164: &str) -> Result<Option<u64>, PluginError> {
    storage::get::<u64>(&callback_key(e164))
}

/// Remember that this number asked for a callback, on this ticket.
pub fn remember_callback(e164: &str, ticket: u64) -> Result<(), PluginError> {
    storage::set(&callback_key(e164), &ticket, Some(CALLBACK_TTL))
}

/// The number was called back.
pub fn forget_callback(e164: &str) -> Result<(), PluginError> {
    storage::delete(&callback_key(e164))
}

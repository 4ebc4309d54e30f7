//! What the connector remembers about one call between its events (plugin
//! storage, per integration): the customer, the conversation, which threads
//! are written and which tags it owns. Every event of a call runs in order
//! (the host's ordering key is the call id), so a read-modify-write is safe.

use serde::{Deserialize, Serialize};
use switchboard_sdk::{PluginError, storage};

/// Kept for a week: AI content and late tags arrive within hours.
const TTL_SECONDS: u32 = 7 * 86_400;

/// The per-call record.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CallRecord {
    /// The matching rule said "log nothing" (several customers).
    pub skipped: bool,
    /// The Help Scout customer.
    pub customer: Option<u64>,
    /// The conversation the call is logged in.
    pub conversation: Option<u64>,
    /// The mailbox the call was logged into: the one the settings gave the
    /// call's Aircall number.
    pub mailbox: Option<u64>,
    /// The first (phone) thread is written.
    pub first_thread: bool,
    /// The wrap-up thread is written (`call.ended`).
    pub wrap_up: bool,
    /// Aircall tags synced so far (to remove the ones untagged later).
    pub user_tags: Vec<String>,
    /// The voicemail link was logged.
    pub voicemail_logged: bool,
    /// The recording link was logged.
    pub recording_logged: bool,
    /// An AI voice agent handled the call.
    pub voice_agent: bool,
    /// Voice-agent notes written, by event name.
    pub voice_agent_notes: Vec<String>,
    /// AI notes written, by intelligence kind.
    pub ai_notes: Vec<String>,
}

fn key(call_id: u64) -> String {
    format!("call:{call_id}")
}

impl CallRecord {
    /// The record of a call (empty when none).
    pub fn load(call_id: u64) -> Result<CallRecord, PluginError> {
        Ok(storage::get::<CallRecord>(&key(call_id))?.unwrap_or_default())
    }

    /// Store it.
    pub fn save(&self, call_id: u64) -> Result<(), PluginError> {
        storage::set(&key(call_id), self, Some(TTL_SECONDS))
    }
}

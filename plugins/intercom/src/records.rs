//! What the connector remembers between events of one call or message: the
//! conversation it was logged to (so notes, tags and assignments that come later
//! land there), the tags it synced, a Switch it sent, the last transfer event.

use crate::rules::TransferEvent;
use serde::{Deserialize, Serialize};
use switchboard_sdk::PluginError;
use switchboard_sdk::storage as store;

/// Comments, tags and assignments arrive hours or days after a call; a week is plenty.
const RECORD_TTL: u32 = 7 * 24 * 3600;

/// A call that was logged.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CallRecord {
    /// Intercom conversation.
    pub conversation_id: String,
    /// Intercom contact.
    pub contact_id: String,
    /// When the call ended (UNIX seconds), for the tag window.
    pub ended_at: Option<i64>,
    /// Tag names applied to the conversation by this connector.
    pub tags: Vec<String>,
}

/// A Switch sent during a call.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SwitchRecord {
    /// E.164 number texted.
    pub phone: String,
    /// The Messenger link, when Intercom returned it.
    pub url: Option<String>,
    /// The IVR option that triggered it.
    pub option: String,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

/// The last transfer event of a call (`call.transferred` or
/// `call.unsuccessful_transfer`), kept until the call is logged: Aircall's
/// `call.ended` payload still names the teammate of a failed transfer in
/// `transferred_to`, so only this record tells the two apart.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TransferRecord {
    /// Whether the last transfer went through.
    pub succeeded: bool,
}

fn call_key(call_id: u64) -> String {
    format!("call:{call_id}")
}

fn transfer_key(call_id: u64) -> String {
    format!("transfer:{call_id}")
}

fn switch_key(call_id: u64) -> String {
    format!("switch:{call_id}")
}

fn message_key(message_id: &str) -> String {
    format!("msg:{message_id}")
}

/// The record of a logged call.
pub fn call(call_id: u64) -> Result<Option<CallRecord>, PluginError> {
    store::get(&call_key(call_id))
}

/// Saves the record of a logged call.
pub fn save_call(call_id: u64, record: &CallRecord) -> Result<(), PluginError> {
    store::set(&call_key(call_id), record, Some(RECORD_TTL))
}

/// The last transfer event seen for a call, if any.
pub fn transfer_event(call_id: u64) -> Result<Option<TransferEvent>, PluginError> {
    let record: Option<TransferRecord> = store::get(&transfer_key(call_id))?;
    Ok(record.map(|r| if r.succeeded { TransferEvent::Succeeded } else { TransferEvent::Failed }))
}

/// Remembers the last transfer event of a call.
pub fn save_transfer_event(call_id: u64, event: TransferEvent) -> Result<(), PluginError> {
    let record = TransferRecord { succeeded: event == TransferEvent::Succeeded };
    store::set(&transfer_key(call_id), &record, Some(RECORD_TTL))
}

/// The Switch sent during a call.
pub fn switch(call_id: u64) -> Result<Option<SwitchRecord>, PluginError> {
    store::get(&switch_key(call_id))
}

/// Saves the Switch sent during a call.
pub fn save_switch(call_id: u64, record: &SwitchRecord) -> Result<(), PluginError> {
    store::set(&switch_key(call_id), record, Some(RECORD_TTL))
}

/// The conversation an SMS was logged to.
pub fn message(message_id: &str) -> Result<Option<String>, PluginError> {
    store::get(&message_key(message_id))
}

/// Saves the conversation an SMS was logged to.
pub fn save_message(message_id: &str, conversation_id: &str) -> Result<(), PluginError> {
    store::set(&message_key(message_id), &conversation_id, Some(RECORD_TTL))
}

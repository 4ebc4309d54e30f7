//! What the connector keeps in plugin storage besides its caches: the
//! *thread* of each workflow SMS (the record it came from, per Aircall number
//! and recipient, so replies land there) and the backlog of communications
//! HubSpot could not take when their SMS went out. Executions are recorded by
//! [`crate::once`], the sending counters by [`crate::limits`].

use crate::api;
use crate::settings::Settings;
use serde::{Deserialize, Serialize};
use switchboard_sdk::{PluginError, storage};

/// The record a workflow SMS came from, remembered for the replies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thread {
    /// Workflow object type (`DEAL`, …).
    pub object_type: String,
    /// The enrolled record's id (the execution request's `object.objectId`).
    pub object_id: String,
    /// The contacts the SMS was associated with.
    pub contact_ids: Vec<String>,
    /// The owner shown as the SMS's author.
    pub owner_id: Option<String>,
}

impl Thread {
    fn key(number_id: u64, e164: &str) -> String {
        format!("thread:{number_id}:{e164}")
    }

    /// The thread of a number and a customer, if a workflow SMS started one recently.
    pub fn find(number_id: u64, e164: &str) -> Result<Option<Thread>, PluginError> {
        storage::get(&Self::key(number_id, e164))
    }

    /// Remember (or refresh) the thread.
    pub fn save(&self, settings: &Settings, number_id: u64, e164: &str) -> Result<(), PluginError> {
        storage::set(&Self::key(number_id, e164), self, Some(settings.reply_window_seconds))
    }

    /// `(id, association type)` of the record and contacts, deduplicated.
    pub fn associations(&self) -> Vec<(String, u32)> {
        let mut out = Vec::new();
        if let Some(t) = api::communication_association(&self.object_type) {
            out.push((self.object_id.clone(), t));
        }
        for c in &self.contact_ids {
            if !out.iter().any(|(id, t)| id == c && *t == 81) {
                out.push((c.clone(), 81));
            }
        }
        out
    }
}

/// A communication that could not be logged when its SMS was sent (HubSpot
/// down or over its budget), kept to be logged by a later event job, which the
/// host retries and paces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// Where it goes.
    pub thread: Thread,
    /// `SMS` or `WHATS_APP`.
    pub channel: String,
    /// The communication's `hs_communication_body`: the line, recipient and sender
    /// of the workflow SMS, then its text.
    pub body: String,
    /// When the SMS was sent.
    pub timestamp_ms: i64,
}

/// Storage key of the backlog.
const BACKLOG: &str = "backlog:communications";
/// At most this many waiting communications are kept (the oldest are dropped, with a log line).
const BACKLOG_MAX: usize = 1000;
/// How long the backlog is kept without any event to flush it.
const BACKLOG_SECONDS: u32 = 7 * 86_400;

fn update_backlog(f: impl Fn(&mut Vec<Pending>)) -> Result<Vec<Pending>, PluginError> {
    for _ in 0..32 {
        let old = storage::get_raw(BACKLOG)?;
        let mut items: Vec<Pending> = old.as_deref().and_then(|b| serde_json::from_slice(b).ok()).unwrap_or_default();
        f(&mut items);
        let new = serde_json::to_vec(&items).map_err(|e| PluginError::Permanent(format!("backlog: {e}")))?;
        let new = (!items.is_empty()).then_some(new.as_slice());
        if storage::compare_and_swap(BACKLOG, old.as_deref(), new, Some(BACKLOG_SECONDS))? {
            return Ok(items);
        }
    }
    Err(PluginError::Retryable("the communication backlog is contended".into()))
}

/// Keep a communication for later.
pub fn defer(item: Pending) -> Result<(), PluginError> {
    update_backlog(|items| {
        items.push(item.clone());
        if items.len() > BACKLOG_MAX {
            let dropped = items.len() - BACKLOG_MAX;
            items.drain(..dropped);
            switchboard_sdk::log::warn(&format!("communication backlog full: {dropped} oldest dropped"));
        }
    })
    .map(|_| ())
}

/// The communications waiting to be logged, oldest first.
pub fn backlog() -> Result<Vec<Pending>, PluginError> {
    Ok(storage::get(BACKLOG)?.unwrap_or_default())
}

/// Drop the communications that are logged (or refused for good) from the backlog.
pub fn settle(settled: &[Pending]) -> Result<(), PluginError> {
    update_backlog(|now| now.retain(|p| !settled.contains(p))).map(|_| ())
}

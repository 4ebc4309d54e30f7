//! The record an SMS is logged on (seed: "Jede über einen HubSpot-Workflow
//! gesendete SMS wird automatisch als Engagement im entsprechenden
//! HubSpot-Datensatz protokolliert"; replies "ebenfalls … im entsprechenden
//! Datensatz"): an SMS communication associated with the enrolled record and
//! its contacts. The *thread* remembered per (Aircall number, recipient)
//! ([`records::Thread`]) makes the recipient's replies land on the same
//! record; communications HubSpot could not take are kept
//! ([`records::defer`]) and logged by a later event job ([`flush`]).

use crate::api::{Communication, HubSpot};
use crate::records::{self, Pending, Thread};
use crate::settings::Settings;
use switchboard_sdk::PluginError;

/// Log one message on the thread's record and contacts; returns the communication id.
pub fn log(settings: &Settings, thread: &Thread, channel: &'static str, body: String, timestamp_ms: i64) -> Result<String, PluginError> {
    let communication =
        Communication { channel, body, timestamp_ms, owner_id: thread.owner_id.clone(), associations: thread.associations() };
    HubSpot::new(&settings.base_url).create_communication(&communication)
}

/// Log what the backlog holds, oldest first. A transient failure stops the
/// flush and is returned, so the event job is retried later; an item HubSpot
/// refuses for good (its record was deleted…) is dropped with a log line.
pub fn flush(settings: &Settings) -> Result<usize, PluginError> {
    let items: Vec<Pending> = records::backlog()?;
    let mut settled = Vec::new();
    let mut outcome = Ok(());
    for item in &items {
        let channel = if item.channel == "WHATS_APP" { "WHATS_APP" } else { "SMS" };
        match log(settings, &item.thread, channel, item.body.clone(), item.timestamp_ms) {
            Ok(_) => settled.push(item.clone()),
            Err(PluginError::Permanent(why)) => {
                switchboard_sdk::log::warn(&format!("deferred communication dropped: {why}"));
                settled.push(item.clone());
            }
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    if !settled.is_empty() {
        records::settle(&settled)?;
    }
    outcome.map(|()| settled.len())
}

//! The notes API: its requests and JSON, nothing else (the vendor module of
//! this connector; a bigger API splits it into `api/notes.rs`, `api/people.rs`…).

use serde::{Deserialize, Serialize};
use switchboard_sdk::{PluginError, http, once};

/// A note about one event.
#[derive(Debug, Serialize, Deserialize)]
pub struct Note {
    /// Idempotency handle: the host's event id.
    pub external_id: String,
    /// Aircall event name.
    pub event: String,
    /// `call:{id}` or `message:{id}`.
    pub subject: String,
    /// The other party in E.164.
    pub number: String,
    /// Which attempt wrote it.
    pub attempt: u32,
}

#[derive(Deserialize)]
struct Found {
    #[serde(default)]
    notes: Vec<serde_json::Value>,
}

/// Create the note unless it exists. A plain retry never re-sends a request that
/// succeeded (the host replays it); when a create's answer was lost (a crash,
/// a dropped connection) the host says the write is ambiguous, and
/// [`once::write_once`] looks for the note before writing it again.
pub fn create_once(base: &str, note: &Note) -> Result<(), PluginError> {
    let created = once::write_once(
        || Ok(http::post(&format!("{base}/notes")).credential("api").json(note)?.send()),
        || {
            let found: Found = http::get(&format!("{base}/notes?external_id={}", note.external_id))
                .credential("api")
                .send()?
                .error_for_status()?
                .json()?;
            Ok(!found.notes.is_empty())
        },
    )?;
    if let Some(resp) = created {
        resp.error_for_status()?;
    }
    Ok(())
}

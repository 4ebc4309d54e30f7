//! Conversation-intelligence results (seed: "Für KI-Abonnenten erscheinen
//! kurz danach KI-Erkenntnisse und, falls aktiviert, Anruftranskriptionen"):
//! a note in the call's conversation per result — transcriptions when
//! `transcriptions` is on, summaries / topics / sentiments / action items when
//! `ai_insights` is on.

use crate::ai_text;
use crate::api::Client;
use crate::api::conversations::{NewThread, ThreadKind};
use crate::call_text::marker;
use crate::conversation::{self, Entry, Place};
use crate::directory;
use crate::records::CallRecord;
use crate::rules::{self, Purpose};
use crate::settings::Settings;
use switchboard_sdk::Intelligence;
use switchboard_sdk::html::escape;
use switchboard_sdk::{PluginError, log};

/// Handle one intelligence event.
pub fn handle(client: &Client, settings: &Settings, i: &Intelligence) -> Result<(), PluginError> {
    let Some(title) = rules::ai_note_title(settings, &i.kind) else {
        return Ok(());
    };
    let Some(call_id) = i.call_id else {
        return Ok(());
    };
    let mut state = CallRecord::load(call_id)?;
    let (Some(conversation), Some(customer), Some(mailbox)) = (state.conversation, state.customer, state.mailbox) else {
        log::with(
            log::Level::Info,
            "AI result for a call that is not logged; ignored",
            &[("call", &call_id.to_string()), ("kind", &i.kind)],
        );
        return Ok(());
    };
    let id = format!("{}:{}", i.kind, i.id.as_deref().unwrap_or(""));
    if state.skipped || state.ai_notes.contains(&id) {
        return Ok(());
    }
    let stage = i.kind.trim_end_matches(".created").to_string();
    let m = marker(call_id, &stage);
    let voicemail = if i.call_type.as_deref() == Some("voicemail") { " (voicemail)" } else { "" };
    let text = format!("<b>{title}{voicemail}</b>{}<br><small>{}</small>", ai_text::render(&i.content_json), escape(&m));
    let author = directory::admin(client, settings)?;
    let entry = Entry {
        thread: NewThread { kind: ThreadKind::Note, text, customer, user: author, attachments: Vec::new() },
        marker: m,
        tags: Vec::new(),
        assign: None,
    };
    let place = Place { mailbox, customer, subject: "Call".into(), purpose: Purpose::Call };
    state.conversation = Some(conversation::append(client, conversation, &place, &entry)?);
    state.ai_notes.push(id);
    state.save(call_id)
}

//! Conversation-intelligence results (seed: "Für KI-Abonnenten erscheinen
//! kurz danach KI-Erkenntnisse und, falls aktiviert, Anruftranskriptionen"):
//! a note in the call's conversation per result — transcriptions when
//! `transcriptions` is on, summaries / topics / sentiments / action items when
//! `ai_insights` is on.

use crate::agents;
use crate::ai_text;
use crate::api::Client;
use crate::api::conversations::{NewThread, ThreadKind};
use crate::call_state::CallState;
use crate::call_text::marker;
use crate::logbook::{self, Entry, Place, Purpose};
use crate::settings::Settings;
use switchboard_sdk::Intelligence;
use switchboard_sdk::html::escape;
use switchboard_sdk::{PluginError, log};

/// The note title for a result kind, when the settings want it.
fn title(settings: &Settings, kind: &str) -> Option<&'static str> {
    let insight = |t| settings.ai_insights.then_some(t);
    match kind {
        "transcription.created" => settings.transcriptions.then_some("Call transcription"),
        "summary.created" | "custom_summary.result_created" => insight("AI summary"),
        "topics.created" => insight("AI topics"),
        "sentiment.created" => insight("AI sentiment"),
        "action_item.created" => insight("AI action items"),
        _ => None,
    }
}

/// Handle one intelligence event.
pub fn handle(client: &Client, settings: &Settings, i: &Intelligence) -> Result<(), PluginError> {
    let Some(title) = title(settings, &i.kind) else {
        return Ok(());
    };
    let Some(call_id) = i.call_id else {
        return Ok(());
    };
    let mut state = CallState::load(call_id)?;
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
    let author = agents::admin(client, settings)?;
    let entry = Entry {
        thread: NewThread { kind: ThreadKind::Note, text, customer, user: author, attachments: Vec::new() },
        marker: m,
        tags: Vec::new(),
        assign: None,
    };
    let place = Place { mailbox, customer, subject: "Call".into(), purpose: Purpose::Call };
    state.conversation = Some(logbook::append(client, conversation, &place, &entry)?);
    state.ai_notes.push(id);
    state.save(call_id)
}

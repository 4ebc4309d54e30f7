//! AI Voice Agent calls (seed: "Unterstützung für Aircall Voice Agent"): a
//! "Voice Virtual Agent" tag on the conversation, a note with the escalation
//! reason, a note with the answers to the intake questions, and (with AI
//! insights on) the agent's summary. The call's conversation is shared with
//! the call events (same per-call state; the host orders them by call id).

use crate::ai_text;
use crate::api::Client;
use crate::api::conversations::{NewThread, ThreadKind};
use crate::call_text::marker;
use crate::conversation::{self, Entry, Place};
use crate::directory;
use crate::party::{self, Party, Resolved};
use crate::records::CallRecord;
use crate::rules::{self, Purpose};
use crate::settings::{Settings, digits_only};
use switchboard_sdk::html::{escape, paragraphs};
use switchboard_sdk::{PluginError, log, phone, telephony};
use switchboard_sdk::{VoiceAgentEventKind, VoiceAgentSession};

/// The mailbox of the session's Aircall number.
fn mailbox(settings: &Settings, s: &VoiceAgentSession) -> Option<u64> {
    s.number_id
        .and_then(|id| settings.mailbox_for_id(id))
        .or_else(|| s.aircall_number.as_deref().map(digits_only).and_then(|d| settings.mailboxes.get(&d).copied()))
}

/// Handle one voice-agent event.
pub fn handle(
    client: &Client,
    settings: &Settings,
    now: i64,
    default_region: Option<&str>,
    kind: VoiceAgentEventKind,
    s: &VoiceAgentSession,
) -> Result<(), PluginError> {
    let Some(mailbox) = mailbox(settings, s) else {
        log::debug("voice-agent event on a number without a mailbox");
        return Ok(());
    };
    let mut state = CallRecord::load(s.call_id)?;
    if state.skipped {
        return Ok(());
    }
    let region = s.aircall_number.as_deref().and_then(|n| match phone::normalize(n, default_region) {
        Ok(phone::Normalized::Number(e)) => phone::region_of(&e),
        _ => None,
    });
    let party = Party::new(s.external_caller_number.as_deref().unwrap_or(""), region.as_deref().or(default_region), None);
    let agent_name = s.agent_name.as_deref().map(str::trim).filter(|n| !n.is_empty()).unwrap_or("AI Voice Agent");
    let admin = directory::admin(client, settings)?;

    // The conversation: the call's, or a new one with the voice agent's phone thread.
    let customer = match state.customer {
        Some(c) => c,
        None => match party::find_or_create(client, settings, &party, now, "call")? {
            Resolved::Customer(id, _) => id,
            Resolved::LogNothing => {
                state.skipped = true;
                return state.save(s.call_id);
            }
        },
    };
    state.customer = Some(customer);
    let place = Place { mailbox, customer, subject: format!("Call from {}", party.display), purpose: Purpose::Call };
    let mut base_tags = vec![rules::VOICE_AGENT.to_string(), rules::INBOUND.to_string()];
    if let Some(name) = s.number_id.and_then(|id| telephony::get_number(id).ok()).map(|n| n.name).filter(|n| !n.trim().is_empty()) {
        base_tags.push(name);
    }
    let conversation = match state.conversation {
        Some(c) => {
            if !state.voice_agent {
                conversation::update_tags(client, c, None, &base_tags, &[])?;
            }
            c
        }
        None => {
            let entry = Entry {
                thread: NewThread {
                    kind: ThreadKind::Phone,
                    text: format!(
                        "<b>Inbound call from {} handled by the voice agent {}</b><br><small>{}</small>",
                        escape(&party.display),
                        escape(agent_name),
                        escape(&marker(s.call_id, "voice agent"))
                    ),
                    customer,
                    user: admin,
                    attachments: Vec::new(),
                },
                marker: marker(s.call_id, "voice agent"),
                tags: base_tags,
                assign: None,
            };
            conversation::log(client, settings, now, &place, &entry)?
        }
    };
    state.conversation = Some(conversation);
    state.mailbox = Some(mailbox);
    state.voice_agent = true;

    let note = match kind {
        VoiceAgentEventKind::Escalated => {
            let reason = s.escalation_reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).unwrap_or("not given");
            let mut text = format!("<b>{} escalated the call to a human agent</b><br>Reason: {}", escape(agent_name), paragraphs(reason));
            if let Some(answers) = s.extracted_data_json.as_deref().filter(|j| !j.trim().is_empty() && j.trim() != "null") {
                text.push_str(&format!("<br>Intake answers:{}", ai_text::render(answers)));
            }
            Some(("escalated", text))
        }
        VoiceAgentEventKind::Summary => s
            .extracted_data_json
            .as_deref()
            .filter(|j| !j.trim().is_empty() && j.trim() != "null")
            .map(|answers| ("summary", format!("<b>Voice agent intake answers</b>{}", ai_text::render(answers)))),
        VoiceAgentEventKind::Ended => {
            let reason = s.end_reason.as_deref().unwrap_or("").replace('_', " ");
            (!reason.trim().is_empty()).then(|| ("ended", format!("<b>Voice agent session ended</b>: {}", escape(&reason))))
        }
        VoiceAgentEventKind::Started => None,
    };
    if let Some((stage, text)) = note
        && !state.voice_agent_notes.iter().any(|n| n == stage)
    {
        let stage_marker = marker(s.call_id, &format!("voice agent {stage}"));
        let entry = Entry {
            thread: NewThread {
                kind: ThreadKind::Note,
                text: format!("{text}<br><small>{}</small>", escape(&stage_marker)),
                customer,
                user: admin,
                attachments: Vec::new(),
            },
            marker: stage_marker,
            tags: Vec::new(),
            assign: None,
        };
        state.conversation = Some(conversation::append(client, conversation, &place, &entry)?);
        state.voice_agent_notes.push(stage.to_string());
    }
    state.save(s.call_id)
}

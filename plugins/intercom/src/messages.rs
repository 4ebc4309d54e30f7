//! SMS (and MMS / WhatsApp) logging: "[Inbound | Outbound] SMS on [number]"
//! from the contact, then a note with the line, sender, recipient and text; for
//! outbound messages the delivery status follows in a note once Aircall knows it.

use crate::calls;
use crate::conversation::{self, Entry, Target};
use crate::job::Job;
use crate::party::Caller;
use crate::records;
use crate::rules;
use crate::settings::SmsTarget;
use crate::text;
use switchboard_sdk::{Channel, Direction, Message, MessageEventKind, PluginError, log, telephony};

/// Handles a message event.
pub fn handle(job: &Job, kind: MessageEventKind, msg: &Message) -> Result<(), PluginError> {
    match kind {
        MessageEventKind::Sent | MessageEventKind::Received => log_message(job, msg),
        MessageEventKind::StatusUpdated => status_updated(job, msg),
    }
}

/// `delivered` → "Delivered", `failed` / `undelivered` → "Delivery failed"; other
/// states are not final.
pub fn final_status(status: Option<&str>) -> Option<&'static str> {
    match status?.trim().to_ascii_lowercase().as_str() {
        "delivered" | "read" => Some("Delivered"),
        "failed" | "undelivered" | "error" | "rejected" => Some("Delivery failed"),
        _ => None,
    }
}

fn what(msg: &Message) -> &'static str {
    match msg.channel {
        Channel::Sms if msg.media.is_empty() => "SMS",
        Channel::Sms => "MMS",
        Channel::Whatsapp => "WhatsApp message",
    }
}

fn log_message(job: &Job, msg: &Message) -> Result<(), PluginError> {
    if records::message(&msg.id)?.is_some() {
        log::with(log::Level::Info, "message already logged", &[("message", &msg.id)]);
        return Ok(());
    }
    let Some(caller) = Caller::parse(&msg.external_number, job.region(msg.number.as_ref())) else {
        return Ok(());
    };
    let Some(contact) = calls::contact_for(job, &caller, "message")? else {
        return Ok(());
    };
    let setup = job.setup_admin()?;
    let assign = match msg.direction {
        Direction::Inbound => {
            let users = match &msg.number {
                Some(n) => telephony::number_users(n.id)?,
                None => Vec::new(),
            };
            let only = if users.len() == 1 { job.admin_for(users.first().and_then(|u| u.email.as_deref()))? } else { None };
            rules::assign_sms(Direction::Inbound, users.len(), only, &setup)
        }
        Direction::Outbound => {
            let sender = job.admin_for(msg.user.as_ref().and_then(|u| u.email.as_deref()))?;
            rules::assign_sms(Direction::Outbound, 0, sender, &setup)
        }
    };
    let number_name = msg.number.as_ref().map(|n| n.name.trim().to_string()).filter(|n| !n.is_empty()).unwrap_or_else(|| "Aircall".into());
    let direction = if msg.direction == Direction::Inbound { "Inbound" } else { "Outbound" };
    let line = text::line(msg.number.as_ref().map(|n| n.name.as_str()), msg.number.as_ref().map(|n| n.digits.as_str()));
    let customer = match contact.name.as_deref() {
        Some(name) if !contact.created_here => format!("{name} ({})", caller.display()),
        _ => caller.display(),
    };
    let agent = msg.user.as_ref().map(|u| u.name.trim().to_string()).filter(|n| !n.is_empty());
    let (from, to) = match msg.direction {
        Direction::Inbound => (customer, line.clone()),
        Direction::Outbound => (agent.map(|a| format!("{a} via {line}")).unwrap_or_else(|| line.clone()), customer),
    };
    let mut lines =
        vec![("Aircall number", text::esc(&line)), ("From", text::esc(&from)), ("To", text::esc(&to)), ("Message", text::esc(&msg.body))];
    let media: Vec<String> = msg.media.iter().map(|m| text::link(&m.url, m.file_name.as_deref().unwrap_or(&m.url))).collect();
    if !media.is_empty() {
        lines.push(("Attachments", media.join(", ")));
    }
    if msg.direction == Direction::Outbound
        && let Some(status) = final_status(msg.status.as_deref())
    {
        lines.push(("Status", status.into()));
    }
    let target = match job.settings.sms_target {
        SmsTarget::LastOpenConversation => Target::OpenOrNew,
        SmsTarget::NewConversation => Target::New,
    };
    let entry = Entry {
        headline: format!("{direction} {} on {number_name}", what(msg)),
        notes: vec![text::note(&format!("{direction} {} — Aircall details", what(msg)), &lines)],
        assign,
        target,
        setup_admin: &setup,
    };
    let conversation_id = conversation::write(&job.client, &caller, &contact, job.settings.create_contacts, &entry)?;
    records::save_message(&msg.id, &conversation_id)
}

fn status_updated(job: &Job, msg: &Message) -> Result<(), PluginError> {
    if msg.direction != Direction::Outbound {
        return Ok(());
    }
    let Some(status) = final_status(msg.status.as_deref()) else {
        return Ok(());
    };
    let Some(conversation_id) = records::message(&msg.id)? else {
        log::with(log::Level::Info, "status of a message that was not logged", &[("message", &msg.id), ("status", status)]);
        return Ok(());
    };
    let note = text::note(&format!("{} status", what(msg)), &[("Status", status.into()), ("Message", text::esc(&msg.body))]);
    conversation::add_notes(&job.client, &conversation_id, &job.setup_admin()?, &[note])
}

#[cfg(test)]
mod tests {
    use super::final_status;

    #[test]
    fn only_final_statuses_are_reported() {
        assert_eq!(final_status(Some("delivered")), Some("Delivered"));
        assert_eq!(final_status(Some("FAILED")), Some("Delivery failed"));
        assert_eq!(final_status(Some("sent")), None);
        assert_eq!(final_status(None), None);
    }
}

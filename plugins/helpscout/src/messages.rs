//! SMS, MMS and WhatsApp (seed: "SMS- und WhatsApp-Protokollierung"): match
//! the customer or create one; add the message to the open conversation, or
//! reopen the most recent closed one when configured (messages are never
//! forced into new conversations); move the assignee to the Aircall user when
//! configured; the thread is attributed to that user, else an administrator.
//! SMS / MMS threads carry the text and the attachments; WhatsApp threads the
//! message type and template information.

use crate::api::Client;
use crate::api::conversations::{NewThread, ThreadKind};
use crate::conversation::{self, Entry, Place};
use crate::directory;
use crate::party::{self, Party, Resolved};
use crate::rules::{self, Purpose};
use crate::settings::Settings;
use base64::Engine as _;
use serde_json::{Value, json};
use switchboard_sdk::Media;
use switchboard_sdk::html::{escape, link, paragraphs};
use switchboard_sdk::{CapabilityError, Channel, Direction, Message, MessageEventKind, PluginError, http, log, storage};

/// Largest attachment copied into Help Scout (its limit is 10 MB per file [U]).
const MAX_ATTACHMENT: usize = 10 * 1024 * 1024;

/// Logged messages are remembered this long (ids of `message.sent` / `received`).
const SEEN_TTL: u32 = 7 * 86_400;

fn channel_name(m: &Message) -> &'static str {
    match m.channel {
        Channel::Whatsapp => "WhatsApp",
        Channel::Sms if m.media.is_empty() => "SMS",
        Channel::Sms => "MMS",
    }
}

/// The marker of a message thread.
fn marker(m: &Message) -> String {
    format!("Aircall message {}", m.id)
}

/// The thread text.
pub fn text(m: &Message, party: &Party) -> String {
    let line =
        m.number.as_ref().map(|n| format!("{} ({})", escape(n.name.trim()), escape(n.digits.trim()))).unwrap_or_else(|| "Aircall".into());
    let head = match m.direction {
        Direction::Inbound => format!("{} received from {} on {line}", channel_name(m), escape(&party.display)),
        Direction::Outbound => format!("{} sent to {} from {line}", channel_name(m), escape(&party.display)),
    };
    let mut s = format!("<b>{head}</b>");
    if let Some(u) = m.user.as_ref().filter(|_| m.direction == Direction::Outbound) {
        s.push_str(&format!(" by {}", escape(&u.name)));
    }
    if !m.body.trim().is_empty() {
        s.push_str(&format!("<br>{}", paragraphs(&m.body)));
    }
    if let Some(w) = &m.whatsapp {
        let mut info = Vec::new();
        if let Some(t) = w.message_type.as_deref().filter(|t| !t.is_empty()) {
            info.push(format!("Message type: {}", escape(t)));
        }
        if let Some(c) = w.category.as_deref().filter(|c| !c.is_empty()) {
            info.push(format!("Template category: {}", escape(c)));
        }
        if let Some(t) = w.template_content.as_deref().filter(|t| !t.trim().is_empty()) {
            info.push(format!("Template: {}", paragraphs(t)));
        }
        if let Some(p) = w.pricing_type.as_deref().filter(|p| !p.is_empty()) {
            info.push(format!("Pricing: {}", escape(&p.replace('_', " "))));
        }
        if !info.is_empty() {
            s.push_str(&format!("<br>{}", info.join("<br>")));
        }
    }
    if !m.media.is_empty() {
        let items: Vec<String> = m
            .media
            .iter()
            .map(|md| {
                format!("<li>{}</li>", link(&md.url, md.file_name.as_deref().filter(|n| !n.trim().is_empty()).unwrap_or("attachment")))
            })
            .collect();
        s.push_str(&format!("<br>Attachments:<ul>{}</ul>", items.concat()));
    }
    s.push_str(&format!("<br><small>{}</small>", escape(&marker(m))));
    s
}

/// Copy a media file into a Help Scout attachment (`{fileName, mimeType, data}`).
/// Files the sandbox may not fetch (an undeclared host) or cannot fetch stay links.
fn attachment(md: &Media) -> Result<Option<Value>, PluginError> {
    let resp = match http::get(&md.url).timeout_ms(5_000).send() {
        Ok(r) => r,
        Err(CapabilityError::Denied(m) | CapabilityError::Invalid(m) | CapabilityError::NotFound(m)) => {
            log::with(log::Level::Info, "media kept as a link", &[("reason", &m)]);
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    if resp.status() != 200 || resp.body().is_empty() || resp.body().len() > MAX_ATTACHMENT {
        let why = format!("status {}, {} bytes", resp.status(), resp.body().len());
        log::with(log::Level::Info, "media kept as a link", &[("reason", &why)]);
        return Ok(None);
    }
    let name = md.file_name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| "attachment".into());
    let mime = md
        .file_type
        .clone()
        .or_else(|| resp.header("content-type").map(str::to_string))
        .unwrap_or_else(|| "application/octet-stream".into());
    Ok(Some(json!({ "fileName": name, "mimeType": mime, "data": base64::engine::general_purpose::STANDARD.encode(resp.body()) })))
}

/// Handle one message event.
pub fn handle(
    client: &Client,
    settings: &Settings,
    now: i64,
    region: Option<&str>,
    kind: MessageEventKind,
    m: &Message,
) -> Result<(), PluginError> {
    if kind == MessageEventKind::StatusUpdated {
        return Ok(());
    }
    let Some(mailbox) = m.number.as_ref().and_then(|n| settings.mailbox_for(n)) else {
        log::debug("message on a number without a mailbox");
        return Ok(());
    };
    let seen_key = format!("msg:{}", m.id);
    if storage::get::<bool>(&seen_key)?.is_some() {
        return Ok(());
    }
    let party = Party::new(&m.external_number, region, m.contact.clone());
    if party.e164.is_none() {
        log::with(log::Level::Info, "message from an unreadable number; not logged", &[("message", &m.id)]);
        return Ok(());
    }
    let channel = channel_name(m).to_lowercase();
    let customer = match party::find_or_create(client, settings, &party, now, &channel)? {
        Resolved::Customer(id, _) => id,
        Resolved::LogNothing => {
            log::with(log::Level::Info, "several Help Scout customers match; the matching rule says to log nothing", &[("message", &m.id)]);
            return Ok(());
        }
    };
    let agent = directory::resolve(client, settings, m.user.as_ref())?;
    let mut attachments = Vec::new();
    for md in &m.media {
        if let Some(a) = attachment(md)? {
            attachments.push(a);
        }
    }
    let entry = Entry {
        thread: NewThread { kind: ThreadKind::Note, text: text(m, &party), customer, user: agent.author, attachments },
        marker: marker(m),
        tags: Vec::new(),
        assign: rules::assignee(settings.assignee_for_messages, agent.matched),
    };
    let subject = match m.channel {
        Channel::Whatsapp => format!("WhatsApp with {}", party.display),
        Channel::Sms => format!("SMS with {}", party.display),
    };
    let place = Place { mailbox, customer, subject, purpose: Purpose::Message };
    conversation::log(client, settings, now, &place, &entry)?;
    storage::set(&seen_key, &true, Some(SEEN_TTL))
}

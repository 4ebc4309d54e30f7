//! SMS / MMS: a comment on the customer's open conversation with that Aircall
//! number, else a reopened (closed < 72 h) or a new ticket (seed:
//! "Ticket-Erstellung für Messaging", "Automatisierte Ticket-Kommentare für Messaging").
//!
//! The conversation is found by its `external_id` (`aircall-sms:{number}:{customer}`),
//! so with warm caches a message costs two requests: the look-up and the comment.

use crate::api::Api;
use crate::directory::Directory;
use crate::media::{self, Source};
use crate::party::{self, Party};
use crate::rules::{self, Route};
use crate::settings::Settings;
use serde_json::{Value, json};
use switchboard_sdk::datetime::iso8601;
use switchboard_sdk::{Channel, Context, Direction, Message, MessageEventKind, PluginError, log};

/// `message.sent` / `message.received` of an SMS / MMS.
pub fn handle(ctx: &Context, settings: &Settings, api: &Api, kind: MessageEventKind, msg: &Message) -> Result<(), PluginError> {
    if kind == MessageEventKind::StatusUpdated || msg.channel != Channel::Sms {
        return Ok(()); // delivery updates change nothing; WhatsApp is not part of this integration
    }
    let number = msg.number.as_ref();
    let line = number.map(|n| n.e164.clone().unwrap_or_else(|| n.digits.clone())).unwrap_or_default();
    let party = Party::new(&msg.external_number, number, ctx);
    let customer = match &party.e164 {
        Some(e164) => party::find_or_create(api, e164, msg.contact.as_ref(), settings)?,
        None => party::anonymous(api, settings)?,
    };
    let outbound = msg.direction == Direction::Outbound;
    let agent_email = msg.user.as_ref().and_then(|u| u.email.as_deref());
    // Outbound: the Aircall user writes (else the first admin); inbound: the customer.
    let (dir, author) = if outbound {
        let dir = Directory::load(api)?;
        let author = dir.author(agent_email).ok_or_else(|| Directory::no_author(agent_email))?;
        (Some(dir), Some(author.id))
    } else {
        (None, None)
    };

    let attachments = attachments(settings, api, msg)?;
    let at = msg.sent_at.or(msg.created_at).unwrap_or_else(|| switchboard_sdk::now_ms() / 1000);
    let mut message = json!({
        "channel": "sms",
        "via": "api",
        "from_agent": outbound,
        "body_text": msg.body,
        // §1.8: logged, never sent again by Gorgias.
        "sent_datetime": iso8601(at),
        "external_id": format!("aircall-message:{}", msg.id),
    });
    let (from, to) = if outbound { (line.clone(), party.shown.clone()) } else { (party.shown.clone(), line.clone()) };
    message["source"] = json!({ "type": "sms", "from": { "address": from }, "to": [{ "address": to }] });
    match author {
        Some(id) => {
            message["sender"] = json!({ "id": id });
            message["receiver"] = json!({ "id": customer.id });
        }
        None => message["sender"] = json!({ "id": customer.id }),
    }
    if !attachments.is_empty() {
        message["attachments"] = Value::Array(attachments);
    }

    let conversation = format!("aircall-sms:{}:{}", number.map_or(0, |n| n.id), party.e164.as_deref().unwrap_or("anonymous"));
    let newest = api.tickets_by_external_id(&conversation)?.into_iter().next();
    let now = switchboard_sdk::now_ms() / 1000;
    match rules::route_message(newest.as_ref(), now, settings.reopen_window_secs) {
        Route::Comment(id) => api.add_message(id, &message),
        Route::Reopen(id) => {
            api.update_ticket(id, &json!({ "status": "open" }))?;
            api.add_message(id, &message)
        }
        Route::New => {
            let tag_names = rules::message_tags(msg, &settings.tags);
            let mut body = json!({
                "channel": "sms",
                "via": "api",
                "from_agent": outbound,
                "status": "open",
                "subject": rules::sms_ticket_subject(&rules::customer_shown(customer.display_name(), &party.shown)),
                "customer": { "id": customer.id },
                "tags": tag_names.iter().map(|n| json!({ "name": n })).collect::<Vec<_>>(),
                "external_id": conversation,
                "messages": [message],
            });
            let dir = match dir {
                Some(d) => Some(d),
                None if agent_email.is_some() => Some(Directory::load(api)?),
                None => None,
            };
            if let Some(id) = dir.as_ref().and_then(|d| d.by_email(agent_email)) {
                body["assignee_user"] = json!({ "id": id });
            }
            let t = api.create_ticket(&body)?;
            log::with(log::Level::Info, "SMS conversation started in Gorgias", &[("ticket", &t.id.to_string())]);
            Ok(())
        }
    }
}

/// Images and PDFs of an MMS, uploaded (seed: "Wenn die Nummer Dateien unterstützt").
/// Files that cannot be uploaded are left out; the message keeps its text.
fn attachments(settings: &Settings, api: &Api, msg: &Message) -> Result<Vec<Value>, PluginError> {
    let mut out = Vec::new();
    for (i, m) in msg.media.iter().enumerate().take(10) {
        if !media::is_image_or_pdf(m.file_type.as_deref(), m.file_name.as_deref()) {
            continue;
        }
        let name = m.file_name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| format!("attachment-{}", i + 1));
        let src = Source { url: &m.url, name, content_type: m.file_type.clone() };
        match media::upload(api, &src, settings.upload_max_bytes, &format!("aircall-{}-{i}", msg.id))? {
            Ok(file) => out.push(serde_json::to_value(&file).map_err(PluginError::permanent)?),
            Err(why) => log::with(log::Level::Info, "MMS file not attached", &[("url", &m.url), ("why", &format!("{why:?}"))]),
        }
    }
    Ok(out)
}

//! SMS / MMS: a comment on the customer's open conversation with that Aircall
//! number, else a reopened (closed < 72 h) or a new ticket (seed:
//! "Ticket-Erstellung für Messaging", "Automatisierte Ticket-Kommentare für Messaging").
//!
//! The conversation is found by its `external_id` (`aircall-sms:{number}:{customer}`),
//! so with warm caches a message costs two requests: the look-up and the comment.

use crate::api::{Api, Customer, Ticket};
use crate::calls::party;
use crate::customers::{self, NEW_CONTACT};
use crate::directory::Directory;
use crate::media::{self, Source};
use crate::settings::Settings;
use crate::tags;
use serde_json::{Value, json};
use switchboard_sdk::datetime::{iso8601, parse_rfc3339};
use switchboard_sdk::{Channel, Context, Direction, Message, MessageEventKind, PluginError, log};

/// What to do with the newest conversation ticket.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    /// Comment on this open ticket.
    Comment(u64),
    /// Reopen this ticket (closed less than the window ago), then comment.
    Reopen(u64),
    /// Start a new ticket.
    New,
}

/// The seed's checks: open → comment; spam or deleted → new; closed less than
/// `window` seconds ago → reopen; otherwise (or closing time unknown) → new.
pub fn route(newest: Option<&Ticket>, now: i64, window: i64) -> Route {
    let Some(t) = newest else { return Route::New };
    if t.spam == Some(true) || t.trashed_datetime.as_deref().is_some_and(|d| !d.is_empty()) {
        return Route::New;
    }
    match t.status.as_deref() {
        Some("open") => Route::Comment(t.id),
        Some("closed") => match t.closed_datetime.as_deref().and_then(parse_rfc3339) {
            Some(closed) if now - closed < window => Route::Reopen(t.id),
            _ => Route::New,
        },
        _ => Route::New,
    }
}

fn customer_name(c: &Customer, shown: &str) -> String {
    match c.display_name() {
        Some(n) if !n.starts_with(NEW_CONTACT) => n,
        _ => shown.to_string(),
    }
}

/// `message.sent` / `message.received` of an SMS / MMS.
pub fn handle(ctx: &Context, settings: &Settings, api: &Api, kind: MessageEventKind, msg: &Message) -> Result<(), PluginError> {
    if kind == MessageEventKind::StatusUpdated || msg.channel != Channel::Sms {
        return Ok(()); // delivery updates change nothing; WhatsApp is not part of this integration
    }
    let number = msg.number.as_ref();
    let line = number.map(|n| n.e164.clone().unwrap_or_else(|| n.digits.clone())).unwrap_or_default();
    let party = party(&msg.external_number, number, ctx);
    let customer = match &party.e164 {
        Some(e164) => customers::find_or_create(api, e164, msg.contact.as_ref(), settings)?,
        None => customers::anonymous(api, settings)?,
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
    match route(newest.as_ref(), now, settings.reopen_window_secs) {
        Route::Comment(id) => api.add_message(id, &message),
        Route::Reopen(id) => {
            api.update_ticket(id, &json!({ "status": "open" }))?;
            api.add_message(id, &message)
        }
        Route::New => {
            let tag_names = tags::for_message(msg, &settings.tags);
            let mut body = json!({
                "channel": "sms",
                "via": "api",
                "from_agent": outbound,
                "status": "open",
                "subject": format!("SMS conversation with {}", customer_name(&customer, &party.shown)),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn t(status: &str, closed: Option<&str>, spam: bool, trashed: bool) -> Ticket {
        Ticket {
            id: 7,
            status: Some(status.into()),
            spam: Some(spam),
            closed_datetime: closed.map(str::to_string),
            trashed_datetime: trashed.then(|| "2026-01-01T00:00:00Z".into()),
            external_id: None,
        }
    }

    #[test]
    fn seed_routing() {
        let now = parse_rfc3339("2026-01-10T00:00:00Z").unwrap_or_default();
        let w = 72 * 3600;
        assert_eq!(route(None, now, w), Route::New);
        assert_eq!(route(Some(&t("open", None, false, false)), now, w), Route::Comment(7));
        assert_eq!(route(Some(&t("open", None, true, false)), now, w), Route::New);
        assert_eq!(route(Some(&t("open", None, false, true)), now, w), Route::New);
        assert_eq!(route(Some(&t("closed", Some("2026-01-08T00:00:00.000000+00:00"), false, false)), now, w), Route::Reopen(7));
        assert_eq!(route(Some(&t("closed", Some("2026-01-06T00:00:00Z"), false, false)), now, w), Route::New);
        assert_eq!(route(Some(&t("closed", None, false, false)), now, w), Route::New);
        assert_eq!(route(Some(&t("closed", Some("garbage"), false, false)), now, w), Route::New);
    }
}

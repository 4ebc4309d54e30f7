//! Calls: one ticket per call, created when the call is answered or missed, with
//! internal notes and tags (seed: "Ticket-Erstellung für Anrufe",
//! "Automatisierte Ticket-Kommentare für Anrufe", "Tag-Synchronisierung für Anrufe").
//!
//! Requests per answered call with warm caches: the ticket with the "answered"
//! note (1), the "ended" note (1), the status (1), and the tags only when new
//! ones apply. A missed call is one request: its ticket carries the merged note.

use crate::api::{Api, Customer};
use crate::card;
use crate::directory::Directory;
use crate::media::{self, Linked, Source};
use crate::notes::{self, Note};
use crate::party::{self, Party};
use crate::records::{self, CallRecord, load, save};
use crate::rules;
use crate::settings::Settings;
use serde_json::{Value, json};
use switchboard_sdk::datetime::iso8601;
use switchboard_sdk::{Call, CallEventKind, Context, Direction, PluginError, log};

/// An internal note as a message of the ticket (§1.8: `internal-note`, from an agent,
/// `sent_datetime` set so Gorgias never tries to send it).
pub fn note_message(note: &Note, author: u64, at: i64, external_id: &str, attachments: &[Value]) -> Value {
    let mut m = json!({
        "channel": "internal-note",
        "via": "api",
        "from_agent": true,
        "sender": { "id": author },
        "body_text": note.text(),
        "body_html": note.html(),
        "sent_datetime": iso8601(at),
        "external_id": external_id,
    });
    if !attachments.is_empty() {
        m["attachments"] = Value::Array(attachments.to_vec());
    }
    m
}

fn now() -> i64 {
    switchboard_sdk::now_ms() / 1000
}

/// Handle one call event.
pub fn handle(ctx: &Context, settings: &Settings, api: &Api, kind: CallEventKind, call: &Call) -> Result<(), PluginError> {
    let party = Party::new(&call.raw_digits, call.number.as_ref(), ctx);
    match kind {
        CallEventKind::Created if settings.insight_cards => match &party.e164 {
            Some(e164) => card::push(api, call.id, e164),
            None => Ok(()),
        },
        CallEventKind::Answered => answered(settings, api, call, &party),
        CallEventKind::Ended => ended(settings, api, call, &party),
        CallEventKind::VoicemailLeft => voicemail_left(settings, api, call),
        CallEventKind::Commented => commented(settings, api, call),
        CallEventKind::Tagged => tagged(settings, api, call),
        _ => Ok(()),
    }
}

fn customer_for(api: &Api, settings: &Settings, call: &Call, party: &Party) -> Result<Customer, PluginError> {
    match &party.e164 {
        Some(e164) => party::find_or_create(api, e164, call.contact.as_ref(), settings),
        None => party::anonymous(api, settings),
    }
}

fn agent_email(call: &Call) -> Option<&str> {
    rules::call_agent(call).and_then(|u| u.email.as_deref())
}

/// When a ticket write names a customer or user that no longer exists, drop the
/// caches that named it and try again.
fn stale_cache(err: PluginError, party: &Party) -> PluginError {
    match &err {
        PluginError::Permanent(m) if m.starts_with("400") && (m.contains("ustomer") || m.contains("ser")) => {
            if let Some(e164) = &party.e164 {
                let _ = party::forget(e164);
            }
            let _ = Directory::forget();
            PluginError::Retryable(format!("Gorgias refused a cached customer or user, caches dropped: {m}"))
        }
        _ => err,
    }
}

/// Comments not written yet, as text, and their ids.
fn new_comments(call: &Call, log: Option<&CallRecord>) -> (Vec<String>, Vec<u64>) {
    call.comments
        .iter()
        .filter(|c| log.is_none_or(|l| !l.comments.contains(&c.id)))
        .filter(|c| !c.content.trim().is_empty())
        .map(|c| {
            let by = c.posted_by.as_ref().map(|u| u.name.clone()).filter(|n| !n.is_empty());
            (by.map_or_else(|| c.content.trim().to_string(), |b| format!("{b}: {}", c.content.trim())), c.id)
        })
        .unzip()
}

/// Create the call's ticket with `messages` (the first notes), tags and assignee.
fn create_ticket(
    settings: &Settings,
    api: &Api,
    call: &Call,
    party: &Party,
    dir: &Directory,
    customer: &Customer,
    build: impl FnOnce(&str) -> Vec<Value>,
) -> Result<CallRecord, PluginError> {
    let callback_request = rules::is_callback_request(call, &settings.callback_markers);
    let pending_callback = match (&party.e164, call.direction) {
        (Some(e164), Direction::Outbound) => records::pending_callback(e164)?,
        _ => None,
    };
    let called_back = pending_callback.is_some();
    let tag_names = rules::call_tags(call, &settings.tags, callback_request, called_back);
    let name = rules::customer_shown(customer.display_name(), &party.shown);
    let mut body = json!({
        "channel": "phone",
        "via": "api",
        "from_agent": call.direction == Direction::Outbound,
        "status": "open",
        "subject": rules::call_ticket_subject(call.direction, &name),
        "customer": { "id": customer.id },
        "tags": tag_names.iter().map(|n| json!({ "name": n })).collect::<Vec<_>>(),
        "external_id": format!("aircall-call:{}", call.id),
        "messages": build(&name),
    });
    let assignee = dir.by_email(agent_email(call)).or_else(|| dir.by_email(call.assigned_to.as_ref().and_then(|u| u.email.as_deref())));
    if let Some(id) = assignee {
        body["assignee_user"] = json!({ "id": id });
    }
    let ticket = api.create_ticket(&body).map_err(|e| stale_cache(e, party))?;
    log::with(log::Level::Info, "call logged in Gorgias", &[("call", &call.id.to_string()), ("ticket", &ticket.id.to_string())]);
    if let Some(e164) = &party.e164 {
        if callback_request && settings.tags.callback {
            records::remember_callback(e164, ticket.id)?;
        }
        if let Some(original) = pending_callback {
            // The request's own ticket says it was honoured, too.
            if settings.tags.callback && original != ticket.id {
                api.add_tags(original, &[rules::CALLED_BACK.to_string()])?;
            }
            records::forget_callback(e164)?;
        }
    }
    Ok(CallRecord { ticket: ticket.id, customer: customer.id, tags: tag_names, callback_request, called_back, ..CallRecord::default() })
}

/// `call.answered`: the ticket, with the "answered" note on behalf of the agent.
fn answered(settings: &Settings, api: &Api, call: &Call, party: &Party) -> Result<(), PluginError> {
    if load(call.id)?.is_some() {
        return Ok(()); // answered again after a transfer: already logged
    }
    let dir = Directory::load(api)?;
    let author = dir.author(agent_email(call)).ok_or_else(|| Directory::no_author(agent_email(call)))?;
    let customer = customer_for(api, settings, call, party)?;
    let at = call.answered_at.unwrap_or_else(now);
    let log = create_ticket(settings, api, call, party, &dir, &customer, |name| {
        let note = notes::answered(call, &party.shown, Some(name));
        vec![note_message(&note, author.id, at, &format!("aircall-call:{}:answered", call.id), &[])]
    })?;
    save(call.id, &log)
}

/// `call.ended`: the "ended" note and status open; for a call nobody answered,
/// the ticket with the merged note.
fn ended(settings: &Settings, api: &Api, call: &Call, party: &Party) -> Result<(), PluginError> {
    let existing = load(call.id)?;
    if existing.as_ref().is_some_and(|l| l.ended) {
        return Ok(());
    }
    let dir = Directory::load(api)?;
    let author = dir.author(agent_email(call)).ok_or_else(|| Directory::no_author(agent_email(call)))?;
    let (comments, comment_ids) = new_comments(call, existing.as_ref());
    let at = call.ended_at.unwrap_or_else(now);
    let mut log = match existing {
        None => {
            let customer = customer_for(api, settings, call, party)?;
            let mut log = create_ticket(settings, api, call, party, &dir, &customer, |name| {
                if call.answered_at.is_some() {
                    // The answer was never logged (e.g. its event was lost): both notes, in order.
                    let a = notes::answered(call, &party.shown, Some(name));
                    let e = notes::ended(call, settings, &comments);
                    vec![
                        note_message(&a, author.id, call.answered_at.unwrap_or(at), &format!("aircall-call:{}:answered", call.id), &[]),
                        note_message(&e, author.id, at, &format!("aircall-call:{}:ended", call.id), &[]),
                    ]
                } else {
                    let n = notes::unanswered(call, settings, &party.shown, Some(name), &comments);
                    vec![note_message(&n, author.id, at, &format!("aircall-call:{}:ended", call.id), &[])]
                }
            })?;
            log.ended = true;
            log
        }
        Some(mut log) => {
            let note = notes::ended(call, settings, &comments);
            api.add_message(log.ticket, &note_message(&note, author.id, at, &format!("aircall-call:{}:ended", call.id), &[]))?;
            let want = rules::call_tags(call, &settings.tags, log.callback_request, log.called_back);
            let add = rules::missing_tags(&log.tags, &want);
            api.add_tags(log.ticket, &add)?;
            rules::push_tags(&mut log.tags, add);
            // Seed: "Sobald der Anruf endet, wird der Ticket-Status Offen."
            api.update_ticket(log.ticket, &json!({ "status": "open" }))?;
            log.ended = true;
            log
        }
    };
    log.comments.extend(comment_ids);
    log.voicemail = call.voicemail.is_some();
    save(call.id, &log)
}

/// `call.voicemail_left` after the call's notes were written: a note and the tag.
fn voicemail_left(settings: &Settings, api: &Api, call: &Call) -> Result<(), PluginError> {
    let Some(mut log) = load(call.id)? else {
        return Ok(());
    }; // call.ended will carry it
    if !log.ended || log.voicemail || call.voicemail.is_none() {
        return Ok(());
    }
    let dir = Directory::load(api)?;
    let author = dir.author(agent_email(call)).ok_or_else(|| Directory::no_author(agent_email(call)))?;
    let note = notes::voicemail(call, call.voicemail.as_deref());
    api.add_message(log.ticket, &note_message(&note, author.id, now(), &format!("aircall-call:{}:voicemail", call.id), &[]))?;
    let add = rules::missing_tags(&log.tags, &rules::call_tags(call, &settings.tags, log.callback_request, log.called_back));
    api.add_tags(log.ticket, &add)?;
    rules::push_tags(&mut log.tags, add);
    log.voicemail = true;
    save(call.id, &log)
}

/// `call.commented` on a logged call: one more note, with the recording or
/// voicemail attached (or linked when too big) the first time.
fn commented(settings: &Settings, api: &Api, call: &Call) -> Result<(), PluginError> {
    let Some(mut log) = load(call.id)? else {
        return Ok(());
    }; // not logged (yet): the end note carries the notes
    let (comments, ids) = new_comments(call, Some(&log));
    if comments.is_empty() {
        return Ok(());
    }
    let dir = Directory::load(api)?;
    let poster = call.comments.iter().rev().find(|c| ids.contains(&c.id)).and_then(|c| c.posted_by.as_ref());
    let email = poster.and_then(|u| u.email.as_deref()).or(agent_email(call));
    let author = dir.author(email).ok_or_else(|| Directory::no_author(email))?;
    let author_name = poster.or(rules::call_agent(call)).map(|u| u.name.clone()).unwrap_or_else(|| "an agent".into());
    let mut attachments = Vec::new();
    let mut links = Vec::new();
    if !log.media_written {
        let files = [("Recording", call.recording.as_deref(), "recording.mp3"), ("Voicemail", call.voicemail.as_deref(), "voicemail.mp3")];
        for (label, url, name) in files {
            let Some(url) = url.filter(|u| !u.trim().is_empty()) else {
                continue;
            };
            let src = Source { url, name: format!("call-{}-{name}", call.id), content_type: Some("audio/mpeg".into()) };
            match media::upload(api, &src, settings.upload_max_bytes, &format!("aircall-{}-{}", call.id, label.to_lowercase()))? {
                Ok(file) => attachments.push(serde_json::to_value(&file).map_err(PluginError::permanent)?),
                Err(Linked::TooLarge(n)) => links.push((label.to_string(), format!("{url} (not uploaded: {} MB)", n / 1_000_000))),
                Err(Linked::Unavailable(why)) => {
                    log::with(log::Level::Info, "linking instead of attaching", &[("why", &why)]);
                    links.push((label.to_string(), url.to_string()));
                }
            }
        }
    }
    let note = notes::commented(call, &author_name, &comments, &links);
    let at = call.comments.iter().filter(|c| ids.contains(&c.id)).filter_map(|c| c.posted_at).max().unwrap_or_else(now);
    let external_id = format!("aircall-call:{}:comment:{}", call.id, ids.iter().map(u64::to_string).collect::<Vec<_>>().join("-"));
    api.add_message(log.ticket, &note_message(&note, author.id, at, &external_id, &attachments))?;
    log.comments.extend(ids);
    log.media_written = log.media_written || call.recording.is_some() || call.voicemail.is_some();
    save(call.id, &log)
}

/// `call.tagged` on a logged call: the agent's new tags (and "Callback request" when a tag says so).
fn tagged(settings: &Settings, api: &Api, call: &Call) -> Result<(), PluginError> {
    let Some(mut log) = load(call.id)? else {
        return Ok(());
    };
    log.callback_request = log.callback_request || rules::is_callback_request(call, &settings.callback_markers);
    let add = rules::missing_tags(&log.tags, &rules::call_tags(call, &settings.tags, log.callback_request, log.called_back));
    if add.is_empty() {
        return Ok(());
    }
    api.add_tags(log.ticket, &add)?;
    rules::push_tags(&mut log.tags, add);
    save(call.id, &log)
}

//! Calls: one ticket per call, created when the call is answered or missed, with
//! internal notes and tags (seed: "Ticket-Erstellung für Anrufe",
//! "Automatisierte Ticket-Kommentare für Anrufe", "Tag-Synchronisierung für Anrufe").
//!
//! Requests per answered call with warm caches: the ticket with the "answered"
//! note (1), the "ended" note (1), the status (1), and the tags only when new
//! ones apply. A missed call is one request: its ticket carries the merged note.

use crate::api::{Api, Customer};
use crate::customers::{self, NEW_CONTACT};
use crate::directory::Directory;
use crate::media::{self, Linked, Source};
use crate::notes::{self, Note};
use crate::settings::Settings;
use crate::{card, tags};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use switchboard_sdk::datetime::iso8601;
use switchboard_sdk::phone::{self, Normalized};
use switchboard_sdk::{Call, CallEventKind, Context, Direction, Number, PluginError, log, storage};

/// How long what we wrote for a call is remembered (seconds): late notes and tags still find the ticket.
const LOG_TTL: u32 = 30 * 24 * 3600;
/// How long a callback request waits for the call back (seconds).
const CALLBACK_TTL: u32 = 14 * 24 * 3600;

/// What the connector wrote for one call.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CallLog {
    /// The Gorgias ticket.
    pub ticket: u64,
    /// Its customer.
    pub customer: u64,
    /// Tags applied so far.
    pub tags: Vec<String>,
    /// Aircall comment ids already written.
    pub comments: Vec<u64>,
    /// The "ended" note was written.
    pub ended: bool,
    /// The voicemail was noted.
    pub voicemail: bool,
    /// The recording / voicemail was attached or linked on a comment note.
    pub media_written: bool,
    /// The customer asked for a callback on this call.
    pub callback_request: bool,
    /// This call was the callback.
    pub called_back: bool,
}

fn log_key(call_id: u64) -> String {
    format!("call:{call_id}")
}

fn callback_key(e164: &str) -> String {
    format!("callback:{e164}")
}

/// The external party: E.164 when it is a number, `None` when withheld or unreadable.
pub struct Party {
    /// E.164.
    pub e164: Option<String>,
    /// What to show.
    pub shown: String,
}

/// Normalise a raw number with the line's country (else the integration's region).
pub fn party(raw: &str, line: Option<&Number>, ctx: &Context) -> Party {
    match phone::normalize(raw, ctx.region_for(line)) {
        Ok(Normalized::Number(e164)) => Party { shown: e164.clone(), e164: Some(e164) },
        Ok(Normalized::Anonymous) => Party { e164: None, shown: "Anonymous".into() },
        Err(_) => Party { e164: None, shown: raw.trim().chars().take(40).collect() },
    }
}

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
    let party = party(&call.raw_digits, call.number.as_ref(), ctx);
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

fn load(call_id: u64) -> Result<Option<CallLog>, PluginError> {
    storage::get::<CallLog>(&log_key(call_id))
}

fn save(call_id: u64, log: &CallLog) -> Result<(), PluginError> {
    storage::set(&log_key(call_id), log, Some(LOG_TTL))
}

fn customer_for(api: &Api, settings: &Settings, call: &Call, party: &Party) -> Result<Customer, PluginError> {
    match &party.e164 {
        Some(e164) => customers::find_or_create(api, e164, call.contact.as_ref(), settings),
        None => customers::anonymous(api, settings),
    }
}

/// The title's "[customer name / number]": the number for generated customers.
fn shown_name(customer: &Customer, party: &Party) -> String {
    match customer.display_name() {
        Some(n) if !n.starts_with(NEW_CONTACT) && !n.is_empty() => n,
        _ => party.shown.clone(),
    }
}

fn title(call: &Call, name: &str) -> String {
    let dir = match call.direction {
        Direction::Inbound => "Inbound",
        Direction::Outbound => "Outbound",
    };
    format!("{dir} call: {name}")
}

fn agent_email(call: &Call) -> Option<&str> {
    notes::agent(call).and_then(|u| u.email.as_deref())
}

/// When a ticket write names a customer or user that no longer exists, drop the
/// caches that named it and try again.
fn stale_cache(err: PluginError, party: &Party) -> PluginError {
    match &err {
        PluginError::Permanent(m) if m.starts_with("400") && (m.contains("ustomer") || m.contains("ser")) => {
            if let Some(e164) = &party.e164 {
                let _ = customers::forget(e164);
            }
            let _ = Directory::forget();
            PluginError::Retryable(format!("Gorgias refused a cached customer or user, caches dropped: {m}"))
        }
        _ => err,
    }
}

/// Comments not written yet, as text, and their ids.
fn new_comments(call: &Call, log: Option<&CallLog>) -> (Vec<String>, Vec<u64>) {
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
) -> Result<CallLog, PluginError> {
    let callback_request = tags::is_callback_request(call, &settings.callback_markers);
    let pending_callback = match (&party.e164, call.direction) {
        (Some(e164), Direction::Outbound) => storage::get::<u64>(&callback_key(e164))?,
        _ => None,
    };
    let called_back = pending_callback.is_some();
    let tag_names = tags::for_call(call, &settings.tags, callback_request, called_back);
    let name = shown_name(customer, party);
    let mut body = json!({
        "channel": "phone",
        "via": "api",
        "from_agent": call.direction == Direction::Outbound,
        "status": "open",
        "subject": title(call, &name),
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
            storage::set(&callback_key(e164), &ticket.id, Some(CALLBACK_TTL))?;
        }
        if let Some(original) = pending_callback {
            // The request's own ticket says it was honoured, too.
            if settings.tags.callback && original != ticket.id {
                api.add_tags(original, &[tags::CALLED_BACK.to_string()])?;
            }
            storage::delete(&callback_key(e164))?;
        }
    }
    Ok(CallLog { ticket: ticket.id, customer: customer.id, tags: tag_names, callback_request, called_back, ..CallLog::default() })
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
            let want = tags::for_call(call, &settings.tags, log.callback_request, log.called_back);
            let add = tags::missing(&log.tags, &want);
            api.add_tags(log.ticket, &add)?;
            tags::push_all(&mut log.tags, add);
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
    let add = tags::missing(&log.tags, &tags::for_call(call, &settings.tags, log.callback_request, log.called_back));
    api.add_tags(log.ticket, &add)?;
    tags::push_all(&mut log.tags, add);
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
    let author_name = poster.or(notes::agent(call)).map(|u| u.name.clone()).unwrap_or_else(|| "an agent".into());
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
    log.callback_request = log.callback_request || tags::is_callback_request(call, &settings.callback_markers);
    let add = tags::missing(&log.tags, &tags::for_call(call, &settings.tags, log.callback_request, log.called_back));
    if add.is_empty() {
        return Ok(());
    }
    api.add_tags(log.ticket, &add)?;
    tags::push_all(&mut log.tags, add);
    save(call.id, &log)
}

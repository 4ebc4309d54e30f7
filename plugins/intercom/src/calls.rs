//! Calls: logged when they end (Aircall sends `call.ended` with the recording
//! and final duration), then kept in step with what happens afterwards —
//! comments, tags, assignment, a late voicemail.

use crate::conversation::{self, Entry, Target};
use crate::job::Job;
use crate::party::{self, Caller, Match};
use crate::records::{self, CallRecord};
use crate::rules::{self, Outcome, Transfer, TransferEvent};
use crate::{directory, text};
use switchboard_sdk::{Call, Direction, PluginError, log};

/// The external party of a call.
pub fn caller(job: &Job, call: &Call) -> Option<Caller> {
    Caller::parse(&call.raw_digits, job.region(call.number.as_ref()))
}

/// The Aircall line's name (the seed's "[Aircall number name]").
fn line_name(call: &Call) -> String {
    call.number.as_ref().map(|n| n.name.trim().to_string()).filter(|n| !n.is_empty()).unwrap_or_else(|| "Aircall".into())
}

fn line_text(call: &Call) -> String {
    text::line(call.number.as_ref().map(|n| n.name.as_str()), call.number.as_ref().map(|n| n.digits.as_str()))
}

/// Finds the contact to log to, logging why when there is none.
pub fn contact_for(job: &Job, caller: &Caller, what: &str) -> Result<Option<party::ContactRef>, PluginError> {
    if *caller == Caller::Anonymous && !job.settings.create_contacts {
        log::with(log::Level::Info, "anonymous and contact creation is off: not logged", &[("what", what)]);
        return Ok(None);
    }
    match party::resolve(&job.client, caller, job.settings.create_contacts)? {
        Match::One(c) => Ok(Some(c)),
        Match::Shared(ids) => {
            log::with(
                log::Level::Warn,
                "several Intercom contacts have this number: not logged (store each number on one contact only)",
                &[("what", what), ("number", &caller.display()), ("contacts", &ids.join(","))],
            );
            Ok(None)
        }
        Match::Nobody => {
            log::with(
                log::Level::Info,
                "no Intercom contact has this number and contact creation is off: not logged",
                &[("what", what), ("number", &caller.display())],
            );
            Ok(None)
        }
    }
}

/// `call.ended`: the call's message, its notes, its assignment and tags.
pub fn log_call(job: &Job, call: &Call) -> Result<(), PluginError> {
    if records::call(call.id)?.is_some() {
        log::with(log::Level::Info, "call already logged", &[("call", &call.id.to_string())]);
        return Ok(());
    }
    let Some(caller) = caller(job, call) else {
        return Ok(());
    };
    let Some(contact) = contact_for(job, &caller, "call")? else {
        return Ok(());
    };
    let outcome = rules::outcome(call);
    let setup = job.setup_admin()?;
    let transfer = rules::transfer(call.transferred_to.as_ref(), call.transferred_by.as_ref(), records::transfer_event(call.id)?);
    let owner = call_owner(job, call, &transfer)?;
    let assign = rules::assign_call(outcome, call.direction, owner, &setup);

    let mut notes = vec![details_note(call, &caller, outcome, &transfer)];
    if let Some(comments) = comments_note(call) {
        notes.push(comments);
    }
    if let Some(switch) = records::switch(call.id)? {
        notes.push(switch_note(&switch));
    }
    let entry = Entry {
        headline: format!("{} on {}", outcome.label(), line_name(call)),
        notes,
        assign,
        target: Target::OpenOrNew,
        setup_admin: &setup,
    };
    let conversation_id = conversation::write(&job.client, &caller, &contact, job.settings.create_contacts, &entry)?;
    let mut record = CallRecord { conversation_id, contact_id: contact.id.clone(), ended_at: call.ended_at, tags: Vec::new() };
    sync_tags(job, call, &mut record, &setup)?;
    records::save_call(call.id, &record)
}

/// The Intercom admin whose teammate owns the call after its transfers (seed
/// "Weitergeleitete Anrufe", [`rules::call_owner`]).
fn call_owner(job: &Job, call: &Call, transfer: &Transfer<'_>) -> Result<Option<String>, PluginError> {
    let transferee = match transfer {
        Transfer::To { to, .. } => job.admin_for(to.email.as_deref())?,
        Transfer::None | Transfer::Failed => None,
    };
    let original = rules::original_teammate(call.user.as_ref(), transfer);
    let original_admin = job.admin_for(original.and_then(|u| u.email.as_deref()))?;
    if let (Transfer::To { to, .. }, None) = (transfer, &transferee) {
        log::with(
            log::Level::Info,
            "call transferred to an Aircall user without an Intercom admin of the same e-mail: it stays with the original teammate",
            &[("user", &to.name), ("call", &call.id.to_string())],
        );
    }
    Ok(rules::call_owner(transfer, transferee, original_admin))
}

/// `call.transferred` / `call.unsuccessful_transfer`: remembered for the log.
/// When the call is already logged (Aircall does not guarantee the order), a
/// successful transfer to a teammate with an Intercom admin reassigns the
/// conversation now; a failed one changes nothing.
pub fn transferred(job: &Job, call: &Call, event: TransferEvent) -> Result<(), PluginError> {
    records::save_transfer_event(call.id, event)?;
    let Some(record) = records::call(call.id)? else {
        return Ok(());
    };
    let transfer = rules::transfer(call.transferred_to.as_ref(), call.transferred_by.as_ref(), Some(event));
    let Transfer::To { to, .. } = transfer else {
        return Ok(());
    };
    let Some(admin) = job.admin_for(to.email.as_deref())? else {
        log::with(
            log::Level::Info,
            "call transferred to an Aircall user without an Intercom admin of the same e-mail: conversation unchanged",
            &[("user", &to.name), ("call", &call.id.to_string())],
        );
        return Ok(());
    };
    job.client.assign(&record.conversation_id, &job.setup_admin()?, &admin)?;
    Ok(())
}

fn person(user: Option<&switchboard_sdk::User>) -> Option<String> {
    user.map(|u| u.name.trim().to_string()).filter(|n| !n.is_empty())
}

/// The internal note with the call's details (seed: caller's number, Aircall
/// number, waiting time, who answered / called, duration, recording).
fn details_note(call: &Call, caller: &Caller, outcome: Outcome, transfer: &Transfer<'_>) -> String {
    let start = call.started_at.unwrap_or(0);
    let end = call.ended_at.unwrap_or(start);
    let waited = call.answered_at.unwrap_or(end) - start;
    let talked = call.answered_at.map(|a| end - a).unwrap_or(0);
    let mut lines: Vec<(&str, String)> = Vec::new();
    match call.direction {
        Direction::Inbound => lines.push(("Caller", text::esc(&caller.display()))),
        Direction::Outbound => lines.push(("Number called", text::esc(&caller.display()))),
    }
    lines.push(("Aircall number", text::esc(&line_text(call))));
    lines.push(("Waiting time", text::duration(waited)));
    let agent = person(call.user.as_ref());
    match (call.direction, outcome.answered()) {
        (Direction::Outbound, _) => lines.push(("Called by", text::esc(agent.as_deref().unwrap_or("unknown")))),
        (Direction::Inbound, true) => lines.push(("Answered by", text::esc(agent.as_deref().unwrap_or("unknown")))),
        (Direction::Inbound, false) => lines.push(("Answered by", "nobody".into())),
    }
    lines.push(("Duration", text::duration(talked)));
    let transferee = person(call.transferred_to.as_ref());
    match (transfer, transferee) {
        (Transfer::To { from, .. }, Some(to)) => lines.push((
            "Transferred",
            match person(*from) {
                Some(from) => format!("from {} to {}", text::esc(&from), text::esc(&to)),
                None => format!("to {}", text::esc(&to)),
            },
        )),
        (Transfer::Failed, Some(to)) => lines.push(("Transfer failed", format!("to {}", text::esc(&to)))),
        _ => {}
    }
    if let Some(reason) = call.missed_call_reason.as_deref().filter(|r| !r.is_empty() && !outcome.answered()) {
        lines.push(("Missed because", text::esc(&reason.replace('_', " "))));
    }
    let media = call.asset.as_deref().or(call.recording.as_deref()).or(call.voicemail.as_deref()).filter(|u| !u.is_empty());
    if let Some(url) = media {
        let label = if outcome == Outcome::Voicemail { "Voicemail" } else { "Recording" };
        lines.push((label, text::link(url, url)));
    }
    text::note(&format!("{} — Aircall call details", outcome.label()), &lines)
}

/// Every comment left on the call so far (the seed: with several notes, the
/// earlier ones are added again).
fn comments_note(call: &Call) -> Option<String> {
    if call.comments.is_empty() {
        return None;
    }
    let items: Vec<String> = call
        .comments
        .iter()
        .map(|c| match person(c.posted_by.as_ref()) {
            Some(by) => format!("{by}: {}", c.content),
            None => c.content.clone(),
        })
        .collect();
    Some(text::list_note("Notes left on the call in Aircall", &items))
}

fn switch_note(s: &records::SwitchRecord) -> String {
    let number = Caller::Number(s.phone.clone()).display();
    match &s.error {
        None => {
            let mut lines = vec![("Caller texted", text::esc(&number)), ("IVR option", text::esc(&s.option))];
            if let Some(url) = &s.url {
                lines.push(("Messenger link", text::link(url, url)));
            }
            text::note("Intercom Switch: the caller got a link to continue in the Messenger", &lines)
        }
        Some(why) => text::note("Intercom Switch failed", &[("Caller", text::esc(&number)), ("Reason", text::esc(why))]),
    }
}

/// `call.commented`: all comments again, once the call is logged (before that
/// they go with the log).
pub fn comment(job: &Job, call: &Call) -> Result<(), PluginError> {
    let Some(record) = records::call(call.id)? else {
        log::debug("comment on a call not logged yet: it goes with the call log");
        return Ok(());
    };
    let Some(note) = comments_note(call) else {
        return Ok(());
    };
    conversation::add_notes(&job.client, &record.conversation_id, &job.setup_admin()?, &[note])
}

/// `call.voicemail_left` after the call was logged: the link in a note.
pub fn voicemail(job: &Job, call: &Call) -> Result<(), PluginError> {
    let Some(record) = records::call(call.id)? else {
        return Ok(());
    };
    let Some(url) = call.asset.as_deref().or(call.voicemail.as_deref()).filter(|u| !u.is_empty()) else {
        return Ok(());
    };
    let note = text::note("Voicemail left", &[("Voicemail", text::link(url, url))]);
    conversation::add_notes(&job.client, &record.conversation_id, &job.setup_admin()?, &[note])
}

/// Applies the call's tags that are not on the conversation yet and still in
/// the two-hour window (seed "Tag-Synchronisierung"). Tags go on the whole
/// conversation: Intercom's API cannot tag a single part (§1.8).
fn sync_tags(job: &Job, call: &Call, record: &mut CallRecord, setup: &str) -> Result<(), PluginError> {
    let ended = call.ended_at.or(record.ended_at);
    for tag in &call.tags {
        let name = tag.name.trim();
        if name.is_empty() || record.tags.iter().any(|t| t.eq_ignore_ascii_case(name)) {
            continue;
        }
        let tagged_at = tag.tagged_at.unwrap_or(job.ctx.event_timestamp());
        if !rules::tag_in_window(ended, tagged_at) {
            let late = ended.map(|e| ((tagged_at - e) / 60).to_string()).unwrap_or_default();
            log::with(
                log::Level::Warn,
                "tag added more than two hours after the call ended: skipped",
                &[("tag", name), ("minutes_after_end", &late), ("call", &call.id.to_string())],
            );
            continue;
        }
        apply_tag(job, &record.conversation_id, name, setup)?;
        record.tags.push(name.to_string());
    }
    Ok(())
}

fn apply_tag(job: &Job, conversation_id: &str, name: &str, setup: &str) -> Result<(), PluginError> {
    let id = directory::tag_id(&job.client, name)?;
    match job.client.tag_conversation(conversation_id, &id, setup) {
        Ok(_) => Ok(()),
        Err(e) if directory::is_missing(&e) => {
            // The cached tag was deleted in Intercom: make it again, once.
            directory::forget_tag(name)?;
            let id = directory::tag_id(&job.client, name)?;
            job.client.tag_conversation(conversation_id, &id, setup)?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// `call.tagged`: new tags on the logged conversation.
pub fn tagged(job: &Job, call: &Call) -> Result<(), PluginError> {
    let Some(mut record) = records::call(call.id)? else {
        log::debug("tag on a call not logged yet: it goes with the call log");
        return Ok(());
    };
    let before = record.tags.len();
    sync_tags(job, call, &mut record, &job.setup_admin()?)?;
    if record.tags.len() != before {
        records::save_call(call.id, &record)?;
    }
    Ok(())
}

/// `call.untagged`: tags we applied that the call no longer has come off.
pub fn untagged(job: &Job, call: &Call) -> Result<(), PluginError> {
    let Some(mut record) = records::call(call.id)? else {
        return Ok(());
    };
    let gone: Vec<String> =
        record.tags.iter().filter(|t| !call.tags.iter().any(|c| c.name.trim().eq_ignore_ascii_case(t))).cloned().collect();
    if gone.is_empty() {
        return Ok(());
    }
    let setup = job.setup_admin()?;
    for name in &gone {
        let id = directory::tag_id(&job.client, name)?;
        match job.client.untag_conversation(&record.conversation_id, &id, &setup) {
            Ok(_) => {}
            Err(e) if directory::is_missing(&e) => log::with(log::Level::Info, "tag already gone in Intercom", &[("tag", name)]),
            Err(e) => return Err(e.into()),
        }
        record.tags.retain(|t| t != name);
    }
    records::save_call(call.id, &record)
}

/// `call.assigned` in the phone app: the conversation follows when the new
/// owner has an Intercom admin with the same e-mail, with a note saying who
/// assigned it to whom (seed "Anrufzuweisung").
pub fn assigned(job: &Job, call: &Call) -> Result<(), PluginError> {
    let Some(record) = records::call(call.id)? else {
        log::with(log::Level::Info, "call assigned before it was logged: not synced", &[("call", &call.id.to_string())]);
        return Ok(());
    };
    let Some(to) = call.assigned_to.as_ref() else {
        return Ok(());
    };
    let Some(admin) = job.admin_for(to.email.as_deref())? else {
        log::with(
            log::Level::Info,
            "call assigned to an Aircall user without an Intercom admin of the same e-mail: conversation unchanged",
            &[("user", &to.name)],
        );
        return Ok(());
    };
    let setup = job.setup_admin()?;
    // [U] Aircall's payload does not say who assigned the call; an `assigned_by`
    // user is read when present, else the teammate on the call.
    let raw: Option<serde_json::Value> = job.ctx.raw_data();
    let by = raw
        .as_ref()
        .and_then(|v| v.get("assigned_by")?.get("name")?.as_str().map(str::to_string))
        .or_else(|| person(call.user.as_ref()))
        .unwrap_or_else(|| "an Aircall user".into());
    job.client.assign(&record.conversation_id, &setup, &admin)?;
    let note = text::note("Call assigned in Aircall", &[("Assigned to", text::esc(&to.name)), ("Assigned by", text::esc(&by))]);
    conversation::add_notes(&job.client, &record.conversation_id, &setup, &[note])
}

/// `call.ivr_option_selected`: the configured option sends the caller an
/// Intercom Switch link (seed 004, "Switch", API installation).
pub fn ivr_option(job: &Job, call: &Call) -> Result<(), PluginError> {
    let Some(configured) = job.settings.switch_ivr_option.as_deref() else {
        return Ok(());
    };
    let Some(chosen) = call.ivr_options.last() else {
        return Ok(());
    };
    if !rules::is_switch_option(configured, chosen.key.as_deref(), chosen.title.as_deref()) {
        return Ok(());
    }
    if records::switch(call.id)?.is_some() {
        return Ok(());
    }
    let Some(Caller::Number(e164)) = caller(job, call) else {
        log::with(log::Level::Info, "Switch needs the caller's number; the call is anonymous", &[("call", &call.id.to_string())]);
        return Ok(());
    };
    let option = chosen.key.clone().or_else(|| chosen.title.clone()).unwrap_or_default();
    let record = match job.client.phone_switch(&e164) {
        Ok(s) => records::SwitchRecord { phone: e164, url: s.url, option, error: None },
        // 400 invalid_phone_number / sms_failed, 422: Intercom will not text this number.
        Err(crate::api::ApiError::Fatal(PluginError::Permanent(why))) => {
            log::with(log::Level::Warn, "Intercom Switch refused", &[("number", &e164), ("why", &why)]);
            records::SwitchRecord { phone: e164, url: None, option, error: Some(why) }
        }
        Err(e) => return Err(e.into()),
    };
    records::save_switch(call.id, &record)?;
    if let Some(logged) = records::call(call.id)? {
        conversation::add_notes(&job.client, &logged.conversation_id, &job.setup_admin()?, &[switch_note(&record)])?;
    }
    Ok(())
}

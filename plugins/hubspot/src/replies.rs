//! The recipient's side of the conversation (`message.received`): a reply to
//! a workflow SMS is logged as a communication on the record the SMS came from
//! and its contacts (seed: "Die nachfolgenden Nachrichten werden ebenfalls als
//! Engagement im entsprechenden Datensatz protokolliert"); an opt-out keyword
//! marks the sender's HubSpot contacts.

use crate::api::HubSpot;
use crate::conversation;
use crate::recipient::{self, MAX_CONTACTS};
use crate::records::Thread;
use crate::rules;
use crate::settings::Settings;
use std::collections::BTreeMap;
use switchboard_sdk::phone::{self, Normalized};
use switchboard_sdk::{Context, Message, PluginError, log};

/// Handle one inbound message.
pub fn received(ctx: &Context, settings: &Settings, msg: &Message) -> Result<(), PluginError> {
    let Some(number) = &msg.number else {
        log::debug("inbound message without an Aircall number: ignored");
        return Ok(());
    };
    let from = match phone::normalize(&msg.external_number, ctx.region_for(Some(number))) {
        Ok(Normalized::Number(e164)) => e164,
        _ => {
            log::debug("inbound message from an unusable number: ignored");
            return Ok(());
        }
    };
    let opt_out = rules::is_opt_out(&msg.body, &settings.opt_out_keywords);
    let mut thread = Thread::find(number.id, &from)?;
    if opt_out {
        mark_opted_out(settings, &from)?;
    }
    let Some(thread) = thread.as_mut() else {
        log::debug("inbound message outside any workflow conversation: not logged");
        return Ok(());
    };
    if thread.contact_ids.is_empty() {
        // The SMS went out before HubSpot knew this number: look again.
        let found = HubSpot::new(&settings.base_url).contacts_by_phone(&recipient::spellings(&from), &[])?;
        thread.contact_ids = found.into_iter().take(MAX_CONTACTS).map(|c| c.id).collect();
    }
    let channel = rules::reply_channel(msg.channel);
    let mut body = format!("Reply from {from} to {} ({}):\n{}", number.name, number.digits, msg.body);
    if !msg.media.is_empty() {
        body.push_str(&format!("\n[{} attachment(s)]", msg.media.len()));
    }
    if opt_out {
        body.push_str(&format!("\n(opt-out: {} set to {})", settings.opt_out_property, settings.opt_out_value));
    }
    let at_ms = msg.created_at.map(|s| s * 1000).unwrap_or_else(switchboard_sdk::now_ms);
    let id = conversation::log(settings, thread, channel, body, at_ms)?;
    log::with(log::Level::Info, "reply logged", &[("communication", &id), ("record", &thread.object_id)]);
    Ok(())
}

/// Set the opt-out property on every HubSpot contact with this number.
fn mark_opted_out(settings: &Settings, e164: &str) -> Result<(), PluginError> {
    let api = HubSpot::new(&settings.base_url);
    let contacts = api.contacts_by_phone(&recipient::spellings(e164), std::slice::from_ref(&settings.opt_out_property))?;
    if contacts.is_empty() {
        log::warn("opt-out received from a number no HubSpot contact has");
    }
    let change = BTreeMap::from([(settings.opt_out_property.clone(), settings.opt_out_value.clone())]);
    for c in contacts.iter().take(MAX_CONTACTS) {
        if rules::is_marked(c.property(&settings.opt_out_property), &settings.opt_out_value) {
            continue;
        }
        api.update_contact(&c.id, &change)?;
        log::with(log::Level::Info, "contact opted out of SMS", &[("contact", &c.id)]);
    }
    Ok(())
}

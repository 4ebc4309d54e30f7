//! `call.created`: find (or create) the Intercom contact while the phone rings,
//! sync it to Aircall, and show the insight cards (seed "Erkenntniskarten"):
//! the contact card, and the last conversation with its status and owner.

use crate::calls;
use crate::conversation;
use crate::job::Job;
use crate::party::{Caller, ContactRef};
use crate::{directory, links, sync};
use switchboard_sdk::telephony::{CardItem, CardShortText, CardTitle};
use switchboard_sdk::{Call, PluginError, log, telephony};

fn title(text: &str, link: Option<String>) -> CardItem {
    CardItem::Title(CardTitle { text: text.into(), link })
}

fn line(label: &str, text: String) -> CardItem {
    CardItem::ShortText(CardShortText { label: label.into(), text, link: None })
}

/// Handles `call.created`.
pub fn call_created(job: &Job, call: &Call) -> Result<(), PluginError> {
    if !job.settings.insight_cards && !job.settings.contact_sync {
        return Ok(());
    }
    let Some(caller) = calls::caller(job, call) else {
        return Ok(());
    };
    let Some(contact) = calls::contact_for(job, &caller, "call")? else {
        return Ok(());
    };
    let contact_link = links::contact(job, &contact);
    if job.settings.insight_cards {
        telephony::push_insight_card(call.id, &contact_card(&caller, &contact, contact_link.clone()))?;
        if let Some(card) = conversation_card(job, &contact)? {
            telephony::push_insight_card(call.id, &card)?;
        }
    }
    if job.settings.contact_sync
        && !contact.created_here
        && let Caller::Number(e164) = &caller
    {
        sync::to_aircall(&contact, e164, contact_link.as_deref())?;
    }
    Ok(())
}

/// "See contact page", name (or the number and "Aircall new user/lead"), type.
fn contact_card(caller: &Caller, contact: &ContactRef, link: Option<String>) -> Vec<CardItem> {
    let name = if contact.created_here && *caller != Caller::Anonymous {
        format!("{} — Aircall new user/lead", caller.display())
    } else {
        contact.name.clone().or_else(|| contact.email.clone()).unwrap_or_else(|| caller.display())
    };
    vec![title("See contact page", link), line("Name", name), line("Type", contact.kind().into())]
}

/// "See last conversation", status, owner (with Aircall availability), when the contact has one.
fn conversation_card(job: &Job, contact: &ContactRef) -> Result<Option<Vec<CardItem>>, PluginError> {
    let all = job.client.conversations_of(&contact.id)?;
    let Some(last) = conversation::latest(&all) else {
        return Ok(None);
    };
    let status = if last.is_open() { "Open" } else { "Closed" };
    let owner = match &last.admin_assignee_id {
        None => "Unassigned".to_string(),
        Some(id) => match directory::admin_by_id(&job.client, id)? {
            None => format!("Admin {id}"),
            Some(admin) => {
                let name = admin.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| format!("Admin {id}"));
                match availability(admin.email.as_deref()) {
                    Some(a) => format!("{name} ({a})"),
                    None => name,
                }
            }
        },
    };
    Ok(Some(vec![
        title("See last conversation", links::conversation(job, contact, &last.id)),
        line("Status", status.into()),
        line("Owner", owner),
    ]))
}

/// The owner's Aircall availability, when an Aircall user has the same e-mail.
/// A failure here only drops the detail from the card.
fn availability(email: Option<&str>) -> Option<String> {
    let email = email?.trim();
    if email.is_empty() {
        return None;
    }
    let user = match telephony::find_user_by_email(email) {
        Ok(u) => u?,
        Err(e) => {
            log::with(log::Level::Debug, "Aircall user look-up failed; card without availability", &[("error", &format!("{e:?}"))]);
            return None;
        }
    };
    match telephony::user_availability(user.id) {
        Ok(a) if !a.trim().is_empty() => Some(a.trim().replace('_', " ")),
        Ok(_) => None,
        Err(e) => {
            log::with(log::Level::Debug, "availability look-up failed", &[("error", &format!("{e:?}"))]);
            None
        }
    }
}

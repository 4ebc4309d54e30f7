//! The conversation an interaction is logged into, and writing it there (seed:
//! "Wie Anrufe protokolliert werden" and "Protokollierungslogik" of messages).
//! Which conversation is [`rules::searches_conversations`] and
//! [`rules::choose_conversation`]; this module reads the customer's
//! conversations, writes the thread (once, even after an ambiguous write),
//! reopens, tags and assigns.
//!
//! Tags: Help Scout's tag endpoint replaces the whole set (§2.8), so every
//! change is read (the conversation's current tags, which agents may have
//! edited) → modify → write, and only when something changed ([`update_tags`]).

use crate::api::conversations::{Conversation, NewConversation, NewThread};
use crate::api::{ApiError, Client};
use crate::rules::{self, Purpose};
use crate::settings::Settings;
use switchboard_sdk::json_patch::PatchOp;
use switchboard_sdk::tag_set::TagSet;
use switchboard_sdk::{PluginError, log};

/// The place: mailbox, customer, and how a new conversation is titled.
#[derive(Debug, Clone)]
pub struct Place {
    /// The mailbox the settings give the Aircall number.
    pub mailbox: u64,
    /// The Help Scout customer id of the party.
    pub customer: u64,
    /// Subject of a new conversation.
    pub subject: String,
    /// Call or message.
    pub purpose: Purpose,
}

/// One thing to write.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The thread to add (the first thread of a new conversation).
    pub thread: NewThread,
    /// A text the thread contains and no other does (for the ambiguity check).
    pub marker: String,
    /// Tags to add.
    pub tags: Vec<String>,
    /// Assign the conversation to this user (`None`: leave as it is / unassigned).
    pub assign: Option<u64>,
}

/// Add a thread unless an earlier attempt's (ambiguous) write already did.
fn add_thread_once(client: &Client, conversation: u64, t: &NewThread, marker: &str) -> Result<u64, ApiError> {
    match client.add_thread(conversation, t) {
        Err(ApiError::Ambiguous) => {
            if let Some(found) = client.threads(conversation)?.into_iter().find(|th| th.body.as_deref().is_some_and(|b| b.contains(marker)))
            {
                return Ok(found.id);
            }
            client.add_thread(conversation, t)
        }
        other => other,
    }
}

/// Create a conversation unless an earlier attempt's (ambiguous) create already did.
fn create_once(client: &Client, c: &NewConversation, marker: &str) -> Result<u64, PluginError> {
    match client.create_conversation(c) {
        Ok(id) => Ok(id),
        Err(ApiError::Ambiguous) => {
            for conv in client.conversations_of(c.mailbox, c.customer)?.iter().take(3) {
                if client.threads(conv.id)?.iter().any(|th| th.body.as_deref().is_some_and(|b| b.contains(marker))) {
                    return Ok(conv.id);
                }
            }
            Ok(client.create_conversation(c)?)
        }
        Err(e) => Err(e.into()),
    }
}

/// A new conversation holding the entry.
fn create(client: &Client, place: &Place, entry: &Entry) -> Result<u64, PluginError> {
    let conv = NewConversation {
        subject: place.subject.chars().take(200).collect(),
        kind: rules::new_conversation_type(place.purpose),
        mailbox: place.mailbox,
        status: "active",
        customer: place.customer,
        user: entry.thread.user,
        assign_to: entry.assign,
        tags: entry.tags.clone(),
        thread: entry.thread.clone(),
    };
    let id = create_once(client, &conv, &entry.marker)?;
    log::with(
        log::Level::Info,
        "Help Scout conversation created",
        &[("conversation", &id.to_string()), ("mailbox", &place.mailbox.to_string())],
    );
    Ok(id)
}

/// Write into a known conversation: thread, reopen, tags, assignee. `Ok(None)`
/// when it cannot take the thread (deleted, merged, full): log elsewhere.
pub fn write_into(client: &Client, conv: &Conversation, entry: &Entry) -> Result<Option<u64>, PluginError> {
    match add_thread_once(client, conv.id, &entry.thread, &entry.marker) {
        Ok(_) => {}
        Err(ApiError::Full | ApiError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    if rules::reopens(conv) {
        client.patch_conversation(conv.id, &PatchOp::replace("/status", "active"))?;
    }
    update_tags(client, conv.id, Some(conv.tag_names()), &entry.tags, &[])?;
    if let Some(user) = entry.assign
        && conv.assignee_id() != Some(user)
    {
        client.patch_conversation(conv.id, &PatchOp::replace("/assignTo", user))?;
    }
    Ok(Some(conv.id))
}

/// Log the entry at its place: the chosen conversation, or a new one.
pub fn log(client: &Client, settings: &Settings, now: i64, place: &Place, entry: &Entry) -> Result<u64, PluginError> {
    if rules::searches_conversations(settings, place.purpose) {
        let list = client.conversations_of(place.mailbox, place.customer)?;
        if let Some(conv) = rules::choose_conversation(&list, settings, place.purpose, now)
            && let Some(id) = write_into(client, conv, entry)?
        {
            return Ok(id);
        }
    }
    create(client, place, entry)
}

/// Add a thread to the conversation a call already has; when that conversation
/// cannot take it any more, a new one is opened at `place`.
pub fn append(client: &Client, conversation: u64, place: &Place, entry: &Entry) -> Result<u64, PluginError> {
    match add_thread_once(client, conversation, &entry.thread, &entry.marker) {
        Ok(_) => Ok(conversation),
        Err(ApiError::Full | ApiError::NotFound) => create(client, place, entry),
        Err(e) => Err(e.into()),
    }
}

/// Add and remove tags on a conversation. `current` is the set when the
/// caller just read it; otherwise it is read. Writes only on change.
pub fn update_tags(
    client: &Client,
    conversation: u64,
    current: Option<Vec<String>>,
    add: &[String],
    remove: &[String],
) -> Result<(), PluginError> {
    let current = match current {
        Some(c) => c,
        None => client.conversation(conversation)?.tag_names(),
    };
    let before = TagSet::from_names(&current);
    let mut after = before.clone();
    for r in remove {
        after.remove(r);
    }
    for a in add {
        after.insert(a);
    }
    if !after.same_tags(&before) {
        client.put_tags(conversation, after.names())?;
    }
    Ok(())
}

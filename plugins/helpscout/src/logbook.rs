//! Which conversation an interaction goes into, and writing it there (seed:
//! "Wie Anrufe protokolliert werden" and "Protokollierungslogik" of messages).
//!
//! Calls: unless "always log in a new conversation" is on, look for the
//! customer's conversations in the mailbox (when the search is enabled); take
//! open ones (active, pending) and, when configured, ones closed within the
//! window (48 h by default); skip spam; take the most recent. Messages: the
//! most recent open conversation, else — when configured — the most recent
//! closed one, reopened; they are never forced into a new conversation.

use crate::api::conversations::{Conversation, NewConversation, NewThread};
use crate::api::{ApiError, Client};
use crate::settings::Settings;
use crate::tags;
use switchboard_sdk::json_patch::PatchOp;
use switchboard_sdk::{PluginError, log};

/// What is being logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A call (phone conversation).
    Call,
    /// An SMS / WhatsApp message.
    Message,
}

/// The place: mailbox, customer, and how a new conversation is titled.
#[derive(Debug, Clone)]
pub struct Place {
    /// Mailbox.
    pub mailbox: u64,
    /// Customer.
    pub customer: u64,
    /// Subject of a new conversation.
    pub subject: String,
    /// Call or message.
    pub purpose: Purpose,
}

/// One thing to write.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The thread.
    pub thread: NewThread,
    /// A text the thread contains and no other does (for the ambiguity check).
    pub marker: String,
    /// Tags to add.
    pub tags: Vec<String>,
    /// Assign the conversation to this user (`None`: leave as it is / unassigned).
    pub assign: Option<u64>,
}

fn is_open(c: &Conversation) -> bool {
    matches!(c.status.as_str(), "active" | "pending")
}

/// Choose among the customer's conversations (list order does not matter).
pub fn choose<'a>(list: &'a [Conversation], settings: &Settings, purpose: Purpose, now: i64) -> Option<&'a Conversation> {
    let candidates = list.iter().filter(|c| c.status != "spam");
    match purpose {
        Purpose::Call => candidates
            .filter(|c| {
                is_open(c)
                    || (settings.include_closed
                        && c.status == "closed"
                        && c.closed().unwrap_or_else(|| c.updated()) >= now - settings.closed_window_secs)
            })
            .max_by_key(|c| (c.updated(), c.id)),
        Purpose::Message => {
            let open = list.iter().filter(|c| is_open(c)).max_by_key(|c| (c.updated(), c.id));
            open.or_else(|| {
                settings
                    .reopen_for_messages
                    .then(|| candidates.filter(|c| c.status == "closed").max_by_key(|c| (c.updated(), c.id)))
                    .flatten()
            })
        }
    }
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
        kind: match place.purpose {
            Purpose::Call => "phone",
            // [U] Help Scout has no SMS conversation type; `chat` is the closest.
            Purpose::Message => "chat",
        },
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
    if conv.status == "closed" {
        client.patch_conversation(conv.id, &PatchOp::replace("/status", "active"))?;
    }
    tags::update(client, conv.id, Some(conv.tag_names()), &entry.tags, &[])?;
    if let Some(user) = entry.assign
        && conv.assignee_id() != Some(user)
    {
        client.patch_conversation(conv.id, &PatchOp::replace("/assignTo", user))?;
    }
    Ok(Some(conv.id))
}

/// Log the entry at its place: the chosen conversation, or a new one.
pub fn log(client: &Client, settings: &Settings, now: i64, place: &Place, entry: &Entry) -> Result<u64, PluginError> {
    let search = match place.purpose {
        Purpose::Call => settings.search_existing && !settings.always_new,
        Purpose::Message => true,
    };
    if search {
        let list = client.conversations_of(place.mailbox, place.customer)?;
        if let Some(conv) = choose(&list, settings, place.purpose, now)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings::defaults()
    }

    fn conv(id: u64, status: &str, updated: &str, closed: Option<&str>) -> Conversation {
        serde_json::from_value(serde_json::json!({ "id": id, "status": status, "userUpdatedAt": updated, "closedAt": closed }))
            .unwrap_or_default()
    }

    #[test]
    fn calls_take_the_most_recent_open_and_skip_spam() {
        let now = 1_800_000_000;
        let list = vec![
            conv(1, "active", "2027-01-01T00:00:00Z", None),
            conv(2, "pending", "2027-01-10T00:00:00Z", None),
            conv(3, "spam", "2027-01-12T00:00:00Z", None),
            conv(4, "closed", "2027-01-14T00:00:00Z", Some("2027-01-14T00:00:00Z")),
        ];
        let s = settings();
        assert_eq!(choose(&list, &s, Purpose::Call, now).map(|c| c.id), Some(2));
    }

    #[test]
    fn closed_window_applies_when_enabled() {
        let now = 1_800_000_000; // 2027-01-15T08:00:00Z
        let recent = switchboard_sdk::datetime::iso8601(now - 3600);
        let old = switchboard_sdk::datetime::iso8601(now - 72 * 3600);
        let list = vec![conv(1, "closed", &recent, Some(&recent)), conv(2, "closed", &old, Some(&old))];
        let mut s = settings();
        assert!(choose(&list, &s, Purpose::Call, now).is_none());
        s.include_closed = true;
        assert_eq!(choose(&list, &s, Purpose::Call, now).map(|c| c.id), Some(1));
        s.closed_window_secs = 1800;
        assert!(choose(&list, &s, Purpose::Call, now).is_none());
        assert!(choose(&list, &s, Purpose::Message, now).is_none());
        s.reopen_for_messages = true;
        assert_eq!(choose(&list, &s, Purpose::Message, now).map(|c| c.id), Some(1));
    }
}

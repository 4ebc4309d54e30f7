//! The parts of Intercom's JSON the connector reads (schemas of the 2.16
//! description). Every field is optional or defaulted: a response missing one
//! is read as "unknown", never a panic.

use serde::{Deserialize, Deserializer, Serialize};

/// Ids arrive as strings in 2.16, as numbers in places (`admin_assignee_id`); accept both.
fn id_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(match v {
        serde_json::Value::String(s) => s,
        serde_json::Value::Number(n) => n.to_string(),
        _ => String::new(),
    })
}

/// `0`, `null` and absent all mean "nobody" for assignees (§1.7).
fn assignee_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(match v {
        serde_json::Value::String(s) if !s.is_empty() && s != "0" => Some(s),
        serde_json::Value::Number(n) if n.as_u64() != Some(0) => Some(n.to_string()),
        _ => None,
    })
}

/// A contact (user or lead).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Contact {
    /// 24-character id.
    #[serde(deserialize_with = "id_lenient")]
    pub id: String,
    /// `user` or `lead`.
    pub role: String,
    /// Full name.
    pub name: Option<String>,
    /// Intercom's contact `email`; a search on it finds the anonymous contact.
    pub email: Option<String>,
    /// Phone as stored.
    pub phone: Option<String>,
    /// The workspace (app `id_code`), for links.
    pub workspace_id: Option<String>,
    /// UNIX seconds.
    pub updated_at: Option<i64>,
}

/// `POST /contacts/search` answer.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ContactList {
    /// The first page of matches; the searches ask for at most 10.
    pub data: Vec<Contact>,
    /// All matches.
    pub total_count: Option<u64>,
}

/// A teammate.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Admin {
    /// Intercom's admin `id`: what assignments and tagging send as `admin_id`.
    #[serde(deserialize_with = "id_lenient")]
    pub id: String,
    pub name: Option<String>,
    /// Intercom's admin `email`: an Aircall user is matched to the admin by it,
    /// ignoring case and surrounding spaces.
    pub email: Option<String>,
}

/// `GET /admins` answer.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AdminList {
    /// Every admin.
    pub admins: Vec<Admin>,
}

/// The app inside `GET /me`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct App {
    /// Workspace id.
    pub id_code: Option<String>,
}

/// `GET /me` answer.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Me {
    /// The token owner's admin id.
    #[serde(deserialize_with = "id_lenient")]
    pub id: String,
    /// The workspace (`app`): its `id_code` makes web links when a contact
    /// carries no `workspace_id`.
    pub app: App,
}

/// A conversation (the fields the rules need).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Conversation {
    /// Intercom's conversation `id`; a number is read as its digits.
    #[serde(deserialize_with = "id_lenient")]
    pub id: String,
    /// `open`, `closed` or `snoozed`.
    pub state: String,
    /// UNIX seconds.
    pub updated_at: i64,
    /// Assigned admin, `None` when unassigned.
    #[serde(deserialize_with = "assignee_lenient")]
    pub admin_assignee_id: Option<String>,
}

impl Conversation {
    /// Not closed: open, or snoozed (a contact reply wakes it up).
    pub fn is_open(&self) -> bool {
        self.state != "closed" && !self.state.is_empty()
    }
}

/// `GET /conversations/{id}`: what a look-up after a lost answer reads.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConversationDetail {
    /// The first message.
    pub source: Source,
    /// Assigned admin, `None` when unassigned.
    #[serde(deserialize_with = "assignee_lenient")]
    pub admin_assignee_id: Option<String>,
    /// Replies, notes, assignments.
    pub conversation_parts: PartList,
}

/// A conversation's first message.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Source {
    /// Its body (HTML).
    pub body: String,
}

/// `conversation_parts` of a single conversation read.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PartList {
    /// The parts, oldest first.
    pub conversation_parts: Vec<Part>,
}

/// One part.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Part {
    /// `comment`, `note`, `assignment`...
    pub part_type: String,
    /// Its body (HTML), empty for assignments.
    #[serde(deserialize_with = "null_as_empty")]
    pub body: String,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// `POST /conversations/search` answer.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConversationList {
    /// The first page; the search asks for at most 50.
    pub conversations: Vec<Conversation>,
}

/// `POST /conversations` answer: a message, not the conversation (§1.7).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UserMessage {
    /// The conversation it started.
    #[serde(deserialize_with = "id_lenient")]
    pub conversation_id: String,
}

/// A tag.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Tag {
    /// Intercom's tag `id`: what tagging a conversation sends.
    #[serde(deserialize_with = "id_lenient")]
    pub id: String,
    /// Intercom's tag `name`; Intercom compares names without regard to case
    /// (§1.9).
    pub name: String,
}

/// `POST /phone_call_redirects` answer (§1.10).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PhoneSwitch {
    /// The Messenger link texted to the caller (in the documented example).
    pub url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignee_zero_and_null_mean_nobody() {
        let c: Conversation = serde_json::from_str(r#"{"id": 5, "state": "open", "admin_assignee_id": 0}"#).unwrap_or_default();
        assert_eq!((c.id.as_str(), c.admin_assignee_id), ("5", None));
        let c: Conversation = serde_json::from_str(r#"{"id": "5", "admin_assignee_id": 991002}"#).unwrap_or_default();
        assert_eq!(c.admin_assignee_id.as_deref(), Some("991002"));
        let c: Conversation = serde_json::from_str(r#"{"id": "5", "admin_assignee_id": null}"#).unwrap_or_default();
        assert_eq!(c.admin_assignee_id, None);
    }
}

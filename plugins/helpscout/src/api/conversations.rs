//! Conversations, threads, JSON Patch updates and tags (reference §2.7, §2.8).

use super::{ApiError, ApiResult, Client, Link, encode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use switchboard_sdk::datetime;
use switchboard_sdk::http;
use switchboard_sdk::json_patch::PatchOp;

/// A tag as conversations carry it (`{id, color, tag}`; `name` in some payloads).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TagRef {
    /// The tag's name.
    pub tag: Option<String>,
    /// Alternative spelling.
    pub name: Option<String>,
}

/// A person reference (`{id, type, first, last, email}`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PersonRef {
    /// The person's `id`; `0` when absent (an assignee of `0` counts as none).
    pub id: u64,
    /// `user`, `customer`, `team`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct Links {
    web: Link,
}

/// A conversation as lists and `GET` return it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Conversation {
    /// Help Scout's conversation `id` (not the `number` people see).
    pub id: u64,
    /// Number shown in the UI.
    pub number: u64,
    /// `active`, `pending`, `closed`, `spam`.
    pub status: String,
    /// Help Scout's `mailboxId`.
    pub mailbox_id: u64,
    /// Help Scout's `subject`.
    pub subject: Option<String>,
    /// Assignee (`null` = unassigned).
    pub assignee: Option<PersonRef>,
    /// Primary customer.
    pub primary_customer: Option<PersonRef>,
    /// Help Scout's `tags`, read by name with [`Conversation::tag_names`].
    pub tags: Vec<TagRef>,
    /// ISO 8601.
    pub created_at: Option<String>,
    /// ISO 8601, last change by a user.
    pub user_updated_at: Option<String>,
    /// ISO 8601, when closed.
    pub closed_at: Option<String>,
    #[serde(rename = "_links")]
    links: Links,
}

impl Conversation {
    /// Tag names.
    pub fn tag_names(&self) -> Vec<String> {
        self.tags.iter().filter_map(|t| t.tag.clone().or_else(|| t.name.clone())).collect()
    }

    /// Last activity, UNIX seconds (falls back to creation).
    pub fn updated(&self) -> i64 {
        [self.user_updated_at.as_deref(), self.created_at.as_deref()].into_iter().flatten().find_map(datetime::parse_rfc3339).unwrap_or(0)
    }

    /// When it was closed, UNIX seconds.
    pub fn closed(&self) -> Option<i64> {
        self.closed_at.as_deref().and_then(datetime::parse_rfc3339)
    }

    /// Assigned user id.
    pub fn assignee_id(&self) -> Option<u64> {
        self.assignee.as_ref().map(|a| a.id).filter(|id| *id > 0)
    }

    /// The conversation's page in the web app (`_links.web.href`, §2.9).
    pub fn web_url(&self) -> String {
        if self.links.web.href.starts_with("https://") {
            self.links.web.href.clone()
        } else {
            format!("https://secure.helpscout.net/conversation/{}/{}/", self.id, self.number)
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ConversationList {
    conversations: Vec<Conversation>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Page {
    #[serde(rename = "_embedded")]
    embedded: ConversationList,
}

/// A thread as the API returns it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Thread {
    /// Help Scout's thread `id`.
    pub id: u64,
    /// Help Scout's thread `body` (HTML): searched for a marker after an
    /// ambiguous write.
    pub body: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ThreadList {
    threads: Vec<Thread>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ThreadPage {
    #[serde(rename = "_embedded")]
    embedded: ThreadList,
}

/// Thread kinds this connector writes, with their paths (`POST /v2/conversations/{id}/…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadKind {
    /// A phone call log (customer side).
    Phone,
    /// An internal note by a user.
    Note,
}

impl ThreadKind {
    fn path(self) -> &'static str {
        match self {
            ThreadKind::Phone => "phones",
            ThreadKind::Note => "notes",
        }
    }
    fn name(self) -> &'static str {
        match self {
            ThreadKind::Phone => "phone",
            ThreadKind::Note => "note",
        }
    }
}

/// A thread to write.
#[derive(Debug, Clone)]
pub struct NewThread {
    /// Which endpoint it goes to (`phones` or `notes`) and, inside a create,
    /// its `type`.
    pub kind: ThreadKind,
    /// Text (HTML allowed).
    pub text: String,
    /// The customer (required on phone threads).
    pub customer: u64,
    /// The user it is attributed to (documented for notes; sent on phone threads too [U]).
    pub user: Option<u64>,
    /// Inline attachments `{fileName, mimeType, data}`.
    pub attachments: Vec<Value>,
}

impl NewThread {
    fn body(&self, with_type: bool) -> Value {
        let mut v = json!({ "text": self.text });
        if with_type {
            v["type"] = json!(self.kind.name());
        }
        if self.kind == ThreadKind::Phone || with_type {
            v["customer"] = json!({ "id": self.customer });
        }
        if let Some(u) = self.user {
            v["user"] = json!(u);
        }
        if !self.attachments.is_empty() {
            v["attachments"] = Value::Array(self.attachments.clone());
        }
        v
    }
}

/// `POST /v2/conversations` body.
#[derive(Debug, Clone)]
pub struct NewConversation {
    /// Help Scout's `subject`, cut to 200 characters by the caller.
    pub subject: String,
    /// `phone`, `chat` or `email`.
    pub kind: &'static str,
    /// Help Scout's `mailboxId`: the mailbox the settings give the Aircall
    /// number (`Settings::mailbox_for`).
    pub mailbox: u64,
    /// `active`, `pending`, `closed`.
    pub status: &'static str,
    /// Customer id.
    pub customer: u64,
    /// Creator (a user id).
    pub user: Option<u64>,
    /// `Some(id)` assigns; `None` leaves it unassigned (explicit `null`, §2.7).
    pub assign_to: Option<u64>,
    /// Help Scout's `tags`, as names.
    pub tags: Vec<String>,
    /// The first thread (batched into the create: writes count double, §2.3).
    pub thread: NewThread,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody<'a> {
    subject: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    mailbox_id: u64,
    status: &'a str,
    customer: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<u64>,
    assign_to: Option<u64>,
    tags: &'a [String],
    threads: Vec<Value>,
}

impl Client {
    /// The customer's conversations in a mailbox, any status, most recently
    /// changed first (first page: 25).
    pub fn conversations_of(&self, mailbox: u64, customer: u64) -> ApiResult<Vec<Conversation>> {
        let query = format!("(customerIds:{customer})");
        let page: Page = self.get_json(&format!(
            "/v2/conversations?mailbox={mailbox}&status=all&query={}&sortField=modifiedAt&sortOrder=desc",
            encode(&query)
        ))?;
        Ok(page.embedded.conversations.into_iter().filter(|c| c.id > 0).collect())
    }

    /// One conversation.
    pub fn conversation(&self, id: u64) -> ApiResult<Conversation> {
        self.get_json(&format!("/v2/conversations/{id}"))
    }

    /// Create a conversation with its first thread; its id.
    pub fn create_conversation(&self, c: &NewConversation) -> ApiResult<u64> {
        let body = CreateBody {
            subject: &c.subject,
            kind: c.kind,
            mailbox_id: c.mailbox,
            status: c.status,
            customer: json!({ "id": c.customer }),
            user: c.user,
            assign_to: c.assign_to,
            tags: &c.tags,
            threads: vec![c.thread.body(true)],
        };
        self.create("/v2/conversations", &body)
    }

    /// Add a thread; its id.
    pub fn add_thread(&self, conversation: u64, t: &NewThread) -> ApiResult<u64> {
        self.create(&format!("/v2/conversations/{conversation}/{}", t.kind.path()), &t.body(false))
    }

    /// The conversation's threads (newest first).
    pub fn threads(&self, conversation: u64) -> ApiResult<Vec<Thread>> {
        let page: ThreadPage = self.get_json(&format!("/v2/conversations/{conversation}/threads"))?;
        Ok(page.embedded.threads)
    }

    /// One JSON Patch `replace` on a conversation (204): the same end state
    /// however often it is sent, so a lost answer is sent again.
    pub fn patch_conversation(&self, conversation: u64, op: &PatchOp) -> ApiResult<()> {
        self.send_idempotent(http::patch(&self.url(&format!("/v2/conversations/{conversation}"))).json(op)?).map(|_| ())
    }

    /// Replace the conversation's whole tag set (204, §2.8): idempotent, so a
    /// lost answer is sent again.
    pub fn put_tags(&self, conversation: u64, tags: &[String]) -> ApiResult<()> {
        self.send_idempotent(http::put(&self.url(&format!("/v2/conversations/{conversation}/tags"))).json(&json!({ "tags": tags }))?)
            .map(|_| ())
    }
}

/// Whether an error is the "already there?" case a caller should check.
pub fn is_ambiguous(e: &ApiError) -> bool {
    matches!(e, ApiError::Ambiguous)
}

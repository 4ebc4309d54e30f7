//! Gorgias records kept by the emulator, and their JSON.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::common::util::iso8601;

/// Gorgias datetime format (`2019-06-21T15:34:03.000000+00:00`).
pub fn dt(secs: i64) -> String {
    let iso = iso8601(secs);
    format!("{}.000000+00:00", iso.trim_end_matches('Z'))
}

/// A user (agent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct User {
    /// Gorgias's user `id`, as seeded (the emulator never allocates one).
    pub id: u64,
    /// Gorgias's `email`: what a connector matches an Aircall user by.
    pub email: String,
    /// First name.
    pub firstname: String,
    /// Last name.
    pub lastname: String,
    /// Role slug: `admin`, `agent` (Lead), `basic-agent`, `lite-agent`, `observer-agent`.
    pub role: String,
    /// Gorgias's `active`, reported as is (no endpoint filters on it).
    pub active: bool,
}

/// A customer channel (phone, email…).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Channel {
    /// Gorgias's channel `id`, allocated when the customer is created through the API.
    pub id: u64,
    /// `email`, `phone`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// Gorgias's `address`: the e-mail, phone number or social id.
    pub address: String,
    /// Gorgias's `preferred`; `false` when the create body leaves it out.
    pub preferred: bool,
}

/// A Gorgias customer (`/api/customers`, found by `POST /api/search`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Customer {
    /// Gorgias's customer `id`; a seed's `0` is replaced by a fresh one.
    pub id: u64,
    /// Gorgias's `name`, the full name.
    pub name: Option<String>,
    /// First name.
    pub firstname: Option<String>,
    /// Last name.
    pub lastname: Option<String>,
    /// Primary e-mail.
    pub email: Option<String>,
    /// External id.
    pub external_id: Option<String>,
    /// Gorgias's `note`. The emulator takes it on create; whether Gorgias
    /// does is not confirmed (reference §1.5).
    pub note: Option<String>,
    /// Gorgias's `language` (ISO 639-1).
    pub language: Option<String>,
    /// Time zone.
    pub timezone: Option<String>,
    /// Gorgias's `channels`; the first `email` channel fills `email` when
    /// the create body has none.
    pub channels: Vec<Channel>,
    /// UNIX seconds.
    pub created_at: i64,
    /// UNIX seconds.
    pub updated_at: i64,
}

/// A message of a ticket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Gorgias's message `id`, allocated when the message is created.
    pub id: u64,
    /// `phone`, `sms`, `api`, `internal-note`, `email`…
    pub channel: String,
    /// `api` etc.
    pub via: String,
    /// Sent by the company.
    pub from_agent: bool,
    /// Sender `{id, email, name}`.
    pub sender: Value,
    /// Receiver, when any.
    pub receiver: Value,
    /// Routing information.
    pub source: Value,
    /// Gorgias's message `subject`, as the client set it.
    pub subject: Option<String>,
    /// Text body.
    pub body_text: Option<String>,
    /// HTML body.
    pub body_html: Option<String>,
    /// Attachments `{url, name, size, content_type}`.
    pub attachments: Vec<Value>,
    /// External id.
    pub external_id: Option<String>,
    /// As sent (None = Gorgias would deliver the message itself).
    pub sent_datetime: Option<String>,
    /// Whether Gorgias would try to deliver it (no `sent_datetime`, not a note).
    pub would_send: bool,
    /// UNIX seconds.
    pub created_at: i64,
}

/// A Gorgias ticket (`/api/tickets`) with its messages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    /// Gorgias's ticket `id`, allocated when the ticket is created.
    pub id: u64,
    /// `open` or `closed`.
    pub status: String,
    /// Gorgias's ticket `channel`: the body's, else the first message's,
    /// else `api`.
    pub channel: String,
    /// Gorgias's `via`; `api` when the body leaves it out.
    pub via: String,
    /// Created by the company.
    pub from_agent: bool,
    /// Gorgias's ticket `subject`, as the client set it.
    pub subject: Option<String>,
    /// Gorgias's `customer`, by id: the body's, else the sender of the first
    /// message not from an agent.
    pub customer_id: Option<u64>,
    /// Assigned user.
    pub assignee_user_id: Option<u64>,
    /// Assigned team.
    pub assignee_team_id: Option<u64>,
    /// Spam flag.
    pub spam: bool,
    /// Gorgias's `priority`; `normal` when the body leaves it out.
    pub priority: String,
    /// Unread flag.
    pub is_unread: bool,
    /// External id.
    pub external_id: Option<String>,
    /// Tag ids.
    pub tag_ids: Vec<u64>,
    /// Gorgias's `messages`, oldest first (1 to 500 on create).
    pub messages: Vec<Message>,
    /// UNIX seconds.
    pub created_at: i64,
    /// UNIX seconds.
    pub updated_at: i64,
    /// As set.
    pub closed_datetime: Option<String>,
    /// As set (None = not trashed).
    pub trashed_datetime: Option<String>,
    /// As set.
    pub snooze_datetime: Option<String>,
}

/// An account tag (`/api/tags`); tickets refer to it by id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tag {
    /// Gorgias's tag `id`, allocated when the tag is created.
    pub id: u64,
    /// Name (case-sensitive).
    pub name: String,
    /// Gorgias's tag `description`, as created.
    pub description: Option<String>,
    /// `{color}`.
    pub decoration: Value,
}

/// An uploaded file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Upload {
    /// URL to reference in `attachments`.
    pub url: String,
    /// Label (form field name) / file name.
    pub name: String,
    /// Bytes.
    pub size: usize,
    /// MIME type.
    pub content_type: String,
}

/// Everything the Gorgias emulator holds, each kind in the order added.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GorgiasState {
    pub users: Vec<User>,
    pub customers: Vec<Customer>,
    pub tickets: Vec<Ticket>,
    pub tags: Vec<Tag>,
    /// Uploaded files.
    pub uploads: Vec<Upload>,
    /// The last id handed out by [`GorgiasState::alloc`]: records created
    /// through the API, and seeded customers with id 0, take the next one.
    pub next_id: u64,
}

/// Records to add with `POST /_sandbox/seed`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GorgiasSeed {
    /// Users to add; one with an existing user's id replaces it.
    pub users: Vec<User>,
    /// Customers (id 0 = allocate).
    pub customers: Vec<Customer>,
}

impl GorgiasState {
    /// Starting state: users with several roles, one customer.
    pub fn demo() -> Self {
        let user = |id, email: &str, first: &str, last: &str, role: &str| User {
            id,
            email: email.into(),
            firstname: first.into(),
            lastname: last.into(),
            role: role.into(),
            active: true,
        };
        Self {
            users: vec![
                user(17, "operator@sandbox.test", "Sandbox", "Operator", "admin"),
                user(18, "ada@example.com", "Ada", "Agent", "basic-agent"),
                // [U] §1.6/§3.7: only `admin` is a confirmed role slug; the others follow the reference's guess.
                user(19, "olga@example.com", "Olga", "Observer", "observer-agent"),
            ],
            customers: vec![Customer {
                id: 90210,
                name: Some("Chloé Client".into()),
                firstname: Some("Chloé".into()),
                lastname: Some("Client".into()),
                email: Some("chloe@acme.example".into()),
                channels: vec![
                    Channel { id: 1, kind: "phone".into(), address: "+33612345678".into(), preferred: true },
                    Channel { id: 2, kind: "email".into(), address: "chloe@acme.example".into(), preferred: false },
                ],
                created_at: 1_700_000_000,
                updated_at: 1_700_000_000,
                ..Customer::default()
            }],
            next_id: 500_000,
            ..Self::default()
        }
    }

    /// A fresh id.
    pub fn alloc(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Adds seed records.
    pub fn apply(&mut self, seed: GorgiasSeed) {
        for u in seed.users {
            self.users.retain(|x| x.id != u.id);
            self.users.push(u);
        }
        for mut c in seed.customers {
            if c.id == 0 {
                c.id = self.alloc();
            }
            self.customers.retain(|x| x.id != c.id);
            self.customers.push(c);
        }
    }

    /// User JSON.
    pub fn user_json(u: &User) -> Value {
        json!({
            "id": u.id, "active": u.active, "bio": null, "country": null, "email": u.email, "external_id": null,
            "firstname": u.firstname, "lastname": u.lastname, "name": format!("{} {}", u.firstname, u.lastname),
            "language": "en", "timezone": "UTC", "meta": {}, "role": { "name": u.role },
            "created_datetime": dt(1_700_000_000), "updated_datetime": dt(1_700_000_000), "deactivated_datetime": null,
        })
    }

    /// Customer JSON.
    pub fn customer_json(c: &Customer) -> Value {
        json!({
            "id": c.id, "name": c.name, "firstname": c.firstname, "lastname": c.lastname, "email": c.email,
            "external_id": c.external_id, "note": c.note, "language": c.language, "timezone": c.timezone,
            "channels": c.channels, "integrations": {}, "meta": {}, "data": null,
            "created_datetime": dt(c.created_at), "updated_datetime": dt(c.updated_at),
        })
    }

    fn short_user(&self, id: Option<u64>) -> Value {
        match id.and_then(|id| self.users.iter().find(|u| u.id == id)) {
            Some(u) => {
                json!({ "id": u.id, "email": u.email, "name": format!("{} {}", u.firstname, u.lastname), "firstname": u.firstname, "lastname": u.lastname })
            }
            None => Value::Null,
        }
    }

    /// Tag JSON.
    pub fn tag_json(&self, t: &Tag) -> Value {
        let usage = self.tickets.iter().filter(|x| x.tag_ids.contains(&t.id)).count();
        json!({ "id": t.id, "name": t.name, "description": t.description, "decoration": t.decoration, "usage": usage,
                "uri": format!("/api/tags/{}/", t.id), "created_datetime": dt(1_700_000_000), "deleted_datetime": null })
    }

    /// Message JSON.
    pub fn message_json(&self, ticket: u64, m: &Message) -> Value {
        json!({
            "id": m.id, "uri": format!("/api/tickets/{ticket}/messages/{}/", m.id), "message_id": null, "ticket_id": ticket,
            "channel": m.channel, "via": m.via, "from_agent": m.from_agent, "public": m.channel != "internal-note",
            "sender": m.sender, "receiver": m.receiver, "source": m.source, "subject": m.subject,
            "body_text": m.body_text, "body_html": m.body_html, "stripped_text": m.body_text, "attachments": m.attachments,
            "external_id": m.external_id, "sent_datetime": m.sent_datetime, "created_datetime": dt(m.created_at),
            "failed_datetime": null, "deleted_datetime": null, "opened_datetime": null, "last_sending_error": null,
            "integration_id": null, "meta": null,
        })
    }

    /// Ticket JSON; `messages` includes the messages (single reads).
    pub fn ticket_json(&self, t: &Ticket, messages: bool) -> Value {
        let customer = t
            .customer_id
            .and_then(|id| self.customers.iter().find(|c| c.id == id))
            .map(|c| json!({ "id": c.id, "email": c.email, "name": c.name, "firstname": c.firstname, "lastname": c.lastname }));
        let tags: Vec<Value> = t
            .tag_ids
            .iter()
            .filter_map(|id| self.tags.iter().find(|x| x.id == *id))
            .map(|x| json!({ "id": x.id, "name": x.name, "uri": format!("/api/tags/{}/", x.id), "decoration": x.decoration }))
            .collect();
        let last_received = t.messages.iter().filter(|m| !m.from_agent).map(|m| m.created_at).max();
        let mut v = json!({
            "id": t.id, "uri": format!("/api/tickets/{}/", t.id), "external_id": t.external_id,
            "status": t.status, "priority": t.priority, "spam": t.spam, "is_unread": t.is_unread,
            "channel": t.channel, "via": t.via, "from_agent": t.from_agent, "language": null, "subject": t.subject,
            "customer": customer, "assignee_user": self.short_user(t.assignee_user_id),
            "assignee_user_id": t.assignee_user_id,
            "assignee_team": t.assignee_team_id.map(|id| json!({ "id": id })),
            "tags": tags, "meta": null, "custom_fields": {},
            "created_datetime": dt(t.created_at), "opened_datetime": null,
            "last_received_message_datetime": last_received.map(dt),
            "last_message_datetime": t.messages.iter().map(|m| m.created_at).max().map(dt),
            "updated_datetime": dt(t.updated_at),
            "closed_datetime": t.closed_datetime, "snooze_datetime": t.snooze_datetime, "trashed_datetime": t.trashed_datetime,
            "messages_count": t.messages.len(),
        });
        if messages {
            v["messages"] = t.messages.iter().map(|m| self.message_json(t.id, m)).collect();
        }
        v
    }
}

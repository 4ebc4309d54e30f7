//! Help Scout records kept by the emulator, and their HAL JSON.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::common::util::iso8601;

/// A Help Scout mailbox (`GET /v2/mailboxes`); seeded, never created.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Mailbox {
    /// Help Scout's mailbox `id`: what a conversation's `mailboxId` names.
    pub id: u64,
    /// Help Scout's mailbox `name` (`Support`, `Sales` in the demo).
    pub name: String,
    /// Help Scout's mailbox `slug`; served, read by nothing in the emulator.
    pub slug: String,
    /// Help Scout's mailbox `email`, served as is.
    pub email: String,
}

/// A Help Scout user (agent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct User {
    /// Help Scout's user `id`, as seeded (the emulator never allocates one).
    pub id: u64,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Help Scout's `email`: what `GET /v2/users?email=` matches, ignoring case.
    pub email: String,
    /// `owner`, `admin`, `user`.
    pub role: String,
    /// Mailboxes the user can see (empty = all).
    pub mailbox_ids: Vec<u64>,
}

/// A phone or e-mail entry of a customer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Entry {
    /// Help Scout's entry `id`, allocated when the entry is added.
    pub id: u64,
    /// `work`, `home`, `mobile`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The number or address.
    pub value: String,
}

/// A Help Scout customer (`/v2/customers`, searched by `/v3/customers/search`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Customer {
    /// Help Scout's customer `id`; a seed's `0` is replaced by a fresh one.
    pub id: u64,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Notes (`background`).
    pub background: Option<String>,
    /// Help Scout's `organization`, the company; a create with more than
    /// 60 characters is refused.
    pub organization: Option<String>,
    /// Job title.
    pub job_title: Option<String>,
    /// Help Scout's `phones`, embedded under `_embedded.phones`.
    pub phones: Vec<Entry>,
    /// Help Scout's `emails`, embedded under `_embedded.emails`.
    pub emails: Vec<Entry>,
    /// UNIX seconds.
    pub created_at: i64,
    /// UNIX seconds.
    pub updated_at: i64,
}

/// An attachment on a thread.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// Help Scout's attachment `id`, allocated when the thread is added.
    pub id: u64,
    /// File name.
    pub file_name: String,
    /// MIME type.
    pub mime_type: String,
    /// Decoded size in bytes.
    pub size: usize,
}

/// A thread (message, note, phone log…) of a conversation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Thread {
    /// Help Scout's thread `id`, allocated when the thread is added.
    pub id: u64,
    /// `customer`, `reply`, `note`, `phone`, `chat`.
    pub kind: String,
    /// Help Scout's thread `text`, served as `body`; never empty.
    pub text: String,
    /// Customer it concerns.
    pub customer_id: Option<u64>,
    /// User who wrote it.
    pub user_id: Option<u64>,
    /// Conversation status after this thread.
    pub status: String,
    /// Imported (historical).
    pub imported: bool,
    /// Attachments sent inline with the thread (`fileName`, `mimeType`,
    /// base64 `data`), kept without their bytes.
    pub attachments: Vec<Attachment>,
    /// UNIX seconds.
    pub created_at: i64,
}

/// A Help Scout conversation (`/v2/conversations`) with its threads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    /// Help Scout's conversation `id`, allocated on create.
    pub id: u64,
    /// Number shown in the UI.
    pub number: u64,
    /// `email`, `chat`, `phone`.
    pub kind: String,
    /// Help Scout's `mailboxId`; `PATCH` with `move` changes it.
    pub mailbox_id: u64,
    /// `active`, `pending`, `closed`, `spam`.
    pub status: String,
    /// Help Scout's `subject`; never empty.
    pub subject: String,
    /// Primary customer.
    pub customer_id: u64,
    /// Assigned user.
    pub assignee: Option<u64>,
    /// Tag names.
    pub tags: Vec<String>,
    /// Threads, oldest first.
    pub threads: Vec<Thread>,
    /// User who created it.
    pub created_by: Option<u64>,
    /// UNIX seconds.
    pub created_at: i64,
    /// UNIX seconds.
    pub updated_at: i64,
    /// UNIX seconds, when closed.
    pub closed_at: Option<i64>,
}

/// An account tag (`GET /v2/tags`); conversations carry tag names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tag {
    /// Help Scout's tag `id`, allocated when a conversation is first given the name.
    pub id: u64,
    /// Help Scout's tag `name`; a name that differs only in case makes no second tag.
    pub name: String,
}

/// Everything the Help Scout emulator holds, each kind in the order added.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HelpScoutState {
    /// The user the static token belongs to.
    pub me: u64,
    pub mailboxes: Vec<Mailbox>,
    pub users: Vec<User>,
    pub customers: Vec<Customer>,
    pub conversations: Vec<Conversation>,
    pub tags: Vec<Tag>,
    /// Static tokens made invalid (expired) by a test or a fault; tokens issued by
    /// `/v2/oauth2/token` live in the OAuth server ([`super::HelpScout::oauth`]).
    pub expired_tokens: Vec<String>,
    /// The last id handed out by [`HelpScoutState::alloc`]: records created
    /// through the API, and seeded customers and entries with id 0, take the next one.
    pub next_id: u64,
}

/// Records to add with `POST /_sandbox/seed`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HelpScoutSeed {
    /// Mailboxes to add; one with an existing mailbox's id replaces it.
    pub mailboxes: Vec<Mailbox>,
    /// Users to add; one with an existing user's id replaces it.
    pub users: Vec<User>,
    /// Customers (id 0 = allocate).
    pub customers: Vec<Customer>,
}

impl HelpScoutState {
    /// Starting state: two mailboxes, two users, one customer.
    pub fn demo() -> Self {
        let mut s = Self { me: 95511, next_id: 700_000, ..Self::default() };
        s.mailboxes = vec![
            Mailbox { id: 30411, name: "Support".into(), slug: "support".into(), email: "support@sandbox.test".into() },
            Mailbox { id: 30412, name: "Sales".into(), slug: "sales".into(), email: "sales@sandbox.test".into() },
        ];
        s.users = vec![
            User {
                id: 95511,
                first_name: "Sandbox".into(),
                last_name: "Owner".into(),
                email: "owner@sandbox.test".into(),
                role: "owner".into(),
                mailbox_ids: vec![],
            },
            User {
                id: 95512,
                first_name: "Ada".into(),
                last_name: "Agent".into(),
                email: "ada@example.com".into(),
                role: "user".into(),
                mailbox_ids: vec![30411],
            },
        ];
        s.customers = vec![Customer {
            id: 7718822,
            first_name: Some("Chloé".into()),
            last_name: Some("Client".into()),
            organization: Some("ACME".into()),
            phones: vec![Entry { id: 1, kind: "mobile".into(), value: "+33612345678".into() }],
            emails: vec![Entry { id: 2, kind: "work".into(), value: "chloe@acme.example".into() }],
            created_at: 1_700_000_000,
            updated_at: 1_700_000_000,
            ..Customer::default()
        }];
        s
    }

    /// A fresh id.
    pub fn alloc(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Adds seed records.
    pub fn apply(&mut self, seed: HelpScoutSeed) {
        for m in seed.mailboxes {
            self.mailboxes.retain(|x| x.id != m.id);
            self.mailboxes.push(m);
        }
        for u in seed.users {
            self.users.retain(|x| x.id != u.id);
            self.users.push(u);
        }
        for mut c in seed.customers {
            if c.id == 0 {
                c.id = self.alloc();
            }
            for e in c.phones.iter_mut().chain(c.emails.iter_mut()) {
                if e.id == 0 {
                    e.id = self.next_id + 1;
                    self.next_id += 1;
                }
            }
            self.customers.retain(|x| x.id != c.id);
            self.customers.push(c);
        }
    }

    /// User JSON.
    pub fn user_json(&self, base: &str, u: &User) -> Value {
        json!({
            "id": u.id, "firstName": u.first_name, "lastName": u.last_name, "email": u.email, "role": u.role,
            "timezone": "Europe/Paris", "type": "user", "mention": u.first_name.to_lowercase(),
            "initials": format!("{}{}", u.first_name.chars().next().unwrap_or(' '), u.last_name.chars().next().unwrap_or(' ')).trim().to_owned(),
            "photoUrl": null, "jobTitle": null, "phone": null, "alternateEmails": [],
            "createdAt": iso8601(1_700_000_000), "updatedAt": iso8601(1_700_000_000),
            "_links": { "self": { "href": format!("{base}/v2/users/{}", u.id) } },
        })
    }

    /// Mailbox JSON.
    pub fn mailbox_json(&self, base: &str, m: &Mailbox) -> Value {
        json!({
            "id": m.id, "name": m.name, "slug": m.slug, "email": m.email,
            "createdAt": iso8601(1_700_000_000), "updatedAt": iso8601(1_700_000_000),
            "_links": {
                "self": { "href": format!("{base}/v2/mailboxes/{}", m.id) },
                "fields": { "href": format!("{base}/v2/mailboxes/{}/fields", m.id) },
                "folders": { "href": format!("{base}/v2/mailboxes/{}/folders", m.id) },
            },
        })
    }

    /// Customer JSON (with `_embedded` entries).
    pub fn customer_json(&self, base: &str, c: &Customer) -> Value {
        json!({
            "id": c.id, "firstName": c.first_name, "lastName": c.last_name, "background": c.background,
            "organization": c.organization, "jobTitle": c.job_title, "photoType": "unknown", "gender": "unknown",
            "createdAt": iso8601(c.created_at), "updatedAt": iso8601(c.updated_at),
            "_embedded": { "phones": c.phones, "emails": c.emails, "chats": [], "social_profiles": [], "websites": [], "properties": [] },
            "_links": { "self": { "href": format!("{base}/v2/customers/{}", c.id) } },
        })
    }

    fn person(&self, customer: u64) -> Value {
        let c = self.customers.iter().find(|c| c.id == customer);
        json!({
            "id": customer, "type": "customer",
            "first": c.and_then(|c| c.first_name.clone()), "last": c.and_then(|c| c.last_name.clone()),
            "email": c.and_then(|c| c.emails.first().map(|e| e.value.clone())),
        })
    }

    fn user_ref(&self, id: u64) -> Value {
        let u = self.users.iter().find(|u| u.id == id);
        json!({ "id": id, "type": "user", "first": u.map(|u| u.first_name.clone()), "last": u.map(|u| u.last_name.clone()), "email": u.map(|u| u.email.clone()) })
    }

    /// Thread JSON.
    pub fn thread_json(&self, t: &Thread) -> Value {
        let created_by = match (t.user_id, t.customer_id) {
            (Some(u), _) if t.kind != "customer" => self.user_ref(u),
            (_, Some(c)) => self.person(c),
            (Some(u), None) => self.user_ref(u),
            (None, None) => Value::Null,
        };
        json!({
            "id": t.id, "type": t.kind, "status": t.status, "state": "published", "action": null,
            "body": t.text, "source": { "type": "api", "via": if t.kind == "customer" { "customer" } else { "user" } },
            "customer": t.customer_id.map(|c| self.person(c)), "createdBy": created_by,
            "assignedTo": null, "imported": t.imported,
            "createdAt": iso8601(t.created_at),
            "_embedded": { "attachments": t.attachments.iter().map(|a| json!({
                "id": a.id, "filename": a.file_name, "mimeType": a.mime_type, "size": a.size, "width": 0, "height": 0,
            })).collect::<Vec<_>>() },
        })
    }

    /// Conversation JSON; `threads` embeds the threads (`embed=threads`).
    pub fn conversation_json(&self, base: &str, c: &Conversation, threads: bool) -> Value {
        let tags: Vec<Value> = c
            .tags
            .iter()
            .map(|n| json!({ "id": self.tags.iter().find(|t| &t.name == n).map(|t| t.id), "color": "#A5B2BD", "tag": n }))
            .collect();
        let mut v = json!({
            "id": c.id, "number": c.number, "threads": c.threads.len(), "type": c.kind, "folderId": 1,
            "status": c.status, "state": "published", "subject": c.subject,
            "preview": c.threads.last().map(|t| t.text.chars().take(80).collect::<String>()).unwrap_or_default(),
            "mailboxId": c.mailbox_id,
            "assignee": c.assignee.map(|u| self.user_ref(u)),
            "createdBy": c.created_by.map(|u| self.user_ref(u)).unwrap_or_else(|| self.person(c.customer_id)),
            "createdAt": iso8601(c.created_at),
            "closedBy": 0,
            "closedAt": c.closed_at.map(iso8601),
            "userUpdatedAt": iso8601(c.updated_at),
            "customerWaitingSince": { "time": iso8601(c.updated_at), "friendly": "" },
            "source": { "type": "api", "via": "user" },
            "tags": tags, "cc": [], "bcc": [],
            "primaryCustomer": self.person(c.customer_id),
            "customFields": [],
            "_links": {
                "self": { "href": format!("{base}/v2/conversations/{}", c.id) },
                "mailbox": { "href": format!("{base}/v2/mailboxes/{}", c.mailbox_id) },
                "primaryCustomer": { "href": format!("{base}/v2/customers/{}", c.customer_id) },
                "threads": { "href": format!("{base}/v2/conversations/{}/threads", c.id) },
                "web": { "href": format!("https://secure.helpscout.net/conversation/{}/{}/", c.id, c.number) },
            },
        });
        if threads {
            v["_embedded"] = json!({ "threads": c.threads.iter().rev().map(|t| self.thread_json(t)).collect::<Vec<_>>() });
        }
        v
    }
}

//! Intercom records kept by the emulator, and how they render as API JSON
//! (schemas of `shared/specs/intercom/api.intercom.io.2.16.yaml`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::common::util::phone_key;

/// The workspace (Intercom's `app`), served inside `GET /me`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct App {
    /// Workspace id (`id_code`, also contacts' `workspace_id`).
    pub id_code: String,
    /// Intercom's app `name`, served in `GET /me`'s `app`.
    pub name: String,
    /// Region (`US`, `EU`, `AU`).
    pub region: String,
    /// Time zone.
    pub timezone: String,
}

/// A teammate (Intercom's `admin`, `GET /admins`); seeded, never created.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Admin {
    /// Id (numeric string).
    pub id: String,
    /// Intercom's admin `name`, copied onto the author of the admin's parts.
    pub name: String,
    /// Intercom's admin `email`, copied onto the author of the admin's parts.
    pub email: String,
    /// Job title.
    pub job_title: String,
    /// Away mode.
    pub away_mode_enabled: bool,
    /// Reassign while away.
    pub away_mode_reassign: bool,
    /// Has an inbox seat.
    pub has_inbox_seat: bool,
    /// Intercom's `team_ids`, as seeded; not kept in step with
    /// [`Team::admin_ids`] (the demo's two disagree).
    pub team_ids: Vec<u64>,
}

/// A team (assignable).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Team {
    /// Id (numeric string).
    pub id: String,
    /// Intercom's team `name` (`Tier 1` in the demo).
    pub name: String,
    /// Intercom's `admin_ids`, as seeded (see [`Admin::team_ids`]).
    pub admin_ids: Vec<u64>,
}

/// A contact: a `user` or a `lead`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Contact {
    /// 24-character hex id.
    pub id: String,
    /// `user` or `lead`.
    pub role: String,
    /// External id.
    pub external_id: Option<String>,
    /// Intercom's contact `email`; served as `""` when absent, its domain as
    /// `email_domain`.
    pub email: Option<String>,
    /// Phone as given.
    pub phone: Option<String>,
    /// Intercom's contact `name`, copied onto the author of the contact's parts.
    pub name: Option<String>,
    /// Owner admin id.
    pub owner_id: Option<String>,
    /// Custom attributes.
    pub custom_attributes: Map<String, Value>,
    /// UNIX seconds.
    pub created_at: i64,
    /// UNIX seconds.
    pub updated_at: i64,
}

/// Who wrote a part.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Author {
    /// `admin`, `user`, `lead`, `team`, `bot`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Intercom's author `id`: the admin's or the contact's, as `kind` says.
    pub id: String,
    /// Intercom's author `name`, as it was when the part was written.
    pub name: Option<String>,
    /// E-mail (omitted when unknown: the schema's `email` is not nullable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// One conversation part.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Part {
    /// Id (numeric string).
    pub id: String,
    /// `comment`, `note`, `quick_reply`, `assignment`, `open`, `close`, `snoozed`.
    pub part_type: String,
    /// Body (HTML allowed in notes).
    pub body: Option<String>,
    /// UNIX seconds.
    pub created_at: i64,
    /// Intercom's part `author`: a copy of the admin or contact as they were
    /// when the part was written.
    pub author: Author,
    /// For assignments: `{type, id}` of the new assignee, `None` when unassigned.
    pub assigned_to: Option<Value>,
    /// Attachment URLs.
    pub attachment_urls: Vec<String>,
    /// Conversation state after this part.
    pub state: String,
}

/// A tag applied to a conversation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AppliedTag {
    /// Tag id.
    pub id: String,
    /// UNIX seconds.
    pub applied_at: i64,
    /// Admin id.
    pub applied_by: String,
}

/// An Intercom conversation (`/conversations`): its first message and
/// the parts after it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    /// Id (numeric string).
    pub id: String,
    /// Intercom's `title`; no endpoint of the emulator sets it.
    pub title: Option<String>,
    /// UNIX seconds.
    pub created_at: i64,
    /// UNIX seconds.
    pub updated_at: i64,
    /// `open`, `closed` or `snoozed`.
    pub state: String,
    /// Snoozed until (UNIX seconds).
    pub snoozed_until: Option<i64>,
    /// Intercom's `read`; no endpoint of the emulator sets it, a search can
    /// filter on it.
    pub read: bool,
    /// Admin assignee (`None` = unassigned).
    pub admin_assignee_id: Option<u64>,
    /// Team assignee (`None` = none).
    pub team_assignee_id: Option<u64>,
    /// Participants (contact ids).
    pub contact_ids: Vec<String>,
    /// Tags applied.
    pub tags: Vec<AppliedTag>,
    /// Source message type (`conversation` for contact-initiated).
    pub source_type: String,
    /// Source message id.
    pub source_id: String,
    /// How it was initiated.
    pub delivered_as: String,
    /// First message body.
    pub source_body: String,
    /// First message author.
    pub source_author: Author,
    /// Parts after the first message.
    pub parts: Vec<Part>,
}

/// An Intercom tag (`/tags`); conversations carry it by id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tag {
    /// Id (numeric string).
    pub id: String,
    /// Name (case-insensitive unique).
    pub name: String,
}

/// A `POST /phone_call_redirects` (Switch) request that succeeded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PhoneRedirect {
    /// Phone as sent.
    pub phone: String,
    /// Custom attributes sent.
    pub custom_attributes: Map<String, Value>,
    /// Messenger link sent by SMS.
    pub url: String,
    /// UNIX seconds.
    pub created_at: i64,
}

/// Everything the Intercom emulator holds, each kind in the order first added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntercomState {
    /// The workspace, served as `GET /me`'s `app`.
    pub app: App,
    /// Admin who owns the access token (`/me`).
    pub me: String,
    pub admins: Vec<Admin>,
    pub teams: Vec<Team>,
    pub contacts: Vec<Contact>,
    pub conversations: Vec<Conversation>,
    pub tags: Vec<Tag>,
    /// Switch requests.
    pub phone_redirects: Vec<PhoneRedirect>,
    /// Next id to hand out.
    pub next_id: u64,
}

/// Records to add with `POST /_sandbox/seed`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct IntercomSeed {
    /// Admins (replace by id).
    pub admins: Vec<Admin>,
    /// Teams (replace by id).
    pub teams: Vec<Team>,
    /// Contacts (replace by id; empty id = allocate).
    pub contacts: Vec<Contact>,
    /// Tags (replace by id; empty id = allocate).
    pub tags: Vec<Tag>,
}

impl IntercomState {
    /// The starting state: a workspace, three admins, a team, one contact, two tags.
    pub fn demo() -> Self {
        let mut s = Self {
            app: App { id_code: "sbx1a2b3".into(), name: "Sandbox Workspace".into(), region: "US".into(), timezone: "Europe/Paris".into() },
            me: "991001".into(),
            admins: Vec::new(),
            teams: Vec::new(),
            contacts: Vec::new(),
            conversations: Vec::new(),
            tags: Vec::new(),
            phone_redirects: Vec::new(),
            next_id: 100_000,
        };
        let admin = |id: &str, name: &str, email: &str| Admin {
            id: id.into(),
            name: name.into(),
            email: email.into(),
            job_title: "Support".into(),
            has_inbox_seat: true,
            team_ids: vec![881001],
            ..Admin::default()
        };
        s.apply(IntercomSeed {
            admins: vec![
                admin("991001", "Sandbox Operator", "operator@sandbox.test"),
                admin("991002", "Ada Agent", "ada@example.com"),
                admin("991003", "Bob Builder", "bob@example.com"),
            ],
            teams: vec![Team { id: "881001".into(), name: "Tier 1".into(), admin_ids: vec![991002, 991003] }],
            contacts: vec![Contact {
                id: "6650f0c2e4b0a1b2c3d4e5f6".into(),
                role: "user".into(),
                email: Some("chloe@acme.example".into()),
                phone: Some("+33612345678".into()),
                name: Some("Chloé Client".into()),
                created_at: 1_700_000_000,
                updated_at: 1_700_000_000,
                ..Contact::default()
            }],
            tags: vec![Tag { id: "771001".into(), name: "VIP".into() }, Tag { id: "771002".into(), name: "Call: missed".into() }],
        });
        s
    }

    /// A fresh numeric id.
    pub fn alloc(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }

    /// A fresh 24-character hex contact id.
    pub fn alloc_contact_id(&mut self) -> String {
        self.next_id += 1;
        format!("6650{:020x}", self.next_id)
    }

    /// Adds seed records.
    pub fn apply(&mut self, seed: IntercomSeed) {
        for a in seed.admins {
            upsert(&mut self.admins, a, |x| x.id.clone());
        }
        for t in seed.teams {
            upsert(&mut self.teams, t, |x| x.id.clone());
        }
        for mut c in seed.contacts {
            if c.id.is_empty() {
                c.id = self.alloc_contact_id();
            }
            if c.role.is_empty() {
                c.role = "user".into();
            }
            upsert(&mut self.contacts, c, |x| x.id.clone());
        }
        for mut t in seed.tags {
            if t.id.is_empty() {
                t.id = self.alloc();
            }
            upsert(&mut self.tags, t, |x| x.id.clone());
        }
    }

    /// `admin` schema.
    pub fn admin_json(&self, a: &Admin) -> Value {
        json!({
            "type": "admin",
            "id": a.id,
            "name": a.name,
            "email": a.email,
            "job_title": a.job_title,
            "away_mode_enabled": a.away_mode_enabled,
            "away_mode_reassign": a.away_mode_reassign,
            "away_status_reason_id": null,
            "has_inbox_seat": a.has_inbox_seat,
            "team_ids": a.team_ids,
            "avatar": null,
        })
    }

    /// `contact` schema.
    pub fn contact_json(&self, c: &Contact) -> Value {
        let domain = c.email.as_deref().and_then(|e| e.split_once('@')).map(|(_, d)| d.to_owned()).unwrap_or_default();
        json!({
            "type": "contact",
            "id": c.id,
            "workspace_id": self.app.id_code,
            "external_id": c.external_id,
            "role": c.role,
            "email": c.email.clone().unwrap_or_default(),
            "email_domain": domain,
            "phone": c.phone,
            "formatted_phone": c.phone.as_deref().map(phone_key),
            "name": c.name,
            "owner_id": c.owner_id,
            "has_hard_bounced": false,
            "marked_email_as_spam": false,
            "unsubscribed_from_emails": false,
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "signed_up_at": if c.role == "user" { Some(c.created_at) } else { None },
            "last_seen_at": null,
            "last_replied_at": null,
            "last_contacted_at": null,
            "last_email_opened_at": null,
            "last_email_clicked_at": null,
            "language_override": null,
            "browser": null,
            "browser_version": null,
            "browser_language": null,
            "os": null,
            "custom_attributes": c.custom_attributes,
            "avatar": null,
            "tags": { "type": "list", "data": [], "url": format!("/contacts/{}/tags", c.id), "total_count": 0, "has_more": false },
            "notes": { "type": "list", "data": [], "url": format!("/contacts/{}/notes", c.id), "total_count": 0, "has_more": false },
            "companies": { "type": "list", "data": [], "url": format!("/contacts/{}/companies", c.id), "total_count": 0, "has_more": false },
            "location": { "type": "location", "country": null, "region": null, "city": null },
            "social_profiles": { "type": "list", "data": [] },
        })
    }

    /// `tag` schema, optionally with how it was applied.
    pub fn tag_json(&self, t: &Tag, applied: Option<&AppliedTag>) -> Value {
        let mut v = json!({ "type": "tag", "id": t.id, "name": t.name });
        if let Some(a) = applied {
            v["applied_at"] = json!(a.applied_at);
            v["applied_by"] = json!({ "type": "admin", "id": a.applied_by });
        }
        v
    }

    fn part_json(p: &Part) -> Value {
        json!({
            "type": "conversation_part",
            "id": p.id,
            "part_type": p.part_type,
            "body": p.body,
            "created_at": p.created_at,
            "updated_at": p.created_at,
            "notified_at": p.created_at,
            "assigned_to": p.assigned_to,
            "author": p.author,
            "attachments": p.attachment_urls.iter().map(|u| json!({ "type": "upload", "url": u, "name": u.rsplit('/').next().unwrap_or(u) })).collect::<Vec<_>>(),
            "external_id": null,
            "redacted": false,
            "state": p.state,
            "tags": null,
            "app_package_code": null,
        })
    }

    /// `conversation` schema; `with_parts` adds `conversation_parts` (single reads).
    pub fn conversation_json(&self, c: &Conversation, with_parts: bool) -> Value {
        let tags: Vec<Value> =
            c.tags.iter().filter_map(|a| self.tags.iter().find(|t| t.id == a.id).map(|t| self.tag_json(t, Some(a)))).collect();
        let contacts: Vec<Value> = c
            .contact_ids
            .iter()
            .map(|id| {
                let ext = self.contacts.iter().find(|x| &x.id == id).and_then(|x| x.external_id.clone());
                json!({ "type": "contact", "id": id, "external_id": ext })
            })
            .collect();
        let teammates: Vec<Value> = c
            .parts
            .iter()
            .filter(|p| p.author.kind == "admin")
            .map(|p| p.author.id.clone())
            .fold(Vec::<String>::new(), |mut acc, id| {
                if !acc.contains(&id) {
                    acc.push(id);
                }
                acc
            })
            .into_iter()
            .map(|id| json!({ "type": "admin", "id": id }))
            .collect();
        let mut v = json!({
            "type": "conversation",
            "id": c.id,
            "title": c.title,
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "waiting_since": if c.state == "open" { Some(c.updated_at) } else { None },
            "snoozed_until": c.snoozed_until,
            "open": c.state == "open",
            "state": c.state,
            "read": c.read,
            "priority": "none",
            // intercom-helpscout-api.md §1.7: `0` when unassigned.
            "admin_assignee_id": c.admin_assignee_id.unwrap_or(0),
            "team_assignee_id": c.team_assignee_id.unwrap_or(0),
            "tags": { "type": "tag.list", "tags": tags },
            "source": {
                "type": c.source_type,
                "id": c.source_id,
                "delivered_as": c.delivered_as,
                "subject": "",
                "body": c.source_body,
                "author": c.source_author,
                "attachments": [],
                "url": null,
                "redacted": false,
            },
            "contacts": { "type": "contact.list", "contacts": contacts },
            "teammates": { "type": "admin.list", "admins": teammates },
            "custom_attributes": {},
            "ai_agent_participated": false,
        });
        if with_parts {
            let parts: Vec<Value> = c.parts.iter().map(Self::part_json).collect();
            v["conversation_parts"] =
                json!({ "type": "conversation_part.list", "conversation_parts": parts, "total_count": c.parts.len() });
        }
        v
    }
}

fn upsert<T>(list: &mut Vec<T>, item: T, id: impl Fn(&T) -> String) {
    let key = id(&item);
    match list.iter_mut().find(|x| id(x) == key) {
        Some(slot) => *slot = item,
        None => list.push(item),
    }
}

//! Aircall records kept by the emulator, and how they render as API JSON.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::common::util::iso8601;

/// An Aircall user (agent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct User {
    /// Id (0 in a seed = allocate one).
    pub id: u64,
    /// Full name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Available according to working hours.
    pub available: bool,
    /// Working status: `available`, `custom` or `unavailable`.
    pub availability_status: String,
    /// Live availability: `available`, `offline`, `do_not_disturb`, `in_call`, `after_call_work`.
    pub availability: String,
    /// IANA time zone.
    pub time_zone: String,
    /// IETF language tag.
    pub language: String,
    /// Wrap-up time, seconds.
    pub wrap_up_time: u64,
    /// Creation time, UNIX seconds.
    pub created_at: i64,
}

impl Default for User {
    fn default() -> Self {
        Self {
            id: 0,
            name: String::new(),
            email: String::new(),
            available: true,
            availability_status: "available".into(),
            availability: "available".into(),
            time_zone: "Etc/UTC".into(),
            language: "en-US".into(),
            wrap_up_time: 0,
            created_at: 1_700_000_000,
        }
    }
}

/// An Aircall number (line).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Number {
    /// Id (0 in a seed = allocate one).
    pub id: u64,
    /// Display name.
    pub name: String,
    /// International display format, e.g. `+33 1 23 45 67 89`.
    pub digits: String,
    /// ISO-3166 alpha-2.
    pub country: String,
    /// IANA time zone.
    pub time_zone: String,
    /// `open`, `custom` or `closed`.
    pub availability_status: String,
    /// Whether the number is an IVR.
    pub is_ivr: bool,
    /// Whether live recording is on.
    pub live_recording_activated: bool,
    /// Users assigned to the number.
    pub user_ids: Vec<u64>,
    /// Creation time, UNIX seconds.
    pub created_at: i64,
}

impl Default for Number {
    fn default() -> Self {
        Self {
            id: 0,
            name: String::new(),
            digits: String::new(),
            country: "FR".into(),
            time_zone: "Europe/Paris".into(),
            availability_status: "open".into(),
            is_ivr: false,
            live_recording_activated: true,
            user_ids: Vec::new(),
            created_at: 1_700_000_000,
        }
    }
}

/// An Aircall team.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Team {
    /// Id (0 in a seed = allocate one).
    pub id: u64,
    /// Unique name.
    pub name: String,
    /// The members, served as Aircall's team `users` (abridged users);
    /// `POST`/`DELETE /v1/teams/:id/users/:user_id` add and remove them.
    pub user_ids: Vec<u64>,
    /// Creation time, UNIX seconds.
    pub created_at: i64,
}

/// A phone number or e-mail entry of a contact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Detail {
    /// Id of the entry.
    pub id: u64,
    /// Label, e.g. `Mobile`, `Work`.
    pub label: String,
    /// The number or address.
    pub value: String,
}

/// An Aircall contact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Contact {
    /// Id (0 in a seed = allocate one).
    pub id: u64,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Aircall's `company_name`: the contact's company, free text.
    pub company_name: Option<String>,
    /// Internal description.
    pub description: Option<String>,
    /// Free text for external data.
    pub information: Option<String>,
    /// Shared company-wide (always true for API contacts).
    pub is_shared: bool,
    /// Phone numbers.
    pub phone_numbers: Vec<Detail>,
    /// E-mail addresses.
    pub emails: Vec<Detail>,
    /// UNIX seconds.
    pub created_at: i64,
    /// UNIX seconds.
    pub updated_at: i64,
}

/// An insight card posted on a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsightCard {
    /// The call it was posted on.
    pub call_id: u64,
    /// The `contents` items as posted.
    pub contents: Vec<Value>,
    /// When it was posted, UNIX seconds.
    pub created_at: i64,
}

/// A message sent through the API (native mode, SMS/MMS or WhatsApp).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentMessage {
    /// Message id.
    pub id: String,
    /// The Aircall number it was sent from.
    pub number_id: u64,
    /// Recipient (E.164).
    pub to: String,
    /// Text (or WhatsApp `text`).
    pub body: Option<String>,
    /// Media URLs (`mediaUrl`).
    pub media_url: Vec<String>,
    /// `null` for SMS/MMS, `"whatsapp"` for WhatsApp.
    pub channel: Option<String>,
    /// WhatsApp template parameters, when sent instead of text.
    pub template_params: Option<Value>,
    /// The whole request body, for assertions on extra keys.
    pub request: Value,
    /// UNIX seconds.
    pub created_at: i64,
}

/// An outbound call started with `POST /v1/users/:id/calls` (or a dial request).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartedCall {
    /// The user who will place the call.
    pub user_id: u64,
    /// The line (absent for `/dial`).
    pub number_id: Option<u64>,
    /// The number to call, as the request's `to` gave it.
    pub to: String,
    /// `call` for start-call, `dial` for pre-filling the dialer.
    pub kind: String,
    /// UNIX seconds.
    pub created_at: i64,
}

/// Everything the Aircall emulator holds, each kind in the order added.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AircallState {
    pub users: Vec<User>,
    pub numbers: Vec<Number>,
    pub teams: Vec<Team>,
    pub contacts: Vec<Contact>,
    /// Insight cards, in posting order.
    pub insight_cards: Vec<InsightCard>,
    /// Messages sent.
    pub messages: Vec<SentMessage>,
    /// Calls started and dial requests.
    pub started_calls: Vec<StartedCall>,
    /// Calls as `GET /v1/calls/:id` shows them (REST field names, with
    /// `ivr_options_selected`), put here by the simulator (`POST /_sandbox/calls`).
    pub calls: Vec<Value>,
    /// Webhooks registered with `POST /v1/webhooks`.
    pub webhooks: Vec<super::webhooks::Webhook>,
    /// How deliveries behave (`POST /_sandbox/deliveries`).
    pub delivery: super::delivery::DeliveryOptions,
    /// The sandbox's OAuth app as installed on the company.
    pub integration: super::integration::Integration,
    /// Next id to hand out.
    pub next_id: u64,
}

/// Records to add with `POST /_sandbox/seed` or [`super::Aircall::seed`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AircallSeed {
    /// Users to add (or replace, by id).
    pub users: Vec<User>,
    /// Numbers to add (or replace, by id).
    pub numbers: Vec<Number>,
    /// Teams to add (or replace, by id).
    pub teams: Vec<Team>,
    /// Contacts to add (or replace, by id).
    pub contacts: Vec<Contact>,
    /// Calls to add (or replace, by id), REST shape (see [`check_call`]).
    pub calls: Vec<Value>,
}

impl AircallState {
    /// The starting state: two agents, two lines, one team, one contact.
    pub fn demo() -> Self {
        let mut s = Self { next_id: 10_000, ..Self::default() };
        s.apply(AircallSeed {
            users: vec![
                User { id: 1001, name: "Ada Agent".into(), email: "ada@example.com".into(), ..User::default() },
                User {
                    id: 1002,
                    name: "Bob Builder".into(),
                    email: "bob@example.com".into(),
                    availability: "in_call".into(),
                    ..User::default()
                },
            ],
            numbers: vec![
                Number {
                    id: 2001,
                    name: "Support FR".into(),
                    digits: "+33 1 23 45 67 89".into(),
                    user_ids: vec![1001, 1002],
                    ..Number::default()
                },
                Number {
                    id: 2002,
                    name: "Sales US".into(),
                    digits: "+1 415-555-0100".into(),
                    country: "US".into(),
                    time_zone: "America/Los_Angeles".into(),
                    user_ids: vec![1001],
                    ..Number::default()
                },
            ],
            teams: vec![Team { id: 3001, name: "Tier 1".into(), user_ids: vec![1001, 1002], created_at: 1_700_000_000 }],
            contacts: vec![Contact {
                id: 4001,
                first_name: Some("Chloé".into()),
                last_name: Some("Client".into()),
                company_name: Some("ACME".into()),
                is_shared: true,
                phone_numbers: vec![Detail { id: 5001, label: "Mobile".into(), value: "+33612345678".into() }],
                emails: vec![Detail { id: 5002, label: "Work".into(), value: "chloe@acme.example".into() }],
                created_at: 1_700_000_000,
                updated_at: 1_700_000_000,
                ..Contact::default()
            }],
            calls: Vec::new(),
        });
        s
    }

    /// Hands out a fresh id.
    pub fn alloc(&mut self) -> u64 {
        if self.next_id < 10_000 {
            self.next_id = 10_000;
        }
        self.next_id += 1;
        self.next_id
    }

    /// Adds seed records; records whose id exists replace the old one.
    pub fn apply(&mut self, seed: AircallSeed) {
        for mut u in seed.users {
            if u.id == 0 {
                u.id = self.alloc();
            }
            upsert(&mut self.users, u, |x| x.id);
        }
        for mut n in seed.numbers {
            if n.id == 0 {
                n.id = self.alloc();
            }
            upsert(&mut self.numbers, n, |x| x.id);
        }
        for mut t in seed.teams {
            if t.id == 0 {
                t.id = self.alloc();
            }
            upsert(&mut self.teams, t, |x| x.id);
        }
        for mut c in seed.contacts {
            if c.id == 0 {
                c.id = self.alloc();
            }
            for d in c.phone_numbers.iter_mut().chain(c.emails.iter_mut()) {
                if d.id == 0 {
                    d.id = self.alloc();
                }
            }
            upsert(&mut self.contacts, c, |x| x.id);
        }
        for c in seed.calls {
            self.upsert_call(c);
        }
    }

    /// Adds or replaces (by id) a call checked with [`check_call`].
    pub fn upsert_call(&mut self, call: Value) {
        upsert(&mut self.calls, call, |c| c["id"].as_u64().unwrap_or(0));
    }

    /// A call by id.
    pub fn call(&self, id: u64) -> Option<&Value> {
        self.calls.iter().find(|c| c["id"].as_u64() == Some(id))
    }

    /// Abridged user, as nested in numbers, teams and calls.
    pub fn user_short(&self, base: &str, u: &User) -> Value {
        json!({
            "id": u.id,
            "direct_link": format!("{base}/v1/users/{}", u.id),
            "name": u.name,
            "email": u.email,
            "available": u.available,
            "availability_status": u.availability_status,
            "language": u.language,
            "wrap_up_time": u.wrap_up_time,
        })
    }

    /// Full user (V1), with its numbers.
    pub fn user_full(&self, base: &str, u: &User) -> Value {
        let mut v = self.user_short(base, u);
        v["created_at"] = json!(iso8601(u.created_at));
        v["time_zone"] = json!(u.time_zone);
        v["substatus"] = json!(if u.availability_status == "unavailable" { "always_closed" } else { "always_open" });
        v["numbers"] = self.numbers.iter().filter(|n| n.user_ids.contains(&u.id)).map(|n| self.number_short(base, n)).collect();
        v
    }

    /// Number without its users.
    pub fn number_short(&self, base: &str, n: &Number) -> Value {
        json!({
            "id": n.id,
            "direct_link": format!("{base}/v1/numbers/{}", n.id),
            "name": n.name,
            "digits": n.digits,
            "created_at": iso8601(n.created_at),
            "country": n.country,
            "time_zone": n.time_zone,
            "open": n.availability_status != "closed",
            "availability_status": n.availability_status,
            "is_ivr": n.is_ivr,
            "live_recording_activated": n.live_recording_activated,
            "priority": null,
        })
    }

    /// Number with its users.
    pub fn number_full(&self, base: &str, n: &Number) -> Value {
        let mut v = self.number_short(base, n);
        v["users"] = n.user_ids.iter().filter_map(|id| self.users.iter().find(|u| u.id == *id)).map(|u| self.user_short(base, u)).collect();
        v
    }

    /// Team with its (abridged) users.
    pub fn team_json(&self, base: &str, t: &Team) -> Value {
        let users: Vec<Value> = t
            .user_ids
            .iter()
            .filter_map(|id| self.users.iter().find(|u| u.id == *id))
            .map(|u| json!({ "id": u.id, "direct_link": format!("{base}/v1/users/{}", u.id), "name": u.name, "email": u.email }))
            .collect();
        json!({
            "id": t.id,
            "direct_link": format!("{base}/v1/teams/{}", t.id),
            "name": t.name,
            "created_at": iso8601(t.created_at),
            "users": users,
        })
    }

    /// Contact as the API shows it.
    pub fn contact_json(&self, base: &str, c: &Contact) -> Value {
        json!({
            "id": c.id,
            "direct_link": format!("{base}/v1/contacts/{}", c.id),
            "first_name": c.first_name,
            "last_name": c.last_name,
            "company_name": c.company_name,
            "description": c.description,
            "information": c.information,
            "is_shared": c.is_shared,
            // [U] aircall-api.md §1.6: created_at/updated_at as integers (2022 payloads) rather than UTC strings.
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "phone_numbers": c.phone_numbers,
            "emails": c.emails,
        })
    }
}

fn upsert<T>(list: &mut Vec<T>, item: T, id: impl Fn(&T) -> u64) {
    let key = id(&item);
    match list.iter_mut().find(|x| id(x) == key) {
        Some(slot) => *slot = item,
        None => list.push(item),
    }
}

/// Checks a call object given to the emulator: an object with a positive
/// integer `id`, in the REST shape (aircall-api.md §4.1: `sid`, not the
/// webhook's `call_uuid`; `conference_participants`, not `participants`).
pub fn check_call(call: &Value) -> Result<u64, String> {
    let obj = call.as_object().ok_or("a call must be a JSON object")?;
    let id = obj.get("id").and_then(Value::as_u64).filter(|id| *id > 0).ok_or("a call needs a positive integer `id`")?;
    for (webhook, rest) in [("call_uuid", "sid"), ("participants", "conference_participants")] {
        if obj.contains_key(webhook) {
            return Err(format!("`{webhook}` is the webhook name; the REST call carries it as `{rest}` (aircall-api.md §4.1)"));
        }
    }
    Ok(id)
}

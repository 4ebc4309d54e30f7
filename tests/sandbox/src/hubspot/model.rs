//! HubSpot records kept by the emulator.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::common::util::iso8601;

/// A CRM record (contact or communication): id and string properties.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Record {
    /// Id (numeric string).
    pub id: String,
    /// HubSpot's `properties` by internal name. `hs_object_id`, `createdate`
    /// and `lastmodifieddate` are served from the id and the times, whatever
    /// this holds.
    pub properties: BTreeMap<String, String>,
    /// UNIX milliseconds.
    pub created_at: i64,
    /// UNIX milliseconds.
    pub updated_at: i64,
}

/// An association made from a communication.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Association {
    /// `contacts`, `tickets`, `deals`, `companies`.
    pub to_type: String,
    /// Target id.
    pub to_id: String,
    /// `associationTypeId` used.
    pub type_id: u64,
    /// `associationCategory` used.
    pub category: String,
}

/// A logged communication (SMS / WhatsApp / LinkedIn message).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Communication {
    /// Its id, the properties sent on create, and its times.
    pub record: Record,
    /// Associations made on create.
    pub associations: Vec<Association>,
}

/// An owner (HubSpot user who can own records).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Owner {
    /// Owner id.
    pub id: String,
    /// HubSpot's owner `email`: what `GET /crm/v3/owners?email=` matches,
    /// ignoring case.
    pub email: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// HubSpot's `userId`: the user behind the owner, also its `id` under
    /// `/settings/v3/users`.
    pub user_id: u64,
}

/// A completed workflow-action callback.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallbackCompletion {
    /// Callback id.
    pub callback_id: String,
    /// `outputFields` sent.
    pub output_fields: Value,
    /// The whole request body.
    pub request: Value,
    /// UNIX milliseconds.
    pub completed_at: i64,
}

/// A call the emulator made to a workflow action's URL.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionCall {
    /// The action URL.
    pub url: String,
    /// The execution request sent.
    pub request: Value,
    /// HTTP status answered (0 = no answer).
    pub status: u16,
    /// Answer body.
    pub response: Value,
}

/// Everything the HubSpot emulator holds, each kind in the order added.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HubSpotState {
    /// Portal (account) id.
    pub portal_id: u64,
    pub contacts: Vec<Record>,
    /// Contact properties that exist (standard + custom); updating others is a 400.
    pub contact_properties: Vec<String>,
    /// Ids of deals, tickets and companies (association targets).
    pub objects: BTreeMap<String, Vec<String>>,
    pub owners: Vec<Owner>,
    pub communications: Vec<Communication>,
    /// Callback ids waiting for completion (from `BLOCK` answers).
    pub pending_callbacks: Vec<String>,
    /// Completed callbacks.
    pub completed_callbacks: Vec<CallbackCompletion>,
    /// Calls made to workflow action URLs.
    pub action_calls: Vec<ActionCall>,
    /// The last id handed out by [`HubSpotState::alloc`].
    pub next_id: u64,
}

/// Records to add with `POST /_sandbox/seed`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HubSpotSeed {
    /// Contacts (empty id = allocate).
    pub contacts: Vec<Record>,
    /// Owners to add; one with an existing owner's id replaces it.
    pub owners: Vec<Owner>,
    /// Extra contact properties to define.
    pub contact_properties: Vec<String>,
    /// Association targets by type (`deals`, `tickets`, `companies`).
    pub objects: BTreeMap<String, Vec<String>>,
    /// Callback ids to accept completions for.
    pub pending_callbacks: Vec<String>,
}

const STANDARD_CONTACT_PROPERTIES: &[&str] = &[
    "firstname",
    "lastname",
    "email",
    "phone",
    "mobilephone",
    "company",
    "jobtitle",
    "hubspot_owner_id",
    "lifecyclestage",
    "hs_lead_status",
    "city",
    "country",
    "website",
    "createdate",
    "lastmodifieddate",
    "hs_object_id",
];

impl HubSpotState {
    /// Starting state: two owners, one contact, a deal, a ticket, a company.
    pub fn demo() -> Self {
        let mut s = Self { portal_id: 1_234_567, next_id: 9000, ..Self::default() };
        s.contact_properties = STANDARD_CONTACT_PROPERTIES.iter().map(|p| (*p).to_owned()).collect();
        // [U] gorgias-hubspot-api.md §2.7: no standard SMS opt-out property exists; `sms_opt_out` is
        // pre-defined as the agreed custom property.
        s.contact_properties.push("sms_opt_out".into());
        s.owners = vec![
            Owner { id: "801".into(), email: "ada@example.com".into(), first_name: "Ada".into(), last_name: "Agent".into(), user_id: 7001 },
            Owner {
                id: "802".into(),
                email: "bob@example.com".into(),
                first_name: "Bob".into(),
                last_name: "Builder".into(),
                user_id: 7002,
            },
        ];
        let props = [
            ("firstname", "Chloé"),
            ("lastname", "Client"),
            ("email", "chloe@acme.example"),
            ("phone", "+33612345678"),
            ("hubspot_owner_id", "801"),
        ];
        s.contacts = vec![Record {
            id: "901".into(),
            properties: props.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            created_at: 1_700_000_000_000,
            updated_at: 1_700_000_000_000,
        }];
        s.objects.insert("deals".into(), vec!["3301".into()]);
        s.objects.insert("tickets".into(), vec!["4401".into()]);
        s.objects.insert("companies".into(), vec!["5501".into()]);
        s
    }

    /// A fresh id.
    pub fn alloc(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }

    /// Adds seed records.
    pub fn apply(&mut self, seed: HubSpotSeed) {
        for p in seed.contact_properties {
            if !self.contact_properties.contains(&p) {
                self.contact_properties.push(p);
            }
        }
        for mut c in seed.contacts {
            if c.id.is_empty() {
                c.id = self.alloc();
            }
            self.contacts.retain(|x| x.id != c.id);
            self.contacts.push(c);
        }
        for o in seed.owners {
            self.owners.retain(|x| x.id != o.id);
            self.owners.push(o);
        }
        for (k, ids) in seed.objects {
            self.objects.entry(k).or_default().extend(ids);
        }
        self.pending_callbacks.extend(seed.pending_callbacks);
    }

    /// A record as the CRM API shows it, with the chosen properties.
    pub fn record_json(r: &Record, props: Option<&[String]>, defaults: &[&str]) -> Value {
        let mut properties = serde_json::Map::new();
        let wanted: Vec<String> = props.map(<[String]>::to_vec).unwrap_or_else(|| defaults.iter().map(|d| (*d).to_owned()).collect());
        for k in wanted.iter().chain(["hs_object_id".to_owned(), "createdate".to_owned(), "lastmodifieddate".to_owned()].iter()) {
            let v = match k.as_str() {
                "hs_object_id" => Some(r.id.clone()),
                "createdate" => Some(iso_ms(r.created_at)),
                "lastmodifieddate" => Some(iso_ms(r.updated_at)),
                _ => r.properties.get(k).cloned(),
            };
            properties.insert(k.clone(), v.map(Value::String).unwrap_or(Value::Null));
        }
        json!({
            "id": r.id,
            "properties": properties,
            "createdAt": iso_ms(r.created_at),
            "updatedAt": iso_ms(r.updated_at),
            "archived": false,
        })
    }

    /// Owner JSON.
    pub fn owner_json(o: &Owner) -> Value {
        json!({
            "id": o.id, "email": o.email, "type": "PERSON", "firstName": o.first_name, "lastName": o.last_name,
            "userId": o.user_id, "userIdIncludingInactive": o.user_id,
            "createdAt": iso_ms(1_700_000_000_000), "updatedAt": iso_ms(1_700_000_000_000), "archived": false, "teams": [],
        })
    }
}

/// ISO-8601 with milliseconds, as HubSpot writes them.
pub fn iso_ms(ms: i64) -> String {
    let base = iso8601(ms.div_euclid(1000));
    format!("{}.{:03}Z", base.trim_end_matches('Z'), ms.rem_euclid(1000))
}

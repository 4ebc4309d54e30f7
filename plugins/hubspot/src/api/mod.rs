//! The HubSpot API this connector uses (the vendor module): contact search by
//! phone, contact read and update, owners, and SMS communications with their
//! associations (reference §2.6, §2.7). Every answer is parsed leniently and
//! checked: HubSpot's data is input like any other.

use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use switchboard_sdk::query::encode;
use switchboard_sdk::{PluginError, http};

/// The integration secret holding the HubSpot token.
const CREDENTIAL: &str = "token";
/// At most this many phone spellings are searched (two `IN` filters).
const MAX_VARIANTS: usize = 12;

/// A CRM record as the API shows it: id and the requested properties.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Record {
    /// Numeric id as a string.
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    /// Properties (HubSpot sends `null` for unset ones).
    #[serde(default)]
    pub properties: BTreeMap<String, Option<String>>,
}

impl Record {
    /// A property's value, when set and not empty.
    pub fn property(&self, name: &str) -> Option<&str> {
        self.properties.get(name).and_then(|v| v.as_deref()).filter(|v| !v.is_empty())
    }
}

fn id_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) if !s.is_empty() => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!("record id {other} is not an id"))),
    }
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    results: Vec<Value>,
}

/// Records of a result list; entries that are not records are skipped.
fn records(page: Page) -> Vec<Record> {
    page.results.into_iter().filter_map(|v| serde_json::from_value(v).ok()).collect()
}

/// The HubSpot API of one integration.
pub struct HubSpot<'a> {
    base: &'a str,
}

impl<'a> HubSpot<'a> {
    /// The API at `base` (no trailing slash).
    pub fn new(base: &'a str) -> Self {
        HubSpot { base }
    }

    /// Contacts whose `phone` or `mobilephone` is one of `spellings`, with `properties`.
    pub fn contacts_by_phone(&self, spellings: &[String], properties: &[String]) -> Result<Vec<Record>, PluginError> {
        let values: Vec<&String> = spellings.iter().take(MAX_VARIANTS).collect();
        if values.is_empty() {
            return Ok(Vec::new());
        }
        let body = json!({
            "filterGroups": [
                { "filters": [ { "propertyName": "phone", "operator": "IN", "values": values } ] },
                { "filters": [ { "propertyName": "mobilephone", "operator": "IN", "values": values } ] },
            ],
            "properties": properties,
            "limit": 10,
        });
        let page: Page = http::post(&format!("{}/crm/v3/objects/contacts/search", self.base))
            .credential(CREDENTIAL)
            .json(&body)?
            .send()?
            .error_for_status()?
            .json()?;
        Ok(records(page))
    }

    /// One record of `object` (a path name such as `contacts`, see [`object_path`])
    /// with `properties`; `None` when HubSpot has no such record.
    pub fn record(&self, object: &str, id: &str, properties: &[String]) -> Result<Option<Record>, PluginError> {
        let url = format!("{}/crm/v3/objects/{}/{}?properties={}", self.base, object, path_segment(id), encode(&properties.join(",")));
        let resp = http::get(&url).credential(CREDENTIAL).send()?;
        if resp.status() == 404 {
            return Ok(None);
        }
        resp.error_for_status()?.json().map(Some)
    }

    /// One contact with `properties`.
    pub fn contact(&self, id: &str, properties: &[String]) -> Result<Option<Record>, PluginError> {
        self.record("contacts", id, properties)
    }

    /// Set properties of a contact.
    pub fn update_contact(&self, id: &str, properties: &BTreeMap<String, String>) -> Result<(), PluginError> {
        http::patch(&format!("{}/crm/v3/objects/contacts/{}", self.base, path_segment(id)))
            .credential(CREDENTIAL)
            .json(&json!({ "properties": properties }))?
            .send()?
            .error_for_status()?;
        Ok(())
    }

    /// The owner id of the HubSpot user with this e-mail, if any.
    pub fn owner_id_by_email(&self, email: &str) -> Result<Option<String>, PluginError> {
        let url = format!("{}/crm/v3/owners?email={}&limit=1", self.base, encode(email));
        let page: Page = http::get(&url).credential(CREDENTIAL).send()?.error_for_status()?.json()?;
        Ok(records(page).into_iter().next().map(|r| r.id))
    }

    /// Log a communication; returns its id.
    pub fn create_communication(&self, communication: &Communication) -> Result<String, PluginError> {
        let mut properties = json!({
            "hs_communication_channel_type": communication.channel,
            "hs_communication_logged_from": "CRM",
            "hs_communication_body": communication.body,
            "hs_timestamp": communication.timestamp_ms.to_string(),
        });
        if let Some(owner) = &communication.owner_id {
            properties["hubspot_owner_id"] = json!(owner);
        }
        let associations: Vec<Value> = communication
            .associations
            .iter()
            .map(|(id, type_id)| json!({ "to": { "id": id }, "types": [ { "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id } ] }))
            .collect();
        let created: Record = http::post(&format!("{}/crm/v3/objects/communications", self.base))
            .credential(CREDENTIAL)
            .json(&json!({ "properties": properties, "associations": associations }))?
            .send()?
            .error_for_status()?
            .json()?;
        Ok(created.id)
    }
}

/// A communication to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Communication {
    /// `SMS` or `WHATS_APP`.
    pub channel: &'static str,
    /// The text shown on the timeline.
    pub body: String,
    /// When it happened, UNIX milliseconds.
    pub timestamp_ms: i64,
    /// The owner shown as its author.
    pub owner_id: Option<String>,
    /// `(record id, HUBSPOT_DEFINED association type id)`.
    pub associations: Vec<(String, u32)>,
}

/// The HubSpot-defined association type from a communication to a workflow
/// object type (reference §2.6). `None` for types without a known id
/// ([U] quote, user, order, cart, invoice, lead: not in the reference).
pub fn communication_association(object_type: &str) -> Option<u32> {
    match object_type.to_ascii_uppercase().as_str() {
        "CONTACT" | "0-1" => Some(81),
        "TICKET" | "0-5" => Some(83),
        "DEAL" | "0-3" => Some(85),
        "COMPANY" | "0-2" => Some(87),
        _ => None,
    }
}

/// The path name of a workflow object type in `/crm/v3/objects/{…}`.
pub fn object_path(object_type: &str) -> String {
    match object_type.to_ascii_uppercase().as_str() {
        "COMPANY" => "companies".into(),
        t @ ("CONTACT" | "DEAL" | "TICKET" | "QUOTE" | "ORDER" | "CART" | "INVOICE" | "LEAD") => {
            format!("{}s", t.to_ascii_lowercase())
        }
        // Users (and custom objects) go by their type id (reference §2.8).
        "USER" => "0-115".into(),
        other => other.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect(),
    }
}

/// Whether the workflow object type is a contact.
pub fn is_contact(object_type: &str) -> bool {
    communication_association(object_type) == Some(81)
}

/// Ids go into paths: keep digits and ASCII letters only (HubSpot ids are numeric).
fn path_segment(id: &str) -> String {
    id.chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_checked() {
        let page: Page = serde_json::from_value(json!({ "results": [
            { "id": "901", "properties": { "firstname": "Chloé", "phone": null } },
            { "id": 902 },
            { "id": null },
            "junk",
        ] }))
        .unwrap_or(Page { results: vec![] });
        let r = records(page);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].property("firstname"), Some("Chloé"));
        assert_eq!(r[0].property("phone"), None);
        assert_eq!(r[1].id, "902");
    }

    #[test]
    fn encoding() {
        assert_eq!(encode("a+b@x.io"), "a%2Bb%40x.io");
        assert_eq!(path_segment("90/../1"), "901");
    }
}

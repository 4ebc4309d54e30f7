//! Who an SMS goes to on the HubSpot side: the contacts behind the recipient's
//! number (to check their opt-out, fill `{{contact.…}}` tokens and associate
//! the logged SMS), and the enrolled record's own properties for its tokens.

use crate::api::{self, HubSpot, Record};
use crate::rules;
use crate::settings::Settings;
use crate::template::Template;
use serde_json::Value;
use std::collections::BTreeMap;
use switchboard_sdk::{PluginError, phone};

/// At most this many contacts sharing a number are associated with one SMS.
pub const MAX_CONTACTS: usize = 5;

/// The workflow's enrolled record, from the execution request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolled {
    /// `CONTACT`, `DEAL`, … (upper case).
    pub object_type: String,
    /// HubSpot's `object.objectId`: digits only, else there is no usable record.
    pub id: String,
    /// The properties HubSpot included.
    pub properties: BTreeMap<String, String>,
}

impl Enrolled {
    /// Read `body.object`; `None` when there is no usable record.
    pub fn from_request(body: &Value) -> Option<Enrolled> {
        let object = body.get("object")?;
        let object_type = object.get("objectType")?.as_str()?.trim().to_ascii_uppercase();
        let id = crate::inputs::text(object.get("objectId"))?;
        if object_type.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let properties = object
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.iter().filter_map(|(k, v)| Some((k.to_ascii_lowercase(), crate::inputs::text(Some(v))?))).collect())
            .unwrap_or_default();
        Some(Enrolled { object_type, id, properties })
    }

    /// The token prefix of this record type (`DEAL` → `deal`).
    pub fn token_name(&self) -> String {
        self.object_type.to_ascii_lowercase()
    }
}

/// What was found about the recipient.
#[derive(Debug, Clone, Default)]
pub struct Recipient {
    /// Contact ids to associate the SMS with.
    pub contact_ids: Vec<String>,
    /// A contact that opted out, with its id.
    pub opted_out: Option<String>,
    /// Token values by object (`contact`, `deal`, …) and property.
    pub values: BTreeMap<String, BTreeMap<String, String>>,
}

fn props_of(r: &Record) -> BTreeMap<String, String> {
    r.properties.iter().filter_map(|(k, v)| Some((k.to_ascii_lowercase(), v.clone()?))).collect()
}

/// The spellings to search a number with (E.164 first).
pub fn spellings(e164: &str) -> Vec<String> {
    let mut v = vec![e164.to_string()];
    for s in phone::variants(e164).unwrap_or_default() {
        if !v.contains(&s) {
            v.push(s);
        }
    }
    v
}

/// Resolve the recipient of an SMS to `e164` sent from a workflow on `enrolled`.
/// Uses at most one contact search (or one contact read) and one record read.
pub fn resolve(settings: &Settings, enrolled: &Enrolled, e164: &str, template: &Template) -> Result<Recipient, PluginError> {
    let api = HubSpot::new(&settings.base_url);
    let mut wanted: Vec<String> = vec![settings.opt_out_property.clone()];
    for p in template.properties_of("contact") {
        if !wanted.contains(&p) {
            wanted.push(p);
        }
    }
    let mut out = Recipient::default();
    if api::is_contact(&enrolled.object_type) {
        // The enrolled contact is the recipient: its own properties decide.
        let mut props = enrolled.properties.clone();
        if wanted.iter().any(|p| !props.contains_key(p))
            && let Some(r) = api.contact(&enrolled.id, &wanted)?
        {
            props.extend(props_of(&r));
        }
        if rules::is_marked(props.get(&settings.opt_out_property).map(String::as_str), &settings.opt_out_value) {
            out.opted_out = Some(enrolled.id.clone());
        }
        out.contact_ids.push(enrolled.id.clone());
        out.values.insert("contact".into(), props);
        return Ok(out);
    }
    let contacts = api.contacts_by_phone(&spellings(e164), &wanted)?;
    for c in contacts.iter().take(MAX_CONTACTS) {
        if out.opted_out.is_none() && rules::is_marked(c.property(&settings.opt_out_property), &settings.opt_out_value) {
            out.opted_out = Some(c.id.clone());
        }
        out.contact_ids.push(c.id.clone());
    }
    if let Some(first) = contacts.first() {
        out.values.insert("contact".into(), props_of(first));
    }
    let own = enrolled.token_name();
    let mut props = enrolled.properties.clone();
    let missing: Vec<String> = template.properties_of(&own).into_iter().filter(|p| !props.contains_key(p)).collect();
    if !missing.is_empty() {
        props.extend(read_record(settings, enrolled, &missing)?);
    }
    out.values.insert(own, props);
    Ok(out)
}

/// Properties of a non-contact record (unset when HubSpot has no such record).
fn read_record(settings: &Settings, enrolled: &Enrolled, properties: &[String]) -> Result<BTreeMap<String, String>, PluginError> {
    let api = HubSpot::new(&settings.base_url);
    Ok(api.record(&api::object_path(&enrolled.object_type), &enrolled.id, properties)?.map(|r| props_of(&r)).unwrap_or_default())
}

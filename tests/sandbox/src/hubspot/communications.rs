//! Communications: log an SMS / WhatsApp / LinkedIn message with associations
//! (gorgias-hubspot-api.md §2.6).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::model::{Association, Communication, HubSpotState, Record};
use super::{HsErr, HubSpot, body};
use crate::common::util::{now_millis, query_pairs};

type Result<T> = std::result::Result<T, HsErr>;

/// HubSpot-defined association types from Communication (§2.6).
const TYPES: &[(u64, &str)] = &[(81, "contacts"), (83, "tickets"), (85, "deals"), (87, "companies")];

fn exists(s: &HubSpotState, kind: &str, id: &str) -> bool {
    match kind {
        "contacts" => s.contacts.iter().any(|c| c.id == id),
        other => s.objects.get(other).is_some_and(|ids| ids.iter().any(|x| x == id)),
    }
}

fn invalid(message: impl Into<String>, prop: &str) -> HsErr {
    let message = message.into();
    HsErr::validation("Property values were not valid", json!({ "message": message, "in": prop, "code": "INVALID_PROPERTY" }))
}

/// `POST /crm/v3/objects/communications` → 201.
pub async fn create(State(hs): State<HubSpot>, bytes: Bytes) -> Result<(StatusCode, Json<Value>)> {
    let map = body(&bytes)?;
    let props = map.get("properties").and_then(Value::as_object).ok_or_else(|| HsErr::validation("properties is required", Value::Null))?;
    let get = |k: &str| props.get(k).map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()));
    match get("hs_communication_channel_type").as_deref() {
        Some("SMS" | "WHATS_APP" | "LINKEDIN_MESSAGE") => {}
        other => {
            return Err(invalid(
                format!("{other:?} is not a valid hs_communication_channel_type (SMS, WHATS_APP, LINKEDIN_MESSAGE)"),
                "hs_communication_channel_type",
            ));
        }
    }
    if get("hs_communication_logged_from").as_deref() != Some("CRM") {
        return Err(invalid("hs_communication_logged_from must be CRM", "hs_communication_logged_from"));
    }
    if get("hs_timestamp").is_none() {
        return Err(HsErr::validation(
            "Property values were not valid",
            json!({ "message": "Property \"hs_timestamp\" is required", "in": "hs_timestamp", "code": "REQUIRED" }),
        ));
    }
    let rec = hs.update(|s| {
        if let Some(owner) = get("hubspot_owner_id")
            && !s.owners.iter().any(|o| o.id == owner)
        {
            return Err(invalid(format!("{owner} is not a valid owner id"), "hubspot_owner_id"));
        }
        let mut associations = Vec::new();
        for (i, a) in map.get("associations").and_then(Value::as_array).cloned().unwrap_or_default().iter().enumerate() {
            let to = a.get("to").and_then(|t| t.get("id")).map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()));
            let to = to.ok_or_else(|| HsErr::validation(format!("associations[{i}].to.id is required"), a.clone()))?;
            let types = a
                .get("types")
                .and_then(Value::as_array)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| HsErr::validation(format!("associations[{i}].types is required"), a.clone()))?;
            for t in types {
                let category = t.get("associationCategory").and_then(Value::as_str).unwrap_or("");
                let type_id = t.get("associationTypeId").and_then(Value::as_u64).unwrap_or(0);
                let kind = TYPES.iter().find(|(id, _)| *id == type_id).map(|(_, k)| *k);
                let kind = match (category, kind) {
                    ("HUBSPOT_DEFINED", Some(k)) => k,
                    _ => {
                        return Err(HsErr::validation(
                            format!("Invalid association type {category}/{type_id} from communication"),
                            t.clone(),
                        ));
                    }
                };
                if !exists(s, kind, &to) {
                    return Err(HsErr::validation(format!("{kind} {to} does not exist"), a.clone()));
                }
                associations.push(Association { to_type: kind.into(), to_id: to.clone(), type_id, category: category.into() });
            }
        }
        let now = now_millis();
        let record = Record {
            id: s.alloc(),
            properties: props.keys().filter_map(|k| get(k).map(|v| (k.clone(), v))).collect(),
            created_at: now,
            updated_at: now,
        };
        s.communications.push(Communication { record: record.clone(), associations });
        Ok(record)
    })?;
    let keys: Vec<String> = rec.properties.keys().cloned().collect();
    Ok((StatusCode::CREATED, Json(HubSpotState::record_json(&rec, Some(&keys), &[]))))
}

/// `GET /crm/v3/objects/communications/{id}?properties=&associations=contacts,deals`.
pub async fn get(State(hs): State<HubSpot>, Path(id): Path<String>, RawQuery(q): RawQuery) -> Result<Json<Value>> {
    let pairs = query_pairs(q.as_deref());
    let s = hs.state();
    let c = s.communications.iter().find(|c| c.record.id == id).ok_or_else(|| HsErr::not_found("Object"))?;
    let keys: Vec<String> = c.record.properties.keys().cloned().collect();
    let mut v = HubSpotState::record_json(&c.record, Some(&keys), &[]);
    let wanted: Vec<String> =
        pairs.iter().filter(|(k, _)| k == "associations").flat_map(|(_, v)| v.split(',').map(str::to_owned).collect::<Vec<_>>()).collect();
    if !wanted.is_empty() {
        let mut assoc = serde_json::Map::new();
        for w in wanted {
            let results: Vec<Value> = c
                .associations
                .iter()
                .filter(|a| a.to_type == w)
                .map(|a| json!({ "id": a.to_id, "type": format!("communication_to_{}", a.to_type.trim_end_matches('s').replace("companie", "company")) }))
                .collect();
            if !results.is_empty() {
                assoc.insert(w, json!({ "results": results }));
            }
        }
        v["associations"] = Value::Object(assoc);
    }
    Ok(Json(v))
}

//! Contacts: search (filterGroups), get, update a property, create, list
//! (gorgias-hubspot-api.md §2.7).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::model::{HubSpotState, Record};
use super::{HsErr, HubSpot, body, paging};
use crate::common::util::{now_millis, query_pairs};

type Result<T> = std::result::Result<T, HsErr>;

const DEFAULT_PROPS: &[&str] = &["firstname", "lastname", "email"];

fn props_param(pairs: &[(String, String)]) -> Option<Vec<String>> {
    let p: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "properties")
        .flat_map(|(_, v)| v.split(',').map(str::to_owned).collect::<Vec<_>>())
        .filter(|p| !p.is_empty())
        .collect();
    (!p.is_empty()).then_some(p)
}

fn filter_matches(r: &Record, f: &Value) -> Result<bool> {
    let name = f.get("propertyName").and_then(Value::as_str).ok_or_else(|| HsErr::validation("filter needs a propertyName", f.clone()))?;
    let op = f.get("operator").and_then(Value::as_str).unwrap_or("EQ");
    let have = match name {
        "hs_object_id" => Some(r.id.clone()),
        _ => r.properties.get(name).cloned().filter(|v| !v.is_empty()),
    };
    let value = f.get("value").map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()));
    let values: Vec<String> = f
        .get("values")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())).collect())
        .unwrap_or_default();
    let num = |s: &str| s.parse::<f64>().ok();
    let need_value = || value.clone().ok_or_else(|| HsErr::validation(format!("operator {op} needs a value"), f.clone()));
    // [U] §2.7: string EQ is case-insensitive and exact otherwise (no phone normalisation), so a
    // connector must search the spellings it expects, as the reference advises.
    Ok(match op {
        "EQ" => {
            let v = need_value()?;
            have.is_some_and(|h| h.eq_ignore_ascii_case(&v))
        }
        "NEQ" => !have.is_some_and(|h| h.eq_ignore_ascii_case(value.as_deref().unwrap_or(""))),
        "IN" => have.is_some_and(|h| values.iter().any(|v| v.eq_ignore_ascii_case(&h))),
        "NOT_IN" => !have.is_some_and(|h| values.iter().any(|v| v.eq_ignore_ascii_case(&h))),
        "HAS_PROPERTY" => have.is_some(),
        "NOT_HAS_PROPERTY" => have.is_none(),
        "CONTAINS_TOKEN" => {
            let v = need_value()?.to_lowercase();
            let pat = v.trim_matches('*');
            have.is_some_and(|h| {
                h.to_lowercase()
                    .split(|c: char| !c.is_alphanumeric() && c != '+' && c != '@' && c != '.')
                    .any(|t| if v.contains('*') { t.contains(pat) } else { t == pat })
            })
        }
        "NOT_CONTAINS_TOKEN" => !have.is_some_and(|h| h.to_lowercase().contains(&value.clone().unwrap_or_default().to_lowercase())),
        "LT" | "LTE" | "GT" | "GTE" => {
            let (h, v) = (have.as_deref().and_then(num), num(&need_value()?));
            match (h, v) {
                (Some(h), Some(v)) => match op {
                    "LT" => h < v,
                    "LTE" => h <= v,
                    "GT" => h > v,
                    _ => h >= v,
                },
                _ => false,
            }
        }
        "BETWEEN" => {
            let hi = f.get("highValue").and_then(Value::as_str).and_then(num);
            match (have.as_deref().and_then(num), value.as_deref().and_then(num), hi) {
                (Some(h), Some(lo), Some(hi)) => h >= lo && h <= hi,
                _ => false,
            }
        }
        other => {
            return Err(HsErr::validation(format!("Unknown operator {other}"), f.clone()));
        }
    })
}

/// `POST /crm/v3/objects/contacts/search`.
pub async fn search(State(hs): State<HubSpot>, bytes: Bytes) -> Result<Json<Value>> {
    let map = body(&bytes)?;
    let groups = map.get("filterGroups").and_then(Value::as_array).cloned().unwrap_or_default();
    // [U] §2.7: at most 6 filter groups (the reference's figure) and 6 filters per group.
    if groups.len() > 6 || groups.iter().any(|g| g.get("filters").and_then(Value::as_array).is_some_and(|f| f.len() > 6)) {
        return Err(HsErr::validation("Too many filterGroups or filters", json!({ "filterGroups": groups.len() })));
    }
    let limit = map.get("limit").and_then(Value::as_u64).unwrap_or(10);
    if limit > 200 {
        return Err(HsErr::validation("limit must be at most 200", json!({ "limit": limit })));
    }
    let after: usize = map
        .get("after")
        .and_then(|a| a.as_str().map(str::to_owned).or_else(|| a.as_u64().map(|n| n.to_string())))
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    let query = map.get("query").and_then(Value::as_str).map(str::to_lowercase);
    let props: Option<Vec<String>> =
        map.get("properties").and_then(Value::as_array).map(|a| a.iter().filter_map(|p| p.as_str().map(str::to_owned)).collect());
    let s = hs.state();
    let mut found = Vec::new();
    for r in &s.contacts {
        let mut ok = groups.is_empty();
        for g in &groups {
            let mut all = true;
            for f in g.get("filters").and_then(Value::as_array).cloned().unwrap_or_default() {
                all &= filter_matches(r, &f)?;
            }
            ok |= all;
        }
        if let Some(q) = &query {
            ok &= ["firstname", "lastname", "email", "phone", "mobilephone", "company"]
                .iter()
                .any(|k| r.properties.get(*k).is_some_and(|v| v.to_lowercase().contains(q)));
        }
        if ok {
            found.push(r);
        }
    }
    found.sort_by_key(|r| r.id.parse::<u64>().unwrap_or(0));
    let total = found.len();
    let results: Vec<Value> =
        found.iter().skip(after).take(limit as usize).map(|r| HubSpotState::record_json(r, props.as_deref(), DEFAULT_PROPS)).collect();
    let end = after + results.len();
    let mut v = json!({ "total": total, "results": results });
    if end < total {
        v["paging"] = json!({ "next": { "after": end.to_string() } });
    }
    Ok(Json(v))
}

pub async fn get(State(hs): State<HubSpot>, Path(id): Path<String>, RawQuery(q): RawQuery) -> Result<Json<Value>> {
    let pairs = query_pairs(q.as_deref());
    let s = hs.state();
    let r = s.contacts.iter().find(|r| r.id == id).ok_or_else(|| HsErr::not_found("Object"))?;
    Ok(Json(HubSpotState::record_json(r, props_param(&pairs).as_deref(), DEFAULT_PROPS)))
}

pub async fn list(State(hs): State<HubSpot>, RawQuery(q): RawQuery) -> Json<Value> {
    let pairs = query_pairs(q.as_deref());
    let param = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let limit = param("limit").and_then(|l| l.parse().ok()).unwrap_or(10usize).clamp(1, 100);
    let after = param("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let props = props_param(&pairs);
    let s = hs.state();
    let items = s.contacts.iter().map(|r| HubSpotState::record_json(r, props.as_deref(), DEFAULT_PROPS)).collect();
    Json(paging(hs.base(), "/crm/v3/objects/contacts", items, limit, after))
}

fn properties(s: &HubSpotState, map: &Map<String, Value>) -> Result<Vec<(String, String)>> {
    let props = map.get("properties").and_then(Value::as_object).ok_or_else(|| HsErr::validation("properties is required", Value::Null))?;
    let mut out = Vec::new();
    for (k, v) in props {
        if !s.contact_properties.contains(k) {
            return Err(HsErr::validation(
                "Property values were not valid",
                json!({ "isValid": false, "message": format!("Property \"{k}\" does not exist"), "error": "PROPERTY_DOESNT_EXIST", "name": k }),
            ));
        }
        let v = match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        out.push((k.clone(), v));
    }
    Ok(out)
}

/// `PATCH /crm/v3/objects/contacts/{id} {properties}` → 200.
pub async fn update(State(hs): State<HubSpot>, Path(id): Path<String>, bytes: Bytes) -> Result<Json<Value>> {
    let map = body(&bytes)?;
    let r = hs.update(|s| {
        let props = properties(s, &map)?;
        let r = s.contacts.iter_mut().find(|r| r.id == id).ok_or_else(|| HsErr::not_found("Object"))?;
        for (k, v) in props {
            r.properties.insert(k, v);
        }
        r.updated_at = now_millis();
        Ok::<_, HsErr>(r.clone())
    })?;
    let changed: Vec<String> = map.get("properties").and_then(Value::as_object).map(|p| p.keys().cloned().collect()).unwrap_or_default();
    Ok(Json(HubSpotState::record_json(&r, Some(&changed), DEFAULT_PROPS)))
}

/// `POST /crm/v3/objects/contacts {properties}` → 201.
pub async fn create(State(hs): State<HubSpot>, bytes: Bytes) -> Result<(StatusCode, Json<Value>)> {
    let map = body(&bytes)?;
    let r = hs.update(|s| {
        let props = properties(s, &map)?;
        if let Some((_, email)) = props.iter().find(|(k, _)| k == "email")
            && let Some(o) = s.contacts.iter().find(|c| c.properties.get("email").is_some_and(|e| e.eq_ignore_ascii_case(email)))
        {
            return Err(HsErr::new(StatusCode::CONFLICT, "CONFLICT", format!("Contact already exists. Existing ID: {}", o.id)));
        }
        let now = now_millis();
        let r = Record { id: s.alloc(), properties: props.into_iter().collect(), created_at: now, updated_at: now };
        s.contacts.push(r.clone());
        Ok(r)
    })?;
    let keys: Vec<String> = r.properties.keys().cloned().collect();
    Ok((StatusCode::CREATED, Json(HubSpotState::record_json(&r, Some(&keys), DEFAULT_PROPS))))
}

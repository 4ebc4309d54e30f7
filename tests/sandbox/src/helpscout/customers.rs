//! Customers: v3 search, v2 list, create, get (intercom-helpscout-api.md §2.5).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::model::{Customer, Entry, HelpScoutState};
use super::query::{Query, parse};
use super::{HelpScout, HsError, body, created, hal, hal_page, parse_id};
use crate::common::util::{now_secs, phone_key, query_pairs, str_field};

fn customer_term(c: &Customer, field: &str, value: &str) -> Result<bool, String> {
    let ci = |a: &Option<String>| a.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(value));
    Ok(match field {
        // [U] §2.5/§2.10: phone matching = equal after removing formatting (spaces, dashes, dots).
        "phone" => c.phones.iter().any(|p| phone_key(&p.value) == phone_key(value)),
        "email" => c.emails.iter().any(|e| e.value.eq_ignore_ascii_case(value)),
        "firstName" => ci(&c.first_name),
        "lastName" => ci(&c.last_name),
        "background" => c.background.as_deref().is_some_and(|b| b.to_lowercase().contains(&value.to_lowercase())),
        "organization" | "company" => ci(&c.organization),
        "id" => c.id.to_string() == value,
        other => return Err(format!("Unsupported field: {other}")),
    })
}

fn filter(s: &HelpScoutState, query: Option<&Query>) -> Result<Vec<Customer>, HsError> {
    let mut out = Vec::new();
    for c in &s.customers {
        let keep = match query {
            None => true,
            Some(q) => q.eval(&|f, v| customer_term(c, f, v)).map_err(|m| HsError::invalid("query", &m, Value::Null))?,
        };
        if keep {
            out.push(c.clone());
        }
    }
    // §2.5: newest first, id as tie-break.
    out.sort_by_key(|c| std::cmp::Reverse((c.created_at, c.id)));
    Ok(out)
}

/// `GET /v3/customers/search?query=phone:"+1…"`.
pub async fn search_v3(State(hs): State<HelpScout>, RawQuery(q): RawQuery) -> Result<Response, HsError> {
    let pairs = query_pairs(q.as_deref());
    let raw = pairs.iter().find(|(k, _)| k == "query").map(|(_, v)| v.clone()).unwrap_or_default();
    if raw.is_empty() || raw.chars().count() > 500 {
        return Err(HsError::invalid("query", "must be 1 to 500 characters", json!(raw)));
    }
    let query = parse(&raw).map_err(|m| HsError::invalid("query", &m, json!(raw)))?;
    let s = hs.state();
    let found = filter(&s, Some(&query))?;
    // [U] §2.5/§2.10: the v3 response shape and cursor are not confirmed; HAL `_embedded.customers`
    // with `_links.next` carrying a `cursor` is used, 50 per page.
    let cursor: usize = pairs.iter().find(|(k, _)| k == "cursor").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let total = found.len();
    let items: Vec<Value> = found.iter().skip(cursor).take(50).map(|c| s.customer_json(hs.base(), c)).collect();
    let mut links =
        json!({ "self": { "href": format!("{}/v3/customers/search?query={}", hs.base(), crate::common::util::url_encode(&raw)) } });
    if cursor + 50 < total {
        links["next"] = json!({ "href": format!("{}/v3/customers/search?query={}&cursor={}", hs.base(), crate::common::util::url_encode(&raw), cursor + 50) });
    }
    Ok(hal(json!({ "_embedded": { "customers": items }, "_links": links })))
}

/// `GET /v2/customers?firstName&lastName&query&page`.
pub async fn list_v2(State(hs): State<HelpScout>, RawQuery(q): RawQuery) -> Result<Response, HsError> {
    let pairs = query_pairs(q.as_deref());
    let param = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
    let query = param("query").map(|q| parse(&q).map_err(|m| HsError::invalid("query", &m, json!(q)))).transpose()?;
    let s = hs.state();
    let mut found = filter(&s, query.as_ref())?;
    if let Some(f) = param("firstName") {
        found.retain(|c| c.first_name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(&f)));
    }
    if let Some(l) = param("lastName") {
        found.retain(|c| c.last_name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(&l)));
    }
    let page = param("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let items = found.iter().map(|c| s.customer_json(hs.base(), c)).collect();
    Ok(hal(hal_page(hs.base(), "/v2/customers", &pairs, "customers", items, page, 50)))
}

pub async fn get(State(hs): State<HelpScout>, Path(id): Path<String>) -> Result<Response, HsError> {
    let id = parse_id(&id)?;
    let s = hs.state();
    let c = s.customers.iter().find(|c| c.id == id).ok_or_else(HsError::not_found)?;
    Ok(hal(s.customer_json(hs.base(), c)))
}

/// `DELETE /v2/customers/{id}`: 204, the customer gone (its conversations keep their customer id).
pub async fn delete(State(hs): State<HelpScout>, Path(id): Path<String>) -> Result<Response, HsError> {
    let id = parse_id(&id)?;
    let removed = hs.update(|s| {
        let before = s.customers.len();
        s.customers.retain(|c| c.id != id);
        s.customers.len() < before
    });
    if !removed {
        return Err(HsError::not_found());
    }
    Ok(axum::response::IntoResponse::into_response(axum::http::StatusCode::NO_CONTENT))
}

fn limited(map: &Map<String, Value>, key: &str, min: usize, max: usize) -> Result<Option<String>, HsError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(v)) if (min..=max).contains(&v.chars().count()) => Ok(Some(v.clone())),
        Some(v) => Err(HsError::invalid(key, &format!("size must be between {min} and {max}"), v.clone())),
    }
}

fn entries(s: &mut HelpScoutState, map: &Map<String, Value>, key: &str) -> Result<Vec<Entry>, HsError> {
    let Some(list) = map.get(key) else {
        return Ok(Vec::new());
    };
    let list = list.as_array().ok_or_else(|| HsError::invalid(key, "must be an array", list.clone()))?;
    let mut out = Vec::new();
    for (i, e) in list.iter().enumerate() {
        let value = e.get("value").and_then(Value::as_str).filter(|v| !v.is_empty());
        let value = value.ok_or_else(|| HsError::invalid(&format!("{key}[{i}].value"), "may not be empty", e.clone()))?;
        let kind = e.get("type").and_then(Value::as_str).unwrap_or("work");
        out.push(Entry { id: s.alloc(), kind: kind.to_owned(), value: value.to_owned() });
    }
    Ok(out)
}

/// Creates a customer from a JSON object; used by `POST /v2/customers` and conversation create.
pub fn insert(s: &mut HelpScoutState, map: &Map<String, Value>) -> Result<u64, HsError> {
    let now = now_secs();
    let mut c = Customer {
        first_name: limited(map, "firstName", 1, 40)?,
        last_name: limited(map, "lastName", 1, 40)?,
        background: limited(map, "background", 0, 200)?,
        organization: limited(map, "organization", 0, 60)?,
        job_title: limited(map, "jobTitle", 0, 60)?,
        created_at: now,
        updated_at: now,
        ..Customer::default()
    };
    c.phones = entries(s, map, "phones")?;
    if let Some(p) = str_field(map, "phone") {
        c.phones.push(Entry { id: s.alloc(), kind: "work".into(), value: p.to_owned() });
    }
    c.emails = entries(s, map, "emails")?;
    if let Some(e) = str_field(map, "email") {
        c.emails.push(Entry { id: s.alloc(), kind: "work".into(), value: e.to_owned() });
    }
    c.id = s.alloc();
    let id = c.id;
    s.customers.push(c);
    Ok(id)
}

/// `POST /v2/customers` → 201 `Resource-ID`.
pub async fn create(State(hs): State<HelpScout>, bytes: Bytes) -> Result<Response, HsError> {
    let map = body(&bytes)?;
    let id = hs.update(|s| insert(s, &map))?;
    Ok(created(format!("{}/v2/customers/{id}", hs.base()), id))
}

//! Contacts: create (users and leads), get, update, list, search (intercom-helpscout-api.md §1.6).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::model::{Contact, IntercomState};
use super::search::{body_paging, matches, paginate};
use super::{Intercom, IntercomError, body};
use crate::common::util::{now_secs, phone_key, query_pairs};

type Result<T> = std::result::Result<T, IntercomError>;

fn not_found() -> IntercomError {
    IntercomError::new(StatusCode::NOT_FOUND, "not_found", "User Not Found")
}

/// Searchable field values of a contact.
fn field(s: &IntercomState, c: &Contact, name: &str) -> Vec<Value> {
    let one = |v: Option<String>| v.map(Value::String).into_iter().collect::<Vec<_>>();
    match name {
        "id" => one(Some(c.id.clone())),
        "role" => one(Some(c.role.clone())),
        "name" => one(c.name.clone()),
        "email" => one(c.email.clone()),
        "email_domain" => one(c.email.as_deref().and_then(|e| e.split_once('@')).map(|(_, d)| d.to_owned())),
        "external_id" => one(c.external_id.clone()),
        "phone" => one(c.phone.clone()),
        // [U] intercom-helpscout-api.md §1.12: `formatted_phone` is taken to be the E.164 form of `phone`.
        "formatted_phone" => one(c.phone.as_deref().map(phone_key)),
        "owner_id" => one(c.owner_id.clone()),
        "created_at" => vec![json!(c.created_at)],
        "updated_at" => vec![json!(c.updated_at)],
        "workspace_id" => one(Some(s.app.id_code.clone())),
        other => other.strip_prefix("custom_attributes.").and_then(|k| c.custom_attributes.get(k).cloned()).into_iter().collect(),
    }
}

fn apply_fields(c: &mut Contact, map: &Map<String, Value>) -> Result<()> {
    if let Some(role) = map.get("role") {
        match role.as_str() {
            Some(r @ ("user" | "lead")) => c.role = r.to_owned(),
            _ => {
                return Err(IntercomError::bad("parameter_invalid", "role must be user or lead").field("role"));
            }
        }
    }
    for (key, slot) in [
        ("external_id", &mut c.external_id),
        ("email", &mut c.email),
        ("phone", &mut c.phone),
        ("name", &mut c.name),
        ("owner_id", &mut c.owner_id),
    ] {
        match map.get(key) {
            None => {}
            Some(Value::Null) => *slot = None,
            Some(Value::String(v)) => *slot = Some(v.clone()),
            Some(Value::Number(n)) if key == "owner_id" => *slot = Some(n.to_string()),
            Some(_) => {
                return Err(IntercomError::bad("parameter_invalid", format!("{key} must be a string")).field(key));
            }
        }
    }
    if map.contains_key("email_verified") && !map.contains_key("email") {
        return Err(IntercomError::bad("parameter_invalid", "email_verified must be supplied together with email").field("email_verified"));
    }
    if let Some(attrs) = map.get("custom_attributes") {
        let attrs = attrs.as_object().ok_or_else(|| IntercomError::bad("parameter_invalid", "custom_attributes must be an object"))?;
        c.custom_attributes.extend(attrs.clone());
    }
    Ok(())
}

pub async fn create(State(ic): State<Intercom>, bytes: Bytes) -> Result<Json<Value>> {
    let map = body(&bytes)?;
    // §1.6: at least one of email, external_id, role.
    if !["email", "external_id", "role"].iter().any(|k| map.get(*k).is_some_and(|v| !v.is_null())) {
        return Err(IntercomError::bad("parameter_invalid", "At least one of email, external_id or role must be provided"));
    }
    let now = now_secs();
    let mut c = Contact { role: "user".into(), created_at: now, updated_at: now, ..Contact::default() };
    apply_fields(&mut c, &map)?;
    let c = ic.update(|s| {
        // [U] Not in the reference: a second *user* with the same email or external_id is a 409 `conflict`
        // (Intercom's known behaviour); leads may share e-mails.
        if c.role == "user" {
            let clash = s.contacts.iter().find(|o| {
                o.role == "user"
                    && ((c.external_id.is_some() && o.external_id == c.external_id)
                        || (c.email.is_some() && o.email.as_deref().map(str::to_lowercase) == c.email.as_deref().map(str::to_lowercase)))
            });
            if let Some(o) = clash {
                return Err(IntercomError::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    format!("A contact matching those details already exists with id={}", o.id),
                ));
            }
        }
        let mut c = c;
        c.id = s.alloc_contact_id();
        s.contacts.push(c.clone());
        Ok(c)
    })?;
    Ok(Json(ic.state().contact_json(&c)))
}

pub async fn get(State(ic): State<Intercom>, Path(id): Path<String>) -> Result<Json<Value>> {
    let s = ic.state();
    let c = s.contacts.iter().find(|c| c.id == id).ok_or_else(not_found)?;
    Ok(Json(s.contact_json(c)))
}

pub async fn update(State(ic): State<Intercom>, Path(id): Path<String>, bytes: Bytes) -> Result<Json<Value>> {
    let map = body(&bytes)?;
    let c = ic.update(|s| {
        let c = s.contacts.iter_mut().find(|c| c.id == id).ok_or_else(not_found)?;
        apply_fields(c, &map)?;
        c.updated_at = now_secs();
        Ok::<_, IntercomError>(c.clone())
    })?;
    Ok(Json(ic.state().contact_json(&c)))
}

/// `DELETE /contacts/{id}`: `contact_deleted` (§1.6 "Other").
pub async fn delete(State(ic): State<Intercom>, Path(id): Path<String>) -> Result<Json<Value>> {
    let external_id = ic.update(|s| {
        let i = s.contacts.iter().position(|c| c.id == id).ok_or_else(not_found)?;
        let c = s.contacts.remove(i);
        Ok::<_, IntercomError>(c.external_id)
    })?;
    Ok(Json(json!({ "type": "contact", "id": id, "external_id": external_id, "deleted": true })))
}

pub async fn list(State(ic): State<Intercom>, RawQuery(q): RawQuery) -> Json<Value> {
    let pairs = query_pairs(q.as_deref());
    let param = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let per_page = param("per_page").and_then(|v| v.parse().ok()).unwrap_or(50usize).clamp(1, 150);
    let s = ic.state();
    let items = s.contacts.iter().map(|c| s.contact_json(c)).collect();
    let page = paginate(items, per_page, param("starting_after").as_deref());
    Json(json!({ "type": "list", "data": page.items, "total_count": page.total, "pages": page.pages }))
}

pub async fn search(State(ic): State<Intercom>, bytes: Bytes) -> Result<Json<Value>> {
    let map = body(&bytes)?;
    let query = map.get("query").ok_or_else(|| IntercomError::bad("parameter_not_found", "query is required"))?;
    if let Some(order) = map.get("sort").and_then(|s| s.get("order"))
        && !matches!(order.as_str(), Some("ascending" | "descending"))
    {
        return Err(IntercomError::bad("invalid_sort_order", "Sort order must be ascending or descending"));
    }
    let s = ic.state();
    let mut found = Vec::new();
    for c in &s.contacts {
        if matches(query, &|f| field(&s, c, f))? {
            found.push(c);
        }
    }
    // §1.6: default order descending (newest first). [U] ties broken by id.
    let ascending = map.get("sort").and_then(|s| s.get("order")).and_then(Value::as_str) == Some("ascending");
    found.sort_by_key(|c| (c.created_at, c.id.clone()));
    if !ascending {
        found.reverse();
    }
    let (per_page, after) = body_paging(&map, 50, 150);
    let page = paginate(found.into_iter().map(|c| s.contact_json(c)).collect(), per_page, after.as_deref());
    Ok(Json(json!({ "type": "list", "data": page.items, "total_count": page.total, "pages": page.pages })))
}

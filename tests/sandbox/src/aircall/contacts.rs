//! Contacts: list, search, get, create, update (POST), delete, phone and e-mail
//! details (aircall-api.md §5.2).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::model::{Contact, Detail};
use super::paging::Paging;
use super::{Aircall, AircallError, body, parse_id};
use crate::common::util::{now_secs, phone_key, query_pairs, str_field};

type Result<T> = std::result::Result<T, AircallError>;

const MAX_DETAILS: usize = 20;

pub async fn list(State(a): State<Aircall>, RawQuery(q): RawQuery) -> Json<Value> {
    let s = a.state();
    let items = s.contacts.iter().map(|c| (c.created_at, c.id, s.contact_json(a.base(), c))).collect();
    Json(Paging::from_query(q.as_deref()).render("contacts", items, a.base(), "/v1/contacts"))
}

pub async fn search(State(a): State<Aircall>, RawQuery(q): RawQuery) -> Json<Value> {
    let pairs = query_pairs(q.as_deref());
    let param = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
    let phone = param("phone_number").map(|p| phone_key(&p));
    let email = param("email").map(|e| e.to_lowercase());
    let s = a.state();
    let items = s
        .contacts
        .iter()
        // [U] aircall-api.md §5.2/§9.7: numbers match after removing formatting (spaces, dashes, dots);
        // both filters given must both match.
        .filter(|c| phone.as_ref().is_none_or(|p| c.phone_numbers.iter().any(|d| phone_key(&d.value) == *p)))
        .filter(|c| email.as_ref().is_none_or(|e| c.emails.iter().any(|d| d.value.to_lowercase() == *e)))
        .map(|c| (c.created_at, c.id, s.contact_json(a.base(), c)))
        .collect();
    Json(Paging::from_query(q.as_deref()).render("contacts", items, a.base(), "/v1/contacts/search"))
}

pub async fn get(State(a): State<Aircall>, Path(id): Path<String>) -> Result<Json<Value>> {
    let id = parse_id(&id, "Contact")?;
    let s = a.state();
    let c = s.contacts.iter().find(|c| c.id == id).ok_or_else(contact_not_found)?;
    Ok(Json(json!({ "contact": s.contact_json(a.base(), c) })))
}

fn contact_not_found() -> AircallError {
    AircallError::not_found("Contact not found")
}

fn details(map: &Map<String, Value>, key: &str) -> Result<Vec<(String, String)>> {
    let Some(v) = map.get(key) else {
        return Ok(Vec::new());
    };
    let list = v.as_array().ok_or_else(|| AircallError::bad_request(format!("{key} must be an array")))?;
    if list.len() > MAX_DETAILS {
        return Err(AircallError::bad_request(format!("{key}: at most {MAX_DETAILS} entries")));
    }
    list.iter()
        .map(|d| {
            let value = d.get("value").and_then(Value::as_str).filter(|s| !s.trim().is_empty());
            let value = value.ok_or_else(|| AircallError::bad_request(format!("{key}: each entry needs a value")))?;
            let label = d.get("label").and_then(Value::as_str).unwrap_or("");
            Ok((label.to_owned(), value.to_owned()))
        })
        .collect()
}

fn opt_string(map: &Map<String, Value>, key: &str) -> Option<Option<String>> {
    map.get(key).map(|v| v.as_str().map(str::to_owned))
}

pub async fn create(State(a): State<Aircall>, bytes: Bytes) -> Result<(StatusCode, Json<Value>)> {
    let map = body(&bytes)?;
    let phones = details(&map, "phone_numbers")?;
    if phones.is_empty() {
        // aircall-api.md §5.2: at least one phone number is required.
        // [U] §1.5: status 400 (not 422) for this validation error.
        return Err(AircallError::bad_request("phone_numbers: at least one phone number is required"));
    }
    let emails = details(&map, "emails")?;
    let now = now_secs();
    let id = a.update(|s| {
        let id = s.alloc();
        let mut c = Contact {
            id,
            first_name: opt_string(&map, "first_name").flatten(),
            last_name: opt_string(&map, "last_name").flatten(),
            company_name: opt_string(&map, "company_name").flatten(),
            description: opt_string(&map, "description").flatten(),
            information: opt_string(&map, "information").flatten(),
            is_shared: true,
            created_at: now,
            updated_at: now,
            ..Contact::default()
        };
        for (label, value) in phones {
            c.phone_numbers.push(Detail { id: s.alloc(), label, value });
        }
        for (label, value) in emails {
            c.emails.push(Detail { id: s.alloc(), label, value });
        }
        s.contacts.push(c);
        id
    });
    let s = a.state();
    let c = s.contacts.iter().find(|c| c.id == id).ok_or_else(contact_not_found)?;
    Ok((StatusCode::CREATED, Json(json!({ "contact": s.contact_json(a.base(), c) }))))
}

pub async fn update(State(a): State<Aircall>, Path(id): Path<String>, bytes: Bytes) -> Result<Json<Value>> {
    let id = parse_id(&id, "Contact")?;
    let map = body(&bytes)?;
    a.update(|s| {
        let c = s.contacts.iter_mut().find(|c| c.id == id).ok_or_else(contact_not_found)?;
        // [U] aircall-api.md §5.2/§9.7: `phone_numbers`/`emails` arrays are ignored by update; use the
        // `*_details` endpoints.
        for (key, slot) in [
            ("first_name", &mut c.first_name),
            ("last_name", &mut c.last_name),
            ("company_name", &mut c.company_name),
            ("description", &mut c.description),
            ("information", &mut c.information),
        ] {
            if let Some(v) = opt_string(&map, key) {
                *slot = v;
            }
        }
        c.updated_at = now_secs();
        Ok::<_, AircallError>(())
    })?;
    let s = a.state();
    let c = s.contacts.iter().find(|c| c.id == id).ok_or_else(contact_not_found)?;
    Ok(Json(json!({ "contact": s.contact_json(a.base(), c) })))
}

pub async fn delete(State(a): State<Aircall>, Path(id): Path<String>) -> Result<StatusCode> {
    let id = parse_id(&id, "Contact")?;
    a.update(|s| {
        let before = s.contacts.len();
        s.contacts.retain(|c| c.id != id);
        if s.contacts.len() == before { Err(contact_not_found()) } else { Ok(StatusCode::NO_CONTENT) }
    })
}

#[derive(Clone, Copy)]
enum Kind {
    Phone,
    Email,
}

impl Kind {
    fn key(self) -> &'static str {
        match self {
            Kind::Phone => "phone_detail",
            Kind::Email => "email_detail",
        }
    }

    fn list(self, c: &mut Contact) -> &mut Vec<Detail> {
        match self {
            Kind::Phone => &mut c.phone_numbers,
            Kind::Email => &mut c.emails,
        }
    }
}

fn add_detail(a: &Aircall, kind: Kind, id: &str, bytes: &[u8]) -> Result<(StatusCode, Json<Value>)> {
    let id = parse_id(id, "Contact")?;
    let map = body(bytes)?;
    let value = str_field(&map, "value").filter(|v| !v.trim().is_empty());
    let value = value.ok_or_else(|| AircallError::bad_request("value is required"))?.to_owned();
    let label = str_field(&map, "label").unwrap_or("").to_owned();
    let detail = a.update(|s| {
        let detail_id = s.alloc();
        let c = s.contacts.iter_mut().find(|c| c.id == id).ok_or_else(contact_not_found)?;
        let list = kind.list(c);
        if list.len() >= MAX_DETAILS {
            return Err(AircallError::bad_request(format!("at most {MAX_DETAILS} entries")));
        }
        let d = Detail { id: detail_id, label, value };
        list.push(d.clone());
        c.updated_at = now_secs();
        Ok(d)
    })?;
    Ok((StatusCode::CREATED, Json(json!({ kind.key(): detail }))))
}

fn update_detail(a: &Aircall, kind: Kind, id: &str, detail_id: &str, bytes: &[u8]) -> Result<(StatusCode, Json<Value>)> {
    let id = parse_id(id, "Contact")?;
    let detail_id = parse_id(detail_id, "Detail")?;
    let map = body(bytes)?;
    let detail = a.update(|s| {
        let c = s.contacts.iter_mut().find(|c| c.id == id).ok_or_else(contact_not_found)?;
        let d = kind.list(c).iter_mut().find(|d| d.id == detail_id).ok_or_else(|| AircallError::not_found("Detail not found"))?;
        if let Some(v) = str_field(&map, "value") {
            d.value = v.to_owned();
        }
        if let Some(l) = str_field(&map, "label") {
            d.label = l.to_owned();
        }
        let d = d.clone();
        c.updated_at = now_secs();
        Ok::<_, AircallError>(d)
    })?;
    // aircall-api.md §5.2: 202. [U] the body is assumed to echo the detail.
    Ok((StatusCode::ACCEPTED, Json(json!({ kind.key(): detail }))))
}

fn delete_detail(a: &Aircall, kind: Kind, id: &str, detail_id: &str) -> Result<StatusCode> {
    let id = parse_id(id, "Contact")?;
    let detail_id = parse_id(detail_id, "Detail")?;
    a.update(|s| {
        let c = s.contacts.iter_mut().find(|c| c.id == id).ok_or_else(contact_not_found)?;
        let list = kind.list(c);
        let before = list.len();
        list.retain(|d| d.id != detail_id);
        if list.len() == before {
            return Err(AircallError::not_found("Detail not found"));
        }
        Ok(StatusCode::NO_CONTENT)
    })
}

pub async fn add_phone(State(a): State<Aircall>, Path(id): Path<String>, b: Bytes) -> Result<(StatusCode, Json<Value>)> {
    add_detail(&a, Kind::Phone, &id, &b)
}

pub async fn add_email(State(a): State<Aircall>, Path(id): Path<String>, b: Bytes) -> Result<(StatusCode, Json<Value>)> {
    add_detail(&a, Kind::Email, &id, &b)
}

pub async fn update_phone(State(a): State<Aircall>, Path((id, d)): Path<(String, String)>, b: Bytes) -> Result<(StatusCode, Json<Value>)> {
    update_detail(&a, Kind::Phone, &id, &d, &b)
}

pub async fn update_email(State(a): State<Aircall>, Path((id, d)): Path<(String, String)>, b: Bytes) -> Result<(StatusCode, Json<Value>)> {
    update_detail(&a, Kind::Email, &id, &d, &b)
}

pub async fn delete_phone(State(a): State<Aircall>, Path((id, d)): Path<(String, String)>) -> Result<StatusCode> {
    delete_detail(&a, Kind::Phone, &id, &d)
}

pub async fn delete_email(State(a): State<Aircall>, Path((id, d)): Path<(String, String)>) -> Result<StatusCode> {
    delete_detail(&a, Kind::Email, &id, &d)
}

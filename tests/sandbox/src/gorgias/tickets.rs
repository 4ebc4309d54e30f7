//! Tickets (create, list a customer's, get, update) and tags, on the account
//! and on tickets (gorgias-hubspot-api.md §1.7, §1.9).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::messages::build_message;
use super::model::{GorgiasState, Tag, Ticket};
use super::{Gorgias, GorgiasError, body, page, parse_id};
use crate::common::util::{now_secs, query_pairs, str_field};

type Result<T> = std::result::Result<T, GorgiasError>;

/// Resolves `[{id} | {name}]` or names to tag ids, creating unknown names.
fn tag_ids(s: &mut GorgiasState, refs: &[Value]) -> Result<Vec<u64>> {
    let mut out = Vec::new();
    for r in refs {
        let id = if let Some(id) = r.get("id").and_then(Value::as_u64).or_else(|| r.as_u64()) {
            s.tags
                .iter()
                .find(|t| t.id == id)
                .map(|t| t.id)
                .ok_or_else(|| GorgiasError::invalid("tags", &format!("Tag {id} not found.")))?
        } else if let Some(name) = r.get("name").and_then(Value::as_str).or_else(|| r.as_str()) {
            // [U] §1.9/§3.6: unknown names create the tag (names are case-sensitive).
            match s.tags.iter().find(|t| t.name == name) {
                Some(t) => t.id,
                None => {
                    let id = s.alloc();
                    s.tags.push(Tag { id, name: name.to_owned(), description: None, decoration: json!({ "color": "#888888" }) });
                    id
                }
            }
        } else {
            return Err(GorgiasError::invalid("tags", "Each tag needs an id or a name."));
        };
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

fn opt_user(s: &GorgiasState, v: Option<&Value>, field: &str) -> Result<Option<Option<u64>>> {
    match v {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(v) => {
            let id = v.get("id").and_then(Value::as_u64).ok_or_else(|| GorgiasError::invalid(field, "Must be {\"id\": …} or null."))?;
            if !s.users.iter().any(|u| u.id == id) {
                return Err(GorgiasError::invalid(field, &format!("User {id} not found.")));
            }
            Ok(Some(Some(id)))
        }
    }
}

fn opt_datetime(map: &Map<String, Value>, key: &str) -> Result<Option<Option<String>>> {
    match map.get(key) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
        Some(_) => Err(GorgiasError::invalid(key, "Not a valid datetime.")),
    }
}

fn status(v: Option<&Value>) -> Result<Option<String>> {
    match v {
        None => Ok(None),
        Some(Value::String(s)) if s == "open" || s == "closed" => Ok(Some(s.clone())),
        Some(_) => Err(GorgiasError::invalid("status", "Must be one of: open, closed.")),
    }
}

/// `POST /api/tickets` → 201.
pub async fn create(State(g): State<Gorgias>, bytes: Bytes) -> Result<(StatusCode, Json<Value>)> {
    let map = body(&bytes)?;
    let msgs = map
        .get("messages")
        .and_then(Value::as_array)
        .ok_or_else(|| GorgiasError::invalid("messages", "Missing data for required field."))?;
    if msgs.is_empty() || msgs.len() > 500 {
        return Err(GorgiasError::invalid("messages", "Length must be between 1 and 500."));
    }
    if str_field(&map, "external_id").is_some_and(|e| e.chars().count() > 255) {
        return Err(GorgiasError::invalid("external_id", "Longer than maximum length 255."));
    }
    let now = now_secs();
    let t = g.update(|s| {
        let mut t = Ticket {
            status: status(map.get("status"))?.unwrap_or_else(|| "open".into()),
            via: str_field(&map, "via").unwrap_or("api").to_owned(),
            from_agent: map.get("from_agent").and_then(Value::as_bool).unwrap_or(false),
            subject: str_field(&map, "subject").map(str::to_owned),
            spam: map.get("spam").and_then(Value::as_bool).unwrap_or(false),
            priority: str_field(&map, "priority").unwrap_or("normal").to_owned(),
            is_unread: true,
            external_id: str_field(&map, "external_id").map(str::to_owned),
            created_at: now,
            updated_at: now,
            ..Ticket::default()
        };
        t.assignee_user_id = opt_user(s, map.get("assignee_user"), "assignee_user")?.flatten();
        t.assignee_team_id = map.get("assignee_team").and_then(|v| v.get("id")).and_then(Value::as_u64);
        t.closed_datetime = opt_datetime(&map, "closed_datetime")?.flatten();
        t.trashed_datetime = opt_datetime(&map, "trashed_datetime")?.flatten();
        t.snooze_datetime = opt_datetime(&map, "snooze_datetime")?.flatten();
        if t.status == "closed" && t.closed_datetime.is_none() {
            t.closed_datetime = Some(super::model::dt(now));
        }
        let tags: Vec<Value> = map.get("tags").and_then(Value::as_array).cloned().unwrap_or_default();
        t.tag_ids = tag_ids(s, &tags)?;
        for (i, m) in msgs.iter().enumerate() {
            let m = m.as_object().ok_or_else(|| GorgiasError::invalid(&format!("messages.{i}"), "Must be an object."))?;
            t.messages.push(build_message(s, m, &format!("messages.{i}."))?);
        }
        t.customer_id = match map.get("customer") {
            Some(c) => Some(customer_ref(s, c)?),
            None => t.messages.iter().find(|m| !m.from_agent).and_then(|m| m.sender.get("id")).and_then(Value::as_u64),
        };
        t.channel = str_field(&map, "channel")
            .map(str::to_owned)
            .or_else(|| t.messages.first().map(|m| m.channel.clone()))
            .unwrap_or_else(|| "api".into());
        t.id = s.alloc();
        s.tickets.push(t.clone());
        Ok::<_, GorgiasError>(t)
    })?;
    Ok((StatusCode::CREATED, Json(g.state().ticket_json(&t, true))))
}

fn customer_ref(s: &GorgiasState, v: &Value) -> Result<u64> {
    if let Some(id) = v.get("id").and_then(Value::as_u64) {
        return s
            .customers
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.id)
            .ok_or_else(|| GorgiasError::invalid("customer", &format!("Customer {id} not found.")));
    }
    if let Some(email) = v.get("email").and_then(Value::as_str) {
        return s
            .customers
            .iter()
            .find(|c| c.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(email)))
            .map(|c| c.id)
            .ok_or_else(|| GorgiasError::invalid("customer", "Customer not found."));
    }
    Err(GorgiasError::invalid("customer", "Must have an id or an email."))
}

/// `GET /api/tickets?customer_id&external_id&ticket_ids&trashed&limit&cursor&order_by`.
pub async fn list(State(g): State<Gorgias>, RawQuery(q): RawQuery) -> Result<Json<Value>> {
    let pairs = query_pairs(q.as_deref());
    let param = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let customer = param("customer_id")
        .map(|c| c.parse::<u64>().map_err(|_| GorgiasError::invalid("customer_id", "Not a valid integer.")))
        .transpose()?;
    let ext = param("external_id");
    let ids: Vec<u64> = pairs.iter().filter(|(k, _)| k == "ticket_ids").filter_map(|(_, v)| v.parse().ok()).collect();
    // [U] §1.7: the docs list `trashed` with default `true` (trashed tickets included unless `trashed=false`).
    let trashed = param("trashed").is_none_or(|t| t != "false");
    let order = param("order_by").unwrap_or_else(|| "created_datetime:desc".into());
    let s = g.state();
    let mut found: Vec<&Ticket> = s
        .tickets
        .iter()
        .filter(|t| customer.is_none_or(|c| t.customer_id == Some(c)))
        .filter(|t| ext.as_ref().is_none_or(|e| t.external_id.as_ref() == Some(e)))
        .filter(|t| ids.is_empty() || ids.contains(&t.id))
        .filter(|t| trashed || t.trashed_datetime.is_none())
        .collect();
    match order.as_str() {
        "created_datetime:asc" => found.sort_by_key(|t| (t.created_at, t.id)),
        "created_datetime:desc" => found.sort_by_key(|t| std::cmp::Reverse((t.created_at, t.id))),
        "updated_datetime:asc" => found.sort_by_key(|t| (t.updated_at, t.id)),
        "updated_datetime:desc" => found.sort_by_key(|t| std::cmp::Reverse((t.updated_at, t.id))),
        _ => return Err(GorgiasError::invalid("order_by", "Invalid ordering.")),
    }
    let items = found.into_iter().map(|t| s.ticket_json(t, false)).collect();
    Ok(Json(page(items, "/api/tickets", param("cursor").as_deref(), param("limit").as_deref(), 100)?))
}

pub async fn get(State(g): State<Gorgias>, Path(id): Path<String>) -> Result<Json<Value>> {
    let id = parse_id(&id, "Ticket")?;
    let s = g.state();
    let t = s.tickets.iter().find(|t| t.id == id).ok_or_else(|| GorgiasError::not_found("Ticket"))?;
    Ok(Json(s.ticket_json(t, true)))
}

/// `PUT /api/tickets/{id}`: status, assignee, spam, trash, tags, subject…
pub async fn update(State(g): State<Gorgias>, Path(id): Path<String>, bytes: Bytes) -> Result<Json<Value>> {
    let id = parse_id(&id, "Ticket")?;
    let map = body(&bytes)?;
    let now = now_secs();
    let t = g.update(|s| {
        let assignee = opt_user(s, map.get("assignee_user"), "assignee_user")?;
        let tags = match map.get("tags").and_then(Value::as_array) {
            Some(list) => Some(tag_ids(s, list)?),
            None => None,
        };
        let customer = map.get("customer").map(|c| customer_ref(s, c)).transpose()?;
        let new_status = status(map.get("status"))?;
        let closed = opt_datetime(&map, "closed_datetime")?;
        let trashed = opt_datetime(&map, "trashed_datetime")?;
        let snooze = opt_datetime(&map, "snooze_datetime")?;
        let t = s.tickets.iter_mut().find(|t| t.id == id).ok_or_else(|| GorgiasError::not_found("Ticket"))?;
        if let Some(st) = new_status {
            if st == "closed" && t.status != "closed" {
                t.closed_datetime = Some(super::model::dt(now));
            }
            if st == "open" {
                t.closed_datetime = None;
            }
            t.status = st;
        }
        if let Some(c) = closed {
            t.closed_datetime = c;
        }
        if let Some(tr) = trashed {
            t.trashed_datetime = tr;
        }
        if let Some(sn) = snooze {
            t.snooze_datetime = sn;
        }
        if let Some(a) = assignee {
            t.assignee_user_id = a;
        }
        if let Some(team) = map.get("assignee_team") {
            t.assignee_team_id = team.get("id").and_then(Value::as_u64);
        }
        if let Some(tags) = tags {
            t.tag_ids = tags;
        }
        if let Some(c) = customer {
            t.customer_id = Some(c);
        }
        if let Some(v) = map.get("spam").and_then(Value::as_bool) {
            t.spam = v;
        }
        if let Some(v) = map.get("is_unread").and_then(Value::as_bool) {
            t.is_unread = v;
        }
        if let Some(v) = str_field(&map, "subject") {
            t.subject = Some(v.to_owned());
        }
        if let Some(v) = str_field(&map, "priority") {
            t.priority = v.to_owned();
        }
        if let Some(v) = str_field(&map, "external_id") {
            t.external_id = Some(v.to_owned());
        }
        t.updated_at = now;
        Ok::<_, GorgiasError>(t.clone())
    })?;
    // [U] §1.7: the update status code is not in the reference; 200 with the ticket.
    Ok(Json(g.state().ticket_json(&t, true)))
}

fn tag_body(map: &Map<String, Value>) -> Vec<Value> {
    let ids = map.get("ids").and_then(Value::as_array).cloned().unwrap_or_default();
    let names = map.get("names").and_then(Value::as_array).cloned().unwrap_or_default();
    ids.into_iter().chain(names).collect()
}

fn change_tags(g: &Gorgias, id: &str, bytes: &[u8], f: impl FnOnce(&mut Vec<u64>, Vec<u64>)) -> Result<()> {
    let id = parse_id(id, "Ticket")?;
    let map = body(bytes)?;
    let refs = tag_body(&map);
    g.update(|s| {
        if !s.tickets.iter().any(|t| t.id == id) {
            return Err(GorgiasError::not_found("Ticket"));
        }
        let ids = tag_ids(s, &refs)?;
        if let Some(t) = s.tickets.iter_mut().find(|t| t.id == id) {
            f(&mut t.tag_ids, ids);
            t.updated_at = now_secs();
        }
        Ok(())
    })
}

pub async fn ticket_tags(State(g): State<Gorgias>, Path(id): Path<String>) -> Result<Json<Value>> {
    let id = parse_id(&id, "Ticket")?;
    let s = g.state();
    let t = s.tickets.iter().find(|t| t.id == id).ok_or_else(|| GorgiasError::not_found("Ticket"))?;
    let data: Vec<Value> = t.tag_ids.iter().filter_map(|i| s.tags.iter().find(|x| x.id == *i)).map(|x| s.tag_json(x)).collect();
    Ok(Json(
        json!({ "data": data, "object": "list", "uri": format!("/api/tickets/{id}/tags"), "meta": { "prev_cursor": null, "next_cursor": null } }),
    ))
}

/// `POST /api/tickets/{id}/tags {ids?, names?}` adds → 201, no content.
pub async fn add_tags(State(g): State<Gorgias>, Path(id): Path<String>, bytes: Bytes) -> Result<Response> {
    change_tags(&g, &id, &bytes, |cur, new| {
        for n in new {
            if !cur.contains(&n) {
                cur.push(n);
            }
        }
    })?;
    Ok(StatusCode::CREATED.into_response())
}

/// `PUT /api/tickets/{id}/tags` replaces → 202.
pub async fn set_tags(State(g): State<Gorgias>, Path(id): Path<String>, bytes: Bytes) -> Result<Response> {
    change_tags(&g, &id, &bytes, |cur, new| *cur = new)?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `DELETE /api/tickets/{id}/tags` removes the listed → 204.
pub async fn remove_tags(State(g): State<Gorgias>, Path(id): Path<String>, bytes: Bytes) -> Result<Response> {
    change_tags(&g, &id, &bytes, |cur, gone| cur.retain(|t| !gone.contains(t)))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn list_tags(State(g): State<Gorgias>, RawQuery(q): RawQuery) -> Result<Json<Value>> {
    let pairs = query_pairs(q.as_deref());
    let param = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let s = g.state();
    let items = s.tags.iter().map(|t| s.tag_json(t)).collect();
    Ok(Json(page(items, "/api/tags", param("cursor").as_deref(), param("limit").as_deref(), 100)?))
}

/// `POST /api/tags {name, description?, decoration?}` → 201.
pub async fn create_tag(State(g): State<Gorgias>, bytes: Bytes) -> Result<(StatusCode, Json<Value>)> {
    let map = body(&bytes)?;
    let name = str_field(&map, "name").filter(|n| !n.is_empty() && n.chars().count() <= 256);
    let name = name.ok_or_else(|| GorgiasError::invalid("name", "Length must be between 1 and 256."))?.to_owned();
    let t = g.update(|s| {
        if s.tags.iter().any(|t| t.name == name) {
            return Err(GorgiasError::new(StatusCode::CONFLICT, "A tag with this name already exists."));
        }
        let t = Tag {
            id: s.alloc(),
            name,
            description: str_field(&map, "description").map(str::to_owned),
            decoration: map.get("decoration").cloned().unwrap_or_else(|| json!({ "color": "#888888" })),
        };
        s.tags.push(t.clone());
        Ok(t)
    })?;
    Ok((StatusCode::CREATED, Json(g.state().tag_json(&t))))
}

/// `DELETE /api/tags/{id}` → 204. [U] §1.9: delete path unconfirmed.
pub async fn delete_tag(State(g): State<Gorgias>, Path(id): Path<String>) -> Result<Response> {
    let id = parse_id(&id, "Tag")?;
    g.update(|s| {
        let before = s.tags.len();
        s.tags.retain(|t| t.id != id);
        if before == s.tags.len() {
            return Err(GorgiasError::not_found("Tag"));
        }
        for t in &mut s.tickets {
            t.tag_ids.retain(|x| *x != id);
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

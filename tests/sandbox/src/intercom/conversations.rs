//! Conversations: create (contact-initiated), get, list, search, reply (contact or
//! admin), and manage parts: close / snooze / open / assign (intercom-helpscout-api.md §1.7).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::model::{Author, Contact, Conversation, IntercomState, Part};
use super::search::{body_paging, matches, paginate};
use super::{Intercom, IntercomError, body, id_string};
use crate::common::util::{now_secs, query_pairs, str_field};

type Result<T> = std::result::Result<T, IntercomError>;

fn conversation_not_found() -> IntercomError {
    IntercomError::new(StatusCode::NOT_FOUND, "conversation_not_found", "Conversation not found")
}

fn user_not_found() -> IntercomError {
    IntercomError::new(StatusCode::NOT_FOUND, "not_found", "User Not Found")
}

fn admin_not_found() -> IntercomError {
    IntercomError::new(StatusCode::NOT_FOUND, "admin_not_found", "Admin not found")
}

fn missing(field: &str) -> IntercomError {
    IntercomError::bad("parameter_not_found", format!("{field} is required")).field(field)
}

fn contact_author(c: &Contact) -> Author {
    Author { kind: c.role.clone(), id: c.id.clone(), name: c.name.clone(), email: c.email.clone() }
}

fn admin_author(s: &IntercomState, id: &str) -> Result<Author> {
    let a = s.admins.iter().find(|a| a.id == id).ok_or_else(admin_not_found)?;
    Ok(Author { kind: "admin".into(), id: a.id.clone(), name: Some(a.name.clone()), email: Some(a.email.clone()) })
}

fn attachment_urls(map: &Map<String, Value>) -> Result<Vec<String>> {
    let urls: Vec<String> = map
        .get("attachment_urls")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|u| u.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    if urls.len() > 10 {
        return Err(IntercomError::bad("parameter_invalid", "You can include up to 10 attachment URLs").field("attachment_urls"));
    }
    Ok(urls)
}

/// `POST /conversations` — returns a `message`, not the conversation.
pub async fn create(State(ic): State<Intercom>, bytes: Bytes) -> Result<Json<Value>> {
    let map = body(&bytes)?;
    let from = map.get("from").and_then(Value::as_object).ok_or_else(|| missing("from"))?;
    let kind = str_field(from, "type").ok_or_else(|| missing("from.type"))?;
    if !matches!(kind, "user" | "lead" | "contact") {
        return Err(IntercomError::bad("parameter_invalid", "from.type must be user, lead or contact").field("from.type"));
    }
    let contact_id = str_field(from, "id").ok_or_else(|| missing("from.id"))?.to_owned();
    let text = str_field(&map, "body").ok_or_else(|| missing("body"))?.to_owned();
    let urls = attachment_urls(&map)?;
    let created_at = map.get("created_at").and_then(Value::as_i64).unwrap_or_else(now_secs);
    let (message_id, conversation_id) = ic.update(|s| {
        let c = s.contacts.iter().find(|c| c.id == contact_id).ok_or_else(user_not_found)?;
        let author = contact_author(c);
        let (message_id, conversation_id) = (s.alloc(), s.alloc());
        s.conversations.push(Conversation {
            id: conversation_id.clone(),
            created_at,
            updated_at: created_at,
            state: "open".into(),
            contact_ids: vec![contact_id.clone()],
            source_type: "conversation".into(),
            source_id: message_id.clone(),
            delivered_as: "customer_initiated".into(),
            source_body: text.clone(),
            source_author: author,
            parts: Vec::new(),
            ..Conversation::default()
        });
        let _ = &urls;
        Ok::<_, IntercomError>((message_id, conversation_id))
    })?;
    Ok(Json(json!({
        "type": "user_message",
        "id": message_id,
        "created_at": created_at,
        "body": text,
        "message_type": "inapp",
        "conversation_id": conversation_id,
    })))
}

pub async fn get(State(ic): State<Intercom>, Path(id): Path<String>) -> Result<Json<Value>> {
    let s = ic.state();
    let c = s.conversations.iter().find(|c| c.id == id).ok_or_else(conversation_not_found)?;
    Ok(Json(s.conversation_json(c, true)))
}

fn newest_first(s: &IntercomState) -> Vec<&Conversation> {
    let mut all: Vec<&Conversation> = s.conversations.iter().collect();
    all.sort_by_key(|c| (std::cmp::Reverse(c.updated_at), std::cmp::Reverse(c.id.parse::<u64>().unwrap_or(0))));
    all
}

/// `GET /conversations?per_page&starting_after` (default 20, max 150).
pub async fn list(State(ic): State<Intercom>, RawQuery(q): RawQuery) -> Json<Value> {
    let pairs = query_pairs(q.as_deref());
    let param = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let per_page = param("per_page").and_then(|v| v.parse().ok()).unwrap_or(20usize).clamp(1, 150);
    let s = ic.state();
    let items = newest_first(&s).into_iter().map(|c| s.conversation_json(c, false)).collect();
    let page = paginate(items, per_page, param("starting_after").as_deref());
    Json(json!({ "type": "conversation.list", "conversations": page.items, "total_count": page.total, "pages": page.pages }))
}

fn field(c: &Conversation, name: &str) -> Vec<Value> {
    match name {
        "id" => vec![json!(c.id)],
        "contact_ids" => c.contact_ids.iter().map(|i| json!(i)).collect(),
        "state" => vec![json!(c.state)],
        "open" => vec![json!(c.state == "open")],
        "read" => vec![json!(c.read)],
        "admin_assignee_id" => vec![json!(c.admin_assignee_id.unwrap_or(0))],
        "team_assignee_id" => vec![json!(c.team_assignee_id.unwrap_or(0))],
        "tag_ids" => c.tags.iter().map(|t| json!(t.id)).collect(),
        "created_at" => vec![json!(c.created_at)],
        "updated_at" => vec![json!(c.updated_at)],
        "source.type" => vec![json!(c.source_type)],
        "source.delivered_as" => vec![json!(c.delivered_as)],
        "source.author.id" => vec![json!(c.source_author.id)],
        "source.body" => vec![json!(c.source_body)],
        _ => Vec::new(),
    }
}

/// `POST /conversations/search` (default 20, max 150 per page).
pub async fn search(State(ic): State<Intercom>, bytes: Bytes) -> Result<Json<Value>> {
    let map = body(&bytes)?;
    let query = map.get("query").ok_or_else(|| missing("query"))?;
    let s = ic.state();
    let mut found = Vec::new();
    for c in newest_first(&s) {
        if matches(query, &|f| field(c, f))? {
            found.push(s.conversation_json(c, false));
        }
    }
    let (per_page, after) = body_paging(&map, 20, 150);
    let page = paginate(found, per_page, after.as_deref());
    Ok(Json(json!({ "type": "conversation.list", "conversations": page.items, "total_count": page.total, "pages": page.pages })))
}

/// Finds the contact a contact-reply names (`intercom_user_id` | `email` | `user_id`).
fn reply_contact<'a>(s: &'a IntercomState, map: &Map<String, Value>) -> Result<&'a Contact> {
    let found = if let Some(id) = str_field(map, "intercom_user_id") {
        s.contacts.iter().find(|c| c.id == id)
    } else if let Some(email) = str_field(map, "email") {
        s.contacts.iter().find(|c| c.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(email)))
    } else if let Some(ext) = str_field(map, "user_id") {
        s.contacts.iter().find(|c| c.external_id.as_deref() == Some(ext))
    } else {
        return Err(IntercomError::bad("parameter_not_found", "One of intercom_user_id, email or user_id is required"));
    };
    found.ok_or_else(user_not_found)
}

fn conversation_index(s: &IntercomState, id: &str, contact: Option<&str>) -> Result<usize> {
    if id == "last" {
        // §1.7: `last` = the contact's most recent conversation.
        let contact = contact.ok_or_else(|| IntercomError::bad("parameter_not_found", "intercom_user_id is required with `last`"))?;
        return s
            .conversations
            .iter()
            .enumerate()
            .filter(|(_, c)| c.contact_ids.iter().any(|x| x == contact))
            .max_by_key(|(_, c)| (c.created_at, c.id.parse::<u64>().unwrap_or(0)))
            .map(|(i, _)| i)
            .ok_or_else(conversation_not_found);
    }
    s.conversations.iter().position(|c| c.id == id).ok_or_else(conversation_not_found)
}

/// `POST /conversations/{id}/reply`.
pub async fn reply(State(ic): State<Intercom>, Path(id): Path<String>, bytes: Bytes) -> Result<Json<Value>> {
    let map = body(&bytes)?;
    let kind = str_field(&map, "type").ok_or_else(|| missing("type"))?;
    let message_type = str_field(&map, "message_type").ok_or_else(|| missing("message_type"))?;
    let text = str_field(&map, "body").map(str::to_owned);
    let urls = attachment_urls(&map)?;
    let now = map.get("created_at").and_then(Value::as_i64).unwrap_or_else(now_secs);
    let conversation = ic.update(|s| {
        let (author, part_type, reopen) = match kind {
            "user" => {
                if message_type != "comment" {
                    return Err(IntercomError::bad("parameter_invalid", "message_type must be comment").field("message_type"));
                }
                let c = reply_contact(s, &map)?;
                (contact_author(c), "comment", true)
            }
            "admin" => {
                if !matches!(message_type, "comment" | "note" | "quick_reply") {
                    return Err(
                        IntercomError::bad("parameter_invalid", "message_type must be comment, note or quick_reply").field("message_type")
                    );
                }
                let admin_id = id_string(&map, "admin_id").ok_or_else(|| missing("admin_id"))?;
                (admin_author(s, &admin_id)?, message_type, false)
            }
            _ => {
                return Err(IntercomError::bad("parameter_invalid", "type must be user or admin").field("type"));
            }
        };
        if matches!(part_type, "comment" | "note") && text.as_deref().is_none_or(str::is_empty) {
            return Err(missing("body"));
        }
        let contact_hint =
            if author.kind == "admin" { str_field(&map, "intercom_user_id").map(str::to_owned) } else { Some(author.id.clone()) };
        let i = conversation_index(s, &id, contact_hint.as_deref())?;
        let part_id = s.alloc();
        let c = &mut s.conversations[i];
        if reopen && c.state != "open" {
            c.state = "open".into();
            c.snoozed_until = None;
        }
        if author.kind != "admin" && !c.contact_ids.contains(&author.id) {
            c.contact_ids.push(author.id.clone());
        }
        c.parts.push(Part {
            id: part_id,
            part_type: part_type.into(),
            body: text.clone(),
            created_at: now,
            author,
            assigned_to: None,
            attachment_urls: urls.clone(),
            state: c.state.clone(),
        });
        c.updated_at = now;
        Ok(c.clone())
    })?;
    Ok(Json(ic.state().conversation_json(&conversation, true)))
}

/// `POST /conversations/{id}/parts`: `close`, `snoozed`, `open`, `assignment`.
pub async fn manage(State(ic): State<Intercom>, Path(id): Path<String>, bytes: Bytes) -> Result<Json<Value>> {
    let map = body(&bytes)?;
    let message_type = str_field(&map, "message_type").ok_or_else(|| missing("message_type"))?.to_owned();
    let admin_id = id_string(&map, "admin_id").ok_or_else(|| missing("admin_id"))?;
    let now = now_secs();
    let conversation = ic.update(|s| {
        let author = admin_author(s, &admin_id)?;
        let i = s.conversations.iter().position(|c| c.id == id).ok_or_else(conversation_not_found)?;
        let mut assigned_to = None;
        let body = str_field(&map, "body").map(str::to_owned);
        match message_type.as_str() {
            "close" => {
                if str_field(&map, "type") != Some("admin") {
                    return Err(missing("type"));
                }
                s.conversations[i].state = "closed".into();
                s.conversations[i].snoozed_until = None;
            }
            "open" => {
                s.conversations[i].state = "open".into();
                s.conversations[i].snoozed_until = None;
            }
            "snoozed" => {
                let until = map.get("snoozed_until").and_then(Value::as_i64).ok_or_else(|| missing("snoozed_until"))?;
                s.conversations[i].state = "snoozed".into();
                s.conversations[i].snoozed_until = Some(until);
            }
            "assignment" => {
                let kind = str_field(&map, "type").ok_or_else(|| missing("type"))?;
                let assignee = id_string(&map, "assignee_id").ok_or_else(|| missing("assignee_id"))?;
                // §1.7: assignee_id "0" = unassigned.
                let target = if assignee == "0" {
                    None
                } else {
                    Some(assignee.parse::<u64>().map_err(|_| IntercomError::bad("parameter_invalid", "assignee_id must be an id"))?)
                };
                match kind {
                    "admin" => {
                        if target.is_some() && !s.admins.iter().any(|a| a.id == assignee) {
                            return Err(IntercomError::new(StatusCode::NOT_FOUND, "assignee_not_found", "Assignee not found"));
                        }
                        s.conversations[i].admin_assignee_id = target;
                    }
                    "team" => {
                        if target.is_some() && !s.teams.iter().any(|t| t.id == assignee) {
                            return Err(IntercomError::new(StatusCode::NOT_FOUND, "team_not_found", "Team not found"));
                        }
                        s.conversations[i].team_assignee_id = target;
                    }
                    _ => {
                        return Err(IntercomError::bad("parameter_invalid", "type must be admin or team").field("type"));
                    }
                }
                assigned_to = target.map(|t| json!({ "type": kind, "id": t.to_string() }));
            }
            _ => {
                return Err(IntercomError::bad("parameter_invalid", "message_type must be close, snoozed, open or assignment")
                    .field("message_type"));
            }
        }
        let part_id = s.alloc();
        let c = &mut s.conversations[i];
        c.parts.push(Part {
            id: part_id,
            part_type: message_type.clone(),
            body,
            created_at: now,
            author,
            assigned_to,
            attachment_urls: Vec::new(),
            state: c.state.clone(),
        });
        c.updated_at = now;
        Ok(c.clone())
    })?;
    Ok(Json(ic.state().conversation_json(&conversation, true)))
}

//! Threads: phone, note, customer, reply, chat — with inline attachments
//! (intercom-helpscout-api.md §2.7 "Add threads").

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use serde_json::{Map, Value, json};

use super::model::{Attachment, HelpScoutState, Thread};
use super::{HelpScout, HsError, body, created, hal, parse_id};
use crate::common::util::{now_secs, str_field};

/// A conversation holds at most 100 threads (§2.1).
const MAX_THREADS: usize = 100;

/// Resolves `customer: {id}` or `{email}` to a customer id.
pub fn customer_ref(s: &HelpScoutState, v: Option<&Value>, path: &str) -> Result<u64, HsError> {
    let v = v.ok_or_else(|| HsError::invalid(path, "may not be null", Value::Null))?;
    if let Some(id) = v.get("id").and_then(Value::as_u64) {
        return s
            .customers
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.id)
            .ok_or_else(|| HsError::invalid(&format!("{path}.id"), "Invalid id", json!(id)));
    }
    if let Some(email) = v.get("email").and_then(Value::as_str) {
        return s
            .customers
            .iter()
            .find(|c| c.emails.iter().any(|e| e.value.eq_ignore_ascii_case(email)))
            .map(|c| c.id)
            .ok_or_else(|| HsError::invalid(&format!("{path}.email"), "Customer not found", json!(email)));
    }
    Err(HsError::invalid(path, "id or email is required", v.clone()))
}

fn attachments(s: &mut HelpScoutState, map: &Map<String, Value>) -> Result<Vec<Attachment>, HsError> {
    let Some(list) = map.get("attachments") else {
        return Ok(Vec::new());
    };
    let list = list.as_array().ok_or_else(|| HsError::invalid("attachments", "must be an array", list.clone()))?;
    let mut out = Vec::new();
    for (i, a) in list.iter().enumerate() {
        let field = |k: &str| a.get(k).and_then(Value::as_str).filter(|v| !v.is_empty());
        let bad = |k: &str, m: &str| HsError::invalid(&format!("attachments[{i}].{k}"), m, a.get(k).cloned().unwrap_or(Value::Null));
        let name = field("fileName").ok_or_else(|| bad("fileName", "may not be empty"))?;
        let mime = field("mimeType").ok_or_else(|| bad("mimeType", "may not be empty"))?;
        let data = field("data").ok_or_else(|| bad("data", "may not be empty"))?;
        let bytes = base64::engine::general_purpose::STANDARD.decode(data).map_err(|_| bad("data", "must be base64"))?;
        out.push(Attachment { id: s.alloc(), file_name: name.to_owned(), mime_type: mime.to_owned(), size: bytes.len() });
    }
    Ok(out)
}

/// Builds a thread of `kind` from a request body (also used inside conversation create).
pub fn build(
    s: &mut HelpScoutState,
    kind: &str,
    map: &Map<String, Value>,
    conv_customer: Option<u64>,
    at: &str,
) -> Result<Thread, HsError> {
    let text = str_field(map, "text").filter(|t| !t.is_empty());
    let text = text.ok_or_else(|| HsError::invalid(&format!("{at}text"), "may not be empty", Value::Null))?.to_owned();
    let customer_id = match kind {
        "phone" | "customer" | "reply" | "chat" => match (map.get("customer"), conv_customer) {
            (Some(v), _) => Some(customer_ref(s, Some(v), &format!("{at}customer"))?),
            (None, Some(c)) if at.starts_with("threads") => Some(c),
            (None, _) => {
                return Err(HsError::invalid(&format!("{at}customer"), "may not be null", Value::Null));
            }
        },
        _ => None,
    };
    let user_id = match map.get("user").and_then(Value::as_u64) {
        Some(u) if s.users.iter().any(|x| x.id == u) => Some(u),
        Some(u) => {
            return Err(HsError::invalid(&format!("{at}user"), "Invalid user", json!(u)));
        }
        None if kind != "customer" => Some(s.me),
        None => None,
    };
    let status = match str_field(map, "status") {
        None => String::new(),
        Some(v @ ("active" | "pending" | "closed" | "spam")) => v.to_owned(),
        Some(v) => {
            return Err(HsError::invalid(&format!("{at}status"), "Expected one of these: 'active', 'pending', 'closed', 'spam'", json!(v)));
        }
    };
    let imported = map.get("imported").and_then(Value::as_bool).unwrap_or(false);
    Ok(Thread {
        id: s.alloc(),
        kind: kind.to_owned(),
        text,
        customer_id,
        user_id,
        status,
        imported,
        attachments: attachments(s, map)?,
        created_at: now_secs(),
    })
}

/// Status the conversation takes after a thread (§2.7).
pub fn next_status(current: &str, t: &Thread) -> String {
    match (t.kind.as_str(), t.status.as_str()) {
        (_, s) if !s.is_empty() => s.to_owned(),
        ("customer", _) if !t.imported => "active".into(),
        ("reply", _) => "active".into(),
        _ => current.to_owned(),
    }
}

/// `POST /v2/conversations/{id}/{phones|notes|customer|reply|chats}` → 201 `Resource-ID`.
pub async fn create(State(hs): State<HelpScout>, Path((id, kind)): Path<(String, String)>, bytes: Bytes) -> Result<Response, HsError> {
    let kind = match kind.as_str() {
        "phones" => "phone",
        "notes" => "note",
        "customer" => "customer",
        "reply" => "reply",
        "chats" => "chat",
        _ => return Err(HsError::not_found()),
    };
    let id = parse_id(&id)?;
    let map = body(&bytes)?;
    let thread_id = hs.update(|s| {
        let i = s.conversations.iter().position(|c| c.id == id).ok_or_else(HsError::not_found)?;
        if s.conversations[i].threads.len() >= MAX_THREADS {
            return Err(HsError::new(StatusCode::PRECONDITION_FAILED, "A conversation can hold at most 100 threads"));
        }
        let mut t = build(s, kind, &map, None, "")?;
        let c = &mut s.conversations[i];
        c.status = next_status(&c.status, &t);
        t.status = c.status.clone();
        c.closed_at = if c.status == "closed" { Some(t.created_at) } else { None };
        if kind == "reply"
            && let Some(u) = map.get("assignTo").and_then(Value::as_u64)
        {
            c.assignee = Some(u);
        }
        c.updated_at = t.created_at;
        let tid = t.id;
        c.threads.push(t);
        Ok(tid)
    })?;
    Ok(created(format!("{}/v2/conversations/{id}/threads/{thread_id}", hs.base()), thread_id))
}

/// `GET /v2/conversations/{id}/threads`.
pub async fn list(State(hs): State<HelpScout>, Path(id): Path<String>) -> Result<Response, HsError> {
    let id = parse_id(&id)?;
    let s = hs.state();
    let c = s.conversations.iter().find(|c| c.id == id).ok_or_else(HsError::not_found)?;
    let threads: Vec<Value> = c.threads.iter().rev().map(|t| s.thread_json(t)).collect();
    let n = threads.len();
    Ok(hal(json!({
        "_embedded": { "threads": threads },
        "page": { "size": 50, "totalElements": n, "totalPages": 1, "number": 1 },
        "_links": { "self": { "href": format!("{}/v2/conversations/{id}/threads", hs.base()) } },
    })))
}

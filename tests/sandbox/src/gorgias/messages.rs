//! Ticket messages (internal notes, SMS / phone from agent or customer) and
//! file uploads (gorgias-hubspot-api.md §1.8).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::model::{GorgiasState, Message, Upload};
use super::{Gorgias, GorgiasError, body, page, parse_id};
use crate::common::util::{now_secs, query_pairs, str_field};

type Result<T> = std::result::Result<T, GorgiasError>;

fn person(s: &GorgiasState, v: &Value, users: bool, field: &str) -> Result<Value> {
    let id = v.get("id").and_then(Value::as_u64);
    let email = v.get("email").and_then(Value::as_str);
    if users {
        let u = s
            .users
            .iter()
            .find(|u| Some(u.id) == id || email.is_some_and(|e| u.email.eq_ignore_ascii_case(e)))
            .ok_or_else(|| GorgiasError::invalid(field, "User not found."))?;
        Ok(json!({ "id": u.id, "email": u.email, "name": format!("{} {}", u.firstname, u.lastname) }))
    } else {
        let c = s
            .customers
            .iter()
            .find(|c| Some(c.id) == id || email.is_some_and(|e| c.email.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(e))))
            .ok_or_else(|| GorgiasError::invalid(field, "Customer not found."))?;
        Ok(json!({ "id": c.id, "email": c.email, "name": c.name }))
    }
}

/// Validates and builds a message (§1.8 "Rules by message type").
pub fn build_message(s: &mut GorgiasState, m: &Map<String, Value>, at: &str) -> Result<Message> {
    let f = |k: &str| format!("{at}{k}");
    let channel =
        str_field(m, "channel").ok_or_else(|| GorgiasError::invalid(&f("channel"), "Missing data for required field."))?.to_owned();
    let from_agent = m
        .get("from_agent")
        .and_then(Value::as_bool)
        .ok_or_else(|| GorgiasError::invalid(&f("from_agent"), "Missing data for required field."))?;
    let note = channel == "internal-note";
    if note && !from_agent {
        return Err(GorgiasError::invalid(&f("from_agent"), "Internal notes must have from_agent=true."));
    }
    let sender_v = m.get("sender").ok_or_else(|| GorgiasError::invalid(&f("sender"), "Missing data for required field."))?;
    // Outgoing and notes: the sender is a user; incoming: a customer.
    let sender = person(s, sender_v, from_agent, &f("sender"))?;
    let receiver = match m.get("receiver") {
        Some(r) if !r.is_null() && !note => person(s, r, false, &f("receiver"))?,
        _ if from_agent && !note => {
            return Err(GorgiasError::invalid(&f("receiver"), "Outgoing messages need a receiver."));
        }
        _ => Value::Null,
    };
    let mut attachments = Vec::new();
    for (i, a) in m.get("attachments").and_then(Value::as_array).cloned().unwrap_or_default().into_iter().enumerate() {
        let url = a
            .get("url")
            .and_then(Value::as_str)
            .ok_or_else(|| GorgiasError::invalid(&f(&format!("attachments.{i}.url")), "Missing data for required field."))?;
        // [U] §1.8: attachments are expected to come from `/api/upload`; other URLs are accepted but
        // flagged `uploaded: false` in the state.
        let uploaded = s.uploads.iter().any(|u| u.url == url);
        let mut a = a.clone();
        a["uploaded"] = json!(uploaded);
        attachments.push(a);
    }
    let body_text = str_field(m, "body_text").map(str::to_owned);
    let body_html = str_field(m, "body_html").map(str::to_owned);
    if body_text.is_none() && body_html.is_none() && attachments.is_empty() {
        return Err(GorgiasError::invalid(&f("body_text"), "A message needs a body or attachments."));
    }
    let sent = str_field(m, "sent_datetime").map(str::to_owned);
    Ok(Message {
        id: s.alloc(),
        would_send: sent.is_none() && !note && from_agent,
        channel,
        via: str_field(m, "via").unwrap_or("api").to_owned(),
        from_agent,
        sender,
        receiver,
        source: m.get("source").cloned().unwrap_or(Value::Null),
        subject: str_field(m, "subject").map(str::to_owned),
        body_text,
        body_html,
        attachments,
        external_id: str_field(m, "external_id").map(str::to_owned),
        sent_datetime: sent,
        created_at: now_secs(),
    })
}

/// `POST /api/tickets/{id}/messages[?action=force|retry|cancel]` → 201.
pub async fn create(
    State(g): State<Gorgias>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    bytes: Bytes,
) -> Result<(StatusCode, Json<Value>)> {
    let id = parse_id(&id, "Ticket")?;
    if let Some((_, a)) = query_pairs(q.as_deref()).into_iter().find(|(k, _)| k == "action")
        && !matches!(a.as_str(), "force" | "retry" | "cancel")
    {
        return Err(GorgiasError::invalid("action", "Must be one of: force, retry, cancel."));
    }
    let map = body(&bytes)?;
    let (ticket, msg) = g.update(|s| {
        if !s.tickets.iter().any(|t| t.id == id) {
            return Err(GorgiasError::not_found("Ticket"));
        }
        let msg = build_message(s, &map, "")?;
        let t = s.tickets.iter_mut().find(|t| t.id == id).ok_or_else(|| GorgiasError::not_found("Ticket"))?;
        t.messages.push(msg.clone());
        t.updated_at = msg.created_at;
        Ok((t.id, msg))
    })?;
    Ok((StatusCode::CREATED, Json(g.state().message_json(ticket, &msg))))
}

pub async fn list(State(g): State<Gorgias>, Path(id): Path<String>, RawQuery(q): RawQuery) -> Result<Json<Value>> {
    let id = parse_id(&id, "Ticket")?;
    let pairs = query_pairs(q.as_deref());
    let param = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let s = g.state();
    let t = s.tickets.iter().find(|t| t.id == id).ok_or_else(|| GorgiasError::not_found("Ticket"))?;
    let items = t.messages.iter().map(|m| s.message_json(id, m)).collect();
    Ok(Json(page(items, &format!("/api/tickets/{id}/messages"), param("cursor").as_deref(), param("limit").as_deref(), 100)?))
}

/// One part of a `multipart/form-data` body.
struct Part {
    name: String,
    filename: Option<String>,
    content_type: String,
    data: Vec<u8>,
}

fn multipart(headers: &HeaderMap, body: &[u8]) -> Option<Vec<Part>> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let boundary = ct.split(';').find_map(|p| p.trim().strip_prefix("boundary="))?.trim_matches('"');
    let delim = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let mut rest = body;
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let start = find(rest, &delim)?;
    rest = &rest[start + delim.len()..];
    loop {
        if rest.starts_with(b"--") {
            break;
        }
        rest = rest.strip_prefix(b"\r\n").unwrap_or(rest);
        let head_end = find(rest, b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&rest[..head_end]).into_owned();
        let content = &rest[head_end + 4..];
        let end = find(content, &delim)?;
        let data = content[..end].strip_suffix(b"\r\n").unwrap_or(&content[..end]).to_vec();
        let mut part = Part { name: String::new(), filename: None, content_type: "application/octet-stream".into(), data };
        for line in head.lines() {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("content-disposition:") {
                for kv in line.split(';').skip(1) {
                    if let Some((k, v)) = kv.trim().split_once('=') {
                        let v = v.trim_matches('"').to_owned();
                        match k {
                            "name" => part.name = v,
                            "filename" => part.filename = Some(v),
                            _ => {}
                        }
                    }
                }
            } else if let Some(v) = lower.strip_prefix("content-type:") {
                part.content_type = v.trim().to_owned();
            }
        }
        parts.push(part);
        rest = &content[end + delim.len()..];
    }
    Some(parts)
}

/// `POST /api/upload?type=attachment` (multipart; one file per field) → 201 `[File]`.
pub async fn upload(
    State(g): State<Gorgias>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<(StatusCode, Json<Value>)> {
    let kind = query_pairs(q.as_deref()).into_iter().find(|(k, _)| k == "type").map(|(_, v)| v).unwrap_or_else(|| "attachment".into());
    if !matches!(kind.as_str(), "attachment" | "public_attachment" | "profile_picture" | "widget_picture") {
        return Err(GorgiasError::invalid("type", "Invalid upload type."));
    }
    let parts = multipart(&headers, &bytes).ok_or_else(|| GorgiasError::invalid("file", "Expected a multipart/form-data body."))?;
    let files: Vec<&Part> = parts.iter().filter(|p| p.filename.is_some()).collect();
    if files.is_empty() {
        return Err(GorgiasError::invalid("file", "No file in the request."));
    }
    // §1.8: oversized uploads get 413. [U] the size limit is not documented; 20 MB here.
    if files.iter().any(|p| p.data.len() > 20 * 1024 * 1024) {
        return Err(GorgiasError::new(StatusCode::PAYLOAD_TOO_LARGE, "File too large."));
    }
    let base = g.base().to_owned();
    let out = g.update(|s| {
        files
            .iter()
            .map(|p| {
                let n = s.alloc();
                let u = Upload {
                    url: format!("{base}/_files/{n}-{}", p.filename.clone().unwrap_or_default()),
                    name: if p.name.is_empty() { p.filename.clone().unwrap_or_default() } else { p.name.clone() },
                    size: p.data.len(),
                    content_type: p.content_type.clone(),
                };
                s.uploads.push(u.clone());
                json!({ "url": u.url, "name": u.name, "size": u.size, "content_type": u.content_type })
            })
            .collect::<Vec<_>>()
    });
    Ok((StatusCode::CREATED, Json(Value::Array(out))))
}

/// Serves an uploaded file's metadata (contents are not kept).
pub async fn download(State(g): State<Gorgias>, Path(name): Path<String>) -> Response {
    let s = g.state();
    match s.uploads.iter().find(|u| u.url.ends_with(&format!("/_files/{name}"))) {
        Some(u) => Json(json!({ "name": u.name, "size": u.size, "content_type": u.content_type })).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

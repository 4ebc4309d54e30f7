//! Conversations: create (type phone etc.), list / filter, get, JSON Patch
//! updates, tag replacement (intercom-helpscout-api.md §2.7, §2.8).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::model::{Conversation, HelpScoutState, Tag};
use super::query::parse;
use super::threads::{build, customer_ref};
use super::{HelpScout, HsError, body, created, hal, hal_page, parse_id};
use crate::common::util::{now_secs, query_pairs, str_field};

const STATUSES: &[&str] = &["active", "pending", "closed", "spam"];

fn ensure_tags(s: &mut HelpScoutState, names: &[String]) {
    for n in names {
        if !s.tags.iter().any(|t| t.name.eq_ignore_ascii_case(n)) {
            let id = s.alloc();
            s.tags.push(Tag { id, name: n.clone() });
        }
    }
}

fn tag_names(v: Option<&Value>, path: &str) -> Result<Vec<String>, HsError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => {
            a.iter().map(|t| t.as_str().map(str::to_owned).ok_or_else(|| HsError::invalid(path, "must be strings", t.clone()))).collect()
        }
        Some(other) => Err(HsError::invalid(path, "must be an array", other.clone())),
    }
}

/// `POST /v2/conversations` → 201 `Resource-ID`.
pub async fn create(State(hs): State<HelpScout>, bytes: Bytes) -> Result<Response, HsError> {
    let map = body(&bytes)?;
    let id = hs.update(|s| insert(s, &map))?;
    Ok(created(format!("{}/v2/conversations/{id}", hs.base()), id))
}

fn insert(s: &mut HelpScoutState, map: &Map<String, Value>) -> Result<u64, HsError> {
    let subject =
        str_field(map, "subject").filter(|v| !v.is_empty()).ok_or_else(|| HsError::invalid("subject", "may not be empty", Value::Null))?;
    let kind = str_field(map, "type").unwrap_or("");
    if !["chat", "email", "phone"].contains(&kind) {
        return Err(HsError::invalid("type", "Expected one of these: 'chat', 'email', 'phone'", json!(kind)));
    }
    let mailbox =
        map.get("mailboxId").and_then(Value::as_u64).ok_or_else(|| HsError::invalid("mailboxId", "may not be null", Value::Null))?;
    if !s.mailboxes.iter().any(|m| m.id == mailbox) {
        return Err(HsError::invalid("mailboxId", "Invalid mailbox", json!(mailbox)));
    }
    let status = str_field(map, "status").unwrap_or("");
    if !["active", "closed", "pending"].contains(&status) {
        return Err(HsError::invalid("status", "Expected one of these: 'active', 'closed', 'pending'", json!(status)));
    }
    let customer_v = map.get("customer").ok_or_else(|| HsError::invalid("customer", "may not be null", Value::Null))?;
    // §2.7: an unknown e-mail creates the customer.
    let customer = match customer_ref(s, Some(customer_v), "customer") {
        Ok(id) => id,
        Err(e) => match customer_v.as_object().filter(|o| o.get("id").is_none() && o.contains_key("email")) {
            Some(o) => super::customers::insert(s, o)?,
            None => return Err(e),
        },
    };
    let threads_v = map.get("threads").and_then(Value::as_array).filter(|t| !t.is_empty());
    let threads_v = threads_v.ok_or_else(|| HsError::invalid("threads", "may not be empty", Value::Null))?.clone();
    let assignee = match map.get("assignTo") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64().filter(|u| s.users.iter().any(|x| x.id == *u)) {
            Some(u) => Some(u),
            None => return Err(HsError::invalid("assignTo", "Invalid user", v.clone())),
        },
    };
    let tags = tag_names(map.get("tags"), "tags")?;
    let mut threads = Vec::new();
    for (i, t) in threads_v.iter().enumerate() {
        let tmap = t.as_object().ok_or_else(|| HsError::invalid(&format!("threads[{i}]"), "must be an object", t.clone()))?;
        let tkind = str_field(tmap, "type").unwrap_or("");
        if !["customer", "reply", "note", "phone", "chat"].contains(&tkind) {
            return Err(HsError::invalid(
                &format!("threads[{i}].type"),
                "Expected one of these: 'customer', 'reply', 'note', 'phone', 'chat'",
                json!(tkind),
            ));
        }
        let mut th = build(s, tkind, tmap, Some(customer), &format!("threads[{i}]."))?;
        th.status = status.to_owned();
        threads.push(th);
    }
    ensure_tags(s, &tags);
    let now = now_secs();
    let id = s.alloc();
    let number = 1000 + s.conversations.len() as u64 + 1;
    s.conversations.push(Conversation {
        id,
        number,
        kind: kind.to_owned(),
        mailbox_id: mailbox,
        status: status.to_owned(),
        subject: subject.to_owned(),
        customer_id: customer,
        assignee,
        tags,
        threads,
        created_by: map.get("user").and_then(Value::as_u64),
        created_at: now,
        updated_at: now,
        closed_at: (status == "closed").then_some(now),
    });
    Ok(id)
}

fn term(s: &HelpScoutState, c: &Conversation, field: &str, value: &str) -> Result<bool, String> {
    let customer = s.customers.iter().find(|x| x.id == c.customer_id);
    Ok(match field {
        "customerIds" => value.split(',').any(|v| v.trim() == c.customer_id.to_string()),
        "email" => customer.is_some_and(|x| x.emails.iter().any(|e| e.value.eq_ignore_ascii_case(value))),
        "subject" => c.subject.to_lowercase().contains(&value.to_lowercase()),
        "tag" => c.tags.iter().any(|t| t.eq_ignore_ascii_case(value)),
        "mailboxid" => c.mailbox_id.to_string() == value,
        "number" => c.number.to_string() == value,
        "id" => c.id.to_string() == value,
        "status" => c.status == value,
        "assigned" => match value {
            "Unassigned" => c.assignee.is_none(),
            v => c.assignee.is_some_and(|a| a.to_string() == v),
        },
        "body" => c.threads.iter().any(|t| t.text.to_lowercase().contains(&value.to_lowercase())),
        other => return Err(format!("Unsupported field: {other}")),
    })
}

/// `GET /v2/conversations` with `mailbox`, `status`, `tag`, `assigned_to`, `number`,
/// `query`, `sortField`, `sortOrder`, `embed=threads`, `page` (25 per page).
pub async fn list(State(hs): State<HelpScout>, RawQuery(q): RawQuery) -> Result<Response, HsError> {
    let pairs = query_pairs(q.as_deref());
    let param = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
    let status = param("status").unwrap_or_else(|| "active".into());
    let statuses: Vec<&str> = match status.as_str() {
        "all" => STATUSES.to_vec(),
        // [U] §2.7: the `open` filter is taken as `active` (the v1 name).
        "open" => vec!["active"],
        s if STATUSES.contains(&s) => vec![s],
        other => {
            return Err(HsError::invalid(
                "status",
                "Expected one of these: 'active', 'all', 'closed', 'open', 'pending', 'spam'",
                json!(other),
            ));
        }
    };
    let mailboxes: Option<Vec<u64>> = param("mailbox").map(|m| m.split(',').filter_map(|x| x.trim().parse().ok()).collect());
    let tags: Option<Vec<String>> = param("tag").map(|t| t.split(',').map(|x| x.trim().to_lowercase()).collect());
    let assigned_to = param("assigned_to").and_then(|a| a.parse::<u64>().ok());
    let number = param("number").and_then(|n| n.parse::<u64>().ok());
    let query = param("query").map(|q| parse(&q).map_err(|m| HsError::invalid("query", &m, json!(q)))).transpose()?;
    let s = hs.state();
    let mut found = Vec::new();
    for c in &s.conversations {
        let keep = statuses.contains(&c.status.as_str())
            && mailboxes.as_ref().is_none_or(|m| m.contains(&c.mailbox_id))
            && tags.as_ref().is_none_or(|t| c.tags.iter().any(|x| t.contains(&x.to_lowercase())))
            && assigned_to.is_none_or(|a| c.assignee == Some(a))
            && number.is_none_or(|n| c.number == n)
            && match &query {
                None => true,
                Some(q) => q.eval(&|f, v| term(&s, c, f, v)).map_err(|m| HsError::invalid("query", &m, Value::Null))?,
            };
        if keep {
            found.push(c);
        }
    }
    let sort = param("sortField").unwrap_or_else(|| "createdAt".into());
    match sort.as_str() {
        "modifiedAt" | "waitingSince" => found.sort_by_key(|c| (c.updated_at, c.id)),
        "number" => found.sort_by_key(|c| (c.number as i64, c.id)),
        "status" => found.sort_by(|a, b| a.status.cmp(&b.status).then(a.id.cmp(&b.id))),
        "subject" => found.sort_by(|a, b| a.subject.cmp(&b.subject).then(a.id.cmp(&b.id))),
        _ => found.sort_by_key(|c| (c.created_at, c.id)),
    }
    if param("sortOrder").as_deref() != Some("asc") {
        found.reverse();
    }
    let embed = param("embed").is_some_and(|e| e.split(',').any(|x| x == "threads"));
    let page = param("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let items = found.into_iter().map(|c| s.conversation_json(hs.base(), c, embed)).collect();
    Ok(hal(hal_page(hs.base(), "/v2/conversations", &pairs, "conversations", items, page, 25)))
}

pub async fn get(State(hs): State<HelpScout>, Path(id): Path<String>, RawQuery(q): RawQuery) -> Result<Response, HsError> {
    let id = parse_id(&id)?;
    let embed = query_pairs(q.as_deref()).iter().any(|(k, v)| k == "embed" && v.split(',').any(|x| x == "threads"));
    let s = hs.state();
    let c = s.conversations.iter().find(|c| c.id == id).ok_or_else(HsError::not_found)?;
    Ok(hal(s.conversation_json(hs.base(), c, embed)))
}

/// `PATCH /v2/conversations/{id}` with one JSON Patch operation → 204.
pub async fn patch(State(hs): State<HelpScout>, Path(id): Path<String>, bytes: Bytes) -> Result<Response, HsError> {
    let id = parse_id(&id)?;
    let map = body(&bytes)?;
    let op = str_field(&map, "op").unwrap_or("");
    let path = str_field(&map, "path").unwrap_or("");
    let value = map.get("value").cloned().unwrap_or(Value::Null);
    hs.update(|s| {
        let known_user = |u: u64| s.users.iter().any(|x| x.id == u);
        let known_customer = |c: u64| s.customers.iter().any(|x| x.id == c);
        let known_mailbox = |m: u64| s.mailboxes.iter().any(|x| x.id == m);
        let change: Box<dyn FnOnce(&mut Conversation)> = match (op, path) {
            ("replace", "/status") => {
                let v = value.as_str().filter(|v| STATUSES.contains(v));
                let v = v
                    .ok_or_else(|| {
                        HsError::invalid("status", "Expected one of these: 'active', 'pending', 'closed', 'spam'", value.clone())
                    })?
                    .to_owned();
                Box::new(move |c| {
                    c.closed_at = if v == "closed" { Some(now_secs()) } else { None };
                    c.status = v;
                })
            }
            ("replace", "/assignTo") => {
                let u =
                    value.as_u64().filter(|u| known_user(*u)).ok_or_else(|| HsError::invalid("assignTo", "Invalid user", value.clone()))?;
                Box::new(move |c| c.assignee = Some(u))
            }
            ("remove", "/assignTo") => Box::new(|c| c.assignee = None),
            ("replace", "/subject") => {
                let v = value
                    .as_str()
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| HsError::invalid("subject", "may not be empty", value.clone()))?
                    .to_owned();
                Box::new(move |c| c.subject = v)
            }
            ("replace", "/primaryCustomer.id") => {
                let v = value
                    .as_u64()
                    .filter(|v| known_customer(*v))
                    .ok_or_else(|| HsError::invalid("primaryCustomer.id", "Invalid id", value.clone()))?;
                Box::new(move |c| c.customer_id = v)
            }
            ("move", "/mailboxId") => {
                let v = value
                    .as_u64()
                    .filter(|v| known_mailbox(*v))
                    .ok_or_else(|| HsError::invalid("mailboxId", "Invalid mailbox", value.clone()))?;
                Box::new(move |c| c.mailbox_id = v)
            }
            _ => {
                return Err(HsError::invalid("op", "Unsupported patch operation", json!({ "op": op, "path": path })));
            }
        };
        let c = s.conversations.iter_mut().find(|c| c.id == id).ok_or_else(HsError::not_found)?;
        change(c);
        c.updated_at = now_secs();
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT /v2/conversations/{id}/tags {tags: [...]}` replaces the set → 204.
pub async fn replace_tags(State(hs): State<HelpScout>, Path(id): Path<String>, bytes: Bytes) -> Result<Response, HsError> {
    let id = parse_id(&id)?;
    let map = body(&bytes)?;
    let tags = tag_names(map.get("tags"), "tags")?;
    if !map.contains_key("tags") {
        return Err(HsError::invalid("tags", "may not be null", Value::Null));
    }
    hs.update(|s| {
        if !s.conversations.iter().any(|c| c.id == id) {
            return Err(HsError::not_found());
        }
        ensure_tags(s, &tags);
        if let Some(c) = s.conversations.iter_mut().find(|c| c.id == id) {
            c.tags = tags;
            c.updated_at = now_secs();
        }
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

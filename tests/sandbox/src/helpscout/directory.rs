//! Users, mailboxes and tags (intercom-helpscout-api.md §2.6, §2.8).

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use serde_json::json;

use super::{HelpScout, HsError, hal, hal_page, parse_id};
use crate::common::util::{iso8601, query_pairs};

pub async fn me(State(hs): State<HelpScout>) -> Result<Response, HsError> {
    let s = hs.state();
    let u = s.users.iter().find(|u| u.id == s.me).ok_or_else(HsError::not_found)?;
    Ok(hal(s.user_json(hs.base(), u)))
}

/// `GET /v2/users?email=&mailbox=&page=`.
pub async fn users(State(hs): State<HelpScout>, RawQuery(q): RawQuery) -> Response {
    let pairs = query_pairs(q.as_deref());
    let param = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let email = param("email").map(|e| e.to_lowercase());
    let mailbox = param("mailbox").and_then(|m| m.parse::<u64>().ok());
    let page = param("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let s = hs.state();
    let items = s
        .users
        .iter()
        .filter(|u| email.as_ref().is_none_or(|e| u.email.to_lowercase() == *e))
        .filter(|u| mailbox.is_none_or(|m| u.mailbox_ids.is_empty() || u.mailbox_ids.contains(&m)))
        .map(|u| s.user_json(hs.base(), u))
        .collect();
    hal(hal_page(hs.base(), "/v2/users", &pairs, "users", items, page, 50))
}

pub async fn user(State(hs): State<HelpScout>, Path(id): Path<String>) -> Result<Response, HsError> {
    let id = parse_id(&id)?;
    let s = hs.state();
    let u = s.users.iter().find(|u| u.id == id).ok_or_else(HsError::not_found)?;
    Ok(hal(s.user_json(hs.base(), u)))
}

pub async fn mailboxes(State(hs): State<HelpScout>, RawQuery(q): RawQuery) -> Response {
    let pairs = query_pairs(q.as_deref());
    let page = pairs.iter().find(|(k, _)| k == "page").and_then(|(_, v)| v.parse().ok()).unwrap_or(1);
    let s = hs.state();
    let items = s.mailboxes.iter().map(|m| s.mailbox_json(hs.base(), m)).collect();
    hal(hal_page(hs.base(), "/v2/mailboxes", &pairs, "mailboxes", items, page, 50))
}

pub async fn mailbox(State(hs): State<HelpScout>, Path(id): Path<String>) -> Result<Response, HsError> {
    let id = parse_id(&id)?;
    let s = hs.state();
    let m = s.mailboxes.iter().find(|m| m.id == id).ok_or_else(HsError::not_found)?;
    Ok(hal(s.mailbox_json(hs.base(), m)))
}

pub async fn tags(State(hs): State<HelpScout>, RawQuery(q): RawQuery) -> Response {
    let pairs = query_pairs(q.as_deref());
    let page = pairs.iter().find(|(k, _)| k == "page").and_then(|(_, v)| v.parse().ok()).unwrap_or(1);
    let s = hs.state();
    let items = s
        .tags
        .iter()
        .map(|t| {
            let count = s.conversations.iter().filter(|c| c.tags.contains(&t.name)).count();
            json!({ "id": t.id, "name": t.name, "slug": t.name.to_lowercase().replace(' ', "-"), "color": "#A5B2BD",
                    "ticketCount": count, "createdAt": iso8601(1_700_000_000), "updatedAt": iso8601(1_700_000_000) })
        })
        .collect();
    hal(hal_page(hs.base(), "/v2/tags", &pairs, "tags", items, page, 50))
}

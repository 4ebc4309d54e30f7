//! Tags: list, create / rename, tag and untag a conversation (intercom-helpscout-api.md §1.9).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::model::{AppliedTag, Tag};
use super::{Intercom, IntercomError, body, id_string};
use crate::common::util::{now_secs, str_field};

type Result<T> = std::result::Result<T, IntercomError>;

fn tag_not_found() -> IntercomError {
    IntercomError::new(StatusCode::NOT_FOUND, "tag_not_found", "Tag not found")
}

pub async fn list(State(ic): State<Intercom>) -> Json<Value> {
    let s = ic.state();
    let data: Vec<Value> = s.tags.iter().map(|t| s.tag_json(t, None)).collect();
    Json(json!({ "type": "list", "data": data }))
}

/// `POST /tags {name, id?}`: creates if not found (case-insensitive), renames with `id`.
pub async fn create(State(ic): State<Intercom>, bytes: Bytes) -> Result<Json<Value>> {
    let map = body(&bytes)?;
    let name = str_field(&map, "name").filter(|n| !n.trim().is_empty());
    let name = name.ok_or_else(|| IntercomError::bad("parameter_not_found", "name is required").field("name"))?.to_owned();
    let tag = ic.update(|s| {
        if let Some(id) = id_string(&map, "id") {
            let t = s.tags.iter_mut().find(|t| t.id == id).ok_or_else(tag_not_found)?;
            t.name = name.clone();
            return Ok(t.clone());
        }
        if let Some(t) = s.tags.iter().find(|t| t.name.eq_ignore_ascii_case(&name)) {
            return Ok(t.clone());
        }
        let t = Tag { id: s.alloc(), name: name.clone() };
        s.tags.push(t.clone());
        Ok::<_, IntercomError>(t)
    })?;
    Ok(Json(json!({ "type": "tag", "id": tag.id, "name": tag.name })))
}

fn check_admin(ic: &Intercom, admin_id: &str) -> Result<()> {
    if ic.state().admins.iter().any(|a| a.id == admin_id) {
        Ok(())
    } else {
        Err(IntercomError::new(StatusCode::NOT_FOUND, "admin_not_found", "Admin not found"))
    }
}

fn conversation_not_found() -> IntercomError {
    IntercomError::new(StatusCode::NOT_FOUND, "conversation_not_found", "Conversation not found")
}

/// `POST /conversations/{id}/tags {id, admin_id}` (both required).
pub async fn tag_conversation(State(ic): State<Intercom>, Path(id): Path<String>, bytes: Bytes) -> Result<Json<Value>> {
    let map = body(&bytes)?;
    let tag_id = id_string(&map, "id").ok_or_else(|| IntercomError::bad("parameter_not_found", "id is required").field("id"))?;
    let admin_id =
        id_string(&map, "admin_id").ok_or_else(|| IntercomError::bad("parameter_not_found", "admin_id is required").field("admin_id"))?;
    check_admin(&ic, &admin_id)?;
    let (tag, applied) = ic.update(|s| {
        let tag = s.tags.iter().find(|t| t.id == tag_id).cloned().ok_or_else(tag_not_found)?;
        let c = s.conversations.iter_mut().find(|c| c.id == id).ok_or_else(conversation_not_found)?;
        let applied = match c.tags.iter().find(|a| a.id == tag_id) {
            Some(a) => a.clone(),
            None => {
                let a = AppliedTag { id: tag_id.clone(), applied_at: now_secs(), applied_by: admin_id.clone() };
                c.tags.push(a.clone());
                c.updated_at = now_secs();
                a
            }
        };
        Ok::<_, IntercomError>((tag, applied))
    })?;
    Ok(Json(ic.state().tag_json(&tag, Some(&applied))))
}

/// `DELETE /conversations/{id}/tags/{tag_id}` with body `{admin_id}` (required).
pub async fn untag_conversation(
    State(ic): State<Intercom>,
    Path((id, tag_id)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Json<Value>> {
    let map = body(&bytes)?;
    let admin_id =
        id_string(&map, "admin_id").ok_or_else(|| IntercomError::bad("parameter_not_found", "admin_id is required").field("admin_id"))?;
    check_admin(&ic, &admin_id)?;
    let tag = ic.update(|s| {
        let tag = s.tags.iter().find(|t| t.id == tag_id).cloned().ok_or_else(tag_not_found)?;
        let c = s.conversations.iter_mut().find(|c| c.id == id).ok_or_else(conversation_not_found)?;
        // [U] §1.9: removing a tag that is not applied answers 200 like a removal (idempotent).
        let before = c.tags.len();
        c.tags.retain(|a| a.id != tag_id);
        if c.tags.len() != before {
            c.updated_at = now_secs();
        }
        Ok::<_, IntercomError>(tag)
    })?;
    let applied = AppliedTag { id: tag.id.clone(), applied_at: now_secs(), applied_by: admin_id };
    Ok(Json(ic.state().tag_json(&tag, Some(&applied))))
}

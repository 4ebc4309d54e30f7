//! Owners (`/crm/v3/owners`) and users (`/settings/v3/users`).

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use serde_json::{Value, json};

use super::model::HubSpotState;
use super::{HsErr, HubSpot, paging};
use crate::common::util::query_pairs;

/// `GET /crm/v3/owners?email&limit&after`.
pub async fn list(State(hs): State<HubSpot>, RawQuery(q): RawQuery) -> Json<Value> {
    let pairs = query_pairs(q.as_deref());
    let param = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let email = param("email").map(|e| e.to_lowercase());
    let limit = param("limit").and_then(|l| l.parse().ok()).unwrap_or(100usize).clamp(1, 500);
    let after = param("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let s = hs.state();
    let items =
        s.owners.iter().filter(|o| email.as_ref().is_none_or(|e| o.email.to_lowercase() == *e)).map(HubSpotState::owner_json).collect();
    Json(paging(hs.base(), "/crm/v3/owners", items, limit, after))
}

pub async fn get(State(hs): State<HubSpot>, Path(id): Path<String>) -> Result<Json<Value>, HsErr> {
    let s = hs.state();
    let o = s.owners.iter().find(|o| o.id == id).ok_or_else(|| HsErr::not_found("Owner"))?;
    Ok(Json(HubSpotState::owner_json(o)))
}

fn user_json(o: &super::model::Owner) -> Value {
    json!({ "id": o.user_id.to_string(), "email": o.email, "firstName": o.first_name, "lastName": o.last_name, "roleIds": [], "primaryTeamId": null, "superAdmin": false })
}

/// `GET /settings/v3/users`.
pub async fn users(State(hs): State<HubSpot>, RawQuery(q): RawQuery) -> Json<Value> {
    let pairs = query_pairs(q.as_deref());
    let param = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let limit = param("limit").and_then(|l| l.parse().ok()).unwrap_or(100usize).clamp(1, 100);
    let after = param("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let items = hs.state().owners.iter().map(user_json).collect();
    Json(paging(hs.base(), "/settings/v3/users", items, limit, after))
}

pub async fn user(State(hs): State<HubSpot>, Path(id): Path<String>) -> Result<Json<Value>, HsErr> {
    let s = hs.state();
    let o = s.owners.iter().find(|o| o.user_id.to_string() == id).ok_or_else(|| HsErr::not_found("User"))?;
    Ok(Json(user_json(o)))
}

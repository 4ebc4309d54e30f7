//! `/me`, `/admins`, and Switch (`/phone_call_redirects`) (intercom-helpscout-api.md §1.5, §1.10).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::model::PhoneRedirect;
use super::{Intercom, IntercomError, body};
use crate::common::util::{now_secs, phone_key, str_field};

pub async fn me(State(ic): State<Intercom>) -> Result<Json<Value>, IntercomError> {
    let s = ic.state();
    let a = s
        .admins
        .iter()
        .find(|a| a.id == s.me)
        .ok_or_else(|| IntercomError::new(StatusCode::NOT_FOUND, "admin_not_found", "Admin not found"))?;
    let mut v = s.admin_json(a);
    v["email_verified"] = json!(true);
    v["avatar"] = json!({ "image_url": null });
    v["app"] = json!({
        "type": "app",
        "id_code": s.app.id_code,
        "name": s.app.name,
        "created_at": 1_600_000_000,
        "secure": false,
        "identity_verification": false,
        "timezone": s.app.timezone,
        "region": s.app.region,
    });
    if let Some(o) = v.as_object_mut() {
        o.remove("away_status_reason_id");
    }
    Ok(Json(v))
}

pub async fn list(State(ic): State<Intercom>) -> Json<Value> {
    let s = ic.state();
    let admins: Vec<Value> = s.admins.iter().map(|a| s.admin_json(a)).collect();
    Json(json!({ "type": "admin.list", "admins": admins }))
}

pub async fn get(State(ic): State<Intercom>, Path(id): Path<String>) -> Result<Json<Value>, IntercomError> {
    let s = ic.state();
    let a = s
        .admins
        .iter()
        .find(|a| a.id == id)
        .ok_or_else(|| IntercomError::new(StatusCode::NOT_FOUND, "admin_not_found", "Admin not found"))?;
    Ok(Json(s.admin_json(a)))
}

fn switch_error(status: StatusCode, key: &str, message: &str) -> Response {
    // intercom-helpscout-api.md §1.10: Switch errors are `{error_key, message}`, not an error list.
    (status, Json(json!({ "error_key": key, "message": message }))).into_response()
}

pub async fn phone_call_redirect(State(ic): State<Intercom>, bytes: Bytes) -> Response {
    let map = match body(&bytes) {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    let Some(phone) = str_field(&map, "phone") else {
        return switch_error(StatusCode::BAD_REQUEST, "invalid_phone_number", "Invalid phone number");
    };
    let key = phone_key(phone);
    let digits = key.len().saturating_sub(1);
    // [U] §1.10: "E.164" is checked as a leading `+` and 8–15 digits once spaces are removed
    // (the spec's own example is "+1 1234567890").
    if !key.starts_with('+') || !(8..=15).contains(&digits) {
        return switch_error(StatusCode::BAD_REQUEST, "invalid_phone_number", "Invalid phone number");
    }
    let attrs: Map<String, Value> = match map.get("custom_attributes") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(o)) => o.clone(),
        Some(_) => {
            return switch_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_custom_attributes", "custom_attributes must be an object");
        }
    };
    let url = ic.update(|s| {
        let url = format!("https://intercom.help/sandbox/messenger?switch={}", s.alloc());
        for c in s.contacts.iter_mut().filter(|c| c.phone.as_deref().map(phone_key).as_deref() == Some(key.as_str())) {
            c.custom_attributes.extend(attrs.clone());
            c.updated_at = now_secs();
        }
        s.phone_redirects.push(PhoneRedirect {
            phone: phone.to_owned(),
            custom_attributes: attrs,
            url: url.clone(),
            created_at: now_secs(),
        });
        url
    });
    Json(json!({ "type": "phone_call_redirect", "phone": phone, "url": url })).into_response()
}

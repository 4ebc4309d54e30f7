//! Sending messages from a number in native (agent conversation) mode (aircall-api.md §5.4).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::model::SentMessage;
use super::{Aircall, AircallError, body, parse_id};
use crate::common::util::{id_field, iso8601, now_secs, str_field};

type Result<T> = std::result::Result<T, AircallError>;

fn render(a: &Aircall, m: &SentMessage) -> Value {
    let s = a.state();
    let number = s.numbers.iter().find(|n| n.id == m.number_id).map(|n| s.number_short(a.base(), n));
    let at = iso8601(m.created_at);
    json!({
        "id": m.id,
        // [U] aircall-api.md §4.9/§9.5: direct_link format and the `status` value are not confirmed.
        "direct_link": format!("{}/v1/numbers/{}/messages/{}", a.base(), m.number_id, m.id),
        "direction": "outbound",
        "status": "pending",
        "raw_digits": m.to,
        "body": m.body,
        "media_url": m.media_url,
        "channel": m.channel,
        "created_at": at,
        "updated_at": at,
        "sent_at": at,
        "number": number,
    })
}

fn store(a: &Aircall, mut m: SentMessage) -> Result<(StatusCode, Json<Value>)> {
    a.update(|s| {
        if !s.numbers.iter().any(|n| n.id == m.number_id) {
            return Err(AircallError::not_found("Number not found"));
        }
        m.id = s.alloc().to_string();
        s.messages.push(m.clone());
        Ok(())
    })?;
    // aircall-api.md §1.4/§5.4: the message is returned unwrapped.
    // [U] §5.4: the success status is not documented; 201 like other creates.
    Ok((StatusCode::CREATED, Json(render(a, &m))))
}

/// `POST /v1/numbers/:id/messages/native/send` `{to, body, mediaUrl?}`.
pub async fn send_native(State(a): State<Aircall>, Path(id): Path<String>, bytes: Bytes) -> Result<(StatusCode, Json<Value>)> {
    let number_id = parse_id(&id, "Number")?;
    let map = body(&bytes)?;
    let to = str_field(&map, "to").filter(|t| !t.is_empty()).ok_or_else(|| AircallError::bad_request("to is required"))?;
    let text = str_field(&map, "body").filter(|b| !b.is_empty());
    let media: Vec<String> = match map.get("mediaUrl") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(urls)) => urls.iter().filter_map(|u| u.as_str().map(str::to_owned)).collect(),
        Some(Value::String(u)) => vec![u.clone()],
        Some(_) => {
            return Err(AircallError::bad_request("mediaUrl must be an array of URLs"));
        }
    };
    if text.is_none() && media.is_empty() {
        return Err(AircallError::bad_request("body is required"));
    }
    if text.is_some_and(|t| t.chars().count() > 1600) {
        return Err(AircallError::bad_request("body must be at most 1600 characters"));
    }
    store(
        &a,
        SentMessage {
            id: String::new(),
            number_id,
            to: to.to_owned(),
            body: text.map(str::to_owned),
            media_url: media,
            channel: None,
            template_params: None,
            request: Value::Object(map.clone()),
            created_at: now_secs(),
        },
    )
}

/// `POST /v1/messages/send/whatsapp/native` `{lineId, externalNumber, text | templateParams}`.
pub async fn send_whatsapp_native(State(a): State<Aircall>, bytes: Bytes) -> Result<(StatusCode, Json<Value>)> {
    let map = body(&bytes)?;
    let number_id = id_field(&map, "lineId").ok_or_else(|| AircallError::bad_request("lineId is required"))?;
    let to = str_field(&map, "externalNumber")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AircallError::bad_request("externalNumber is required"))?;
    let text = str_field(&map, "text");
    let template = map.get("templateParams").filter(|v| !v.is_null());
    if text.is_some() == template.is_some() {
        return Err(AircallError::bad_request("exactly one of text and templateParams is required"));
    }
    if text.is_some_and(|t| t.chars().count() > 4096) {
        return Err(AircallError::bad_request("text must be at most 4096 characters"));
    }
    store(
        &a,
        SentMessage {
            id: String::new(),
            number_id,
            to: to.to_owned(),
            body: text.map(str::to_owned),
            media_url: Vec::new(),
            channel: Some("whatsapp".into()),
            template_params: template.cloned(),
            request: Value::Object(map.clone()),
            created_at: now_secs(),
        },
    )
}

//! Calls: get and list (§5.3, shapes §4.1), insight cards (§5.1), start an
//! outbound call and dial (§5.5), and the control route the simulator keeps
//! the calls in step with (`POST /_sandbox/calls`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::model::{InsightCard, StartedCall, check_call};
use super::paging::Paging;
use super::{Aircall, AircallError, body, parse_id};
use crate::common::util::{id_field, now_secs, query_pairs, str_field};

type Result<T> = std::result::Result<T, AircallError>;

/// Checks one `contents` item of an insight card.
fn check_item(i: usize, item: &Value) -> Result<()> {
    let bad = |m: &str| AircallError::bad_request(format!("contents[{i}]: {m}"));
    let obj = item.as_object().ok_or_else(|| bad("must be an object"))?;
    let text = |k: &str| obj.get(k).and_then(Value::as_str).is_some_and(|s| !s.is_empty());
    match obj.get("type").and_then(Value::as_str) {
        Some("title") if text("text") => {}
        Some("title") => return Err(bad("a title needs a text")),
        Some("shortText") if text("label") && text("text") => {}
        Some("shortText") => return Err(bad("a shortText needs a label and a text")),
        // [U] aircall-api.md §5.1/§9.4: only `title` and `shortText` are confirmed; other types
        // (`user`, `link`) are rejected.
        Some(other) => return Err(bad(&format!("unknown type `{other}`"))),
        None => return Err(bad("type is required")),
    }
    match obj.get("link") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(l)) if l.starts_with("https://") || l.starts_with("http://") => Ok(()),
        Some(_) => Err(bad("link must be an http(s) URL")),
    }
}

/// `POST /v1/calls/:id/insight_cards` → 201.
pub async fn insight_card(State(a): State<Aircall>, Path(id): Path<String>, bytes: Bytes) -> Result<StatusCode> {
    let call_id = parse_id(&id, "Call")?;
    let map = body(&bytes)?;
    let contents = map
        .get("contents")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| AircallError::bad_request("contents must be a non-empty array"))?;
    for (i, item) in contents.iter().enumerate() {
        check_item(i, item)?;
    }
    // [U] aircall-api.md §5.1: no size/count limit is enforced (one client keeps the body < 10 KB),
    // any call id is accepted (calls live in the simulator), several cards per call are kept.
    a.update(|s| s.insight_cards.push(InsightCard { call_id, contents: contents.clone(), created_at: now_secs() }));
    // [U] aircall-api.md §5.1: the 201 is sent without a body.
    Ok(StatusCode::CREATED)
}

/// `POST /v1/users/:id/calls` `{number_id, to}` → 204.
pub async fn start_call(State(a): State<Aircall>, Path(id): Path<String>, bytes: Bytes) -> Result<StatusCode> {
    let user_id = parse_id(&id, "User")?;
    let map = body(&bytes)?;
    let to = str_field(&map, "to").filter(|t| !t.is_empty()).ok_or_else(|| AircallError::bad_request("to is required"))?;
    let number_id = id_field(&map, "number_id").ok_or_else(|| AircallError::bad_request("number_id is required"))?;
    a.update(|s| {
        let user = s.users.iter().find(|u| u.id == user_id).ok_or_else(|| AircallError::not_found("User not found"))?;
        let number = s.numbers.iter().find(|n| n.id == number_id).ok_or_else(|| AircallError::not_found("Number not found"))?;
        // aircall-api.md §5.5 preconditions. [U] they are reported as 400 with a troubleshoot text.
        if !number.user_ids.contains(&user_id) {
            return Err(AircallError::bad_request("User is not assigned to this number"));
        }
        if user.availability != "available" {
            return Err(AircallError::bad_request("User is not available"));
        }
        s.started_calls.push(StartedCall {
            user_id,
            number_id: Some(number_id),
            to: to.to_owned(),
            kind: "call".into(),
            created_at: now_secs(),
        });
        Ok(StatusCode::NO_CONTENT)
    })
}

/// `POST /v1/users/:id/dial` `{to}` → 204.
pub async fn dial(State(a): State<Aircall>, Path(id): Path<String>, bytes: Bytes) -> Result<StatusCode> {
    let user_id = parse_id(&id, "User")?;
    let map = body(&bytes)?;
    let to = str_field(&map, "to").filter(|t| !t.is_empty()).ok_or_else(|| AircallError::bad_request("to is required"))?;
    a.update(|s| {
        if !s.users.iter().any(|u| u.id == user_id) {
            return Err(AircallError::not_found("User not found"));
        }
        s.started_calls.push(StartedCall { user_id, number_id: None, to: to.to_owned(), kind: "dial".into(), created_at: now_secs() });
        Ok(StatusCode::NO_CONTENT)
    })
}

/// A stored call as the API answers it: `ivr_options_selected` only with
/// `fetch_call_timeline=true`, `ai_voice_agents` only with `fetch_aiva_conv=true`
/// (aircall-api.md §4.1). [U] the contact is shown with or without
/// `fetch_contact` (§4.1 says REST "may need" it).
fn render_call(call: &Value, query: &[(String, String)]) -> Value {
    let on = |name: &str| query.iter().any(|(k, v)| k == name && v == "true");
    let mut out = call.clone();
    if let Some(m) = out.as_object_mut() {
        if !on("fetch_call_timeline") {
            m.remove("ivr_options_selected");
        }
        if !on("fetch_aiva_conv") {
            m.remove("ai_voice_agents");
        }
    }
    out
}

/// `GET /v1/calls/:id[?fetch_call_timeline=true]` → 200 `{call}`, 404 for an unknown id.
pub async fn get_call(State(a): State<Aircall>, Path(id): Path<String>, RawQuery(q): RawQuery) -> Result<Json<Value>> {
    let id = parse_id(&id, "Call")?;
    let s = a.state();
    let call = s.call(id).ok_or_else(|| AircallError::not_found("Call not found"))?;
    Ok(Json(json!({ "call": render_call(call, &query_pairs(q.as_deref())) })))
}

/// `GET /v1/calls?from&to&order&page&per_page` → 200 `{calls, meta}`; `from`/`to`
/// (UNIX seconds) filter on `started_at`, the call's creation (§1.4).
pub async fn list_calls(State(a): State<Aircall>, RawQuery(q): RawQuery) -> Json<Value> {
    let query = query_pairs(q.as_deref());
    let s = a.state();
    let items = s
        .calls
        .iter()
        .map(|c| {
            let started = c["started_at"].as_i64().unwrap_or(0);
            let id = c["id"].as_u64().unwrap_or(0);
            (started, id, render_call(c, &query))
        })
        .collect();
    Json(Paging::from_query(q.as_deref()).render("calls", items, a.base(), "/v1/calls"))
}

/// `POST /_sandbox/calls` with a whole call in the REST shape (§4.1) → 200
/// `{call}`: adds it, or replaces the call with that id. 400 names what is wrong.
pub async fn upsert_call(State(a): State<Aircall>, bytes: Bytes) -> Result<Json<Value>> {
    let call: Value = serde_json::from_slice(&bytes).map_err(|e| AircallError::bad_request(format!("body is not JSON: {e}")))?;
    check_call(&call).map_err(AircallError::bad_request)?;
    a.update(|s| s.upsert_call(call.clone()));
    Ok(Json(json!({ "call": call })))
}

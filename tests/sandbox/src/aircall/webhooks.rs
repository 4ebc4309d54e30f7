//! Webhook management (aircall-api.md §2.1, §5.7): create, list, get, update,
//! delete. At most 100 per company; a webhook created with an OAuth bearer
//! token belongs to the integration (§1.2: "webhooks created with an OAuth
//! token are scoped to that token") and is all that token can see.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::paging::Paging;
use super::{Aircall, AircallError, body};
use crate::common::util::{iso8601, now_secs, query_pairs};

type Result<T> = std::result::Result<T, AircallError>;

/// §2.1: "Up to 100 webhooks per company".
pub const MAX_WEBHOOKS: usize = 100;

/// Event names a webhook may subscribe to (§3; `team.*`, seen only in an
/// AI-generated AsyncAPI, is left out).
#[rustfmt::skip]
pub const EVENTS: &[&str] = &[
    "call.created", "call.ringing_on_agent", "call.agent_declined", "call.answered", "call.transferred",
    "call.external_transferred", "call.unsuccessful_transfer", "call.hold", "call.unhold", "call.ivr_option_selected",
    "call.hungup", "call.ended", "call.voicemail_left", "call.comm_assets_generated", "call.assigned", "call.archived",
    "call.tagged", "call.untagged", "call.commented",
    "user.created.v2", "user.deleted.v2", "user.connected.v2", "user.disconnected.v2", "user.opened.v2", "user.closed.v2",
    "user.wut_start.v2", "user.wut_end.v2",
    "user.created", "user.deleted", "user.connected", "user.disconnected", "user.opened", "user.closed", "user.wut_start",
    "user.wut_end",
    "number.created", "number.deleted", "number.opened", "number.closed",
    "contact.created", "contact.updated", "contact.deleted",
    "message.sent", "message.received", "message.status_updated",
    "group_message.sent", "group_message.received", "group_message.status_updated",
    "transcription.created", "summary.created", "topics.created", "sentiment.created", "action_item.created",
    "playbook_result.created", "playbook_result.updated", "realtime_transcription.utterances_received",
    "custom_summary.result_created", "custom_summary.result_updated", "call_evaluation.created", "call_evaluation.updated",
    "ai_voice_agent.started", "ai_voice_agent.ended", "ai_voice_agent.escalated", "ai_voice_agent.summary",
    "integration.deleted", "analytics.report_created", "analytics.report_failed",
];

/// A registered webhook.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Webhook {
    /// UUID (§1.6).
    pub webhook_id: String,
    /// Creation order (for paging).
    pub seq: u64,
    /// Name shown in the Dashboard.
    pub custom_name: Option<String>,
    /// Where events are posted.
    pub url: String,
    /// Whether events are sent.
    pub active: bool,
    /// Subscribed events; empty = all (§2.1).
    pub events: Vec<String>,
    /// The token every payload carries (§2.3).
    pub token: String,
    /// UNIX seconds.
    pub created_at: i64,
    /// The OAuth integration that created it (`None` = created with the API key).
    pub integration_id: Option<u64>,
    /// Failed deliveries in a row (see `delivery`); re-activating resets it.
    pub failures: u32,
}

impl Webhook {
    /// The REST view (§5.7).
    pub fn json(&self, base: &str) -> Value {
        json!({
            "webhook_id": self.webhook_id,
            "direct_link": format!("{base}/v1/webhooks/{}", self.webhook_id),
            "created_at": iso8601(self.created_at),
            "url": self.url,
            "active": self.active,
            "events": self.events,
            "token": self.token,
            "custom_name": self.custom_name,
        })
    }
}

/// A random version-4 UUID.
fn uuid() -> String {
    const VERSION_MASK: u128 = 0xf << 76;
    const VARIANT_MASK: u128 = 0xc << 60;
    let n = (rand::random::<u128>() & !VERSION_MASK & !VARIANT_MASK) | (0x4 << 76) | (0x8 << 60);
    let h = format!("{n:032x}");
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

fn check_url(v: Option<&Value>) -> Result<String> {
    match v.and_then(Value::as_str) {
        // [U] §2.1: Aircall wants public HTTPS; the sandbox also takes http for local listeners.
        Some(u) if u.starts_with("https://") || u.starts_with("http://") => Ok(u.to_owned()),
        Some(u) if !u.is_empty() => Err(AircallError::bad_request(format!("url `{u}` is not an http(s) URL"))),
        _ => Err(AircallError::bad_request("url is required")),
    }
}

fn check_events(v: &Value) -> Result<Vec<String>> {
    let list = v.as_array().ok_or_else(|| AircallError::bad_request("events must be an array of event names"))?;
    let names: Vec<String> = list.iter().map(|e| e.as_str().unwrap_or_default().to_owned()).collect();
    let unknown: Vec<&String> = names.iter().filter(|n| !EVENTS.contains(&n.as_str())).collect();
    if unknown.is_empty() { Ok(names) } else { Err(AircallError::bad_request(format!("invalid events: {unknown:?}"))) }
}

/// The webhooks `caller` may see: all of them with the API key, its own with an OAuth token.
fn visible(a: &Aircall, headers: &HeaderMap, w: &Webhook) -> bool {
    a.integration_of(headers).is_none_or(|id| w.integration_id == Some(id))
}

/// `POST /v1/webhooks` `{url, custom_name?, events?}` → 201 `{"webhook": …}`.
pub(super) async fn create(State(a): State<Aircall>, headers: HeaderMap, bytes: Bytes) -> Result<(StatusCode, Json<Value>)> {
    let b = body(&bytes)?;
    let url = check_url(b.get("url"))?;
    let events = match b.get("events") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => check_events(v)?,
    };
    let custom_name = b.get("custom_name").and_then(Value::as_str).map(str::to_owned);
    let integration_id = a.integration_of(&headers);
    let hook = a.update(|s| {
        if s.webhooks.len() >= MAX_WEBHOOKS {
            return Err(AircallError::bad_request(format!("a company has at most {MAX_WEBHOOKS} webhooks")));
        }
        let hook = Webhook {
            webhook_id: uuid(),
            seq: s.alloc(),
            custom_name,
            url,
            active: true,
            events,
            token: format!("{:032x}", rand::random::<u128>()),
            created_at: now_secs(),
            integration_id,
            failures: 0,
        };
        s.webhooks.push(hook.clone());
        Ok(hook)
    })?;
    Ok((StatusCode::CREATED, Json(json!({ "webhook": hook.json(a.base()) }))))
}

/// `GET /v1/webhooks` (paged like every list, with `meta`).
pub(super) async fn list(State(a): State<Aircall>, headers: HeaderMap, RawQuery(q): RawQuery) -> Json<Value> {
    let s = a.state();
    let items = s.webhooks.iter().filter(|w| visible(&a, &headers, w)).map(|w| (w.created_at, w.seq, w.json(a.base()))).collect();
    Json(Paging::from_query(q.as_deref()).render("webhooks", items, a.base(), "/v1/webhooks"))
}

/// `GET /v1/webhooks/:webhook_id`.
pub(super) async fn get(State(a): State<Aircall>, headers: HeaderMap, Path(id): Path<String>) -> Result<Json<Value>> {
    let s = a.state();
    let w = s.webhooks.iter().find(|w| w.webhook_id == id && visible(&a, &headers, w)).ok_or_else(not_found)?;
    Ok(Json(json!({ "webhook": w.json(a.base()) })))
}

/// `PUT /v1/webhooks/:webhook_id[?events_action=add|remove]`: omitting `events`
/// subscribes to all events again; the webhook is re-activated.
pub(super) async fn update(
    State(a): State<Aircall>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    bytes: Bytes,
) -> Result<Json<Value>> {
    let b = if bytes.is_empty() { Map::new() } else { body(&bytes)? };
    let action = query_pairs(q.as_deref()).into_iter().find(|(k, _)| k == "events_action").map(|(_, v)| v);
    let url = b.get("url").map(|u| check_url(Some(u))).transpose()?;
    let events = b.get("events").filter(|v| !v.is_null()).map(check_events).transpose()?;
    let caller = a.integration_of(&headers);
    let hook = a.update(|s| {
        let w = s
            .webhooks
            .iter_mut()
            .find(|w| w.webhook_id == id && caller.is_none_or(|c| w.integration_id == Some(c)))
            .ok_or_else(not_found)?;
        match action.as_deref() {
            None => w.events = events.unwrap_or_default(),
            Some(act @ ("add" | "remove")) => {
                let listed = events.ok_or_else(|| AircallError::bad_request("events_action needs events"))?;
                if act == "add" {
                    let new: Vec<String> = listed.into_iter().filter(|e| !w.events.contains(e)).collect();
                    w.events.extend(new);
                } else {
                    w.events.retain(|e| !listed.contains(e));
                }
            }
            Some(other) => return Err(AircallError::bad_request(format!("events_action must be add or remove, not `{other}`"))),
        }
        if let Some(u) = url {
            w.url = u;
        }
        if let Some(n) = b.get("custom_name") {
            w.custom_name = n.as_str().map(str::to_owned);
        }
        w.active = true;
        w.failures = 0;
        Ok(w.clone())
    })?;
    Ok(Json(json!({ "webhook": hook.json(a.base()) })))
}

/// `DELETE /v1/webhooks/:webhook_id` → 204.
pub(super) async fn delete(State(a): State<Aircall>, headers: HeaderMap, Path(id): Path<String>) -> Result<StatusCode> {
    let caller = a.integration_of(&headers);
    a.update(|s| {
        let before = s.webhooks.len();
        s.webhooks.retain(|w| !(w.webhook_id == id && caller.is_none_or(|c| w.integration_id == Some(c))));
        // [U] §5.7: the status of a successful delete is not given; 204 like contacts.
        if s.webhooks.len() < before { Ok(StatusCode::NO_CONTENT) } else { Err(not_found()) }
    })
}

fn not_found() -> AircallError {
    AircallError::not_found("Webhook not found")
}

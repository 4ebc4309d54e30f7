//! Webhook deliveries as Aircall makes them (aircall-api.md §2.3–2.4): `POST
//! /_sandbox/deliver {event, data, resource?}` posts the event to every active
//! webhook subscribed to it, each with its own token. A delivery that fails
//! (no answer or not 2xx) counts against the webhook; after
//! `deactivate_after` failures in a row Aircall deactivates it ("persistent
//! failure → webhook auto-disabled") and sends it nothing until it is
//! re-activated (`PUT /v1/webhooks/:id`). `POST /_sandbox/deliveries {drop}`
//! makes deliveries vanish on the way (the host never sees them, Aircall does
//! not count a failure): the lost-webhook case reconciliation is for.

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::integration::Delivery;
use super::webhooks::Webhook;
use super::{Aircall, AircallError, body};
use crate::common::util::now_secs;

/// How deliveries behave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeliveryOptions {
    /// Deliveries are lost on the way: nothing is posted, nothing counted.
    pub drop: bool,
    /// Failed deliveries in a row after which a webhook is deactivated.
    /// [U] §2.4 says "persistent failure" without a number.
    pub deactivate_after: u32,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        Self { drop: false, deactivate_after: 5 }
    }
}

/// `POST /_sandbox/deliveries {drop?, deactivate_after?}` → the options now.
pub(super) async fn set_options(State(a): State<Aircall>, bytes: Bytes) -> Result<Json<DeliveryOptions>, AircallError> {
    let b = body(&bytes)?;
    let options = a.update(|s| {
        if let Some(d) = b.get("drop") {
            s.delivery.drop = d.as_bool().ok_or_else(|| AircallError::bad_request("drop must be true or false"))?;
        }
        if let Some(n) = b.get("deactivate_after") {
            let n = n.as_u64().filter(|n| *n >= 1).ok_or_else(|| AircallError::bad_request("deactivate_after must be at least 1"))?;
            s.delivery.deactivate_after = n as u32;
        }
        Ok::<_, AircallError>(s.delivery.clone())
    })?;
    Ok(Json(options))
}

/// `POST /_sandbox/deliver {event, data, resource?}` → one entry per webhook it was for.
pub(super) async fn deliver_route(State(a): State<Aircall>, bytes: Bytes) -> Result<Json<Vec<Delivery>>, AircallError> {
    let b = body(&bytes)?;
    let event = b.get("event").and_then(Value::as_str).ok_or_else(|| AircallError::bad_request("event is required"))?.to_owned();
    let data = b.get("data").cloned().ok_or_else(|| AircallError::bad_request("data is required"))?;
    let resource =
        b.get("resource").and_then(Value::as_str).map_or_else(|| event.split('.').next().unwrap_or("").to_owned(), str::to_owned);
    Ok(Json(a.deliver(&resource, &event, &data).await))
}

impl Aircall {
    /// Post `event` to every active webhook subscribed to it (see the module).
    pub async fn deliver(&self, resource: &str, event: &str, data: &Value) -> Vec<Delivery> {
        let (hooks, options) = self.update(|s| {
            let hooks: Vec<Webhook> =
                s.webhooks.iter().filter(|w| w.active && (w.events.is_empty() || w.events.iter().any(|e| e == event))).cloned().collect();
            (hooks, s.delivery.clone())
        });
        let mut out = Vec::new();
        for hook in hooks {
            let payload = json!({ "resource": resource, "event": event, "timestamp": now_secs(), "token": hook.token, "data": data });
            if options.drop {
                out.push(Delivery { webhook_id: hook.webhook_id, url: hook.url, payload, status: None, error: Some("dropped".into()) });
                continue;
            }
            let delivery = post(&hook, payload).await;
            let ok = delivery.status.is_some_and(|s| (200..300).contains(&s));
            self.update(|s| {
                if let Some(w) = s.webhooks.iter_mut().find(|w| w.webhook_id == hook.webhook_id) {
                    w.failures = if ok { 0 } else { w.failures + 1 };
                    if w.failures >= options.deactivate_after {
                        w.active = false;
                    }
                }
            });
            out.push(delivery);
        }
        out
    }
}

/// One POST as Aircall sends it: `axios` user agent, `aircall-origin`, 5 s timeout (§2.4).
pub async fn post(hook: &Webhook, payload: Value) -> Delivery {
    let (status, error) = match crate::http_client() {
        Err(e) => (None, Some(e.to_string())),
        Ok(c) => {
            let sent = c
                .post(&hook.url)
                .timeout(Duration::from_secs(5))
                .header("user-agent", "axios/1.7.9")
                .header("aircall-origin", "webhooks")
                .json(&payload)
                .send()
                .await;
            match sent {
                Ok(r) => (Some(r.status().as_u16()), None),
                Err(e) => (None, Some(e.to_string())),
            }
        }
    };
    Delivery { webhook_id: hook.webhook_id.clone(), url: hook.url.clone(), payload, status, error }
}

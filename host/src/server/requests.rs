//! `/integrations/{id}/…`: requests a CRM (or a browser) sends to a plugin,
//! e.g. a HubSpot workflow action or a click-to-dial link.

use super::AppState;
use crate::capabilities::journal::Journal;
use crate::capabilities::{JobCaps, JobLabel};
use crate::contract::bindings::RequestContext;
use crate::contract::bindings::switchboard::plugin::incoming;
use crate::runtime::JobFailure;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;

fn error(status: StatusCode, message: String) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

/// Route a request to the integration's plugin.
pub async fn handle(
    State(state): State<AppState>,
    Path((id, rest)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let current = state.live.load();
    let Some(config) = current.integrations.iter().find(|i| i.id == id) else {
        return error(StatusCode::NOT_FOUND, format!("no integration {id:?}"));
    };
    let Some(plugin) = state.registry.get(&config.plugin) else {
        return error(StatusCode::SERVICE_UNAVAILABLE, format!("plugin {:?} is not loaded", config.plugin));
    };
    let Some(ictx) = plugin.integrations.load().get(&id).cloned() else {
        return error(StatusCode::SERVICE_UNAVAILABLE, format!("integration {id:?} is not valid for the loaded plugin"));
    };
    let request_id = format!("req-{:016x}", rand::random::<u64>());
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost").to_string();
    let base = state.config.server.public_url.clone().unwrap_or_else(|| format!("http://{host}"));
    let req = incoming::Request {
        method: method.to_string(),
        path: format!("/{rest}"),
        query: uri.query().unwrap_or("").to_string(),
        headers: crate::outbound::headers::header_pairs(&headers),
        body: body.to_vec(),
        url: format!("{}{}", base.trim_end_matches('/'), uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")),
    };
    let ctx = RequestContext {
        integration_id: id.clone(),
        request_id: request_id.clone(),
        settings: ictx.settings.clone(),
        default_region: ictx.default_region.clone(),
        base_url: ictx.base_url.clone(),
    };
    let timeout = state.runtime.options().timeout;
    let caps = JobCaps::new(state.shared.clone(), ictx, Journal::disabled(), JobLabel { event_id: request_id, job_id: 0 }, timeout);
    let started = std::time::Instant::now();
    // On the plugin threads, so a slow or looping plugin cannot hold the server's.
    let runtime = state.runtime.clone();
    let call = state.runtime.spawn(async move { runtime.handle_request(&plugin.component, caps, &ctx, &req).await });
    let outcome = call.await.unwrap_or_else(|e| Err(JobFailure::Internal(format!("request task failed: {e}"))));
    match outcome {
        Ok(resp) => {
            state.metrics.job(&config.plugin, "request", started.elapsed());
            let mut builder = Response::builder().status(StatusCode::from_u16(resp.status).unwrap_or(StatusCode::BAD_GATEWAY));
            for (k, v) in resp.headers {
                builder = builder.header(k, v);
            }
            builder
                .body(axum::body::Body::from(resp.body))
                .unwrap_or_else(|e| error(StatusCode::BAD_GATEWAY, format!("plugin response: {e}")))
        }
        Err(f) => {
            state.metrics.job(&config.plugin, "request_failed", started.elapsed());
            let status = match f {
                JobFailure::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
                JobFailure::Internal(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            tracing::warn!(integration = %id, error = %f, "plugin request failed");
            error(status, f.to_string())
        }
    }
}

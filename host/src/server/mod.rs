//! The HTTP surface: webhooks in, CRM requests to plugins, health and metrics.

pub mod admit;
pub mod conn;
mod oauth;
mod requests;
pub mod webhook;

use crate::capabilities::Shared;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::queue::Dispatcher;
use crate::registry::Registry;
use crate::runtime::Runtime;
use crate::store::Store;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{any, get, post};
use std::sync::Arc;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The configuration file as loaded at start. Its accounts and
    /// integrations are only the file's: read the effective ones (the
    /// console's too) from `live`.
    pub config: Arc<Config>,
    /// The effective configuration, swapped when the console changes an
    /// account or an integration.
    pub live: Arc<crate::config::LiveConfig>,
    /// Where events, jobs, journals and plugin data are kept; the webhook's
    /// 2xx waits for its write.
    pub store: Arc<dyn Store>,
    /// Hands stored jobs to the scheduler, which runs each lane in order;
    /// its depth is `/healthz`'s `queue_depth`.
    pub dispatcher: Dispatcher,
    /// Served at `/metrics` (Prometheus text), with the recent job attempts
    /// the console reads.
    pub metrics: Arc<Metrics>,
    /// The loaded plugins, by name.
    pub registry: Arc<Registry>,
    /// The wasmtime engine and linker that plugin instances are made from.
    pub runtime: Arc<Runtime>,
    /// Capabilities' shared part.
    pub shared: Arc<Shared>,
    /// OAuth connections (installed accounts' webhook tokens, the connect flow).
    pub connections: Arc<crate::connections::Connections>,
    /// Number filters of the effective configuration's integrations.
    pub filters: Arc<webhook::NumberFilters>,
    /// The lane of each recently seen call, for its later party-less events.
    pub call_parties: Arc<crate::queue::lane::CallParties>,
}

/// The public listener's routes: the Aircall webhook, CRM requests to
/// plugins, the OAuth connect flow, `/healthz` and `/metrics`.
pub fn router(state: AppState) -> Router {
    let max = state.config.server.max_body_bytes;
    let body_timeout = std::time::Duration::from_millis(state.config.server.body_read_timeout_ms.get());
    Router::new()
        .route("/webhooks/aircall", post(webhook::receive).layer(DefaultBodyLimit::max(max)))
        .route("/integrations/{id}/{*rest}", any(requests::handle).layer(DefaultBodyLimit::max(max)))
        .route("/connect/{ticket}", get(oauth::start))
        .route("/oauth/callback", get(oauth::callback))
        .route("/aircall/install", get(oauth::aircall_install))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .layer(axum::middleware::from_fn(move |req, next| conn::body_deadline(body_timeout, req, next)))
        .with_state(state)
}

/// Health for load balancers: the loaded plugins and the queue depth; a host
/// sharing a PostgreSQL store also names itself and answers 503 while the
/// database does not answer within 2 s (it could acknowledge no webhook).
async fn healthz(State(state): State<AppState>) -> (axum::http::StatusCode, axum::Json<serde_json::Value>) {
    let plugins: Vec<_> = state.registry.list().iter().map(|p| format!("{}@{}", p.manifest.name, p.manifest.version)).collect();
    let mut body = serde_json::json!({ "status": "ok", "plugins": plugins, "queue_depth": state.dispatcher.depth() });
    let mut status = axum::http::StatusCode::OK;
    if let Some(leases) = state.store.leases() {
        body["host_id"] = leases.host_id().into();
        body["database"] = match tokio::time::timeout(std::time::Duration::from_secs(2), leases.ping()).await {
            Ok(Ok(())) => "ok".into(),
            Ok(Err(e)) => format!("unreachable: {e}").into(),
            Err(_) => "unreachable: no answer within 2 s".into(),
        };
        if body["database"] != "ok" {
            body["status"] = "degraded".into();
            status = axum::http::StatusCode::SERVICE_UNAVAILABLE;
        }
    }
    (status, axum::Json(body))
}

async fn metrics(State(state): State<AppState>) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render())
}

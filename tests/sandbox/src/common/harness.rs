//! What wraps every emulator: the journal, the faults, the control routes
//! (`/_sandbox/...`) and the per-request pipeline (latency, injected failure,
//! credential gate, handler, journal, drop-after-commit). An emulator with an
//! OAuth authorization server has its authorize and token paths served here,
//! past the credential gate, and `/_sandbox/oauth` added to its control routes.

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http_body_util::BodyExt;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower::ServiceExt;

use super::faults::{Fault, Faults};
use super::journal::{Journal, RequestRecord};
use super::oauth::OAuthServer;
use super::server;
use super::state::StateControl;

/// What an emulator provides to the shared framework.
pub trait Control: Send + Sync + 'static {
    /// The emulator's state (`GET /_sandbox/state`, `POST /_sandbox/seed`).
    fn state(&self) -> &dyn StateControl;
    /// The emulator's state as JSON (`GET /_sandbox/state`).
    fn snapshot(&self) -> Value {
        self.state().snapshot()
    }
    /// Back to the state it started with (`POST /_sandbox/reset`); emulators with
    /// more than their state to reset (a rate limiter) extend this.
    fn reset(&self) {
        self.state().reset();
    }
    /// Adds records from JSON (`POST /_sandbox/seed`).
    fn seed(&self, body: Value) -> Result<(), String> {
        self.state().seed_json(body)
    }
    /// The real API's error response for a status (used for injected failures
    /// and unknown routes).
    fn error(&self, status: StatusCode, message: &str) -> Response;
    /// Checks credentials, versions, rate limits before the handler runs.
    #[allow(clippy::result_large_err)]
    fn gate(&self, _parts: &Parts) -> Result<(), Response> {
        Ok(())
    }
    /// Adds headers every response carries (e.g. rate-limit headers).
    fn decorate(&self, _parts: &Parts, _response: &mut Response) {}
    /// Sees every posted fault, for emulator-specific settings.
    fn configure(&self, _fault: &Fault) {}
    /// Emulator-specific control routes (under `/_sandbox/`, no credentials).
    fn control_routes(&self) -> Router {
        Router::new()
    }
    /// The emulator's OAuth authorization server, if it has one.
    fn oauth(&self) -> Option<&OAuthServer> {
        None
    }
}

/// The shared part of a running emulator.
#[derive(Clone)]
pub struct Harness {
    pub(crate) control: Arc<dyn Control>,
    pub(crate) journal: Journal,
    pub(crate) faults: Faults,
}

impl Harness {
    fn reset(&self) {
        self.control.reset();
        if let Some(oauth) = self.control.oauth() {
            oauth.reset();
        }
        self.journal.clear();
        self.faults.clear();
    }

    fn add_fault(&self, fault: Fault) {
        if fault.expire_tokens
            && let Some(oauth) = self.control.oauth()
        {
            oauth.expire_access_tokens();
        }
        self.control.configure(&fault);
        // Settings consumed by `configure` are not rules.
        self.faults.add(Fault { foreign_usage_per_window: None, expire_tokens: false, ..fault });
    }
}

/// A running emulator: its base URL, its journal and faults, and (through
/// `Deref`) the emulator's typed handle.
pub struct Running<T> {
    api: T,
    url: String,
    harness: Harness,
    task: JoinHandle<()>,
}

impl<T> Deref for Running<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.api
    }
}

impl<T> Drop for Running<T> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl<T> Running<T> {
    /// Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every API request served so far (control routes excluded).
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.harness.journal.records()
    }

    /// Forgets the journal.
    pub fn clear_requests(&self) {
        self.harness.journal.clear();
    }

    /// Adds a fault rule, as `POST /_sandbox/faults` does.
    pub fn inject(&self, fault: Fault) {
        self.harness.add_fault(fault);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.harness.faults.clear();
    }

    /// The active fault rules.
    pub fn faults(&self) -> Vec<Fault> {
        self.harness.faults.list()
    }

    /// State back to start, journal and faults cleared.
    pub fn reset(&self) {
        self.harness.reset();
    }

    /// The state as JSON, as `GET /_sandbox/state` shows it.
    pub fn state_json(&self) -> Value {
        self.harness.control.snapshot()
    }
}

/// Binds `addr`, builds the emulator with its base URL, and serves it.
pub async fn launch<T: Control + Clone>(addr: SocketAddr, make: impl FnOnce(&str) -> (T, Router)) -> anyhow::Result<Running<T>> {
    let listener = TcpListener::bind(addr).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let (api, router) = make(&url);
    let harness = Harness { control: Arc::new(api.clone()), journal: Journal::default(), faults: Faults::default() };
    let oauth = harness.control.oauth().map(OAuthServer::router);
    let pipeline = Pipeline { harness: harness.clone(), api: router, oauth, control: control_router(harness.clone()) };
    let task = tokio::spawn(server::serve(listener, pipeline));
    Ok(Running { api, url, harness, task })
}

/// Marker error: the connection must be dropped without an answer.
#[derive(Debug)]
pub struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped after commit (injected fault)")
    }
}

impl std::error::Error for DropConnection {}

/// The per-request pipeline of one emulator.
#[derive(Clone)]
pub struct Pipeline {
    harness: Harness,
    api: Router,
    oauth: Option<Router>,
    control: Router,
}

impl Pipeline {
    /// Handles one request; `Err` means "drop the connection".
    pub async fn handle<B>(self, req: Request<B>) -> Result<Response, DropConnection>
    where
        B: http_body_util::BodyExt + Send + 'static,
        B::Data: Send,
        B::Error: std::fmt::Display,
    {
        let (parts, body) = req.into_parts();
        let bytes = match body.collect().await {
            Ok(c) => c.to_bytes(),
            Err(_) => return Ok(StatusCode::BAD_REQUEST.into_response()),
        };
        let h = &self.harness;
        if parts.uri.path().starts_with("/_sandbox") {
            let req = Request::from_parts(parts, Body::from(bytes));
            return Ok(self.control.oneshot(req).await.into_response());
        }
        let mut record = RequestRecord::begin(&parts, &bytes);
        let (method, path) = (parts.method.clone(), parts.uri.path().to_owned());

        let latency = h.faults.latency(&method, &path);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let mut response = if let Some(failure) = h.faults.take_failure(&method, &path) {
            record.injected = true;
            let status = StatusCode::from_u16(failure.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut r = h.control.error(status, "Injected fault (sandbox)");
            if let Some(secs) = failure.retry_after {
                r.headers_mut().insert("retry-after", HeaderValue::from(secs));
            }
            r
        } else if let Some(oauth) = self.oauth.clone().filter(|_| h.control.oauth().is_some_and(|o| o.serves(&path))) {
            // Authorize and token requests carry no API credentials.
            oauth.oneshot(Request::from_parts(parts.clone(), Body::from(bytes))).await.into_response()
        } else {
            match h.control.gate(&parts) {
                Err(r) => r,
                Ok(()) => {
                    let req = Request::from_parts(parts.clone(), Body::from(bytes));
                    self.api.oneshot(req).await.into_response()
                }
            }
        };
        h.control.decorate(&parts, &mut response);

        let (rparts, rbody) = response.into_parts();
        let rbytes = rbody.collect().await.map(|c| c.to_bytes()).unwrap_or_default();
        record.status = rparts.status.as_u16();
        record.response_body = super::journal::body_value(&rbytes);
        let drop = !record.injected && rparts.status.is_success() && h.faults.take_drop(&method, &path);
        record.dropped = drop;
        h.journal.push(record);
        if drop {
            return Err(DropConnection);
        }
        Ok(Response::from_parts(rparts, Body::from(rbytes)))
    }
}

#[derive(Debug, Deserialize)]
struct RequestFilter {
    method: Option<String>,
    path_prefix: Option<String>,
}

fn control_router(harness: Harness) -> Router {
    let oauth = harness.control.oauth().map(OAuthServer::control_router).unwrap_or_default();
    Router::new()
        .route("/_sandbox/state", get(state))
        .route("/_sandbox/requests", get(requests).delete(clear_requests))
        .route("/_sandbox/reset", post(reset))
        .route("/_sandbox/seed", post(seed))
        .route("/_sandbox/media/{name}", get(super::media::media).head(super::media::media_head))
        .route("/_sandbox/faults", get(faults).post(add_fault).delete(clear_faults))
        .with_state(harness.clone())
        .merge(harness.control.control_routes())
        .merge(oauth)
}

async fn state(State(h): State<Harness>) -> Json<Value> {
    Json(h.control.snapshot())
}

async fn requests(State(h): State<Harness>, Query(f): Query<RequestFilter>) -> Json<Value> {
    let records: Vec<RequestRecord> = h
        .journal
        .records()
        .into_iter()
        .filter(|r| f.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(&r.method)))
        .filter(|r| f.path_prefix.as_deref().is_none_or(|p| r.path.starts_with(p)))
        .collect();
    Json(json!({ "requests": records }))
}

async fn clear_requests(State(h): State<Harness>) -> StatusCode {
    h.journal.clear();
    StatusCode::NO_CONTENT
}

async fn reset(State(h): State<Harness>) -> StatusCode {
    h.reset();
    StatusCode::NO_CONTENT
}

async fn seed(State(h): State<Harness>, body: axum::body::Bytes) -> Response {
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return (StatusCode::BAD_REQUEST, Json(json!({ "error": e.to_string() }))).into_response();
        }
    };
    match h.control.seed(value) {
        Ok(()) => Json(h.control.snapshot()).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({ "error": e }))).into_response(),
    }
}

async fn faults(State(h): State<Harness>) -> Json<Value> {
    Json(json!({ "faults": h.faults.list() }))
}

async fn add_fault(State(h): State<Harness>, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<Fault>(&body) {
        Ok(fault) => {
            h.add_fault(fault);
            Json(json!({ "faults": h.faults.list() })).into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({ "error": e.to_string() }))).into_response(),
    }
}

async fn clear_faults(State(h): State<Harness>) -> StatusCode {
    h.faults.clear();
    h.control.configure(&Fault { foreign_usage_per_window: Some(0), ..Fault::default() });
    StatusCode::NO_CONTENT
}

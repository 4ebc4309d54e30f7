//! Emulator of the generic notes API the reference plugin (`plugins/example`)
//! writes to: `POST /notes` stores a note, `GET /notes?external_id=` finds
//! notes by their idempotency key. Bearer auth. It stands for "any CRM with a
//! notes endpoint", so the reference plugin can be shown end to end.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::common::Control;
use crate::common::auth::{Presented, presented};
use crate::common::state::{EmulatorState, StateCell, StateControl};

/// A stored note.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Note {
    /// Id given by the emulator.
    pub id: u64,
    /// The body as posted.
    pub body: Value,
}

/// The notes API's state.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NotesState {
    /// Notes in arrival order.
    pub notes: Vec<Note>,
}

/// Notes to add.
#[derive(Debug, Default, Deserialize)]
pub struct NotesSeed {
    /// Note bodies.
    #[serde(default)]
    pub notes: Vec<Value>,
}

impl EmulatorState for NotesState {
    type Seed = NotesSeed;
    fn add(&mut self, seed: NotesSeed) {
        for body in seed.notes {
            let id = self.notes.len() as u64 + 1;
            self.notes.push(Note { id, body });
        }
    }
}

/// Handle on the notes emulator.
#[derive(Clone)]
pub struct Notes {
    inner: Arc<Inner>,
}

struct Inner {
    state: StateCell<NotesState>,
    tokens: Vec<String>,
}

impl Notes {
    /// Builds the emulator accepting these bearer tokens.
    pub fn new(_base: &str, tokens: Vec<String>) -> (Self, Router) {
        let api = Self { inner: Arc::new(Inner { state: StateCell::new(NotesState::default()), tokens }) };
        let router = Router::new()
            .route("/notes", get(find).post(create))
            .fallback(|| async { (StatusCode::NOT_FOUND, Json(json!({ "error": "not found" }))) })
            .with_state(api.clone());
        (api, router)
    }

    /// A copy of the state.
    pub fn state(&self) -> NotesState {
        self.inner.state.get()
    }

    /// Bearer tokens accepted.
    pub fn tokens(&self) -> &[String] {
        &self.inner.tokens
    }
}

async fn create(State(api): State<Notes>, body: axum::body::Bytes) -> Response {
    let Ok(body @ Value::Object(_)) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": "body must be a JSON object" }))).into_response();
    };
    let note = api.inner.state.update(|s| {
        let note = Note { id: s.notes.len() as u64 + 1, body };
        s.notes.push(note.clone());
        note
    });
    (StatusCode::CREATED, Json(json!({ "id": note.id, "note": note.body }))).into_response()
}

async fn find(State(api): State<Notes>, Query(q): Query<std::collections::HashMap<String, String>>) -> Json<Value> {
    let key = q.get("external_id").cloned().unwrap_or_default();
    let notes: Vec<Value> = api.state().notes.into_iter().filter(|n| n.body["external_id"] == key.as_str()).map(|n| n.body).collect();
    Json(json!({ "notes": notes }))
}

impl Control for Notes {
    fn state(&self) -> &dyn StateControl {
        &self.inner.state
    }

    fn error(&self, status: StatusCode, message: &str) -> Response {
        (status, Json(json!({ "error": message }))).into_response()
    }

    #[allow(clippy::result_large_err)]
    fn gate(&self, parts: &Parts) -> Result<(), Response> {
        match presented(&parts.headers) {
            Presented::Bearer(t) if self.inner.tokens.contains(&t) => Ok(()),
            Presented::Missing => Err(self.error(StatusCode::UNAUTHORIZED, "missing bearer token")),
            _ => Err(self.error(StatusCode::UNAUTHORIZED, "invalid token")),
        }
    }
}

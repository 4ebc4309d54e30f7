//! `POST /webhooks/aircall`: verify, bound, parse, store durably, then answer.
//!
//! A known event whose `data` is not the documented object (a message without
//! `id`, a `direction` other than inbound/outbound, a call id of 0…) is refused
//! at the door with 400 and the field path (`data.id: missing`), counted as
//! `outcome="invalid_data"`, and neither stored nor dispatched. Nothing is
//! lost that way: Aircall keeps retrying a refused delivery (reference §2.4),
//! and the operator sees the reason in the metrics and the log, whereas a
//! guessed default would key plugin records wrongly for good. Unknown events
//! are still stored and acknowledged without dispatch.
//!
//! A body that names one key twice in an object (`{"event": "call.created",
//! "event": "call.ended"}`, or twice `id` in `data`) is refused with 400 naming
//! the key: JSON parsers disagree on which one wins (serde_json keeps the
//! last), so the host cannot know which the sender meant.

use super::AppState;
use super::admit::Admission;
use crate::aircall::{Envelope, ParsedEvent};
use crate::store::{IngestOutcome, NewJob, Origin};
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Instant;
use subtle::ConstantTimeEq;

fn reply(state: &AppState, outcome: &str, status: StatusCode, body: Value) -> Response {
    state.metrics.webhook(outcome);
    (status, axum::Json(body)).into_response()
}

fn error(state: &AppState, outcome: &str, status: StatusCode, message: String) -> Response {
    reply(state, outcome, status, json!({ "error": message }))
}

/// The account whose webhook token this is. Every account is compared, in
/// constant time over equal-length digests, so timing says nothing about tokens.
pub fn account_for_token<'a>(accounts: &'a [(String, [u8; 32])], token: &str) -> Option<&'a str> {
    let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    let mut found = None;
    for (id, expected) in accounts {
        if bool::from(digest.ct_eq(expected)) {
            found = Some(id.as_str());
        }
    }
    found
}

/// Aircall's event when an admin uninstalls the app (aircall-api.md §3).
const UNINSTALLED: &str = "integration.deleted";

/// Handle one webhook.
pub async fn receive(State(state): State<AppState>, body: Result<Bytes, BytesRejection>) -> Response {
    let started = Instant::now();
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return error(
                &state,
                "too_large",
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("body larger than {} bytes", state.config.server.max_body_bytes),
            );
        }
        Err(e) => return error(&state, "bad_request", e.status(), e.body_text()),
    };
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return error(&state, "malformed", StatusCode::BAD_REQUEST, format!("body is not JSON: {e}"));
        }
    };
    if let Some(key) = first_duplicate_key(&body) {
        return error(&state, "malformed", StatusCode::BAD_REQUEST, format!("duplicate key `{key}`: a JSON object may name each key once"));
    }
    let Some(obj) = value.as_object() else {
        return error(&state, "malformed", StatusCode::BAD_REQUEST, "body is not a JSON object".into());
    };
    let Some(token) = obj.get("token").and_then(Value::as_str) else {
        return error(&state, "unauthorized", StatusCode::UNAUTHORIZED, "missing `token`".into());
    };
    let account = match account_for_token(&state.registry.accounts().tokens(), token) {
        Some(a) => a.to_string(),
        // Accounts connected by installing the app: the webhook the install created.
        None => match state.connections.webhook_account(token).await {
            Some(a) => a,
            None => return error(&state, "unauthorized", StatusCode::UNAUTHORIZED, "unknown webhook token".into()),
        },
    };
    match obj.get("event") {
        Some(Value::String(s)) if !s.is_empty() => {}
        Some(_) => {
            return error(&state, "malformed", StatusCode::BAD_REQUEST, "`event` must be a non-empty string".into());
        }
        None => {
            return error(&state, "malformed", StatusCode::BAD_REQUEST, "missing `event`".into());
        }
    }
    let envelope: Envelope = match serde_json::from_value(value.clone()) {
        Ok(e) => e,
        Err(e) => {
            return error(&state, "malformed", StatusCode::BAD_REQUEST, format!("not an Aircall webhook envelope: {e}"));
        }
    };
    if envelope.event == UNINSTALLED {
        // The admin uninstalled the app: the account is revoked and its
        // integrations hold their events until it is installed again.
        if let Err(e) = state.connections.aircall_uninstalled(&account).await {
            tracing::warn!(%account, error = %e, "integration.deleted for an account not connected by OAuth");
        }
    }
    let parsed = match ParsedEvent::parse(&envelope.event, &envelope.data) {
        Ok(parsed) => parsed,
        Err(e) => {
            tracing::warn!(event = %envelope.event, error = %e, "webhook refused: data is not the documented object");
            return error(&state, "invalid_data", StatusCode::BAD_REQUEST, e.to_string());
        }
    };
    let admission = Admission {
        account: &account,
        event_name: &envelope.event,
        body: String::from_utf8_lossy(&body).into_owned(),
        parsed: parsed.as_ref(),
        origin: Origin::Webhook,
        only: None,
    };
    let outcome = state.admit(admission).await;
    state.metrics.ack_latency(started.elapsed());
    match outcome {
        Ok(IngestOutcome::Accepted { event_id, jobs, already_logged }) => {
            let (label, note) = match (&parsed, already_logged.is_empty()) {
                (None, _) => ("not_dispatched", Some(format!("unknown event {:?}", envelope.event))),
                (Some(_), false) => ("accepted", Some(format!("already logged for {}", already_logged.join(", ")))),
                (Some(_), true) => ("accepted", None),
            };
            reply(&state, label, StatusCode::OK, json!({ "status": label, "event_id": event_id, "jobs": jobs.len(), "note": note }))
        }
        Ok(IngestOutcome::Duplicate { event_id }) => {
            reply(&state, "duplicate", StatusCode::OK, json!({ "status": "duplicate", "event_id": event_id }))
        }
        Err(e) => {
            tracing::error!(error = %e, "webhook not stored");
            error(&state, "store_error", StatusCode::SERVICE_UNAVAILABLE, "could not store the event; retry".into())
        }
    }
}

/// The path of the first key an object of this JSON document names twice
/// (`event`, `data.id`, `data.tags[0].name`), if any. `body` must already be
/// known to be JSON; a parse failure here reports no duplicate.
pub fn first_duplicate_key(body: &[u8]) -> Option<String> {
    use serde::Deserializer as _;
    let mut de = serde_json::Deserializer::from_slice(body);
    de.deserialize_any(DuplicateFinder { path: String::new() }).ok().flatten()
}

/// Walks a JSON value, remembering the path, and returns the first duplicate.
struct DuplicateFinder {
    path: String,
}

impl DuplicateFinder {
    fn child(&self, key: &str) -> DuplicateFinder {
        let path = if self.path.is_empty() { key.to_string() } else { format!("{}.{key}", self.path) };
        DuplicateFinder { path }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for DuplicateFinder {
    type Value = Option<String>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for DuplicateFinder {
    type Value = Option<String>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seen = std::collections::HashSet::new();
        let mut found = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let child = self.child(&key);
            if found.is_none() && !seen.insert(key.into_owned()) {
                found = Some(child.path.clone());
            }
            let inner = map.next_value_seed(child)?;
            found = found.or(inner);
        }
        Ok(found)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        let mut i = 0usize;
        while let Some(inner) = seq.next_element_seed(DuplicateFinder { path: format!("{}[{i}]", self.path) })? {
            found = found.or(inner);
            i += 1;
        }
        Ok(found)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i128<E>(self, _: i128) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u128<E>(self, _: u128) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// The configured numbers of an integration, for filtering.
#[derive(Debug, Clone, Default)]
pub struct NumberFilter {
    ids: Vec<u64>,
    digits: Vec<String>,
}

fn digits_only(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_digit()).collect()
}

impl NumberFilter {
    /// From the configuration's `numbers`.
    pub fn new(refs: &[crate::config::NumberRef]) -> NumberFilter {
        let mut f = NumberFilter::default();
        for r in refs {
            match r {
                crate::config::NumberRef::Id(id) => f.ids.push(*id),
                crate::config::NumberRef::Digits(d) => {
                    let e164 = match switchboard_phone::normalize(d, None) {
                        Ok(switchboard_phone::Normalized::Number(n)) => n,
                        _ => d.clone(),
                    };
                    f.digits.push(digits_only(&e164));
                }
            }
        }
        f
    }

    /// Whether an event on this number passes. Events on no number pass.
    pub fn matches(&self, number: Option<crate::aircall::model::NumberKey<'_>>) -> bool {
        if self.ids.is_empty() && self.digits.is_empty() {
            return true;
        }
        let Some(n) = number else { return true };
        n.id.is_some_and(|id| self.ids.contains(&id)) || n.digits.is_some_and(|d| self.digits.contains(&digits_only(d)))
    }
}

/// The effective configuration with the number filter of each of its
/// integrations, in the same order.
pub struct Filtered {
    /// The effective configuration they were built from.
    pub config: Arc<crate::config::Config>,
    /// One per `config.integrations[i]`.
    pub filters: Vec<NumberFilter>,
}

/// The number filters of the effective configuration, built once per
/// configuration (the phone engine normalises digit filters) and again when
/// the configuration is swapped.
#[derive(Default)]
pub struct NumberFilters(arc_swap::ArcSwapOption<Filtered>);

impl NumberFilters {
    /// The filters of `config` (the current effective configuration).
    pub fn of(&self, config: Arc<crate::config::Config>) -> Arc<Filtered> {
        if let Some(f) = self.0.load_full().filter(|f| Arc::ptr_eq(&f.config, &config)) {
            return f;
        }
        let filters = config.integrations.iter().map(|i| NumberFilter::new(&i.numbers)).collect();
        let built = Arc::new(Filtered { config, filters });
        self.0.store(Some(built.clone()));
        built
    }
}

impl AppState {
    /// The effective configuration and its integrations' number filters.
    pub fn filtered(&self) -> Arc<Filtered> {
        self.filters.of(self.live.load())
    }

    /// One job per enabled integration of the account whose number filter
    /// matches, each in the lane of the event's external party
    /// ([`crate::queue::lane`]).
    pub fn fan_out(&self, account: &str, parsed: &ParsedEvent) -> Vec<NewJob> {
        let number = parsed.number();
        let filtered = self.filtered();
        filtered
            .config
            .integrations
            .iter()
            .zip(filtered.filters.iter())
            .filter(|(i, f)| i.enabled && i.account == account && f.matches(number))
            .map(|(i, _)| NewJob {
                integration: i.id.clone(),
                ordering_key: crate::queue::lane::lane_key(parsed, i.default_region.as_deref(), &self.call_parties),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::first_duplicate_key;

    /// The fuzz target's seeds and kept findings (`fuzz/corpus/webhook`),
    /// through the same steps on the stable toolchain, so a case kept there
    /// runs with every `cargo test`: each seed is a documented webhook the
    /// host dispatches, with its lane and contract event.
    #[test]
    fn the_fuzz_corpus_of_webhooks_goes_through_without_a_panic() {
        use crate::aircall::model::{Envelope, ParsedEvent};
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/webhook");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let body = std::fs::read(&path).unwrap();
            assert_eq!(first_duplicate_key(&body), None, "{}", path.display());
            let envelope: Envelope = serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let parsed = ParsedEvent::parse(&envelope.event, &envelope.data).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let parsed = parsed.unwrap_or_else(|| panic!("{}: {} is not dispatched", path.display(), envelope.event));
            let calls = crate::queue::lane::CallParties::default();
            assert!(!crate::queue::lane::lane_key(&parsed, Some("FR"), &calls).is_empty(), "{}", path.display());
            let _ = crate::contract::convert::event(&parsed);
            seen += 1;
        }
        assert!(seen >= 10, "only {seen} seeds in {}", dir.display());
    }

    #[test]
    fn duplicate_keys_are_found_with_their_path() {
        assert_eq!(first_duplicate_key(br#"{"event":"a","event":"b"}"#), Some("event".into()));
        assert_eq!(first_duplicate_key(br#"{"event":"a","data":{"id":1,"x":{},"id":2}}"#), Some("data.id".into()));
        assert_eq!(first_duplicate_key(br#"{"data":{"tags":[{"n":1},{"n":1,"n":2}]}}"#), Some("data.tags[1].n".into()));
        assert_eq!(first_duplicate_key(br#"{"event":"a","data":{"id":1,"event":"b","s":"\"id\""}}"#), None);
    }
}

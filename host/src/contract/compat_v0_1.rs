//! Serving plugins built against `switchboard:plugin@0.1.0`.
//!
//! The host implements every capability once, on the newest contract's types
//! ([`super::bindings`]). This adapter implements the v0.1.0 imports on the same
//! [`JobState`] by converting each call to the newest types and each answer
//! back, and converts what the host hands a v0.1.0 plugin (event, contexts) the
//! other way. v0.1.0 is frozen, so this file only changes when a newer version
//! changes a type that v0.1.0 also has.
//!
//! What v0.1.0 cannot express is mapped to what it had: events travel as tuples,
//! phone errors as their sentence, the integration's base URL as the
//! `base_url` setting (where v0.1.0 plugins read it), a request's context as an
//! `event-context` named `request`, and messages are sent without a sender user.
//!
//! Records whose shape is the same in both versions (call, message, contact...)
//! are converted through their serde form; the host's own types are the source,
//! so a failure there is a host bug, reported as a host error, never a guess.

use super::JobState;
use super::bindings::{v0_1, v0_2};
use serde::Serialize;
use serde::de::DeserializeOwned;
use v0_1::switchboard::plugin as old;
use v0_2::switchboard::plugin as new;

/// Converts a record to its namesake of the other version through its serde form.
fn transcode<A: Serialize, B: DeserializeOwned>(value: &A, what: &str) -> Result<B, String> {
    serde_json::to_value(value).and_then(serde_json::from_value).map_err(|e| format!("contract 0.1.0 adapter: {what}: {e}"))
}

fn capability_error(e: new::types::CapabilityError) -> old::types::CapabilityError {
    use new::types::CapabilityError as N;
    use old::types::CapabilityError as O;
    match e {
        N::Denied(m) => O::Denied(m),
        N::Invalid(m) => O::Invalid(m),
        N::NotFound(m) => O::NotFound(m),
        N::Unauthorized(m) => O::Unauthorized(m),
        N::RateLimited(ms) => O::RateLimited(ms),
        N::Unavailable(m) => O::Unavailable(m),
        N::Ambiguous(m) => O::Ambiguous(m),
    }
}

/// A host answer converted for a v0.1.0 plugin; a conversion failure is the host's.
fn answer<N: Serialize, O: DeserializeOwned>(r: Result<N, new::types::CapabilityError>, what: &str) -> Result<O, old::types::CapabilityError> {
    match r {
        Ok(v) => transcode(&v, what).map_err(old::types::CapabilityError::Unavailable),
        Err(e) => Err(capability_error(e)),
    }
}

/// A plugin's argument converted to the host's types; a failure is the plugin's.
fn argument<O: Serialize, N: DeserializeOwned>(value: &O, what: &str) -> Result<N, old::types::CapabilityError> {
    transcode(value, what).map_err(old::types::CapabilityError::Invalid)
}

fn setting_value(v: &new::types::SettingValue) -> old::types::SettingValue {
    use new::types::SettingValue as N;
    use old::types::SettingValue as O;
    match v {
        N::Text(s) => O::Text(s.clone()),
        N::Integer(i) => O::Integer(*i),
        N::Boolean(b) => O::Boolean(*b),
        N::Json(j) => O::Json(j.clone()),
    }
}

/// v0.1.0 plugins read the base URL from their settings.
fn settings(settings: &[(String, new::types::SettingValue)], base_url: Option<&String>) -> Vec<(String, old::types::SettingValue)> {
    let mut out: Vec<_> = settings.iter().map(|(k, v)| (k.clone(), setting_value(v))).collect();
    if let Some(base) = base_url
        && !out.iter().any(|(k, _)| k == "base_url")
    {
        out.push(("base_url".into(), old::types::SettingValue::Text(base.clone())));
    }
    out
}

/// The event context as v0.1.0 has it.
pub fn event_context(ctx: &new::types::EventContext) -> old::types::EventContext {
    old::types::EventContext {
        integration_id: ctx.integration_id.clone(),
        event_id: ctx.event_id.clone(),
        event_name: ctx.event_name.clone(),
        event_timestamp: ctx.event_timestamp,
        attempt: ctx.attempt,
        settings: settings(&ctx.settings, ctx.base_url.as_ref()),
        default_region: ctx.default_region.clone(),
        raw_data: ctx.raw_data.clone(),
    }
}

/// A request's context as v0.1.0 has it: an event context named `request`.
pub fn request_context(ctx: &new::types::RequestContext) -> old::types::EventContext {
    old::types::EventContext {
        integration_id: ctx.integration_id.clone(),
        event_id: ctx.request_id.clone(),
        event_name: "request".into(),
        event_timestamp: crate::clock::now_ms() / 1000,
        attempt: 1,
        settings: settings(&ctx.settings, ctx.base_url.as_ref()),
        default_region: ctx.default_region.clone(),
        raw_data: String::new(),
    }
}

/// The event as v0.1.0 has it: named records become tuples.
pub fn event(ev: &new::types::Event) -> Result<old::types::Event, String> {
    use new::types::Event as N;
    use old::types::Event as O;
    Ok(match ev {
        N::Call(e) => O::Call((transcode(&e.kind, "call kind")?, transcode(&e.call, "call")?)),
        N::Message(e) => O::Message((transcode(&e.kind, "message kind")?, transcode(&e.message, "message")?)),
        N::GroupMessage(e) => O::GroupMessage((transcode(&e.kind, "message kind")?, transcode(&e.message, "group message")?)),
        N::VoiceAgent(e) => O::VoiceAgent((transcode(&e.kind, "voice agent kind")?, transcode(&e.session, "voice agent session")?)),
        N::Intelligence(i) => O::Intelligence(transcode(i, "intelligence")?),
        N::Contact(e) => O::Contact((transcode(&e.kind, "contact kind")?, transcode(&e.contact, "contact")?)),
        N::User(e) => O::User((transcode(&e.kind, "user kind")?, transcode(&e.user, "user")?)),
        N::Number(e) => O::Number((transcode(&e.kind, "number kind")?, transcode(&e.number, "number")?)),
        N::IntegrationDeleted => O::IntegrationDeleted,
    })
}

/// A v0.1.0 plugin's error as the host's.
pub fn plugin_error(e: old::types::PluginError) -> new::types::PluginError {
    use new::types::PluginError as N;
    use old::types::PluginError as O;
    match e {
        O::Retryable(m) => N::Retryable(m),
        O::RateLimited(r) => N::RateLimited(new::types::RateLimit { retry_after_ms: r.retry_after_ms, reason: r.reason }),
        O::Permanent(m) => N::Permanent(m),
        O::Unauthorized(m) => N::Unauthorized(m),
    }
}

/// An incoming request as v0.1.0 has it.
pub fn request(r: &new::incoming::Request) -> old::incoming::Request {
    old::incoming::Request {
        method: r.method.clone(),
        path: r.path.clone(),
        query: r.query.clone(),
        headers: r.headers.clone(),
        body: r.body.clone(),
        url: r.url.clone(),
    }
}

/// A v0.1.0 plugin's answer as the host's.
pub fn response(r: old::incoming::Response) -> new::incoming::Response {
    new::incoming::Response { status: r.status, headers: r.headers, body: r.body }
}

impl old::types::Host for JobState {}
impl old::incoming::Host for JobState {}

impl old::http::Host for JobState {
    async fn send(&mut self, req: old::http::Request) -> Result<old::http::Response, old::types::CapabilityError> {
        use new::http::Method as N;
        use old::http::Method as O;
        let method = match req.method {
            O::Get => N::Get,
            O::Post => N::Post,
            O::Put => N::Put,
            O::Patch => N::Patch,
            O::Delete => N::Delete,
            O::Head => N::Head,
        };
        let req = new::http::Request { method, url: req.url, headers: req.headers, body: req.body, credential: req.credential, timeout_ms: req.timeout_ms };
        match self.caps.http_send(req).await {
            Ok(r) => Ok(old::http::Response { status: r.status, headers: r.headers, body: r.body }),
            Err(e) => Err(capability_error(e)),
        }
    }
}

impl old::storage::Host for JobState {
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, old::types::CapabilityError> {
        self.caps.storage_get(key).await.map_err(capability_error)
    }
    async fn set(&mut self, key: String, value: Vec<u8>, ttl: Option<u32>) -> Result<(), old::types::CapabilityError> {
        self.caps.storage_set(key, value, ttl).await.map_err(capability_error)
    }
    async fn delete(&mut self, key: String) -> Result<(), old::types::CapabilityError> {
        self.caps.storage_delete(key).await.map_err(capability_error)
    }
    async fn compare_and_swap(
        &mut self,
        key: String,
        expected: Option<Vec<u8>>,
        new: Option<Vec<u8>>,
        ttl: Option<u32>,
    ) -> Result<bool, old::types::CapabilityError> {
        self.caps.storage_cas(key, expected, new, ttl).await.map_err(capability_error)
    }
}

impl old::telephony::Host for JobState {
    async fn push_insight_card(&mut self, call_id: u64, items: Vec<old::telephony::CardItem>) -> Result<(), old::types::CapabilityError> {
        let items = argument(&items, "card items")?;
        self.caps.telephony_push_card(call_id, items).await.map_err(capability_error)
    }
    async fn find_contacts_by_phone(&mut self, e164: String) -> Result<Vec<old::types::Contact>, old::types::CapabilityError> {
        answer(self.caps.telephony_find_contacts("phone_number", e164).await, "contacts")
    }
    async fn find_contacts_by_email(&mut self, email: String) -> Result<Vec<old::types::Contact>, old::types::CapabilityError> {
        answer(self.caps.telephony_find_contacts("email", email).await, "contacts")
    }
    async fn create_contact(&mut self, fields: old::telephony::ContactFields) -> Result<old::types::Contact, old::types::CapabilityError> {
        let fields = argument(&fields, "contact fields")?;
        answer(self.caps.telephony_save_contact(None, fields).await, "contact")
    }
    async fn update_contact(&mut self, id: u64, fields: old::telephony::ContactFields) -> Result<old::types::Contact, old::types::CapabilityError> {
        let fields = argument(&fields, "contact fields")?;
        answer(self.caps.telephony_save_contact(Some(id), fields).await, "contact")
    }
    async fn send_message(
        &mut self,
        number_id: u64,
        to: String,
        body: String,
        media_urls: Vec<String>,
    ) -> Result<old::telephony::SentMessage, old::types::CapabilityError> {
        let message = new::telephony::OutgoingMessage { number_id, to, body, media_urls, sender_user_id: None };
        answer(self.caps.telephony_send_message(message).await, "sent message")
    }
    async fn start_outbound_call(&mut self, user_id: u64, number_id: u64, to: String) -> Result<(), old::types::CapabilityError> {
        self.caps.telephony_start_call(user_id, number_id, to).await.map_err(capability_error)
    }
    async fn find_user_by_email(&mut self, email: String) -> Result<Option<old::types::User>, old::types::CapabilityError> {
        answer(self.caps.telephony_find_user(email).await, "user")
    }
    async fn user_availability(&mut self, user_id: u64) -> Result<String, old::types::CapabilityError> {
        self.caps.telephony_availability(user_id).await.map_err(capability_error)
    }
    async fn get_number(&mut self, number_id: u64) -> Result<old::types::Number, old::types::CapabilityError> {
        answer(self.caps.telephony_number(number_id).await, "number")
    }
    async fn number_users(&mut self, number_id: u64) -> Result<Vec<old::types::User>, old::types::CapabilityError> {
        answer(self.caps.telephony_number_users(number_id).await, "users")
    }
    async fn list_numbers(&mut self) -> Result<Vec<old::types::Number>, old::types::CapabilityError> {
        answer(self.caps.telephony_numbers().await, "numbers")
    }
}

impl old::phone::Host for JobState {
    async fn normalize(&mut self, raw: String, region: Option<String>) -> Result<old::phone::Normalized, String> {
        match crate::capabilities::phone::normalize(&raw, region.as_deref()) {
            Ok(new::phone::Normalized::Number(n)) => Ok(old::phone::Normalized::Number(n)),
            Ok(new::phone::Normalized::Anonymous) => Ok(old::phone::Normalized::Anonymous),
            Err(e) => Err(e.text),
        }
    }
    async fn variants(&mut self, e164: String) -> Result<Vec<String>, String> {
        crate::capabilities::phone::variants(&e164).map_err(|e| e.text)
    }
    async fn format(&mut self, e164: String, style: old::phone::Style) -> Result<String, String> {
        let style = match style {
            old::phone::Style::E164 => new::phone::Style::E164,
            old::phone::Style::International => new::phone::Style::International,
            old::phone::Style::National => new::phone::Style::National,
            old::phone::Style::Rfc3966 => new::phone::Style::Rfc3966,
        };
        crate::capabilities::phone::format(&e164, style).map_err(|e| e.text)
    }
    async fn region_of(&mut self, e164: String) -> Option<String> {
        crate::capabilities::phone::region_of(&e164)
    }
}

impl old::log::Host for JobState {
    async fn write(&mut self, level: old::log::Level, message: String, fields: Vec<(String, String)>) {
        let level = match level {
            old::log::Level::Trace => new::log::Level::Trace,
            old::log::Level::Debug => new::log::Level::Debug,
            old::log::Level::Info => new::log::Level::Info,
            old::log::Level::Warn => new::log::Level::Warn,
            old::log::Level::Error => new::log::Level::Error,
        };
        self.caps.log(level, message, fields);
    }
}

impl old::clock::Host for JobState {
    async fn now_ms(&mut self) -> i64 {
        self.caps.clock_now().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call() -> new::types::Call {
        new::types::Call {
            id: 7,
            uuid: Some("CA1".into()),
            direct_link: None,
            direction: new::types::Direction::Outbound,
            status: new::types::CallStatus::Done,
            missed_call_reason: None,
            started_at: Some(1),
            answered_at: None,
            ended_at: Some(9),
            duration: Some(8),
            raw_digits: "+33 6 12 34 56 78".into(),
            voicemail: None,
            recording: None,
            asset: None,
            archived: false,
            number: None,
            user: None,
            contact: None,
            assigned_to: None,
            teams: vec![],
            transferred_by: None,
            transferred_to: None,
            external_transferred_to: None,
            comments: vec![],
            tags: vec![new::types::Tag { id: 3, name: "VIP".into(), color: None, tagged_at: Some(5), tagged_by: None }],
            participants: vec![],
            ivr_options: vec![new::types::IvrOption { id: None, title: Some("Sales".into()), key: Some("1".into()), branch: None, created_at: None }],
        }
    }

    #[test]
    fn a_call_event_reaches_a_v0_1_plugin_as_a_tuple_with_every_field() {
        let ev = new::types::Event::Call(new::types::CallEvent { kind: new::types::CallEventKind::Ended, call: call() });
        let Ok(old::types::Event::Call((kind, c))) = event(&ev) else { panic!("not a call event") };
        assert_eq!(kind, old::types::CallEventKind::Ended);
        assert_eq!((c.id, c.direction, c.status), (7, old::types::Direction::Outbound, old::types::CallStatus::Done));
        assert_eq!(c.tags[0].name, "VIP");
        assert_eq!(c.ivr_options[0].key.as_deref(), Some("1"));
    }

    #[test]
    fn v0_1_plugins_find_the_base_url_in_their_settings() {
        let ctx = new::types::EventContext {
            integration_id: "i".into(),
            event_id: "1".into(),
            event_name: "call.ended".into(),
            event_timestamp: 0,
            attempt: 1,
            settings: vec![("x".into(), new::types::SettingValue::Boolean(true))],
            default_region: None,
            base_url: Some("https://api.example.com".into()),
            raw_data: "{}".into(),
        };
        let old = event_context(&ctx);
        assert!(old.settings.iter().any(|(k, v)| k == "base_url" && matches!(v, old::types::SettingValue::Text(u) if u == "https://api.example.com")));
        assert!(old.settings.iter().any(|(k, _)| k == "x"));
    }
}

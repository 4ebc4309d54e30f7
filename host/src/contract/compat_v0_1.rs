//! Serving plugins built against `switchboard:plugin@0.1.0`.
//!
//! The host implements every capability once, on the newest contract's types
//! ([`super::bindings`]). This adapter converts between the two versions: what
//! the host hands a v0.1.0 plugin (event, contexts, requests) down to v0.1.0,
//! and each v0.1.0 import call's arguments up to the newest types and its
//! answer back (the import traits themselves are implemented on the job's state
//! in `runtime::compat_host`, with these conversions). v0.1.0 is frozen, so this file only changes when a newer version
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

use super::bindings::{v0_1, v0_2};
use serde::Serialize;
use serde::de::DeserializeOwned;
/// The v0.1.0 interfaces.
pub use v0_1::switchboard::plugin as old;
/// The newest interfaces.
pub use v0_2::switchboard::plugin as new;

/// Converts a record to its namesake of the other version through its serde form.
pub fn transcode<A: Serialize, B: DeserializeOwned>(value: &A, what: &str) -> Result<B, String> {
    serde_json::to_value(value).and_then(serde_json::from_value).map_err(|e| format!("contract 0.1.0 adapter: {what}: {e}"))
}

/// A capability error as v0.1.0 spells it (the same seven cases).
pub fn capability_error(e: new::types::CapabilityError) -> old::types::CapabilityError {
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
pub fn answer<N: Serialize, O: DeserializeOwned>(
    r: Result<N, new::types::CapabilityError>,
    what: &str,
) -> Result<O, old::types::CapabilityError> {
    match r {
        Ok(v) => transcode(&v, what).map_err(old::types::CapabilityError::Unavailable),
        Err(e) => Err(capability_error(e)),
    }
}

/// A plugin's argument converted to the host's types; a failure is the plugin's.
pub fn argument<O: Serialize, N: DeserializeOwned>(value: &O, what: &str) -> Result<N, old::types::CapabilityError> {
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
            ivr_options: vec![new::types::IvrOption {
                id: None,
                title: Some("Sales".into()),
                key: Some("1".into()),
                branch: None,
                created_at: None,
            }],
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
        assert!(
            old.settings
                .iter()
                .any(|(k, v)| k == "base_url" && matches!(v, old::types::SettingValue::Text(u) if u == "https://api.example.com"))
        );
        assert!(old.settings.iter().any(|(k, _)| k == "x"));
    }
}

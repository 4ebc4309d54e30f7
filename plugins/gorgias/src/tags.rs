//! Which tags a ticket gets (seed: "Tag-Synchronisierung für Anrufe" and "… für Messaging").

use crate::settings::TagChoice;
use switchboard_sdk::{Call, CallStatus, Direction, Message};

/// After the first call.
pub const AIRCALL: &str = "Aircall";
/// Inbound calls.
pub const INBOUND: &str = "Inbound call";
/// Outbound calls.
pub const OUTBOUND: &str = "Outbound call";
/// A voicemail was left.
pub const VOICEMAIL: &str = "Voicemail";
/// The customer asked to be called back.
pub const CALLBACK_REQUEST: &str = "Callback request";
/// A customer who asked for a callback was called back.
pub const CALLED_BACK: &str = "Called back";
/// Nobody answered an inbound call.
pub const MISSED: &str = "Missed call";
/// SMS conversations.
pub const SMS: &str = "Aircall SMS";

/// Tag names are case-sensitive in Gorgias and at most 256 characters (§1.9).
fn clean(name: &str) -> Option<String> {
    let n: String = name.trim().chars().filter(|c| !c.is_control()).take(256).collect();
    (!n.is_empty()).then_some(n)
}

/// Add `names` to `list`, keeping order and skipping duplicates.
pub fn push_all(list: &mut Vec<String>, names: impl IntoIterator<Item = String>) {
    for n in names.into_iter().filter_map(|n| clean(&n)) {
        if !list.contains(&n) {
            list.push(n);
        }
    }
}

/// `want` minus what the ticket already has.
pub fn missing(have: &[String], want: &[String]) -> Vec<String> {
    want.iter().filter(|w| !have.contains(w)).cloned().collect()
}

/// An inbound call that ended without being answered.
pub fn is_missed(call: &Call) -> bool {
    call.direction == Direction::Inbound && call.answered_at.is_none() && call.status == CallStatus::Done
}

/// A callback request: an IVR choice or an Aircall tag names one of the markers.
/// [U] Aircall's API has no callback-request field; the markers are a setting.
pub fn is_callback_request(call: &Call, markers: &[String]) -> bool {
    let hit = |s: &str| {
        let s = s.to_lowercase();
        markers.iter().any(|m| s.contains(m.as_str()))
    };
    call.direction == Direction::Inbound
        && (call.ivr_options.iter().any(|o| [&o.title, &o.branch].into_iter().flatten().any(|s| hit(s)))
            || call.tags.iter().any(|t| hit(&t.name)))
}

/// The tags a call's ticket should carry now.
pub fn for_call(call: &Call, choice: &TagChoice, callback_request: bool, called_back: bool) -> Vec<String> {
    let mut out = Vec::new();
    if choice.aircall {
        push_all(&mut out, [AIRCALL.to_string()]);
    }
    if choice.direction {
        push_all(&mut out, [if call.direction == Direction::Inbound { INBOUND } else { OUTBOUND }.to_string()]);
    }
    if choice.agent_tags {
        push_all(&mut out, call.tags.iter().map(|t| t.name.clone()));
    }
    if choice.number {
        push_all(&mut out, call.number.iter().map(|n| n.name.clone()));
    }
    if choice.team {
        push_all(&mut out, call.teams.iter().map(|t| t.name.clone()));
    }
    if choice.voicemail && call.voicemail.as_deref().is_some_and(|v| !v.trim().is_empty()) {
        push_all(&mut out, [VOICEMAIL.to_string()]);
    }
    if choice.callback && callback_request {
        push_all(&mut out, [CALLBACK_REQUEST.to_string()]);
    }
    if choice.callback && called_back {
        push_all(&mut out, [CALLED_BACK.to_string()]);
    }
    if choice.missed && is_missed(call) {
        push_all(&mut out, [MISSED.to_string()]);
    }
    out
}

/// The tags of an SMS conversation's ticket.
pub fn for_message(msg: &Message, choice: &TagChoice) -> Vec<String> {
    let mut out = Vec::new();
    if choice.sms {
        push_all(&mut out, [SMS.to_string()]);
    }
    if choice.number {
        push_all(&mut out, msg.number.iter().map(|n| n.name.clone()));
    }
    out
}

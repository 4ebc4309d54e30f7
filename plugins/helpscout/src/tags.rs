//! Tags (seed: "Tagging"). Help Scout's tag endpoint replaces the whole set
//! (§2.8), so every change is read (the conversation's current tags, which
//! agents may have edited) → modify → write, and only when something changed.
//!
//! Operational tags, always sent: missed call, callback, voicemail, call in
//! progress (while the call runs), the number's name, inbound / outbound, the
//! agent's team. The agent's Aircall tags: those added during the call appear
//! when it ends; those added afterwards within seconds (`call.tagged`).

use crate::api::Client;
use switchboard_sdk::tag_set::TagSet;
use switchboard_sdk::{Call, Direction, PluginError};

/// The call was missed by an agent or a queue.
pub const MISSED: &str = "missed call";
/// The customer asked to be called back.
pub const CALLBACK: &str = "callback";
/// The customer left a voicemail.
pub const VOICEMAIL: &str = "voicemail";
/// The call is running.
pub const IN_PROGRESS: &str = "call in progress";
/// Inbound call or message.
pub const INBOUND: &str = "inbound";
/// Outbound call or message.
pub const OUTBOUND: &str = "outbound";
/// Calls an AI voice agent handled.
pub const VOICE_AGENT: &str = "Voice Virtual Agent";

/// `inbound` / `outbound`.
pub fn direction(d: Direction) -> &'static str {
    match d {
        Direction::Inbound => INBOUND,
        Direction::Outbound => OUTBOUND,
    }
}

/// The tags that describe a call whatever its state: number name, direction, teams.
fn describing(call: &Call) -> Vec<String> {
    let mut t = Vec::new();
    if let Some(n) = call.number.as_ref().map(|n| n.name.trim()).filter(|n| !n.is_empty()) {
        t.push(n.to_string());
    }
    t.push(direction(call.direction).to_string());
    t.extend(call.teams.iter().map(|team| team.name.trim().to_string()).filter(|n| !n.is_empty()));
    t
}

/// Whether the customer asked for a callback. [U] Aircall's webhook has no
/// callback field: an IVR choice whose title or branch says "callback" (or
/// "call back", "rappel") counts.
pub fn callback_requested(call: &Call) -> bool {
    call.ivr_options.iter().any(|o| {
        [o.title.as_deref(), o.branch.as_deref(), o.key.as_deref()].into_iter().flatten().any(|s| {
            let s = s.to_lowercase();
            s.contains("callback") || s.contains("call back") || s.contains("call-back") || s.contains("rappel")
        })
    })
}

/// Whether an inbound call was missed (nobody answered).
pub fn missed(call: &Call) -> bool {
    call.direction == Direction::Inbound && (call.answered_at.is_none() || call.missed_call_reason.is_some())
}

/// Tags of the first thread (the call is running).
pub fn at_answer(call: &Call) -> Vec<String> {
    let mut t = vec![IN_PROGRESS.to_string()];
    t.extend(describing(call));
    t
}

/// The agent's Aircall tags on the call.
pub fn user_tags(call: &Call) -> Vec<String> {
    TagSet::from_names(call.tags.iter().map(|t| t.name.as_str())).names().to_vec()
}

/// Tags once the call is over: the describing ones, missed / voicemail /
/// callback when they apply, and the agent's tags.
pub fn at_end(call: &Call) -> Vec<String> {
    let mut t = describing(call);
    if missed(call) {
        t.push(MISSED.into());
    }
    if call.voicemail.as_deref().is_some_and(|v| !v.trim().is_empty()) {
        t.push(VOICEMAIL.into());
    }
    if callback_requested(call) {
        t.push(CALLBACK.into());
    }
    t.extend(user_tags(call));
    t
}

/// Add and remove tags on a conversation. `current` is the set when the
/// caller just read it; otherwise it is read. Writes only on change.
pub fn update(
    client: &Client,
    conversation: u64,
    current: Option<Vec<String>>,
    add: &[String],
    remove: &[String],
) -> Result<(), PluginError> {
    let current = match current {
        Some(c) => c,
        None => client.conversation(conversation)?.tag_names(),
    };
    let before = TagSet::from_names(&current);
    let mut after = before.clone();
    for r in remove {
        after.remove(r);
    }
    for a in add {
        after.insert(a);
    }
    if !after.same_tags(&before) {
        client.put_tags(conversation, after.names())?;
    }
    Ok(())
}

/// What changes between the tags synced so far and the call's tags now.
pub fn diff(synced: &[String], now: &[String]) -> (Vec<String>, Vec<String>) {
    let (old, new) = (TagSet::from_names(synced), TagSet::from_names(now));
    let add = new.names().iter().filter(|n| !old.contains(n)).cloned().collect();
    let remove = old.names().iter().filter(|n| !new.contains(n)).cloned().collect();
    (add, remove)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_finds_added_and_removed() {
        let (a, r) = diff(&["vip".into(), "sales".into()], &["VIP".into(), "refund".into()]);
        assert_eq!(a, vec!["refund".to_string()]);
        assert_eq!(r, vec!["sales".to_string()]);
    }
}

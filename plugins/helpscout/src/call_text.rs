//! The text of call threads (HTML; every value from Aircall is escaped).
//!
//! - the first phone thread (on answer): direction, parties, line, agent, time;
//! - the wrap-up (on `call.ended`): duration, agent comments, recording and
//!   voicemail links, the agent's tags;
//! - a missed or unanswered call gets one phone thread with both.
//!
//! Each text ends with a reference line (`Aircall call 123 · answered`) that
//! also lets a retried job recognise a thread it already wrote.

use crate::party::Party;
use crate::rules;
use switchboard_sdk::html::{escape, link, paragraphs};
use switchboard_sdk::{Call, Direction, datetime};

/// The reference line of a call thread; `stage` is `answered`, `wrap-up`, …
pub fn marker(call_id: u64, stage: &str) -> String {
    format!("Aircall call {call_id} · {stage}")
}

fn footer(call_id: u64, stage: &str) -> String {
    format!("<br><small>{}</small>", escape(&marker(call_id, stage)))
}

/// `Support FR (+33 1 23 45 67 89)`.
fn line(call: &Call) -> String {
    match &call.number {
        Some(n) if !n.name.trim().is_empty() => {
            format!("{} ({})", escape(n.name.trim()), escape(n.digits.trim()))
        }
        Some(n) => escape(n.digits.trim()),
        None => "an Aircall number".into(),
    }
}

fn agent(call: &Call) -> Option<String> {
    call.user.as_ref().map(|u| escape(u.name.trim())).filter(|n| !n.is_empty())
}

/// "Inbound call from X to LINE" / "Outbound call from LINE to X".
fn heading(call: &Call, party: &Party) -> String {
    match call.direction {
        Direction::Inbound => format!("Inbound call from {} to {}", escape(&party.display), line(call)),
        Direction::Outbound => format!("Outbound call from {} to {}", line(call), escape(&party.display)),
    }
}

/// Subject of a conversation a call opens.
pub fn subject(call: &Call, party: &Party) -> String {
    match call.direction {
        Direction::Inbound => format!("Call from {}", party.display),
        Direction::Outbound => format!("Call to {}", party.display),
    }
}

/// The first thread, when the call is answered.
pub fn answered(call: &Call, party: &Party) -> String {
    let mut s = format!("<b>{}</b>", heading(call, party));
    if let Some(a) = agent(call) {
        s.push_str(&format!("<br>Answered by {a}"));
    }
    if let Some(t) = call.answered_at.or(call.started_at) {
        s.push_str(&format!(" at {}", datetime::display(t)));
    }
    if let Some(team) = call.teams.first() {
        s.push_str(&format!("<br>Team: {}", escape(&team.name)));
    }
    s.push_str(&footer(call.id, "answered"));
    s
}

/// Duration, comments, links and tags (shared by the wrap-up and missed-call threads).
fn details(call: &Call) -> String {
    let mut s = String::new();
    let talk = match (call.answered_at, call.ended_at) {
        (Some(a), Some(e)) if e >= a => Some((e - a) as u64),
        _ => None,
    };
    if let Some(d) = talk {
        s.push_str(&format!("<br>Talk time: {}", datetime::duration(d)));
    }
    if let Some(d) = call.duration {
        s.push_str(&format!("<br>Total duration: {}", datetime::duration(u64::from(d))));
    }
    if let Some(r) = call.missed_call_reason.as_deref().filter(|r| !r.is_empty()) {
        s.push_str(&format!("<br>Missed: {}", escape(&r.replace('_', " "))));
    }
    if let Some(to) = &call.transferred_to {
        s.push_str(&format!("<br>Transferred to {}", escape(&to.name)));
    }
    if rules::callback_requested(call) {
        s.push_str("<br>The caller asked to be called back.");
    }
    let comments: Vec<String> = call
        .comments
        .iter()
        .filter(|c| !c.content.trim().is_empty())
        .map(|c| match &c.posted_by {
            Some(u) => format!("<li>{}: {}</li>", escape(&u.name), paragraphs(&c.content)),
            None => format!("<li>{}</li>", paragraphs(&c.content)),
        })
        .collect();
    if !comments.is_empty() {
        s.push_str(&format!("<br>Comments:<ul>{}</ul>", comments.concat()));
    }
    if let Some(r) = call.recording.as_deref().filter(|r| !r.trim().is_empty()) {
        s.push_str(&format!("<br>Recording: {}", link(r, "listen")));
    }
    if let Some(v) = call.voicemail.as_deref().filter(|v| !v.trim().is_empty()) {
        s.push_str(&format!("<br>Voicemail: {}", link(v, "listen")));
    }
    if let Some(a) = call.asset.as_deref().filter(|a| !a.trim().is_empty()) {
        s.push_str(&format!("<br>In Aircall: {}", link(a, "call details")));
    }
    let user_tags = rules::user_tags(call);
    if !user_tags.is_empty() {
        s.push_str(&format!("<br>Tags: {}", escape(&user_tags.join(", "))));
    }
    s
}

/// The wrap-up thread after `call.ended`.
pub fn wrap_up(call: &Call, party: &Party) -> String {
    let mut s = format!("<b>Call ended</b> — {}", heading(call, party));
    if let Some(a) = agent(call) {
        s.push_str(&format!(", with {a}"));
    }
    s.push_str(&details(call));
    s.push_str(&footer(call.id, "wrap-up"));
    s
}

/// The single thread of a call nobody answered.
pub fn unanswered(call: &Call, party: &Party) -> String {
    let what = match call.direction {
        Direction::Inbound => "Missed call",
        Direction::Outbound => "Unanswered call",
    };
    let mut s = format!("<b>{what}</b> — {}", heading(call, party));
    if let Some(t) = call.started_at {
        s.push_str(&format!(" at {}", datetime::display(t)));
    }
    if let (Direction::Outbound, Some(a)) = (call.direction, agent(call)) {
        s.push_str(&format!(", by {a}"));
    }
    s.push_str(&details(call));
    s.push_str(&footer(call.id, "missed"));
    s
}

/// A note for something that arrived after the wrap-up (a late voicemail,
/// recording or comment).
pub fn late(call_id: u64, stage: &str, body: &str) -> String {
    format!("{body}{}", footer(call_id, stage))
}

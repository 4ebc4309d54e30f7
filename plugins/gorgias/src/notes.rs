//! The text of the internal notes (seed: "Automatisierte Ticket-Kommentare für Anrufe").

use crate::rules::call_agent as agent;
use crate::settings::Settings;
use switchboard_sdk::datetime::{display, duration};
use switchboard_sdk::{Call, Direction};

/// A note: a heading and label / value lines, rendered as text and HTML.
#[derive(Debug, Clone, Default)]
pub struct Note {
    /// The first line, in bold in the HTML.
    pub heading: String,
    /// `label: value` lines, in order.
    pub lines: Vec<(String, String)>,
    /// Free text after the lines (the agent's notes).
    pub paragraphs: Vec<String>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Link only what looks like a web address.
fn linkify(v: &str) -> String {
    if (v.starts_with("https://") || v.starts_with("http://")) && !v.contains(char::is_whitespace) {
        format!("<a href=\"{0}\">{0}</a>", escape(v))
    } else {
        escape(v)
    }
}

impl Note {
    /// A note with a heading.
    pub fn new(heading: impl Into<String>) -> Note {
        Note { heading: heading.into(), ..Note::default() }
    }

    /// Add a line (skipped when the value is empty).
    pub fn line(&mut self, label: &str, value: impl Into<String>) {
        let v: String = value.into();
        if !v.trim().is_empty() {
            self.lines.push((label.to_string(), v));
        }
    }

    /// The heading, `label: value` lines and paragraphs, one per line (the
    /// message's `body_text`).
    pub fn text(&self) -> String {
        let mut out = vec![self.heading.clone()];
        out.extend(self.lines.iter().map(|(l, v)| format!("{l}: {v}")));
        out.extend(self.paragraphs.iter().cloned());
        out.join("\n")
    }

    /// The same as HTML, values that are web addresses linked (the message's
    /// `body_html`).
    pub fn html(&self) -> String {
        let mut out = format!("<p><strong>{}</strong></p>", escape(&self.heading));
        if !self.lines.is_empty() {
            out.push_str("<ul>");
            for (l, v) in &self.lines {
                out.push_str(&format!("<li>{}: {}</li>", escape(l), linkify(v)));
            }
            out.push_str("</ul>");
        }
        for p in &self.paragraphs {
            out.push_str(&format!("<p>{}</p>", escape(p).replace('\n', "<br>")));
        }
        out
    }
}

fn direction(call: &Call) -> &'static str {
    match call.direction {
        Direction::Inbound => "Inbound",
        Direction::Outbound => "Outbound",
    }
}

fn aircall_number(call: &Call) -> String {
    call.number
        .as_ref()
        .map(|n| if n.name.trim().is_empty() { n.digits.clone() } else { format!("{} ({})", n.name, n.digits) })
        .unwrap_or_default()
}

fn ivr(call: &Call) -> String {
    call.ivr_options
        .iter()
        .map(|o| {
            let key = o.key.clone().unwrap_or_default();
            let title = o.title.clone().or_else(|| o.branch.clone()).unwrap_or_default();
            match (key.is_empty(), title.is_empty()) {
                (false, false) => format!("{key} – {title}"),
                (false, true) => key,
                _ => title,
            }
        })
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Who the customer is on a note: the number, with the name when known.
fn customer_line(customer_number: &str, name: Option<&str>) -> String {
    match name {
        Some(n) if !n.is_empty() && !n.contains(customer_number) => {
            format!("{customer_number} ({n})")
        }
        _ => customer_number.to_string(),
    }
}

/// The "answered" part: start and answer time, direction, numbers, IVR, team.
fn answered_lines(note: &mut Note, call: &Call, customer_number: &str, customer_name: Option<&str>) {
    if let Some(t) = call.started_at {
        note.line("Started", display(t));
    }
    if let Some(t) = call.answered_at {
        note.line("Answered", display(t));
    }
    note.line("Direction", direction(call));
    note.line("Customer number", customer_line(customer_number, customer_name));
    note.line("Aircall number", aircall_number(call));
    note.line("IVR options", ivr(call));
    note.line("Team", call.teams.iter().map(|t| t.name.clone()).collect::<Vec<_>>().join(", "));
}

/// The "ended" part: end time, duration, assigned user, dashboard link,
/// voicemail, missed-call reason, the agent's notes.
fn ended_lines(note: &mut Note, call: &Call, settings: &Settings, comments: &[String]) {
    if let Some(t) = call.ended_at {
        note.line("Ended", display(t));
    }
    let secs = call.duration.map(u64::from).or_else(|| Some(call.ended_at?.saturating_sub(call.started_at?).max(0) as u64));
    if let Some(d) = secs {
        note.line("Duration", duration(d));
    }
    let assigned = call.assigned_to.as_ref().or(agent(call)).map(|u| u.name.clone()).unwrap_or_else(|| "nobody".into());
    note.line("Assigned to", assigned);
    note.line("Call in Aircall", settings.call_link(call.id));
    if let Some(v) = call.voicemail.as_deref() {
        note.line("Voicemail", v);
    }
    if let Some(r) = call.recording.as_deref() {
        note.line("Recording", r);
    }
    if let Some(r) = call.missed_call_reason.as_deref() {
        note.line("Missed call reason", r.replace('_', " "));
    }
    if !comments.is_empty() {
        note.paragraphs.push(format!("Agent notes:\n{}", comments.iter().map(|c| format!("- {c}")).collect::<Vec<_>>().join("\n")));
    }
}

/// The note written when a call is answered, on behalf of the agent.
pub fn answered(call: &Call, customer_number: &str, customer_name: Option<&str>) -> Note {
    let who = agent(call).map(|u| u.name.clone()).unwrap_or_else(|| "an agent".into());
    let mut note = Note::new(format!("{} call answered by {who}", direction(call)));
    answered_lines(&mut note, call, customer_number, customer_name);
    note
}

/// The note written when an answered call ends.
pub fn ended(call: &Call, settings: &Settings, comments: &[String]) -> Note {
    let mut note = Note::new(format!("{} call ended", direction(call)));
    ended_lines(&mut note, call, settings, comments);
    note
}

/// The single note of a call nobody answered ("answered" and "ended" merged).
pub fn unanswered(call: &Call, settings: &Settings, customer_number: &str, customer_name: Option<&str>, comments: &[String]) -> Note {
    let heading = match call.direction {
        Direction::Inbound => "Missed inbound call",
        Direction::Outbound => "Unanswered outbound call",
    };
    let mut note = Note::new(heading);
    answered_lines(&mut note, call, customer_number, customer_name);
    ended_lines(&mut note, call, settings, comments);
    note
}

/// The note for agent notes added during or after the call; `media` is the
/// recording / voicemail line when it could not be attached.
pub fn commented(call: &Call, author: &str, comments: &[String], media: &[(String, String)]) -> Note {
    let mut note = Note::new(format!("Aircall note by {author} on the {} call", direction(call).to_lowercase()));
    for (label, link) in media {
        note.line(label, link.clone());
    }
    note.paragraphs.extend(comments.iter().cloned());
    note
}

/// A voicemail left after the call's notes were written.
pub fn voicemail(call: &Call, link: Option<&str>) -> Note {
    let mut note = Note::new(format!("Voicemail left on the {} call", direction(call).to_lowercase()));
    note.line("Voicemail", link.unwrap_or_default());
    note
}

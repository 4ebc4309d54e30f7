//! The notes API of the reference plugin: notes per call or message.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{list, text};

pub(super) fn render(out: &mut String, s: &Value) {
    let notes = list(s, "notes");
    let mut by_subject: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for n in notes {
        let body = &n["body"];
        by_subject
            .entry(format!("{} ({})", text(body, "subject"), text(body, "number")))
            .or_default()
            .push(text(body, "event").into_owned());
    }
    out.push_str(&format!("  notes: {} on {} calls/messages\n", notes.len(), by_subject.len()));
    for (subject, events) in by_subject {
        out.push_str(&format!("    {subject}: {}\n", events.join(", ")));
    }
}

//! Aircall: insight cards the agent saw, contacts the plugins created, SMS sent.

use serde_json::Value;

use super::{list, short, text};

/// Contacts with an id ≥ this were created during the demo (the emulator's seeded ones are below).
const FIRST_CREATED_ID: u64 = 10_000;

pub(super) fn render(out: &mut String, s: &Value) {
    let cards = list(s, "insight_cards");
    out.push_str(&format!("  insight cards shown: {}\n", cards.len()));
    for card in cards {
        let lines: Vec<String> = list(card, "contents")
            .iter()
            .map(|c| {
                let label = text(c, "label");
                let t = text(c, "text");
                if label.is_empty() { short(&t, 50) } else { format!("{label}: {}", short(&t, 40)) }
            })
            .collect();
        out.push_str(&format!("    call {}: {}\n", text(card, "call_id"), lines.join(" | ")));
    }
    let created: Vec<&Value> = list(s, "contacts").iter().filter(|c| c["id"].as_u64().unwrap_or(0) >= FIRST_CREATED_ID).collect();
    out.push_str(&format!("  contacts created by plugins: {}\n", created.len()));
    for c in created {
        let phones: Vec<String> = list(c, "phone_numbers").iter().map(|p| text(p, "value").into_owned()).collect();
        out.push_str(&format!("    {} {}  {}\n", text(c, "first_name"), text(c, "last_name"), phones.join(", ")));
    }
    let sms = list(s, "messages");
    out.push_str(&format!("  messages sent: {}\n", sms.len()));
    for m in sms {
        out.push_str(&format!("    to {} from number {}: {}\n", text(m, "to"), text(m, "number_id"), short(&text(m, "body"), 60)));
    }
}

//! Gorgias: customers and tickets with their messages, assignee and tags.

use serde_json::Value;

use super::{list, short, text};

pub(super) fn render(out: &mut String, s: &Value) {
    let tag = |id: &Value| list(s, "tags").iter().find(|t| t["id"] == *id).map(|t| text(t, "name").into_owned()).unwrap_or_default();
    let customers = list(s, "customers");
    out.push_str(&format!("  customers: {}\n", customers.len()));
    for c in customers {
        out.push_str(&format!("    {:<28} {}\n", text(c, "name"), text(c, "email")));
    }
    let tickets = list(s, "tickets");
    out.push_str(&format!("  tickets: {}\n", tickets.len()));
    for t in tickets {
        let tags: Vec<String> = list(t, "tag_ids").iter().map(tag).collect();
        let assignee =
            if t["assignee_user_id"].is_null() { "unassigned".to_string() } else { format!("user {}", text(t, "assignee_user_id")) };
        out.push_str(&format!(
            "    #{} {} · {} · {} · {} · tags [{}]\n",
            text(t, "id"),
            text(t, "subject"),
            text(t, "channel"),
            text(t, "status"),
            assignee,
            tags.join(", ")
        ));
        for m in list(t, "messages") {
            let kind = if m["channel"] == "internal-note" { "note" } else { &text(m, "channel") };
            out.push_str(&format!("      · {:<9} {}\n", kind, short(&text(m, "body_text"), 70)));
            for a in list(m, "attachments") {
                out.push_str(&format!(
                    "          attached: {} ({}, {} bytes)\n",
                    text(a, "name"),
                    text(a, "content_type"),
                    text(a, "size")
                ));
            }
        }
    }
}

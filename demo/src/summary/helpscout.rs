//! Help Scout: customers and conversations with their threads, assignee and tags.

use serde_json::Value;

use super::{list, short, text};

pub(super) fn render(out: &mut String, s: &Value) {
    let customers = list(s, "customers");
    out.push_str(&format!("  customers: {}\n", customers.len()));
    for c in customers {
        out.push_str(&format!("    {} {}\n", text(c, "first_name"), text(c, "last_name")));
    }
    let convs = list(s, "conversations");
    out.push_str(&format!("  conversations: {}\n", convs.len()));
    for c in convs {
        let tags: Vec<String> = list(c, "tags").iter().map(|t| t.as_str().unwrap_or_default().to_string()).collect();
        let assignee = if c["assignee"].is_null() { "unassigned".to_string() } else { format!("user {}", text(c, "assignee")) };
        out.push_str(&format!(
            "    #{} {} · {} · {} · tags [{}]\n",
            text(c, "number"),
            text(c, "subject"),
            text(c, "status"),
            assignee,
            tags.join(", ")
        ));
        for t in list(c, "threads") {
            out.push_str(&format!("      · {:<9} {}\n", text(t, "kind"), short(&text(t, "text"), 70)));
            for a in list(t, "attachments") {
                out.push_str(&format!(
                    "          attached: {} ({}, {} bytes)\n",
                    text(a, "file_name"),
                    text(a, "mime_type"),
                    text(a, "size")
                ));
            }
        }
    }
}

//! Intercom: contacts and conversations with their parts, assignee and tags.

use serde_json::Value;

use super::{list, short, text};

pub(super) fn render(out: &mut String, s: &Value) {
    let admin = |id: &Value| {
        list(s, "admins")
            .iter()
            .find(|a| a["id"].to_string().trim_matches('"') == id.to_string().trim_matches('"'))
            .map(|a| text(a, "name").into_owned())
    };
    let tag = |id: &Value| list(s, "tags").iter().find(|t| t["id"] == *id).map(|t| text(t, "name").into_owned()).unwrap_or_default();
    let contacts = list(s, "contacts");
    out.push_str(&format!("  contacts: {}\n", contacts.len()));
    for c in contacts {
        out.push_str(&format!("    {} {:<28} {}\n", text(c, "role"), text(c, "name"), text(c, "phone")));
    }
    let convs = list(s, "conversations");
    out.push_str(&format!("  conversations: {}\n", convs.len()));
    for c in convs {
        let assignee = if c["admin_assignee_id"].is_null() {
            "unassigned".to_string()
        } else {
            admin(&c["admin_assignee_id"]).unwrap_or_else(|| text(c, "admin_assignee_id").into_owned())
        };
        let tags: Vec<String> = list(c, "tags").iter().map(|t| tag(&t["id"])).collect();
        out.push_str(&format!(
            "    #{} {} · {} · tags [{}]\n      > {}\n",
            text(c, "id"),
            text(c, "state"),
            assignee,
            tags.join(", "),
            short(&text(c, "source_body"), 70)
        ));
        for p in list(c, "parts") {
            out.push_str(&format!("      · {:<10} {}\n", text(p, "part_type"), short(&text(p, "body"), 70)));
        }
    }
    let redirects = list(s, "phone_redirects");
    if !redirects.is_empty() {
        out.push_str(&format!("  Switch redirects: {}\n", redirects.len()));
    }
}

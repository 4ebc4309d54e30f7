//! HubSpot: workflow-action executions and the SMS communications logged.

use serde_json::Value;

use super::{list, short, text};

pub(super) fn render(out: &mut String, s: &Value) {
    let completed = list(s, "completed_callbacks");
    out.push_str(&format!("  workflow actions completed: {}\n", completed.len()));
    let comms = list(s, "communications");
    out.push_str(&format!("  communications: {}\n", comms.len()));
    for c in comms {
        let props = &c["record"]["properties"];
        let assoc: Vec<String> = list(c, "associations").iter().map(|a| format!("{} {}", text(a, "to_type"), text(a, "to_id"))).collect();
        out.push_str(&format!(
            "    {} · {} · on [{}]\n",
            text(props, "hs_communication_channel_type"),
            short(&text(props, "hs_communication_body"), 60),
            assoc.join(", ")
        ));
    }
}

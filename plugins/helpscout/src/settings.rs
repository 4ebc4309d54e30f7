//! The integration's settings, typed (defaults in `plugin.toml`).

use std::collections::BTreeMap;
use switchboard_sdk::{Context, Number};

/// What to do when several Help Scout customers have the caller's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchingRule {
    /// The most recently updated customer.
    MostRecent,
    /// The customer created first.
    Oldest,
    /// Log nothing for that call or message.
    LogNothing,
}

/// Every setting of the connector.
#[derive(Debug, Clone)]
pub struct Settings {
    /// API base, no trailing slash.
    pub base_url: String,
    /// Aircall number (id or digits only) → mailbox id.
    pub mailboxes: BTreeMap<String, u64>,
    /// Several matches.
    pub matching_rule: MatchingRule,
    /// Look for an open conversation before creating one.
    pub search_existing: bool,
    /// Also pick a recently closed one.
    pub include_closed: bool,
    /// How recent, in seconds.
    pub closed_window_secs: i64,
    /// Every call in a new conversation.
    pub always_new: bool,
    /// Assign conversations to the agent.
    pub assign: bool,
    /// Messages may reopen a closed conversation.
    pub reopen_for_messages: bool,
    /// Messages move the assignee to the agent.
    pub assignee_for_messages: bool,
    /// AI insights as notes.
    pub ai_insights: bool,
    /// Transcriptions as notes.
    pub transcriptions: bool,
    /// Scenario 3 of the seed: create the Aircall contact.
    pub create_aircall_contacts: bool,
    /// Insight cards.
    pub insight_cards: bool,
    /// Explicit fallback user.
    pub fallback_user: Option<u64>,
    /// Click-to-dial line.
    pub dial_number: Option<u64>,
    /// Click-to-dial shared key.
    pub dial_key: Option<String>,
}

/// Digits of a number as they key the mailbox map.
pub fn digits_only(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// The mailbox map from its JSON form: `{ "2001": 30411, "+33 1 23…": "30411" }`.
/// Entries that are not a positive id are dropped.
fn mailbox_map(raw: Option<serde_json::Value>) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let Some(serde_json::Value::Object(map)) = raw else {
        return out;
    };
    for (k, v) in map {
        let id = match v {
            serde_json::Value::Number(n) => n.as_u64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        let key = k.trim();
        // A key with a `+`, spaces or more digits than an id is a phone number.
        let key = if key.chars().all(|c| c.is_ascii_digit()) {
            key.to_string()
        } else {
            digits_only(key)
        };
        if let (Some(id), false) = (id.filter(|i| *i > 0), key.is_empty()) {
            out.insert(key, id);
        }
    }
    out
}

impl Settings {
    /// Read the settings of this job.
    pub fn from(ctx: &Context) -> Settings {
        let flag = |name: &str, default: bool| ctx.setting_bool(name).unwrap_or(default);
        let positive = |name: &str| ctx.setting_i64(name).filter(|v| *v > 0).map(|v| v as u64);
        Settings {
            base_url: ctx
                .setting_str("base_url")
                .unwrap_or("https://api.helpscout.net")
                .trim_end_matches('/')
                .to_string(),
            mailboxes: mailbox_map(ctx.setting_json("mailboxes")),
            matching_rule: match ctx.setting_str("matching_rule").map(str::trim) {
                Some("oldest") => MatchingRule::Oldest,
                Some("none" | "log_nothing") => MatchingRule::LogNothing,
                _ => MatchingRule::MostRecent,
            },
            search_existing: flag("search_existing_conversations", true),
            include_closed: flag("include_closed_conversations", false),
            closed_window_secs: ctx
                .setting_i64("closed_window_hours")
                .unwrap_or(48)
                .clamp(0, 24 * 365)
                * 3600,
            always_new: flag("always_new_conversation", false),
            assign: flag("assign_conversations", false),
            reopen_for_messages: flag("reopen_closed_for_messages", false),
            assignee_for_messages: flag("update_assignee_for_messages", false),
            ai_insights: flag("ai_insights", true),
            transcriptions: flag("transcriptions", false),
            create_aircall_contacts: flag("create_aircall_contacts", true),
            insight_cards: flag("insight_cards", true),
            fallback_user: positive("fallback_user_id"),
            dial_number: positive("dial_number_id"),
            dial_key: ctx
                .setting_str("dial_key")
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_string),
        }
    }

    /// The mailbox an Aircall number logs into, by id or by digits.
    pub fn mailbox_for(&self, number: &Number) -> Option<u64> {
        self.mailbox_for_id(number.id).or_else(|| {
            [number.e164.as_deref(), Some(number.digits.as_str())]
                .into_iter()
                .flatten()
                .map(digits_only)
                .filter(|d| !d.is_empty())
                .find_map(|d| self.mailboxes.get(&d).copied())
        })
    }

    /// The mailbox for an Aircall number id.
    pub fn mailbox_for_id(&self, id: u64) -> Option<u64> {
        self.mailboxes.get(&id.to_string()).copied()
    }

    /// The Aircall number click-to-dial uses: the setting, else the first
    /// mapped number written as an id (at most 9 digits; phone numbers are longer).
    pub fn dial_number(&self) -> Option<u64> {
        self.dial_number.or_else(|| {
            self.mailboxes
                .keys()
                .filter(|k| k.len() <= 9)
                .find_map(|k| k.parse().ok())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_keys_are_ids_or_digits() {
        let m = mailbox_map(Some(
            serde_json::json!({ "2001": 30411, "+33 1 23 45 67 89": "30412", "x": 1, "2002": -1 }),
        ));
        assert_eq!(m.get("2001"), Some(&30411));
        assert_eq!(m.get("33123456789"), Some(&30412));
        assert_eq!(m.len(), 2);
    }
}

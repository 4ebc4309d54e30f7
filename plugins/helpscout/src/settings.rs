//! The integration's settings, typed (defaults in `plugin.toml`).

use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use switchboard_sdk::settings::empty_as_none;
use switchboard_sdk::{Context, Number};

/// What to do when several Help Scout customers have the caller's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum MatchingRule {
    /// The most recently updated customer.
    #[serde(rename = "most_recent")]
    MostRecent,
    /// The customer created first.
    #[serde(rename = "oldest")]
    Oldest,
    /// Log nothing for that call or message.
    #[serde(rename = "none", alias = "log_nothing")]
    LogNothing,
}

/// Every setting of the connector: one field per setting of `plugin.toml`
/// (named as there by `rename`), whose defaults the host applies.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// API base, no trailing slash: the integration's `base_url` (else the
    /// manifest's `default_base_url`), set by [`Settings::from`].
    #[serde(skip)]
    pub base_url: String,
    /// Aircall number (id or digits only) → mailbox id.
    #[serde(default, deserialize_with = "mailbox_map")]
    pub mailboxes: BTreeMap<String, u64>,
    /// Several matches.
    pub matching_rule: MatchingRule,
    /// Look for an open conversation before creating one.
    #[serde(rename = "search_existing_conversations")]
    pub search_existing: bool,
    /// Also pick a recently closed one.
    #[serde(rename = "include_closed_conversations")]
    pub include_closed: bool,
    /// How recent, in seconds (the setting is in hours).
    #[serde(rename = "closed_window_hours", deserialize_with = "hours_as_seconds")]
    pub closed_window_secs: i64,
    /// Every call in a new conversation.
    #[serde(rename = "always_new_conversation")]
    pub always_new: bool,
    /// Assign conversations to the agent.
    #[serde(rename = "assign_conversations")]
    pub assign: bool,
    /// Messages may reopen a closed conversation.
    #[serde(rename = "reopen_closed_for_messages")]
    pub reopen_for_messages: bool,
    /// Messages move the assignee to the agent.
    #[serde(rename = "update_assignee_for_messages")]
    pub assignee_for_messages: bool,
    /// AI insights as notes.
    pub ai_insights: bool,
    /// Transcriptions as notes.
    pub transcriptions: bool,
    /// Scenario 3 of the seed: create the Aircall contact.
    pub create_aircall_contacts: bool,
    /// Insight cards.
    pub insight_cards: bool,
    /// Explicit fallback user (`0` = none).
    #[serde(rename = "fallback_user_id", deserialize_with = "positive_id")]
    pub fallback_user: Option<u64>,
    /// Click-to-dial line (`0` = none).
    #[serde(rename = "dial_number_id", deserialize_with = "positive_id")]
    pub dial_number: Option<u64>,
    /// Click-to-dial shared key (`""` = click-to-dial off).
    #[serde(deserialize_with = "empty_as_none")]
    pub dial_key: Option<String>,
}

/// `0` (the manifest's default) means no id.
fn positive_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(u64::try_from(i64::deserialize(d)?).ok().filter(|v| *v > 0))
}

/// The closed-conversation window, hours → seconds (at most a year).
fn hours_as_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(i64::deserialize(d)?.clamp(0, 24 * 365) * 3600)
}

/// Digits of a number as they key the mailbox map.
pub fn digits_only(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// The mailbox map from its JSON form: `{ "2001": 30411, "+33 1 23…": "30411" }`.
/// Entries that are not a positive id are dropped.
fn mailbox_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, u64>, D::Error> {
    Ok(mailboxes(Option::<serde_json::Value>::deserialize(d)?))
}

fn mailboxes(raw: Option<serde_json::Value>) -> BTreeMap<String, u64> {
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
        let key = if key.chars().all(|c| c.is_ascii_digit()) { key.to_string() } else { digits_only(key) };
        if let (Some(id), false) = (id.filter(|i| *i > 0), key.is_empty()) {
            out.insert(key, id);
        }
    }
    out
}

impl Settings {
    /// Read the settings of this job; a mismatch with `plugin.toml` is a
    /// configuration error.
    pub fn from(ctx: &Context) -> Result<Settings, String> {
        let mut settings = ctx.settings::<Settings>()?;
        settings.base_url = ctx.base_url().unwrap_or_default().to_string();
        if settings.base_url.is_empty() {
            return Err("no base_url: plugin.toml's http.default_base_url is the Help Scout API root".into());
        }
        Ok(settings)
    }

    /// The manifest's defaults, for tests.
    #[cfg(test)]
    pub fn defaults() -> Settings {
        use switchboard_sdk::settings::{Fill, from_manifest};
        match from_manifest::<Settings>(include_str!("../plugin.toml"), Fill::Defaults) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
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
        self.dial_number.or_else(|| self.mailboxes.keys().filter(|k| k.len() <= 9).find_map(|k| k.parse().ok()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_toml_defaults_fit_the_type() {
        let s = Settings::defaults();
        assert_eq!(s.matching_rule, MatchingRule::MostRecent);
        assert_eq!(s.closed_window_secs, 48 * 3600);
        assert!(s.search_existing && !s.include_closed && s.ai_insights && s.insight_cards);
        assert_eq!((s.fallback_user, s.dial_number, s.dial_key), (None, None, None));
        assert!(s.mailboxes.is_empty());
    }

    #[test]
    fn every_setting_of_plugin_toml_has_a_field() {
        use switchboard_sdk::settings::{Fill, from_manifest};
        from_manifest::<Settings>(include_str!("../plugin.toml"), Fill::Every).unwrap();
    }

    #[test]
    fn log_nothing_is_none_and_zero_ids_are_none() {
        let s: Settings = serde_json::from_value(serde_json::json!({
            "mailboxes": {"1": 2}, "matching_rule": "log_nothing", "search_existing_conversations": true,
            "include_closed_conversations": true, "closed_window_hours": 2, "always_new_conversation": false,
            "assign_conversations": false, "reopen_closed_for_messages": false, "update_assignee_for_messages": false,
            "ai_insights": true, "transcriptions": false, "create_aircall_contacts": true, "insight_cards": true,
            "fallback_user_id": 0, "dial_number_id": 7, "dial_key": "k"
        }))
        .unwrap();
        assert_eq!(s.matching_rule, MatchingRule::LogNothing);
        assert_eq!((s.closed_window_secs, s.fallback_user, s.dial_number), (7200, None, Some(7)));
    }

    #[test]
    fn mailbox_keys_are_ids_or_digits() {
        let m = mailboxes(Some(serde_json::json!({ "2001": 30411, "+33 1 23 45 67 89": "30412", "x": 1, "2002": -1 })));
        assert_eq!(m.get("2001"), Some(&30411));
        assert_eq!(m.get("33123456789"), Some(&30412));
        assert_eq!(m.len(), 2);
    }
}

//! The seed's decisions (seed `003`, HubSpot workflow action "SMS senden –
//! Beta", and issue 8), as plain functions worded like the seed: what the
//! action log shows, how long a message may be, which tokens a message may
//! use, the sending limits, opt-out replies. No I/O here: the execution and
//! the reply handler read HubSpot and Aircall and call these.

use crate::settings::Settings;
use serde_json::{Value, json};
use switchboard_sdk::Channel;
use switchboard_sdk::quota::{self, Limit};

// --- The action's outcome ("Aktionsprotokolle")

/// How an execution ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Aircall accepted the SMS.
    Sent {
        /// Aircall's message id.
        message_id: String,
        /// Whether it was logged on the HubSpot record.
        logged: bool,
    },
    /// Not sent on purpose (the recipient opted out).
    Skipped(String),
    /// Not sent: the reason.
    Failed(String),
}

impl Outcome {
    /// The `outputFields` HubSpot records ("Sie können den Erfolg der Aktion …
    /// im Abschnitt ‚Aktionsprotokolle' des Workflows überprüfen"). A failure is
    /// `FAIL_CONTINUE`: HubSpot does not retry it ("werden wir in dieser
    /// Betaphase keinen erneuten Versuch unternehmen").
    pub fn output(&self) -> Value {
        let (state, status, reason, id) = match self {
            Outcome::Sent { message_id, logged: true } => ("SUCCESS", "sent", String::new(), message_id.as_str()),
            Outcome::Sent { message_id, logged: false } => {
                ("SUCCESS", "sent", "sent; logging it on the HubSpot record failed and is retried later".to_string(), message_id.as_str())
            }
            Outcome::Skipped(r) => ("SUCCESS", "skipped", r.clone(), ""),
            Outcome::Failed(r) => ("FAIL_CONTINUE", "failed", r.clone(), ""),
        };
        json!({ "outputFields": { "hs_execution_state": state, "status": status, "reason": reason, "messageId": id } })
    }
}

// --- The message ("bis zu 1.600 Zeichen", "HubSpot-Datensatz-Token")

/// Longest message after personalisation (seed: "bis zu 1.600 Zeichen").
pub const MAX_CHARS: usize = 1600;

/// The personalised message may be sent: at most [`MAX_CHARS`] characters and
/// not empty; otherwise the reason the action fails with.
pub fn check_message(text: &str) -> Result<(), String> {
    let chars = text.chars().count();
    if chars > MAX_CHARS {
        return Err(format!("the message is {chars} characters after personalisation; at most {MAX_CHARS} are allowed"));
    }
    if text.trim().is_empty() {
        return Err("the message is empty after personalisation".into());
    }
    Ok(())
}

/// A message's tokens may name the contact (`{{contact.…}}`) or the enrolled
/// record's own type (`own`, e.g. `deal`), nothing else.
pub fn token_allowed(object: &str, own: &str) -> bool {
    object == "contact" || object == own
}

// --- Limits ("tägliches Limit von 5.000 und ein monatliches Limit von 10.000")

/// The two counters of a sender on a number, for the day and month of
/// `now_ms`: per user and Aircall number, across all workflows. Days and
/// months are UTC ([U]: the seed does not say which time zone).
pub fn sending_limits(settings: &Settings, number_id: u64, user_id: u64, now_ms: i64) -> [Limit; 2] {
    [
        Limit {
            key: format!("limit:day:{}:{number_id}:{user_id}", quota::utc_day(now_ms)),
            max: settings.daily_limit,
            ttl_seconds: 2 * 86_400,
        },
        Limit {
            key: format!("limit:month:{}:{number_id}:{user_id}", quota::utc_month(now_ms)),
            max: settings.monthly_limit,
            ttl_seconds: 32 * 86_400,
        },
    ]
}

/// Why the message is not sent when counter `index` (0: day, 1: month) of
/// [`sending_limits`] is used up; it is not retried.
pub fn limit_reached(settings: &Settings, index: usize, number_id: u64, user_id: u64) -> String {
    let (period, max) = if index == 0 { ("daily", settings.daily_limit) } else { ("monthly", settings.monthly_limit) };
    format!(
        "{period} limit of {max} messages reached for user {user_id} on Aircall number {number_id}; the message is not sent and will not be retried"
    )
}

// --- Replies ("Die nachfolgenden Nachrichten werden ebenfalls als Engagement … protokolliert")

/// The communication channel a reply is logged as.
pub fn reply_channel(channel: Channel) -> &'static str {
    match channel {
        Channel::Whatsapp => "WHATS_APP",
        Channel::Sms => "SMS",
    }
}

// --- Opt-out (beyond the seed, which leaves it to the customer: "eine
// Nachricht mit dem Wort ‚Stopp' zu senden"; issue 8 point 6). A reply that
// is exactly an opt-out keyword ("STOP", "Stopp!", "arrêt") marks the
// contact, and the action skips marked recipients.

/// Upper-case, accents removed, everything but letters and digits dropped, so
/// "Arrêt !" and "ARRET", or "opt-out" and "OPT OUT", compare equal.
pub fn fold(text: &str) -> String {
    text.chars().map(strip_accent).filter(|c| c.is_alphanumeric()).flat_map(char::to_uppercase).collect()
}

fn strip_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'A',
        'ç' => 'c',
        'Ç' => 'C',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'È' | 'É' | 'Ê' | 'Ë' => 'E',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'Ì' | 'Í' | 'Î' | 'Ï' => 'I',
        'ñ' => 'n',
        'Ñ' => 'N',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' => 'O',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'Ù' | 'Ú' | 'Û' | 'Ü' => 'U',
        other => other,
    }
}

/// Whether a reply asks to opt out, given the folded keywords.
pub fn is_opt_out(reply: &str, folded_keywords: &[String]) -> bool {
    let reply = fold(reply);
    !reply.is_empty() && folded_keywords.contains(&reply)
}

/// Whether a property value means "opted out" (the configured value, or an obvious yes).
pub fn is_marked(value: Option<&str>, opted_out_value: &str) -> bool {
    match value.map(str::trim) {
        None | Some("") => false,
        Some(v) => v.eq_ignore_ascii_case(opted_out_value) || matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "1"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_sdk::settings::{Fill, from_manifest};

    fn settings() -> Settings {
        from_manifest::<Settings>(include_str!("../plugin.toml"), Fill::Defaults).unwrap()
    }

    fn keys() -> Vec<String> {
        ["STOP", "Stopp", "arrêt", "opt out"].iter().map(|k| fold(k)).collect()
    }

    #[test]
    fn success_is_visible_in_the_action_logs_and_failures_are_not_retried() {
        let sent = Outcome::Sent { message_id: "m1".into(), logged: true }.output();
        assert_eq!(sent["outputFields"]["hs_execution_state"], "SUCCESS");
        assert_eq!(sent["outputFields"]["messageId"], "m1");
        let unlogged = Outcome::Sent { message_id: "m1".into(), logged: false }.output();
        assert_eq!(unlogged["outputFields"]["status"], "sent");
        assert!(unlogged["outputFields"]["reason"].as_str().is_some_and(|r| r.contains("retried later")));
        let failed = Outcome::Failed("daily limit".into()).output();
        assert_eq!(failed["outputFields"]["hs_execution_state"], "FAIL_CONTINUE");
        assert_eq!(failed["outputFields"]["reason"], "daily limit");
        assert_eq!(Outcome::Skipped("opted out".into()).output()["outputFields"]["status"], "skipped");
    }

    #[test]
    fn a_message_is_up_to_1600_characters_and_not_empty() {
        assert!(check_message(&"é".repeat(1600)).is_ok(), "characters, not bytes");
        assert!(check_message(&"a".repeat(1601)).is_err_and(|r| r.contains("1601 characters")));
        assert!(check_message("  ").is_err_and(|r| r.contains("empty")));
    }

    #[test]
    fn tokens_name_the_contact_or_the_enrolled_record() {
        assert!(token_allowed("contact", "deal") && token_allowed("deal", "deal"));
        assert!(!token_allowed("company", "deal"));
    }

    #[test]
    fn a_daily_limit_of_5000_and_a_monthly_limit_of_10000_per_user_and_number() {
        let s = settings();
        let now = 1_767_225_600_000; // 2026-01-01T00:00:00Z
        let [day, month] = sending_limits(&s, 7, 42, now);
        assert_eq!((day.key.as_str(), day.max), ("limit:day:2026-01-01:7:42", 5000));
        assert_eq!((month.key.as_str(), month.max), ("limit:month:2026-01:7:42", 10_000));
        assert_ne!(sending_limits(&s, 8, 42, now)[0].key, day.key, "another number counts apart");
        assert!(limit_reached(&s, 0, 7, 42).starts_with("daily limit of 5000 messages reached for user 42 on Aircall number 7"));
        assert!(limit_reached(&s, 1, 7, 42).contains("monthly limit of 10000") && limit_reached(&s, 1, 7, 42).contains("not be retried"));
    }

    #[test]
    fn replies_are_logged_on_their_channel() {
        assert_eq!((reply_channel(Channel::Sms), reply_channel(Channel::Whatsapp)), ("SMS", "WHATS_APP"));
    }

    #[test]
    fn stop_and_its_spellings_opt_out_only_as_the_whole_reply() {
        for yes in ["STOP", "stop", " Stop. ", "STOPP!", "Arrêt", "ARRET", "opt-out", "Opt  out"] {
            assert!(is_opt_out(yes, &keys()), "{yes}");
        }
        for no in ["", "please don't stop", "stopped", "Bonjour", "!!"] {
            assert!(!is_opt_out(no, &keys()), "{no}");
        }
    }

    #[test]
    fn a_contact_is_opted_out_by_the_configured_value_or_an_obvious_yes() {
        assert!(is_marked(Some("true"), "true"));
        assert!(is_marked(Some("Opted out"), "opted out"));
        assert!(!is_marked(Some("false"), "true"));
        assert!(!is_marked(None, "true"));
    }
}

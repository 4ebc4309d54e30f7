//! The seed's rules, as plain functions: what a call is called, who gets the
//! conversation, whether a tag still syncs. No I/O here.

use switchboard_sdk::{Call, Direction};

/// The outcome label the seed lists for the first message of a call log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// "Inbound answered call".
    InboundAnswered,
    /// "Inbound unanswered call": the caller gave up before anyone could answer.
    InboundUnanswered,
    /// "Missed call": nobody answered (closed line, no agent, agents did not pick up).
    Missed,
    /// "Outbound answered call".
    OutboundAnswered,
    /// "Outbound unanswered call".
    OutboundUnanswered,
    /// "Voicemail".
    Voicemail,
}

impl Outcome {
    /// The seed's wording.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::InboundAnswered => "Inbound answered call",
            Outcome::InboundUnanswered => "Inbound unanswered call",
            Outcome::Missed => "Missed call",
            Outcome::OutboundAnswered => "Outbound answered call",
            Outcome::OutboundUnanswered => "Outbound unanswered call",
            Outcome::Voicemail => "Voicemail",
        }
    }

    /// Whether someone on our side talked to the caller.
    pub fn answered(self) -> bool {
        matches!(self, Outcome::InboundAnswered | Outcome::OutboundAnswered)
    }
}

/// The outcome of a finished call.
///
/// [U] The seed names both "inbound unanswered" and "missed" without saying how
/// they differ; we call an inbound call *unanswered* when the caller hung up
/// first (`short_abandoned`, `abandoned_in_ivr`, `abandoned_in_classic`) and
/// *missed* otherwise (closed line, no agent available, agents did not answer).
pub fn outcome(call: &Call) -> Outcome {
    let answered = call.answered_at.is_some();
    match call.direction {
        Direction::Outbound if answered => Outcome::OutboundAnswered,
        Direction::Outbound => Outcome::OutboundUnanswered,
        Direction::Inbound if call.voicemail.as_deref().is_some_and(|v| !v.is_empty()) => {
            Outcome::Voicemail
        }
        Direction::Inbound if answered => Outcome::InboundAnswered,
        Direction::Inbound => match call.missed_call_reason.as_deref() {
            Some("short_abandoned" | "abandoned_in_ivr" | "abandoned_in_classic") => {
                Outcome::InboundUnanswered
            }
            _ => Outcome::Missed,
        },
    }
}

/// Whom a logged conversation goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assign {
    /// This admin (an id).
    To(String),
    /// Nobody: a new conversation stays unassigned (Intercom's own assignment
    /// rules apply), an existing one keeps its assignee.
    Leave,
}

/// Assignment of a call (seed "Anruf- und SMS-Protokolle"): answered inbound and
/// outbound calls go to the teammate (matched by e-mail, `teammate_admin`), else
/// the set-up admin; unanswered inbound calls stay unassigned. Unanswered
/// outbound calls were still made by the teammate: same as answered.
pub fn assign_call(
    outcome: Outcome,
    direction: Direction,
    teammate_admin: Option<String>,
    setup_admin: &str,
) -> Assign {
    match (direction, outcome.answered()) {
        (Direction::Inbound, false) => Assign::Leave,
        _ => Assign::To(teammate_admin.unwrap_or_else(|| setup_admin.to_string())),
    }
}

/// Assignment of an SMS. Inbound: the number's only user (by e-mail) else the
/// set-up admin; a number with several users leaves the conversation as it is
/// (unassigned when new, unchanged when it existed). Outbound: the sender by
/// e-mail, else the set-up admin.
pub fn assign_sms(
    direction: Direction,
    number_users: usize,
    matched_admin: Option<String>,
    setup_admin: &str,
) -> Assign {
    match direction {
        Direction::Inbound if number_users > 1 => Assign::Leave,
        _ => Assign::To(matched_admin.unwrap_or_else(|| setup_admin.to_string())),
    }
}

/// Tags added later than this after the end of the call are not synced (seed: two hours).
pub const TAG_WINDOW_SECONDS: i64 = 2 * 3600;

/// Whether a tag added at `tagged_at` to a call that ended at `ended_at` still syncs.
pub fn tag_in_window(ended_at: Option<i64>, tagged_at: i64) -> bool {
    match ended_at {
        Some(end) => tagged_at - end <= TAG_WINDOW_SECONDS,
        None => true,
    }
}

/// Whether an IVR choice is the configured Switch option: the key pressed or the
/// option's title (case-insensitive).
pub fn is_switch_option(configured: &str, key: Option<&str>, title: Option<&str>) -> bool {
    let want = configured.trim();
    !want.is_empty()
        && [key, title]
            .into_iter()
            .flatten()
            .any(|v| v.trim().eq_ignore_ascii_case(want))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unanswered_inbound_calls_stay_unassigned_and_outbound_go_to_the_caller() {
        assert_eq!(
            assign_call(Outcome::Missed, Direction::Inbound, Some("7".into()), "1"),
            Assign::Leave
        );
        assert_eq!(
            assign_call(Outcome::InboundAnswered, Direction::Inbound, None, "1"),
            Assign::To("1".into())
        );
        assert_eq!(
            assign_call(
                Outcome::OutboundUnanswered,
                Direction::Outbound,
                Some("7".into()),
                "1"
            ),
            Assign::To("7".into())
        );
    }

    #[test]
    fn sms_on_a_shared_number_is_left_alone() {
        assert_eq!(
            assign_sms(Direction::Inbound, 2, Some("7".into()), "1"),
            Assign::Leave
        );
        assert_eq!(
            assign_sms(Direction::Inbound, 1, None, "1"),
            Assign::To("1".into())
        );
        assert_eq!(
            assign_sms(Direction::Outbound, 3, Some("7".into()), "1"),
            Assign::To("7".into())
        );
    }

    #[test]
    fn the_tag_window_is_two_hours_after_the_end() {
        assert!(tag_in_window(Some(1000), 1000 + 7200));
        assert!(!tag_in_window(Some(1000), 1000 + 7201));
        assert!(tag_in_window(None, 99_999));
    }

    #[test]
    fn switch_matches_key_or_title() {
        assert!(is_switch_option("2", Some("2"), None));
        assert!(is_switch_option("chat", Some("3"), Some("Chat")));
        assert!(!is_switch_option("", Some(""), None));
        assert!(!is_switch_option("2", Some("1"), Some("Sales")));
    }
}

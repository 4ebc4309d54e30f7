//! The seed's rules, as plain functions: what a call is called, who gets the
//! conversation, whether a tag still syncs. No I/O here.

use switchboard_sdk::{Call, Direction, User};

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
        Direction::Inbound if call.voicemail.as_deref().is_some_and(|v| !v.is_empty()) => Outcome::Voicemail,
        Direction::Inbound if answered => Outcome::InboundAnswered,
        Direction::Inbound => match call.missed_call_reason.as_deref() {
            Some("short_abandoned" | "abandoned_in_ivr" | "abandoned_in_classic") => Outcome::InboundUnanswered,
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
pub fn assign_call(outcome: Outcome, direction: Direction, teammate_admin: Option<String>, setup_admin: &str) -> Assign {
    match (direction, outcome.answered()) {
        (Direction::Inbound, false) => Assign::Leave,
        _ => Assign::To(teammate_admin.unwrap_or_else(|| setup_admin.to_string())),
    }
}

/// What became of the last transfer of a call to another Aircall user, as the
/// payload and the transfer events (`call.transferred`,
/// `call.unsuccessful_transfer`) tell it.
#[derive(Debug, Clone)]
pub enum Transfer<'a> {
    /// The call was not transferred to a user (or only to an external number).
    None,
    /// The call was successfully transferred to this user, from `from` (the
    /// teammate who made / received it before; absent when Aircall did not say).
    To {
        /// The teammate the call was transferred to.
        to: &'a User,
        /// The teammate who transferred it.
        from: Option<&'a User>,
    },
    /// The transfer did not go through (`call.unsuccessful_transfer`): the
    /// teammate it was meant for never had the call.
    Failed,
}

/// What the connector saw of the last transfer event of a call (it keeps it
/// until the call is logged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferEvent {
    /// `call.transferred` was the last transfer event.
    Succeeded,
    /// `call.unsuccessful_transfer` was the last transfer event.
    Failed,
}

/// A user object that names somebody: Aircall (and our simulator) sometimes
/// send `{}` or an id-less stub where there is nobody.
fn someone(user: Option<&User>) -> Option<&User> {
    user.filter(|u| u.id != 0 || u.email.as_deref().is_some_and(|e| !e.trim().is_empty()))
}

/// The call's last transfer, from the payload's `transferred_to` /
/// `transferred_by` and the last transfer event the connector saw: the
/// payload's `transferred_to` is a transfer unless that event was
/// `call.unsuccessful_transfer` (Aircall leaves `transferred_to` on the call
/// after a failed attempt). With no transfer event seen (an account that does
/// not subscribe to them), the payload's `transferred_to` counts as a
/// successful transfer.
pub fn transfer<'a>(transferred_to: Option<&'a User>, transferred_by: Option<&'a User>, last_event: Option<TransferEvent>) -> Transfer<'a> {
    match (someone(transferred_to), last_event) {
        (_, Some(TransferEvent::Failed)) => Transfer::Failed,
        (Some(to), _) => Transfer::To { to, from: someone(transferred_by) },
        (None, _) => Transfer::None,
    }
}

/// The teammate who "made / received the call" in the seed's sense, before any
/// transfer: the one who transferred it, else the call's `user` (`call_user`)
/// unless that is already the transferee (after a transfer, Aircall's later
/// payloads may name the new teammate as `user`).
pub fn original_teammate<'a>(call_user: Option<&'a User>, transfer: &Transfer<'a>) -> Option<&'a User> {
    match transfer {
        Transfer::To { from: Some(from), .. } => Some(from),
        Transfer::To { to, from: None } => someone(call_user).filter(|u| !same_user(u, to)),
        Transfer::None | Transfer::Failed => someone(call_user),
    }
}

/// Whether two Aircall user objects are the same teammate (by id, else e-mail).
pub fn same_user(a: &User, b: &User) -> bool {
    if a.id != 0 && b.id != 0 {
        return a.id == b.id;
    }
    match (a.email.as_deref(), b.email.as_deref()) {
        (Some(x), Some(y)) => x.trim().eq_ignore_ascii_case(y.trim()),
        _ => false,
    }
}

/// The teammate whose Intercom admin gets a call (seed "Weitergeleitete
/// Anrufe"): when a call is successfully transferred to an Aircall user with a
/// matching e-mail in Intercom (`transferee_admin`), the conversation is
/// updated and assigned to that teammate. When the user it was transferred to
/// does not answer (the transfer failed) or has no matching e-mail, it stays
/// with the original teammate who made / received the call
/// (`original_admin`); [`assign_call`] then applies the answered / outbound
/// rules to that (the set-up admin when nobody matches).
pub fn call_owner(transfer: &Transfer<'_>, transferee_admin: Option<String>, original_admin: Option<String>) -> Option<String> {
    match transfer {
        Transfer::To { .. } => transferee_admin.or(original_admin),
        Transfer::None | Transfer::Failed => original_admin,
    }
}

/// Assignment of an SMS. Inbound: the number's only user (by e-mail) else the
/// set-up admin; a number with several users leaves the conversation as it is
/// (unassigned when new, unchanged when it existed). Outbound: the sender by
/// e-mail, else the set-up admin.
pub fn assign_sms(direction: Direction, number_users: usize, matched_admin: Option<String>, setup_admin: &str) -> Assign {
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
    !want.is_empty() && [key, title].into_iter().flatten().any(|v| v.trim().eq_ignore_ascii_case(want))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unanswered_inbound_calls_stay_unassigned_and_outbound_go_to_the_caller() {
        assert_eq!(assign_call(Outcome::Missed, Direction::Inbound, Some("7".into()), "1"), Assign::Leave);
        assert_eq!(assign_call(Outcome::InboundAnswered, Direction::Inbound, None, "1"), Assign::To("1".into()));
        assert_eq!(assign_call(Outcome::OutboundUnanswered, Direction::Outbound, Some("7".into()), "1"), Assign::To("7".into()));
    }

    fn user(id: u64, email: &str) -> User {
        User {
            id,
            name: format!("user {id}"),
            email: Some(email.into()),
            available: None,
            availability_status: None,
            time_zone: None,
            language: None,
            substatus: None,
        }
    }

    fn id(user: Option<&User>) -> Option<u64> {
        user.map(|u| u.id)
    }

    /// A transfer as (kind, to, from) user ids (`User` has no `PartialEq`).
    fn shape(t: &Transfer<'_>) -> (&'static str, Option<u64>, Option<u64>) {
        match t {
            Transfer::None => ("none", None, None),
            Transfer::Failed => ("failed", None, None),
            Transfer::To { to, from } => ("to", Some(to.id), id(*from)),
        }
    }

    #[test]
    fn a_call_transferred_to_a_teammate_with_a_matching_email_is_assigned_to_them() {
        let ada = user(1, "ada@example.com");
        let bob = user(2, "bob@example.com");
        let t = transfer(Some(&bob), Some(&ada), Some(TransferEvent::Succeeded));
        assert_eq!(shape(&t), ("to", Some(2), Some(1)));
        assert_eq!(id(original_teammate(Some(&bob), &t)), Some(1));
        assert_eq!(call_owner(&t, Some("B".into()), Some("A".into())), Some("B".into()));
        // No transfer event seen (not subscribed): the payload's transferred_to counts.
        assert_eq!(shape(&transfer(Some(&bob), Some(&ada), None)), ("to", Some(2), Some(1)));
    }

    #[test]
    fn transferred_to_a_teammate_without_a_matching_email_stays_with_the_original_teammate() {
        let ada = user(1, "ada@example.com");
        let carl = user(3, "carl@elsewhere.example");
        // Aircall's later payloads name the new teammate as `user`.
        let t = transfer(Some(&carl), Some(&ada), Some(TransferEvent::Succeeded));
        assert_eq!(id(original_teammate(Some(&carl), &t)), Some(1));
        assert_eq!(call_owner(&t, None, Some("A".into())), Some("A".into()));
        // Original teammate without a match either: the answered-call rule gives the set-up admin.
        assert_eq!(assign_call(Outcome::InboundAnswered, Direction::Inbound, call_owner(&t, None, None), "1"), Assign::To("1".into()));
    }

    #[test]
    fn an_unsuccessful_transfer_leaves_the_call_with_the_original_teammate() {
        let ada = user(1, "ada@example.com");
        let bob = user(2, "bob@example.com");
        let t = transfer(Some(&bob), Some(&ada), Some(TransferEvent::Failed));
        assert_eq!(shape(&t), ("failed", None, None));
        assert_eq!(id(original_teammate(Some(&ada), &t)), Some(1));
        assert_eq!(call_owner(&t, Some("B".into()), Some("A".into())), Some("A".into()));
    }

    #[test]
    fn a_call_without_a_transfer_belongs_to_its_user() {
        let ada = user(1, "ada@example.com");
        let empty = User { id: 0, email: None, ..user(0, "") };
        let t = transfer(Some(&empty), Some(&empty), None);
        assert_eq!(shape(&t), ("none", None, None));
        assert_eq!(id(original_teammate(Some(&ada), &t)), Some(1));
        assert_eq!(call_owner(&t, Some("B".into()), Some("A".into())), Some("A".into()));
    }

    #[test]
    fn without_transferred_by_the_original_is_the_user_unless_that_is_the_transferee() {
        let ada = user(1, "ada@example.com");
        let bob = user(2, "bob@example.com");
        let t = transfer(Some(&bob), None, None);
        assert_eq!(id(original_teammate(Some(&ada), &t)), Some(1));
        assert_eq!(id(original_teammate(Some(&bob), &t)), None);
    }

    #[test]
    fn sms_on_a_shared_number_is_left_alone() {
        assert_eq!(assign_sms(Direction::Inbound, 2, Some("7".into()), "1"), Assign::Leave);
        assert_eq!(assign_sms(Direction::Inbound, 1, None, "1"), Assign::To("1".into()));
        assert_eq!(assign_sms(Direction::Outbound, 3, Some("7".into()), "1"), Assign::To("7".into()));
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

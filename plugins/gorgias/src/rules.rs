//! The seed's decisions (seed `002`, Aircall ↔ Gorgias v2), as plain functions
//! worded like the seed: who the customer is called, what a ticket is titled,
//! whose the call is, where an SMS goes, which tags a ticket gets. No I/O here:
//! the event modules read Gorgias and call these.

use crate::api::Ticket;
use crate::settings::{Settings, TagChoice};
use switchboard_sdk::datetime::parse_rfc3339;
use switchboard_sdk::{Call, CallStatus, Direction, Message, User};

// --- Tickets for calls ("Ticket-Erstellung für Anrufe")

/// Name prefix of customers created without an Aircall contact: "Aircall New
/// Contact + Telefonnummer".
pub const NEW_CONTACT: &str = "Aircall New Contact";

/// The fake e-mail of a customer created without one (the seed's
/// `random_number@aircall.io`): derived from the number, so a retry or a second
/// event finds the same customer instead of creating another. [U] the seed says random.
pub fn placeholder_email(e164: &str, settings: &Settings) -> String {
    let digits: String = e164.chars().filter(char::is_ascii_digit).collect();
    let local = if digits.is_empty() { "anonymous".to_string() } else { format!("aircall-{digits}") };
    format!("{local}@{}", settings.placeholder_email_domain)
}

/// The "[Kundenname/Telefonnummer]" of a title: the customer's name, or the
/// number for customers the integration generated (and nameless ones).
pub fn customer_shown(display_name: Option<String>, number_shown: &str) -> String {
    match display_name {
        Some(n) if !n.starts_with(NEW_CONTACT) && !n.is_empty() => n,
        _ => number_shown.to_string(),
    }
}

/// "[Anrufrichtung] Anruf: [Kundenname/Telefonnummer]".
pub fn call_ticket_subject(direction: Direction, name: &str) -> String {
    let dir = match direction {
        Direction::Inbound => "Inbound",
        Direction::Outbound => "Outbound",
    };
    format!("{dir} call: {name}")
}

/// "SMS-Konversation mit [Kundenname]".
pub fn sms_ticket_subject(name: &str) -> String {
    format!("SMS conversation with {name}")
}

/// The agent of the call, whose e-mail picks the assignee and the notes'
/// author: the one who answered an inbound call or made an outbound one. On an
/// unanswered inbound call Aircall's `user` is only the last agent it rang,
/// who is nobody's agent.
pub fn call_agent(call: &Call) -> Option<&User> {
    match (call.direction, call.answered_at) {
        (Direction::Inbound, None) => None,
        _ => call.user.as_ref(),
    }
}

// --- Comments for messaging ("Automatisierte Ticket-Kommentare für Messaging")

/// What to do with the newest ticket of the customer's conversation with the Aircall number.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    /// Comment on this open ticket.
    Comment(u64),
    /// Reopen this ticket (closed less than the window ago), then comment.
    Reopen(u64),
    /// Start a new ticket.
    New,
}

/// The seed's checks: open → comment; spam or deleted → new; closed less than
/// `window` seconds (72 h) ago → reopen; otherwise (or closing time unknown) → new.
pub fn route_message(newest: Option<&Ticket>, now: i64, window: i64) -> Route {
    let Some(t) = newest else { return Route::New };
    if t.spam == Some(true) || t.trashed_datetime.as_deref().is_some_and(|d| !d.is_empty()) {
        return Route::New;
    }
    match t.status.as_deref() {
        Some("open") => Route::Comment(t.id),
        Some("closed") => match t.closed_datetime.as_deref().and_then(parse_rfc3339) {
            Some(closed) if now - closed < window => Route::Reopen(t.id),
            _ => Route::New,
        },
        _ => Route::New,
    }
}

// --- Tags ("Tag-Synchronisierung für Anrufe" and "… für Messaging")

/// After the first call.
pub const AIRCALL: &str = "Aircall";
/// Inbound calls.
pub const INBOUND: &str = "Inbound call";
/// Outbound calls.
pub const OUTBOUND: &str = "Outbound call";
/// A voicemail was left.
pub const VOICEMAIL: &str = "Voicemail";
/// The customer asked to be called back.
pub const CALLBACK_REQUEST: &str = "Callback request";
/// A customer who asked for a callback was called back.
pub const CALLED_BACK: &str = "Called back";
/// Nobody answered an inbound call.
pub const MISSED: &str = "Missed call";
/// SMS conversations.
pub const SMS: &str = "Aircall SMS";

/// Tag names are case-sensitive in Gorgias and at most 256 characters (§1.9).
fn clean(name: &str) -> Option<String> {
    let n: String = name.trim().chars().filter(|c| !c.is_control()).take(256).collect();
    (!n.is_empty()).then_some(n)
}

/// Add `names` to `list`, keeping order and skipping duplicates.
pub fn push_tags(list: &mut Vec<String>, names: impl IntoIterator<Item = String>) {
    for n in names.into_iter().filter_map(|n| clean(&n)) {
        if !list.contains(&n) {
            list.push(n);
        }
    }
}

/// `want` minus what the ticket already has.
pub fn missing_tags(have: &[String], want: &[String]) -> Vec<String> {
    want.iter().filter(|w| !have.contains(w)).cloned().collect()
}

/// "Verpasster Anruf": an inbound call that ended without being answered.
pub fn is_missed(call: &Call) -> bool {
    call.direction == Direction::Inbound && call.answered_at.is_none() && call.status == CallStatus::Done
}

/// "Rückrufanfrage": an IVR choice or an Aircall tag names one of the markers.
/// [U] Aircall's API has no callback-request field; the markers are a setting.
pub fn is_callback_request(call: &Call, markers: &[String]) -> bool {
    let hit = |s: &str| {
        let s = s.to_lowercase();
        markers.iter().any(|m| s.contains(m.as_str()))
    };
    call.direction == Direction::Inbound
        && (call.ivr_options.iter().any(|o| [&o.title, &o.branch].into_iter().flatten().any(|s| hit(s)))
            || call.tags.iter().any(|t| hit(&t.name)))
}

/// The tags a call's ticket should carry now (the groups `choice` turns on).
pub fn call_tags(call: &Call, choice: &TagChoice, callback_request: bool, called_back: bool) -> Vec<String> {
    let mut out = Vec::new();
    if choice.aircall {
        push_tags(&mut out, [AIRCALL.to_string()]);
    }
    if choice.direction {
        push_tags(&mut out, [if call.direction == Direction::Inbound { INBOUND } else { OUTBOUND }.to_string()]);
    }
    if choice.agent_tags {
        push_tags(&mut out, call.tags.iter().map(|t| t.name.clone()));
    }
    if choice.number {
        push_tags(&mut out, call.number.iter().map(|n| n.name.clone()));
    }
    if choice.team {
        push_tags(&mut out, call.teams.iter().map(|t| t.name.clone()));
    }
    if choice.voicemail && call.voicemail.as_deref().is_some_and(|v| !v.trim().is_empty()) {
        push_tags(&mut out, [VOICEMAIL.to_string()]);
    }
    if choice.callback && callback_request {
        push_tags(&mut out, [CALLBACK_REQUEST.to_string()]);
    }
    if choice.callback && called_back {
        push_tags(&mut out, [CALLED_BACK.to_string()]);
    }
    if choice.missed && is_missed(call) {
        push_tags(&mut out, [MISSED.to_string()]);
    }
    out
}

/// The tags of an SMS conversation's ticket: "Aircall SMS" and the Aircall number.
pub fn message_tags(msg: &Message, choice: &TagChoice) -> Vec<String> {
    let mut out = Vec::new();
    if choice.sms {
        push_tags(&mut out, [SMS.to_string()]);
    }
    if choice.number {
        push_tags(&mut out, msg.number.iter().map(|n| n.name.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_sdk::{IvrOption, Number, Tag, Team};

    fn ticket(status: &str, closed: Option<&str>, spam: bool, trashed: bool) -> Ticket {
        Ticket {
            id: 7,
            status: Some(status.into()),
            spam: Some(spam),
            closed_datetime: closed.map(str::to_string),
            trashed_datetime: trashed.then(|| "2026-01-01T00:00:00Z".into()),
            external_id: None,
        }
    }

    fn all_tags() -> TagChoice {
        TagChoice {
            aircall: true,
            direction: true,
            agent_tags: true,
            number: true,
            team: true,
            voicemail: true,
            callback: true,
            missed: true,
            sms: true,
        }
    }

    fn user(id: u64) -> User {
        User {
            id,
            name: "Ada".into(),
            email: Some("ada@example.com".into()),
            available: None,
            availability_status: None,
            time_zone: None,
            language: None,
            substatus: None,
        }
    }

    fn call(direction: Direction) -> Call {
        Call {
            id: 1,
            uuid: None,
            direct_link: None,
            direction,
            status: CallStatus::Done,
            missed_call_reason: None,
            started_at: Some(0),
            answered_at: None,
            ended_at: Some(60),
            duration: Some(60),
            raw_digits: "+33612345678".into(),
            voicemail: None,
            recording: None,
            asset: None,
            archived: false,
            number: Some(Number {
                id: 1,
                name: "Support".into(),
                digits: "+33 1 00 00 00 00".into(),
                e164: None,
                country: None,
                time_zone: None,
                availability_status: None,
                is_ivr: None,
            }),
            user: Some(user(3)),
            contact: None,
            assigned_to: None,
            teams: vec![Team { id: 1, name: "Tier 1".into() }],
            transferred_by: None,
            transferred_to: None,
            external_transferred_to: None,
            comments: Vec::new(),
            tags: Vec::new(),
            participants: Vec::new(),
            ivr_options: Vec::new(),
        }
    }

    #[test]
    fn a_new_customer_is_aircall_new_contact_plus_number_with_a_fake_email_of_that_number() {
        let settings = Settings {
            base_url: String::new(),
            insight_cards: true,
            tags: all_tags(),
            reopen_window_secs: 72 * 3600,
            placeholder_email_domain: "aircall.io".into(),
            callback_markers: Vec::new(),
            dashboard_call_url: String::new(),
            upload_max_bytes: 0,
        };
        assert_eq!(placeholder_email("+33612345678", &settings), "aircall-33612345678@aircall.io");
        assert_eq!(placeholder_email("", &settings), "anonymous@aircall.io");
        assert_eq!(customer_shown(Some(format!("{NEW_CONTACT} +33612345678")), "+33612345678"), "+33612345678");
        assert_eq!(customer_shown(Some("Ada Lovelace".into()), "+33612345678"), "Ada Lovelace");
        assert_eq!(customer_shown(None, "+33612345678"), "+33612345678");
    }

    #[test]
    fn the_ticket_title_is_direction_call_customer_name_or_number() {
        assert_eq!(call_ticket_subject(Direction::Inbound, "Ada Lovelace"), "Inbound call: Ada Lovelace");
        assert_eq!(call_ticket_subject(Direction::Outbound, "+33612345678"), "Outbound call: +33612345678");
        assert_eq!(sms_ticket_subject("Ada"), "SMS conversation with Ada");
    }

    #[test]
    fn an_unanswered_inbound_call_has_no_agent_to_assign() {
        let mut c = call(Direction::Inbound);
        assert!(call_agent(&c).is_none(), "the last agent rung is nobody's agent");
        c.answered_at = Some(5);
        assert_eq!(call_agent(&c).map(|u| u.id), Some(3));
        assert_eq!(call_agent(&call(Direction::Outbound)).map(|u| u.id), Some(3));
    }

    #[test]
    fn an_sms_is_a_comment_on_the_open_ticket_a_reopen_within_72_hours_else_a_new_ticket() {
        let now = parse_rfc3339("2026-01-10T00:00:00Z").unwrap_or_default();
        let w = 72 * 3600;
        assert_eq!(route_message(None, now, w), Route::New);
        assert_eq!(route_message(Some(&ticket("open", None, false, false)), now, w), Route::Comment(7));
        assert_eq!(route_message(Some(&ticket("open", None, true, false)), now, w), Route::New, "spam");
        assert_eq!(route_message(Some(&ticket("open", None, false, true)), now, w), Route::New, "deleted");
        let two_days = Some("2026-01-08T00:00:00.000000+00:00");
        assert_eq!(route_message(Some(&ticket("closed", two_days, false, false)), now, w), Route::Reopen(7));
        assert_eq!(route_message(Some(&ticket("closed", Some("2026-01-06T00:00:00Z"), false, false)), now, w), Route::New);
        assert_eq!(route_message(Some(&ticket("closed", None, false, false)), now, w), Route::New);
        assert_eq!(route_message(Some(&ticket("closed", Some("garbage"), false, false)), now, w), Route::New);
    }

    #[test]
    fn a_call_gets_aircall_direction_agent_number_team_tags_and_missed_voicemail_callback_when_they_apply() {
        let mut c = call(Direction::Inbound);
        c.voicemail = Some("https://example.com/v.mp3".into());
        c.tags = vec![Tag { id: 1, name: "vip".into(), color: None, tagged_at: None, tagged_by: None }];
        c.ivr_options =
            vec![IvrOption { id: None, title: Some("Please call me back".into()), key: Some("1".into()), branch: None, created_at: None }];
        let request = is_callback_request(&c, &["call me back".into()]);
        assert!(request && is_missed(&c));
        assert_eq!(
            call_tags(&c, &all_tags(), request, false),
            vec![AIRCALL, INBOUND, "vip", "Support", "Tier 1", VOICEMAIL, CALLBACK_REQUEST, MISSED]
        );
        let mut back = call(Direction::Outbound);
        back.answered_at = Some(5);
        assert!(!is_callback_request(&back, &["call me back".into()]), "only inbound calls request callbacks");
        assert_eq!(call_tags(&back, &all_tags(), false, true), vec![AIRCALL, OUTBOUND, "Support", "Tier 1", CALLED_BACK]);
        let off = TagChoice { aircall: true, ..TagChoice::default() };
        assert_eq!(call_tags(&c, &off, request, false), vec![AIRCALL], "only the groups the setting turns on");
    }

    #[test]
    fn tags_are_added_once_and_only_the_missing_ones_are_sent() {
        let mut list = vec!["Aircall".to_string()];
        push_tags(&mut list, ["Aircall".into(), "  ".into(), " vip ".into()]);
        assert_eq!(list, vec!["Aircall", "vip"]);
        assert_eq!(missing_tags(&list, &["vip".into(), "VIP".into()]), vec!["VIP"], "Gorgias tags are case-sensitive");
    }
}

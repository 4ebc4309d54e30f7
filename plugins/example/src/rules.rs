//! The connector's decisions as pure functions, worded like the spec they
//! come from (for a real connector: the seed's rules, one function each, with
//! a unit test quoting the rule). The event modules call them; no I/O here.

use switchboard_sdk::CallEventKind;
use switchboard_sdk::phone::{Normalized, PhoneError};

/// "The note names the other party in E.164; a withheld number is
/// `anonymous`; what the phone engine cannot read is kept as written."
pub fn party_shown(raw: &str, normalized: Result<Normalized, PhoneError>) -> String {
    match normalized {
        Ok(Normalized::Number(e164)) => e164,
        Ok(Normalized::Anonymous) => "anonymous".into(),
        Err(_) => raw.to_string(),
    }
}

/// "When insight cards are on, the agent sees the caller's number as the
/// call starts" (`call.created` only, never on later events).
pub fn pushes_card(kind: CallEventKind, insight_cards: bool) -> bool {
    insight_cards && kind == CallEventKind::Created
}

/// "A note's subject names what it is about": `call:{id}` / `message:{id}`.
pub fn subject(family: &str, id: impl std::fmt::Display) -> String {
    format!("{family}:{id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_sdk::phone::PhoneErrorKind;

    #[test]
    fn the_party_is_e164_anonymous_or_as_written() {
        assert_eq!(party_shown("0612", Ok(Normalized::Number("+33612".into()))), "+33612");
        assert_eq!(party_shown("", Ok(Normalized::Anonymous)), "anonymous");
        let unreadable = PhoneError { kind: PhoneErrorKind::InvalidCharacter, text: "invalid character".into() };
        assert_eq!(party_shown("abc", Err(unreadable)), "abc");
    }

    #[test]
    fn a_card_only_on_call_created_and_only_when_on() {
        assert!(pushes_card(CallEventKind::Created, true));
        assert!(!pushes_card(CallEventKind::Created, false));
        assert!(!pushes_card(CallEventKind::Ended, true));
    }

    #[test]
    fn subjects_name_the_family_and_id() {
        assert_eq!(subject("call", 42), "call:42");
    }
}

//! Which lane a job runs in: one lane per integration and **external party**.
//!
//! Jobs of one lane run one at a time, in arrival order; different lanes run in
//! parallel. A lane is the customer the event is about — the normalised E.164
//! number of the caller or SMS correspondent — so two calls of one customer, or
//! a call and an SMS from the same number arriving together, never race on the
//! same CRM records (one customer created, not two; tags consistent at the end),
//! and no plugin needs an election of its own. Withheld numbers share one lane
//! per Aircall number: they cannot be told apart, and they all land on the same
//! "anonymous" records of that line.
//!
//! Events that name no party of their own (a transcription, a voice-agent
//! summary without the caller's number) follow the lane of their call when the
//! host has seen it, so a call's later events stay ordered behind it.

use crate::aircall::ParsedEvent;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use switchboard_phone::Normalized;

/// How many calls' lanes are remembered for their later, party-less events.
const REMEMBERED_CALLS: usize = 65_536;

/// The lane of each recently seen call, for events that carry only a call id.
#[derive(Default)]
pub struct CallParties {
    inner: Mutex<Remembered>,
}

#[derive(Default)]
struct Remembered {
    lanes: HashMap<u64, String>,
    order: VecDeque<u64>,
}

impl CallParties {
    /// Remembers the lane of a call (the oldest call is forgotten past the bound).
    fn remember(&self, call_id: u64, lane: &str) {
        let Ok(mut r) = self.inner.lock() else { return };
        if r.lanes.insert(call_id, lane.to_string()).is_none() {
            r.order.push_back(call_id);
            if r.order.len() > REMEMBERED_CALLS
                && let Some(old) = r.order.pop_front()
            {
                r.lanes.remove(&old);
            }
        }
    }

    fn lane_of(&self, call_id: u64) -> Option<String> {
        self.inner.lock().ok()?.lanes.get(&call_id).cloned()
    }
}

/// The party lane of a raw external number: `party:+E164`, or for a withheld
/// number `anonymous:{aircall number id}`. A number the engine cannot read keeps
/// its digits, so the same unreadable number still shares one lane.
fn party(raw: &str, region: Option<&str>, line: Option<u64>) -> String {
    match switchboard_phone::normalize(raw, region) {
        Ok(Normalized::Number(e164)) => format!("party:{e164}"),
        Ok(Normalized::Anonymous) => format!("anonymous:{}", line.map(|l| l.to_string()).unwrap_or_default()),
        Err(_) => {
            let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
            format!("party:?{digits}")
        }
    }
}

/// The lane key (without the integration) of an event. `default_region` is the
/// integration's hint for numbers written without a country code, used when the
/// event's Aircall line names no country.
pub fn lane_key(event: &ParsedEvent, default_region: Option<&str>, calls: &CallParties) -> String {
    match event {
        ParsedEvent::Call(_, c) => {
            let line = c.number.as_ref();
            let region = line.and_then(|n| n.country.as_deref()).or(default_region);
            let lane = party(c.raw_digits.as_deref().unwrap_or(""), region, line.map(|n| n.id));
            calls.remember(c.id, &lane);
            lane
        }
        ParsedEvent::Message(_, m) => {
            let line = m.number.as_ref();
            let raw = m.external_number.as_deref().or(m.raw_digits.as_deref()).unwrap_or("");
            let region = line.and_then(|n| n.country.as_deref()).or(default_region);
            party(raw, region, line.map(|n| n.id))
        }
        ParsedEvent::GroupMessage(_, m) => {
            format!("group:{}", m.group_conversation_id.as_deref().or(m.group_message_id.as_deref()).unwrap_or(""))
        }
        ParsedEvent::VoiceAgent(_, v) => {
            let call = v.call_id.or(v.id);
            if let Some(lane) = call.and_then(|id| calls.lane_of(id)) {
                return lane;
            }
            match v.external_caller_number.as_deref() {
                Some(raw) => {
                    let lane = party(raw, default_region, v.number_id);
                    if let Some(id) = call {
                        calls.remember(id, &lane);
                    }
                    lane
                }
                None => format!("call:{}", call.unwrap_or(0)),
            }
        }
        ParsedEvent::Intelligence(_, i) => match i.call_id {
            Some(id) => calls.lane_of(id).unwrap_or_else(|| format!("call:{id}")),
            None => format!("intel:{}", i.id.as_deref().unwrap_or("")),
        },
        ParsedEvent::Contact(_, c) => format!("contact:{}", c.id),
        ParsedEvent::User(_, u) => format!("user:{}", u.id),
        ParsedEvent::Number(_, n) => format!("number:{}", n.id),
        ParsedEvent::IntegrationDeleted => "integration".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(event: &str, data: serde_json::Value) -> ParsedEvent {
        match ParsedEvent::parse(event, &data) {
            Ok(Some(p)) => p,
            other => panic!("{event} did not parse: {other:?}"),
        }
    }

    fn call(id: u64, raw: &str) -> ParsedEvent {
        parse(
            "call.created",
            json!({ "id": id, "direction": "inbound", "status": "initial", "raw_digits": raw,
                    "number": { "id": 777, "digits": "+33 1 23 45 67 89", "country": "FR" } }),
        )
    }

    #[test]
    fn two_calls_of_one_customer_share_a_lane_whatever_the_format() {
        let calls = CallParties::default();
        let a = lane_key(&call(1, "+33 6 12 34 56 78"), None, &calls);
        let b = lane_key(&call(2, "06 12 34 56 78"), None, &calls);
        assert_eq!(a, "party:+33612345678");
        assert_eq!(a, b);
        assert_ne!(a, lane_key(&call(3, "+33 6 99 99 99 99"), None, &calls));
    }

    #[test]
    fn a_call_and_an_sms_from_one_number_share_a_lane() {
        let calls = CallParties::default();
        let sms = parse(
            "message.received",
            json!({ "id": "m1", "direction": "inbound", "external_number": "+33612345678", "body": "hi",
                    "number": { "id": 777, "digits": "+33 1 23 45 67 89", "country": "FR" } }),
        );
        assert_eq!(lane_key(&sms, None, &calls), lane_key(&call(1, "+33 6 12 34 56 78"), None, &calls));
    }

    #[test]
    fn withheld_numbers_share_one_lane_per_aircall_line() {
        let calls = CallParties::default();
        let a = lane_key(&call(1, "anonymous"), None, &calls);
        assert_eq!(a, "anonymous:777");
        assert_eq!(a, lane_key(&call(2, "Anonymous"), None, &calls));
    }

    #[test]
    fn a_transcription_follows_its_call() {
        let calls = CallParties::default();
        let lane = lane_key(&call(42, "+44 330 818 6690"), None, &calls);
        let t = parse("transcription.created", json!({ "id": "t1", "call_id": 42, "content": {} }));
        assert_eq!(lane_key(&t, None, &calls), lane);
        let unknown = parse("transcription.created", json!({ "id": "t2", "call_id": 43, "content": {} }));
        assert_eq!(lane_key(&unknown, None, &calls), "call:43");
    }

    #[test]
    fn the_integration_region_reads_national_numbers_on_lines_without_a_country() {
        let calls = CallParties::default();
        let ev = parse("call.created", json!({ "id": 5, "direction": "inbound", "status": "initial", "raw_digits": "06 12 34 56 78" }));
        assert_eq!(lane_key(&ev, Some("FR"), &calls), "party:+33612345678");
    }
}

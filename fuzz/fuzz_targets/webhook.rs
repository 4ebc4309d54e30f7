//! A webhook body, as the server reads it before storing it, then as a job
//! reads it: JSON, the duplicate-key check, the envelope, the documented
//! Aircall object, the lane, the contract's event. Any input
//! must be refused with an error or go through; none may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard::aircall::model::{Envelope, ParsedEvent};
use switchboard::queue::lane::{CallParties, lane_key};

fuzz_target!(|body: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else { return };
    let _ = switchboard::server::webhook::first_duplicate_key(body);
    let Ok(envelope) = serde_json::from_value::<Envelope>(value) else { return };
    let Ok(Some(parsed)) = ParsedEvent::parse(&envelope.event, &envelope.data) else { return };
    let calls = CallParties::default();
    for region in [None, Some("FR"), Some("US")] {
        let _ = lane_key(&parsed, region, &calls);
    }
    let _ = switchboard::contract::convert::event(&parsed);
});

//! The dropdowns' `optionsUrl` endpoints: the "from" list offers the SMS
//! numbers linked to the integration (empty → the action cannot be saved, the
//! field being required); the "sender" list offers the users linked to the
//! chosen number. Both come from the caches of [`crate::directory`].
//!
//! [U] reference §3.11: the exact request and reply of `optionsUrl` are not
//! confirmed; the reply is `{options: [{label, value}], after, searchable}`.

use crate::definition::field;
use crate::directory;
use crate::inputs;
use crate::settings::Settings;
use serde_json::{Value, json};
use switchboard_sdk::log;

/// The seed's message when the feature is not enabled, shown in the number list.
pub const NOT_ENABLED: &str =
    "This feature is in private beta and is not enabled for your account. Please contact your Customer Success Manager.";

/// The value of the "not enabled" entry (never a number id, so an execution with it fails validation).
pub const NOT_ENABLED_VALUE: &str = "not-enabled";

fn reply(options: Vec<Value>) -> Value {
    json!({ "options": options, "after": null, "searchable": false })
}

/// Options of the "from" list.
pub fn from_numbers(settings: &Settings) -> Value {
    if !settings.sms_enabled {
        return reply(vec![json!({ "label": NOT_ENABLED, "value": NOT_ENABLED_VALUE, "description": NOT_ENABLED })]);
    }
    match directory::sms_numbers(settings) {
        Ok(numbers) => reply(numbers.iter().map(|n| json!({ "label": n.label(), "value": n.id.to_string() })).collect()),
        Err(e) => {
            log::warn(&format!("listing Aircall numbers failed: {e:?}"));
            reply(Vec::new())
        }
    }
}

/// Options of the "sender" list, for the number chosen in `body.inputFields.fromNumber`.
pub fn senders(settings: &Settings, body: &Value) -> Value {
    if !settings.sms_enabled {
        return reply(Vec::new());
    }
    let Some(number) = inputs::id(inputs::field(body, field::FROM_NUMBER)) else { return reply(Vec::new()) };
    if !settings.sms_numbers.contains(&number) {
        return reply(Vec::new());
    }
    match directory::senders(settings, number) {
        Ok(users) => reply(users.iter().map(|u| json!({ "label": u.label(), "value": u.id.to_string() })).collect()),
        Err(e) => {
            log::warn(&format!("listing the users of number {number} failed: {e:?}"));
            reply(Vec::new())
        }
    }
}

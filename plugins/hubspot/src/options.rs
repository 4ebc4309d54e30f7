//! The dropdowns' `optionsUrl` endpoints: the "from" list offers the SMS
//! numbers linked to the integration (empty → the action cannot be saved, the
//! field being required); the "sender" list offers the users linked to the
//! chosen number. Both come from the caches of [`crate::directory`]. When
//! listing fails (a refused Aircall key, a configured number the account does
//! not have) the list holds one entry saying so, never a silent empty list.
//!
//! [U] reference §3.11: the exact request and reply of `optionsUrl` are not
//! confirmed; the reply is `{options: [{label, value}], after, searchable}`.

use crate::definition::field;
use crate::directory;
use crate::inputs;
use crate::settings::Settings;
use serde_json::{Value, json};
use switchboard_sdk::{PluginError, log};

/// The seed's message when the feature is not enabled, shown in the number list.
pub const NOT_ENABLED: &str =
    "This feature is in private beta and is not enabled for your account. Please contact your Customer Success Manager.";

/// The value of the "not enabled" entry (never a number id, so an execution with it fails validation).
pub const NOT_ENABLED_VALUE: &str = "not-enabled";

/// The value of an entry that reports a problem instead of a number (never a
/// number id, so an execution with it fails validation).
pub const PROBLEM_VALUE: &str = "problem";

fn reply(options: Vec<Value>) -> Value {
    json!({ "options": options, "after": null, "searchable": false })
}

/// A dropdown entry that tells the person building the workflow what is wrong
/// (HubSpot shows option labels; an empty list would look like "no numbers").
fn problem(message: &str) -> Value {
    json!({ "label": message, "value": PROBLEM_VALUE, "description": message })
}

/// What the workflow editor should read when listing Aircall data failed.
pub fn failure_message(what: &str, error: &PluginError) -> String {
    match error {
        PluginError::Unauthorized(detail) => format!(
            "Aircall refused the API credentials of this integration's account while listing {what} ({detail}). \
             Ask the switchboard operator to fix accounts[].api_id / api_token."
        ),
        PluginError::RateLimited(_) => {
            format!("Aircall's API rate limit was reached while listing {what}; open this list again in a minute.")
        }
        PluginError::Retryable(detail) => {
            format!("Aircall could not be reached while listing {what} ({detail}); open this list again in a moment.")
        }
        PluginError::Permanent(detail) => format!("Listing {what} failed: {detail}"),
    }
}

/// The message for configured SMS numbers that the Aircall account does not have.
pub fn unknown_numbers_message(missing: &[u64]) -> String {
    let ids = missing.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
    format!(
        "Aircall number {ids} in this integration's sms_numbers is not a number of the Aircall account; \
         ask the switchboard operator to fix sms_numbers."
    )
}

/// Options of the "from" list.
pub fn from_numbers(settings: &Settings) -> Value {
    if !settings.sms_enabled {
        return reply(vec![json!({ "label": NOT_ENABLED, "value": NOT_ENABLED_VALUE, "description": NOT_ENABLED })]);
    }
    match directory::sms_numbers(settings) {
        Ok(numbers) => {
            let mut options = Vec::new();
            let missing = directory::missing(settings, &numbers);
            if !missing.is_empty() {
                let message = unknown_numbers_message(&missing);
                log::warn(&message);
                options.push(problem(&message));
            }
            options.extend(numbers.iter().map(|n| json!({ "label": n.label(), "value": n.id.to_string() })));
            reply(options)
        }
        Err(e) => {
            let message = failure_message("the Aircall numbers", &e);
            log::warn(&message);
            reply(vec![problem(&message)])
        }
    }
}

/// Options of the "sender" list, for the number chosen in `body.inputFields.fromNumber`.
pub fn senders(settings: &Settings, body: &Value) -> Value {
    if !settings.sms_enabled {
        return reply(Vec::new());
    }
    let Some(number) = inputs::id(inputs::field(body, field::FROM_NUMBER)) else {
        return reply(Vec::new());
    };
    if !settings.sms_numbers.contains(&number) {
        return reply(Vec::new());
    }
    match directory::senders(settings, number) {
        Ok(users) => reply(users.iter().map(|u| json!({ "label": u.label(), "value": u.id.to_string() })).collect()),
        Err(e) => {
            let message = failure_message(&format!("the users of Aircall number {number}"), &e);
            log::warn(&message);
            reply(vec![problem(&message)])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_sdk::RateLimit;

    #[test]
    fn failures_say_what_is_wrong() {
        let m = failure_message("the Aircall numbers", &PluginError::Unauthorized("aircall 403: Forbidden".into()));
        assert!(m.contains("refused the API credentials") && m.contains("api_token") && m.contains("403"), "{m}");
        let m = failure_message("x", &PluginError::RateLimited(RateLimit { retry_after_ms: 1000, reason: "busy".into() }));
        assert!(m.contains("rate limit"), "{m}");
        assert!(unknown_numbers_message(&[2003, 2004]).contains("2003, 2004"));
    }
}

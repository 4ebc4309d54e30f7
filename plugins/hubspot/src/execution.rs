//! The action itself: HubSpot POSTs an execution to the action URL; the fields
//! are validated, the message personalised, the limits taken, the SMS sent
//! through Aircall from the chosen number, and the SMS logged on the record.
//! The answer's `outputFields` (`hs_execution_state`, `status`, `reason`,
//! `messageId`) is what HubSpot shows in the workflow's action logs.
//!
//! Failures that retrying cannot fix (invalid fields, limits, opt-out, Aircall
//! refusing the message) answer 200 with `FAIL_CONTINUE`, so HubSpot does not
//! retry (seed: no retry over the limit in the beta). Transient trouble before
//! anything was sent answers 503 / 429 so HubSpot tries again. Once the SMS is
//! sent the answer is always `SUCCESS`, even if logging it failed.

use crate::conversation;
use crate::definition::field;
use crate::directory;
use crate::inputs;
use crate::limits;
use crate::once::{self, Claim};
use crate::options::NOT_ENABLED;
use crate::recipient::{self, Enrolled};
use crate::records::{self, Thread};
use crate::rules::{self, Outcome};
use crate::settings::Settings;
use crate::template::Template;
use serde_json::{Value, json};
use switchboard_sdk::phone::{self, Normalized};
use switchboard_sdk::{CapabilityError, Context, PluginError, log, now_ms, telephony};

/// Why an execution stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Trouble worth a retry by HubSpot (nothing was sent): 503, or 429 with
    /// the seconds to wait.
    Retry {
        /// HTTP status to answer.
        status: u16,
        /// Seconds to wait, when known.
        retry_after: Option<u64>,
        /// What happened.
        message: String,
    },
    /// The action fails with this reason (retrying would not help).
    Fail(String),
}

impl From<PluginError> for Stop {
    fn from(e: PluginError) -> Self {
        match e {
            PluginError::RateLimited(r) => {
                Stop::Retry { status: 429, retry_after: Some(r.retry_after_ms.div_ceil(1000)), message: r.reason }
            }
            PluginError::Retryable(m) => Stop::Retry { status: 503, retry_after: None, message: m },
            PluginError::Permanent(m) => Stop::Fail(m),
            PluginError::Unauthorized(m) => Stop::Fail(format!("credentials refused: {m}")),
        }
    }
}

impl From<CapabilityError> for Stop {
    fn from(e: CapabilityError) -> Self {
        PluginError::from(e).into()
    }
}

/// The answer to an execution request: status and JSON body.
pub type Answer = (u16, Option<u64>, Value);

/// Run one execution (the request's signature has been checked).
pub fn handle(ctx: &Context, settings: &Settings, body: &[u8]) -> Answer {
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return (400, None, json!({ "error": "the body is not JSON" }));
    };
    let callback = body.get("callbackId").and_then(Value::as_str).unwrap_or("");
    if !once::valid_callback_id(callback) {
        return (400, None, json!({ "error": "callbackId is missing or malformed" }));
    }
    let token = match once::claim(callback, now_ms()) {
        Ok(Claim::Mine(t)) => t,
        Ok(Claim::Done(output)) => return (200, None, output),
        Ok(Claim::Busy) => {
            return (503, Some(5), json!({ "error": "this execution is being processed" }));
        }
        Ok(Claim::Abandoned) => {
            let out = Outcome::Failed(
                "an earlier attempt of this execution stopped midway; the SMS may have been sent, so it is not sent again".into(),
            );
            return (200, None, out.output());
        }
        Err(e) => return retry_answer(Stop::from(e)),
    };
    let outcome = match run(ctx, settings, &body) {
        Ok(outcome) => outcome,
        Err(Stop::Fail(reason)) => Outcome::Failed(reason),
        Err(stop) => {
            log::with(log::Level::Warn, "send-sms execution deferred", &[("callback", callback), ("reason", &format!("{stop:?}"))]);
            if let Err(e) = token.release() {
                log::warn(&format!("releasing {callback} failed: {e:?}"));
            }
            return retry_answer(stop);
        }
    };
    let output = outcome.output();
    let text = |k: &str| output["outputFields"][k].as_str().unwrap_or("").to_string();
    let level = if matches!(outcome, Outcome::Failed(_)) { log::Level::Warn } else { log::Level::Info };
    log::with(level, "send-sms execution", &[("callback", callback), ("status", &text("status")), ("reason", &text("reason"))]);
    if let Err(e) = token.complete(&output) {
        log::warn(&format!("recording the answer of {callback} failed: {e:?}"));
    }
    (200, None, output)
}

fn retry_answer(stop: Stop) -> Answer {
    match stop {
        Stop::Retry { status, retry_after, message } => (status, retry_after.or(Some(30)), json!({ "error": message })),
        Stop::Fail(reason) => (200, None, Outcome::Failed(reason).output()),
    }
}

/// The validated fields of an execution.
struct Fields {
    number: directory::SmsNumber,
    sender: directory::Sender,
    to: String,
    template: Template,
    enrolled: Enrolled,
}

/// Validate the inputs (`Stop::Fail` with the reason when one is missing or invalid).
fn validate(ctx: &Context, settings: &Settings, body: &Value) -> Result<Fields, Stop> {
    let Some(enrolled) = Enrolled::from_request(body) else {
        return Err(Stop::Fail("the request names no enrolled record (object.objectType / object.objectId)".into()));
    };
    let from = inputs::text(inputs::field(body, field::FROM_NUMBER));
    let Some(from) = from else {
        return Err(Stop::Fail(format!("{} (Aircall number) is required", field::FROM_NUMBER)));
    };
    let Some(number_id) = from.parse::<u64>().ok() else {
        return Err(Stop::Fail(format!("{} {from:?} is not an Aircall number id", field::FROM_NUMBER)));
    };
    let Some(number) = directory::sms_numbers(settings)?.into_iter().find(|n| n.id == number_id) else {
        return Err(Stop::Fail(format!("Aircall number {number_id} is not an SMS number linked to this integration")));
    };
    let Some(user) = inputs::text(inputs::field(body, field::SENDER_USER)) else {
        return Err(Stop::Fail(format!("{} (sender user) is required", field::SENDER_USER)));
    };
    let Some(user_id) = user.parse::<u64>().ok() else {
        return Err(Stop::Fail(format!("{} {user:?} is not an Aircall user id", field::SENDER_USER)));
    };
    let Some(sender) = directory::senders(settings, number_id)?.into_iter().find(|u| u.id == user_id) else {
        return Err(Stop::Fail(format!("user {user_id} is not linked to Aircall number {number_id}")));
    };
    let Some(raw_to) = inputs::text(inputs::field(body, field::TO_PHONE)) else {
        return Err(Stop::Fail(format!(
            "{} (recipient number) is empty: the record has no phone number in that property",
            field::TO_PHONE
        )));
    };
    // A property name instead of a value (a static "mobilephone") is looked up on the record.
    let raw_to = enrolled.properties.get(&raw_to.to_ascii_lowercase()).cloned().unwrap_or(raw_to);
    let to = match phone::normalize(&raw_to, ctx.region_for_country(number.country.as_deref())) {
        Ok(Normalized::Number(e164)) => e164,
        Ok(Normalized::Anonymous) => {
            return Err(Stop::Fail(format!("{} {raw_to:?} is not a phone number", field::TO_PHONE)));
        }
        Err(why) => {
            return Err(Stop::Fail(format!("{} {raw_to:?} is not a valid phone number: {why}", field::TO_PHONE)));
        }
    };
    let Some(message) = inputs::text(inputs::field(body, field::MESSAGE)) else {
        return Err(Stop::Fail(format!("{} is required", field::MESSAGE)));
    };
    let template = match Template::parse(&message) {
        Ok(t) => t,
        Err(why) => return Err(Stop::Fail(format!("{}: {why}", field::MESSAGE))),
    };
    let own = enrolled.token_name();
    if let Some(t) = template.tokens().into_iter().find(|t| !rules::token_allowed(&t.object, &own)) {
        return Err(Stop::Fail(format!(
            "{}: {{{{{}.{}}}}} refers to a {} but this workflow runs on {} records",
            field::MESSAGE,
            t.object,
            t.property,
            t.object,
            own
        )));
    }
    Ok(Fields { number, sender, to, template, enrolled })
}

fn run(ctx: &Context, settings: &Settings, body: &Value) -> Result<Outcome, Stop> {
    if !settings.sms_enabled {
        return Ok(Outcome::Failed(NOT_ENABLED.into()));
    }
    let f = validate(ctx, settings, body)?;
    let recipient = recipient::resolve(settings, &f.enrolled, &f.to, &f.template)?;
    if let Some(contact) = &recipient.opted_out {
        return Ok(Outcome::Skipped(format!(
            "the recipient {} has opted out of SMS (contact {contact}, property {})",
            f.to, settings.opt_out_property
        )));
    }
    let text = f.template.render(&recipient.values);
    if let Err(reason) = rules::check_message(&text) {
        return Ok(Outcome::Failed(reason));
    }
    let counters = limits::for_sender(settings, f.number.id, f.sender.id);
    if let Err(reason) = limits::reserve(settings, &counters, f.number.id, f.sender.id)? {
        return Ok(Outcome::Failed(reason));
    }
    let message = telephony::OutgoingMessage {
        number_id: f.number.id,
        to: f.to.clone(),
        body: text.clone(),
        media_urls: vec![],
        sender_user_id: Some(f.sender.id),
    };
    let sent = match telephony::send_message(&message) {
        Ok(sent) => sent,
        Err(e) => {
            if let Err(e) = switchboard_sdk::quota::release_all(&counters) {
                log::warn(&format!("releasing the limit counters failed: {e:?}"));
            }
            return match e {
                CapabilityError::RateLimited(_) | CapabilityError::Unavailable(_) => Err(e.into()),
                CapabilityError::Invalid(m) | CapabilityError::NotFound(m) | CapabilityError::Denied(m) => {
                    Ok(Outcome::Failed(format!("Aircall refused the message: {m}")))
                }
                CapabilityError::Unauthorized(m) => Ok(Outcome::Failed(format!("Aircall refused the account's credentials: {m}"))),
                CapabilityError::Ambiguous(m) => Ok(Outcome::Failed(format!("the SMS may or may not have been sent: {m}"))),
            };
        }
    };
    let logged = log_sent(settings, &f, &recipient.contact_ids, &text)
        .map_err(|e| log::warn(&format!("logging the SMS on HubSpot failed: {e:?}")))
        .is_ok();
    Ok(Outcome::Sent { message_id: sent.id, logged })
}

/// Log the SMS on the enrolled record and its contacts, and remember the thread for replies.
fn log_sent(settings: &Settings, f: &Fields, contact_ids: &[String], text: &str) -> Result<(), PluginError> {
    let owner_id = directory::owner_of(settings, f.sender.email.as_deref()).unwrap_or_else(|e| {
        log::warn(&format!("looking up the HubSpot owner of user {} failed: {e:?}", f.sender.id));
        None
    });
    let thread = Thread {
        object_type: f.enrolled.object_type.clone(),
        object_id: f.enrolled.id.clone(),
        contact_ids: contact_ids.to_vec(),
        owner_id,
    };
    if let Err(e) = thread.save(settings, f.number.id, &f.to) {
        log::warn(&format!("remembering the conversation failed: {e:?}"));
    }
    let body = format!("SMS sent by a HubSpot workflow from {} to {} by {}:\n{text}", f.number.label(), f.to, f.sender.label());
    let at = now_ms();
    conversation::log(settings, &thread, "SMS", body.clone(), at).map(|_| ()).or_else(|e| {
        // The SMS is out: keep the communication for the next event job to log.
        records::defer(records::Pending { thread, channel: "SMS".into(), body, timestamp_ms: at })?;
        Err(e)
    })
}

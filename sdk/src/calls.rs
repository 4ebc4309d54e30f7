//! What Aircall's call webhooks do not carry, read through the host.
//!
//! Webhooks never carry `ivr_options_selected`: only `GET /v1/calls/{id}` with
//! the call timeline does (shared/reference/aircall-api.md §4.1). Reading the
//! call on every event would spend the account's Aircall budget (60 requests a
//! minute, shared by every integration) on calls without an IVR, so the choice
//! is read once, when Aircall says there is one (`call.ivr_option_selected`),
//! and remembered for the call's later events.

use crate::bindings::switchboard::plugin::telephony;
use crate::bindings::switchboard::plugin::types::{Call, CallEventKind, IvrOption, PluginError};
use crate::error::CapabilityError;
use crate::{log, storage};
use serde::{Deserialize, Serialize};

/// How long a call's IVR choices are remembered (its later tags and comments).
const REMEMBER_SECONDS: u32 = 7 * 86_400;

#[derive(Serialize, Deserialize)]
struct Remembered {
    id: Option<String>,
    title: Option<String>,
    key: Option<String>,
    branch: Option<String>,
    created_at: Option<i64>,
}

fn key(call_id: u64) -> String {
    format!("switchboard:ivr:{call_id}")
}

/// The IVR options the caller selected on `call`, as of this `kind` of event:
/// what the payload carries when it carries them; on `call.ivr_option_selected`
/// the call read from Aircall's REST API (and remembered); on later events what
/// was remembered; none when the call never went through an IVR choice.
pub fn ivr_options(call: &Call, kind: CallEventKind) -> Result<Vec<IvrOption>, PluginError> {
    if !call.ivr_options.is_empty() {
        return Ok(call.ivr_options.clone());
    }
    if kind != CallEventKind::IvrOptionSelected {
        let remembered: Option<Vec<Remembered>> = storage::get(&key(call.id))?;
        return Ok(remembered
            .unwrap_or_default()
            .into_iter()
            .map(|r| IvrOption { id: r.id, title: r.title, key: r.key, branch: r.branch, created_at: r.created_at })
            .collect());
    }
    let options = match telephony::get_call(call.id, true) {
        Ok(rest) => rest.ivr_options,
        Err(CapabilityError::NotFound(m)) => {
            log::with(
                log::Level::Warn,
                "Aircall does not know this call; its IVR choice is unknown",
                &[("call", &call.id.to_string()), ("why", &m)],
            );
            return Ok(Vec::new());
        }
        Err(e) => return Err(e.into()),
    };
    let remembered: Vec<Remembered> = options
        .iter()
        .map(|o| Remembered {
            id: o.id.clone(),
            title: o.title.clone(),
            key: o.key.clone(),
            branch: o.branch.clone(),
            created_at: o.created_at,
        })
        .collect();
    storage::set(&key(call.id), &remembered, Some(REMEMBER_SECONDS))?;
    Ok(options)
}

/// `call` with its IVR options filled in by [`ivr_options`].
pub fn with_ivr_options(mut call: Call, kind: CallEventKind) -> Result<Call, PluginError> {
    call.ivr_options = ivr_options(&call, kind)?;
    Ok(call)
}

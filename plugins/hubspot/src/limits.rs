//! The seed's sending limits: 5,000 messages a day and 10,000 a month per
//! sender user and Aircall number, counted across all workflows (the counters
//! are keyed by user and number only). Days and months are UTC ([U]: the seed
//! does not say which time zone).

use crate::rules;
use crate::settings::Settings;
use switchboard_sdk::quota::{self, Limit, Verdict};
use switchboard_sdk::{CapabilityError, now_ms};

/// The two counters of a sender on a number, for the current day and month
/// ([`rules::sending_limits`]).
pub fn for_sender(settings: &Settings, number_id: u64, user_id: u64) -> [Limit; 2] {
    rules::sending_limits(settings, number_id, user_id, now_ms())
}

/// Take one message from both counters; `Err(reason)` when one is used up.
pub fn reserve(settings: &Settings, limits: &[Limit; 2], number_id: u64, user_id: u64) -> Result<Result<(), String>, CapabilityError> {
    Ok(match quota::reserve_all(limits)? {
        Verdict::Granted => Ok(()),
        Verdict::Exhausted { index, .. } => Err(rules::limit_reached(settings, index, number_id, user_id)),
    })
}

//! The seed's sending limits: 5,000 messages a day and 10,000 a month per
//! sender user and Aircall number, counted across all workflows (the counters
//! are keyed by user and number only). Days and months are UTC ([U]: the seed
//! does not say which time zone).

use crate::settings::Settings;
use switchboard_sdk::quota::{self, Limit, Verdict};
use switchboard_sdk::{CapabilityError, now_ms};

/// The two counters of a sender on a number, for the current day and month.
pub fn for_sender(settings: &Settings, number_id: u64, user_id: u64) -> [Limit; 2] {
    let now = now_ms();
    [
        Limit {
            key: format!("limit:day:{}:{number_id}:{user_id}", quota::utc_day(now)),
            max: settings.daily_limit,
            ttl_seconds: 2 * 86_400,
        },
        Limit {
            key: format!("limit:month:{}:{number_id}:{user_id}", quota::utc_month(now)),
            max: settings.monthly_limit,
            ttl_seconds: 32 * 86_400,
        },
    ]
}

/// Take one message from both counters; `Err(reason)` when one is used up.
pub fn reserve(settings: &Settings, limits: &[Limit; 2], number_id: u64, user_id: u64) -> Result<Result<(), String>, CapabilityError> {
    Ok(match quota::reserve_all(limits)? {
        Verdict::Granted => Ok(()),
        Verdict::Exhausted { index, .. } => {
            let (period, max) = if index == 0 { ("daily", settings.daily_limit) } else { ("monthly", settings.monthly_limit) };
            Err(format!(
                "{period} limit of {max} messages reached for user {user_id} on Aircall number {number_id}; the message is not sent and will not be retried"
            ))
        }
    })
}

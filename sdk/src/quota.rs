//! Bounded counters in plugin storage ("at most N messages a day per sender"),
//! safe under concurrent jobs: every change is a compare-and-swap, retried
//! when another job changed the counter in between.
//!
//! ```no_run
//! # fn f(sender: &str) -> Result<(), switchboard_sdk::CapabilityError> {
//! use switchboard_sdk::quota::{self, Limit, Verdict};
//! let now = switchboard_sdk::now_ms();
//! let limits = [
//!     Limit { key: format!("sms:d:{}:{sender}", quota::utc_day(now)), max: 5000, ttl_seconds: 2 * 86_400 },
//!     Limit { key: format!("sms:m:{}:{sender}", quota::utc_month(now)), max: 10_000, ttl_seconds: 32 * 86_400 },
//! ];
//! match quota::reserve_all(&limits)? {
//!     Verdict::Granted => { /* send; on failure quota::release_all(&limits)? */ }
//!     Verdict::Exhausted { index, count } => { /* limits[index] is used up */ }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Counters are stored as decimal ASCII. A value that is not a number (written
//! by something else) counts as exhausted rather than as zero, so a corrupt
//! counter never lets more through than the limit.

use crate::bindings::switchboard::plugin::storage as wit;
use crate::error::CapabilityError;

/// How many times a compare-and-swap is retried under contention.
const MAX_TRIES: u32 = 64;

/// One counter and its ceiling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// Storage key of the counter (put the period in it, e.g. the day).
    pub key: String,
    /// The most the counter may reach.
    pub max: u64,
    /// Time-to-live of the counter, refreshed on every change (longer than the period).
    pub ttl_seconds: u32,
}

/// What a reservation found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every counter was incremented.
    Granted,
    /// `limits[index]` already stood at `count` (≥ its max); nothing was changed.
    Exhausted {
        /// Which limit.
        index: usize,
        /// Its current value.
        count: u64,
    },
}

fn parse(bytes: Option<&[u8]>) -> Option<u64> {
    match bytes {
        None => Some(0),
        Some(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
    }
}

/// The counter's current value (0 when absent, `u64::MAX` when unreadable).
pub fn current(key: &str) -> Result<u64, CapabilityError> {
    Ok(parse(wit::get(key)?.as_deref()).unwrap_or(u64::MAX))
}

/// Add one to the counter unless it has reached `limit.max`.
/// `Ok(Ok(new))` when incremented, `Ok(Err(count))` when full.
pub fn reserve(limit: &Limit) -> Result<Result<u64, u64>, CapabilityError> {
    for _ in 0..MAX_TRIES {
        let old = wit::get(&limit.key)?;
        let Some(count) = parse(old.as_deref()) else {
            return Ok(Err(u64::MAX));
        };
        if count >= limit.max {
            return Ok(Err(count));
        }
        let new = (count + 1).to_string();
        if wit::compare_and_swap(&limit.key, old.as_deref(), Some(new.as_bytes()), Some(limit.ttl_seconds))? {
            return Ok(Ok(count + 1));
        }
    }
    Err(CapabilityError::Unavailable(format!("counter {} is contended; try again", limit.key)))
}

/// Take back one reservation (never below zero).
pub fn release(limit: &Limit) -> Result<(), CapabilityError> {
    for _ in 0..MAX_TRIES {
        let old = wit::get(&limit.key)?;
        let Some(count) = parse(old.as_deref()) else {
            return Ok(());
        };
        if count == 0 {
            return Ok(());
        }
        let new = (count - 1).to_string();
        if wit::compare_and_swap(&limit.key, old.as_deref(), Some(new.as_bytes()), Some(limit.ttl_seconds))? {
            return Ok(());
        }
    }
    Err(CapabilityError::Unavailable(format!("counter {} is contended; try again", limit.key)))
}

/// Reserve one unit of every limit, or none: when one is exhausted (or an
/// error occurs), the ones already taken are released again.
pub fn reserve_all(limits: &[Limit]) -> Result<Verdict, CapabilityError> {
    for (index, limit) in limits.iter().enumerate() {
        let outcome = reserve(limit);
        if !matches!(outcome, Ok(Ok(_))) {
            for taken in &limits[..index] {
                // Best effort: a failed release leaves the counter one high, which errs on the safe side.
                let _ = release(taken);
            }
        }
        match outcome? {
            Ok(_) => {}
            Err(count) => return Ok(Verdict::Exhausted { index, count }),
        }
    }
    Ok(Verdict::Granted)
}

/// Release one unit of every limit (after the guarded action did not happen).
pub fn release_all(limits: &[Limit]) -> Result<(), CapabilityError> {
    let mut first_error = None;
    for limit in limits {
        if let Err(e) = release(limit) {
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// `(year, month, day)` of a day counted from 1970-01-01 (proleptic Gregorian).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Howard Hinnant's algorithm (chrono-compatible dates).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The UTC day of a UNIX-milliseconds instant, `YYYY-MM-DD` (a period key).
pub fn utc_day(now_ms: i64) -> String {
    let (y, m, d) = civil_from_days(now_ms.div_euclid(86_400_000));
    format!("{y:04}-{m:02}-{d:02}")
}

/// The UTC month of a UNIX-milliseconds instant, `YYYY-MM` (a period key).
pub fn utc_month(now_ms: i64) -> String {
    let (y, m, _) = civil_from_days(now_ms.div_euclid(86_400_000));
    format!("{y:04}-{m:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar() {
        assert_eq!(utc_day(0), "1970-01-01");
        assert_eq!(utc_day(951_782_400_000), "2000-02-29");
        assert_eq!(utc_day(1_763_720_100_123), "2025-11-21");
        assert_eq!(utc_month(1_763_720_100_123), "2025-11");
        assert_eq!(utc_day(-1), "1969-12-31");
    }

    #[test]
    fn counter_values() {
        assert_eq!(parse(None), Some(0));
        assert_eq!(parse(Some(b"41")), Some(41));
        assert_eq!(parse(Some(b"x")), None);
    }
}

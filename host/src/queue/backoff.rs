//! Exponential back-off with full jitter, capped, never shorter than a
//! server-announced wait.

use rand::Rng;
use std::time::Duration;

/// The wait before attempt `attempt + 1` (attempt counts from 1).
pub fn delay(attempt: u32, base: Duration, cap: Duration, at_least: Option<Duration>) -> Duration {
    let exp = base.saturating_mul(1u32.checked_shl(attempt.saturating_sub(1).min(30)).unwrap_or(u32::MAX));
    let ceiling = exp.min(cap);
    let jittered = Duration::from_secs_f64(rand::rng().random_range(0.0..=1.0) * ceiling.as_secs_f64());
    match at_least {
        Some(min) => jittered.max(min),
        None => jittered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_is_capped_and_respects_floor() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(10);
        for attempt in 1..40 {
            let d = delay(attempt, base, cap, None);
            assert!(d <= cap);
            let ceiling = base.saturating_mul(1 << (attempt - 1).min(20)).min(cap);
            assert!(d <= ceiling, "attempt {attempt}: {d:?} > {ceiling:?}");
        }
        assert!(delay(1, base, cap, Some(Duration::from_secs(3))) >= Duration::from_secs(3));
        // Full jitter: over many draws the spread covers most of the range.
        let draws: Vec<_> = (0..200).map(|_| delay(8, base, cap, None)).collect();
        assert!(draws.iter().any(|d| *d < Duration::from_secs(3)) && draws.iter().any(|d| *d > Duration::from_secs(7)));
    }
}

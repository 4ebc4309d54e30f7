//! Outbound rate governance: a token bucket per (integration, host) from the
//! manifest's limits, tightened by what responses say (429 + `Retry-After`,
//! remaining/reset headers, Gorgias's `used/limit` header). A limit never
//! disables anything: callers wait, or the job is re-queued for later.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A configured budget: `requests` per `per`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// Requests allowed per window.
    pub requests: u32,
    /// The window the requests are counted over.
    pub per: Duration,
}

#[derive(Debug)]
struct Bucket {
    budget: Option<Budget>,
    tokens: f64,
    updated: Instant,
    blocked_until: Option<Instant>,
}

impl Bucket {
    fn new(budget: Option<Budget>, now: Instant) -> Bucket {
        Bucket { budget, tokens: budget.map(|b| b.requests as f64).unwrap_or(0.0), updated: now, blocked_until: None }
    }

    /// Adds the tokens earned since `updated` (which may lie in the future
    /// while a block lasts: nothing is earned during a block).
    fn refill(&mut self, now: Instant) {
        if now <= self.updated {
            return;
        }
        if let Some(b) = self.budget {
            let rate = b.requests as f64 / b.per.as_secs_f64().max(1e-3);
            let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
            self.tokens = (self.tokens + elapsed * rate).min(b.requests as f64);
        }
        self.updated = now;
    }

    /// Wait before the next request may go (zero: now). Takes a token when zero.
    fn acquire(&mut self, now: Instant) -> Duration {
        self.refill(now);
        if let Some(until) = self.blocked_until {
            if until > now {
                return until - now;
            }
            self.blocked_until = None;
        }
        let Some(b) = self.budget else {
            return Duration::ZERO;
        };
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Duration::ZERO;
        }
        let rate = b.requests as f64 / b.per.as_secs_f64().max(1e-3);
        Duration::from_secs_f64((1.0 - self.tokens) / rate)
    }
}

/// What a response said about the limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Signal {
    /// Nothing to act on.
    None,
    /// Stop sending until this long from now.
    Block(Duration),
    /// The server counts this many requests left for now (its budget may be
    /// shared with other clients of the account, so it can be less than ours).
    Remaining(u64),
}

/// Read a response's rate-limit headers. `max` clamps absurd `Retry-After` values.
pub fn read_signal(status: u16, headers: &[(String, String)], max: Duration) -> Signal {
    let get = |name: &str| header(headers, name);
    let retry_after = get("retry-after").and_then(parse_retry_after);
    if status == 429 || status == 503 {
        let wait = retry_after
            .or_else(|| get("x-ratelimit-retry-after").and_then(|v| v.parse::<u64>().ok()).map(Duration::from_secs))
            .or_else(|| reset_header(headers))
            .unwrap_or(Duration::from_secs(if status == 429 { 5 } else { 1 }));
        return Signal::Block(clamp(wait, max));
    }
    // Remaining budget exhausted: wait for the reset the server announced.
    let remaining = ["x-ratelimit-remaining", "x-aircallapi-remaining", "x-hubspot-ratelimit-remaining", "x-ratelimit-remaining-minute"]
        .iter()
        .find_map(|h| get(h))
        .and_then(|v| v.parse::<i64>().ok());
    if remaining == Some(0) {
        let wait = reset_header(headers).unwrap_or(Duration::from_secs(1));
        return Signal::Block(clamp(wait, max));
    }
    // Gorgias: `X-Gorgias-Account-Api-Call-Limit: used/limit` on every response.
    if let Some((used, limit)) = get("x-gorgias-account-api-call-limit").and_then(parse_used_of) {
        if limit > 0 && used >= limit {
            return Signal::Block(clamp(retry_after.unwrap_or(Duration::from_secs(1)), max));
        }
        return Signal::Remaining(limit.saturating_sub(used));
    }
    match remaining {
        Some(n) if n > 0 => Signal::Remaining(n as u64),
        _ => Signal::None,
    }
}

fn clamp(wait: Duration, max: Duration) -> Duration {
    if wait > max {
        tracing::warn!(?wait, ?max, "clamping an absurd Retry-After");
        return max;
    }
    wait
}

fn parse_used_of(v: &str) -> Option<(u64, u64)> {
    let (a, b) = v.split_once('/')?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

/// `Retry-After`: delta-seconds or an HTTP date.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(std::time::SystemTime::now()).unwrap_or(Duration::ZERO))
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim())
}

fn reset_header(headers: &[(String, String)]) -> Option<Duration> {
    let v = ["x-ratelimit-reset", "x-aircallapi-reset"].iter().find_map(|h| header(headers, h))?;
    let n: u64 = v.parse().ok()?;
    // A UNIX timestamp or a number of seconds.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(if n > 1_000_000_000 { n.saturating_sub(now) } else { n }))
}

/// All buckets, keyed by `(scope, host)`.
#[derive(Default)]
pub struct RateLimiters {
    buckets: Mutex<HashMap<(String, String), Bucket>>,
}

impl RateLimiters {
    /// How long to wait before sending to `host` for `scope`; takes a token when
    /// the answer is zero.
    pub fn acquire(&self, scope: &str, host: &str, budget: Option<Budget>) -> Duration {
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else {
            return Duration::ZERO;
        };
        let bucket = buckets.entry((scope.to_string(), host.to_string())).or_insert_with(|| Bucket::new(budget, now));
        if bucket.budget != budget {
            *bucket = Bucket::new(budget, now);
        }
        bucket.acquire(now)
    }

    /// Takes a token, sleeping while the wait is at most `max_inline()`;
    /// `Err(wait)` when the bucket needs longer (the caller reports it as
    /// rate-limited). Asks again after every sleep, so concurrent callers that
    /// woke together do not all send on one token.
    pub async fn take(&self, scope: &str, host: &str, budget: Option<Budget>, max_inline: impl Fn() -> Duration) -> Result<(), Duration> {
        loop {
            let wait = self.acquire(scope, host, budget);
            if wait.is_zero() {
                return Ok(());
            }
            if wait > max_inline() {
                return Err(wait);
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Apply what a response said.
    pub fn observe(&self, scope: &str, host: &str, signal: Signal) {
        let now = Instant::now();
        let wait = match signal {
            Signal::None => return,
            Signal::Block(wait) => wait,
            Signal::Remaining(n) => {
                // Never hold more tokens than the server has left: when other
                // clients share the account's budget, ours refills faster than theirs.
                let Ok(mut buckets) = self.buckets.lock() else {
                    return;
                };
                if let Some(bucket) = buckets.get_mut(&(scope.to_string(), host.to_string())) {
                    bucket.refill(now);
                    bucket.tokens = bucket.tokens.min(n as f64);
                }
                return;
            }
        };
        let Ok(mut buckets) = self.buckets.lock() else {
            return;
        };
        let bucket = buckets.entry((scope.to_string(), host.to_string())).or_insert_with(|| Bucket::new(None, now));
        let until = now + wait;
        bucket.blocked_until = Some(bucket.blocked_until.map_or(until, |u| u.max(until)));
        // The server is full: start again from an empty bucket when the block
        // ends, rather than with the tokens our own refill earned meanwhile.
        bucket.refill(now);
        bucket.tokens = 0.0;
        bucket.updated = bucket.updated.max(until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_waiters_share_the_budget_instead_of_all_sending_when_they_wake() {
        // 10 requests a second with a burst of 10: 30 concurrent callers need
        // about two seconds; sending on wake-up would let all 30 out within ~0.1 s.
        let limiters = Arc::new(RateLimiters::default());
        let budget = Some(Budget { requests: 10, per: Duration::from_secs(1) });
        let start = Instant::now();
        let tasks: Vec<_> = (0..30)
            .map(|_| {
                let l = limiters.clone();
                tokio::spawn(async move { l.take("acct", "aircall", budget, || Duration::from_secs(10)).await.map(|_| start.elapsed()) })
            })
            .collect();
        let mut done = Vec::new();
        for t in tasks {
            done.push(t.await.unwrap_or(Err(Duration::ZERO)).unwrap_or_default());
        }
        done.sort();
        let within_half_second = done.iter().filter(|d| **d < Duration::from_millis(500)).count();
        assert!(within_half_second <= 16, "{within_half_second} of 30 went out in the first 0.5 s: {done:?}");
        assert!(done[29] >= Duration::from_millis(1500), "the last one must wait for ~20 refills: {:?}", done[29]);
    }

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }
    const MAX: Duration = Duration::from_secs(3600);

    #[test]
    fn retry_after_seconds_and_date_block() {
        assert_eq!(read_signal(429, &h(&[("Retry-After", "7")]), MAX), Signal::Block(Duration::from_secs(7)));
        let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(30));
        let Signal::Block(d) = read_signal(429, &h(&[("retry-after", &date)]), MAX) else { panic!("no block") };
        assert!(d > Duration::from_secs(25) && d <= Duration::from_secs(30), "{d:?}");
    }

    #[test]
    fn absurd_retry_after_is_clamped() {
        assert_eq!(read_signal(429, &h(&[("Retry-After", "1000000000")]), MAX), Signal::Block(MAX));
    }

    #[test]
    fn gorgias_full_budget_blocks_and_ok_does_not() {
        assert_eq!(read_signal(200, &h(&[("X-Gorgias-Account-Api-Call-Limit", "12/40")]), MAX), Signal::Remaining(28));
        assert!(matches!(read_signal(200, &h(&[("X-Gorgias-Account-Api-Call-Limit", "40/40")]), MAX), Signal::Block(_)));
    }

    #[test]
    fn a_shared_budget_announced_by_the_server_caps_ours() {
        let limiters = RateLimiters::default();
        let budget = Some(Budget { requests: 40, per: Duration::from_secs(20) });
        assert_eq!(limiters.acquire("g", "acme.gorgias.com", budget), Duration::ZERO);
        // Another client of the account has used most of it: 3 left.
        limiters.observe("g", "acme.gorgias.com", read_signal(200, &h(&[("X-Gorgias-Account-Api-Call-Limit", "37/40")]), MAX));
        for _ in 0..3 {
            assert_eq!(limiters.acquire("g", "acme.gorgias.com", budget), Duration::ZERO);
        }
        assert!(limiters.acquire("g", "acme.gorgias.com", budget) > Duration::ZERO, "a fourth would be over the server's budget");
    }

    #[test]
    fn bucket_paces_and_block_holds() {
        let limiters = RateLimiters::default();
        let budget = Some(Budget { requests: 2, per: Duration::from_secs(10) });
        assert_eq!(limiters.acquire("i", "h", budget), Duration::ZERO);
        assert_eq!(limiters.acquire("i", "h", budget), Duration::ZERO);
        let wait = limiters.acquire("i", "h", budget);
        assert!(wait > Duration::from_secs(4) && wait <= Duration::from_secs(5), "{wait:?}");
        limiters.observe("j", "h", Signal::Block(Duration::from_secs(3)));
        let wait = limiters.acquire("j", "h", None);
        assert!(wait > Duration::from_secs(2), "{wait:?}");
    }
}

//! Outbound rate governance: a token bucket per (integration, host) from the
//! manifest's limits, tightened by what responses say (429 + `Retry-After`,
//! remaining/reset headers, Gorgias's `used/limit` header). A limit never
//! disables anything: callers wait, or the job is re-queued for later.
//!
//! The buckets live in this process's memory, or, when the store is shared by
//! several hosts (PostgreSQL), in the store ([`crate::store::budgets`]): every
//! take is then one statement on the bucket's row and every block or remaining
//! count a server announces is written there, so the hosts spend one budget
//! together instead of one each. If the store is slow or unreachable the local
//! buckets stand in, each with [`FALLBACK_SHARE`] of the budget.

pub use crate::store::budgets::{BudgetRate, SharedBudgets};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
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

/// How long a statement on the shared budgets may take before the local
/// bucket stands in for it.
const SHARED_TIMEOUT: Duration = Duration::from_secs(2);
/// After the shared budgets failed, how long the local buckets stand in
/// before the database is asked again.
const SHARED_RETRY: Duration = Duration::from_secs(5);
/// While the shared budgets cannot be reached, each host's local bucket holds
/// this fraction of the budget (at least one request per window), as if this
/// many hosts shared it, and starts empty.
pub const FALLBACK_SHARE: u32 = 4;

/// All buckets, keyed by `(scope, host)`: in this process's memory, or in the
/// store several hosts share once [`RateLimiters::share_through`] was called.
#[derive(Default)]
pub struct RateLimiters {
    buckets: Mutex<HashMap<(String, String), Bucket>>,
    shared: OnceLock<Arc<Shared>>,
}

/// A bucket's queue of callers on this host: who holds it asks the store.
type Turn = Arc<tokio::sync::Mutex<()>>;

/// The budgets kept in the store, and what this process knows about reaching them.
struct Shared {
    budgets: Arc<dyn SharedBudgets>,
    /// Prefix of the scopes written to the store (`integration`, `account`),
    /// so budgets of different kinds never meet.
    namespace: String,
    health: Mutex<Health>,
    /// One caller per bucket at a time asks the store (the others wait their
    /// turn here, in arrival order), so waiters do not all poll it on each refill.
    turns: Mutex<HashMap<(String, String), Turn>>,
    /// An outage began: the local buckets are to be emptied before they stand in.
    empty_local: AtomicBool,
}

#[derive(Default)]
struct Health {
    /// The local buckets stand in until then.
    down_until: Option<Instant>,
    /// The store failed and has not answered since (logged once per outage).
    outage: bool,
}

impl Shared {
    fn scope(&self, scope: &str) -> String {
        format!("{}:{scope}", self.namespace)
    }

    fn is_down(&self, now: Instant) -> bool {
        self.health.lock().ok().and_then(|h| h.down_until).is_some_and(|until| until > now)
    }

    /// The store answered: leave fallback mode.
    fn up(&self) {
        let Ok(mut h) = self.health.lock() else { return };
        if h.outage {
            tracing::info!(namespace = %self.namespace, "shared rate budgets reachable again; back on the database's buckets");
        }
        *h = Health::default();
    }

    /// The store failed: the local buckets stand in for a while, from empty
    /// (what they earned while the store kept the count is not theirs to spend).
    fn down(&self, why: &str) {
        let Ok(mut h) = self.health.lock() else { return };
        h.down_until = Some(Instant::now() + SHARED_RETRY);
        if h.outage {
            return;
        }
        h.outage = true;
        self.empty_local.store(true, Ordering::SeqCst);
        tracing::warn!(
            namespace = %self.namespace,
            error = %why,
            share = FALLBACK_SHARE,
            "shared rate budgets unreachable; each host paces itself on 1/{FALLBACK_SHARE} of every budget until the database answers again"
        );
    }

    fn turn(&self, key: &(String, String)) -> Turn {
        let Ok(mut turns) = self.turns.lock() else { return Arc::default() };
        turns.entry(key.clone()).or_default().clone()
    }
}

/// What a host's local bucket holds while the shared budgets cannot be reached.
fn fallback(budget: Budget) -> Budget {
    Budget { requests: (budget.requests / FALLBACK_SHARE).max(1), per: budget.per }
}

fn rate_of(budget: Budget) -> BudgetRate {
    BudgetRate { requests: budget.requests, per_ms: u64::try_from(budget.per.as_millis()).unwrap_or(u64::MAX).max(1) }
}

impl RateLimiters {
    /// Keep the budgets in `budgets` (the store several hosts share) from now
    /// on, under `namespace` (`integration`, `account`): takes and what servers
    /// signal then hold across every host on the store. Blocks are still
    /// remembered here too, and while the store cannot be reached the local
    /// buckets stand in with [`FALLBACK_SHARE`]. Only the first call counts.
    pub fn share_through(&self, budgets: Arc<dyn SharedBudgets>, namespace: &str) {
        let shared = Shared {
            budgets,
            namespace: namespace.to_string(),
            health: Mutex::default(),
            turns: Mutex::default(),
            empty_local: AtomicBool::new(false),
        };
        if self.shared.set(Arc::new(shared)).is_err() {
            tracing::debug!(namespace, "rate limiters already share their budgets");
        }
    }

    /// Whether the budgets are kept in a store shared by several hosts.
    pub fn is_shared(&self) -> bool {
        self.shared.get().is_some()
    }

    /// How long to wait before sending to `host` for `scope`; takes a token when
    /// the answer is zero. Only this process's bucket: [`RateLimiters::take`]
    /// asks the shared budgets when there are some.
    pub fn acquire(&self, scope: &str, host: &str, budget: Option<Budget>) -> Duration {
        self.acquire_local(scope, host, budget, Instant::now())
    }

    fn acquire_local(&self, scope: &str, host: &str, budget: Option<Budget>, now: Instant) -> Duration {
        let Ok(mut buckets) = self.buckets.lock() else {
            return Duration::ZERO;
        };
        let bucket = buckets.entry((scope.to_string(), host.to_string())).or_insert_with(|| Bucket::new(budget, now));
        if bucket.budget != budget {
            // A new budget starts afresh, but a block the server announced stays.
            let (blocked_until, updated) = (bucket.blocked_until, bucket.updated);
            *bucket = Bucket::new(budget, now);
            if blocked_until.is_some_and(|u| u > now) {
                bucket.blocked_until = blocked_until;
                bucket.tokens = 0.0;
                bucket.updated = updated.max(now);
            }
        }
        bucket.acquire(now)
    }

    /// What is left of a block this process knows of.
    fn local_block(&self, scope: &str, host: &str, now: Instant) -> Option<Duration> {
        let buckets = self.buckets.lock().ok()?;
        let until = buckets.get(&(scope.to_string(), host.to_string()))?.blocked_until?;
        (until > now).then(|| until - now)
    }

    /// Empties the local buckets when an outage of the shared budgets began.
    fn empty_local_buckets(&self, shared: &Shared, now: Instant) {
        if !shared.empty_local.swap(false, Ordering::SeqCst) {
            return;
        }
        if let Ok(mut buckets) = self.buckets.lock() {
            for bucket in buckets.values_mut() {
                bucket.refill(now);
                bucket.tokens = 0.0;
            }
        }
    }

    /// One try at a token of the shared bucket: zero when taken, else the wait.
    async fn acquire_shared(&self, shared: &Shared, scope: &str, host: &str, budget: Option<Budget>) -> Duration {
        let now = Instant::now();
        if let Some(wait) = self.local_block(scope, host, now) {
            return wait;
        }
        if !shared.is_down(now) {
            let asked = tokio::time::timeout(SHARED_TIMEOUT, shared.budgets.take(&shared.scope(scope), host, budget.map(rate_of))).await;
            let why = match asked {
                Ok(Ok(wait)) => {
                    shared.up();
                    return wait;
                }
                Ok(Err(e)) => e.to_string(),
                Err(_) => format!("no answer within {SHARED_TIMEOUT:?}"),
            };
            shared.down(&why);
        }
        self.empty_local_buckets(shared, Instant::now());
        self.acquire_fallback(scope, host, budget, Instant::now())
    }

    /// A token of the local bucket standing in for the shared one: a
    /// [`FALLBACK_SHARE`] of the budget, starting empty.
    fn acquire_fallback(&self, scope: &str, host: &str, budget: Option<Budget>, now: Instant) -> Duration {
        let budget = budget.map(fallback);
        let Ok(mut buckets) = self.buckets.lock() else {
            return Duration::ZERO;
        };
        let bucket = buckets.entry((scope.to_string(), host.to_string())).or_insert_with(|| {
            let mut b = Bucket::new(budget, now);
            b.tokens = 0.0;
            b
        });
        if bucket.budget != budget {
            // Keeps a block this process saw.
            bucket.refill(now);
            bucket.budget = budget;
            bucket.tokens = 0.0;
        }
        bucket.acquire(now)
    }

    /// Takes a token, sleeping while the wait is at most `max_inline()`;
    /// `Err(wait)` when the bucket needs longer (the caller reports it as
    /// rate-limited). Asks again after every sleep, so concurrent callers that
    /// woke together do not all send on one token. With shared budgets each
    /// try is one statement on the store, and the callers of one bucket take
    /// turns (one asks at a time; one that cannot get its turn within
    /// `max_inline()` is told to come back after about a token's time).
    pub async fn take(&self, scope: &str, host: &str, budget: Option<Budget>, max_inline: impl Fn() -> Duration) -> Result<(), Duration> {
        let Some(shared) = self.shared.get() else {
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
        };
        // Without a budget only blocks count: no turn to take.
        let _turn = match budget {
            Some(b) => {
                let turn = shared.turn(&(scope.to_string(), host.to_string()));
                match tokio::time::timeout(max_inline(), turn.lock_owned()).await {
                    Ok(guard) => Some(guard),
                    Err(_) => return Err((b.per / b.requests.max(1)).max(Duration::from_millis(100))),
                }
            }
            None => None,
        };
        loop {
            let wait = self.acquire_shared(shared, scope, host, budget).await;
            if wait.is_zero() {
                return Ok(());
            }
            if wait > max_inline() {
                return Err(wait);
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Apply what a response said (here at once; in the shared budgets too,
    /// written in the background).
    pub fn observe(&self, scope: &str, host: &str, signal: Signal) {
        self.observe_local(scope, host, signal);
        let Some(shared) = self.shared.get() else { return };
        if matches!(signal, Signal::None) || shared.is_down(Instant::now()) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let (shared, scope, host) = (shared.clone(), shared.scope(scope), host.to_string());
        runtime.spawn(async move {
            let write = async {
                match signal {
                    Signal::Block(wait) => shared.budgets.block(&scope, &host, wait).await,
                    Signal::Remaining(n) => shared.budgets.cap(&scope, &host, n).await,
                    Signal::None => Ok(()),
                }
            };
            let why = match tokio::time::timeout(SHARED_TIMEOUT, write).await {
                Ok(Ok(())) => return,
                Ok(Err(e)) => e.to_string(),
                Err(_) => format!("no answer within {SHARED_TIMEOUT:?}"),
            };
            tracing::debug!(%scope, %host, error = %why, "a rate-limit signal was not written to the shared budgets");
            shared.down(&why);
        });
    }

    /// Apply what a response said to this process's bucket.
    fn observe_local(&self, scope: &str, host: &str, signal: Signal) {
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
    #![allow(clippy::unwrap_used, clippy::expect_used)]
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

    /// Two hosts' limiters on one throwaway PostgreSQL database.
    async fn two_hosts_on_postgres() -> (Arc<RateLimiters>, Arc<RateLimiters>, crate::store::postgres::TestDatabase) {
        let db = crate::store::postgres::TestDatabase::create().await.unwrap_or_else(|e| panic!("{e}"));
        let config = crate::config::StoreConfig { url: Some(db.url.clone()), pool_size: 4, ..Default::default() };
        let mut limiters = Vec::new();
        for _ in 0..2 {
            let store = crate::store::open(&config).await.unwrap();
            let l = RateLimiters::default();
            l.share_through(store.shared_budgets().expect("postgres shares budgets"), "integration");
            limiters.push(Arc::new(l));
        }
        let b = limiters.pop().unwrap();
        (limiters.pop().unwrap(), b, db)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_hosts_hammering_one_shared_budget_stay_within_it_together() {
        // 20 requests per 2 s (burst 20, 10 a second), 8 callers on each host for 4 s:
        // one budget between them, not one each.
        let (a, b, _db) = two_hosts_on_postgres().await;
        let budget = Some(Budget { requests: 20, per: Duration::from_secs(2) });
        let start = Instant::now();
        let run_for = Duration::from_secs(4);
        let mut tasks = Vec::new();
        for (i, l) in [a, b].into_iter().enumerate() {
            for _ in 0..8 {
                let l = l.clone();
                tasks.push(tokio::spawn(async move {
                    let mut granted = Vec::new();
                    while start.elapsed() < run_for {
                        match l.take("gorgias", "acme.gorgias.com", budget, || Duration::from_millis(500)).await {
                            Ok(()) if start.elapsed() < run_for => granted.push((start.elapsed(), i)),
                            Ok(()) => {}
                            Err(wait) => tokio::time::sleep(wait.min(Duration::from_millis(200))).await,
                        }
                    }
                    granted
                }));
            }
        }
        let mut granted = Vec::new();
        for t in tasks {
            granted.extend(t.await.unwrap());
        }
        granted.sort_by_key(|g| g.0);
        let per_host = [0, 1].map(|h| granted.iter().filter(|g| g.1 == h).count());
        let elapsed = run_for.as_secs_f64();
        let allowed = 20.0 + 10.0 * elapsed;
        println!("granted {} in {elapsed} s (a: {}, b: {}); the budget allows {allowed}", granted.len(), per_host[0], per_host[1]);
        assert!(granted.len() as f64 <= allowed + 1.0, "{} granted, {allowed} allowed", granted.len());
        assert!(granted.len() as f64 >= 0.8 * allowed, "the budget is used, not starved: {} of {allowed}", granted.len());
        assert!(per_host.iter().all(|n| *n >= 10), "both hosts got tokens: {per_host:?}");
        // Any stretch of time holds at most the burst and what it earns (a little
        // slack for when a grant was noted after the database gave it).
        for (i, first) in granted.iter().enumerate() {
            for (j, last) in granted.iter().enumerate().skip(i) {
                let n = (j - i + 1) as f64;
                let earned = 10.0 * (last.0 - first.0).as_secs_f64();
                assert!(n <= 20.0 + earned + 2.0, "{n} grants between {:?} and {:?}", first.0, last.0);
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_429_block_seen_by_one_host_is_respected_by_the_other() {
        let (a, b, _db) = two_hosts_on_postgres().await;
        let budget = Some(Budget { requests: 100, per: Duration::from_secs(1) });
        a.take("g", "acme.gorgias.com", budget, || Duration::ZERO).await.unwrap();
        b.take("g", "acme.gorgias.com", budget, || Duration::ZERO).await.unwrap();
        a.observe("g", "acme.gorgias.com", read_signal(429, &h(&[("Retry-After", "2")]), MAX));
        // The block is written in the background.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let wait = b.take("g", "acme.gorgias.com", budget, || Duration::ZERO).await.expect_err("blocked");
        assert!(wait > Duration::from_millis(1200) && wait <= Duration::from_secs(2), "{wait:?}");
        // Also for a host with no budget for it, and inline waits end after the block.
        assert!(b.take("g", "acme.gorgias.com", None, || Duration::ZERO).await.is_err());
        let started = Instant::now();
        b.take("g", "acme.gorgias.com", budget, || Duration::from_secs(3)).await.unwrap();
        assert!(started.elapsed() >= Duration::from_millis(1200), "{:?}", started.elapsed());
        // Other hosts of the same scope are not blocked.
        b.take("g", "other.gorgias.com", budget, || Duration::ZERO).await.unwrap();
    }

    /// Shared budgets that fail, hang or answer, and count the questions.
    #[derive(Default)]
    struct Flaky {
        mode: Mutex<&'static str>,
        asked: std::sync::atomic::AtomicUsize,
    }

    #[async_trait::async_trait]
    impl SharedBudgets for Flaky {
        async fn take(&self, _: &str, _: &str, _: Option<BudgetRate>) -> crate::store::StoreResult<Duration> {
            self.asked.fetch_add(1, Ordering::SeqCst);
            let mode = *self.mode.lock().unwrap();
            match mode {
                "hang" => {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    Ok(Duration::ZERO)
                }
                "up" => Ok(Duration::ZERO),
                _ => Err(crate::store::StoreError("connection refused".into())),
            }
        }
        async fn block(&self, _: &str, _: &str, _: Duration) -> crate::store::StoreResult<()> {
            Ok(())
        }
        async fn cap(&self, _: &str, _: &str, _: u64) -> crate::store::StoreResult<()> {
            Ok(())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unreachable_or_slow_database_leaves_a_quarter_of_the_budget_locally_until_it_answers() {
        let flaky = Arc::new(Flaky::default());
        *flaky.mode.lock().unwrap() = "down";
        let l = RateLimiters::default();
        l.share_through(flaky.clone(), "integration");
        // 8 per 2 s shared; alone: 2 per 2 s, starting empty (a token a second).
        let budget = Some(Budget { requests: 8, per: Duration::from_secs(2) });
        let started = Instant::now();
        for _ in 0..3 {
            l.take("i", "h", budget, || Duration::from_secs(2)).await.unwrap();
        }
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(2900) && took < Duration::from_millis(3500), "3 tokens at 1 a second: {took:?}");
        assert_eq!(flaky.asked.load(Ordering::SeqCst), 1, "the database is not asked again at once after it failed");
        // Back after the retry interval.
        *flaky.mode.lock().unwrap() = "up";
        tokio::time::sleep(SHARED_RETRY).await;
        let started = Instant::now();
        for _ in 0..5 {
            l.take("i", "h", budget, || Duration::from_secs(2)).await.unwrap();
        }
        assert!(started.elapsed() < Duration::from_millis(100), "the shared budget answers again");
        assert_eq!(flaky.asked.load(Ordering::SeqCst), 6);
        // A database that hangs: the local bucket answers after the timeout.
        *flaky.mode.lock().unwrap() = "hang";
        let started = Instant::now();
        let wait = l.take("i", "h", budget, || Duration::ZERO).await.expect_err("the local bucket starts empty");
        assert!(started.elapsed() >= SHARED_TIMEOUT && started.elapsed() < SHARED_TIMEOUT + Duration::from_millis(500));
        assert!(wait > Duration::from_millis(500), "{wait:?}");
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

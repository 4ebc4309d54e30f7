//! Outbound rate budgets several hosts share (PostgreSQL's `budgets` table).
//!
//! One host keeps its token buckets in memory ([`crate::outbound`]'s rate
//! limiter). Hosts sharing a database must share them too, or a vendor's limit
//! is multiplied by the number of hosts: each take of a token is then one
//! atomic statement on the bucket's row, and what a server says about its limit
//! (a 429 with `Retry-After`, the requests it has left) is written there for
//! every host to respect.
//!
//! A bucket is keyed by `(scope, host)`: who spends it (an integration, an
//! Aircall account) and where (a host name, or a purpose such as `reconcile`).
//! It holds up to `requests` tokens and earns them back at `requests` per
//! `per_ms`; nothing is earned while a block lasts, and a bucket starts again
//! empty when a block ends. Time is the database server's clock, so hosts whose
//! clocks disagree still count the same windows.

use super::StoreResult;
use async_trait::async_trait;
use std::time::Duration;

/// A budget's shape: up to `requests` at once, earned back at `requests` per `per_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetRate {
    /// Requests per window (also the burst).
    pub requests: u32,
    /// The window, in milliseconds (at least 1).
    pub per_ms: u64,
}

/// Token buckets kept where every host sharing the store sees them.
#[async_trait]
pub trait SharedBudgets: Send + Sync {
    /// Takes one token of `(scope, host)` now: `Duration::ZERO` when taken,
    /// otherwise how long until one may be (nothing is taken then). With no
    /// `rate` there is no bucket, only what servers signalled: the wait is what
    /// is left of a block.
    async fn take(&self, scope: &str, host: &str, rate: Option<BudgetRate>) -> StoreResult<Duration>;
    /// The server said to stop for `wait`: no host takes a token of
    /// `(scope, host)` before it ends (a longer block already there stays), and
    /// the bucket starts empty then.
    async fn block(&self, scope: &str, host: &str, wait: Duration) -> StoreResult<()>;
    /// The server counts `remaining` requests left: the bucket holds no more
    /// tokens than that (its budget may be spent by other clients as well).
    async fn cap(&self, scope: &str, host: &str, remaining: u64) -> StoreResult<()>;
}

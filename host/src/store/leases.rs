//! Job leases: how several hosts share one queue (PostgreSQL).
//!
//! A host *claims* the heads of lanes that may run now — the oldest queued job
//! of each (integration, ordering key) whose lane no host holds, whose time has
//! come and whose integration is not paused — and holds each claimed job under
//! a lease it renews while the job runs. A host that dies stops renewing; once
//! its lease expires any host claims the job again. Every claim bumps the job's
//! **fence**: the store refuses the journal writes and the outcome of a runner
//! whose fence is no longer the job's, so a host that stalled past its lease
//! (and then wakes) cannot write over the host that took the job over, nor
//! start another effect (its next journal intent is refused first).
//!
//! Only one job of a lane is ever leased (a lane's next job is its head only
//! once the previous one is done or dead), so lanes run one job at a time in
//! arrival order across all hosts, and different lanes run on whichever host
//! claims them. No row exists per lane: a lane is its queued jobs.
//!
//! The single-host store (SQLite) has no leases: its scheduler keeps the lanes
//! in memory ([`crate::queue`]).

use super::{JobRecord, StoreResult};
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

/// The queue as several hosts share it.
#[async_trait]
pub trait Leases: Send + Sync {
    /// This host's id: the lease owner written on the jobs it holds.
    fn host_id(&self) -> &str;
    /// Claims up to `limit` lane heads that may run now, oldest first, leased
    /// for `lease`; the store fences every later write of these jobs with the
    /// claim's fence until this host records their outcome or releases them.
    async fn claim(&self, limit: usize, lease: Duration) -> StoreResult<Vec<JobRecord>>;
    /// Extends the lease of every job this host holds; returns the jobs that
    /// were taken over meanwhile (their runner's writes will be refused).
    async fn renew(&self, lease: Duration) -> StoreResult<Vec<i64>>;
    /// Frees the jobs an earlier process with this host's id still holds (it
    /// is gone: ids are unique among running hosts), so a host restarted under
    /// a stable `host_id` resumes them at once instead of after their lease.
    /// Returns how many.
    async fn recover(&self) -> StoreResult<u64>;
    /// Gives a held job back without an outcome (its integration was paused):
    /// it stays queued at the head of its lane for whichever host resumes it.
    async fn release(&self, job_id: i64) -> StoreResult<()>;
    /// One round trip to the database, for `/healthz`.
    async fn ping(&self) -> StoreResult<()>;
    /// Jobs queued on every host (waiting, running or retrying).
    async fn queued(&self) -> StoreResult<u64>;
    /// Notified whenever any host commits work that may be claimable (new jobs,
    /// a finished lane head, a retry, a replay, a resume): `LISTEN/NOTIFY`.
    fn wakeups(&self) -> Arc<tokio::sync::Notify>;
}

//! The claim loop of a host that shares its PostgreSQL store with other hosts.
//!
//! Instead of keeping lanes in memory, the host asks the store for lane heads
//! that may run now ([`crate::store::Leases::claim`]) whenever its slots and a
//! small buffer of claimed jobs (as many as the slots) are not full and
//! something may have changed: a job it finished, a `NOTIFY` from any host's
//! commit (its own included: that is how a webhook it stored wakes it), a
//! retry coming due, and at least every [`POLL`] in case a notification was
//! lost. The buffer is refilled once half of it is gone, so a busy host claims
//! once per several jobs rather than once per job. While jobs run or wait in
//! the buffer, their leases are renewed every third of the lease. A job whose
//! outcome could not be written (its lease was lost to another host, or the
//! database failed) is simply let go: its lease expires and whichever host
//! claims it next resumes it from its journal.

use super::run::{JobRunner, Outcome};
use super::scheduler::{Command, launch};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The longest a claimable job waits when every wake-up was lost.
const POLL: Duration = Duration::from_secs(1);

/// How often the queue depth of all hosts is read for `/healthz` and metrics.
const DEPTH_EVERY: Duration = Duration::from_millis(250);

/// Start the claim loop and the lease renewal.
pub(super) fn spawn(
    runner: Arc<JobRunner>,
    concurrency: usize,
    lease: Duration,
    tx: mpsc::UnboundedSender<Command>,
    rx: mpsc::UnboundedReceiver<Command>,
    depth: Arc<AtomicUsize>,
) {
    tokio::spawn(renew(runner.clone(), lease));
    let claimer =
        Claimer { runner, concurrency, lease, tx, depth, running: 0, buffer: VecDeque::new(), due: BinaryHeap::new(), depth_read: None };
    tokio::spawn(claimer.run(rx));
}

/// Renews the leases of the jobs this host runs, every third of the lease.
async fn renew(runner: Arc<JobRunner>, lease: Duration) {
    let mut tick = tokio::time::interval(lease / 3);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(leases) = runner.store.leases() else { return };
        match leases.renew(lease).await {
            Ok(lost) if !lost.is_empty() => {
                tracing::warn!(jobs = ?lost, "job leases lost to another host: their runs here can no longer write")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not renew job leases; retrying"),
        }
    }
}

struct Claimer {
    runner: Arc<JobRunner>,
    concurrency: usize,
    lease: Duration,
    tx: mpsc::UnboundedSender<Command>,
    depth: Arc<AtomicUsize>,
    running: usize,
    /// Claimed jobs waiting for a free slot (each heads its own lane).
    buffer: VecDeque<crate::store::JobRecord>,
    /// When retries of jobs this host ran come due (ms since the epoch).
    due: BinaryHeap<Reverse<i64>>,
    depth_read: Option<Instant>,
}

impl Claimer {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        let Some(wake) = self.runner.store.leases().map(|l| l.wakeups()) else {
            tracing::error!("the store has no job leases: no job will run");
            return;
        };
        if let Some(leases) = self.runner.store.leases() {
            match leases.recover().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(jobs = n, host_id = leases.host_id(), "took back the jobs this host held before its restart"),
                Err(e) => tracing::warn!(error = %e, "could not take back this host's earlier jobs; they resume when their leases expire"),
            }
        }
        let mut full_claim = true;
        // The poll is due POLL after the last claim, however many commands
        // that did not lead to a claim came in between.
        let mut poll_at = tokio::time::Instant::now();
        loop {
            let now = crate::clock::now_ms();
            let next_due = self.due.peek().map(|Reverse(at)| Duration::from_millis((at - now).max(0) as u64));
            let sleep = if full_claim {
                Duration::ZERO
            } else {
                let poll = poll_at.saturating_duration_since(tokio::time::Instant::now());
                next_due.map_or(poll, |d| d.min(poll))
            };
            let mut changed = tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => self.handle(cmd).await,
                    None => return,
                },
                _ = wake.notified() => true,
                _ = tokio::time::sleep(sleep) => true,
            };
            while let Ok(cmd) = rx.try_recv() {
                changed |= self.handle(cmd).await;
            }
            if !changed {
                continue;
            }
            let now = crate::clock::now_ms();
            while self.due.peek().is_some_and(|Reverse(at)| *at <= now) {
                self.due.pop();
            }
            full_claim = self.claim().await;
            poll_at = tokio::time::Instant::now() + POLL;
            self.read_depth().await;
        }
    }

    /// Takes in `cmd`; `true` when a claim may now find more than before.
    async fn handle(&mut self, cmd: Command) -> bool {
        match cmd {
            // Stored by this host: the commit's NOTIFY wakes this host's
            // listener like every other (and the poll covers a lost one), so
            // claiming here too would only walk the queue twice per batch.
            Command::Enqueue(_) | Command::SetPaused(_) => false,
            // The store decides: a head some host runs holds a lease there.
            Command::Skip { reply, .. } => {
                let _ = reply.send(super::scheduler::Skip::NotHere);
                false
            }
            Command::Finished { job_id, outcome, .. } => {
                self.running = self.running.saturating_sub(1);
                self.start_buffered();
                match outcome {
                    Outcome::Retry { next_run_at_ms, .. } => self.due.push(Reverse(next_run_at_ms)),
                    Outcome::Paused { .. } => {
                        // The pause is in the store; the job goes back to its lane's head.
                        if let Some(leases) = self.runner.store.leases()
                            && let Err(e) = leases.release(job_id).await
                        {
                            tracing::warn!(job = job_id, error = %e, "could not release a paused job; its lease will expire");
                        }
                    }
                    Outcome::Done | Outcome::Dead(_) => {}
                }
                true
            }
        }
    }

    /// Starts buffered jobs in the free slots.
    fn start_buffered(&mut self) {
        while self.running < self.concurrency {
            let Some(job) = self.buffer.pop_front() else { return };
            self.running += 1;
            launch(&self.runner, job, &self.tx);
        }
    }

    /// Fills the free slots from the buffer, and the buffer from the store once
    /// it is half empty; `true` when the claim got all it asked for (there may
    /// be more: claim again at once).
    async fn claim(&mut self) -> bool {
        self.start_buffered();
        let room = (2 * self.concurrency).saturating_sub(self.running + self.buffer.len());
        if room == 0 || self.buffer.len() > self.concurrency / 2 {
            return false;
        }
        let Some(leases) = self.runner.store.leases() else { return false };
        match leases.claim(room, self.lease).await {
            Ok(jobs) => {
                let filled = jobs.len() == room;
                self.buffer.extend(jobs);
                self.start_buffered();
                filled
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not claim jobs; trying again");
                false
            }
        }
    }

    async fn read_depth(&mut self) {
        if self.depth_read.is_some_and(|at| at.elapsed() < DEPTH_EVERY) {
            return;
        }
        self.depth_read = Some(Instant::now());
        if let Some(Ok(n)) = match self.runner.store.leases() {
            Some(leases) => Some(leases.queued().await),
            None => None,
        } {
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            self.depth.store(n, Ordering::Relaxed);
            self.runner.metrics().set_queue_depth(n);
        }
    }
}

//! The scheduler task of a single host: owns the lanes in memory, starts jobs,
//! applies outcomes. Hosts sharing a PostgreSQL store claim lane heads from the
//! database instead ([`super::claim`]); both sit behind one [`Dispatcher`].

use super::run::{JobRunner, Outcome};
use crate::store::JobRecord;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

pub(super) type Lane = (String, String);

pub(super) enum Command {
    Enqueue(Vec<JobRecord>),
    Finished {
        lane: Lane,
        job_id: i64,
        outcome: Outcome,
    },
    SetPaused(HashSet<String>),
    /// An admin skips this lane head: drop it unless it is running.
    Skip {
        lane: Lane,
        job_id: i64,
        reply: tokio::sync::oneshot::Sender<Skip>,
    },
}

/// What the scheduler did with a lane head an admin skips.
#[derive(Debug, Clone, PartialEq)]
pub enum Skip {
    /// Taken out of its lane: it runs no more here.
    Dropped(JobRecord),
    /// An attempt of it is running right now: nothing was changed.
    Running,
    /// Not a lane head this scheduler holds (hosts sharing a store claim
    /// heads from it, where the skip is decided).
    NotHere,
}

/// Handle to the scheduler.
#[derive(Clone)]
pub struct Dispatcher {
    tx: mpsc::UnboundedSender<Command>,
    depth: Arc<AtomicUsize>,
}

impl Dispatcher {
    /// Start the scheduler with `concurrency` jobs at once.
    pub fn start(runner: Arc<JobRunner>, concurrency: usize) -> Dispatcher {
        let (tx, rx) = mpsc::unbounded_channel();
        let depth = Arc::new(AtomicUsize::new(0));
        let scheduler = Scheduler {
            lanes: HashMap::new(),
            busy: HashSet::new(),
            timers: BinaryHeap::new(),
            ready: VecDeque::new(),
            paused: HashSet::new(),
            running: 0,
            concurrency,
            runner,
            tx: tx.clone(),
            depth: depth.clone(),
            queued: 0,
        };
        tokio::spawn(scheduler.run(rx));
        Dispatcher { tx, depth }
    }

    /// Start the claim loop of a host sharing `store` with others
    /// ([`crate::store::Leases`]), with `concurrency` jobs at once.
    pub fn start_shared(runner: Arc<JobRunner>, concurrency: usize, lease: Duration) -> Dispatcher {
        let (tx, rx) = mpsc::unbounded_channel();
        let depth = Arc::new(AtomicUsize::new(0));
        super::claim::spawn(runner, concurrency, lease, tx.clone(), rx, depth.clone());
        Dispatcher { tx, depth }
    }

    /// Queue jobs (already durable). Hosts sharing a store take this as a
    /// wake-up: the jobs are claimed from the store.
    pub fn enqueue(&self, jobs: Vec<JobRecord>) {
        if !jobs.is_empty() {
            let _ = self.tx.send(Command::Enqueue(jobs));
        }
    }

    /// Replace the set of paused integrations.
    pub fn set_paused(&self, paused: HashSet<String>) {
        let _ = self.tx.send(Command::SetPaused(paused));
    }

    /// An admin skips `job_id`, the head of lane (`integration`,
    /// `ordering_key`): the scheduler drops it unless an attempt of it is
    /// running. The caller then dead-letters it in the store
    /// ([`crate::store::Store::skip_lane_head`]), or hands a dropped job back
    /// with [`Dispatcher::enqueue`] when the store refuses.
    pub async fn skip(&self, integration: &str, ordering_key: &str, job_id: i64) -> Skip {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let lane = (integration.to_string(), ordering_key.to_string());
        if self.tx.send(Command::Skip { lane, job_id, reply }).is_err() {
            return Skip::NotHere;
        }
        answer.await.unwrap_or(Skip::NotHere)
    }

    /// Jobs waiting or running (of every host, when several share the store).
    pub fn depth(&self) -> usize {
        self.depth.load(Ordering::Relaxed)
    }
}

struct Scheduler {
    lanes: HashMap<Lane, VecDeque<JobRecord>>,
    busy: HashSet<Lane>,
    timers: BinaryHeap<Reverse<(i64, Lane)>>,
    ready: VecDeque<Lane>,
    paused: HashSet<String>,
    running: usize,
    concurrency: usize,
    runner: Arc<JobRunner>,
    tx: mpsc::UnboundedSender<Command>,
    depth: Arc<AtomicUsize>,
    queued: usize,
}

impl Scheduler {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        loop {
            let next_timer = self.timers.peek().map(|Reverse((due, _))| *due);
            let sleep = match next_timer {
                Some(due) => Duration::from_millis((due - crate::clock::now_ms()).max(0) as u64),
                None => Duration::from_secs(3600),
            };
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => self.handle(cmd),
                    None => return,
                },
                _ = tokio::time::sleep(sleep) => {}
            }
            // Drain whatever else is waiting before starting work.
            while let Ok(cmd) = rx.try_recv() {
                self.handle(cmd);
            }
            self.fire_timers();
            self.start_ready();
            self.depth.store(self.queued, Ordering::Relaxed);
            self.runner.metrics().set_queue_depth(self.queued);
        }
    }

    fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Enqueue(jobs) => {
                for job in jobs {
                    let lane = (job.integration.clone(), job.ordering_key.clone());
                    let q = self.lanes.entry(lane.clone()).or_default();
                    // Keep arrival order even when recovered and new jobs interleave.
                    if q.iter().any(|j| j.id == job.id) {
                        continue;
                    }
                    let pos = q.iter().position(|j| j.id > job.id).unwrap_or(q.len());
                    q.insert(pos, job);
                    self.queued += 1;
                    if pos == 0 {
                        self.consider(lane);
                    }
                }
            }
            Command::Finished { lane, outcome, .. } => {
                self.running -= 1;
                self.busy.remove(&lane);
                let Some(q) = self.lanes.get_mut(&lane) else {
                    return;
                };
                match outcome {
                    Outcome::Done | Outcome::Dead(_) => {
                        q.pop_front();
                        self.queued = self.queued.saturating_sub(1);
                    }
                    Outcome::Retry { attempts, next_run_at_ms, .. } => {
                        if let Some(head) = q.front_mut() {
                            head.attempts = attempts;
                            head.next_run_at_ms = next_run_at_ms;
                        }
                    }
                    Outcome::Paused { integration, .. } => {
                        self.paused.insert(integration);
                    }
                }
                if q.is_empty() {
                    self.lanes.remove(&lane);
                } else {
                    self.consider(lane);
                }
            }
            Command::Skip { lane, job_id, reply } => {
                let answer = match self.lanes.get_mut(&lane) {
                    Some(q) if q.front().is_some_and(|j| j.id == job_id) => {
                        if self.busy.contains(&lane) {
                            Skip::Running
                        } else {
                            let job = q.pop_front();
                            self.queued = self.queued.saturating_sub(1);
                            if q.is_empty() {
                                self.lanes.remove(&lane);
                            } else {
                                self.consider(lane);
                            }
                            job.map_or(Skip::NotHere, Skip::Dropped)
                        }
                    }
                    _ => Skip::NotHere,
                };
                let _ = reply.send(answer);
            }
            Command::SetPaused(paused) => {
                let resumed: Vec<String> = self.paused.difference(&paused).cloned().collect();
                self.paused = paused;
                if !resumed.is_empty() {
                    let lanes: Vec<Lane> = self.lanes.keys().filter(|(i, _)| resumed.contains(i)).cloned().collect();
                    for lane in lanes {
                        self.consider(lane);
                    }
                }
            }
        }
    }

    /// Put a lane on the ready list or a timer if its head may run.
    fn consider(&mut self, lane: Lane) {
        if self.busy.contains(&lane) || self.paused.contains(&lane.0) {
            return;
        }
        let Some(head) = self.lanes.get(&lane).and_then(|q| q.front()) else {
            return;
        };
        if head.next_run_at_ms <= crate::clock::now_ms() {
            self.ready.push_back(lane);
        } else {
            self.timers.push(Reverse((head.next_run_at_ms, lane)));
        }
    }

    fn fire_timers(&mut self) {
        let now = crate::clock::now_ms();
        while let Some(Reverse((due, _))) = self.timers.peek() {
            if *due > now {
                break;
            }
            if let Some(Reverse((_, lane))) = self.timers.pop() {
                self.consider(lane);
            }
        }
    }

    fn start_ready(&mut self) {
        while self.running < self.concurrency {
            let Some(lane) = self.ready.pop_front() else {
                return;
            };
            if self.busy.contains(&lane) || self.paused.contains(&lane.0) {
                continue;
            }
            let Some(job) = self.lanes.get(&lane).and_then(|q| q.front()).cloned() else {
                continue;
            };
            if job.next_run_at_ms > crate::clock::now_ms() {
                self.timers.push(Reverse((job.next_run_at_ms, lane)));
                continue;
            }
            self.busy.insert(lane.clone());
            self.running += 1;
            launch(&self.runner, job, &self.tx);
        }
    }
}

/// Runs `job` on the plugin threads and reports its outcome to the scheduler;
/// if the job panics there, its lane is still released (with the panic as a
/// retryable failure).
pub(super) fn launch(runner: &Arc<JobRunner>, job: JobRecord, tx: &mpsc::UnboundedSender<Command>) {
    let lane = (job.integration.clone(), job.ordering_key.clone());
    let (job_id, attempts) = (job.id, job.attempts);
    let handle = runner.runtime.spawn({
        let runner = runner.clone();
        async move { runner.run(job).await }
    });
    let tx = tx.clone();
    tokio::spawn(async move {
        let outcome = handle.await.unwrap_or_else(|e| {
            tracing::error!(error = %e, "job task failed; trying again in a second");
            Outcome::Retry { attempts, next_run_at_ms: crate::clock::now_ms() + 1000, reason: e.to_string() }
        });
        let _ = tx.send(Command::Finished { lane, job_id, outcome });
    });
}

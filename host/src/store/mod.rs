//! Durable state: received events (with the redelivery window), jobs, the effect
//! journal, plugin key-value data and integration state.
//!
//! [`Store`] is the seam for other backends; [`SqliteStore`] is the embedded
//! default: one writer thread commits batches of writes in one transaction
//! (group commit, `synchronous=FULL`), readers use their own connections.
//! [`PgStore`] keeps the same state in PostgreSQL (`[store] url`); [`open`]
//! opens whichever the configuration names.

pub mod budgets;
#[cfg(test)]
mod conformance;
mod leases;
pub mod postgres;
mod schema;
mod sqlite;
mod writer;

pub use leases::Leases;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Open the store the configuration names: PostgreSQL when `url` is set (the
/// schema is migrated first), else the SQLite file at `path`.
pub async fn open(config: &crate::config::StoreConfig) -> StoreResult<std::sync::Arc<dyn Store>> {
    let wait = std::time::Duration::from_micros(config.group_commit_wait_us);
    match &config.url {
        Some(url) => Ok(std::sync::Arc::new(
            PgStore::open(&postgres::PgOptions {
                url: url.clone(),
                pool_size: config.pool_size,
                group_commit_wait: wait,
                host_id: config.host_id(),
            })
            .await?,
        )),
        None => Ok(std::sync::Arc::new(SqliteStore::open_with(&config.path, wait, config.fsync)?)),
    }
}

use async_trait::async_trait;

/// A store failure. Callers treat it as transient: the work is retried.
#[derive(Debug, thiserror::Error)]
#[error("store: {0}")]
pub struct StoreError(pub String);

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError(e.to_string())
    }
}

/// Result alias.
pub type StoreResult<T> = Result<T, StoreError>;

/// What ingest knows about an event before it is stored.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Account (from the webhook token).
    pub account: String,
    /// Its name (`call.ended`), the envelope's `event`.
    pub event_name: String,
    /// The raw body.
    pub body: String,
    /// SHA-256 of the body: the redelivery key.
    pub body_hash: [u8; 32],
    /// When it arrived (ms since epoch).
    pub received_at_ms: i64,
    /// Why it is not dispatched, if it is not (unknown event, unreadable data).
    pub not_dispatched: Option<String>,
    /// Where it came from: Aircall's webhook, or the host itself after asking
    /// Aircall's REST API (reconciliation, backfill).
    pub origin: Origin,
    /// What happened, for events that happen once per Aircall resource
    /// (`call.ended:123`, see [`crate::aircall::occurrence`]). Each integration
    /// gets a job for an occurrence once, whichever body or origin carries it, so
    /// a call reconciled or backfilled is not logged again by its late webhook.
    pub occurrence: Option<String>,
}

/// Where an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Origin {
    /// Posted by Aircall to the webhook route.
    #[default]
    Webhook,
    /// Synthesised by reconciliation: Aircall lists the call, its webhook never came.
    Reconciled,
    /// Synthesised by `switchboard backfill` for a call before the integration existed.
    Backfill,
}

impl Origin {
    /// The name stored and shown (`webhook`, `reconciled`, `backfill`).
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Webhook => "webhook",
            Origin::Reconciled => "reconciled",
            Origin::Backfill => "backfill",
        }
    }

    /// The origin a stored name stands for; an unknown name is an error naming it.
    pub fn parse(name: &str) -> StoreResult<Origin> {
        match name {
            "webhook" => Ok(Origin::Webhook),
            "reconciled" => Ok(Origin::Reconciled),
            "backfill" => Ok(Origin::Backfill),
            other => Err(StoreError(format!("events.origin: unknown origin {other:?}"))),
        }
    }
}

/// One job to create with the event.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// The integration it is for.
    pub integration: String,
    /// Jobs with the same key (within the integration) run in order.
    pub ordering_key: String,
}

/// A queued job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    /// Job id; increases in arrival order.
    pub id: i64,
    /// The stored event it handles ([`StoredEvent::id`]).
    pub event_id: i64,
    /// The id of the integration it is for.
    pub integration: String,
    /// Its lane: jobs with the same key (within the integration) run in order.
    pub ordering_key: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// Not before (ms since epoch).
    pub next_run_at_ms: i64,
}

/// What storing an event did.
#[derive(Debug, Clone)]
pub enum IngestOutcome {
    /// New event, with its jobs.
    Accepted {
        /// The id the store gave the new event.
        event_id: i64,
        /// Jobs created.
        jobs: Vec<JobRecord>,
        /// Integrations that got no job because they already had this event's
        /// occurrence (from another delivery, reconciliation or backfill).
        already_logged: Vec<String>,
    },
    /// Same body seen within the window: nothing stored.
    Duplicate {
        /// The id of the event stored earlier with this body.
        event_id: i64,
    },
}

/// A stored event.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// The `events` table's key, given by the store.
    pub id: i64,
    /// The account it belongs to (for a webhook, the one its token names).
    pub account: String,
    /// The envelope's `event` (`call.ended`).
    pub event_name: String,
    /// Raw body.
    pub body: String,
    /// When it arrived (ms since epoch).
    pub received_at_ms: i64,
    /// Where it came from.
    pub origin: Origin,
}

/// One recorded effect of a job.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalEntry {
    /// Position in the job's sequence of effects.
    pub seq: u32,
    /// Hash of what was asked (so a diverging retry is noticed).
    pub fingerprint: Vec<u8>,
    /// `false`: the effect was started and its outcome never recorded.
    pub done: bool,
    /// The recorded outcome.
    pub result: Vec<u8>,
}

/// A key-value write, applied atomically with its journal entry.
#[derive(Debug, Clone)]
pub enum KvWrite {
    /// Set a value.
    Set {
        /// The key within the namespace (for a plugin, its integration's).
        key: String,
        /// The bytes to keep, opaque to the store.
        value: Vec<u8>,
        /// Expiry (ms since epoch).
        expires_at_ms: Option<i64>,
    },
    /// Remove a value.
    Delete {
        /// The key within the namespace; an absent key is no error.
        key: String,
    },
    /// Compare-and-swap.
    Cas {
        /// The key within the namespace.
        key: String,
        /// Expected current value (`None`: absent).
        expected: Option<Vec<u8>>,
        /// New value (`None`: remove).
        new: Option<Vec<u8>>,
        /// Expiry (ms since epoch).
        expires_at_ms: Option<i64>,
    },
}

/// A journal write.
#[derive(Debug, Clone)]
pub struct JournalWrite {
    /// The job whose journal it extends.
    pub job_id: i64,
    /// The effect, at its position `entry.seq` in the job's sequence.
    pub entry: JournalEntry,
    /// Key-value write to apply in the same transaction (storage effects).
    pub kv: Option<(String, KvWrite)>,
}

/// A dead-lettered job.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// The job's row in `jobs`, still there in state `dead`.
    pub job_id: i64,
    /// Its event's row in `events`.
    pub event_id: i64,
    /// Its event's name (`call.ended`).
    pub event_name: String,
    /// The id of the integration the job was for.
    pub integration: String,
    /// Attempts made.
    pub attempts: u32,
    /// Why it failed.
    pub reason: String,
    /// When it was dead-lettered (ms since epoch).
    pub failed_at_ms: i64,
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Waiting, running or retrying.
    Queued,
    /// The plugin handled the event.
    Done,
    /// Dead-lettered.
    Dead,
}

impl JobState {
    /// The name stored and shown (`queued`, `done`, `dead`).
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }

    fn parse(state: &str) -> StoreResult<JobState> {
        match state {
            "queued" => Ok(JobState::Queued),
            "done" => Ok(JobState::Done),
            "dead" => Ok(JobState::Dead),
            other => Err(StoreError(format!("jobs.state: unknown state {other:?}"))),
        }
    }
}

/// What [`Store::prune`] forgets: rows older than each cutoff (ms since epoch).
#[derive(Debug, Clone, Copy)]
pub struct PruneCutoffs {
    /// Redelivery hashes seen before this.
    pub dedupe_before_ms: i64,
    /// Jobs finished (and events received) before this.
    pub finished_before_ms: i64,
    /// Occurrences logged before this.
    pub logged_before_ms: i64,
}

/// Counts for `/metrics` and the CLI.
#[derive(Debug, Clone, Default)]
pub struct StoreCounts {
    /// Jobs waiting or retrying.
    pub queued: u64,
    /// Jobs in state `dead`; a replay queues them again.
    pub dead: u64,
    /// Completed jobs still remembered.
    pub done: u64,
    /// Events stored.
    pub events: u64,
}

/// The durable state behind the host.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Store an event and its jobs in one durable transaction; returns only once
    /// the write is on disk. A body seen within the dedupe window is a duplicate.
    async fn ingest(&self, event: NewEvent, jobs: Vec<NewJob>, dedupe_window_ms: i64) -> StoreResult<IngestOutcome>;
    /// For each `(integration, occurrence)` pair, whether that integration has
    /// had a job for it (within `[store] logged_days`).
    async fn logged(&self, pairs: Vec<(String, String)>) -> StoreResult<Vec<bool>>;
    /// Where a job stands; `None` once a finished job was pruned (or never existed).
    async fn job_state(&self, job_id: i64) -> StoreResult<Option<JobState>>;
    /// An event by id.
    async fn event(&self, id: i64) -> StoreResult<Option<StoredEvent>>;
    /// Every job not yet done or dead, in arrival order.
    async fn pending_jobs(&self) -> StoreResult<Vec<JobRecord>>;
    /// Mark a job done and drop its journal.
    async fn job_done(&self, job_id: i64) -> StoreResult<()>;
    /// Schedule another attempt.
    async fn job_retry(&self, job_id: i64, attempts: u32, next_run_at_ms: i64, error: &str) -> StoreResult<()>;
    /// Move a job to the dead letters.
    async fn job_dead(&self, job_id: i64, attempts: u32, reason: &str) -> StoreResult<()>;
    /// Dead letters, newest first.
    async fn dead_letters(&self, limit: u32) -> StoreResult<Vec<DeadLetter>>;
    /// Queue dead letters again (all when `job_id` is `None`); returns the revived jobs.
    async fn replay_dead(&self, job_id: Option<i64>) -> StoreResult<Vec<JobRecord>>;
    /// Jobs revived by `replay_dead` since the last call (another process may have
    /// revived them); each is returned once.
    async fn take_revived(&self) -> StoreResult<Vec<JobRecord>>;
    /// The recorded effects of a job.
    async fn journal(&self, job_id: i64) -> StoreResult<Vec<JournalEntry>>;
    /// Record an effect (and apply its key-value write). Returns the CAS verdict
    /// when the write is a compare-and-swap. Durable when it returns.
    async fn journal_write(&self, write: JournalWrite) -> StoreResult<Option<bool>>;
    /// Record an effect without waiting for the disk (reads, clock readings).
    fn journal_write_lazy(&self, write: JournalWrite);
    /// Drop a job's journal from `from_seq` on (the retry took another path).
    async fn journal_truncate(&self, job_id: i64, from_seq: u32) -> StoreResult<()>;
    /// A plugin value (not expired).
    async fn kv_get(&self, namespace: &str, key: &str, now_ms: i64) -> StoreResult<Option<Vec<u8>>>;
    /// A key-value write outside any job (plugin requests).
    async fn kv_write(&self, namespace: &str, write: KvWrite) -> StoreResult<Option<bool>>;
    /// Pause (`Some(reason)`) or resume (`None`) an integration.
    async fn set_paused(&self, integration: &str, reason: Option<&str>) -> StoreResult<()>;
    /// Paused integrations with their reasons.
    async fn paused(&self) -> StoreResult<Vec<(String, String)>>;
    /// Forget redelivery hashes, finished jobs and events, and logged
    /// occurrences older than the cutoffs.
    async fn prune(&self, cutoffs: PruneCutoffs) -> StoreResult<u64>;
    /// Jobs by state and events stored, for `/metrics` and the CLI.
    async fn counts(&self) -> StoreResult<StoreCounts>;

    // Read queries of the console (`crate::console`): what happened to a call.

    /// Events matching a search, newest first (by time received, then id), at
    /// most `search.limit`.
    async fn find_events(&self, search: EventSearch) -> StoreResult<Vec<StoredEvent>>;
    /// The jobs of these events (any state), in id order.
    async fn jobs_of_events(&self, event_ids: Vec<i64>) -> StoreResult<Vec<JobSummary>>;
    /// Queued and dead jobs per integration (integrations with neither are absent).
    async fn integration_counts(&self) -> StoreResult<Vec<IntegrationCounts>>;
    /// Events received at or after `since_ms`.
    async fn events_since(&self, since_ms: i64) -> StoreResult<u64>;
    /// Lanes that do not move: the head job (the lane's oldest queued job) has
    /// failed at least once and waits for its retry, or its integration is
    /// paused; oldest head first, at most `limit`, of `integration` only when
    /// given (filtered before the limit, so a filtered list is complete up to it).
    async fn blocked_lanes(&self, integration: Option<&str>, limit: u32) -> StoreResult<Vec<LaneHead>>;
    /// Dead-letters job `job_id` with `reason` so its lane moves on — only
    /// while it is still the head of its lane (queued, no older queued job in
    /// the lane) and no host is running it. `false` when it was not.
    async fn skip_lane_head(&self, job_id: i64, reason: &str) -> StoreResult<bool>;

    /// The job leases of a store several hosts share (`None`: one host, whose
    /// scheduler keeps the lanes in memory).
    fn leases(&self) -> Option<&dyn Leases> {
        None
    }

    /// The outbound rate budgets of a store several hosts share, so that a
    /// vendor's limit holds for all of them together (`None`: each host keeps
    /// its budgets in memory).
    fn shared_budgets(&self) -> Option<std::sync::Arc<dyn budgets::SharedBudgets>> {
        None
    }
}

/// What [`Store::find_events`] looks for; the conditions that are set all hold.
#[derive(Debug, Clone, Default)]
pub struct EventSearch {
    /// Events about this call: `data.id` of a `call.*` event, or `data.call_id`.
    pub call_id: Option<u64>,
    /// Events with a job in this lane (`party:+33…`, see [`crate::queue::lane`]).
    pub ordering_key: Option<String>,
    /// Events with a job in the lane of a number ending with these digits (a
    /// number typed in national format: `762043575` finds `party:+33762043575`).
    pub party_digits_suffix: Option<String>,
    /// Received at or after (ms since epoch).
    pub from_ms: Option<i64>,
    /// Received before (ms since epoch).
    pub until_ms: Option<i64>,
    /// Events of this account only.
    pub account: Option<String>,
    /// At most this many.
    pub limit: u32,
}

/// A job as the console shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSummary {
    /// Job id.
    pub id: i64,
    /// Event id.
    pub event_id: i64,
    /// The id of the integration it is for.
    pub integration: String,
    /// Its lane.
    pub ordering_key: String,
    /// Where it stands.
    pub state: JobState,
    /// Attempts made.
    pub attempts: u32,
    /// Not before (ms since epoch), while queued.
    pub next_run_at_ms: i64,
    /// The last error (retrying) or the reason (dead).
    pub last_error: Option<String>,
    /// When it finished (done or dead).
    pub finished_at_ms: Option<i64>,
}

/// The head job of a lane and how many jobs wait behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct LaneHead {
    /// The id of the integration the lane belongs to.
    pub integration: String,
    /// The lane's ordering key (`party:+33…`, see [`crate::queue::lane`]).
    pub ordering_key: String,
    /// The head job.
    pub job_id: i64,
    /// Its event.
    pub event_id: i64,
    /// The event's name.
    pub event_name: String,
    /// Attempts made.
    pub attempts: u32,
    /// Its next attempt, not before (ms since epoch).
    pub next_run_at_ms: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Queued jobs of the lane behind it.
    pub behind: u64,
}

/// Jobs of one integration by state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntegrationCounts {
    /// The integration's id; one with neither queued nor dead jobs has no row.
    pub integration: String,
    /// Waiting, running, retrying or held.
    pub queued: u64,
    /// Its jobs in state `dead`.
    pub dead: u64,
    /// When the event of the oldest queued job arrived (ms): how long events
    /// have been held while the integration is paused.
    pub oldest_queued_at_ms: Option<i64>,
}

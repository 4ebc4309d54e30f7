//! The embedded default store: one SQLite file.

use super::writer::{self, Reply, WriteOp};
use super::*;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

/// Read connections kept open.
const READERS: usize = 4;

/// SQLite-backed [`Store`].
pub struct SqliteStore {
    writes: mpsc::UnboundedSender<WriteOp>,
    readers: Arc<Vec<Mutex<Connection>>>,
    next_reader: std::sync::atomic::AtomicUsize,
}

impl SqliteStore {
    /// Open (creating if needed) the database at `path`. `group_commit_wait`
    /// makes the writer linger before each commit to gather more writes.
    pub fn open(path: &Path, group_commit_wait: std::time::Duration) -> StoreResult<SqliteStore> {
        Self::open_with(path, group_commit_wait, true)
    }

    /// [`SqliteStore::open`], choosing whether commits are synced to disk.
    pub fn open_with(path: &Path, group_commit_wait: std::time::Duration, fsync: bool) -> StoreResult<SqliteStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError(format!("cannot create {}: {e}", dir.display())))?;
        }
        let conn = Connection::open(path).map_err(|e| StoreError(format!("cannot open {}: {e}", path.display())))?;
        schema::configure(&conn, fsync)?;
        schema::migrate(&conn)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let r = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
            r.busy_timeout(std::time::Duration::from_secs(10))?;
            readers.push(Mutex::new(r));
        }
        let (tx, rx) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || writer::run(conn, rx, group_commit_wait))
            .map_err(|e| StoreError(format!("cannot start writer thread: {e}")))?;
        Ok(SqliteStore { writes: tx, readers: Arc::new(readers), next_reader: Default::default() })
    }

    async fn exec<F>(&self, run: F) -> StoreResult<Reply>
    where
        F: FnOnce(&rusqlite::Transaction<'_>) -> StoreResult<Reply> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        self.writes.send(WriteOp::Exec { run: Box::new(run), reply: Some(reply) }).map_err(|_| StoreError("writer stopped".into()))?;
        rx.await.map_err(|_| StoreError("writer stopped".into()))?
    }

    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let readers = self.readers.clone();
        let i = self.next_reader.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % READERS;
        tokio::task::spawn_blocking(move || {
            let conn = readers[i].lock().map_err(|_| StoreError("reader poisoned".into()))?;
            f(&conn)
        })
        .await
        .map_err(|e| StoreError(format!("reader task: {e}")))?
    }
}

fn job_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobRecord> {
    Ok(JobRecord {
        id: r.get(0)?,
        event_id: r.get(1)?,
        integration: r.get(2)?,
        ordering_key: r.get(3)?,
        attempts: r.get(4)?,
        next_run_at_ms: r.get(5)?,
    })
}

const JOB_COLUMNS: &str = "id, event_id, integration, ordering_key, attempts, next_run_at_ms";

#[async_trait]
impl Store for SqliteStore {
    async fn ingest(&self, event: NewEvent, jobs: Vec<NewJob>, window_ms: i64) -> StoreResult<IngestOutcome> {
        let (reply, rx) = oneshot::channel();
        // Read here, on the caller's thread, not on the single writer's.
        let call_key = schema::call_key(&event.event_name, &event.body);
        self.writes.send(WriteOp::Ingest { event, call_key, jobs, window_ms, reply }).map_err(|_| StoreError("writer stopped".into()))?;
        rx.await.map_err(|_| StoreError("writer stopped".into()))?
    }

    async fn logged(&self, pairs: Vec<(String, String)>) -> StoreResult<Vec<bool>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached("SELECT 1 FROM logged WHERE integration = ?1 AND occurrence = ?2")?;
            pairs.iter().map(|(i, o)| Ok(stmt.exists(params![i, o])?)).collect()
        })
        .await
    }

    async fn job_state(&self, job_id: i64) -> StoreResult<Option<JobState>> {
        let state: Option<String> = self
            .read(move |c| {
                Ok(c.prepare_cached("SELECT state FROM jobs WHERE id = ?1")?.query_row(params![job_id], |r| r.get(0)).optional()?)
            })
            .await?;
        state.as_deref().map(JobState::parse).transpose()
    }

    async fn event(&self, id: i64) -> StoreResult<Option<StoredEvent>> {
        let row = self
            .read(move |c| {
                Ok(c.prepare_cached("SELECT id, account, event_name, body, received_at_ms, origin FROM events WHERE id = ?1")?
                    .query_row(params![id], |r| {
                        Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get::<_, String>(5)?))
                    })
                    .optional()?)
            })
            .await?;
        row.map(|(id, account, event_name, body, received_at_ms, origin)| {
            Ok(StoredEvent { id, account, event_name, body, received_at_ms, origin: Origin::parse(&origin)? })
        })
        .transpose()
    }

    async fn pending_jobs(&self) -> StoreResult<Vec<JobRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE state = 'queued' ORDER BY id"))?;
            let rows = stmt.query_map([], job_from_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn job_done(&self, job_id: i64) -> StoreResult<()> {
        let now = crate::clock::now_ms();
        self.exec(move |tx| {
            tx.prepare_cached("UPDATE jobs SET state = 'done', finished_at_ms = ?2, last_error = NULL WHERE id = ?1")?
                .execute(params![job_id, now])?;
            tx.prepare_cached("DELETE FROM journal WHERE job_id = ?1")?.execute(params![job_id])?;
            Ok(Reply::default())
        })
        .await
        .map(|_| ())
    }

    async fn job_retry(&self, job_id: i64, attempts: u32, next_run_at_ms: i64, error: &str) -> StoreResult<()> {
        let error = error.to_string();
        self.exec(move |tx| {
            tx.prepare_cached("UPDATE jobs SET attempts = ?2, next_run_at_ms = ?3, last_error = ?4 WHERE id = ?1")?.execute(params![
                job_id,
                attempts,
                next_run_at_ms,
                error
            ])?;
            Ok(Reply::default())
        })
        .await
        .map(|_| ())
    }

    async fn job_dead(&self, job_id: i64, attempts: u32, reason: &str) -> StoreResult<()> {
        let reason = reason.to_string();
        let now = crate::clock::now_ms();
        self.exec(move |tx| {
            tx.prepare_cached("UPDATE jobs SET state = 'dead', attempts = ?2, last_error = ?3, finished_at_ms = ?4 WHERE id = ?1")?
                .execute(params![job_id, attempts, reason, now])?;
            Ok(Reply::default())
        })
        .await
        .map(|_| ())
    }

    async fn dead_letters(&self, limit: u32) -> StoreResult<Vec<DeadLetter>> {
        self.read(move |c| {
            let mut stmt = c.prepare(
                "SELECT j.id, j.event_id, e.event_name, j.integration, j.attempts, COALESCE(j.last_error, ''), COALESCE(j.finished_at_ms, 0)
                 FROM jobs j JOIN events e ON e.id = j.event_id WHERE j.state = 'dead' ORDER BY j.id DESC LIMIT ?1",
            )?;
            let rows = stmt.query_map(params![limit], |r| {
                Ok(DeadLetter {
                    job_id: r.get(0)?,
                    event_id: r.get(1)?,
                    event_name: r.get(2)?,
                    integration: r.get(3)?,
                    attempts: r.get(4)?,
                    reason: r.get(5)?,
                    failed_at_ms: r.get(6)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn replay_dead(&self, job_id: Option<i64>) -> StoreResult<Vec<JobRecord>> {
        let now = crate::clock::now_ms();
        let reply = self
            .exec(move |tx| {
                let ids: Vec<i64> = match job_id {
                    Some(id) => tx
                        .query_row("SELECT id FROM jobs WHERE id = ?1 AND state = 'dead'", params![id], |r| r.get(0))
                        .optional()?
                        .into_iter()
                        .collect(),
                    None => {
                        let mut stmt = tx.prepare("SELECT id FROM jobs WHERE state = 'dead' ORDER BY id")?;
                        let rows = stmt.query_map([], |r| r.get(0))?;
                        rows.collect::<Result<Vec<_>, _>>()?
                    }
                };
                let mut jobs = Vec::with_capacity(ids.len());
                for id in ids {
                    // A replay is a fresh start: the journal of the dead attempt is kept, so
                    // effects that succeeded before are not performed twice.
                    tx.execute(
                        "UPDATE jobs SET state = 'queued', attempts = 0, next_run_at_ms = ?2, finished_at_ms = NULL WHERE id = ?1",
                        params![id, now],
                    )?;
                    tx.execute("INSERT OR IGNORE INTO revived (job_id) VALUES (?1)", params![id])?;
                    jobs.push(tx.query_row(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"), params![id], job_from_row)?);
                }
                Ok(Reply { jobs, ..Default::default() })
            })
            .await?;
        Ok(reply.jobs)
    }

    async fn take_revived(&self) -> StoreResult<Vec<JobRecord>> {
        // Cheap check first: this runs every second.
        let any: bool = self.read(|c| Ok(c.query_row("SELECT EXISTS (SELECT 1 FROM revived)", [], |r| r.get(0))?)).await?;
        if !any {
            return Ok(Vec::new());
        }
        let reply = self
            .exec(|tx| {
                let mut stmt = tx.prepare_cached(&format!(
                    "SELECT {JOB_COLUMNS} FROM jobs WHERE state = 'queued' AND id IN (SELECT job_id FROM revived) ORDER BY id"
                ))?;
                let jobs = stmt.query_map([], job_from_row)?.collect::<Result<Vec<_>, _>>()?;
                tx.execute("DELETE FROM revived", [])?;
                Ok(Reply { jobs, ..Default::default() })
            })
            .await?;
        Ok(reply.jobs)
    }

    async fn journal(&self, job_id: i64) -> StoreResult<Vec<JournalEntry>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached("SELECT seq, fingerprint, done, result FROM journal WHERE job_id = ?1 ORDER BY seq")?;
            let rows = stmt.query_map(params![job_id], |r| {
                Ok(JournalEntry { seq: r.get(0)?, fingerprint: r.get(1)?, done: r.get(2)?, result: r.get(3)? })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn journal_write(&self, write: JournalWrite) -> StoreResult<Option<bool>> {
        let reply = self.exec(move |tx| Ok(Reply { flag: writer::journal_write(tx, &write)?, ..Default::default() })).await?;
        Ok(reply.flag)
    }

    fn journal_write_lazy(&self, write: JournalWrite) {
        let op = WriteOp::Exec {
            run: Box::new(move |tx| {
                writer::journal_write(tx, &write)?;
                Ok(Reply::default())
            }),
            reply: None,
        };
        if self.writes.send(op).is_err() {
            tracing::warn!("store: writer stopped; journal entry dropped");
        }
    }

    async fn journal_truncate(&self, job_id: i64, from_seq: u32) -> StoreResult<()> {
        self.exec(move |tx| {
            tx.execute("DELETE FROM journal WHERE job_id = ?1 AND seq >= ?2", params![job_id, from_seq])?;
            Ok(Reply::default())
        })
        .await
        .map(|_| ())
    }

    async fn kv_get(&self, namespace: &str, key: &str, now_ms: i64) -> StoreResult<Option<Vec<u8>>> {
        let (ns, key) = (namespace.to_string(), key.to_string());
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT value FROM kv WHERE namespace = ?1 AND key = ?2 AND (expires_at_ms IS NULL OR expires_at_ms > ?3)",
            )?
            .query_row(params![ns, key, now_ms], |r| r.get(0))
            .optional()?)
        })
        .await
    }

    async fn kv_write(&self, namespace: &str, write: KvWrite) -> StoreResult<Option<bool>> {
        let ns = namespace.to_string();
        let reply = self.exec(move |tx| Ok(Reply { flag: writer::kv_write(tx, &ns, &write)?, ..Default::default() })).await?;
        Ok(reply.flag)
    }

    async fn set_paused(&self, integration: &str, reason: Option<&str>) -> StoreResult<()> {
        let (integration, reason) = (integration.to_string(), reason.map(str::to_string));
        let now = crate::clock::now_ms();
        self.exec(move |tx| {
            tx.execute(
                "INSERT INTO integration_state (integration, paused_reason, updated_at_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT(integration) DO UPDATE SET paused_reason = excluded.paused_reason, updated_at_ms = excluded.updated_at_ms",
                params![integration, reason, now],
            )?;
            Ok(Reply::default())
        })
        .await
        .map(|_| ())
    }

    async fn paused(&self) -> StoreResult<Vec<(String, String)>> {
        self.read(|c| {
            let mut stmt = c.prepare("SELECT integration, paused_reason FROM integration_state WHERE paused_reason IS NOT NULL")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn prune(&self, cutoffs: PruneCutoffs) -> StoreResult<u64> {
        let now = crate::clock::now_ms();
        let PruneCutoffs { dedupe_before_ms, finished_before_ms, logged_before_ms } = cutoffs;
        let reply = self
            .exec(move |tx| {
                let mut n = tx.execute("DELETE FROM dedupe WHERE seen_at_ms < ?1", params![dedupe_before_ms])?;
                n += tx.execute("DELETE FROM logged WHERE logged_at_ms < ?1", params![logged_before_ms])?;
                n += tx.execute("DELETE FROM jobs WHERE state = 'done' AND finished_at_ms < ?1", params![finished_before_ms])?;
                n += tx.execute(
                    "DELETE FROM events WHERE received_at_ms < ?1 AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.event_id = events.id)
                     AND NOT EXISTS (SELECT 1 FROM dedupe WHERE dedupe.event_id = events.id)",
                    params![finished_before_ms],
                )?;
                n += tx.execute("DELETE FROM kv WHERE expires_at_ms IS NOT NULL AND expires_at_ms <= ?1", params![now])?;
                Ok(Reply { count: n as u64, ..Default::default() })
            })
            .await?;
        Ok(reply.count)
    }

    async fn counts(&self) -> StoreResult<StoreCounts> {
        self.read(|c| {
            let mut counts = StoreCounts::default();
            let mut stmt = c.prepare("SELECT state, COUNT(*) FROM jobs GROUP BY state")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u64>(1)?)))?;
            for row in rows {
                let (state, n) = row?;
                match state.as_str() {
                    "queued" => counts.queued = n,
                    "dead" => counts.dead = n,
                    "done" => counts.done = n,
                    _ => {}
                }
            }
            counts.events = c.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))?;
            Ok(counts)
        })
        .await
    }

    async fn find_events(&self, search: EventSearch) -> StoreResult<Vec<StoredEvent>> {
        self.read(move |c| console::find_events(c, &search)).await
    }

    async fn jobs_of_events(&self, event_ids: Vec<i64>) -> StoreResult<Vec<JobSummary>> {
        self.read(move |c| console::jobs_of_events(c, &event_ids)).await
    }

    async fn integration_counts(&self) -> StoreResult<Vec<IntegrationCounts>> {
        self.read(console::integration_counts).await
    }

    async fn events_since(&self, since_ms: i64) -> StoreResult<u64> {
        self.read(move |c| Ok(c.query_row("SELECT COUNT(*) FROM events WHERE received_at_ms >= ?1", params![since_ms], |r| r.get(0))?))
            .await
    }

    async fn blocked_lanes(&self, integration: Option<&str>, limit: u32) -> StoreResult<Vec<LaneHead>> {
        let integration = integration.map(str::to_string);
        self.read(move |c| console::blocked_lanes(c, integration.as_deref(), limit)).await
    }

    async fn skip_lane_head(&self, job_id: i64, reason: &str) -> StoreResult<bool> {
        let reason = reason.to_string();
        let now = crate::clock::now_ms();
        let reply = self
            .exec(move |tx| {
                let changed = tx.execute(
                    "UPDATE jobs SET state = 'dead', last_error = ?2, finished_at_ms = ?3
                     WHERE id = ?1 AND state = 'queued' AND NOT EXISTS (
                         SELECT 1 FROM jobs o WHERE o.state = 'queued' AND o.ordering_key = jobs.ordering_key
                             AND o.integration = jobs.integration AND o.id < jobs.id)",
                    params![job_id, reason, now],
                )?;
                Ok(Reply { flag: Some(changed == 1), ..Reply::default() })
            })
            .await?;
        Ok(reply.flag == Some(true))
    }
}

/// The console's read queries (see [`crate::console`]).
mod console {
    use super::super::{EventSearch, IntegrationCounts, JobState, JobSummary, LaneHead, Origin, StoreResult, StoredEvent};
    use rusqlite::{Connection, params};

    /// The WHERE clause names only the criteria given, each in a form an index
    /// answers (`events_call_key`, `jobs_lane_event`, `events_received`); newest first by time received, which the time index
    /// also gives without sorting.
    pub fn find_events(c: &Connection, s: &EventSearch) -> StoreResult<Vec<StoredEvent>> {
        let call_id = s.call_id.and_then(|id| i64::try_from(id).ok());
        let suffix = digits_only(s.party_digits_suffix.as_deref());
        let mut terms: Vec<&str> = Vec::new();
        let mut values: Vec<(&str, &dyn rusqlite::ToSql)> = vec![(":limit", &s.limit)];
        if let Some(id) = &call_id {
            terms.push("e.call_key = :call");
            values.push((":call", id));
        }
        if let Some(lane) = &s.ordering_key {
            terms.push("e.id IN (SELECT event_id FROM jobs WHERE ordering_key = :lane)");
            values.push((":lane", lane));
        }
        if let Some(from) = &s.from_ms {
            terms.push("e.received_at_ms >= :from");
            values.push((":from", from));
        }
        if let Some(until) = &s.until_ms {
            terms.push("e.received_at_ms < :until");
            values.push((":until", until));
        }
        if let Some(account) = &s.account {
            terms.push("e.account = :account");
            values.push((":account", account));
        }
        if let Some(suffix) = &suffix {
            // A scan of the lane index (no index finds a suffix): the console
            // asks this only when the exact searches found nothing.
            terms.push("e.id IN (SELECT event_id FROM jobs WHERE ordering_key LIKE 'party:+%' || :suffix)");
            values.push((":suffix", suffix));
        }
        let filter = if terms.is_empty() { String::new() } else { format!("WHERE {}", terms.join(" AND ")) };
        let mut stmt = c.prepare_cached(&format!(
            "SELECT e.id, e.account, e.event_name, e.body, e.received_at_ms, e.origin FROM events e {filter}
             ORDER BY e.received_at_ms DESC, e.id DESC LIMIT :limit"
        ))?;
        let rows =
            stmt.query_map(&*values, |r| Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get::<_, String>(5)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, account, event_name, body, received_at_ms, origin) = row?;
            out.push(StoredEvent { id, account, event_name, body, received_at_ms, origin: Origin::parse(&origin)? });
        }
        Ok(out)
    }

    /// The digits of a suffix (nothing that LIKE would read as a pattern).
    fn digits_only(suffix: Option<&str>) -> Option<String> {
        suffix.map(|s| s.chars().filter(char::is_ascii_digit).collect())
    }

    pub fn jobs_of_events(c: &Connection, event_ids: &[i64]) -> StoreResult<Vec<JobSummary>> {
        let mut stmt = c.prepare_cached(
            "SELECT id, event_id, integration, ordering_key, state, attempts, next_run_at_ms, last_error, finished_at_ms
             FROM jobs WHERE event_id = ?1 ORDER BY id",
        )?;
        let mut out = Vec::new();
        for event_id in event_ids {
            let rows = stmt.query_map(params![event_id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, u32>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, Option<i64>>(8)?,
                ))
            })?;
            for row in rows {
                let (id, event_id, integration, ordering_key, state, attempts, next_run_at_ms, last_error, finished_at_ms) = row?;
                let state = JobState::parse(&state)?;
                out.push(JobSummary {
                    id,
                    event_id,
                    integration,
                    ordering_key,
                    state,
                    attempts,
                    next_run_at_ms,
                    last_error,
                    finished_at_ms,
                });
            }
        }
        out.sort_by_key(|j| j.id);
        Ok(out)
    }

    /// Heads of lanes whose head has failed at least once or whose
    /// integration is paused (lanes found through `jobs_lane_event`).
    pub fn blocked_lanes(c: &Connection, integration: Option<&str>, limit: u32) -> StoreResult<Vec<LaneHead>> {
        let mut stmt = c.prepare_cached(
            "SELECT h.integration, h.ordering_key, h.id, h.event_id, e.event_name, h.attempts, h.next_run_at_ms, h.last_error,
                    (SELECT COUNT(*) FROM jobs b WHERE b.ordering_key = h.ordering_key AND b.integration = h.integration
                         AND b.state = 'queued' AND b.id > h.id)
             FROM jobs h JOIN events e ON e.id = h.event_id
             WHERE h.state = 'queued' AND (?2 IS NULL OR h.integration = ?2)
               AND (h.attempts > 0 OR h.integration IN (SELECT integration FROM integration_state WHERE paused_reason IS NOT NULL))
               AND NOT EXISTS (SELECT 1 FROM jobs o WHERE o.ordering_key = h.ordering_key AND o.integration = h.integration
                                   AND o.state = 'queued' AND o.id < h.id)
             ORDER BY h.id LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit, integration], |r| {
            Ok(LaneHead {
                integration: r.get(0)?,
                ordering_key: r.get(1)?,
                job_id: r.get(2)?,
                event_id: r.get(3)?,
                event_name: r.get(4)?,
                attempts: r.get(5)?,
                next_run_at_ms: r.get(6)?,
                last_error: r.get(7)?,
                behind: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    pub fn integration_counts(c: &Connection) -> StoreResult<Vec<IntegrationCounts>> {
        let mut stmt = c.prepare_cached(
            "SELECT j.integration, SUM(j.state = 'queued'), SUM(j.state = 'dead'),
                    MIN(CASE WHEN j.state = 'queued' THEN (SELECT e.received_at_ms FROM events e WHERE e.id = j.event_id) END)
             FROM jobs j
             WHERE j.state IN ('queued', 'dead') GROUP BY j.integration ORDER BY j.integration",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(IntegrationCounts { integration: r.get(0)?, queued: r.get(1)?, dead: r.get(2)?, oldest_queued_at_ms: r.get(3)? })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

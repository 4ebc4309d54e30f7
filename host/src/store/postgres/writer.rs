//! The batching writer of [`super::PgStore`]: one task takes write operations
//! from a channel and commits everything that queued up meanwhile in one
//! transaction (many webhooks share one commit, as with the SQLite writer).
//! Each operation runs in its own savepoint, so one failing operation does not
//! undo the others; operations are applied in the order they were sent, so a
//! lazy journal write lands before a later `job_done` of the same job.

use super::pg_err;
use crate::store::{IngestOutcome, JobRecord, JournalWrite, KvWrite, NewEvent, NewJob, StoreError, StoreResult};
use deadpool_postgres::{Pool, Transaction};
use tokio::sync::{mpsc, oneshot};

/// Largest batch committed at once.
const MAX_BATCH: usize = 2048;

/// A write the writer applies.
pub enum Op {
    Ingest {
        event: NewEvent,
        jobs: Vec<NewJob>,
        window_ms: i64,
    },
    JobDone {
        job_id: i64,
        fence: Option<i64>,
        now_ms: i64,
    },
    JobRetry {
        job_id: i64,
        fence: Option<i64>,
        attempts: u32,
        next_run_at_ms: i64,
        error: String,
    },
    JobDead {
        job_id: i64,
        fence: Option<i64>,
        attempts: u32,
        reason: String,
        now_ms: i64,
    },
    /// Give a claimed job back without an outcome (see [`crate::store::Leases::release`]).
    Release {
        job_id: i64,
        fence: Option<i64>,
    },
    ReplayDead {
        job_id: Option<i64>,
        now_ms: i64,
    },
    TakeRevived,
    Journal {
        write: JournalWrite,
        fence: Option<i64>,
    },
    JournalTruncate {
        job_id: i64,
        fence: Option<i64>,
        from_seq: u32,
    },
    Kv {
        namespace: String,
        write: KvWrite,
    },
    SetPaused {
        integration: String,
        reason: Option<String>,
        now_ms: i64,
    },
}

/// What an operation returns.
#[derive(Debug)]
pub enum Out {
    Ingest(IngestOutcome),
    Flag(Option<bool>),
    Jobs(Vec<JobRecord>),
    Unit,
}

/// An operation and where its result goes (`None`: nobody waits, failures are logged).
pub struct WriteOp {
    pub op: Op,
    pub reply: Option<oneshot::Sender<StoreResult<Out>>>,
}

/// The columns of a [`JobRecord`], in `job_from_row` order.
pub const JOB_COLUMNS: &str = "id, event_id, integration, ordering_key, attempts, next_run_at_ms";

/// A [`JobRecord`] from a row selected with [`JOB_COLUMNS`].
pub fn job_from_row(r: &tokio_postgres::Row) -> StoreResult<JobRecord> {
    let attempts: i32 = r.try_get(4).map_err(|e| pg_err("jobs.attempts", e))?;
    Ok(JobRecord {
        id: r.try_get(0).map_err(|e| pg_err("jobs.id", e))?,
        event_id: r.try_get(1).map_err(|e| pg_err("jobs.event_id", e))?,
        integration: r.try_get(2).map_err(|e| pg_err("jobs.integration", e))?,
        ordering_key: r.try_get(3).map_err(|e| pg_err("jobs.ordering_key", e))?,
        attempts: u32::try_from(attempts).map_err(|_| StoreError(format!("jobs.attempts: negative ({attempts})")))?,
        next_run_at_ms: r.try_get(5).map_err(|e| pg_err("jobs.next_run_at_ms", e))?,
    })
}

/// Run the writer until every sender is dropped.
pub async fn run(pool: Pool, mut rx: mpsc::UnboundedReceiver<WriteOp>, wait: std::time::Duration) {
    let mut batch: Vec<WriteOp> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        commit_batch(&pool, &mut batch).await;
    }
}

async fn commit_batch(pool: &Pool, batch: &mut Vec<WriteOp>) {
    let mut client = match pool.get().await {
        Ok(c) => c,
        Err(e) => return fail_all(batch.drain(..), &format!("no database connection: {e}")),
    };
    let wakes = batch.iter().any(|w| wakes_claimers(&w.op));
    // Fast path: the whole batch in one transaction without savepoints (two round
    // trips fewer per write). If any write fails, nothing of it was committed:
    // the batch runs again with a savepoint per write, so only that write fails.
    let results = match attempt(&mut client, batch, false, wakes).await {
        Ok(results) => Ok(results),
        Err(e) => {
            tracing::debug!(error = %e, "store: a write of the batch failed; applying each in its own savepoint");
            attempt(&mut client, batch, true, wakes).await
        }
    };
    match results {
        Ok(results) => {
            for (WriteOp { reply, .. }, result) in batch.drain(..).zip(results) {
                match reply {
                    Some(reply) => {
                        let _ = reply.send(result);
                    }
                    None => {
                        if let Err(e) = result {
                            tracing::warn!(error = %e, "store: background write failed");
                        }
                    }
                }
            }
        }
        Err(e) => {
            for WriteOp { reply, .. } in batch.drain(..) {
                match reply {
                    Some(reply) => {
                        let _ = reply.send(Err(StoreError(e.0.clone())));
                    }
                    None => tracing::error!(error = %e, "store: background write lost in a failed commit"),
                }
            }
        }
    }
}

/// Applies every write of `batch` in one transaction and commits it; returns
/// each write's result. Without `savepoints` the first failing write fails the
/// whole attempt (and nothing is committed).
async fn attempt(
    client: &mut deadpool_postgres::Object,
    batch: &[WriteOp],
    savepoints: bool,
    wakes: bool,
) -> StoreResult<Vec<StoreResult<Out>>> {
    let tx = client.transaction().await.map_err(|e| pg_err("cannot begin transaction", e))?;
    let mut results = Vec::with_capacity(batch.len());
    for w in batch {
        let result = if savepoints { in_savepoint(&tx, &w.op).await } else { apply(&tx, &w.op).await };
        if !savepoints && let Err(e) = result {
            return Err(e);
        }
        results.push(result);
    }
    if wakes && let Err(e) = tx.batch_execute(&format!("NOTIFY {}", super::listen::CHANNEL)).await {
        // Only a wake-up is lost: the other hosts' claim loops poll.
        tracing::warn!(error = %super::describe(&e), "store: NOTIFY failed");
    }
    tx.commit().await.map_err(|e| pg_err("commit failed", e))?;
    Ok(results)
}

fn fail_all(ops: impl Iterator<Item = WriteOp>, message: &str) {
    for op in ops {
        match op.reply {
            Some(reply) => {
                let _ = reply.send(Err(StoreError(format!("cannot begin transaction: {message}"))));
            }
            None => {
                tracing::error!(error = %message, "store: background write lost: cannot begin transaction")
            }
        }
    }
}

/// Whether committing `op` may make a job claimable on some host: new jobs, a
/// lane head finished (its next job is the head now), a retry, a release, a
/// replay, a resume.
fn wakes_claimers(op: &Op) -> bool {
    match op {
        Op::Ingest { jobs, .. } => !jobs.is_empty(),
        Op::JobDone { .. } | Op::JobRetry { .. } | Op::JobDead { .. } | Op::Release { .. } | Op::ReplayDead { .. } => true,
        Op::SetPaused { reason, .. } => reason.is_none(),
        Op::TakeRevived | Op::Journal { .. } | Op::JournalTruncate { .. } | Op::Kv { .. } => false,
    }
}

/// Refuses a write of a job whose lease this host lost: another host claimed it
/// since (its fence moved on), so this runner must neither record an effect nor
/// an outcome. `None`: the write is not a claimed job's (one host, an operator).
/// The row stays locked until the batch commits, so a claim cannot slip in
/// between the check and the write.
async fn check_fence(tx: &Transaction<'_>, job_id: i64, fence: Option<i64>) -> StoreResult<()> {
    let Some(fence) = fence else {
        return Ok(());
    };
    let rows = query(tx, "SELECT fence FROM jobs WHERE id = $1 FOR UPDATE", &[&job_id]).await?;
    let current: Option<i64> = match rows.first() {
        Some(r) => Some(r.try_get(0).map_err(|e| pg_err("jobs.fence", e))?),
        None => None,
    };
    match current {
        Some(f) if f == fence => Ok(()),
        Some(f) => Err(StoreError(format!(
            "fenced: job {job_id} was claimed by another host after this host's lease expired (fence {f}, this runner's {fence}); its writes are refused"
        ))),
        None => Err(StoreError(format!("fenced: job {job_id} no longer exists"))),
    }
}

/// Apply `op` inside a savepoint; roll the savepoint back if it fails.
async fn in_savepoint(tx: &Transaction<'_>, op: &Op) -> StoreResult<Out> {
    tx.batch_execute("SAVEPOINT op").await.map_err(|e| pg_err("savepoint", e))?;
    match apply(tx, op).await {
        Ok(v) => {
            tx.batch_execute("RELEASE SAVEPOINT op").await.map_err(|e| pg_err("release savepoint", e))?;
            Ok(v)
        }
        Err(e) => {
            tx.batch_execute("ROLLBACK TO SAVEPOINT op; RELEASE SAVEPOINT op")
                .await
                .map_err(|e2| pg_err(&format!("rollback after {e}"), e2))?;
            Err(e)
        }
    }
}

async fn exec(tx: &Transaction<'_>, sql: &str, params: &[&(dyn tokio_postgres::types::ToSql + Sync)]) -> StoreResult<u64> {
    let stmt = tx.prepare_cached(sql).await.map_err(|e| pg_err(sql, e))?;
    tx.execute(&stmt, params).await.map_err(|e| pg_err(sql, e))
}

async fn query(
    tx: &Transaction<'_>,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> StoreResult<Vec<tokio_postgres::Row>> {
    let stmt = tx.prepare_cached(sql).await.map_err(|e| pg_err(sql, e))?;
    tx.query(&stmt, params).await.map_err(|e| pg_err(sql, e))
}

fn int(v: u32, what: &str) -> StoreResult<i32> {
    i32::try_from(v).map_err(|_| StoreError(format!("{what}: {v} does not fit the column")))
}

async fn apply(tx: &Transaction<'_>, op: &Op) -> StoreResult<Out> {
    match op {
        Op::Ingest { event, jobs, window_ms } => ingest(tx, event, jobs, *window_ms).await.map(Out::Ingest),
        Op::JobDone { job_id, fence, now_ms } => {
            check_fence(tx, *job_id, *fence).await?;
            exec(
                tx,
                "UPDATE jobs SET state = 'done', finished_at_ms = $2, last_error = NULL, lease_owner = NULL, lease_until_ms = NULL WHERE id = $1",
                &[&job_id, &now_ms],
            )
            .await?;
            exec(tx, "DELETE FROM journal WHERE job_id = $1", &[&job_id]).await?;
            Ok(Out::Unit)
        }
        Op::JobRetry { job_id, fence, attempts, next_run_at_ms, error } => {
            check_fence(tx, *job_id, *fence).await?;
            let attempts = int(*attempts, "attempts")?;
            exec(
                tx,
                "UPDATE jobs SET attempts = $2, next_run_at_ms = $3, last_error = $4, lease_owner = NULL, lease_until_ms = NULL WHERE id = $1",
                &[&job_id, &attempts, &next_run_at_ms, &error],
            )
            .await?;
            Ok(Out::Unit)
        }
        Op::JobDead { job_id, fence, attempts, reason, now_ms } => {
            check_fence(tx, *job_id, *fence).await?;
            let attempts = int(*attempts, "attempts")?;
            exec(
                tx,
                "UPDATE jobs SET state = 'dead', attempts = $2, last_error = $3, finished_at_ms = $4, lease_owner = NULL, lease_until_ms = NULL
                 WHERE id = $1",
                &[&job_id, &attempts, &reason, &now_ms],
            )
            .await?;
            Ok(Out::Unit)
        }
        Op::Release { job_id, fence } => {
            check_fence(tx, *job_id, *fence).await?;
            exec(tx, "UPDATE jobs SET lease_owner = NULL, lease_until_ms = NULL WHERE id = $1", &[&job_id]).await?;
            Ok(Out::Unit)
        }
        Op::ReplayDead { job_id, now_ms } => {
            // A replay is a fresh start: the journal of the dead attempt is kept, so
            // effects that succeeded before are not performed twice.
            let sql = format!(
                "UPDATE jobs SET state = 'queued', attempts = 0, next_run_at_ms = $1, finished_at_ms = NULL
                 WHERE state = 'dead' AND ($2::BIGINT IS NULL OR id = $2) RETURNING {JOB_COLUMNS}"
            );
            let rows = query(tx, &sql, &[&now_ms, &job_id]).await?;
            let mut jobs = rows.iter().map(job_from_row).collect::<StoreResult<Vec<_>>>()?;
            jobs.sort_by_key(|j| j.id);
            let ids: Vec<i64> = jobs.iter().map(|j| j.id).collect();
            exec(tx, "INSERT INTO revived (job_id) SELECT unnest($1::BIGINT[]) ON CONFLICT DO NOTHING", &[&ids]).await?;
            Ok(Out::Jobs(jobs))
        }
        Op::TakeRevived => {
            let sql = format!(
                "WITH taken AS (DELETE FROM revived RETURNING job_id)
                 SELECT {JOB_COLUMNS} FROM jobs WHERE state = 'queued' AND id IN (SELECT job_id FROM taken) ORDER BY id"
            );
            let rows = query(tx, &sql, &[]).await?;
            Ok(Out::Jobs(rows.iter().map(job_from_row).collect::<StoreResult<Vec<_>>>()?))
        }
        Op::Journal { write, fence } => {
            check_fence(tx, write.job_id, *fence).await?;
            journal_write(tx, write).await.map(Out::Flag)
        }
        Op::JournalTruncate { job_id, fence, from_seq } => {
            check_fence(tx, *job_id, *fence).await?;
            let from_seq = int(*from_seq, "seq")?;
            exec(tx, "DELETE FROM journal WHERE job_id = $1 AND seq >= $2", &[&job_id, &from_seq]).await?;
            Ok(Out::Unit)
        }
        Op::Kv { namespace, write } => kv_write(tx, namespace, write).await.map(Out::Flag),
        Op::SetPaused { integration, reason, now_ms } => {
            exec(
                tx,
                "INSERT INTO integration_state (integration, paused_reason, updated_at_ms) VALUES ($1, $2, $3)
                 ON CONFLICT (integration) DO UPDATE SET paused_reason = excluded.paused_reason, updated_at_ms = excluded.updated_at_ms",
                &[&integration, &reason, &now_ms],
            )
            .await?;
            Ok(Out::Unit)
        }
    }
}

/// Store an event and its jobs: one call of `sb_ingest` (schema migration 5),
/// one round trip whatever the number of integrations.
async fn ingest(tx: &Transaction<'_>, event: &NewEvent, jobs: &[NewJob], window_ms: i64) -> StoreResult<IngestOutcome> {
    let hash: &[u8] = &event.body_hash;
    let integrations: Vec<&str> = jobs.iter().map(|j| j.integration.as_str()).collect();
    let keys: Vec<&str> = jobs.iter().map(|j| j.ordering_key.as_str()).collect();
    let rows = query(
        tx,
        "SELECT out_event, out_duplicate, out_integration, out_job FROM sb_ingest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        &[
            &event.account,
            &event.event_name,
            &event.body,
            &hash,
            &event.received_at_ms,
            &event.not_dispatched,
            &event.origin.as_str(),
            &event.occurrence,
            &window_ms,
            &integrations,
            &keys,
        ],
    )
    .await?;
    let first = rows.first().ok_or_else(|| StoreError("sb_ingest returned no row".into()))?;
    let event_id: i64 = first.try_get(0).map_err(|e| pg_err("sb_ingest.out_event", e))?;
    if first.try_get::<_, bool>(1).map_err(|e| pg_err("sb_ingest.out_duplicate", e))? {
        return Ok(IngestOutcome::Duplicate { event_id });
    }
    let mut created = Vec::with_capacity(jobs.len());
    let mut already_logged = Vec::new();
    for row in &rows {
        let Some(integration) = row.try_get::<_, Option<String>>(2).map_err(|e| pg_err("sb_ingest.out_integration", e))? else {
            continue;
        };
        match row.try_get::<_, Option<i64>>(3).map_err(|e| pg_err("sb_ingest.out_job", e))? {
            Some(id) => {
                let ordering_key = jobs.iter().find(|j| j.integration == integration).map(|j| j.ordering_key.clone()).unwrap_or_default();
                created.push(JobRecord { id, event_id, integration, ordering_key, attempts: 0, next_run_at_ms: event.received_at_ms });
            }
            None => already_logged.push(integration),
        }
    }
    Ok(IngestOutcome::Accepted { event_id, jobs: created, already_logged })
}

/// Apply a journal write (and its key-value write) inside the current transaction.
async fn journal_write(tx: &Transaction<'_>, write: &JournalWrite) -> StoreResult<Option<bool>> {
    let verdict = match &write.kv {
        Some((ns, kv)) => kv_write(tx, ns, kv).await?,
        None => None,
    };
    // A storage effect's recorded outcome is its verdict, so a replay answers the same.
    let result = match &write.kv {
        Some(_) => postcard::to_stdvec(&verdict).map_err(|e| StoreError(format!("cannot encode the storage verdict: {e}")))?,
        None => write.entry.result.clone(),
    };
    let seq = int(write.entry.seq, "journal seq")?;
    exec(
        tx,
        "INSERT INTO journal (job_id, seq, fingerprint, done, result) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (job_id, seq) DO UPDATE SET fingerprint = excluded.fingerprint, done = excluded.done, result = excluded.result",
        &[&write.job_id, &seq, &write.entry.fingerprint, &write.entry.done, &result],
    )
    .await?;
    Ok(verdict)
}

/// Apply a key-value write; returns the CAS verdict for compare-and-swap.
async fn kv_write(tx: &Transaction<'_>, ns: &str, kv: &KvWrite) -> StoreResult<Option<bool>> {
    match kv {
        KvWrite::Set { key, value, expires_at_ms } => {
            kv_set(tx, ns, key, value, *expires_at_ms).await?;
            Ok(None)
        }
        KvWrite::Delete { key } => {
            exec(tx, "DELETE FROM kv WHERE namespace = $1 AND key = $2", &[&ns, key]).await?;
            Ok(None)
        }
        KvWrite::Cas { key, expected, new, expires_at_ms } => {
            let now = crate::clock::now_ms();
            // FOR UPDATE: a concurrent CAS on the same key (another host, later) waits for this one.
            let rows = query(
                tx,
                "SELECT value FROM kv WHERE namespace = $1 AND key = $2 AND (expires_at_ms IS NULL OR expires_at_ms > $3) FOR UPDATE",
                &[&ns, key, &now],
            )
            .await?;
            let current: Option<Vec<u8>> = match rows.first() {
                Some(r) => Some(r.try_get(0).map_err(|e| pg_err("kv.value", e))?),
                None => None,
            };
            if current != *expected {
                return Ok(Some(false));
            }
            match new {
                Some(value) => kv_set(tx, ns, key, value, *expires_at_ms).await?,
                None => {
                    exec(tx, "DELETE FROM kv WHERE namespace = $1 AND key = $2", &[&ns, key]).await?;
                }
            }
            Ok(Some(true))
        }
    }
}

async fn kv_set(tx: &Transaction<'_>, ns: &str, key: &String, value: &Vec<u8>, expires_at_ms: Option<i64>) -> StoreResult<()> {
    exec(
        tx,
        "INSERT INTO kv (namespace, key, value, expires_at_ms) VALUES ($1, $2, $3, $4)
         ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, expires_at_ms = excluded.expires_at_ms",
        &[&ns, key, value, &expires_at_ms],
    )
    .await?;
    Ok(())
}

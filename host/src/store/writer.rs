//! The single writer: takes write operations from a channel and commits them in
//! batches. Every operation of a batch shares one transaction and one fsync
//! (group commit); each runs in its own savepoint so one failing operation does
//! not undo the others.

use super::{IngestOutcome, JobRecord, JournalWrite, KvWrite, NewEvent, NewJob, StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use tokio::sync::{mpsc, oneshot};

/// Largest batch committed at once.
const MAX_BATCH: usize = 2048;

/// A write and where to send its result.
pub enum WriteOp {
    /// `call_key`: [`super::schema::call_key`] of the event, read before it
    /// reaches this thread.
    Ingest {
        event: NewEvent,
        call_key: Option<i64>,
        jobs: Vec<NewJob>,
        window_ms: i64,
        reply: oneshot::Sender<StoreResult<IngestOutcome>>,
    },
    Exec {
        run: Apply,
        reply: Option<oneshot::Sender<StoreResult<Reply>>>,
    },
}

/// A write the writer thread applies inside its open transaction.
type Apply = Box<dyn FnOnce(&Transaction<'_>) -> StoreResult<Reply> + Send>;

/// Result of an `Exec` operation.
#[derive(Debug, Default)]
pub struct Reply {
    pub flag: Option<bool>,
    pub jobs: Vec<JobRecord>,
    pub count: u64,
}

/// Run the writer loop until every sender is dropped.
pub fn run(mut conn: Connection, mut rx: mpsc::UnboundedReceiver<WriteOp>, wait: std::time::Duration) {
    let mut batch: Vec<WriteOp> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        commit_batch(&mut conn, &mut batch);
    }
}

enum Pending {
    Ingest(oneshot::Sender<StoreResult<IngestOutcome>>, StoreResult<IngestOutcome>),
    Exec(Option<oneshot::Sender<StoreResult<Reply>>>, StoreResult<Reply>),
}

fn commit_batch(conn: &mut Connection, batch: &mut Vec<WriteOp>) {
    let mut pending = Vec::with_capacity(batch.len());
    // IMMEDIATE: the write lock is taken at BEGIN, waiting out another
    // process's writer (a `switchboard` command beside the running host) under
    // the busy timeout. A deferred transaction that read first would instead
    // fail at its first write with "database is locked" (SQLITE_BUSY_SNAPSHOT,
    // which no timeout retries) whenever the other process wrote meanwhile.
    let tx = match conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            fail_all(batch.drain(..), &e.to_string());
            return;
        }
    };
    for op in batch.drain(..) {
        match op {
            WriteOp::Ingest { event, call_key, jobs, window_ms, reply } => {
                let result = in_savepoint(&tx, |sp| ingest(sp, &event, call_key, &jobs, window_ms));
                pending.push(Pending::Ingest(reply, result));
            }
            WriteOp::Exec { run, reply } => {
                let result = in_savepoint(&tx, |sp| run(sp));
                if let (None, Err(e)) = (&reply, &result) {
                    tracing::warn!(error = %e, "store: background write failed");
                }
                pending.push(Pending::Exec(reply, result));
            }
        }
    }
    let committed = tx.commit().map_err(|e| StoreError(format!("commit failed: {e}")));
    for p in pending {
        match p {
            Pending::Ingest(reply, result) => {
                let _ = reply.send(committed.as_ref().map_err(clone_err).and(result));
            }
            Pending::Exec(Some(reply), result) => {
                let _ = reply.send(committed.as_ref().map_err(clone_err).and(result));
            }
            Pending::Exec(None, _) => {
                if let Err(e) = &committed {
                    tracing::error!(error = %e, "store: background write lost in a failed commit");
                }
            }
        }
    }
}

fn clone_err(e: &StoreError) -> StoreError {
    StoreError(e.0.clone())
}

fn fail_all(ops: impl Iterator<Item = WriteOp>, message: &str) {
    for op in ops {
        let err = || StoreError(format!("cannot begin transaction: {message}"));
        match op {
            WriteOp::Ingest { reply, .. } => {
                let _ = reply.send(Err(err()));
            }
            WriteOp::Exec { reply: Some(reply), .. } => {
                let _ = reply.send(Err(err()));
            }
            WriteOp::Exec { reply: None, .. } => {}
        }
    }
}

/// Run `f` inside a savepoint of `tx`; roll the savepoint back if it fails.
fn in_savepoint<T>(tx: &Transaction<'_>, f: impl FnOnce(&Transaction<'_>) -> StoreResult<T>) -> StoreResult<T> {
    tx.execute_batch("SAVEPOINT op")?;
    match f(tx) {
        Ok(v) => {
            tx.execute_batch("RELEASE op")?;
            Ok(v)
        }
        Err(e) => {
            tx.execute_batch("ROLLBACK TO op; RELEASE op")?;
            Err(e)
        }
    }
}

fn ingest(tx: &Transaction<'_>, event: &NewEvent, call_key: Option<i64>, jobs: &[NewJob], window_ms: i64) -> StoreResult<IngestOutcome> {
    let seen: Option<(i64, i64)> = tx
        .query_row("SELECT event_id, seen_at_ms FROM dedupe WHERE body_hash = ?1", params![&event.body_hash[..]], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    if let Some((event_id, seen_at)) = seen
        && event.received_at_ms - seen_at < window_ms
    {
        return Ok(IngestOutcome::Duplicate { event_id });
    }
    tx.execute(
        "INSERT INTO events (account, event_name, body, received_at_ms, not_dispatched, origin, call_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![event.account, event.event_name, event.body, event.received_at_ms, event.not_dispatched, event.origin.as_str(), call_key],
    )?;
    let event_id = tx.last_insert_rowid();
    tx.execute(
        "INSERT INTO dedupe (body_hash, event_id, seen_at_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT(body_hash) DO UPDATE SET event_id = excluded.event_id, seen_at_ms = excluded.seen_at_ms",
        params![&event.body_hash[..], event_id, event.received_at_ms],
    )?;
    let mut created = Vec::with_capacity(jobs.len());
    let mut already_logged = Vec::new();
    for job in jobs {
        if let Some(occurrence) = &event.occurrence {
            // First come, first served: the pair is inserted or the job is not made.
            let fresh = tx
                .prepare_cached(
                    "INSERT INTO logged (integration, occurrence, event_id, logged_at_ms) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(integration, occurrence) DO NOTHING",
                )?
                .execute(params![job.integration, occurrence, event_id, event.received_at_ms])?;
            if fresh == 0 {
                already_logged.push(job.integration.clone());
                continue;
            }
        }
        tx.prepare_cached("INSERT INTO jobs (event_id, integration, ordering_key, next_run_at_ms) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![event_id, job.integration, job.ordering_key, event.received_at_ms])?;
        created.push(JobRecord {
            id: tx.last_insert_rowid(),
            event_id,
            integration: job.integration.clone(),
            ordering_key: job.ordering_key.clone(),
            attempts: 0,
            next_run_at_ms: event.received_at_ms,
        });
    }
    Ok(IngestOutcome::Accepted { event_id, jobs: created, already_logged })
}

/// Apply a journal write (and its key-value write) inside the current transaction.
pub fn journal_write(tx: &Transaction<'_>, write: &JournalWrite) -> StoreResult<Option<bool>> {
    let verdict = match &write.kv {
        Some((ns, kv)) => kv_write(tx, ns, kv)?,
        None => None,
    };
    // A storage effect's recorded outcome is its verdict, so a replay answers the same.
    let result = match &write.kv {
        Some(_) => postcard::to_stdvec(&verdict).unwrap_or_default(),
        None => write.entry.result.clone(),
    };
    tx.prepare_cached(
        "INSERT INTO journal (job_id, seq, fingerprint, done, result) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(job_id, seq) DO UPDATE SET fingerprint = excluded.fingerprint, done = excluded.done, result = excluded.result",
    )?
    .execute(params![write.job_id, write.entry.seq, write.entry.fingerprint, write.entry.done, result])?;
    Ok(verdict)
}

/// Apply a key-value write; returns the CAS verdict for compare-and-swap.
pub fn kv_write(tx: &Transaction<'_>, ns: &str, kv: &KvWrite) -> StoreResult<Option<bool>> {
    match kv {
        KvWrite::Set { key, value, expires_at_ms } => {
            tx.prepare_cached(
                "INSERT INTO kv (namespace, key, value, expires_at_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(namespace, key) DO UPDATE SET value = excluded.value, expires_at_ms = excluded.expires_at_ms",
            )?
            .execute(params![ns, key, value, expires_at_ms])?;
            Ok(None)
        }
        KvWrite::Delete { key } => {
            tx.prepare_cached("DELETE FROM kv WHERE namespace = ?1 AND key = ?2")?.execute(params![ns, key])?;
            Ok(None)
        }
        KvWrite::Cas { key, expected, new, expires_at_ms } => {
            let now = crate::clock::now_ms();
            let current: Option<Vec<u8>> = tx
                .query_row(
                    "SELECT value FROM kv WHERE namespace = ?1 AND key = ?2 AND (expires_at_ms IS NULL OR expires_at_ms > ?3)",
                    params![ns, key, now],
                    |r| r.get(0),
                )
                .optional()?;
            if current != *expected {
                return Ok(Some(false));
            }
            match new {
                Some(value) => kv_write(tx, ns, &KvWrite::Set { key: key.clone(), value: value.clone(), expires_at_ms: *expires_at_ms })?,
                None => kv_write(tx, ns, &KvWrite::Delete { key: key.clone() })?,
            };
            Ok(Some(true))
        }
    }
}

//! The batching writer of [`super::PgStore`]: one task takes write operations
//! from a channel and commits everything that queued up meanwhile in one
//! transaction (many webhooks share one commit, as with the SQLite writer).
//! Operations are applied in the order they were sent, so a lazy journal write
//! lands before a later `job_done` of the same job. The batch's statements are
//! pipelined ([`super::statements`]); if one fails, the batch runs again with
//! each operation in its own savepoint, so one failing operation does not undo
//! the others.

use super::pg_err;
use super::statements::{Statement, read_then_write, statement};
use crate::store::{IngestOutcome, JobRecord, JournalWrite, KvWrite, NewEvent, NewJob, StoreError, StoreResult};
use deadpool_postgres::{Pool, Transaction};
use futures::future::maybe_done;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::types::ToSql;

/// Largest batch committed at once.
const MAX_BATCH: usize = 2048;

/// A write the writer applies.
pub enum Op {
    Ingest {
        event: NewEvent,
        /// The call it is about ([`crate::store::schema::call_key`]), read on the caller's thread.
        call_key: Option<i64>,
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
    let wake = Wake::of(batch);
    // Fast path: the whole batch in one transaction without savepoints (two round
    // trips fewer per write). If any write fails, nothing of it was committed:
    // the batch runs again with a savepoint per write, so only that write fails.
    let results = match attempt(&mut client, batch, false, &wake).await {
        Ok(results) => Ok(results),
        Err(e) => {
            tracing::debug!(error = %e, "store: a write of the batch failed; applying each in its own savepoint");
            attempt(&mut client, batch, true, &wake).await
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
/// each write's result. Without `savepoints`, runs of one-statement writes are
/// pipelined and the first SQL error fails the whole attempt (nothing is
/// committed); with them, each write runs alone in its own savepoint, so only a
/// failing write fails. A write refused on its own (a lost lease) fails alone
/// either way.
async fn attempt(
    client: &mut deadpool_postgres::Object,
    batch: &[WriteOp],
    savepoints: bool,
    wake: &Wake,
) -> StoreResult<Vec<StoreResult<Out>>> {
    let tx = client.transaction().await.map_err(|e| pg_err("cannot begin transaction", e))?;
    let mut results = Vec::with_capacity(batch.len());
    if savepoints {
        for w in batch {
            results.push(in_savepoint(&tx, &w.op).await?);
        }
    } else {
        let mut rest = batch;
        while let Some(first) = rest.first() {
            let run: Vec<StoreResult<Statement>> = rest.iter().map_while(|w| statement(&w.op)).collect();
            if run.is_empty() {
                results.push(read_then_write(&tx, &first.op).await?);
                rest = &rest[1..];
            } else {
                rest = &rest[run.len()..];
                results.extend(pipelined(&tx, run).await?);
            }
        }
    }
    // A failed statement aborts the transaction (its COMMIT would roll back
    // without an error), so a failed NOTIFY fails the attempt like any write.
    notify(&tx, wake).await.map_err(|e| pg_err("NOTIFY failed", e))?;
    tx.commit().await.map_err(|e| pg_err("commit failed", e))?;
    Ok(results)
}

/// Runs `run` as one pipeline: every statement is sent, in order, before any
/// answer is read, so the server executes them in batch order and the whole
/// run costs about one round trip.
async fn pipelined(tx: &Transaction<'_>, run: Vec<StoreResult<Statement>>) -> StoreResult<Vec<StoreResult<Out>>> {
    // Prepared once per connection; later batches find them cached.
    let mut prepared = Vec::with_capacity(run.len());
    for s in &run {
        prepared.push(match s {
            Ok(s) => Some(tx.prepare_cached(&s.sql).await.map_err(|e| pg_err(&s.sql, e))?),
            Err(_) => None,
        });
    }
    let params: Vec<Vec<&(dyn ToSql + Sync)>> = run.iter().map(|s| s.as_ref().map(Statement::param_refs).unwrap_or_default()).collect();
    let mut answers: Vec<_> =
        prepared.iter().zip(&params).map(|(p, params)| p.as_ref().map(|p| Box::pin(maybe_done(tx.query(p, params))))).collect();
    // The first poll of a query sends it; poll each once, in order, then wait.
    for answer in answers.iter_mut().flatten() {
        let _ = futures::poll!(answer.as_mut());
    }
    let mut results = Vec::with_capacity(run.len());
    for (s, answer) in run.iter().zip(answers) {
        match (s, answer) {
            (Ok(s), Some(mut answer)) => {
                answer.as_mut().await;
                let rows = answer.as_mut().take_output().ok_or_else(|| StoreError("a pipelined answer was taken twice".into()))?;
                let rows = rows.map_err(|e| pg_err(&s.sql, e))?;
                results.push(s.read(&rows));
            }
            (Err(refusal), _) => results.push(Err(StoreError(refusal.0.clone()))),
            (Ok(s), None) => return Err(StoreError(format!("{}: not prepared", s.sql))),
        }
    }
    Ok(results)
}

/// Applies `op` alone inside a savepoint, rolled back if it fails; `Err` only
/// when the savepoint itself cannot be handled.
async fn in_savepoint(tx: &Transaction<'_>, op: &Op) -> StoreResult<StoreResult<Out>> {
    tx.batch_execute("SAVEPOINT op").await.map_err(|e| pg_err("savepoint", e))?;
    let result = read_then_write(tx, op).await.and_then(|r| r);
    match &result {
        Ok(_) => tx.batch_execute("RELEASE SAVEPOINT op").await.map_err(|e| pg_err("release savepoint", e))?,
        Err(e) => tx
            .batch_execute("ROLLBACK TO SAVEPOINT op; RELEASE SAVEPOINT op")
            .await
            .map_err(|e2| pg_err(&format!("rollback after {e}"), e2))?,
    }
    Ok(result)
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

/// Whom a batch's commit must wake: the claim loops of every host, by one
/// `NOTIFY` per committed batch.
#[derive(Debug, PartialEq)]
enum Wake {
    /// Nothing in the batch makes a job claimable.
    Nobody,
    /// A lane head finished (its next job is the head now), a retry, a
    /// release, a replay, a resume: notify.
    Claimers,
    /// Only new jobs, of these integrations: notify unless every one is paused
    /// (their jobs are held; waking every host to pass over them again costs
    /// each a claim that walks all held jobs). Decided in the transaction, on
    /// the paused state it sees; a resume notifies on its own.
    ClaimersUnlessPaused(Vec<String>),
}

impl Wake {
    fn of(batch: &[WriteOp]) -> Wake {
        let mut integrations: Vec<String> = Vec::new();
        for w in batch {
            match &w.op {
                Op::Ingest { jobs, .. } => integrations.extend(jobs.iter().map(|j| j.integration.clone())),
                Op::JobDone { .. } | Op::JobRetry { .. } | Op::JobDead { .. } | Op::Release { .. } | Op::ReplayDead { .. } => {
                    return Wake::Claimers;
                }
                Op::SetPaused { reason, .. } if reason.is_none() => return Wake::Claimers,
                Op::SetPaused { .. } | Op::TakeRevived | Op::Journal { .. } | Op::JournalTruncate { .. } | Op::Kv { .. } => {}
            }
        }
        if integrations.is_empty() {
            return Wake::Nobody;
        }
        integrations.sort_unstable();
        integrations.dedup();
        Wake::ClaimersUnlessPaused(integrations)
    }
}

/// `NOTIFY` when one of `$1` (integrations) is not paused.
const NOTIFY_UNLESS_PAUSED: &str = "SELECT pg_notify($2, '') WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) AS i(integration) \
     WHERE NOT EXISTS (SELECT 1 FROM integration_state s WHERE s.integration = i.integration AND s.paused_reason IS NOT NULL))";

/// Sends the batch's wake-up (see [`Wake`]) in its transaction.
async fn notify(tx: &Transaction<'_>, wake: &Wake) -> Result<(), tokio_postgres::Error> {
    match wake {
        Wake::Nobody => Ok(()),
        Wake::Claimers => tx.batch_execute(&format!("NOTIFY {}", super::listen::CHANNEL)).await,
        Wake::ClaimersUnlessPaused(integrations) => {
            // Prepared once per connection: one round trip, like the plain NOTIFY.
            let statement = tx.prepare_cached(NOTIFY_UNLESS_PAUSED).await?;
            tx.execute(&statement, &[integrations, &super::listen::CHANNEL]).await.map(|_| ())
        }
    }
}

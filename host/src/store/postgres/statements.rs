//! Each write of the batching writer as SQL. Almost every write is one
//! statement, fence check included, so the writer can send a whole run of them
//! before reading any answer (pipelining: one round trip for the run instead of
//! one or two per write). Only compare-and-swap needs to read before it writes.
//!
//! A write refused for a reason of its own (a lost lease, a value that does not
//! fit) is an `Ok(Err(..))`: it fails alone and leaves the transaction usable.
//! An SQL error is an `Err(..)`: the transaction is aborted.

use super::pg_err;
use super::writer::{JOB_COLUMNS, Op, Out, job_from_row};
use crate::store::{IngestOutcome, JobRecord, JournalWrite, KvWrite, NewEvent, NewJob, StoreError, StoreResult};
use deadpool_postgres::Transaction;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

/// A parameter of a [`Statement`], owned so statements can be sent together.
type Param = Box<dyn ToSql + Sync + Send>;

/// One write as one SQL statement and how to read its answer.
pub struct Statement {
    /// The statement text, with placeholders `$1`, `$2`… for `params`.
    pub sql: String,
    /// Its parameters, `$1` first.
    pub params: Vec<Param>,
    read: Read,
}

impl Statement {
    /// The parameters as `tokio_postgres` takes them.
    pub fn param_refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect()
    }

    /// The write's result from the statement's rows.
    pub fn read(&self, rows: &[Row]) -> StoreResult<Out> {
        match &self.read {
            Read::Unit => Ok(Out::Unit),
            Read::Flag => Ok(Out::Flag(None)),
            Read::Fenced { job_id, fence } => fenced_unit(rows, *job_id, *fence),
            Read::FencedFlag { job_id, fence } => fenced_unit(rows, *job_id, *fence).map(|_| Out::Flag(None)),
            Read::Ingest { received_at_ms, keys } => read_ingest(rows, *received_at_ms, keys).map(Out::Ingest),
            Read::Jobs => Ok(Out::Jobs(rows.iter().map(job_from_row).collect::<StoreResult<Vec<_>>>()?)),
        }
    }
}

/// How a statement's rows become the write's result.
enum Read {
    Unit,
    /// A write that answers "no compare-and-swap verdict".
    Flag,
    /// A claimed job's write: one row `(applied, current fence)`; refused when
    /// nothing was applied and the write carried a fence.
    Fenced {
        job_id: i64,
        fence: Option<i64>,
    },
    FencedFlag {
        job_id: i64,
        fence: Option<i64>,
    },
    Ingest {
        received_at_ms: i64,
        /// `(integration, ordering key)` of the jobs asked for.
        keys: Vec<(String, String)>,
    },
    Jobs,
}

/// `op` as one statement; `None` when it must read before it writes (a
/// compare-and-swap); `Some(Err(..))` when it is refused before reaching SQL.
pub fn statement(op: &Op) -> Option<StoreResult<Statement>> {
    let built = match op {
        Op::Ingest { event, call_key, jobs, window_ms } => Ok(ingest(event, *call_key, jobs, *window_ms)),
        Op::JobDone { job_id, fence, now_ms } => Ok(fenced(
            "UPDATE jobs SET state = 'done', finished_at_ms = $3, last_error = NULL, lease_owner = NULL, lease_until_ms = NULL
             WHERE id = $1 AND ($2::BIGINT IS NULL OR fence = $2) RETURNING id",
            // A finished job's journal is not needed any more.
            Some("DELETE FROM journal WHERE job_id IN (SELECT id FROM applied)"),
            *job_id,
            *fence,
            vec![Box::new(*now_ms)],
        )),
        Op::JobRetry { job_id, fence, attempts, next_run_at_ms, error } => int(*attempts, "attempts").map(|attempts| {
            fenced(
                "UPDATE jobs SET attempts = $3, next_run_at_ms = $4, last_error = $5, lease_owner = NULL, lease_until_ms = NULL
                 WHERE id = $1 AND ($2::BIGINT IS NULL OR fence = $2) RETURNING id",
                None,
                *job_id,
                *fence,
                vec![Box::new(attempts), Box::new(*next_run_at_ms), Box::new(error.clone())],
            )
        }),
        Op::JobDead { job_id, fence, attempts, reason, now_ms } => int(*attempts, "attempts").map(|attempts| {
            fenced(
                "UPDATE jobs SET state = 'dead', attempts = $3, last_error = $4, finished_at_ms = $5, lease_owner = NULL, lease_until_ms = NULL
                 WHERE id = $1 AND ($2::BIGINT IS NULL OR fence = $2) RETURNING id",
                None,
                *job_id,
                *fence,
                vec![Box::new(attempts), Box::new(reason.clone()), Box::new(*now_ms)],
            )
        }),
        Op::Release { job_id, fence } => Ok(fenced(
            "UPDATE jobs SET lease_owner = NULL, lease_until_ms = NULL WHERE id = $1 AND ($2::BIGINT IS NULL OR fence = $2) RETURNING id",
            None,
            *job_id,
            *fence,
            vec![],
        )),
        Op::ReplayDead { job_id, now_ms } => Ok(Statement {
            // A replay is a fresh start: the journal of the dead attempt is kept, so
            // effects that succeeded before are not performed twice.
            sql: format!(
                "WITH replayed AS (
                     UPDATE jobs SET state = 'queued', attempts = 0, next_run_at_ms = $1, finished_at_ms = NULL
                     WHERE state = 'dead' AND ($2::BIGINT IS NULL OR id = $2) RETURNING {JOB_COLUMNS}),
                 noted AS (INSERT INTO revived (job_id) SELECT id FROM replayed ON CONFLICT DO NOTHING)
                 SELECT {JOB_COLUMNS} FROM replayed ORDER BY id"
            ),
            params: vec![Box::new(*now_ms), Box::new(*job_id)],
            read: Read::Jobs,
        }),
        Op::TakeRevived => Ok(Statement {
            sql: format!(
                "WITH taken AS (DELETE FROM revived RETURNING job_id)
                 SELECT {JOB_COLUMNS} FROM jobs WHERE state = 'queued' AND id IN (SELECT job_id FROM taken) ORDER BY id"
            ),
            params: vec![],
            read: Read::Jobs,
        }),
        Op::Journal { write, fence } if write.kv.is_none() => journal(write, *fence),
        Op::Journal { .. } => return None,
        Op::JournalTruncate { job_id, fence, from_seq } => int(*from_seq, "seq").map(|from_seq| {
            fenced_lock(
                "DELETE FROM journal WHERE job_id IN (SELECT id FROM locked) AND seq >= $3::INTEGER RETURNING 1",
                *job_id,
                *fence,
                vec![Box::new(from_seq)],
                Read::Fenced { job_id: *job_id, fence: *fence },
            )
        }),
        Op::Kv { namespace, write } => match write {
            KvWrite::Set { key, value, expires_at_ms } => Ok(Statement {
                sql: KV_SET.to_string(),
                params: vec![Box::new(namespace.clone()), Box::new(key.clone()), Box::new(value.clone()), Box::new(*expires_at_ms)],
                read: Read::Flag,
            }),
            KvWrite::Delete { key } => Ok(Statement {
                sql: KV_DELETE.to_string(),
                params: vec![Box::new(namespace.clone()), Box::new(key.clone())],
                read: Read::Flag,
            }),
            KvWrite::Cas { .. } => return None,
        },
        Op::SetPaused { integration, reason, now_ms } => Ok(Statement {
            sql: "INSERT INTO integration_state (integration, paused_reason, updated_at_ms) VALUES ($1, $2, $3)
                  ON CONFLICT (integration) DO UPDATE SET paused_reason = excluded.paused_reason, updated_at_ms = excluded.updated_at_ms"
                .to_string(),
            params: vec![Box::new(integration.clone()), Box::new(reason.clone()), Box::new(*now_ms)],
            read: Read::Unit,
        }),
    };
    Some(built)
}

const KV_SET: &str = "INSERT INTO kv (namespace, key, value, expires_at_ms) VALUES ($1, $2, $3, $4)
     ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, expires_at_ms = excluded.expires_at_ms";
const KV_DELETE: &str = "DELETE FROM kv WHERE namespace = $1 AND key = $2";
const JOURNAL_UPSERT: &str = "INSERT INTO journal (job_id, seq, fingerprint, done, result)";
const JOURNAL_CONFLICT: &str =
    "ON CONFLICT (job_id, seq) DO UPDATE SET fingerprint = excluded.fingerprint, done = excluded.done, result = excluded.result";

/// A claimed job's update `update` (a statement `RETURNING id`, whose `$1` is
/// the job and `$2` its fence, `NULL` for an unfenced write, with `extra` from
/// `$3` on), and a statement `then` over the rows it updated (run as `followed`) (`applied`),
/// answering whether it applied and the job's fence now. The update re-checks
/// the fence on the row it locks, so a claim by another host that commits
/// first makes it apply to nothing.
fn fenced(update: &str, then: Option<&str>, job_id: i64, fence: Option<i64>, extra: Vec<Param>) -> Statement {
    let mut params: Vec<Param> = vec![Box::new(job_id), Box::new(fence)];
    params.extend(extra);
    let then = then.map(|t| format!(", followed AS ({t})")).unwrap_or_default();
    Statement {
        sql: format!("WITH applied AS ({update}){then} SELECT (SELECT count(*) FROM applied), (SELECT fence FROM jobs WHERE id = $1)"),
        params,
        read: Read::Fenced { job_id, fence },
    }
}

/// A write `body` to rows of a job other than its own row, done only while the
/// job's fence is `$2` (or `$2` is `NULL`): the job's row is locked first (`locked`)
/// so that no claim slips in before the batch commits.
fn fenced_lock(body: &str, job_id: i64, fence: Option<i64>, extra: Vec<Param>, read: Read) -> Statement {
    let mut params: Vec<Param> = vec![Box::new(job_id), Box::new(fence)];
    params.extend(extra);
    Statement {
        sql: format!(
            "WITH locked AS (SELECT id FROM jobs WHERE id = $1 AND ($2::BIGINT IS NULL OR fence = $2) FOR UPDATE),
             applied AS ({body})
             SELECT (SELECT count(*) FROM locked), (SELECT fence FROM jobs WHERE id = $1)"
        ),
        params,
        read,
    }
}

/// A journal entry of a claimed job (upserted by `(job, seq)`); unfenced writes
/// do not need the job's row.
fn journal(write: &JournalWrite, fence: Option<i64>) -> StoreResult<Statement> {
    let seq = int(write.entry.seq, "journal seq")?;
    let entry: Vec<Param> =
        vec![Box::new(seq), Box::new(write.entry.fingerprint.clone()), Box::new(write.entry.done), Box::new(write.entry.result.clone())];
    Ok(match fence {
        None => {
            let mut params: Vec<Param> = vec![Box::new(write.job_id)];
            params.extend(entry);
            Statement { sql: format!("{JOURNAL_UPSERT} VALUES ($1, $2, $3, $4, $5) {JOURNAL_CONFLICT}"), params, read: Read::Flag }
        }
        Some(_) => fenced_lock(
            &format!(
                "{JOURNAL_UPSERT} SELECT id, $3::INTEGER, $4::BYTEA, $5::BOOLEAN, $6::BYTEA FROM locked {JOURNAL_CONFLICT} RETURNING 1"
            ),
            write.job_id,
            fence,
            entry,
            Read::FencedFlag { job_id: write.job_id, fence },
        ),
    })
}

fn fenced_unit(rows: &[Row], job_id: i64, fence: Option<i64>) -> StoreResult<Out> {
    let Some(fence) = fence else {
        return Ok(Out::Unit);
    };
    let row = rows.first().ok_or_else(|| StoreError("fenced write returned no row".into()))?;
    let applied: i64 = row.try_get(0).map_err(|e| pg_err("fenced write: applied", e))?;
    if applied > 0 {
        return Ok(Out::Unit);
    }
    let current: Option<i64> = row.try_get(1).map_err(|e| pg_err("fenced write: current fence", e))?;
    Err(refused(job_id, fence, current))
}

/// The error of a write whose lease is lost.
fn refused(job_id: i64, fence: i64, current: Option<i64>) -> StoreError {
    match current {
        Some(f) => StoreError(format!(
            "fenced: job {job_id} was claimed by another host after this host's lease expired (fence {f}, this runner's {fence}); its writes are refused"
        )),
        None => StoreError(format!("fenced: job {job_id} no longer exists")),
    }
}

fn int(v: u32, what: &str) -> StoreResult<i32> {
    i32::try_from(v).map_err(|_| StoreError(format!("{what}: {v} does not fit the column")))
}

/// Store an event and its jobs: one call of `sb_ingest` (schema migrations 5
/// and 9), whatever the number of integrations.
fn ingest(event: &NewEvent, call_key: Option<i64>, jobs: &[NewJob], window_ms: i64) -> Statement {
    let integrations: Vec<String> = jobs.iter().map(|j| j.integration.clone()).collect();
    let keys: Vec<String> = jobs.iter().map(|j| j.ordering_key.clone()).collect();
    Statement {
        sql: "SELECT out_event, out_duplicate, out_integration, out_job FROM sb_ingest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            .to_string(),
        params: vec![
            Box::new(event.account.clone()),
            Box::new(event.event_name.clone()),
            Box::new(event.body.clone()),
            Box::new(event.body_hash.to_vec()),
            Box::new(event.received_at_ms),
            Box::new(event.not_dispatched.clone()),
            Box::new(event.origin.as_str().to_string()),
            Box::new(event.occurrence.clone()),
            Box::new(window_ms),
            Box::new(integrations.clone()),
            Box::new(keys.clone()),
            Box::new(call_key),
        ],
        read: Read::Ingest { received_at_ms: event.received_at_ms, keys: integrations.into_iter().zip(keys).collect() },
    }
}

fn read_ingest(rows: &[Row], received_at_ms: i64, keys: &[(String, String)]) -> StoreResult<IngestOutcome> {
    let first = rows.first().ok_or_else(|| StoreError("sb_ingest returned no row".into()))?;
    let event_id: i64 = first.try_get(0).map_err(|e| pg_err("sb_ingest.out_event", e))?;
    if first.try_get::<_, bool>(1).map_err(|e| pg_err("sb_ingest.out_duplicate", e))? {
        return Ok(IngestOutcome::Duplicate { event_id });
    }
    let mut created = Vec::with_capacity(keys.len());
    let mut already_logged = Vec::new();
    for row in rows {
        let Some(integration) = row.try_get::<_, Option<String>>(2).map_err(|e| pg_err("sb_ingest.out_integration", e))? else {
            continue;
        };
        match row.try_get::<_, Option<i64>>(3).map_err(|e| pg_err("sb_ingest.out_job", e))? {
            Some(id) => {
                let ordering_key = keys.iter().find(|(i, _)| *i == integration).map(|(_, k)| k.clone()).unwrap_or_default();
                created.push(JobRecord { id, event_id, integration, ordering_key, attempts: 0, next_run_at_ms: received_at_ms });
            }
            None => already_logged.push(integration),
        }
    }
    Ok(IngestOutcome::Accepted { event_id, jobs: created, already_logged })
}

/// The writes that read before they write: a journal entry carrying a
/// storage write, and compare-and-swap. `Ok(Err(..))`: refused alone.
pub async fn read_then_write(tx: &Transaction<'_>, op: &Op) -> StoreResult<StoreResult<Out>> {
    match op {
        Op::Journal { write, fence } => {
            if let Err(refusal) = lock_fence(tx, write.job_id, *fence).await? {
                return Ok(Err(refusal));
            }
            journal_with_kv(tx, write).await.map(|flag| Ok(Out::Flag(flag)))
        }
        Op::Kv { namespace, write } => kv_write(tx, namespace, write).await.map(|flag| Ok(Out::Flag(flag))),
        other => match statement(other) {
            Some(Ok(s)) => {
                let rows = query(tx, &s.sql, &s.param_refs()).await?;
                Ok(s.read(&rows))
            }
            Some(Err(refusal)) => Ok(Err(refusal)),
            None => Err(StoreError("a write that reads first has no statement".into())),
        },
    }
}

/// Locks a claimed job's row and checks its fence (see [`fenced`]).
async fn lock_fence(tx: &Transaction<'_>, job_id: i64, fence: Option<i64>) -> StoreResult<StoreResult<()>> {
    let Some(fence) = fence else {
        return Ok(Ok(()));
    };
    let rows = query(tx, "SELECT fence FROM jobs WHERE id = $1 FOR UPDATE", &[&job_id]).await?;
    let current: Option<i64> = match rows.first() {
        Some(r) => Some(r.try_get(0).map_err(|e| pg_err("jobs.fence", e))?),
        None => None,
    };
    Ok(if current == Some(fence) { Ok(()) } else { Err(refused(job_id, fence, current)) })
}

/// A journal entry and its storage write; a storage effect's recorded outcome
/// is its verdict, so a replay answers the same.
async fn journal_with_kv(tx: &Transaction<'_>, write: &JournalWrite) -> StoreResult<Option<bool>> {
    let verdict = match &write.kv {
        Some((ns, kv)) => kv_write(tx, ns, kv).await?,
        None => None,
    };
    let result = match &write.kv {
        Some(_) => postcard::to_stdvec(&verdict).map_err(|e| StoreError(format!("cannot encode the storage verdict: {e}")))?,
        None => write.entry.result.clone(),
    };
    let seq = int(write.entry.seq, "journal seq")?;
    let sql = format!("{JOURNAL_UPSERT} VALUES ($1, $2, $3, $4, $5) {JOURNAL_CONFLICT}");
    query(tx, &sql, &[&write.job_id, &seq, &write.entry.fingerprint, &write.entry.done, &result]).await?;
    Ok(verdict)
}

/// Apply a key-value write; returns the verdict of a compare-and-swap.
async fn kv_write(tx: &Transaction<'_>, ns: &str, kv: &KvWrite) -> StoreResult<Option<bool>> {
    match kv {
        KvWrite::Set { key, value, expires_at_ms } => {
            query(tx, KV_SET, &[&ns, key, value, expires_at_ms]).await?;
            Ok(None)
        }
        KvWrite::Delete { key } => {
            query(tx, KV_DELETE, &[&ns, key]).await?;
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
                Some(value) => query(tx, KV_SET, &[&ns, key, value, expires_at_ms]).await?,
                None => query(tx, KV_DELETE, &[&ns, key]).await?,
            };
            Ok(Some(true))
        }
    }
}

/// Runs `sql` (prepared once per connection).
pub async fn query(tx: &Transaction<'_>, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Vec<Row>> {
    let stmt = tx.prepare_cached(sql).await.map_err(|e| pg_err(sql, e))?;
    tx.query(&stmt, params).await.map_err(|e| pg_err(sql, e))
}

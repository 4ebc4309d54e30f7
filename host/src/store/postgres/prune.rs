//! Forgetting old rows on PostgreSQL, in batches: each statement deletes at
//! most [`BATCH`] rows in its own short transaction, repeated until nothing is
//! left, so pruning a busy database never holds locks (or a snapshot) for long
//! and never waits in the writer's queue in front of webhooks. Every host
//! prunes; two hosts pruning at once only share the work.

use super::PgStore;
use crate::store::{PruneCutoffs, StoreResult};

/// Rows deleted per statement.
pub(super) const BATCH: i64 = 10_000;

/// What is forgotten, oldest data first; `$1` is the cutoff, `$2` the batch.
const STEPS: &[(&str, &str)] = &[
    ("redelivery hashes", "DELETE FROM dedupe WHERE body_hash IN (SELECT body_hash FROM dedupe WHERE seen_at_ms < $1 LIMIT $2)"),
    (
        "logged occurrences",
        "DELETE FROM logged WHERE (integration, occurrence) IN
            (SELECT integration, occurrence FROM logged WHERE logged_at_ms < $1 LIMIT $2)",
    ),
    ("finished jobs", "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state = 'done' AND finished_at_ms < $1 LIMIT $2)"),
    (
        "events",
        "DELETE FROM events WHERE id IN (SELECT id FROM events e WHERE e.received_at_ms < $1
            AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.event_id = e.id)
            AND NOT EXISTS (SELECT 1 FROM dedupe WHERE dedupe.event_id = e.id) LIMIT $2)",
    ),
    (
        "expired plugin data",
        "DELETE FROM kv WHERE (namespace, key) IN
            (SELECT namespace, key FROM kv WHERE expires_at_ms IS NOT NULL AND expires_at_ms <= $1 LIMIT $2)",
    ),
];

impl PgStore {
    /// Deletes what `cutoffs` (and `now_ms`, for expired plugin data) say is
    /// old, batch by batch; returns the rows deleted.
    pub(super) async fn prune_in_batches(&self, cutoffs: PruneCutoffs, now_ms: i64) -> StoreResult<u64> {
        let mut total = 0;
        for (what, sql) in STEPS {
            let cutoff = match *what {
                "redelivery hashes" => cutoffs.dedupe_before_ms,
                "logged occurrences" => cutoffs.logged_before_ms,
                "expired plugin data" => now_ms,
                _ => cutoffs.finished_before_ms,
            };
            loop {
                let client = self.client().await?;
                let stmt = client.prepare_cached(sql).await.map_err(|e| super::pg_err(sql, e))?;
                let n = client.execute(&stmt, &[&cutoff, &BATCH]).await.map_err(|e| super::pg_err(&format!("pruning {what}"), e))?;
                total += n;
                if n < BATCH as u64 {
                    break;
                }
                tracing::debug!(what, deleted = n, "store: pruning, next batch");
            }
        }
        Ok(total)
    }
}

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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::super::{PgOptions, TestDatabase};
    use super::*;
    use crate::store::Store;
    use std::time::Duration;

    async fn count(store: &PgStore, table: &str) -> i64 {
        store.client().await.unwrap().query_one(&format!("SELECT count(*) FROM {table}"), &[]).await.unwrap().get(0)
    }

    /// Two batches and a bit of old events, finished jobs and redelivery hashes
    /// are all forgotten, batch after batch; a recent event, its queued job
    /// and its hash stay.
    #[tokio::test]
    async fn more_old_rows_than_a_batch_are_all_forgotten_and_recent_ones_stay() {
        let db = TestDatabase::create().await.unwrap();
        let store = PgStore::open(&PgOptions { url: db.url.clone(), pool_size: 2, group_commit_wait: Duration::ZERO, host_id: "h".into() })
            .await
            .unwrap();
        let old = BATCH * 2 + 5;
        let now = crate::clock::now_ms();
        store
            .client()
            .await
            .unwrap()
            .batch_execute(&format!(
                "INSERT INTO events (account, event_name, body, received_at_ms, origin)
                     SELECT 'a', 'call.ended', '{{}}', 1, 'webhook' FROM generate_series(1, {old});
                 INSERT INTO jobs (event_id, integration, ordering_key, state, finished_at_ms)
                     SELECT id, 'crm', 'lane' || id, 'done', 1 FROM events;
                 INSERT INTO dedupe (body_hash, event_id, seen_at_ms) SELECT int8send(id), id, 1 FROM events;
                 WITH recent AS (INSERT INTO events (account, event_name, body, received_at_ms, origin)
                                 VALUES ('a', 'call.created', '{{}}', {now}, 'webhook') RETURNING id),
                      job AS (INSERT INTO jobs (event_id, integration, ordering_key) SELECT id, 'crm', 'lane' FROM recent)
                 INSERT INTO dedupe (body_hash, event_id, seen_at_ms) SELECT int8send(id), id, {now} FROM recent;"
            ))
            .await
            .unwrap();
        let cutoff = now - 1000;
        let deleted =
            store.prune(PruneCutoffs { dedupe_before_ms: cutoff, finished_before_ms: cutoff, logged_before_ms: cutoff }).await.unwrap();
        assert_eq!(deleted, 3 * old as u64, "every old hash, job and event, across three batches of each");
        for table in ["events", "jobs", "dedupe"] {
            assert_eq!(count(&store, table).await, 1, "{table}: only the recent row stays");
        }
    }
}

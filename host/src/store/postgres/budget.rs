//! Outbound rate budgets shared by every host on the database: the `budgets`
//! table (migration 4), one row per `(scope, host)` token bucket.
//!
//! | column | meaning |
//! | --- | --- |
//! | `requests`, `per_ms` | the budget the last taker declared (`NULL`: only blocks so far) |
//! | `tokens` | tokens left at `updated_ms` |
//! | `updated_ms` | when `tokens` was counted; lies in the future while a block lasts (nothing is earned during a block) |
//! | `blocked_until_ms` | no token before this (a 429 / `Retry-After` seen by any host) |
//! | `granted` | whether the last take got a token (read back by that take's `RETURNING`) |
//!
//! A take is one `UPDATE` of the row: PostgreSQL locks the row, evaluates the
//! refill (elapsed time × rate, capped at the burst) on its newest version and
//! takes a token if one is there, so concurrent takes from any number of hosts
//! are serialised on the row and never share a token. Times come from the
//! database server's clock (`clock_timestamp()`), never a host's.

use super::{PgStore, pg_err};
use crate::store::budgets::{BudgetRate, SharedBudgets};
use crate::store::{StoreError, StoreResult};
use async_trait::async_trait;
use deadpool_postgres::Pool;
use std::sync::Arc;
use std::time::Duration;

/// The database server's time in milliseconds since the epoch, as a one-row `FROM` item.
const NOW: &str = "(SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT AS now_ms) AS c";

/// Tokens after the refill since `updated_ms`, for a budget of `$3` requests per `$4` ms.
const REFILLED: &str =
    "LEAST($3::INT4::FLOAT8, b.tokens + GREATEST(c.now_ms - b.updated_ms, 0)::FLOAT8 * $3::INT4::FLOAT8 / $4::INT8::FLOAT8)";

/// [`SharedBudgets`] on the `budgets` table.
pub struct PgBudgets {
    pool: Pool,
    take_sql: String,
    block_sql: String,
    cap_sql: String,
}

impl PgStore {
    /// The store's rate budgets, shared by every host on this database.
    pub fn budgets(&self) -> Arc<dyn SharedBudgets> {
        Arc::new(PgBudgets::new(self.pool.clone()))
    }
}

impl PgBudgets {
    fn new(pool: Pool) -> PgBudgets {
        let ok = format!("(b.blocked_until_ms <= c.now_ms AND {REFILLED} >= 1)");
        let take_sql = format!(
            "UPDATE budgets AS b SET
                requests = $3::INT4, per_ms = $4::INT8,
                granted = {ok},
                tokens = {REFILLED} - CASE WHEN {ok} THEN 1 ELSE 0 END,
                updated_ms = GREATEST(b.updated_ms, c.now_ms)
             FROM {NOW}
             WHERE b.scope = $1 AND b.host = $2
             RETURNING b.granted, b.tokens, b.blocked_until_ms - c.now_ms"
        );
        let block_sql = format!(
            "INSERT INTO budgets AS b (scope, host, tokens, updated_ms, blocked_until_ms)
             SELECT $1, $2, 0, c.now_ms + $3::INT8, c.now_ms + $3::INT8 FROM {NOW}
             ON CONFLICT (scope, host) DO UPDATE SET
                tokens = 0,
                blocked_until_ms = GREATEST(b.blocked_until_ms, EXCLUDED.blocked_until_ms),
                updated_ms = GREATEST(b.updated_ms, EXCLUDED.blocked_until_ms)"
        );
        // No write unless the cap lowers what the bucket holds now.
        let cap_sql = format!(
            "UPDATE budgets AS b SET tokens = $3::FLOAT8, updated_ms = GREATEST(b.updated_ms, c.now_ms)
             FROM {NOW}
             WHERE b.scope = $1 AND b.host = $2 AND b.requests > 0 AND b.per_ms > 0
               AND LEAST(b.requests::FLOAT8, b.tokens + GREATEST(c.now_ms - b.updated_ms, 0)::FLOAT8 * b.requests::FLOAT8 / b.per_ms::FLOAT8) > $3::FLOAT8"
        );
        PgBudgets { pool, take_sql, block_sql, cap_sql }
    }

    async fn client(&self) -> StoreResult<deadpool_postgres::Object> {
        self.pool.get().await.map_err(|e| StoreError(format!("budgets: no database connection: {e}")))
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

#[async_trait]
impl SharedBudgets for PgBudgets {
    async fn take(&self, scope: &str, host: &str, rate: Option<BudgetRate>) -> StoreResult<Duration> {
        let client = self.client().await?;
        let Some(rate) = rate.filter(|r| r.requests > 0) else {
            // No budget of ours: only a block another host wrote applies.
            let sql = "SELECT b.blocked_until_ms - c.now_ms FROM budgets AS b, (SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT AS now_ms) AS c
                       WHERE b.scope = $1 AND b.host = $2";
            let stmt = client.prepare_cached(sql).await.map_err(|e| pg_err("budgets: prepare", e))?;
            let rows = client.query(&stmt, &[&scope, &host]).await.map_err(|e| pg_err("budgets: read a block", e))?;
            let left: i64 = rows.first().map(|r| r.try_get(0)).transpose().map_err(|e| pg_err("budgets: read a block", e))?.unwrap_or(0);
            return Ok(Duration::from_millis(u64::try_from(left).unwrap_or(0)));
        };
        let requests = i32::try_from(rate.requests).unwrap_or(i32::MAX);
        let per_ms = i64::try_from(rate.per_ms.max(1)).unwrap_or(i64::MAX);
        let stmt = client.prepare_cached(&self.take_sql).await.map_err(|e| pg_err("budgets: prepare", e))?;
        let mut rows = client.query(&stmt, &[&scope, &host, &requests, &per_ms]).await.map_err(|e| pg_err("budgets: take", e))?;
        if rows.is_empty() {
            // The bucket's first use on any host: it starts full.
            let insert = client
                .prepare_cached(
                    "INSERT INTO budgets (scope, host, requests, per_ms, tokens, updated_ms)
                     VALUES ($1, $2, $3::INT4, $4::INT8, $3::INT4, (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT)
                     ON CONFLICT (scope, host) DO NOTHING",
                )
                .await
                .map_err(|e| pg_err("budgets: prepare", e))?;
            client.execute(&insert, &[&scope, &host, &requests, &per_ms]).await.map_err(|e| pg_err("budgets: create a bucket", e))?;
            rows = client.query(&stmt, &[&scope, &host, &requests, &per_ms]).await.map_err(|e| pg_err("budgets: take", e))?;
        }
        let row = rows.first().ok_or_else(|| StoreError(format!("budgets: no bucket for ({scope}, {host}) after creating it")))?;
        let granted: bool = row.try_get(0).map_err(|e| pg_err("budgets.granted", e))?;
        if granted {
            return Ok(Duration::ZERO);
        }
        let tokens: f64 = row.try_get(1).map_err(|e| pg_err("budgets.tokens", e))?;
        let blocked_ms: i64 = row.try_get(2).map_err(|e| pg_err("budgets.blocked_until_ms", e))?;
        if blocked_ms > 0 {
            return Ok(Duration::from_millis(blocked_ms.unsigned_abs()));
        }
        // The time the missing part of a token takes to be earned (at least 1 ms).
        let per_token_ms = rate.per_ms.max(1) as f64 / f64::from(rate.requests);
        Ok(Duration::from_millis(((1.0 - tokens.min(1.0)) * per_token_ms).ceil().max(1.0) as u64))
    }

    async fn block(&self, scope: &str, host: &str, wait: Duration) -> StoreResult<()> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(&self.block_sql).await.map_err(|e| pg_err("budgets: prepare", e))?;
        client.execute(&stmt, &[&scope, &host, &millis(wait)]).await.map_err(|e| pg_err("budgets: block", e))?;
        Ok(())
    }

    async fn cap(&self, scope: &str, host: &str, remaining: u64) -> StoreResult<()> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(&self.cap_sql).await.map_err(|e| pg_err("budgets: prepare", e))?;
        let remaining = remaining as f64;
        client.execute(&stmt, &[&scope, &host, &remaining]).await.map_err(|e| pg_err("budgets: cap", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::store::Store;
    use crate::store::postgres::TestDatabase;

    /// Two stores (two hosts) on one throwaway database.
    async fn two_hosts() -> (Arc<dyn Store>, Arc<dyn Store>, TestDatabase) {
        let db = TestDatabase::create().await.unwrap_or_else(|e| panic!("{e}"));
        let config = crate::config::StoreConfig { url: Some(db.url.clone()), pool_size: 4, ..Default::default() };
        let a = crate::store::open(&config).await.unwrap();
        let b = crate::store::open(&config).await.unwrap();
        (a, b, db)
    }

    const RATE: BudgetRate = BudgetRate { requests: 3, per_ms: 3_000 };

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_hosts_spend_one_bucket() {
        let (a, b, _db) = two_hosts().await;
        let (a, b) = (a.shared_budgets().expect("postgres shares budgets"), b.shared_budgets().unwrap());
        assert_eq!(a.take("i:x", "h", Some(RATE)).await.unwrap(), Duration::ZERO, "a new bucket starts full");
        assert_eq!(b.take("i:x", "h", Some(RATE)).await.unwrap(), Duration::ZERO);
        assert_eq!(a.take("i:x", "h", Some(RATE)).await.unwrap(), Duration::ZERO);
        let wait = b.take("i:x", "h", Some(RATE)).await.unwrap();
        assert!(wait > Duration::from_millis(800) && wait <= Duration::from_millis(1000), "the fourth waits for a refill: {wait:?}");
        // Another bucket is another budget.
        assert_eq!(b.take("i:x", "other", Some(RATE)).await.unwrap(), Duration::ZERO);
        tokio::time::sleep(wait).await;
        assert_eq!(a.take("i:x", "h", Some(RATE)).await.unwrap(), Duration::ZERO, "refilled at the declared rate");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_block_written_by_one_host_stops_the_other_and_the_bucket_restarts_empty() {
        let (a, b, db) = two_hosts().await;
        let (a, b) = (a.shared_budgets().unwrap(), b.shared_budgets().unwrap());
        assert_eq!(b.take("i:x", "h", Some(RATE)).await.unwrap(), Duration::ZERO);
        a.block("i:x", "h", Duration::from_millis(1500)).await.unwrap();
        let wait = b.take("i:x", "h", Some(RATE)).await.unwrap();
        assert!(wait > Duration::from_millis(1200) && wait <= Duration::from_millis(1500), "{wait:?}");
        // A host with no budget for it still respects the block.
        let wait = b.take("i:x", "h", None).await.unwrap();
        assert!(wait > Duration::from_millis(1200), "{wait:?}");
        // A shorter block does not shorten it.
        a.block("i:x", "h", Duration::from_millis(100)).await.unwrap();
        assert!(b.take("i:x", "h", None).await.unwrap() > Duration::from_millis(1000));
        // A block on a bucket nobody used yet creates it.
        a.block("i:y", "h", Duration::from_secs(5)).await.unwrap();
        assert!(b.take("i:y", "h", Some(RATE)).await.unwrap() > Duration::from_secs(4));
        tokio::time::sleep(Duration::from_millis(1600)).await;
        // After the block the bucket earns from empty: the first token a second later.
        let wait = a.take("i:x", "h", Some(RATE)).await.unwrap();
        assert!(wait > Duration::ZERO && wait <= Duration::from_millis(1000), "{wait:?}");
        assert_eq!(a.take("i:x", "h", None).await.unwrap(), Duration::ZERO, "no block left");
        let (client, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        let n: i64 = client.query_one("SELECT COUNT(*) FROM budgets", &[]).await.unwrap().get(0);
        assert_eq!(n, 2, "one row per bucket");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn what_the_server_has_left_caps_the_bucket() {
        let (a, b, _db) = two_hosts().await;
        let (a, b) = (a.shared_budgets().unwrap(), b.shared_budgets().unwrap());
        let rate = BudgetRate { requests: 40, per_ms: 20_000 };
        assert_eq!(a.take("i:g", "acme.gorgias.com", Some(rate)).await.unwrap(), Duration::ZERO);
        // The server counts 2 left (another client spent the rest).
        b.cap("i:g", "acme.gorgias.com", 2).await.unwrap();
        assert_eq!(a.take("i:g", "acme.gorgias.com", Some(rate)).await.unwrap(), Duration::ZERO);
        assert_eq!(b.take("i:g", "acme.gorgias.com", Some(rate)).await.unwrap(), Duration::ZERO);
        assert!(a.take("i:g", "acme.gorgias.com", Some(rate)).await.unwrap() > Duration::ZERO, "a third would be over");
        // A cap above what is left changes nothing; one on an unknown bucket is no error.
        b.cap("i:g", "acme.gorgias.com", 30).await.unwrap();
        assert!(a.take("i:g", "acme.gorgias.com", Some(rate)).await.unwrap() > Duration::ZERO);
        b.cap("i:none", "h", 0).await.unwrap();
    }
}

//! [`Leases`] on PostgreSQL: claiming lane heads, renewing and fencing.
//!
//! A claim is one call of `sb_claim` (schema migration 6): a cursor walks the
//! queued jobs oldest first (index `jobs_state`: a fast-start plan, whatever
//! the table's statistics say right after a burst), keeps those that may run
//! now, that no live lease holds and that head their lane (no older queued job
//! of the same integration and ordering key: one probe of the partial index
//! `jobs_lane_queue`), and leases each with the next fence, skipping a row
//! another host has locked (`FOR UPDATE SKIP LOCKED`: hosts claiming at once
//! take different jobs instead of waiting on each other). It stops once the
//! free slots are filled, so a claim costs the same with 10 or 10,000 live
//! lanes. The row is re-checked under its lock, so a job another host claimed
//! meanwhile is passed over.
//!
//! The fences of the jobs this host holds are kept in [`Held`]; the writer
//! checks every journal write and outcome of a held job against the job's
//! current fence ([`super::writer`]).

use super::{PgStore, pg_err};
use crate::store::{JobRecord, Leases, StoreError, StoreResult};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The most queued jobs one claim looks at. Oldest first, so a claim never
/// passes over older work; a lane blocked with more queued jobs than this in
/// front of every other lane would hold the others until it moves (its head is
/// retried on its own schedule).
const SCAN: i32 = 10_000;

/// The jobs this host holds, each with the fence of its claim.
#[derive(Default)]
pub(super) struct Held(Mutex<HashMap<i64, i64>>);

impl Held {
    /// The fence this host's writes of `job_id` must carry (`None`: not a job
    /// this host claimed — a single host, an operator's command — unfenced).
    pub(super) fn fence(&self, job_id: i64) -> Option<i64> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).get(&job_id).copied()
    }

    /// Forgets a job once its outcome was written (or refused) or it was released.
    pub(super) fn forget(&self, job_id: i64) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(&job_id);
    }

    fn insert(&self, job_id: i64, fence: i64) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).insert(job_id, fence);
    }

    fn snapshot(&self) -> (Vec<i64>, Vec<i64>) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|(j, f)| (*j, *f)).unzip()
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// See `sb_claim` in schema migration 6.
const CLAIM: &str =
    "SELECT out_id, out_event, out_integration, out_key, out_attempts, out_next, out_fence FROM sb_claim($1, $2, $3, $4, $5, $6)";

#[async_trait]
impl Leases for PgStore {
    fn host_id(&self) -> &str {
        &self.host_id
    }

    async fn claim(&self, limit: usize, lease: Duration) -> StoreResult<Vec<JobRecord>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let now = crate::clock::now_ms();
        let limit = i32::try_from(limit).unwrap_or(i32::MAX);
        let (mine, _) = self.held.snapshot();
        let rows = self.query(CLAIM, &[&now, &limit, &self.host_id, &mine, &millis(lease), &SCAN]).await?;
        let mut jobs = Vec::with_capacity(rows.len());
        for r in &rows {
            let attempts: i32 = r.try_get(4).map_err(|e| pg_err("jobs.attempts", e))?;
            let job = JobRecord {
                id: r.try_get(0).map_err(|e| pg_err("jobs.id", e))?,
                event_id: r.try_get(1).map_err(|e| pg_err("jobs.event_id", e))?,
                integration: r.try_get(2).map_err(|e| pg_err("jobs.integration", e))?,
                ordering_key: r.try_get(3).map_err(|e| pg_err("jobs.ordering_key", e))?,
                attempts: u32::try_from(attempts).map_err(|_| StoreError(format!("jobs.attempts: negative ({attempts})")))?,
                next_run_at_ms: r.try_get(5).map_err(|e| pg_err("jobs.next_run_at_ms", e))?,
            };
            self.held.insert(job.id, r.try_get(6).map_err(|e| pg_err("jobs.fence", e))?);
            jobs.push(job);
        }
        jobs.sort_by_key(|j| j.id);
        Ok(jobs)
    }

    async fn renew(&self, lease: Duration) -> StoreResult<Vec<i64>> {
        let (ids, fences) = self.held.snapshot();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let until = crate::clock::now_ms() + millis(lease);
        // A row locked right now is being written by this host's writer (an
        // effect or the outcome, under the fence check) or looked at by a claim:
        // it is skipped, not waited for, and renewed next time. Waiting took
        // part in lock cycles with the writer's batch under load.
        let rows = self
            .query(
                "WITH mine AS (SELECT * FROM unnest($2::BIGINT[], $3::BIGINT[]) AS h(id, fence)),
                 locked AS (SELECT j.id FROM jobs j JOIN mine ON j.id = mine.id AND j.fence = mine.fence
                            WHERE j.state = 'queued' FOR UPDATE OF j SKIP LOCKED),
                 renewed AS (UPDATE jobs SET lease_until_ms = $1 WHERE id IN (SELECT id FROM locked) RETURNING id)
                 SELECT mine.id FROM mine LEFT JOIN jobs j ON j.id = mine.id
                 WHERE j.id IS NULL OR j.fence <> mine.fence",
                &[&until, &ids, &fences],
            )
            .await?;
        // A lost job stays in `held` with its old fence, so its runner's
        // writes keep being refused until it gives up.
        Ok(rows.iter().filter_map(|r| r.try_get(0).ok()).collect())
    }

    async fn recover(&self) -> StoreResult<u64> {
        let client = self.pool.get().await.map_err(|e| StoreError(format!("no database connection: {e}")))?;
        client
            .execute(
                "UPDATE jobs SET lease_owner = NULL, lease_until_ms = NULL WHERE lease_owner = $1 AND state = 'queued'",
                &[&self.host_id],
            )
            .await
            .map_err(|e| pg_err("recovering this host's leases", e))
    }

    async fn release(&self, job_id: i64) -> StoreResult<()> {
        let fence = self.held.fence(job_id);
        let result = self.unit(super::writer::Op::Release { job_id, fence }).await;
        self.held.forget(job_id);
        result
    }

    async fn ping(&self) -> StoreResult<()> {
        self.query("SELECT 1", &[]).await.map(|_| ())
    }

    async fn queued(&self) -> StoreResult<u64> {
        let rows = self.query("SELECT COUNT(*) FROM jobs WHERE state = 'queued'", &[]).await?;
        let n: i64 = rows.first().ok_or_else(|| StoreError("COUNT returned no row".into()))?.try_get(0).map_err(|e| pg_err("count", e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn wakeups(&self) -> Arc<tokio::sync::Notify> {
        self.wake.clone()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::super::{PgOptions, TestDatabase};
    use super::*;
    use crate::store::{IngestOutcome, JournalEntry, JournalWrite, NewEvent, NewJob, Origin, Store};
    use sha2::Digest;

    async fn host(db: &TestDatabase, id: &str) -> PgStore {
        PgStore::open(&PgOptions { url: db.url.clone(), pool_size: 3, group_commit_wait: Duration::ZERO, host_id: id.into() })
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Stores an event with one job per `(integration, lane)`; returns the job ids.
    async fn ingest(store: &PgStore, body: &str, jobs: &[(&str, &str)]) -> Vec<i64> {
        let event = NewEvent {
            account: "acme".into(),
            event_name: "call.created".into(),
            body: body.into(),
            body_hash: sha2::Sha256::digest(body.as_bytes()).into(),
            received_at_ms: crate::clock::now_ms(),
            not_dispatched: None,
            origin: Origin::Webhook,
            occurrence: None,
        };
        let jobs = jobs.iter().map(|(i, k)| NewJob { integration: i.to_string(), ordering_key: k.to_string() }).collect();
        match store.ingest(event, jobs, 1000).await.unwrap() {
            IngestOutcome::Accepted { jobs, .. } => jobs.iter().map(|j| j.id).collect(),
            other => panic!("not accepted: {other:?}"),
        }
    }

    fn ids(jobs: &[JobRecord]) -> Vec<i64> {
        jobs.iter().map(|j| j.id).collect()
    }

    const LONG: Duration = Duration::from_secs(30);

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_lane_runs_one_job_at_a_time_across_hosts_in_arrival_order() {
        let db = TestDatabase::create().await.unwrap_or_else(|e| panic!("{e}"));
        let (a, b) = (host(&db, "a").await, host(&db, "b").await);
        let first = ingest(&a, "1", &[("crm", "party:+331"), ("crm", "party:+332")]).await;
        let second = ingest(&b, "2", &[("crm", "party:+331")]).await;

        // Host a takes both lane heads; host b finds nothing: the only other job
        // waits behind its lane's head.
        assert_eq!(ids(&a.claim(10, LONG).await.unwrap()), first);
        assert!(b.claim(10, LONG).await.unwrap().is_empty());

        // Once the head is done, the lane's next job is any host's.
        a.job_done(first[0]).await.unwrap();
        assert_eq!(ids(&b.claim(10, LONG).await.unwrap()), second);
        assert!(a.claim(10, LONG).await.unwrap().is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn held_jobs_of_a_paused_integration_are_passed_over_and_claimed_after_resume() {
        let db = TestDatabase::create().await.unwrap_or_else(|e| panic!("{e}"));
        let a = host(&db, "a").await;
        // Jobs of two integrations, interleaved in arrival order, two per lane.
        let mut held = Vec::new();
        let mut other = Vec::new();
        for n in 0..6 {
            let lane = format!("party:+33{}", n % 3);
            let ids = ingest(&a, &n.to_string(), &[("held", &lane), ("crm", &lane)]).await;
            held.push(ids[0]);
            other.push(ids[1]);
        }
        a.set_paused("held", Some("unauthorized")).await.unwrap();
        // Only the running integration's lane heads, oldest first; the second
        // job of each lane waits behind its head.
        assert_eq!(ids(&a.claim(10, LONG).await.unwrap()), other[..3]);
        for job in &other[..3] {
            a.job_done(*job).await.unwrap();
        }
        assert_eq!(ids(&a.claim(10, LONG).await.unwrap()), other[3..]);
        assert!(a.claim(10, LONG).await.unwrap().is_empty(), "nothing of the paused integration");
        // Resumed: its held jobs are claimed in arrival order, a head per lane.
        a.set_paused("held", None).await.unwrap();
        assert_eq!(ids(&a.claim(10, LONG).await.unwrap()), held[..3]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_whose_lease_expired_is_taken_over_and_its_old_runner_is_fenced() {
        let db = TestDatabase::create().await.unwrap_or_else(|e| panic!("{e}"));
        let (a, b) = (host(&db, "a").await, host(&db, "b").await);
        let job = ingest(&a, "1", &[("crm", "party:+331")]).await[0];
        let write = |seq: u32| JournalWrite {
            job_id: job,
            entry: JournalEntry { seq, fingerprint: vec![seq as u8], done: true, result: b"ok".to_vec() },
            kv: None,
        };
        assert_eq!(ids(&a.claim(1, Duration::from_millis(50)).await.unwrap()), vec![job]);
        a.journal_write(write(0)).await.unwrap();
        // Not expired yet: b cannot take it.
        assert!(b.claim(1, LONG).await.unwrap().is_empty());
        tokio::time::sleep(Duration::from_millis(120)).await;
        // Host a stalled past its lease: b takes the job over, with its journal.
        assert_eq!(ids(&b.claim(1, LONG).await.unwrap()), vec![job]);
        assert_eq!(b.journal(job).await.unwrap().len(), 1);
        // a wakes up: neither an effect nor an outcome of its run is accepted.
        let refused = a.journal_write(write(1)).await.unwrap_err();
        assert!(refused.0.contains("fenced"), "{refused}");
        assert!(a.job_done(job).await.unwrap_err().0.contains("fenced"));
        assert_eq!(a.renew(LONG).await.unwrap(), Vec::<i64>::new(), "a forgot the job once its outcome was refused");
        assert_eq!(a.job_state(job).await.unwrap(), Some(crate::store::JobState::Queued));
        // b's run goes on and finishes it.
        b.journal_write(write(1)).await.unwrap();
        b.job_done(job).await.unwrap();
        assert_eq!(a.job_state(job).await.unwrap(), Some(crate::store::JobState::Done));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refused_write_fails_alone_in_its_batch() {
        let db = TestDatabase::create().await.unwrap_or_else(|e| panic!("{e}"));
        // The writer lingers 200 ms, so the two writes below share one commit.
        let a = PgStore::open(&PgOptions {
            url: db.url.clone(),
            pool_size: 3,
            group_commit_wait: Duration::from_millis(200),
            host_id: "a".into(),
        })
        .await
        .unwrap();
        let b = host(&db, "b").await;
        let job = ingest(&a, "1", &[("crm", "party:+331")]).await[0];
        a.claim(1, Duration::from_millis(1)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        b.claim(1, LONG).await.unwrap();
        let fenced =
            JournalWrite { job_id: job, entry: JournalEntry { seq: 0, fingerprint: vec![0], done: true, result: vec![] }, kv: None };
        let (refused, stored) = tokio::join!(a.journal_write(fenced), ingest(&a, "2", &[("crm", "party:+332")]));
        assert!(refused.unwrap_err().0.contains("fenced"));
        assert_eq!(stored.len(), 1, "the other write of the batch is committed");
        assert_eq!(a.counts().await.unwrap().events, 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn renewal_keeps_a_job_and_reports_one_lost() {
        let db = TestDatabase::create().await.unwrap_or_else(|e| panic!("{e}"));
        let (a, b) = (host(&db, "a").await, host(&db, "b").await);
        let jobs = ingest(&a, "1", &[("crm", "party:+331"), ("crm", "party:+332")]).await;
        assert_eq!(a.claim(2, Duration::from_millis(300)).await.unwrap().len(), 2);
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert!(a.renew(Duration::from_millis(300)).await.unwrap().is_empty());
        }
        // Renewed past the first lease's end: still a's.
        assert!(b.claim(2, LONG).await.unwrap().is_empty());
        // An operator's forced take-over (the lease set to expire) shows as lost.
        a.query("UPDATE jobs SET lease_until_ms = 0 WHERE id = $1", &[&jobs[1]]).await.unwrap();
        assert_eq!(ids(&b.claim(2, LONG).await.unwrap()), vec![jobs[1]]);
        assert_eq!(a.renew(LONG).await.unwrap(), vec![jobs[1]]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn paused_integrations_retries_and_released_jobs() {
        let db = TestDatabase::create().await.unwrap_or_else(|e| panic!("{e}"));
        let (a, b) = (host(&db, "a").await, host(&db, "b").await);
        let jobs = ingest(&a, "1", &[("crm", "party:+331"), ("desk", "party:+331")]).await;
        a.set_paused("desk", Some("unauthorized")).await.unwrap();
        assert_eq!(ids(&a.claim(10, LONG).await.unwrap()), vec![jobs[0]], "the paused integration's job is held");
        // A retry is not claimable before its time, by anyone.
        a.job_retry(jobs[0], 1, crate::clock::now_ms() + 300, "503").await.unwrap();
        assert!(b.claim(10, LONG).await.unwrap().is_empty());
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert_eq!(ids(&b.claim(10, LONG).await.unwrap()), vec![jobs[0]]);
        // Resumed: the held job is claimable; released, it is claimable again.
        a.set_paused("desk", None).await.unwrap();
        assert_eq!(ids(&a.claim(10, LONG).await.unwrap()), vec![jobs[1]]);
        a.release(jobs[1]).await.unwrap();
        assert_eq!(ids(&b.claim(10, LONG).await.unwrap()), vec![jobs[1]]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_host_restarted_under_its_id_takes_back_its_jobs_at_once() {
        let db = TestDatabase::create().await.unwrap_or_else(|e| panic!("{e}"));
        let job = {
            let before = host(&db, "web-1").await;
            let job = ingest(&before, "1", &[("crm", "party:+331")]).await[0];
            assert_eq!(ids(&before.claim(1, LONG).await.unwrap()), vec![job]);
            job
        };
        let (other, again) = (host(&db, "web-2").await, host(&db, "web-1").await);
        assert_eq!(other.recover().await.unwrap(), 0);
        assert!(other.claim(1, LONG).await.unwrap().is_empty(), "web-1's lease still holds for others");
        assert_eq!(again.recover().await.unwrap(), 1);
        assert_eq!(ids(&again.claim(1, LONG).await.unwrap()), vec![job]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_commit_with_new_jobs_wakes_the_other_hosts() {
        let db = TestDatabase::create().await.unwrap_or_else(|e| panic!("{e}"));
        let (a, b) = (host(&db, "a").await, host(&db, "b").await);
        let wake = b.wakeups();
        // The listener's first connection wakes once; let it settle.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = tokio::time::timeout(Duration::from_millis(10), wake.notified()).await;
        ingest(&a, "1", &[("crm", "party:+331")]).await;
        tokio::time::timeout(Duration::from_secs(5), wake.notified()).await.expect("no NOTIFY reached host b");
    }

    /// Jobs of a paused integration are held: their commit wakes nobody (every
    /// host would walk the held jobs for nothing), unless the batch also holds
    /// a job of a running integration; the resume wakes everyone.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn new_jobs_of_a_paused_integration_wake_nobody_until_it_is_resumed() {
        let db = TestDatabase::create().await.unwrap_or_else(|e| panic!("{e}"));
        let (a, b) = (host(&db, "a").await, host(&db, "b").await);
        let wake = b.wakeups();
        a.set_paused("desk", Some("unauthorized")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = tokio::time::timeout(Duration::from_millis(10), wake.notified()).await;
        let quiet = |what: &'static str| {
            let wake = wake.clone();
            async move {
                let woken = tokio::time::timeout(Duration::from_millis(500), wake.notified()).await.is_ok();
                assert!(!woken, "{what} woke host b");
            }
        };
        ingest(&a, "1", &[("desk", "party:+331")]).await;
        quiet("a job of the paused integration").await;
        ingest(&a, "2", &[("desk", "party:+331"), ("crm", "party:+331")]).await;
        tokio::time::timeout(Duration::from_secs(5), wake.notified()).await.expect("a job of crm did not wake host b");
        a.set_paused("desk", None).await.unwrap();
        tokio::time::timeout(Duration::from_secs(5), wake.notified()).await.expect("the resume did not wake host b");
        ingest(&a, "3", &[("desk", "party:+331")]).await;
        tokio::time::timeout(Duration::from_secs(5), wake.notified()).await.expect("a job of the resumed integration did not wake host b");
    }
}

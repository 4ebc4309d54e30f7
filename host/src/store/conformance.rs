//! One behaviour, two backends: every test here is a generic function over
//! `Arc<dyn Store>` and runs against [`SqliteStore`] and [`PgStore`] (on a
//! throwaway database of the local PostgreSQL, see
//! [`super::postgres::TestDatabase`]). A difference between the backends is a
//! failing test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::postgres::{PgOptions, TestDatabase};
use super::*;
use sha2::Digest;
use std::sync::Arc;
use std::time::Duration;

const DAY: i64 = 24 * 3600 * 1000;
const WEEK: i64 = 7 * DAY;

fn event(body: &str, at: i64) -> NewEvent {
    NewEvent {
        account: "acme".into(),
        event_name: "call.created".into(),
        body: body.into(),
        body_hash: sha2::Sha256::digest(body.as_bytes()).into(),
        received_at_ms: at,
        not_dispatched: None,
        origin: Origin::Webhook,
        occurrence: None,
    }
}

fn job(integration: &str, key: &str) -> NewJob {
    NewJob { integration: integration.into(), ordering_key: key.into() }
}

fn entry(seq: u32, result: &[u8], done: bool) -> JournalEntry {
    JournalEntry { seq, fingerprint: vec![seq as u8; 4], done, result: result.to_vec() }
}

async fn accepted(store: &Arc<dyn Store>, body: &str, at: i64, jobs: Vec<NewJob>) -> (i64, Vec<JobRecord>) {
    match store.ingest(event(body, at), jobs, WEEK).await.unwrap() {
        IngestOutcome::Accepted { event_id, jobs, .. } => (event_id, jobs),
        other => panic!("{body}: expected Accepted, got {other:?}"),
    }
}

async fn redelivery_within_the_window_is_a_duplicate_of_the_first(store: Arc<dyn Store>) {
    let now = crate::clock::now_ms();
    let (first, jobs) = accepted(&store, r#"{"event":"call.created","id":1}"#, now, vec![job("notes", "+33")]).await;
    assert_eq!(jobs.len(), 1);
    match store.ingest(event(r#"{"event":"call.created","id":1}"#, now + WEEK - 1), vec![job("notes", "+33")], WEEK).await.unwrap() {
        IngestOutcome::Duplicate { event_id } => assert_eq!(event_id, first),
        other => panic!("redelivery accepted: {other:?}"),
    }
    let counts = store.counts().await.unwrap();
    assert_eq!((counts.events, counts.queued), (1, 1), "a duplicate stores nothing");
    // Past the window the same body is a new event with new jobs.
    let (second, jobs) = accepted(&store, r#"{"event":"call.created","id":1}"#, now + WEEK, vec![job("notes", "+33")]).await;
    assert!(second > first);
    assert_eq!(jobs.len(), 1);
    // ...and the window now counts from the second arrival.
    assert!(matches!(
        store.ingest(event(r#"{"event":"call.created","id":1}"#, now + WEEK + 1), vec![], WEEK).await.unwrap(),
        IngestOutcome::Duplicate { event_id } if event_id == second
    ));
    let stored = store.event(first).await.unwrap().unwrap();
    assert_eq!((stored.account.as_str(), stored.event_name.as_str(), stored.received_at_ms), ("acme", "call.created", now));
    assert!(store.event(first + 1000).await.unwrap().is_none());
}

async fn jobs_keep_arrival_order_and_concurrent_ingests_all_land(store: Arc<dyn Store>) {
    let now = crate::clock::now_ms();
    let (_, a) = accepted(&store, "a", now, vec![job("notes", "k1"), job("crm", "k1")]).await;
    let (_, b) = accepted(&store, "b", now, vec![job("notes", "k2")]).await;
    assert!(a[0].id < a[1].id && a[1].id < b[0].id, "ids follow arrival: {a:?} {b:?}");
    assert_eq!((a[0].attempts, a[0].next_run_at_ms, a[1].integration.as_str(), b[0].ordering_key.as_str()), (0, now, "crm", "k2"));

    let mut tasks = Vec::new();
    for i in 0..60 {
        let store = store.clone();
        tasks.push(tokio::spawn(
            async move { store.ingest(event(&format!("c{i}"), now), vec![job("notes", &format!("c{i}"))], WEEK).await },
        ));
    }
    for t in tasks {
        assert!(matches!(t.await.unwrap().unwrap(), IngestOutcome::Accepted { .. }));
    }
    let pending = store.pending_jobs().await.unwrap();
    assert_eq!(pending.len(), 63);
    assert!(pending.windows(2).all(|w| w[0].id < w[1].id), "pending jobs in id order");
    assert_eq!(&pending[..3], &[a[0].clone(), a[1].clone(), b[0].clone()]);

    store.job_retry(a[0].id, 3, now + 5000, "HTTP 503").await.unwrap();
    store.job_done(a[1].id).await.unwrap();
    let pending = store.pending_jobs().await.unwrap();
    assert_eq!((pending[0].id, pending[0].attempts, pending[0].next_run_at_ms), (a[0].id, 3, now + 5000));
    assert!(!pending.iter().any(|j| j.id == a[1].id), "a done job is not pending");
    let counts = store.counts().await.unwrap();
    assert_eq!((counts.queued, counts.done, counts.dead, counts.events), (62, 1, 0, 62));
}

async fn the_journal_replays_in_order_and_truncates(store: Arc<dyn Store>) {
    let (_, jobs) = accepted(&store, "j", crate::clock::now_ms(), vec![job("notes", "k")]).await;
    let id = jobs[0].id;
    store.journal_write(JournalWrite { job_id: id, entry: entry(1, b"second", true), kv: None }).await.unwrap();
    store.journal_write(JournalWrite { job_id: id, entry: entry(0, b"first", true), kv: None }).await.unwrap();
    store.journal_write(JournalWrite { job_id: id, entry: entry(2, b"", false), kv: None }).await.unwrap();
    // A lazy write followed by a durable one: both are there once the durable one returns.
    store.journal_write_lazy(JournalWrite { job_id: id, entry: entry(3, b"clock", true), kv: None });
    store.journal_write(JournalWrite { job_id: id, entry: entry(2, b"answered", true), kv: None }).await.unwrap();
    let journal = store.journal(id).await.unwrap();
    assert_eq!(journal, vec![entry(0, b"first", true), entry(1, b"second", true), entry(2, b"answered", true), entry(3, b"clock", true)]);

    // A storage effect records its verdict and applies its write atomically.
    let cas = KvWrite::Cas { key: "lock".into(), expected: None, new: Some(b"mine".to_vec()), expires_at_ms: None };
    let verdict =
        store.journal_write(JournalWrite { job_id: id, entry: entry(4, b"", true), kv: Some(("ns".into(), cas.clone())) }).await.unwrap();
    assert_eq!(verdict, Some(true));
    let verdict = store.journal_write(JournalWrite { job_id: id, entry: entry(5, b"", true), kv: Some(("ns".into(), cas)) }).await.unwrap();
    assert_eq!(verdict, Some(false), "the key is taken now");
    let journal = store.journal(id).await.unwrap();
    assert_eq!(journal[4].result, postcard::to_stdvec(&Some(true)).unwrap());
    assert_eq!(journal[5].result, postcard::to_stdvec(&Some(false)).unwrap());
    assert_eq!(store.kv_get("ns", "lock", crate::clock::now_ms()).await.unwrap(), Some(b"mine".to_vec()));

    store.journal_truncate(id, 2).await.unwrap();
    assert_eq!(store.journal(id).await.unwrap(), vec![entry(0, b"first", true), entry(1, b"second", true)]);
    store.job_done(id).await.unwrap();
    assert!(store.journal(id).await.unwrap().is_empty(), "a done job's journal is dropped");
}

async fn kv_honours_ttl_namespaces_and_compare_and_swap(store: Arc<dyn Store>) {
    let now = crate::clock::now_ms();
    store.kv_write("a", KvWrite::Set { key: "k".into(), value: b"1".to_vec(), expires_at_ms: None }).await.unwrap();
    store.kv_write("a", KvWrite::Set { key: "old".into(), value: b"x".to_vec(), expires_at_ms: Some(now - 1) }).await.unwrap();
    store.kv_write("a", KvWrite::Set { key: "soon".into(), value: b"y".to_vec(), expires_at_ms: Some(now + 60_000) }).await.unwrap();
    assert_eq!(store.kv_get("a", "k", now).await.unwrap(), Some(b"1".to_vec()));
    assert_eq!(store.kv_get("b", "k", now).await.unwrap(), None, "namespaces are separate");
    assert_eq!(store.kv_get("a", "old", now).await.unwrap(), None, "expired");
    assert_eq!(store.kv_get("a", "soon", now).await.unwrap(), Some(b"y".to_vec()));
    assert_eq!(store.kv_get("a", "soon", now + 60_000).await.unwrap(), None, "expired at its instant");

    let cas = |expected: Option<&[u8]>, new: Option<&[u8]>| KvWrite::Cas {
        key: "k".into(),
        expected: expected.map(<[u8]>::to_vec),
        new: new.map(<[u8]>::to_vec),
        expires_at_ms: None,
    };
    assert_eq!(store.kv_write("a", cas(Some(b"2"), Some(b"3"))).await.unwrap(), Some(false));
    assert_eq!(store.kv_write("a", cas(None, Some(b"3"))).await.unwrap(), Some(false));
    assert_eq!(store.kv_write("a", cas(Some(b"1"), Some(b"2"))).await.unwrap(), Some(true));
    assert_eq!(store.kv_get("a", "k", now).await.unwrap(), Some(b"2".to_vec()));
    assert_eq!(store.kv_write("a", cas(Some(b"2"), None)).await.unwrap(), Some(true), "CAS to absent deletes");
    assert_eq!(store.kv_get("a", "k", now).await.unwrap(), None);
    // An expired value counts as absent for CAS.
    let take_old = KvWrite::Cas { key: "old".into(), expected: None, new: Some(b"z".to_vec()), expires_at_ms: None };
    assert_eq!(store.kv_write("a", take_old).await.unwrap(), Some(true));
    assert_eq!(store.kv_get("a", "old", now).await.unwrap(), Some(b"z".to_vec()));
    assert_eq!(store.kv_write("a", KvWrite::Delete { key: "old".into() }).await.unwrap(), None);
    assert_eq!(store.kv_get("a", "old", now).await.unwrap(), None);
}

async fn pause_and_resume_are_remembered(store: Arc<dyn Store>) {
    assert!(store.paused().await.unwrap().is_empty());
    store.set_paused("crm", Some("401 from the CRM")).await.unwrap();
    store.set_paused("notes", Some("operator")).await.unwrap();
    store.set_paused("notes", Some("operator again")).await.unwrap();
    let mut paused = store.paused().await.unwrap();
    paused.sort();
    assert_eq!(paused, vec![("crm".to_string(), "401 from the CRM".to_string()), ("notes".to_string(), "operator again".to_string())]);
    store.set_paused("crm", None).await.unwrap();
    assert_eq!(store.paused().await.unwrap(), vec![("notes".to_string(), "operator again".to_string())]);
}

async fn dead_letters_replay_and_are_revived_once(store: Arc<dyn Store>) {
    let now = crate::clock::now_ms();
    let (event_id, jobs) = accepted(&store, "d", now, vec![job("notes", "k"), job("crm", "k")]).await;
    let (a, b) = (jobs[0].id, jobs[1].id);
    store.journal_write(JournalWrite { job_id: a, entry: entry(0, b"note created", true), kv: None }).await.unwrap();
    store.job_dead(a, 4, "422: note body rejected").await.unwrap();
    store.job_dead(b, 1, "bad settings").await.unwrap();
    let dead = store.dead_letters(10).await.unwrap();
    assert_eq!(dead.iter().map(|d| d.job_id).collect::<Vec<_>>(), vec![b, a], "newest first");
    assert_eq!((dead[1].event_id, dead[1].event_name.as_str(), dead[1].integration.as_str()), (event_id, "call.created", "notes"));
    assert_eq!((dead[1].attempts, dead[1].reason.as_str()), (4, "422: note body rejected"));
    assert!(dead[1].failed_at_ms >= now);
    assert_eq!(store.dead_letters(1).await.unwrap().len(), 1);
    assert!(store.pending_jobs().await.unwrap().is_empty());
    assert_eq!(store.counts().await.unwrap().dead, 2);

    assert!(store.take_revived().await.unwrap().is_empty());
    let revived = store.replay_dead(Some(a)).await.unwrap();
    assert_eq!(revived.len(), 1);
    assert_eq!((revived[0].id, revived[0].attempts, revived[0].integration.as_str()), (a, 0, "notes"));
    assert!(store.replay_dead(Some(a)).await.unwrap().is_empty(), "no longer dead");
    assert_eq!(store.journal(a).await.unwrap(), vec![entry(0, b"note created", true)], "the journal survives a replay");
    assert_eq!(store.take_revived().await.unwrap().iter().map(|j| j.id).collect::<Vec<_>>(), vec![a]);
    assert!(store.take_revived().await.unwrap().is_empty(), "each revived job is taken once");

    let all = store.replay_dead(None).await.unwrap();
    assert_eq!(all.iter().map(|j| j.id).collect::<Vec<_>>(), vec![b]);
    assert_eq!(store.pending_jobs().await.unwrap().iter().map(|j| j.id).collect::<Vec<_>>(), vec![a, b]);
    assert!(store.dead_letters(10).await.unwrap().is_empty());
    assert_eq!(store.take_revived().await.unwrap().iter().map(|j| j.id).collect::<Vec<_>>(), vec![b]);
}

async fn prune_forgets_old_hashes_finished_jobs_and_expired_values(store: Arc<dyn Store>) {
    let now = crate::clock::now_ms();
    let old = now - 10 * DAY;
    let (old_event, old_jobs) = accepted(&store, "old", old, vec![job("notes", "k")]).await;
    let (_, queued) = accepted(&store, "old but queued", old, vec![job("notes", "k2")]).await;
    let (recent_event, recent_jobs) = accepted(&store, "recent", now, vec![job("notes", "k")]).await;
    store.job_done(old_jobs[0].id).await.unwrap();
    store.job_done(recent_jobs[0].id).await.unwrap();
    store.kv_write("a", KvWrite::Set { key: "gone".into(), value: vec![1], expires_at_ms: Some(now - 1) }).await.unwrap();
    store.kv_write("a", KvWrite::Set { key: "kept".into(), value: vec![2], expires_at_ms: Some(now + DAY) }).await.unwrap();

    // Jobs finish now, so "finished before" is a moment from now.
    let finished_before = crate::clock::now_ms() + 1;
    let cutoffs = PruneCutoffs { dedupe_before_ms: now - WEEK, finished_before_ms: finished_before, logged_before_ms: now - 5 * WEEK };
    let n = store.prune(cutoffs).await.unwrap();
    // 2 old hashes + 2 done jobs + the old event (no job, no hash left) + 1 expired value;
    // the recent event stays for its hash, the queued one for its job.
    assert_eq!(n, 6);
    assert!(store.event(old_event).await.unwrap().is_none());
    assert!(store.event(recent_event).await.unwrap().is_some());
    assert!(store.event(queued[0].event_id).await.unwrap().is_some(), "an event with a live job stays");
    assert_eq!(store.pending_jobs().await.unwrap().iter().map(|j| j.id).collect::<Vec<_>>(), vec![queued[0].id]);
    assert_eq!(store.counts().await.unwrap().done, 0);
    assert_eq!(store.kv_get("a", "kept", now).await.unwrap(), Some(vec![2]));
    // The forgotten hash no longer deduplicates; the recent one still does.
    assert!(matches!(store.ingest(event("old", now), vec![], WEEK).await.unwrap(), IngestOutcome::Accepted { .. }));
    assert!(matches!(store.ingest(event("recent", now), vec![], WEEK).await.unwrap(), IngestOutcome::Duplicate { .. }));
    assert_eq!(store.prune(cutoffs).await.unwrap(), 0, "nothing left to prune");
}

async fn an_occurrence_gets_one_job_per_integration_whatever_carries_it(store: Arc<dyn Store>) {
    let now = crate::clock::now_ms();
    let with = |body: &str, origin: Origin, at: i64| NewEvent {
        origin,
        occurrence: Some("call.ended:7".into()),
        event_name: "call.ended".into(),
        ..event(body, at)
    };
    let pairs = || vec![("notes".to_string(), "call.ended:7".to_string()), ("crm".to_string(), "call.ended:7".to_string())];
    assert_eq!(store.logged(pairs()).await.unwrap(), vec![false, false]);
    // Reconciliation logs the call for one integration only.
    let IngestOutcome::Accepted { event_id: reconciled, jobs, already_logged } =
        store.ingest(with("synthesised", Origin::Reconciled, now), vec![job("notes", "+33")], WEEK).await.unwrap()
    else {
        panic!("not accepted")
    };
    assert_eq!((jobs.len(), already_logged.len()), (1, 0));
    assert_eq!(store.event(reconciled).await.unwrap().unwrap().origin, Origin::Reconciled);
    assert_eq!(store.logged(pairs()).await.unwrap(), vec![true, false]);
    assert_eq!(store.job_state(jobs[0].id).await.unwrap(), Some(JobState::Queued));
    store.job_done(jobs[0].id).await.unwrap();
    assert_eq!(store.job_state(jobs[0].id).await.unwrap(), Some(JobState::Done));
    assert_eq!(store.job_state(jobs[0].id + 1000).await.unwrap(), None);
    // The late webhook (another body) is stored, but only the other integration gets a job.
    let IngestOutcome::Accepted { event_id: late, jobs, already_logged } =
        store.ingest(with("webhook", Origin::Webhook, now + 1), vec![job("notes", "+33"), job("crm", "+33")], WEEK).await.unwrap()
    else {
        panic!("not accepted")
    };
    assert_eq!(jobs.iter().map(|j| j.integration.as_str()).collect::<Vec<_>>(), vec!["crm"]);
    assert_eq!(already_logged, vec!["notes".to_string()]);
    assert_eq!(store.event(late).await.unwrap().unwrap().origin, Origin::Webhook);
    // A third carrier makes nothing.
    let IngestOutcome::Accepted { jobs, already_logged, .. } =
        store.ingest(with("backfill", Origin::Backfill, now + 2), vec![job("notes", "+33"), job("crm", "+33")], WEEK).await.unwrap()
    else {
        panic!("not accepted")
    };
    assert!(jobs.is_empty());
    assert_eq!(already_logged.len(), 2);
    // Pruning past the logged window forgets the pairs.
    let cutoffs = PruneCutoffs { dedupe_before_ms: now - WEEK, finished_before_ms: now - WEEK, logged_before_ms: now + 10 };
    assert!(store.prune(cutoffs).await.unwrap() >= 2);
    assert_eq!(store.logged(pairs()).await.unwrap(), vec![false, false]);
}

async fn sqlite() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("store.db"), Duration::ZERO).unwrap();
    (Arc::new(store), dir)
}

async fn postgres() -> (Arc<dyn Store>, TestDatabase) {
    let db = TestDatabase::create().await.unwrap_or_else(|e| panic!("{e}"));
    let store = PgStore::open(&PgOptions { url: db.url.clone(), pool_size: 4, group_commit_wait: Duration::ZERO, host_id: "test".into() })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (Arc::new(store), db)
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (store, _dir) = super::sqlite().await;
                super::$name(store).await;
            })*
        }
        mod on_postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (store, db) = super::postgres().await;
                super::$name(store).await;
                drop(db);
            })*
        }
    };
}

both!(
    redelivery_within_the_window_is_a_duplicate_of_the_first,
    jobs_keep_arrival_order_and_concurrent_ingests_all_land,
    the_journal_replays_in_order_and_truncates,
    kv_honours_ttl_namespaces_and_compare_and_swap,
    pause_and_resume_are_remembered,
    dead_letters_replay_and_are_revived_once,
    prune_forgets_old_hashes_finished_jobs_and_expired_values,
    an_occurrence_gets_one_job_per_integration_whatever_carries_it,
);

/// Two hosts starting at once against a fresh database: both migrate without
/// error and the schema is at the newest version exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_migrations_are_safe_when_hosts_start_together() {
    let db = TestDatabase::create().await.unwrap_or_else(|e| panic!("{e}"));
    let opts = PgOptions { url: db.url.clone(), pool_size: 2, group_commit_wait: Duration::ZERO, host_id: "test".into() };
    let (a, b) = tokio::join!(PgStore::open(&opts), PgStore::open(&opts));
    let (a, b) = (a.unwrap_or_else(|e| panic!("{e}")), b.unwrap_or_else(|e| panic!("{e}")));
    let status = super::postgres::status(&db.url).await.unwrap();
    assert_eq!(status.schema_version, super::postgres::schema::latest_version());
    let again = super::postgres::migrate(&db.url).await.unwrap();
    assert!(again.applied.is_empty(), "a current schema is left alone");
    // Both stores work on the one schema.
    a.set_paused("x", Some("a")).await.unwrap();
    assert_eq!(b.paused().await.unwrap(), vec![("x".to_string(), "a".to_string())]);
    drop((a, b));
    drop(db);
}

/// The console's read queries: events by call id, by lane and by time, the jobs
/// of events in every state, queued and dead counts per integration, events
/// received since a time.
async fn console_queries_find_a_call_its_jobs_and_the_counts(store: Arc<dyn Store>) {
    let now = crate::clock::now_ms();
    // Like `accepted`, with the event name taken from the body.
    let store_ref = &store;
    let accepted = |body: String, at: i64, jobs: Vec<NewJob>| async move {
        let name = serde_json::from_str::<serde_json::Value>(&body).unwrap()["event"].as_str().unwrap().to_string();
        match store_ref.ingest(NewEvent { event_name: name, ..event(&body, at) }, jobs, WEEK).await.unwrap() {
            IngestOutcome::Accepted { event_id, jobs, .. } => (event_id, jobs),
            other => panic!("{body}: expected Accepted, got {other:?}"),
        }
    };
    let call = |name: &str, id: u64, n: u32| format!(r#"{{"event":"{name}","n":{n},"data":{{"id":{id},"raw_digits":"07 62"}}}}"#);
    let (created, _) = accepted(call("call.created", 42, 1), now - 7_200_000, vec![job("notes", "party:+33762043575")]).await;
    let (ended, ended_jobs) =
        accepted(call("call.ended", 42, 2), now, vec![job("notes", "party:+33762043575"), job("crm", "party:+33762043575")]).await;
    let (_other, other_jobs) = accepted(call("call.ended", 43, 3), now, vec![job("notes", "party:+14155550100")]).await;
    // A message whose id is 42 is not the call 42; a transcription names its call.
    accepted(r#"{"event":"message.sent","data":{"id":42}}"#.to_string(), now, vec![]).await;
    let (transcript, _) = accepted(r#"{"event":"transcription.created","data":{"call_id":42}}"#.to_string(), now, vec![]).await;

    let ids = |events: Vec<StoredEvent>| events.iter().map(|e| e.id).collect::<Vec<_>>();
    let by_call = store.find_events(EventSearch { call_id: Some(42), limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(ids(by_call), vec![transcript, ended, created], "newest first, messages left out");
    let by_lane =
        store.find_events(EventSearch { ordering_key: Some("party:+33762043575".into()), limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(ids(by_lane), vec![ended, created]);
    let by_suffix =
        store.find_events(EventSearch { party_digits_suffix: Some("762043575".into()), limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(ids(by_suffix), vec![ended, created], "a number typed in national format, without its trunk 0");
    let recent = store
        .find_events(EventSearch {
            call_id: Some(42),
            from_ms: Some(now - 60_000),
            until_ms: Some(now + 1),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(recent), vec![transcript, ended]);
    let limited = store.find_events(EventSearch { call_id: Some(42), limit: 1, ..Default::default() }).await.unwrap();
    assert_eq!(limited.len(), 1);
    // An account's newest event (the console's accounts page).
    let newest = store.find_events(EventSearch { account: Some("acme".into()), limit: 1, ..Default::default() }).await.unwrap();
    assert_eq!(ids(newest), vec![transcript]);
    let none = store.find_events(EventSearch { account: Some("other".into()), limit: 1, ..Default::default() }).await.unwrap();
    assert!(none.is_empty());

    store.job_dead(ended_jobs[1].id, 3, "400 bad request").await.unwrap();
    store.job_done(other_jobs[0].id).await.unwrap();
    let jobs = store.jobs_of_events(vec![ended, created]).await.unwrap();
    let seen: Vec<_> = jobs.iter().map(|j| (j.event_id, j.integration.as_str(), j.state)).collect();
    assert_eq!(seen, vec![(created, "notes", JobState::Queued), (ended, "notes", JobState::Queued), (ended, "crm", JobState::Dead)]);
    assert_eq!(jobs[2].last_error.as_deref(), Some("400 bad request"));
    assert_eq!(jobs[2].attempts, 3);
    assert!(jobs[2].finished_at_ms.is_some());

    let counts = store.integration_counts().await.unwrap();
    assert_eq!(
        counts,
        vec![
            IntegrationCounts { integration: "crm".into(), queued: 0, dead: 1, oldest_queued_at_ms: None },
            IntegrationCounts { integration: "notes".into(), queued: 2, dead: 0, oldest_queued_at_ms: Some(now - 7_200_000) },
        ]
    );
    assert_eq!(store.events_since(now - 60_000).await.unwrap(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_queries_on_sqlite() {
    let (store, _dir) = sqlite().await;
    console_queries_find_a_call_its_jobs_and_the_counts(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_queries_on_postgres() {
    let (store, db) = postgres().await;
    console_queries_find_a_call_its_jobs_and_the_counts(store).await;
    drop(db);
}

/// A lane whose head keeps failing blocks the jobs behind it; the console
/// lists it and may dead-letter its head (only the head, only once), after
/// which the next job heads the lane. Lanes of a paused integration are
/// blocked too.
async fn a_blocked_lane_is_listed_and_its_head_can_be_skipped(store: Arc<dyn Store>) {
    let now = crate::clock::now_ms();
    let (_, a) = accepted(&store, r#"{"n":"a"}"#, now, vec![job("notes", "party:+33")]).await;
    let (_, b) = accepted(&store, r#"{"n":"b"}"#, now, vec![job("notes", "party:+33")]).await;
    let (_, c) = accepted(&store, r#"{"n":"c"}"#, now, vec![job("notes", "party:+33")]).await;
    let (_, other) = accepted(&store, r#"{"n":"d"}"#, now, vec![job("notes", "party:+44")]).await;
    assert!(store.blocked_lanes(None, 10).await.unwrap().is_empty(), "no head has failed yet");
    store.job_retry(a[0].id, 3, now + 60_000, "HTTP 503 from the CRM").await.unwrap();
    let blocked = store.blocked_lanes(None, 10).await.unwrap();
    assert_eq!(
        blocked,
        vec![LaneHead {
            integration: "notes".into(),
            ordering_key: "party:+33".into(),
            job_id: a[0].id,
            event_id: a[0].event_id,
            event_name: "call.created".into(),
            attempts: 3,
            next_run_at_ms: now + 60_000,
            last_error: Some("HTTP 503 from the CRM".into()),
            behind: 2,
        }]
    );
    // Not the head: refused, nothing changes.
    assert!(!store.skip_lane_head(b[0].id, "skipped").await.unwrap());
    assert_eq!(store.job_state(b[0].id).await.unwrap(), Some(JobState::Queued));
    assert!(store.skip_lane_head(a[0].id, "skipped by an admin").await.unwrap());
    assert!(!store.skip_lane_head(a[0].id, "again").await.unwrap(), "a skip happens once");
    assert_eq!(store.job_state(a[0].id).await.unwrap(), Some(JobState::Dead));
    let dead = store.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].job_id, dead[0].attempts, dead[0].reason.as_str()), (a[0].id, 3, "skipped by an admin"));
    assert!(store.blocked_lanes(None, 10).await.unwrap().is_empty(), "b heads the lane and has not failed");
    // A paused integration blocks every lane it has, failed or not.
    store.set_paused("notes", Some("maintenance")).await.unwrap();
    let heads: Vec<(i64, u64)> = store.blocked_lanes(None, 10).await.unwrap().iter().map(|l| (l.job_id, l.behind)).collect();
    assert_eq!(heads, vec![(b[0].id, 1), (other[0].id, 0)]);
    assert_eq!(store.blocked_lanes(None, 1).await.unwrap().len(), 1, "the limit holds");
    // Filtered before the limit: another integration's newer head is found even
    // when older heads of this one would fill the limit.
    let (_, crm) = accepted(&store, r#"{"n":"e"}"#, now, vec![job("crm", "party:+55")]).await;
    store.job_retry(crm[0].id, 1, now + 60_000, "HTTP 500").await.unwrap();
    let of_crm: Vec<i64> = store.blocked_lanes(Some("crm"), 1).await.unwrap().iter().map(|l| l.job_id).collect();
    assert_eq!(of_crm, vec![crm[0].id]);
    assert_eq!(store.blocked_lanes(Some("notes"), 10).await.unwrap().len(), 2);
    // The skipped job can still be replayed like any dead letter.
    assert_eq!(store.replay_dead(Some(a[0].id)).await.unwrap().len(), 1);
    let _ = c;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_lanes_on_sqlite() {
    let (store, _dir) = sqlite().await;
    a_blocked_lane_is_listed_and_its_head_can_be_skipped(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_lanes_on_postgres() {
    let (store, db) = postgres().await;
    a_blocked_lane_is_listed_and_its_head_can_be_skipped(store).await;
    drop(db);
}

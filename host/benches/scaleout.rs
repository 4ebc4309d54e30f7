//! Several hosts on one PostgreSQL database (issue 17), side by side in one run
//! on this machine, against the local PostgreSQL 15 (127.0.0.1:5432; each
//! measurement on a throwaway database):
//!
//! 1. **Durable ingest**: webhooks per second and time to acknowledge, 64
//!    concurrent connections of unique ~1 KiB `call.ended` payloads: SQLite
//!    (fsync, group commit) against PostgreSQL with one host. The integration is
//!    paused, so each webhook stores its event and one job and nothing else runs.
//! 2. **Ordered dispatch with 10,000 live lanes**: 30,000 queued jobs (three per
//!    lane) run by the example plugin against an instant notes API, by 1 host
//!    and by 3 hosts claiming from the same database (in one process, each with
//!    its own store connections, sandbox pool and claim loop; all share the 2
//!    cores and the database server).
//! 3. **Recovery**: a host claims 200 jobs and dies (stops renewing); from the
//!    moment its 3 s lease expires, how long until another host finishes the
//!    first and the last of them.
//!
//! `cargo bench -p switchboard --bench scaleout` (after `cargo xtask plugins`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use sha2::Digest;
use std::time::{Duration, Instant};
use support::*;
use switchboard::app::App;
use switchboard::config::Config;
use switchboard::store::postgres::{PgOptions, TestDatabase};
use switchboard::store::{IngestOutcome, NewEvent, NewJob, Origin, PgStore, SqliteStore, Store};

const CONNECTIONS: usize = 64;
const SECONDS: u64 = 5;
const ROUNDS: usize = 3;
const JOBS_PER_LANE: usize = 3;

/// Jobs each host runs at once: `[limits] concurrency`'s default.
const SLOTS: usize = 64;

/// Live lanes of the dispatch measurement (`SCALEOUT_LANES` for a quick try).
fn lanes() -> usize {
    std::env::var("SCALEOUT_LANES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    println!("machine: {}", machine());
    rt.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let crm = instant_crm().await;
        // `SCALEOUT_SKIP_INGEST=1`: only dispatch and recovery.
        if std::env::var_os("SCALEOUT_SKIP_INGEST").is_none() {
            ingest_side_by_side().await;
            ack_at_a_steady_rate().await;
        }
        // `SCALEOUT_ONLY_INGEST=1`: the two ingest measurements alone.
        if std::env::var_os("SCALEOUT_ONLY_INGEST").is_some() {
            return;
        }
        for hosts in [1, 3] {
            dispatch(&crm, hosts).await;
        }
        recovery(&crm).await;
    });
}

/// A notes API that answers at once.
async fn instant_crm() -> String {
    let app = axum::Router::new()
        .route("/notes", axum::routing::post(|| async { (axum::http::StatusCode::CREATED, "{}") }))
        .route("/notes", axum::routing::get(|| async { axum::Json(serde_json::json!({ "notes": [] })) }));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.ok() });
    url
}

/// The bench configuration on PostgreSQL at `url`, as host `host_id`.
fn pg_config(dir: &std::path::Path, crm: &str, url: &str, host_id: &str, concurrency: usize) -> Config {
    let sqlite_store = format!("path = \"{}\"\nfsync = true\n", dir.join("bench.db").display());
    let text = config_text(dir, crm, true)
        .replace(&sqlite_store, &format!("url = \"{url}\"\npool_size = 8\nhost_id = \"{host_id}\"\nlease_seconds = 3\n"))
        .replace("concurrency = 64", &format!("concurrency = {concurrency}"));
    assert!(text.contains("host_id"), "the bench config's [store] changed: {text}");
    Config::from_toml(&text, "bench.toml".as_ref(), dir, &|_| None).unwrap()
}

/// The example plugin, without the API budget its manifest declares: the
/// dispatch measurement is of the queue, and an API budget (a token taken from
/// the shared `budgets` row per request) would pace it instead.
fn plugins_in(dir: &std::path::Path) {
    let to = dir.join("plugins/example");
    std::fs::create_dir_all(&to).unwrap();
    std::fs::copy(plugin_dir("example").join("plugin.wasm"), to.join("plugin.wasm")).unwrap();
    let manifest = std::fs::read_to_string(plugin_dir("example").join("plugin.toml")).unwrap();
    let unlimited: String = manifest.lines().filter(|l| !l.starts_with("rate_limits")).map(|l| format!("{l}\n")).collect();
    assert_ne!(unlimited, manifest, "the example's manifest declares no rate_limits line any more");
    std::fs::write(to.join("plugin.toml"), unlimited).unwrap();
}

// ---- 1. Ingest ----

async fn ingest_side_by_side() {
    println!("\n== durable ingest, {CONNECTIONS} connections, {ROUNDS} rounds of {SECONDS} s each, rounds interleaved");
    let mut results: [(Vec<f64>, Vec<f64>, Vec<f64>); 2] = Default::default();
    for _ in 0..ROUNDS {
        for (i, postgres) in [false, true].into_iter().enumerate() {
            let (rate, p50, p99) = ingest_round(postgres, None).await;
            results[i].0.push(rate);
            results[i].1.push(p50.as_secs_f64() * 1e3);
            results[i].2.push(p99.as_secs_f64() * 1e3);
        }
    }
    let sqlite_rate = median(results[0].0.clone());
    for (i, label) in ["SQLite (fsync, group commit)", "PostgreSQL, 1 host        "].iter().enumerate() {
        let (rates, p50, p99) = &results[i];
        println!(
            "{label}: median {:.0} webhooks/s (all: {}); ack p50 {:.2} ms, p99 {:.2} ms (medians){}",
            median(rates.clone()),
            rates.iter().map(|r| format!("{r:.0}")).collect::<Vec<_>>().join(", "),
            median(p50.clone()),
            median(p99.clone()),
            if i == 1 { format!("; {:.0} % of SQLite", median(rates.clone()) / sqlite_rate * 100.0) } else { String::new() },
        );
    }
}

/// Ack times at an offered rate well under either store's capacity (every
/// webhook sent on schedule, not after the previous answer), SQLite and
/// PostgreSQL rounds interleaved: the time a webhook waits for its commit,
/// without the queue of 64 waiting senders that saturation adds to p50 and p99.
async fn ack_at_a_steady_rate() {
    const RATE: u64 = 500;
    println!("\n== ack at a steady {RATE} webhooks/s, {ROUNDS} rounds of {SECONDS} s each, rounds interleaved");
    let mut results: [(Vec<f64>, Vec<f64>); 2] = Default::default();
    for _ in 0..ROUNDS {
        for (i, postgres) in [false, true].into_iter().enumerate() {
            let (_, p50, p99) = ingest_round(postgres, Some(RATE)).await;
            results[i].0.push(p50.as_secs_f64() * 1e3);
            results[i].1.push(p99.as_secs_f64() * 1e3);
        }
    }
    for (i, label) in ["SQLite (fsync, group commit)", "PostgreSQL, 1 host        "].iter().enumerate() {
        let (p50, p99) = &results[i];
        let all = p99.iter().map(|v| format!("{v:.2}")).collect::<Vec<_>>().join(", ");
        println!("{label}: ack p50 {:.2} ms, p99 {:.2} ms (medians; p99s: {all})", median(p50.clone()), median(p99.clone()));
    }
}

/// One round of `SECONDS`: saturating with `CONNECTIONS` senders, or at `paced` webhooks/s.
async fn ingest_round(postgres: bool, paced: Option<u64>) -> (f64, Duration, Duration) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("plugins")).unwrap();
    let db = if postgres { Some(TestDatabase::create().await.unwrap()) } else { None };
    let config = match &db {
        Some(db) => pg_config(dir.path(), "http://127.0.0.1:9", &db.url, "ingest", 64),
        None => {
            Config::from_toml(&config_text(dir.path(), "http://127.0.0.1:9", true), "bench.toml".as_ref(), dir.path(), &|_| None).unwrap()
        }
    };
    match &db {
        Some(db) => pg_store(&db.url, "pause").await.set_paused("notes", Some("benchmark")).await.unwrap(),
        None => SqliteStore::open(&config.store.path, Duration::ZERO).unwrap().set_paused("notes", Some("benchmark")).await.unwrap(),
    }
    let app = App::start(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/aircall", listener.local_addr().unwrap());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(listener, async {
        let _ = stop_rx.await;
    }));
    let lat = match paced {
        Some(rate) => post_webhooks_paced(&url, rate, SECONDS).await,
        None => post_webhooks(&url, CONNECTIONS, SECONDS).await,
    };
    let _ = stop_tx.send(());
    let _ = server.await;
    (lat.len() as f64 / SECONDS as f64, pct(&lat, 0.5), pct(&lat, 0.99))
}

async fn pg_store(url: &str, host_id: &str) -> PgStore {
    PgStore::open(&PgOptions { url: url.into(), pool_size: 4, group_commit_wait: Duration::ZERO, host_id: host_id.into() }).await.unwrap()
}

// ---- 2. Dispatch ----

/// Queue `lanes` × `per_lane` jobs of the paused integration `notes`.
async fn preload(store: &PgStore, lanes: usize, per_lane: usize, first_id: u64) -> usize {
    let mut pending = Vec::new();
    let mut n = 0;
    for round in 0..per_lane {
        for lane in 0..lanes {
            let id = 1 + first_id + (round * lanes + lane) as u64;
            let b = call_ended_body(id, false);
            let event = NewEvent {
                account: "main".into(),
                event_name: "call.ended".into(),
                body_hash: sha2::Sha256::digest(b.as_bytes()).into(),
                body: b,
                received_at_ms: switchboard::clock::now_ms(),
                not_dispatched: None,
                origin: Origin::Webhook,
                occurrence: None,
            };
            let job = NewJob { integration: "notes".into(), ordering_key: format!("party:+3361{lane:07}") };
            pending.push(store.ingest(event, vec![job], 1000));
            if pending.len() == 512 {
                for r in futures::future::join_all(pending.drain(..)).await {
                    assert!(matches!(r.unwrap(), IngestOutcome::Accepted { .. }));
                    n += 1;
                }
            }
        }
    }
    for r in futures::future::join_all(pending).await {
        assert!(matches!(r.unwrap(), IngestOutcome::Accepted { .. }));
        n += 1;
    }
    n
}

async fn queued(store: &PgStore) -> u64 {
    switchboard::store::Leases::queued(store).await.unwrap()
}

async fn dispatch(crm: &str, hosts: usize) {
    let db = TestDatabase::create().await.unwrap();
    let store = pg_store(&db.url, "loader").await;
    store.set_paused("notes", Some("benchmark: loading")).await.unwrap();
    let loaded = Instant::now();
    let jobs = preload(&store, lanes(), JOBS_PER_LANE, 0).await;
    let load_time = loaded.elapsed();
    let mut apps = Vec::new();
    let dirs: Vec<_> = (0..hosts).map(|_| tempfile::tempdir().unwrap()).collect();
    for (i, dir) in dirs.iter().enumerate() {
        plugins_in(dir.path());
        apps.push(App::start(pg_config(dir.path(), crm, &db.url, &format!("h{i}"), SLOTS)).await.unwrap());
    }
    let started = Instant::now();
    store.set_paused("notes", None).await.unwrap();
    while queued(&store).await > 0 {
        assert!(started.elapsed() < Duration::from_secs(600), "dispatch did not finish");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = started.elapsed();
    let per_host: Vec<String> = apps
        .iter()
        .map(|a| {
            a.state
                .metrics
                .render()
                .lines()
                .filter(|l| l.starts_with("switchboard_jobs_total{"))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum::<f64>()
        })
        .map(|n| format!("{n:.0}"))
        .collect();
    println!(
        "\n== ordered dispatch, {} live lanes × {JOBS_PER_LANE} jobs ({jobs} jobs, loaded in {:.1} s), {hosts} host(s) × {SLOTS} slots: {:.0} jobs/s ({:.1} s); jobs per host: {}",
        lanes(),
        load_time.as_secs_f64(),
        jobs as f64 / took.as_secs_f64(),
        took.as_secs_f64(),
        per_host.join(", ")
    );
    drop(apps);
}

// ---- 3. Recovery ----

async fn recovery(crm: &str) {
    let db = TestDatabase::create().await.unwrap();
    let store = pg_store(&db.url, "loader").await;
    preload(&store, 200, 1, 10_000_000).await;
    // The host that dies: it claims everything for 3 s and is never heard of again.
    let dying = pg_store(&db.url, "dying").await;
    let claimed_at = Instant::now();
    let held = switchboard::store::Leases::claim(&dying, 200, Duration::from_secs(3)).await.unwrap();
    assert_eq!(held.len(), 200);
    drop(dying);
    let expires = claimed_at + Duration::from_secs(3);
    let dir = tempfile::tempdir().unwrap();
    plugins_in(dir.path());
    let _survivor = App::start(pg_config(dir.path(), crm, &db.url, "survivor", 16)).await.unwrap();
    let mut first = None;
    loop {
        let left = queued(&store).await;
        if first.is_none() && left < 200 {
            first = Some(Instant::now());
        }
        if left == 0 {
            break;
        }
        assert!(claimed_at.elapsed() < Duration::from_secs(120), "the dead host's jobs were never taken over");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let all = Instant::now();
    println!(
        "\n== recovery: a host holding 200 jobs dies; after its lease (3 s) expires, the survivor finishes the first in {} ms and all 200 in {} ms",
        first.unwrap().saturating_duration_since(expires).as_millis(),
        all.saturating_duration_since(expires).as_millis()
    );
}

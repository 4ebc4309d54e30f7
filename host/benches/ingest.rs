//! Webhook ingest on this machine: accepted webhooks per second and time to
//! acknowledge, with the durable write (fsync before the 2xx, group commit) and,
//! side by side, the same server with fsync off. The load generator (64
//! concurrent connections, unique ~1 KiB call payloads) shares the 2 cores.
//!
//! `cargo bench -p switchboard --bench ingest`
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use support::*;
use switchboard::app::App;
use switchboard::config::Config;
use switchboard::store::{SqliteStore, Store};

const CONNECTIONS: usize = 64;
const SECONDS: u64 = 5;
const ROUNDS: usize = 3;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    println!("machine: {}", machine());
    rt.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        for fsync in [true, false] {
            let mut rates = Vec::new();
            let mut p50s = Vec::new();
            let mut p99s = Vec::new();
            for _ in 0..ROUNDS {
                let (rate, p50, p99) = round(fsync).await;
                rates.push(rate);
                p50s.push(p50.as_secs_f64());
                p99s.push(p99.as_secs_f64());
            }
            println!(
                "{}: median {:.0} webhooks/s over {ROUNDS} rounds of {SECONDS} s (all: {}); ack p50 {:.2} ms, p99 {:.2} ms (medians)",
                if fsync { "durable (fsync, group commit)" } else { "same server, fsync off   " },
                median(rates.clone()),
                rates.iter().map(|r| format!("{r:.0}")).collect::<Vec<_>>().join(", "),
                median(p50s) * 1e3,
                median(p99s) * 1e3,
            );
        }
    });
}

async fn round(fsync: bool) -> (f64, Duration, Duration) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("plugins")).unwrap();
    let config =
        Config::from_toml(&config_text(dir.path(), "http://127.0.0.1:9", fsync), "bench.toml".as_ref(), dir.path(), &|_| None).unwrap();
    // The integration is paused, so every webhook writes its event and one job and
    // nothing else competes for the disk.
    SqliteStore::open(&config.store.path, Duration::ZERO).unwrap().set_paused("notes", Some("benchmark")).await.unwrap();
    let app = App::start(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/aircall", listener.local_addr().unwrap());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(listener, async {
        let _ = stop_rx.await;
    }));
    let client = reqwest::Client::builder().pool_max_idle_per_host(CONNECTIONS).build().unwrap();
    let next = Arc::new(AtomicU64::new(1)); // call id 0 is refused
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let (client, url, next) = (client.clone(), url.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let id = next.fetch_add(1, Ordering::Relaxed);
                let body = serde_json::json!({
                    "resource": "call", "event": "call.ended", "timestamp": 1_700_000_000 + id, "token": "bench-token-123",
                    "data": { "id": id, "direction": "inbound", "status": "done", "raw_digits": "+33 6 12 34 56 78", "duration": 84,
                        "started_at": 1_700_000_000, "answered_at": 1_700_000_009, "ended_at": 1_700_000_084,
                        "recording": "https://example-bucket.s3.amazonaws.com/recording.mp3?X-Amz-Signature=0123456789abcdef",
                        "number": { "id": 777, "name": "Support FR", "digits": "+33 1 23 45 67 89", "country": "FR", "time_zone": "Europe/Paris" },
                        "user": { "id": 4242, "name": "Ada Agent", "email": "ada@example.com", "available": true, "availability_status": "available" },
                        "contact": { "id": 555, "first_name": "Chloé", "last_name": "Client", "company_name": "ACME",
                            "phone_numbers": [{ "id": 1, "label": "Mobile", "value": "+33612345678" }], "emails": [] },
                        "teams": [{ "id": 12, "name": "Tier 1" }], "comments": [], "tags": [{ "id": 1, "name": "VIP", "tagged_at": 1_700_000_090 }] }
                });
                let t = Instant::now();
                let r = client.post(&url).json(&body).send().await.unwrap();
                assert_eq!(r.status(), 200);
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    let _ = stop_tx.send(());
    let _ = server.await;
    lat.sort();
    (lat.len() as f64 / SECONDS as f64, pct(&lat, 0.5), pct(&lat, 0.99))
}

//! Webhook ingest on this machine: accepted webhooks per second and time to
//! acknowledge, with the durable write (fsync before the 2xx, group commit) and,
//! side by side, the same server with fsync off. The load generator (64
//! concurrent connections, unique ~1 KiB call payloads) shares the 2 cores.
//!
//! `cargo bench -p switchboard --bench ingest`
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;
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
    let lat = post_webhooks(&url, CONNECTIONS, SECONDS).await;
    let _ = stop_tx.send(());
    let _ = server.await;
    (lat.len() as f64 / SECONDS as f64, pct(&lat, 0.5), pct(&lat, 0.99))
}

//! Whether misbehaving plugins stall the host: webhook ack and `/healthz`
//! latency while eight plugin instances spin in endless loops (until their
//! 10 s deadline), side by side with the same load and no loops. The load is
//! one webhook and one health check every 20 ms from one client, for 5 s;
//! every webhook also gives the example plugin a job.
//!
//! `cargo bench -p switchboard --bench stall`
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};
use support::*;
use switchboard::app::App;
use switchboard::config::Config;

const SECONDS: u64 = 5;
const LOOPS: usize = 8;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    println!("machine: {}", machine());
    rt.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let crm = fake_crm().await;
        for loops in [0, LOOPS] {
            let (ack, health) = round(&crm, loops).await;
            println!(
                "{loops} looping plugins: webhook ack p50 {} p99 {} max {}; /healthz p50 {} p99 {} max {} ({} samples each)",
                ms(pct(&ack, 0.5)),
                ms(pct(&ack, 0.99)),
                ms(*ack.last().unwrap()),
                ms(pct(&health, 0.5)),
                ms(pct(&health, 0.99)),
                ms(*health.last().unwrap()),
                ack.len()
            );
        }
    });
}

/// A notes API that takes every note.
async fn fake_crm() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().route("/notes", axum::routing::post(|| async { (axum::http::StatusCode::CREATED, "{}") }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

async fn round(crm: &str, loops: usize) -> (Vec<Duration>, Vec<Duration>) {
    let dir = tempfile::tempdir().unwrap();
    for plugin in ["example", "chaos"] {
        let to = dir.path().join("plugins").join(plugin);
        std::fs::create_dir_all(&to).unwrap();
        for file in ["plugin.toml", "plugin.wasm"] {
            std::fs::copy(plugin_dir(plugin).join(file), to.join(file)).unwrap();
        }
    }
    let mut text = config_text(dir.path(), crm, true);
    for i in 0..loops {
        // Only events on number 999 reach the loops.
        text += &format!(
            "\n[[integrations]]\nid = \"loop-{i}\"\naccount = \"main\"\nplugin = \"chaos\"\nnumbers = [999]\nsettings = {{ mode = \"loop\" }}\n"
        );
    }
    let config = Config::from_toml(&text, "bench.toml".as_ref(), dir.path(), &|_| None).unwrap();
    let app = App::start(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(listener, async {
        let _ = stop_rx.await;
    }));
    let client = reqwest::Client::new();
    let post = |id: u64, number: u64| {
        let body = serde_json::json!({
            "resource": "call", "event": "call.created", "timestamp": 1_700_000_000 + id, "token": "bench-token-123",
            "data": { "id": id, "direction": "inbound", "status": "initial", "raw_digits": format!("+33 6 12 34 {:02} {:02}", id / 100 % 100, id % 100),
                "started_at": 1_700_000_000,
                "number": { "id": number, "name": "Line", "digits": "+33 1 23 45 67 89", "country": "FR", "time_zone": "Europe/Paris" } }
        });
        client.post(format!("{base}/webhooks/aircall")).json(&body).send()
    };
    if loops > 0 {
        assert_eq!(post(1, 999).await.unwrap().status(), 200);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (mut ack, mut health) = (Vec::new(), Vec::new());
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let mut id = 10;
    while Instant::now() < deadline {
        let t = Instant::now();
        assert_eq!(post(id, 777).await.unwrap().status(), 200);
        ack.push(t.elapsed());
        let t = Instant::now();
        assert!(client.get(format!("{base}/healthz")).send().await.unwrap().status().is_success());
        health.push(t.elapsed());
        id += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop_tx.send(());
    let _ = server.await;
    ack.sort();
    health.sort();
    (ack, health)
}

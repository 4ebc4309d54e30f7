//! What the benchmarks share: percentiles, the built plugin, a config builder.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

/// Percentile of sorted samples.
pub fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Median of values.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

pub fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// `dist/plugins/<name>` (built by `cargo xtask plugins`).
pub fn plugin_dir(name: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dist/plugins").join(name);
    assert!(p.join("plugin.wasm").exists(), "{} missing: run `cargo xtask plugins`", p.display());
    p
}

/// A configuration with the example integration pointed at `crm`.
pub fn config_text(dir: &std::path::Path, crm: &str, fsync: bool) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
[store]
path = "{db}"
fsync = {fsync}
[plugins]
dir = "{plugins}"
watch = false
[limits]
concurrency = 64
[network]
allow_private = true
allow_http = true
[[accounts]]
id = "main"
webhook_token = "bench-token-123"
api_base = "http://127.0.0.1:9"
[[integrations]]
id = "notes"
account = "main"
plugin = "example"
base_url = "{crm}"
secrets = {{ api = "secret" }}
"#,
        db = dir.join("bench.db").display(),
        plugins = dir.join("plugins").display(),
    )
}

/// Machine description for the report.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpu}, {} cores", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0))
}

/// A `call.ended` webhook of about 1 KiB for call `id` (never 0: the host
/// refuses it), with a recording link when `recording`.
pub fn call_ended_body(id: u64, recording: bool) -> String {
    let mut body = serde_json::json!({
        "resource": "call", "event": "call.ended", "timestamp": 1_700_000_000 + id, "token": "bench-token-123",
        "data": { "id": id, "direction": "inbound", "status": "done", "raw_digits": "+33 6 12 34 56 78", "duration": 84,
            "started_at": 1_700_000_000, "answered_at": 1_700_000_009, "ended_at": 1_700_000_084,
            "number": { "id": 777, "name": "Support FR", "digits": "+33 1 23 45 67 89", "country": "FR", "time_zone": "Europe/Paris" },
            "user": { "id": 4242, "name": "Ada Agent", "email": "ada@example.com", "available": true, "availability_status": "available" },
            "contact": { "id": 555, "first_name": "Chloé", "last_name": "Client", "company_name": "ACME",
                "phone_numbers": [{ "id": 1, "label": "Mobile", "value": "+33612345678" }], "emails": [] },
            "teams": [{ "id": 12, "name": "Tier 1" }], "comments": [], "tags": [{ "id": 1, "name": "VIP", "tagged_at": 1_700_000_090 }] }
    });
    if recording {
        body["data"]["recording"] = "https://example-bucket.s3.amazonaws.com/recording.mp3?X-Amz-Signature=0123456789abcdef".into();
    }
    body.to_string()
}

/// Posts unique `call.ended` webhooks to `url` over `connections` concurrent
/// connections for `seconds`; every answer must be 200. Returns the sorted
/// times to acknowledge.
/// Open-loop load: one unique webhook every `1 / per_second` s for `seconds`,
/// each on a task of its own whatever the answers take, so the times measure
/// the ack at that offered rate and not a queue of waiting senders.
/// Returns the sorted ack times.
pub async fn post_webhooks_paced(url: &str, per_second: u64, seconds: u64) -> Vec<Duration> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap();
    let mut tick = tokio::time::interval(Duration::from_secs(1) / per_second as u32);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = Vec::new();
    for n in 0..per_second * seconds {
        tick.tick().await;
        let (client, url) = (client.clone(), url.to_string());
        tasks.push(tokio::spawn(async move {
            let body = call_ended_body(10_000_000 + n, true);
            let t = std::time::Instant::now();
            let r = client.post(&url).header("content-type", "application/json").body(body).send().await.unwrap();
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
            t.elapsed()
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.push(t.await.unwrap());
    }
    lat.sort();
    lat
}

pub async fn post_webhooks(url: &str, connections: usize, seconds: u64) -> Vec<Duration> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    let client = reqwest::Client::builder().pool_max_idle_per_host(connections).build().unwrap();
    let next = Arc::new(AtomicU64::new(1));
    let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (client, url, next) = (client.clone(), url.to_string(), next.clone());
            tokio::spawn(async move {
                let mut lat = Vec::new();
                while std::time::Instant::now() < deadline {
                    let body = call_ended_body(next.fetch_add(1, Ordering::Relaxed), true);
                    let t = std::time::Instant::now();
                    let r = client.post(&url).header("content-type", "application/json").body(body).send().await.unwrap();
                    let status = r.status();
                    assert_eq!(status, 200, "{}", r.text().await.unwrap_or_default());
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    lat.sort();
    lat
}

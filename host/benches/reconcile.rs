//! What never missing a call costs in Aircall requests, and how fast backfill
//! goes under Aircall's default budget (60 requests a minute per company, of
//! which background work takes `[reconcile] budget_share`, 10 %).
//!
//! The host runs in process against the sandbox (Aircall emulator, notes CRM,
//! the example plugin). 1,000 ended calls spread over the last hour stand for
//! an hour of traffic at 1,000 calls/hour; their webhooks were received.
//! Reported:
//! - requests of the first pass (looks back `window_minutes`, 60);
//! - requests of a steady pass, the previous one 10 minutes before: what an
//!   hour costs is six of these plus six webhook checks;
//! - the same with 1 % of the webhooks lost (each costs one `GET /v1/calls/:id`);
//! - backfill of those 1,000 calls into a second integration: calls per minute.
//!
//! `cargo bench -p switchboard --bench reconcile` (request counts do not depend
//! on the build; backfill is bound by the Aircall budget, not the CPU).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;
use switchboard::aircall::client::AircallClient;
use switchboard::app::App;
use switchboard::config::Config;
use switchboard::reconcile::{Background, backfill, lease, sweep};
use switchboard::store::KvWrite;

const CALLS: u64 = 1_000;

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn ended_call(id: u64, started_at: i64) -> Value {
    json!({
        "id": id, "direction": "inbound", "status": "done",
        "started_at": started_at, "answered_at": started_at + 5, "ended_at": started_at + 65, "duration": 65,
        "raw_digits": "+33 6 12 34 56 78",
        "number": { "id": 2001, "name": "Support FR", "digits": "+33 1 76 36 04 20", "country": "FR" },
        "tags": [], "comments": []
    })
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    println!("machine: {}", machine());
    rt.block_on(async {
        switchboard_sandbox::install_crypto_provider();
        let sandbox = switchboard_sandbox::Sandbox::start(switchboard_sandbox::SandboxOptions::default()).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (state, url, account) = host(&sandbox, dir.path(), "notes").await;

        // An hour of traffic, every webhook received.
        let start = now() - 3600;
        let client = reqwest::Client::new();
        for i in 0..CALLS {
            let call = ended_call(100_000 + i, start + (i as i64 * 3600) / CALLS as i64 - 70);
            sandbox.aircall().update(|s| s.upsert_call(call.clone()));
            let body = json!({ "resource": "call", "event": "call.ended", "timestamp": now(), "token": "bench-token-123", "data": call });
            assert_eq!(client.post(&url).json(&body).send().await.unwrap().status(), 200);
        }
        wait_idle(&state).await;
        sandbox.aircall().clear_requests();

        let background = Background::in_host(&state, Arc::new(AircallClient::new(&account).unwrap()), "reconcile");
        let first = sweep::run_once(&state, &background).await.unwrap();
        let first_requests = sandbox.aircall().requests().len();

        let set_cursor = |from: i64| {
            let store = state.store.clone();
            async move {
                let value = serde_json::to_vec(&json!({ "from": from })).unwrap();
                store.kv_write(lease::NAMESPACE, KvWrite::Set { key: "cursor:main".into(), value, expires_at_ms: None }).await.unwrap();
            }
        };
        set_cursor(now() - 600).await;
        sandbox.aircall().clear_requests();
        let steady = sweep::run_once(&state, &background).await.unwrap();
        let steady_requests = sandbox.aircall().requests().len();

        // 1 % of the last ten minutes' webhooks lost.
        let lost = CALLS / 100;
        for i in 0..lost {
            sandbox.aircall().update(|s| s.upsert_call(ended_call(900_000 + i, now() - 500 + i as i64)));
        }
        set_cursor(now() - 600).await;
        sandbox.aircall().clear_requests();
        let lossy = sweep::run_once(&state, &background).await.unwrap();
        let lossy_requests = sandbox.aircall().requests().len();
        wait_idle(&state).await;

        println!("reconciliation, {CALLS} calls in the last hour, default [reconcile]:");
        println!("  first pass: {} calls listed, {} pages, {first_requests} requests", first.listed, first.pages);
        println!("  steady pass (previous 10 min before): {} calls listed, {steady_requests} requests", steady.listed);
        println!(
            "  per hour at every_seconds = 600: {} requests (6 passes + 6 webhook checks) = {:.1} % of 3,600",
            6 * (steady_requests + 1),
            (6 * (steady_requests + 1)) as f64 / 36.0
        );
        println!("  steady pass with {lost} lost webhooks: {} reconciled, {lossy_requests} requests", lossy.reconciled);

        // Backfill the last day into an integration installed now (its own
        // host and store), default budget.
        let (state, _, _) = host(&sandbox, dir.path(), "later").await;
        sandbox.aircall().clear_requests();
        let until = now();
        backfill::request(&state.store, "later", until - 86_400, until).await.unwrap();
        let started = Instant::now();
        let progress = loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let p = backfill::read(&state.store, "later").await.unwrap().unwrap();
            if matches!(p.status, backfill::Status::Done | backfill::Status::Failed) {
                break p;
            }
        };
        let secs = started.elapsed().as_secs_f64();
        println!("backfill of one day into a second integration (Aircall budget 60/min, share 10 %):");
        println!("  {}", progress.line());
        println!(
            "  {} calls logged in {secs:.1} s = {:.0} calls/min; {} Aircall requests",
            progress.logged,
            progress.logged as f64 * 60.0 / secs,
            sandbox.aircall().requests().len()
        );
    });
}

/// A host (in process, served on a free port) with the example plugin as
/// integration `id` on the notes emulator, its store named after it.
async fn host(
    sandbox: &switchboard_sandbox::Sandbox,
    dir: &std::path::Path,
    id: &str,
) -> (switchboard::server::AppState, String, switchboard::config::AccountConfig) {
    let a = sandbox.aircall().credentials().clone();
    let plugins = dir.join("plugins");
    if !plugins.join("example").exists() {
        copy_dir(&plugin_dir("example"), &plugins.join("example"));
    }
    let text = format!(
        r#"
[store]
path = "{db}"
[plugins]
dir = "{plugins}"
watch = false
[network]
allow_private = true
allow_http = true
[reconcile]
enabled = false
[[accounts]]
id = "main"
webhook_token = "bench-token-123"
api_id = "{api_id}"
api_token = "{token}"
api_base = "{aircall}"
[[integrations]]
id = "{id}"
account = "main"
plugin = "example"
base_url = "{notes}"
settings = {{ insight_cards = false }}
secrets = {{ api = "sandbox-notes-token" }}
"#,
        db = dir.join(format!("{id}.db")).display(),
        plugins = plugins.display(),
        api_id = a.api_id,
        token = a.api_token,
        aircall = sandbox.aircall_url(),
        notes = sandbox.notes_url(),
    );
    let config = Config::from_toml(&text, "bench.toml".as_ref(), dir, &|_| None).unwrap();
    let account = config.accounts[0].clone();
    let app = App::start(config).await.unwrap();
    let state = app.state.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/aircall", listener.local_addr().unwrap());
    tokio::spawn(app.serve(listener, std::future::pending()));
    (state, url, account)
}

async fn wait_idle(state: &switchboard::server::AppState) {
    loop {
        let c = state.store.counts().await.unwrap();
        if c.queued == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

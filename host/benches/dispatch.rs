//! Plugin dispatch on one core with the example plugin: instantiation latency,
//! and events per second for an event the plugin handles without I/O
//! (`user.created`: instantiate, lift/lower the event, run, drop) and for one it
//! logs with an HTTP POST to a local server (`call.ended`).
//!
//! `cargo bench -p switchboard --bench dispatch` (after `cargo xtask plugins`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;
use switchboard::aircall::ParsedEvent;
use switchboard::capabilities::journal::Journal;
use switchboard::capabilities::{JobCaps, JobLabel, Shared};
use switchboard::config::Config;
use switchboard::contract::bindings::EventContext;
use switchboard::contract::convert;
use switchboard::metrics::Metrics;
use switchboard::registry::manifest::Manifest;
use switchboard::store::{SqliteStore, Store};

const ROUNDS: usize = 5;

fn main() {
    // One core: a current-thread runtime; the CRM stand-in runs on its own thread.
    let crm_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let crm = crm_rt.block_on(async {
        let app = axum::Router::new().route("/notes", axum::routing::post(|| async { (axum::http::StatusCode::CREATED, "{}") }));
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(l, app).await.ok() });
        url
    });
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(run(crm));
}

/// The pool's reset strategies, measured side by side: what each pooled slot keeps mapped.
const VARIANTS: &[(&str, usize)] = &[
    ("keep nothing resident (madvise every slot; the previous default)", 0),
    ("keep 1 MiB resident, reset dirty pages found by PAGEMAP_SCAN (the default)", switchboard::runtime::engine::KEEP_RESIDENT),
];

async fn run(crm: String) {
    for (label, keep_resident) in VARIANTS {
        println!("\n== pool: {label}; example plugin on contract 0.2.0");
        measure(&crm, *keep_resident, plugin_dir("example")).await;
    }
    // The same events to the example as built on contract 0.1.0 (kept as built in
    // tests/fixtures), served through the adapter: what the old contract costs.
    let fixture = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/contract-v0.1.0/example-v0-1");
    println!("\n== pool: {}; example plugin built on contract 0.1.0 (adapter)", VARIANTS[1].0);
    measure(&crm, VARIANTS[1].1, fixture).await;
}

async fn measure(crm: &str, keep_resident: usize, plugin: std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::from_toml(&config_text(dir.path(), crm, true), "bench.toml".as_ref(), dir.path(), &|_| None).unwrap();
    let defaults = switchboard::app::runtime_for(&config).unwrap().options().clone();
    let runtime = switchboard::runtime::Runtime::new(switchboard::runtime::RuntimeOptions { keep_resident, ..defaults }).unwrap();
    let mut manifest = Manifest::parse(&std::fs::read_to_string(plugin.join("plugin.toml")).unwrap()).unwrap();
    // The manifest's budget (50 requests/s) would pace the HTTP case; measure the host, not the budget.
    manifest.http.rate_limits.clear();
    let linked = runtime.link(&std::fs::read(plugin.join("plugin.wasm")).unwrap()).unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&config.store.path, Duration::ZERO).unwrap());
    let shared = Arc::new(Shared::new(config.network.clone(), config.limits.clone(), store, Arc::new(Metrics::new())).unwrap());
    let clients = switchboard::app::aircall_clients(&config).unwrap();
    let ictx =
        Arc::new(switchboard::registry::policy::integration(&config.integrations[0], &manifest, clients.get("main").unwrap()).unwrap());
    let caps = || {
        JobCaps::new(
            shared.clone(),
            ictx.clone(),
            Journal::disabled(),
            JobLabel { event_id: "1".into(), job_id: 0 },
            Duration::from_secs(10),
        )
    };

    println!("machine: {}", machine());
    println!("component: {} KiB", std::fs::metadata(plugin.join("plugin.wasm")).unwrap().len() / 1024);

    // What building a WASI context costs (part of every store).
    let mut wasi = Vec::new();
    for _ in 0..20_000 {
        let t = Instant::now();
        let ctx = wasmtime_wasi::WasiCtx::builder().stderr(wasmtime_wasi::p2::pipe::MemoryOutputPipe::new(4096)).build();
        std::hint::black_box(ctx);
        wasi.push(t.elapsed());
    }
    wasi.sort();
    println!("WASI context build (20000 samples): p50 {}  p99 {}", us(pct(&wasi, 0.5)), us(pct(&wasi, 0.99)));

    // Instantiation alone.
    let mut samples = Vec::new();
    for _ in 0..200 {
        runtime.instantiate_only(&linked, caps()).await.unwrap();
    }
    for _ in 0..20_000 {
        let c = caps();
        let t = Instant::now();
        runtime.instantiate_only(&linked, c).await.unwrap();
        samples.push(t.elapsed());
    }
    samples.sort();
    println!(
        "instantiation (20000 samples): p50 {}  p99 {}  max {}",
        us(pct(&samples, 0.5)),
        us(pct(&samples, 0.99)),
        us(*samples.last().unwrap())
    );

    for (name, event, data, n) in [
        ("user.created (no I/O)", "user.created", serde_json::json!({"id": 1, "name": "Ada", "email": "ada@example.com"}), 20_000usize),
        (
            "call.ended (1 HTTP POST)",
            "call.ended",
            serde_json::json!({"id": 42, "direction": "inbound", "status": "done", "raw_digits": "+33 6 12 34 56 78",
                "number": {"id": 777, "name": "Support FR", "digits": "+33 1 23 45 67 89", "country": "FR"},
                "user": {"id": 1, "name": "Ada", "email": "ada@example.com"}, "tags": [{"id": 1, "name": "VIP"}]}),
            4_000,
        ),
    ] {
        let parsed = ParsedEvent::parse(event, &data).unwrap().unwrap();
        let ctx = EventContext {
            integration_id: "notes".into(),
            event_id: "1".into(),
            event_name: event.into(),
            event_timestamp: 0,
            attempt: 1,
            settings: ictx.settings.clone(),
            default_region: None,
            base_url: ictx.base_url.clone(),
            raw_data: data.to_string(),
        };
        let mut rates = Vec::new();
        let mut lat = Vec::new();
        for _ in 0..ROUNDS {
            let start = Instant::now();
            for _ in 0..n {
                let t = Instant::now();
                // Each job converts the parsed event to the contract's records, as the queue does.
                let wit = convert::event(&parsed);
                runtime.handle_event(&linked, caps(), &ctx, &wit).await.unwrap();
                lat.push(t.elapsed());
            }
            rates.push(n as f64 / start.elapsed().as_secs_f64());
        }
        lat.sort();
        println!(
            "{name}: median {:.0} events/s over {ROUNDS} rounds of {n} (min {:.0}, max {:.0}); per event p50 {} p99 {}",
            median(rates.clone()),
            rates.iter().cloned().fold(f64::MAX, f64::min),
            rates.iter().cloned().fold(0.0, f64::max),
            us(pct(&lat, 0.5)),
            us(pct(&lat, 0.99)),
        );
    }
}

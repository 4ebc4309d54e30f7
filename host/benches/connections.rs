//! What a host-kept OAuth token costs per outbound request, side by side with a
//! static secret: each round sends the same loopback requests twice, once with
//! the secret attached from memory and once with the token of a connection
//! (sealed at rest, opened once and cached, checked for refresh on every use).
//! Reported: the median time per request of each, and their ratio; also the
//! bare cost of `access_token` against cloning a static secret.
//!
//! `cargo bench -p switchboard --bench connections`
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;
use switchboard::config::Config;
use switchboard::connections::record::{self, Record, State};
use switchboard::connections::seal::{self, Keyring};
use switchboard::connections::{Connections, OAuthSecret, aad};
use switchboard::store::{SqliteStore, Store};

const REQUESTS: usize = 2_000;
const ROUNDS: usize = 5;
const ID: &str = "integration:notes";

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    println!("machine: {}", machine());
    rt.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let connections = connected(dir.path()).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let app = axum::Router::new().route("/", axum::routing::post(|| async { "ok" }));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let client = reqwest::Client::new();
        let secret = "static-secret-value-of-typical-length-0123456789".to_string();

        let (mut plain, mut sealed) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            plain.push(per_request(&client, &url, || std::future::ready(secret.clone())).await);
            sealed.push(per_request(&client, &url, || async { connections.access_token(ID).await.unwrap() }).await);
        }
        let (p, s) = (median(plain.clone()), median(sealed.clone()));
        println!("per outbound request, median of {ROUNDS} rounds of {REQUESTS} loopback requests:");
        println!("  static secret      {:.1} µs  (rounds: {})", p * 1e6, list(&plain));
        println!("  OAuth connection   {:.1} µs  (rounds: {})", s * 1e6, list(&sealed));
        println!("  ratio connection / static: {:.3}", s / p);

        let n = 200_000;
        let started = Instant::now();
        for _ in 0..n {
            std::hint::black_box(connections.access_token(ID).await.unwrap());
        }
        let token = started.elapsed().as_secs_f64() / n as f64;
        let started = Instant::now();
        for _ in 0..n {
            std::hint::black_box(secret.clone());
        }
        let clone = started.elapsed().as_secs_f64() / n as f64;
        println!("  access_token (cached) {:.0} ns vs static clone {:.0} ns", token * 1e9, clone * 1e9);
    });
}

fn list(v: &[f64]) -> String {
    v.iter().map(|x| format!("{:.1}", x * 1e6)).collect::<Vec<_>>().join(", ")
}

/// Mean seconds per request with the credential from `credential`.
async fn per_request<F, Fut>(client: &reqwest::Client, url: &str, credential: F) -> f64
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = String>,
{
    let started = Instant::now();
    for _ in 0..REQUESTS {
        let value = credential().await;
        let resp = client.post(url).header("authorization", format!("Bearer {value}")).body("{}").send().await.unwrap();
        std::hint::black_box(resp.bytes().await.unwrap());
    }
    started.elapsed().as_secs_f64() / REQUESTS as f64
}

/// Connections with one connected integration whose token lasts a day.
async fn connected(dir: &std::path::Path) -> Arc<Connections> {
    let key_file = dir.join("master.keys");
    seal::append_key(&key_file).unwrap();
    let text = format!(
        "[store]\npath = \"bench.db\"\n[connections]\nkey_file = \"{}\"\n\n[[accounts]]\nid = \"main\"\nwebhook_token = \"bench-token-123\"\n\n\
         [[integrations]]\nid = \"notes\"\naccount = \"main\"\nplugin = \"example\"\n",
        key_file.display()
    );
    let config = Config::from_toml(&text, "bench.toml".as_ref(), dir, &|_| None).unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&config.store.path, Duration::ZERO).unwrap());
    let keyring = Keyring::load(Some(&key_file)).unwrap();
    let now = switchboard::clock::now_ms();
    let mut r = Record::empty(ID, "hubspot", now);
    r.access = Some(keyring.seal(&aad(ID, "access"), b"access-token-of-typical-length-0123456789abcdef").unwrap());
    r.expires_at_ms = Some(now + 86_400_000);
    r.lifetime_ms = Some(86_400_000);
    r.refreshed_at_ms = now;
    r.set_state(State::Connected, "connected", "", now);
    assert!(record::write(&store, None, &r).await.unwrap());
    let secrets = [OAuthSecret { plugin: "example".into(), secret: "api".into(), provider: "hubspot".into(), scopes: None }];
    Connections::open(&config, &secrets, store).await.unwrap()
}

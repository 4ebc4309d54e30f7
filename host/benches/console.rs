//! Server time of each console page with 100,000 jobs in the store (issue 15:
//! target ≤ 50 ms p99).
//!
//! The store (SQLite) is filled in one transaction before the host starts: six
//! days of traffic, 25,000 calls of 5,000 customers (a `call.created` and a
//! `call.ended` each: 50,000 events), every event with a job for each of two
//! integrations (100,000 jobs): 98,800 done, 1,000 dead letters of `notes`
//! (one journal entry each) and 200 held (queued) for the paused `archive`.
//! The host runs in process with the example plugin; the console is served on
//! a free port and signed in through a one-time link, then each page is asked
//! 200 times in a row by one client over loopback (so the times include the
//! HTTP round trip): overview, activity by call id, by a number typed in
//! national format, by a number no call came from (the exact search finds
//! nothing, so every lane is read for numbers ending in its digits), by a
//! one-hour window, dead letters, integrations, accounts, plugins.
//!
//! `cargo bench -p switchboard --bench console`
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use rusqlite::params;
use std::time::{Duration, Instant};
use support::*;
use switchboard::app::App;
use switchboard::config::Config;

const CALLS: i64 = 25_000;
const CUSTOMERS: i64 = 5_000;
const DEAD: i64 = 1_000;
const HELD: i64 = 200;
const SPAN_MS: i64 = 6 * 86_400_000;
const REQUESTS: usize = 200;
const FIRST_CALL: i64 = 1_000_000;

fn customer(i: i64) -> String {
    format!("+3361234{:04}", i % CUSTOMERS)
}

/// The store with 100,000 jobs, written straight into the SQLite file.
fn fill(db: &std::path::Path, now: i64) {
    // The host's schema first (the store creates it), then the rows.
    drop(switchboard::store::SqliteStore::open_with(db, Duration::ZERO, false).unwrap());
    let mut conn = rusqlite::Connection::open(db).unwrap();
    conn.pragma_update(None, "synchronous", "OFF").unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut event = tx
            .prepare(
                "INSERT INTO events (account, event_name, body, received_at_ms, origin, call_key) VALUES ('main', ?1, ?2, ?3, 'webhook', ?4)",
            )
            .unwrap();
        let mut job = tx
            .prepare(
                "INSERT INTO jobs (event_id, integration, ordering_key, state, attempts, next_run_at_ms, last_error, finished_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .unwrap();
        let mut journal = tx.prepare("INSERT INTO journal (job_id, seq, fingerprint, done, result) VALUES (?1, 0, x'00', 1, ?2)").unwrap();
        let start = now - SPAN_MS;
        let mut dead_left = DEAD;
        for c in 0..CALLS {
            let call_id = FIRST_CALL + c;
            let at = start + c * SPAN_MS / CALLS;
            let party = customer(c);
            let national = format!("0{}", &party[3..]);
            let lane = format!("party:{party}");
            for (k, name) in ["call.created", "call.ended"].iter().enumerate() {
                let received = at + k as i64 * 65_000;
                let body = serde_json::json!({
                    "resource": "call", "event": name, "timestamp": received / 1000, "token": "bench-token-123",
                    "data": {
                        "id": call_id, "direction": "inbound", "status": if k == 0 { "initial" } else { "done" },
                        "started_at": at / 1000, "ended_at": if k == 0 { None } else { Some(received / 1000) },
                        "raw_digits": national, "user": { "id": 1001, "name": "Ada Agent", "email": "ada@example.com" },
                        "number": { "id": 777, "name": "Support FR", "digits": "+33 1 23 45 67 89", "country": "FR" },
                        "tags": [], "comments": []
                    }
                })
                .to_string();
                event.execute(params![name, body, received, call_id]).unwrap();
                let event_id = tx.last_insert_rowid();
                let held = c >= CALLS - HELD / 2;
                for integration in ["notes", "archive"] {
                    let dead = integration == "notes" && k == 1 && dead_left > 0 && c % 12 == 5;
                    let (state, attempts, error, finished) = if held && integration == "archive" {
                        ("queued", 0, None, None)
                    } else if dead {
                        dead_left -= 1;
                        ("dead", 3, Some("the CRM refused the note: 422 {\"error\":\"contact_id missing\"}"), Some(received + 2_000))
                    } else {
                        ("done", 1, None, Some(received + 300))
                    };
                    job.execute(params![event_id, integration, lane, state, attempts, received, error, finished]).unwrap();
                    if dead {
                        let result = br#"{"status":422,"body":"{\"error\":\"contact_id missing\"}"}"#.to_vec();
                        journal.execute(params![tx.last_insert_rowid(), result]).unwrap();
                    }
                }
            }
        }
        tx.execute(
            "INSERT INTO integration_state (integration, paused_reason, updated_at_ms) VALUES ('archive', 'archive migration', ?1)",
            params![now],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    let jobs: i64 = conn.query_row("SELECT COUNT(*) FROM jobs", [], |r| r.get(0)).unwrap();
    assert_eq!(jobs, 2 * 2 * CALLS);
}

fn config(dir: &std::path::Path) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
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
[console]
listen = "127.0.0.1:0"
[[accounts]]
id = "main"
webhook_token = "bench-token-123"
api_base = "http://127.0.0.1:9"
[[integrations]]
id = "notes"
account = "main"
plugin = "example"
default_region = "FR"
base_url = "http://127.0.0.1:9"
secrets = {{ api = "secret-notes-token" }}
[[integrations]]
id = "archive"
account = "main"
plugin = "example"
default_region = "FR"
base_url = "http://127.0.0.1:9"
secrets = {{ api = "secret-archive-token" }}
"#,
        db = dir.join("bench.db").display(),
        plugins = dir.join("plugins").display(),
    )
}

fn utc(ms: i64) -> String {
    switchboard::console::when(ms).replace(' ', "T")[..16].to_string()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    println!("machine: {}", machine());
    rt.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let to = dir.path().join("plugins/example");
        std::fs::create_dir_all(&to).unwrap();
        for file in ["plugin.toml", "plugin.wasm"] {
            std::fs::copy(plugin_dir("example").join(file), to.join(file)).unwrap();
        }
        let now = switchboard::clock::now_ms();
        let filled = Instant::now();
        fill(&dir.path().join("bench.db"), now);
        println!("store: {} jobs ({} events) written in {:.1} s", 4 * CALLS, 2 * CALLS, filled.elapsed().as_secs_f64());

        let config = Config::from_toml(&config(dir.path()), "bench.toml".as_ref(), dir.path(), &|_| None).unwrap();
        let app = App::start(config).await.unwrap();
        let state = app.state.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        tokio::spawn(app.serve(listener, std::future::pending()));
        let console = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", console.local_addr().unwrap());
        tokio::spawn(switchboard::console::serve(state.clone(), console, std::future::pending()));

        // Signed in as a browser would be: a one-time link, then the session cookie.
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let token = switchboard::console::auth::issue_link(&state.store, now).await.unwrap();
        let signed = client.get(format!("{base}/sign-in?token={token}")).send().await.unwrap();
        assert_eq!(signed.status(), 303);
        let cookie = signed
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("sb_console="))
            .map(|v| v.split(';').next().unwrap().to_string())
            .expect("a session cookie");

        let call = FIRST_CALL + CALLS / 2;
        let window = now - SPAN_MS / 2;
        let pages = [
            ("overview", "/".to_string(), "Queue depth"),
            ("activity: call id", format!("/activity?q={call}"), "Call "),
            ("activity: number (national)", "/activity?q=06%2012%2034%2000%2042".to_string(), "Call "),
            ("activity: number, no call (lane scan)", "/activity?q=06%2099%2099%2099%2099".to_string(), "numbers ending in 699999999"),
            ("activity: one hour", format!("/activity?from={}&until={}", utc(window), utc(window + 3_600_000)), "Call "),
            ("dead letters", "/dead-letters".to_string(), "Replay all"),
            ("integrations", "/integrations".to_string(), "archive migration"),
            ("accounts", "/accounts".to_string(), "Last event received"),
            ("plugins", "/plugins".to_string(), "Rejected candidates"),
        ];
        println!("console pages, {} jobs in the store, {REQUESTS} requests each (one client, loopback):", 4 * CALLS);
        let mut worst = Duration::ZERO;
        for (name, path, shows) in &pages {
            let url = format!("{base}{path}");
            let get = || async {
                let r = client.get(&url).header("cookie", &cookie).send().await.unwrap();
                let status = r.status();
                let body = r.text().await.unwrap();
                assert_eq!(status, 200, "{path}: {body}");
                body
            };
            let first = get().await;
            assert!(first.contains(shows), "{path} shows {shows:?}:\n{}", &first[..first.len().min(4000)]);
            for _ in 0..5 {
                get().await;
            }
            let mut samples = Vec::with_capacity(REQUESTS);
            for _ in 0..REQUESTS {
                let t = Instant::now();
                get().await;
                samples.push(t.elapsed());
            }
            samples.sort();
            let p99 = pct(&samples, 0.99);
            worst = worst.max(p99);
            println!(
                "  {name:<38} p50 {:>9}  p99 {:>9}  max {:>9}  ({} KiB)",
                ms(pct(&samples, 0.5)),
                ms(p99),
                ms(*samples.last().unwrap()),
                first.len() / 1024
            );
        }
        println!("worst p99 {} (target ≤ 50 ms)", ms(worst));
    });
}

//! Test support: a fake CRM that records what arrives, and the real host as a
//! child process with its own plugin folder, database and configuration.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod browser;
pub mod rig;
pub mod tally;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const TOKEN: &str = "test-webhook-token";
pub const API_SECRET: &str = "crm-secret-123";

/// A note as the fake stored it.
#[derive(Debug, Clone)]
pub struct Received {
    pub body: Value,
    pub authorization: Option<String>,
    pub at: Instant,
}

#[derive(Default)]
pub struct FakeState {
    pub notes: Vec<Received>,
    /// Answer the next N creates with this status (without storing).
    pub fail_next: Vec<(u16, Option<String>)>,
    /// Delay creates whose subject matches.
    pub slow_subjects: HashMap<String, Duration>,
    /// Store the next N creates, then never answer them (the answer is lost).
    pub lose_next_answers: usize,
    /// Failures of `fail_next` name the credential they were sent with in
    /// their body, as a careless vendor's error message might.
    pub failures_echo_the_credential: bool,
    pub attempts: Vec<Instant>,
}

/// A fake notes API.
#[derive(Clone)]
pub struct FakeCrm {
    pub url: String,
    pub state: Arc<Mutex<FakeState>>,
}

async fn create(State(state): State<Arc<Mutex<FakeState>>>, headers: HeaderMap, body: axum::body::Bytes) -> axum::response::Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let delay = {
        let mut s = state.lock().unwrap();
        s.attempts.push(Instant::now());
        if !s.fail_next.is_empty() {
            let (status, retry_after) = s.fail_next.remove(0);
            let body = if s.failures_echo_the_credential {
                let credential = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").trim_start_matches("Bearer ");
                serde_json::json!({ "error": format!("rejected credential {credential}") }).to_string()
            } else {
                "{\"error\":\"injected\"}".to_string()
            };
            let mut resp = (StatusCode::from_u16(status).unwrap(), body).into_response();
            if let Some(ra) = retry_after {
                resp.headers_mut().insert("retry-after", ra.parse().unwrap());
            }
            return resp;
        }
        if s.lose_next_answers > 0 {
            s.lose_next_answers -= 1;
            s.notes.push(Received { body: body.clone(), authorization: None, at: Instant::now() });
            Some(Duration::from_secs(3600))
        } else {
            s.slow_subjects.get(body["subject"].as_str().unwrap_or("")).copied()
        }
    };
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string);
    state.lock().unwrap().notes.push(Received { body: body.clone(), authorization: auth, at: Instant::now() });
    (StatusCode::CREATED, axum::Json(json!({ "note": body }))).into_response()
}

async fn find(State(state): State<Arc<Mutex<FakeState>>>, Query(q): Query<HashMap<String, String>>) -> axum::Json<Value> {
    let id = q.get("external_id").cloned().unwrap_or_default();
    let s = state.lock().unwrap();
    let notes: Vec<Value> = s.notes.iter().filter(|n| n.body["external_id"] == id.as_str()).map(|n| n.body.clone()).collect();
    axum::Json(json!({ "notes": notes }))
}

impl FakeCrm {
    pub async fn start() -> FakeCrm {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let state = Arc::new(Mutex::new(FakeState::default()));
        let app = axum::Router::new().route("/notes", post(create)).route("/notes", get(find)).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        FakeCrm { url, state }
    }

    pub fn notes(&self) -> Vec<Received> {
        self.state.lock().unwrap().notes.clone()
    }

    /// Wait until `pred` holds for the notes, or panic after `timeout`.
    pub async fn wait_for(&self, timeout: Duration, what: &str, pred: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let notes = self.notes();
            if pred(&notes) {
                return notes;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; have {} notes: {:?}", notes.len(), notes.iter().map(|n| &n.body).collect::<Vec<_>>());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Where `cargo xtask plugins` put the built plugins.
pub fn dist_plugin(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let p = root.join("dist/plugins").join(name);
    assert!(p.join("plugin.wasm").exists(), "{} missing: run `cargo xtask plugins` first", p.display());
    p
}

/// A plugin kept as built under `tests/fixtures/` (e.g. `contract-v0.1.0/example`).
pub fn fixture_plugin(path: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("tests/fixtures").join(path);
    assert!(p.join("plugin.wasm").exists(), "{} missing", p.display());
    p
}

pub fn copy_plugin(name: &str, plugins_dir: &Path) -> PathBuf {
    copy_plugin_from(&dist_plugin(name), plugins_dir)
}

/// Copies the plugin folder `src` into `plugins_dir`, under the folder's own name.
pub fn copy_plugin_from(src: &Path, plugins_dir: &Path) -> PathBuf {
    let dest = plugins_dir.join(src.file_name().unwrap());
    std::fs::create_dir_all(&dest).unwrap();
    for f in ["plugin.toml", "plugin.wasm"] {
        std::fs::copy(src.join(f), dest.join(f)).unwrap();
    }
    dest
}

/// The host under test.
pub struct Host {
    pub dir: tempfile::TempDir,
    pub url: String,
    pub child: Option<Child>,
    pub config_path: PathBuf,
    pub port: u16,
    /// The PostgreSQL database of a host started [`Backend::Postgres`]
    /// (dropped after the host is killed).
    pub pg: Option<switchboard::store::postgres::TestDatabase>,
}

/// The store a host keeps its state in: the pipeline suite runs on both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default (`[store] path`).
    Sqlite,
    /// A throwaway database on the local PostgreSQL (`[store] url`).
    Postgres,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Host {
    /// A host with the example plugin pointed at `crm`, plus extra integration TOML.
    pub fn config(crm_url: &str, extra: &str, concurrency: usize) -> String {
        format!(
            r#"
[server]
listen = "127.0.0.1:{{PORT}}"
[store]
path = "switchboard.db"
[plugins]
dir = "plugins"
[limits]
concurrency = {concurrency}
job_timeout_ms = 3000
retry_base_ms = 200
retry_cap_seconds = 2
[network]
allow_private = true
allow_http = true
[reconcile]
enabled = false

[[accounts]]
id = "main"
webhook_token = "{TOKEN}"
api_id = "id"
api_token = "tok"
api_base = "http://127.0.0.1:9"

[[integrations]]
id = "notes"
account = "main"
plugin = "example"
base_url = "{crm_url}"
secrets = {{ api = "{API_SECRET}" }}
{extra}
"#
        )
    }

    pub async fn start(config: &str, plugins: &[&str]) -> Host {
        let dirs: Vec<PathBuf> = plugins.iter().map(|p| dist_plugin(p)).collect();
        Host::start_with(config, &dirs).await
    }

    /// [`Host::start`] on the store `backend`.
    pub async fn start_on(backend: Backend, config: &str, plugins: &[&str]) -> Host {
        let dirs: Vec<PathBuf> = plugins.iter().map(|p| dist_plugin(p)).collect();
        Host::start_with_on(backend, config, &dirs).await
    }

    /// [`Host::start_with`] on the store `backend`.
    pub async fn start_with_on(backend: Backend, config: &str, plugin_folders: &[PathBuf]) -> Host {
        match backend {
            Backend::Sqlite => Host::start_with(config, plugin_folders).await,
            Backend::Postgres => {
                let db = pg_database().await;
                let mut host = Host::start_with(&on_postgres(config, &db.url), plugin_folders).await;
                host.pg = Some(db);
                host
            }
        }
    }

    /// One number from the host's store, whichever it is (`SELECT COUNT(*) FROM jobs`).
    pub async fn count(&self, sql: &str) -> i64 {
        match &self.pg {
            Some(db) => pg_count(&db.url, &format!("SELECT ({sql})::BIGINT")).await,
            None => count(&self.db(), sql),
        }
    }

    /// Waits up to 10 s for `sql` to count `expected`: a note reaches the CRM
    /// before its job's outcome is committed, so "every job done" is awaited,
    /// not read once.
    pub async fn wait_for_count(&self, sql: &str, expected: i64) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let n = self.count(sql).await;
            if n == expected {
                return;
            }
            assert!(Instant::now() < deadline, "{sql}: {n}, not {expected}, after 10 s; log:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A host whose plugin directory holds copies of these plugin folders.
    pub async fn start_with(config: &str, plugin_folders: &[PathBuf]) -> Host {
        let dir = tempfile::tempdir().unwrap();
        let plugins_dir = dir.path().join("plugins");
        std::fs::create_dir_all(&plugins_dir).unwrap();
        for p in plugin_folders {
            copy_plugin_from(p, &plugins_dir);
        }
        let config_path = dir.path().join("switchboard.toml");
        let mut host = Host { dir, url: String::new(), child: None, config_path, port: 0, pg: None };
        // A free port can be taken by another test between our probe and the
        // host's bind: then pick another.
        for _ in 0..5 {
            host.port = free_port();
            host.url = format!("http://127.0.0.1:{}", host.port);
            std::fs::write(&host.config_path, config.replace("{PORT}", &host.port.to_string())).unwrap();
            if host.try_spawn().await {
                return host;
            }
        }
        panic!("host did not start: its port was taken five times; log:\n{}", host.log());
    }

    /// Start the host again on its port.
    pub async fn spawn(&mut self) {
        for _ in 0..20 {
            if self.try_spawn().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("host did not start: port {} stayed taken; log:\n{}", self.port, self.log());
    }

    /// Start the host and wait until it is healthy. False when its port was
    /// taken; any other failure to start panics with the host's log.
    async fn try_spawn(&mut self) -> bool {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.path().join("host.log")).unwrap();
        let log_len_before = log.metadata().map(|m| m.len()).unwrap_or(0) as usize;
        let child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .args(["serve", "--config"])
            .arg(&self.config_path)
            // SWITCHBOARD_TEST_LOG=debug (a tracing filter) to see more of a failing test.
            .env("RUST_LOG", std::env::var("SWITCHBOARD_TEST_LOG").unwrap_or_else(|_| "info,cranelift=warn,wasmtime=warn".into()))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = client.get(format!("{}/healthz", self.url)).send().await
                && r.status().is_success()
            {
                return true;
            }
            let exited = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()).is_some();
            if exited && self.log().get(log_len_before..).unwrap_or_default().contains("Address already in use") {
                self.child = None;
                return false;
            }
            assert!(!exited && Instant::now() < deadline, "host did not start; log:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill(); // SIGKILL
            let _ = c.wait();
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("host.log")).unwrap_or_default()
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("switchboard.db")
    }

    pub async fn post_raw(&self, body: Vec<u8>) -> (u16, Value) {
        let r = reqwest::Client::new()
            .post(format!("{}/webhooks/aircall", self.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, body: &Value) -> (u16, Value) {
        self.post_raw(serde_json::to_vec(body).unwrap()).await
    }

    pub async fn healthz(&self) -> Value {
        reqwest::get(format!("{}/healthz", self.url)).await.unwrap().json().await.unwrap()
    }

    /// Run a `switchboard` subcommand against this host's configuration.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_switchboard")).args(args).arg("--config").arg(&self.config_path).output().unwrap();
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A call webhook.
pub fn call_event(event: &str, call_id: u64, ts: i64) -> Value {
    json!({
        "resource": "call", "event": event, "timestamp": ts, "token": TOKEN,
        "data": {
            "id": call_id, "direction": "inbound", "status": "answered", "raw_digits": "07 62 04 35 75",
            "number": { "id": 777, "name": "Support FR", "digits": "+33 1 23 45 67 89", "country": "FR" }
        }
    })
}

/// A call webhook from the customer `raw_digits`.
pub fn call_event_from(event: &str, call_id: u64, ts: i64, raw_digits: &str) -> Value {
    let mut v = call_event(event, call_id, ts);
    v["data"]["raw_digits"] = json!(raw_digits);
    v
}

/// Count rows in the host's database.
pub fn count(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// A throwaway database on the local PostgreSQL (dropped with the value); the
/// test fails naming the server when it is not reachable.
pub async fn pg_database() -> switchboard::store::postgres::TestDatabase {
    switchboard::store::postgres::TestDatabase::create().await.unwrap_or_else(|e| panic!("{e}"))
}

/// `config` (from [`Host::config`]) with its store moved to PostgreSQL at `url`,
/// as host `host-1` (a restart with the same config resumes its jobs at once).
pub fn on_postgres(config: &str, url: &str) -> String {
    on_postgres_as(config, url, "host-1")
}

/// [`on_postgres`] as the host `host_id`, one of several sharing the database.
pub fn on_postgres_as(config: &str, url: &str, host_id: &str) -> String {
    let sqlite = "[store]\npath = \"switchboard.db\"\n";
    assert!(config.contains(sqlite), "config has no [store] path to replace");
    config.replace(sqlite, &format!("[store]\nurl = \"{url}\"\npool_size = 4\nhost_id = \"{host_id}\"\n"))
}

/// One number from the PostgreSQL database at `url` (e.g. `SELECT COUNT(*) FROM jobs`).
pub async fn pg_count(url: &str, sql: &str) -> i64 {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap_or_else(|e| panic!("connect {url}: {e}"));
    tokio::spawn(conn);
    client.query_one(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
}

/// [`Host::wait_for_count`] on the database at `url`.
pub async fn pg_wait_for_count(url: &str, sql: &str, expected: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n = pg_count(url, sql).await;
        if n == expected {
            return;
        }
        assert!(Instant::now() < deadline, "{sql}: {n}, not {expected}, after 10 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A key file for the host, in its own folder (kept alive by the returned guard).
pub fn key_file() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.keys");
    switchboard::connections::seal::append_key(&path).unwrap();
    (dir, path.display().to_string())
}

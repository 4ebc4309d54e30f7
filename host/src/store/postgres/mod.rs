//! The PostgreSQL store, chosen by `[store] url = "postgres://..."`.
//!
//! Same semantics as [`crate::store::SqliteStore`]: every write goes through one
//! batching writer task (group commit: the writes that queue up while a commit
//! runs share the next transaction), reads use the pool. The schema is migrated
//! at open ([`schema`]), safely when several hosts start at once.
//!
//! TLS is rustls with the system's root certificates. Unless the URL names an
//! `sslmode`, a server that is not on this machine gets `sslmode=require`
//! (certificate verified) and a local one (loopback, `localhost`, a Unix
//! socket) `sslmode=disable`.

mod budget;
mod lease;
mod listen;
mod prune;
pub mod schema;
mod statements;
mod writer;

use super::*;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::config::{Host, SslMode};
use writer::{JOB_COLUMNS, Op, Out, WriteOp, job_from_row};

/// A store error from a PostgreSQL error, saying what was being done.
pub(crate) fn pg_err(doing: &str, e: tokio_postgres::Error) -> StoreError {
    StoreError(format!("{doing}: {}", describe(&e)))
}

/// The useful part of a PostgreSQL error: the server's message (with detail) when
/// there is one, else the client's description with its cause.
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = format!("{} ({})", db.message(), db.code().code());
        if let Some(detail) = db.detail() {
            s.push_str(&format!(": {detail}"));
        }
        return s;
    }
    match std::error::Error::source(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

/// PostgreSQL-backed [`Store`], shareable by several hosts ([`Leases`]).
pub struct PgStore {
    pool: Pool,
    writes: mpsc::UnboundedSender<WriteOp>,
    host_id: String,
    held: lease::Held,
    wake: Arc<tokio::sync::Notify>,
}

/// Where a [`PgStore`] connects and how.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// `postgres://user@host:port/database?...` (libpq URL or key=value form).
    pub url: String,
    /// Connections in the pool (one of them is the writer's while it commits).
    pub pool_size: usize,
    /// How long the writer lingers before each commit to gather more writes.
    pub group_commit_wait: std::time::Duration,
    /// This host's id, written as the owner of the job leases it holds.
    pub host_id: String,
}

fn is_local(host: &Host) -> bool {
    match host {
        #[cfg(unix)]
        Host::Unix(_) => true,
        Host::Tcp(name) => {
            let name = name.trim_start_matches('[').trim_end_matches(']');
            name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
    }
}

/// Parse the URL and apply the TLS default (require for servers not on this machine).
pub fn parse_url(url: &str) -> StoreResult<tokio_postgres::Config> {
    let mut config: tokio_postgres::Config =
        url.parse().map_err(|e| StoreError(format!("store.url: not a PostgreSQL URL: {}", describe(&e))))?;
    if config.get_hosts().is_empty() {
        return Err(StoreError("store.url: names no host".into()));
    }
    if config.get_dbname().is_none() {
        return Err(StoreError("store.url: names no database (postgres://user@host:5432/DATABASE)".into()));
    }
    if !url.contains("sslmode") {
        // Traffic to this machine stays on it: no TLS (a local server's certificate is
        // often a self-signed one for "localhost"). Anywhere else: TLS, verified.
        config.ssl_mode(if config.get_hosts().iter().all(is_local) { SslMode::Disable } else { SslMode::Require });
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(std::time::Duration::from_secs(10));
    }
    if config.get_application_name().is_none() {
        config.application_name("switchboard");
    }
    Ok(config)
}

/// A description of where the URL points, without the password (for logs and `check`).
pub fn redacted(config: &tokio_postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .zip(config.get_ports().iter().chain(std::iter::repeat(&5432)))
        .map(|(h, p)| match h {
            Host::Tcp(name) => format!("{name}:{p}"),
            #[cfg(unix)]
            Host::Unix(path) => format!("{}:{p}", path.display()),
        })
        .collect();
    format!("postgres://{}@{}/{}", config.get_user().unwrap_or("?"), hosts.join(","), config.get_dbname().unwrap_or("?"))
}

/// The TLS connector of every connection: the system's root certificates,
/// read once per process (reading and parsing them takes tens of
/// milliseconds, and every pool, reconnect and migration connection needs them).
fn tls() -> StoreResult<tokio_postgres_rustls::MakeRustlsConnect> {
    static CONFIG: std::sync::OnceLock<Result<rustls::ClientConfig, String>> = std::sync::OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        let mut roots = rustls::RootCertStore::empty();
        let found = rustls_native_certs::load_native_certs();
        for cert in found.certs {
            // A certificate the system store holds but rustls cannot parse is skipped, not fatal.
            let _ = roots.add(cert);
        }
        Ok(rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth())
    });
    match config {
        Ok(config) => Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config.clone())),
        Err(e) => Err(StoreError(e.clone())),
    }
}

/// A pool for `config` (no connection is made yet).
fn pool(config: tokio_postgres::Config, size: usize) -> StoreResult<Pool> {
    let manager = Manager::from_config(config, tls()?, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    Pool::builder(manager)
        .max_size(size.max(2))
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .create_timeout(Some(std::time::Duration::from_secs(10)))
        .wait_timeout(Some(std::time::Duration::from_secs(30)))
        .build()
        .map_err(|e| StoreError(format!("cannot build the connection pool: {e}")))
}

async fn connect_one(config: &tokio_postgres::Config) -> StoreResult<tokio_postgres::Client> {
    let (client, connection) = config
        .connect(tls()?)
        .await
        .map_err(|e| StoreError(format!("cannot connect to PostgreSQL at {}: {}", redacted(config), describe(&e))))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "store: migration connection closed");
        }
    });
    Ok(client)
}

/// What `switchboard migrate` / `check` report about the database.
#[derive(Debug, Clone)]
pub struct DatabaseStatus {
    /// Where (without password).
    pub target: String,
    /// `SELECT version()`.
    pub server_version: String,
    /// The schema version after the call.
    pub schema_version: i32,
    /// Migrations applied by this call.
    pub applied: Vec<i32>,
}

/// Connect, migrate to the newest schema and report.
pub async fn migrate(url: &str) -> StoreResult<DatabaseStatus> {
    let config = parse_url(url)?;
    let mut client = connect_one(&config).await?;
    let applied = schema::migrate(&mut client).await?;
    status_of(&config, &client, applied).await
}

/// Connect and report, changing nothing.
pub async fn status(url: &str) -> StoreResult<DatabaseStatus> {
    let config = parse_url(url)?;
    let client = connect_one(&config).await?;
    status_of(&config, &client, Vec::new()).await
}

async fn status_of(config: &tokio_postgres::Config, client: &tokio_postgres::Client, applied: Vec<i32>) -> StoreResult<DatabaseStatus> {
    let server_version: String = client.query_one("SELECT version()", &[]).await.map_err(|e| pg_err("SELECT version()", e))?.get(0);
    Ok(DatabaseStatus { target: redacted(config), server_version, schema_version: schema::current_version(client).await?, applied })
}

impl PgStore {
    /// Connect, migrate the schema, start the writer.
    pub async fn open(options: &PgOptions) -> StoreResult<PgStore> {
        let config = parse_url(&options.url)?;
        let mut client = connect_one(&config).await?;
        let applied = schema::migrate(&mut client).await?;
        if !applied.is_empty() {
            tracing::info!(target = %redacted(&config), ?applied, "store: database schema migrated");
        }
        drop(client);
        let pool = pool(config.clone(), options.pool_size)?;
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(writer::run(pool.clone(), rx, options.group_commit_wait));
        let wake = Arc::new(tokio::sync::Notify::new());
        listen::spawn(config, wake.clone());
        Ok(PgStore { pool, writes: tx, host_id: options.host_id.clone(), held: lease::Held::default(), wake })
    }

    async fn write(&self, op: Op) -> StoreResult<Out> {
        let (reply, rx) = oneshot::channel();
        self.writes.send(WriteOp { op, reply: Some(reply) }).map_err(|_| StoreError("writer stopped".into()))?;
        rx.await.map_err(|_| StoreError("writer stopped".into()))?
    }

    async fn unit(&self, op: Op) -> StoreResult<()> {
        self.write(op).await.map(|_| ())
    }

    async fn jobs(&self, op: Op) -> StoreResult<Vec<JobRecord>> {
        match self.write(op).await? {
            Out::Jobs(jobs) => Ok(jobs),
            other => Err(StoreError(format!("writer answered {other:?} where jobs were expected"))),
        }
    }

    async fn flag(&self, op: Op) -> StoreResult<Option<bool>> {
        match self.write(op).await? {
            Out::Flag(flag) => Ok(flag),
            other => Err(StoreError(format!("writer answered {other:?} where a verdict was expected"))),
        }
    }

    async fn client(&self) -> StoreResult<deadpool_postgres::Object> {
        self.pool.get().await.map_err(|e| StoreError(format!("no database connection: {e}")))
    }

    async fn query(&self, sql: &str, params: &[&(dyn tokio_postgres::types::ToSql + Sync)]) -> StoreResult<Vec<tokio_postgres::Row>> {
        let client = self.pool.get().await.map_err(|e| StoreError(format!("no database connection: {e}")))?;
        let stmt = client.prepare_cached(sql).await.map_err(|e| pg_err(sql, e))?;
        client.query(&stmt, params).await.map_err(|e| pg_err(sql, e))
    }
}

fn col<'a, T: tokio_postgres::types::FromSql<'a>>(row: &'a tokio_postgres::Row, i: usize, what: &str) -> StoreResult<T> {
    row.try_get(i).map_err(|e| pg_err(what, e))
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[async_trait]
impl Store for PgStore {
    async fn ingest(&self, event: NewEvent, jobs: Vec<NewJob>, window_ms: i64) -> StoreResult<IngestOutcome> {
        let call_key = crate::store::schema::call_key(&event.event_name, &event.body);
        match self.write(Op::Ingest { event, call_key, jobs, window_ms }).await? {
            Out::Ingest(outcome) => Ok(outcome),
            other => Err(StoreError(format!("writer answered {other:?} to an ingest"))),
        }
    }

    async fn logged(&self, pairs: Vec<(String, String)>) -> StoreResult<Vec<bool>> {
        if pairs.is_empty() {
            return Ok(Vec::new());
        }
        let (integrations, occurrences): (Vec<String>, Vec<String>) = pairs.iter().cloned().unzip();
        let rows = self
            .query(
                "SELECT p.i, p.o FROM unnest($1::text[], $2::text[]) AS p(i, o)
                 WHERE EXISTS (SELECT 1 FROM logged l WHERE l.integration = p.i AND l.occurrence = p.o)",
                &[&integrations, &occurrences],
            )
            .await?;
        let mut found = std::collections::HashSet::new();
        for r in &rows {
            found.insert((col::<String>(r, 0, "logged.integration")?, col::<String>(r, 1, "logged.occurrence")?));
        }
        Ok(pairs.into_iter().map(|p| found.contains(&p)).collect())
    }

    async fn job_state(&self, job_id: i64) -> StoreResult<Option<JobState>> {
        let rows = self.query("SELECT state FROM jobs WHERE id = $1", &[&job_id]).await?;
        rows.first().map(|r| JobState::parse(&col::<String>(r, 0, "jobs.state")?)).transpose()
    }

    async fn event(&self, id: i64) -> StoreResult<Option<StoredEvent>> {
        let rows = self.query("SELECT id, account, event_name, body, received_at_ms, origin FROM events WHERE id = $1", &[&id]).await?;
        rows.first()
            .map(|r| {
                Ok(StoredEvent {
                    id: col(r, 0, "events.id")?,
                    account: col(r, 1, "events.account")?,
                    event_name: col(r, 2, "events.event_name")?,
                    body: col(r, 3, "events.body")?,
                    received_at_ms: col(r, 4, "events.received_at_ms")?,
                    origin: Origin::parse(&col::<String>(r, 5, "events.origin")?)?,
                })
            })
            .transpose()
    }

    async fn pending_jobs(&self) -> StoreResult<Vec<JobRecord>> {
        let rows = self.query(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE state = 'queued' ORDER BY id"), &[]).await?;
        rows.iter().map(job_from_row).collect()
    }

    async fn job_done(&self, job_id: i64) -> StoreResult<()> {
        let fence = self.held.fence(job_id);
        let result = self.unit(Op::JobDone { job_id, fence, now_ms: crate::clock::now_ms() }).await;
        self.held.forget(job_id);
        result
    }

    async fn job_retry(&self, job_id: i64, attempts: u32, next_run_at_ms: i64, error: &str) -> StoreResult<()> {
        let fence = self.held.fence(job_id);
        let result = self.unit(Op::JobRetry { job_id, fence, attempts, next_run_at_ms, error: error.to_string() }).await;
        self.held.forget(job_id);
        result
    }

    async fn job_dead(&self, job_id: i64, attempts: u32, reason: &str) -> StoreResult<()> {
        let fence = self.held.fence(job_id);
        let result = self.unit(Op::JobDead { job_id, fence, attempts, reason: reason.to_string(), now_ms: crate::clock::now_ms() }).await;
        self.held.forget(job_id);
        result
    }

    async fn dead_letters(&self, limit: u32) -> StoreResult<Vec<DeadLetter>> {
        let limit = i64::from(limit);
        let rows = self
            .query(
                "SELECT j.id, j.event_id, e.event_name, j.integration, j.attempts, COALESCE(j.last_error, ''), COALESCE(j.finished_at_ms, 0)
                 FROM jobs j JOIN events e ON e.id = j.event_id WHERE j.state = 'dead' ORDER BY j.id DESC LIMIT $1",
                &[&limit],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let attempts: i32 = col(r, 4, "jobs.attempts")?;
                Ok(DeadLetter {
                    job_id: col(r, 0, "jobs.id")?,
                    event_id: col(r, 1, "jobs.event_id")?,
                    event_name: col(r, 2, "events.event_name")?,
                    integration: col(r, 3, "jobs.integration")?,
                    attempts: u32::try_from(attempts).unwrap_or(0),
                    reason: col(r, 5, "jobs.last_error")?,
                    failed_at_ms: col(r, 6, "jobs.finished_at_ms")?,
                })
            })
            .collect()
    }

    async fn replay_dead(&self, job_id: Option<i64>) -> StoreResult<Vec<JobRecord>> {
        self.jobs(Op::ReplayDead { job_id, now_ms: crate::clock::now_ms() }).await
    }

    async fn take_revived(&self) -> StoreResult<Vec<JobRecord>> {
        // Cheap check first: this runs every second.
        let any: bool = col(
            self.query("SELECT EXISTS (SELECT 1 FROM revived)", &[])
                .await?
                .first()
                .ok_or_else(|| StoreError("EXISTS returned no row".into()))?,
            0,
            "revived",
        )?;
        if !any {
            return Ok(Vec::new());
        }
        self.jobs(Op::TakeRevived).await
    }

    async fn journal(&self, job_id: i64) -> StoreResult<Vec<JournalEntry>> {
        let rows = self.query("SELECT seq, fingerprint, done, result FROM journal WHERE job_id = $1 ORDER BY seq", &[&job_id]).await?;
        rows.iter()
            .map(|r| {
                let seq: i32 = col(r, 0, "journal.seq")?;
                Ok(JournalEntry {
                    seq: u32::try_from(seq).map_err(|_| StoreError(format!("journal.seq: negative ({seq})")))?,
                    fingerprint: col(r, 1, "journal.fingerprint")?,
                    done: col(r, 2, "journal.done")?,
                    result: col(r, 3, "journal.result")?,
                })
            })
            .collect()
    }

    async fn journal_write(&self, write: JournalWrite) -> StoreResult<Option<bool>> {
        let fence = self.held.fence(write.job_id);
        self.flag(Op::Journal { write, fence }).await
    }

    fn journal_write_lazy(&self, write: JournalWrite) {
        let fence = self.held.fence(write.job_id);
        if self.writes.send(WriteOp { op: Op::Journal { write, fence }, reply: None }).is_err() {
            tracing::warn!("store: writer stopped; journal entry dropped");
        }
    }

    async fn journal_truncate(&self, job_id: i64, from_seq: u32) -> StoreResult<()> {
        self.unit(Op::JournalTruncate { job_id, fence: self.held.fence(job_id), from_seq }).await
    }

    async fn kv_get(&self, namespace: &str, key: &str, now_ms: i64) -> StoreResult<Option<Vec<u8>>> {
        let rows = self
            .query(
                "SELECT value FROM kv WHERE namespace = $1 AND key = $2 AND (expires_at_ms IS NULL OR expires_at_ms > $3)",
                &[&namespace, &key, &now_ms],
            )
            .await?;
        rows.first().map(|r| col(r, 0, "kv.value")).transpose()
    }

    async fn kv_write(&self, namespace: &str, write: KvWrite) -> StoreResult<Option<bool>> {
        self.flag(Op::Kv { namespace: namespace.to_string(), write }).await
    }

    async fn set_paused(&self, integration: &str, reason: Option<&str>) -> StoreResult<()> {
        self.unit(Op::SetPaused {
            integration: integration.to_string(),
            reason: reason.map(str::to_string),
            now_ms: crate::clock::now_ms(),
        })
        .await
    }

    async fn paused(&self) -> StoreResult<Vec<(String, String)>> {
        let rows = self.query("SELECT integration, paused_reason FROM integration_state WHERE paused_reason IS NOT NULL", &[]).await?;
        rows.iter().map(|r| Ok((col(r, 0, "integration_state.integration")?, col(r, 1, "integration_state.paused_reason")?))).collect()
    }

    async fn prune(&self, cutoffs: PruneCutoffs) -> StoreResult<u64> {
        self.prune_in_batches(cutoffs, crate::clock::now_ms()).await
    }

    async fn counts(&self) -> StoreResult<StoreCounts> {
        let mut counts = StoreCounts::default();
        for r in self.query("SELECT state, COUNT(*) FROM jobs GROUP BY state", &[]).await? {
            let state: String = col(&r, 0, "jobs.state")?;
            let n = count(col(&r, 1, "count")?);
            match state.as_str() {
                "queued" => counts.queued = n,
                "dead" => counts.dead = n,
                "done" => counts.done = n,
                _ => {}
            }
        }
        let rows = self.query("SELECT COUNT(*) FROM events", &[]).await?;
        counts.events = count(col(rows.first().ok_or_else(|| StoreError("COUNT returned no row".into()))?, 0, "count")?);
        Ok(counts)
    }

    async fn find_events(&self, search: EventSearch) -> StoreResult<Vec<StoredEvent>> {
        self.console_find_events(search).await
    }

    async fn jobs_of_events(&self, event_ids: Vec<i64>) -> StoreResult<Vec<JobSummary>> {
        self.console_jobs_of_events(event_ids).await
    }

    async fn integration_counts(&self) -> StoreResult<Vec<IntegrationCounts>> {
        self.console_integration_counts().await
    }

    async fn events_since(&self, since_ms: i64) -> StoreResult<u64> {
        let rows = self.query("SELECT COUNT(*) FROM events WHERE received_at_ms >= $1", &[&since_ms]).await?;
        Ok(count(col(rows.first().ok_or_else(|| StoreError("COUNT returned no row".into()))?, 0, "count")?))
    }

    async fn blocked_lanes(&self, integration: Option<&str>, limit: u32) -> StoreResult<Vec<LaneHead>> {
        self.console_blocked_lanes(integration, limit).await
    }

    async fn skip_lane_head(&self, job_id: i64, reason: &str) -> StoreResult<bool> {
        self.console_skip_lane_head(job_id, reason).await
    }

    fn leases(&self) -> Option<&dyn Leases> {
        Some(self)
    }

    fn shared_budgets(&self) -> Option<Arc<dyn budgets::SharedBudgets>> {
        Some(self.budgets())
    }
}

/// The console's read queries (see [`crate::console`]).
impl PgStore {
    /// The WHERE clause names only the criteria given, each in a form an index
    /// answers (`events_call_key` of migration 9; migration 7's
    /// `jobs_lane_event`; `events_received`), so one cached statement per kind
    /// of search keeps its index plan.
    async fn console_find_events(&self, s: EventSearch) -> StoreResult<Vec<StoredEvent>> {
        let call_key = match s.call_id.map(i64::try_from) {
            Some(Ok(key)) => Some(key),
            // No event's key is that large.
            Some(Err(_)) => return Ok(Vec::new()),
            None => None,
        };
        let limit = i64::from(s.limit);
        // Digits only: nothing LIKE would read as a pattern.
        let suffix: Option<String> = s.party_digits_suffix.as_deref().map(|d| d.chars().filter(char::is_ascii_digit).collect());
        let mut terms: Vec<String> = Vec::new();
        let mut values: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = vec![&limit];
        if let Some(id) = &call_key {
            values.push(id);
            terms.push(format!("e.call_key = ${}::BIGINT", values.len()));
        }
        if let Some(lane) = &s.ordering_key {
            values.push(lane);
            terms.push(format!("e.id IN (SELECT event_id FROM jobs WHERE ordering_key = ${}::TEXT)", values.len()));
        }
        if let Some(from) = &s.from_ms {
            values.push(from);
            terms.push(format!("e.received_at_ms >= ${}::BIGINT", values.len()));
        }
        if let Some(until) = &s.until_ms {
            values.push(until);
            terms.push(format!("e.received_at_ms < ${}::BIGINT", values.len()));
        }
        if let Some(account) = &s.account {
            values.push(account);
            terms.push(format!("e.account = ${}::TEXT", values.len()));
        }
        if let Some(suffix) = &suffix {
            values.push(suffix);
            terms.push(format!("e.id IN (SELECT event_id FROM jobs WHERE ordering_key LIKE 'party:+%' || ${}::TEXT)", values.len()));
        }
        let filter = if terms.is_empty() { String::new() } else { format!("WHERE {}", terms.join(" AND ")) };
        let rows = self
            .query(
                &format!(
                    "SELECT e.id, e.account, e.event_name, e.body, e.received_at_ms, e.origin FROM events e {filter}
                     ORDER BY e.received_at_ms DESC, e.id DESC LIMIT $1"
                ),
                &values,
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredEvent {
                    id: col(r, 0, "events.id")?,
                    account: col(r, 1, "events.account")?,
                    event_name: col(r, 2, "events.event_name")?,
                    body: col(r, 3, "events.body")?,
                    received_at_ms: col(r, 4, "events.received_at_ms")?,
                    origin: Origin::parse(&col::<String>(r, 5, "events.origin")?)?,
                })
            })
            .collect()
    }

    async fn console_jobs_of_events(&self, event_ids: Vec<i64>) -> StoreResult<Vec<JobSummary>> {
        let rows = self
            .query(
                "SELECT id, event_id, integration, ordering_key, state, attempts, next_run_at_ms, last_error, finished_at_ms
                 FROM jobs WHERE event_id = ANY($1) ORDER BY id",
                &[&event_ids],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let attempts: i32 = col(r, 5, "jobs.attempts")?;
                Ok(JobSummary {
                    id: col(r, 0, "jobs.id")?,
                    event_id: col(r, 1, "jobs.event_id")?,
                    integration: col(r, 2, "jobs.integration")?,
                    ordering_key: col(r, 3, "jobs.ordering_key")?,
                    state: JobState::parse(&col::<String>(r, 4, "jobs.state")?)?,
                    attempts: u32::try_from(attempts).unwrap_or(0),
                    next_run_at_ms: col(r, 6, "jobs.next_run_at_ms")?,
                    last_error: col(r, 7, "jobs.last_error")?,
                    finished_at_ms: col(r, 8, "jobs.finished_at_ms")?,
                })
            })
            .collect()
    }

    async fn console_integration_counts(&self) -> StoreResult<Vec<IntegrationCounts>> {
        let rows = self
            .query(
                "SELECT j.integration, COUNT(*) FILTER (WHERE j.state = 'queued'), COUNT(*) FILTER (WHERE j.state = 'dead'),
                        MIN(e.received_at_ms) FILTER (WHERE j.state = 'queued')
                 FROM jobs j JOIN events e ON e.id = j.event_id
                 WHERE j.state IN ('queued', 'dead') GROUP BY j.integration ORDER BY j.integration",
                &[],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(IntegrationCounts {
                    integration: col(r, 0, "jobs.integration")?,
                    queued: count(col(r, 1, "count")?),
                    dead: count(col(r, 2, "count")?),
                    oldest_queued_at_ms: col(r, 3, "events.received_at_ms")?,
                })
            })
            .collect()
    }
}

/// The console's blocked lanes and the skip of a lane's head.
impl PgStore {
    /// Heads of lanes whose head has failed at least once or whose integration
    /// is paused (through `jobs_lane_queue`).
    async fn console_blocked_lanes(&self, integration: Option<&str>, limit: u32) -> StoreResult<Vec<LaneHead>> {
        let limit = i64::from(limit);
        let rows = self
            .query(
                "SELECT h.integration, h.ordering_key, h.id, h.event_id, e.event_name, h.attempts, h.next_run_at_ms, h.last_error,
                        (SELECT COUNT(*) FROM jobs b WHERE b.state = 'queued' AND b.integration = h.integration
                             AND b.ordering_key = h.ordering_key AND b.id > h.id)
                 FROM jobs h JOIN events e ON e.id = h.event_id
                 WHERE h.state = 'queued' AND ($2::TEXT IS NULL OR h.integration = $2)
                   AND (h.attempts > 0 OR h.integration IN (SELECT integration FROM integration_state WHERE paused_reason IS NOT NULL))
                   AND NOT EXISTS (SELECT 1 FROM jobs o WHERE o.state = 'queued' AND o.integration = h.integration
                                       AND o.ordering_key = h.ordering_key AND o.id < h.id)
                 ORDER BY h.id LIMIT $1",
                &[&limit, &integration],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let attempts: i32 = col(r, 5, "jobs.attempts")?;
                Ok(LaneHead {
                    integration: col(r, 0, "jobs.integration")?,
                    ordering_key: col(r, 1, "jobs.ordering_key")?,
                    job_id: col(r, 2, "jobs.id")?,
                    event_id: col(r, 3, "jobs.event_id")?,
                    event_name: col(r, 4, "events.event_name")?,
                    attempts: u32::try_from(attempts).unwrap_or(0),
                    next_run_at_ms: col(r, 6, "jobs.next_run_at_ms")?,
                    last_error: col(r, 7, "jobs.last_error")?,
                    behind: count(col(r, 8, "count")?),
                })
            })
            .collect()
    }

    /// Dead-letters a lane's head unless a host holds its lease (it is running
    /// there); the fence moves on, so a host that still thinks it holds the job
    /// cannot write its outcome over the skip.
    async fn console_skip_lane_head(&self, job_id: i64, reason: &str) -> StoreResult<bool> {
        let now = crate::clock::now_ms();
        let rows = self
            .query(
                "UPDATE jobs j SET state = 'dead', last_error = $2, finished_at_ms = $3, lease_owner = NULL, lease_until_ms = NULL,
                        fence = j.fence + 1
                 WHERE j.id = $1 AND j.state = 'queued' AND (j.lease_until_ms IS NULL OR j.lease_until_ms < $3)
                   AND NOT EXISTS (SELECT 1 FROM jobs o WHERE o.state = 'queued' AND o.integration = j.integration
                                       AND o.ordering_key = j.ordering_key AND o.id < j.id)
                 RETURNING j.id",
                &[&job_id, &reason, &now],
            )
            .await?;
        Ok(!rows.is_empty())
    }
}

/// A throwaway database on a local PostgreSQL, for tests: created with a random
/// name `sb_test_<hex>`, dropped (connections closed by force) when the value is
/// dropped. The server is `SWITCHBOARD_TEST_PG` (a URL to its `postgres`
/// database) or `postgres://postgres@127.0.0.1:5432/postgres`.
pub struct TestDatabase {
    /// URL of the new database.
    pub url: String,
    admin_url: String,
    name: String,
}

impl TestDatabase {
    /// Create the database. Fails naming the server when it cannot be reached.
    pub async fn create() -> StoreResult<TestDatabase> {
        let admin_url = std::env::var("SWITCHBOARD_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
        let config = parse_url(&admin_url)?;
        let client = connect_one(&config).await.map_err(|e| {
            StoreError(format!(
                "{e}\nthe PostgreSQL tests need a server at {} (trust auth); start it with \
                 `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` or set SWITCHBOARD_TEST_PG",
                redacted(&config)
            ))
        })?;
        let name = format!("sb_test_{:016x}", rand::random::<u64>());
        client.batch_execute(&format!("CREATE DATABASE {name}")).await.map_err(|e| pg_err(&format!("CREATE DATABASE {name}"), e))?;
        let host = match config.get_hosts().first() {
            Some(Host::Tcp(h)) => h.clone(),
            _ => "127.0.0.1".to_string(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let url = format!("postgres://{}@{host}:{port}/{name}", config.get_user().unwrap_or("postgres"));
        Ok(TestDatabase { url, admin_url, name })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop may run inside a runtime: do the work on a thread of its own.
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            rt.block_on(async {
                let client = connect_one(&parse_url(&admin_url).ok()?).await.ok()?;
                client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.ok()
            })
        })
        .join();
        if !matches!(done, Ok(Some(()))) {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

//! The SQLite schema and connection settings.

use rusqlite::Connection;

/// Settings every connection gets. WAL with `synchronous=FULL`: a commit is on
/// disk when it returns (the WAL is fsynced on every commit). `fsync = false`
/// (benchmarks only) turns the sync off.
pub fn configure(conn: &Connection, fsync: bool) -> rusqlite::Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", if fsync { "FULL" } else { "OFF" })?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(())
}

/// Create the tables if they do not exist.
pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        r#"
        CREATE TABLE IF NOT EXISTS events (
            id              INTEGER PRIMARY KEY,
            account         TEXT NOT NULL,
            event_name      TEXT NOT NULL,
            body            TEXT NOT NULL,
            received_at_ms  INTEGER NOT NULL,
            not_dispatched  TEXT
        );
        CREATE TABLE IF NOT EXISTS dedupe (
            body_hash   BLOB PRIMARY KEY,
            event_id    INTEGER NOT NULL,
            seen_at_ms  INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS jobs (
            id              INTEGER PRIMARY KEY,
            event_id        INTEGER NOT NULL REFERENCES events(id),
            integration     TEXT NOT NULL,
            ordering_key    TEXT NOT NULL,
            state           TEXT NOT NULL DEFAULT 'queued',
            attempts        INTEGER NOT NULL DEFAULT 0,
            next_run_at_ms  INTEGER NOT NULL DEFAULT 0,
            last_error      TEXT,
            finished_at_ms  INTEGER
        );
        CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, id);
        CREATE TABLE IF NOT EXISTS journal (
            job_id      INTEGER NOT NULL,
            seq         INTEGER NOT NULL,
            fingerprint BLOB NOT NULL,
            done        INTEGER NOT NULL,
            result      BLOB NOT NULL,
            PRIMARY KEY (job_id, seq)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS kv (
            namespace       TEXT NOT NULL,
            key             TEXT NOT NULL,
            value           BLOB NOT NULL,
            expires_at_ms   INTEGER,
            PRIMARY KEY (namespace, key)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS revived (
            job_id  INTEGER PRIMARY KEY
        );
        CREATE TABLE IF NOT EXISTS integration_state (
            integration     TEXT PRIMARY KEY,
            paused_reason   TEXT,
            updated_at_ms   INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS logged (
            integration TEXT NOT NULL,
            occurrence  TEXT NOT NULL,
            event_id    INTEGER NOT NULL,
            logged_at_ms INTEGER NOT NULL,
            PRIMARY KEY (integration, occurrence)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS logged_at ON logged(logged_at_ms);
        "#,
    )?;
    // The console's searches (and pruning's look-up of an event's jobs): a
    // job's event, a lane's events, events by time, events by call id. The
    // call id indexes read the body only when it is JSON (bodies of unknown
    // events may not be).
    conn.execute_batch(
        r#"
        CREATE INDEX IF NOT EXISTS jobs_event ON jobs(event_id);
        CREATE INDEX IF NOT EXISTS jobs_lane_event ON jobs(ordering_key, event_id);
        CREATE INDEX IF NOT EXISTS events_received ON events(received_at_ms);
        CREATE INDEX IF NOT EXISTS events_data_id ON events(CASE WHEN json_valid(body) THEN json_extract(body, '$.data.id') END);
        CREATE INDEX IF NOT EXISTS events_data_call_id ON events(CASE WHEN json_valid(body) THEN json_extract(body, '$.data.call_id') END);
        "#,
    )?;
    // Stores made before events had an origin (every event was a webhook).
    let has_origin = conn.prepare("SELECT 1 FROM pragma_table_info('events') WHERE name = 'origin'")?.exists([])?;
    if !has_origin {
        conn.execute_batch("ALTER TABLE events ADD COLUMN origin TEXT NOT NULL DEFAULT 'webhook'")?;
    }
    Ok(())
}

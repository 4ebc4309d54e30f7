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
    // The call an event is about (`events.call_key`, see `call_key`), written
    // with each event; stores made before it get it from their bodies once.
    let has_call_key = conn.prepare("SELECT 1 FROM pragma_table_info('events') WHERE name = 'call_key'")?.exists([])?;
    if !has_call_key {
        conn.execute_batch(
            "ALTER TABLE events ADD COLUMN call_key INTEGER;
             UPDATE events SET call_key = CASE WHEN json_valid(body) THEN coalesce(json_extract(body, '$.data.call_id'),
                 CASE WHEN substr(event_name, 1, 5) = 'call.' THEN json_extract(body, '$.data.id') END) END;",
        )?;
    }
    // The console's searches (and pruning's look-up of an event's jobs): a
    // job's event, a lane's events, events by time, events by call. (Two
    // expression indexes on the body stood for `call_key` for an hour: they
    // parsed every body at ingest.)
    conn.execute_batch(
        r#"
        DROP INDEX IF EXISTS events_data_id;
        DROP INDEX IF EXISTS events_data_call_id;
        CREATE INDEX IF NOT EXISTS jobs_event ON jobs(event_id);
        CREATE INDEX IF NOT EXISTS jobs_lane_event ON jobs(ordering_key, event_id);
        CREATE INDEX IF NOT EXISTS events_received ON events(received_at_ms);
        CREATE INDEX IF NOT EXISTS events_call_key ON events(call_key);
        "#,
    )?;
    // Stores made before events had an origin (every event was a webhook).
    let has_origin = conn.prepare("SELECT 1 FROM pragma_table_info('events') WHERE name = 'origin'")?.exists([])?;
    if !has_origin {
        conn.execute_batch("ALTER TABLE events ADD COLUMN origin TEXT NOT NULL DEFAULT 'webhook'")?;
    }
    Ok(())
}

/// The call an event is about: its `data.call_id` (transcriptions, voice-agent
/// events…), else the `data.id` of a `call.*` event; a number or a string of
/// digits. `None` for anything else, bodies that are not JSON included. Read
/// with a typed parse that skips the rest of the body.
pub fn call_key(event_name: &str, body: &str) -> Option<i64> {
    #[derive(serde::Deserialize)]
    struct Body {
        data: Option<Data>,
    }
    #[derive(serde::Deserialize)]
    struct Data {
        id: Option<serde_json::Value>,
        call_id: Option<serde_json::Value>,
    }
    fn int(v: &serde_json::Value) -> Option<i64> {
        v.as_i64().or_else(|| v.as_str().filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).and_then(|s| s.parse().ok()))
    }
    let data = serde_json::from_str::<Body>(body).ok()?.data?;
    match &data.call_id {
        Some(v) if !v.is_null() => int(v),
        _ if event_name.starts_with("call.") => data.id.as_ref().and_then(int),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_call_key_is_the_call_id_or_the_id_of_a_call_event() {
        use super::call_key;
        assert_eq!(call_key("call.created", r#"{"data":{"id":42,"number":{"id":7}}}"#), Some(42));
        assert_eq!(call_key("call.created", r#"{"data":{"id":"42"}}"#), Some(42), "ids may come as strings");
        assert_eq!(call_key("transcription.created", r#"{"data":{"call_id":42,"id":9}}"#), Some(42));
        assert_eq!(call_key("message.sent", r#"{"data":{"id":42}}"#), None, "a message's id is not a call");
        assert_eq!(call_key("call.created", "old"), None, "not JSON");
        assert_eq!(call_key("call.created", r#"{"data":"x"}"#), None);
        assert_eq!(call_key("call.created", r#"{"data":{"id":"abc"}}"#), None);
    }
}

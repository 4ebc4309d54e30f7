//! The PostgreSQL schema: numbered migrations recorded in `schema_version`,
//! applied at start under a transaction-scoped advisory lock so that hosts
//! starting at the same moment migrate one after the other (the second finds
//! the work done).
//!
//! Times are milliseconds since the epoch in `BIGINT`, as in the SQLite store,
//! so both backends compare the same numbers. `jobs` already carries the
//! columns several hosts will need (`lease_owner`, `lease_until_ms`, `fence`):
//! one host leaves them at their defaults.

use super::pg_err;
use crate::store::{StoreError, StoreResult};
use tokio_postgres::Client;

/// Advisory-lock key taken around migrating ("switchboard" in ASCII, folded to 63 bits).
const MIGRATION_LOCK: i64 = 0x5377_6974_6368_626f;

/// One schema step. Versions are consecutive from 1 and never edited once released.
pub struct Migration {
    /// The version the database has once this step ran.
    pub version: i32,
    /// What it does (kept in `schema_version`).
    pub description: &'static str,
    /// The SQL, run in the migrating transaction.
    pub sql: &'static str,
}

/// Every migration, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "events, dedupe, jobs (with lease and fence columns), journal, kv, revived, integration_state",
        sql: r#"
        CREATE TABLE events (
            id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            account         TEXT NOT NULL,
            event_name      TEXT NOT NULL,
            body            TEXT NOT NULL,
            received_at_ms  BIGINT NOT NULL,
            not_dispatched  TEXT
        );
        CREATE INDEX events_received ON events (received_at_ms);
        CREATE TABLE dedupe (
            body_hash   BYTEA PRIMARY KEY,
            event_id    BIGINT NOT NULL,
            seen_at_ms  BIGINT NOT NULL
        );
        CREATE INDEX dedupe_seen ON dedupe (seen_at_ms);
        CREATE INDEX dedupe_event ON dedupe (event_id);
        CREATE TABLE jobs (
            id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            event_id        BIGINT NOT NULL REFERENCES events (id),
            integration     TEXT NOT NULL,
            ordering_key    TEXT NOT NULL,
            state           TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'done', 'dead')),
            attempts        INTEGER NOT NULL DEFAULT 0,
            next_run_at_ms  BIGINT NOT NULL DEFAULT 0,
            last_error      TEXT,
            finished_at_ms  BIGINT,
            lease_owner     TEXT,
            lease_until_ms  BIGINT,
            fence           BIGINT NOT NULL DEFAULT 0
        );
        CREATE INDEX jobs_state ON jobs (state, id);
        CREATE INDEX jobs_event ON jobs (event_id);
        CREATE TABLE journal (
            job_id      BIGINT NOT NULL,
            seq         INTEGER NOT NULL,
            fingerprint BYTEA NOT NULL,
            done        BOOLEAN NOT NULL,
            result      BYTEA NOT NULL,
            PRIMARY KEY (job_id, seq)
        );
        CREATE TABLE kv (
            namespace       TEXT NOT NULL,
            key             TEXT NOT NULL,
            value           BYTEA NOT NULL,
            expires_at_ms   BIGINT,
            PRIMARY KEY (namespace, key)
        );
        CREATE INDEX kv_expires ON kv (expires_at_ms) WHERE expires_at_ms IS NOT NULL;
        CREATE TABLE revived (
            job_id  BIGINT PRIMARY KEY
        );
        CREATE TABLE integration_state (
            integration     TEXT PRIMARY KEY,
            paused_reason   TEXT,
            updated_at_ms   BIGINT NOT NULL
        );
    "#,
    },
    Migration {
        version: 2,
        description: "events.origin (webhook, reconciled, backfill); logged occurrences per integration",
        sql: r#"
        ALTER TABLE events ADD COLUMN origin TEXT NOT NULL DEFAULT 'webhook'
            CHECK (origin IN ('webhook', 'reconciled', 'backfill'));
        CREATE TABLE logged (
            integration  TEXT NOT NULL,
            occurrence   TEXT NOT NULL,
            event_id     BIGINT NOT NULL,
            logged_at_ms BIGINT NOT NULL,
            PRIMARY KEY (integration, occurrence)
        );
        CREATE INDEX logged_at ON logged (logged_at_ms);
    "#,
    },
    Migration {
        version: 3,
        description: "queued jobs by lane, for claiming lane heads across hosts",
        sql: r#"
        CREATE INDEX jobs_lane_queue ON jobs (integration, ordering_key, id) WHERE state = 'queued';
    "#,
    },
    Migration {
        version: 4,
        description: "outbound rate budgets shared by the hosts (token buckets per scope and host)",
        sql: r#"
        CREATE TABLE budgets (
            scope            TEXT NOT NULL,
            host             TEXT NOT NULL,
            requests         INTEGER,
            per_ms           BIGINT,
            tokens           DOUBLE PRECISION NOT NULL,
            updated_ms       BIGINT NOT NULL,
            blocked_until_ms BIGINT NOT NULL DEFAULT 0,
            granted          BOOLEAN NOT NULL DEFAULT FALSE,
            PRIMARY KEY (scope, host)
        );
    "#,
    },
    Migration {
        version: 5,
        description: "sb_ingest: an event, its redelivery hash, its logged occurrence and its jobs in one round trip",
        sql: r#"
        -- One row per job made (out_job set), per integration that already had the
        -- occurrence (out_job NULL), or one row for an event without jobs; a
        -- redelivery within the window answers one row with out_duplicate.
        CREATE FUNCTION sb_ingest(
            p_account TEXT, p_event_name TEXT, p_body TEXT, p_hash BYTEA, p_received BIGINT,
            p_not_dispatched TEXT, p_origin TEXT, p_occurrence TEXT, p_window BIGINT,
            p_integrations TEXT[], p_keys TEXT[])
        RETURNS TABLE (out_event BIGINT, out_duplicate BOOLEAN, out_integration TEXT, out_job BIGINT)
        LANGUAGE plpgsql AS $fn$
        DECLARE
            v_seen_event BIGINT;
            v_seen_at BIGINT;
            v_event BIGINT;
            v_job BIGINT;
            v_fresh INTEGER;
            v_n INTEGER := coalesce(array_length(p_integrations, 1), 0);
        BEGIN
            SELECT d.event_id, d.seen_at_ms INTO v_seen_event, v_seen_at FROM dedupe d WHERE d.body_hash = p_hash;
            IF FOUND AND p_received - v_seen_at < p_window THEN
                RETURN QUERY SELECT v_seen_event, TRUE, NULL::TEXT, NULL::BIGINT;
                RETURN;
            END IF;
            INSERT INTO events (account, event_name, body, received_at_ms, not_dispatched, origin)
                VALUES (p_account, p_event_name, p_body, p_received, p_not_dispatched, p_origin)
                RETURNING id INTO v_event;
            INSERT INTO dedupe AS d (body_hash, event_id, seen_at_ms) VALUES (p_hash, v_event, p_received)
                ON CONFLICT (body_hash) DO UPDATE SET event_id = excluded.event_id, seen_at_ms = excluded.seen_at_ms;
            FOR i IN 1 .. v_n LOOP
                IF p_occurrence IS NOT NULL THEN
                    -- First come, first served: the pair is inserted or the job is not made.
                    INSERT INTO logged AS l (integration, occurrence, event_id, logged_at_ms)
                        VALUES (p_integrations[i], p_occurrence, v_event, p_received)
                        ON CONFLICT (integration, occurrence) DO NOTHING;
                    GET DIAGNOSTICS v_fresh = ROW_COUNT;
                    IF v_fresh = 0 THEN
                        RETURN QUERY SELECT v_event, FALSE, p_integrations[i], NULL::BIGINT;
                        CONTINUE;
                    END IF;
                END IF;
                INSERT INTO jobs (event_id, integration, ordering_key, next_run_at_ms)
                    VALUES (v_event, p_integrations[i], p_keys[i], p_received)
                    RETURNING id INTO v_job;
                RETURN QUERY SELECT v_event, FALSE, p_integrations[i], v_job;
            END LOOP;
            IF v_n = 0 THEN
                RETURN QUERY SELECT v_event, FALSE, NULL::TEXT, NULL::BIGINT;
            END IF;
        END
        $fn$;
    "#,
    },
    Migration {
        version: 6,
        description: "sb_claim: lease the oldest lane heads that may run, walking queued jobs in id order",
        sql: r#"
        -- Walks queued jobs oldest first (a cursor: the index on (state, id), a
        -- fast-start plan whatever the statistics say), keeps the heads of their
        -- lane that may run now and that no live lease holds, and leases each
        -- with the next fence, skipping a row another host has locked. Stops
        -- after p_limit claims or p_scan rows looked at.
        CREATE FUNCTION sb_claim(p_now BIGINT, p_limit INTEGER, p_owner TEXT, p_mine BIGINT[], p_lease BIGINT, p_scan INTEGER)
        RETURNS TABLE (out_id BIGINT, out_event BIGINT, out_integration TEXT, out_key TEXT,
                       out_attempts INTEGER, out_next BIGINT, out_fence BIGINT)
        LANGUAGE plpgsql AS $fn$
        DECLARE
            r RECORD;
            v_taken INTEGER := 0;
            v_paused TEXT[];
        BEGIN
            SELECT coalesce(array_agg(s.integration), '{}') INTO v_paused FROM integration_state s WHERE s.paused_reason IS NOT NULL;
            FOR r IN SELECT j.id, j.integration, j.ordering_key, j.next_run_at_ms, j.lease_until_ms
                     FROM jobs j WHERE j.state = 'queued' AND j.integration <> ALL(v_paused) ORDER BY j.id LIMIT p_scan LOOP
                CONTINUE WHEN r.next_run_at_ms > p_now
                    OR (r.lease_until_ms IS NOT NULL AND r.lease_until_ms >= p_now)
                    OR r.id = ANY(p_mine);
                CONTINUE WHEN EXISTS (SELECT 1 FROM jobs p WHERE p.state = 'queued' AND p.integration = r.integration
                                                       AND p.ordering_key = r.ordering_key AND p.id < r.id);
                UPDATE jobs u SET lease_owner = p_owner, lease_until_ms = p_now + p_lease, fence = u.fence + 1
                 WHERE u.id = (SELECT c.id FROM jobs c WHERE c.id = r.id AND c.state = 'queued'
                                 AND (c.lease_until_ms IS NULL OR c.lease_until_ms < p_now) FOR UPDATE SKIP LOCKED)
                 RETURNING u.id, u.event_id, u.integration, u.ordering_key, u.attempts, u.next_run_at_ms, u.fence
                 INTO out_id, out_event, out_integration, out_key, out_attempts, out_next, out_fence;
                IF FOUND THEN
                    RETURN NEXT;
                    v_taken := v_taken + 1;
                    EXIT WHEN v_taken >= p_limit;
                END IF;
            END LOOP;
        END
        $fn$;
    "#,
    },
    Migration {
        version: 7,
        description: "the console's searches: events by call id, a lane's events",
        sql: r#"
        -- A JSON value of a body as text, NULL when the body is not JSON (bodies
        -- of unknown events need not be): an index expression must not fail.
        CREATE FUNCTION sb_json_text(p_body TEXT, p_path TEXT[]) RETURNS TEXT
        LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
        BEGIN
            RETURN p_body::jsonb #>> p_path;
        EXCEPTION WHEN others THEN
            RETURN NULL;
        END
        $fn$;
        CREATE INDEX events_data_id ON events (sb_json_text(body, '{data,id}'));
        CREATE INDEX events_data_call_id ON events (sb_json_text(body, '{data,call_id}'));
        CREATE INDEX jobs_lane_event ON jobs (ordering_key, event_id);
    "#,
    },
    Migration {
        version: 8,
        description: "budgets unlogged: a token taken is not worth a WAL flush",
        sql: r#"
        -- Rate buckets are pacing state, not data: without WAL a take commits
        -- without waiting for the disk. After a database crash the table is
        -- empty and every bucket starts full again.
        ALTER TABLE budgets SET UNLOGGED;
    "#,
    },
    Migration {
        version: 9,
        description: "events.call_key: the call an event is about in a column, written by sb_ingest; replaces migration 7's expression indexes",
        sql: r#"
        -- The call an event is about: data.call_id, else the data.id of a call.*
        -- event; a number or a string of digits (the host's `call_key`).
        CREATE FUNCTION sb_call_key(p_event_name TEXT, p_body TEXT) RETURNS BIGINT
        LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
        DECLARE
            v TEXT := sb_json_text(p_body, '{data,call_id}');
        BEGIN
            IF v IS NULL AND p_event_name LIKE 'call.%' THEN
                v := sb_json_text(p_body, '{data,id}');
            END IF;
            IF v ~ '^-?[0-9]{1,18}$' THEN
                RETURN v::BIGINT;
            END IF;
            RETURN NULL;
        END
        $fn$;
        ALTER TABLE events ADD COLUMN call_key BIGINT;
        UPDATE events SET call_key = sb_call_key(event_name, body);
        CREATE INDEX events_call_key ON events (call_key);
        -- Two expression indexes parsed every body at insert (about 25 µs each).
        DROP INDEX events_data_id;
        DROP INDEX events_data_call_id;

        -- sb_ingest with the call's key, read by the host from the body before
        -- the event reaches the writer.
        CREATE FUNCTION sb_ingest(
            p_account TEXT, p_event_name TEXT, p_body TEXT, p_hash BYTEA, p_received BIGINT,
            p_not_dispatched TEXT, p_origin TEXT, p_occurrence TEXT, p_window BIGINT,
            p_integrations TEXT[], p_keys TEXT[], p_call_key BIGINT)
        RETURNS TABLE (out_event BIGINT, out_duplicate BOOLEAN, out_integration TEXT, out_job BIGINT)
        LANGUAGE plpgsql AS $fn$
        DECLARE
            v_seen_event BIGINT;
            v_seen_at BIGINT;
            v_event BIGINT;
            v_job BIGINT;
            v_fresh INTEGER;
            v_n INTEGER := coalesce(array_length(p_integrations, 1), 0);
        BEGIN
            SELECT d.event_id, d.seen_at_ms INTO v_seen_event, v_seen_at FROM dedupe d WHERE d.body_hash = p_hash;
            IF FOUND AND p_received - v_seen_at < p_window THEN
                RETURN QUERY SELECT v_seen_event, TRUE, NULL::TEXT, NULL::BIGINT;
                RETURN;
            END IF;
            INSERT INTO events (account, event_name, body, received_at_ms, not_dispatched, origin, call_key)
                VALUES (p_account, p_event_name, p_body, p_received, p_not_dispatched, p_origin, p_call_key)
                RETURNING id INTO v_event;
            INSERT INTO dedupe AS d (body_hash, event_id, seen_at_ms) VALUES (p_hash, v_event, p_received)
                ON CONFLICT (body_hash) DO UPDATE SET event_id = excluded.event_id, seen_at_ms = excluded.seen_at_ms;
            FOR i IN 1 .. v_n LOOP
                IF p_occurrence IS NOT NULL THEN
                    -- First come, first served: the pair is inserted or the job is not made.
                    INSERT INTO logged AS l (integration, occurrence, event_id, logged_at_ms)
                        VALUES (p_integrations[i], p_occurrence, v_event, p_received)
                        ON CONFLICT (integration, occurrence) DO NOTHING;
                    GET DIAGNOSTICS v_fresh = ROW_COUNT;
                    IF v_fresh = 0 THEN
                        RETURN QUERY SELECT v_event, FALSE, p_integrations[i], NULL::BIGINT;
                        CONTINUE;
                    END IF;
                END IF;
                INSERT INTO jobs (event_id, integration, ordering_key, next_run_at_ms)
                    VALUES (v_event, p_integrations[i], p_keys[i], p_received)
                    RETURNING id INTO v_job;
                RETURN QUERY SELECT v_event, FALSE, p_integrations[i], v_job;
            END LOOP;
            IF v_n = 0 THEN
                RETURN QUERY SELECT v_event, FALSE, NULL::TEXT, NULL::BIGINT;
            END IF;
        END
        $fn$;
        -- Hosts of the previous version, during a rolling upgrade, still call the
        -- eleven-argument form: it reads the key from the body on the server.
        CREATE OR REPLACE FUNCTION sb_ingest(
            p_account TEXT, p_event_name TEXT, p_body TEXT, p_hash BYTEA, p_received BIGINT,
            p_not_dispatched TEXT, p_origin TEXT, p_occurrence TEXT, p_window BIGINT,
            p_integrations TEXT[], p_keys TEXT[])
        RETURNS TABLE (out_event BIGINT, out_duplicate BOOLEAN, out_integration TEXT, out_job BIGINT)
        LANGUAGE sql AS $fn$
            SELECT * FROM sb_ingest(p_account, p_event_name, p_body, p_hash, p_received, p_not_dispatched, p_origin,
                                    p_occurrence, p_window, p_integrations, p_keys, sb_call_key(p_event_name, p_body));
        $fn$;
    "#,
    },
];

/// The newest schema version this build knows.
pub fn latest_version() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Bring the database to [`latest_version`]; returns the versions applied now
/// (empty when it was already current). Refuses a database migrated by a newer
/// switchboard.
pub async fn migrate(client: &mut Client) -> StoreResult<Vec<i32>> {
    migrate_to(client, latest_version()).await
}

/// Bring the database to `target` (a database of an older release, in tests).
async fn migrate_to(client: &mut Client, target: i32) -> StoreResult<Vec<i32>> {
    let tx = client.transaction().await.map_err(|e| pg_err("cannot begin the migration", e))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await.map_err(|e| pg_err("cannot take the migration lock", e))?;
    // Checked first (under the lock) so a current database logs no "already exists" notice.
    let exists: bool = tx
        .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])
        .await
        .map_err(|e| pg_err("cannot read the schema version", e))?
        .get(0);
    if !exists {
        tx.batch_execute(
            "CREATE TABLE schema_version (
            version     INTEGER PRIMARY KEY,
            description TEXT NOT NULL,
            applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
        )
        .await
        .map_err(|e| pg_err("cannot create schema_version", e))?;
    }
    let current = current_version_in(&tx).await?;
    if current > latest_version() {
        return Err(StoreError(format!(
            "database schema version {current} is newer than this switchboard knows ({}); upgrade switchboard",
            latest_version()
        )));
    }
    let mut applied = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| m.version > current && m.version <= target) {
        tx.batch_execute(m.sql).await.map_err(|e| pg_err(&format!("migration {} ({}) failed", m.version, m.description), e))?;
        tx.execute("INSERT INTO schema_version (version, description) VALUES ($1, $2)", &[&m.version, &m.description])
            .await
            .map_err(|e| pg_err("cannot record the schema version", e))?;
        applied.push(m.version);
    }
    tx.commit().await.map_err(|e| pg_err("cannot commit the migration", e))?;
    Ok(applied)
}

/// The schema version of the database (0: never migrated).
pub async fn current_version(client: &Client) -> StoreResult<i32> {
    let exists: bool = client
        .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])
        .await
        .map_err(|e| pg_err("cannot read the schema version", e))?
        .get(0);
    if !exists {
        return Ok(0);
    }
    current_version_in(client).await
}

async fn current_version_in(client: &impl tokio_postgres::GenericClient) -> StoreResult<i32> {
    let row = client
        .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
        .await
        .map_err(|e| pg_err("cannot read the schema version", e))?;
    Ok(row.get(0))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::store::postgres::{TestDatabase, connect_one, parse_url};

    /// A database of the release before migration 9 (its events found by the
    /// body's call id through expression indexes) keeps answering: migration 9
    /// reads the key of the events it has, and a host of that release, still
    /// calling the eleven-argument `sb_ingest` during a rolling upgrade, stores
    /// events with their key too.
    #[tokio::test]
    async fn migration_9_keys_older_events_and_the_older_ingest_call() {
        let db = TestDatabase::create().await.unwrap();
        let mut client = connect_one(&parse_url(&db.url).unwrap()).await.unwrap();
        assert_eq!(migrate_to(&mut client, 8).await.unwrap(), (1..=8).collect::<Vec<_>>());
        let old_ingest = "SELECT out_event FROM sb_ingest($1, $2, $3, $4, 1, NULL, 'webhook', NULL, 1000, '{}', '{}')";
        let bodies = [
            ("call.created", r#"{"data":{"id":42}}"#, "a"),
            ("transcription.created", r#"{"data":{"id":9,"call_id":"43"}}"#, "b"),
            ("message.sent", r#"{"data":{"id":44}}"#, "c"),
            ("call.ended", "not json", "d"),
        ];
        for (name, body, hash) in &bodies[..2] {
            client.query(old_ingest, &[&"main", name, body, &hash.as_bytes()]).await.unwrap();
        }
        assert_eq!(migrate(&mut client).await.unwrap(), vec![9]);
        for (name, body, hash) in &bodies[2..] {
            client.query(old_ingest, &[&"main", name, body, &hash.as_bytes()]).await.unwrap();
        }
        let keys: Vec<(String, Option<i64>)> = client
            .query("SELECT event_name, call_key FROM events ORDER BY id", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let expected: Vec<(String, Option<i64>)> = vec![
            ("call.created".into(), Some(42)),
            ("transcription.created".into(), Some(43)),
            ("message.sent".into(), None),
            ("call.ended".into(), None),
        ];
        assert_eq!(keys, expected);
        for (name, body, _) in bodies {
            assert_eq!(
                client.query_one("SELECT sb_call_key($1, $2)", &[&name, &body]).await.unwrap().get::<_, Option<i64>>(0),
                crate::store::schema::call_key(name, body),
                "the server's rule is the host's for {name} {body}"
            );
        }
    }
}

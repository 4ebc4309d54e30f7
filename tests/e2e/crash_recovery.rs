//! SIGKILL in the middle of a stream of acknowledged webhooks: after a restart,
//! every acknowledged event is processed, none twice at the CRM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::*;
use std::collections::HashMap;
use std::time::Duration;

#[tokio::test]
async fn every_acknowledged_event_is_processed_once_across_a_sigkill() {
    let crm = FakeCrm::start().await;
    // Slow the CRM a little so jobs are in flight when the host dies.
    for call in 0..200u64 {
        crm.state.lock().unwrap().slow_subjects.insert(format!("call:{call}"), Duration::from_millis(15));
    }
    let mut host = Host::start(&Host::config(&crm.url, "", 16), &["example"]).await;
    let mut acked = Vec::new();
    for i in 0..200u64 {
        let (status, body) = host.post(&call_event("call.ended", i, 1_700_000_000 + i as i64)).await;
        if status == 200 {
            acked.push(body["event_id"].as_i64().unwrap());
        }
        if i == 120 {
            host.kill();
            break;
        }
    }
    assert!(acked.len() >= 100, "only {} acknowledged", acked.len());
    host.spawn().await;
    let wanted = acked.len();
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let notes = loop {
        let notes = crm.notes();
        let mut ids: Vec<&str> = notes.iter().filter_map(|x| x.body["external_id"].as_str()).collect();
        ids.sort();
        ids.dedup();
        if ids.len() >= wanted {
            break notes;
        }
        let dead = host.count("SELECT COUNT(*) FROM jobs WHERE state = 'dead'").await;
        if dead > 0 || std::time::Instant::now() > deadline {
            let missing: Vec<&i64> = acked.iter().filter(|id| !ids.contains(&id.to_string().as_str())).collect();
            let jobs = unfinished_jobs(&host.db());
            panic!(
                "acknowledged events {missing:?} have no note ({dead} dead-lettered); jobs not done: {jobs:#?}\nhost log:\n{}",
                host.log()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let notes = crm.notes().len().max(notes.len());
    let mut per_event: HashMap<String, usize> = HashMap::new();
    for n in crm.notes() {
        *per_event.entry(n.body["external_id"].as_str().unwrap().to_string()).or_default() += 1;
    }
    for id in &acked {
        assert_eq!(per_event.get(&id.to_string()).copied(), Some(1), "event {id} processed {:?} times", per_event.get(&id.to_string()));
    }
    assert_eq!(notes, acked.len(), "duplicates at the CRM");
}

/// The jobs not done, one line each (id, event, state, attempts, last error).
fn unfinished_jobs(db: &std::path::Path) -> Vec<String> {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut q = conn
        .prepare("SELECT id || ' event ' || event_id || ' ' || state || ' after ' || attempts || ': ' || COALESCE(last_error, '') FROM jobs WHERE state <> 'done'")
        .unwrap();
    q.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

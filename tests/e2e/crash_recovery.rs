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
    let notes = crm
        .wait_for(Duration::from_secs(90), "every acknowledged event", |n| {
            let mut ids: Vec<&str> = n.iter().filter_map(|x| x.body["external_id"].as_str()).collect();
            ids.sort();
            ids.dedup();
            ids.len() >= wanted
        })
        .await;
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

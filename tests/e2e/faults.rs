//! Faults at every step, for every connector that logs calls (issue 16): the
//! CRM stores a write and its answer is lost, answers 500, or answers 429 —
//! at each position of the connector's requests in turn. Whatever happens,
//! the CRM must end up exactly as after a clean run (the same records, the
//! same number of threads / parts / messages and tags on each), and no event
//! may be dead-lettered. The shape is compared, not the ids or timestamps.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value;
use switchboard_sandbox::{Fault, Sandbox};

use crate::support::count;
use crate::support::rig::Rig;

/// One connector under test: its plugin, integration table and CRM emulator.
struct Connector {
    plugin: &'static str,
    integration: &'static str,
    crm: fn(&Sandbox) -> (Value, Vec<switchboard_sandbox::RequestRecord>),
}

const INTERCOM: Connector = Connector {
    plugin: "intercom",
    integration: "base_url = \"{intercom}\"\nsettings = { app_url = \"https://app.intercom.test\" }\nsecrets = { token = \"sandbox-intercom-token\" }\n",
    crm: |s| (s.intercom().state_json(), s.intercom().requests()),
};
const HELPSCOUT: Connector = Connector {
    plugin: "helpscout",
    integration: "base_url = \"{helpscout}\"\nsettings = { mailboxes = { \"2001\" = 30411, \"+1 415-555-0100\" = 30412 } }\nsecrets = { token = \"sandbox-helpscout-token\" }\n",
    crm: |s| (s.helpscout().state_json(), s.helpscout().requests()),
};
const GORGIAS: Connector = Connector {
    plugin: "gorgias",
    integration: "base_url = \"{gorgias}\"\nsettings = { }\nsecrets = { api = \"operator@sandbox.test:sandbox-gorgias-key\" }\n",
    crm: |s| (s.gorgias().state_json(), s.gorgias().requests()),
};

/// The shape of an emulator's state: for every list, how many items, and for
/// each item the length of each of its lists (threads, parts, tags...),
/// sorted, so ids and times do not matter.
fn shape(state: &Value) -> BTreeMap<String, Vec<Vec<(String, usize)>>> {
    let mut out = BTreeMap::new();
    let Some(obj) = state.as_object() else { return out };
    for (key, value) in obj {
        let Some(items) = value.as_array() else { continue };
        let mut shapes: Vec<Vec<(String, usize)>> = items
            .iter()
            .map(|item| {
                let mut lists: Vec<(String, usize)> = item
                    .as_object()
                    .map(|o| o.iter().filter_map(|(k, v)| v.as_array().map(|a| (k.clone(), a.len()))).collect())
                    .unwrap_or_default();
                lists.sort();
                lists
            })
            .collect();
        shapes.sort();
        out.insert(key.clone(), shapes);
    }
    out
}

fn is_write(r: &switchboard_sandbox::RequestRecord) -> bool {
    matches!(r.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE")
}

/// Play `inbound-answered` with `fault` on the CRM; the CRM's state and requests after the queue settles.
async fn run(c: &Connector, fault: Option<Fault>) -> (Value, Vec<switchboard_sandbox::RequestRecord>, i64, String) {
    let rig = Rig::start(c.plugin, c.integration).await;
    if let Some(f) = fault {
        match c.plugin {
            "intercom" => rig.sandbox.intercom().inject(f),
            "helpscout" => rig.sandbox.helpscout().inject(f),
            _ => rig.sandbox.gorgias().inject(f),
        }
    }
    rig.play_bundled("inbound-answered").await;
    // Retries back off up to 2 s: settle until the queue has been empty a while.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        rig.settle().await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let depth = rig.host.healthz().await["queue_depth"].as_u64().unwrap_or(1);
        if depth == 0 || Instant::now() > deadline {
            break;
        }
    }
    let dead = count(&rig.host.db(), "SELECT COUNT(*) FROM jobs WHERE state = 'dead'");
    let (state, requests) = (c.crm)(&rig.sandbox);
    (state, requests, dead, rig.host.log())
}

/// Every write's answer lost in turn, and a 500 and a 429 at a spread of positions.
async fn every_step(c: &Connector) {
    let (clean, requests, dead, log) = run(c, None).await;
    assert_eq!(dead, 0, "clean run dead-lettered; log:\n{log}");
    let want = shape(&clean);
    let writes = requests.iter().filter(|r| is_write(r)).count() as u32;
    let all = requests.len() as u32;
    assert!(writes >= 2, "{}: a call takes at least two writes, saw {writes}", c.plugin);
    let mut cases: Vec<(String, Fault)> = (0..writes)
        .map(|k| (format!("answer of write {k} lost"), Fault { skip: k, drop_after_commit_next: 1, ..Fault::default() }))
        .collect();
    for k in [0, all / 2, all.saturating_sub(1)] {
        cases.push((format!("request {k} answered 500"), Fault { skip: k, fail_next: 1, status: Some(500), ..Fault::default() }));
        cases.push((
            format!("request {k} answered 429"),
            Fault { skip: k, fail_next: 1, status: Some(429), retry_after: Some(1), ..Fault::default() },
        ));
    }
    // Four rigs at a time: a faulted run mostly waits for its retry.
    let runs = futures::stream::iter(cases).map(|(what, fault)| async move { (what, run(c, Some(fault)).await) }).buffer_unordered(4);
    let results: Vec<_> = runs.collect().await;
    for (what, (state, _, dead, log)) in results {
        assert_eq!(dead, 0, "{} with the {what}: dead-lettered; log:\n{log}", c.plugin);
        assert_eq!(shape(&state), want, "{} with the {what}: the CRM differs from a clean run; log:\n{log}", c.plugin);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intercom_ends_as_a_clean_run_whatever_step_fails() {
    every_step(&INTERCOM).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helpscout_ends_as_a_clean_run_whatever_step_fails() {
    every_step(&HELPSCOUT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gorgias_ends_as_a_clean_run_whatever_step_fails() {
    every_step(&GORGIAS).await;
}

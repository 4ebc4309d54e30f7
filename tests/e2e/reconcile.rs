//! Never miss a call (issue 18): reconciliation with Aircall's call list,
//! the webhook's health, and backfill — the real binary against the sandbox,
//! with the example plugin writing one note per event to the notes emulator.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard_sandbox::SandboxOptions;
use switchboard_sandbox::aircall::webhooks::Webhook;

use crate::support::rig::Rig;
use crate::support::{TOKEN, count};

const INTEGRATION: &str =
    "base_url = \"{notes}\"\ndefault_region = \"FR\"\nsettings = { insight_cards = false }\nsecrets = { api = \"sandbox-notes-token\" }\n";

/// Reconciliation every 2 s; calls count as settled at once; half of the
/// account's 60 requests a minute (30, all at once) so the test need not wait.
const FAST: &str = "[reconcile]\nevery_seconds = 2\nsettle_seconds = 0\nbudget_share = 0.5\n";

async fn rig(extra: &str) -> Rig {
    Rig::start_full(SandboxOptions::default(), "example", INTEGRATION, extra).await
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// An ended inbound call on the sandbox's number 2001, in the REST shape (§4.1).
fn ended_call(id: u64, started_at: i64) -> Value {
    json!({
        "id": id, "direct_link": format!("https://api.aircall.io/v1/calls/{id}"),
        "direction": "inbound", "status": "done",
        "started_at": started_at, "answered_at": started_at + 5, "ended_at": started_at + 65, "duration": 65,
        "raw_digits": format!("+33 6 12 34 {:02} {:02}", id % 100, (id / 100) % 100),
        "number": { "id": 2001, "name": "Support FR", "digits": "+33 1 76 36 04 20", "country": "FR", "time_zone": "Europe/Paris" },
        "tags": [], "comments": []
    })
}

/// `call.ended` notes per call id (`subject` is `call:ID`).
fn ended_notes(rig: &Rig) -> HashMap<u64, usize> {
    let mut out = HashMap::new();
    for n in rig.sandbox.notes().state().notes {
        if n.body["event"] == "call.ended"
            && let Some(id) = n.body["subject"].as_str().and_then(|s| s.strip_prefix("call:")).and_then(|s| s.parse().ok())
        {
            *out.entry(id).or_default() += 1;
        }
    }
    out
}

/// The order in which `call.ended` notes arrived, as call ids.
fn ended_order(rig: &Rig) -> Vec<u64> {
    rig.sandbox
        .notes()
        .state()
        .notes
        .iter()
        .filter(|n| n.body["event"] == "call.ended")
        .filter_map(|n| n.body["subject"].as_str().and_then(|s| s.strip_prefix("call:")).and_then(|s| s.parse().ok()))
        .collect()
}

async fn wait_until(what: &str, rig: &Rig, limit: Duration, done: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}; host log:\n{}", rig.host.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn aircall_requests(rig: &Rig, method: &str, path_prefix: &str) -> usize {
    rig.sandbox.aircall().requests().iter().filter(|r| r.method == method && r.path.starts_with(path_prefix)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_whose_webhooks_were_lost_while_the_host_was_down_are_logged_once_marked_reconciled() {
    let mut rig = rig(FAST).await;
    // The first pass sets the cursor.
    wait_until("a first reconciliation pass", &rig, Duration::from_secs(20), || aircall_requests(&rig, "GET", "/v1/calls") > 0).await;
    rig.host.kill();
    // 20 calls happen while the host is down; their webhooks go nowhere.
    let start = now() - 200;
    for i in 0..20u64 {
        rig.sandbox.aircall().update(|s| s.upsert_call(ended_call(9000 + i, start + i as i64)));
    }
    rig.sandbox.aircall().clear_requests();
    rig.host.spawn().await;
    wait_until("20 reconciled calls in the CRM", &rig, Duration::from_secs(30), || ended_notes(&rig).len() == 20).await;
    tokio::time::sleep(Duration::from_secs(3)).await; // one more pass must add nothing
    let notes = ended_notes(&rig);
    assert_eq!(notes.len(), 20);
    assert!(notes.values().all(|n| *n == 1), "a call logged twice: {notes:?}");
    assert_eq!(count(&rig.host.db(), "SELECT COUNT(*) FROM events WHERE origin = 'reconciled' AND event_name = 'call.ended'"), 20);
    let metrics = reqwest::get(format!("{}/metrics", rig.host.url)).await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"switchboard_host_events_total{account="main",origin="reconciled"} 20"#), "metrics:\n{metrics}");
    // Each missing call was fetched once with its timeline.
    assert_eq!(aircall_requests(&rig, "GET", "/v1/calls/"), 20);
    assert!(
        rig.sandbox
            .aircall()
            .requests()
            .iter()
            .filter(|r| r.path.starts_with("/v1/calls/"))
            .all(|r| r.query_param("fetch_call_timeline").as_deref() == Some("true"))
    );

    // The real webhook arrives late: stored, acknowledged, no second note.
    let late =
        json!({ "resource": "call", "event": "call.ended", "timestamp": now(), "token": TOKEN, "data": ended_call(9003, start + 3) });
    let (status, body) = rig.host.post(&late).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["jobs"], 0, "{body}");
    assert!(body["note"].as_str().unwrap_or_default().contains("already logged"), "{body}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(ended_notes(&rig).get(&9003), Some(&1));

    // With nothing missing, a pass costs one list request per page (and the webhook check).
    rig.sandbox.aircall().clear_requests();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let requests = rig.sandbox.aircall().requests();
    let lists = requests.iter().filter(|r| r.method == "GET" && r.path == "/v1/calls").count();
    let checks = requests.iter().filter(|r| r.method == "GET" && r.path == "/v1/webhooks").count();
    assert!(lists >= 2, "passes every 2 s: {lists} list requests in 5 s");
    assert_eq!(
        requests.len(),
        lists + checks,
        "only listing and the webhook check: {:?}",
        requests.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    assert_eq!(ended_notes(&rig).len(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_aircall_deactivated_after_failed_deliveries_is_reactivated() {
    let mut rig = rig(&format!("{FAST}[console]\nlisten = \"127.0.0.1:0\"\n")).await;
    let url = format!("{}/webhooks/aircall", rig.host.url);
    // The admin created the webhook in Aircall's Dashboard with the configured token.
    rig.sandbox.aircall().update(|s| {
        s.webhooks.push(Webhook {
            webhook_id: "11111111-2222-4333-8444-555555555555".into(),
            url: url.clone(),
            active: true,
            token: TOKEN.into(),
            ..Webhook::default()
        });
        s.delivery.deactivate_after = 2;
    });
    rig.host.kill();
    let call = ended_call(7001, now() - 100);
    for _ in 0..2 {
        let d = rig.sandbox.aircall().deliver("call", "call.created", &call).await;
        assert!(d[0].error.is_some(), "the host is down, the delivery must fail: {d:?}");
    }
    assert!(!rig.sandbox.aircall().state().webhooks[0].active, "Aircall deactivates the webhook after 2 failures");
    assert!(rig.sandbox.aircall().deliver("call", "call.created", &call).await.is_empty(), "nothing goes to a deactivated webhook");
    let out = rig.host.cli(&["accounts", "check"]);
    assert!(out.contains("main: deactivated"), "{out}");

    let log_before = rig.host.log().len();
    rig.host.spawn().await;
    wait_until("the webhook re-activated", &rig, Duration::from_secs(20), || rig.sandbox.aircall().state().webhooks[0].active).await;
    let put = rig.sandbox.aircall().requests().into_iter().find(|r| r.method == "PUT").expect("a PUT re-activated it");
    assert_eq!(put.path, "/v1/webhooks/11111111-2222-4333-8444-555555555555");
    let d = rig.sandbox.aircall().deliver("call", "call.created", &call).await;
    assert_eq!(d[0].status, Some(200), "deliveries reach the host again: {d:?}");
    let metrics = reqwest::get(format!("{}/metrics", rig.host.url)).await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"switchboard_aircall_webhook_state{account="main",state="reactivated"} 1"#), "metrics:\n{metrics}");
    let out = rig.host.cli(&["accounts", "check"]);
    assert!(out.contains("main: ok webhook 11111111-2222-4333-8444-555555555555"), "{out}");
    // The console's accounts page says what the host's last check found.
    let page = crate::console::page_of(&rig.host, log_before, "/accounts").await;
    let webhook = &page[page.find(r#"<td class="webhook">"#).unwrap_or_else(|| panic!("no webhook line:\n{page}"))..];
    let webhook = &webhook[..webhook.find("</td>").unwrap()];
    assert!(webhook.contains("reactivated (checked ") || webhook.contains("ok (checked "), "the state of the last check: {webhook}");
    assert!(webhook.contains(&format!("webhook 11111111-2222-4333-8444-555555555555 → {url}")), "{webhook}");
    assert!(!page.contains(TOKEN), "the webhook token is not shown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_logs_past_calls_once_oldest_first_even_run_twice_or_killed_halfway() {
    // Reconciliation off: only backfill speaks to Aircall here.
    let mut rig = rig("[reconcile]\nenabled = false\nbudget_share = 0.5\n").await;
    let base = now() - 3 * 86_400;
    // 300 calls over three days, stored newest first so the listing's order matters.
    for i in (0..300u64).rev() {
        rig.sandbox.aircall().update(|s| s.upsert_call(ended_call(20_000 + i, base + (i as i64) * 800)));
    }
    let dry = rig.host.cli(&["backfill", "example", "--since", "7d", "--dry-run"]);
    assert!(dry.contains("300 calls listed; 300 would be logged, 0 already logged"), "{dry}");
    assert!(ended_notes(&rig).is_empty(), "a dry run logs nothing");
    rig.sandbox.aircall().clear_requests();

    // Killed halfway, then restarted: it resumes.
    let out = rig.host.cli(&["backfill", "example", "--since", "7d", "--no-wait"]);
    assert!(out.contains("asked for"), "{out}");
    wait_until("100 backfilled calls", &rig, Duration::from_secs(60), || ended_notes(&rig).len() >= 100).await;
    rig.host.kill();
    rig.host.spawn().await;
    wait_until("300 backfilled calls", &rig, Duration::from_secs(120), || ended_notes(&rig).len() == 300).await;
    let done = "SELECT COUNT(*) FROM kv WHERE namespace = 'host:reconcile' AND key = 'backfill:example' AND CAST(value AS TEXT) LIKE '%\"status\":\"done\"%'";
    wait_until("the backfill done", &rig, Duration::from_secs(20), || count(&rig.host.db(), done) == 1).await;
    // Within budget: backfill's share is half of 60 requests a minute, a bucket
    // of 30 per host process (two here: killed and restarted), refilling 30 a
    // minute each.
    let lists: Vec<i64> = rig.sandbox.aircall().requests().iter().filter(|r| r.path == "/v1/calls").map(|r| r.timestamp_ms).collect();
    assert!(lists.len() >= 10, "a count per day of 7 and three pages for each of 3 days: {}", lists.len());
    for (i, t) in lists.iter().enumerate() {
        let in_minute = lists[i..].iter().take_while(|u| **u - t < 60_000).count();
        assert!(in_minute <= 2 * 30, "{in_minute} list requests within a minute");
    }
    let notes = ended_notes(&rig);
    assert!(notes.values().all(|n| *n == 1), "a call logged twice: {:?}", notes.iter().filter(|(_, n)| **n > 1).collect::<Vec<_>>());
    let order = ended_order(&rig);
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "logged oldest first");

    // Run again: everything is already there.
    let again = rig.host.cli(&["backfill", "example", "--since", "7d"]);
    assert!(again.contains("done: 300/300 calls examined, 0 logged, 300 already there"), "{again}");
    assert_eq!(ended_notes(&rig).len(), 300);
    assert_eq!(count(&rig.host.db(), "SELECT COUNT(*) FROM events WHERE origin = 'backfill'"), 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_whose_webhooks_were_all_lost_is_in_help_scout_once_as_answered() {
    let integration =
        "base_url = \"{helpscout}\"\nsettings = { mailboxes = { \"2001\" = 30411 } }\nsecrets = { token = \"sandbox-helpscout-token\" }\n";
    let rig = Rig::start_full(SandboxOptions::default(), "helpscout", integration, FAST).await;
    // Chloé (+33 6 12 34 56 78, a Help Scout customer) called and Ada answered;
    // not one of the call's webhooks reached the host.
    let mut call = ended_call(31337, now() - 300);
    call["raw_digits"] = json!("+33 6 12 34 56 78");
    call["user"] = json!({ "id": 4242, "name": "Ada Lovelace", "email": "ada@acme.example" });
    rig.sandbox.aircall().update(|s| s.upsert_call(call.clone()));
    rig.wait_for("the reconciled call in Help Scout", |sb| {
        sb.helpscout().state().conversations.into_iter().find(|c| c.threads.iter().any(|t| t.text.contains("Call ended")))
    })
    .await;
    rig.settle().await;
    let s = rig.sandbox.helpscout().state();
    let conversation = s.conversations.iter().find(|c| c.threads.iter().any(|t| t.text.contains("Call ended"))).unwrap().clone();
    let texts: Vec<&str> = conversation.threads.iter().map(|t| t.text.as_str()).collect();
    assert!(texts.iter().any(|t| t.contains("Answered by")), "answered, not missed: {texts:#?}");
    assert!(!texts.iter().any(|t| t.contains("Missed call")), "{texts:#?}");
    assert!(!conversation.tags.iter().any(|t| t.eq_ignore_ascii_case("call in progress")), "{:?}", conversation.tags);
    // More passes add nothing.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let s = rig.sandbox.helpscout().state();
    let ours: Vec<_> = s.conversations.iter().filter(|c| c.threads.iter().any(|t| t.text.contains("31337"))).collect();
    assert_eq!(ours.len(), 1, "{ours:#?}");
    assert_eq!(ours[0].threads.len(), conversation.threads.len(), "no thread added by later passes");
}

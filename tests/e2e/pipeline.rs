//! Webhook → durable event → job → plugin → CRM, as an operator would see it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::*;
use serde_json::json;
use std::time::{Duration, Instant};

async fn webhook_becomes_a_note_with_the_credential_attached_by_the_host(backend: Backend) {
    let crm = FakeCrm::start().await;
    let host = Host::start_on(backend, &Host::config(&crm.url, "", 8), &["example"]).await;
    let (status, body) = host.post(&call_event("call.created", 42, 1_700_000_000)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["jobs"], 1);
    let notes = crm.wait_for(Duration::from_secs(20), "one note", |n| !n.is_empty()).await;
    assert_eq!(notes[0].authorization.as_deref(), Some(format!("Bearer {API_SECRET}").as_str()));
    assert_eq!(notes[0].body["subject"], "call:42");
    assert_eq!(notes[0].body["event"], "call.created");
    // The phone engine, reached through the contract, normalised "07 62 04 35 75" with the line's country.
    assert_eq!(notes[0].body["number"], "+33762043575");
}

/// The host keeps its promise to plugin authors: a component built against the
/// released contract v0.1.0 (kept as built in tests/fixtures) runs beside
/// today's v0.2.0 example in one host, on the same events, with the same
/// outcome: the same notes, the credential attached, the phone engine reached,
/// an insight card pushed, and requests answered.
async fn a_v0_1_plugin_and_a_v0_2_plugin_serve_the_same_events_side_by_side(backend: Backend) {
    let (crm_new, crm_old) = (FakeCrm::start().await, FakeCrm::start().await);
    let old = format!(
        "\n[[integrations]]\nid = \"notes-v01\"\naccount = \"main\"\nplugin = \"example-v0-1\"\nbase_url = \"{0}\"\nsecrets = {{ api = \"{API_SECRET}\" }}\n",
        crm_old.url
    );
    let config = Host::config(&crm_new.url, "", 8) + &old;
    let host = Host::start_with_on(backend, &config, &[dist_plugin("example"), fixture_plugin("contract-v0.1.0/example-v0-1")]).await;
    let listed = host.cli(&["plugins", "list"]);
    assert!(listed.contains("contract 0.2.0") && listed.contains("contract 0.1.0"), "{listed}");

    let sms = json!({
        "resource": "message", "event": "message.received", "timestamp": 1_700_000_001, "token": TOKEN,
        "data": { "id": "msg-9", "direction": "inbound", "external_number": "+33 7 62 04 35 75", "body": "Bonjour",
                  "number": { "id": 777, "name": "Support FR", "digits": "+33 1 23 45 67 89", "country": "FR" } }
    });
    for body in [call_event("call.created", 42, 1_700_000_000), sms] {
        let (status, answer) = host.post(&body).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["jobs"], 2, "one job per integration: {answer}");
    }
    let seen = |crm: &FakeCrm| {
        let mut v: Vec<(String, String, String, Option<String>)> = crm
            .notes()
            .iter()
            .map(|n| {
                (
                    n.body["event"].as_str().unwrap().to_string(),
                    n.body["subject"].as_str().unwrap().to_string(),
                    n.body["number"].as_str().unwrap().to_string(),
                    n.authorization.clone(),
                )
            })
            .collect();
        v.sort();
        v
    };
    crm_new.wait_for(Duration::from_secs(20), "two notes from v0.2.0", |n| n.len() == 2).await;
    crm_old.wait_for(Duration::from_secs(20), "two notes from v0.1.0", |n| n.len() == 2).await;
    assert_eq!(seen(&crm_new), seen(&crm_old));
    assert!(seen(&crm_new).iter().any(|(e, s, n, a)| e == "message.received"
        && s == "message:msg-9"
        && n == "+33762043575"
        && a.as_deref() == Some(&*format!("Bearer {API_SECRET}"))));

    for id in ["notes", "notes-v01"] {
        let url = format!("{}/integrations/{id}/normalize?raw=0(442)249-7851&region=US", host.url);
        let resp: serde_json::Value = reqwest::get(url).await.unwrap().json().await.unwrap();
        assert_eq!(resp["e164"], "+14422497851", "{id}: {resp}");
        let url = format!("{}/integrations/{id}/normalize?raw=12&region=FR", host.url);
        let refused = reqwest::get(url).await.unwrap();
        assert_eq!(refused.status(), 422, "{id}");
        let body: serde_json::Value = refused.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("too short"), "{id}: {body}");
    }
}

async fn bad_input_is_refused_with_a_reason_and_nothing_is_stored(backend: Backend) {
    let crm = FakeCrm::start().await;
    let host = Host::start_on(backend, &Host::config(&crm.url, "", 8), &["example"]).await;

    let mut bad_token = call_event("call.created", 1, 1);
    bad_token["token"] = json!("not-the-token");
    let (status, body) = host.post(&bad_token).await;
    assert_eq!(status, 401, "{body}");

    let big = format!("{{\"event\":\"call.created\",\"token\":\"{TOKEN}\",\"pad\":\"{}\"}}", "x".repeat(1_100_000));
    let (status, _) = host.post_raw(big.into_bytes()).await;
    assert_eq!(status, 413);

    let (status, body) = host.post_raw(b"{not json".to_vec()).await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("not JSON"), "{body}");

    let (status, body) = host.post(&json!({ "token": TOKEN, "data": {} })).await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("event"), "{body}");

    assert_eq!(host.count("SELECT COUNT(*) FROM events").await, 0, "refused webhooks must not be stored");

    // An event the host does not know: stored and acknowledged, not dispatched.
    let (status, body) = host.post(&json!({ "event": "analytics.report_created", "token": TOKEN, "data": {"id": 1} })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["jobs"], 0);
    assert_eq!(host.count("SELECT COUNT(*) FROM events").await, 1);
    assert_eq!(host.count("SELECT COUNT(*) FROM jobs").await, 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(crm.notes().is_empty());
}

async fn a_redelivered_webhook_runs_once(backend: Backend) {
    let crm = FakeCrm::start().await;
    let host = Host::start_on(backend, &Host::config(&crm.url, "", 8), &["example"]).await;
    let ev = call_event("call.ended", 7, 1_700_000_100);
    let (_, first) = host.post(&ev).await;
    let (status, second) = host.post(&ev).await;
    assert_eq!(status, 200);
    assert_eq!(first["status"], "accepted");
    assert_eq!(second["status"], "duplicate");
    crm.wait_for(Duration::from_secs(20), "the note", |n| !n.is_empty()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(crm.notes().len(), 1);
    assert_eq!(host.count("SELECT COUNT(*) FROM jobs").await, 1);
}

async fn order_per_call_holds_under_concurrency_and_a_slow_call_of_another_customer_delays_no_other(backend: Backend) {
    let crm = FakeCrm::start().await;
    crm.state.lock().unwrap().slow_subjects.insert("call:1000".into(), Duration::from_millis(1500));
    // The slow call's notes take 1.5 s each; the deadline leaves room for a loaded machine.
    let config = Host::config(&crm.url, "", 16).replace("job_timeout_ms = 3000", "job_timeout_ms = 20000");
    let host = Arc::new(Host::start_on(backend, &config, &["example"]).await);
    let events = ["call.created", "call.ringing_on_agent", "call.answered", "call.hungup", "call.ended"];
    let calls: Vec<u64> = (1000..1030).collect();
    // Each call's events are sent in order; calls are sent concurrently, each
    // from its own customer (one customer's calls share a lane and would wait).
    let mut tasks = Vec::new();
    for &call in &calls {
        let host = host.clone();
        tasks.push(tokio::spawn(async move {
            let from = format!("+33 6 12 34 {:02} {:02}", call / 100 % 100, call % 100);
            for (i, ev) in events.iter().enumerate() {
                let (status, _) = host.post(&call_event_from(ev, call, 1_700_000_000 + i as i64, &from)).await;
                assert_eq!(status, 200);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let total = calls.len() * events.len();
    let notes = crm.wait_for(Duration::from_secs(60), "all notes", |n| n.len() >= total).await;
    assert_eq!(notes.len(), total);
    for &call in &calls {
        let seen: Vec<String> = notes
            .iter()
            .filter(|n| n.body["subject"] == format!("call:{call}"))
            .map(|n| n.body["event"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(seen, events, "call {call} out of order");
    }
    // The slow call's last note lands after every other call finished.
    let slow_last = notes.iter().filter(|n| n.body["subject"] == "call:1000").map(|n| n.at).max().unwrap();
    let others_last = notes.iter().filter(|n| n.body["subject"] != "call:1000").map(|n| n.at).max().unwrap();
    assert!(others_last < slow_last, "other calls waited for the slow one");
}

use std::sync::Arc;

async fn a_write_whose_answer_was_lost_is_checked_not_repeated(backend: Backend) {
    let crm = FakeCrm::start().await;
    crm.state.lock().unwrap().lose_next_answers = 1;
    let host = Host::start_on(backend, &Host::config(&crm.url, "", 8), &["example"]).await;
    host.post(&call_event("call.ended", 57, 1)).await;
    // The first attempt's note is stored and never answered; the job runs out of
    // time. The retry's note differs (it carries the attempt number), yet the
    // journal reports the write ambiguous and the plugin finds the note.
    let deadline = Instant::now() + Duration::from_secs(60);
    while host.count("SELECT COUNT(*) FROM jobs WHERE state = 'done'").await < 1 {
        assert!(Instant::now() < deadline, "the job never finished; log:\n{}", host.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(crm.notes().len(), 1, "the lost write was repeated");
    assert_eq!(crm.state.lock().unwrap().attempts.len(), 1, "one create, then a lookup");
}

async fn a_500_is_retried_and_logged_once(backend: Backend) {
    let crm = FakeCrm::start().await;
    crm.state.lock().unwrap().fail_next = vec![(500, None), (502, None)];
    let host = Host::start_on(backend, &Host::config(&crm.url, "", 8), &["example"]).await;
    host.post(&call_event("call.ended", 55, 1)).await;
    crm.wait_for(Duration::from_secs(30), "the note after retries", |n| !n.is_empty()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(crm.notes().len(), 1);
    assert_eq!(crm.state.lock().unwrap().attempts.len(), 3, "two failures then one success");
    assert_eq!(crm.notes()[0].body["attempt"], 3);
}

async fn a_429_with_retry_after_is_not_retried_early(backend: Backend) {
    let crm = FakeCrm::start().await;
    crm.state.lock().unwrap().fail_next = vec![(429, Some("2".into()))];
    let host = Host::start_on(backend, &Host::config(&crm.url, "", 8), &["example"]).await;
    host.post(&call_event("call.ended", 56, 1)).await;
    crm.wait_for(Duration::from_secs(30), "the note after the 429", |n| !n.is_empty()).await;
    let attempts = crm.state.lock().unwrap().attempts.clone();
    assert_eq!(attempts.len(), 2);
    let gap = attempts[1] - attempts[0];
    assert!(gap >= Duration::from_millis(1950), "retried after {gap:?}, before Retry-After elapsed");
}

async fn plugins_reach_the_phone_engine_through_the_contract(backend: Backend) {
    let crm = FakeCrm::start().await;
    let host = Host::start_on(backend, &Host::config(&crm.url, "", 8), &["example"]).await;
    let started = Instant::now();
    let resp: serde_json::Value = reqwest::get(format!("{}/integrations/notes/normalize?raw=0(442)249-7851&region=US", host.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(resp["e164"], "+14422497851", "{resp} after {:?}", started.elapsed());
    assert!(resp["variants"].as_array().unwrap().iter().any(|v| v == "(442) 249 7851" || v == "(442) 249-7851"), "{resp}");
}

async fn an_integration_resumed_right_after_its_pause_delivers_its_held_events(backend: Backend) {
    let crm = FakeCrm::start().await;
    crm.state.lock().unwrap().fail_next.push((401, None));
    let host = Host::start_on(backend, &Host::config(&crm.url, "", 8), &["example"]).await;
    let (status, _) = host.post(&call_event("call.created", 7, 1_700_000_000)).await;
    assert_eq!(status, 200);
    // Resume as soon as the pause is on disk, before housekeeping's next tick.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !host.cli(&["integrations", "list"]).contains("paused") {
        assert!(Instant::now() < deadline, "never paused; log:\n{}", host.log());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(host.cli(&["integrations", "resume", "notes"]).contains("resumed"));
    let notes = crm.wait_for(Duration::from_secs(20), "the held event, delivered after the resume", |n| !n.is_empty()).await;
    assert_eq!(notes[0].body["subject"], "call:7");
}

/// Aircall data in an undocumented shape is refused at the door (400 naming the
/// field, nothing stored, nothing dispatched) instead of being read with a
/// default; Aircall retries a refused delivery, so nothing is lost.
async fn webhooks_with_undocumented_data_are_refused_naming_the_field_and_nothing_runs(backend: Backend) {
    let crm = FakeCrm::start().await;
    let host = Host::start_on(backend, &Host::config(&crm.url, "", 8), &["example"]).await;
    let message = |data: serde_json::Value| json!({ "resource": "message", "event": "message.received", "timestamp": 1_700_000_000, "token": TOKEN, "data": data });
    let line = json!({ "id": 777, "name": "Support FR", "digits": "+33 1 23 45 67 89", "country": "FR" });

    // A message without an id: its records in the plugins would be keyed on "".
    let (status, body) =
        host.post(&message(json!({ "direction": "inbound", "external_number": "+33612345678", "body": "hi", "number": line }))).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "event message.received: data.id: missing", "{body}");

    // An empty message id is no better.
    let (status, body) =
        host.post(&message(json!({ "id": "", "direction": "inbound", "external_number": "+33612345678", "number": line }))).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().starts_with("event message.received: data.id: "), "{body}");

    // A direction Aircall does not have would have been read as inbound.
    let mut sideways = call_event("call.created", 42, 1_700_000_000);
    sideways["data"]["direction"] = json!("internal");
    let (status, body) = host.post(&sideways).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("data.direction: unknown variant `internal`"), "{body}");

    // Call id 0 or missing.
    let mut zero = call_event("call.created", 0, 1_700_000_000);
    let (status, body) = host.post(&zero).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("data.id: expected an id, got 0"), "{body}");
    zero["data"].as_object_mut().unwrap().remove("id");
    let (status, body) = host.post(&zero).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("data.id: missing"), "{body}");

    assert_eq!(host.count("SELECT COUNT(*) FROM events").await, 0, "refused webhooks must not be stored");
    assert_eq!(host.count("SELECT COUNT(*) FROM jobs").await, 0, "refused webhooks must not be dispatched");
    let metrics = reqwest::get(format!("{}/metrics", host.url)).await.unwrap().text().await.unwrap();
    let refused = metrics.lines().find(|l| l.contains("outcome=\"invalid_data\"") && !l.starts_with('#')).unwrap_or("");
    assert!(refused.ends_with(" 5"), "five refusals counted: {refused:?}");

    // A well-formed event still goes through, and it is the only note the CRM gets.
    let (status, body) = host.post(&call_event("call.created", 42, 1_700_000_000)).await;
    assert_eq!(status, 200, "{body}");
    let notes = crm.wait_for(Duration::from_secs(20), "the valid event's note", |n| !n.is_empty()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(crm.notes().len(), 1, "{notes:?}");
    assert_eq!(notes[0].body["subject"], "call:42");
}

/// A body that names a key twice (serde_json would silently keep the last) is
/// refused at the door with 400 naming the key: nothing stored, nothing run,
/// where it used to be acknowledged and then dead-lettered.
async fn a_webhook_naming_a_key_twice_is_refused_naming_the_key(backend: Backend) {
    let crm = FakeCrm::start().await;
    let host = Host::start_on(backend, &Host::config(&crm.url, "", 8), &["example"]).await;
    let good = serde_json::to_string(&call_event("call.created", 42, 1_700_000_000)).unwrap();

    // Twice `event` at the top level: the second one is not a known event.
    let top = good.replacen("\"event\":\"call.created\"", "\"event\":\"call.created\",\"event\":\"call.bogus\"", 1);
    let (status, body) = host.post_raw(top.into_bytes()).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("duplicate key `event`"), "{body}");

    // Twice `id` in `data`: 0 would win, and the job would be dead-lettered.
    let in_data = good.replacen("\"data\":{", "\"data\":{\"id\":0,", 1);
    let (status, body) = host.post_raw(in_data.into_bytes()).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("duplicate key `data.id`"), "{body}");

    assert_eq!(host.count("SELECT COUNT(*) FROM events").await, 0, "refused webhooks must not be stored");
    assert_eq!(host.count("SELECT COUNT(*) FROM jobs").await, 0, "refused webhooks must not be dispatched");

    let (status, body) = host.post_raw(good.into_bytes()).await;
    assert_eq!(status, 200, "{body}");
    crm.wait_for(Duration::from_secs(20), "the valid event's note", |n| !n.is_empty()).await;
}

/// A CRM host name that resolves only to private addresses (here `localhost`)
/// while `network.allow_private` is false is refused for good: the job is
/// dead-lettered on its first attempt with a reason naming the host, instead of
/// being retried forever as if the network were down.
async fn a_crm_name_resolving_only_to_private_addresses_is_dead_lettered_with_the_reason(backend: Backend) {
    let crm = FakeCrm::start().await;
    let by_name = crm.url.replace("127.0.0.1", "localhost");
    let config = Host::config(&by_name, "", 8).replace("allow_private = true", "allow_private = false");
    let host = Host::start_on(backend, &config, &["example"]).await;
    let (status, body) = host.post(&call_event("call.created", 42, 1_700_000_000)).await;
    assert_eq!(status, 200, "{body}");

    let deadline = Instant::now() + Duration::from_secs(30);
    let dead = loop {
        let out = host.cli(&["dead-letters", "list"]);
        if out.contains("localhost") {
            break out;
        }
        assert!(Instant::now() < deadline, "no dead letter naming the host:\n{out}\nhost log:\n{}", host.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(dead.contains("only to private"), "the reason says why: {dead}");
    let attempts = host.count("SELECT MAX(attempts) FROM jobs").await;
    assert_eq!(attempts, 1, "refused once, not retried:\n{dead}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(host.count("SELECT MAX(attempts) FROM jobs").await, 1, "no retry after the dead letter");
    assert!(crm.notes().is_empty(), "nothing reached the CRM");
}

/// A client that trickles its request a byte a second (slow-loris) is cut off
/// once `server.header_read_timeout_ms` (headers) or `body_read_timeout_ms`
/// (body) has passed — long before its ~120 s request would end (the helper
/// gives up after 20 s) — and meanwhile a normal webhook is answered.
async fn connections_that_trickle_a_byte_a_second_are_closed_and_webhooks_still_pass(backend: Backend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let crm = FakeCrm::start().await;
    let config =
        Host::config(&crm.url, "", 8).replacen("[server]\n", "[server]\nheader_read_timeout_ms = 2000\nbody_read_timeout_ms = 2000\n", 1);
    let host = Host::start_on(backend, &config, &["example"]).await;
    let addr = format!("127.0.0.1:{}", host.port);

    /// Send `prefix` at once, then `trickle` one byte a second; return how long
    /// until the host closed the connection, and what it answered.
    async fn trickle(addr: String, prefix: Vec<u8>, trickle: Vec<u8>) -> (Duration, String) {
        let started = Instant::now();
        let stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let (mut read, mut write) = stream.into_split();
        let writer = tokio::spawn(async move {
            if write.write_all(&prefix).await.is_err() {
                return;
            }
            for b in trickle {
                if write.write_all(&[b]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            // Never finish: hold the connection open.
            tokio::time::sleep(Duration::from_secs(120)).await;
        });
        let mut answer = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(20), async {
            let mut buf = [0u8; 1024];
            loop {
                match read.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => answer.extend_from_slice(&buf[..n]),
                }
            }
        })
        .await;
        writer.abort();
        assert!(closed.is_ok(), "the host kept a trickling connection open for 20 s");
        (started.elapsed(), String::from_utf8_lossy(&answer).into_owned())
    }

    let headers = format!("POST /webhooks/aircall HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n").into_bytes();
    let slow_headers = tokio::spawn(trickle(addr.clone(), Vec::new(), headers.repeat(4)));
    let body_prefix =
        format!("POST /webhooks/aircall HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n")
            .into_bytes();
    let slow_body = tokio::spawn(trickle(addr.clone(), body_prefix, br#"{"event":"call.created","token":"#.repeat(4)));

    // While both trickle, a normal webhook is acknowledged (latency under such
    // load is a benchmark's business, not a test's).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, body) = host.post(&call_event("call.created", 42, 1_700_000_000)).await;
    assert_eq!(status, 200, "{body}");

    let (took, answer) = slow_headers.await.unwrap();
    assert!(took >= Duration::from_millis(1500), "headers trickler closed before its timeout, after {took:?}: {answer}");
    let (took, answer) = slow_body.await.unwrap();
    assert!(took >= Duration::from_millis(1500), "body trickler closed before its timeout, after {took:?}: {answer}");
    assert!(answer.starts_with("HTTP/1.1 408"), "a late body is answered 408: {answer}");
    crm.wait_for(Duration::from_secs(20), "the normal webhook's note", |n| !n.is_empty()).await;
    assert_eq!(host.count("SELECT COUNT(*) FROM events").await, 1, "only the complete webhook was stored");
}

// ---- The same pipeline on the PostgreSQL store (`[store] url`) ----

#[tokio::test]
async fn on_postgres_a_webhook_becomes_a_note_and_the_event_is_in_the_database() {
    let db = pg_database().await;
    let crm = FakeCrm::start().await;
    let host = Host::start(&on_postgres(&Host::config(&crm.url, "", 8), &db.url), &["example"]).await;
    let (status, body) = host.post(&call_event("call.created", 42, 1_700_000_000)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["jobs"], 1);
    let notes = crm.wait_for(Duration::from_secs(20), "one note", |n| !n.is_empty()).await;
    assert_eq!(notes[0].authorization.as_deref(), Some(format!("Bearer {API_SECRET}").as_str()));
    assert_eq!(notes[0].body["subject"], "call:42");
    assert_eq!(pg_count(&db.url, "SELECT COUNT(*) FROM events WHERE event_name = 'call.created'").await, 1);
    assert!(!host.db().exists(), "no SQLite file when the store is PostgreSQL");
    let deadline = Instant::now() + Duration::from_secs(10);
    while pg_count(&db.url, "SELECT COUNT(*) FROM jobs WHERE state = 'done'").await != 1 {
        assert!(Instant::now() < deadline, "the job was not marked done in PostgreSQL");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn on_postgres_every_acknowledged_event_is_processed_once_across_a_sigkill() {
    let db = pg_database().await;
    let crm = FakeCrm::start().await;
    // The CRM answers 503 for a while: acknowledged jobs are still queued when the host dies.
    crm.state.lock().unwrap().fail_next = vec![(503, None); 40];
    let mut host = Host::start(&on_postgres(&Host::config(&crm.url, "", 4), &db.url), &["example"]).await;
    let mut acked = Vec::new();
    for i in 0..20u64 {
        let (status, body) = host.post(&call_event("call.ended", 1000 + i, 1_700_000_000 + i as i64)).await;
        assert_eq!(status, 200, "{body}");
        acked.push(format!("call:{}", 1000 + i));
    }
    host.kill();
    assert!(pg_count(&db.url, "SELECT COUNT(*) FROM jobs WHERE state = 'queued'").await > 0, "jobs left for the restart");
    crm.state.lock().unwrap().fail_next.clear();
    host.spawn().await;
    let notes = crm.wait_for(Duration::from_secs(30), "a note per acknowledged event", |n| n.len() >= acked.len()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut subjects: Vec<String> = crm.notes().iter().map(|n| n.body["subject"].as_str().unwrap_or("").to_string()).collect();
    subjects.sort();
    acked.sort();
    assert_eq!(subjects, acked, "every acknowledged event once, none twice (had {} notes)", notes.len());
    crate::support::pg_wait_for_count(&db.url, "SELECT COUNT(*) FROM jobs WHERE state <> 'done'", 0).await;
}

async fn a_card_push_whose_answer_was_lost_is_pushed_again_and_the_event_is_not_lost(backend: Backend) {
    switchboard_sandbox::install_crypto_provider();
    let sandbox = switchboard_sandbox::Sandbox::start(switchboard_sandbox::SandboxOptions::default()).await.unwrap();
    // Aircall stores the card and the connection drops before the answer.
    sandbox.aircall().inject(switchboard_sandbox::Fault {
        drop_after_commit_next: 1,
        path_prefix: Some("/v1/calls".into()),
        ..Default::default()
    });
    let crm = FakeCrm::start().await;
    let host = Host::start_on(backend, &with_aircall(&sandbox, &crm, 60), &["example"]).await;
    host.post(&call_event("call.created", 58, 1)).await;
    // A card is safe to repeat: the retry pushes it again instead of stopping
    // at an ambiguous write, and the event's note is written.
    crm.wait_for(Duration::from_secs(30), "the note after the lost card answer", |n| !n.is_empty()).await;
    assert!(!sandbox.aircall().state().insight_cards.is_empty());
    assert_eq!(host.count("SELECT COUNT(*) FROM jobs WHERE state = 'dead'").await, 0, "{}", host.log());
}

/// The example plugin with insight cards on, its account on the Aircall emulator
/// with a budget of `per_minute` requests.
fn with_aircall(sandbox: &switchboard_sandbox::Sandbox, crm: &FakeCrm, per_minute: u32) -> String {
    let a = sandbox.aircall().credentials().clone();
    Host::config(&crm.url, "settings = { insight_cards = true }", 8)
        .replace("api_id = \"id\"", &format!("api_id = \"{}\"", a.api_id))
        .replace("api_token = \"tok\"", &format!("api_token = \"{}\"\napi_requests_per_minute = {per_minute}", a.api_token))
        .replace("api_base = \"http://127.0.0.1:9\"", &format!("api_base = \"{}\"", sandbox.aircall_url()))
}

async fn cards_that_find_no_room_in_aircalls_budget_are_dropped_and_counted_and_the_events_still_land(backend: Backend) {
    switchboard_sandbox::install_crypto_provider();
    let sandbox = switchboard_sandbox::Sandbox::start(switchboard_sandbox::SandboxOptions::default()).await.unwrap();
    let crm = FakeCrm::start().await;
    // One Aircall request a minute: room for one card.
    let host = Host::start_on(backend, &with_aircall(&sandbox, &crm, 1), &["example"]).await;
    for call in 0..5u64 {
        let from = format!("+33 6 12 34 56 {call:02}");
        host.post(&call_event_from("call.created", 300 + call, 1, &from)).await;
    }
    // Every note lands at once (no job waits a minute for the budget or dies
    // on its deadline); one card was shown, the others counted as dropped.
    crm.wait_for(Duration::from_secs(20), "the five notes", |n| n.len() == 5).await;
    assert_eq!(sandbox.aircall().state().insight_cards.len(), 1);
    let metrics = reqwest::get(format!("{}/metrics", host.url)).await.unwrap().text().await.unwrap();
    // (On PostgreSQL every series also carries the host's `host_id`.)
    let dropped =
        metrics.lines().find(|l| l.starts_with("switchboard_insight_cards_dropped_total{") && l.contains("integration=\"notes\""));
    assert!(dropped.is_some_and(|l| l.ends_with(" 4")), "{metrics}");
    host.wait_for_count("SELECT COUNT(*) FROM jobs WHERE state <> 'done'", 0).await;
    assert!(host.log().contains("insight card dropped"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_refused_by_the_crm_is_asked_again_when_replayed_after_the_fix() {
    // The example plugin on the sandbox's notes service, which refuses every note with 422.
    let integration = "base_url = \"{notes}\"\ndefault_region = \"FR\"\nsettings = { insight_cards = false }\nsecrets = { api = \"sandbox-notes-token\" }\n";
    let rig = crate::support::rig::Rig::start("example", integration).await;
    rig.sandbox.notes().inject(switchboard_sandbox::Fault {
        fail_next: 1000,
        status: Some(422),
        method: Some("POST".into()),
        ..switchboard_sandbox::Fault::default()
    });
    let (status, _) = rig.host.post(&call_event("call.ended", 4711, 1_700_000_000)).await;
    assert_eq!(status, 200);
    let deadline = Instant::now() + Duration::from_secs(20);
    while rig.host.count("SELECT COUNT(*) FROM jobs WHERE state = 'dead'").await == 0 {
        assert!(Instant::now() < deadline, "no dead letter; log:\n{}", rig.host.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let job = rig.host.count("SELECT id FROM jobs WHERE state = 'dead'").await;
    // The operator fixes the cause at the CRM, then replays.
    rig.sandbox.notes().clear_faults();
    let out = rig.host.cli(&["dead-letters", "replay", &job.to_string()]);
    assert!(!out.contains("error"), "{out}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !rig.sandbox.notes().state().notes.iter().any(|n| n.body["subject"] == "call:4711") {
        assert!(Instant::now() < deadline, "the replayed job replayed the refusal instead of asking again; log:\n{}", rig.host.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(rig.host.count("SELECT COUNT(*) FROM jobs WHERE state = 'dead'").await, 0);
}

/// Every pipeline test above, once per store: `pipeline::on_sqlite::NAME` and
/// `pipeline::on_postgres::NAME` (each on a throwaway database).
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name(crate::support::Backend::Sqlite).await
            })*
        }
        mod on_postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name(crate::support::Backend::Postgres).await
            })*
        }
    };
}

on_both_stores!(
    webhook_becomes_a_note_with_the_credential_attached_by_the_host,
    a_v0_1_plugin_and_a_v0_2_plugin_serve_the_same_events_side_by_side,
    bad_input_is_refused_with_a_reason_and_nothing_is_stored,
    a_redelivered_webhook_runs_once,
    order_per_call_holds_under_concurrency_and_a_slow_call_of_another_customer_delays_no_other,
    a_write_whose_answer_was_lost_is_checked_not_repeated,
    a_500_is_retried_and_logged_once,
    a_429_with_retry_after_is_not_retried_early,
    plugins_reach_the_phone_engine_through_the_contract,
    an_integration_resumed_right_after_its_pause_delivers_its_held_events,
    webhooks_with_undocumented_data_are_refused_naming_the_field_and_nothing_runs,
    a_webhook_naming_a_key_twice_is_refused_naming_the_key,
    a_crm_name_resolving_only_to_private_addresses_is_dead_lettered_with_the_reason,
    connections_that_trickle_a_byte_a_second_are_closed_and_webhooks_still_pass,
    a_card_push_whose_answer_was_lost_is_pushed_again_and_the_event_is_not_lost,
    cards_that_find_no_room_in_aircalls_budget_are_dropped_and_counted_and_the_events_still_land,
);

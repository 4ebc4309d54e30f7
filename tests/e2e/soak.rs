//! Soak: the real binary with the example plugin against the sandbox's notes
//! API, SIGKILLed at random while calls stream in. The
//! sender behaves like Aircall: a webhook that got no answer is sent again
//! until it is acknowledged. Every acknowledged event must end up as exactly
//! one note, and one call's notes must arrive in the order of its events.
//!
//! The test suite runs 20 kills; `cargo xtask soak [KILLS]` runs the long
//! version (`SOAK_KILLS`, default 1,000) and prints the tally for BENCHMARKS.md.

use crate::support::TOKEN;
use crate::support::rig::Rig;
use rand::Rng;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// One call's events, in the order Aircall sends them.
const EVENTS: [&str; 3] = ["call.created", "call.answered", "call.ended"];

/// What a soak found.
#[derive(Debug, Default)]
struct Tally {
    kills: usize,
    sent: usize,
    acked: usize,
    lost: usize,
    duplicated: usize,
    reordered: usize,
}

fn payload(call: u64, step: usize) -> Value {
    let event = EVENTS[step];
    json!({
        "resource": "call", "event": event, "timestamp": 1_700_000_000 + call as i64 * 10 + step as i64, "token": TOKEN,
        "data": {
            "id": 900_000 + call, "direction": "inbound",
            "status": if step == 2 { "done" } else { "answered" },
            "raw_digits": format!("+33 6 {:02} {:02} {:02} {:02}", call / 1_000_000 % 100, call / 10_000 % 100, call / 100 % 100, call % 100),
            "started_at": 1_700_000_000,
            "number": { "id": 2001, "name": "Support FR", "digits": "+33 1 23 45 67 89", "country": "FR", "time_zone": "Europe/Paris" }
        }
    })
}

async fn soak(kills: usize) -> Tally {
    // The connector rig's host (same limits as every connector test), the example
    // plugin on the notes emulator, no cards (they would need the calls in Aircall).
    let integration = "base_url = \"{notes}\"\ndefault_region = \"FR\"\nsettings = { insight_cards = false }\nsecrets = { api = \"sandbox-notes-token\" }\n";
    let mut rig = Rig::start("example", integration).await;
    let (sandbox, host) = (&rig.sandbox, &mut rig.host);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let url = format!("{}/webhooks/aircall", host.url);
    let mut rng = rand::rng();
    let mut tally = Tally { kills, ..Tally::default() };
    // Events not yet acknowledged, in sending order; a call's next event is
    // queued once the previous one is acknowledged (Aircall sends them in order).
    let mut queue: VecDeque<(u64, usize)> = VecDeque::new();
    let mut next_call = 0u64;
    let mut acked: HashMap<String, (u64, usize)> = HashMap::new();
    for kill in 0..=kills {
        let run_for = Duration::from_millis(rng.random_range(150..600));
        let started = Instant::now();
        while started.elapsed() < run_for {
            while queue.len() < 8 {
                queue.push_back((next_call, 0));
                next_call += 1;
            }
            // Eight calls at once, each with at most one event in flight.
            let batch: Vec<(u64, usize)> = queue.drain(..).collect();
            tally.sent += batch.len();
            let answers = futures::future::join_all(batch.iter().map(|&(call, step)| {
                let request = client.post(&url).json(&payload(call, step));
                async move {
                    let r = request.send().await.ok().filter(|r| r.status() == 200)?;
                    r.json::<Value>().await.ok()?["event_id"].as_i64()
                }
            }))
            .await;
            for ((call, step), answer) in batch.into_iter().zip(answers) {
                match answer {
                    Some(id) => {
                        acked.insert(id.to_string(), (call, step));
                        if step + 1 < EVENTS.len() {
                            queue.push_back((call, step + 1));
                        }
                    }
                    // No answer (the host is down or died mid-request): send it again.
                    None => queue.push_back((call, step)),
                }
            }
        }
        if kill < kills {
            host.kill();
            host.spawn().await;
        }
    }
    tally.acked = acked.len();
    // Wait for every acknowledged event's note (and a little more for late duplicates).
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let notes = sandbox.notes().state().notes;
        let seen: std::collections::HashSet<&str> = notes.iter().filter_map(|n| n.body["external_id"].as_str()).collect();
        if acked.keys().all(|id| seen.contains(id.as_str())) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let notes = sandbox.notes().state().notes;
    let found = crate::support::tally::count(notes.iter().map(|n| &n.body), &acked);
    (tally.lost, tally.duplicated, tally.reordered) = (found.lost, found.duplicated, found.reordered);
    println!(
        "soak: {} kills, {} webhooks sent, {} acknowledged, lost {}, duplicated {}, reordered calls {}",
        tally.kills, tally.sent, tally.acked, tally.lost, tally.duplicated, tally.reordered
    );
    if tally.lost + tally.duplicated + tally.reordered > 0 {
        println!("host log:\n{}", host.log());
    }
    tally
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_sigkills_lose_double_and_reorder_nothing() {
    let t = soak(20).await;
    assert!(t.acked > 50, "too little got through to mean anything: {t:?}");
    assert_eq!((t.lost, t.duplicated, t.reordered), (0, 0, 0), "{t:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long: cargo xtask soak [KILLS]"]
async fn long() {
    let kills = std::env::var("SOAK_KILLS").ok().and_then(|k| k.parse().ok()).unwrap_or(1000);
    let t = soak(kills).await;
    assert_eq!((t.lost, t.duplicated, t.reordered), (0, 0, 0), "{t:?}");
}

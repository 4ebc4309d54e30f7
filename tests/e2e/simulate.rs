//! The simulator end to end: scenario files played by `switchboard simulate`
//! (and the library behind it) into the real host, through the reference
//! plugin, into the sandbox emulators.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::sync::{Arc, Mutex};

use crate::support::rig::Rig;
use serde_json::Value;
use switchboard::simulate::fields::{self, Kind};
use switchboard::simulate::{self, PlayOptions, Speed, World};
use switchboard_sandbox::{NOTES_TOKEN, Sandbox, SandboxOptions};

fn example() -> String {
    format!(
        r#"base_url = "{{notes}}"
default_region = "FR"
settings = {{ insight_cards = true }}
secrets = {{ api = "{NOTES_TOKEN}" }}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answered_call_lands_in_the_emulators_in_order() {
    let rig = Rig::start("example", &example()).await;
    let report = rig.play_bundled("inbound-answered").await;
    assert_eq!(report.posted, 7);
    rig.settle().await;

    // Every event of the call became one note, in the order Aircall sent them.
    let notes = rig.sandbox.notes().state().notes;
    let events: Vec<&str> = notes.iter().filter_map(|n| n.body["event"].as_str()).collect();
    assert_eq!(
        events,
        ["call.created", "call.ringing_on_agent", "call.answered", "call.tagged", "call.hungup", "call.commented", "call.ended"]
    );
    let call_id = report.call_ids[0];
    assert!(notes.iter().all(|n| n.body["subject"] == format!("call:{call_id}")));
    // raw_digits "+33 6 12 34 56 78" went through the host's phone engine.
    assert!(notes.iter().all(|n| n.body["number"] == "+33612345678"), "{:?}", notes);

    // The insight card reached the Aircall emulator for that call.
    let cards = rig.sandbox.aircall().state().insight_cards;
    assert_eq!(cards.len(), 1, "one card, on call.created");
    assert_eq!(cards[0].call_id, call_id);
    assert!(cards[0].contents.iter().any(|c| c["text"] == "+33612345678"), "{:?}", cards[0].contents);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_plays_concurrent_calls_and_messages() {
    let rig = Rig::start("example", &example()).await;
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args([
            "simulate",
            "many-concurrent",
            "sms",
            "anonymous",
            "--speed",
            "max",
            "--quiet",
            "--to",
            &rig.host.url,
            "--token",
            crate::support::TOKEN,
        ])
        .args(["--aircall", rig.sandbox.aircall_url()])
        .output()
        .expect("switchboard runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("200 webhooks accepted, 0 refused"), "{stderr}");
    rig.settle().await;
    let notes = rig.sandbox.notes().state().notes;
    // 50 calls × 4 events + 3 message events + 2 anonymous calls (4 + 3 events).
    assert_eq!(notes.len(), 200 + 3 + 7, "{}", rig.host.log());
    let calls: std::collections::BTreeSet<&str> =
        notes.iter().filter_map(|n| n.body["subject"].as_str()).filter(|s| s.starts_with("call:")).collect();
    assert_eq!(calls.len(), 52, "every concurrent call kept its own id");
    assert_eq!(notes.iter().filter(|n| n.body["number"] == "anonymous").count(), 7);
    assert!(notes.iter().any(|n| n.body["number"] == "+33640000050"), "{{n}} numbered the 50th caller");
    // --aircall: the emulator knows every call played, as its REST API shows it.
    let calls = rig.sandbox.aircall().state().calls;
    assert_eq!(calls.len(), 52);
    assert!(calls.iter().all(|c| c["status"] == "done" && c["sid"].is_string()), "{calls:?}");
}

/// Every envelope a play posts, in arrival order.
async fn capture_server() -> (String, Arc<Mutex<Vec<Value>>>) {
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let store = seen.clone();
    let app = axum::Router::new().route(
        "/webhooks/aircall",
        axum::routing::post(move |body: axum::Json<Value>| {
            let store = store.clone();
            async move {
                store.lock().expect("capture lock").push(body.0);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

/// The simulator cannot drift from what Aircall's webhooks carry: every webhook
/// of every bundled scenario is checked against the one field table
/// (`simulate::fields`, aircall-api.md §4): no REST-only field (such as
/// `ivr_options_selected`, `sid`, `media_url`), every required field, nothing
/// the table does not know. The Aircall emulator meanwhile got each call's REST
/// view: no webhook-only field there, and the IVR choice is where REST shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bundled_scenario_posts_only_what_aircall_webhooks_carry() {
    switchboard_sandbox::install_crypto_provider();
    let sandbox = Sandbox::start(SandboxOptions::default()).await.expect("sandbox starts");
    let (url, seen) = capture_server().await;
    let world = World::bundled().expect("bundled world");
    let options = PlayOptions::new(&url, "capture-token").speed(Speed::Max).aircall(sandbox.aircall_url());
    let mut problems = Vec::new();
    let mut played = 0;
    for name in simulate::bundled_names() {
        let scenario = simulate::bundled(name, &world).unwrap_or_else(|e| panic!("{e}"));
        let before = seen.lock().expect("capture lock").len();
        let report = simulate::play(&scenario, &world, &options).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(report.rejected.is_empty() && report.aircall_failed.is_empty(), "{name}: {report:?}");
        let hooks = seen.lock().expect("capture lock")[before..].to_vec();
        assert_eq!(hooks.len(), report.posted, "{name}: every webhook captured");
        for hook in &hooks {
            played += 1;
            for key in ["resource", "event", "timestamp", "token", "data"] {
                if hook.get(key).is_none() {
                    problems.push(format!("{name} {}: envelope without `{key}` (§2.2)", hook["event"]));
                }
            }
            let resource = hook["resource"].as_str().unwrap_or_default();
            match Kind::of_resource(resource) {
                Some(kind) => problems
                    .extend(fields::check_webhook(kind, &hook["data"]).into_iter().map(|p| format!("{name} {}: {p}", hook["event"]))),
                None => problems.push(format!("{name} {}: resource `{resource}` has no row in the field table", hook["event"])),
            }
        }
    }
    assert!(played > 100, "only {played} webhooks played");
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));

    // The emulator's calls are REST views.
    let calls = sandbox.aircall().state().calls;
    assert!(calls.len() > 50, "{} calls upserted", calls.len());
    let rest_problems: Vec<String> = calls.iter().flat_map(|c| fields::check_rest(Kind::Call, c)).collect();
    assert!(rest_problems.is_empty(), "{rest_problems:?}");
    // ivr-switch: no webhook carried the choice; GET /v1/calls/:id?fetch_call_timeline=true does.
    let ivr = calls.iter().find(|c| c["ivr_options_selected"].as_array().is_some_and(|o| !o.is_empty())).expect("the ivr-switch call");
    let id = ivr["id"].as_u64().expect("call id");
    let http = reqwest::Client::new();
    let get = |q: &str| {
        http.get(format!("{}/v1/calls/{id}{q}", sandbox.aircall_url())).basic_auth("sandbox-api-id", Some("sandbox-api-token")).send()
    };
    let with: Value = get("?fetch_call_timeline=true").await.expect("GET call").json().await.expect("JSON");
    assert_eq!(with["call"]["ivr_options_selected"][0]["key"], "2", "{with}");
    assert_eq!(with["call"]["ivr_options_selected"][0]["title"], "Chat with us");
    let without: Value = get("").await.expect("GET call").json().await.expect("JSON");
    assert!(without["call"].get("ivr_options_selected").is_none(), "{without}");
    assert_eq!(without["call"]["status"], "done");
    let hooks = seen.lock().expect("capture lock").clone();
    let ivr_hook = hooks.iter().find(|h| h["event"] == "call.ivr_option_selected" && h["data"]["id"] == id).expect("the IVR webhook");
    assert!(ivr_hook["data"].get("ivr_options_selected").is_none());
}

#[test]
fn the_cli_names_a_broken_scenario_and_posts_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("broken.toml");
    std::fs::write(&path, "[[call]]\nkey = \"c\"\ndirection = \"inbound\"\nnumber = \"nowhere\"\nfrom = \"+33612345678\"\n")
        .expect("write");
    // Port 9 (discard): a post would fail; the check must come first.
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["simulate", path.to_str().unwrap_or_default(), "--to", "http://127.0.0.1:9"])
        .output()
        .expect("switchboard runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("no number `nowhere`") && stderr.contains("support-fr"), "{stderr}");
    let list = Command::new(env!("CARGO_BIN_EXE_switchboard")).args(["simulate", "--list"]).output().expect("runs");
    let list = String::from_utf8_lossy(&list.stdout);
    for name in ["inbound-answered", "inbound-missed-voicemail", "transfer", "whatsapp", "voice-agent-escalation", "many-concurrent"] {
        assert!(list.contains(name), "{name} missing from --list:\n{list}");
    }
}

//! The simulator end to end: scenario files played by `switchboard simulate`
//! (and the library behind it) into the real host, through the reference
//! plugin, into the sandbox emulators.

mod support;

use std::process::Command;

use support::rig::Rig;
use switchboard_sandbox::NOTES_TOKEN;

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
        .args(["simulate", "many-concurrent", "sms", "anonymous", "--speed", "max", "--quiet", "--to", &rig.host.url, "--token", support::TOKEN])
        .output()
        .expect("switchboard runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("200 webhooks accepted, 0 refused"), "{stderr}");
    rig.settle().await;
    let notes = rig.sandbox.notes().state().notes;
    // 50 calls × 4 events + 3 message events + 2 anonymous calls (4 + 3 events).
    assert_eq!(notes.len(), 200 + 3 + 7, "{}", rig.host.log());
    let calls: std::collections::BTreeSet<&str> = notes.iter().filter_map(|n| n.body["subject"].as_str()).filter(|s| s.starts_with("call:")).collect();
    assert_eq!(calls.len(), 52, "every concurrent call kept its own id");
    assert_eq!(notes.iter().filter(|n| n.body["number"] == "anonymous").count(), 7);
    assert!(notes.iter().any(|n| n.body["number"] == "+33640000050"), "{{n}} numbered the 50th caller");
}

#[test]
fn the_cli_names_a_broken_scenario_and_posts_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("broken.toml");
    std::fs::write(&path, "[[call]]\nkey = \"c\"\ndirection = \"inbound\"\nnumber = \"nowhere\"\nfrom = \"+33612345678\"\n").expect("write");
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

//! The demo, run as a newcomer would (in its quick mode): it must finish its
//! scenarios and print what each CRM now shows.

#![allow(clippy::expect_used)]

use std::process::Command;

#[test]
fn the_demo_plays_its_scenarios_and_prints_the_summary() {
    let data = std::env::temp_dir().join(format!("switchboard-demo-test-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_demo")).arg("--quick").arg("--data").arg(&data).output().expect("demo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let _ = std::fs::remove_dir_all(&data);
    assert!(out.status.success(), "demo failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    // Every scenario was played and accepted.
    for name in ["inbound-answered", "transfer", "sms", "whatsapp", "voice-agent-escalation"] {
        assert!(stderr.contains(&format!("▶ {name}")), "{name} not played:\n{stderr}");
    }
    assert!(!stderr.lines().any(|l| l.trim_start().starts_with("refused ")), "a webhook was refused:\n{stderr}");
    // Media links point at files the sandbox serves, on a host the plugins declare:
    // nothing is refused on the way, and no call upsert failed.
    assert!(!stderr.contains("undeclared host"), "a media link was refused:\n{stderr}");
    assert!(!stderr.contains("Aircall emulator did not take"), "{stderr}");
    // The reference plugin's work, as the summary shows it.
    assert!(stdout.contains("━━ Aircall"), "{stdout}");
    assert!(stdout.contains("━━ Notes API (reference plugin)"), "{stdout}");
    let cards = stdout.lines().find(|l| l.contains("insight cards shown:")).unwrap_or_default();
    let count: u32 = cards.rsplit(':').next().and_then(|n| n.trim().parse().ok()).unwrap_or(0);
    assert!(count >= 10, "one card per call.created: {cards}");
    assert!(stdout.contains("+33612345678"), "the caller's number in E.164:\n{stdout}");
    // It ends with the console to open: its address and a one-time sign-in
    // link, which the quick run follows itself (a session, then the overview).
    let console = stdout.lines().find(|l| l.starts_with("console  http://127.0.0.1:")).unwrap_or_default();
    assert!(console.contains("/sign-in?token="), "the console's URL and sign-in link:\n{stdout}");
    assert!(stdout.contains("console checked: the sign-in link opened a session and the overview answered"), "{stdout}");
    // Every connector built into dist/plugins shows what it did.
    let section = |name: &str| stdout.split("━━ ").find(|s| s.starts_with(name)).unwrap_or_default().to_string();
    let built = |p: &str| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist/plugins").join(p).join("plugin.wasm").exists();
    if built("intercom") {
        let s = section("Intercom");
        assert!(s.contains("Inbound answered call on Support FR") && s.contains("Ada Agent"), "{s}");
    }
    if built("helpscout") {
        let s = section("Help Scout");
        assert!(s.contains("Call from +33 6 12 34 56 78") && s.contains("phone"), "{s}");
        // The MMS files were fetched from the sandbox's file storage and attached.
        assert!(s.contains("attached: part.jpg (image/jpeg, 32768 bytes)"), "{s}");
    }
    if built("gorgias") {
        let s = section("Gorgias");
        assert!(s.contains("Inbound call: Chloé Client") && s.contains("SMS conversation with Chloé Client"), "{s}");
        assert!(s.contains("attached:") && s.contains("audio/mpeg"), "the call recording attached: {s}");
        assert!(s.lines().any(|l| l.contains("attached:") && l.contains("image/jpeg")), "the MMS photo attached: {s}");
    }
    if built("hubspot") {
        assert!(stdout.contains("Hello Chloé, your order has shipped."), "the workflow's SMS reached Aircall:\n{stdout}");
        assert!(section("HubSpot").contains("contacts 901"), "{}", section("HubSpot"));
    }
}

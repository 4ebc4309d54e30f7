//! Hot reload under a steady stream: the new version takes over, nothing is lost
//! or run twice; a corrupt component is rejected and the old version keeps serving.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn wait_version(host: &Host, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let h = host.healthz().await;
        if h["plugins"].as_array().unwrap().iter().any(|p| p == want) {
            return;
        }
        assert!(Instant::now() < deadline, "{want} never served; healthz {h}; log:\n{}", host.log());
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn new_version_takes_over_under_load_and_a_corrupt_one_is_rejected() {
    let crm = FakeCrm::start().await;
    let host = Arc::new(Host::start(&Host::config(&crm.url, "", 8), &["example"]).await);
    let folder = host.dir.path().join("plugins/example");

    let sender = {
        let host = host.clone();
        tokio::spawn(async move {
            for i in 0..150u64 {
                let (status, _) = host.post(&call_event("call.ended", 5000 + i, i as i64)).await;
                assert_eq!(status, 200);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    // New version: same component, new manifest version, written by rename.
    let manifest = std::fs::read_to_string(folder.join("plugin.toml")).unwrap().replace("version = \"0.1.0\"", "version = \"0.2.0\"");
    std::fs::write(folder.join(".plugin.toml.tmp"), manifest).unwrap();
    std::fs::rename(folder.join(".plugin.toml.tmp"), folder.join("plugin.toml")).unwrap();
    wait_version(&host, "example@0.2.0").await;

    sender.await.unwrap();
    let notes = crm.wait_for(Duration::from_secs(60), "150 notes", |n| n.len() >= 150).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(crm.notes().len(), 150, "lost or duplicated across the swap ({})", notes.len());

    // A corrupt component is rejected; 0.2.0 keeps serving.
    let manifest = std::fs::read_to_string(folder.join("plugin.toml")).unwrap().replace("version = \"0.2.0\"", "version = \"0.3.0\"");
    std::fs::write(folder.join("plugin.wasm"), b"\0asm garbage").unwrap();
    std::fs::write(folder.join("plugin.toml"), manifest).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !host.log().contains("plugin candidate rejected") {
        assert!(Instant::now() < deadline, "no rejection logged:\n{}", host.log());
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    wait_version(&host, "example@0.2.0").await;
    host.post(&call_event("call.ended", 9999, 1)).await;
    crm.wait_for(Duration::from_secs(20), "a note from the old version", |n| n.len() == 151).await;
}

/// A component's contract is what it imports: a plugin.toml that claims another
/// version is refused with both versions named, and the serving version stays.
#[tokio::test]
async fn a_manifest_claiming_another_contract_than_the_component_imports_is_refused() {
    let crm = FakeCrm::start().await;
    let host = Host::start(&Host::config(&crm.url, "", 8), &["example"]).await;
    wait_version(&host, "example@0.1.0").await;
    let manifest = host.dir.path().join("plugins/example/plugin.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert!(text.contains("contract = \"0.2.0\""), "the example is built on contract 0.2.0");
    let lying = text.replace("contract = \"0.2.0\"", "contract = \"0.1.0\"").replace("version = \"0.1.0\"", "version = \"0.1.1\"");
    std::fs::write(&manifest, lying).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !host.log().contains("imports switchboard:plugin@0.2.0") {
        assert!(Instant::now() < deadline, "no refusal naming both versions; log:\n{}", host.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(host.log().contains("plugin.toml says contract \"0.1.0\""), "{}", host.log());
    // Still served, at the old version.
    let h = host.healthz().await;
    assert!(h["plugins"].as_array().unwrap().iter().any(|p| p == "example@0.1.0"), "{h}");
    let (status, _) = host.post(&call_event("call.created", 77, 1)).await;
    assert_eq!(status, 200);
    crm.wait_for(Duration::from_secs(20), "the note, by the version still serving", |n| n.len() == 1).await;
}

//! Misbehaving plugins fail their own jobs with the right reason; others keep working.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::*;
use std::time::{Duration, Instant};

#[tokio::test]
async fn trap_loop_memory_bomb_and_undeclared_host_fail_only_their_jobs() {
    let crm = FakeCrm::start().await;
    let mut extra = String::new();
    for mode in ["trap", "loop", "oom", "undeclared-host"] {
        extra.push_str(&format!(
            "\n[[integrations]]\nid = \"chaos-{mode}\"\naccount = \"main\"\nplugin = \"chaos\"\nsettings = {{ mode = \"{mode}\" }}\n"
        ));
    }
    let host = Host::start(&Host::config(&crm.url, &extra, 8), &["example", "chaos"]).await;
    let (status, body) = host.post(&call_event("call.created", 9, 1)).await;
    assert_eq!(status, 200);
    assert_eq!(body["jobs"], 5, "{body}");
    // The well-behaved integration is not held up by the others.
    crm.wait_for(Duration::from_secs(20), "the example note", |n| n.len() == 1).await;

    let deadline = Instant::now() + Duration::from_secs(30);
    while count(&host.db(), "SELECT COUNT(*) FROM jobs WHERE state = 'dead'") < 4 {
        assert!(Instant::now() < deadline, "dead letters missing; log:\n{}", host.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let reason = |id: &str| -> String {
        let conn = rusqlite::Connection::open(host.db()).unwrap();
        conn.query_row("SELECT last_error FROM jobs WHERE integration = ?1", [id], |r| r.get(0)).unwrap()
    };
    assert!(reason("chaos-trap").contains("trapped"), "{}", reason("chaos-trap"));
    assert!(reason("chaos-loop").contains("deadline") && reason("chaos-loop").contains("on 3 attempts"), "{}", reason("chaos-loop"));
    assert_eq!(count(&host.db(), "SELECT attempts FROM jobs WHERE integration = 'chaos-loop'"), 3, "tried three times");
    assert!(reason("chaos-oom").contains("memory cap"), "{}", reason("chaos-oom"));
    assert!(reason("chaos-undeclared-host").contains("not declared"), "{}", reason("chaos-undeclared-host"));
    assert_eq!(count(&host.db(), "SELECT COUNT(*) FROM jobs WHERE integration = 'notes' AND state = 'done'"), 1);

    // The CLI shows them, and the host is still serving.
    let listing = host.cli(&["dead-letters", "list"]);
    assert!(listing.contains("chaos-oom") && listing.contains("memory cap"), "{listing}");
    host.post(&call_event("call.ended", 9, 2)).await;
    crm.wait_for(Duration::from_secs(20), "a second note", |n| n.len() == 2).await;
}

/// A deadline missed once (a loaded machine) is not the end of a job: it is
/// tried again and done, and only a plugin that loops every time becomes a
/// dead letter. With `timeout_attempts = 1`, the first miss is final.
#[tokio::test]
async fn a_job_cut_off_by_its_deadline_once_is_tried_again_and_done() {
    let crm = FakeCrm::start().await;
    let extra =
        "\n[[integrations]]\nid = \"chaos-slow-once\"\naccount = \"main\"\nplugin = \"chaos\"\nsettings = { mode = \"loop-first\" }\n";
    let host = Host::start(&Host::config(&crm.url, extra, 4), &["example", "chaos"]).await;
    let (status, _) = host.post(&call_event("call.created", 9, 1)).await;
    assert_eq!(status, 200);
    // `attempts` counts the attempts that failed: the one cut off.
    let done = "SELECT COUNT(*) FROM jobs WHERE integration = 'chaos-slow-once' AND state = 'done' AND attempts = 1";
    let deadline = Instant::now() + Duration::from_secs(30);
    while count(&host.db(), done) < 1 {
        assert_eq!(count(&host.db(), "SELECT COUNT(*) FROM jobs WHERE state = 'dead'"), 0, "dead-lettered; log:\n{}", host.log());
        assert!(Instant::now() < deadline, "the job was not done on its second attempt; log:\n{}", host.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(host);

    let config = Host::config(&crm.url, extra, 4).replace("[limits]\n", "[limits]\ntimeout_attempts = 1\n");
    assert!(config.contains("timeout_attempts = 1"), "the test config has no [limits] table:\n{config}");
    let host = Host::start(&config, &["example", "chaos"]).await;
    host.post(&call_event("call.created", 10, 1)).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while count(&host.db(), "SELECT COUNT(*) FROM jobs WHERE state = 'dead'") < 1 {
        assert!(Instant::now() < deadline, "no dead letter with timeout_attempts = 1; log:\n{}", host.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let conn = rusqlite::Connection::open(host.db()).unwrap();
    let reason: String = conn.query_row("SELECT last_error FROM jobs WHERE state = 'dead'", [], |r| r.get(0)).unwrap();
    assert!(reason.contains("deadline") && reason.contains("timeout_attempts = 1"), "{reason}");
}

#[tokio::test]
async fn eight_looping_plugins_hold_up_neither_other_jobs_nor_the_server() {
    let crm = FakeCrm::start().await;
    let mut extra = String::new();
    for i in 0..8 {
        extra.push_str(&format!(
            "\n[[integrations]]\nid = \"loop-{i}\"\naccount = \"main\"\nplugin = \"chaos\"\nsettings = {{ mode = \"loop\" }}\n"
        ));
    }
    let host = Host::start(&Host::config(&crm.url, &extra, 16), &["example", "chaos"]).await;
    let (status, body) = host.post(&call_event("call.created", 11, 1)).await;
    assert_eq!(status, 200);
    assert_eq!(body["jobs"], 9, "{body}");
    // While the eight loops spin towards their 3 s deadline, the server answers
    // and the well-behaved job runs: its note lands before any loop is cut off.
    let health = reqwest::get(format!("{}/healthz", host.url)).await.unwrap();
    assert!(health.status().is_success());
    assert_eq!(count(&host.db(), "SELECT COUNT(*) FROM jobs WHERE state = 'dead'"), 0, "the health check waited for the loops");
    crm.wait_for(Duration::from_secs(20), "the example note", |n| n.len() == 1).await;
    assert_eq!(count(&host.db(), "SELECT COUNT(*) FROM jobs WHERE state = 'dead'"), 0, "the example job waited for the loops to die");
    // And they do die, each on its own deadline.
    let deadline = Instant::now() + Duration::from_secs(30);
    while count(&host.db(), "SELECT COUNT(*) FROM jobs WHERE state = 'dead'") < 8 {
        assert!(Instant::now() < deadline, "loops not cut off; log:\n{}", host.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

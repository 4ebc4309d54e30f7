//! End-to-end scenario tests of the gorgias connector (simulator -> host -> plugin -> sandbox emulators).
//!
//! Each test plays Aircall webhooks into the real host running `dist/plugins/gorgias`
//! and asserts what landed in the Gorgias emulator (customers, tickets, messages,
//! tags, attachments) and in the Aircall emulator (insight cards).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::rig::Rig;
use serde_json::json;
use std::time::{Duration, Instant};
use switchboard_sandbox::gorgias::model::{GorgiasState, Ticket, User};
use switchboard_sandbox::{Fault, GorgiasRate, SandboxOptions};

/// The emulator's Basic credentials, as `email:api_key`.
const SECRET: &str = "operator@sandbox.test:sandbox-gorgias-key";
/// Gorgias users of the demo state: the admin and Ada.
const ADMIN: u64 = 17;
const ADA: u64 = 18;
/// Chloé, the Gorgias customer of the demo state.
const CHLOE: u64 = 90210;

/// The integration table: the emulator as the account domain, extra settings and table keys.
fn integration(settings: &str, extra: &str) -> String {
    format!("base_url = \"{{gorgias}}\"\nsettings = {{ {settings} }}\nsecrets = {{ api = \"{SECRET}\" }}\n{extra}\n")
}

async fn rig() -> Rig {
    Rig::start("gorgias", &integration("", "")).await
}

fn tag_names(s: &GorgiasState, t: &Ticket) -> Vec<String> {
    t.tag_ids.iter().filter_map(|id| s.tags.iter().find(|x| x.id == *id)).map(|x| x.name.clone()).collect()
}

fn text(m: &switchboard_sandbox::gorgias::model::Message) -> String {
    m.body_text.clone().unwrap_or_default()
}

/// Waits until the tickets satisfy `done`; returns the state.
async fn until(rig: &Rig, what: &str, done: impl Fn(&GorgiasState) -> bool) -> GorgiasState {
    rig.settle().await;
    rig.wait_for(what, |sb| {
        let s = sb.gorgias().state();
        done(&s).then_some(s)
    })
    .await
}

/// Gorgias API requests (the emulator's `/_media/` stand-in for Aircall's storage excluded).
fn api_requests(rig: &Rig) -> Vec<switchboard_sandbox::RequestRecord> {
    rig.sandbox.gorgias().requests().into_iter().filter(|r| r.path.starts_with("/api/")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insight_card_shows_the_gorgias_customer() {
    let rig = rig().await;
    rig.sandbox.gorgias().update(|s| {
        if let Some(c) = s.customers.iter_mut().find(|c| c.id == CHLOE) {
            c.note = Some("Prefers French. VIP since 2021.".into());
        }
    });
    rig.play(
        r#"
        [[call]]
        key = "c"
        direction = "inbound"
        number = "support-fr"
        from = "+33 6 12 34 56 78"
        [[step]]
        at = 0
        call = "c"
        event = "call.created"
    "#,
    )
    .await;
    rig.settle().await;
    let cards = rig
        .wait_for("an insight card", |sb| {
            let cards = sb.aircall().state().insight_cards;
            (!cards.is_empty()).then_some(cards)
        })
        .await;
    let card = serde_json::to_string(&cards[0].contents).unwrap();
    assert!(card.contains("Chloé Client"), "{card}");
    assert!(card.contains("chloe@acme.example"), "{card}");
    assert!(card.contains("Prefers French. VIP since 2021."), "{card}");
    assert!(card.contains(&format!("{}/app/customer/{CHLOE}", rig.sandbox.gorgias_url())), "{card}");
    // Nothing is written in Gorgias when a call only starts.
    assert!(rig.sandbox.gorgias().state().tickets.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answered_call_is_a_ticket_with_notes_tags_and_assignee() {
    let rig = rig().await;
    rig.play_bundled("inbound-answered").await;
    let s = until(&rig, "answered, comment and ended notes", |s| s.tickets.first().is_some_and(|t| t.messages.len() >= 3)).await;
    assert_eq!(s.tickets.len(), 1, "one ticket per call");
    let t = &s.tickets[0];
    assert_eq!(t.subject.as_deref(), Some("Inbound call: Chloé Client"));
    assert_eq!(t.channel, "phone");
    assert_eq!(t.status, "open");
    assert_eq!(t.customer_id, Some(CHLOE), "the existing customer, found by phone");
    assert_eq!(t.assignee_user_id, Some(ADA), "Ada's Aircall e-mail matches her Gorgias user");
    assert_eq!(s.customers.len(), 1, "no customer created");
    let tags = tag_names(&s, t);
    for want in ["Aircall", "Inbound call", "Support FR", "Tier 1", "Billing"] {
        assert!(tags.contains(&want.to_string()), "{want} missing from {tags:?}");
    }
    assert!(!tags.iter().any(|x| x == "Missed call" || x == "Voicemail"), "{tags:?}");
    for m in &t.messages {
        assert_eq!(m.channel, "internal-note");
        assert!(m.from_agent);
        assert_eq!(m.sender["id"], ADA, "on behalf of the agent");
        assert!(m.sent_datetime.is_some() && !m.would_send, "logged, never sent by Gorgias");
    }
    let (answered, comment, ended) = (text(&t.messages[0]), text(&t.messages[1]), text(&t.messages[2]));
    assert!(answered.starts_with("Inbound call answered by Ada Agent"), "{answered}");
    for want in [
        "Started:",
        "Answered:",
        "Direction: Inbound",
        "Customer number: +33612345678",
        "Aircall number: Support FR (+33 1 23 45 67 89)",
        "Team: Tier 1",
    ] {
        assert!(answered.contains(want), "{want} not in {answered}");
    }
    assert!(comment.contains("Customer wants the March invoice re-sent to accounting."), "{comment}");
    assert!(ended.starts_with("Inbound call ended"), "{ended}");
    for want in
        ["Ended:", "Duration: 1m 24s", "Assigned to: Ada Agent", "Call in Aircall: https://dashboard.aircall.io/calls/", "Recording: "]
    {
        assert!(ended.contains(want), "{want} not in {ended}");
    }
    assert!(!ended.contains("Customer wants the March invoice"), "a comment already written is not repeated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missed_call_with_voicemail_creates_the_customer_and_one_merged_note() {
    let rig = rig().await;
    rig.play_bundled("inbound-missed-voicemail").await;
    let s = until(&rig, "missed-call ticket with the voicemail note", |s| s.tickets.first().is_some_and(|t| t.messages.len() >= 2)).await;
    let c = s.customers.iter().find(|c| c.channels.iter().any(|ch| ch.address == "+33781234567")).expect("customer created");
    assert_eq!(c.name.as_deref(), Some("Aircall New Contact +33781234567"));
    assert_eq!(c.email.as_deref(), Some("aircall-33781234567@aircall.io"), "generated placeholder e-mail");
    assert!(c.note.as_deref().unwrap_or_default().contains("no Gorgias customer was found with the phone number +33781234567"));
    let t = &s.tickets[0];
    assert_eq!(s.tickets.len(), 1);
    assert_eq!(t.subject.as_deref(), Some("Inbound call: +33781234567"), "the number when there is no name");
    assert_eq!(t.customer_id, Some(c.id));
    assert_eq!(t.assignee_user_id, None, "nobody answered: unassigned");
    assert_eq!(t.status, "open");
    let merged = text(&t.messages[0]);
    assert!(merged.starts_with("Missed inbound call"), "{merged}");
    for want in ["Started:", "Customer number: +33781234567", "Ended:", "Missed call reason: agents did not answer", "Assigned to: nobody"]
    {
        assert!(merged.contains(want), "{want} not in {merged}");
    }
    assert_eq!(t.messages[0].sender["id"], ADMIN, "no agent: written as the first admin");
    assert!(text(&t.messages[1]).contains("Voicemail: https://"), "{}", text(&t.messages[1]));
    let tags = tag_names(&s, t);
    for want in ["Aircall", "Inbound call", "Support FR", "Tier 1", "Missed call", "Voicemail"] {
        assert!(tags.contains(&want.to_string()), "{want} missing from {tags:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aircall_contact_unknown_to_gorgias_is_created_with_its_first_name() {
    let rig = rig().await;
    rig.sandbox.gorgias().update(|s| s.customers.clear());
    rig.play_bundled("outbound-answered").await;
    let s = until(&rig, "outbound ticket ended", |s| s.tickets.first().is_some_and(|t| t.messages.len() >= 2)).await;
    assert_eq!(s.customers.len(), 1);
    let c = &s.customers[0];
    assert_eq!(c.firstname.as_deref(), Some("Chloé"));
    assert_eq!(c.email.as_deref(), Some("chloe@acme.example"));
    assert!(c.channels.iter().any(|ch| ch.kind == "phone" && ch.address == "+33612345678"));
    assert!(
        c.note.as_deref().unwrap_or_default().contains("not found")
            || c.note.as_deref().unwrap_or_default().contains("no Gorgias customer")
    );
    let t = &s.tickets[0];
    assert_eq!(t.subject.as_deref(), Some("Outbound call: Chloé Client"));
    assert_eq!(t.assignee_user_id, None, "Bob has no Gorgias user: unassigned");
    assert_eq!(t.messages[0].sender["id"], ADMIN, "Bob has no Gorgias user: notes as the first admin");
    assert!(tag_names(&s, t).contains(&"Outbound call".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_created_in_aircall_is_synced_once() {
    let rig = rig().await;
    let contact = |event: &str| {
        json!({
            "resource": "contact", "event": event, "timestamp": 1_767_000_000, "token": crate::support::TOKEN,
            "data": { "id": 4242, "first_name": "Dora", "last_name": "Dupont", "company_name": "Dupont SA",
                      "phone_numbers": [{ "id": 1, "label": "Mobile", "value": "+33 6 99 88 77 66" }], "emails": [] }
        })
    };
    assert_eq!(rig.host.post(&contact("contact.created")).await.0, 200);
    let s = until(&rig, "customer created", |s| s.customers.len() == 2).await;
    let c = s.customers.iter().find(|c| c.id != CHLOE).unwrap();
    assert_eq!(c.firstname.as_deref(), Some("Dora"));
    assert_eq!(c.email.as_deref(), Some("aircall-33699887766@aircall.io"), "generic e-mail when Aircall has none");
    assert!(c.note.as_deref().unwrap_or_default().contains("no Gorgias customer was found with the phone number +33699887766"));
    // An update of a contact Gorgias now knows creates nothing.
    let mut updated = contact("contact.updated");
    updated["timestamp"] = json!(1_767_000_100);
    assert_eq!(rig.host.post(&updated).await.0, 200);
    rig.settle().await;
    assert_eq!(rig.sandbox.gorgias().state().customers.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_conversation_is_one_ticket_with_customer_and_agent_messages() {
    let rig = rig().await;
    rig.play_bundled("sms").await;
    let s = until(&rig, "both SMS logged", |s| s.tickets.first().is_some_and(|t| t.messages.len() >= 2)).await;
    assert_eq!(s.tickets.len(), 1, "the reply goes to the open conversation");
    let t = &s.tickets[0];
    assert_eq!(t.subject.as_deref(), Some("SMS conversation with Chloé Client"));
    assert_eq!(t.channel, "sms");
    assert_eq!(t.status, "open");
    assert_eq!(t.customer_id, Some(CHLOE));
    let tags = tag_names(&s, t);
    assert_eq!(tags, vec!["Aircall SMS".to_string(), "Support FR".to_string()]);
    let (inbound, outbound) = (&t.messages[0], &t.messages[1]);
    assert_eq!(inbound.channel, "sms");
    assert!(!inbound.from_agent);
    assert_eq!(inbound.sender["id"], CHLOE, "inbound: the customer writes");
    assert_eq!(text(inbound), "Bonjour, pouvez-vous me rappeler ?");
    assert!(outbound.from_agent);
    assert_eq!(outbound.sender["id"], ADA, "outbound: the Aircall user writes");
    assert_eq!(outbound.receiver["id"], CHLOE);
    assert!(outbound.sent_datetime.is_some() && !outbound.would_send, "sent_datetime set: Gorgias does not send it again");
    assert_eq!(text(outbound), "Bien sûr, Ada vous rappelle dans 10 minutes.");
}

/// A conversation ticket as the connector would have left it, closed `hours_ago`.
fn closed_conversation(id: u64, hours_ago: i64, spam: bool) -> Ticket {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let closed = switchboard_sandbox::gorgias::model::dt(now - hours_ago * 3600);
    Ticket {
        id,
        status: "closed".into(),
        channel: "sms".into(),
        via: "api".into(),
        subject: Some("SMS conversation with Chloé Client".into()),
        customer_id: Some(CHLOE),
        spam,
        priority: "normal".into(),
        external_id: Some("aircall-sms:2001:+33612345678".into()),
        created_at: now - hours_ago * 3600 - 600,
        updated_at: now - hours_ago * 3600,
        closed_datetime: Some(closed),
        ..Ticket::default()
    }
}

const ONE_SMS: &str = r#"
    [[message]]
    key = "in"
    direction = "inbound"
    number = "support-fr"
    external = "+33 6 12 34 56 78"
    body = "Encore moi"
    [[step]]
    at = 0
    message = "in"
    event = "message.received"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_reopens_a_conversation_closed_less_than_72_hours_ago() {
    let rig = rig().await;
    rig.sandbox.gorgias().update(|s| s.tickets.push(closed_conversation(7001, 48, false)));
    rig.play(ONE_SMS).await;
    let s = until(&rig, "message on the reopened ticket", |s| s.tickets.iter().any(|t| !t.messages.is_empty())).await;
    assert_eq!(s.tickets.len(), 1, "no new ticket");
    let t = &s.tickets[0];
    assert_eq!(t.id, 7001);
    assert_eq!(t.status, "open", "reopened");
    assert_eq!(text(&t.messages[0]), "Encore moi");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_after_the_reopen_window_or_on_spam_starts_a_new_ticket() {
    let rig = rig().await;
    rig.sandbox.gorgias().update(|s| s.tickets.push(closed_conversation(7001, 100, false)));
    rig.play(ONE_SMS).await;
    let s = until(&rig, "a new ticket", |s| s.tickets.len() == 2 && s.tickets[1].messages.len() == 1).await;
    assert_eq!(s.tickets[0].status, "closed", "the old conversation stays closed");
    assert!(s.tickets[0].messages.is_empty());
    assert_eq!(s.tickets[1].status, "open");

    // The newest conversation is marked spam: never written to, a new one starts.
    rig.sandbox.gorgias().update(|s| {
        s.tickets.clear();
        let mut t = closed_conversation(7002, 1, true);
        t.status = "open".into();
        s.tickets.push(t);
    });
    rig.play(ONE_SMS).await;
    let s = until(&rig, "a ticket beside the spam one", |s| s.tickets.len() == 2 && s.tickets[1].messages.len() == 1).await;
    assert!(s.tickets[0].messages.is_empty(), "nothing written on spam");

    // A deleted (trashed) one neither.
    rig.sandbox.gorgias().update(|s| {
        s.tickets.clear();
        let mut t = closed_conversation(7003, 1, false);
        t.status = "open".into();
        t.trashed_datetime = Some("2026-01-01T00:00:00+00:00".into());
        s.tickets.push(t);
    });
    rig.play(ONE_SMS).await;
    let s = until(&rig, "a ticket beside the trashed one", |s| s.tickets.len() == 2 && s.tickets[1].messages.len() == 1).await;
    assert!(s.tickets[0].messages.is_empty(), "nothing written on a deleted ticket");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mms_images_and_pdfs_are_uploaded_as_attachments() {
    let rig = rig().await;
    let media = rig.sandbox.gorgias_url().to_string() + "/_media";
    rig.play(&format!(
        r#"
        [[message]]
        key = "in"
        direction = "inbound"
        number = "sales-us"
        external = "+1 415-555-0142"
        body = "Here is the damaged part and the invoice"
        media = [
          {{ file_name = "part.jpg", file_type = "image/jpeg", presigned_url = "{media}/part.jpg?bytes=2048&type=image/jpeg" }},
          {{ file_name = "invoice.pdf", file_type = "application/pdf", presigned_url = "{media}/invoice.pdf?bytes=4096&type=application/pdf" }},
          {{ file_name = "song.mp3", file_type = "audio/mpeg", presigned_url = "{media}/song.mp3?bytes=4096&type=audio/mpeg" }},
        ]
        [[step]]
        at = 0
        message = "in"
        event = "message.received"
    "#
    ))
    .await;
    let s = until(&rig, "the MMS", |s| s.tickets.first().is_some_and(|t| !t.messages.is_empty())).await;
    let m = &s.tickets[0].messages[0];
    let names: Vec<&str> = m.attachments.iter().filter_map(|a| a["name"].as_str()).collect();
    assert_eq!(names, vec!["part.jpg", "invoice.pdf"], "images and PDFs only");
    assert!(m.attachments.iter().all(|a| a["uploaded"] == true), "uploaded to Gorgias first: {:?}", m.attachments);
    assert_eq!(s.uploads.len(), 2);
    assert_eq!(s.uploads[0].size, 2048);
    assert_eq!(s.uploads[1].content_type, "application/pdf");
    assert_eq!(text(m), "Here is the damaged part and the invoice");
    assert_eq!(s.tickets[0].subject.as_deref(), Some("SMS conversation with +14155550142"));
}

/// A call answered by Ada, ended, then commented with the recording at `recording`.
fn commented_call(recording: &str) -> String {
    format!(
        r#"
        [[call]]
        key = "c"
        direction = "inbound"
        number = "support-fr"
        from = "+33 6 12 34 56 78"
        [[step]]
        at = 0
        call = "c"
        event = "call.answered"
        user = "ada"
        [[step]]
        at = 60
        call = "c"
        event = "call.ended"
        data = {{ recording = "{recording}" }}
        [[step]]
        at = 90
        call = "c"
        event = "call.commented"
        comment = "Call back on Monday."
        user = "ada"
        data = {{ recording = "{recording}" }}
    "#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comment_after_the_call_adds_a_note_with_the_recording() {
    let rig = rig().await;
    let url = format!("{}/_media/rec.mp3?bytes=30000&type=audio/mpeg", rig.sandbox.gorgias_url());
    rig.play(&commented_call(&url)).await;
    let s = until(&rig, "three notes", |s| s.tickets.first().is_some_and(|t| t.messages.len() >= 3)).await;
    let note = &s.tickets[0].messages[2];
    assert!(text(note).contains("Call back on Monday."), "{}", text(note));
    assert_eq!(note.sender["id"], ADA);
    assert_eq!(note.attachments.len(), 1, "the recording is attached");
    assert_eq!(note.attachments[0]["uploaded"], true);
    assert_eq!(s.uploads[0].size, 30000);
}

/// Aircall's recording links are presigned S3 `GET` URLs, which answer `HEAD`
/// with 403 (the sandbox's `/_sandbox/media` does the same): the recording is
/// still fetched (one bounded `GET`) and uploaded to Gorgias.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_behind_a_presigned_get_link_is_uploaded() {
    let rig = Rig::start("gorgias", &integration("upload_max_bytes = 1000000", "")).await;
    let url = format!("{}/_sandbox/media/rec.mp3?bytes=30000&type=audio/mpeg", rig.sandbox.gorgias_url());
    let head = reqwest::Client::new().head(&url).send().await.unwrap();
    assert_eq!(head.status().as_u16(), 403, "the media route refuses HEAD like S3");
    rig.play(&commented_call(&url)).await;
    let s = until(&rig, "three notes", |s| s.tickets.first().is_some_and(|t| t.messages.len() >= 3)).await;
    let note = &s.tickets[0].messages[2];
    assert_eq!(note.attachments.len(), 1, "the recording is attached: {}\n{}", text(note), rig.host.log());
    assert_eq!(note.attachments[0]["uploaded"], true);
    assert_eq!(s.uploads.len(), 1);
    assert_eq!(s.uploads[0].size, 30000);
    assert_eq!(s.uploads[0].content_type, "audio/mpeg");
    assert!(!text(note).contains("not uploaded"), "{}", text(note));
}

/// A file over `upload_max_bytes` behind a presigned `GET` link is linked, with
/// its size read from the ranged answer's `Content-Range`, and not uploaded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_over_the_upload_limit_behind_a_presigned_get_link_is_linked() {
    let rig = Rig::start("gorgias", &integration("upload_max_bytes = 1000000", "")).await;
    let url = format!("{}/_sandbox/media/rec.mp3?bytes=2500000&type=audio/mpeg", rig.sandbox.gorgias_url());
    rig.play(&commented_call(&url)).await;
    let s = until(&rig, "three notes", |s| s.tickets.first().is_some_and(|t| t.messages.len() >= 3)).await;
    let note = &s.tickets[0].messages[2];
    assert!(note.attachments.is_empty(), "{:?}", note.attachments);
    assert!(s.uploads.is_empty(), "nothing uploaded");
    assert!(text(note).contains(&format!("Recording: {url} (not uploaded: 2 MB)")), "{}", text(note));
    assert!(!api_requests(&rig).iter().any(|r| r.path == "/api/upload"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recording_over_500_mb_is_linked_not_uploaded() {
    let rig = rig().await;
    let url = format!("{}/_media/rec.mp3?bytes=600000000&type=audio/mpeg", rig.sandbox.gorgias_url());
    rig.play(&commented_call(&url)).await;
    let s = until(&rig, "three notes", |s| s.tickets.first().is_some_and(|t| t.messages.len() >= 3)).await;
    let note = &s.tickets[0].messages[2];
    assert!(note.attachments.is_empty(), "{:?}", note.attachments);
    assert!(s.uploads.is_empty(), "nothing uploaded");
    assert!(text(note).contains(&format!("Recording: {url} (not uploaded: 600 MB)")), "{}", text(note));
    assert!(!api_requests(&rig).iter().any(|r| r.path == "/api/upload"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_without_gorgias_user_is_unassigned_and_writes_as_the_first_admin() {
    let rig = rig().await;
    rig.sandbox.gorgias().update(|s| s.users.retain(|u| u.id != ADA));
    rig.play_bundled("sms").await;
    let s = until(&rig, "both SMS", |s| s.tickets.first().is_some_and(|t| t.messages.len() >= 2)).await;
    assert_eq!(s.tickets[0].assignee_user_id, None);
    assert_eq!(s.tickets[0].messages[1].sender["id"], ADMIN, "Ada's reply is written as the first admin");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_any_admin_nothing_is_written_and_the_reason_is_visible() {
    let rig = rig().await;
    let olga = User {
        id: 19,
        email: "olga@example.com".into(),
        firstname: "Olga".into(),
        role: "observer-agent".into(),
        active: true,
        ..User::default()
    };
    rig.sandbox.gorgias().update(|s| s.users = vec![olga]);
    rig.play_bundled("outbound-answered").await;
    rig.settle().await;
    let dead = rig
        .wait_for("a dead letter with the reason", |_| {
            let out = rig.host.cli(&["dead-letters", "list"]);
            out.contains("no admin").then_some(out)
        })
        .await;
    assert!(dead.contains("bob@example.com"), "{dead}");
    assert!(rig.sandbox.gorgias().state().tickets.is_empty(), "no ticket without a user to write as");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_selected_numbers_produce_tickets() {
    let rig = Rig::start("gorgias", &integration("", "numbers = [2002]")).await;
    rig.play_bundled("inbound-answered").await; // Support FR: not selected
    rig.play_bundled("mms").await; // Sales US: selected
    let s = until(&rig, "the Sales US conversation", |s| !s.tickets.is_empty()).await;
    assert_eq!(s.tickets.len(), 1);
    assert_eq!(s.tickets[0].channel, "sms");
    assert!(tag_names(&s, &s.tickets[0]).contains(&"Sales US".to_string()));
    assert!(!api_requests(&rig).iter().any(|r| r.body.to_string().contains("+33612345678")), "Support FR's call never reached Gorgias");
    assert!(rig.sandbox.aircall().state().insight_cards.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_request_then_call_back_are_tagged() {
    let rig = rig().await;
    rig.play(
        r#"
        [[call]]
        key = "missed"
        direction = "inbound"
        number = "support-fr"
        from = "+33 6 12 34 56 78"
        [[step]]
        at = 0
        call = "missed"
        event = "call.created"
        [[step]]
        at = 5
        call = "missed"
        event = "call.ivr_option_selected"
        ivr = { key = "3", title = "Request a callback", branch = "callback" }
        [[step]]
        at = 20
        call = "missed"
        event = "call.hungup"
        missed_call_reason = "abandoned_in_ivr"
        [[step]]
        at = 50
        call = "missed"
        event = "call.ended"
    "#,
    )
    .await;
    until(&rig, "the callback request", |s| s.tickets.len() == 1).await;
    // Ten minutes later (another scenario: calls of different ids run in parallel).
    rig.play(
        r#"
        [[call]]
        key = "back"
        direction = "outbound"
        number = "support-fr"
        from = "+33 6 12 34 56 78"
        user = "ada"
        [[step]]
        at = 0
        call = "back"
        event = "call.answered"
        user = "ada"
        [[step]]
        at = 100
        call = "back"
        event = "call.ended"
    "#,
    )
    .await;
    let s = until(&rig, "the call back logged", |s| s.tickets.len() == 2 && s.tickets[1].messages.len() >= 2).await;
    let (request, back) = (&s.tickets[0], &s.tickets[1]);
    let request_tags = tag_names(&s, request);
    assert!(request_tags.contains(&"Callback request".to_string()), "{request_tags:?}");
    assert!(request_tags.contains(&"Missed call".to_string()), "{request_tags:?}");
    assert!(request_tags.contains(&"Called back".to_string()), "the request's ticket says it was honoured: {request_tags:?}");
    assert!(text(&request.messages[0]).contains("IVR options: 3 – Request a callback"), "{}", text(&request.messages[0]));
    let back_tags = tag_names(&s, back);
    assert!(back_tags.contains(&"Called back".to_string()) && back_tags.contains(&"Outbound call".to_string()), "{back_tags:?}");
    assert!(!back_tags.contains(&"Callback request".to_string()), "{back_tags:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_chosen_in_settings_only() {
    let rig = Rig::start("gorgias", &integration(r#"tags = ["direction", "missed"]"#, "")).await;
    rig.play_bundled("inbound-missed-voicemail").await;
    let s = until(&rig, "the missed call", |s| s.tickets.first().is_some_and(|t| t.messages.len() >= 2)).await;
    assert_eq!(tag_names(&s, &s.tickets[0]), vec!["Inbound call".to_string(), "Missed call".to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_credentials_pause_the_integration_and_events_are_held() {
    let rig = rig().await;
    rig.sandbox.gorgias().inject(Fault { fail_next: 1000, status: Some(401), path_prefix: Some("/api/".into()), ..Fault::default() });
    rig.play_bundled("sms").await;
    let listed = rig
        .wait_for("the integration paused", |_| {
            let out = rig.host.cli(&["integrations", "list"]);
            out.contains("paused").then_some(out)
        })
        .await;
    assert!(listed.contains("401"), "the reason is visible: {listed}");
    assert!(rig.sandbox.gorgias().state().tickets.is_empty());
    // Authorisation restored and the integration resumed: the held events are logged.
    rig.sandbox.gorgias().clear_faults();
    let out = rig.host.cli(&["integrations", "resume", "gorgias"]);
    assert!(!out.to_lowercase().contains("error"), "{out}");
    let s = until(&rig, "held SMS logged", |s| s.tickets.first().is_some_and(|t| t.messages.len() >= 2)).await;
    assert_eq!(s.tickets.len(), 1);
}

/// Requests the connector spends per logged call once its caches are warm.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_economy_per_logged_call() {
    let rig = rig().await;
    let call = |key: &str| {
        format!(
            r#"
            [[call]]
            key = "{key}"
            direction = "inbound"
            number = "support-fr"
            from = "+33 6 12 34 56 78"
            teams = ["tier-1"]
            [[step]]
            at = 0
            call = "{key}"
            event = "call.created"
            [[step]]
            at = 5
            call = "{key}"
            event = "call.answered"
            user = "ada"
            [[step]]
            at = 65
            call = "{key}"
            event = "call.hungup"
            [[step]]
            at = 95
            call = "{key}"
            event = "call.ended"
        "#
        )
    };
    rig.play(&call("cold")).await;
    until(&rig, "first call", |s| s.tickets.first().is_some_and(|t| t.messages.len() >= 2)).await;
    let cold = api_requests(&rig).len();
    rig.sandbox.gorgias().clear_requests();
    rig.play(&call("warm")).await;
    until(&rig, "second call", |s| s.tickets.get(1).is_some_and(|t| t.messages.len() >= 2)).await;
    let warm = api_requests(&rig);
    let list: Vec<String> = warm.iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    println!("gorgias requests per logged call: cold cache {cold}, warm cache {} ({list:?})", warm.len());
    assert!(warm.len() <= 5, "at most 5 per call with a warm cache: {list:?}");

    rig.sandbox.gorgias().clear_requests();
    rig.play_bundled("sms").await;
    until(&rig, "SMS", |s| s.tickets.iter().any(|t| t.channel == "sms" && t.messages.len() >= 2)).await;
    let sms = api_requests(&rig);
    let list: Vec<String> = sms.iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    println!("gorgias requests for two SMS of one conversation (warm): {} ({list:?})", sms.len());
    assert!(sms.len() <= 4, "{list:?}");
}

/// 50 calls at once against Gorgias's real limit (40 requests per 20 s for an API
/// key), a third of which a hidden second client spends. Takes about 3 minutes.
///
/// Ignored: every call is logged and nothing is sent before a `Retry-after`
/// elapsed, but with the manifest's real budget (40 per 20 s) about 100 requests
/// answer 429, because the host's bucket keeps refilling at the declared rate
/// while the account only has two thirds of it left; the Gorgias header only
/// stops it at `used >= limit`. Measured in plugins/gorgias/BENCHMARKS.md (with
/// a declared 26 per 20 s: 0 × 429, same total time). Run it with `--ignored`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burst_of_50_calls_under_the_real_rate_limit() {
    let options = SandboxOptions { gorgias_rate: GorgiasRate { limit: 40, window_secs: 20 }, ..Default::default() };
    let rig = Rig::start_with(options, "gorgias", &integration("", "")).await;
    rig.sandbox.gorgias().inject(Fault { foreign_usage_per_window: Some(13), ..Fault::default() });
    let started = Instant::now();
    rig.play_bundled("many-concurrent").await;
    let deadline = Instant::now() + Duration::from_secs(420);
    loop {
        let s = rig.sandbox.gorgias().state();
        let done = s.tickets.len() == 50 && s.tickets.iter().all(|t| t.messages.len() >= 2 && t.status == "open");
        if done {
            break;
        }
        assert!(Instant::now() < deadline, "not every call logged: {} tickets\n{}", s.tickets.len(), rig.host.log());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let elapsed = started.elapsed();
    let reqs = api_requests(&rig);
    let limited: Vec<&switchboard_sandbox::RequestRecord> = reqs.iter().filter(|r| r.status == 429).collect();
    // After a 429 nothing new is sent before its Retry-after elapsed (requests
    // already in flight when it was answered may still land within 100 ms).
    let mut early = Vec::new();
    for r in &limited {
        let wait_ms = r.response_body["error"]["data"]["retry_after"].as_i64().unwrap_or(1) * 1000;
        early.extend(reqs.iter().map(|x| x.timestamp_ms - r.timestamp_ms).filter(|d| *d > 100 && *d < wait_ms - 50));
    }
    println!(
        "50 calls: {} Gorgias requests, {} answered 429, {} sent before a Retry-after elapsed; all logged after {elapsed:?}",
        reqs.len(),
        limited.len(),
        early.len()
    );
    assert!(early.is_empty(), "requests sent before Retry-after elapsed (ms after the 429): {early:?}");
    assert!(limited.len() <= 5, "no more than a handful of 429s: {}", limited.len());
    let s = rig.sandbox.gorgias().state();
    assert_eq!(s.customers.len(), 51, "one customer per caller, no duplicates");
    assert!(s.tickets.iter().all(|t| t.assignee_user_id == Some(ADA)));
}

//! End-to-end scenario tests of the intercom connector (simulator -> host -> plugin -> sandbox emulators).
//!
//! Each test plays Aircall webhooks into the real host running `dist/plugins/intercom`
//! and asserts what landed in the Intercom and Aircall emulators. One test per
//! behaviour point of issue 5, then the faults and the API-economy count.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::rig::Rig;
use serde_json::Value;
use switchboard_sandbox::Fault;
use switchboard_sandbox::intercom::model::{Contact, Conversation, IntercomSeed, IntercomState, Part};

/// The admins of the emulator's demo workspace: the token owner, Ada, Bob.
const OPERATOR: u64 = 991_001;
const ADA: u64 = 991_002;
const BOB: u64 = 991_003;

async fn rig_with(settings: &str) -> Rig {
    let snippet = format!(
        "base_url = \"{{intercom}}\"\nsettings = {{ app_url = \"https://app.intercom.test\"{settings} }}\nsecrets = {{ token = \"sandbox-intercom-token\" }}\n"
    );
    Rig::start("intercom", &snippet).await
}

async fn rig() -> Rig {
    rig_with("").await
}

fn contact(name: &str, role: &str, phone: &str, email: Option<&str>) -> Contact {
    Contact {
        role: role.into(),
        name: Some(name.into()),
        phone: Some(phone.into()),
        email: email.map(str::to_string),
        created_at: 1_700_000_000,
        updated_at: 1_700_000_000,
        ..Contact::default()
    }
}

/// Seeds contacts and answers their ids, in order.
fn seed(rig: &Rig, contacts: Vec<Contact>) -> Vec<String> {
    let before: Vec<String> = rig.sandbox.intercom().state().contacts.iter().map(|c| c.id.clone()).collect();
    rig.sandbox.intercom().seed(IntercomSeed { contacts, ..IntercomSeed::default() });
    rig.sandbox.intercom().state().contacts.iter().map(|c| c.id.clone()).filter(|id| !before.contains(id)).collect()
}

const CHLOE: &str = "6650f0c2e4b0a1b2c3d4e5f6";

fn conversations_of(s: &IntercomState, contact_id: &str) -> Vec<Conversation> {
    s.conversations.iter().filter(|c| c.contact_ids.iter().any(|id| id == contact_id)).cloned().collect()
}

fn notes(c: &Conversation) -> Vec<String> {
    c.parts.iter().filter(|p| p.part_type == "note").filter_map(|p| p.body.clone()).collect()
}

fn comments(c: &Conversation) -> Vec<String> {
    c.parts.iter().filter(|p| p.part_type == "comment").filter_map(|p| p.body.clone()).collect()
}

fn tag_names(s: &IntercomState, c: &Conversation) -> Vec<String> {
    c.tags.iter().filter_map(|a| s.tags.iter().find(|t| t.id == a.id).map(|t| t.name.clone())).collect()
}

/// A call scenario: `steps` are `(at, event, extra TOML lines)`.
fn call(direction: &str, number: &str, from: &str, steps: &[(u32, &str, &str)]) -> String {
    call_as(direction, number, from, None, steps)
}

/// A call made (outbound) or first handled by `user`.
fn call_as(direction: &str, number: &str, from: &str, user: Option<&str>, steps: &[(u32, &str, &str)]) -> String {
    let mut s = format!("[[call]]\nkey = \"c\"\ndirection = \"{direction}\"\nnumber = \"{number}\"\nfrom = \"{from}\"\n");
    if let Some(u) = user {
        s += &format!("user = \"{u}\"\n");
    }
    for (at, event, extra) in steps {
        s += &format!("\n[[step]]\nat = {at}\ncall = \"c\"\nevent = \"{event}\"\n{extra}\n");
    }
    s
}

fn answered_inbound(from: &str, user: &str) -> String {
    call(
        "inbound",
        "support-fr",
        from,
        &[(0, "call.created", ""), (12, "call.answered", &format!("user = \"{user}\"")), (197, "call.hungup", ""), (227, "call.ended", "")],
    )
}

fn missed_inbound(from: &str) -> String {
    call("inbound", "support-fr", from, &[(0, "call.created", ""), (30, "call.hungup", ""), (60, "call.ended", "")])
}

/// Waits for the contact's single conversation to have at least `parts` parts.
async fn logged(rig: &Rig, contact_id: &str, parts: usize) -> Conversation {
    let id = contact_id.to_string();
    rig.wait_for("a logged conversation", move |sb| {
        let s = sb.intercom().state();
        conversations_of(&s, &id).into_iter().find(|c| c.parts.len() >= parts)
    })
    .await
}

fn card_texts(rig: &Rig) -> Vec<Vec<Value>> {
    rig.sandbox.aircall().state().insight_cards.iter().map(|c| c.contents.clone()).collect()
}

fn item<'a>(card: &'a [Value], label: &str) -> Option<&'a Value> {
    card.iter().find(|i| i["label"] == label || i["text"] == label)
}

// 1. Contact sync ------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_sync_copies_the_intercom_user_into_aircall_with_a_link_back() {
    let rig = rig().await;
    let ids = seed(&rig, vec![contact("Dana Diaz", "user", "07 62 04 35 75", Some("dana@northwind.example"))]);
    rig.play(&call("inbound", "support-fr", "+33 7 62 04 35 75", &[(0, "call.created", "")])).await;
    let synced = rig
        .wait_for("the Aircall contact", |sb| {
            sb.aircall().state().contacts.into_iter().find(|c| c.phone_numbers.iter().any(|p| p.value == "+33762043575"))
        })
        .await;
    assert_eq!(synced.first_name.as_deref(), Some("Dana"));
    assert_eq!(synced.last_name.as_deref(), Some("Diaz"));
    assert!(synced.emails.iter().any(|e| e.value == "dana@northwind.example"), "{synced:?}");
    let info = synced.information.clone().unwrap_or_default();
    assert!(info.starts_with("Edit in Intercom: https://app.intercom.test/a/apps/"), "{info}");
    assert!(info.contains(&format!("/users/{}", ids[0])), "{info}");

    // With the setting off, nothing is copied.
    let off = rig_with(", contact_sync = false").await;
    seed(&off, vec![contact("Eve Ek", "user", "+46 70 123 45 67", None)]);
    off.play(&call("inbound", "support-fr", "+46701234567", &[(0, "call.created", "")])).await;
    off.settle().await;
    assert!(!off.sandbox.aircall().state().contacts.iter().any(|c| c.phone_numbers.iter().any(|p| p.value == "+46701234567")));
    assert_eq!(card_texts(&off).len(), 1, "the card is still shown");
}

// 2. Insight cards -----------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insight_cards_show_the_contact_and_the_last_conversation_with_owner_availability() {
    let rig = rig().await;
    // Chloé has a closed conversation and a newer-but-older-than-open one: the open one wins.
    rig.sandbox.intercom().update(|s| {
        for (id, state, updated_at, assignee) in [("5001", "closed", 1_700_000_900, Some(ADA)), ("5002", "open", 1_700_000_500, Some(BOB))]
        {
            s.conversations.push(Conversation {
                id: id.into(),
                state: state.into(),
                created_at: 1_700_000_000,
                updated_at,
                admin_assignee_id: assignee,
                contact_ids: vec![CHLOE.into()],
                source_type: "conversation".into(),
                delivered_as: "customer_initiated".into(),
                source_body: "Bonjour".into(),
                ..Conversation::default()
            });
        }
    });
    rig.play(&call("inbound", "support-fr", "+33 6 12 34 56 78", &[(0, "call.created", "")])).await;
    let cards = rig.wait_for("two cards", |sb| (sb.aircall().state().insight_cards.len() >= 2).then(|| card_texts_of(sb))).await;
    let contact = &cards[0];
    let see = item(contact, "See contact page").expect("contact link");
    assert_eq!(see["link"], format!("https://app.intercom.test/a/apps/sbx1a2b3/users/{CHLOE}/all-conversations"));
    assert_eq!(item(contact, "Name").unwrap()["text"], "Chloé Client");
    assert_eq!(item(contact, "Type").unwrap()["text"], "User");
    let conv = &cards[1];
    assert_eq!(item(conv, "See last conversation").unwrap()["link"], "https://app.intercom.test/a/inbox/sbx1a2b3/inbox/conversation/5002");
    assert_eq!(item(conv, "Status").unwrap()["text"], "Open");
    // Bob is "in_call" in the Aircall emulator and has the same e-mail as admin 991003.
    assert_eq!(item(conv, "Owner").unwrap()["text"], "Bob Builder (in call)");

    // A number nobody has, creation on: the number and "Aircall new user/lead", type lead.
    rig.play(&call("inbound", "support-fr", "+33 6 99 88 77 66", &[(0, "call.created", "")])).await;
    let cards = rig.wait_for("the new-lead card", |sb| (sb.aircall().state().insight_cards.len() >= 3).then(|| card_texts_of(sb))).await;
    let card = &cards[2];
    assert_eq!(item(card, "Name").unwrap()["text"], "+33 6 99 88 77 66 — Aircall new user/lead");
    assert_eq!(item(card, "Type").unwrap()["text"], "Lead");
    assert!(cards.len() == 3, "no conversation card for a contact without conversations: {cards:?}");
}

fn card_texts_of(sb: &switchboard_sandbox::Sandbox) -> Vec<Vec<Value>> {
    sb.aircall().state().insight_cards.iter().map(|c| c.contents.clone()).collect()
}

// 3. Logging to existing users / leads ------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_are_logged_to_the_one_contact_with_the_number_and_not_when_several_users_share_it() {
    let rig = rig().await;
    rig.play(&answered_inbound("+33 6 12 34 56 78", "ada")).await;
    let conv = logged(&rig, CHLOE, 2).await;
    assert_eq!(conv.source_body, "Inbound answered call on Support FR");
    assert_eq!(conv.source_author.id, CHLOE);
    assert_eq!(conv.parts[0].part_type, "note");

    // Two users with the same number (in different formats): nothing is logged.
    let shared =
        seed(&rig, vec![contact("Sam One", "user", "+33 6 11 22 33 44", None), contact("Sam Two", "user", "06 11 22 33 44", None)]);
    rig.play(&answered_inbound("06 11 22 33 44", "ada")).await;
    rig.settle().await;
    let s = rig.sandbox.intercom().state();
    for id in &shared {
        assert!(conversations_of(&s, id).is_empty(), "nothing logged for a shared number");
    }
    let log = rig.host.log();
    assert!(log.contains("several Intercom contacts have this number"), "reason in the job log:\n{log}");
    assert_eq!(s.contacts.len(), 3, "no lead created for a shared number");
}

// 4. New contacts --------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_number_becomes_a_lead_named_after_the_number() {
    let rig = rig().await;
    rig.play(&missed_inbound("06 99 88 77 66")).await;
    let lead = rig
        .wait_for("the new lead", |sb| sb.intercom().state().contacts.into_iter().find(|c| c.phone.as_deref() == Some("+33699887766")))
        .await;
    assert_eq!(lead.role, "lead");
    assert_eq!(lead.name.as_deref(), Some("+33699887766 Aircall new contact"));
    let conv = logged(&rig, &lead.id, 1).await;
    assert_eq!(conv.source_body, "Missed call on Support FR");
    rig.settle().await;
    let s = rig.sandbox.intercom().state();
    assert_eq!(s.contacts.iter().filter(|c| c.phone.as_deref() == Some("+33699887766")).count(), 1, "created once for created + ended");

    // Creation off: nothing created, nothing logged.
    let off = rig_with(", create_contacts = false").await;
    off.play(&missed_inbound("06 55 44 33 22")).await;
    off.settle().await;
    let s = off.sandbox.intercom().state();
    assert_eq!((s.contacts.len(), s.conversations.len()), (1, 0));
}

// 5. Anonymous calls -------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_calls_share_one_anonymous_contact() {
    let rig = rig().await;
    rig.play(&missed_inbound("anonymous")).await;
    rig.settle().await;
    rig.play(&missed_inbound("anonymous")).await;
    rig.settle().await;
    let s = rig.sandbox.intercom().state();
    let anon: Vec<&Contact> = s.contacts.iter().filter(|c| c.email.as_deref() == Some("anonymous@aircall.io")).collect();
    assert_eq!(anon.len(), 1, "{:?}", s.contacts);
    assert_eq!(anon[0].name.as_deref(), Some("Anonymous Aircall contact"));
    let convs = conversations_of(&s, &anon[0].id);
    let calls: usize = convs.iter().map(|c| 1 + comments(c).len()).sum();
    assert_eq!(calls, 2, "both calls logged to the anonymous contact: {convs:?}");
}

// 6. Assignment -------------------------------------------------------------------

async fn assignee_after(rig: &Rig, scenario: &str, phone: &str) -> Option<u64> {
    rig.play(scenario).await;
    rig.settle().await;
    let s = rig.sandbox.intercom().state();
    let c =
        s.contacts.iter().find(|c| c.phone.as_deref() == Some(phone)).unwrap_or_else(|| panic!("no contact {phone}: {}", rig.host.log()));
    let convs = conversations_of(&s, &c.id);
    assert_eq!(convs.len(), 1, "{convs:?}");
    convs[0].admin_assignee_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_are_assigned_by_the_seed_rules() {
    let rig = rig().await;
    let carl = "[world.users.carl]\nid = 1003\nname = \"Carl Contractor\"\nemail = \"carl@elsewhere.example\"\n";
    // Inbound answered by Ada (same e-mail as admin 991002).
    assert_eq!(assignee_after(&rig, &answered_inbound("+33 6 00 00 00 01", "ada"), "+33600000001").await, Some(ADA));
    // Answered by someone Intercom does not know: the set-up admin (the token owner).
    let s = format!("{carl}{}", answered_inbound("+33 6 00 00 00 02", "carl"));
    assert_eq!(assignee_after(&rig, &s, "+33600000002").await, Some(OPERATOR));
    // Missed: unassigned.
    assert_eq!(assignee_after(&rig, &missed_inbound("+33 6 00 00 00 03"), "+33600000003").await, None);
    // Outbound by Bob.
    let out = call_as(
        "outbound",
        "support-fr",
        "+33 6 00 00 00 04",
        Some("bob"),
        &[(0, "call.created", ""), (8, "call.answered", "user = \"bob\""), (60, "call.hungup", ""), (90, "call.ended", "")],
    );
    assert_eq!(assignee_after(&rig, &out, "+33600000004").await, Some(BOB));
    // Transferred from Ada to Bob, who answers: Bob.
    let transfer = call(
        "inbound",
        "support-fr",
        "+33 6 00 00 00 05",
        &[
            (0, "call.created", ""),
            (5, "call.answered", "user = \"ada\""),
            (40, "call.transferred", "user = \"bob\""),
            (45, "call.answered", "user = \"bob\""),
            (120, "call.hungup", ""),
            (150, "call.ended", ""),
        ],
    );
    assert_eq!(assignee_after(&rig, &transfer, "+33600000005").await, Some(BOB));
    // Transferred to Bob, who does not answer: stays with Ada.
    let failed = call(
        "inbound",
        "support-fr",
        "+33 6 00 00 00 06",
        &[
            (0, "call.created", ""),
            (5, "call.answered", "user = \"ada\""),
            (40, "call.unsuccessful_transfer", "user = \"bob\""),
            (120, "call.hungup", ""),
            (150, "call.ended", ""),
        ],
    );
    assert_eq!(assignee_after(&rig, &failed, "+33600000006").await, Some(ADA));
}

/// Seed "Weitergeleitete Anrufe", first half: a successful transfer to a
/// teammate with an Intercom admin of the same e-mail reassigns the
/// conversation, also when Aircall's later payloads still name the first agent
/// as `user` (the transferee is in `transferred_to`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_transferred_to_a_teammate_with_an_intercom_match_goes_to_them() {
    let rig = rig().await;
    let transfer = call(
        "inbound",
        "support-fr",
        "+33 6 00 00 00 11",
        &[
            (0, "call.created", ""),
            (5, "call.answered", "user = \"ada\""),
            (40, "call.transferred", "user = \"bob\""),
            (120, "call.hungup", ""),
            (150, "call.ended", ""),
        ],
    );
    assert_eq!(assignee_after(&rig, &transfer, "+33600000011").await, Some(BOB), "{}", rig.host.log());
    let s = rig.sandbox.intercom().state();
    let c = s.contacts.iter().find(|c| c.phone.as_deref() == Some("+33600000011")).unwrap();
    let details = notes(&conversations_of(&s, &c.id)[0]).join("\n");
    assert!(details.contains("Transferred: from Ada Agent to Bob Builder"), "{details}");
}

/// Seed "Weitergeleitete Anrufe", second half: transferred to a teammate
/// without a matching e-mail in Intercom, the conversation stays with the
/// original teammate (Ada), not the set-up admin, though Carl answered and is
/// the call's `user` at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_transferred_to_a_teammate_without_an_intercom_match_stays_with_the_original_teammate() {
    let rig = rig().await;
    let carl = "[world.users.carl]\nid = 1003\nname = \"Carl Contractor\"\nemail = \"carl@elsewhere.example\"\n";
    let transfer = format!(
        "{carl}{}",
        call(
            "inbound",
            "support-fr",
            "+33 6 00 00 00 12",
            &[
                (0, "call.created", ""),
                (5, "call.answered", "user = \"ada\""),
                (40, "call.transferred", "user = \"carl\""),
                (45, "call.answered", "user = \"carl\""),
                (120, "call.hungup", ""),
                (150, "call.ended", "")
            ],
        )
    );
    assert_eq!(assignee_after(&rig, &transfer, "+33600000012").await, Some(ADA), "{}", rig.host.log());
    // Outbound, made by Bob, transferred to Carl: stays with Bob.
    let out = format!(
        "{carl}{}",
        call_as(
            "outbound",
            "support-fr",
            "+33 6 00 00 00 13",
            Some("bob"),
            &[
                (0, "call.created", ""),
                (8, "call.answered", "user = \"bob\""),
                (30, "call.transferred", "user = \"carl\""),
                (35, "call.answered", "user = \"carl\""),
                (90, "call.hungup", ""),
                (120, "call.ended", "")
            ],
        )
    );
    assert_eq!(assignee_after(&rig, &out, "+33600000013").await, Some(BOB), "{}", rig.host.log());
}

/// `call.unsuccessful_transfer`: nothing is reassigned. The call ends with
/// Aircall's `transferred_to` still naming Bob (who has an Intercom admin), but
/// the transfer never went through: the conversation stays with Ada.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsuccessful_transfer_reassigns_nothing() {
    let rig = rig().await;
    let failed = call(
        "inbound",
        "support-fr",
        "+33 6 00 00 00 14",
        &[
            (0, "call.created", ""),
            (5, "call.answered", "user = \"ada\""),
            (40, "call.unsuccessful_transfer", "user = \"bob\""),
            (120, "call.hungup", ""),
            (150, "call.ended", ""),
        ],
    );
    assert_eq!(assignee_after(&rig, &failed, "+33600000014").await, Some(ADA), "{}", rig.host.log());
    let s = rig.sandbox.intercom().state();
    let c = s.contacts.iter().find(|c| c.phone.as_deref() == Some("+33600000014")).unwrap();
    let conv = &conversations_of(&s, &c.id)[0];
    let assignees: Vec<String> = conv
        .parts
        .iter()
        .filter(|p| p.part_type == "assignment")
        .filter_map(|p| p.assigned_to.as_ref())
        .map(|a| a["id"].to_string().trim_matches('"').to_string())
        .collect();
    assert!(!assignees.contains(&BOB.to_string()), "never assigned to Bob: {assignees:?}");
    let details = notes(conv).join("\n");
    assert!(details.contains("Transfer failed: to Bob Builder") && !details.contains("Transferred:"), "{details}");
}

fn sms(direction: &str, number: &str, external: &str, body: &str, user: Option<&str>, steps: &[(u32, &str, &str)]) -> String {
    let mut s = format!(
        "[[message]]\nkey = \"m\"\ndirection = \"{direction}\"\nnumber = \"{number}\"\nexternal = \"{external}\"\nbody = \"{body}\"\n"
    );
    if let Some(u) = user {
        s += &format!("user = \"{u}\"\n");
    }
    for (at, event, extra) in steps {
        s += &format!("\n[[step]]\nat = {at}\nmessage = \"m\"\nevent = \"{event}\"\n{extra}\n");
    }
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_are_assigned_by_the_seed_rules_and_the_setup_admin_setting() {
    // The set-up admin is a setting here: Bob (991003).
    let rig = rig_with(", setup_admin_id = \"991003\", sms_target = \"new_conversation\"").await;
    // Sales US has one user, Ada: hers.
    let one = sms("inbound", "sales-us", "+1 415 555 0111", "Hi", None, &[(0, "message.received", "")]);
    assert_eq!(assignee_after(&rig, &one, "+14155550111").await, Some(ADA));
    // Support FR has Ada and Bob; a new conversation stays unassigned.
    let several = sms("inbound", "support-fr", "+33 6 00 00 00 21", "Salut", None, &[(0, "message.received", "")]);
    assert_eq!(assignee_after(&rig, &several, "+33600000021").await, None);
    // Outbound by Ada: Ada.
    let out = sms("outbound", "support-fr", "+33 6 00 00 00 22", "On vous rappelle", Some("ada"), &[(0, "message.sent", "")]);
    assert_eq!(assignee_after(&rig, &out, "+33600000022").await, Some(ADA));
    // Outbound by nobody Intercom knows: the set-up admin from the setting.
    let carl = "[world.users.carl]\nid = 1003\nname = \"Carl Contractor\"\nemail = \"carl@elsewhere.example\"\n";
    let unknown =
        format!("{carl}{}", sms("outbound", "support-fr", "+33 6 00 00 00 23", "Hello", Some("carl"), &[(0, "message.sent", "")]));
    assert_eq!(assignee_after(&rig, &unknown, "+33600000023").await, Some(BOB));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sms_on_a_shared_line_keeps_the_open_conversation_assignee() {
    let rig = rig().await; // sms_target = last_open_conversation (default)
    rig.sandbox.intercom().update(|s| {
        s.conversations.push(Conversation {
            id: "6001".into(),
            state: "open".into(),
            created_at: 1_700_000_000,
            updated_at: 1_700_000_000,
            admin_assignee_id: Some(BOB),
            contact_ids: vec![CHLOE.into()],
            source_type: "conversation".into(),
            source_body: "Earlier".into(),
            ..Conversation::default()
        });
    });
    rig.play(&sms("inbound", "support-fr", "+33 6 12 34 56 78", "Encore moi", None, &[(0, "message.received", "")])).await;
    let conv = logged(&rig, CHLOE, 2).await;
    assert_eq!(conv.id, "6001");
    assert_eq!(comments(&conv), vec!["Inbound SMS on Support FR".to_string()]);
    assert_eq!(conv.admin_assignee_id, Some(BOB));
}

// 7. Call log format ------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_log_is_a_message_from_the_contact_then_notes_with_the_details_and_every_comment() {
    let rig = rig().await;
    let scenario = call(
        "inbound",
        "support-fr",
        "+33 6 12 34 56 78",
        &[
            (0, "call.created", ""),
            (12, "call.answered", "user = \"ada\""),
            (100, "call.commented", "comment = \"Wants a refund\""),
            (197, "call.hungup", ""),
            (227, "call.ended", ""),
            (300, "call.commented", "comment = \"Refund sent\""),
        ],
    );
    rig.play(&scenario).await;
    rig.settle().await;
    let s = rig.sandbox.intercom().state();
    let convs = conversations_of(&s, CHLOE);
    assert_eq!(convs.len(), 1);
    let conv = &convs[0];
    assert_eq!(conv.source_body, "Inbound answered call on Support FR");
    let kinds: Vec<&str> = conv.parts.iter().map(|p: &Part| p.part_type.as_str()).collect();
    assert_eq!(kinds, ["note", "note", "assignment", "note"], "message, details, comments, assignment, later comments");
    let details = &notes(conv)[0];
    for needle in [
        "Caller: +33 6 12 34 56 78",
        "Aircall number: Support FR (+33 1 23 45 67 89)",
        "Waiting time: 12 s",
        "Answered by: Ada Agent",
        "Duration: 3 min 05 s",
        "Recording: <a href=\"https://assets.aircall.io/calls/",
    ] {
        assert!(details.contains(needle), "{needle:?} missing from {details}");
    }
    assert!(notes(conv)[1].contains("Ada Agent: Wants a refund"));
    // The second comment brings the first one again (seed).
    let last = &notes(conv)[2];
    assert!(last.contains("Wants a refund") && last.contains("Refund sent"), "{last}");
    assert!(conv.parts.iter().all(|p| p.author.kind == "admin" && p.author.id == OPERATOR.to_string()), "notes by the set-up admin");

    // Every outcome has the seed's words.
    let cases = [
        (missed_inbound("+33 6 00 00 00 31"), "+33600000031", "Missed call on Support FR"),
        (
            call(
                "inbound",
                "support-fr",
                "+33 6 00 00 00 32",
                &[(0, "call.created", ""), (3, "call.hungup", "missed_call_reason = \"short_abandoned\""), (30, "call.ended", "")],
            ),
            "+33600000032",
            "Inbound unanswered call on Support FR",
        ),
        (
            call(
                "inbound",
                "support-fr",
                "+33 6 00 00 00 33",
                &[(0, "call.created", ""), (30, "call.hungup", ""), (40, "call.voicemail_left", ""), (60, "call.ended", "")],
            ),
            "+33600000033",
            "Voicemail on Support FR",
        ),
        (
            call_as(
                "outbound",
                "sales-us",
                "+1 415 555 0133",
                Some("ada"),
                &[(0, "call.created", ""), (5, "call.answered", "user = \"ada\""), (60, "call.hungup", ""), (90, "call.ended", "")],
            ),
            "+14155550133",
            "Outbound answered call on Sales US",
        ),
        (
            call_as(
                "outbound",
                "sales-us",
                "+1 415 555 0134",
                Some("ada"),
                &[(0, "call.created", ""), (30, "call.hungup", ""), (60, "call.ended", "")],
            ),
            "+14155550134",
            "Outbound unanswered call on Sales US",
        ),
    ];
    for (scenario, phone, headline) in cases {
        rig.play(&scenario).await;
        rig.settle().await;
        let s = rig.sandbox.intercom().state();
        let c = s.contacts.iter().find(|c| c.phone.as_deref() == Some(phone)).expect("lead");
        let conv = &conversations_of(&s, &c.id)[0];
        assert_eq!(conv.source_body, headline);
        if headline.starts_with("Voicemail") {
            assert!(notes(conv)[0].contains("Voicemail: <a href=\"https://assets.aircall.io/calls/"), "{:?}", notes(conv));
        }
    }
}

// 8. SMS log format -----------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_are_logged_with_sender_recipient_text_and_delivery_status() {
    let rig = rig().await;
    rig.play(&sms("inbound", "support-fr", "+33 6 12 34 56 78", "Ma commande est arrivée cassée", None, &[(0, "message.received", "")]))
        .await;
    let conv = logged(&rig, CHLOE, 1).await;
    assert_eq!(conv.source_body, "Inbound SMS on Support FR");
    let note = &notes(&conv)[0];
    for needle in [
        "Aircall number: Support FR (+33 1 23 45 67 89)",
        "From: Chloé Client (+33 6 12 34 56 78)",
        "To: Support FR",
        "Message: Ma commande est arrivée cassée",
    ] {
        assert!(note.contains(needle), "{needle:?} missing from {note}");
    }
    let out = sms(
        "outbound",
        "support-fr",
        "+33 6 12 34 56 78",
        "Nous envoyons un remplacement",
        Some("ada"),
        &[(0, "message.sent", ""), (5, "message.status_updated", "status = \"delivered\"")],
    );
    rig.play(&out).await;
    rig.settle().await;
    let s = rig.sandbox.intercom().state();
    let conv = &conversations_of(&s, CHLOE)[0];
    assert_eq!(comments(conv), vec!["Outbound SMS on Support FR".to_string()], "logged into the open conversation");
    let all = notes(conv);
    let out_note = all.iter().find(|n| n.contains("Nous envoyons")).expect("outbound note");
    assert!(out_note.contains("From: Ada Agent via Support FR") && out_note.contains("To: Chloé Client"), "{out_note}");
    assert!(all.last().is_some_and(|n| n.contains("Status: Delivered")), "{all:?}");
}

// 9. Call assignment in the phone app ----------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assigning_the_call_in_aircall_reassigns_the_conversation_with_a_note() {
    let rig = rig().await;
    let scenario = call(
        "inbound",
        "support-fr",
        "+33 6 12 34 56 78",
        &[
            (0, "call.created", ""),
            (30, "call.hungup", ""),
            (60, "call.ended", ""),
            (
                400,
                "call.assigned",
                "user = \"bob\"\ndata = { assigned_by = { id = 1001, name = \"Ada Agent\", email = \"ada@example.com\" } }",
            ),
        ],
    );
    rig.play(&scenario).await;
    rig.settle().await;
    let s = rig.sandbox.intercom().state();
    let conv = &conversations_of(&s, CHLOE)[0];
    assert_eq!(conv.admin_assignee_id, Some(BOB));
    let note = notes(conv).last().cloned().unwrap_or_default();
    assert!(note.contains("Assigned to: Bob Builder") && note.contains("Assigned by: Ada Agent"), "{note}");
}

// 10. Tag sync ----------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aircall_tags_follow_the_conversation_within_two_hours_of_the_end() {
    let rig = rig().await;
    let scenario = call(
        "inbound",
        "support-fr",
        "+33 6 12 34 56 78",
        &[
            (0, "call.created", ""),
            (5, "call.answered", "user = \"ada\""),
            (20, "call.tagged", "tag = \"VIP\""),
            (60, "call.hungup", ""),
            (90, "call.ended", ""),
            (600, "call.tagged", "tag = \"Refund\""),
            (900, "call.untagged", "tag = \"VIP\""),
            (90 + 7300, "call.tagged", "tag = \"Too late\""),
        ],
    );
    rig.play(&scenario).await;
    rig.settle().await;
    let s = rig.sandbox.intercom().state();
    let conv = &conversations_of(&s, CHLOE)[0];
    assert_eq!(tag_names(&s, conv), vec!["Refund".to_string()]);
    assert!(s.tags.iter().any(|t| t.name == "Refund"), "missing tag created in Intercom");
    assert!(!s.tags.iter().any(|t| t.name == "Too late"), "late tag not even created");
    assert!(rig.host.log().contains("tag added more than two hours after the call ended: skipped"));
    // VIP was applied before it was removed.
    let tagged: Vec<String> = rig
        .sandbox
        .intercom()
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/tags") && r.path.starts_with("/conversations/"))
        .map(|r| r.body["id"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(tagged.contains(&"771001".to_string()), "VIP (771001) applied: {tagged:?}");
}

// 11. Phone formats ------------------------------------------------------------------

/// The seed's table of supported formats, per country, with the E.164 number.
const FORMATS: &[(&str, &[&str])] = &[
    (
        "+33762043575",
        &[
            "+33762043575",
            "33762043575",
            "07 62 04 35 75",
            "+33 7 62 04 35 75",
            "00762043575",
            "0762043575",
            "07.62.04.35.75",
            "07-62-04-35-75",
        ],
    ),
    (
        "+14422497851",
        &[
            "+14422497851",
            "14422497851",
            "(442) 249-7851",
            "+1 442 249 7851",
            "0(442)249-7851",
            "1 (442) 249-7851",
            "442-249-7851",
            "442 249 7851",
            "4422497851",
            "+1 442-249-7851",
            "+1 (442) 249-7851",
        ],
    ),
    (
        "+442087653456",
        &[
            "+442087653456",
            "442087653456",
            "020 8765 3456",
            "+44 20 8765 3456",
            "002087653456",
            "(2087) 653 456",
            "02087653456",
            "(20876) 53456",
            "(2087 65) 3456",
        ],
    ),
    (
        "+551146803559",
        &[
            "+551146803559",
            "551146803559",
            "(11) 4680-3559",
            "+55 11 4680 3559",
            "0(11)4680-3559",
            "11 4680-3559",
            "11 46803559",
            "11-4680-3559",
            "11-46803559",
            "+55 11 4680-3559",
        ],
    ),
    (
        "+34911239613",
        &[
            "+34911239613",
            "34911239613",
            "911 23 96 13",
            "+34 911 23 96 13",
            "0911239613",
            "911239613",
            "911 239 613",
            "34 9112 39613",
            "34 911 239 613",
        ],
    ),
    (
        "+4917667402970",
        &[
            "+4917667402970",
            "4917667402970",
            "0176 67402970",
            "+49 176 67402970",
            "0017667402970",
            "01766/7402970",
            "17667402970",
            "017667402970",
            "017 667 402970",
            "+49176 67402970",
            "004917667402970",
        ],
    ),
    ("+61281032081", &["+61281032081", "61281032081", "(02) 8103 2081", "+61 2 8103 2081", "0(02)81032081", "(02)81032081", "0281032081"]),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_seed_phone_format_is_matched() {
    let rig = rig_with(", insight_cards = false, contact_sync = false, create_contacts = false").await;
    for (e164, formats) in FORMATS {
        let mut previous: Option<String> = None;
        for format in formats.iter() {
            // One contact holds the number at a time, stored in this format; the
            // previous holder is removed so a cached id goes stale and the
            // connector has to search again.
            if let Some(old) = previous.take() {
                rig.sandbox.intercom().update(|s| s.contacts.retain(|c| c.id != old));
            }
            let id = seed(&rig, vec![contact(&format!("Format {format}"), "user", format, None)]).remove(0);
            rig.play(&call("inbound", "support-fr", e164, &[(0, "call.ended", "")])).await;
            let found = id.clone();
            rig.wait_for(&format!("{format} matched"), move |sb| {
                (!conversations_of(&sb.intercom().state(), &found).is_empty()).then_some(())
            })
            .await;
            previous = Some(id);
        }
    }
}

// 12. Switch --------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_switch_ivr_option_texts_the_caller_a_messenger_link_and_a_note_records_it() {
    let rig = rig_with(", switch_ivr_option = \"2\"").await;
    let scenario = call(
        "inbound",
        "support-fr",
        "06 12 34 56 78",
        &[
            (0, "call.created", ""),
            (8, "call.ivr_option_selected", "ivr = { key = \"1\", title = \"Sales\", branch = \"a\" }"),
            (12, "call.ivr_option_selected", "ivr = { key = \"2\", title = \"Chat with us\", branch = \"b\" }"),
            (15, "call.hungup", "missed_call_reason = \"abandoned_in_ivr\""),
            (45, "call.ended", ""),
        ],
    );
    rig.play(&scenario).await;
    rig.settle().await;
    let s = rig.sandbox.intercom().state();
    assert_eq!(s.phone_redirects.len(), 1, "one Switch");
    assert_eq!(s.phone_redirects[0].phone, "+33612345678");
    let conv = &conversations_of(&s, CHLOE)[0];
    assert_eq!(conv.source_body, "Inbound unanswered call on Support FR");
    let switch = notes(conv).into_iter().find(|n| n.contains("Intercom Switch")).expect("Switch note");
    assert!(switch.contains("+33 6 12 34 56 78") && switch.contains(&s.phone_redirects[0].url), "{switch}");
}

// Faults ------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_then_success_gives_exactly_one_conversation() {
    let rig = rig_with(", sms_target = \"new_conversation\"").await;
    // The note after the conversation's creation fails once: the retry replays the
    // creation from the journal instead of starting a second conversation.
    rig.sandbox.intercom().inject(Fault {
        fail_next: 1,
        status: Some(500),
        path_prefix: Some("/conversations/".into()),
        method: Some("POST".into()),
        ..Fault::default()
    });
    rig.play(&sms("inbound", "support-fr", "+33 6 12 34 56 78", "Allo", None, &[(0, "message.received", "")])).await;
    rig.settle().await;
    let s = rig.sandbox.intercom().state();
    let reqs = rig.sandbox.intercom().requests();
    let trace: Vec<String> = reqs.iter().map(|r| format!("{} {} {} {}", r.method, r.path, r.status, r.body)).collect();
    assert_eq!(s.conversations.len(), 1, "{trace:#?}");
    assert_eq!(notes(&s.conversations[0]).len(), 1, "{trace:#?}");
    assert!(reqs.iter().any(|r| r.injected && r.status == 500), "the fault happened");
    assert_eq!(reqs.iter().filter(|r| r.method == "POST" && r.path == "/conversations").count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_waits_for_the_rate_limit_reset() {
    let rig = rig().await;
    rig.sandbox.intercom().inject(Fault {
        fail_next: 1,
        status: Some(429),
        retry_after: Some(2),
        path_prefix: Some("/contacts/search".into()),
        ..Fault::default()
    });
    rig.play(&missed_inbound("+33 6 12 34 56 78")).await;
    rig.settle().await;
    let conv = logged(&rig, CHLOE, 1).await;
    assert_eq!(conv.source_body, "Missed call on Support FR");
    let reqs = rig.sandbox.intercom().requests();
    let limited = reqs.iter().find(|r| r.status == 429).expect("429 served");
    let next = reqs.iter().find(|r| r.path == "/contacts/search" && r.status == 200).expect("search retried");
    assert!(
        next.timestamp_ms - limited.timestamp_ms >= 1_900,
        "waited {} ms for X-RateLimit-Reset",
        next.timestamp_ms - limited.timestamp_ms
    );
    assert!(rig.host.cli(&["dead-letters", "list"]).lines().all(|l| !l.contains("intercom")), "no dead letter");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_pauses_the_integration_and_the_events_are_logged_after_resume() {
    let rig = rig().await;
    rig.sandbox.intercom().inject(Fault { fail_next: 1, status: Some(401), ..Fault::default() });
    rig.play(&missed_inbound("+33 6 12 34 56 78")).await;
    rig.wait_for("the pause", |_| rig.host.cli(&["integrations", "list"]).contains("paused").then_some(())).await;
    assert!(rig.sandbox.intercom().state().conversations.is_empty(), "held while paused");
    let out = rig.host.cli(&["integrations", "resume", "intercom"]);
    assert!(out.contains("resumed"), "{out}");
    let conv = logged(&rig, CHLOE, 1).await;
    assert_eq!(conv.source_body, "Missed call on Support FR");
}

// API economy ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_economy_of_an_answered_inbound_call_for_a_known_contact() {
    let rig = rig().await;
    rig.play(&answered_inbound("+33 6 12 34 56 78", "ada")).await; // warms admins, /me, the contact
    rig.settle().await;
    let cold: Vec<String> = rig.sandbox.intercom().requests().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    println!("INTERCOM_REQUESTS_COLD={} {cold:?}", cold.len());
    rig.sandbox.intercom().clear_requests();
    rig.play(&answered_inbound("+33 6 12 34 56 78", "ada")).await;
    rig.settle().await;
    let reqs = rig.sandbox.intercom().requests();
    let lines: Vec<String> = reqs.iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    println!("INTERCOM_REQUESTS_WARM={} {lines:?}", reqs.len());
    assert!(reqs.iter().all(|r| r.headers.get("intercom-version").map(String::as_str) == Some("2.16")), "version header on every request");
    assert!(!lines.iter().any(|l| l.contains("/contacts/search") || l.contains("/admins") || l == "GET /me"), "cached: {lines:?}");
    assert!(reqs.len() <= 5, "{lines:?}");
}

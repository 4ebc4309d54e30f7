//! End-to-end scenario tests of the helpscout connector (simulator -> host -> plugin -> sandbox emulators).
//!
//! Each test starts the sandbox (Help Scout and Aircall emulators), the real
//! host with `dist/plugins/helpscout`, plays Aircall webhooks through the
//! simulator, and asserts what landed in the emulators: customers,
//! conversations, threads (order, text, author), status, assignee, tags,
//! insight cards, Aircall contacts and calls.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::rig::Rig;
use serde_json::{Value, json};
use switchboard_sandbox::Fault;
use switchboard_sandbox::helpscout::model::{Conversation, Customer, Entry, HelpScoutState, Thread};

/// The demo mailboxes: Support (30411), Sales (30412). Demo users: owner 95511, Ada 95512.
const SUPPORT: u64 = 30411;
const SALES: u64 = 30412;
const OWNER: u64 = 95511;
const ADA: u64 = 95512;
/// The demo customer Chloé (+33612345678, chloe@acme.example).
const CHLOE: u64 = 7718822;

/// The integration table: the emulator as base URL, the static token, and `settings` (TOML, without braces).
fn integration(settings: &str) -> String {
    let sep = if settings.trim().is_empty() { "" } else { ", " };
    format!(
        r#"
base_url = "{{helpscout}}"
settings = {{ mailboxes = {{ "2001" = {SUPPORT}, "+1 415-555-0100" = {SALES} }}{sep}{settings} }}
secrets = {{ token = "sandbox-helpscout-token" }}
"#
    )
}

async fn start_rig(settings: &str) -> Rig {
    Rig::start("helpscout", &integration(settings)).await
}

fn hs(rig: &Rig) -> HelpScoutState {
    rig.sandbox.helpscout().state()
}

/// Conversations of a customer, oldest first.
fn conversations_of(s: &HelpScoutState, customer: u64) -> Vec<Conversation> {
    let mut v: Vec<Conversation> = s.conversations.iter().filter(|c| c.customer_id == customer).cloned().collect();
    v.sort_by_key(|c| c.id);
    v
}

fn customer_with_phone(s: &HelpScoutState, e164: &str) -> Option<Customer> {
    s.customers.iter().find(|c| c.phones.iter().any(|p| p.value == e164)).cloned()
}

fn has_tag(c: &Conversation, tag: &str) -> bool {
    c.tags.iter().any(|t| t.eq_ignore_ascii_case(tag))
}

fn texts(c: &Conversation) -> Vec<String> {
    c.threads.iter().map(|t| t.text.clone()).collect()
}

fn thread_containing<'a>(c: &'a Conversation, needle: &str) -> &'a Thread {
    c.threads.iter().find(|t| t.text.contains(needle)).unwrap_or_else(|| panic!("no thread with {needle:?} in {:#?}", texts(c)))
}

/// A one-call scenario: `steps` as `(at, event, extra step TOML)`.
fn call_scenario(direction: &str, number: &str, from: &str, contact: Option<&str>, steps: &[(u32, &str, &str)]) -> String {
    let mut s = format!("[[call]]\nkey = \"c\"\ndirection = \"{direction}\"\nnumber = \"{number}\"\nfrom = \"{from}\"\n");
    if let Some(c) = contact {
        s += &format!("contact = \"{c}\"\n");
    }
    for (at, event, extra) in steps {
        s += &format!("\n[[step]]\nat = {at}\ncall = \"c\"\nevent = \"{event}\"\n{extra}\n");
    }
    s
}

/// created → answered by `user` → hung up → ended.
fn answered_call(number: &str, from: &str, contact: Option<&str>, user: &str) -> String {
    let user = format!("user = \"{user}\"");
    call_scenario(
        "inbound",
        number,
        from,
        contact,
        &[(0, "call.created", ""), (5, "call.answered", &user), (60, "call.hungup", ""), (90, "call.ended", "")],
    )
}

fn seed_customer(rig: &Rig, first: &str, last: &str, phone: &str, created_at: i64, updated_at: i64) -> u64 {
    rig.sandbox.helpscout().update(|s| {
        let id = s.alloc();
        s.customers.push(Customer {
            id,
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            phones: vec![Entry { id: id + 100_000, kind: "work".into(), value: phone.into() }],
            created_at,
            updated_at,
            ..Customer::default()
        });
        id
    })
}

// 1. Numbers -> mailboxes ---------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_number_logs_into_its_mailbox_and_unmapped_numbers_are_not_logged() {
    let rig = start_rig("").await;
    // Support FR by id, Sales US by digits; a third line nobody mapped.
    let scenario = format!(
        "[world.numbers.other]\nid = 2009\nname = \"Other line\"\ndigits = \"+33 9 87 65 43 21\"\ncountry = \"FR\"\n{}\n{}\n{}",
        answered_call("support-fr", "+33 6 12 34 56 78", Some("chloe"), "ada")
            .replace("key = \"c\"", "key = \"fr\"")
            .replace("call = \"c\"", "call = \"fr\""),
        answered_call("sales-us", "+1 415-555-0142", None, "bob")
            .replace("key = \"c\"", "key = \"us\"")
            .replace("call = \"c\"", "call = \"us\""),
        answered_call("other", "+33 6 99 88 77 66", None, "ada")
            .replace("key = \"c\"", "key = \"x\"")
            .replace("call = \"c\"", "call = \"x\""),
    );
    rig.play(&scenario).await;
    rig.settle().await;
    let s = hs(&rig);
    let fr = conversations_of(&s, CHLOE);
    assert_eq!(fr.len(), 1, "{:#?}", s.conversations);
    assert_eq!(fr[0].mailbox_id, SUPPORT);
    let us = customer_with_phone(&s, "+14155550142").expect("US caller's customer");
    let us = conversations_of(&s, us.id);
    assert_eq!(us.len(), 1);
    assert_eq!(us[0].mailbox_id, SALES);
    assert!(customer_with_phone(&s, "+33699887766").is_none(), "the unmapped line's caller must not reach Help Scout");
    assert_eq!(s.conversations.len(), 2);
    let unmapped = rig.sandbox.aircall().state().insight_cards.len();
    assert_eq!(unmapped, 1, "only Chloé (a Help Scout match) gets a card");
}

// 6. Threads during the call (and 8. tags during the call) -----------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answered_call_gets_a_phone_thread_then_a_wrap_up_with_comments_recording_and_tags() {
    let rig = start_rig("").await;
    rig.play_bundled("inbound-answered").await;
    rig.settle().await;
    let s = hs(&rig);
    let convs = conversations_of(&s, CHLOE);
    assert_eq!(convs.len(), 1, "{:#?}", s.conversations);
    let c = &convs[0];
    assert_eq!(c.kind, "phone");
    assert_eq!(c.mailbox_id, SUPPORT);
    assert_eq!(c.status, "active");
    assert_eq!(c.threads.len(), 2, "{:#?}", texts(c));
    let (first, wrap) = (&c.threads[0], &c.threads[1]);
    assert_eq!(first.kind, "phone");
    assert!(first.text.contains("Inbound call from +33 6 12 34 56 78 to Support FR"), "{}", first.text);
    assert!(first.text.contains("Answered by Ada Agent"), "{}", first.text);
    assert_eq!(first.customer_id, Some(CHLOE));
    assert_eq!(first.user_id, Some(ADA));
    assert_eq!(wrap.kind, "note");
    assert!(wrap.text.contains("Call ended"), "{}", wrap.text);
    assert!(wrap.text.contains("Customer wants the March invoice re-sent to accounting."), "{}", wrap.text);
    assert!(wrap.text.contains("recording.mp3"), "recording link: {}", wrap.text);
    assert!(wrap.text.contains("Talk time"), "{}", wrap.text);
    assert_eq!(wrap.user_id, Some(ADA));
    // Operational tags stay; "call in progress" went when the call ended; the agent's tag arrived with the wrap-up.
    for t in ["Support FR", "inbound", "Tier 1", "Billing"] {
        assert!(has_tag(c, t), "tag {t} missing: {:?}", c.tags);
    }
    assert!(!has_tag(c, "call in progress"), "{:?}", c.tags);
    assert!(!has_tag(c, "missed call"), "{:?}", c.tags);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_in_progress_tag_is_there_while_the_call_runs() {
    let rig = start_rig("").await;
    rig.play(&call_scenario(
        "inbound",
        "support-fr",
        "+33 6 12 34 56 78",
        Some("chloe"),
        &[(0, "call.created", ""), (5, "call.answered", "user = \"ada\""), (20, "call.tagged", "tag = \"During\"")],
    ))
    .await;
    rig.settle().await;
    let s = hs(&rig);
    let c = &conversations_of(&s, CHLOE)[0];
    assert_eq!(c.threads.len(), 1);
    assert!(has_tag(c, "call in progress"), "{:?}", c.tags);
    assert!(!has_tag(c, "During"), "tags added during the call appear when it ends: {:?}", c.tags);
}

/// Nothing went to the dead-letter list.
fn no_dead_letters(rig: &Rig) {
    let out = rig.host.cli(&["dead-letters", "list"]);
    assert!(out.contains("no dead letters"), "dead letters:\n{out}\nhost log:\n{}", rig.host.log());
}

// 2. Contact search in the seed's formats, and the matching rule ----------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_stored_in_any_seed_format_are_found() {
    let rig = start_rig("").await;
    // Stored as the seed's US local form and the UK local form.
    let us = seed_customer(&rig, "Uma", "Local", "(415) 555 0142", 1_700_000_000, 1_700_000_000);
    let uk = seed_customer(&rig, "Ian", "Basingstoke", "1256 274690", 1_700_000_000, 1_700_000_000);
    let nat = seed_customer(&rig, "Noé", "National", "06 55 44 33 22", 1_700_000_000, 1_700_000_000);
    let scenario = [
        answered_call("sales-us", "+1 415-555-0142", None, "bob").replace("\"c\"", "\"a\""),
        answered_call("support-fr", "+44 1256 274690", None, "ada").replace("\"c\"", "\"b\""),
        // Outbound calls search too.
        call_scenario(
            "outbound",
            "support-fr",
            "+33 6 55 44 33 22",
            None,
            &[
                (0, "call.created", "user = \"ada\""),
                (3, "call.answered", "user = \"ada\""),
                (30, "call.hungup", ""),
                (60, "call.ended", ""),
            ],
        ),
    ]
    .join("\n");
    rig.play(&scenario).await;
    rig.settle().await;
    no_dead_letters(&rig);
    let s = hs(&rig);
    assert_eq!(s.customers.len(), 4, "no customer created: {:#?}", s.customers);
    for id in [us, uk, nat] {
        assert_eq!(conversations_of(&s, id).len(), 1, "customer {id} has its call: {:#?}", s.conversations);
    }
    // The search asked for the seed's formats in one query.
    let searches: Vec<String> = rig
        .sandbox
        .helpscout()
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v3/customers/search")
        .filter_map(|r| r.query_param("query"))
        .collect();
    let q = searches.iter().find(|q| q.contains("+14155550142")).expect("a search for the US number");
    for f in ["\"+1 415 555 0142\"", "\"+14155550142\"", "\"(415) 555 0142\"", "\"415 555 0142\"", "\"4155550142\""] {
        assert!(q.contains(f), "{f} missing from {q}");
    }
    let q = searches.iter().find(|q| q.contains("+441256274690")).expect("a search for the UK number");
    assert!(q.contains("\"1256 274690\"") && q.contains("\"+44 1256 274690\""), "{q}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_matches_follow_the_matching_rule() {
    let rig = start_rig("matching_rule = \"oldest\"").await;
    let old = seed_customer(&rig, "Old", "Record", "+33 6 55 44 33 22", 1_600_000_000, 1_600_000_000);
    let _new = seed_customer(&rig, "New", "Record", "+33655443322", 1_700_000_000, 1_750_000_000);
    rig.play(&answered_call("support-fr", "+33 6 55 44 33 22", None, "ada")).await;
    rig.settle().await;
    let s = hs(&rig);
    assert_eq!(s.conversations.len(), 1);
    assert_eq!(s.conversations[0].customer_id, old, "oldest wins");

    let rig = rig_with_rule("most_recent").await;
    let _old = seed_customer(&rig, "Old", "Record", "+33 6 55 44 33 22", 1_600_000_000, 1_600_000_000);
    let new = seed_customer(&rig, "New", "Record", "+33655443322", 1_700_000_000, 1_750_000_000);
    rig.play(&answered_call("support-fr", "+33 6 55 44 33 22", None, "ada")).await;
    rig.settle().await;
    assert_eq!(hs(&rig).conversations[0].customer_id, new, "most recently updated wins");

    let rig = rig_with_rule("none").await;
    seed_customer(&rig, "Old", "Record", "+33 6 55 44 33 22", 1_600_000_000, 1_600_000_000);
    seed_customer(&rig, "New", "Record", "+33655443322", 1_700_000_000, 1_750_000_000);
    rig.play(&answered_call("support-fr", "+33 6 55 44 33 22", None, "ada")).await;
    rig.settle().await;
    no_dead_letters(&rig);
    let s = hs(&rig);
    assert!(s.conversations.is_empty(), "log nothing: {:#?}", s.conversations);
    assert_eq!(s.customers.len(), 3, "and create nobody");
    assert!(rig.sandbox.aircall().state().insight_cards.is_empty());
}

async fn rig_with_rule(rule: &str) -> Rig {
    start_rig(&format!("matching_rule = \"{rule}\"")).await
}

// 3. Contact match scenarios --------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_match_scenarios_create_the_missing_side() {
    let rig = start_rig("").await;
    // Scenario 2 needs Chloé in Aircall only: remove her from Help Scout.
    rig.sandbox.helpscout().update(|s| s.customers.clear());
    // Scenario 3: a Help Scout customer Aircall does not know.
    let hs_only = rig.sandbox.helpscout().update(|s| {
        let id = s.alloc();
        s.customers.push(Customer {
            id,
            first_name: Some("Hélène".into()),
            last_name: Some("Scout".into()),
            organization: Some("Globex".into()),
            phones: vec![Entry { id: id + 1, kind: "work".into(), value: "+33 6 55 44 33 22".into() }],
            emails: vec![Entry { id: id + 2, kind: "work".into(), value: "helene@globex.example".into() }],
            created_at: 1_700_000_000,
            updated_at: 1_700_000_000,
            ..Customer::default()
        });
        id
    });
    let created = |key: &str, from: &str, contact: Option<&str>| {
        call_scenario("inbound", "support-fr", from, contact, &[(0, "call.created", "")]).replace("\"c\"", &format!("\"{key}\""))
    };
    let scenario = [
        created("one", "+33 7 62 04 35 75", None),
        created("two", "+33 6 12 34 56 78", Some("chloe")),
        created("three", "+33 6 55 44 33 22", None),
    ]
    .join("\n");
    rig.play(&scenario).await;
    rig.settle().await;
    no_dead_letters(&rig);
    let s = hs(&rig);

    // 1. Nobody knows the caller: a customer with the number and a note that Aircall created it.
    let one = customer_with_phone(&s, "+33762043575").expect("scenario 1 customer");
    assert_eq!(one.first_name.as_deref(), Some("Unknown Contact (Aircall)"));
    assert_eq!(one.last_name.as_deref(), Some("+33 7 62 04 35 75"));
    assert!(one.background.as_deref().unwrap_or("").contains("Created automatically by Aircall"), "{:?}", one.background);

    // 2. Only Aircall knows Chloé: a customer from the Aircall data.
    let two = customer_with_phone(&s, "+33612345678").expect("scenario 2 customer");
    assert_eq!(two.first_name.as_deref(), Some("Chloé"));
    assert_eq!(two.last_name.as_deref(), Some("Client"));
    assert_eq!(two.organization.as_deref(), Some("ACME"));
    assert_eq!(two.emails.iter().map(|e| e.value.as_str()).collect::<Vec<_>>(), ["chloe@acme.example"]);
    assert!(two.background.as_deref().unwrap_or("").contains("Aircall"), "{:?}", two.background);

    // 3. Only Help Scout knows Hélène: an Aircall contact from the Help Scout data.
    assert_eq!(s.customers.len(), 3);
    let contacts = rig.sandbox.aircall().state().contacts;
    let c = contacts
        .iter()
        .find(|c| c.phone_numbers.iter().any(|p| p.value.replace(' ', "") == "+33655443322"))
        .expect("scenario 3 Aircall contact");
    assert_eq!(c.first_name.as_deref(), Some("Hélène"));
    assert_eq!(c.last_name.as_deref(), Some("Scout"));
    assert_eq!(c.company_name.as_deref(), Some("Globex"));
    assert!(c.emails.iter().any(|e| e.value == "helene@globex.example"));
    assert!(c.information.as_deref().unwrap_or("").contains(&format!("/customer/{hs_only}/")), "{:?}", c.information);
    // Nothing was created twice.
    assert_eq!(contacts.iter().filter(|c| c.first_name.as_deref() == Some("Chloé")).count(), 1);
}

// 4. Insight card -------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insight_card_shows_the_help_scout_customer() {
    let rig = start_rig("").await;
    rig.sandbox.helpscout().update(|s| {
        if let Some(c) = s.customers.iter_mut().find(|c| c.id == CHLOE) {
            c.job_title = Some("Head of Ops".into());
            c.background = Some("Prefers calls after 2 pm".into());
        }
    });
    let report = rig.play(&call_scenario("inbound", "support-fr", "+33 6 12 34 56 78", Some("chloe"), &[(0, "call.created", "")])).await;
    rig.settle().await;
    no_dead_letters(&rig);
    let cards = rig.sandbox.aircall().state().insight_cards;
    assert_eq!(cards.len(), 1, "{cards:#?}");
    let _ = report;
    let card = serde_json::to_string(&cards[0].contents).unwrap();
    for needle in [
        "Chloé Client",
        "chloe@acme.example",
        "ACME",
        "Head of Ops",
        "Prefers calls after 2 pm",
        &format!("https://secure.helpscout.net/customer/{CHLOE}/0/"),
    ] {
        assert!(card.contains(needle), "{needle} missing from {card}");
    }
    assert_eq!(cards[0].contents[0]["type"], Value::from("title"));
}

// 5. Call logging: which conversation ---------------------------------------------------------

fn seed_conversation(rig: &Rig, customer: u64, status: &str, updated_ago: i64, closed_ago: Option<i64>) -> u64 {
    rig.sandbox.helpscout().update(|s| {
        let id = s.alloc();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        s.conversations.push(Conversation {
            id,
            number: id,
            kind: "email".into(),
            mailbox_id: SUPPORT,
            status: status.into(),
            subject: format!("seeded {status}"),
            customer_id: customer,
            created_at: now - updated_ago - 10,
            updated_at: now - updated_ago,
            closed_at: closed_ago.map(|a| now - a),
            ..Conversation::default()
        });
        id
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_goes_into_the_most_recent_open_conversation_skipping_spam() {
    let rig = start_rig("").await;
    let older = seed_conversation(&rig, CHLOE, "active", 7200, None);
    let recent = seed_conversation(&rig, CHLOE, "pending", 3600, None);
    let spam = seed_conversation(&rig, CHLOE, "spam", 60, None);
    let closed = seed_conversation(&rig, CHLOE, "closed", 30, Some(30));
    rig.play_bundled("inbound-answered").await;
    rig.settle().await;
    no_dead_letters(&rig);
    let s = hs(&rig);
    assert_eq!(s.conversations.len(), 4, "no new conversation");
    let by_id = |id| s.conversations.iter().find(|c| c.id == id).unwrap();
    assert_eq!(by_id(recent).threads.len(), 2, "{:#?}", by_id(recent));
    for other in [older, spam, closed] {
        assert!(by_id(other).threads.is_empty());
    }
    assert!(has_tag(by_id(recent), "Billing"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_conversation_within_the_window_is_reopened_when_configured() {
    let rig = start_rig("include_closed_conversations = true, closed_window_hours = 48").await;
    let too_old = seed_conversation(&rig, CHLOE, "closed", 50 * 3600, Some(50 * 3600));
    let recent = seed_conversation(&rig, CHLOE, "closed", 5 * 3600, Some(5 * 3600));
    rig.play_bundled("inbound-answered").await;
    rig.settle().await;
    no_dead_letters(&rig);
    let s = hs(&rig);
    assert_eq!(s.conversations.len(), 2);
    let c = s.conversations.iter().find(|c| c.id == recent).unwrap();
    assert_eq!(c.threads.len(), 2);
    assert_eq!(c.status, "active", "reopened");
    assert!(s.conversations.iter().find(|c| c.id == too_old).unwrap().threads.is_empty());

    // Without the option, a closed conversation is not picked up.
    let rig = rig_plain().await;
    let recent = seed_conversation(&rig, CHLOE, "closed", 3600, Some(3600));
    rig.play_bundled("inbound-answered").await;
    rig.settle().await;
    let s = hs(&rig);
    assert_eq!(s.conversations.len(), 2);
    assert!(s.conversations.iter().find(|c| c.id == recent).unwrap().threads.is_empty());
}

async fn rig_plain() -> Rig {
    start_rig("").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn always_new_conversation_skips_the_search() {
    let rig = start_rig("always_new_conversation = true").await;
    let open = seed_conversation(&rig, CHLOE, "active", 60, None);
    rig.play_bundled("inbound-answered").await;
    rig.play_bundled("inbound-answered").await;
    rig.settle().await;
    no_dead_letters(&rig);
    let s = hs(&rig);
    let convs = conversations_of(&s, CHLOE);
    assert_eq!(convs.len(), 3, "one per call plus the seeded one");
    assert!(convs.iter().find(|c| c.id == open).unwrap().threads.is_empty());
    let searched = rig.sandbox.helpscout().requests().iter().any(|r| r.path == "/v2/conversations" && r.method == "GET");
    assert!(!searched, "no conversation search");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_nobody_knows_gets_an_unknown_contact_customer() {
    let rig = start_rig("").await;
    // call.created is not seen (e.g. sent before the integration existed): the answer creates the customer.
    rig.play(&call_scenario(
        "inbound",
        "support-fr",
        "+33 7 62 04 35 75",
        None,
        &[(5, "call.answered", "user = \"ada\""), (60, "call.hungup", ""), (90, "call.ended", "")],
    ))
    .await;
    rig.settle().await;
    no_dead_letters(&rig);
    let s = hs(&rig);
    let c = customer_with_phone(&s, "+33762043575").expect("customer created");
    assert_eq!(c.first_name.as_deref(), Some("Unknown Contact (Aircall)"));
    assert!(c.background.as_deref().unwrap_or("").contains("automatically"));
    let convs = conversations_of(&s, c.id);
    assert_eq!(convs.len(), 1);
    assert_eq!(convs[0].threads.len(), 2);
}

// 7. Assignment -----------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversation_is_assigned_to_the_matching_user_only_when_enabled() {
    let rig = start_rig("assign_conversations = true").await;
    rig.play_bundled("inbound-answered").await;
    rig.settle().await;
    let s = hs(&rig);
    let c = &conversations_of(&s, CHLOE)[0];
    assert_eq!(c.assignee, Some(ADA));
    assert!(c.threads.iter().all(|t| t.user_id == Some(ADA)));

    // Bob has no Help Scout account: threads by the administrator, conversation unassigned.
    let call = answered_call("support-fr", "+33 6 12 34 56 78", Some("chloe"), "bob");
    let rig = start_rig("assign_conversations = true").await;
    rig.play(&call).await;
    rig.settle().await;
    let s = hs(&rig);
    let c = &conversations_of(&s, CHLOE)[0];
    assert_eq!(c.assignee, None);
    assert_eq!(c.threads.len(), 2);
    assert!(c.threads.iter().all(|t| t.user_id == Some(OWNER)), "{:#?}", c.threads);

    // Option off: Ada's call leaves the conversation unassigned, threads still hers.
    let rig = rig_plain().await;
    rig.play_bundled("inbound-answered").await;
    rig.settle().await;
    let s = hs(&rig);
    let c = &conversations_of(&s, CHLOE)[0];
    assert_eq!(c.assignee, None);
    assert!(c.threads.iter().all(|t| t.user_id == Some(ADA)));
}

// 8. Tags -----------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_tags_sync_after_the_call_and_untagging_removes_them() {
    let rig = start_rig("").await;
    rig.play_bundled("tags-and-comments").await;
    rig.settle().await;
    no_dead_letters(&rig);
    let s = hs(&rig);
    let c = &conversations_of(&s, CHLOE)[0];
    for t in ["Upsell", "Late", "Support FR", "inbound"] {
        assert!(has_tag(c, t), "{t}: {:?}", c.tags);
    }
    assert!(!has_tag(c, "VIP"), "untagged after the call: {:?}", c.tags);
    assert!(!has_tag(c, "call in progress"));
    // The comment posted after the wrap-up became a note.
    assert!(thread_containing(c, "Sent the quote by e-mail.").kind == "note");
    assert!(thread_containing(c, "Asked about the premium plan.").text.contains("Call ended"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missed_call_with_voicemail_is_tagged_and_logged_once() {
    let rig = start_rig("").await;
    rig.play_bundled("inbound-missed-voicemail").await;
    rig.settle().await;
    no_dead_letters(&rig);
    let s = hs(&rig);
    assert_eq!(s.conversations.len(), 1, "{:#?}", s.conversations);
    let c = &s.conversations[0];
    assert!(has_tag(c, "missed call") && has_tag(c, "voicemail") && has_tag(c, "inbound"), "{:?}", c.tags);
    assert!(!has_tag(c, "call in progress"));
    let t = thread_containing(c, "Missed call");
    assert_eq!(t.kind, "phone");
    assert!(c.threads.iter().any(|t| t.text.contains("voicemail.mp3")), "{:#?}", texts(c));
    assert_eq!(t.user_id, Some(OWNER), "nobody answered: the administrator");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_request_is_tagged() {
    let rig = start_rig("").await;
    rig.play(&call_scenario(
        "inbound",
        "support-fr",
        "+33 6 12 34 56 78",
        Some("chloe"),
        &[
            (0, "call.created", ""),
            (3, "call.ivr_option_selected", "ivr = { key = \"2\", title = \"Callback request\", branch = \"callback\" }"),
            (20, "call.hungup", "missed_call_reason = \"no_available_agent\""),
            (50, "call.ended", ""),
        ],
    ))
    .await;
    rig.settle().await;
    no_dead_letters(&rig);
    let c = &conversations_of(&hs(&rig), CHLOE)[0];
    assert!(has_tag(c, "callback") && has_tag(c, "missed call"), "{:?}", c.tags);
}

// 9. Voice agent ------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voice_agent_call_gets_its_tag_escalation_note_intake_answers_and_ai_content() {
    let rig = start_rig("transcriptions = true").await;
    rig.play_bundled("voice-agent-escalation").await;
    rig.settle().await;
    no_dead_letters(&rig);
    let s = hs(&rig);
    let customer = customer_with_phone(&s, "+33655443322").expect("customer");
    let convs = conversations_of(&s, customer.id);
    assert_eq!(convs.len(), 1, "{:#?}", s.conversations);
    let c = &convs[0];
    assert!(has_tag(c, "Voice Virtual Agent"), "{:?}", c.tags);
    assert!(!has_tag(c, "missed call"), "{:?}", c.tags);
    let esc = thread_containing(c, "escalated the call");
    assert!(esc.text.contains("Caller asked for a human about a refund"), "{}", esc.text);
    let intake = thread_containing(c, "intake answers");
    assert!(intake.text.contains("A-1042") && intake.text.contains("refund"), "{}", intake.text);
    thread_containing(c, "Answered by Ada Agent");
    thread_containing(c, "Call ended");
    assert!(thread_containing(c, "AI summary").text.contains("opened a return"));
    assert!(thread_containing(c, "Call transcription").text.contains("I&#39;d like a refund"));
    // In order: voice agent, escalation, answer, …, wrap-up before the AI content.
    let pos = |needle: &str| c.threads.iter().position(|t| t.text.contains(needle)).unwrap();
    assert!(pos("handled by the voice agent") < pos("escalated the call"));
    assert!(pos("escalated the call") < pos("Answered by Ada"));
    assert!(pos("Call ended") < pos("AI summary"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ai_content_stays_out_when_disabled() {
    let rig = start_rig("ai_insights = false, transcriptions = false").await;
    rig.play_bundled("voice-agent-escalation").await;
    rig.settle().await;
    let s = hs(&rig);
    let all: Vec<String> = s.conversations.iter().flat_map(texts).collect();
    assert!(!all.iter().any(|t| t.contains("AI summary") || t.contains("Call transcription")), "{all:#?}");
    assert!(all.iter().any(|t| t.contains("Call ended")));
}

// 10. SMS and WhatsApp ----------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whatsapp_messages_join_one_conversation_with_their_authors() {
    let rig = start_rig("update_assignee_for_messages = true").await;
    // The bundled WhatsApp exchange, Bob's answer being a template message.
    let scenario = include_str!("../../scenarios/whatsapp.toml").replace(
        "at = 40\nmessage = \"out\"\nevent = \"message.sent\"",
        "at = 40\nmessage = \"out\"\nevent = \"message.sent\"\ndata = { type = \"template\", template_content = \"Your order {{1}} has shipped\", whatsapp_message_category = \"utility\" }",
    );
    assert!(scenario.contains("template_content"));
    rig.play(&scenario).await;
    rig.settle().await;
    no_dead_letters(&rig);
    let s = hs(&rig);
    let convs = conversations_of(&s, CHLOE);
    assert_eq!(convs.len(), 1, "{:#?}", s.conversations);
    let c = &convs[0];
    assert_eq!(c.threads.len(), 2);
    let (inbound, outbound) = (&c.threads[0], &c.threads[1]);
    assert!(
        inbound.text.contains("WhatsApp received from +33 6 12 34 56 78") && inbound.text.contains("Is my order shipped?"),
        "{}",
        inbound.text
    );
    assert!(outbound.text.contains("WhatsApp sent to") && outbound.text.contains("Yes, it left this morning."), "{}", outbound.text);
    for needle in ["Message type: template", "Template category: utility", "Your order {{1}} has shipped"] {
        assert!(outbound.text.contains(needle), "{needle}: {}", outbound.text);
    }
    // Bob has no Help Scout account: an administrator; the assignee stays empty.
    assert_eq!(outbound.user_id, Some(OWNER));
    assert_eq!(c.assignee, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_reopens_a_closed_conversation_only_when_configured_and_sets_the_assignee() {
    let sms = r#"
[[message]]
key = "m"
direction = "outbound"
number = "support-fr"
external = "+33 6 12 34 56 78"
body = "Your parcel is on its way"
user = "ada"

[[step]]
at = 0
message = "m"
event = "message.sent"
"#;
    let rig = start_rig("reopen_closed_for_messages = true, update_assignee_for_messages = true").await;
    let closed = seed_conversation(&rig, CHLOE, "closed", 30 * 86_400, Some(30 * 86_400));
    rig.play(sms).await;
    rig.settle().await;
    no_dead_letters(&rig);
    let s = hs(&rig);
    assert_eq!(s.conversations.len(), 1);
    let c = s.conversations.iter().find(|c| c.id == closed).unwrap();
    assert_eq!(c.status, "active");
    assert_eq!(c.assignee, Some(ADA));
    assert_eq!(c.threads[0].user_id, Some(ADA));
    assert!(c.threads[0].text.contains("SMS sent to +33 6 12 34 56 78") && c.threads[0].text.contains("Your parcel is on its way"));

    // Reopening off: a new conversation; the closed one stays closed.
    let rig = rig_plain().await;
    let closed = seed_conversation(&rig, CHLOE, "closed", 3600, Some(3600));
    rig.play(sms).await;
    rig.settle().await;
    let s = hs(&rig);
    assert_eq!(s.conversations.len(), 2);
    assert_eq!(s.conversations.iter().find(|c| c.id == closed).unwrap().status, "closed");
    let new = s.conversations.iter().find(|c| c.id != closed).unwrap();
    assert_eq!(new.assignee, None, "assignee updates are off by default");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mms_from_a_new_number_creates_the_customer_and_lists_the_attachments() {
    let rig = start_rig("").await;
    rig.play_bundled("mms").await;
    rig.settle().await;
    no_dead_letters(&rig);
    let s = hs(&rig);
    let customer = customer_with_phone(&s, "+14155550142").expect("customer created");
    let c = &conversations_of(&s, customer.id)[0];
    assert_eq!(c.mailbox_id, SALES);
    let t = &c.threads[0];
    assert!(t.text.contains("MMS received") && t.text.contains("Here is the damaged part and the invoice"), "{}", t.text);
    assert!(t.text.contains("part.jpg") && t.text.contains("invoice.pdf"), "{}", t.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mms_media_the_host_may_fetch_become_thread_attachments() {
    let rig = start_rig("").await;
    // The media sit behind signed links on a host the integration may reach (here the
    // emulator's file-storage stand-in; in production Aircall's S3 bucket, *.amazonaws.com).
    let media =
        |name: &str, bytes: u32, mime: &str| format!("{}/_sandbox/media/{name}?bytes={bytes}&type={mime}", rig.sandbox.helpscout_url());
    rig.play(&format!(
        r#"
        [[message]]
        key = "in"
        direction = "inbound"
        number = "sales-us"
        external = "+1 415-555-0142"
        body = "Photo of the damaged part"
        media = [
          {{ file_name = "part.jpg", file_type = "image/jpeg", presigned_url = "{}" }},
          {{ file_name = "invoice.pdf", file_type = "application/pdf", presigned_url = "{}" }},
        ]
        [[step]]
        at = 0
        message = "in"
        event = "message.received"
        "#,
        media("part.jpg", 2048, "image/jpeg"),
        media("invoice.pdf", 4096, "application/pdf")
    ))
    .await;
    rig.settle().await;
    no_dead_letters(&rig);
    let s = hs(&rig);
    let customer = customer_with_phone(&s, "+14155550142").expect("customer created");
    let t = &conversations_of(&s, customer.id)[0].threads[0];
    let files: Vec<(String, String, usize)> = t.attachments.iter().map(|a| (a.file_name.clone(), a.mime_type.clone(), a.size)).collect();
    assert_eq!(
        files,
        [("part.jpg".to_string(), "image/jpeg".to_string(), 2048), ("invoice.pdf".to_string(), "application/pdf".to_string(), 4096)],
        "{}",
        t.text
    );
}

// 11. Click-to-dial -------------------------------------------------------------------------------------

/// The click-to-dial signing key of the tests (the `dial_key` setting).
const DIAL_KEY: &str = "test-dial-key-0123456789";

/// Asks the plugin for a signed dial link (`POST /dial-links`, authorised with the key).
async fn signed_link(rig: &Rig, body: Value) -> String {
    let resp = reqwest::Client::new()
        .post(format!("{}/integrations/helpscout/dial-links", rig.host.url))
        .bearer_auth(DIAL_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let answer: Value = resp.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 200, "{answer}\n{}", rig.host.log());
    answer["url"].as_str().expect("a url").to_string()
}

/// Aircall requests that start or pre-fill a call (`POST /v1/users/:id/calls`, `/dial`).
fn dial_requests(rig: &Rig) -> Vec<String> {
    rig.sandbox
        .aircall()
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.starts_with("/v1/users/"))
        .map(|r| r.path)
        .collect()
}

async fn get(url: &str) -> (u16, Value) {
    let resp = reqwest::get(url).await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_signed_dial_link_starts_an_aircall_call_for_the_agent() {
    let rig = start_rig(&format!("dial_key = \"{DIAL_KEY}\"")).await;
    let link = signed_link(&rig, json!({ "agent": "ada@example.com", "to": "tel:06 12 34 56 78" })).await;
    assert!(link.starts_with(&format!("{}/integrations/helpscout/dial?", rig.host.url)) && link.contains("&sig="), "{link}");
    let (status, body) = get(&link).await;
    assert_eq!(status, 200, "{body}\n{}", rig.host.log());
    let calls = rig.sandbox.aircall().state().started_calls;
    assert_eq!(calls.len(), 1, "{calls:#?}");
    assert_eq!(calls[0].user_id, 1001);
    assert_eq!(calls[0].number_id, Some(2001));
    assert_eq!(calls[0].to, "+33612345678");

    // A signed link for an agent Aircall does not know: 404, nothing more dialled.
    let unknown = signed_link(&rig, json!({ "agent": "nobody@example.com", "to": "+33612345678" })).await;
    assert_eq!(get(&unknown).await.0, 404);
    assert_eq!(rig.sandbox.aircall().state().started_calls.len(), 1);
    // Minting needs the key.
    let no_auth = reqwest::Client::new()
        .post(format!("{}/integrations/helpscout/dial-links", rig.host.url))
        .bearer_auth("not-the-key")
        .json(&json!({ "agent": "ada@example.com", "to": "+33612345678" }))
        .send()
        .await
        .unwrap();
    assert_eq!(no_auth.status().as_u16(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_tampered_and_expired_dial_links_are_refused_and_nothing_is_dialled() {
    let rig = start_rig(&format!("dial_key = \"{DIAL_KEY}\"")).await;
    let url = format!("{}/integrations/helpscout/dial", rig.host.url);
    // Unsigned (the old shared-key form too).
    let (status, body) = get(&format!("{url}?to=%2B33612345678&agent=ada%40example.com")).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"].as_str().unwrap_or_default().contains("unsigned"), "{body}");
    assert_eq!(get(&format!("{url}?to=%2B33612345678&agent=ada%40example.com&key={DIAL_KEY}")).await.0, 403);
    // Tampered: another number to dial, another agent, a later expiry, a forged signature.
    let link = signed_link(&rig, json!({ "agent": "ada@example.com", "to": "+33612345678" })).await;
    for tampered in [
        link.replace("to=%2B33612345678", "to=%2B33699999999"),
        link.replace("agent=ada%40example.com", "agent=bob%40example.com"),
        {
            let at = link.find("expires=").unwrap() + "expires=".len();
            let end = at + link[at..].find('&').unwrap();
            format!("{}{}{}", &link[..at], "99999999999", &link[end..])
        },
        format!("{}{}", &link[..link.find("&sig=").unwrap()], "&sig=0000000000000000000000000000000000000000000000000000000000000000"),
    ] {
        assert_ne!(tampered, link);
        let (status, body) = get(&tampered).await;
        assert_eq!(status, 403, "{tampered}: {body}");
        assert!(body["error"].as_str().unwrap_or_default().contains("signature does not match"), "{body}");
    }
    // Expired: a one-second link, used three seconds later.
    let short = signed_link(&rig, json!({ "agent": "ada@example.com", "to": "+33612345678", "ttl_seconds": 1 })).await;
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    let (status, body) = get(&short).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"].as_str().unwrap_or_default().contains("expired"), "{body}");

    assert!(rig.sandbox.aircall().state().started_calls.is_empty(), "nothing dialled: {:#?}", rig.sandbox.aircall().state().started_calls);
    assert!(dial_requests(&rig).is_empty(), "no call started in Aircall: {:?}", dial_requests(&rig));
    // The untampered link still works: the refusals were the signature's doing.
    assert_eq!(get(&link).await.0, 200);
    assert_eq!(rig.sandbox.aircall().state().started_calls.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_dial_key_every_dial_request_is_refused() {
    let rig = start_rig("").await;
    let url = format!("{}/integrations/helpscout/dial", rig.host.url);
    let (status, body) = get(&format!("{url}?to=%2B33612345678&agent=ada%40example.com")).await;
    assert_eq!(status, 403, "{body}");
    let msg = body["error"].as_str().unwrap_or_default();
    assert!(msg.contains("click-to-dial is off") && msg.contains("dial_key"), "{body}");
    let (status, _) = get(&format!("{url}?to=%2B33612345678&agent=ada%40example.com&expires=99999999999&sig=00")).await;
    assert_eq!(status, 403);
    let mint = reqwest::Client::new()
        .post(format!("{}/integrations/helpscout/dial-links", rig.host.url))
        .bearer_auth("")
        .json(&json!({ "agent": "ada@example.com", "to": "+33612345678" }))
        .send()
        .await
        .unwrap();
    assert_eq!(mint.status().as_u16(), 403);
    assert!(rig.sandbox.aircall().state().started_calls.is_empty());
    assert!(dial_requests(&rig).is_empty(), "{:?}", dial_requests(&rig));
}

// Faults ------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_then_success_writes_one_thread() {
    let rig = start_rig("").await;
    rig.sandbox.helpscout().inject(Fault {
        fail_next: 1,
        status: Some(500),
        path_prefix: Some("/v2/conversations/".into()),
        method: Some("POST".into()),
        ..Fault::default()
    });
    rig.sandbox.helpscout().inject(Fault {
        fail_next: 1,
        status: Some(500),
        path_prefix: Some("/v2/conversations".into()),
        method: Some("POST".into()),
        ..Fault::default()
    });
    rig.play_bundled("inbound-answered").await;
    rig.settle().await;
    no_dead_letters(&rig);
    let s = hs(&rig);
    let convs = conversations_of(&s, CHLOE);
    assert_eq!(convs.len(), 1, "{:#?}", s.conversations);
    assert_eq!(convs[0].threads.len(), 2, "{:#?}", texts(&convs[0]));
    let injected = rig.sandbox.helpscout().requests().iter().filter(|r| r.injected).count();
    assert_eq!(injected, 2, "both faults were hit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_waits_for_help_scouts_retry_after() {
    let rig = start_rig("").await;
    rig.sandbox.helpscout().inject(Fault {
        fail_next: 1,
        status: Some(429),
        retry_after: Some(2),
        path_prefix: Some("/v2/conversations".into()),
        method: Some("POST".into()),
        ..Fault::default()
    });
    rig.play_bundled("inbound-answered").await;
    rig.settle().await;
    no_dead_letters(&rig);
    let reqs = rig.sandbox.helpscout().requests();
    let limited = reqs.iter().find(|r| r.status == 429).expect("the 429");
    let next = reqs.iter().find(|r| r.timestamp_ms > limited.timestamp_ms).expect("a request after the 429");
    assert!(next.timestamp_ms - limited.timestamp_ms >= 1900, "waited {} ms", next.timestamp_ms - limited.timestamp_ms);
    let convs = conversations_of(&hs(&rig), CHLOE);
    assert_eq!(convs.len(), 1);
    assert_eq!(convs[0].threads.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_pauses_the_integration_and_nothing_is_lost() {
    let rig = start_rig("").await;
    rig.sandbox.helpscout().inject(Fault { expire_tokens: true, ..Fault::default() });
    rig.play_bundled("inbound-answered").await;
    let paused = rig
        .wait_for("the integration to pause", |_| {
            let out = rig.host.cli(&["integrations", "list"]);
            out.contains("paused").then_some(out)
        })
        .await;
    assert!(paused.contains("helpscout"), "{paused}");
    assert!(hs(&rig).conversations.is_empty());
    // A new token is configured (here: the emulator accepts it again) and the integration resumed.
    rig.sandbox.helpscout().update(|s| s.expired_tokens.clear());
    let out = rig.host.cli(&["integrations", "resume", "helpscout"]);
    assert!(out.contains("resumed"), "{out}");
    rig.wait_for("the held call to be logged", |sb| {
        let s = sb.helpscout().state();
        let c = conversations_of(&s, CHLOE);
        (c.len() == 1 && c[0].threads.len() == 2).then_some(())
    })
    .await;
    rig.settle().await;
    no_dead_letters(&rig);
    let convs = conversations_of(&hs(&rig), CHLOE);
    assert_eq!(convs.len(), 1);
    assert!(has_tag(&convs[0], "Billing"), "{:?}", convs[0].tags);
}

// API economy --------------------------------------------------------------------------------------------

/// Help Scout requests per logged call with a warm cache (recorded in plugins/helpscout/BENCHMARKS.md):
/// `cargo test -p switchboard --test helpscout api_economy -- --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_economy_requests_per_logged_call() {
    let rig = start_rig("").await;
    // Warm the cache (user look-ups) with a first call.
    rig.play_bundled("inbound-answered").await;
    rig.settle().await;
    let mut report = Vec::new();
    for (label, existing) in [("into the open conversation", true), ("new conversation", false)] {
        if !existing {
            rig.sandbox.helpscout().update(|s| s.conversations.iter_mut().for_each(|c| c.status = "closed".into()));
        }
        rig.sandbox.helpscout().clear_requests();
        rig.play_bundled("inbound-answered").await;
        rig.settle().await;
        let reqs = rig.sandbox.helpscout().requests();
        let reads = reqs.iter().filter(|r| r.method == "GET").count();
        let writes = reqs.len() - reads;
        let lines: Vec<String> = reqs.iter().map(|r| format!("{} {}", r.method, r.path)).collect();
        println!(
            "answered call, {label}: {} requests ({reads} reads, {writes} writes; rate-limit cost {}):\n  {}",
            reqs.len(),
            reads + 2 * writes,
            lines.join("\n  ")
        );
        report.push(reqs.len());
    }
    assert!(report.iter().all(|n| *n <= 8), "{report:?}");
}

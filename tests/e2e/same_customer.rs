//! "One customer, one lane" (issue 12), end to end, for every connector.
//!
//! The host runs every job of one integration that concerns the same external
//! party (the normalised customer number; withheld numbers: one lane per
//! Aircall line) one at a time, and different parties in parallel
//! (`host/src/queue/lane.rs`). These tests play overlapping Aircall webhooks
//! into the real host running each bundled plugin and assert what the CRM
//! emulator holds once the queue has settled:
//!
//! - two simultaneous calls from one new number on two Aircall lines → one
//!   contact / customer, the conversations or tickets the connector's seed
//!   prescribes, tags consistent at the end;
//! - a call and an SMS from one new number at once → the same;
//! - two withheld calls on one line at once (the demo observation: a
//!   "call in progress" tag left behind) → one anonymous record, tags consistent;
//! - two withheld calls on two lines at once (two lanes by design) → still one
//!   anonymous record: the plugin's own election;
//! - the control: two different new numbers at once → two customers, and their
//!   jobs really ran side by side.
//!
//! Besides the outcome, each same-customer test proves the serialisation
//! directly: the CRM emulator answers every request after [`LATENCY_MS`], so
//! requests of jobs that run one after another arrive at least that far apart,
//! while two jobs running at once put two requests in flight together. This
//! makes the tests fail without lanes even for a plugin with its own
//! create-once election (Intercom's `sdk::storage::claim` on new leads, which
//! would keep the contact count right on its own).
//!
//! HubSpot logs no calls and creates no contacts: its connector is the "Send
//! SMS" workflow action, and the only Aircall events it acts on are inbound
//! replies to a workflow SMS (logged as communications on the record the SMS
//! came from). So for HubSpot "one customer" means: replies of one number
//! arriving together on two lines, or together with a call from that number,
//! are each logged exactly once on the right record, no contact is created,
//! and the jobs ran one at a time; the call itself is ignored.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::rig::Rig;
use serde_json::json;
use switchboard_sandbox::hubspot::Execution;
use switchboard_sandbox::{Fault, RequestRecord};

/// Latency the CRM emulator adds to every request while overlapping webhooks are played.
const LATENCY_MS: i64 = 150;

/// The new caller of the same-customer tests (known to no CRM, no Aircall contact).
const NEW: &str = "+33 6 70 11 22 33";
const NEW_E164: &str = "+33670112233";
/// The second new caller of the control tests.
const OTHER: &str = "+33 6 70 44 55 66";
const OTHER_E164: &str = "+33670445566";

// ---------------------------------------------------------------- scenarios

/// A `[[call]]` table.
fn call(key: &str, number: &str, from: &str) -> String {
    format!("[[call]]\nkey = \"{key}\"\ndirection = \"inbound\"\nnumber = \"{number}\"\nfrom = \"{from}\"\n\n")
}

/// An inbound `[[message]]` table.
fn sms(key: &str, number: &str, from: &str, body: &str) -> String {
    format!("[[message]]\nkey = \"{key}\"\ndirection = \"inbound\"\nnumber = \"{number}\"\nexternal = \"{from}\"\nbody = \"{body}\"\n\n")
}

/// `[[step]]` tables: `(at, "call"|"message", key, event, extra TOML)`.
fn steps(list: &[(u32, &str, &str, &str, &str)]) -> String {
    list.iter()
        .map(|(at, what, key, event, extra)| format!("[[step]]\nat = {at}\n{what} = \"{key}\"\nevent = \"{event}\"\n{extra}\n\n"))
        .collect()
}

/// Two answered calls from `from` at once, `a` on Support FR (Ada, tagged
/// "Billing"), `b` on Sales US (Bob, tagged "VIP"); every step of one falls
/// between steps of the other, and `b` ends first.
fn two_lines(from: &str) -> String {
    two_calls(("support-fr", from), ("sales-us", from))
}

/// Two overlapping answered calls: `a` (Ada, tagged "Billing") and `b` (Bob, tagged "VIP").
fn two_calls(a: (&str, &str), b: (&str, &str)) -> String {
    call("a", a.0, a.1)
        + &call("b", b.0, b.1)
        + &steps(&[
            (0, "call", "a", "call.created", ""),
            (1, "call", "b", "call.created", ""),
            (4, "call", "a", "call.answered", "user = \"ada\""),
            (5, "call", "b", "call.answered", "user = \"bob\""),
            (20, "call", "a", "call.tagged", "tag = \"Billing\"\nuser = \"ada\""),
            (25, "call", "b", "call.tagged", "tag = \"VIP\"\nuser = \"bob\""),
            (40, "call", "b", "call.hungup", ""),
            (60, "call", "a", "call.hungup", ""),
            (70, "call", "b", "call.ended", ""),
            (90, "call", "a", "call.ended", ""),
        ])
}

/// The SMS text of [`call_and_sms`].
const SMS_TEXT: &str = "Bonjour, je viens de vous appeler pour ma commande";

/// An answered call from `from` on Support FR and, while it starts, an SMS from the same number to the same line.
fn call_and_sms(from: &str) -> String {
    call("c", "support-fr", from)
        + &sms("m", "support-fr", from, SMS_TEXT)
        + &steps(&[
            (0, "call", "c", "call.created", ""),
            (0, "message", "m", "message.received", ""),
            (4, "call", "c", "call.answered", "user = \"ada\""),
            (60, "call", "c", "call.hungup", ""),
            (90, "call", "c", "call.ended", ""),
        ])
}

// ---------------------------------------------------------------- lanes, seen from the CRM

/// Makes the CRM emulator answer every request after [`LATENCY_MS`].
fn slow(rig: &Rig, crm: &str) {
    let fault = Fault { latency_ms: Some(LATENCY_MS as u64), ..Fault::default() };
    match crm {
        "intercom" => rig.sandbox.intercom().inject(fault),
        "helpscout" => rig.sandbox.helpscout().inject(fault),
        "gorgias" => rig.sandbox.gorgias().inject(fault),
        "hubspot" => rig.sandbox.hubspot().inject(fault),
        other => panic!("no emulator {other}"),
    }
}

/// The CRM emulator's request journal.
fn crm_requests(rig: &Rig, crm: &str) -> Vec<RequestRecord> {
    match crm {
        "intercom" => rig.sandbox.intercom().requests(),
        "helpscout" => rig.sandbox.helpscout().requests(),
        "gorgias" => rig.sandbox.gorgias().requests(),
        "hubspot" => rig.sandbox.hubspot().requests(),
        other => panic!("no emulator {other}"),
    }
}

/// Arrival times (ms) of the plugin's API requests after the first `skip` of the journal
/// (file-storage stand-ins and token endpoints excluded).
fn arrivals(rig: &Rig, crm: &str, skip: usize) -> Vec<(i64, String)> {
    let mut v: Vec<(i64, String)> = crm_requests(rig, crm)
        .into_iter()
        .skip(skip)
        .filter(|r| !r.path.starts_with("/_") && !r.path.contains("oauth"))
        .map(|r| (r.timestamp_ms, format!("{} {}", r.method, r.path)))
        .collect();
    v.sort_by_key(|(t, _)| *t);
    v
}

/// Requests that arrived while another one was still being answered (less than the latency apart).
fn overlapping(a: &[(i64, String)]) -> Vec<String> {
    a.windows(2).filter(|w| w[1].0 - w[0].0 < LATENCY_MS - 2).map(|w| format!("{} @{} / {} @{}", w[0].1, w[0].0, w[1].1, w[1].0)).collect()
}

/// Every CRM request since `skip` came from one job at a time: the lane held.
fn assert_one_at_a_time(rig: &Rig, crm: &str, skip: usize) {
    let a = arrivals(rig, crm, skip);
    assert!(a.len() >= 2, "too few {crm} requests to judge: {a:?}");
    let both = overlapping(&a);
    assert!(both.is_empty(), "jobs about one customer ran at once ({} pairs of {crm} requests in flight together): {both:#?}", both.len());
}

/// Some CRM requests since `skip` were in flight together: different customers ran in parallel.
fn assert_side_by_side(rig: &Rig, crm: &str, skip: usize) {
    let a = arrivals(rig, crm, skip);
    assert!(!overlapping(&a).is_empty(), "two customers' jobs never overlapped; lanes are not parallel: {a:#?}");
}

/// Nothing went to the dead letters.
fn no_dead_letters(rig: &Rig) {
    let out = rig.host.cli(&["dead-letters", "list"]);
    assert!(out.contains("no dead letters"), "dead letters:\n{out}\nhost log:\n{}", rig.host.log());
}

/// Plays `scenario` with the CRM slowed down, waits for the queue, and checks the lane held (or not).
async fn play_slowly(rig: &Rig, crm: &str, scenario: &str, one_customer: bool) {
    let skip = crm_requests(rig, crm).len();
    slow(rig, crm);
    rig.play(scenario).await;
    rig.settle().await;
    no_dead_letters(rig);
    if one_customer {
        assert_one_at_a_time(rig, crm, skip);
    } else {
        assert_side_by_side(rig, crm, skip);
    }
}

/// Withheld calls on Support FR and Sales US at once: two lanes (one per line),
/// but one anonymous record per integration, which the plugin must elect itself.
fn withheld_on_two_lines() -> String {
    two_calls(("support-fr", "anonymous"), ("sales-us", "anonymous"))
}

/// Plays `scenario` with the CRM slowed down (wider races) and waits for the queue.
async fn play_in_parallel_lanes(rig: &Rig, crm: &str, scenario: &str) {
    slow(rig, crm);
    rig.play(scenario).await;
    rig.settle().await;
    no_dead_letters(rig);
}

// ---------------------------------------------------------------- Intercom

mod intercom {
    use super::*;
    use switchboard_sandbox::intercom::model::{Contact, Conversation, IntercomState};

    async fn rig() -> Rig {
        Rig::start(
            "intercom",
            "base_url = \"{intercom}\"\nsettings = { app_url = \"https://app.intercom.test\" }\nsecrets = { token = \"sandbox-intercom-token\" }\n",
        )
        .await
    }

    fn state(rig: &Rig) -> IntercomState {
        rig.sandbox.intercom().state()
    }

    fn with_phone<'a>(s: &'a IntercomState, e164: &str) -> Vec<&'a Contact> {
        s.contacts.iter().filter(|c| c.phone.as_deref() == Some(e164)).collect()
    }

    fn conversations_of<'a>(s: &'a IntercomState, contact: &str) -> Vec<&'a Conversation> {
        s.conversations.iter().filter(|c| c.contact_ids.iter().any(|id| id == contact)).collect()
    }

    /// What the contact said in the conversation: the opening message, then its replies
    /// (each logged call or SMS is one of them; details follow in notes).
    fn from_contact(c: &Conversation) -> Vec<String> {
        std::iter::once(c.source_body.clone())
            .chain(c.parts.iter().filter(|p| p.part_type == "comment").filter_map(|p| p.body.clone()))
            .collect()
    }

    fn tag_names(s: &IntercomState, c: &Conversation) -> Vec<String> {
        c.tags.iter().filter_map(|a| s.tags.iter().find(|t| t.id == a.id).map(|t| t.name.clone())).collect()
    }

    fn all_text(c: &Conversation) -> String {
        std::iter::once(c.source_body.clone()).chain(c.parts.iter().filter_map(|p| p.body.clone())).collect::<Vec<_>>().join("\n")
    }

    /// The new caller's one lead and its one conversation (seed: calls go into the contact's open conversation).
    fn one_lead_one_conversation(s: &IntercomState, e164: &str) -> Conversation {
        let leads = with_phone(s, e164);
        assert_eq!(leads.len(), 1, "one lead for {e164}: {:#?}", s.contacts);
        assert_eq!(leads[0].role, "lead");
        let convs = conversations_of(s, &leads[0].id);
        assert_eq!(convs.len(), 1, "one open conversation takes every interaction: {convs:#?}");
        convs[0].clone()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_calls_from_one_new_number_on_two_lines_make_one_lead_and_one_conversation() {
        let rig = rig().await;
        play_slowly(&rig, "intercom", &two_lines(NEW), true).await;
        let s = state(&rig);
        let conv = one_lead_one_conversation(&s, NEW_E164);
        let said = from_contact(&conv);
        assert_eq!(said.len(), 2, "both calls logged, once each: {said:#?}");
        let text = all_text(&conv);
        assert!(text.contains("Support FR") && text.contains("Sales US"), "each call on its line: {text}");
        let tags = tag_names(&s, &conv);
        for t in ["Billing", "VIP"] {
            assert_eq!(tags.iter().filter(|x| *x == t).count(), 1, "{t} once: {tags:?}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_call_and_an_sms_from_one_new_number_make_one_lead_and_one_conversation() {
        let rig = rig().await;
        play_slowly(&rig, "intercom", &call_and_sms(NEW), true).await;
        let s = state(&rig);
        let conv = one_lead_one_conversation(&s, NEW_E164);
        let said = from_contact(&conv);
        assert_eq!(said.len(), 2, "the call and the SMS, once each: {said:#?}");
        assert_eq!(said.iter().filter(|x| x.contains("SMS")).count(), 1, "{said:#?}");
        assert!(all_text(&conv).contains(SMS_TEXT), "the SMS text is logged");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_withheld_calls_on_one_line_share_the_anonymous_contact() {
        let rig = rig().await;
        play_slowly(&rig, "intercom", &two_calls(("support-fr", "anonymous"), ("support-fr", "anonymous")), true).await;
        let s = state(&rig);
        let anon: Vec<&Contact> = s.contacts.iter().filter(|c| c.email.as_deref() == Some("anonymous@aircall.io")).collect();
        assert_eq!(anon.len(), 1, "{:#?}", s.contacts);
        let convs = conversations_of(&s, &anon[0].id);
        let calls: usize = convs.iter().map(|c| from_contact(c).len()).sum();
        assert_eq!(calls, 2, "both calls logged once: {convs:#?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn withheld_calls_on_two_lines_at_once_share_one_anonymous_contact() {
        let rig = rig().await;
        play_in_parallel_lanes(&rig, "intercom", &withheld_on_two_lines()).await;
        let s = state(&rig);
        let anon: Vec<&Contact> = s.contacts.iter().filter(|c| c.email.as_deref() == Some("anonymous@aircall.io")).collect();
        assert_eq!(anon.len(), 1, "{:#?}", s.contacts);
        let convs = conversations_of(&s, &anon[0].id);
        let calls: usize = convs.iter().map(|c| from_contact(c).len()).sum();
        assert_eq!(calls, 2, "both calls logged once: {convs:#?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_new_numbers_at_once_make_two_leads_side_by_side() {
        let rig = rig().await;
        play_slowly(&rig, "intercom", &two_calls(("support-fr", NEW), ("support-fr", OTHER)), false).await;
        let s = state(&rig);
        for e164 in [NEW_E164, OTHER_E164] {
            let conv = one_lead_one_conversation(&s, e164);
            assert_eq!(from_contact(&conv).len(), 1, "only its own call: {conv:#?}");
        }
    }
}

// ---------------------------------------------------------------- Help Scout

mod helpscout {
    use super::*;
    use switchboard_sandbox::helpscout::model::{Conversation, Customer, HelpScoutState};

    /// The demo mailboxes: Support FR (2001) → 30411, Sales US → 30412.
    const SUPPORT: u64 = 30411;
    const SALES: u64 = 30412;

    async fn rig() -> Rig {
        Rig::start(
            "helpscout",
            &format!(
                "base_url = \"{{helpscout}}\"\nsettings = {{ mailboxes = {{ \"2001\" = {SUPPORT}, \"+1 415-555-0100\" = {SALES} }} }}\nsecrets = {{ token = \"sandbox-helpscout-token\" }}\n"
            ),
        )
        .await
    }

    fn state(rig: &Rig) -> HelpScoutState {
        rig.sandbox.helpscout().state()
    }

    fn with_phone<'a>(s: &'a HelpScoutState, e164: &str) -> Vec<&'a Customer> {
        s.customers.iter().filter(|c| c.phones.iter().any(|p| p.value == e164)).collect()
    }

    fn conversations_of(s: &HelpScoutState, customer: u64) -> Vec<Conversation> {
        let mut v: Vec<Conversation> = s.conversations.iter().filter(|c| c.customer_id == customer).cloned().collect();
        v.sort_by_key(|c| c.id);
        v
    }

    fn has_tag(c: &Conversation, tag: &str) -> bool {
        c.tags.iter().any(|t| t.eq_ignore_ascii_case(tag))
    }

    fn texts(c: &Conversation) -> Vec<String> {
        c.threads.iter().map(|t| t.text.clone()).collect()
    }

    /// The one customer with the number.
    fn one_customer(s: &HelpScoutState, e164: &str) -> u64 {
        let found = with_phone(s, e164);
        assert_eq!(found.len(), 1, "one Help Scout customer for {e164}: {:#?}", s.customers);
        found[0].id
    }

    /// A finished answered call's conversation: phone thread + wrap-up, operational tags, no "call in progress".
    fn finished(c: &Conversation, line: &str, agent_tag: &str) {
        let t = texts(c);
        assert_eq!(t.iter().filter(|x| x.starts_with("<b>Inbound call from")).count(), 1, "one phone thread: {t:#?}");
        assert_eq!(t.iter().filter(|x| x.starts_with("<b>Call ended")).count(), 1, "one wrap-up: {t:#?}");
        for tag in [line, "inbound", agent_tag] {
            assert!(has_tag(c, tag), "tag {tag} missing: {:?}", c.tags);
        }
        assert!(!has_tag(c, "call in progress"), "both calls ended, yet: {:?}", c.tags);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_calls_from_one_new_number_on_two_lines_make_one_customer_and_a_conversation_per_mailbox() {
        let rig = rig().await;
        play_slowly(&rig, "helpscout", &two_lines(NEW), true).await;
        let s = state(&rig);
        let customer = one_customer(&s, NEW_E164);
        // Seed: each number logs into its mailbox; a call goes into the customer's open conversation *of that mailbox*.
        let convs = conversations_of(&s, customer);
        assert_eq!(convs.len(), 2, "{convs:#?}");
        let support = convs.iter().find(|c| c.mailbox_id == SUPPORT).expect("the Support FR call's conversation");
        let sales = convs.iter().find(|c| c.mailbox_id == SALES).expect("the Sales US call's conversation");
        finished(support, "Support FR", "Billing");
        finished(sales, "Sales US", "VIP");
        assert!(!has_tag(support, "VIP") && !has_tag(sales, "Billing"), "each call's tags on its own conversation");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_call_and_an_sms_from_one_new_number_make_one_customer_and_one_conversation() {
        let rig = rig().await;
        play_slowly(&rig, "helpscout", &call_and_sms(NEW), true).await;
        let s = state(&rig);
        let customer = one_customer(&s, NEW_E164);
        // Seed: a message goes into the most recent open conversation, a call too: whichever comes first opens it.
        let convs = conversations_of(&s, customer);
        assert_eq!(convs.len(), 1, "{convs:#?}");
        let c = &convs[0];
        assert_eq!(c.mailbox_id, SUPPORT);
        let t = texts(c);
        assert_eq!(t.len(), 3, "phone thread, SMS, wrap-up: {t:#?}");
        assert_eq!(t.iter().filter(|x| x.contains(SMS_TEXT)).count(), 1, "the SMS once: {t:#?}");
        assert!(t.iter().any(|x| x.starts_with("<b>Inbound call from")) && t.iter().any(|x| x.starts_with("<b>Call ended")), "{t:#?}");
        assert!(has_tag(c, "Support FR") && has_tag(c, "inbound"), "{:?}", c.tags);
        assert!(!has_tag(c, "call in progress"), "the call ended, yet: {:?}", c.tags);
    }

    /// The demo observation: two withheld calls of one line share a conversation;
    /// run at once, one call's end raced the other's answer and "call in progress" stayed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_withheld_calls_on_one_line_leave_no_call_in_progress_tag() {
        let rig = rig().await;
        play_slowly(&rig, "helpscout", &two_calls(("support-fr", "anonymous"), ("support-fr", "anonymous")), true).await;
        let s = state(&rig);
        let anon: Vec<&Customer> = s
            .customers
            .iter()
            .filter(|c| c.phones.is_empty() && c.first_name.as_deref().is_some_and(|n| n.contains("Unknown Contact")))
            .collect();
        assert_eq!(anon.len(), 1, "one shared unknown-contact customer: {:#?}", s.customers);
        let convs = conversations_of(&s, anon[0].id);
        assert_eq!(convs.len(), 1, "the second call joins the open conversation: {convs:#?}");
        let c = &convs[0];
        let t = texts(c);
        assert_eq!(t.iter().filter(|x| x.starts_with("<b>Inbound call from")).count(), 2, "{t:#?}");
        assert_eq!(t.iter().filter(|x| x.starts_with("<b>Call ended")).count(), 2, "{t:#?}");
        for tag in ["Support FR", "inbound", "Billing", "VIP"] {
            assert!(has_tag(c, tag), "tag {tag} missing: {:?}", c.tags);
        }
        assert!(!has_tag(c, "call in progress"), "both calls ended, yet: {:?}", c.tags);
    }

    /// Withheld lanes are per line, so the plugin elects the one unknown-contact
    /// customer itself (`storage::claim`, the loser deletes its duplicate).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn withheld_calls_on_two_lines_at_once_share_one_unknown_contact_customer() {
        let rig = rig().await;
        play_in_parallel_lanes(&rig, "helpscout", &withheld_on_two_lines()).await;
        let s = state(&rig);
        let anon: Vec<&Customer> = s.customers.iter().filter(|c| c.phones.is_empty()).collect();
        assert_eq!(anon.len(), 1, "one shared unknown-contact customer: {:#?}", s.customers);
        assert!(anon[0].first_name.as_deref().is_some_and(|n| n.contains("Unknown Contact")), "{:?}", anon[0]);
        let convs = conversations_of(&s, anon[0].id);
        assert_eq!(convs.len(), 2, "a conversation per mailbox: {convs:#?}");
        let support = convs.iter().find(|c| c.mailbox_id == SUPPORT).expect("the Support FR call's conversation");
        let sales = convs.iter().find(|c| c.mailbox_id == SALES).expect("the Sales US call's conversation");
        finished(support, "Support FR", "Billing");
        finished(sales, "Sales US", "VIP");
        assert!(
            s.conversations.iter().all(|c| c.customer_id == anon[0].id),
            "nothing logged on a deleted duplicate: {:#?}",
            s.conversations
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_new_numbers_at_once_make_two_customers_side_by_side() {
        let rig = rig().await;
        play_slowly(&rig, "helpscout", &two_calls(("support-fr", NEW), ("support-fr", OTHER)), false).await;
        let s = state(&rig);
        for (e164, tag, not) in [(NEW_E164, "Billing", "VIP"), (OTHER_E164, "VIP", "Billing")] {
            let convs = conversations_of(&s, one_customer(&s, e164));
            assert_eq!(convs.len(), 1, "{convs:#?}");
            finished(&convs[0], "Support FR", tag);
            assert!(!has_tag(&convs[0], not), "{:?}", convs[0].tags);
        }
    }
}

// ---------------------------------------------------------------- Gorgias

mod gorgias {
    use super::*;
    use switchboard_sandbox::gorgias::model::{Customer, GorgiasState, Ticket};

    async fn rig() -> Rig {
        Rig::start("gorgias", "base_url = \"{gorgias}\"\nsecrets = { api = \"operator@sandbox.test:sandbox-gorgias-key\" }\n").await
    }

    fn state(rig: &Rig) -> GorgiasState {
        rig.sandbox.gorgias().state()
    }

    fn with_phone<'a>(s: &'a GorgiasState, e164: &str) -> Vec<&'a Customer> {
        s.customers.iter().filter(|c| c.channels.iter().any(|ch| ch.address == e164)).collect()
    }

    fn tickets_of(s: &GorgiasState, customer: u64) -> Vec<Ticket> {
        let mut v: Vec<Ticket> = s.tickets.iter().filter(|t| t.customer_id == Some(customer)).cloned().collect();
        v.sort_by_key(|t| t.id);
        v
    }

    fn tag_names(s: &GorgiasState, t: &Ticket) -> Vec<String> {
        t.tag_ids.iter().filter_map(|id| s.tags.iter().find(|x| x.id == *id)).map(|x| x.name.clone()).collect()
    }

    fn notes(t: &Ticket) -> Vec<String> {
        t.messages.iter().map(|m| m.body_text.clone().unwrap_or_default()).collect()
    }

    fn one_customer(s: &GorgiasState, e164: &str) -> u64 {
        let found = with_phone(s, e164);
        assert_eq!(found.len(), 1, "one Gorgias customer for {e164}: {:#?}", s.customers);
        found[0].id
    }

    /// A finished answered call's ticket: one "answered" and one "ended" note, tags of its own line and agent.
    fn finished(s: &GorgiasState, t: &Ticket, line: &str, agent_tag: &str, not: &str) {
        assert_eq!(t.channel, "phone");
        assert_eq!(t.status, "open");
        let n = notes(t);
        assert_eq!(n.iter().filter(|x| x.starts_with("Inbound call answered")).count(), 1, "{n:#?}");
        assert_eq!(n.iter().filter(|x| x.starts_with("Inbound call ended")).count(), 1, "{n:#?}");
        let tags = tag_names(s, t);
        for want in ["Aircall", "Inbound call", line, agent_tag] {
            assert_eq!(tags.iter().filter(|x| *x == want).count(), 1, "{want} once in {tags:?}");
        }
        assert!(!tags.iter().any(|x| x == not || x == "Missed call"), "{tags:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_calls_from_one_new_number_on_two_lines_make_one_customer_and_a_ticket_per_call() {
        let rig = rig().await;
        play_slowly(&rig, "gorgias", &two_lines(NEW), true).await;
        let s = state(&rig);
        // Seed: one ticket per call, for the one customer found or created by phone.
        let tickets = tickets_of(&s, one_customer(&s, NEW_E164));
        assert_eq!(tickets.len(), 2, "{tickets:#?}");
        let support = tickets.iter().find(|t| tag_names(&s, t).iter().any(|x| x == "Support FR")).expect("the Support FR ticket");
        let sales = tickets.iter().find(|t| tag_names(&s, t).iter().any(|x| x == "Sales US")).expect("the Sales US ticket");
        finished(&s, support, "Support FR", "Billing", "Sales US");
        finished(&s, sales, "Sales US", "VIP", "Support FR");
        assert_eq!(s.tickets.len(), 2, "nothing logged elsewhere: {:#?}", s.tickets);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_call_and_an_sms_from_one_new_number_make_one_customer_a_call_ticket_and_an_sms_ticket() {
        let rig = rig().await;
        play_slowly(&rig, "gorgias", &call_and_sms(NEW), true).await;
        let s = state(&rig);
        // Seed: the call gets its ticket; the SMS goes to the customer's SMS conversation with that line.
        let tickets = tickets_of(&s, one_customer(&s, NEW_E164));
        assert_eq!(tickets.len(), 2, "{tickets:#?}");
        let phone = tickets.iter().find(|t| t.channel == "phone").expect("the call's ticket");
        let n = notes(phone);
        assert_eq!(n.iter().filter(|x| x.starts_with("Inbound call answered")).count(), 1, "{n:#?}");
        assert_eq!(n.iter().filter(|x| x.starts_with("Inbound call ended")).count(), 1, "{n:#?}");
        let text = tickets.iter().find(|t| t.channel == "sms").expect("the SMS ticket");
        assert_eq!(text.external_id.as_deref(), Some(format!("aircall-sms:2001:{NEW_E164}").as_str()));
        assert_eq!(notes(text), [SMS_TEXT], "the SMS once");
        let tags = tag_names(&s, text);
        assert_eq!(tags, ["Aircall SMS", "Support FR"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_withheld_calls_on_one_line_share_the_anonymous_customer() {
        let rig = rig().await;
        play_slowly(&rig, "gorgias", &two_calls(("support-fr", "anonymous"), ("support-fr", "anonymous")), true).await;
        let s = state(&rig);
        let anon: Vec<&Customer> = s.customers.iter().filter(|c| c.email.as_deref() == Some("anonymous@aircall.io")).collect();
        assert_eq!(anon.len(), 1, "{:#?}", s.customers);
        let tickets = tickets_of(&s, anon[0].id);
        assert_eq!(tickets.len(), 2, "a ticket per call: {tickets:#?}");
        finished(&s, &tickets[0], "Support FR", "Billing", "VIP");
        finished(&s, &tickets[1], "Support FR", "VIP", "Billing");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn withheld_calls_on_two_lines_at_once_share_one_anonymous_customer() {
        let rig = rig().await;
        play_in_parallel_lanes(&rig, "gorgias", &withheld_on_two_lines()).await;
        let s = state(&rig);
        let anon: Vec<&Customer> = s.customers.iter().filter(|c| c.email.as_deref() == Some("anonymous@aircall.io")).collect();
        assert_eq!(anon.len(), 1, "{:#?}", s.customers);
        let tickets = tickets_of(&s, anon[0].id);
        assert_eq!(tickets.len(), 2, "a ticket per call: {tickets:#?}");
        let support = tickets.iter().find(|t| tag_names(&s, t).iter().any(|x| x == "Support FR")).expect("the Support FR ticket");
        let sales = tickets.iter().find(|t| tag_names(&s, t).iter().any(|x| x == "Sales US")).expect("the Sales US ticket");
        finished(&s, support, "Support FR", "Billing", "Sales US");
        finished(&s, sales, "Sales US", "VIP", "Support FR");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_new_numbers_at_once_make_two_customers_side_by_side() {
        let rig = rig().await;
        play_slowly(&rig, "gorgias", &two_calls(("support-fr", NEW), ("support-fr", OTHER)), false).await;
        let s = state(&rig);
        for (e164, tag, not) in [(NEW_E164, "Billing", "VIP"), (OTHER_E164, "VIP", "Billing")] {
            let tickets = tickets_of(&s, one_customer(&s, e164));
            assert_eq!(tickets.len(), 1, "{tickets:#?}");
            finished(&s, &tickets[0], "Support FR", tag, not);
        }
    }
}

// ---------------------------------------------------------------- HubSpot

mod hubspot {
    use super::*;
    use switchboard_sandbox::hubspot::model::{Communication, HubSpotState};

    const SECRET: &str = "sandbox-hubspot-client-secret";
    /// A deal of the emulator's demo portal; the workflow SMS are sent from it.
    const DEAL: u64 = 3301;
    /// A ticket of the demo portal, the other customer's record in the control test.
    const TICKET: u64 = 4401;

    async fn rig() -> Rig {
        Rig::start(
            "hubspot",
            &format!(
                "base_url = \"{{hubspot}}\"\ndefault_region = \"FR\"\nsettings = {{ client_secret = \"{SECRET}\", sms_numbers = [2001, 2002] }}\nsecrets = {{ token = \"sandbox-hubspot-token\" }}\n"
            ),
        )
        .await
    }

    fn state(rig: &Rig) -> HubSpotState {
        rig.sandbox.hubspot().state()
    }

    /// A workflow on `object_type` `id` texts `to` from Aircall number `from` as Ada.
    async fn workflow_sms(rig: &Rig, object_type: &str, id: u64, from: u64, to: &str, text: &str) {
        let out = rig
            .sandbox
            .hubspot()
            .execute_workflow_action(
                &format!("{}/integrations/hubspot/actions/send-sms", rig.host.url),
                Execution {
                    object_type: object_type.into(),
                    object_id: id,
                    object_properties: json!({}),
                    input_fields: json!({ "fromNumber": from.to_string(), "senderUser": "1001", "toPhone": to, "message": text }),
                    workflow_id: 444,
                },
            )
            .await
            .expect("the action URL answers");
        assert_eq!(out.body["outputFields"]["status"], "sent", "{}", out.body);
    }

    fn bodies(comms: &[Communication]) -> Vec<String> {
        comms.iter().map(|c| c.record.properties.get("hs_communication_body").cloned().unwrap_or_default()).collect()
    }

    /// The communications whose body contains `needle`.
    fn logged<'a>(s: &'a HubSpotState, needle: &str) -> Vec<&'a Communication> {
        s.communications.iter().filter(|c| c.record.properties.get("hs_communication_body").is_some_and(|b| b.contains(needle))).collect()
    }

    fn on_record(c: &Communication) -> Vec<(String, String)> {
        c.associations.iter().map(|a| (a.to_type.clone(), a.to_id.clone())).collect()
    }

    fn replies(number: &str, from: &str, a: &str, b: &str) -> String {
        sms("r1", number, from, a) + &sms("r2", number, from, b)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replies_from_one_new_number_on_two_lines_are_each_logged_once_on_the_deal() {
        let rig = rig().await;
        // The deal's workflow texted a number no HubSpot contact has, from both lines.
        workflow_sms(&rig, "DEAL", DEAL, 2001, NEW, "Votre devis est prêt").await;
        workflow_sms(&rig, "DEAL", DEAL, 2002, NEW, "Your quote is ready").await;
        let contacts = state(&rig).contacts.len();
        assert_eq!(state(&rig).communications.len(), 2);
        // The customer answers both at once, twice each.
        let scenario = sms("fr1", "support-fr", NEW, "Merci")
            + &sms("us1", "sales-us", NEW, "Thanks")
            + &sms("fr2", "support-fr", NEW, "Je signe demain")
            + &sms("us2", "sales-us", NEW, "Signing tomorrow")
            + &steps(&[
                (0, "message", "fr1", "message.received", ""),
                (0, "message", "us1", "message.received", ""),
                (1, "message", "fr2", "message.received", ""),
                (1, "message", "us2", "message.received", ""),
            ]);
        play_slowly(&rig, "hubspot", &scenario, true).await;
        let s = state(&rig);
        assert_eq!(s.communications.len(), 6, "{:#?}", bodies(&s.communications));
        for (text, line) in
            [("Merci", "Support FR"), ("Thanks", "Sales US"), ("Je signe demain", "Support FR"), ("Signing tomorrow", "Sales US")]
        {
            let found = logged(&s, text);
            assert_eq!(found.len(), 1, "{text:?} logged once: {:#?}", bodies(&s.communications));
            let body = found[0].record.properties.get("hs_communication_body").cloned().unwrap_or_default();
            assert!(body.contains(&format!("Reply from {NEW_E164} to {line}")), "{body}");
            assert_eq!(on_record(found[0]), [("deals".to_string(), DEAL.to_string())], "on the deal only: no contact has the number");
        }
        assert_eq!(s.contacts.len(), contacts, "HubSpot contacts are never created by this connector");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_call_and_replies_from_one_number_at_once_log_each_reply_once_and_the_call_not_at_all() {
        let rig = rig().await;
        workflow_sms(&rig, "DEAL", DEAL, 2001, NEW, "Votre devis est prêt").await;
        let contacts = state(&rig).contacts.len();
        // The customer calls the line and texts it at the same time, then opts out.
        let scenario = call("c", "support-fr", NEW)
            + &replies("support-fr", NEW, "Je vous appelle", "STOP")
            + &steps(&[
                (0, "call", "c", "call.created", ""),
                (0, "message", "r1", "message.received", ""),
                (4, "call", "c", "call.answered", "user = \"ada\""),
                (5, "message", "r2", "message.received", ""),
                (60, "call", "c", "call.hungup", ""),
                (90, "call", "c", "call.ended", ""),
            ]);
        play_slowly(&rig, "hubspot", &scenario, true).await;
        let s = state(&rig);
        assert_eq!(s.communications.len(), 3, "the workflow SMS and two replies; the call is not logged: {:#?}", bodies(&s.communications));
        for text in ["Je vous appelle", "STOP"] {
            let found = logged(&s, text);
            assert_eq!(found.len(), 1, "{text:?} logged once: {:#?}", bodies(&s.communications));
            assert_eq!(on_record(found[0]), [("deals".to_string(), DEAL.to_string())]);
        }
        assert_eq!(s.contacts.len(), contacts, "no contact created");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replies_from_two_numbers_at_once_are_logged_side_by_side() {
        let rig = rig().await;
        workflow_sms(&rig, "DEAL", DEAL, 2001, NEW, "Votre devis est prêt").await;
        workflow_sms(&rig, "TICKET", TICKET, 2001, OTHER, "Votre ticket est résolu").await;
        let scenario = sms("a1", "support-fr", NEW, "Merci pour le devis")
            + &sms("b1", "support-fr", OTHER, "Merci pour le ticket")
            + &sms("a2", "support-fr", NEW, "Je signe demain")
            + &sms("b2", "support-fr", OTHER, "Tout fonctionne")
            + &steps(&[
                (0, "message", "a1", "message.received", ""),
                (0, "message", "b1", "message.received", ""),
                (1, "message", "a2", "message.received", ""),
                (1, "message", "b2", "message.received", ""),
            ]);
        play_slowly(&rig, "hubspot", &scenario, false).await;
        let s = state(&rig);
        assert_eq!(s.communications.len(), 6, "{:#?}", bodies(&s.communications));
        for (text, record) in [
            ("Merci pour le devis", ("deals", DEAL)),
            ("Je signe demain", ("deals", DEAL)),
            ("Merci pour le ticket", ("tickets", TICKET)),
            ("Tout fonctionne", ("tickets", TICKET)),
        ] {
            let found = logged(&s, text);
            assert_eq!(found.len(), 1, "{text:?} logged once: {:#?}", bodies(&s.communications));
            assert_eq!(on_record(found[0]), [(record.0.to_string(), record.1.to_string())], "{text:?} on its own record");
        }
    }
}

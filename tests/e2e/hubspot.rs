//! End-to-end scenario tests of the hubspot connector (simulator -> host -> plugin -> sandbox emulators).
//!
//! HubSpot calls us here: the sandbox HubSpot emulator POSTs signed workflow
//! executions and dropdown requests to `{host}/integrations/hubspot/…`; the SMS
//! lands in the sandbox Aircall emulator and the logged communications in the
//! HubSpot emulator. Aircall replies are played by the simulator.

use crate::support::rig::Rig;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use switchboard_sandbox::hubspot::{Execution, signature};

const SECRET: &str = "sandbox-hubspot-client-secret";
const CHLOE: &str = "+33612345678";

/// The integration table: numbers 2001 (Support FR: ada, bob) and 2002 (Sales US: ada) send SMS.
fn integration(extra_settings: &str) -> String {
    format!(
        r#"
base_url = "{{hubspot}}"
default_region = "FR"
settings = {{ client_secret = "{SECRET}", sms_numbers = [2001, 2002] {extra_settings} }}
secrets = {{ token = "sandbox-hubspot-token" }}
"#
    )
}

async fn start(extra_settings: &str) -> Rig {
    Rig::start("hubspot", &integration(extra_settings)).await
}

fn url(rig: &Rig, path: &str) -> String {
    format!("{}/integrations/hubspot{path}", rig.host.url)
}

fn inputs(from: u64, user: u64, to: &str, message: &str) -> Value {
    json!({ "fromNumber": from.to_string(), "senderUser": user.to_string(), "toPhone": to, "message": message })
}

/// One execution on a record; returns (HTTP status, outputFields).
async fn execute(rig: &Rig, object_type: &str, object_id: u64, properties: Value, input_fields: Value, workflow_id: u64) -> (u16, Value) {
    let out = rig
        .sandbox
        .hubspot()
        .execute_workflow_action(
            &url(rig, "/actions/send-sms"),
            Execution { object_type: object_type.into(), object_id, object_properties: properties, input_fields, workflow_id },
        )
        .await
        .expect("the action URL answers");
    (out.status, out.body["outputFields"].clone())
}

/// An execution on Chloé's contact record (901).
async fn to_chloe(rig: &Rig, from: u64, user: u64, message: &str) -> (u16, Value) {
    execute(rig, "CONTACT", 901, json!({ "firstname": "Chloé", "phone": CHLOE }), inputs(from, user, CHLOE, message), 444).await
}

fn sms(rig: &Rig) -> Vec<(u64, String, String)> {
    rig.sandbox.aircall().state().messages.iter().map(|m| (m.number_id, m.to.clone(), m.body.clone().unwrap_or_default())).collect()
}

/// POSTs `body` to `url` with chosen signature headers.
async fn post_raw(url: &str, body: &str, headers: &[(&str, String)]) -> (u16, Value) {
    let mut req = reqwest::Client::new().post(url).header("content-type", "application/json").body(body.to_string());
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let resp = req.send().await.expect("host answers");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn v3_headers(secret: &str, url: &str, body: &str, ts: i64) -> Vec<(&'static str, String)> {
    vec![("x-hubspot-signature-v3", signature::v3(secret, "POST", url, body, ts)), ("x-hubspot-request-timestamp", ts.to_string())]
}

fn execution_body(callback: &str) -> String {
    json!({
        "callbackId": callback,
        "origin": { "portalId": 1234567, "actionDefinitionId": 55, "actionDefinitionVersion": 1 },
        "context": { "source": "WORKFLOWS", "workflowId": 444 },
        "object": { "objectId": 901, "objectType": "CONTACT", "properties": { "firstname": "Chloé" } },
        "inputFields": inputs(2001, 1001, CHLOE, "Hello {{contact.firstname}}"),
    })
    .to_string()
}

// ---------------------------------------------------------------- 1. definition

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn action_definition_is_printed_with_fields_object_types_and_urls() {
    let rig = start("").await;
    let resp = reqwest::get(url(&rig, "/action-definition")).await.expect("definition");
    assert_eq!(resp.status().as_u16(), 200);
    let def: Value = resp.json().await.expect("JSON");
    assert_eq!(def["actionUrl"], url(&rig, "/actions/send-sms"));
    assert_eq!(def["published"], false);
    let types: Vec<&str> = def["objectTypes"].as_array().expect("objectTypes").iter().filter_map(Value::as_str).collect();
    assert_eq!(types, ["CONTACT", "DEAL", "TICKET", "COMPANY", "QUOTE", "USER", "ORDER", "CART", "INVOICE", "LEAD"]);
    let fields: Vec<&Value> = def["inputFields"].as_array().expect("inputFields").iter().collect();
    let names: Vec<&str> = fields.iter().filter_map(|f| f["typeDefinition"]["name"].as_str()).collect();
    assert_eq!(names, ["fromNumber", "senderUser", "toPhone", "message"]);
    assert!(fields.iter().all(|f| f["isRequired"] == true), "every field is required: {def}");
    assert_eq!(fields[0]["typeDefinition"]["optionsUrl"], url(&rig, "/options/from-number"));
    assert_eq!(fields[1]["typeDefinition"]["optionsUrl"], url(&rig, "/options/sender-user"));
    assert_eq!(fields[2]["supportedValueTypes"], json!(["OBJECT_PROPERTY"]));
    assert_eq!(def["inputFieldDependencies"][0]["controllingFieldName"], "fromNumber");
    assert_eq!(def["labels"]["en"]["actionName"], "Send SMS – Beta");
    assert_eq!(def["labels"]["de"]["actionName"], "SMS senden – Beta");
}

// ---------------------------------------------------------------- 2. dropdowns

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropdowns_offer_sms_numbers_and_their_users_and_are_cached() {
    let rig = start(", options_cache_seconds = 2").await;
    let hs = rig.sandbox.hubspot();
    // Only the configured SMS numbers, as Aircall names them.
    let (status, from) = hs.fetch_action_options(&url(&rig, "/options/from-number"), "fromNumber", json!({})).await.expect("options");
    assert_eq!(status, 200);
    assert_eq!(
        from["options"],
        json!([
            { "label": "Support FR (+33 1 23 45 67 89)", "value": "2001" },
            { "label": "Sales US (+1 415-555-0100)", "value": "2002" },
        ])
    );
    let senders = |n: &'static str| {
        let u = url(&rig, "/options/sender-user");
        async move { hs.fetch_action_options(&u, "senderUser", json!({ "fromNumber": n })).await.expect("options").1["options"].clone() }
    };
    assert_eq!(
        senders("2001").await,
        json!([
            { "label": "Ada Agent (ada@example.com)", "value": "1001" },
            { "label": "Bob Builder (bob@example.com)", "value": "1002" },
        ])
    );
    assert_eq!(senders("2002").await.as_array().map(Vec::len), Some(1));

    // Bob leaves Support FR: within the cache lifetime the list does not change and Aircall is not asked again.
    rig.sandbox.aircall().update(|s| s.numbers.iter_mut().filter(|n| n.id == 2001).for_each(|n| n.user_ids.retain(|u| *u != 1002)));
    let asked = || rig.sandbox.aircall().requests().iter().filter(|r| r.path == "/v1/numbers/2001").count();
    assert_eq!(asked(), 1);
    assert_eq!(senders("2001").await.as_array().map(Vec::len), Some(2));
    assert_eq!(asked(), 1, "served from the cache");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(senders("2001").await, json!([{ "label": "Ada Agent (ada@example.com)", "value": "1001" }]));
    assert_eq!(asked(), 2);
    // A number that is not an SMS number of the integration has no senders.
    assert_eq!(senders("2999").await, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_sms_number_gives_an_empty_list() {
    let rig = Rig::start(
        "hubspot",
        &format!(
            r#"
base_url = "{{hubspot}}"
settings = {{ client_secret = "{SECRET}" }}
secrets = {{ token = "sandbox-hubspot-token" }}
"#
        ),
    )
    .await;
    let (status, from) =
        rig.sandbox.hubspot().fetch_action_options(&url(&rig, "/options/from-number"), "fromNumber", json!({})).await.expect("options");
    assert_eq!((status, from["options"].clone()), (200, json!([])));
    let (_, out) = to_chloe(&rig, 2001, 1001, "Hi").await;
    assert_eq!(out["hs_execution_state"], "FAIL_CONTINUE");
    assert!(sms(&rig).is_empty());
}

/// The single entry of a dropdown that reports a problem (never a number id).
fn problem_entry(reply: &Value) -> String {
    let options = reply["options"].as_array().cloned().unwrap_or_default();
    let problem = options.iter().find(|o| o["value"] == "problem").unwrap_or_else(|| panic!("no problem entry in {reply}"));
    problem["label"].as_str().unwrap_or("").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_aircall_key_is_shown_in_the_number_list_not_an_empty_list() {
    let mut rig = start("").await;
    // The operator typed the Aircall key wrong: Aircall answers 403 to the host.
    rig.host.kill();
    let config = std::fs::read_to_string(&rig.host.config_path).expect("config");
    let token = rig.sandbox.aircall().credentials().api_token.clone();
    std::fs::write(&rig.host.config_path, config.replace(&format!("api_token = \"{token}\""), "api_token = \"wrong-aircall-token\""))
        .expect("config");
    rig.host.spawn().await;
    let (status, from) =
        rig.sandbox.hubspot().fetch_action_options(&url(&rig, "/options/from-number"), "fromNumber", json!({})).await.expect("options");
    assert_eq!(status, 200, "{from}");
    let options = from["options"].as_array().cloned().unwrap_or_default();
    assert_eq!(options.len(), 1, "one entry that says what is wrong: {from}");
    let label = problem_entry(&from);
    assert!(label.contains("Aircall refused the API credentials") && label.contains("api_token"), "{label}");
    // Choosing it cannot send anything.
    let (_, out) = execute(
        &rig,
        "CONTACT",
        901,
        json!({ "phone": CHLOE }),
        json!({ "fromNumber": "problem", "senderUser": "1001", "toPhone": CHLOE, "message": "Hi" }),
        444,
    )
    .await;
    assert_eq!(out["hs_execution_state"], "FAIL_CONTINUE", "{out}");
    assert!(sms(&rig).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sms_number_the_account_does_not_have_is_named_in_the_number_list() {
    // No `numbers` filter, so `switchboard check` cannot compare; the dropdown does.
    let rig = Rig::start(
        "hubspot",
        &format!(
            r#"
base_url = "{{hubspot}}"
settings = {{ client_secret = "{SECRET}", sms_numbers = [2001, 2999] }}
secrets = {{ token = "sandbox-hubspot-token" }}
"#
        ),
    )
    .await;
    let (status, from) =
        rig.sandbox.hubspot().fetch_action_options(&url(&rig, "/options/from-number"), "fromNumber", json!({})).await.expect("options");
    assert_eq!(status, 200);
    let label = problem_entry(&from);
    assert!(label.contains("2999") && label.contains("sms_numbers"), "{label}");
    let values: Vec<&str> = from["options"].as_array().into_iter().flatten().filter_map(|o| o["value"].as_str()).collect();
    assert_eq!(values, ["problem", "2001"], "the valid number is still offered: {from}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feature_not_enabled_shows_the_private_beta_message() {
    let rig = start(", sms_enabled = false").await;
    let (_, from) =
        rig.sandbox.hubspot().fetch_action_options(&url(&rig, "/options/from-number"), "fromNumber", json!({})).await.expect("options");
    let options = from["options"].as_array().cloned().unwrap_or_default();
    assert_eq!(options.len(), 1, "{from}");
    assert!(options[0]["label"].as_str().unwrap_or("").contains("private beta and is not enabled for your account"), "{from}");
    let (status, out) = to_chloe(&rig, 2001, 1001, "Hi").await;
    assert_eq!(status, 200);
    assert_eq!(out["hs_execution_state"], "FAIL_CONTINUE");
    assert!(out["reason"].as_str().unwrap_or("").contains("private beta"), "{out}");
    assert!(sms(&rig).is_empty());
}

// ---------------------------------------------------------------- 3. execution

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_are_verified_v3_then_v2_and_bad_ones_get_401() {
    let rig = start("").await;
    let action = url(&rig, "/actions/send-sms");
    // As HubSpot signs it (v3 + v2): accepted.
    let (status, out) = to_chloe(&rig, 2001, 1001, "Signed").await;
    assert_eq!((status, out["status"].as_str()), (200, Some("sent")), "{out}");

    let body = execution_body("cb-sig-1");
    let now = now_ms();
    let refused = [
        ("wrong secret", v3_headers("not-the-secret", &action, &body, now)),
        ("stale timestamp", v3_headers(SECRET, &action, &body, now - 6 * 60_000)),
        ("timestamp not signed", {
            let mut h = v3_headers(SECRET, &action, &body, now);
            h[1].1 = (now - 1).to_string();
            h
        }),
        ("signed for another body", v3_headers(SECRET, &action, &execution_body("cb-other"), now)),
        (
            "wrong v2",
            vec![("x-hubspot-signature", signature::v2("nope", "POST", &action, &body)), ("x-hubspot-signature-version", "v2".into())],
        ),
        ("unsigned", vec![]),
    ];
    for (what, headers) in refused {
        let (status, answer) = post_raw(&action, &body, &headers).await;
        assert_eq!(status, 401, "{what}: {answer}");
    }
    // v2 alone (no v3 header) is accepted.
    let v2 = vec![("x-hubspot-signature", signature::v2(SECRET, "POST", &action, &body)), ("x-hubspot-signature-version", "v2".into())];
    let (status, answer) = post_raw(&action, &body, &v2).await;
    assert_eq!((status, answer["outputFields"]["status"].as_str()), (200, Some("sent")), "{answer}");
    // Dropdown requests are signed too.
    let (status, _) = post_raw(&url(&rig, "/options/from-number"), "{}", &[]).await;
    assert_eq!(status, 401);
    assert_eq!(sms(&rig).len(), 2, "only the two accepted executions sent an SMS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_fields_fail_the_action_with_the_reason() {
    let rig = start("").await;
    let long = "x".repeat(1590) + "{{contact.firstname}}{{contact.lastname}}"; // 1590 + "Chloé" + "Client" > 1600
    let cases: Vec<(&str, Value, &str)> = vec![
        ("no from number", json!({ "senderUser": "1001", "toPhone": CHLOE, "message": "Hi" }), "fromNumber"),
        ("not an SMS number", inputs(2999, 1001, CHLOE, "Hi"), "not an SMS number"),
        ("user not on the number", inputs(2002, 1002, CHLOE, "Hi"), "not linked to Aircall number 2002"),
        ("no recipient", json!({ "fromNumber": "2001", "senderUser": "1001", "message": "Hi" }), "toPhone"),
        ("recipient not a number", inputs(2001, 1001, "call me maybe", "Hi"), "is not a phone number"),
        ("recipient too short", inputs(2001, 1001, "12", "Hi"), "is not a valid phone number"),
        ("no message", json!({ "fromNumber": "2001", "senderUser": "1001", "toPhone": CHLOE }), "message is required"),
        ("malformed token", inputs(2001, 1001, CHLOE, "Hi {{firstname}}"), "{{firstname}}"),
        ("token of another object", inputs(2001, 1001, CHLOE, "Deal {{deal.amount}}"), "refers to a deal"),
        ("too long after rendering", inputs(2001, 1001, CHLOE, &long), "at most 1600"),
    ];
    for (what, fields, reason) in cases {
        let (status, out) = execute(&rig, "CONTACT", 901, json!({ "firstname": "Chloé", "lastname": "Client" }), fields, 444).await;
        assert_eq!(status, 200, "{what}");
        assert_eq!(out["hs_execution_state"], "FAIL_CONTINUE", "{what}: {out}");
        assert_eq!(out["status"], "failed", "{what}");
        assert!(out["reason"].as_str().unwrap_or("").contains(reason), "{what}: {out}");
    }
    assert!(sms(&rig).is_empty(), "nothing was sent: {:?}", sms(&rig));
    // Exactly 1600 characters after rendering is fine.
    let exact = "y".repeat(1594) + "{{contact.firstname}}!"; // 1594 + 5 + 1
    let (_, out) = execute(&rig, "CONTACT", 901, json!({ "firstname": "Chloé" }), inputs(2001, 1001, CHLOE, &exact), 444).await;
    assert_eq!(out["status"], "sent", "{out}");
    assert_eq!(sms(&rig)[0].2.chars().count(), 1600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_is_personalised_and_sent_from_the_chosen_number() {
    let rig = start("").await;
    // Contact workflow: firstname comes with the request, lastname is read from HubSpot.
    let (_, out) = to_chloe(&rig, 2001, 1001, "Bonjour {{Contact.FirstName}} {{ contact.lastname }}, votre commande est prête.").await;
    assert_eq!(out["hs_execution_state"], "SUCCESS", "{out}");
    assert_eq!(out["status"], "sent");
    let sent = sms(&rig);
    assert_eq!(sent, vec![(2001, CHLOE.to_string(), "Bonjour Chloé Client, votre commande est prête.".to_string())]);
    assert_eq!(out["messageId"], rig.sandbox.aircall().state().messages[0].id.as_str());

    // Deal workflow: {{deal.*}} from the deal, {{contact.*}} from the contact with the recipient's number;
    // the recipient property holds a national spelling, normalised with the number's country.
    let (_, out) = execute(
        &rig,
        "DEAL",
        3301,
        json!({ "dealname": "Renewal 2027" }),
        inputs(2001, 1002, "06 12 34 56 78", "{{contact.firstname}}: {{deal.dealname}}"),
        445,
    )
    .await;
    assert_eq!(out["status"], "sent", "{out}");
    assert_eq!(sms(&rig)[1], (2001, CHLOE.to_string(), "Chloé: Renewal 2027".to_string()));
}

// ---------------------------------------------------------------- 5. logging

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sent_sms_and_replies_are_logged_on_the_record_and_its_contact() {
    let rig = start("").await;
    let (_, out) = execute(&rig, "DEAL", 3301, json!({}), inputs(2001, 1001, CHLOE, "Your renewal is ready"), 444).await;
    assert_eq!(out["status"], "sent", "{out}");
    let comms = rig.sandbox.hubspot().state().communications;
    assert_eq!(comms.len(), 1);
    let c = &comms[0];
    assert_eq!(c.record.properties["hs_communication_channel_type"], "SMS");
    assert_eq!(c.record.properties["hs_communication_logged_from"], "CRM");
    assert_eq!(c.record.properties["hubspot_owner_id"], "801", "Ada's HubSpot owner");
    assert!(c.record.properties["hs_communication_body"].contains("Your renewal is ready"));
    let assoc: Vec<(&str, &str, u64)> = c.associations.iter().map(|a| (a.to_type.as_str(), a.to_id.as_str(), a.type_id)).collect();
    assert_eq!(assoc, [("deals", "3301", 85), ("contacts", "901", 81)]);

    // Chloé answers on Support FR: logged on the same deal and contact.
    rig.play(
        r#"
        [[message]]
        key = "r"
        direction = "inbound"
        number = "support-fr"
        external = "+33 6 12 34 56 78"
        body = "Merci, je passe demain"
        [[step]]
        at = 0
        message = "r"
        event = "message.received"
        "#,
    )
    .await;
    let comms = rig
        .wait_for("the reply logged", |sb| {
            let c = sb.hubspot().state().communications;
            (c.len() == 2).then_some(c)
        })
        .await;
    let reply = &comms[1];
    assert!(reply.record.properties["hs_communication_body"].contains("Merci, je passe demain"));
    assert_eq!(reply.record.properties["hs_communication_channel_type"], "SMS");
    let assoc: Vec<(&str, &str)> = reply.associations.iter().map(|a| (a.to_type.as_str(), a.to_id.as_str())).collect();
    assert_eq!(assoc, [("deals", "3301"), ("contacts", "901")]);

    // A message from someone no workflow wrote to is not logged by this connector.
    rig.play(
        r#"
        [[message]]
        key = "x"
        direction = "inbound"
        number = "support-fr"
        external = "+33 7 00 00 00 01"
        body = "Hello?"
        [[step]]
        at = 0
        message = "x"
        event = "message.received"
        "#,
    )
    .await;
    rig.settle().await;
    assert_eq!(rig.sandbox.hubspot().state().communications.len(), 2);
}

// ---------------------------------------------------------------- 4. limits

/// Today's UTC date, `YYYY-MM-DD` (the plugin's day key).
fn utc_day() -> String {
    let days = now_ms().div_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_5001st_message_of_a_day_fails_and_is_not_retried() {
    let mut rig = start("").await;
    // 4,999 messages already went out today from Support FR as Ada (counted by earlier workflows):
    // the host is stopped, the counter written into its store, and the host started again.
    rig.host.kill();
    {
        let db = rusqlite::Connection::open(rig.host.db()).expect("db");
        db.execute(
            "INSERT INTO kv (namespace, key, value, expires_at_ms) VALUES ('hubspot', ?1, CAST('4999' AS BLOB), ?2)",
            rusqlite::params![format!("limit:day:{}:2001:1001", utc_day()), now_ms() + 86_400_000],
        )
        .expect("counter written");
    }
    rig.host.spawn().await;

    let (_, out) = to_chloe(&rig, 2001, 1001, "Message 5000").await;
    assert_eq!(out["status"], "sent", "the 5,000th goes: {out}");
    let (status, out) = execute(&rig, "CONTACT", 901, json!({}), inputs(2001, 1001, CHLOE, "Message 5001"), 777).await;
    assert_eq!(status, 200, "answered (not a retryable error)");
    assert_eq!(out["hs_execution_state"], "FAIL_CONTINUE", "{out}");
    assert!(out["reason"].as_str().unwrap_or("").contains("daily limit of 5000 messages"), "{out}");
    // The limit is per user and number: Bob on the same number, and Ada on Sales US, still send.
    assert_eq!(to_chloe(&rig, 2001, 1002, "Bob").await.1["status"], "sent");
    assert_eq!(to_chloe(&rig, 2002, 1001, "Sales").await.1["status"], "sent");
    let bodies: Vec<String> = sms(&rig).into_iter().map(|m| m.2).collect();
    assert_eq!(bodies, ["Message 5000", "Bob", "Sales"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_count_across_workflows_daily_and_monthly() {
    let rig = start(", daily_limit = 3, monthly_limit = 4").await;
    for (i, workflow) in [444, 555, 444].iter().enumerate() {
        let (_, out) = execute(&rig, "CONTACT", 901, json!({}), inputs(2001, 1001, CHLOE, &format!("m{i}")), *workflow).await;
        assert_eq!(out["status"], "sent", "{out}");
    }
    let (_, out) = execute(&rig, "CONTACT", 901, json!({}), inputs(2001, 1001, CHLOE, "m3"), 666).await;
    assert!(out["reason"].as_str().unwrap_or("").contains("daily limit of 3"), "a third workflow is over the shared limit: {out}");
    // Bob: the month's 4 are shared with nobody else, but his day allows only 3; Ada's monthly counter is at 3.
    let rig2 = start(", daily_limit = 10, monthly_limit = 2").await;
    for i in 0..2 {
        assert_eq!(to_chloe(&rig2, 2001, 1002, &format!("b{i}")).await.1["status"], "sent");
    }
    let (_, out) = to_chloe(&rig2, 2001, 1002, "b2").await;
    assert!(out["reason"].as_str().unwrap_or("").contains("monthly limit of 2"), "{out}");
    assert_eq!(sms(&rig).len(), 3);
    assert_eq!(sms(&rig2).len(), 2);
}

// ---------------------------------------------------------------- idempotency

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_execution_does_not_send_twice() {
    let rig = start("").await;
    let action = url(&rig, "/actions/send-sms");
    let body = execution_body("ap-1234567-42-1-0");
    let (s1, a1) = post_raw(&action, &body, &v3_headers(SECRET, &action, &body, now_ms())).await;
    let (s2, a2) = post_raw(&action, &body, &v3_headers(SECRET, &action, &body, now_ms())).await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(a1, a2, "the same answer");
    assert_eq!(sms(&rig), vec![(2001, CHLOE.to_string(), "Hello Chloé".to_string())]);
}

// ---------------------------------------------------------------- 6. opt-out

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_reply_opts_the_contact_out_and_later_sends_are_skipped() {
    let rig = start("").await;
    assert_eq!(to_chloe(&rig, 2001, 1001, "Promo").await.1["status"], "sent");
    rig.play(
        r#"
        [[message]]
        key = "stop"
        direction = "inbound"
        number = "support-fr"
        external = "+33 6 12 34 56 78"
        body = "Stop."
        [[step]]
        at = 0
        message = "stop"
        event = "message.received"
        "#,
    )
    .await;
    rig.wait_for("Chloé opted out", |sb| {
        let s = sb.hubspot().state();
        (s.contacts.iter().find(|c| c.id == "901")?.properties.get("sms_opt_out")? == "true").then_some(())
    })
    .await;
    // The contact workflow and a deal workflow to the same number both skip her.
    let (status, out) = execute(&rig, "CONTACT", 901, json!({ "firstname": "Chloé" }), inputs(2001, 1001, CHLOE, "Promo 2"), 444).await;
    assert_eq!(status, 200);
    assert_eq!((out["hs_execution_state"].as_str(), out["status"].as_str()), (Some("SUCCESS"), Some("skipped")), "{out}");
    assert!(out["reason"].as_str().unwrap_or("").contains("opted out"), "{out}");
    let (_, out) = execute(&rig, "DEAL", 3301, json!({}), inputs(2001, 1001, CHLOE, "Promo 3"), 445).await;
    assert_eq!(out["status"], "skipped", "{out}");
    assert_eq!(sms(&rig).len(), 1, "only the first SMS went out");
    // The STOP itself is logged as the reply it is.
    let comms = rig.sandbox.hubspot().state().communications;
    assert!(comms.iter().any(|c| c.record.properties["hs_communication_body"].contains("Stop.")), "{comms:?}");
}

// ---------------------------------------------------------------- throughput

/// `cargo test -p switchboard --test hubspot -- --ignored --nocapture throughput`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; see plugins/hubspot/BENCHMARKS.md"]
async fn throughput() {
    let total: usize = std::env::var("HUBSPOT_BENCH_N").ok().and_then(|n| n.parse().ok()).unwrap_or(300);
    let concurrency: usize = std::env::var("HUBSPOT_BENCH_CONCURRENCY").ok().and_then(|n| n.parse().ok()).unwrap_or(16);
    let mut rig = start(", daily_limit = 1000000, monthly_limit = 1000000").await;
    let budget = std::env::var("HUBSPOT_BENCH_BUDGET").ok();
    let aircall_rpm = std::env::var("HUBSPOT_BENCH_AIRCALL_RPM").ok();
    if budget.is_some() || aircall_rpm.is_some() {
        rig.host.kill();
        if let Some(budget) = &budget {
            // Raise the HubSpot budget of the installed manifest (e.g. "190/10" for Professional).
            let manifest = rig.host.dir.path().join("plugins/hubspot/plugin.toml");
            let (n, per) = budget.split_once('/').expect("N/SECONDS");
            let text = std::fs::read_to_string(&manifest).expect("manifest");
            let text = text.replace("requests = 100, per_seconds = 10", &format!("requests = {n}, per_seconds = {per}"));
            std::fs::write(&manifest, text).expect("manifest written");
        }
        if let Some(rpm) = &aircall_rpm {
            // Aircall's per-company API budget (default 60 requests a minute).
            let text = std::fs::read_to_string(&rig.host.config_path).expect("config");
            let text = text.replacen("[[accounts]]\n", &format!("[[accounts]]\napi_requests_per_minute = {rpm}\n"), 1);
            std::fs::write(&rig.host.config_path, text).expect("config written");
        }
        rig.host.spawn().await;
    }
    let started = Instant::now();
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let hs: switchboard_sandbox::HubSpot = (**rig.sandbox.hubspot()).clone();
        let action = url(&rig, "/actions/send-sms");
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            while next.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < total {
                let exec = Execution {
                    object_type: "CONTACT".into(),
                    object_id: 901,
                    object_properties: json!({ "firstname": "Chloé", "sms_opt_out": "false" }),
                    input_fields: inputs(2001, 1001, CHLOE, "Hi {{contact.firstname}}"),
                    workflow_id: 444,
                };
                let out = hs.execute_workflow_action(&action, exec).await.expect("answer");
                outcomes.push((out.status, out.body["outputFields"]["status"].as_str().unwrap_or("").to_string()));
            }
            outcomes
        }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.extend(t.await.expect("task"));
    }
    let elapsed = started.elapsed();
    let sent = outcomes.iter().filter(|(s, o)| *s == 200 && o == "sent").count();
    let logged = rig.sandbox.hubspot().state().communications.len();
    println!(
        "hubspot send-sms: {total} executions, concurrency {concurrency}: {:.2} s, {:.1} executions/s; sent {sent}, aircall messages {}, communications {logged}, other answers {:?}",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        sms(&rig).len(),
        outcomes.iter().filter(|(s, o)| !(*s == 200 && o == "sent")).take(5).collect::<Vec<_>>()
    );
    assert_eq!(sent, total);
}

// ---------------------------------------------------------------- 5. logging when HubSpot is down

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sms_hubspot_could_not_take_is_logged_by_the_next_event() {
    let rig = start("").await;
    rig.sandbox.hubspot().inject(switchboard_sandbox::Fault {
        fail_next: 1,
        status: Some(503),
        path_prefix: Some("/crm/v3/objects/communications".into()),
        method: Some("POST".into()),
        ..switchboard_sandbox::Fault::default()
    });
    let (status, out) = execute(&rig, "DEAL", 3301, json!({}), inputs(2001, 1001, CHLOE, "Deferred hello"), 444).await;
    assert_eq!((status, out["status"].as_str()), (200, Some("sent")), "the SMS went out: {out}");
    assert!(out["reason"].as_str().unwrap_or("").contains("retried later"), "{out}");
    assert!(rig.sandbox.hubspot().state().communications.is_empty());
    // Aircall's message.sent for that SMS (any event of the integration) logs it.
    rig.play(
        r#"
        [[message]]
        key = "s"
        direction = "outbound"
        number = "support-fr"
        external = "+33 6 12 34 56 78"
        body = "Deferred hello"
        user = "ada"
        [[step]]
        at = 0
        message = "s"
        event = "message.sent"
        "#,
    )
    .await;
    let comms = rig
        .wait_for("the deferred communication", |sb| {
            let c = sb.hubspot().state().communications;
            (!c.is_empty()).then_some(c)
        })
        .await;
    rig.settle().await;
    assert_eq!(comms.len(), 1);
    assert!(comms[0].record.properties["hs_communication_body"].contains("Deferred hello"));
    let assoc: Vec<(&str, &str)> = comms[0].associations.iter().map(|a| (a.to_type.as_str(), a.to_id.as_str())).collect();
    assert_eq!(assoc, [("deals", "3301"), ("contacts", "901")]);
    assert_eq!(rig.sandbox.hubspot().state().communications.len(), 1, "logged once");
}

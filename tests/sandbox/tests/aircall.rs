//! Tests of the Aircall emulator: auth, contacts, pagination, insight cards,
//! messages, calls, directory, faults.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use support::{client, sandbox, send};
use switchboard_sandbox::Fault;
use switchboard_sandbox::aircall::model::{AircallSeed, Contact, Detail};

struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    fn new(base: &str) -> Self {
        Self { base: base.to_owned(), http: client() }
    }
    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(format!("{}{path}", self.base)).basic_auth("sandbox-api-id", Some("sandbox-api-token"))
    }
    fn post(&self, path: &str, body: Value) -> reqwest::RequestBuilder {
        self.http.post(format!("{}{path}", self.base)).basic_auth("sandbox-api-id", Some("sandbox-api-token")).json(&body)
    }
}

#[tokio::test]
async fn auth_missing_is_401_wrong_is_403_bearer_works() {
    let sb = sandbox().await;
    let http = client();
    let url = format!("{}/v1/ping", sb.aircall_url());
    let (s, _, b) = send(http.get(&url)).await;
    assert_eq!((s, b), (401, json!({"message": "Unauthorized"})));
    let (s, _, b) = send(http.get(&url).basic_auth("sandbox-api-id", Some("nope"))).await;
    assert_eq!((s, b), (403, json!({"message": "Forbidden"})));
    let (s, _, b) = send(http.get(&url).bearer_auth("sandbox-aircall-oauth-token")).await;
    assert_eq!((s, b), (200, json!({"ping": "pong"})));
}

#[tokio::test]
async fn contact_create_requires_a_phone_number_and_search_finds_it() {
    let sb = sandbox().await;
    let api = Api::new(sb.aircall_url());
    let (s, _, b) = send(api.post("/v1/contacts", json!({"first_name": "No", "emails": [{"label": "Work", "value": "a@b.c"}]}))).await;
    assert_eq!(s, 400);
    assert!(b["troubleshoot"].as_str().unwrap().contains("phone"));

    let (s, _, b) = send(api.post(
        "/v1/contacts",
        json!({"first_name": "Dana", "last_name": "Okafor", "information": "crm:42",
               "phone_numbers": [{"label": "Mobile", "value": "+14155550123"}],
               "emails": [{"label": "Work", "value": "Dana@Example.org"}]}),
    ))
    .await;
    assert_eq!(s, 201);
    let id = b["contact"]["id"].as_u64().unwrap();
    assert_eq!(b["contact"]["is_shared"], true);
    assert_eq!(b["contact"]["phone_numbers"][0]["value"], "+14155550123");

    // Formatted numbers match after normalisation; e-mail is case-insensitive.
    let (s, _, b) = send(api.get("/v1/contacts/search?phone_number=%2B1%20415-555-0123")).await;
    assert_eq!(s, 200);
    assert_eq!(b["contacts"].as_array().unwrap().len(), 1);
    assert_eq!(b["contacts"][0]["id"].as_u64(), Some(id));
    assert_eq!(b["meta"]["total"], 1);
    let (_, _, b) = send(api.get("/v1/contacts/search?email=dana@example.org")).await;
    assert_eq!(b["contacts"][0]["id"].as_u64(), Some(id));
    let (_, _, b) = send(api.get("/v1/contacts/search?phone_number=%2B19999999999")).await;
    assert_eq!(b["contacts"], json!([]));

    // Update via POST, then read back.
    let (s, _, b) = send(api.post(&format!("/v1/contacts/{id}"), json!({"company_name": "Northwind"}))).await;
    assert_eq!(s, 200);
    assert_eq!(b["contact"]["company_name"], "Northwind");
    assert_eq!(b["contact"]["first_name"], "Dana");
    let (s, _, b) = send(api.get(&format!("/v1/contacts/{id}"))).await;
    assert_eq!((s, b["contact"]["company_name"].clone()), (200, json!("Northwind")));

    // Details endpoints.
    let (s, _, b) = send(api.post(&format!("/v1/contacts/{id}/phone_details"), json!({"label": "Work", "value": "+14155550999"}))).await;
    assert_eq!(s, 201);
    assert_eq!(b["phone_detail"]["value"], "+14155550999");
    let (_, _, b) = send(api.get("/v1/contacts/search?phone_number=%2B14155550999")).await;
    assert_eq!(b["contacts"][0]["id"].as_u64(), Some(id));

    let (s, _, _) = send(api.get("/v1/contacts/999999")).await;
    assert_eq!(s, 404);
    let state = sb.aircall().state();
    assert!(state.contacts.iter().any(|c| c.id == id && c.phone_numbers.len() == 2));
}

#[tokio::test]
async fn pagination_meta_and_per_page_limit() {
    let sb = sandbox().await;
    let contacts = (0..57)
        .map(|i| Contact {
            first_name: Some(format!("C{i}")),
            phone_numbers: vec![Detail { id: 0, label: "Mobile".into(), value: format!("+3360000{i:04}") }],
            created_at: 1_750_000_000 + i,
            ..Contact::default()
        })
        .collect();
    sb.aircall().seed(AircallSeed { contacts, ..AircallSeed::default() });
    let api = Api::new(sb.aircall_url());
    let (_, _, b) = send(api.get("/v1/contacts")).await;
    assert_eq!(b["meta"]["per_page"], 20);
    assert_eq!(b["meta"]["count"], 20);
    assert_eq!(b["meta"]["total"], 58);
    assert_eq!(b["meta"]["previous_page_link"], Value::Null);
    let next = b["meta"]["next_page_link"].as_str().unwrap().to_owned();
    assert_eq!(next, format!("{}/v1/contacts?page=2&per_page=20", sb.aircall_url()));

    let (_, _, b) = send(api.get("/v1/contacts?per_page=100&page=2")).await;
    assert_eq!(b["meta"]["per_page"], 50);
    assert_eq!(b["meta"]["count"], 8);
    assert_eq!(b["meta"]["current_page"], 2);
    assert_eq!(b["meta"]["next_page_link"], Value::Null);
    assert!(b["meta"]["previous_page_link"].as_str().unwrap().ends_with("page=1&per_page=50"));

    let (_, _, b) = send(api.get("/v1/contacts?order=desc&per_page=1")).await;
    assert_eq!(b["contacts"][0]["first_name"], "C56");
    let (_, _, b) = send(api.get("/v1/contacts?from=1750000050")).await;
    assert_eq!(b["meta"]["total"], 7);
}

#[tokio::test]
async fn insight_cards_are_validated_and_stored_per_call() {
    let sb = sandbox().await;
    let api = Api::new(sb.aircall_url());
    let card = json!({"contents": [
        {"type": "title", "text": "Chloé Client", "link": "https://crm.example/c/1"},
        {"type": "shortText", "label": "Plan", "text": "Enterprise"}
    ]});
    let (s, _, _) = send(api.post("/v1/calls/3141592653/insight_cards", card.clone())).await;
    assert_eq!(s, 201);
    for bad in [
        json!({"contents": []}),
        json!({"contents": [{"type": "title"}]}),
        json!({"contents": [{"type": "shortText", "text": "no label"}]}),
        json!({"contents": [{"type": "user", "text": "x"}]}),
        json!({}),
    ] {
        let (s, _, _) = send(api.post("/v1/calls/3141592653/insight_cards", bad)).await;
        assert_eq!(s, 400);
    }
    let state = sb.aircall().state();
    assert_eq!(state.insight_cards.len(), 1);
    assert_eq!(state.insight_cards[0].call_id, 3_141_592_653);
    assert_eq!(json!(state.insight_cards[0].contents), card["contents"]);
}

#[tokio::test]
async fn native_send_returns_the_message_unwrapped() {
    let sb = sandbox().await;
    let api = Api::new(sb.aircall_url());
    let (s, _, b) = send(api.post("/v1/numbers/2001/messages/native/send", json!({"to": "+33612345678", "body": "Hello"}))).await;
    assert_eq!(s, 201);
    assert_eq!(b["direction"], "outbound");
    assert_eq!(b["body"], "Hello");
    assert!(b.get("message").is_none());
    let (s, _, _) = send(api.post("/v1/numbers/9/messages/native/send", json!({"to": "+33612345678", "body": "x"}))).await;
    assert_eq!(s, 404);
    let (s, _, _) = send(api.post("/v1/numbers/2001/messages/native/send", json!({"to": "+33612345678"}))).await;
    assert_eq!(s, 400);
    let msgs = sb.aircall().state().messages;
    assert_eq!(msgs.len(), 1);
    assert_eq!((msgs[0].number_id, msgs[0].to.as_str()), (2001, "+33612345678"));
}

#[tokio::test]
async fn start_call_is_204_and_recorded() {
    let sb = sandbox().await;
    let api = Api::new(sb.aircall_url());
    let (s, _, b) = send(api.post("/v1/users/1001/calls", json!({"number_id": 2001, "to": "+33612345678"}))).await;
    assert_eq!((s, b), (204, Value::Null));
    // Bob is in a call; user 1001 is not on number 9.
    let (s, _, _) = send(api.post("/v1/users/1002/calls", json!({"number_id": 2001, "to": "+33612345678"}))).await;
    assert_eq!(s, 400);
    let (s, _, _) = send(api.post("/v1/users/4242/calls", json!({"number_id": 2001, "to": "+33612345678"}))).await;
    assert_eq!(s, 404);
    let calls = sb.aircall().state().started_calls;
    assert_eq!(calls.len(), 1);
    assert_eq!((calls[0].user_id, calls[0].number_id, calls[0].to.as_str()), (1001, Some(2001), "+33612345678"));
}

#[tokio::test]
async fn users_numbers_teams_and_availability() {
    let sb = sandbox().await;
    let api = Api::new(sb.aircall_url());
    let (_, _, b) = send(api.get("/v1/users")).await;
    assert_eq!(b["users"].as_array().unwrap().len(), 2);
    assert_eq!(b["users"][0]["numbers"][0]["id"], 2001);
    let (_, _, b) = send(api.get("/v1/users/1001")).await;
    assert_eq!(b["user"]["email"], "ada@example.com");
    let (_, _, b) = send(api.get("/v1/users/1002/availability")).await;
    assert_eq!(b, json!({"availability": "in_call"}));
    let (_, _, b) = send(api.get("/v1/users/availabilities")).await;
    assert_eq!(b["users"][1], json!({"id": 1002, "availability": "in_call"}));
    let (_, _, b) = send(api.get("/v1/numbers/2001")).await;
    let users: Vec<u64> = b["number"]["users"].as_array().unwrap().iter().map(|u| u["id"].as_u64().unwrap()).collect();
    assert_eq!(users, vec![1001, 1002]);
    let (_, _, b) = send(api.get("/v1/numbers")).await;
    assert_eq!(b["meta"]["total"], 2);
    let (_, _, b) = send(api.get("/v1/teams/3001")).await;
    assert_eq!(b["team"]["name"], "Tier 1");
    let (s, _, _) = send(api.get("/v1/users/77")).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn seed_and_state_over_http() {
    let sb = sandbox().await;
    let http = client();
    let (s, _, _) = send(http.post(format!("{}/_sandbox/seed", sb.aircall_url())).json(&json!({
        "users": [{"id": 55, "name": "Zoe", "email": "zoe@example.com"}],
        "numbers": [{"id": 66, "name": "Line", "digits": "+44 20 7946 0000", "user_ids": [55]}]
    })))
    .await;
    assert_eq!(s, 200);
    let (_, _, st) = send(http.get(format!("{}/_sandbox/state", sb.aircall_url()))).await;
    assert!(st["users"].as_array().unwrap().iter().any(|u| u["id"] == 55));
    let api = Api::new(sb.aircall_url());
    let (s, _, _) = send(api.post("/v1/users/55/calls", json!({"number_id": 66, "to": "+442079460001"}))).await;
    assert_eq!(s, 204);
    let (_, _, j) = send(http.get(format!("{}/_sandbox/requests", sb.aircall_url()))).await;
    let reqs = j["requests"].as_array().unwrap();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0]["path"], "/v1/users/55/calls");
    assert_eq!(reqs[0]["status"], 204);
    assert_eq!(reqs[0]["body"]["to"], "+442079460001");

    let (s, _, _) = send(http.post(format!("{}/_sandbox/reset", sb.aircall_url()))).await;
    assert_eq!(s, 204);
    assert!(sb.aircall().state().users.iter().all(|u| u.id != 55));
    assert!(sb.aircall().requests().is_empty());
}

#[tokio::test]
async fn fail_next_with_retry_after_then_recovers() {
    let sb = sandbox().await;
    let http = client();
    let (s, _, _) = send(
        http.post(format!("{}/_sandbox/faults", sb.aircall_url()))
            .json(&json!({"fail_next": 2, "status": 503, "retry_after": 3, "path_prefix": "/v1/contacts"})),
    )
    .await;
    assert_eq!(s, 200);
    let api = Api::new(sb.aircall_url());
    // Out of scope: unaffected.
    let (s, _, _) = send(api.get("/v1/ping")).await;
    assert_eq!(s, 200);
    for _ in 0..2 {
        let (s, h, b) = send(api.post("/v1/contacts", json!({"phone_numbers": [{"value": "+15550001"}]}))).await;
        assert_eq!(s, 503);
        assert_eq!(h["retry-after"], "3");
        assert!(b.is_object());
    }
    assert_eq!(sb.aircall().state().contacts.len(), 1, "failed requests must not write");
    let (s, _, _) = send(api.post("/v1/contacts", json!({"phone_numbers": [{"value": "+15550001"}]}))).await;
    assert_eq!(s, 201);
    assert!(sb.aircall().faults().is_empty());
    let injected: Vec<bool> = sb.aircall().requests().iter().map(|r| r.injected).collect();
    assert_eq!(injected, vec![false, true, true, false]);
}

#[tokio::test]
async fn drop_after_commit_writes_then_closes_without_answer() {
    let sb = sandbox().await;
    sb.aircall().inject(Fault { drop_after_commit_next: 1, ..Fault::default() });
    let api = Api::new(sb.aircall_url());
    // A read is not a commit: unaffected.
    let (s, _, _) = send(api.get("/v1/ping")).await;
    assert_eq!(s, 200);
    let err = api.post("/v1/contacts", json!({"phone_numbers": [{"value": "+15550002"}]})).send().await;
    assert!(err.is_err(), "client must see no response, got {err:?}");
    assert_eq!(sb.aircall().state().contacts.len(), 2, "the write happened");
    let last = sb.aircall().requests().pop().unwrap();
    assert!(last.dropped);
    assert_eq!(last.status, 201);
    // Next request is fine.
    let (s, _, _) = send(api.get("/v1/contacts")).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn latency_is_added() {
    let sb = sandbox().await;
    sb.aircall().inject(Fault { latency_ms: Some(150), ..Fault::default() });
    let api = Api::new(sb.aircall_url());
    let t = std::time::Instant::now();
    let (s, _, _) = send(api.get("/v1/ping")).await;
    assert_eq!(s, 200);
    assert!(t.elapsed() >= std::time::Duration::from_millis(150));
}

/// A call in the REST shape (aircall-api.md §4.1), as the simulator upserts it.
fn rest_call(id: u64, started_at: i64) -> Value {
    json!({
        "id": id,
        "sid": format!("CA{id:032x}"),
        "direct_link": format!("https://api.aircall.io/v1/calls/{id}"),
        "direction": "inbound",
        "status": "done",
        "started_at": started_at,
        "duration": 15,
        "raw_digits": "+33 6 98 76 54 32",
        "number": { "id": 2001, "name": "Support FR", "digits": "+33 1 23 45 67 89" },
        "comments": [],
        "tags": [],
        "conference_participants": [{ "type": "external", "phone_number": "+33 6 98 76 54 32" }],
        "ivr_options_selected": [{ "id": "1-ivr-0", "key": "2", "title": "Chat with us", "branch": "switch" }],
    })
}

#[tokio::test]
async fn get_call_shows_the_ivr_options_only_with_the_call_timeline() {
    let sb = sandbox().await;
    let http = client();
    let control = format!("{}/_sandbox/calls", sb.aircall_url());
    let (s, _, b) = send(http.post(&control).json(&rest_call(77, 1_750_000_000))).await;
    assert_eq!(s, 200, "{b}");
    let api = Api::new(sb.aircall_url());

    let (s, _, b) = send(api.get("/v1/calls/77")).await;
    assert_eq!(s, 200);
    let call = &b["call"];
    assert_eq!(call["id"], 77);
    assert_eq!(call["sid"], format!("CA{:032x}", 77));
    assert!(call.get("call_uuid").is_none() && call.get("participants").is_none());
    assert_eq!(call["conference_participants"][0]["type"], "external");
    assert!(call.get("ivr_options_selected").is_none(), "not without fetch_call_timeline: {call}");

    let (_, _, b) = send(api.get("/v1/calls/77?fetch_contact=true&fetch_call_timeline=true")).await;
    assert_eq!(b["call"]["ivr_options_selected"][0]["key"], "2");

    // An upsert replaces the call (the simulator's next step).
    let mut later = rest_call(77, 1_750_000_000);
    later["tags"] = json!([{ "id": 8001, "name": "VIP" }]);
    send(http.post(&control).json(&later)).await;
    let (_, _, b) = send(api.get("/v1/calls/77")).await;
    assert_eq!(b["call"]["tags"][0]["name"], "VIP");
    assert_eq!(sb.aircall().state().calls.len(), 1);

    let (s, _, b) = send(api.get("/v1/calls/78")).await;
    assert_eq!(s, 404);
    assert_eq!(b["message"], "Call not found");
    let (s, _, _) = send(http.get(format!("{}/v1/calls/77", sb.aircall_url()))).await;
    assert_eq!(s, 401, "the API still wants credentials; only the control route does not");
}

#[tokio::test]
async fn the_call_control_route_refuses_webhook_shaped_calls_and_names_the_field() {
    let sb = sandbox().await;
    let http = client();
    let control = format!("{}/_sandbox/calls", sb.aircall_url());
    let mut hook_shaped = rest_call(5, 1);
    hook_shaped["call_uuid"] = hook_shaped["sid"].take();
    let (s, _, b) = send(http.post(&control).json(&hook_shaped)).await;
    assert_eq!(s, 400);
    assert!(b["message"].as_str().unwrap().contains("`call_uuid`") && b["message"].as_str().unwrap().contains("`sid`"), "{b}");
    let (s, _, b) = send(http.post(&control).json(&json!({ "status": "done" }))).await;
    assert_eq!(s, 400);
    assert!(b["message"].as_str().unwrap().contains("`id`"), "{b}");
    // The seed route checks calls the same way and adds nothing on error.
    let (s, _, b) =
        send(http.post(format!("{}/_sandbox/seed", sb.aircall_url())).json(&json!({ "calls": [rest_call(6, 1), hook_shaped] }))).await;
    assert_eq!(s, 400);
    assert!(b["error"].as_str().unwrap().starts_with("calls[1]:"), "{b}");
    assert!(sb.aircall().state().calls.is_empty());
    let (s, _, _) = send(http.post(format!("{}/_sandbox/seed", sb.aircall_url())).json(&json!({ "calls": [rest_call(6, 1)] }))).await;
    assert_eq!(s, 200);
    assert_eq!(sb.aircall().state().calls.len(), 1);
}

#[tokio::test]
async fn list_calls_filters_by_start_orders_and_pages() {
    let sb = sandbox().await;
    sb.aircall()
        .seed(AircallSeed { calls: (1..=60).map(|i| rest_call(i, 1_750_000_000 + i as i64 * 60)).collect(), ..AircallSeed::default() });
    let api = Api::new(sb.aircall_url());
    let ids = |b: &Value| b["calls"].as_array().unwrap().iter().map(|c| c["id"].as_u64().unwrap()).collect::<Vec<_>>();

    let (s, _, b) = send(api.get("/v1/calls")).await;
    assert_eq!(s, 200);
    assert_eq!(ids(&b), (1..=20).collect::<Vec<_>>(), "oldest first, 20 a page");
    assert_eq!(b["meta"]["total"], 60);
    assert!(b["calls"][0].get("ivr_options_selected").is_none());

    let (_, _, b) = send(api.get("/v1/calls?per_page=100&page=2")).await;
    assert_eq!(b["meta"]["per_page"], 50, "per_page is at most 50");
    assert_eq!(ids(&b), (51..=60).collect::<Vec<_>>());
    assert_eq!(b["meta"]["next_page_link"], Value::Null);

    // from/to are UNIX seconds on the start, both inclusive.
    let (from, to) = (1_750_000_000 + 10 * 60, 1_750_000_000 + 14 * 60);
    let (_, _, b) = send(api.get(&format!("/v1/calls?from={from}&to={to}&order=desc&per_page=2&fetch_call_timeline=true"))).await;
    assert_eq!(ids(&b), [14, 13]);
    assert_eq!(b["meta"]["total"], 5);
    assert_eq!(b["calls"][0]["ivr_options_selected"][0]["key"], "2");
    let next = b["meta"]["next_page_link"].as_str().unwrap();
    assert!(
        next.starts_with(&format!("{}/v1/calls?", sb.aircall_url())) && next.contains("order=desc") && next.contains("page=2"),
        "{next}"
    );
    let (_, _, b) = send(api.http.get(next).basic_auth("sandbox-api-id", Some("sandbox-api-token"))).await;
    assert_eq!(ids(&b), [12, 11]);
}

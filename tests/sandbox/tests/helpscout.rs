//! Tests of the Help Scout emulator: customers, conversations, threads,
//! JSON Patch, tags, HAL pagination, token expiry, error bodies.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use support::{client, sandbox, send};

struct Hs {
    base: String,
    http: reqwest::Client,
    token: String,
}

impl Hs {
    fn req(&self, m: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(m, format!("{}{path}", self.base)).bearer_auth(&self.token)
    }
    async fn get(&self, path: &str) -> (u16, Value) {
        let (s, _, b) = send(self.req(reqwest::Method::GET, path)).await;
        (s, b)
    }
    /// POST returning (status, Resource-ID, body).
    async fn post(&self, path: &str, body: Value) -> (u16, Option<u64>, Value) {
        let (s, h, b) = send(self.req(reqwest::Method::POST, path).json(&body)).await;
        (s, h.get("resource-id").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()), b)
    }
    async fn send_json(&self, m: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        let (s, _, b) = send(self.req(m, path).json(&body)).await;
        (s, b)
    }
}

fn hs(sb: &switchboard_sandbox::Sandbox) -> Hs {
    Hs { base: sb.helpscout_url().to_owned(), http: client(), token: "sandbox-helpscout-token".into() }
}

#[tokio::test]
async fn customer_create_and_search_by_phone() {
    let sb = sandbox().await;
    let api = hs(&sb);
    let (s, id, b) = api
        .post("/v2/customers", json!({"firstName": "Dana", "lastName": "Okafor", "phones": [{"type": "work", "value": "+14155550123"}], "background": "First call"}))
        .await;
    assert_eq!((s, b), (201, Value::Null));
    let id = id.unwrap();
    let (s, b) = api.get("/v3/customers/search?query=phone%3A%22%2B1%20415%20555%200123%22").await;
    assert_eq!(s, 200);
    assert_eq!(b["_embedded"]["customers"][0]["id"], id);
    let (_, b) = api.get(&format!("/v2/customers/{id}")).await;
    assert_eq!(b["_embedded"]["phones"][0]["value"], "+14155550123");
    let (_, b) = api.get("/v3/customers/search?query=phone%3A%22%2B10000000000%22").await;
    assert_eq!(b["_embedded"]["customers"], json!([]));

    let (s, _, b) = api.post("/v2/customers", json!({"firstName": "x".repeat(41)})).await;
    assert_eq!(s, 400);
    assert_eq!(b["_embedded"]["errors"][0]["path"], "firstName");
    assert!(b["logRef"].is_string());
}

#[tokio::test]
async fn phone_conversation_threads_patch_and_tags() {
    let sb = sandbox().await;
    let api = hs(&sb);
    let (s, id, _) = api
        .post(
            "/v2/conversations",
            json!({"subject": "Call from +33 6 12 34 56 78", "type": "phone", "mailboxId": 30411, "status": "active",
                   "customer": {"id": 7718822}, "tags": ["inbound-call"],
                   "threads": [{"type": "phone", "text": "Inbound call, 3m12s."}]}),
        )
        .await;
    assert_eq!(s, 201);
    let id = id.unwrap();

    let (s, tid, _) = api
        .post(
            &format!("/v2/conversations/{id}/notes"),
            json!({"text": "Recording attached", "user": 95512, "status": "pending",
            "attachments": [{"fileName": "call.txt", "mimeType": "text/plain", "data": "aGVsbG8="}]}),
        )
        .await;
    assert!(s == 201 && tid.is_some());
    let (s, _, _) = api.post(&format!("/v2/conversations/{id}/phones"), json!({"text": "no customer"})).await;
    assert_eq!(s, 400);
    assert_eq!(
        api.post(&format!("/v2/conversations/{id}/customer"), json!({"text": "SMS: running late", "customer": {"id": 7718822}})).await.0,
        201
    );
    assert_eq!(
        api.post(&format!("/v2/conversations/{id}/reply"), json!({"text": "Thanks!", "customer": {"id": 7718822}, "status": "closed"}))
            .await
            .0,
        201
    );

    let (s, _) = api
        .send_json(
            reqwest::Method::PATCH,
            &format!("/v2/conversations/{id}"),
            json!({"op": "replace", "path": "/assignTo", "value": 95512}),
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = api
        .send_json(reqwest::Method::PATCH, &format!("/v2/conversations/{id}"), json!({"op": "replace", "path": "/status", "value": "done"}))
        .await;
    assert_eq!(s, 400);
    let (s, _) = api.send_json(reqwest::Method::PUT, &format!("/v2/conversations/{id}/tags"), json!({"tags": ["callback", "vip"]})).await;
    assert_eq!(s, 204);

    let (_, c) = api.get(&format!("/v2/conversations/{id}?embed=threads")).await;
    assert_eq!(c["status"], "closed");
    assert_eq!(c["assignee"]["id"], 95512);
    assert_eq!(c["type"], "phone");
    assert_eq!(c["threads"], 4);
    let tags: Vec<&str> = c["tags"].as_array().unwrap().iter().map(|t| t["tag"].as_str().unwrap()).collect();
    assert_eq!(tags, vec!["callback", "vip"]);
    let threads = c["_embedded"]["threads"].as_array().unwrap();
    assert_eq!(threads[0]["type"], "reply", "newest first");
    let note = threads.iter().find(|t| t["type"] == "note").unwrap();
    assert_eq!(note["_embedded"]["attachments"][0]["size"], 5);
    assert!(c["_links"]["web"]["href"].as_str().unwrap().starts_with("https://secure.helpscout.net/conversation/"));

    // Closed conversations are only listed with status=closed or all.
    let q = "query=%28customerIds%3A7718822%29";
    assert_eq!(api.get(&format!("/v2/conversations?{q}")).await.1["page"]["totalElements"], 0);
    assert_eq!(api.get(&format!("/v2/conversations?status=closed&{q}")).await.1["page"]["totalElements"], 1);
    assert_eq!(api.get(&format!("/v2/conversations?status=all&mailbox=30411&{q}")).await.1["page"]["totalElements"], 1);
    let (s, _) = api
        .send_json(reqwest::Method::PATCH, &format!("/v2/conversations/{id}"), json!({"op": "replace", "path": "/status", "value": "spam"}))
        .await;
    assert_eq!(s, 204);
    assert_eq!(api.get(&format!("/v2/conversations?status=spam&{q}")).await.1["page"]["totalElements"], 1);
    let (s, _) =
        api.send_json(reqwest::Method::PATCH, &format!("/v2/conversations/{id}"), json!({"op": "remove", "path": "/assignTo"})).await;
    assert_eq!(s, 204);
    assert!(sb.helpscout().state().conversations[0].assignee.is_none());
}

#[tokio::test]
async fn conversation_create_validation_and_pagination() {
    let sb = sandbox().await;
    let api = hs(&sb);
    let (s, _, b) = api
        .post(
            "/v2/conversations",
            json!({"subject": "x", "type": "phone", "mailboxId": 30411, "status": "active", "customer": {"id": 7718822}, "threads": []}),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(b["_embedded"]["errors"][0]["path"], "threads");
    for i in 0..30 {
        let (s, _, _) = api
            .post(
                "/v2/conversations",
                json!({"subject": format!("c{i}"), "type": "email", "mailboxId": 30412, "status": "active",
                "customer": {"email": "new@example.org", "firstName": "New"}, "threads": [{"type": "customer", "text": "hi"}]}),
            )
            .await;
        assert_eq!(s, 201);
    }
    assert_eq!(sb.helpscout().state().customers.iter().filter(|c| c.emails.iter().any(|e| e.value == "new@example.org")).count(), 1);
    let (_, p1) = api.get("/v2/conversations?mailbox=30412").await;
    assert_eq!(p1["page"], json!({"size": 25, "totalElements": 30, "totalPages": 2, "number": 1}));
    assert_eq!(p1["_embedded"]["conversations"].as_array().unwrap().len(), 25);
    let next = p1["_links"]["next"]["href"].as_str().unwrap();
    let (_, p2) = api.get(next.strip_prefix(&api.base).unwrap()).await;
    assert_eq!(p2["_embedded"]["conversations"].as_array().unwrap().len(), 5);
    assert!(p2["_links"].get("next").is_none());
}

#[tokio::test]
async fn users_by_email_mailboxes_and_me() {
    let sb = sandbox().await;
    let api = hs(&sb);
    let (_, b) = api.get("/v2/users?email=ADA%40example.com").await;
    assert_eq!(b["_embedded"]["users"][0]["id"], 95512);
    assert_eq!(api.get("/v2/users/me").await.1["id"], 95511);
    assert_eq!(api.get("/v2/mailboxes").await.1["_embedded"]["mailboxes"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn expired_token_gets_401_until_a_new_token_is_fetched() {
    let sb = sandbox().await;
    let http = client();
    let (s, _, tok) = send(http.post(format!("{}/v2/oauth2/token", sb.helpscout_url())).json(&json!({
        "grant_type": "client_credentials", "client_id": "sandbox-helpscout-app", "client_secret": "sandbox-helpscout-secret"})))
    .await;
    assert_eq!(s, 200);
    let token = tok["access_token"].as_str().unwrap().to_owned();
    let mut api = hs(&sb);
    api.token = token;
    assert_eq!(api.get("/v2/mailboxes").await.0, 200);
    let (s, _, _) = send(http.post(format!("{}/_sandbox/faults", sb.helpscout_url())).json(&json!({"expire_tokens": true}))).await;
    assert_eq!(s, 200);
    let (s, b) = api.get("/v2/mailboxes").await;
    assert_eq!(s, 401);
    assert!(b["message"].is_string());
    let (_, _, tok) = send(http.post(format!("{}/v2/oauth2/token", sb.helpscout_url())).json(&json!({
        "grant_type": "client_credentials", "client_id": "sandbox-helpscout-app", "client_secret": "sandbox-helpscout-secret"})))
    .await;
    api.token = tok["access_token"].as_str().unwrap().to_owned();
    assert_eq!(api.get("/v2/mailboxes").await.0, 200);
    assert!(sb.helpscout().faults().is_empty(), "expire_tokens is an action, not a rule");
}

//! Tests of the Gorgias emulator: rate limiter, auth, customers, tickets,
//! messages, uploads, tags, cursor pagination.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use support::{client, send};
use switchboard_sandbox::{Fault, GorgiasRate, Sandbox, SandboxOptions};

async fn sandbox_with(limit: u32, window_secs: u64) -> Sandbox {
    Sandbox::start(SandboxOptions { gorgias_rate: GorgiasRate { limit, window_secs }, ..SandboxOptions::default() }).await.unwrap()
}

struct Gg {
    base: String,
    http: reqwest::Client,
}

impl Gg {
    fn req(&self, m: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(m, format!("{}{path}", self.base)).basic_auth("operator@sandbox.test", Some("sandbox-gorgias-key"))
    }
    async fn get(&self, path: &str) -> (u16, Value) {
        let (s, _, b) = send(self.req(reqwest::Method::GET, path)).await;
        (s, b)
    }
    async fn send_json(&self, m: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        let (s, _, b) = send(self.req(m, path).json(&body)).await;
        (s, b)
    }
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send_json(reqwest::Method::POST, path, body).await
    }
}

#[tokio::test]
async fn rate_limit_header_on_every_response_and_429_with_retry_after() {
    let sb = sandbox_with(5, 10).await;
    let g = Gg { base: sb.gorgias_url().to_owned(), http: client() };
    for i in 1..=5 {
        let (s, h, _) = send(g.req(reqwest::Method::GET, "/api/users")).await;
        assert_eq!(s, 200);
        assert_eq!(h["x-gorgias-account-api-call-limit"], format!("{i}/5").as_str());
    }
    let (s, h, b) = send(g.req(reqwest::Method::GET, "/api/users")).await;
    assert_eq!(s, 429);
    assert_eq!(h["x-gorgias-account-api-call-limit"], "5/5");
    let wait: u64 = h["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "one slot drains in 2 s, got {wait}");
    assert!(b["error"]["msg"].is_string());
    // Unauthenticated requests count and carry the header too.
    let (s, h, _) = send(client().get(format!("{}/api/users", sb.gorgias_url()))).await;
    assert_eq!(s, 429);
    assert!(h.contains_key("x-gorgias-account-api-call-limit"));
    sb.gorgias().reset();
    let (s, h, _) = send(client().get(format!("{}/api/users", sb.gorgias_url()))).await;
    assert_eq!(s, 401);
    assert_eq!(h["x-gorgias-account-api-call-limit"], "1/5");
}

#[tokio::test]
async fn hidden_client_usage_fills_the_bucket() {
    let sb = sandbox_with(4, 1).await;
    let g = Gg { base: sb.gorgias_url().to_owned(), http: client() };
    let (s, _, _) =
        send(client().post(format!("{}/_sandbox/faults", sb.gorgias_url())).json(&json!({"foreign_usage_per_window": 4}))).await;
    assert_eq!(s, 200);
    // The other client uses the whole budget: once our 4 are spent nothing drains.
    for _ in 0..4 {
        assert_eq!(g.get("/api/users").await.0, 200);
    }
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let (s, h, _) = send(g.req(reqwest::Method::GET, "/api/users")).await;
    assert_eq!(s, 429);
    assert_eq!(h["retry-after"], "1");
    // Back to normal once cleared.
    let (s, _, _) = send(client().delete(format!("{}/_sandbox/faults", sb.gorgias_url()))).await;
    assert_eq!(s, 204);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(g.get("/api/users").await.0, 200);
}

#[tokio::test]
async fn customers_search_by_phone_and_conflict() {
    let sb = sandbox_with(1000, 1).await;
    let g = Gg { base: sb.gorgias_url().to_owned(), http: client() };
    let (s, c) = g
        .post(
            "/api/customers",
            json!({"name": "Ada Example", "email": "ada@example.org",
            "channels": [{"type": "phone", "address": "+15555550123", "preferred": true}]}),
        )
        .await;
    assert_eq!(s, 201);
    let id = c["id"].as_u64().unwrap();
    let (s, _) = g.post("/api/customers", json!({"email": "ADA@example.org", "channels": []})).await;
    assert_eq!(s, 409);
    let (s, _) = g.post("/api/customers", json!({"name": "no channels"})).await;
    assert_eq!(s, 400);
    let (s, r) = g.post("/api/search", json!({"type": "customers_by_phone", "query": "+1 555-555-0123", "size": 10})).await;
    assert_eq!(s, 201);
    assert_eq!(r["data"][0]["id"], id);
    let (_, l) = g.get("/api/customers?email=ada%40example.org").await;
    assert_eq!(l["data"][0]["id"], id);
    assert_eq!(l["object"], "list");
}

#[tokio::test]
async fn tickets_messages_uploads_and_tags() {
    let sb = sandbox_with(1000, 1).await;
    let g = Gg { base: sb.gorgias_url().to_owned(), http: client() };
    // Inbound SMS opens a ticket.
    let (s, t) = g
        .post(
            "/api/tickets",
            json!({"channel": "sms", "via": "api", "from_agent": false, "status": "open",
            "subject": "SMS from +33 6 12 34 56 78", "customer": {"id": 90210}, "tags": [{"name": "sms"}],
            "messages": [{"channel": "sms", "via": "api", "from_agent": false, "sender": {"id": 90210},
                "source": {"type": "sms", "from": {"address": "+33612345678"}, "to": [{"address": "+33123456789"}]},
                "body_text": "Is my order shipped?", "sent_datetime": "2026-11-21T10:15:00Z"}]}),
        )
        .await;
    assert_eq!(s, 201);
    let tid = t["id"].as_u64().unwrap();
    assert_eq!(t["tags"][0]["name"], "sms");
    assert_eq!(g.post("/api/tickets", json!({"messages": []})).await.0, 400);

    // Upload, then an internal note with the file.
    let boundary = "XsandboxX";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"recording\"; filename=\"call.mp3\"\r\nContent-Type: audio/mpeg\r\n\r\nID3abc\r\n--{boundary}--\r\n"
    );
    let (s, _, files) = send(
        g.req(reqwest::Method::POST, "/api/upload?type=attachment")
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body),
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!((files[0]["name"].as_str(), files[0]["size"].as_u64()), (Some("recording"), Some(6)));
    let (s, note) = g
        .post(
            &format!("/api/tickets/{tid}/messages"),
            json!({"channel": "internal-note", "via": "api", "from_agent": true, "sender": {"id": 17},
            "body_text": "Call log", "attachments": [files[0]], "sent_datetime": "2026-11-21T10:20:00Z"}),
        )
        .await;
    assert_eq!(s, 201);
    assert_eq!(note["public"], false);
    let (s, _) = g
        .post(
            &format!("/api/tickets/{tid}/messages"),
            json!({"channel": "internal-note", "from_agent": false, "sender": {"id": 90210}, "body_text": "x"}),
        )
        .await;
    assert_eq!(s, 400);
    // SMS from the agent needs a receiver; without sent_datetime Gorgias would send it itself.
    let (s, _) = g
        .post(
            &format!("/api/tickets/{tid}/messages"),
            json!({"channel": "sms", "from_agent": true, "sender": {"id": 18}, "body_text": "Yes!"}),
        )
        .await;
    assert_eq!(s, 400);
    let (s, _) = g
        .post(
            &format!("/api/tickets/{tid}/messages"),
            json!({"channel": "sms", "from_agent": true, "sender": {"id": 18}, "receiver": {"id": 90210}, "body_text": "Yes!"}),
        )
        .await;
    assert_eq!(s, 201);

    // Close, assign, trash; list the customer's tickets.
    let (s, t) =
        g.send_json(reqwest::Method::PUT, &format!("/api/tickets/{tid}"), json!({"status": "closed", "assignee_user": {"id": 18}})).await;
    assert_eq!(s, 200);
    assert!(t["closed_datetime"].is_string());
    assert_eq!(t["assignee_user"]["id"], 18);
    assert_eq!(g.post(&format!("/api/tickets/{tid}/tags"), json!({"names": ["missed-call"]})).await.0, 201);
    let (s, _) = g
        .send_json(reqwest::Method::PUT, &format!("/api/tickets/{tid}"), json!({"trashed_datetime": "2026-11-21T11:00:00Z", "spam": true}))
        .await;
    assert_eq!(s, 200);
    let (_, l) = g.get("/api/tickets?customer_id=90210").await;
    assert_eq!(l["data"][0]["trashed_datetime"], "2026-11-21T11:00:00Z");
    assert_eq!(l["data"][0]["spam"], true);
    let (_, l) = g.get("/api/tickets?customer_id=90210&trashed=false").await;
    assert_eq!(l["data"], json!([]));

    let st = sb.gorgias().state();
    let msgs = &st.tickets[0].messages;
    assert_eq!(msgs.len(), 3);
    assert_eq!(msgs[1].attachments[0]["uploaded"], true);
    assert!(msgs[2].would_send);
    let names: Vec<&str> = st.tickets[0].tag_ids.iter().map(|i| st.tags.iter().find(|t| t.id == *i).unwrap().name.as_str()).collect();
    assert_eq!(names, vec!["sms", "missed-call"]);
}

#[tokio::test]
async fn cursor_pagination_and_users_with_roles() {
    let sb = sandbox_with(1000, 1).await;
    let g = Gg { base: sb.gorgias_url().to_owned(), http: client() };
    let (_, p1) = g.get("/api/users?limit=2").await;
    assert_eq!(p1["data"].as_array().unwrap().len(), 2);
    assert_eq!(p1["data"][0]["role"]["name"], "admin");
    let cursor = p1["meta"]["next_cursor"].as_str().unwrap();
    let (_, p2) = g.get(&format!("/api/users?limit=2&cursor={cursor}")).await;
    assert_eq!(p2["data"].as_array().unwrap().len(), 1);
    assert_eq!(p2["meta"]["next_cursor"], Value::Null);
    assert_eq!(g.get("/api/users?limit=500").await.0, 400);
    sb.gorgias().inject(Fault { fail_next: 1, status: Some(503), ..Fault::default() });
    let (s, b) = g.get("/api/users").await;
    assert_eq!((s, b["error"]["msg"].is_string()), (503, true));
}

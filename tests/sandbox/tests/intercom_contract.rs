//! Contract test: every request the Intercom emulator serves here, and every
//! answer it gives, is checked against Intercom's official OpenAPI 2.16
//! description (`shared/specs/intercom/api.intercom.io.2.16.yaml`): the path
//! and method exist, the request body fits the request schema, the status is
//! documented for the operation, and the response body fits its schema.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use support::openapi::Spec;
use support::{client, sandbox, send};

const SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/specs/intercom/api.intercom.io.2.16.yaml");

struct Ic {
    base: String,
    http: reqwest::Client,
}

impl Ic {
    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base)).bearer_auth("sandbox-intercom-token").header("Intercom-Version", "2.16")
    }
    async fn get(&self, path: &str) -> (u16, Value) {
        let (s, _, b) = send(self.req(reqwest::Method::GET, path)).await;
        (s, b)
    }
    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        let (s, _, b) = send(self.req(method, path).json(&body)).await;
        (s, b)
    }
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, body).await
    }
}

/// Drives every endpoint the emulator serves, asserting outcomes on the way.
async fn exercise(ic: &Ic) {
    assert_eq!(ic.get("/me").await.0, 200);
    let (_, admins) = ic.get("/admins").await;
    assert_eq!(admins["admins"].as_array().unwrap().len(), 3);
    assert_eq!(ic.get("/admins/991002").await.1["email"], "ada@example.com");

    let (s, lead) = ic.post("/contacts", json!({"role": "lead", "phone": "+14155550123", "name": "Caller"})).await;
    assert_eq!((s, lead["role"].as_str()), (200, Some("lead")));
    let lead_id = lead["id"].as_str().unwrap().to_owned();
    let (s, user) = ic
        .post("/contacts", json!({"role": "user", "email": "dana@northwind.example", "external_id": "crm-7", "phone": "+33 6 11 22 33 44", "name": "Dana"}))
        .await;
    assert_eq!(s, 200);
    let user_id = user["id"].as_str().unwrap().to_owned();

    let (s, found) = ic
        .post(
            "/contacts/search",
            json!({"query": {"operator": "OR", "value": [
                {"field": "phone", "operator": "=", "value": "+14155550123"},
                {"field": "formatted_phone", "operator": "=", "value": "+14155550123"}]},
              "pagination": {"per_page": 10}}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(found["total_count"], 1);
    assert_eq!(found["data"][0]["id"], lead_id.as_str());
    assert_eq!(ic.get(&format!("/contacts/{lead_id}")).await.1["phone"], "+14155550123");
    let (s, upd) = ic.call(reqwest::Method::PUT, &format!("/contacts/{lead_id}"), json!({"name": "Caller Renamed"})).await;
    assert_eq!((s, upd["name"].as_str()), (200, Some("Caller Renamed")));
    assert_eq!(ic.get("/contacts?per_page=2").await.1["data"].as_array().unwrap().len(), 2);

    let (s, msg) =
        ic.post("/conversations", json!({"from": {"type": "lead", "id": lead_id}, "body": "Inbound call from +1 415 555 0123"})).await;
    assert_eq!((s, msg["type"].as_str()), (200, Some("user_message")));
    let conv = msg["conversation_id"].as_str().unwrap().to_owned();
    assert_eq!(ic.get(&format!("/conversations/{conv}")).await.1["state"], "open");

    let path = format!("/conversations/{conv}/reply");
    assert_eq!(
        ic.post(&path, json!({"message_type": "comment", "type": "user", "intercom_user_id": lead_id, "body": "Call me back"})).await.0,
        200
    );
    let (s, c) = ic.post(&path, json!({"message_type": "note", "type": "admin", "admin_id": "991002", "body": "<p>Call log</p>"})).await;
    assert_eq!(s, 200);
    assert_eq!(c["conversation_parts"]["total_count"], 2);
    assert_eq!(
        ic.post(
            &format!("/conversations/{}/reply", "last"),
            json!({"message_type": "comment", "type": "user", "email": "dana@northwind.example", "body": "hi"})
        )
        .await
        .0,
        404
    );

    let parts = format!("/conversations/{conv}/parts");
    let (_, c) =
        ic.post(&parts, json!({"message_type": "assignment", "type": "admin", "admin_id": "991001", "assignee_id": "991002"})).await;
    assert_eq!(c["admin_assignee_id"], 991002);
    let (_, c) =
        ic.post(&parts, json!({"message_type": "assignment", "type": "team", "admin_id": "991001", "assignee_id": "881001"})).await;
    assert_eq!((c["admin_assignee_id"].as_u64(), c["team_assignee_id"].as_u64()), (Some(991002), Some(881001)));
    let (_, c) = ic.post(&parts, json!({"message_type": "assignment", "type": "admin", "admin_id": "991001", "assignee_id": "0"})).await;
    assert_eq!(c["admin_assignee_id"], 0);
    let (_, c) = ic.post(&parts, json!({"message_type": "close", "type": "admin", "admin_id": "991001", "body": "Done"})).await;
    assert_eq!((c["state"].as_str(), c["open"].as_bool()), (Some("closed"), Some(false)));
    let (_, c) = ic.post(&parts, json!({"message_type": "open", "admin_id": "991001"})).await;
    assert_eq!(c["state"], "open");
    let (_, c) = ic.post(&parts, json!({"message_type": "snoozed", "admin_id": "991001", "snoozed_until": 4_102_444_800_i64})).await;
    assert_eq!(c["state"], "snoozed");

    assert_eq!(ic.get("/tags").await.1["data"].as_array().unwrap().len(), 2);
    let (_, tag) = ic.post("/tags", json!({"name": "Call: inbound"})).await;
    let tag_id = tag["id"].as_str().unwrap().to_owned();
    let (_, again) = ic.post("/tags", json!({"name": "call: INBOUND"})).await;
    assert_eq!(again["id"], tag_id.as_str());
    let (s, applied) = ic.post(&format!("/conversations/{conv}/tags"), json!({"id": tag_id, "admin_id": "991002"})).await;
    assert_eq!((s, applied["applied_by"]["id"].as_str()), (200, Some("991002")));
    let (_, c) = ic.get(&format!("/conversations/{conv}")).await;
    assert_eq!(c["tags"]["tags"][0]["name"], "Call: inbound");
    let (s, _) = ic.call(reqwest::Method::DELETE, &format!("/conversations/{conv}/tags/{tag_id}"), json!({"admin_id": "991002"})).await;
    assert_eq!(s, 200);

    let (_, list) = ic
        .post(
            "/conversations/search",
            json!({"query": {"operator": "AND", "value": [
                {"field": "contact_ids", "operator": "=", "value": lead_id},
                {"field": "state", "operator": "=", "value": "snoozed"}]}}),
        )
        .await;
    assert_eq!(list["total_count"], 1);
    let (_, list) = ic.post("/conversations/search", json!({"query": {"field": "contact_ids", "operator": "=", "value": user_id}})).await;
    assert_eq!(list["total_count"], 0);
    assert_eq!(ic.get("/conversations").await.1["conversations"].as_array().unwrap().len(), 1);

    let (s, sw) =
        ic.post("/phone_call_redirects", json!({"phone": "+14155550123", "custom_attributes": {"last_call_queue": "billing"}})).await;
    assert_eq!((s, sw["type"].as_str()), (200, Some("phone_call_redirect")));

    // Documented errors.
    assert_eq!(ic.get("/conversations/424242").await.0, 404);
    assert_eq!(ic.get("/admins/1").await.0, 404);
    let (s, _, _) = send(ic.http.get(format!("{}/admins", ic.base)).header("Intercom-Version", "2.16")).await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn every_request_and_response_matches_the_openapi_description() {
    let spec = Spec::load(SPEC);
    let sb = sandbox().await;
    let ic = Ic { base: sb.intercom_url().to_owned(), http: client() };
    exercise(&ic).await;

    let versions = spec.resolve(&spec.doc["components"]["schemas"]["intercom_version"]).clone();
    let records = sb.intercom().requests();
    assert!(records.len() >= 30, "exercise covers the emulator ({} requests)", records.len());
    let mut errors = Vec::new();
    for r in &records {
        let label = format!("{} {} → {}", r.method, r.path, r.status);
        let Some(op) = spec.operation(&r.method, &r.path) else {
            errors.push(format!("{label}: no such operation in the description"));
            continue;
        };
        if let Some(v) = r.headers.get("intercom-version") {
            spec.validate(&versions, &json!(v), &format!("{label} Intercom-Version"), &mut errors);
        }
        if let Some(schema) = op.op.pointer("/requestBody/content/application~1json/schema") {
            spec.validate(schema, &r.body, &format!("{label} request"), &mut errors);
        }
        let responses = &op.op["responses"];
        let Some(resp) = responses.get(r.status.to_string()).or_else(|| responses.get("default")) else {
            errors.push(format!("{label}: status not documented for {} {}", r.method, op.template));
            continue;
        };
        if let Some(schema) = resp.pointer("/content/application~1json/schema") {
            spec.validate(schema, &r.response_body, &format!("{label} response"), &mut errors);
        }
    }
    assert!(errors.is_empty(), "{} contract violations:\n{}", errors.len(), errors.join("\n"));
}

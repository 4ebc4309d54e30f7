//! Tests of the HubSpot emulator: contacts search / get / update, owners,
//! communications with associations, callback completion, and the signed
//! workflow-action client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use serde_json::{Value, json};
use support::{client, sandbox, send};
use switchboard_sandbox::hubspot::signature;

struct Hb {
    base: String,
    http: reqwest::Client,
}

impl Hb {
    fn req(&self, m: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(m, format!("{}{path}", self.base)).bearer_auth("sandbox-hubspot-token")
    }
    async fn get(&self, path: &str) -> (u16, Value) {
        let (s, _, b) = send(self.req(reqwest::Method::GET, path)).await;
        (s, b)
    }
    async fn send_json(&self, m: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        let (s, _, b) = send(self.req(m, path).json(&body)).await;
        (s, b)
    }
}

#[tokio::test]
async fn auth_errors_use_the_error_schema() {
    let sb = sandbox().await;
    let (s, _, b) = send(client().get(format!("{}/crm/v3/owners", sb.hubspot_url()))).await;
    assert_eq!(s, 401);
    assert_eq!(b["category"], "INVALID_AUTHENTICATION");
    assert!(b["correlationId"].is_string() && b["message"].is_string());
}

#[tokio::test]
async fn contact_search_by_phone_get_and_update() {
    let sb = sandbox().await;
    let hb = Hb { base: sb.hubspot_url().to_owned(), http: client() };
    let search = json!({
        "filterGroups": [
            {"filters": [{"propertyName": "phone", "operator": "EQ", "value": "+33612345678"}]},
            {"filters": [{"propertyName": "mobilephone", "operator": "EQ", "value": "+33612345678"}]}],
        "properties": ["firstname", "phone", "hubspot_owner_id"], "limit": 10});
    let (s, b) = hb.send_json(reqwest::Method::POST, "/crm/v3/objects/contacts/search", search).await;
    assert_eq!(s, 200);
    assert_eq!(b["total"], 1);
    assert_eq!(b["results"][0]["id"], "901");
    assert_eq!(b["results"][0]["properties"]["hubspot_owner_id"], "801");
    // Exact match only: a formatted spelling does not match.
    let (_, b) = hb
        .send_json(
            reqwest::Method::POST,
            "/crm/v3/objects/contacts/search",
            json!({"filterGroups": [{"filters": [{"propertyName": "phone", "operator": "EQ", "value": "+33 6 12 34 56 78"}]}]}),
        )
        .await;
    assert_eq!(b["total"], 0);
    let (s, _) = hb.send_json(reqwest::Method::POST, "/crm/v3/objects/contacts/search", json!({"limit": 500})).await;
    assert_eq!(s, 400);

    let (s, b) = hb.send_json(reqwest::Method::PATCH, "/crm/v3/objects/contacts/901", json!({"properties": {"sms_opt_out": "true"}})).await;
    assert_eq!((s, b["properties"]["sms_opt_out"].as_str()), (200, Some("true")));
    let (s, b) = hb.send_json(reqwest::Method::PATCH, "/crm/v3/objects/contacts/901", json!({"properties": {"no_such_prop": "x"}})).await;
    assert_eq!((s, b["category"].as_str()), (400, Some("VALIDATION_ERROR")));
    let (_, b) = hb.get("/crm/v3/objects/contacts/901?properties=sms_opt_out,email").await;
    assert_eq!(b["properties"]["sms_opt_out"], "true");
    assert_eq!(b["properties"]["email"], "chloe@acme.example");
    assert_eq!(hb.get("/crm/v3/objects/contacts/1").await.0, 404);
    assert_eq!(sb.hubspot().state().contacts[0].properties["sms_opt_out"], "true");
}

#[tokio::test]
async fn owners_and_users() {
    let sb = sandbox().await;
    let hb = Hb { base: sb.hubspot_url().to_owned(), http: client() };
    let (_, b) = hb.get("/crm/v3/owners?email=ada%40example.com").await;
    assert_eq!(b["results"].as_array().unwrap().len(), 1);
    assert_eq!(b["results"][0]["id"], "801");
    let (_, b) = hb.get("/crm/v3/owners?limit=1").await;
    assert_eq!(b["paging"]["next"]["after"], "1");
    assert_eq!(hb.get("/settings/v3/users").await.1["results"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn communications_with_channel_and_associations() {
    let sb = sandbox().await;
    let hb = Hb { base: sb.hubspot_url().to_owned(), http: client() };
    let assoc = |id: &str, t: u64| json!({"to": {"id": id}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": t}]});
    let body = json!({
        "properties": {"hs_communication_channel_type": "WHATS_APP", "hs_communication_logged_from": "CRM",
            "hs_communication_body": "Hi Ada", "hs_timestamp": "2026-11-21T10:15:00Z", "hubspot_owner_id": "801"},
        "associations": [assoc("901", 81), assoc("3301", 85), assoc("4401", 83), assoc("5501", 87)]});
    let (s, b) = hb.send_json(reqwest::Method::POST, "/crm/v3/objects/communications", body.clone()).await;
    assert_eq!(s, 201);
    let id = b["id"].as_str().unwrap().to_owned();
    assert_eq!(b["properties"]["hs_communication_channel_type"], "WHATS_APP");
    let (_, b) = hb.get(&format!("/crm/v3/objects/communications/{id}?associations=contacts,deals")).await;
    assert_eq!(b["associations"]["contacts"]["results"][0]["id"], "901");
    assert_eq!(b["associations"]["deals"]["results"][0]["id"], "3301");

    let mut bad = body.clone();
    bad["properties"]["hs_communication_channel_type"] = json!("EMAIL");
    assert_eq!(hb.send_json(reqwest::Method::POST, "/crm/v3/objects/communications", bad).await.0, 400);
    let mut bad = body.clone();
    bad["associations"] = json!([assoc("999", 81)]);
    assert_eq!(hb.send_json(reqwest::Method::POST, "/crm/v3/objects/communications", bad).await.0, 400);
    let mut bad = body.clone();
    bad["associations"] = json!([assoc("901", 85)]);
    assert_eq!(hb.send_json(reqwest::Method::POST, "/crm/v3/objects/communications", bad).await.0, 400, "type 85 targets deals");
    let mut bad = body;
    bad["properties"].as_object_mut().unwrap().remove("hs_timestamp");
    let (s, b) = hb.send_json(reqwest::Method::POST, "/crm/v3/objects/communications", bad).await;
    assert_eq!((s, b["errors"][0]["code"].as_str()), (400, Some("REQUIRED")));

    let st = sb.hubspot().state();
    assert_eq!(st.communications.len(), 1);
    let kinds: Vec<&str> = st.communications[0].associations.iter().map(|a| a.to_type.as_str()).collect();
    assert_eq!(kinds, vec!["contacts", "deals", "tickets", "companies"]);
}

#[tokio::test]
async fn signed_workflow_action_call_and_callback_completion() {
    let sb = sandbox().await;
    // A stand-in plugin endpoint that verifies the v3 signature and answers BLOCK.
    let seen: Arc<Mutex<Vec<bool>>> = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hubspot/actions/send-sms", listener.local_addr().unwrap());
    let (seen2, url2) = (seen.clone(), url.clone());
    let app = axum::Router::new().route(
        "/hubspot/actions/send-sms",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let (seen, url) = (seen2.clone(), url2.clone());
            async move {
                let ts: i64 = headers["x-hubspot-request-timestamp"].to_str().unwrap().parse().unwrap();
                let expected = signature::v3("sandbox-hubspot-client-secret", "POST", &url, &body, ts);
                let ok = headers["x-hubspot-signature-v3"].to_str().unwrap() == expected
                    && headers["x-hubspot-signature"].to_str().unwrap()
                        == signature::v2("sandbox-hubspot-client-secret", "POST", &url, &body);
                seen.lock().unwrap().push(ok);
                axum::Json(json!({"outputFields": {"hs_execution_state": "BLOCK", "hs_expiration_duration": "PT30M"}}))
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let out = sb
        .hubspot()
        .call_workflow_action(
            &url,
            "CONTACT",
            901,
            json!({"phone": "+33612345678"}),
            json!({"fromNumber": "+33123456789", "message": "Hi"}),
        )
        .await
        .unwrap();
    assert_eq!(out.status, 200);
    assert_eq!(*seen.lock().unwrap(), vec![true]);
    assert_eq!(sb.hubspot().state().pending_callbacks, vec![out.callback_id.clone()]);
    assert_eq!(sb.hubspot().state().action_calls[0].request["object"]["objectId"], 901);

    let hb = Hb { base: sb.hubspot_url().to_owned(), http: client() };
    let path = format!("/automation/v4/actions/callbacks/{}/complete", out.callback_id);
    let done = json!({"outputFields": {"messageId": "sms-1", "hs_execution_state": "SUCCESS"}, "typedOutputs": {}});
    assert_eq!(hb.send_json(reqwest::Method::POST, &path, done.clone()).await.0, 204);
    assert_eq!(hb.send_json(reqwest::Method::POST, &path, done.clone()).await.0, 400);
    assert_eq!(hb.send_json(reqwest::Method::POST, "/automation/v4/actions/callbacks/nope/complete", done).await.0, 404);
    let st = sb.hubspot().state();
    assert!(st.pending_callbacks.is_empty());
    assert_eq!(st.completed_callbacks[0].output_fields["messageId"], "sms-1");
}

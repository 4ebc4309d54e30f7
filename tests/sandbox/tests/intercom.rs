//! Tests of the Intercom emulator beyond the contract test: versions, auth,
//! error bodies, Switch, search pagination.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::json;
use support::{client, sandbox, send};
use switchboard_sandbox::intercom::model::{Contact, IntercomSeed};

#[tokio::test]
async fn unknown_version_is_rejected_and_missing_version_uses_default() {
    let sb = sandbox().await;
    let http = client();
    let url = format!("{}/me", sb.intercom_url());
    let (s, _, b) = send(http.get(&url).bearer_auth("sandbox-intercom-token").header("Intercom-Version", "9.9")).await;
    assert_eq!(s, 400);
    assert_eq!(b["type"], "error.list");
    assert_eq!(b["errors"][0]["code"], "intercom_version_invalid");
    let (s, _, b) = send(http.get(&url).bearer_auth("sandbox-intercom-token")).await;
    assert_eq!(s, 200);
    assert_eq!(b["app"]["id_code"], "sbx1a2b3");
}

#[tokio::test]
async fn bad_token_gets_unauthorized_error_list() {
    let sb = sandbox().await;
    let (s, _, b) = send(client().get(format!("{}/admins", sb.intercom_url())).bearer_auth("wrong")).await;
    assert_eq!(s, 401);
    assert_eq!(b["errors"][0], json!({"code": "unauthorized", "message": "Access Token Invalid"}));
}

#[tokio::test]
async fn create_needs_email_external_id_or_role_and_switch_validates_phone() {
    let sb = sandbox().await;
    let http = client();
    let post = |path: &str, body: serde_json::Value| {
        http.post(format!("{}{path}", sb.intercom_url()))
            .bearer_auth("sandbox-intercom-token")
            .header("Intercom-Version", "2.16")
            .json(&body)
    };
    let (s, _, b) = send(post("/contacts", json!({"phone": "+14155550123"}))).await;
    assert_eq!((s, b["type"].as_str()), (400, Some("error.list")));
    let (s, _, b) = send(post("/phone_call_redirects", json!({"phone": "12"}))).await;
    assert_eq!((s, b), (400, json!({"error_key": "invalid_phone_number", "message": "Invalid phone number"})));
    let (s, _, _) = send(post("/phone_call_redirects", json!({"phone": "+33612345678", "custom_attributes": {"queue": "billing"}}))).await;
    assert_eq!(s, 200);
    let st = sb.intercom().state();
    assert_eq!(st.phone_redirects.len(), 1);
    let chloe = st.contacts.iter().find(|c| c.phone.as_deref() == Some("+33612345678")).unwrap();
    assert_eq!(chloe.custom_attributes["queue"], "billing");
    let (s, _, b) = send(post("/conversations/1/tags", json!({"id": "771001"}))).await;
    assert_eq!((s, b["errors"][0]["code"].as_str()), (400, Some("parameter_not_found")));
}

#[tokio::test]
async fn search_paginates_with_a_cursor_in_the_body() {
    let sb = sandbox().await;
    let contacts = (0..5)
        .map(|i| Contact {
            role: "lead".into(),
            phone: Some("+15550000000".into()),
            name: Some(format!("L{i}")),
            created_at: 1_750_000_000 + i,
            ..Contact::default()
        })
        .collect();
    sb.intercom().seed(IntercomSeed { contacts, ..IntercomSeed::default() });
    let http = client();
    let search = |body: serde_json::Value| {
        http.post(format!("{}/contacts/search", sb.intercom_url())).bearer_auth("sandbox-intercom-token").json(&body)
    };
    let q = json!({"field": "phone", "operator": "=", "value": "+15550000000"});
    let (_, _, p1) = send(search(json!({"query": q, "pagination": {"per_page": 2}}))).await;
    assert_eq!(p1["total_count"], 5);
    assert_eq!(p1["pages"]["total_pages"], 3);
    assert_eq!(p1["data"][0]["name"], "L4", "newest first");
    let cursor = p1["pages"]["next"]["starting_after"].as_str().unwrap();
    let (_, _, p2) = send(search(json!({"query": q, "pagination": {"per_page": 2, "starting_after": cursor}}))).await;
    assert_eq!(p2["pages"]["page"], 2);
    assert_eq!(p2["data"][0]["name"], "L2");
    let (_, _, p3) =
        send(search(json!({"query": q, "pagination": {"per_page": 2, "starting_after": p2["pages"]["next"]["starting_after"]}}))).await;
    assert_eq!(p3["data"].as_array().unwrap().len(), 1);
    assert!(p3["pages"].get("next").is_none());
    let (s, _, b) = send(search(json!({"query": q, "sort": {"field": "created_at", "order": "up"}}))).await;
    assert_eq!((s, b["errors"][0]["code"].as_str()), (400, Some("invalid_sort_order")));
}

#[tokio::test]
async fn injected_failure_uses_the_error_list_shape() {
    let sb = sandbox().await;
    sb.intercom().inject(switchboard_sandbox::Fault {
        fail_next: 1,
        status: Some(429),
        path_prefix: Some("/contacts".into()),
        ..Default::default()
    });
    let (s, _, b) = send(client().get(format!("{}/contacts", sb.intercom_url())).bearer_auth("sandbox-intercom-token")).await;
    assert_eq!(s, 429);
    assert_eq!(b["errors"][0]["code"], "rate_limit_exceeded");
}

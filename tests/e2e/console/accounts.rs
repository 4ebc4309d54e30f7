//! Aircall accounts added in the console (issue 15), as an admin without
//! JavaScript would: the Add account form, by OAuth through the sandbox
//! Aircall's install or with an API key; then an integration made in the
//! console on that account receives its webhooks — no restart, and after one.

use super::setup::Browser;
use crate::connections::follow;
use crate::support::Host;
use crate::support::rig::Rig;
use serde_json::{Value, json};
use std::process::Command;
use std::time::Duration;
use switchboard_sandbox::SandboxOptions;

/// The console account's id.
const ACCOUNT: &str = "second";
/// The console integration on it.
const NOTES: &str = "notes-second";

/// The file's example integration: disabled, so only the console's logs.
const FILE_INTEGRATION: &str = "enabled = false\nbase_url = \"{notes}\"\nsecrets = { api = \"sandbox-notes-token\" }\n";

/// A host with the console, a master key and the host's Aircall app, wired to
/// the emulators (the file's account `main` has a static key).
async fn rig() -> (Rig, tempfile::TempDir) {
    let keys = tempfile::tempdir().unwrap();
    let key_path = keys.path().join("master.keys");
    switchboard::connections::seal::append_key(&key_path).unwrap();
    let extra = format!(
        r#"
[console]
listen = "127.0.0.1:0"

[connections]
key_file = "{}"

[oauth.aircall]
client_id = "sandbox-aircall-client-id"
client_secret = "sandbox-aircall-client-secret"
authorize_url = "{{aircall}}/oauth/authorize"
token_url = "{{aircall}}/v1/oauth/token"
"#,
        key_path.display()
    );
    let rig = Rig::start_full(SandboxOptions::default(), "example", FILE_INTEGRATION, &extra).await;
    (rig, keys)
}

/// The sandbox Aircall's webhooks pointing at `host`.
fn our_webhooks(rig: &Rig) -> Vec<switchboard_sandbox::aircall::webhooks::Webhook> {
    let url = format!("{}/webhooks/aircall", rig.host.url);
    rig.sandbox.aircall().state().webhooks.into_iter().filter(|w| w.url == url).collect()
}

/// `call.created` of call `id` on the sandbox's number 2001, signed with `token`.
fn call_created(id: u64, token: &str) -> Value {
    json!({
        "resource": "call", "event": "call.created", "timestamp": 1_700_000_000, "token": token,
        "data": {
            "id": id, "direction": "inbound", "status": "initial", "raw_digits": "+33 6 12 34 56 78",
            "number": { "id": 2001, "name": "Support FR", "digits": "+33 1 76 36 04 20", "country": "FR" }
        }
    })
}

/// Whether the notes emulator holds a note about call `id`.
fn noted(rig: &Rig, id: u64) -> bool {
    rig.sandbox.notes().state().notes.iter().any(|n| n.body["subject"] == format!("call:{id}"))
}

/// Makes the example integration `NOTES` on `ACCOUNT` in the console, logging
/// number 2001 into `notes_url`, and enables it.
async fn make_notes_integration(browser: &Browser, notes_url: &str) {
    let setup = format!("/integrations/{NOTES}/setup");
    let made =
        browser.submit("/integrations/new", "/integrations/new", &[("plugin", "example"), ("id", NOTES), ("account", ACCOUNT)]).await;
    assert_eq!(made.status, 303, "the console account can be picked: {}", made.body);
    let saved = browser.submit(&setup, &format!("/integrations/{NOTES}/connection"), &[("base_url", notes_url)]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let saved = browser.submit(&setup, &setup, &[("number", "2001"), ("secret.api", "sandbox-notes-token")]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let enabled = browser.submit(&setup, &format!("/integrations/{NOTES}/enable"), &[]).await;
    assert_eq!(enabled.status, 303, "{}", enabled.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_added_by_oauth_in_the_console_gets_one_webhook_and_its_events_are_logged_without_a_restart() {
    let (mut rig, _keys) = rig().await;
    let browser = Browser::sign_in(&rig.host, 0).await;
    let aircall = rig.sandbox.aircall_url().to_string();
    let accounts = browser.get("/accounts").await.body;
    assert!(accounts.contains(r#"href="/accounts/new""#), "{accounts}");
    assert!(accounts.contains("in the configuration file (read-only here)"), "the file's account is read-only: {accounts}");

    // Without the form's CSRF token: 403.
    let forged = browser.post("/accounts/new", &[("id", ACCOUNT), ("method", "oauth"), ("api_base", &aircall)]).await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    // Bad values: 422, the error beside its field, nothing saved nor created at Aircall.
    let taken = browser.submit("/accounts/new", "/accounts/new", &[("id", "main"), ("method", "oauth"), ("api_base", &aircall)]).await;
    assert_eq!(taken.status, 422, "{}", taken.body);
    assert!(taken.body.contains("id: the configuration file declares an account with this id"), "{}", taken.body);
    let bad = browser.submit("/accounts/new", "/accounts/new", &[("id", ACCOUNT), ("method", "oauth"), ("api_base", "not a url")]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains(r#"role="alert">api_base: not a URL: &#34;not a url&#34;"#), "{}", bad.body);
    let keyless = browser.submit("/accounts/new", "/accounts/new", &[("id", ACCOUNT), ("method", "api_key"), ("api_base", &aircall)]).await;
    assert_eq!(keyless.status, 422);
    assert!(keyless.body.contains("api_id: required with an API key") && keyless.body.contains("api_token: required"), "{}", keyless.body);
    let company = browser
        .submit("/accounts/new", "/accounts/new", &[("id", ACCOUNT), ("method", "oauth"), ("api_base", &aircall), ("company_id", "acme")])
        .await;
    assert_eq!(company.status, 422);
    assert!(company.body.contains("company_id: &#34;acme&#34; is not an Aircall company id"), "{}", company.body);
    assert!(our_webhooks(&rig).is_empty(), "nothing was created at Aircall");
    assert!(!browser.get("/accounts").await.body.contains(&format!(r#"id="account-{ACCOUNT}""#)), "nothing was saved");

    // By OAuth: saved, then the Connect flow; the install creates one webhook.
    let added = browser.submit("/accounts/new", "/accounts/new", &[("id", ACCOUNT), ("method", "oauth"), ("api_base", &aircall)]).await;
    assert_eq!(added.status, 303, "{}", added.body);
    assert!(added.location().starts_with(&format!("{}/connect/", rig.host.url)), "{}", added.location());
    let (status, landed) = follow(added.location()).await;
    assert_eq!(status, 200, "{landed}\n{}", rig.host.log());
    let hooks = our_webhooks(&rig);
    assert_eq!(hooks.len(), 1, "exactly one webhook: {hooks:?}");
    let token = hooks[0].token.clone();
    let page = browser.get("/accounts").await.body;
    assert!(page.contains(&format!(r#"id="account-{ACCOUNT}""#)) && page.contains("added in the console"), "{page}");
    assert!(page.contains(&format!(r#"action="/accounts/{ACCOUNT}/delete""#)), "{page}");
    assert!(!page.contains(&token), "the webhook token is never shown");

    // Its numbers reach the picker; an integration made on it logs its webhooks, no restart.
    make_notes_integration(&browser, rig.sandbox.notes_url()).await;
    let setup = browser.get(&format!("/integrations/{NOTES}/setup")).await.body;
    assert!(setup.contains(r#"name="number" value="2001""#) && setup.contains("enabled: receiving events"), "{setup}");
    let (status, answer) = rig.host.post(&call_created(910_001, &token)).await;
    assert_eq!(status, 200, "{answer}");
    rig.wait_for("the console account's call noted", |_| noted(&rig, 910_001).then_some(())).await;

    // In use: it cannot be deleted.
    let refused = browser.submit("/accounts", &format!("/accounts/{ACCOUNT}/delete"), &[]).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused.body.contains(&format!("used by the integration(s) {NOTES}")), "{}", refused.body);
    let file_account = browser.submit("/accounts", "/accounts/main/delete", &[]).await;
    assert_eq!(file_account.status, 403, "the file's account is read-only");
    assert_eq!(browser.post(&format!("/accounts/{ACCOUNT}/delete"), &[]).await.status, 403, "no CSRF token, no delete");

    // A restart keeps it.
    let log_before = rig.host.log().len();
    rig.host.kill();
    rig.host.spawn().await;
    let browser = Browser::sign_in(&rig.host, log_before).await;
    let (status, answer) = rig.host.post(&call_created(910_002, &token)).await;
    assert_eq!(status, 200, "{answer}");
    rig.wait_for("the call after the restart noted", |_| noted(&rig, 910_002).then_some(())).await;
    assert_eq!(our_webhooks(&rig).len(), 1, "no webhook added by the restart");
    // `switchboard check` counts it.
    let out = rig.host.cli(&["check"]);
    assert!(out.contains("1 account(s) in the file and 1 from the console, 1 integration(s) in the file and 1 from the console"), "{out}");

    // Deleted once its integration is: its webhooks are refused.
    let deleted = browser.submit(&format!("/integrations/{NOTES}/setup"), &format!("/integrations/{NOTES}/delete"), &[]).await;
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    let deleted = browser.submit("/accounts", &format!("/accounts/{ACCOUNT}/delete"), &[]).await;
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    let (status, _) = rig.host.post(&call_created(910_003, &token)).await;
    assert_eq!(status, 401, "a deleted account's webhooks are refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_added_with_an_api_key_takes_its_webhook_from_aircall_and_check_names_a_broken_one() {
    let (mut rig, _keys) = rig().await;
    let browser = Browser::sign_in(&rig.host, 0).await;
    let aircall = rig.sandbox.aircall_url().to_string();
    let credentials = rig.sandbox.aircall().credentials().clone();

    let wrong = [("id", ACCOUNT), ("method", "api_key"), ("api_id", "nobody"), ("api_token", "wrong-token"), ("api_base", &aircall)];
    let refused = browser.submit("/accounts/new", "/accounts/new", &wrong).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("api_token: Aircall refused the API key"), "{}", refused.body);
    assert!(!refused.body.contains("wrong-token"), "a token is never shown again");

    let key = [
        ("id", ACCOUNT),
        ("method", "api_key"),
        ("api_id", credentials.api_id.as_str()),
        ("api_token", credentials.api_token.as_str()),
        ("api_base", &aircall),
    ];
    let added = browser.submit("/accounts/new", "/accounts/new", &key).await;
    assert_eq!(added.status, 303, "{}", added.body);
    let hooks = our_webhooks(&rig);
    assert_eq!(hooks.len(), 1, "one webhook created with the key: {hooks:?}");
    let page = browser.get("/accounts").await.body;
    assert!(page.contains("static API key (api_id, and api_token sealed in the store)"), "{page}");
    assert!(!page.contains(&credentials.api_token) && !page.contains(&hooks[0].token), "no secret is shown");
    let stored = String::from_utf8_lossy(&std::fs::read(rig.host.db()).unwrap()).to_string();
    assert!(!stored.contains(&hooks[0].token) && !stored.contains(&credentials.api_token), "the tokens are stored sealed");

    make_notes_integration(&browser, rig.sandbox.notes_url()).await;
    let (status, answer) = rig.host.post(&call_created(920_001, &hooks[0].token)).await;
    assert_eq!(status, 200, "{answer}");
    rig.wait_for("the API-key account's call noted", |_| noted(&rig, 920_001).then_some(())).await;

    // Broken in the store (as an older host or a hand edit might leave it): `check` names it.
    rig.host.kill();
    let db = rusqlite::Connection::open(rig.host.db()).unwrap();
    let raw: Vec<u8> =
        db.query_row("SELECT value FROM kv WHERE namespace = 'host:integrations' AND key = 'console'", [], |r| r.get(0)).unwrap();
    let mut doc: Value = serde_json::from_slice(&raw).unwrap();
    doc["accounts"][0]["api_base"] = json!("not a url");
    db.execute("UPDATE kv SET value = ?1 WHERE namespace = 'host:integrations' AND key = 'console'", [serde_json::to_vec(&doc).unwrap()])
        .unwrap();
    drop(db);
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard")).args(["check", "--config"]).arg(&rig.host.config_path).output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains(&format!("console account \"{ACCOUNT}\".api_base: not a URL")), "{said}");
    tokio::time::sleep(Duration::from_millis(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_an_account_added_on_one_host_is_accepted_by_the_other() {
    use crate::support::{FakeCrm, on_postgres_as, pg_count, pg_database};
    let db = pg_database().await;
    let crm = FakeCrm::start().await;
    let (_keys, extra) = super::console_with_a_key();
    let config = |id: &str| on_postgres_as(&Host::config(&crm.url, &extra, 4), &db.url, id);
    let h1 = Host::start(&config("h1"), &["example"]).await;
    let h2 = Host::start(&config("h2"), &["example"]).await;
    let browser = Browser::sign_in(&h1, 0).await;

    // An API key and its webhook token entered (nothing asked of Aircall).
    let webhook_token = "second-webhook-token-5678";
    let added = browser
        .submit(
            "/accounts/new",
            "/accounts/new",
            &[
                ("id", ACCOUNT),
                ("method", "api_key"),
                ("api_id", "second-id"),
                ("api_token", "second-api-token-1234"),
                ("webhook_token", webhook_token),
                ("api_base", &crm.url),
            ],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let clear = "SELECT COUNT(*) FROM kv WHERE namespace = 'host:integrations' AND (encode(value, 'escape') LIKE '%second-webhook-token%' OR encode(value, 'escape') LIKE '%second-api-token%')";
    assert_eq!(pg_count(&db.url, clear).await, 0, "the tokens are stored sealed");
    // A webhook token another account has is refused beside the field.
    let shared = browser
        .submit(
            "/accounts/new",
            "/accounts/new",
            &[
                ("id", "third"),
                ("method", "api_key"),
                ("api_id", "x"),
                ("api_token", "y"),
                ("webhook_token", webhook_token),
                ("api_base", &crm.url),
            ],
        )
        .await;
    assert_eq!(shared.status, 422, "{}", shared.body);
    assert!(shared.body.contains("webhook_token: another account has this webhook token"), "{}", shared.body);

    let setup = format!("/integrations/{NOTES}/setup");
    let made =
        browser.submit("/integrations/new", "/integrations/new", &[("plugin", "example"), ("id", NOTES), ("account", ACCOUNT)]).await;
    assert_eq!(made.status, 303, "{}", made.body);
    assert_eq!(browser.submit(&setup, &format!("/integrations/{NOTES}/connection"), &[("base_url", &crm.url)]).await.status, 303);
    assert_eq!(browser.submit(&setup, &setup, &[("secret.api", "console-secret-4567")]).await.status, 303);
    assert_eq!(browser.submit(&setup, &format!("/integrations/{NOTES}/enable"), &[]).await.status, 303);

    // The other host picks the account and the integration up (it reads the document's version every 2 s).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut event = crate::support::call_event("call.created", 930_001, 1_700_000_000);
    event["token"] = json!(webhook_token);
    let (status, answer) = h2.post(&event).await;
    assert_eq!(status, 200, "{answer}");
    let notes = crm
        .wait_for(Duration::from_secs(20), "a note of the console account's integration", |n| {
            n.iter().any(|r| r.authorization.as_deref() == Some("Bearer console-secret-4567"))
        })
        .await;
    assert_eq!(notes.len(), 1, "only the console account's integration: {notes:?}");
}

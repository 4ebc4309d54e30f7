//! Integrations made and set up in the console (issue 15), as an admin
//! without JavaScript would: plain forms against the real host and the
//! sandbox emulators. What landed is read from the Help Scout emulator; what
//! the admin sees, from the pages.

use super::{Answer, answer, console_url, form};
use crate::connections::follow;
use crate::support::Host;
use crate::support::rig::Rig;
use std::process::Command;
use std::time::Duration;
use switchboard_sandbox::SandboxOptions;

/// Help Scout's demo mailboxes (Support, Sales).
const SUPPORT: u64 = 30411;
const SALES: u64 = 30412;
/// The world's Aircall numbers: Support FR, Sales US.
const SUPPORT_FR: &str = "2001";
const SALES_US: &str = "2002";
const ID: &str = "hs-console";

/// A browser signed in to the console of a host.
pub(super) struct Browser {
    url: String,
    session: String,
    client: reqwest::Client,
}

impl Browser {
    /// Signs in with a one-time link (`switchboard console-link`).
    pub(super) async fn sign_in(host: &Host, log_from: usize) -> Browser {
        let url = console_url(host, log_from).await;
        let out = host.cli(&["console-link"]);
        let link = out.lines().find(|l| l.starts_with("http://")).unwrap_or_else(|| panic!("no link printed:\n{out}"));
        let token = link.split("token=").nth(1).unwrap();
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let signed = answer(client.get(format!("{url}/sign-in?token={token}")).send().await.unwrap()).await;
        let session = signed.cookie("sb_console").unwrap_or_else(|| panic!("no session: {}", signed.body));
        Browser { url, session, client }
    }

    pub(super) async fn get(&self, path: &str) -> Answer {
        let req = self.client.get(format!("{}{path}", self.url)).header("cookie", format!("sb_console={}", self.session));
        answer(req.send().await.unwrap()).await
    }

    /// Submits a form of the page at `page` to `action` with the page's CSRF token.
    pub(super) async fn submit(&self, page: &str, action: &str, pairs: &[(&str, &str)]) -> Answer {
        let csrf = self.get(page).await.csrf();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(pairs);
        self.post(action, &all).await
    }

    /// Posts `pairs` to `action` as they are (a form without its CSRF token: 403).
    pub(super) async fn post(&self, action: &str, pairs: &[(&str, &str)]) -> Answer {
        let req = self
            .client
            .post(format!("{}{action}", self.url))
            .header("cookie", format!("sb_console={}", self.session))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(pairs));
        answer(req.send().await.unwrap()).await
    }
}

/// A host with the console, a master key and the Help Scout OAuth app, wired
/// to the emulators; the file declares one Help Scout integration, disabled.
async fn rig() -> (Rig, tempfile::TempDir) {
    let keys = tempfile::tempdir().unwrap();
    let key_path = keys.path().join("master.keys");
    switchboard::connections::seal::append_key(&key_path).unwrap();
    let integration =
        format!("enabled = false\nbase_url = \"{{helpscout}}\"\nsettings = {{ mailboxes = {{ \"{SUPPORT_FR}\" = {SUPPORT} }} }}\n");
    let extra = format!(
        r#"
[console]
listen = "127.0.0.1:0"

[connections]
key_file = "{}"

[oauth.helpscout]
client_id = "sandbox-helpscout-app"
client_secret = "sandbox-helpscout-secret"
authorize_url = "{{helpscout}}/authentication/authorizeClientApplication"
token_url = "{{helpscout}}/v2/oauth2/token"
"#,
        key_path.display()
    );
    let rig = Rig::start_full(SandboxOptions::default(), "helpscout", &integration, &extra).await;
    let callback = format!("{}/oauth/callback", rig.host.url);
    rig.sandbox.helpscout().oauth().configure(|o| o.registered_redirect = Some(callback));
    (rig, keys)
}

/// An answered inbound call on the world's number `number` (`support-fr`, `sales-us`).
fn call(key: &str, number: &str, from: &str) -> String {
    format!(
        "[[call]]\nkey = \"{key}\"\ndirection = \"inbound\"\nnumber = \"{number}\"\nfrom = \"{from}\"\n\
         [[step]]\nat = 0\ncall = \"{key}\"\nevent = \"call.created\"\n\
         [[step]]\nat = 1\ncall = \"{key}\"\nevent = \"call.answered\"\nuser = \"ada\"\n\
         [[step]]\nat = 2\ncall = \"{key}\"\nevent = \"call.hungup\"\n\
         [[step]]\nat = 3\ncall = \"{key}\"\nevent = \"call.ended\"\n"
    )
}

/// The mailbox of each conversation the Help Scout emulator holds.
fn mailboxes(rig: &Rig) -> Vec<u64> {
    rig.sandbox.helpscout().state().conversations.iter().map(|c| c.mailbox_id).collect()
}

/// The settings form as an admin leaves it: toggles as given, the rest as shown.
const SETTINGS: &[(&str, &str)] = &[
    ("setting.matching_rule", "most_recent"),
    ("setting.closed_window_hours", "48"),
    ("setting.fallback_user_id", "0"),
    ("setting.dial_number_id", "0"),
    ("setting.dial_key", ""),
    ("setting.search_existing_conversations", "true"),
    ("setting.ai_insights", "true"),
];

/// The set-up form: `numbers` with their mailbox each, [`SETTINGS`] with `extra` over them.
fn setup_form<'a>(numbers: &'a [(&'a str, &'a str, String)], extra: &'a [(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut pairs: Vec<(&str, &str)> = vec![("default_region", "FR")];
    for (number, field, mailbox) in numbers {
        pairs.push(("number", *number));
        pairs.push((*field, mailbox.as_str()));
    }
    // What `extra` sets replaces the form's value (a form sends each field once).
    pairs.extend(SETTINGS.iter().filter(|(k, _)| !extra.iter().any(|(e, _)| e == k)));
    pairs.extend_from_slice(extra);
    pairs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_help_scout_integration_made_and_set_up_in_the_console_logs_its_numbers_without_a_restart() {
    let (mut rig, _keys) = rig().await;
    let browser = Browser::sign_in(&rig.host, 0).await;
    let setup = format!("/integrations/{ID}/setup");
    let helpscout = rig.sandbox.helpscout_url().to_string();

    // New integration: made disabled, then its set-up page.
    let made = browser.submit("/integrations/new", "/integrations/new", &[("plugin", "helpscout"), ("id", ID), ("account", "main")]).await;
    assert_eq!((made.status, made.location()), (303, format!("{setup}?notice=Made%3A+set+it+up%2C+then+Enable").as_str()), "{}", made.body);
    let taken = browser
        .submit("/integrations/new", "/integrations/new", &[("plugin", "helpscout"), ("id", "helpscout"), ("account", "main")])
        .await;
    assert_eq!(taken.status, 422, "an id of the file is refused");
    assert!(taken.body.contains("the configuration file declares an integration with this id"), "{}", taken.body);

    // The API root first (the sandbox's; a bad one is refused beside its field).
    let connection = format!("/integrations/{ID}/connection");
    let bad = browser.submit(&setup, &connection, &[("base_url", "not a url")]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains(r#"id="base_url-error""#) && bad.body.contains("base_url: not an absolute URL"), "{}", bad.body);
    let saved = browser.submit(&setup, &connection, &[("base_url", &helpscout)]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    // Connect: the button starts the same flow as `switchboard connect`.
    let page = browser.get(&setup).await;
    assert!(page.body.contains(r#"id="connection-state">not connected"#), "{}", page.body);
    let connect = browser.submit(&setup, &format!("/integrations/{ID}/connect"), &[]).await;
    assert_eq!(connect.status, 303, "{}", connect.body);
    assert!(connect.location().starts_with(&format!("{}/connect/", rig.host.url)), "{}", connect.location());
    let (status, landed) = follow(connect.location()).await;
    assert_eq!(status, 200, "{landed}\n{}", rig.host.log());
    let page = browser.get(&setup).await;
    assert!(page.body.contains(r#"id="connection-state">connected"#), "{}", page.body);
    // The mailbox choices come from Help Scout, with the connection's token.
    assert!(page.body.contains(&format!(r#"<option value="{SALES}">Sales</option>"#)), "{}", page.body);
    assert!(rig.sandbox.helpscout().requests().iter().any(|r| r.path == "/v2/mailboxes" && r.status == 200));
    for field in [
        r#"name="number" value="2001""#,
        r#"name="per_number.2001""#,
        r#"name="setting.matching_rule""#,
        r#"name="setting.closed_window_hours""#,
    ] {
        assert!(page.body.contains(field), "{field} missing:\n{}", page.body);
    }

    // A value out of range: 422, the error beside its field, nothing saved.
    let one = [(SUPPORT_FR, "per_number.2001", SALES.to_string())];
    let bad = browser.submit(&setup, &setup, &setup_form(&one, &[("setting.closed_window_hours", "-5")])).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let beside = bad.body.split(r#"id="setting.closed_window_hours-error" role="alert">"#).nth(1).unwrap_or_else(|| panic!("{}", bad.body));
    assert!(
        beside.starts_with("console integration &#34;hs-console&#34;.settings.closed_window_hours: -5 is less than the minimum 0"),
        "{beside}"
    );
    let not_a_number = browser.submit(&setup, &setup, &setup_form(&one, &[("setting.fallback_user_id", "ada")])).await;
    assert_eq!(not_a_number.status, 422);
    assert!(not_a_number.body.contains(r#"id="setting.fallback_user_id-error""#), "{}", not_a_number.body);
    // A crafted form: a number that is not the account's, a mailbox Help Scout does not list.
    let crafted = [("999", "per_number.999", SALES.to_string()), (SUPPORT_FR, "per_number.2001", "424242".to_string())];
    let refused = browser.submit(&setup, &setup, &setup_form(&crafted, &[])).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("numbers: 999 not among account main&#39;s numbers"), "{}", refused.body);
    let refused = browser.submit(&setup, &setup, &setup_form(&crafted[1..], &[])).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("number 2001: 424242 is not a mailbox the CRM lists"), "{}", refused.body);
    assert!(!browser.get(&setup).await.body.contains(r#"name="number" value="2001" id="number-2001" checked"#), "nothing was saved");

    // One number picked (Support FR → the Sales mailbox), saved, enabled.
    let saved = browser.submit(&setup, &setup, &setup_form(&one, &[])).await;
    assert_eq!((saved.status, saved.location()), (303, format!("{setup}?notice=Saved%3A+in+effect+now").as_str()), "{}", saved.body);
    let enabled = browser.submit(&setup, &format!("/integrations/{ID}/enable"), &[]).await;
    assert_eq!(enabled.status, 303, "{}", enabled.body);
    assert!(browser.get(&setup).await.body.contains("enabled: receiving events"));

    rig.play(&call("c1", "support-fr", "+33 6 12 34 56 78")).await;
    rig.wait_for("the call on Support FR in the Sales mailbox", |_| (mailboxes(&rig) == [SALES]).then_some(())).await;
    // Sales US is not picked: nothing is logged for it.
    rig.play(&call("c2", "sales-us", "+1 415 555 0199")).await;
    rig.settle().await;
    assert_eq!(mailboxes(&rig), [SALES], "a number not picked logs nothing");

    // Both numbers, a mailbox each: in effect for the next webhook, no restart.
    let two = [(SUPPORT_FR, "per_number.2001", SALES.to_string()), (SALES_US, "per_number.2002", SUPPORT.to_string())];
    let saved = browser.submit(&setup, &setup, &setup_form(&two, &[])).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    rig.play(&call("c3", "sales-us", "+1 415 555 0198")).await;
    rig.wait_for("the call on Sales US in the Support mailbox", |_| (mailboxes(&rig) == [SALES, SUPPORT]).then_some(())).await;

    // The integrations page lists it as the console's; the file's is read-only.
    let list = browser.get("/integrations").await.body;
    assert!(list.contains(&format!(r#"console (<a href="{setup}">set up</a>)"#)), "{list}");
    let file_page = browser.get("/integrations/helpscout/setup").await.body;
    assert!(
        file_page.contains("declared in the configuration file")
            && !file_page.contains("<form method=\"post\" action=\"/integrations/helpscout/setup\"")
    );

    // A restart keeps it: the next call is logged as before.
    let log_before = rig.host.log().len();
    rig.host.kill();
    rig.host.spawn().await;
    let browser = Browser::sign_in(&rig.host, log_before).await;
    assert!(browser.get(&setup).await.body.contains("enabled: receiving events"));
    rig.play(&call("c4", "support-fr", "+33 6 98 76 54 32")).await;
    rig.wait_for("the call after the restart", |_| (mailboxes(&rig).len() == 3).then_some(())).await;
    assert_eq!(mailboxes(&rig), [SALES, SUPPORT, SALES]);
    // The commands see it too.
    let listed = rig.host.cli(&["integrations", "list"]);
    assert!(listed.lines().any(|l| l.starts_with(ID) && l.contains("console") && l.contains("active")), "{listed}");
    // The store holds its token sealed and the integration without any secret in clear.
    let stored = String::from_utf8_lossy(&std::fs::read(rig.host.db()).unwrap()).to_string();
    for t in rig.sandbox.helpscout().oauth().tokens() {
        assert!(!stored.contains(&t.token), "a token is in the store in clear");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switchboard_check_reports_a_broken_console_integration() {
    let (mut rig, _keys) = rig().await;
    let browser = Browser::sign_in(&rig.host, 0).await;
    let setup = format!("/integrations/{ID}/setup");
    let made = browser.submit("/integrations/new", "/integrations/new", &[("plugin", "helpscout"), ("id", ID), ("account", "main")]).await;
    assert_eq!(made.status, 303);
    // Not set up: a note, not a failure.
    let out = rig.host.cli(&["check"]);
    assert!(out.contains(&format!("console integration \"{ID}\" (disabled) is not set up yet")), "{out}");
    assert!(out.contains("1 from the console"), "{out}");
    let one = [(SUPPORT_FR, "per_number.2001", SALES.to_string())];
    let helpscout = rig.sandbox.helpscout_url().to_string();
    let mut pairs = setup_form(&one, &[]);
    pairs.retain(|(k, _)| !k.starts_with("per_number") && *k != "number");
    // Without numbers the required mailboxes are missing: the error is beside the picker.
    let refused = browser.submit(&setup, &setup, &pairs).await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains(r#"id="numbers-error""#) && refused.body.contains("settings.mailboxes"), "{}", refused.body);
    // Written straight into the store (as a newer plugin version might find
    // it): enabled, with a value its plugin refuses.
    rig.host.kill();
    let doc = format!(
        r#"{{"version":9,"integrations":[{{"id":"{ID}","account":"main","plugin":"helpscout","enabled":true,"numbers":[2001],"base_url":"{helpscout}","settings":{{"mailboxes":{{"2001":{SALES}}},"closed_window_hours":-5}}}}]}}"#
    );
    let db = rusqlite::Connection::open(rig.host.db()).unwrap();
    db.execute("UPDATE kv SET value = ?1 WHERE namespace = 'host:integrations' AND key = 'console'", [doc.as_bytes()]).unwrap();
    drop(db);
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard")).args(["check", "--config"]).arg(&rig.host.config_path).output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains(&format!("console integration \"{ID}\".settings.closed_window_hours: -5 is less than the minimum 0")), "{said}");
    // The host still starts: the broken integration runs no jobs and is shown as not set up.
    let log_before = rig.host.log().len();
    rig.host.spawn().await;
    let browser = Browser::sign_in(&rig.host, log_before).await;
    let page = browser.get(&setup).await.body;
    assert!(page.contains("not set up yet") && page.contains("closed_window_hours"), "{page}");
    tokio::time::sleep(Duration::from_millis(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_an_integration_made_on_one_host_runs_on_the_other_with_its_secret_sealed() {
    use crate::support::{FakeCrm, call_event, on_postgres_as, pg_count, pg_database};
    let db = pg_database().await;
    let crm = FakeCrm::start().await;
    let (_keys, extra) = super::console_with_a_key();
    let config = |id: &str| on_postgres_as(&Host::config(&crm.url, &extra, 4), &db.url, id);
    let h1 = Host::start(&config("h1"), &["example"]).await;
    let h2 = Host::start(&config("h2"), &["example"]).await;
    let browser = Browser::sign_in(&h1, 0).await;
    let setup = "/integrations/notes-console/setup";

    let made = browser
        .submit("/integrations/new", "/integrations/new", &[("plugin", "example"), ("id", "notes-console"), ("account", "main")])
        .await;
    assert_eq!(made.status, 303, "{}", made.body);
    let page = browser.get(setup).await.body;
    assert!(page.contains(r#"<input type="password" name="secret.api" id="secret.api" value="""#), "{page}");
    let saved = browser.submit(setup, "/integrations/notes-console/connection", &[("base_url", &crm.url)]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    // The plugin requires its secret: refused beside the field until it is given.
    let refused = browser.submit(setup, setup, &[("setting.insight_cards", "")]).await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains(r#"id="secret.api-error""#) && refused.body.contains("secrets.api: required"), "{}", refused.body);
    let saved = browser.submit(setup, setup, &[("secret.api", "console-secret-4567")]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let page = browser.get(setup).await.body;
    assert!(!page.contains("console-secret-4567") && page.contains("A value is stored"), "the secret is never shown again");
    assert_eq!(browser.submit(setup, "/integrations/notes-console/enable", &[]).await.status, 303);
    let clear = "SELECT COUNT(*) FROM kv WHERE namespace = 'host:integrations' AND encode(value, 'escape') LIKE '%console-secret-4567%'";
    assert_eq!(pg_count(&db.url, clear).await, 0, "the secret is stored sealed");

    // The other host picks the change up (it reads the document's version every 2 s).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (status, _) = h2.post(&call_event("call.created", 880_001, 1_700_000_000)).await;
    assert_eq!(status, 200);
    let notes = crm
        .wait_for(Duration::from_secs(20), "a note from each integration", |n| {
            n.iter().any(|r| r.authorization.as_deref() == Some("Bearer console-secret-4567"))
                && n.iter().any(|r| r.authorization.as_deref() == Some(&format!("Bearer {}", crate::support::API_SECRET)))
        })
        .await;
    assert_eq!(notes.len(), 2, "{notes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disable_stops_new_events_and_delete_waits_for_queued_jobs() {
    use crate::support::{FakeCrm, call_event};
    let crm = FakeCrm::start().await;
    let (_keys, extra) = super::console_with_a_key();
    let host = Host::start(&Host::config(&crm.url, &extra, 4), &["example"]).await;
    let browser = Browser::sign_in(&host, 0).await;
    let (id, setup) = ("extra-notes", "/integrations/extra-notes/setup");
    let console_notes =
        |n: &[crate::support::Received]| n.iter().filter(|r| r.authorization.as_deref() == Some("Bearer extra-secret-99")).count();

    browser.submit("/integrations/new", "/integrations/new", &[("plugin", "example"), ("id", id), ("account", "main")]).await;
    browser.submit(setup, "/integrations/extra-notes/connection", &[("base_url", &crm.url)]).await;
    assert_eq!(browser.submit(setup, setup, &[("secret.api", "extra-secret-99")]).await.status, 303);
    assert_eq!(browser.submit(setup, "/integrations/extra-notes/enable", &[]).await.status, 303);
    host.post(&call_event("call.created", 990_001, 1_700_000_000)).await;
    crm.wait_for(Duration::from_secs(20), "the console integration's note", |n| console_notes(n) == 1).await;

    // Paused, its events are held: delete is refused while they wait.
    let paused = browser.submit("/integrations", "/integrations/extra-notes/pause", &[("reason", "testing")]).await;
    assert_eq!(paused.status, 303);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    host.post(&call_event("call.created", 990_002, 1_700_000_001)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let refused = browser.submit(setup, "/integrations/extra-notes/delete", &[]).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused.body.contains("1 job(s) of extra-notes are queued"), "{}", refused.body);
    // Resumed, the held event is delivered; disabled, new events no longer reach it.
    browser.submit("/integrations", "/integrations/extra-notes/resume", &[]).await;
    crm.wait_for(Duration::from_secs(20), "the held note", |n| console_notes(n) == 2).await;
    assert_eq!(browser.submit(setup, "/integrations/extra-notes/disable", &[]).await.status, 303);
    host.post(&call_event("call.created", 990_003, 1_700_000_002)).await;
    crm.wait_for(Duration::from_secs(20), "the file integration's note of the third call", |n| n.len() == 5).await;
    assert_eq!(console_notes(&crm.notes()), 2, "a disabled integration gets no new events");

    // Nothing queued: deleted, gone from the pages and from the effective configuration.
    let deleted = browser.submit(setup, "/integrations/extra-notes/delete", &[]).await;
    assert_eq!((deleted.status, deleted.location()), (303, "/integrations?notice=extra-notes+deleted"), "{}", deleted.body);
    assert_eq!(browser.get(setup).await.status, 404);
    assert!(!browser.get("/integrations").await.body.contains("integration-extra-notes"));
    assert!(!host.cli(&["integrations", "list"]).contains(id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gorgias_integration_asks_its_subdomain_before_connecting() {
    let crm = crate::support::FakeCrm::start().await;
    let (_keys, extra) = super::console_with_a_key();
    let host = Host::start(&Host::config(&crm.url, &extra, 4), &["example", "gorgias"]).await;
    let browser = Browser::sign_in(&host, 0).await;
    let setup = "/integrations/shop/setup";
    let made =
        browser.submit("/integrations/new", "/integrations/new", &[("plugin", "gorgias"), ("id", "shop"), ("account", "main")]).await;
    assert_eq!(made.status, 303, "{}", made.body);
    let page = browser.get(setup).await.body;
    assert!(page.contains(r#"<input type="text" id="connection.subdomain" name="connection.subdomain" value="">"#), "{page}");
    // A subdomain that would steer the token request to another host is refused beside its field.
    let refused = browser
        .submit(setup, "/integrations/shop/connection", &[("base_url", "https://acme.gorgias.com"), ("connection.subdomain", "evil.com/x")])
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("subdomain: &#34;evil.com/x&#34; must be lower-case letters"), "{}", refused.body);
    let saved = browser
        .submit(setup, "/integrations/shop/connection", &[("base_url", "https://acme.gorgias.com"), ("connection.subdomain", "acme")])
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let page = browser.get(setup).await.body;
    assert!(page.contains(r#"name="connection.subdomain" value="acme""#) && page.contains(r#"value="https://acme.gorgias.com""#), "{page}");
    // Connecting needs the host's Gorgias app: said on the page, nothing started.
    let connect = browser.submit(setup, "/integrations/shop/connect", &[]).await;
    assert_eq!(connect.status, 303);
    let said = url::form_urlencoded::parse(connect.location().split('?').nth(1).unwrap_or("").as_bytes())
        .find(|(k, _)| k == "notice")
        .map(|(_, v)| v.to_string())
        .unwrap_or_default();
    assert!(said.contains("[oauth.gorgias]"), "{said}");
}

/// A console integration's secret, echoed by the CRM in an error, is hidden on
/// every page that shows the error, as the file's secrets are: the pages mask
/// with the effective configuration, not only the file's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_integrations_secret_echoed_in_an_error_is_masked_on_the_dead_letters_page() {
    use crate::support::{FakeCrm, call_event};
    let crm = FakeCrm::start().await;
    let (_keys, extra) = super::console_with_a_key();
    let host = Host::start(&Host::config(&crm.url, &extra, 4), &["example"]).await;
    let browser = Browser::sign_in(&host, 0).await;
    let setup = "/integrations/echoed/setup";
    let made =
        browser.submit("/integrations/new", "/integrations/new", &[("plugin", "example"), ("id", "echoed"), ("account", "main")]).await;
    assert_eq!(made.status, 303, "{}", made.body);
    assert_eq!(browser.submit(setup, "/integrations/echoed/connection", &[("base_url", &crm.url)]).await.status, 303);
    assert_eq!(browser.submit(setup, setup, &[("secret.api", "console-secret-echo-31")]).await.status, 303);
    assert_eq!(browser.submit(setup, "/integrations/echoed/enable", &[]).await.status, 303);
    // The file's integration takes the first answer, the console's the second.
    {
        let mut s = crm.state.lock().unwrap();
        s.failures_echo_the_credential = true;
        s.fail_next = vec![(400, None), (400, None)];
    }
    let (status, _) = host.post(&call_event("call.created", 880_101, 1_700_000_000)).await;
    assert_eq!(status, 200);
    let mut page = String::new();
    for _ in 0..100 {
        page = browser.get("/dead-letters").await.body;
        if page.matches("rejected credential").count() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(page.matches("rejected credential").count() >= 2, "both integrations' dead letters are listed: {page}");
    assert!(!page.contains("console-secret-echo-31"), "the console integration's secret is shown: {page}");
    assert!(!page.contains(crate::support::API_SECRET), "the file integration's secret is shown: {page}");
}

//! The console in a real headless Chromium (issue 15), against the real
//! binary and the sandbox emulators: what an admin clicks, and what the
//! emulators and the pages show afterwards. See `support::browser` for the
//! harness (skipped loudly without Chromium, except under CI) and the
//! screenshots (`SWITCHBOARD_SCREENSHOTS=1` writes `docs/console/*.png`).

use crate::support::browser::{Browser, Driver, Js};
use crate::support::{FakeCrm, Host, TOKEN, call_event};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use switchboard::simulate::{self, PlayOptions, Scenario, Speed, World};
use switchboard_sandbox::{Sandbox, SandboxOptions};

pub(crate) const PASSWORD: &str = "correct horse battery";
const WAIT: Duration = Duration::from_secs(30);

/// `switchboard console-password` with the password on stdin.
fn password_hash() -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("console-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The `[console]` table: its own port, the admin password.
pub(crate) fn console_table() -> String {
    format!("[console]\nlisten = \"127.0.0.1:0\"\nadmin_password_hash = \"{}\"\n", password_hash())
}

/// The console's address, from the host's log.
pub(crate) async fn console_url(host: &Host) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = host.log();
        if let Some(at) = log.find("switchboard console listening on http://") {
            let rest = &log[at + "switchboard console listening on ".len()..];
            let end = rest["http://".len()..].find('/').unwrap() + "http://".len();
            return rest[..end].to_string();
        }
        assert!(Instant::now() < deadline, "the console never listened; log:\n{log}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Signs in on the login form, as typed; returns the overview's text.
async fn sign_in(b: &Browser, console: &str) -> String {
    b.goto(&format!("{console}/login")).await;
    b.fill("input[name=password]", PASSWORD).await;
    b.click_button("Sign in").await;
    let text = b.shows("Queue depth").await;
    assert_eq!(b.url().await, format!("{console}/"), "signed in, on the overview");
    text
}

/// The text of the table row with id `row` on the page shown.
async fn row(b: &Browser, row: &str) -> String {
    b.text_of(&format!("tr[id='{row}']")).await
}

/// Scenarios 1, 5 and 7: sign-in (no data without a session, 403 for a POST
/// without the CSRF token), a permanent error's dead letter replayed from its
/// page until the call is logged, and the Activity page finding the call by a
/// number typed in national format. Screenshots of the main pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_replay_a_dead_letter_and_find_the_call_by_its_national_number() {
    let Some(driver) = Driver::start().await else { return };
    let crm = FakeCrm::start().await;
    let host = Host::start(&Host::config(&crm.url, &console_table(), 4), &["example"]).await;
    let console = console_url(&host).await;
    let b = Browser::open(&driver, Js::On).await;

    // 1. Without a session: the login page, no data.
    for path in ["/", "/dead-letters", "/activity?q=4242", "/accounts"] {
        b.goto(&format!("{console}{path}")).await;
        assert_eq!(b.url().await, format!("{console}/login"), "{path} sends to the login page");
        let text = b.text().await;
        assert!(text.contains("Admin password") && !text.contains("notes"), "{path} shows no data:\n{text}");
    }
    b.fill("input[name=password]", "not the password").await;
    b.click_button("Sign in").await;
    b.shows("Wrong password.").await;
    let overview = sign_in(&b, &console).await;
    assert!(overview.contains("notes") && overview.contains("running"), "{overview}");
    // A POST carrying the browser's session but not the CSRF token: 403, nothing paused.
    let session = b.cookie("sb_console").await.expect("the browser holds the session cookie");
    let forged = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{console}/integrations/notes/pause"))
        .header("cookie", format!("sb_console={session}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("reason=forged")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    b.goto(&format!("{console}/integrations")).await;
    let notes = row(&b, "integration-notes").await;
    assert!(notes.contains("running") && !notes.contains("forged"), "nothing was paused: {notes}");

    // 5. The CRM refuses the note (400): a permanent error, a dead letter.
    crm.state.lock().unwrap().fail_next = vec![(400, None)];
    let (status, _) = host.post(&call_event("call.created", 4242, 1_700_000_000)).await;
    assert_eq!(status, 200);
    let dead =
        b.wait_for_text(&format!("{console}/dead-letters"), WAIT, "the dead letter", || host.log(), |t| t.contains("call.created (")).await;
    assert!(dead.contains("notes") && dead.contains("permanent"), "the dead letter with its reason:\n{dead}");
    b.screenshot("dead-letters").await;
    b.goto(&format!("{console}/")).await;
    assert!(row(&b, "integration-notes").await.contains("notes"));
    b.screenshot("overview").await;
    // 7. Searched by the caller's number as typed on a French phone.
    b.goto(&format!("{console}/activity")).await;
    b.fill("input[name=q]", "07 62 04 35 75").await;
    b.click_button("Search").await;
    b.at("q=07+62+04+35+75").await;
    let found = b.shows("Searched for").await;
    assert!(found.contains("Call 4242") && found.contains("call.created"), "the call is found:\n{found}");
    assert!(found.contains("dead letter") && found.contains("injected"), "its job and the CRM's answer:\n{found}");
    b.screenshot("activity").await;
    let other = {
        b.fill("input[name=q]", "+1 415 555 0100").await;
        b.click_button("Search").await;
        b.at("q=%2B1+415").await;
        b.shows("Searched for").await
    };
    assert!(!other.contains("Call 4242"), "another number does not find it");

    // 5. Replay from the page: the CRM now accepts, the call is logged.
    b.goto(&format!("{console}/dead-letters")).await;
    b.click_button("Replay").await;
    b.shows("1 job(s) queued again").await;
    crm.wait_for(WAIT, "the replayed call's note", |n| n.len() == 1).await;
    b.wait_for_text(&format!("{console}/dead-letters"), WAIT, "no dead letter left", || host.log(), |t| t.contains("No dead letters."))
        .await;
    b.goto(&format!("{console}/activity?q=4242")).await;
    let activity = b.text().await;
    assert!(activity.contains("done") && !activity.contains("dead letter"), "the job is done:\n{activity}");

    b.goto(&format!("{console}/integrations")).await;
    b.screenshot("integrations").await;
    b.goto(&format!("{console}/plugins")).await;
    assert!(b.text().await.contains("example"));
    b.screenshot("plugins").await;
    b.close().await;
}

/// An answered call from `from` on Support FR (simulator scenario).
pub(crate) fn call(key: &str, from: &str) -> String {
    format!(
        "[[call]]\nkey = \"{key}\"\ndirection = \"inbound\"\nnumber = \"support-fr\"\nfrom = \"{from}\"\n\
         [[step]]\nat = 0\ncall = \"{key}\"\nevent = \"call.created\"\n\
         [[step]]\nat = 1\ncall = \"{key}\"\nevent = \"call.answered\"\nuser = \"ada\"\n\
         [[step]]\nat = 2\ncall = \"{key}\"\nevent = \"call.hungup\"\n\
         [[step]]\nat = 3\ncall = \"{key}\"\nevent = \"call.ended\"\n"
    )
}

/// A host whose Aircall account is installed by OAuth and whose Help Scout
/// integration takes its token from a connection; with a console.
/// `accounts` is more `[[accounts]]` tables.
pub(crate) async fn oauth_host(sandbox: &Sandbox, key_path: &str, accounts: &str) -> Host {
    let config = sandbox.fill_urls(&format!(
        r#"
[server]
listen = "127.0.0.1:{{PORT}}"
public_url = "http://127.0.0.1:{{PORT}}"
[store]
path = "switchboard.db"
[plugins]
dir = "plugins"
watch = false
[limits]
retry_base_ms = 100
retry_cap_seconds = 2
[network]
allow_private = true
allow_http = true
[connections]
key_file = "{key_path}"
refresh_backoff_seconds = 1
[reconcile]
enabled = false
{console}
[[accounts]]
id = "main"
oauth = true
api_base = "{{aircall}}"
{accounts}
[[integrations]]
id = "helpscout"
account = "main"
plugin = "helpscout"
base_url = "{{helpscout}}"
settings = {{ mailboxes = {{ "2001" = 30411 }} }}

[oauth.aircall]
client_id = "sandbox-aircall-client-id"
client_secret = "sandbox-aircall-client-secret"
authorize_url = "{{aircall}}/oauth/authorize"
token_url = "{{aircall}}/v1/oauth/token"

[oauth.helpscout]
client_id = "sandbox-helpscout-app"
client_secret = "sandbox-helpscout-secret"
authorize_url = "{{helpscout}}/authentication/authorizeClientApplication"
token_url = "{{helpscout}}/v2/oauth2/token"
"#,
        console = console_table()
    ));
    let host = Host::start(&config, &["helpscout"]).await;
    sandbox.helpscout().oauth().configure(|o| o.registered_redirect = Some(format!("{}/oauth/callback", host.url)));
    host
}

/// Scenarios 2, 4 and 6, with JavaScript disabled: the Aircall account
/// connected from the Accounts page through the sandbox's OAuth (one webhook
/// created), the Help Scout connection too; the token revoked at Help Scout →
/// "needs re-auth" with its reason and the held events; Reconnect from the
/// page → the held calls are logged and the page is green again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_revoke_and_reconnect_from_the_accounts_page_without_javascript() {
    let Some(driver) = Driver::start().await else { return };
    switchboard_sandbox::install_crypto_provider();
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let keys = tempfile::tempdir().unwrap();
    let key_path = keys.path().join("master.keys");
    switchboard::connections::seal::append_key(&key_path).unwrap();
    let host = oauth_host(&sandbox, &key_path.display().to_string(), "").await;
    let console = console_url(&host).await;
    let b = Browser::open(&driver, Js::Off).await;

    // 6. JavaScript is really off in this browser.
    b.goto("data:text/html,<title>t</title><p id=s>off</p><script>document.getElementById('s').textContent='on'</script>").await;
    assert_eq!(b.text_of("#s").await, "off", "scripts do not run");

    sign_in(&b, &console).await;
    // 2. Connect the Aircall account from its page.
    b.goto(&format!("{console}/accounts")).await;
    let account = b.text_of("#account-main").await;
    assert!(account.contains("not connected") && account.contains("Connect"), "{account}");
    b.click("#account-main button[name=connect]").await;
    b.shows("main is connected to aircall").await;
    let hook_url = format!("{}/webhooks/aircall", host.url);
    let hooks: Vec<_> = sandbox.aircall().state().webhooks.into_iter().collect();
    assert_eq!(hooks.len(), 1, "exactly one webhook at Aircall: {hooks:?}");
    assert_eq!(hooks[0].url, hook_url);
    let token = hooks[0].token.clone();
    b.goto(&format!("{console}/accounts")).await;
    let account = b.text_of("#account-main").await;
    assert!(account.contains("connected") && !account.contains("not connected"), "{account}");
    assert!(account.contains("Rotate the webhook token"), "{account}");

    // The Help Scout connection, with five-second tokens (refreshed from
    // 2.5 s before they expire: a slow request still carries a live token).
    sandbox.helpscout().oauth().configure(|o| o.expires_in = Some(5));
    let crm = b.text_of("tr[id='connection-integration:helpscout']").await;
    assert!(crm.contains("not connected"), "{crm}");
    b.click("tr[id='connection-integration:helpscout'] button[name=connect]").await;
    b.shows("helpscout is connected to helpscout").await;

    let world = World::bundled().unwrap();
    let play = |toml: String| {
        let world = &world;
        let options = PlayOptions::new(&host.url, &token).speed(Speed::Max).aircall(sandbox.aircall_url());
        async move {
            let scenario = Scenario::parse("inline", &toml, world).unwrap();
            let report = simulate::play(&scenario, world, &options).await.unwrap();
            assert!(report.rejected.is_empty(), "webhooks refused: {:?}", report.rejected);
        }
    };
    play(call("first", "+33 6 12 34 56 78")).await;
    let logged = |n: usize| {
        let deadline = Instant::now() + WAIT;
        let sandbox = &sandbox;
        let host = &host;
        async move {
            while sandbox.helpscout().state().conversations.len() < n {
                assert!(Instant::now() < deadline, "{n} conversation(s) never logged; log:\n{}", host.log());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    logged(1).await;

    // The first call's later events are done before the revocation.
    let deadline = Instant::now() + WAIT;
    while host.healthz().await["queue_depth"].as_u64() != Some(0) {
        assert!(Instant::now() < deadline, "the first call's jobs never finished; log:\n{}", host.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // 4. An admin revokes the app at Help Scout: the next refresh is refused.
    sandbox.helpscout().oauth().revoke_all();
    // The token the host holds expires: its next use asks for a refresh.
    tokio::time::sleep(Duration::from_millis(5500)).await;
    play(call("held-1", "+33 6 77 00 00 01")).await;
    play(call("held-2", "+33 6 77 00 00 02")).await;
    b.wait_for_text(
        &format!("{console}/"),
        WAIT,
        "needs re-auth and the held events",
        || host.log(),
        |t| t.contains("needs re-auth") && t.contains("oldest waiting"),
    )
    .await;
    let line = row(&b, "integration-helpscout").await;
    assert!(line.contains("needs re-auth") && line.contains("invalid_grant"), "the vendor's reason: {line}");
    assert!(line.contains("since ") && line.contains("Fix: Reconnect on the Accounts page"), "since when and the fix: {line}");
    assert!(line.contains("oldest waiting"), "the held events: {line}");
    b.screenshot("overview-needs-reauth").await;
    assert_eq!(sandbox.helpscout().state().conversations.len(), 1, "nothing is written while it needs re-auth");

    // Reconnect from the Accounts page: the held calls drain, the page turns green.
    sandbox.helpscout().oauth().configure(|o| o.expires_in = Some(3600));
    b.goto(&format!("{console}/accounts")).await;
    let crm = b.text_of("tr[id='connection-integration:helpscout']").await;
    assert!(crm.contains("needs re-auth") && crm.contains("Reconnect"), "{crm}");
    b.click("tr[id='connection-integration:helpscout'] button[name=connect]").await;
    b.shows("helpscout is connected to helpscout").await;
    logged(3).await;
    b.wait_for_text(
        &format!("{console}/"),
        WAIT,
        "green",
        || host.log(),
        |t| t.contains("running") && !t.contains("oldest waiting") && !t.contains("needs re-auth"),
    )
    .await;
    let line = row(&b, "integration-helpscout").await;
    assert!(line.contains("running") && !line.contains("Fix:"), "{line}");
    b.goto(&format!("{console}/accounts")).await;
    let crm = b.text_of("tr[id='connection-integration:helpscout']").await;
    assert!(crm.contains("connected") && !crm.contains("needs re-auth"), "{crm}");
    b.screenshot("accounts").await;
    b.close().await;
    drop(keys);
}

/// Scenario 3: a Help Scout integration made in the console — created from
/// the bundled plugin, pointed at the sandbox, connected through its OAuth,
/// two numbers picked with a mailbox each, toggles set, saved and enabled —
/// logs the bundled `inbound-answered` call in the mailbox picked for its
/// number, and the Activity page shows the call and the integration's jobs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_help_scout_integration_set_up_with_the_number_picker_logs_a_call() {
    const SUPPORT: u64 = 30411;
    const SALES: u64 = 30412;
    let Some(driver) = Driver::start().await else { return };
    switchboard_sandbox::install_crypto_provider();
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let keys = tempfile::tempdir().unwrap();
    let key_path = keys.path().join("master.keys");
    switchboard::connections::seal::append_key(&key_path).unwrap();
    let a = sandbox.aircall().credentials().clone();
    let config = sandbox.fill_urls(&format!(
        r#"
[server]
listen = "127.0.0.1:{{PORT}}"
public_url = "http://127.0.0.1:{{PORT}}"
[store]
path = "switchboard.db"
[plugins]
dir = "plugins"
watch = false
[network]
allow_private = true
allow_http = true
[connections]
key_file = "{key}"
[reconcile]
enabled = false
{console}
[[accounts]]
id = "main"
webhook_token = "{TOKEN}"
api_id = "{api_id}"
api_token = "{api_token}"
api_base = "{{aircall}}"

[oauth.helpscout]
client_id = "sandbox-helpscout-app"
client_secret = "sandbox-helpscout-secret"
authorize_url = "{{helpscout}}/authentication/authorizeClientApplication"
token_url = "{{helpscout}}/v2/oauth2/token"
"#,
        key = key_path.display(),
        console = console_table(),
        api_id = a.api_id,
        api_token = a.api_token,
    ));
    let host = Host::start(&config, &["helpscout"]).await;
    sandbox.helpscout().oauth().configure(|o| o.registered_redirect = Some(format!("{}/oauth/callback", host.url)));
    let console = console_url(&host).await;
    let b = Browser::open(&driver, Js::On).await;
    sign_in(&b, &console).await;

    // Create it from the bundled plugin.
    b.goto(&format!("{console}/integrations/new")).await;
    b.select("#plugin", "helpscout").await;
    b.fill("#id", "support").await;
    b.select("#account", "main").await;
    b.click("#create").await;
    b.shows("Made: set it up, then Enable").await;
    assert!(b.url().await.starts_with(&format!("{console}/integrations/support/setup")));
    // Its API root is the sandbox's; then connect Help Scout.
    b.fill("#base_url", sandbox.helpscout_url()).await;
    b.click("#save-connection").await;
    b.at("notice=").await;
    b.click("#connect").await;
    b.shows("support is connected to helpscout").await;
    b.goto(&format!("{console}/integrations/support/setup")).await;
    assert_eq!(b.text_of("#connection-state").await, "connected");
    // The picker: both numbers, a mailbox each (Help Scout's, listed by name).
    for (number, mailbox) in [("2001", SUPPORT), ("2002", SALES)] {
        b.check(&format!("[id='number-{number}']"), true).await;
        b.select(&format!("select[name='per_number.{number}']"), &mailbox.to_string()).await;
    }
    b.fill("#default_region", "FR").await;
    b.check("[id='setting.search_existing_conversations']", true).await;
    b.check("[id='setting.ai_insights']", false).await;
    b.screenshot("integration-setup").await;
    b.click("#save").await;
    b.shows("Saved: in effect now").await;
    b.click("#enable").await;
    b.wait_for_text(
        &format!("{console}/integrations/support/setup"),
        WAIT,
        "enabled",
        || host.log(),
        |t| t.contains("enabled: receiving events"),
    )
    .await;

    // Chloé calls Support FR: logged in the Support mailbox.
    let world = World::bundled().unwrap();
    let scenario = simulate::bundled("inbound-answered", &world).unwrap();
    let options = PlayOptions::new(&host.url, TOKEN).speed(Speed::Max).aircall(sandbox.aircall_url());
    let report = simulate::play(&scenario, &world, &options).await.unwrap();
    assert!(report.rejected.is_empty(), "webhooks refused: {:?}", report.rejected);
    let deadline = Instant::now() + WAIT;
    while sandbox.helpscout().state().conversations.is_empty() {
        assert!(Instant::now() < deadline, "no conversation in Help Scout; log:\n{}", host.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mailboxes: Vec<u64> = sandbox.helpscout().state().conversations.iter().map(|c| c.mailbox_id).collect();
    assert_eq!(mailboxes, [SUPPORT], "the mailbox picked for Support FR");
    let activity = b
        .wait_for_text(
            &format!("{console}/activity"),
            WAIT,
            "the call and its jobs",
            || host.log(),
            |t| t.contains("call.ended") && t.contains("support") && t.contains("done"),
        )
        .await;
    assert!(activity.contains("call.created") && activity.contains("call.answered"), "{activity}");
    b.close().await;
    drop(keys);
}

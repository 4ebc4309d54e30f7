//! Connections end to end: the real host and CLI against the emulators' OAuth
//! servers. An admin's browser is played by following the printed link's
//! redirects by hand (cookie included); tokens, refreshes and 401s are read
//! from the emulators' logs, what was logged from their state.

use crate::support::rig::Rig;
use crate::support::{Host, TOKEN, key_file};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use switchboard_sandbox::SandboxOptions;

/// Help Scout's demo mailboxes (Support, Sales).
const SUPPORT: u64 = 30411;
const SALES: u64 = 30412;

/// A Help Scout integration with no static token: its token comes from the connection.
async fn helpscout_rig() -> (Rig, tempfile::TempDir) {
    helpscout_rig_with("").await
}

/// [`helpscout_rig`] with more settings (`, name = value`).
async fn helpscout_rig_with(settings: &str) -> (Rig, tempfile::TempDir) {
    let (keys, key_path) = key_file();
    let integration = format!(
        "base_url = \"{{helpscout}}\"\nsettings = {{ mailboxes = {{ \"2001\" = {SUPPORT}, \"+1 415-555-0100\" = {SALES} }}{settings} }}\n"
    );
    let extra = format!(
        r#"
[connections]
key_file = "{key_path}"
refresh_backoff_seconds = 1

[oauth.helpscout]
client_id = "sandbox-helpscout-app"
client_secret = "sandbox-helpscout-secret"
authorize_url = "{{helpscout}}/authentication/authorizeClientApplication"
token_url = "{{helpscout}}/v2/oauth2/token"
"#
    );
    let rig = Rig::start_full(SandboxOptions::default(), "helpscout", &integration, &extra).await;
    let callback = format!("{}/oauth/callback", rig.host.url);
    rig.sandbox.helpscout().oauth().configure(|o| o.registered_redirect = Some(callback));
    (rig, keys)
}

/// What a browser does with a link: follow redirects, keep the cookie.
/// Returns the final status and page.
pub(crate) async fn follow(link: &str) -> (u16, String) {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut url = link.to_string();
    let mut cookie: Option<String> = None;
    for _ in 0..10 {
        let mut req = client.get(&url);
        if let Some(c) = &cookie {
            req = req.header("cookie", c);
        }
        let resp = req.send().await.unwrap();
        if let Some(set) = resp.headers().get("set-cookie") {
            cookie = Some(set.to_str().unwrap().split(';').next().unwrap().to_string());
        }
        if resp.status().is_redirection() {
            url = resp.headers()["location"].to_str().unwrap().to_string();
            continue;
        }
        let status = resp.status().as_u16();
        return (status, resp.text().await.unwrap());
    }
    panic!("too many redirects from {link}");
}

/// `switchboard connect ID`, followed like a browser; returns the CLI's output.
async fn connect(host: &Host, id: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["connect", id, "--wait-seconds", "60", "--config"])
        .arg(&host.config_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    let link = loop {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap() == 0 {
            let err = std::io::read_to_string(child.stderr.take().unwrap()).unwrap();
            panic!("connect printed no link: {printed}\n{err}");
        }
        printed += &line;
        if line.starts_with("http") {
            break line.trim().to_string();
        }
    };
    let (status, page) = follow(&link).await;
    assert_eq!(status, 200, "{page}\nhost log:\n{}", host.log());
    printed += &std::io::read_to_string(out).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{printed}{}", String::from_utf8_lossy(&output.stderr));
    printed
}

/// `switchboard connections list`.
fn list(host: &Host) -> String {
    let out =
        Command::new(env!("CARGO_BIN_EXE_switchboard")).args(["connections", "list", "--config"]).arg(&host.config_path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// An answered call from `from` on Support FR.
fn call(key: &str, from: &str) -> String {
    format!(
        "[[call]]\nkey = \"{key}\"\ndirection = \"inbound\"\nnumber = \"support-fr\"\nfrom = \"{from}\"\n\
         [[step]]\nat = 0\ncall = \"{key}\"\nevent = \"call.created\"\n\
         [[step]]\nat = 1\ncall = \"{key}\"\nevent = \"call.answered\"\nuser = \"ada\"\n\
         [[step]]\nat = 2\ncall = \"{key}\"\nevent = \"call.hungup\"\n\
         [[step]]\nat = 3\ncall = \"{key}\"\nevent = \"call.ended\"\n"
    )
}

/// Help Scout API requests the emulator answered 401.
fn unauthorized(rig: &Rig) -> usize {
    rig.sandbox
        .helpscout()
        .requests()
        .iter()
        .filter(|r| r.status == 401 && r.path.starts_with("/v2/") && !r.path.contains("oauth2"))
        .count()
}

fn refreshes(rig: &Rig) -> Vec<switchboard_sandbox::TokenRequest> {
    rig.sandbox.helpscout().oauth().token_requests().into_iter().filter(|r| r.grant_type == "refresh_token").collect()
}

async fn wait_until(what: &str, host: &Host, mut probe: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !probe() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}; host log:\n{}", host.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crm_connected_from_the_cli_is_used_and_its_token_never_lands_in_the_store_in_clear() {
    let (rig, _keys) = helpscout_rig().await;
    // Before connecting, the integration holds its events and says why.
    assert!(list(&rig.host).contains("integration:helpscout\thelpscout\tnot_connected"), "{}", list(&rig.host));
    let printed = connect(&rig.host, "helpscout").await;
    assert!(printed.contains("integration:helpscout: connected"), "{printed}");
    assert!(list(&rig.host).contains("\tconnected\t"), "{}", list(&rig.host));

    rig.play(&call("a", "+33 6 12 34 56 78")).await;
    rig.settle().await;
    assert_eq!(rig.sandbox.helpscout().state().conversations.len(), 1, "the call is logged with the connected token");
    let issued: Vec<String> = rig.sandbox.helpscout().oauth().tokens().into_iter().map(|t| t.token).collect();
    assert!(!issued.is_empty());
    let used = rig.sandbox.helpscout().requests().iter().filter(|r| r.path.starts_with("/v2/conversations")).count();
    assert!(used > 0);
    assert_eq!(unauthorized(&rig), 0);

    // No token and no client secret in clear anywhere in the store's files.
    for entry in std::fs::read_dir(rig.host.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if !path.file_name().unwrap().to_string_lossy().starts_with("switchboard.db") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        for secret in issued.iter().map(String::as_str).chain(["sandbox-helpscout-secret"]) {
            assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "{} holds a secret in clear", path.display());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_second_tokens_are_refreshed_ahead_and_a_stream_of_calls_sees_no_401() {
    let (rig, _keys) = helpscout_rig().await;
    rig.sandbox.helpscout().oauth().configure(|o| o.expires_in = Some(2));
    connect(&rig.host, "helpscout").await;
    // A call every 2 seconds for a minute: ~15 token lifetimes.
    let started = Instant::now();
    let mut n = 0;
    while started.elapsed() < Duration::from_secs(60) {
        rig.play(&call(&format!("c{n}"), &format!("+33 6 12 34 {:02} {:02}", n / 100, n % 100))).await;
        n += 1;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    rig.settle().await;
    assert_eq!(rig.sandbox.helpscout().state().conversations.len(), n, "every call is logged");
    assert_eq!(unauthorized(&rig), 0, "no request went out with an expired token");
    assert!(!rig.host.log().contains("integration paused"), "{}", rig.host.log());
    let refreshes = refreshes(&rig);
    assert!(refreshes.len() >= 10, "tokens were refreshed as they aged: {}", refreshes.len());
    assert!(refreshes.iter().all(|r| r.ok), "{refreshes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_jobs_on_an_expired_token_cause_one_token_request() {
    let (rig, _keys) = helpscout_rig_with(", insight_cards = false").await;
    rig.sandbox.helpscout().oauth().configure(|o| o.expires_in = Some(1));
    connect(&rig.host, "helpscout").await;
    // The next token lasts; the first one expires before the burst.
    rig.sandbox.helpscout().oauth().configure(|o| o.expires_in = Some(3600));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = refreshes(&rig).len();
    let api =
        |rig: &Rig| rig.sandbox.helpscout().requests().iter().filter(|r| r.path.starts_with("/v2/") && !r.path.contains("oauth2")).count();
    let api_before = api(&rig);
    // 50 callers at once: 50 lanes, 50 jobs wanting a token together.
    let burst: String = (0..50)
        .map(|i| {
            let key = format!("b{i}");
            format!(
                "[[call]]\nkey = \"{key}\"\ndirection = \"inbound\"\nnumber = \"support-fr\"\nfrom = \"+33 6 55 00 {:02} {:02}\"\n\
                 [[step]]\nat = 0\ncall = \"{key}\"\nevent = \"call.created\"\n",
                i / 100,
                i % 100
            )
        })
        .collect();
    rig.play(&burst).await;
    // Every job has reached Help Scout (the budget paces the rest of their work).
    wait_until("50 jobs at Help Scout", &rig.host, || api(&rig) >= api_before + 50).await;
    assert_eq!(refreshes(&rig).len() - before, 1, "one refresh for everyone");
    assert_eq!(unauthorized(&rig), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_refresh_holds_events_until_reconnected_and_then_they_all_land() {
    let (rig, _keys) = helpscout_rig().await;
    rig.sandbox.helpscout().oauth().configure(|o| o.expires_in = Some(2));
    connect(&rig.host, "helpscout").await;
    rig.sandbox.helpscout().oauth().configure(|o| o.refuse_refresh = Some("invalid_grant".into()));
    tokio::time::sleep(Duration::from_millis(2200)).await;
    for i in 0..5 {
        rig.play(&call(&format!("h{i}"), &format!("+33 6 77 00 00 {i:02}"))).await;
    }
    wait_until("needs_reauth", &rig.host, || list(&rig.host).contains("needs_reauth")).await;
    let listed = list(&rig.host);
    assert!(listed.contains("invalid_grant"), "the vendor's reason is shown: {listed}");
    assert!(listed.contains("fix: connect it again: switchboard connect helpscout"), "{listed}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rig.sandbox.helpscout().state().conversations.len(), 0, "nothing is written with a refused connection");
    assert_eq!(unauthorized(&rig), 0, "the host never sent an expired token");

    // Reconnect: the held events drain, none lost.
    rig.sandbox.helpscout().oauth().configure(|o| {
        o.refuse_refresh = None;
        o.expires_in = Some(3600);
    });
    connect(&rig.host, "helpscout").await;
    rig.settle().await;
    wait_until("the held calls", &rig.host, || rig.sandbox.helpscout().state().conversations.len() == 5).await;
    assert!(list(&rig.host).contains("\tconnected\t"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_or_replayed_state_is_refused_and_nothing_is_stored() {
    let (rig, _keys) = helpscout_rig().await;
    let forged = format!("{}/oauth/callback?code=anything&state=forged", rig.host.url);
    let (status, page) = follow(&forged).await;
    assert_eq!(status, 400);
    assert!(page.contains("unknown, used or expired state"), "{page}");

    // A real flow, then its callback replayed: refused.
    let link = start_link(&rig.host).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let start = client.get(&link).send().await.unwrap();
    let cookie = start.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let authorize = start.headers()["location"].to_str().unwrap().to_string();
    let consented = client.get(&authorize).send().await.unwrap();
    let callback = consented.headers()["location"].to_str().unwrap().to_string();
    // Carried to another browser (no cookie): refused, and the state is spent.
    let stolen = client.get(&callback).send().await.unwrap();
    assert_eq!(stolen.status(), 400);
    assert!(stolen.text().await.unwrap().contains("another browser session"));
    let replay = client.get(&callback).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(replay.status(), 400, "a state is accepted once");
    assert!(list(&rig.host).contains("not_connected"), "{}", list(&rig.host));
    // The start link itself is single use.
    let again = client.get(&link).send().await.unwrap();
    assert_eq!(again.status(), 400);
}

/// Prints a start link without waiting (the CLI is killed once it printed).
async fn start_link(host: &Host) -> String {
    start_link_for(host, "helpscout").await
}

async fn start_link_for(host: &Host, id: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["connect", id, "--wait-seconds", "1", "--config"])
        .arg(&host.config_path)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let link = loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "no link printed");
        if line.starts_with("http") {
            break line.trim().to_string();
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    link
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_the_master_key_with_the_host_running_loses_nothing() {
    let (rig, _keys) = helpscout_rig().await;
    rig.sandbox.helpscout().oauth().configure(|o| o.expires_in = Some(2));
    connect(&rig.host, "helpscout").await;
    rig.play(&call("before", "+33 6 12 00 00 01")).await;
    let out =
        Command::new(env!("CARGO_BIN_EXE_switchboard")).args(["keys", "rotate", "--config"]).arg(&rig.host.config_path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("key k2 is current; 1 connection(s) re-sealed"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The running host opens the re-sealed token (new key id: it re-reads the
    // key file) and keeps refreshing under the new key.
    tokio::time::sleep(Duration::from_secs(3)).await;
    rig.play(&call("after", "+33 6 12 00 00 02")).await;
    rig.settle().await;
    wait_until("both calls", &rig.host, || rig.sandbox.helpscout().state().conversations.len() == 2).await;
    assert_eq!(unauthorized(&rig), 0);
    assert!(!refreshes(&rig).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_with_connections_and_no_master_key_says_so_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    crate::support::copy_plugin_from(&crate::support::dist_plugin("helpscout"), &plugins);
    let config = dir.path().join("switchboard.toml");
    std::fs::write(
        &config,
        format!(
            "[[accounts]]\nid = \"main\"\nwebhook_token = \"{TOKEN}\"\n\n[[integrations]]\nid = \"hs\"\naccount = \"main\"\nplugin = \"helpscout\"\n\
             settings = {{ mailboxes = {{ \"2001\" = 1 }} }}\n"
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["serve", "--config"])
        .arg(&config)
        .env_remove("SWITCHBOARD_MASTER_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no master key") && err.contains("integration:hs"), "{err}");
}

/// A host with an OAuth Aircall account and the four CRM plugins, none with a static token.
async fn every_vendor_host(sandbox: &switchboard_sandbox::Sandbox, key_path: &str) -> Host {
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
[reconcile]
enabled = false

[[accounts]]
id = "main"
oauth = true
api_base = "{{aircall}}"

[[integrations]]
id = "hs"
account = "main"
plugin = "helpscout"
base_url = "{{helpscout}}"
settings = {{ mailboxes = {{ "2001" = {SUPPORT} }} }}

[[integrations]]
id = "shop"
account = "main"
plugin = "gorgias"
base_url = "{{gorgias}}"
connection = {{ subdomain = "acme" }}

[[integrations]]
id = "crm"
account = "main"
plugin = "hubspot"
base_url = "{{hubspot}}"
settings = {{ client_secret = "sandbox-hubspot-client-secret", sms_numbers = [2001] }}

[[integrations]]
id = "chat"
account = "main"
plugin = "intercom"
base_url = "{{intercom}}"
settings = {{ app_url = "https://app.intercom.test" }}

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

[oauth.gorgias]
client_id = "sandbox-gorgias-client-id"
client_secret = "sandbox-gorgias-client-secret"
authorize_url = "{{gorgias}}/oauth/authorize"
token_url = "{{gorgias}}/oauth/token"

[oauth.hubspot]
client_id = "sandbox-hubspot-client-id"
client_secret = "sandbox-hubspot-client-secret"
authorize_url = "{{hubspot}}/oauth/authorize"
token_url = "{{hubspot}}/oauth/2026-03/token"

[oauth.intercom]
client_id = "sandbox-intercom-client-id"
client_secret = "sandbox-intercom-client-secret"
authorize_url = "{{intercom}}/oauth"
token_url = "{{intercom}}/auth/eagle/token"
"#
    ));
    let host = Host::start(&config, &["helpscout", "gorgias", "hubspot", "intercom"]).await;
    sandbox.helpscout().oauth().configure(|o| o.registered_redirect = Some(format!("{}/oauth/callback", host.url)));
    host
}

fn our_webhooks(sandbox: &switchboard_sandbox::Sandbox, host: &Host) -> Vec<switchboard_sandbox::aircall::webhooks::Webhook> {
    let url = format!("{}/webhooks/aircall", host.url);
    sandbox.aircall().state().webhooks.into_iter().filter(|w| w.url == url).collect()
}

fn integrations_list(host: &Host) -> String {
    let out =
        Command::new(env!("CARGO_BIN_EXE_switchboard")).args(["integrations", "list", "--config"]).arg(&host.config_path).output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_vendor_connects_from_the_cli_and_the_aircall_install_keeps_one_webhook_until_uninstalled() {
    switchboard_sandbox::install_crypto_provider();
    let sandbox = switchboard_sandbox::Sandbox::start(SandboxOptions::default()).await.unwrap();
    let (_keys, key_path) = key_file();
    let host = every_vendor_host(&sandbox, &key_path).await;

    // Aircall: install, then install again: one webhook, pointing here.
    assert!(connect(&host, "main").await.contains("account:main: connected"));
    assert_eq!(our_webhooks(&sandbox, &host).len(), 1);
    assert!(connect(&host, "main").await.contains("connected"));
    let hooks = our_webhooks(&sandbox, &host);
    assert_eq!(hooks.len(), 1, "a re-install must not add a webhook");
    assert!(sandbox.aircall().state().webhooks.len() == 1, "and none pointing elsewhere");

    // The four CRMs.
    for id in ["hs", "shop", "crm", "chat"] {
        assert!(connect(&host, id).await.contains(&format!("integration:{id}: connected")), "{id}");
    }
    let listed = list(&host);
    assert_eq!(listed.matches("\tconnected\t").count(), 5, "{listed}");
    for vendor in ["aircall", "helpscout", "gorgias", "hubspot", "intercom"] {
        assert!(listed.contains(&format!("\t{vendor}\tconnected")), "{vendor}: {listed}");
    }

    // The webhook the install created authenticates the account's events.
    let event = json!({ "resource": "company", "event": "company.updated", "timestamp": 1_700_000_000, "token": hooks[0].token, "data": { "id": 1 } });
    let client = reqwest::Client::new();
    let accepted = client.post(format!("{}/webhooks/aircall", host.url)).json(&event).send().await.unwrap();
    assert_eq!(accepted.status(), 200, "{}", accepted.text().await.unwrap());
    let mut forged = event.clone();
    forged["token"] = json!("not-the-webhook-token");
    assert_eq!(client.post(format!("{}/webhooks/aircall", host.url)).json(&forged).send().await.unwrap().status(), 401);

    // The admin uninstalls the app: Aircall says so, the account is revoked and
    // every integration of the account holds its events.
    let uninstall = sandbox.aircall().uninstall().await;
    assert!(uninstall.deliveries.iter().all(|d| d.status == Some(200)), "{:?}", uninstall.deliveries);
    wait_until("the account revoked", &host, || list(&host).contains("account:main\taircall\trevoked")).await;
    let held = integrations_list(&host);
    assert_eq!(held.matches("paused: connection account:main revoked").count(), 4, "{held}");
    // Installing again resumes them.
    assert!(connect(&host, "main").await.contains("connected"));
    assert_eq!(our_webhooks(&sandbox, &host).len(), 1);
    wait_until("resumed", &host, || !integrations_list(&host).contains("paused")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_help_scout_internal_app_connects_without_a_browser() {
    let (keys, key_path) = key_file();
    let integration = format!(
        "base_url = \"{{helpscout}}\"\nsettings = {{ mailboxes = {{ \"2001\" = {SUPPORT} }} }}\nconnection = {{ provider = \"helpscout-internal\" }}\n"
    );
    let extra = format!(
        "[connections]\nkey_file = \"{key_path}\"\n\n[oauth.helpscout]\nclient_id = \"sandbox-helpscout-app\"\n\
         client_secret = \"sandbox-helpscout-secret\"\ntoken_url = \"{{helpscout}}/v2/oauth2/token\"\n"
    );
    let rig = Rig::start_full(SandboxOptions::default(), "helpscout", &integration, &extra).await;
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["connect", "helpscout", "--config"])
        .arg(&rig.host.config_path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("integration:helpscout: connected"));
    let grants: Vec<String> = rig.sandbox.helpscout().oauth().token_requests().into_iter().map(|r| r.grant_type).collect();
    assert_eq!(grants, ["client_credentials"]);
    rig.play(&call("cc", "+33 6 12 34 56 78")).await;
    rig.settle().await;
    assert_eq!(rig.sandbox.helpscout().state().conversations.len(), 1);
    drop(keys);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_install_from_another_aircall_company_is_refused_and_stores_nothing() {
    switchboard_sandbox::install_crypto_provider();
    let sandbox = switchboard_sandbox::Sandbox::start(SandboxOptions::default()).await.unwrap();
    let (_keys, key_path) = key_file();
    let mut host = every_vendor_host(&sandbox, &key_path).await;
    // This account accepts company 999 only; the emulator's company is another.
    let config = std::fs::read_to_string(&host.config_path).unwrap().replace("oauth = true\n", "oauth = true\ncompany_id = 999\n");
    std::fs::write(&host.config_path, config).unwrap();
    host.kill();
    host.spawn().await;
    let (status, page) = follow(&start_link_for(&host, "main").await).await;
    assert_eq!(status, 400);
    assert!(page.contains("accepts installs from Aircall company 999 only"), "{page}");
    assert!(list(&host).contains("account:main\taircall\tnot_connected"), "{}", list(&host));
    assert!(our_webhooks(&sandbox, &host).is_empty(), "no webhook for a refused install");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_of_an_installed_account_is_created_again_when_it_is_gone() {
    switchboard_sandbox::install_crypto_provider();
    let sandbox = switchboard_sandbox::Sandbox::start(SandboxOptions::default()).await.unwrap();
    let (_keys, key_path) = key_file();
    let host = every_vendor_host(&sandbox, &key_path).await;
    assert!(connect(&host, "main").await.contains("account:main: connected"));
    let first = our_webhooks(&sandbox, &host);
    assert_eq!(first.len(), 1);
    assert!(host.cli(&["accounts", "check"]).contains(&format!("main: ok webhook {}", first[0].webhook_id)));

    // An admin deletes it in Aircall's Dashboard.
    sandbox.aircall().update(|s| s.webhooks.clear());
    let out = host.cli(&["accounts", "check"]);
    assert!(out.contains("main: missing"), "{out}");
    let out = host.cli(&["accounts", "check", "--repair"]);
    assert!(out.contains("main: recreated"), "{out}");
    let now = our_webhooks(&sandbox, &host);
    assert_eq!(now.len(), 1, "one new webhook pointing here");
    assert_ne!(now[0].token, first[0].token);
    // The new token authenticates the account's events, the old one no longer does.
    let event = |token: &str| json!({ "resource": "company", "event": "company.updated", "timestamp": 1_700_000_000, "token": token, "data": { "id": 1 } });
    let client = reqwest::Client::new();
    let mut status = 0;
    for _ in 0..30 {
        status = client.post(format!("{}/webhooks/aircall", host.url)).json(&event(&now[0].token)).send().await.unwrap().status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(status, 200, "the new webhook's token is accepted");
    let old = client.post(format!("{}/webhooks/aircall", host.url)).json(&event(&first[0].token)).send().await.unwrap();
    assert_eq!(old.status(), 401);
    assert!(host.cli(&["accounts", "check"]).contains("main: ok"));
}

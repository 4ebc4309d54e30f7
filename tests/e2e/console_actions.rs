//! The console's actions for connections, webhook tokens, blocked lanes and
//! the "failing" / "rate-limited" states, over plain HTTP as a browser
//! without JavaScript uses them (the browser tests click the same forms):
//! every form refused without its CSRF token, each input checked.

use crate::browser::{PASSWORD, console_table, console_url, oauth_host};
use crate::support::{Backend, FakeCrm, Host, call_event};
use serde_json::json;
use std::time::{Duration, Instant};
use switchboard_sandbox::{Sandbox, SandboxOptions};

/// A signed-in admin's HTTP client (no redirects followed).
struct Admin {
    url: String,
    session: String,
    http: reqwest::Client,
}

struct Answer {
    status: u16,
    location: String,
    body: String,
}

async fn answer(r: reqwest::Response) -> Answer {
    let status = r.status().as_u16();
    let location = r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    Answer { status, location, body: r.text().await.unwrap() }
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// `name="csrf" value="…"` of a page.
fn csrf_of(body: &str) -> String {
    let at = body.find(r#"name="csrf" value=""#).unwrap_or_else(|| panic!("no CSRF field in:\n{body}"));
    let rest = &body[at + r#"name="csrf" value=""#.len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

fn cookie_of(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v[name.len() + 1..].split(';').next().unwrap_or("").to_string())
}

impl Admin {
    async fn sign_in(host: &Host) -> Admin {
        let url = console_url(host).await;
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let login = http.get(format!("{url}/login")).send().await.unwrap();
        let login_cookie = cookie_of(&login, "sb_console_login").unwrap();
        let csrf = csrf_of(&login.text().await.unwrap());
        let signed = http
            .post(format!("{url}/login"))
            .header("cookie", format!("sb_console_login={login_cookie}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("csrf", csrf.as_str()), ("password", PASSWORD)]))
            .send()
            .await
            .unwrap();
        let session = cookie_of(&signed, "sb_console").expect("signed in");
        Admin { url, session, http }
    }

    async fn get(&self, path: &str) -> Answer {
        answer(self.http.get(format!("{}{path}", self.url)).header("cookie", format!("sb_console={}", self.session)).send().await.unwrap())
            .await
    }

    /// POSTs `pairs` to `action`, with the CSRF token of `page` when `with_csrf`.
    async fn post(&self, page: &str, action: &str, pairs: &[(&str, &str)], with_csrf: bool) -> Answer {
        let csrf = csrf_of(&self.get(page).await.body);
        let mut pairs: Vec<(&str, &str)> = pairs.to_vec();
        if with_csrf {
            pairs.push(("csrf", &csrf));
        }
        answer(
            self.http
                .post(format!("{}{action}", self.url))
                .header("cookie", format!("sb_console={}", self.session))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form(&pairs))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Follows a redirect to the console's own page and returns its body.
    async fn follow(&self, a: &Answer) -> String {
        assert_eq!(a.status, 303, "a redirect: {}", a.body);
        assert!(a.location.starts_with('/'), "back to a console page: {}", a.location);
        self.get(&a.location).await.body
    }
}

/// The text of the element with `id="{id}"` up to its closing `</{tag}>`.
fn element<'a>(body: &'a str, id: &str, tag: &str) -> &'a str {
    let at = body.find(&format!(r#"id="{id}""#)).unwrap_or_else(|| panic!("no #{id} in:\n{body}"));
    let end = body[at..].find(&format!("</{tag}>")).unwrap() + at;
    &body[at..end]
}

/// An event of the account, signed with a webhook token.
async fn webhook_status(host: &Host, token: &str) -> u16 {
    let event =
        json!({ "resource": "company", "event": "company.updated", "timestamp": 1_700_000_000, "token": token, "data": { "id": 1 } });
    reqwest::Client::new().post(format!("{}/webhooks/aircall", host.url)).json(&event).send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_buttons_start_the_oauth_flow_and_rotate_gives_the_account_a_new_webhook_token() {
    switchboard_sandbox::install_crypto_provider();
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let keys = tempfile::tempdir().unwrap();
    let key_path = keys.path().join("master.keys");
    switchboard::connections::seal::append_key(&key_path).unwrap();
    let static_account = "\n[[accounts]]\nid = \"desk\"\nwebhook_token = \"desk-file-token\"\n";
    let host = oauth_host(&sandbox, &key_path.display().to_string(), static_account).await;
    let admin = Admin::sign_in(&host).await;

    let page = admin.get("/accounts").await.body;
    let main = element(&page, "account-main", "section");
    assert!(main.contains(">not connected<") && main.contains(">Connect</button>"), "{main}");
    assert!(main.contains("the webhook and its token come with the install"), "{main}");
    assert!(!main.contains("Rotate the webhook token"), "nothing to rotate before the install: {main}");
    let desk = element(&page, "account-desk", "section");
    assert!(desk.contains("managed in the configuration file") && !desk.contains("<button"), "{desk}");
    assert!(!page.contains("desk-file-token"), "the token is never shown");

    // Without the CSRF token: 403 and no ticket; an unknown connection: 404.
    let refused = admin.post("/accounts", "/connections/account:main/connect", &[], false).await;
    assert_eq!(refused.status, 403);
    let unknown = admin.post("/accounts", "/connections/account:nope/connect", &[], true).await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert!(unknown.body.contains("no connection"), "{}", unknown.body);
    // Connect: the browser is sent to a single-use link on the main server.
    let started = admin.post("/accounts", "/connections/account:main/connect", &[], true).await;
    assert_eq!(started.status, 303, "{}", started.body);
    assert!(started.location.starts_with(&format!("{}/connect/", host.url)), "{}", started.location);
    let (status, done) = crate::connections::follow(&started.location).await;
    assert_eq!(status, 200, "{done}\n{}", host.log());
    assert!(done.contains("main is connected to aircall"), "{done}");
    assert_eq!(crate::connections::follow(&started.location).await.0, 400, "the link works once");
    let hooks = sandbox.aircall().state().webhooks;
    assert_eq!(hooks.len(), 1, "one webhook: {hooks:?}");
    let first = hooks[0].clone();
    assert_eq!(webhook_status(&host, &first.token).await, 200);

    // Rotate: refused without the token; then a new webhook replaces the old one.
    let page = admin.get("/accounts").await.body;
    let main = element(&page, "account-main", "section");
    assert!(main.contains(">connected<") && main.contains(">Reconnect</button>") && main.contains("Rotate the webhook token"), "{main}");
    assert_eq!(admin.post("/accounts", "/accounts/main/rotate-webhook", &[], false).await.status, 403);
    assert_eq!(sandbox.aircall().state().webhooks[0].webhook_id, first.webhook_id, "nothing changed");
    let rotated = admin.post("/accounts", "/accounts/main/rotate-webhook", &[], true).await;
    let shown = admin.follow(&rotated).await;
    assert!(shown.contains("has a new webhook token") && shown.contains("the old token is refused"), "{shown}");
    let hooks = sandbox.aircall().state().webhooks;
    assert_eq!(hooks.len(), 1, "the old webhook is deleted, one remains: {hooks:?}");
    assert_ne!(hooks[0].webhook_id, first.webhook_id);
    assert_ne!(hooks[0].token, first.token);
    assert_eq!(hooks[0].url, format!("{}/webhooks/aircall", host.url));
    assert_eq!(webhook_status(&host, &hooks[0].token).await, 200, "the new token authenticates the account");
    assert_eq!(webhook_status(&host, &first.token).await, 401, "the old one no longer does");
    assert!(!shown.contains(&hooks[0].token), "the token is never shown");
    // A token from the configuration file cannot be rotated here: the page says where it lives.
    let file = admin.post("/accounts", "/accounts/desk/rotate-webhook", &[], true).await;
    let shown = admin.follow(&file).await;
    assert!(shown.contains("webhook token of desk is managed in the configuration file"), "{shown}");
    assert_eq!(admin.post("/accounts", "/accounts/nobody/rotate-webhook", &[], true).await.status, 404);

    // The CRM connection connects from the same page.
    let crm = element(&page, "connection-integration:helpscout", "tr");
    assert!(crm.contains(">not connected<") && crm.contains(">Connect</button>"), "{crm}");
    let started = admin.post("/accounts", "/connections/integration:helpscout/connect", &[], true).await;
    assert!(started.location.starts_with(&format!("{}/connect/", host.url)), "{}", started.location);
    let (status, done) = crate::connections::follow(&started.location).await;
    assert_eq!(status, 200, "{done}");
    assert!(done.contains("helpscout is connected to helpscout"), "{done}");
    let page = admin.get("/accounts").await.body;
    let crm = element(&page, "connection-integration:helpscout", "tr");
    assert!(crm.contains(">connected<") && crm.contains(">Reconnect</button>"), "{crm}");
    // The CRM refused the connection's token (the integration paused itself):
    // the overview's fix names Reconnect, not Resume.
    let out = host.cli(&["integrations", "pause", "helpscout", "--reason", "unauthorized: Help Scout 401"]);
    assert!(out.contains("paused"), "{out}");
    let overview = admin.get("/").await.body;
    let row = element(&overview, "integration-helpscout", "tr");
    assert!(
        row.contains(">paused<") && row.contains("Fix: the CRM refused the connection&#39;s token: Reconnect it on the Accounts page"),
        "{row}"
    );
    drop(keys);
}

/// Waits until `probe` holds, polling every 100 ms.
async fn until(what: &str, host: &Host, mut probe: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !probe().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}; log:\n{}", host.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lane_blocked_by_a_failing_job_moves_on_once_its_head_is_skipped() {
    a_blocked_lane_moves_on_once_its_head_is_skipped(Backend::Sqlite).await;
}

/// The same on PostgreSQL, where hosts claim lane heads from the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lane_blocked_by_a_failing_job_moves_on_once_its_head_is_skipped_on_postgres() {
    a_blocked_lane_moves_on_once_its_head_is_skipped(Backend::Postgres).await;
}

async fn a_blocked_lane_moves_on_once_its_head_is_skipped(backend: Backend) {
    let crm = FakeCrm::start().await;
    let host = Host::start_on(backend, &Host::config(&crm.url, &console_table(), 4), &["example"]).await;
    let admin = Admin::sign_in(&host).await;
    // The CRM answers 503 to everything: the first call's job retries and
    // holds the customer's lane; the second call of the same customer waits.
    crm.state.lock().unwrap().fail_next = vec![(503, None); 10_000];
    assert_eq!(host.post(&call_event("call.created", 9001, 1_700_000_000)).await.0, 200);
    assert_eq!(host.post(&call_event("call.created", 9002, 1_700_000_100)).await.0, 200);
    let mut page = String::new();
    until("the blocked lane on the page", &host, async || {
        page = admin.get("/dead-letters").await.body;
        page.contains(r#"id="lane-head-"#) && page.contains("failed 2 time(s)")
    })
    .await;
    let at = page.find(r#"id="lane-head-"#).unwrap() + r#"id="lane-head-"#.len();
    let head: String = page[at..].chars().take_while(char::is_ascii_digit).collect();
    let lane = element(&page, &format!("lane-head-{head}"), "tr");
    assert!(lane.contains("notes") && lane.contains("party:+33762043575"), "{lane}");
    assert!(lane.contains(r#"<td class="behind">1</td>"#), "the second call waits behind it: {lane}");
    assert!(lane.contains("503") && lane.contains("next attempt"), "why it does not move: {lane}");
    assert_eq!(crm.notes().len(), 0);

    // Each input checked; nothing skipped by a refused form.
    assert_eq!(admin.post("/dead-letters", "/dead-letters/skip", &[("job", &head)], false).await.status, 403);
    let missing = admin.post("/dead-letters", "/dead-letters/skip", &[], true).await;
    assert_eq!(missing.status, 400);
    assert!(missing.body.contains("name the job to skip"), "{}", missing.body);
    let garbage = admin.post("/dead-letters", "/dead-letters/skip", &[("job", "abc")], true).await;
    assert_eq!(garbage.status, 400);
    assert!(garbage.body.contains("job must be a job id"), "{}", garbage.body);
    let behind = (head.parse::<i64>().unwrap() + 1).to_string();
    let not_head = admin.post("/dead-letters", "/dead-letters/skip", &[("job", &behind)], true).await;
    let shown = admin.follow(&not_head).await;
    assert!(shown.contains(&format!("job {behind} does not block a lane")), "{shown}");
    assert!(shown.contains(&format!(r#"id="lane-head-{head}""#)), "still blocked");

    // Skip the head: it becomes a dead letter and the lane moves on. While an
    // attempt of it runs (on PostgreSQL: while a host holds its lease) the
    // skip is refused and says so, and the attempt's outcome stands; the
    // admin tries again.
    let mut tries = 0;
    loop {
        let skipped = admin.post("/dead-letters", "/dead-letters/skip", &[("job", &head)], true).await;
        if skipped.location == format!("/dead-letters?skipped={head}") {
            break;
        }
        assert!(skipped.location.contains("is+running+right+now"), "{}", skipped.location);
        tries += 1;
        assert!(tries < 50, "the head was running every time");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    crm.state.lock().unwrap().fail_next.clear();
    crm.wait_for(Duration::from_secs(20), "the second call's note", |n| n.len() == 1).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(crm.notes().len(), 1, "the skipped job is not run again");
    let page = admin.get("/dead-letters").await.body;
    assert!(page.contains("No blocked lane."), "{page}");
    let dead = element(&page, &format!("dead-{head}"), "tr");
    assert!(dead.contains("skipped from the console while it blocked its lane"), "{dead}");
    assert!(host.log().contains("console: lane head skipped"));
    // It replays like any dead letter.
    let replayed = admin.post("/dead-letters", "/dead-letters/replay", &[("job", &head)], true).await;
    assert_eq!(replayed.status, 303);
    crm.wait_for(Duration::from_secs(20), "the skipped call, replayed", |n| n.len() == 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_says_failing_then_rate_limited_with_reason_since_and_fix() {
    let crm = FakeCrm::start().await;
    let host = Host::start(&Host::config(&crm.url, &console_table(), 4), &["example"]).await;
    let admin = Admin::sign_in(&host).await;
    let row = |page: &str| element(page, "integration-notes", "tr").to_string();
    assert!(row(&admin.get("/").await.body).contains(">running<"));

    crm.state.lock().unwrap().fail_next = vec![(500, None); 4];
    assert_eq!(host.post(&call_event("call.created", 7001, 1_700_000_000)).await.0, 200);
    let mut shown = String::new();
    until("failing", &host, async || {
        shown = row(&admin.get("/").await.body);
        shown.contains(">failing<")
    })
    .await;
    assert!(shown.contains("attempts failed in the last 10 min") && shown.contains("last error:"), "the reason: {shown}");
    assert!(shown.contains("500"), "the CRM's answer: {shown}");
    assert!(shown.contains(r#"<span class="since">since "#) && shown.contains("Fix: open the Activity page"), "{shown}");
    // It recovers on its own: the fifth attempt is accepted.
    crm.wait_for(Duration::from_secs(20), "the note", |n| n.len() == 1).await;

    // The CRM asks to slow down for 20 s.
    crm.state.lock().unwrap().fail_next = vec![(429, Some("20".into()))];
    assert_eq!(host.post(&call_event("call.created", 7002, 1_700_000_100)).await.0, 200);
    until("rate-limited", &host, async || {
        shown = row(&admin.get("/").await.body);
        shown.contains(">rate-limited until ")
    })
    .await;
    assert!(shown.contains("the CRM asked to slow down 1 time(s)"), "{shown}");
    assert!(shown.contains("since ") && shown.contains("Fix: nothing to do"), "{shown}");
    let integrations = admin.get("/integrations").await.body;
    assert!(element(&integrations, "integration-notes", "tr").contains(">rate-limited until "), "the integrations page too");
    assert_eq!(crm.notes().len(), 1, "the second call waits as asked");
}

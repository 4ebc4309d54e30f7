//! The admin console (issue 15), over plain HTTP as a browser without
//! JavaScript would use it: sign-in, sessions, CSRF, the pages' data and
//! actions, against the real binary and the example plugin.

mod accounts;
mod setup;

use crate::support::{API_SECRET, FakeCrm, Host, TOKEN, call_event};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery";

/// `switchboard console-password` with the password on stdin.
fn password_hash(password: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("console-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

struct Console {
    host: Host,
    crm: FakeCrm,
    url: String,
    client: reqwest::Client,
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// The value `name` is set to by a `Set-Cookie` of this answer.
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(|v| v[name.len() + 1..].split(';').next().unwrap_or("").to_string())
    }

    fn set_cookie_line(&self, name: &str) -> String {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .unwrap_or("")
            .to_string()
    }

    /// The CSRF token of the page's first form.
    fn csrf(&self) -> String {
        let at = self.body.find(r#"name="csrf" value=""#).unwrap_or_else(|| panic!("no CSRF field in:\n{}", self.body));
        let rest = &self.body[at + r#"name="csrf" value=""#.len()..];
        rest[..rest.find('"').unwrap()].to_string()
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

impl Console {
    async fn start() -> Console {
        let crm = FakeCrm::start().await;
        let crm_url = crm.url.clone();
        Console::start_with(crm, &crm_url, |config| config).await
    }

    /// A console whose host's configuration (for the CRM at `crm_url`) passes through `edit`.
    async fn start_with(crm: FakeCrm, crm_url: &str, edit: impl Fn(String) -> String) -> Console {
        let extra = format!("[console]\nlisten = \"127.0.0.1:0\"\nadmin_password_hash = \"{}\"\n", password_hash(PASSWORD));
        let host = Host::start(&edit(Host::config(crm_url, &extra, 4)), &["example"]).await;
        let url = console_url(&host, 0).await;
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Console { host, crm, url, client }
    }

    /// Stop the host, let `edit` change its configuration file, start it again.
    async fn restart(&mut self, edit: impl Fn(String) -> String) {
        self.host.kill();
        let log_before = self.host.log().len();
        let config = std::fs::read_to_string(&self.host.config_path).unwrap();
        std::fs::write(&self.host.config_path, edit(config)).unwrap();
        self.host.spawn().await;
        self.url = console_url(&self.host, log_before).await;
    }

    async fn get(&self, path: &str, session: Option<&str>) -> Answer {
        let mut req = self.client.get(format!("{}{path}", self.url));
        if let Some(s) = session {
            req = req.header("cookie", format!("sb_console={s}"));
        }
        answer(req.send().await.unwrap()).await
    }

    async fn post(&self, path: &str, cookie: Option<String>, body: String) -> Answer {
        let mut req = self.client.post(format!("{}{path}", self.url)).header("content-type", "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        answer(req.body(body).send().await.unwrap()).await
    }

    /// Sign in with `password` as a browser would: the login form, then its POST.
    async fn login(&self, password: &str) -> Answer {
        let page = self.get("/login", None).await;
        let login_cookie = page.cookie("sb_console_login").expect("the login form sets its CSRF cookie");
        self.post("/login", Some(format!("sb_console_login={login_cookie}")), form(&[("csrf", &page.csrf()), ("password", password)])).await
    }

    async fn session(&self) -> String {
        let a = self.login(PASSWORD).await;
        assert_eq!(a.status, 303, "{}", a.body);
        a.cookie("sb_console").expect("a session cookie")
    }

    /// POST a form of the page at `page_path` with its CSRF token.
    async fn submit(&self, session: &str, page_path: &str, action: &str, pairs: &[(&str, &str)]) -> Answer {
        let page = self.get(page_path, Some(session)).await;
        let csrf = page.csrf();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(pairs);
        self.post(action, Some(format!("sb_console={session}")), form(&all)).await
    }
}

/// The console's address, from the first line of the host's log after
/// `from` saying where it listens (it binds port 0).
async fn console_url(host: &Host, from: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = host.log();
        if let Some(at) = log[from..].find("switchboard console listening on http://") {
            let rest = &log[from + at + "switchboard console listening on ".len()..];
            let end = rest["http://".len()..].find('/').unwrap() + "http://".len();
            return rest[..end].to_string();
        }
        assert!(Instant::now() < deadline, "the console never listened; log:\n{log}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Page `path` of the console of `host` (listening as its log says after
/// `from`), signed in with a `console-link`: for tests of other modules.
pub async fn page_of(host: &Host, from: usize, path: &str) -> String {
    let url = console_url(host, from).await;
    let out = host.cli(&["console-link"]);
    let link = out.lines().find(|l| l.starts_with("http://")).unwrap_or_else(|| panic!("no link printed:\n{out}"));
    let token = link.split("token=").nth(1).unwrap();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let signed = answer(client.get(format!("{url}/sign-in?token={token}")).send().await.unwrap()).await;
    let session = signed.cookie("sb_console").unwrap_or_else(|| panic!("no session: {}", signed.body));
    let page = answer(client.get(format!("{url}{path}")).header("cookie", format!("sb_console={session}")).send().await.unwrap()).await;
    assert_eq!(page.status, 200, "{path}: {}", page.body);
    page.body
}

async fn answer(r: reqwest::Response) -> Answer {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    Answer { status, headers, body: r.text().await.unwrap() }
}

fn assert_secure_headers(a: &Answer, what: &str) {
    assert_eq!(a.headers.get("content-security-policy").map(|v| v.to_str().unwrap()), Some("default-src 'self'"), "{what}");
    assert_eq!(a.headers.get("x-frame-options").map(|v| v.to_str().unwrap()), Some("DENY"), "{what}");
}

fn assert_no_secret(body: &str, what: &str) {
    for secret in [TOKEN, API_SECRET, "$argon2"] {
        assert!(!body.contains(secret), "{what} shows the secret {secret}:\n{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_session_every_page_is_the_login_page_and_holds_no_data() {
    let c = Console::start().await;
    for path in ["/", "/activity?q=07%2062%2004%2035%2075", "/dead-letters", "/integrations", "/accounts", "/plugins"] {
        let a = c.get(path, None).await;
        assert_eq!((a.status, a.location()), (303, "/login"), "{path}: {}", a.body);
        assert!(!a.body.contains("notes"), "{path} leaks data: {}", a.body);
        assert_secure_headers(&a, path);
        let forged = c.get(path, Some("forged-session-id")).await;
        assert_eq!((forged.status, forged.location()), (303, "/login"), "{path} with a forged session");
    }
    let login = c.get("/login", None).await;
    assert_eq!(login.status, 200);
    assert!(login.body.contains("Admin password"), "{}", login.body);
    assert!(!login.body.contains("notes"));
    assert_secure_headers(&login, "/login");
    // An action without a session changes nothing.
    let a = c.post("/integrations/notes/pause", None, form(&[("csrf", "x")])).await;
    assert_eq!((a.status, a.location()), (303, "/login"));
    assert!(c.host.cli(&["integrations", "list"]).contains("active"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_is_checked_attempts_are_limited_and_a_session_is_strict() {
    let c = Console::start().await;
    let wrong = c.login("not the password").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("Wrong password"), "{}", wrong.body);
    assert!(wrong.cookie("sb_console").is_none(), "no session for a wrong password");
    // The login form's own CSRF token is required.
    let no_csrf = c.post("/login", None, form(&[("password", PASSWORD)])).await;
    assert_eq!(no_csrf.status, 403);

    let right = c.login(PASSWORD).await;
    assert_eq!((right.status, right.location()), (303, "/"));
    let line = right.set_cookie_line("sb_console");
    assert!(line.contains("HttpOnly") && line.contains("SameSite=Strict"), "{line}");
    let session = right.cookie("sb_console").unwrap();
    assert_eq!(session.len(), 43, "32 random bytes");
    for (path, shows) in
        [("/", "notes"), ("/activity", "Searched for the latest events"), ("/dead-letters", "notes"), ("/integrations", "notes")]
    {
        let page = c.get(path, Some(&session)).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(page.body.contains(shows), "{path}: {}", page.body);
        assert_secure_headers(&page, path);
        assert_no_secret(&page.body, path);
    }
    // Five failures from one address, then even the right password waits.
    for _ in 0..5 {
        assert_eq!(c.login("guess").await.status, 401);
    }
    let limited = c.login(PASSWORD).await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(limited.headers.get("retry-after").is_some());
    assert!(limited.cookie("sb_console").is_none());
    // Signing out ends the session.
    let out = c.submit(&session, "/", "/logout", &[]).await;
    assert_eq!((out.status, out.location()), (303, "/login"));
    assert_eq!(c.get("/", Some(&session)).await.status, 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_without_the_csrf_token_is_refused_and_changes_nothing() {
    let c = Console::start().await;
    let session = c.session().await;
    let cookie = || Some(format!("sb_console={session}"));
    let none = c.post("/integrations/notes/pause", cookie(), form(&[("reason", "x")])).await;
    assert_eq!(none.status, 403, "{}", none.body);
    let wrong = c.post("/integrations/notes/pause", cookie(), form(&[("csrf", "another-token")])).await;
    assert_eq!(wrong.status, 403);
    let replay = c.post("/dead-letters/replay", cookie(), form(&[("all", "1")])).await;
    assert_eq!(replay.status, 403);
    assert!(c.host.cli(&["integrations", "list"]).contains("active"), "nothing was paused");
    // With the token the same form works.
    let ok = c.submit(&session, "/integrations", "/integrations/notes/pause", &[("reason", "from the test")]).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert!(c.host.cli(&["integrations", "list"]).contains("paused: from the test"));
    let resumed = c.submit(&session, "/integrations", "/integrations/notes/resume", &[]).await;
    assert_eq!(resumed.status, 303);
    assert!(c.host.cli(&["integrations", "list"]).contains("active"));

    // Backfill: refused without the token, requested with it, its progress shown.
    let refused = c.post("/integrations/notes/backfill", cookie(), String::new()).await;
    assert_eq!(refused.status, 403);
    assert!(!c.get("/integrations", Some(&session)).await.body.contains("calls examined"), "no backfill was requested");
    let asked = c.submit(&session, "/integrations", "/integrations/notes/backfill", &[]).await;
    assert_eq!(asked.status, 303, "{}", asked.body);
    assert!(asked.location().starts_with("/integrations?notice=backfill"), "{}", asked.location());
    let page = c.get("/integrations", Some(&session)).await;
    assert!(page.body.contains(r#"<td class="backfill">waiting for a host: 0/? calls examined"#), "the progress line:\n{}", page.body);
    let again = c.submit(&session, "/integrations", "/integrations/notes/backfill", &[]).await;
    assert!(again.location().contains("already"), "a second request is refused while one waits: {}", again.location());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_shows_a_paused_integration_with_its_reason_and_the_plugin_version() {
    let c = Console::start().await;
    let session = c.session().await;
    let out = c.host.cli(&["integrations", "pause", "notes", "--reason", "CRM maintenance until 14:00"]);
    assert!(out.contains("paused"), "{out}");
    // A held event counts in the queue depth.
    let (status, _) = c.host.post(&call_event("call.created", 5151, 1_700_000_000)).await;
    assert_eq!(status, 200);
    let page = c.get("/", Some(&session)).await;
    assert_eq!(page.status, 200);
    let row_at = page.body.find(r#"id="integration-notes""#).unwrap_or_else(|| panic!("no row for notes:\n{}", page.body));
    let row = &page.body[row_at..page.body[row_at..].find("</tr>").unwrap() + row_at];
    assert!(row.contains(">paused<") && row.contains("CRM maintenance until 14:00"), "{row}");
    assert!(row.contains("example 0."), "plugin and version: {row}");
    assert!(row.contains(r#"<td class="queued">1 <span class="since">oldest waiting "#), "one held event and its age: {row}");
    assert!(page.body.contains(r#"<strong id="queued">1</strong>"#), "queue depth 1:\n{}", page.body);
    assert!(page.body.contains(r#"<strong id="last-hour">1</strong>"#), "one event in the last hour");
    assert!(page.body.contains("receiving"), "the account's state");
    assert_no_secret(&page.body, "overview");
}

/// Waits until `dead-letters list` names a job, and returns the output.
async fn wait_dead(host: &Host) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = host.cli(&["dead-letters", "list"]);
        if out.contains("job ") {
            return out;
        }
        assert!(Instant::now() < deadline, "no dead letter; log:\n{}", host.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_finds_a_webhook_call_by_a_national_number_with_its_job_and_journal() {
    let c = Console::start().await;
    let session = c.session().await;
    c.crm.state.lock().unwrap().fail_next = vec![(400, None)];
    // The caller is "07 62 04 35 75" on a French line; the job dead-letters on
    // the CRM's 400 and keeps its journal.
    let (status, _) = c.host.post(&call_event("call.created", 4242, 1_700_000_000)).await;
    assert_eq!(status, 200);
    wait_dead(&c.host).await;
    for q in ["07%2062%2004%2035%2075", "%2B33762043575", "0762043575", "4242"] {
        let page = c.get(&format!("/activity?q={q}"), Some(&session)).await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("Call 4242"), "{q} finds the call:\n{}", page.body);
        assert!(page.body.contains("call.created"), "{q}");
        assert!(page.body.contains(r#"<td class="origin">webhook</td>"#), "{q}: the origin");
        assert!(page.body.contains("notes") && page.body.contains("dead letter"), "{q}: the job and its state");
        assert!(page.body.contains("answered") && page.body.contains("injected"), "{q}: the journal with the CRM's answer:\n{}", page.body);
        assert_no_secret(&page.body, "activity");
    }
    let other = c.get("/activity?q=%2B14155550100", Some(&session)).await;
    assert!(!other.body.contains("Call 4242"), "another number does not find it");
    let by_time = c.get("/activity?from=2000-01-01%2000:00", Some(&session)).await;
    assert!(by_time.body.contains("Call 4242"), "by time");
    let future = c.get("/activity?from=2999-01-01", Some(&session)).await;
    assert!(!future.body.contains("Call 4242"), "not before its time");
}

/// A dead letter whose cause is fixed (the CRM's name resolves only to a
/// private address while `allow_private` is false; the operator allows it
/// and restarts), replayed from the page, reaches the CRM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_replayed_from_the_page_is_logged() {
    let crm = FakeCrm::start().await;
    let by_name = crm.url.replace("127.0.0.1", "localhost");
    let mut c = Console::start_with(crm, &by_name, |config| config.replace("allow_private = true", "allow_private = false")).await;
    let (status, _) = c.host.post(&call_event("call.created", 777_001, 1_700_000_000)).await;
    assert_eq!(status, 200);
    let listed = wait_dead(&c.host).await;
    let job: String = listed.split_whitespace().nth(1).unwrap().to_string();
    c.restart(|config| config.replace("allow_private = false", "allow_private = true")).await;
    let session = c.session().await;
    let page = c.get("/dead-letters?integration=notes", Some(&session)).await;
    assert!(
        page.body.contains(&format!(r#"id="dead-{job}""#)) && page.body.contains("only to private"),
        "listed with its reason:\n{}",
        page.body
    );
    let replayed =
        c.submit(&session, "/dead-letters?integration=notes", "/dead-letters/replay", &[("integration", "notes"), ("job", &job)]).await;
    assert_eq!((replayed.status, replayed.location()), (303, "/dead-letters?replayed=1&integration=notes"), "{}", replayed.body);
    c.crm.wait_for(Duration::from_secs(20), "the replayed call's note", |n| n.len() == 1).await;
    let after = c.get("/dead-letters", Some(&session)).await;
    assert!(after.body.contains("No dead letters."), "{}", after.body);
    assert!(c.host.log().contains("console: dead letters replayed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_link_signs_in_once() {
    let c = Console::start().await;
    let out = c.host.cli(&["console-link"]);
    let link = out.lines().find(|l| l.starts_with("http://")).unwrap_or_else(|| panic!("no link printed:\n{out}"));
    let token = link.split("token=").nth(1).unwrap();
    assert!(link.contains("/sign-in?token="), "{link}");
    assert!(c.get("/sign-in?token=forged", None).await.cookie("sb_console").is_none());
    let first = c.get(&format!("/sign-in?token={token}"), None).await;
    assert_eq!((first.status, first.location()), (303, "/"), "{}", first.body);
    let session = first.cookie("sb_console").expect("a session");
    assert_eq!(c.get("/", Some(&session)).await.status, 200);
    let again = c.get(&format!("/sign-in?token={token}"), None).await;
    assert_eq!(again.status, 401, "single use");
    assert!(again.cookie("sb_console").is_none());
    assert!(again.body.contains("unknown, used or expired"));
}

/// The plugins page names a rejected candidate and why (the serving plugin
/// beside it); the accounts page shows how each account is connected, the
/// newest event it sent, and its numbers as Aircall lists them, or why they
/// could not be listed — without a secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugins_show_a_rejected_candidate_and_accounts_their_connection_last_event_and_numbers() {
    switchboard_sandbox::install_crypto_provider();
    let sandbox = switchboard_sandbox::Sandbox::start(switchboard_sandbox::SandboxOptions::default()).await.unwrap();
    let aircall = sandbox.aircall().credentials().clone();
    let aircall_url = sandbox.aircall_url();
    let crm = FakeCrm::start().await;
    let crm_url = crm.url.clone();
    let c = Console::start_with(crm, &crm_url, |config| {
        // `main` on the Aircall emulator; `spare` on an address nobody answers.
        config
            .replace("api_id = \"id\"", &format!("api_id = \"{}\"", aircall.api_id))
            .replace("api_token = \"tok\"", &format!("api_token = \"{}\"", aircall.api_token))
            .replace("api_base = \"http://127.0.0.1:9\"", &format!("api_base = \"{aircall_url}\""))
            .replace(
                "[[integrations]]",
                "[[accounts]]\nid = \"spare\"\nwebhook_token = \"spare-webhook-token\"\napi_id = \"x\"\napi_token = \"spare-api-token\"\napi_base = \"http://127.0.0.1:9\"\n\n[[integrations]]",
            )
    })
    .await;
    let session = c.session().await;
    // A broken candidate appears in the watched plugin directory.
    let broken = c.host.dir.path().join("plugins/broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("plugin.toml"), "name = \"broken\"\nversion = \"\"\ncontract = \"0.2.0\"\ncomponent = \"plugin.wasm\"\n")
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !c.host.log().contains("plugin candidate rejected") {
        assert!(Instant::now() < deadline, "the candidate was never rejected:\n{}", c.host.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let page = c.get("/plugins", Some(&session)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"href="/plugins" aria-current="page""#), "linked from the nav:\n{}", page.body);
    let serving = &page.body[page.body.find(r#"id="plugin-example""#).unwrap_or_else(|| panic!("example serves:\n{}", page.body))..];
    let serving = &serving[..serving.find("</tr>").unwrap()];
    assert!(serving.contains("<td>0.2.0</td>") && serving.contains("notes") && serving.contains("<code title="), "{serving}");
    let rejected = &page.body[page.body.find(r#"<tr class="rejected">"#).unwrap_or_else(|| panic!("no rejected row:\n{}", page.body))..];
    let rejected = &rejected[..rejected.find("</tr>").unwrap()];
    assert!(rejected.contains("broken") && rejected.contains("plugin.toml `version` is empty"), "the reason: {rejected}");
    assert!(rejected.contains("since ") && rejected.contains("Fix: correct the files in"), "{rejected}");
    assert_no_secret(&page.body, "plugins");

    let (status, _) = c.host.post(&call_event("call.created", 6060, 1_700_000_000)).await;
    assert_eq!(status, 200);
    let page = c.get("/accounts", Some(&session)).await;
    assert_eq!(page.status, 200);
    let main = &page.body[page.body.find(r#"id="account-main""#).unwrap_or_else(|| panic!("no main:\n{}", page.body))..];
    let main = &main[..main.find("</section>").unwrap()];
    assert!(main.contains("static API key") && main.contains(">configured<"), "{main}");
    assert!(main.contains(r#"<td class="last-event">call.created (webhook) at "#), "the newest event: {main}");
    assert!(main.contains("not checked by this host"), "reconciliation is off in these tests: {main}");
    for number in ["Support FR", "+33 1 23 45 67 89", "Sales US"] {
        assert!(main.contains(number), "{number} listed: {main}");
    }
    let spare = &page.body[page.body.find(r#"id="account-spare""#).unwrap()..];
    assert!(spare.contains(r#"<td class="last-event">none received yet</td>"#), "{spare}");
    assert!(spare.contains(r#"class="error numbers-error""#) && spare.contains("could not be listed"), "an error line: {spare}");
    assert_no_secret(&page.body, "accounts");
    for secret in [aircall.api_token.as_str(), "spare-api-token", "spare-webhook-token"] {
        assert!(!page.body.contains(secret), "accounts shows {secret}");
    }
}

/// Configuration text turning the console on (on a free port) with a master
/// key file for the secrets it seals; the guard keeps the key file alive.
fn console_with_a_key() -> (tempfile::TempDir, String) {
    let (keys, key_path) = crate::support::key_file();
    (keys, format!("\n[console]\nlisten = \"127.0.0.1:0\"\n[connections]\nkey_file = \"{key_path}\"\n"))
}

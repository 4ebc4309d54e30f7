//! Tests of the OAuth authorization servers of every emulator: the code flow
//! end to end, refresh and rotation, expiry, refused refreshes, PKCE, code
//! reuse, revocation, the control route; and Aircall's integration record,
//! webhooks and uninstall (`integration.deleted`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::{sandbox, send};
use switchboard_sandbox::common::util::{query_pairs, url_encode};
use switchboard_sandbox::{OAuthServer, Sandbox};

const REDIRECT: &str = "http://127.0.0.1:9/oauth/callback";
/// A state with characters that need encoding: it must come back verbatim.
const STATE: &str = "csrf 1/2&x=é";

#[derive(Debug, Clone, Copy, PartialEq)]
enum V {
    Aircall,
    Intercom,
    HelpScout,
    Gorgias,
    HubSpot,
}

const ALL: [V; 5] = [V::Aircall, V::Intercom, V::HelpScout, V::Gorgias, V::HubSpot];
const REFRESHING: [V; 3] = [V::HelpScout, V::Gorgias, V::HubSpot];

/// A client of one emulator's OAuth server, speaking the vendor's dialect.
struct Client<'a> {
    sb: &'a Sandbox,
    v: V,
    http: reqwest::Client,
}

impl<'a> Client<'a> {
    /// Help Scout's code flow needs the app's registered redirect: it is set here.
    fn new(sb: &'a Sandbox, v: V) -> Self {
        switchboard_sandbox::install_crypto_provider();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let c = Self { sb, v, http };
        if v == V::HelpScout {
            c.oauth().configure(|o| o.registered_redirect = Some(REDIRECT.into()));
        }
        c
    }

    fn oauth(&self) -> &OAuthServer {
        match self.v {
            V::Aircall => self.sb.aircall().oauth(),
            V::Intercom => self.sb.intercom().oauth(),
            V::HelpScout => self.sb.helpscout().oauth(),
            V::Gorgias => self.sb.gorgias().oauth(),
            V::HubSpot => self.sb.hubspot().oauth(),
        }
    }

    fn base(&self) -> &str {
        match self.v {
            V::Aircall => self.sb.aircall_url(),
            V::Intercom => self.sb.intercom_url(),
            V::HelpScout => self.sb.helpscout_url(),
            V::Gorgias => self.sb.gorgias_url(),
            V::HubSpot => self.sb.hubspot_url(),
        }
    }

    fn authorize_url(&self, challenge: Option<&str>) -> String {
        let (path, mut q): (&str, Vec<(&str, &str)>) = match self.v {
            V::Aircall => ("/oauth/authorize", vec![("redirect_uri", REDIRECT), ("response_type", "code"), ("scope", "public_api")]),
            V::Intercom => ("/oauth", vec![("redirect_uri", REDIRECT)]),
            V::HelpScout => ("/authentication/authorizeClientApplication", vec![]),
            V::Gorgias => {
                ("/oauth/authorize", vec![("redirect_uri", REDIRECT), ("response_type", "code"), ("scope", "openid offline write:all")])
            }
            V::HubSpot => ("/oauth/authorize", vec![("redirect_uri", REDIRECT), ("scope", "oauth crm.objects.contacts.read")]),
        };
        let id = self.oauth().options().client_id;
        q.push(("client_id", &id));
        q.push(("state", STATE));
        if let Some(c) = challenge {
            q.push(("code_challenge", c));
            q.push(("code_challenge_method", "S256"));
        }
        let query: Vec<String> = q.iter().map(|(k, v)| format!("{k}={}", url_encode(v))).collect();
        format!("{}{path}?{}", self.base(), query.join("&"))
    }

    /// GET `url`; the 302's `Location` split into the target and its query pairs.
    async fn follow(&self, url: &str) -> (String, Vec<(String, String)>) {
        let r = self.http.get(url).send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
        assert_eq!(status, 302, "{:?}: authorize answered {status}: {:?}", self.v, r.text().await);
        let location = text.unwrap();
        let (target, query) = location.split_once('?').unwrap();
        (target.to_owned(), query_pairs(Some(query)))
    }

    /// Runs authorize and returns the code.
    async fn code(&self, challenge: Option<&str>) -> String {
        let (target, q) = self.follow(&self.authorize_url(challenge)).await;
        assert_eq!(target, REDIRECT, "{:?}", self.v);
        assert!(q.contains(&("state".into(), STATE.into())), "{:?}: state not echoed verbatim: {q:?}", self.v);
        q.into_iter().find(|(k, _)| k == "code").map(|(_, c)| c).unwrap_or_else(|| panic!("{:?}: no code", self.v))
    }

    fn token_path(&self) -> &'static str {
        match self.v {
            V::Aircall => "/v1/oauth/token",
            V::Intercom => "/auth/eagle/token",
            V::HelpScout => "/v2/oauth2/token",
            V::Gorgias => "/oauth/token",
            V::HubSpot => "/oauth/2026-03/token",
        }
    }

    /// POSTs token parameters the vendor's way: JSON for Aircall, HTTP Basic client
    /// authentication for Gorgias, a form with the credentials otherwise.
    async fn token(&self, mut params: Vec<(&str, String)>) -> (u16, Value) {
        let o = self.oauth().options();
        let url = format!("{}{}", self.base(), self.token_path());
        let rb = if self.v == V::Gorgias {
            self.http.post(url).basic_auth(&o.client_id, Some(&o.client_secret))
        } else {
            params.push(("client_id", o.client_id.clone()));
            params.push(("client_secret", o.client_secret.clone()));
            self.http.post(url)
        };
        let rb = if self.v == V::Aircall {
            rb.json(&params.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect::<serde_json::Map<String, Value>>())
        } else {
            let form: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", url_encode(v))).collect();
            rb.header("content-type", "application/x-www-form-urlencoded").body(form.join("&"))
        };
        let (s, _, b) = send(rb).await;
        (s, b)
    }

    async fn exchange(&self, code: &str, verifier: Option<&str>) -> (u16, Value) {
        let mut p = vec![("grant_type", "authorization_code".to_owned()), ("code", code.to_owned())];
        if !matches!(self.v, V::HelpScout | V::Intercom) {
            p.push(("redirect_uri", REDIRECT.to_owned()));
        }
        if let Some(v) = verifier {
            p.push(("code_verifier", v.to_owned()));
        }
        self.token(p).await
    }

    async fn refresh(&self, refresh_token: &str) -> (u16, Value) {
        self.token(vec![("grant_type", "refresh_token".to_owned()), ("refresh_token", refresh_token.to_owned())]).await
    }

    /// authorize → token; the token answer.
    async fn connect(&self) -> Value {
        let code = self.code(None).await;
        let (s, b) = self.exchange(&code, None).await;
        assert_eq!(s, 200, "{:?}: {b}", self.v);
        b
    }

    /// Status of an ordinary API call with `token`.
    async fn api(&self, token: &str) -> u16 {
        let path = match self.v {
            V::Aircall => "/v1/ping",
            V::Intercom => "/me",
            V::HelpScout => "/v2/users/me",
            V::Gorgias => "/api/account",
            V::HubSpot => "/crm/v3/owners",
        };
        send(self.http.get(format!("{}{path}", self.base())).bearer_auth(token)).await.0
    }

    /// What the API answers a dead token: Aircall says 403 (aircall-api.md §1.2), the others 401.
    fn dead(&self) -> u16 {
        if self.v == V::Aircall { 403 } else { 401 }
    }
}

fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn at(b: &Value) -> String {
    b["access_token"].as_str().unwrap().to_owned()
}

fn rt(b: &Value) -> String {
    b["refresh_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn code_flow_end_to_end_for_every_vendor() {
    let sb = sandbox().await;
    for v in ALL {
        let c = Client::new(&sb, v);
        let b = c.connect().await;
        assert_eq!(c.api(&at(&b)).await, 200, "{v:?}");
        assert_eq!(c.api("sbx-never-issued").await, c.dead(), "{v:?}");
        let expected = match v {
            V::Aircall | V::Intercom => (None, false),
            V::HelpScout => (Some(7200), true),
            V::Gorgias => (Some(86_400), true),
            V::HubSpot => (Some(1800), true),
        };
        assert_eq!((b["expires_in"].as_u64(), b["refresh_token"].is_string()), expected, "{v:?}: {b}");
        let log = c.oauth().token_requests();
        assert_eq!(log.len(), 1);
        assert!(log[0].ok && log[0].grant_type == "authorization_code" && log[0].error.is_none(), "{v:?}: {log:?}");
    }
    // Vendor details of the answer.
    let b = Client::new(&sb, V::Intercom).connect().await;
    assert_eq!(b["token"], b["access_token"], "Intercom also answers `token`");
    let b = Client::new(&sb, V::Aircall).connect().await;
    assert_eq!((b["token_type"].as_str(), b["scope"].as_str()), (Some("Bearer"), Some("public_api")));
    // The token request is in the ordinary journal too.
    let journal = sb.hubspot().requests();
    assert!(journal.iter().any(|r| r.path == "/oauth/2026-03/token" && r.status == 200 && r.body.as_str().unwrap().contains("grant_type")));
    assert!(journal.iter().any(|r| r.path == "/oauth/authorize" && r.status == 302));
}

#[tokio::test]
async fn a_code_works_once_for_every_vendor() {
    let sb = sandbox().await;
    for v in ALL {
        let c = Client::new(&sb, v);
        let code = c.code(None).await;
        assert_eq!(c.exchange(&code, None).await.0, 200, "{v:?}");
        let (s, b) = c.exchange(&code, None).await;
        assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")), "{v:?}: {b}");
        assert!(b["error_description"].as_str().unwrap().contains("already used"), "{v:?}: {b}");
        let last = c.oauth().token_requests().pop().unwrap();
        assert_eq!((last.ok, last.error.as_deref()), (false, Some("invalid_grant")));
    }
}

#[tokio::test]
async fn pkce_mismatch_is_refused_for_every_vendor() {
    let sb = sandbox().await;
    // RFC 7636 appendix B.
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    assert_eq!(s256(verifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    for v in ALL {
        let c = Client::new(&sb, v);
        let code = c.code(Some(&s256(verifier))).await;
        let (s, b) = c.exchange(&code, Some("not-the-verifier")).await;
        assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")), "{v:?}: {b}");
        let (s, b) = c.exchange(&code, None).await;
        assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")), "{v:?}: a challenged code needs a verifier: {b}");
        let (s, b) = c.exchange(&code, Some(verifier)).await;
        assert_eq!(s, 200, "{v:?}: {b}");
        assert_eq!(c.api(&at(&b)).await, 200);
    }
}

#[tokio::test]
async fn a_short_lifetime_expires_and_the_api_refuses_the_token() {
    let sb = sandbox().await;
    let clients: Vec<Client<'_>> = ALL.into_iter().map(|v| Client::new(&sb, v)).collect();
    let mut tokens = Vec::new();
    for c in &clients {
        c.oauth().configure(|o| o.expires_in = Some(1));
        let b = c.connect().await;
        assert_eq!(b["expires_in"], 1, "{:?}", c.v);
        assert_eq!(c.api(&at(&b)).await, 200, "{:?}", c.v);
        tokens.push(at(&b));
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    for (c, token) in clients.iter().zip(&tokens) {
        assert_eq!(c.api(token).await, c.dead(), "{:?}", c.v);
    }
    // The vendor's error shape comes with it.
    let (_, _, b) = send(reqwest::Client::new().get(format!("{}/me", sb.intercom_url())).bearer_auth(&tokens[1])).await;
    assert_eq!(b["errors"][0]["code"], "unauthorized");
    let (_, _, b) = send(reqwest::Client::new().get(format!("{}/crm/v3/owners", sb.hubspot_url())).bearer_auth(&tokens[4])).await;
    assert_eq!(b["category"], "INVALID_AUTHENTICATION");
}

#[tokio::test]
async fn refresh_with_rotation_retires_the_old_refresh_token() {
    let sb = sandbox().await;
    for v in REFRESHING {
        let c = Client::new(&sb, v);
        c.oauth().configure(|o| o.rotate_refresh = true);
        let first = c.connect().await;
        let (s, second) = c.refresh(&rt(&first)).await;
        assert_eq!(s, 200, "{v:?}: {second}");
        assert_ne!(rt(&second), rt(&first), "{v:?}");
        assert_ne!(at(&second), at(&first), "{v:?}");
        assert_eq!(c.api(&at(&second)).await, 200, "{v:?}");
        let (s, b) = c.refresh(&rt(&first)).await;
        assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")), "{v:?}: the old refresh token still works: {b}");
        assert_eq!(c.refresh(&rt(&second)).await.0, 200, "{v:?}");
    }
}

#[tokio::test]
async fn without_rotation_the_same_refresh_token_comes_back() {
    let sb = sandbox().await;
    // HubSpot and Gorgias keep their refresh token by default; Help Scout rotates.
    for v in REFRESHING {
        let c = Client::new(&sb, v);
        assert_eq!(c.oauth().options().rotate_refresh, v == V::HelpScout, "{v:?}");
        c.oauth().configure(|o| o.rotate_refresh = false);
        let first = c.connect().await;
        let (s, second) = c.refresh(&rt(&first)).await;
        assert_eq!(s, 200);
        assert_eq!(rt(&second), rt(&first), "{v:?}");
        assert_eq!(c.refresh(&rt(&first)).await.0, 200, "{v:?}");
    }
}

#[tokio::test]
async fn refuse_refresh_answers_the_chosen_error() {
    let sb = sandbox().await;
    for v in REFRESHING {
        let c = Client::new(&sb, v);
        let first = c.connect().await;
        c.oauth().configure(|o| o.refuse_refresh = Some("invalid_grant".into()));
        let (s, b) = c.refresh(&rt(&first)).await;
        assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")), "{v:?}: {b}");
        assert!(b["error_description"].is_string());
        let last = c.oauth().token_requests().pop().unwrap();
        assert_eq!((last.grant_type.as_str(), last.ok, last.error.as_deref()), ("refresh_token", false, Some("invalid_grant")));
        if v == V::HubSpot {
            assert_eq!((b["status"].as_str(), b["message"].is_string()), (Some("BAD_REFRESH_TOKEN"), true), "{b}");
        }
        c.oauth().configure(|o| o.refuse_refresh = None);
        assert_eq!(c.refresh(&rt(&first)).await.0, 200, "{v:?}");
    }
}

#[tokio::test]
async fn aircall_and_intercom_tokens_never_refresh() {
    let sb = sandbox().await;
    for v in [V::Aircall, V::Intercom] {
        let c = Client::new(&sb, v);
        let b = c.connect().await;
        assert!(b.get("refresh_token").is_none() && b.get("expires_in").is_none(), "{v:?}: {b}");
        let (s, b) = c.refresh("anything").await;
        assert_eq!((s, b["error"].as_str()), (400, Some("unsupported_grant_type")), "{v:?}: {b}");
    }
}

#[tokio::test]
async fn revoke_all_and_expire_tokens() {
    let sb = sandbox().await;
    let c = Client::new(&sb, V::Gorgias);
    let b = c.connect().await;
    // `expire_tokens` expires access tokens; the refresh token still gets a new one.
    sb.gorgias().inject(switchboard_sandbox::Fault { expire_tokens: true, ..Default::default() });
    assert_eq!(c.api(&at(&b)).await, 401);
    let (s, fresh) = c.refresh(&rt(&b)).await;
    assert_eq!(s, 200);
    assert_eq!(c.api(&at(&fresh)).await, 200);
    // revoke_all (here through the control route): nothing issued works any more.
    let (s, _, _) = send(c.http.post(format!("{}/_sandbox/oauth", sb.gorgias_url())).json(&json!({"revoke_all": true}))).await;
    assert_eq!(s, 200);
    assert_eq!(c.api(&at(&fresh)).await, 401);
    assert_eq!(c.refresh(&rt(&b)).await.1["error"], "invalid_grant");
    assert!(c.oauth().tokens().iter().all(|t| t.revoked && !t.live));
    // The static credentials are not OAuth tokens and keep working.
    assert_eq!(c.api("sandbox-gorgias-oauth-token").await, 200);
}

#[tokio::test]
async fn authorize_refusals() {
    let sb = sandbox().await;
    let c = Client::new(&sb, V::Aircall);
    let http = &c.http;
    // A bad client id or redirect URI is answered on the spot, never redirected.
    let url = c.authorize_url(None).replace("client_id=sandbox-aircall-client-id", "client_id=nope");
    let (s, _, b) = send(http.get(url)).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_request")));
    let url = c.authorize_url(None).replace(&url_encode(REDIRECT), "ftp%3A%2F%2Fx");
    assert_eq!(send(http.get(url)).await.0, 400);
    // Aircall needs scope=public_api: the error goes back to the client.
    let (_, q) = c.follow(&c.authorize_url(None).replace("scope=public_api", "scope=other")).await;
    assert!(q.contains(&("error".into(), "invalid_scope".into())), "{q:?}");
    assert!(q.contains(&("state".into(), STATE.into())));
    // The admin refuses.
    c.oauth().configure(|o| o.deny = true);
    let (_, q) = c.follow(&c.authorize_url(None)).await;
    assert!(q.contains(&("error".into(), "access_denied".into())) && !q.iter().any(|(k, _)| k == "code"), "{q:?}");
    c.oauth().configure(|o| o.deny = false);
    // A redirect_uri other than the one of the code is refused at the token endpoint.
    let code = c.code(None).await;
    let o = c.oauth().options();
    let body = json!({"grant_type": "authorization_code", "code": code, "redirect_uri": "http://127.0.0.1:9/other",
                      "client_id": o.client_id, "client_secret": o.client_secret});
    let (s, _, b) = send(http.post(format!("{}/v1/oauth/token", sb.aircall_url())).json(&body)).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")), "{b}");
    // Bad client secret: 401 invalid_client.
    let body =
        json!({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": o.client_id, "client_secret": "x"});
    let (s, _, b) = send(http.post(format!("{}/v1/oauth/token", sb.aircall_url())).json(&body)).await;
    assert_eq!((s, b["error"].as_str()), (401, Some("invalid_client")));

    // Help Scout without a registered redirect says what to set.
    let hs = format!("{}/authentication/authorizeClientApplication?client_id=sandbox-helpscout-app&state=s", sb.helpscout_url());
    let (s, _, b) = send(http.get(&hs)).await;
    assert_eq!(s, 400);
    assert!(b["error_description"].as_str().unwrap().contains("registered_redirect"), "{b}");

    // Gorgias wants HTTP Basic client authentication.
    let body = format!(
        "grant_type=authorization_code&code=x&redirect_uri={}&client_id=sandbox-gorgias-client-id&client_secret=sandbox-gorgias-client-secret",
        url_encode(REDIRECT)
    );
    let (s, h, b) =
        send(http.post(format!("{}/oauth/token", sb.gorgias_url())).header("content-type", "application/x-www-form-urlencoded").body(body))
            .await;
    assert_eq!((s, b["error"].as_str()), (401, Some("invalid_client")));
    assert!(h.get("www-authenticate").is_some());

    // HubSpot's errors carry the legacy fields too; v1 answers like 2026-03.
    let (s, _, b) = send(http.post(format!("{}/oauth/v1/token", sb.hubspot_url())).header("content-type", "application/x-www-form-urlencoded").body("grant_type=authorization_code&code=x&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Foauth%2Fcallback&client_id=sandbox-hubspot-client-id&client_secret=sandbox-hubspot-client-secret")).await;
    assert_eq!((s, b["error"].as_str(), b["status"].as_str()), (400, Some("invalid_grant"), Some("BAD_AUTH_CODE")), "{b}");
    assert!(b["message"].is_string());
}

#[tokio::test]
async fn the_control_route_shows_and_changes_the_options() {
    let sb = sandbox().await;
    let http = support::client();
    let url = format!("{}/_sandbox/oauth", sb.hubspot_url());
    let (s, _, b) = send(http.get(&url)).await;
    assert_eq!(s, 200);
    assert_eq!(b["options"]["client_id"], "sandbox-hubspot-client-id");
    assert_eq!(b["options"]["client_secret"], "sandbox-hubspot-client-secret");
    assert_eq!(b["vendor"]["token_paths"], json!(["/oauth/v1/token", "/oauth/v3/token", "/oauth/2026-03/token"]));
    let (s, _, b) = send(http.post(&url).json(&json!({"expires_in": 5, "refuse_refresh": "invalid_grant"}))).await;
    assert_eq!((s, &b["options"]["expires_in"], &b["options"]["refuse_refresh"]), (200, &json!(5), &json!("invalid_grant")));
    assert_eq!(sb.hubspot().oauth().options().expires_in, Some(5));
    let (s, _, b) = send(http.post(&url).json(&json!({"expires_inn": 5}))).await;
    assert_eq!(s, 400, "{b}");
    let (_, _, b) = send(http.post(&url).json(&json!({"expires_in": null}))).await;
    assert_eq!(b["options"]["expires_in"], Value::Null);
    // Reset puts the starting options back and forgets tokens.
    Client::new(&sb, V::HubSpot).connect().await;
    send(http.post(format!("{}/_sandbox/reset", sb.hubspot_url()))).await;
    let (_, _, b) = send(http.get(&url)).await;
    assert_eq!((&b["options"]["refuse_refresh"], &b["tokens"], &b["token_requests"]), (&Value::Null, &json!([]), &json!([])));
}

/// A local listener keeping every JSON body posted to it.
async fn listener() -> (String, Arc<Mutex<Vec<Value>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let keep = seen.clone();
    let app = axum::Router::new().route(
        "/hook/{n}",
        axum::routing::post(move |axum::Json(v): axum::Json<Value>| {
            let keep = keep.clone();
            async move {
                keep.lock().unwrap().push(v);
                "ok"
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (url, seen)
}

#[tokio::test]
async fn aircall_integration_me_and_webhook_management() {
    let sb = sandbox().await;
    let c = Client::new(&sb, V::Aircall);
    let token = at(&c.connect().await);
    let base = sb.aircall_url();
    let http = &c.http;
    let (s, _, b) = send(http.get(format!("{base}/v1/integrations/me")).bearer_auth(&token)).await;
    assert_eq!(s, 200);
    assert_eq!((b["integration"]["id"].as_u64(), b["integration"]["company_id"].as_u64()), (Some(4242), Some(101)));
    let (s, _, _) = send(http.get(format!("{base}/v1/integrations/me")).basic_auth("sandbox-api-id", Some("sandbox-api-token"))).await;
    assert_eq!(s, 403, "an API key is no integration");

    let post = |body: Value| http.post(format!("{base}/v1/webhooks")).bearer_auth(&token).json(&body);
    let (s, _, b) =
        send(post(json!({"url": "https://example.test/hook", "custom_name": "crm", "events": ["call.created", "call.ended"]}))).await;
    assert_eq!(s, 201, "{b}");
    let w = &b["webhook"];
    let id = w["webhook_id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "4", "a version-4 UUID: {id}");
    assert_eq!((w["active"].as_bool(), w["events"].as_array().unwrap().len()), (Some(true), 2));
    assert!(w["token"].as_str().unwrap().len() >= 32);
    assert_eq!(w["direct_link"], format!("{base}/v1/webhooks/{id}"));
    assert_eq!(send(post(json!({"custom_name": "no url"}))).await.0, 400);
    let (s, _, b) = send(post(json!({"url": "https://example.test/x", "events": ["call.created", "call.exploded"]}))).await;
    assert_eq!(s, 400);
    assert!(b["message"].as_str().unwrap().contains("call.exploded"));

    let (_, _, b) = send(http.get(format!("{base}/v1/webhooks?per_page=1")).bearer_auth(&token)).await;
    assert_eq!((b["webhooks"].as_array().unwrap().len(), b["meta"]["total"].as_u64()), (1, Some(1)));
    let put =
        http.put(format!("{base}/v1/webhooks/{id}?events_action=add")).bearer_auth(&token).json(&json!({"events": ["contact.created"]}));
    let (s, _, b) = send(put).await;
    assert_eq!((s, b["webhook"]["events"].as_array().unwrap().len()), (200, 3));
    let (_, _, b) =
        send(http.put(format!("{base}/v1/webhooks/{id}")).bearer_auth(&token).json(&json!({"url": "https://example.test/new"}))).await;
    assert_eq!(
        (b["webhook"]["events"].clone(), b["webhook"]["url"].clone()),
        (json!([]), json!("https://example.test/new")),
        "no events = all"
    );
    let (s, _, _) = send(http.delete(format!("{base}/v1/webhooks/{id}")).bearer_auth(&token)).await;
    assert_eq!(s, 204);
    assert_eq!(send(http.get(format!("{base}/v1/webhooks/{id}")).bearer_auth(&token)).await.0, 404);

    // At most 100 per company.
    for n in 0..100 {
        let (s, _, b) = send(post(json!({"url": format!("https://example.test/{n}")}))).await;
        assert_eq!(s, 201, "{n}: {b}");
    }
    let (s, _, b) = send(post(json!({"url": "https://example.test/101"}))).await;
    assert_eq!(s, 400, "{b}");
    let (_, _, b) = send(http.get(format!("{base}/v1/webhooks?per_page=50&page=3")).bearer_auth(&token)).await;
    assert_eq!((b["meta"]["total"].as_u64(), b["webhooks"].as_array().unwrap().len()), (Some(100), 0));
}

#[tokio::test]
async fn aircall_uninstall_sends_integration_deleted_and_revokes_the_tokens() {
    let sb = sandbox().await;
    let (hooks, seen) = listener().await;
    let c = Client::new(&sb, V::Aircall);
    let token = at(&c.connect().await);
    let base = sb.aircall_url();
    let http = &c.http;
    let mut tokens = Vec::new();
    for (n, events) in [(1, json!(["call.created"])), (2, Value::Null)] {
        let body = json!({"url": format!("{hooks}/hook/{n}"), "events": events});
        let (s, _, b) = send(http.post(format!("{base}/v1/webhooks")).bearer_auth(&token).json(&body)).await;
        assert_eq!(s, 201);
        tokens.push(b["webhook"]["token"].as_str().unwrap().to_owned());
    }
    // A webhook made with the API key is the company's, not the integration's.
    let body = json!({"url": format!("{hooks}/hook/3")});
    let (s, _, _) =
        send(http.post(format!("{base}/v1/webhooks")).basic_auth("sandbox-api-id", Some("sandbox-api-token")).json(&body)).await;
    assert_eq!(s, 201);
    let (_, _, b) = send(http.get(format!("{base}/v1/webhooks")).bearer_auth(&token)).await;
    assert_eq!(b["meta"]["total"], 2, "the integration sees its own webhooks");

    let (s, _, report) = send(http.post(format!("{base}/_sandbox/uninstall"))).await;
    assert_eq!(s, 200);
    assert_eq!(report["deliveries"].as_array().unwrap().len(), 2, "{report}");
    assert!(report["deliveries"].as_array().unwrap().iter().all(|d| d["status"] == 200), "{report}");
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    for (payload, token) in got.iter().zip(&tokens) {
        assert_eq!((&payload["resource"], &payload["event"]), (&json!("integration"), &json!("integration.deleted")));
        assert_eq!(&payload["token"], token, "each webhook's own token");
        assert_eq!(payload["data"], json!({"integration_id": 4242, "company_id": 101}));
        assert!(payload["timestamp"].as_i64().unwrap() > 1_700_000_000);
    }
    // The integration's tokens are dead; the API key is not.
    assert_eq!(c.api(&token).await, 403);
    assert_eq!(c.api("sandbox-aircall-oauth-token").await, 403);
    let (s, _, b) = send(http.get(format!("{base}/v1/webhooks")).basic_auth("sandbox-api-id", Some("sandbox-api-token"))).await;
    assert_eq!((s, b["meta"]["total"].as_u64()), (200, Some(1)));
    // Installing again gives a working token.
    let again = at(&c.connect().await);
    assert_eq!(c.api(&again).await, 200);
    // The Rust method does the same; with no webhook left nothing is sent.
    assert!(sb.aircall().uninstall().await.deliveries.is_empty());
    assert_eq!(c.api(&again).await, 403);
}

//! A small client for Aircall's public REST API, used by the telephony
//! capability. It speaks Aircall's terms, not the plugin contract's: failures
//! are an [`AircallError`] (401/403 unauthorized, 404 not found, 400/422
//! rejected, 429 rate limited with the announced wait, 5xx, transport failures
//! and unreadable answers unavailable), and an insight card is an
//! [`InsightCard`]. The telephony capability maps both to the contract.
//!
//! Answers are read strictly: a body in a shape the reference does not document
//! (a missing list key, `meta` that is not an object, `number.users` as ids) is
//! an `unavailable` error naming the field, never an empty list or a last page.

use super::model::{Call, Contact, Number, User};
use crate::config::AccountConfig;
use crate::outbound::ratelimit::{Budget, RateLimiters, Signal, read_signal};
use crate::outbound::ssrf::CheckedResolver;
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;

/// Why a request to Aircall's API did not give an answer. The messages are
/// what the plugin and the operator read, so they name Aircall and what it said.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum AircallError {
    /// The account has no `api_id` / `api_token` in the configuration.
    #[error("account {0:?} has no Aircall API credentials configured")]
    NoCredentials(String),
    /// 401 or 403: the credentials are wrong or lack the right.
    #[error("aircall {status}: {message}")]
    Unauthorized {
        /// The HTTP status.
        status: u16,
        /// What Aircall said.
        message: String,
    },
    /// 404 on `path`.
    #[error("aircall: {path}")]
    NotFound {
        /// The request path that was not found.
        path: String,
    },
    /// 400 or 422: Aircall refused the request as it was.
    #[error("aircall {status}: {message}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// What Aircall said.
        message: String,
    },
    /// 429 (or the account's own budget spent): try again after this many milliseconds.
    #[error("aircall: rate limited for {0} ms")]
    RateLimited(u64),
    /// 5xx, a transport failure, or an answer in a shape the reference does not document.
    #[error("{0}")]
    Unavailable(String),
}

/// One line of an insight card (`POST /v1/calls/:id/insight_cards`, reference §5).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum CardLine {
    /// `{"type": "title", "text", "link"?}`
    #[serde(rename = "title")]
    Title {
        /// The heading.
        text: String,
        /// Where the heading links to.
        #[serde(skip_serializing_if = "Option::is_none")]
        link: Option<String>,
    },
    /// `{"type": "shortText", "label", "text", "link"?}`
    #[serde(rename = "shortText")]
    ShortText {
        /// The label before the value.
        label: String,
        /// The value.
        text: String,
        /// Where the value links to.
        #[serde(skip_serializing_if = "Option::is_none")]
        link: Option<String>,
    },
}

/// An insight card: the lines an agent sees beside the call in Aircall's phone app.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InsightCard {
    /// The lines, top to bottom.
    pub contents: Vec<CardLine>,
}

/// The body key that attributes a sent message to an Aircall user. [U]
pub const SENDER_KEY: &str = "agentId";

tokio::task_local! {
    /// How long a call may wait inline for the account's budget (what is left
    /// of the job's deadline, less a margin); beyond it the call is
    /// `rate-limited` and the job is rescheduled instead of running out of time.
    pub static MAX_BUDGET_WAIT: Duration;
}

/// The longest inline wait for the budget when no job sets one.
const DEFAULT_BUDGET_WAIT: Duration = Duration::from_secs(2);

/// Pages read at most when listing users or numbers.
const MAX_PAGES: u32 = 20;

/// One account's Aircall API client.
pub struct AircallClient {
    http: reqwest::Client,
    base: String,
    auth: Option<String>,
    /// For `oauth` accounts: the connection whose token authenticates, and
    /// the host's connections once opened.
    connection: Option<(String, std::sync::OnceLock<std::sync::Arc<crate::connections::Connections>>)>,
    account: String,
    budget: Budget,
    limiters: RateLimiters,
    calls: CallCache,
}

/// How long a call read from the REST API is reused for other jobs of the same
/// call (every integration of the account logging the same `call.ended`).
const CALL_CACHE_TTL: Duration = Duration::from_secs(30);
/// Calls kept at most in the cache.
const CALL_CACHE_SIZE: usize = 1024;

/// Recently read calls, by (call id, with timeline).
#[derive(Default)]
struct CallCache(std::sync::Mutex<std::collections::HashMap<(u64, bool), (std::time::Instant, Call)>>);

impl CallCache {
    fn get(&self, key: (u64, bool)) -> Option<Call> {
        let map = self.0.lock().ok()?;
        map.get(&key).filter(|(at, _)| at.elapsed() < CALL_CACHE_TTL).map(|(_, c)| c.clone())
    }

    fn put(&self, key: (u64, bool), call: Call) {
        let Ok(mut map) = self.0.lock() else { return };
        if map.len() >= CALL_CACHE_SIZE {
            map.retain(|_, (at, _)| at.elapsed() < CALL_CACHE_TTL);
        }
        if map.len() < CALL_CACHE_SIZE {
            map.insert(key, (std::time::Instant::now(), call));
        }
    }
}

#[derive(Deserialize)]
struct Wrapped<T> {
    #[serde(alias = "contact", alias = "user", alias = "number")]
    item: T,
}

/// The paging part of a list answer (reference §1.4).
#[derive(Debug, Deserialize)]
pub struct Meta {
    /// `null` on the last page.
    #[serde(default)]
    pub next_page_link: Option<String>,
    /// Items in the whole list (all pages), when Aircall says.
    #[serde(default)]
    pub total: Option<u64>,
}

/// One page of `GET /v1/calls`: the calls as Aircall sent them (REST shape,
/// reference §4.1) and the paging.
#[derive(Debug)]
pub struct CallsPage {
    /// The calls, unparsed: the host passes them on to plugins as they are.
    pub calls: Vec<Value>,
    /// Aircall's `meta`: the next page's link (`None` on the last) and the total.
    pub meta: Meta,
}

/// A webhook registered on the account (`GET /v1/webhooks`, reference §5.7).
#[derive(Debug, Clone, Deserialize)]
pub struct Webhook {
    /// Its id (a UUID).
    pub webhook_id: String,
    /// Where Aircall posts.
    pub url: String,
    /// `false`: Aircall deactivated it after failed deliveries (§2.4).
    pub active: bool,
    /// Subscribed events; empty means all.
    #[serde(default)]
    pub events: Vec<String>,
    /// The token every payload carries.
    #[serde(default)]
    pub token: String,
}

/// The `key` field of an answer to `path`, parsed as `T`; an error names the
/// field path (`number.users[0]: invalid type: integer …`).
fn answer_field<T: DeserializeOwned>(body: &Value, path: &str, key: &str) -> Result<T, AircallError> {
    let unexpected = |m: String| AircallError::Unavailable(format!("aircall: unexpected answer to GET {path}: {m}"));
    let Some(v) = body.get(key) else {
        return Err(unexpected(format!("{key}: missing")));
    };
    super::lenient::strict(v.clone()).map_err(|m| {
        let sep = if m.starts_with('[') { "" } else { "." };
        unexpected(if m.contains(": ") { format!("{key}{sep}{m}") } else { format!("{key}: {m}") })
    })
}

impl AircallClient {
    /// A client for `account`.
    pub fn new(account: &AccountConfig) -> anyhow::Result<AircallClient> {
        let auth = match (&account.api_id, &account.api_token) {
            (Some(id), Some(token)) => Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{token}")))),
            (None, Some(token)) => Some(format!("Bearer {token}")),
            _ => None,
        };
        Ok(AircallClient {
            http: crate::outbound::client(CheckedResolver::operator_chosen(), Some(Duration::from_secs(10)))?,
            base: account.api_base.trim_end_matches('/').to_string(),
            auth,
            connection: account.oauth.then(|| (format!("account:{}", account.id), std::sync::OnceLock::new())),
            account: account.id.clone(),
            budget: Budget { requests: account.api_requests_per_minute, per: Duration::from_secs(60) },
            limiters: RateLimiters::default(),
            calls: CallCache::default(),
        })
    }

    /// Keeps the account's budgets in `budgets` (the store several hosts
    /// share), so Aircall's per-company limit holds for all hosts together.
    pub fn share_budgets(&self, budgets: std::sync::Arc<dyn crate::outbound::ratelimit::SharedBudgets>) {
        self.limiters.share_through(budgets, "account");
    }

    /// Gives an `oauth` account's client the host's connections.
    pub fn use_connections(&self, connections: &std::sync::Arc<crate::connections::Connections>) {
        if let Some((_, cell)) = &self.connection {
            let _ = cell.set(connections.clone());
        }
    }

    /// The `Authorization` value: the static credentials, or the account's
    /// OAuth token (refreshed by the host when due).
    async fn authorization(&self) -> Result<String, AircallError> {
        if let Some((id, cell)) = &self.connection {
            let connections = cell.get().ok_or_else(|| AircallError::Unavailable(format!("{id}: connections are not started")))?;
            return match connections.access_token(id).await {
                Ok(token) => Ok(format!("Bearer {token}")),
                Err(crate::connections::ConnError::Unusable(m)) => Err(AircallError::Unauthorized { status: 401, message: m }),
                Err(crate::connections::ConnError::Unavailable(m)) => Err(AircallError::Unavailable(m)),
            };
        }
        self.auth.clone().ok_or_else(|| AircallError::NoCredentials(self.account.clone()))
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<(u16, Value), AircallError> {
        let auth = self.authorization().await?;
        self.limiters
            .take(&self.account, "aircall", Some(self.budget), || {
                MAX_BUDGET_WAIT.try_with(|w| *w).unwrap_or(DEFAULT_BUDGET_WAIT).min(DEFAULT_BUDGET_WAIT)
            })
            .await
            .map_err(|wait| AircallError::RateLimited(wait.as_millis() as u64))?;
        let mut req = self.http.request(method, format!("{}{path}", self.base)).header("authorization", auth.as_str());
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| AircallError::Unavailable(format!("aircall: {e}")))?;
        let status = resp.status().as_u16();
        let headers: Vec<(String, String)> = crate::outbound::headers::header_pairs(resp.headers());
        let signal = read_signal(status, &headers, Duration::from_secs(3600));
        self.limiters.observe(&self.account, "aircall", signal);
        let text = resp.text().await.map_err(|e| AircallError::Unavailable(format!("aircall: {e}")))?;
        let value: Value = if text.trim().is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        let message = || {
            value
                .get("message")
                .or_else(|| value.get("error"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| value.to_string())
        };
        match status {
            200..=299 => Ok((status, value)),
            401 | 403 => Err(AircallError::Unauthorized { status, message: message() }),
            404 => Err(AircallError::NotFound { path: path.to_string() }),
            400 | 422 => Err(AircallError::Rejected { status, message: message() }),
            429 => Err(AircallError::RateLimited(match signal {
                Signal::Block(d) => d.as_millis() as u64,
                Signal::None | Signal::Remaining(_) => 5_000,
            })),
            _ => Err(AircallError::Unavailable(format!("aircall {status}: {}", message()))),
        }
    }

    fn parse<T: DeserializeOwned>(v: Value, what: &str) -> Result<T, AircallError> {
        super::lenient::strict(v).map_err(|e| AircallError::Unavailable(format!("aircall: unexpected {what} body: {e}")))
    }

    /// `POST /v1/calls/:id/insight_cards`
    pub async fn push_insight_card(&self, call_id: u64, card: &InsightCard) -> Result<(), AircallError> {
        let body =
            serde_json::to_value(card).map_err(|e| AircallError::Unavailable(format!("aircall: insight card not serialisable: {e}")))?;
        self.call(reqwest::Method::POST, &format!("/v1/calls/{call_id}/insight_cards"), Some(body)).await.map(|_| ())
    }

    /// `GET /v1/contacts/search?{field}={value}`
    pub async fn search_contacts(&self, field: &str, value: &str) -> Result<Vec<Contact>, AircallError> {
        let q = url::form_urlencoded::Serializer::new(String::new()).append_pair(field, value).finish();
        let (_, body) = self.call(reqwest::Method::GET, &format!("/v1/contacts/search?{q}"), None).await?;
        answer_field(&body, "/v1/contacts/search", "contacts")
    }

    /// `POST /v1/contacts` or `POST /v1/contacts/:id`
    pub async fn save_contact(&self, id: Option<u64>, fields: Value) -> Result<Contact, AircallError> {
        let path = match id {
            Some(id) => format!("/v1/contacts/{id}"),
            None => "/v1/contacts".to_string(),
        };
        let (_, body) = self.call(reqwest::Method::POST, &path, Some(fields)).await?;
        Ok(Self::parse::<Wrapped<Contact>>(body, "contact")?.item)
    }

    /// `POST /v1/numbers/:id/messages/native/send`; `sender` is the Aircall user
    /// the message is attributed to in the inbox.
    pub async fn send_message(
        &self,
        number_id: u64,
        to: &str,
        body: &str,
        media: &[String],
        sender: Option<u64>,
    ) -> Result<Value, AircallError> {
        let mut payload = json!({ "to": to, "body": body });
        if !media.is_empty() {
            payload["mediaUrl"] = json!(media);
        }
        if let Some(user) = sender {
            // [U] Aircall's reference names an optional agent attribution key, e.g.
            // `agentId` (shared/reference/aircall-api.md §5.4); correct it here.
            payload[SENDER_KEY] = json!(user);
        }
        let (_, v) = self.call(reqwest::Method::POST, &format!("/v1/numbers/{number_id}/messages/native/send"), Some(payload)).await?;
        Ok(v)
    }

    /// `POST /v1/users/:id/calls`
    pub async fn start_call(&self, user_id: u64, number_id: u64, to: &str) -> Result<(), AircallError> {
        self.call(reqwest::Method::POST, &format!("/v1/users/{user_id}/calls"), Some(json!({ "number_id": number_id, "to": to })))
            .await
            .map(|_| ())
    }

    async fn list<T: DeserializeOwned>(&self, path: &str, key: &str) -> Result<Vec<T>, AircallError> {
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let (_, body) = self.call(reqwest::Method::GET, &format!("{path}?per_page=50&page={page}"), None).await?;
            let (items, meta) = list_page::<T>(&body, path, key)?;
            let empty = items.is_empty();
            out.extend(items);
            if empty || meta.next_page_link.is_none() {
                break;
            }
        }
        Ok(out)
    }

    /// Users of the account (`GET /v1/users`, all pages).
    pub async fn users(&self) -> Result<Vec<User>, AircallError> {
        self.list("/v1/users", "users").await
    }

    /// `GET /v1/users/:id/availability`
    pub async fn availability(&self, user_id: u64) -> Result<String, AircallError> {
        let (_, body) = self.call(reqwest::Method::GET, &format!("/v1/users/{user_id}/availability"), None).await?;
        body.get("availability")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| AircallError::Unavailable("aircall: availability missing".into()))
    }

    /// `GET /v1/numbers/:id` with its users (reference §4.6: `users` is a
    /// list of user objects; ids or a missing list are errors naming
    /// `number.users`, not "no users").
    pub async fn number(&self, number_id: u64) -> Result<(Number, Vec<User>), AircallError> {
        let path = format!("/v1/numbers/{number_id}");
        let (_, body) = self.call(reqwest::Method::GET, &path, None).await?;
        number_answer(&body, &path)
    }

    /// `GET /v1/numbers`, all pages.
    pub async fn numbers(&self) -> Result<Vec<Number>, AircallError> {
        self.list("/v1/numbers", "numbers").await
    }

    /// `GET /v1/calls/:id` (with `fetch_call_timeline=true` when `timeline`):
    /// what only the REST API returns, such as the IVR options a caller selected.
    /// Reused for [`CALL_CACHE_TTL`] by every job of the account that asks.
    pub async fn get_call(&self, call_id: u64, timeline: bool) -> Result<Call, AircallError> {
        if let Some(call) = self.calls.get((call_id, timeline)) {
            return Ok(call);
        }
        let query = if timeline { "?fetch_call_timeline=true" } else { "" };
        let (_, body) = self.call(reqwest::Method::GET, &format!("/v1/calls/{call_id}{query}"), None).await?;
        let Some(raw) = body.get("call").cloned() else {
            return Err(AircallError::Unavailable(format!("aircall: GET /v1/calls/{call_id} answered without a `call` object")));
        };
        let call: Call = Self::parse(raw, "call")?;
        if call.id != call_id {
            return Err(AircallError::Unavailable(format!("aircall: asked for call {call_id}, got call {}", call.id)));
        }
        self.calls.put((call_id, timeline), call.clone());
        Ok(call)
    }
}

impl AircallClient {
    /// `GET /v1/calls?from&to&order=asc&per_page=50&page`: calls created in
    /// `[from, to]` (UNIX seconds), oldest first (reference §1.4: `from`/`to`
    /// are on creation time, `per_page` is at most 50).
    pub async fn list_calls(&self, from: i64, to: i64, page: u32) -> Result<CallsPage, AircallError> {
        let path = "/v1/calls";
        let (_, body) = self
            .call(reqwest::Method::GET, &format!("{path}?from={from}&to={to}&order=asc&per_page={CALLS_PER_PAGE}&page={page}"), None)
            .await?;
        let (calls, meta) = list_page::<Value>(&body, path, "calls")?;
        for (i, call) in calls.iter().enumerate() {
            if !call.is_object() {
                return Err(AircallError::Unavailable(format!("aircall: unexpected answer to GET {path}: calls[{i}]: not an object")));
            }
        }
        Ok(CallsPage { calls, meta })
    }

    /// `GET /v1/calls/:id?fetch_call_timeline=true`, unparsed (for events the
    /// host synthesises; [`AircallClient::get_call`] is the parsed, cached read).
    pub async fn get_call_raw(&self, call_id: u64) -> Result<Value, AircallError> {
        let path = format!("/v1/calls/{call_id}?fetch_call_timeline=true");
        let (_, body) = self.call(reqwest::Method::GET, &path, None).await?;
        match body.get("call") {
            Some(call) if call.is_object() => Ok(call.clone()),
            _ => Err(AircallError::Unavailable(format!("aircall: GET /v1/calls/{call_id} answered without a `call` object"))),
        }
    }

    /// Every webhook of the account (`GET /v1/webhooks`, all pages).
    pub async fn webhooks(&self) -> Result<Vec<Webhook>, AircallError> {
        self.list("/v1/webhooks", "webhooks").await
    }

    /// `POST /v1/webhooks`: a webhook posting every event to `url` (reference
    /// §5.7); its token is in the answer.
    pub async fn create_webhook(&self, url: &str) -> Result<Webhook, AircallError> {
        let (_, body) = self.call(reqwest::Method::POST, "/v1/webhooks", Some(json!({ "url": url, "custom_name": "switchboard" }))).await?;
        let webhook = body.get("webhook").cloned().unwrap_or(Value::Null);
        serde_json::from_value(webhook)
            .map_err(|e| AircallError::Unavailable(format!("aircall: unexpected answer to POST /v1/webhooks: webhook: {e}")))
    }

    /// `PUT /v1/webhooks/:id` with its own event list: re-activates a webhook
    /// Aircall deactivated (reference §5.7; omitting `events` would subscribe
    /// it to every event, so the list is sent back as it was).
    pub async fn reactivate_webhook(&self, hook: &Webhook) -> Result<(), AircallError> {
        let body = if hook.events.is_empty() { json!({ "url": hook.url }) } else { json!({ "url": hook.url, "events": hook.events }) };
        self.call(reqwest::Method::PUT, &format!("/v1/webhooks/{}", hook.webhook_id), Some(body)).await.map(|_| ())
    }

    /// The account this client speaks for.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The account's Aircall budget (requests per minute), shared by every use.
    pub fn budget(&self) -> Budget {
        self.budget
    }

    /// Wait for a request of `purpose` (`reconcile`, `backfill`) to fit into
    /// `share` of the account's budget, so background work never takes more
    /// than its share from insight cards and contact sync. `Err` is how long
    /// to wait when that is longer than `max_wait`.
    pub async fn take_share(&self, purpose: &str, share: f64, max_wait: Duration) -> Result<(), Duration> {
        let requests = ((f64::from(self.budget.requests) * share).floor() as u32).max(1);
        self.limiters.take(&self.account, purpose, Some(Budget { requests, per: self.budget.per }), || max_wait).await
    }
}

/// Calls per page of `GET /v1/calls` (Aircall's maximum, reference §1.4).
pub const CALLS_PER_PAGE: u32 = 50;

/// One page of a list answer: the items under `key` and the `meta` that says
/// whether there is a next page. Both must be there and well formed.
fn list_page<T: DeserializeOwned>(body: &Value, path: &str, key: &str) -> Result<(Vec<T>, Meta), AircallError> {
    Ok((answer_field(body, path, key)?, answer_field(body, path, "meta")?))
}

/// The number and its users from a `GET /v1/numbers/:id` answer.
fn number_answer(body: &Value, path: &str) -> Result<(Number, Vec<User>), AircallError> {
    let number: Number = answer_field(body, path, "number")?;
    let users: Vec<User> = match body.get("number") {
        Some(raw) => answer_field(raw, path, "users").map_err(|e| match e {
            AircallError::Unavailable(m) => AircallError::Unavailable(m.replacen(": users", ": number.users", 1)),
            other => other,
        })?,
        None => Vec::new(),
    };
    Ok((number, users))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn message(e: AircallError) -> String {
        match e {
            AircallError::Unavailable(m) => m,
            other => panic!("expected unavailable, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn background_work_takes_only_its_share_of_the_account_budget() {
        let account = crate::config::AccountConfig {
            id: "main".into(),
            webhook_token: "long-enough-token".into(),
            oauth: false,
            company_id: None,
            api_id: Some("id".into()),
            api_token: Some("token".into()),
            api_base: "http://127.0.0.1:9".into(),
            api_requests_per_minute: 60,
            origin: crate::config::Origin::File,
        };
        let client = AircallClient::new(&account).unwrap();
        // 10 % of 60 a minute: 6 at once, then one every 10 s.
        for _ in 0..6 {
            assert!(client.take_share("reconcile", 0.10, Duration::ZERO).await.is_ok());
        }
        let wait = client.take_share("reconcile", 0.10, Duration::ZERO).await.unwrap_err();
        assert!(wait > Duration::from_secs(9) && wait <= Duration::from_secs(10), "{wait:?}");
        // Another purpose has its own share.
        assert!(client.take_share("backfill", 0.10, Duration::ZERO).await.is_ok());
    }

    #[test]
    fn an_insight_card_is_sent_as_the_reference_spells_it() {
        let card = InsightCard {
            contents: vec![
                CardLine::Title { text: "Ada Lovelace".into(), link: Some("https://crm/1".into()) },
                CardLine::ShortText { label: "Plan".into(), text: "Pro".into(), link: None },
            ],
        };
        assert_eq!(
            serde_json::to_value(&card).unwrap(),
            json!({"contents": [
                {"type": "title", "text": "Ada Lovelace", "link": "https://crm/1"},
                {"type": "shortText", "label": "Plan", "text": "Pro"}
            ]})
        );
    }

    #[test]
    fn number_users_as_objects_are_read() {
        let body = json!({"number": {"id": 777, "digits": "+33 1 23 45 67 89",
            "users": [{"id": 4242, "name": "Ada", "email": "ada@example.com"}]}});
        let (n, users) = number_answer(&body, "/v1/numbers/777").unwrap();
        assert_eq!(n.id, 777);
        assert_eq!(users.iter().map(|u| u.id).collect::<Vec<_>>(), vec![4242]);
    }

    #[test]
    fn number_users_as_ids_or_missing_are_errors_naming_number_users() {
        let ids = json!({"number": {"id": 777, "users": [4242]}});
        let m = message(number_answer(&ids, "/v1/numbers/777").unwrap_err());
        assert!(m.contains("number.users[0]"), "{m}");
        let missing = json!({"number": {"id": 777}});
        let m = message(number_answer(&missing, "/v1/numbers/777").unwrap_err());
        assert!(m.contains("number.users: missing"), "{m}");
        let no_number = json!({"numbers": []});
        let m = message(number_answer(&no_number, "/v1/numbers/777").unwrap_err());
        assert!(m.contains("number: missing"), "{m}");
    }

    #[test]
    fn list_pages_read_meta_and_refuse_an_unreadable_one() {
        let body = json!({"users": [{"id": 1}], "meta": {"next_page_link": "https://api.aircall.io/v1/users?page=2"}});
        let (items, meta) = list_page::<User>(&body, "/v1/users", "users").unwrap();
        assert_eq!(items.len(), 1);
        assert!(meta.next_page_link.is_some());
        let last = json!({"users": [{"id": 1}], "meta": {"next_page_link": null}});
        assert!(list_page::<User>(&last, "/v1/users", "users").unwrap().1.next_page_link.is_none());

        for bad in [json!({"users": [{"id": 1}], "meta": "page 1 of 3"}), json!({"users": [{"id": 1}], "meta": {"next_page_link": 2}})] {
            let m = message(list_page::<User>(&bad, "/v1/users", "users").unwrap_err());
            assert!(m.contains("meta"), "{m}");
        }
        let m = message(list_page::<User>(&json!({"users": [{"id": 1}]}), "/v1/users", "users").unwrap_err());
        assert!(m.contains("meta: missing"), "{m}");
        let m = message(list_page::<User>(&json!({"meta": {}}), "/v1/users", "users").unwrap_err());
        assert!(m.contains("users: missing"), "{m}");
    }
}

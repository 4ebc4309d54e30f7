//! `http.send`, in the order a request meets them:
//! 1. [`JobCaps::check_request`]: the policy (scheme, declared hosts, literal
//!    addresses, the named secret, host-owned headers); nothing is sent or
//!    journaled for a refused request;
//! 2. the journal ([`super::journal::Journal::admitted_effect`]): a recorded
//!    answer is replayed, a write whose answer was lost is reported ambiguous;
//! 3. [`Sender::admit`]: the rate-limit budget (only for live requests);
//! 4. [`Sender::perform`]: send ([`Sender::send`]), read the body up to the cap
//!    ([`Sender::read_body`]), count it, learn the host's rate limit
//!    ([`Sender::learn_rate`]) and say whether the answer is final.

use super::journal::{self, Done, Effect};
use super::{Credential, IntegrationCtx, JobCaps, Shared};
use crate::contract::bindings::CapabilityError;
use crate::contract::bindings::switchboard::plugin::http::{Method, Request, Response};
use crate::outbound::error_chain;
use crate::outbound::headers::{auth_header, forbidden_header, header_pairs};
use crate::outbound::ratelimit::{self, Signal};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest a request waits inline for its rate-limit budget; longer waits
/// re-queue the job instead of holding an instance.
const MAX_INLINE_WAIT: Duration = Duration::from_secs(2);
/// Time a request leaves before the job's deadline (at most a quarter of what
/// is left), for the plugin to handle a timeout.
const DEADLINE_MARGIN: Duration = Duration::from_millis(250);

/// Statuses whose answer is final (recorded and replayed). Everything else is
/// "not done": the request is performed again on the next attempt.
fn is_final(status: u16) -> bool {
    !(status >= 500 || matches!(status, 401 | 403 | 408 | 429))
}

fn is_write(method: &Method) -> bool {
    !matches!(method, Method::Get | Method::Head)
}

fn reqwest_method(m: &Method) -> reqwest::Method {
    match m {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
        Method::Head => reqwest::Method::HEAD,
    }
}

/// A request that passed the policy: where it goes and the secret it carries.
struct Target {
    url: url::Url,
    /// Lower-case host name (or address) of the URL.
    host: String,
    port: Option<u16>,
    credential: Option<Credential>,
}

/// What sending needs from the job, owned so that it can run while the
/// journal is borrowed.
struct Sender {
    shared: Arc<Shared>,
    integration: Arc<IntegrationCtx>,
    deadline: Instant,
}

/// What [`Journal::admitted_effect`](super::journal::Journal::admitted_effect)
/// gets back from a live request: the answer to record, or what the plugin sees.
type Sent = Done<Response, Result<Response, CapabilityError>>;

impl JobCaps {
    /// Perform (or replay) an outbound request.
    pub async fn http_send(&mut self, req: Request) -> Result<Response, CapabilityError> {
        let target = self.check_request(&req)?;
        let fp = journal::fingerprint("http", &req);
        let write = is_write(&req.method);
        let sender = Sender { shared: self.shared.clone(), integration: self.integration.clone(), deadline: self.deadline };
        let admit = async { sender.admit(&target).await.map_err(Err) };
        let seq = self.journal.position();
        match self.journal.admitted_effect(&fp, write, admit, sender.perform(&req, &target)).await {
            Effect::Final(response) => {
                if response.status >= 400 {
                    self.journal.note_refusal(seq);
                }
                Ok(response)
            }
            Effect::NotFinal(answer) => answer,
            Effect::Ambiguous => Err(CapabilityError::Ambiguous(format!(
                "{:?} {} was sent by an earlier attempt and its answer was not recorded",
                req.method, req.url
            ))),
            Effect::IntentFailed(e) => Err(CapabilityError::Unavailable(e)),
        }
    }

    /// The policy a request must meet before anything is sent: https (or http
    /// when allowed), a host the plugin declared (or its base URL's), a
    /// literal address only when public (names are checked after DNS), a
    /// secret that is configured, and no header the host owns.
    fn check_request(&self, req: &Request) -> Result<Target, CapabilityError> {
        let url = url::Url::parse(&req.url).map_err(|e| CapabilityError::Invalid(format!("bad URL {:?}: {e}", req.url)))?;
        match url.scheme() {
            "https" => {}
            "http" if self.shared.network.allow_http => {}
            s => {
                return Err(CapabilityError::Denied(format!("scheme {s:?} not allowed (https only)")));
            }
        }
        let host = url.host_str().ok_or_else(|| CapabilityError::Invalid("URL has no host".into()))?.to_ascii_lowercase();
        let port = url.port_or_known_default();
        if !self.integration.host_allowed(&host, port) {
            let i = &self.integration;
            tracing::warn!(plugin = %i.plugin, integration = %i.id, event = %self.label.event_id, %host, "outbound request to an undeclared host refused");
            self.shared.metrics.outbound(&host, "denied");
            return Err(CapabilityError::Denied(format!("host {host:?} is not declared in the plugin's allowed_hosts")));
        }
        if let Some(ip) = url.host_str().and_then(|h| h.trim_matches(['[', ']']).parse::<std::net::IpAddr>().ok())
            && !self.shared.network.allow_private
            && !crate::outbound::ssrf::is_public(ip)
        {
            self.shared.metrics.outbound(&host, "denied");
            return Err(CapabilityError::Denied(format!("address {ip} is not public")));
        }
        let credential = match &req.credential {
            Some(name) => Some(
                self.integration
                    .credentials
                    .get(name)
                    .cloned()
                    .ok_or_else(|| CapabilityError::Denied(format!("no secret named {name:?} is configured for this integration")))?,
            ),
            None => None,
        };
        if let Some(name) = forbidden_header(&req.headers) {
            return Err(CapabilityError::Invalid(format!("header {name:?} is set by the host")));
        }
        Ok(Target { url, host, port, credential })
    }
}

impl Sender {
    /// Time left before the job's deadline.
    fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Budgets are per integration and host.
    fn limiter_scope(&self) -> &str {
        &self.integration.id
    }

    /// Takes a token of the host's budget, waiting up to [`MAX_INLINE_WAIT`]
    /// (less near the deadline); a longer wait is `rate-limited`, so the job is
    /// re-queued instead of holding an instance.
    async fn admit(&self, target: &Target) -> Result<(), CapabilityError> {
        let budget = self.integration.budget_for(&target.host, target.port);
        let inline = || MAX_INLINE_WAIT.min(self.remaining().saturating_sub(Duration::from_secs(1)));
        self.shared.limiters.take(self.limiter_scope(), &target.host, budget, inline).await.map_err(|wait| {
            self.shared.metrics.outbound(&target.host, "throttled");
            CapabilityError::RateLimited(wait.as_millis() as u64)
        })
    }

    /// Sends the request and reads its answer. Final statuses are recorded;
    /// a failure before the server saw the request is "not done", one after
    /// it may have acted is "lost" (a later attempt reports it ambiguous).
    async fn perform(&self, req: &Request, target: &Target) -> Sent {
        let started = Instant::now();
        let resp = match self.send(req, target).await {
            Ok(resp) => resp,
            Err(failed) => return failed,
        };
        let status = resp.status().as_u16();
        let headers = header_pairs(resp.headers());
        let body = match self.read_body(resp, &target.host).await {
            Ok(body) => body,
            Err(e) => return Done::Lost(Err(e)),
        };
        self.shared.metrics.outbound(&target.host, &status.to_string());
        self.shared.metrics.outbound_latency(&target.host, started.elapsed());
        self.learn_rate(&target.host, status, &headers);
        let response = Response { status, headers, body };
        if is_final(status) { Done::Final(response) } else { Done::NotDone(Ok(response)) }
    }

    /// Builds the request (the plugin's headers, the secret, the body, a
    /// timeout within the job's deadline) and sends it.
    async fn send(&self, req: &Request, target: &Target) -> Result<reqwest::Response, Sent> {
        let limit = self.shared.limits.http_timeout_ms;
        // A request ends a little before the job's deadline, so the plugin has
        // time to handle its failure (and the job is retried, not cut off).
        let margin = DEADLINE_MARGIN.min(self.remaining() / 4);
        let timeout = Duration::from_millis(req.timeout_ms.map_or(limit, |t| (t as u64).min(limit)))
            .min(self.remaining().saturating_sub(margin).max(Duration::from_millis(1)));
        let mut builder = self.shared.http.request(reqwest_method(&req.method), target.url.clone()).timeout(timeout);
        for (name, value) in &req.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(c) = &target.credential {
            let secret = c.value(&self.shared).await.map_err(|e| Done::NotDone(Err(e)))?;
            let (name, value) = auth_header(&c.scheme, &secret);
            builder = builder.header(name, value);
        }
        if let Some(body) = req.body.clone() {
            builder = builder.body(body);
        }
        builder.send().await.map_err(|e| self.send_failed(&e, &target.host, timeout))
    }

    /// What a failed send means: a name resolving only to private addresses
    /// is `denied` (permanent: it resolves the same way next attempt); a
    /// connection never made is not done; anything later may have reached the
    /// server, so its answer is lost.
    fn send_failed(&self, e: &reqwest::Error, host: &str, timeout: Duration) -> Sent {
        let host = host.to_string();
        if let Some(refused) = crate::outbound::ssrf::PrivateOnly::find(e) {
            self.shared.metrics.outbound(&host, "denied");
            return Done::NotDone(Err(CapabilityError::Denied(refused.to_string())));
        }
        self.shared.metrics.outbound(&host, "error");
        let error = if e.is_timeout() {
            CapabilityError::Unavailable(format!("{host}: timed out after {timeout:?}"))
        } else {
            CapabilityError::Unavailable(format!("{host}: {}", error_chain(e)))
        };
        if e.is_connect() { Done::NotDone(Err(error)) } else { Done::Lost(Err(error)) }
    }

    /// The body, refused past `limits.http_max_response_bytes`.
    async fn read_body(&self, mut resp: reqwest::Response, host: &str) -> Result<Vec<u8>, CapabilityError> {
        let max = self.shared.limits.http_max_response_bytes;
        let mut body = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > max {
                        return Err(CapabilityError::Unavailable(format!("{host}: response larger than {max} bytes")));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(body),
                Err(e) => {
                    self.shared.metrics.outbound(host, "error");
                    return Err(CapabilityError::Unavailable(format!("{host}: reading the response: {}", error_chain(&e))));
                }
            }
        }
    }

    /// Tightens the host's budget by what the answer says (429 and
    /// `Retry-After`, remaining / reset headers).
    fn learn_rate(&self, host: &str, status: u16, headers: &[(String, String)]) {
        let max_wait = Duration::from_secs(self.shared.limits.max_retry_after_seconds);
        let signal = ratelimit::read_signal(status, headers, max_wait);
        self.shared.limiters.observe(self.limiter_scope(), host, signal);
        if let Signal::Block(wait) = signal {
            tracing::info!(integration = %self.integration.id, %host, status, ?wait, "rate limit signalled; pausing requests to this host");
        }
    }
}

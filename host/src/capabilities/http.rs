//! `http.send`: allow-list, address policy, credentials, rate limits, journal.

use super::journal::{self, Lookup};
use crate::outbound::headers::{auth_header, forbidden_header, header_pairs};
use crate::outbound::ratelimit::{self, Signal};
use crate::outbound::error_chain;
use super::JobCaps;
use crate::contract::bindings::CapabilityError;
use crate::contract::bindings::switchboard::plugin::http::{Method, Request, Response};
use std::time::Duration;

/// Longest a request waits inline for its rate-limit budget; longer waits
/// re-queue the job instead of holding an instance.
const MAX_INLINE_WAIT: Duration = Duration::from_secs(2);

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

impl JobCaps {
    /// Perform (or replay) an outbound request.
    pub async fn http_send(&mut self, req: Request) -> Result<Response, CapabilityError> {
        let url = url::Url::parse(&req.url).map_err(|e| CapabilityError::Invalid(format!("bad URL {:?}: {e}", req.url)))?;
        match url.scheme() {
            "https" => {}
            "http" if self.shared.network.allow_http => {}
            s => return Err(CapabilityError::Denied(format!("scheme {s:?} not allowed (https only)"))),
        }
        let host = url.host_str().ok_or_else(|| CapabilityError::Invalid("URL has no host".into()))?.to_ascii_lowercase();
        let port = url.port_or_known_default();
        if !self.integration.host_allowed(&host, port) {
            let i = &self.integration;
            tracing::warn!(plugin = %i.plugin, integration = %i.id, event = %self.label.event_id, %host, "outbound request to an undeclared host refused");
            self.shared.metrics.outbound(&host, "denied");
            return Err(CapabilityError::Denied(format!("host {host:?} is not declared in the plugin's allowed_hosts")));
        }
        if let Some(ip) = url.host_str().and_then(|h| h.trim_matches(['[', ']']).parse::<std::net::IpAddr>().ok()) {
            if !self.shared.network.allow_private && !crate::outbound::ssrf::is_public(ip) {
                self.shared.metrics.outbound(&host, "denied");
                return Err(CapabilityError::Denied(format!("address {ip} is not public")));
            }
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

        let fp = journal::fingerprint("http", &req);
        match self.journal.lookup::<Response>(&fp).await {
            Lookup::Replay(resp) => return Ok(resp),
            Lookup::Ambiguous => {
                return Err(CapabilityError::Ambiguous(format!(
                    "{:?} {} was sent by an earlier attempt and its answer was not recorded",
                    req.method, req.url
                )));
            }
            Lookup::Live => {}
        }

        self.wait_for_budget(&host, port).await?;
        let write = is_write(&req.method);
        if write {
            self.journal.intent(&fp).await.map_err(CapabilityError::Unavailable)?;
        }

        let timeout = Duration::from_millis(req.timeout_ms.map_or(self.shared.limits.http_timeout_ms, |t| {
            (t as u64).min(self.shared.limits.http_timeout_ms)
        }))
        .min(self.remaining().max(Duration::from_millis(1)));
        let mut builder = self.shared.http.request(reqwest_method(&req.method), url.clone()).timeout(timeout);
        for (name, value) in &req.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(c) = &credential {
            let (name, value) = auth_header(&c.scheme, &c.value);
            builder = builder.header(name, value);
        }
        if let Some(body) = req.body.clone() {
            builder = builder.body(body);
        }

        let started = std::time::Instant::now();
        let result = builder.send().await;
        let mut resp = match result {
            Ok(r) => r,
            Err(e) => {
                let refused = crate::outbound::ssrf::PrivateOnly::find(&e).cloned();
                self.shared.metrics.outbound(&host, if refused.is_some() { "denied" } else { "error" });
                if write {
                    if e.is_connect() || refused.is_some() {
                        // Never reached the server: not done.
                        self.journal.abandon().await;
                    } else {
                        // Sent, answer lost: a later attempt reports it ambiguous.
                        self.journal.record_pending();
                    }
                }
                if let Some(refused) = refused {
                    // Permanent: the same name resolves the same way next attempt.
                    return Err(CapabilityError::Denied(refused.to_string()));
                }
                return Err(if e.is_timeout() {
                    CapabilityError::Unavailable(format!("{host}: timed out after {timeout:?}"))
                } else {
                    CapabilityError::Unavailable(format!("{host}: {}", error_chain(&e)))
                });
            }
        };
        let status = resp.status().as_u16();
        let headers: Vec<(String, String)> = header_pairs(resp.headers());
        let max = self.shared.limits.http_max_response_bytes;
        let mut body = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > max {
                        if write {
                            self.journal.record_pending();
                        }
                        return Err(CapabilityError::Unavailable(format!("{host}: response larger than {max} bytes")));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    self.shared.metrics.outbound(&host, "error");
                    if write {
                        self.journal.record_pending();
                    }
                    return Err(CapabilityError::Unavailable(format!("{host}: reading the response: {}", error_chain(&e))));
                }
            }
        }
        self.shared.metrics.outbound(&host, &status.to_string());
        self.shared.metrics.outbound_latency(&host, started.elapsed());
        let max_wait = Duration::from_secs(self.shared.limits.max_retry_after_seconds);
        let signal = ratelimit::read_signal(status, &headers, max_wait);
        self.shared.limiters.observe(&self.limiter_scope(), &host, signal);
        if let Signal::Block(wait) = signal {
            tracing::info!(integration = %self.integration.id, %host, status, ?wait, "rate limit signalled; pausing requests to this host");
        }
        let response = Response { status, headers, body };
        if is_final(status) {
            self.journal.record(&fp, &response, write).await;
        } else if write {
            self.journal.abandon().await;
        }
        Ok(response)
    }

    /// Budgets are per integration and host.
    fn limiter_scope(&self) -> String {
        self.integration.id.clone()
    }

    async fn wait_for_budget(&mut self, host: &str, port: Option<u16>) -> Result<(), CapabilityError> {
        let budget = self.integration.budget_for(host, port);
        let scope = self.limiter_scope();
        let inline = || MAX_INLINE_WAIT.min(self.remaining().saturating_sub(Duration::from_secs(1)));
        self.shared.limiters.take(&scope, host, budget, inline).await.map_err(|wait| {
            self.shared.metrics.outbound(host, "throttled");
            CapabilityError::RateLimited(wait.as_millis() as u64)
        })
    }
}

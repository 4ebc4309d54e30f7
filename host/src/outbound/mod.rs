//! Tools for talking to the outside world, shared by the http capability and
//! the Aircall REST client: the one HTTP client set-up ([`client`]), the
//! address policy checked after DNS ([`ssrf`], with `[network] resolve`), the
//! rate limiter ([`ratelimit`]) and header helpers ([`headers`]). Nothing here
//! knows about plugins or the contract.

pub mod headers;
pub mod ratelimit;
pub mod ssrf;

use std::sync::Arc;
use std::time::Duration;

/// Builds an outbound HTTP client: rustls, no redirects (a redirect could lead
/// past the allow-list), a 5 s connect timeout, idle connections kept 60 s,
/// the host's user agent, every name resolved through `resolver` (so the
/// address policy holds for each connection) and, when given, a timeout for
/// whole requests.
pub fn client(resolver: ssrf::CheckedResolver, timeout: Option<Duration>) -> reqwest::Result<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(resolver))
        .connect_timeout(Duration::from_secs(5))
        .pool_idle_timeout(Duration::from_secs(60))
        .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")));
    if let Some(t) = timeout {
        builder = builder.timeout(t);
    }
    builder.build()
}

/// An error with its causes, `outer: inner: innermost` (reqwest's own
/// `Display` stops at the outer layer, which rarely says what went wrong).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

/// Whether `host` (lower-case, from a URL) matches an allowed pattern.
pub fn host_matches(pattern: &str, host: &str, port: Option<u16>) -> bool {
    let (pat_host, pat_port) = match pattern.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().ok()),
        None => (pattern, None),
    };
    if let Some(pp) = pat_port
        && port != Some(pp)
    {
        return false;
    }
    let pat_host = pat_host.to_ascii_lowercase();
    match pat_host.strip_prefix("*.") {
        Some(suffix) => host.len() > suffix.len() + 1 && host.ends_with(&format!(".{suffix}")),
        None => host == pat_host,
    }
}

//! Fault injection: fail the next requests, add latency, or commit a write and
//! then drop the connection. Posted as JSON to `POST /_sandbox/faults`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::Method;
use serde::{Deserialize, Serialize};

use super::util::lock;

/// One fault rule. Every field is optional; a posted rule is added to the
/// emulator's list until it is used up or `DELETE /_sandbox/faults` clears it.
///
/// ```json
/// {"fail_next": 2, "status": 500, "retry_after": 3}
/// {"latency_ms": 200}
/// {"drop_after_commit_next": 1, "path_prefix": "/conversations"}
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Fault {
    /// Answer the next N matching requests with `status` and the API's error body,
    /// without touching state.
    pub fail_next: u32,
    /// Status for `fail_next` (default 500).
    pub status: Option<u16>,
    /// `Retry-After` seconds sent with the injected failures.
    pub retry_after: Option<u64>,
    /// Delay added before every matching request is handled (stays until cleared).
    pub latency_ms: Option<u64>,
    /// Perform the next N matching writes, then drop the connection without an answer.
    /// Matches only `POST`, `PUT`, `PATCH` and `DELETE` unless `method` is given.
    pub drop_after_commit_next: u32,
    /// Let this many matching requests (writes, for `drop_after_commit_next`)
    /// through untouched before the rule acts: puts the fault at a chosen step.
    pub skip: u32,
    /// Only requests whose path starts with this prefix match.
    pub path_prefix: Option<String>,
    /// Only requests with this method match.
    pub method: Option<String>,
    /// Gorgias only: requests another (hidden) client spends in every rate-limit window.
    pub foreign_usage_per_window: Option<u32>,
    /// Expire every access token the emulator's OAuth server issued, now (refresh
    /// tokens keep working); on Help Scout the static tokens too, until reset.
    pub expire_tokens: bool,
}

impl Fault {
    fn matches(&self, method: &Method, path: &str) -> bool {
        self.path_prefix.as_deref().is_none_or(|p| path.starts_with(p))
            && self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()))
    }

    fn spent(&self) -> bool {
        self.fail_next == 0
            && self.drop_after_commit_next == 0
            && self.latency_ms.unwrap_or(0) == 0
            && self.foreign_usage_per_window.is_none()
            && !self.expire_tokens
    }
}

/// A failure taken from a `fail_next` rule.
#[derive(Debug, Clone, Copy)]
pub struct Failure {
    /// Status to answer with.
    pub status: u16,
    /// Optional `Retry-After` seconds.
    pub retry_after: Option<u64>,
}

/// The active fault rules of one emulator.
#[derive(Debug, Clone, Default)]
pub struct Faults(Arc<Mutex<Vec<Fault>>>);

impl Faults {
    /// Adds a rule.
    pub fn add(&self, fault: Fault) {
        if !fault.spent() {
            lock(&self.0).push(fault);
        }
    }

    /// Removes every rule.
    pub fn clear(&self) {
        lock(&self.0).clear();
    }

    /// The rules still active.
    pub fn list(&self) -> Vec<Fault> {
        lock(&self.0).clone()
    }

    pub(crate) fn latency(&self, method: &Method, path: &str) -> Duration {
        let ms = lock(&self.0).iter().filter(|f| f.matches(method, path)).filter_map(|f| f.latency_ms).max().unwrap_or(0);
        Duration::from_millis(ms)
    }

    pub(crate) fn take_failure(&self, method: &Method, path: &str) -> Option<Failure> {
        let mut rules = lock(&self.0);
        let rule = rules.iter_mut().find(|f| f.fail_next > 0 && f.matches(method, path))?;
        if rule.skip > 0 {
            rule.skip -= 1;
            return None;
        }
        rule.fail_next -= 1;
        let failure = Failure { status: rule.status.unwrap_or(500), retry_after: rule.retry_after };
        rules.retain(|f| !f.spent());
        Some(failure)
    }

    pub(crate) fn take_drop(&self, method: &Method, path: &str) -> bool {
        let is_write = matches!(*method, Method::POST | Method::PUT | Method::PATCH | Method::DELETE);
        let mut rules = lock(&self.0);
        let Some(rule) =
            rules.iter_mut().find(|f| f.drop_after_commit_next > 0 && f.matches(method, path) && (is_write || f.method.is_some()))
        else {
            return false;
        };
        if rule.skip > 0 {
            rule.skip -= 1;
            return false;
        }
        rule.drop_after_commit_next -= 1;
        rules.retain(|f| !f.spent());
        true
    }
}
